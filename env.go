package detect

import (
	"bytes"
	"math/bits"
	"strings"
	"sync"
)

// evalEnv is the event that an expression is evaluated on: a map of its
// fields, or, when one rule evaluates raw JSON, the slots into which the
// fields it reads were decoded.
type evalEnv struct {
	m map[string]any
	s *slots
}

// mapEnv is the environment of an event held as a map.
func mapEnv(m map[string]any) evalEnv { return evalEnv{m: m} }

// field reads a top-level field of the event, as lookup does; id is
// fieldID(name).
func (e evalEnv) field(name string, id uint32) any {
	if v, ok := e.slotField(id); ok {
		return v
	}
	return e.otherField(name, id)
}

// slotField is field in its common case, a field of the rule's set in
// slots, small enough to be inlined into the programs' closures; ok is
// false in other cases.
func (e evalEnv) slotField(id uint32) (v any, ok bool) {
	if s := e.s; s != nil && uint(id) < uint(len(s.set.slotOf)) {
		if i := s.set.slotOf[id]; i != 0 {
			return s.vals[(i-1)%maxSlots], true
		}
		return nil, true
	}
	return nil, false
}

// otherField is field for an event held as a map, or a field that the
// slots' set numbers after it was made.
func (e evalEnv) otherField(name string, id uint32) any {
	if e.s != nil {
		return e.s.field(id)
	}
	return lookup(e.m, name)
}

// asMap returns the event as a map. From slots, the map holds the fields
// that the rule reads, each under its name: lookups of those names give
// the same answers as on the whole event.
func (e evalEnv) asMap() map[string]any {
	if e.s != nil {
		return e.s.asMap()
	}
	return e.m
}

// maxSlots is the most fields a rule may read to be evaluated on slots.
const maxSlots = 16

// slots hold the top-level fields of one event that a rule reads, one per
// name of its field set, for the length of one evaluation. Reading a
// field then compares small numbers rather than hashing its name in a
// map, and the decoder stores each field once, where a map would store
// every key that matches a name ignoring case.
type slots struct {
	set  *fieldSet
	vals [maxSlots]any
	// state tells how vals[i] was found: not at all, by a key that
	// equals the name ignoring case (best is that key), or by the key
	// that is the name.
	state [maxSlots]uint8
	best  [maxSlots][]byte
	m     map[string]any // built by asMap
	// objects[i], when not nil, names the keys read from the field of
	// slot i, which the rule only lends (see lentReads): an object found
	// there is decoded into objs[i] as those keys alone, and stands in
	// the slot as that *slots, whose span is the object's JSON.
	objects *[maxSlots]*fieldSet
	objs    [maxSlots]*slots
	used    uint32 // the objs holding an object
	span    []byte
}

const (
	slotAbsent = iota
	slotFolded
	slotExact
)

var slotsPool = sync.Pool{New: func() any { return new(slots) }}

// slotted reports whether expressions that read the fields of set can be
// evaluated on slots: set is small and its names are ASCII.
func slotted(set *fieldSet) bool {
	return set != nil && len(set.names) <= maxSlots && !set.nonASCII
}

// field returns the value of the field numbered id.
func (s *slots) field(id uint32) any {
	if int(id) < len(s.set.slotOf) {
		if i := s.set.slotOf[id]; i != 0 {
			return s.vals[i-1]
		}
		return nil
	}
	for i, x := range s.set.ids {
		if x == id {
			return s.vals[i]
		}
	}
	return nil
}

// asMap returns the fields of the slots as a map, each under its name,
// objects decoded whole; built once per evaluation, for the VM.
func (s *slots) asMap() map[string]any {
	if s.m == nil {
		s.m = make(map[string]any, len(s.set.names))
		for i, n := range s.set.names {
			if s.state[i] != slotAbsent {
				v := s.vals[i]
				if o, ok := v.(*slots); ok {
					v = o.whole()
				}
				s.m[n] = v
			}
		}
	}
	return s.m
}

