package detect_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/detectkit/detect"
)

// badInputRule matches events whose field a is not nil, one alert per
// rendered value of a: the alerts show what each event was read as.
var badInputRule = &detect.Rule{Severity: detect.SeverityInfo, ID: "Has.A", Condition: "a != nil", GroupBy: []string{"a"}}

// scanOutcome is what a Scanner and an Engine made of an input.
type scanOutcome struct {
	lines   map[int]string // reasons of the malformed lines, by line number
	values  map[string]int // Has.A alerts: dedup string (the value of a) to event count
	scanErr error
	stats   detect.ScanStats
}

// scanBad runs input through a Scanner and an Engine with badInputRule.
// Lines are told apart by the reports of malformed lines and by a
// reference count of blank lines: with the events, they must make up
// every line.
func scanBad(t *testing.T, input []byte, max int) scanOutcome {
	t.Helper()
	out := scanOutcome{values: map[string]int{}}
	sink := detect.AlertSinkFunc(func(a *detect.Alert) error {
		out.values[a.Dedup] += a.EventCount
		return nil
	})
	eng, err := detect.NewEngine([]*detect.Rule{badInputRule}, detect.WithSink(sink), detect.WithClock(fixedClock), detect.WithReplay())
	if err != nil {
		t.Fatal(err)
	}
	malformed := map[int]string{}
	sc := &detect.Scanner{Engine: eng, MaxLineBytes: max, OnMalformed: func(e *detect.LineError) {
		malformed[e.Line] = e.Err.Error()
	}}
	out.scanErr = sc.Scan(context.Background(), bytes.NewReader(input), "in.jsonl")
	out.lines = malformed
	if err := eng.Flush(); err != nil {
		t.Fatal(err)
	}
	out.stats = sc.Stats()
	if es := eng.Stats(); es.Events != uint64(out.stats.Events) {
		t.Errorf("engine saw %d events; the scanner %d", es.Events, out.stats.Events)
	}
	return out
}

