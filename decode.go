package detect

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// fastDecoder decodes one JSON object held in memory. It does what the
// json-iterator iterator does for events, with fewer allocations: one
// string per JSON string, no closures, no intermediate number text. Its
// results are those of decodeObject: maps, []any, strings, int, float64,
// bool and nil.
type fastDecoder struct {
	data  []byte
	pos   int
	err   *SyntaxError
	depth int
	// The elements of the arrays being decoded are held on a stack,
	// nested arrays' on top of their parents': the first ones in local,
	// the others in spill, from a pool. A finished array is copied out
	// into slab, from which the lists of one event are cut, so that an
	// event costs one allocation for its lists rather than one or more
	// each. local is indexed, never sliced, so that the decoder holds no
	// pointer to itself and stays off the heap.
	local [16]any
	spill *[]any
	top   int // elements on the stack
	high  int // the most elements the stack held before the last list
	slab  []any
	// The strings, lists and numbers of the event are boxed from
	// slabs (see boxes).
	box boxes
}

// slabSize is the number of elements allocated at once for the lists of
// an event.
const slabSize = 16

var stackPool = sync.Pool{New: func() any { s := make([]any, 0, 64); return &s }}

// push puts v on the stack.
func (d *fastDecoder) push(v any) {
	if d.top >= len(d.local) {
		d.pushSpill(v)
		return
	}
	d.local[d.top] = v
	d.top++
}

// pushSpill is push beyond local.
func (d *fastDecoder) pushSpill(v any) {
	if d.spill == nil {
		d.spill = stackPool.Get().(*[]any)
	}
	*d.spill = append((*d.spill)[:d.top-len(d.local)], v)
	d.top++
}

// release lets go of what the stack held, and returns spill to the pool.
func (d *fastDecoder) release() {
	clear(d.local[:min(max(d.high, d.top), len(d.local))])
	if d.spill != nil {
		if cap(*d.spill) <= 1<<12 {
			clear((*d.spill)[:cap(*d.spill)])
			*d.spill = (*d.spill)[:0]
			stackPool.Put(d.spill)
		}
		d.spill = nil
	}
}

// list returns a new list of the elements at the top of the stack from
// base on, and pops them.
func (d *fastDecoder) list(base int) []any {
	n := d.top - base
	var l []any
	switch {
	case n > slabSize/2:
		l = make([]any, n)
	default:
		if len(d.slab) < n {
			d.slab = d.box.elemSlab(n)
		}
		d.box.elemsUsed += n
		l = d.slab[:n:n]
		d.slab = d.slab[n:]
	}
	for i := range l {
		if j := base + i; j < len(d.local) {
			l[i] = d.local[j]
		} else {
			l[i] = (*d.spill)[j-len(d.local)]
		}
	}
	d.high = max(d.high, d.top)
	d.top = base
	return l
}

func (d *fastDecoder) fail(msg string) {
	if d.err == nil {
		d.err = &SyntaxError{Offset: int64(d.pos), Msg: msg}
	}
}