// whole returns the object that slots of an object stand for, decoded
// whole from its JSON.
func (s *slots) whole() map[string]any {
	if s.m == nil {
		s.m, _ = decodeFast(s.span, nil)
	}
	return s.m
}

// key reads key from the object that s stands for, as lookup would; id is
// fieldID(key).
func (s *slots) key(key string, id uint32) any {
	if int(id) < len(s.set.slotOf) {
		if i := s.set.slotOf[id]; i != 0 {
			return s.vals[i-1]
		}
	}
	return s.keyNamed(key)
}

// keyNamed is key without the key's number.
func (s *slots) keyNamed(key string) any {
	for i, n := range s.set.names {
		if n == key {
			return s.vals[i]
		}
	}
	// A key the rule was not known to read.
	return lookup(s.whole(), key)
}

// object returns the slots into which to decode an object that goes to
// the slots of take alone, or nil when it must be decoded whole: take is
// one slot whose field the rule only lends.
func (s *slots) object(take uint32) *slots {
	if s.objects == nil || take&(take-1) != 0 {
		return nil
	}
	i := bits.TrailingZeros32(take)
	set := s.objects[i]
	if set == nil {
		return nil
	}
	o := s.objs[i]
	if o == nil {
		o = new(slots)
		s.objs[i] = o
	} else if s.used&(1<<i) != 0 {
		// The key again: its last object wins.
		o.reset()
	}
	o.set = set
	s.used |= 1 << i
	return o
}

// release empties s and returns it to the pool.
func (s *slots) release() {
	s.reset()
	s.set, s.objects = nil, nil
	slotsPool.Put(s)
}

// reset empties s, and the objects it holds.
func (s *slots) reset() {
	// Element by element: clear on a slice of pointers costs a bulk
	// barrier check more than these few stores.
	for i := range s.set.names {
		s.vals[i], s.state[i], s.best[i] = nil, slotAbsent, nil
	}
	for u := s.used; u != 0; u &= u - 1 {
		s.objs[bits.TrailingZeros32(u)].reset()
	}
	s.used, s.m, s.span = 0, nil, nil
}

// wants returns the slots that take the value of key, as bit sets: take
// has those whose name is key (exact has them too), and those whose name
// equals key ignoring case when no key that is the name, and no smaller
// such key, came before (lookup prefers the exact key, then the smallest
// in byte order). plain tells that key is printable ASCII.
func (s *slots) wants(key []byte, plain bool) (take, exact uint32) {
	set := s.set
	if plain && len(key) < 64 {
		// Only the names of the key's length may match it.
		lo, hi := set.start[len(key)], set.start[len(key)+1]
		for j := lo; j < hi; j++ {
			n, i := set.byLen[j], int(set.byLenIndex[j])
			if n == string(key) {
				take |= 1 << i
				exact |= 1 << i
			} else if asciiEqualFold(n, key) && s.foldWins(i, key) {
				take |= 1 << i
			}
		}
		return take, exact
	}
	for i, n := range set.names {
		if n == string(key) {
			take |= 1 << i
			exact |= 1 << i
		} else if strings.EqualFold(n, string(key)) && s.foldWins(i, key) {
			take |= 1 << i
		}
	}
	return take, exact
}

// wantsWords is wants for the key of printable ASCII of n < shortLen
// bytes at data[start:], whose bytes are w0 and w1 (see padded): the names
// of its length are compared as words, and the key's bytes are looked at
// only when they equal a name ignoring case.
func (s *slots) wantsWords(data []byte, start int, n uint, w0, w1 uint64) (take, exact uint32) {
	set := s.set
	// Setting bit 5 of every byte maps both cases of a letter to one
	// byte: keys that differ then cannot equal the name ignoring case.
	const fold = lowBits * 0x20
	n %= shortLen // n < shortLen: no bounds checks
	for _, w := range set.byLenWords[set.start[n]:set.start[n+1]] {
		switch {
		case w.w[0] == w0 && w.w[1] == w1:
			take |= 1 << w.slot
			exact |= 1 << w.slot
		case w.w[0]|fold == w0|fold && w.w[1]|fold == w1|fold:
			if key := data[start : start+int(n)]; asciiEqualFold(set.names[w.slot], key) && s.foldWins(int(w.slot), key) {
				take |= 1 << w.slot
			}
		}
	}
	return take, exact
}

