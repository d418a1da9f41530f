package rules

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/internal/wizgen"
)

var differentialEvents = flag.Int("differential.events", 600, "events generated for TestDifferentialBuiltinRules")

// TestDifferentialBuiltinRules evaluates every built-in rule on generated
// events, given as raw JSON (detect's own decoder, the prefilter and lazy
// decoding) and as the map encoding/json decodes from the same bytes, and
// checks that Evaluate and Match agree: the same result, the same error or
// none, and the same title, dedup string, severity and outputs.
//
// The events are Wiz logs from wizgen, half of them matching a rule,
// bent in ways a decoder or a prefilter could get wrong: keys in another
// letter case, duplicate keys, escaped and non-ASCII text, invalid UTF-8,
// numbers of every form, nulls, and random nested values.
func TestDifferentialBuiltinRules(t *testing.T) {
	n := *differentialEvents
	if testing.Short() {
		n /= 4
	}
	var base bytes.Buffer
	if err := wizgen.Generate(&base, n/3+1, wizgen.Options{Seed: 3, MatchRatio: 0.5, Findings: n / 10}); err != nil {
		t.Fatal(err)
	}
	var seeds [][]byte
	for _, line := range bytes.Split(bytes.TrimSpace(base.Bytes()), []byte("\n")) {
		seeds = append(seeds, line)
	}
	for _, r := range All() {
		for _, test := range r.Tests {
			if log, ok := test.Log.([]byte); ok {
				seeds = append(seeds, log)
			}
		}
	}

	rng := rand.New(rand.NewPCG(11, 17))
	all := All()
	matches, events := map[string]int{}, 0
	for i := 0; events < n; i++ {
		seed := seeds[i%len(seeds)]
		var v any
		dec := json.NewDecoder(bytes.NewReader(seed))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("seed %s: %v", seed, err)
		}
		// Each seed as it is, then bent more and more.
		for _, bend := range []float64{0, 0.1, 0.3} {
			g := &bender{rng: rng, p: bend}
			var buf bytes.Buffer
			g.write(&buf, g.mutate(v, 0), 0)
			data := buf.Bytes()
			events++
			want, err := referenceDecode(data)
			if err != nil {
				t.Fatalf("encoding/json rejects a generated event: %v\n%s", err, data)
			}
			for _, r := range all {
				got, gerr := r.Evaluate(data)
				ref, rerr := r.Evaluate(want)
				// Raw events that lack the literals a condition needs are
				// rejected unevaluated: a rule error may go unreported
				// there, never a match.
				prefiltered := !got && gerr == nil && rerr != nil
				if !prefiltered && (got != ref || (gerr == nil) != (rerr == nil)) {
					t.Fatalf("%s: Evaluate(raw) = %v, %v; Evaluate(encoding/json) = %v, %v\nevent: %s", r.ID, got, gerr, ref, rerr, data)
				}
				m, merr := r.Match(data)
				mref, mrerr := r.Match(want)
				if m != nil {
					if _, err := json.Marshal(m.Outputs); err != nil {
						t.Fatalf("%s: the outputs of Match(raw) do not encode: %v\nevent: %s", r.ID, err, data)
					}
				}
				if g, w := summary(m, merr), summary(mref, mrerr); g != w && !(prefiltered && m == nil && merr == nil) {
					t.Fatalf("%s: Match(raw) = %s\nMatch(encoding/json) = %s\nevent: %s", r.ID, g, w, data)
				}
				if m != nil {
					matches[r.ID]++
				}
			}
		}
	}
	// The comparison means little unless the rules match often.
	for _, r := range all {
		if matches[r.ID] == 0 && !testing.Short() {
			t.Errorf("%s matched none of %d events", r.ID, events)
		}
	}
	t.Logf("%d events, matches by rule: %v", events, matches)
}

// summary shows what Match returned, to compare.
func summary(m *detect.Match, err error) string {
	if err != nil {
		if ee, ok := err.(*detect.EvalError); ok {
			return "rule error in " + ee.Part + ": " + ee.Msg
		}
		return "error: " + err.Error()
	}
	if m == nil {
		return "no match"
	}
	out, err := json.Marshal(m.Outputs)
	if err != nil {
		out = []byte(err.Error())
	}
	return fmt.Sprintf("title %q dedup %q severity %s description %q reference %q runbook %q outputs %s",
		m.Title, m.Dedup, m.Severity, m.Description, m.Reference, m.Runbook, out)
}

// referenceDecode decodes one JSON object with encoding/json, and turns
// its numbers into values as detect's contract says: whole numbers within
// int64 are int, others float64, beyond float64 an infinity.
func referenceDecode(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("text after the object")
	}
	return numbers(m).(map[string]any), nil
}

func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return int(i)
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return math.Inf(1 - 2*strings.Count(s[:1], "-"))
		}
		return f
	case []any:
		for i := range x {
			x[i] = numbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = numbers(x[k])
		}
	}
	return v
}

// bender rewrites a decoded JSON value as text, changing it with
// probability p at each step: letter case of keys, duplicate keys, nulls,
// random values, and the way strings and numbers are written.
type bender struct {
	rng *rand.Rand
	p   float64
}

func (g *bender) chance() bool { return g.p > 0 && g.rng.Float64() < g.p }

