package detect

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestParseEventNumbers(t *testing.T) {
	ev, err := ParseEvent([]byte(`{"i": 42, "neg": -7, "f": 1.5, "e": 1e3, "big": 5368709120,
		"huge": 123456789012345678901234567890, "max": 9223372036854775807, "over": 9223372036854775808,
		"inf": 1e400, "zero": 0, "negzero": -0.0}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		field string
		want  any
	}{
		{"i", 42},
		{"neg", -7},
		{"f", 1.5},
		{"e", 1000.0},
		{"big", 5368709120},
		{"huge", 1.2345678901234568e29},
		{"max", math.MaxInt64},
		{"over", 9.223372036854776e18},
		{"inf", math.Inf(1)},
		{"zero", 0},
	}
	for _, tt := range tests {
		if got := ev.Get(tt.field); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Get(%s) = %#v (%T); want %#v (%T)", tt.field, got, got, tt.want, tt.want)
		}
	}
}

func TestParseEventErrors(t *testing.T) {
	deep := strings.Repeat(`{"a":`, MaxDepth+2) + "1" + strings.Repeat("}", MaxDepth+2)
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"spaces", "  \n", "empty"},
		{"array", "[1]", "array is not an object"},
		{"string", `"x"`, "string is not an object"},
		{"number", `12`, "number is not an object"},
		{"null", `null`, "null is not an object"},
		{"bool", `true`, "boolean is not an object"},
		{"truncated", `{"a": "b`, "invalid event"},
		{"trailing", `{"a": 1} {"b": 2}`, "text after the JSON object"},
		{"bad value", `{"a": nope}`, "invalid event"},
		{"too deep", deep, "nesting deeper than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEvent([]byte(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseEvent(%.40q) error = %v; want a *SyntaxError", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseEvent(%.40q) error = %q; want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseEventShapes(t *testing.T) {
	ev, err := ParseEvent([]byte("\ufeff" + `{"a": {"b": [1, {"c": null}]}, "dup": 1, "dup": 2, "s": "\u00e9\n"}`))
	if err == nil {
		// A byte order mark is not JSON; if the decoder accepts it, the
		// fields must still be right.
		if ev.Get("dup") != 2 {
			t.Errorf("duplicate key: got %v; want the last value 2", ev.Get("dup"))
		}
	}
	ev, err = ParseEvent([]byte(`{"a": {"b": [1, {"c": null}]}, "dup": 1, "dup": 2, "s": "\u00e9\n"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": map[string]any{"b": []any{1, map[string]any{"c": nil}}}, "dup": 2, "s": "é\n"}
	if !reflect.DeepEqual(ev.Map(), want) {
		t.Errorf("ParseEvent = %#v; want %#v", ev.Map(), want)
	}
}

func TestEventGetCaseInsensitive(t *testing.T) {
	ev := NewEvent(map[string]any{"sourceIP": "1.2.3.4", "B": 1, "b": 2, "Cc": "x", "cC": "y"})
	tests := []struct {
		name string
		want any
	}{
		{"sourceIP", "1.2.3.4"},
		{"sourceip", "1.2.3.4"},
		{"B", 1},
		{"b", 2},
		{"CC", "x"}, // "Cc" < "cC" in byte order
		{"missing", nil},
	}
	for _, tt := range tests {
		if got := ev.Get(tt.name); got != tt.want {
			t.Errorf("Get(%q) = %v; want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseEventInvalidUTF8(t *testing.T) {
	// Like encoding/json, each invalid byte becomes U+FFFD, in values and
	// in keys.
	ev, err := ParseEvent([]byte("{\"a\": \"x\xff\xfey\", \"b\xff\": 1}"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ev.Get("a"), "x\ufffd\ufffdy"; got != want {
		t.Errorf("Get(a) = %q; want %q", got, want)
	}
	if got := ev.Get("b\ufffd"); got != 1 {
		t.Errorf("Get(b\\ufffd) = %v; want 1", got)
	}
}