// ws passes white space. A byte above ' ' ends it at once: events are
// mostly written without any.
func (d *fastDecoder) ws() {
	for d.pos < len(d.data) && d.data[d.pos] <= ' ' {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// object decodes the object at d.pos; when fields is not nil, only the
// members it may read are decoded and the others skipped.
func (d *fastDecoder) object(fields *fieldSet) map[string]any {
	return d.objectInto(fields, nil)
}

// objectInto is object decoding into m, or into a new map when m is nil.
func (d *fastDecoder) objectInto(fields *fieldSet, m map[string]any) map[string]any {
	if m == nil {
		m = make(map[string]any, 8)
	}
	if !d.enter('}') && !d.open('}') {
		if d.err != nil {
			return nil
		}
		return m
	}
	for d.err == nil {
		if !d.keyStart() {
			return nil
		}
		// A plain key is compared in place; only keys that are kept
		// become strings.
		var key string
		wanted := true
		var e *internEntry
		keyStart, keyEnd := d.pos+1, -1
		if fields == nil {
			// Most keys are short and interned: read as two words.
			e, keyEnd = d.shortString()
		}
		switch {
		case e != nil:
			key, d.pos = e.s, keyEnd+1
		case keyEnd >= 0:
			// Short and plain, looked up already: not interned (yet).
			key, d.pos = string(d.data[keyStart:keyEnd]), keyEnd+1
		default:
			keyEnd = d.plainStringEnd()
			if keyEnd >= 0 {
				kb := d.data[keyStart:keyEnd]
				d.pos = keyEnd + 1
				if fields == nil {
					key = internKey(kb)
				} else if key, wanted = fields.match(kb); wanted && key == "" {
					key = internKey(kb)
				}
			} else {
				key = d.str(true)
				wanted = fields == nil || fields.has(key)
			}
		}
		if !d.punct(':') && !d.colon() {
			return nil
		}
		if wanted {
			if d.atString() {
				m[key] = d.strValue()
			} else {
				m[key] = d.value()
			}
		} else {
			d.skip()
		}
		if d.punct(',') {
			continue
		}
		if d.closes('}') || !d.next('}') {
			if d.err != nil {
				return nil
			}
			return m
		}
	}
	return nil
}

// objectSlots is objectInto for the top-level object of an event, into
// slots: each key that a slot takes is decoded once, and the others are
// skipped.
func (d *fastDecoder) objectSlots(s *slots) {
	if !d.enter('}') && !d.open('}') {
		return
	}
	set := s.set
	for d.err == nil {
		if !d.keyStart() {
			return
		}
		var take, exact uint32
		// key holds the key's bytes; a short key's are cut (from
		// keyStart to keyEnd) only for a slot that takes it ignoring
		// case, which keeps them.
		var key []byte
		var keyStart, keyEnd int
		if w0, w1, end := d.shortWords(); end >= 0 {
			keyStart, keyEnd = d.pos+1, end
			d.pos = end + 1
			if n := uint(keyEnd-keyStart) % shortLen; set.lengths&(1<<n) != 0 {
				take, exact = s.wantsWords(d.data, keyStart, n, w0, w1)
			}
		} else if end := d.plainStringEnd(); end >= 0 {
			key = d.data[d.pos+1 : end]
			d.pos = end + 1
			if set.lengths&(1<<min(len(key), 63)) != 0 {
				take, exact = s.wants(key, true)
			}
		} else {
			key = []byte(d.str(true))
			take, exact = s.wants(key, false)
		}
		if !d.punct(':') && !d.colon() {
			return
		}
		if take != 0 {
			var v any
			var o *slots
			if i := uint(d.pos); i < uint(len(d.data)) && d.data[i] == '{' {
				o = s.object(take)
			}
			if o != nil {
				start := d.pos
				if d.objectSlots(o); d.err == nil {
					o.span, v = d.data[start:d.pos], o
				}
			} else {
				v = d.value()
			}
			if take != exact && key == nil {
				key = d.data[keyStart:keyEnd]
			}
			s.put(take, exact, key, v)
		} else {
			d.skip()
		}
		if d.punct(',') {
			continue
		}
		if d.closes('}') || !d.next('}') {
			return
		}
	}
}

// open enters the object or array at d.pos, which close ends, and
// reports whether a member follows: false when the container is empty
// (and passed) or too deep (an error). The loops try enter first.
func (d *fastDecoder) open(close byte) bool {
	d.pos++
	d.depth++
	if d.depth > MaxDepth {
		d.fail(fmt.Sprintf("nesting deeper than %d levels", MaxDepth))
		return false
	}
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == close {
		d.pos++
		d.depth--
		return false
	}
	return true
}

// enter is open when a member follows the opening byte at once, small
// enough to be inlined; it reports false, and changes nothing, in other
// cases.
func (d *fastDecoder) enter(close byte) bool {
	// Unsigned, the index needs no other check.
	if i := uint(d.pos) + 1; i < uint(len(d.data)) && d.data[i] > ' ' && d.data[i] != close && d.depth < MaxDepth {
		d.pos, d.depth = int(i), d.depth+1
		return true
	}
	return false
}

// keyStart checks that a member of an object starts with a string.
func (d *fastDecoder) keyStart() bool {
	d.ws()
	if i := uint(d.pos); i >= uint(len(d.data)) || d.data[i] != '"' {
		d.fail("expected a string key")
		return false
	}
	return true
}

// punct passes the byte c at d.pos and one space after it, when what
// follows is not white space, and reports whether it did. It is the
// common case of colon and next in compact JSON, small enough to be
// inlined into the loops, which fall back on them when it fails.
func (d *fastDecoder) punct(c byte) bool {
	if i := uint(d.pos); i < uint(len(d.data)) {
		if b := d.data[i:]; len(b) > 2 && b[0] == c {
			switch {
			case b[1] > ' ':
				d.pos = int(i) + 1
				return true
			case b[1] == ' ' && b[2] > ' ':
				d.pos = int(i) + 2
				return true
			}
		}
	}
	return false
}

// colon passes the ":" after a key.
func (d *fastDecoder) colon() bool {
	d.ws()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		d.fail(`expected ":" after a key`)
		return false
	}
	d.pos++
	d.ws()
	return true
}

// next passes what follows a member of the container that close ends,
// and reports whether another member follows: false at the end of the
// container (passed) or on an error. The loops try punct and closes
// first.
func (d *fastDecoder) next(close byte) bool {
	what := "an object"
	if close == ']' {
		what = "an array"
	}
	d.ws()
	if d.pos >= len(d.data) {
		d.fail("unexpected end of input in " + what)
		return false
	}
	switch d.data[d.pos] {
	case ',':
		d.pos++
		return true
	case close:
		d.pos++
		d.depth--
		return false
	}
	d.fail(`expected "," or "` + string(close) + `" in ` + what)
	return false
}

// closes passes close, the end of the container, when it follows at
// once, and reports whether it did; small enough to be inlined.
func (d *fastDecoder) closes(close byte) bool {
	if i := uint(d.pos); i < uint(len(d.data)) && d.data[i] == close {
		d.pos, d.depth = int(i)+1, d.depth-1
		return true
	}
	return false
}

func (d *fastDecoder) value() any {
	i := uint(d.pos)
	if i >= uint(len(d.data)) {
		d.fail("unexpected end of input")
		return nil
	}
	switch c := d.data[i]; {
	case c == '"':
		return d.strValue()
	case c == '{':
		return d.object(nil)
	case c == '[':
		if l := d.array(); d.err == nil {
			return d.box.boxList(l)
		}
		return nil
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return d.literal("true", true)
	case c == 'f':
		return d.literal("false", false)
	case c == 'n':
		return d.literal("null", nil)
	}
	d.fail("invalid value")
	return nil
}

// atString reports whether a string starts at d.pos: the loops read
// strings, the most common values, without going through value.
func (d *fastDecoder) atString() bool {
	i := uint(d.pos)
	return i < uint(len(d.data)) && d.data[i] == '"'
}

func (d *fastDecoder) literal(word string, v any) any {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		d.fail("invalid literal")
		return nil
	}
	d.pos += len(word)
	return v
}