// mutate changes the values of a decoded tree, keeping its shape mostly.
func (g *bender) mutate(v any, depth int) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		// In key order, so that a seed gives the same events every run.
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			e := x[k]
			switch {
			case g.chance() && g.chance():
				out[k] = nil
			case g.chance() && g.chance():
				out[k] = g.random(depth + 1)
			default:
				out[k] = g.mutate(e, depth+1)
			}
		}
		if g.chance() {
			out[g.key()] = g.random(depth + 1)
		}
		if g.chance() && g.chance() {
			// An infinity in a nested object, which outputs must write
			// as a string.
			out[g.key()] = map[string]any{g.key(): json.Number("-1e999"), "n": []any{json.Number("1e400")}}
		}
		return out
	case []any:
		out := make([]any, 0, len(x)+1)
		for _, e := range x {
			out = append(out, g.mutate(e, depth+1))
		}
		if g.chance() {
			out = append(out, g.random(depth+1))
		}
		return out
	}
	return v
}

// Names that the Wiz rules read, for keys of random values.
var ruleKeys = []string{"action", "status", "user", "name", "serviceAccount", "id", "sourceIP", "actionParameters",
	"severity", "status", "sourceRule", "projects", "title", "input", "type", "p_log_type"}

func (g *bender) key() string {
	k := ruleKeys[g.rng.IntN(len(ruleKeys))]
	if g.rng.IntN(3) == 0 {
		k = g.randomString()
	}
	return k
}

// random returns a random JSON value, as decoded with UseNumber.
func (g *bender) random(depth int) any {
	kinds := 8
	if depth > 4 {
		kinds = 6 // no more nesting
	}
	switch g.rng.IntN(kinds) {
	case 0:
		return nil
	case 1:
		return g.rng.IntN(2) == 0
	case 2, 3:
		return json.Number(numberForms[g.rng.IntN(len(numberForms))])
	case 4, 5:
		return g.randomString()
	case 6:
		m := map[string]any{}
		for range g.rng.IntN(4) {
			m[g.key()] = g.random(depth + 1)
		}
		return m
	default:
		var list []any
		for range g.rng.IntN(4) {
			list = append(list, g.random(depth+1))
		}
		return list
	}
}

var numberForms = []string{
	"0", "-0", "7", "-12", "0.5", "-0.0", "1e3", "1E+3", "2.5e-3", "9007199254740993",
	"9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
	"123456789012345678901234567890", "1e308", "1e309", "-1e400", "4.9e-324", "1e-400", "60", "60.0",
}

var stringPieces = []string{
	"SUCCESS", "FAILED", "RevokeUserSessions", "CreateUser", "DeleteUser", "Wiz.Audit", "OPEN", "HIGH",
	"é", "日本", "😀", "\x00", "\t", "\"", "\\", "/", "\u2028", "\xff", "\xc3", "NaN", "Infinity", "null", "",
}

func (g *bender) randomString() string {
	var b strings.Builder
	for range g.rng.IntN(4) {
		b.WriteString(stringPieces[g.rng.IntN(len(stringPieces))])
	}
	return b.String()
}

// write encodes v as JSON, choosing how to write each key, string and
// number, and sometimes adding a duplicate key before the real one (the
// last of duplicate keys wins).
func (g *bender) write(buf *bytes.Buffer, v any, depth int) {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case json.Number:
		buf.WriteString(string(x))
	case string:
		g.writeString(buf, x)
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			g.space(buf)
			g.write(buf, e, depth+1)
		}
		buf.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		g.rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		buf.WriteByte('{')
		first := true
		member := func(k string, e any) {
			if !first {
				buf.WriteByte(',')
			}
			first = false
			g.space(buf)
			g.writeString(buf, k)
			buf.WriteByte(':')
			g.space(buf)
			g.write(buf, e, depth+1)
		}
		for _, k := range keys {
			if g.chance() {
				member(k, g.random(depth+1)) // a duplicate, overridden below
			}
			name := k
			if g.chance() {
				// Another letter case: a key of another name, which the
				// case-insensitive fallback may or may not read.
				name = flipCase(g.rng, k)
				if _, taken := x[name]; taken {
					name = k
				}
			}
			member(name, x[k])
		}
		buf.WriteByte('}')
	default:
		panic(fmt.Sprintf("unexpected %T", v))
	}
}

func (g *bender) space(buf *bytes.Buffer) {
	if g.chance() {
		buf.WriteString([]string{" ", "\n", "\t", "\r\n  "}[g.rng.IntN(4)])
	}
}

// writeString writes s as a JSON string, escaping characters at random.
// Invalid UTF-8 in s is written as it is.
func (g *bender) writeString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf.WriteByte(s[i])
		case r == '"' || r == '\\':
			buf.WriteByte('\\')
			buf.WriteRune(r)
		case r < 0x20 || g.chance():
			if r > 0xffff {
				r1, r2 := utf16Pair(r)
				fmt.Fprintf(buf, `\u%04x\u%04X`, r1, r2)
			} else if r == '/' && g.rng.IntN(2) == 0 {
				buf.WriteString(`\/`)
			} else {
				fmt.Fprintf(buf, `\u%04x`, r)
			}
		default:
			buf.WriteString(s[i : i+size])
		}
		i += size
	}
	buf.WriteByte('"')
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

func flipCase(rng *rand.Rand, s string) string {
	b := []byte(s)
	for i, c := range b {
		if rng.IntN(2) == 0 {
			switch {
			case c >= 'a' && c <= 'z':
				b[i] = c - 32
			case c >= 'A' && c <= 'Z':
				b[i] = c + 32
			}
		}
	}
	return string(b)
}
