package detect

import (
	"encoding/binary"
	"math/rand/v2"
	"sync/atomic"
	"unsafe"
)

// Events of one log type repeat the same keys and many of the same short
// values ("SUCCESS", action names, "__typename"). The decoder interns them
// in a small fixed table so that they are allocated, and boxed in an
// interface, once per process rather than once per event. The table is
// lock-free and two-way: a string hashes to a pair of slots, either of
// which may hold it, so that two strings of one event that hash alike do
// not take turns in one slot (neither would ever stay); memory stays
// bounded whatever the input.

const (
	internSlots  = 1 << 12
	internMaxLen = 32 // longer strings (IDs, timestamps, paths) are rarely repeated
)

type internEntry struct {
	// b holds the bytes of a string shorter than shortLen, zero padded,
	// so that the decoder compares them as two words (see shortString),
	// and s points into them: an entry of such a string is one
	// allocation.
	b [shortLen]byte
	s string
	v any // s, boxed in place
}

// newInternEntry returns the entry of a string of the bytes of b.
func newInternEntry(b []byte) *internEntry {
	e := new(internEntry)
	if len(b) < shortLen {
		copy(e.b[:], b)
		e.s = unsafe.String(&e.b[0], len(b))
	} else {
		e.s = string(b)
	}
	// The header of s, never written again, is the value of the
	// interface.
	e.v = boxAt(stringType, unsafe.Pointer(&e.s))
	return e
}

// holds reports whether e, which may be nil, is the entry of the string
// of n < shortLen bytes whose padded words are w0 and w1 (see shortWords).
func (e *internEntry) holds(w0, w1 uint64, n int) bool {
	return e != nil && len(e.s) == n &&
		binary.LittleEndian.Uint64(e.b[:8]) == w0 && binary.LittleEndian.Uint64(e.b[8:]) == w1
}

// shortLen bounds the strings that the decoder looks up as words.
const shortLen = 16

var (
	internSeed  = rand.Uint64()
	internTable [internSlots]atomic.Pointer[internEntry]
	// internSeen holds, per pair of slots, the hashes of the last two
	// strings that missed it, the newer first. A string is interned on
	// its second miss among the last two, so that values seen once (IDs,
	// addresses) cost no table entry.
	internSeen [internSlots]atomic.Uint64
)

// internKey returns b as a string, shared with earlier calls for the same
// bytes when possible.
func internKey(b []byte) string {
	if len(b) > internMaxLen*2 {
		return string(b)
	}
	if e := internLookup(b); e != nil {
		return e.s
	}
	return string(b)
}

// internedValue returns b as a boxed string value shared with earlier
// calls for the same bytes, or nil when b is not interned (yet).
func internedValue(b []byte) any {
	if len(b) > internMaxLen {
		return nil
	}
	if e := internLookup(b); e != nil {
		return e.v
	}
	return nil
}

// internHash hashes a string of at most 2*internMaxLen bytes for the
// table. It needs no resistance to collisions: strings that collide only
// miss the table, and are allocated as they would be without it. A string
// shorter than shortLen is hashed as its padded words, as the decoder
// finds them.
func internHash(b []byte) uint64 {
	n := len(b)
	if n < shortLen {
		w := padded(b)
		return hashWords(w[0], w[1], n)
	}
	const k1, k2 = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f
	h := uint64(n) * k1
	for i := 0; i+8 < n; i += 8 {
		h = (h ^ binary.LittleEndian.Uint64(b[i:])) * k2
		h ^= h >> 29
	}
	// The last eight bytes, overlapping the previous word.
	h = (h ^ binary.LittleEndian.Uint64(b[n-8:])) * k2
	return h ^ h>>32 ^ internSeed
}

// hashWords hashes a string of n < shortLen bytes held in w0 and w1, zero
// padded.
func hashWords(w0, w1 uint64, n int) uint64 {
	const k1, k2 = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f
	// Each shift folds high bits down, so that every byte reaches the
	// low bits that index the table.
	h := (w0 ^ internSeed) * k1
	h ^= h >> 32
	x := h ^ w1
	x ^= x >> 29
	h = (x + uint64(n)) * k2
	return h ^ h>>32
}

// padded returns the bytes of b, shorter than shortLen, as two words
// padded with zeros.
func padded(b []byte) (w [2]uint64) {
	var buf [shortLen]byte
	copy(buf[:], b)
	w[0] = binary.LittleEndian.Uint64(buf[:])
	w[1] = binary.LittleEndian.Uint64(buf[8:])
	return w
}

// internLookup returns the entry for b, or nil when b is not interned
// (yet).
func internLookup(b []byte) *internEntry {
	h := internHash(b)
	i := internPair(h)
	if e := internTable[i].Load(); e != nil && e.s == string(b) {
		return e
	}
	if e := internTable[i+1].Load(); e != nil && e.s == string(b) {
		return e
	}
	return internMiss(h, i, b)
}

// internPair returns the first of the two slots of hash h.
func internPair(h uint64) uint64 { return h & (internSlots - 2) }

// internMiss interns b, of hash h and pair of slots i, which its slots do
// not hold, when it is one of the last two that missed them; nil
// otherwise. It goes in the slot of its place among them, so that two
// strings that take turns both stay.
func internMiss(h, i uint64, b []byte) *internEntry {
	newer, older := &internSeen[i], &internSeen[i+1]
	way := i
	switch n := newer.Load(); h {
	case n:
	case older.Load():
		way = i + 1
	default:
		older.Store(n)
		newer.Store(h)
		return nil
	}
	e := newInternEntry(b)
	internTable[way].Store(e)
	return e
}