func (d *fastDecoder) array() []any {
	if !d.enter(']') && !d.open(']') {
		if d.err != nil {
			return nil
		}
		return []any{}
	}
	base := d.top
	for d.err == nil {
		d.ws()
		var v any
		if d.atString() {
			v = d.strValue()
		} else {
			v = d.value()
		}
		d.push(v)
		if d.punct(',') {
			continue
		}
		if d.closes(']') || !d.next(']') {
			if d.err != nil {
				return nil
			}
			return d.list(base)
		}
	}
	return nil
}

// number reads a JSON number: whole numbers within int64 are int, others
// float64, numbers beyond float64 saturate to infinity.
func (d *fastDecoder) number() any {
	text, whole := d.scanNumber()
	if text == nil {
		return nil
	}
	if whole && len(text) <= 18 {
		// Fits in int64 without overflow checks.
		n := 0
		neg := text[0] == '-'
		for _, c := range text[boolInt(neg):] {
			n = n*10 + int(c-'0')
		}
		if neg {
			n = -n
		}
		return d.box.boxInt(n)
	}
	n, f, isInt, err := parseNumber(string(text))
	if err != nil {
		d.fail(err.Error())
		return nil
	}
	if isInt {
		return d.box.boxInt(n)
	}
	return d.box.boxFloat(f)
}

