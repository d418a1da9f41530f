package detect

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	jsoniter "github.com/json-iterator/go"
)

// MaxDepth is the deepest nesting of objects and arrays that an event may
// have. Deeper events are rejected with an error instead of being decoded.
const MaxDepth = 512

// jsonAPI decodes events. Numbers are read as text and converted by
// readNumber so that whole numbers keep their exact int value.
var jsonAPI = jsoniter.Config{UseNumber: true}.Froze()

// Event is one decoded security event, ready to be evaluated by many rules
// without decoding it again. Build one with ParseEvent or NewEvent.
// An Event is never modified by detect and is safe for concurrent use.
type Event struct {
	fields map[string]any
	raw    []byte // the JSON the event was parsed from, if any
}

// NewEvent wraps an already decoded event. The map is used as it is, not
// copied; the caller must not modify it while rules evaluate it.
func NewEvent(fields map[string]any) *Event {
	return &Event{fields: fields}
}

// ParseEvent decodes one JSON object into an Event. Whole numbers become int
// (float64 when they do not fit in int64), other numbers float64. Anything
// that is not a single JSON object (an array, a scalar, null, invalid or
// trailing text) is an error. The Event keeps data to let rules reject it
// quickly, so data must not be modified while the Event is in use.
//
// The size of data is not limited: callers bound it, as the Scanner does
// with MaxLineBytes. Decoding allocates up to about 65 times the size of
// data; nesting deeper than MaxDepth is an error.
func ParseEvent(data []byte) (*Event, error) {
	m, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	return &Event{fields: m, raw: data}, nil
}

// rawJSON returns the raw JSON of an event given as bytes or text.
func rawJSON(event any) ([]byte, bool) {
	switch ev := event.(type) {
	case []byte:
		return ev, true
	case json.RawMessage:
		return ev, true
	case string:
		return []byte(ev), true
	case *Event:
		if ev != nil && ev.raw != nil {
			return ev.raw, true
		}
	}
	return nil, false
}

// looksLikeObject reports whether raw starts with "{" and ends with "}",
// white space aside: the cheap part of validating an object.
func looksLikeObject(raw []byte) bool {
	i, j := 0, len(raw)-1
	for i <= j && isSpace(raw[i]) {
		i++
	}
	for j >= i && isSpace(raw[j]) {
		j--
	}
	return i < j && raw[i] == '{' && raw[j] == '}'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Map returns the event's fields. The map must not be modified.
func (e *Event) Map() map[string]any { return e.fields }

// Get returns the value of a top-level field, following the same rules as
// expressions: an exact name wins, otherwise a case-insensitive match, and a
// missing field is nil.
func (e *Event) Get(name string) any { return lookup(e.fields, name) }

// ErrNilEvent is returned when an event is nil.
var ErrNilEvent = errors.New("detect: event is nil")

// eventMap turns any of the accepted event forms into the map that
// expressions read.
func eventMap(event any) (map[string]any, error) {
	switch ev := event.(type) {
	case nil:
		return nil, ErrNilEvent
	case *Event:
		if ev == nil {
			return nil, ErrNilEvent
		}
		return ev.fields, nil
	case map[string]any:
		if ev == nil {
			return nil, ErrNilEvent
		}
		return ev, nil
	case []byte:
		return decodeObject(ev)
	case json.RawMessage:
		return decodeObject(ev)
	case string:
		return decodeObject([]byte(ev))
	}
	v := reflect.ValueOf(event)
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Map) && v.IsNil() {
		return nil, ErrNilEvent
	}
	// Structs and other maps are read through their JSON form, so that
	// field names follow their json tags exactly as a logged event would.
	data, err := jsonAPI.Marshal(event)
	if err != nil {
		return nil, fmt.Errorf("detect: event of type %T: %w", event, err)
	}
	return decodeObject(data)
}

// SyntaxError reports an event that is not a JSON object.
type SyntaxError struct {
	Offset int64  // byte offset in the input where the problem was found, -1 if unknown
	Msg    string // what is wrong
}

// Error formats the error with its byte offset when known.
func (e *SyntaxError) Error() string {
	if e.Offset < 0 {
		return "detect: invalid event: " + e.Msg
	}
	return fmt.Sprintf("detect: invalid event at byte %d: %s", e.Offset, e.Msg)
}

func decodeObject(data []byte) (map[string]any, error) {
	m, err := decodeFast(data, nil)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// validUTF8 replaces each byte of s that is not valid UTF-8 with U+FFFD,
// as encoding/json does, so that both decoders give the same strings.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// readNumber converts a JSON number: whole numbers within int64 are int,
// everything else float64.
func readNumber(s string) (any, error) {
	n, f, isInt, err := parseNumber(s)
	switch {
	case err != nil:
		return nil, err
	case isInt:
		return n, nil
	}
	return f, nil
}

// parseNumber is readNumber without boxing: n when isInt, else f.
func parseNumber(s string) (n int, f float64, isInt bool, err error) {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return int(i), 0, true, nil
		}
	}
	f, err = strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			// Out of float64 range: keep it as infinity, like a parser
			// that saturates, rather than losing the event.
			if strings.HasPrefix(s, "-") {
				return 0, math.Inf(-1), false, nil
			}
			return 0, math.Inf(1), false, nil
		}
		return 0, 0, false, fmt.Errorf("invalid number %q", s)
	}
	return 0, f, false, nil
}

// lookup reads a field of an object: an exact key wins; otherwise the
// case-insensitive matches are considered and the first in byte order wins,
// so that the result does not depend on map iteration order.
func lookup(m map[string]any, name string) any {
	if v, ok := m[name]; ok {
		return v
	}
	var best string
	found := false
	for k := range m {
		if len(k) == len(name) || !isASCII(k) || !isASCII(name) {
			if strings.EqualFold(k, name) && (!found || k < best) {
				best, found = k, true
			}
		}
	}
	if !found {
		return nil
	}
	return m[best]
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
