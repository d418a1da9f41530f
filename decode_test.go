package detect

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	jsoniter "github.com/json-iterator/go"
)

var decodeCorpus = []string{
	`{}`, ` { } `, `{"a": 1}`, `{"a": -0, "b": 0.5, "c": 1e3, "d": -12, "e": 123456789012345678, "f": 1234567890123456789012}`,
	`{"s": "plain", "e": "tab\tnew\nline \"q\" \\ \/ \u00e9 \ud83d\ude00 \ud800 x"}`,
	`{"n": null, "t": true, "f": false, "l": [1, [2, [3]], {"x": []}], "o": {"p": {"q": {}}}}`,
	"{\"bad\": \"\xff\xfe\", \"k\xff\": 1}",
	`{"dup": 1, "dup": 2}`,
	`{"a": 9223372036854775807, "b": 9223372036854775808, "c": -9223372036854775808}`,
	// Lists longer than the decoder's stack in the decoder itself, nested
	// in each other, and lists beside lists, cut from one slab.
	`{"l": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, [13, 14, [15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25], 26], 27, 28, 29, 30]}`,
	`{"a": [1, 2], "b": [3, 4, 5], "c": [[6], [7, 8], []], "d": [9, 10, 11, 12, 13, 14, 15, 16, 17, 18], "e": [{"f": [19]}]}`,
	// Lists of every length a slab may hold, longest first, then shorter
	// ones that fit in what the first slabs left.
	`{"a": [1, 2, 3, 4, 5, 6, 7, 8], "b": [1, 2, 3, 4, 5, 6, 7], "c": [1, 2, 3, 4, 5, 6], "d": [1, 2, 3, 4, 5], "e": [1, 2, 3, 4], "f": [1, 2, 3], "g": [1, 2], "h": [1], "i": ["x", "y"]}`,
	`{"a": [1, 2, 3, 4, 5], "b": [6], "c": [7, 8, 9, 10, 11, 12, 13, 14], "d": [15, 16, 17, 18], "e": [[19, 20, 21, 22, 23], [24]]}`,
}

var decodeBad = []string{
	``, `  `, `[]`, `1`, `"x"`, `null`, `true`, `{`, `{"a"}`, `{"a": }`, `{"a": 1,}`, `{"a": 01}`, `{"a": 1.}`,
	`{"a": 1e}`, `{"a": -}`, `{"a": tru}`, `{"a": "x}`, "{\"a\": \"\x01\"}", `{"a": "\x"}`, `{"a": "\u12"}`,
	`{"a": 1} x`, `{a: 1}`, `{"a": [1 2]}`, `{"a": {"b": 1 "c": 2}}`, `{"a": nul}`,
}

func TestDecodeFastMatchesDecoders(t *testing.T) {
	for _, s := range decodeCorpus {
		got, err := decodeFast([]byte(s), nil)
		if err != nil {
			t.Errorf("decodeFast(%q) error: %v", s, err)
			continue
		}
		var want map[string]any
		if err := jsoniter.Unmarshal([]byte(s), &want); err != nil {
			t.Fatal(err)
		}
		// json-iterator keeps invalid UTF-8 as it is; detect replaces it
		// as encoding/json does.
		if utf8.ValidString(s) && !valuesEqual(got, want) {
			t.Errorf("decodeFast(%q) = %#v; json-iterator gives %#v", s, got, want)
		}
		var std map[string]any
		if err := json.Unmarshal([]byte(s), &std); err != nil {
			t.Fatal(err)
		}
		if !valuesEqual(got, std) {
			t.Errorf("decodeFast(%q) = %#v; encoding/json gives %#v", s, got, std)
		}
	}
	for _, s := range decodeBad {
		if m, err := decodeFast([]byte(s), nil); err == nil {
			t.Errorf("decodeFast(%q) = %v; want an error", s, m)
		}
	}
	deep := strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1)
	if _, err := decodeFast([]byte(deep), nil); err == nil || !strings.Contains(err.Error(), "nesting") {
		t.Errorf("decodeFast(too deep) error = %v; want a nesting error", err)
	}
	ok := strings.Repeat(`{"a":`, MaxDepth-1) + "1" + strings.Repeat("}", MaxDepth-1)
	if _, err := decodeFast([]byte(ok), nil); err != nil {
		t.Errorf("decodeFast(%d levels) error = %v", MaxDepth-1, err)
	}
}