// scanNumber passes the JSON number at d.pos and returns its text and
// whether it is written without a fraction or an exponent; nil text on
// an error.
func (d *fastDecoder) scanNumber() (text []byte, whole bool) {
	start := d.pos
	i := d.pos
	if i < len(d.data) && d.data[i] == '-' {
		i++
	}
	digits := i
	for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
		i++
	}
	if i == digits || d.data[digits] == '0' && i-digits > 1 {
		d.pos = i
		d.fail("invalid number")
		return nil, false
	}
	whole = true
	if i < len(d.data) && d.data[i] == '.' {
		whole = false
		i++
		f := i
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
		if i == f {
			d.pos = i
			d.fail("invalid number")
			return nil, false
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		whole = false
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		e := i
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
		if i == e {
			d.pos = i
			d.fail("invalid number")
			return nil, false
		}
	}
	d.pos = i
	return d.data[start:i], whole
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// plainStringEnd returns the position of the closing quote of the string
// at d.pos when it holds only printable ASCII without escapes, else -1.
func (d *fastDecoder) plainStringEnd() int {
	if i := stringSpecial(d.data, d.pos+1, true); i < len(d.data) && d.data[i] == '"' {
		return i
	}
	return -1
}

// strValue reads a JSON string value, interned when it is short.
func (d *fastDecoder) strValue() any {
	start := d.pos + 1
	e, i := d.shortString()
	if e != nil {
		d.pos = i + 1
		return e.v
	}
	if i >= 0 {
		// Short and plain, looked up already: not interned (yet).
		d.pos = i + 1
		return d.box.boxString(d.box.textOf(d.data[start:i], len(d.data)-start))
	}
	i = stringSpecial(d.data, start, true)
	ascii := true
	if i < len(d.data) && d.data[i] >= 0x80 {
		ascii = false
		i = stringSpecial(d.data, i, false)
	}
	if i < len(d.data) && d.data[i] == '"' {
		s := d.data[start:i]
		if ascii || utf8.Valid(s) {
			d.pos = i + 1
			if v := internedValue(s); v != nil {
				return v
			}
			return d.box.boxString(d.box.textOf(s, len(d.data)-start))
		}
	}
	return d.box.boxString(d.str(false))
}

// shortString reads the string at d.pos (its opening quote) as two words
// when it is shorter than shortLen and printable ASCII without escapes,
// which most keys and values of events are: it returns the position of
// its closing quote, and its entry when the string is interned (else
// nil). Otherwise, or near the end of the data, end is -1.
func (d *fastDecoder) shortString() (e *internEntry, end int) {
	w0, w1, end := d.shortWords()
	if end < 0 {
		return nil, -1
	}
	n := end - d.pos - 1
	h := hashWords(w0, w1, n)
	i := internPair(h)
	if e := internTable[i].Load(); e.holds(w0, w1, n) {
		return e, end
	}
	if e := internTable[i+1].Load(); e.holds(w0, w1, n) {
		return e, end
	}
	return internMiss(h, i, d.data[d.pos+1:end]), end
}

// shortWords is shortString without the lookup: it returns the string's
// bytes as two words padded with zeros.
func (d *fastDecoder) shortWords() (w0, w1 uint64, end int) {
	start := uint(d.pos) + 1
	if start+shortLen > uint(len(d.data)) {
		return 0, 0, -1
	}
	// The sixteen bytes from start, in range (checked above), as an
	// array: with masked indexes, no bounds checks below.
	b := (*[shortLen]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(d.data)), start))
	w0 = binary.LittleEndian.Uint64(b[:8])
	w1 = binary.LittleEndian.Uint64(b[8:])
	// The lowest flag, the top bit of the first special byte, gives the
	// mask of the bytes before it: (lowest >> 7) - 1.
	var n uint
	if m := wordSpecial(w0); m != 0 {
		n = uint(bits.TrailingZeros64(m)) / 8
		w0 &= (m&-m)>>7 - 1
		w1 = 0
	} else if m = wordSpecial(w1); m != 0 {
		n = 8 + uint(bits.TrailingZeros64(m))/8
		w1 &= (m&-m)>>7 - 1
	} else {
		return 0, 0, -1
	}
	if b[n%shortLen] != '"' {
		return 0, 0, -1
	}
	return w0, w1, int(start + n)
}

