package detect

import (
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// TestBoxes checks that values boxed from slabs are the values Go would
// box: the same types, equal under ==, reflect and type switches, and
// intact after collections, while the slabs fill and new ones start.
func TestBoxes(t *testing.T) {
	var x boxes
	var got, want []any
	for i := range 200 {
		switch i % 4 {
		case 0:
			s := strings.Repeat(string(rune('a'+i%26)), i%40)
			want = append(want, s)
			got = append(got, x.boxString(x.textOf([]byte(s), 1000)))
		case 1:
			l := []any{i, fmt.Sprint(i), []any{float64(i) / 2}}
			want = append(want, l)
			got = append(got, x.boxList(l))
		case 2:
			n := i*1000 - 50000
			want = append(want, n)
			got = append(got, x.boxInt(n))
		case 3:
			f := float64(i) * math.Pi
			want = append(want, f)
			got = append(got, x.boxFloat(f))
		}
	}
	// Garbage between the slabs, then collections that must keep them.
	for range 3 {
		_ = make([]byte, 1<<20)
		runtime.GC()
	}
	for i := range got {
		if reflect.TypeOf(got[i]) != reflect.TypeOf(want[i]) || !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("box %d = %#v (%T); want %#v (%T)", i, got[i], got[i], want[i], want[i])
		}
		switch w := want[i].(type) {
		case string:
			if got[i] != w || got[i].(string) != w {
				t.Errorf("box %d: %q != %q", i, got[i], w)
			}
		case int, float64:
			if got[i] != w {
				t.Errorf("box %d: %v != %v", i, got[i], w)
			}
		}
	}
}

