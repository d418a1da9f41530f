package detect

import (
	"encoding/json"
	"reflect"
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
	got, err := decodeFast([]byte(s), &fieldSet{names: []string{"action", "n"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Action": "x", "action": "y", "ACTION": 3, "n": 5}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decodeFast(selected) = %#v; want %#v", got, want)
	}
	if _, err := decodeFast([]byte(`{"a": 1, "skip": [1, }`), &fieldSet{names: []string{"a"}}); err == nil {
		t.Errorf("decodeFast with a bad skipped value succeeded")
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range append(append([]string{}, decodeCorpus...), decodeBad...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Skipping a value checks its syntax exactly as decoding it does.
		_, selErr := decodeFast(data, &fieldSet{names: []string{"a"}})
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