// wordSpecial flags the bytes of the eight bytes x (little-endian) that a
// plain ASCII string cannot hold as they are: a quote, a backslash, a
// control character or a byte beyond ASCII. The lowest flag is exact;
// flags above it may be false (see stringSpecial).
func wordSpecial(x uint64) uint64 { return wordFlags(x, highBits) }

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// stringSpecial returns the position of the first byte of data from
// start on that a JSON string cannot hold as it is: a quote, a backslash
// or a control character, and with high any byte beyond ASCII; len(data)
// when there is none. Whole blocks of sixteen bytes go to specialIndex16
// (SSE2 on amd64); the rest is tested eight bytes at a time: in each word,
// the lowest byte flagged is the first such byte (the borrows of the
// subtractions only run upwards from a flagged byte).
func stringSpecial(data []byte, start int, high bool) int {
	if start >= len(data) {
		return len(data)
	}
	rest := data[start:]
	if len(rest) >= 16 {
		i := specialIndex16(rest, high)
		if i < len(rest)&^15 {
			return start + i
		}
		rest = rest[i:]
	}
	var extra uint64
	if high {
		extra = highBits
	}
	if len(rest) >= 8 {
		if m := wordFlags(binary.LittleEndian.Uint64(rest), extra); m != 0 {
			return len(data) - len(rest) + bits.TrailingZeros64(m)/8
		}
		rest = rest[8:]
	}
	for i, c := range rest {
		if c == '"' || c == '\\' || c < 0x20 || high && c >= 0x80 {
			return len(data) - len(rest) + i
		}
	}
	return len(data)
}

// wordFlags flags the bytes of the eight bytes x (little-endian) that a
// JSON string cannot hold as they are, and with extra (highBits) the
// bytes beyond ASCII: the lowest flag is exact (see stringSpecial).
func wordFlags(x, extra uint64) uint64 {
	// Flipping bit 1 turns '"' into ' ' and keeps control characters
	// below 0x20: bytes below 0x21 are then exactly the quotes and
	// control characters.
	q := x ^ (lowBits * 0x02)
	b := x ^ (lowBits * '\\')
	return ((q-lowBits*0x21)&^q|(b-lowBits)&^b)&highBits | x&extra
}

// str reads a JSON string at d.pos (the opening quote); keys are interned.
func (d *fastDecoder) str(key bool) string {
	d.pos++
	start := d.pos
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			s := d.data[start:i]
			if utf8.Valid(s) {
				if key {
					return internKey(s)
				}
				return string(s)
			}
			return validUTF8(string(s))
		case c == '\\':
			d.pos = i
			return d.escaped(start)
		case c < 0x20:
			d.pos = i
			d.fail("control character in a string")
			return ""
		}
	}
	d.pos = len(d.data)
	d.fail("unexpected end of input in a string")
	return ""
}

// escaped finishes a string that holds escape sequences; d.pos is at the
// first backslash and start at the string's first byte.
func (d *fastDecoder) escaped(start int) string {
	buf := make([]byte, 0, d.pos-start+16)
	buf = append(buf, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return validUTF8(string(buf))
		case c < 0x20:
			d.fail("control character in a string")
			return ""
		case c != '\\':
			buf = append(buf, c)
			d.pos++
			continue
		}
		at := d.pos // the backslash, where an invalid escape is reported
		d.pos++
		if d.pos >= len(d.data) {
			break
		}
		e := d.data[d.pos]
		d.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				d.fail("invalid \\u escape")
				return ""
			}
			if utf16.IsSurrogate(r) {
				// A surrogate pair makes one character; a lone
				// surrogate is U+FFFD, as in encoding/json.
				r2 := rune(-1)
				if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
					save := d.pos
					d.pos += 2
					var ok2 bool
					if r2, ok2 = d.hex4(); !ok2 {
						d.fail("invalid \\u escape")
						return ""
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						buf = utf8.AppendRune(buf, dec)
						continue
					}
					d.pos = save
				}
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
		default:
			d.pos = at
			d.fail("invalid escape sequence")
			return ""
		}
	}
	d.fail("unexpected end of input in a string")
	return ""
}