// TestBadInput runs a corpus of bad inputs through a Scanner and an
// Engine. Every line is accounted for: an event (whose value of a the
// alerts show), a blank line, or a malformed line reported with its line
// number and reason; and events + malformed + blank = lines.
func TestBadInput(t *testing.T) {
	deep := func(levels int) string { // an event nesting levels deep
		return `{"a":` + strings.Repeat("[", levels-1) + strings.Repeat("]", levels-1) + "}"
	}
	long := func(n int) string { // an event of exactly n bytes
		return `{"a":"` + strings.Repeat("x", n-8) + `"}`
	}
	const max = 100_000
	tests := []struct {
		name  string
		input string
		// One per line: "event", "blank", or "malformed: " and a part of
		// the reason.
		want   []string
		values map[string]int // Has.A alerts, by value of a
	}{
		{"invalid UTF-8 in a string", "{\"a\":\"x\xff\xfey\"}\n",
			[]string{"event"}, map[string]int{"x\ufffd\ufffdy": 1}},
		{"invalid UTF-8 in a key", "{\"\xffa\":1,\"a\":2}\n",
			[]string{"event"}, map[string]int{"2": 1}},
		{"invalid UTF-8 outside strings", "\xff{\"a\":1}\n{\"a\":1}\xff\n",
			[]string{"malformed: not JSON", "malformed: text after the JSON object"}, nil},
		{"byte order mark at the start of the file", "\xef\xbb\xbf{\"a\":1}\n{\"a\":2}\n",
			[]string{"event", "event"}, map[string]int{"1": 1, "2": 1}},
		{"byte order mark at the start of a line", "{\"a\":1}\n\xef\xbb\xbf{\"a\":2}\n\xef\xbb\xbf\n",
			[]string{"event", "event", "blank"}, map[string]int{"1": 1, "2": 1}},
		{"byte order mark inside a line", " \xef\xbb\xbf{\"a\":1}\n{\"a\":\"\xef\xbb\xbf\"}\n",
			[]string{"malformed: byte order mark", "event"}, map[string]int{"\ufeff": 1}},
		{"CRLF line ends", "{\"a\":1}\r\n\r\n{\"a\":2}\r\n",
			[]string{"event", "blank", "event"}, map[string]int{"1": 1, "2": 1}},
		{"a lone CR is not a line end", "{\"a\":1}\r{\"a\":2}\n\r\n",
			[]string{"malformed: text after the JSON object", "blank"}, nil},
		{"top-level arrays and scalars", "[{\"a\":1}]\n\"a\"\n1\n-1.5e3\ntrue\nfalse\nnull\n",
			[]string{"malformed: a JSON array is not an object", "malformed: a JSON string is not an object",
				"malformed: a JSON number is not an object", "malformed: a JSON number is not an object",
				"malformed: a JSON boolean is not an object", "malformed: a JSON boolean is not an object",
				"malformed: a JSON null is not an object"}, nil},
		{"two objects on a line", "{\"a\":1}{\"a\":2}\n{\"a\":1} {}\n",
			[]string{"malformed: text after the JSON object", "malformed: text after the JSON object"}, nil},
		{"duplicate keys: the last wins", "{\"a\":1,\"a\":2}\n{\"a\":{\"b\":1,\"b\":null}}\n{\"A\":1,\"a\":3}\n",
			[]string{"event", "event", "event"}, map[string]int{"2": 1, `{"b":null}`: 1, "3": 1}},
		{"numbers beyond float64 are infinities", "{\"a\":1e400}\n{\"a\":-1e400}\n{\"a\":123456789012345678901234567890e300}\n",
			[]string{"event", "event", "event"}, map[string]int{"Infinity": 2, "-Infinity": 1}},
		{"numbers beyond int64 are float64", "{\"a\":9223372036854775807}\n{\"a\":9223372036854775808}\n{\"a\":-9223372036854775809}\n",
			[]string{"event", "event", "event"}, map[string]int{"9223372036854775807": 1, "9223372036854776000": 1, "-9223372036854776000": 1}},
		{"tiny numbers and negative zero", "{\"a\":1e-400}\n{\"a\":-0}\n{\"a\":-0.0}\n{\"a\":5e-324}\n",
			[]string{"event", "event", "event", "event"}, map[string]int{"0": 2, "-0": 1, "5e-324": 1}},
		{"invalid numbers", "{\"a\":01}\n{\"a\":1.}\n{\"a\":.5}\n{\"a\":+1}\n{\"a\":0x10}\n{\"a\":1e}\n",
			[]string{"malformed: invalid number", "malformed: invalid number", "malformed: invalid value",
				"malformed: invalid value", "malformed: expected \",\" or \"}\"", "malformed: invalid number"}, nil},
		{"NaN and Infinity as strings are strings", "{\"a\":\"NaN\"}\n{\"a\":\"Infinity\"}\n{\"a\":\"-Infinity\"}\n",
			[]string{"event", "event", "event"}, map[string]int{"NaN": 1, "Infinity": 1, "-Infinity": 1}},
		{"NaN and Infinity as numbers are not JSON", "{\"a\":NaN}\n{\"a\":Infinity}\n{\"a\":-Infinity}\n",
			[]string{"malformed: invalid value", "malformed: invalid value", "malformed: invalid number"}, nil},
		{"null everywhere", "{\"a\":null}\n{\"a\":[null]}\n{\"a\":{\"b\":null}}\n{\"b\":null,\"a\":null}\n",
			[]string{"event", "event", "event", "event"}, map[string]int{"[null]": 1, `{"b":null}`: 1}},
		{"empty objects and arrays", "{}\n{\"a\":{}}\n{\"a\":[]}\n{\"\":1}\n",
			[]string{"event", "event", "event", "event"}, map[string]int{"{}": 1, "[]": 1}},
		{"nesting at the limit", deep(detect.MaxDepth) + "\n",
			[]string{"event"}, map[string]int{(strings.Repeat("[", detect.MaxDepth-1) + strings.Repeat("]", detect.MaxDepth-1))[:detect.MaxDedupLength]: 1}},
		{"nesting over the limit", deep(detect.MaxDepth+1) + "\n{\"a\":1}\n",
			[]string{fmt.Sprintf("malformed: nesting deeper than %d levels", detect.MaxDepth), "event"}, map[string]int{"1": 1}},
		{"a line over 64 KiB", long(70_000) + "\n",
			[]string{"event"}, map[string]int{strings.Repeat("x", detect.MaxDedupLength): 1}},
		{"a line at the limit", long(max) + "\r\n",
			[]string{"event"}, map[string]int{strings.Repeat("x", detect.MaxDedupLength): 1}},
		{"a line over the limit", long(max+1) + "\n{\"a\":1}\n",
			[]string{fmt.Sprintf("malformed: line too long: over %d bytes", max), "event"}, map[string]int{"1": 1}},
		{"no final newline", "{\"a\":1}\n{\"a\":2}",
			[]string{"event", "event"}, map[string]int{"1": 1, "2": 1}},
		{"cut in the middle of an object", "{\"a\":1}\n{\"a\":",
			[]string{"event", "malformed: unexpected end of input"}, map[string]int{"1": 1}},
		{"cut in the middle of a string", "{\"a\":1}\n{\"a\":\"abc",
			[]string{"event", "malformed: unexpected end of input in a string"}, map[string]int{"1": 1}},
		{"control characters", "{\"a\":\"x\ty\"}\n{\"a\":\"x\\u0000y\"}\n\x00\n\v\f\n",
			[]string{"malformed: control character in a string", "event", "malformed: not JSON", "blank"}, map[string]int{"x\x00y": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanBad(t, []byte(tt.input), max)
			if got.scanErr != nil {
				t.Fatalf("Scan() = %v", got.scanErr)
			}
			checkLines(t, got, tt.want)
			if tt.values == nil {
				tt.values = map[string]int{}
			}
			if g, w := fmt.Sprintf("%q", got.values), fmt.Sprintf("%q", tt.values); g != w {
				t.Errorf("Has.A alerts by value:\n%.300s\nwant\n%.300s", g, w)
			}
		})
	}
}