// TestDecodedTextIsCopied checks that the strings of a decoded event do
// not share the bytes of its JSON, which the caller may reuse.
func TestDecodedTextIsCopied(t *testing.T) {
	data := []byte(`{"id": "07fdb41e-e83d-46e2-814a-6cebc47acf97", "l": ["x-unique-1", "a-longer-unique-string"], "n": 123456, "f": 1.5}`)
	m, err := decodeFast(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(m)
	for i := range data {
		data[i] = 'z'
	}
	runtime.GC()
	if got := fmt.Sprint(m); got != want {
		t.Errorf("after the JSON changed, the event is %s; want %s", got, want)
	}
}

// TestInternPairs checks that two strings of one event that hash to the
// same slots are both interned: seen in turns, in a table of one slot per
// hash, each would replace the other's sighting and neither would stay.
func TestInternPairs(t *testing.T) {
	// Strings whose hashes share a pair of slots, found by trying.
	var a, b string
	byPair := map[uint64]string{}
	for i := 0; a == ""; i++ {
		s := fmt.Sprintf("pair%d", i)
		w := padded([]byte(s))
		p := internPair(hashWords(w[0], w[1], len(s)))
		if other, ok := byPair[p]; ok {
			a, b = other, s
		}
		byPair[p] = s
	}
	w := padded([]byte(a))
	p := internPair(hashWords(w[0], w[1], len(a)))
	for _, i := range []uint64{p, p + 1} {
		internTable[i].Store(nil)
		internSeen[i].Store(0)
	}
	read := func(s string) *internEntry {
		d := fastDecoder{data: []byte(`"` + s + `"` + strings.Repeat(" ", 20))}
		e, _ := d.shortString()
		return e
	}
	// A first sighting of each, then a second.
	for range 2 {
		read(a)
		read(b)
	}
	// From then on, each stays: the same entry at every sighting.
	entries := map[string]*internEntry{}
	for _, s := range []string{a, b, a, b, a, b} {
		e := read(s)
		if e == nil || e.s != s {
			t.Fatalf("%q and %q, of one pair of slots, seen in turns: %q not interned (%v)", a, b, s, e)
		}
		if first, ok := entries[s]; ok && e != first {
			t.Fatalf("%q and %q, of one pair of slots, seen in turns: %q interned again", a, b, s)
		}
		entries[s] = e
		if l := internLookup([]byte(s)); l != e {
			t.Errorf("internLookup(%q) = %p; want the decoder's entry %p", s, l, e)
		}
	}
}

// TestInternEntry checks an entry of the intern table: its string and
// boxed value hold the bytes, copied, and a string shorter than shortLen
// is one allocation, its bytes and header inside the entry.
func TestInternEntry(t *testing.T) {
	for n := range 2*internMaxLen + 1 {
		b := []byte(strings.Repeat("ab", n)[:n])
		want := string(b)
		e := newInternEntry(b)
		clear(b) // the entry holds a copy
		if e.s != want || e.v != any(want) {
			t.Errorf("newInternEntry(%q) holds %q, %v", want, e.s, e.v)
		}
		if n < shortLen {
			w := padded([]byte(want))
			if !e.holds(w[0], w[1], n) {
				t.Errorf("newInternEntry(%q) does not hold its padded words %#x", want, w)
			}
			if e.holds(w[0]^1, w[1], n) || e.holds(w[0], w[1]^1, n) || e.holds(w[0], w[1], n+1) {
				t.Errorf("newInternEntry(%q) holds other words or another length", want)
			}
		}
		b = []byte(want)
		allocs := testing.AllocsPerRun(20, func() { e = newInternEntry(b) })
		if want := 1 + boolInt(n >= shortLen); int(allocs) != want {
			t.Errorf("newInternEntry of %d bytes: %v allocations; want %d", n, allocs, want)
		}
	}
}

// TestInternShortStrings checks that a short string interned by its bytes
// is found by the decoder as words, at every length, and that strings of
// other lengths or bytes are not taken for it.
func TestInternShortStrings(t *testing.T) {
	for n := range 40 {
		s := strings.Repeat("k", n/2) + strings.Repeat("Q", n-n/2)
		// Interned on the second sighting.
		internLookup([]byte(s))
		e := internLookup([]byte(s))
		if e == nil {
			t.Fatalf("%q not interned on its second sighting", s)
		}
		// Padded so that the decoder reads two words at any length.
		data := []byte(`"` + s + `"` + strings.Repeat(" ", 20))
		d := fastDecoder{data: data}
		got, end := d.shortString()
		if n < shortLen {
			if got != e || end != n+1 {
				t.Errorf("shortString(%q) = %p, %d; want %p, %d", s, got, end, e, n+1)
			}
		} else if got != nil || end != -1 {
			t.Errorf("shortString(%q) = %p, %d; want nil, -1", s, got, end)
		}
		if v := (&fastDecoder{data: data}).strValue(); v != s {
			t.Errorf("strValue(%q) = %q", s, v)
		}
		// One byte more, or one byte other, is another string.
		for _, other := range []string{s + "k", s[:max(n-1, 0)] + "x"} {
			if other == s {
				continue
			}
			d := fastDecoder{data: []byte(`"` + other + `"` + strings.Repeat(" ", 20))}
			if e, _ := d.shortString(); e != nil && e.s != other {
				t.Errorf("shortString(%q) found %q", other, e.s)
			}
		}
	}
	// The decoder interns a short string on its second sighting as
	// internLookup does, with one lookup a sighting.
	for n := range shortLen {
		s := strings.Repeat("z", n/2) + strings.Repeat("J", n-n/2) + "-"
		s = s[:n]
		data := []byte(`"` + s + `"` + strings.Repeat(" ", 20))
		first, end := (&fastDecoder{data: data}).shortString()
		second, _ := (&fastDecoder{data: data}).shortString()
		if end != n+1 || second == nil || second.s != s {
			t.Errorf("shortString(%q) twice = %v, %v (end %d); want an entry the second time", s, first, second, end)
		}
		if e := internLookup([]byte(s)); e != second {
			t.Errorf("internLookup(%q) = %p; want the decoder's entry %p", s, e, second)
		}
	}
	// Escapes, control characters and bytes beyond ASCII leave the short
	// path, at any place of either word.
	for i := range shortLen - 1 {
		for _, c := range []string{`\n`, "\t", "é", `\"`} {
			s := strings.Repeat("a", i) + c
			d := fastDecoder{data: []byte(`"` + s + `"` + strings.Repeat(" ", 20))}
			if e, end := d.shortString(); e != nil || end != -1 {
				t.Errorf("shortString(%q) = %v, %d; want nil, -1", s, e, end)
			}
		}
	}
}

// TestFirstSlabSize keeps the first slab of an event at a size class of
// Go's allocator that a small event fills (see boxes).
func TestFirstSlabSize(t *testing.T) {
	if n := unsafe.Sizeof(firstSlab{}); n != 224 {
		t.Errorf("the first slab takes %d bytes; want 224, a size class of the allocator", n)
	}
	if n := unsafe.Sizeof(wideSlab{}); n != 448 {
		t.Errorf("the wide first slab takes %d bytes; want 448, a size class of the allocator", n)
	}
}

// TestWideSlabFollowsTheEvents checks that the fields of events that
// needed more than a small first slab get a wide one for the next event,
// and a small one again once the events shrink, with the same values.
func TestWideSlabFollowsTheEvents(t *testing.T) {
	set := newFieldSet("a", "b")
	big := []byte(`{"a": [["x1", "x2"], ["x3"], ["x4", "x5", "x6"]], "b": ["p-unique-value-1", "p-unique-value-2"]}`)
	small := []byte(`{"a": ["x"], "b": "y"}`)
	for i, step := range []struct {
		data     []byte
		wide     bool // the slab this decoding starts with
		wideNext bool
	}{{big, false, true}, {big, true, true}, {small, true, false}, {small, false, false}} {
		if got := set.wide.Load(); got != step.wide {
			t.Fatalf("step %d: wide = %v; want %v", i, got, step.wide)
		}
		s, err := decodeSlots(step.data, set, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := decodeFast(step.data, nil)
		if got := s.asMap(); !reflect.DeepEqual(got, want) {
			t.Errorf("step %d: slots hold %v; want %v", i, got, want)
		}
		s.release()
		if got := set.wide.Load(); got != step.wideNext {
			t.Errorf("step %d: wide after = %v; want %v", i, got, step.wideNext)
		}
	}
}

// TestNewMatch checks that a Match comes with room for exactly its
// outputs, at every count.
func TestNewMatch(t *testing.T) {
	for n := range 12 {
		m, outs := newMatch(n)
		if m == nil || !reflect.DeepEqual(*m, Match{}) {
			t.Fatalf("newMatch(%d): Match %+v; want a zero Match", n, m)
		}
		if outs == nil || len(outs) != 0 || cap(outs) != n {
			t.Errorf("newMatch(%d): outputs of length %d and capacity %d; want 0 and %d", n, len(outs), cap(outs), n)
		}
	}
}