func (d *fastDecoder) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(d.data[d.pos:d.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	d.pos += 4
	return rune(v), true
}

// skip passes over a value, checking its syntax exactly as decoding would
// but allocating nothing for it.
func (d *fastDecoder) skip() {
	if d.pos >= len(d.data) {
		d.fail("unexpected end of input")
		return
	}
	switch c := d.data[d.pos]; {
	case c == '"':
		d.skipString()
	case c == '{':
		d.skipObject()
	case c == '[':
		d.skipArray()
	case c == '-' || c >= '0' && c <= '9':
		d.scanNumber()
	case c == 't':
		d.literal("true", nil)
	case c == 'f':
		d.literal("false", nil)
	case c == 'n':
		d.literal("null", nil)
	default:
		d.fail("invalid value")
	}
}

func (d *fastDecoder) skipString() {
	for i := d.pos + 1; i < len(d.data); i++ {
		i = stringSpecial(d.data, i, false)
		if i >= len(d.data) {
			break
		}
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			return
		case c == '\\':
			if i+1 >= len(d.data) {
				break
			}
			switch d.data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				d.pos = i + 2
				if _, ok := d.hex4(); !ok {
					d.fail("invalid \\u escape")
					return
				}
				i = d.pos - 1
			default:
				d.pos = i
				d.fail("invalid escape sequence")
				return
			}
		case c < 0x20:
			d.pos = i
			d.fail("control character in a string")
			return
		}
	}
	d.pos = len(d.data)
	d.fail("unexpected end of input in a string")
}

func (d *fastDecoder) skipObject() {
	if !d.enter('}') && !d.open('}') {
		return
	}
	for d.err == nil {
		if !d.keyStart() {
			return
		}
		d.skipString()
		if !d.punct(':') && !d.colon() {
			return
		}
		d.skip()
		if !d.punct(',') && (d.closes('}') || !d.next('}')) {
			return
		}
	}
}

func (d *fastDecoder) skipArray() {
	if !d.enter(']') && !d.open(']') {
		return
	}
	for d.err == nil {
		d.ws()
		d.skip()
		if !d.punct(',') && (d.closes(']') || !d.next(']')) {
			return
		}
	}
}

// decodeFast decodes a JSON object, only the members fields may read when
// fields is not nil.
func decodeFast(data []byte, fields *fieldSet) (map[string]any, *SyntaxError) {
	return decodeFastInto(data, fields, nil)
}

// decodeFastInto is decodeFast into m, an empty map, or a new map when m
// is nil.
func decodeFastInto(data []byte, fields *fieldSet, m map[string]any) (map[string]any, *SyntaxError) {
	d := fastDecoder{data: data}
	defer d.release()
	d.ws()
	if d.pos >= len(data) {
		return nil, &SyntaxError{Offset: 0, Msg: "empty input"}
	}
	if data[d.pos] != '{' {
		if bytes.HasPrefix(data[d.pos:], byteOrderMark) {
			return nil, &SyntaxError{Offset: int64(d.pos), Msg: "a byte order mark is not JSON"}
		}
		// The first byte only suggests a kind: "not json" starts like null.
		if !json.Valid(data) {
			return nil, &SyntaxError{Offset: int64(d.pos), Msg: "not JSON"}
		}
		return nil, notObject(data[d.pos])
	}
	m = d.objectInto(fields, m)
	if d.err != nil {
		return nil, d.err
	}
	d.ws()
	if d.pos < len(data) {
		return nil, &SyntaxError{Offset: int64(d.pos), Msg: "text after the JSON object"}
	}
	return m, nil
}

func notObject(c byte) *SyntaxError {
	kind := "invalid value"
	switch {
	case c == '"':
		kind = "a JSON string"
	case c == '[':
		kind = "a JSON array"
	case c == 't' || c == 'f':
		kind = "a JSON boolean"
	case c == 'n':
		kind = "a JSON null"
	case c == '-' || c >= '0' && c <= '9':
		kind = "a JSON number"
	default:
		return &SyntaxError{Offset: 0, Msg: "not JSON"}
	}
	return &SyntaxError{Offset: 0, Msg: kind + " is not an object"}
}