// checkLines checks a scan against the expected outcome of each line.
func checkLines(t *testing.T, got scanOutcome, want []string) {
	t.Helper()
	var events, malformed, blank int64
	for _, w := range want {
		switch {
		case w == "event":
			events++
		case w == "blank":
			blank++
		case strings.HasPrefix(w, "malformed: "):
			malformed++
		default:
			t.Fatalf("bad expectation %q", w)
		}
	}
	if got.stats.Events != events || got.stats.Malformed != malformed {
		t.Errorf("Stats() = %+v; want %d events, %d malformed", got.stats, events, malformed)
	}
	if got.stats.Events+got.stats.Malformed+blank != int64(len(want)) {
		t.Errorf("%d events + %d malformed + %d blank != %d lines", got.stats.Events, got.stats.Malformed, blank, len(want))
	}
	for n, w := range want {
		reason, isMalformed := strings.CutPrefix(w, "malformed: ")
		rep, reported := got.lines[n+1]
		switch {
		case isMalformed && !reported:
			t.Errorf("line %d not reported; want malformed: %s", n+1, reason)
		case isMalformed && !strings.Contains(rep, reason):
			t.Errorf("line %d reported %q; want %q", n+1, rep, reason)
		case !isMalformed && reported:
			t.Errorf("line %d reported %q; want %s", n+1, rep, w)
		}
	}
	for line := range got.lines {
		if line < 1 || line > len(want) {
			t.Errorf("report of line %d of %d", line, len(want))
		}
	}
}

// TestBadInputGzip checks corrupt and truncated gzip inputs: the lines
// read before the damage are accounted for, and Scan's error names the
// line where reading stopped.
func TestBadInputGzip(t *testing.T) {
	var plain bytes.Buffer
	for i := range 2000 {
		fmt.Fprintf(&plain, "{\"a\":%d}\n", i%10)
		if i%100 == 0 {
			plain.WriteString("[]\n\n")
		}
	}
	lines := strings.Split(strings.TrimSuffix(plain.String(), "\n"), "\n")
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(plain.Bytes())
	zw.Close()
	z := zipped.Bytes()
	badChecksum := bytes.Clone(z)
	badChecksum[len(z)-8] ^= 0xff // CRC-32 in the trailer

	tests := []struct {
		name    string
		input   []byte
		wantErr string
		whole   bool // every line read before the error
	}{
		{"intact", z, "", true},
		{"truncated in the middle", z[:len(z)/2], "unexpected EOF", false},
		{"truncated trailer", z[:len(z)-4], "unexpected EOF", true},
		{"bad checksum", badChecksum, "gzip: invalid checksum", true},
		{"bad header", append([]byte("\x1f\x8b\x09"), z[3:]...), "gzip: invalid header", false},
		{"magic only", []byte("\x1f\x8b"), "unexpected EOF", false},
	}
	lineOf := regexp.MustCompile(`^detect: in\.jsonl:(\d+): `)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanBad(t, tt.input, 0)
			read := len(lines) // lines read before the error
			switch {
			case tt.wantErr == "" && got.scanErr != nil:
				t.Fatalf("Scan() = %v", got.scanErr)
			case tt.wantErr != "":
				if got.scanErr == nil || !strings.Contains(got.scanErr.Error(), tt.wantErr) {
					t.Fatalf("Scan() = %v; want %q", got.scanErr, tt.wantErr)
				}
				if m := lineOf.FindStringSubmatch(got.scanErr.Error()); m != nil {
					n, _ := strconv.Atoi(m[1])
					read = n - 1
				} else {
					read = 0 // no line read: the error names the input only
				}
				if tt.whole && read != len(lines) {
					t.Errorf("Scan() = %v after %d lines; want the error after all %d", got.scanErr, read, len(lines))
				}
			}
			var want []string
			for _, l := range lines[:read] {
				switch l {
				case "":
					want = append(want, "blank")
				case "[]":
					want = append(want, "malformed: a JSON array is not an object")
				default:
					want = append(want, "event")
				}
			}
			checkLines(t, got, want)
			// Every event read went into an alert.
			total := 0
			for _, n := range got.values {
				total += n
			}
			if int64(total) != got.stats.Events {
				t.Errorf("alerts hold %d events; want %d", total, got.stats.Events)
			}
		})
	}
}