func TestDecodeFastSelected(t *testing.T) {
	s := `{"Action": "x", "action": "y", "other": {"deep": [1, {"z": "\""}]}, "n": 5, "ACTION": 3}`
	got, err := decodeFast([]byte(s), newFieldSet("action", "n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Action": "x", "action": "y", "ACTION": 3, "n": 5}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decodeFast(selected) = %#v; want %#v", got, want)
	}
	if _, err := decodeFast([]byte(`{"a": 1, "skip": [1, }`), newFieldSet("a")); err == nil {
		t.Errorf("decodeFast with a bad skipped value succeeded")
	}
}

// TestFieldSetHas checks the quick rejection of keys by length against
// strings.EqualFold, the definition of a case-insensitive read.
func TestFieldSetHas(t *testing.T) {
	sets := [][]string{
		{"action", "n", "sourceIP"},
		{"status", "\u212aey"}, // the Kelvin sign folds to k: "Key" reads it
		{"\u017fource"},        // the long s folds to s
		{"ACTION", "action", "Action"},
		{strings.Repeat("x", 70), "a"},
		// Several names of one length: a key is compared with all of them.
		{"ip", "id", "ID", "user", "type", "name"},
	}
	keys := []string{"action", "ACTION", "Action", "actions", "n", "N", "sourceip", "SOURCEIP", "sourceI", "status",
		"Key", "key", "KEY", "source", "SOURCE", strings.Repeat("X", 70), strings.Repeat("x", 69), "A", "b", "", "id", "Id", "iD", "ID", "IP", "ix", "USER", "Type", "nAme", "nam"}
	for _, names := range sets {
		for i := range names {
			names[i], _ = strconv.Unquote(`"` + names[i] + `"`)
		}
		set := newFieldSet(names...)
		for _, k := range keys {
			want := false
			for _, n := range names {
				want = want || strings.EqualFold(n, k)
			}
			if _, got := set.match([]byte(k)); got != want {
				t.Errorf("%q.match(%q) = %v; want %v", names, k, got, want)
			}
			if exact, _ := set.match([]byte(k)); exact != "" && exact != k || exact == "" && contains(names, k) && k != "" {
				t.Errorf("%q.match(%q) = %q; want the exact name", names, k, exact)
			}
			if got := set.has(k); got != want {
				t.Errorf("%q.has(%q) = %v; want %v", names, k, got, want)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range append(append([]string{}, decodeCorpus...), decodeBad...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Skipping a value checks its syntax exactly as decoding it does.
		_, selErr := decodeFast(data, newFieldSet("a"))
		got, err := decodeFast(data, nil)
		if (selErr == nil) != (err == nil) {
			t.Fatalf("decodeFast(%q): selected error = %v; full error = %v", data, selErr, err)
		}
		var std map[string]any
		stdErr := json.Unmarshal(data, &std)
		if stdErr == nil && std == nil {
			// null decodes into a nil map; for detect it is no event.
			if err == nil {
				t.Fatalf("decodeFast(%q) accepted null", data)
			}
			return
		}
		if (err == nil) != (stdErr == nil) {
			// encoding/json rejects numbers beyond float64; detect keeps
			// them as infinities.
			if err == nil && strings.Contains(stdErr.Error(), "number") {
				return
			}
			t.Fatalf("decodeFast(%q) error = %v; encoding/json error = %v", data, err, stdErr)
		}
		if err == nil && !valuesEqual(got, std) {
			t.Fatalf("decodeFast(%q) = %#v; encoding/json gives %#v", data, got, std)
		}
	})
}

// TestStringSpecial compares the word-at-a-time search with a byte loop
// over random text rich in the bytes it looks for and their neighbours.
func TestStringSpecial(t *testing.T) {
	alphabet := []byte{'"', '\\', 0x1f, 0x20, 0x00, 0x7f, 0x80, 0xff, 'a', '!', '#', '[', ']', 0x21, 0x5b, 0x5d, 0xe2, 0x01}
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 20000; n++ {
		data := make([]byte, rng.IntN(72))
		for i := range data {
			switch rng.IntN(4) {
			case 0:
				data[i] = alphabet[rng.IntN(len(alphabet))]
			case 1:
				data[i] = byte(rng.IntN(256))
			default:
				data[i] = 'a' + byte(rng.IntN(26))
			}
		}
		start := 0
		if len(data) > 0 {
			start = rng.IntN(len(data) + 1)
		}
		// Every byte value at every place in a word, among plain bytes.
		if n < 256*16 {
			data = bytes.Repeat([]byte{'a'}, 24)
			data[n/256+4] = byte(n)
			start = 4 * (n % 2)
		}
		for _, high := range []bool{false, true} {
			want := len(data)
			for i := start; i < len(data); i++ {
				if c := data[i]; c == '"' || c == '\\' || c < 0x20 || high && c >= 0x80 {
					want = i
					break
				}
			}
			if got := stringSpecial(data, start, high); got != want {
				t.Fatalf("stringSpecial(%q, %d, %v) = %d; want %d", data, start, high, got, want)
			}
		}
	}
}

// BenchmarkDecode measures the decoder on the large matching Wiz event of
// the benchmarks (740 bytes): a pass that checks the syntax of the whole
// event and decodes nothing, the fields the Wiz Revoke User Sessions rule
// reads, the whole event, and for comparison encoding/json decoding the
// whole event and json-iterator's Skip of the same bytes.
// sinkMap keeps benchmark results alive.
var sinkMap map[string]any

func BenchmarkDecode(b *testing.B) {
	data := []byte(`{"id": "2a8fc1e3-e83d-46e2-814a-6cebc47acf97", "action": "RevokeUserSessions", "requestId": "1b3c4d5e-2c85-4c2d-b0f9-d4a4307ea8a7", "status": "SUCCESS", "timestamp": "2024-07-31T17:00:00.239928Z", "actionParameters": {"input": {"id": "517", "filterBy": {"status": ["OPEN", "IN_PROGRESS"], "severity": ["HIGH", "CRITICAL"]}}, "selection": ["__typename", "id", "name", {"nodes": ["__typename", "id", "status", "severity"]}]}, "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "sourceIP": "12.34.56.78", "serviceAccount": null, "user": {"id": "user1@company.com", "name": "User 1"}, "p_log_type": "Wiz.Audit", "p_event_time": "2024-07-31T17:00:00Z"}`)
	for _, bc := range []struct {
		name   string
		fields *fieldSet
	}{
		{"check", newFieldSet("none")},
		{"selected", newFieldSet("id", "action", "status", "actionParameters", "sourceIP", "serviceAccount", "user")},
		{"whole", nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				m, err := decodeTransient(data, bc.fields)
				if err != nil {
					b.Fatal(err)
				}
				releaseEnv(m, bc.fields)
			}
		})
	}
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	// What no decoder into Go values avoids: every JSON object it returns
	// is a Go map, and even a map of two strings costs two allocations.
	b.Run("go-map-of-two", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m := make(map[string]any)
			m["status"], m["severity"] = "OPEN", "HIGH"
			sinkMap = m
		}
	})
	b.Run("jsoniter-skip", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			it := jsoniter.ConfigDefault.BorrowIterator(data)
			it.Skip()
			if it.Error != nil {
				b.Fatal(it.Error)
			}
			jsoniter.ConfigDefault.ReturnIterator(it)
		}
	})
}