// foldWins reports whether key, which equals the name of slot i ignoring
// case only, takes the slot from what it holds.
func (s *slots) foldWins(i int, key []byte) bool {
	switch s.state[i] {
	case slotExact:
		return false
	case slotFolded:
		return bytes.Compare(key, s.best[i]) <= 0
	}
	return true
}

// put stores v, found by key, in the slots of take; those of exact are
// named key.
func (s *slots) put(take, exact uint32, key []byte, v any) {
	for t := take; t != 0; t &= t - 1 {
		i := bits.TrailingZeros32(t)
		s.vals[i] = v
		if exact&(1<<i) != 0 {
			s.state[i] = slotExact
		} else {
			s.state[i], s.best[i] = slotFolded, key
		}
	}
}

// decodeSlots decodes the fields of the JSON object data that set names
// into slots from the pool, and checks the syntax of the rest; release
// them when the evaluation is over.
func decodeSlots(data []byte, set *fieldSet, objects *[maxSlots]*fieldSet) (*slots, *SyntaxError) {
	s := slotsPool.Get().(*slots)
	s.set, s.objects = set, objects
	d := fastDecoder{data: data}
	d.box.wide = set.wide.Load()
	defer d.release()
	d.ws()
	if d.pos >= len(data) || data[d.pos] != '{' {
		s.release()
		_, err := decodeFast(data, set)
		return nil, err
	}
	d.objectSlots(s)
	if w := d.box.needsWide(); w != d.box.wide {
		set.wide.Store(w)
	}
	if d.err == nil {
		d.ws()
		if d.pos < len(data) {
			d.err = &SyntaxError{Offset: int64(d.pos), Msg: "text after the JSON object"}
		}
	}
	if d.err != nil {
		s.release()
		return nil, d.err
	}
	return s, nil
}

// decodeEnv decodes the JSON object data for expressions that read the
// fields of set, into slots when onSlots is set (with the objects of
// objects decoded into slots of their own, see slots), else into a map. Call
// release with the same set when the evaluation is over.
func decodeEnv(data []byte, set *fieldSet, onSlots bool, objects *[maxSlots]*fieldSet) (evalEnv, error) {
	if onSlots {
		s, err := decodeSlots(data, set, objects)
		if err != nil {
			return evalEnv{}, err
		}
		return evalEnv{s: s}, nil
	}
	m, err := decodeTransient(data, set)
	if err != nil {
		return evalEnv{}, err
	}
	return mapEnv(m), nil
}

// release returns what an environment from decodeEnv holds to its pool.
func (e evalEnv) release(set *fieldSet) {
	if e.s != nil {
		e.s.release()
		return
	}
	releaseEnv(e.m, set)
}

// lentFields returns, for each slot of set whose field every program of
// progs that reads it only lends (see lentReads), the keys they read from
// it, or nil when there is no such slot.
func lentFields(set *fieldSet, progs []*program) *[maxSlots]*fieldSet {
	var out [maxSlots]*fieldSet
	found := false
	for i, n := range set.names {
		keys := &fieldSet{}
		for _, p := range progs {
			if p.reads == nil {
				keys = nil
				break
			}
			if !contains(p.reads.names, n) {
				continue
			}
			k, ok := p.lent[n]
			if !ok {
				keys = nil
				break
			}
			for _, name := range k.names {
				keys.add(name)
			}
		}
		if slotted(keys) {
			out[i], found = keys, true
		}
	}
	if !found {
		return nil
	}
	return &out
}
