package detect

import (
	"encoding/binary"
	"math/rand/v2"
	"sync/atomic"
)

// Events of one log type repeat the same keys and many of the same short
// values ("SUCCESS", action names, "__typename"). The decoder interns them
// in a small fixed table so that they are allocated, and boxed in an
// interface, once per process rather than once per event. The table is
// lock-free: a slot holds the last string hashed to it, a miss replaces it,
// and memory stays bounded whatever the input.

const (
	internSlots  = 1 << 12
	internMaxLen = 32 // longer strings (IDs, timestamps, paths) are rarely repeated
)

type internEntry struct {
	s string
	v any // s, boxed once
}

var (
	internSeed  = rand.Uint64()
	internTable [internSlots]atomic.Pointer[internEntry]
	// internSeen holds, per slot, the hash of the last string that
	// missed it. A string is interned on its second miss in a row, so
	// that values seen once (IDs, addresses) cost no table entry.
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

// internValue returns b as a boxed string value.
func internValue(b []byte) any {
	if len(b) > internMaxLen {
		return string(b)
	}
	if e := internLookup(b); e != nil {
		return e.v
	}
	return string(b)
}

// internHash hashes a string of at most 2*internMaxLen bytes for the
// table, reading it eight bytes at a time. It needs no resistance to
// collisions: strings that collide only miss the table, and are
// allocated as they would be without it.
func internHash(b []byte) uint64 {
	const k1, k2 = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f
	n := len(b)
	h := uint64(n) * k1
	switch {
	case n >= 8:
		for i := 0; i+8 < n; i += 8 {
			h = (h ^ binary.LittleEndian.Uint64(b[i:])) * k2
			h ^= h >> 29
		}
		// The last eight bytes, overlapping the previous word.
		h = (h ^ binary.LittleEndian.Uint64(b[n-8:])) * k2
	case n >= 4:
		h = (h ^ uint64(binary.LittleEndian.Uint32(b))<<32 ^ uint64(binary.LittleEndian.Uint32(b[n-4:]))) * k2
	default:
		for _, c := range b {
			h = (h ^ uint64(c)) * k1
		}
		h *= k2
	}
	return h ^ h>>32 ^ internSeed
}

// internLookup returns the entry for b, or nil when b is not interned
// (yet).
func internLookup(b []byte) *internEntry {
	h := internHash(b)
	i := h & (internSlots - 1)
	slot := &internTable[i]
	if e := slot.Load(); e != nil && e.s == string(b) {
		return e
	}
	// A plain load first: the second sighting writes nothing there.
	if seen := &internSeen[i]; seen.Load() != h {
		seen.Store(h)
		return nil
	}
	s := string(b)
	e := &internEntry{s: s, v: s}
	slot.Store(e)
	return e
}