// TestSpecialIndex16 checks the block scan of stringSpecial (assembly on
// amd64) against a byte-by-byte reference: every byte value at every
// place of a block, at every alignment of the data, and random data.
func TestSpecialIndex16(t *testing.T) {
	ref := func(data []byte, high bool) int {
		for i, c := range data[:len(data)&^15] {
			if c == '"' || c == '\\' || c < 0x20 || high && c >= 0x80 {
				return i
			}
		}
		return len(data) &^ 15
	}
	buf := make([]byte, 96)
	for off := range 16 {
		for pos := range 48 {
			for c := range 256 {
				for i := range buf {
					buf[i] = 'a'
				}
				buf[off+pos] = byte(c)
				data := buf[off : off+48]
				for _, high := range []bool{false, true} {
					if got, want := specialIndex16(data, high), ref(data, high); got != want {
						t.Fatalf("specialIndex16(byte %#x at %d, offset %d, high %v) = %d; want %d", c, pos, off, high, got, want)
					}
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		data := make([]byte, rng.IntN(100))
		for i := range data {
			data[i] = byte(0x20 + rng.IntN(0x60))
			if rng.IntN(40) == 0 {
				data[i] = byte(rng.IntN(256))
			}
		}
		for _, high := range []bool{false, true} {
			if got, want := specialIndex16(data, high), ref(data, high); got != want {
				t.Fatalf("specialIndex16(%q, %v) = %d; want %d", data, high, got, want)
			}
		}
	}
}
