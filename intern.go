package detect

import (
	"hash/maphash"
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
	internSeed  = maphash.MakeSeed()
	internTable [internSlots]atomic.Pointer[internEntry]
)

// internKey returns b as a string, shared with earlier calls for the same
// bytes when possible.
func internKey(b []byte) string {
	if len(b) > internMaxLen*2 {
		return string(b)
	}
	return internLookup(b).s
}

// internValue returns b as a boxed string value.
func internValue(b []byte) any {
	if len(b) > internMaxLen {
		return string(b)
	}
	return internLookup(b).v
}

func internLookup(b []byte) *internEntry {
	slot := &internTable[maphash.Bytes(internSeed, b)&(internSlots-1)]
	if e := slot.Load(); e != nil && e.s == string(b) {
		return e
	}
	s := string(b)
	e := &internEntry{s: s, v: s}
	slot.Store(e)
	return e
}
