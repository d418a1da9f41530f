package detect

import "unsafe"

// Decoding an event makes many small values that end up in interfaces: a
// string or a list in an `any` is a pointer to a copy of its header, and
// the text of a string is a copy of its bytes, each one allocation of its
// own when Go converts them. The decoder instead cuts the headers and the
// bytes of one event out of a few slabs, and points its interfaces into
// them, which is what the conversion would build, one allocation per slab
// rather than per value. A slab lives as long as any value cut from it; the
// values themselves are never written again, as values held in interfaces
// must not be.

// eface is the layout of an empty interface.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// typeOf returns the type word of the interface v.
func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

var (
	stringType = typeOf("")
	listType   = typeOf([]any(nil))
	intType    = typeOf(0)
	floatType  = typeOf(0.0)
)

// boxAt returns the interface of type typ whose value is at p, which must
// hold a value of that type that is never written again.
func boxAt(typ, p unsafe.Pointer) (v any) {
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, p
	return v
}

// The first slab of an event holds firstCells headers, firstElems list
// elements and firstText bytes of text in one allocation of 224 bytes,
// which is what a small event needs: every byte allocated also costs the
// garbage collector's time, so slabs are sized to be filled rather than
// to be few. Later slabs of headers, numbers and list elements double,
// up to maxSlab (slabSize for elements); later slabs of text hold textSlab
// bytes, or less when the rest of the event is shorter.
const (
	firstCells = 4
	firstElems = 4
	firstText  = 64
	minSlab    = 4
	maxSlab    = 32
	textSlab   = 512
)

// firstSlab is the first slab of an event.
type firstSlab struct {
	cells [firstCells][]any
	elems [firstElems]any
	text  [firstText]byte
}

// wideSlab is the first slab of an event whose fields, in the event
// decoded before for the same fields, needed more headers or list
// elements than firstSlab holds: 448 bytes, one allocation where the
// small slab and the two that follow it make three.
type wideSlab struct {
	cells [2 * firstCells][]any
	elems [3 * firstElems]any
	text  [firstText]byte
}

// boxes are the slabs of one decoding. A cell holds the header of a list
// or of a string, whose first two words are a list's first two: a pointer,
// which the collector follows to an object it scans by that object's own
// type, and a length. A number holds an int or the bits of a float64.
// Text is cut from a byte array that no one writes again.
type boxes struct {
	first bool // the first slab was allocated
	wide  bool // the first slab is to be a wideSlab
	// The headers and list elements taken, to tell whether the next
	// event of the same fields wants a wideSlab (see needsWide).
	cellsUsed, elemsUsed int
	cells                [][]any
	elems                []any // the first slab's list elements, until taken
	numbers              []uint64
	text                 []byte
	// The sizes of the last slabs.
	nCells, nElems, nNumbers int
}

// slabSizeAfter returns the size of the slab that follows one of size n.
func slabSizeAfter(n int) int { return min(max(2*n, minSlab), maxSlab) }

// number returns a free number.
func (x *boxes) number() unsafe.Pointer {
	if len(x.numbers) == 0 {
		x.nNumbers = slabSizeAfter(x.nNumbers)
		x.numbers = make([]uint64, x.nNumbers)
	}
	p := &x.numbers[0]
	x.numbers = x.numbers[1:]
	return unsafe.Pointer(p)
}

// start allocates the first slab.
func (x *boxes) start() {
	x.first = true
	if x.wide {
		f := new(wideSlab)
		x.cells, x.elems, x.text = f.cells[:], f.elems[:], f.text[:]
		return
	}
	f := new(firstSlab)
	x.cells, x.elems, x.text = f.cells[:], f.elems[:], f.text[:]
}

// needsWide reports whether the values boxed so far would have needed
// more than a firstSlab.
func (x *boxes) needsWide() bool {
	return x.cellsUsed > firstCells || x.elemsUsed > firstElems
}

// elemSlab returns a slab of at least n list elements: the first slab's
// when they are enough (they stay for a later list otherwise), then new
// ones of twice the size of the last, from 8 up to slabSize.
func (x *boxes) elemSlab(n int) []any {
	if !x.first {
		x.start()
	}
	if e := x.elems; len(e) >= n {
		x.elems, x.nElems = nil, len(e)
		return e
	}
	x.nElems = max(min(max(2*x.nElems, 8), slabSize), n)
	return make([]any, x.nElems)
}

// cell returns a free cell.
func (x *boxes) cell() *[]any {
	if len(x.cells) == 0 {
		x.refill()
	}
	p := &x.cells[0]
	x.cells = x.cells[1:]
	return p
}

// refill allocates a slab of cells, the first slab when there is none.
func (x *boxes) refill() {
	if !x.first {
		x.start()
		return
	}
	x.nCells = slabSizeAfter(x.nCells)
	x.cells = make([][]any, x.nCells)
}

// textOf returns b as a string whose bytes are cut from a slab of text;
// limit bounds the text that may still come, so that a slab is never much
// larger than the event.
func (x *boxes) textOf(b []byte, limit int) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	if n > textSlab/4 {
		return string(b)
	}
	if !x.first {
		x.start()
	}
	if len(x.text) < n {
		x.text = make([]byte, max(n, min(textSlab, limit)))
	}
	buf := x.text[:n:n]
	x.text = x.text[n:]
	copy(buf, b)
	return unsafe.String(unsafe.SliceData(buf), n)
}

// boxString returns s in an interface.
func (x *boxes) boxString(s string) any {
	x.cellsUsed++
	p := unsafe.Pointer(x.cell())
	*(*string)(p) = s
	return boxAt(stringType, p)
}

// boxList returns l in an interface.
func (x *boxes) boxList(l []any) any {
	x.cellsUsed++
	p := x.cell()
	*p = l
	return boxAt(listType, unsafe.Pointer(p))
}

// boxInt returns n in an interface.
func (x *boxes) boxInt(n int) any {
	if uint(n) < 256 {
		return n // Go boxes these without allocating
	}
	p := x.number()
	*(*int)(p) = n
	return boxAt(intType, p)
}

// boxFloat returns f in an interface.
func (x *boxes) boxFloat(f float64) any {
	p := x.number()
	*(*float64)(p) = f
	return boxAt(floatType, p)
}
