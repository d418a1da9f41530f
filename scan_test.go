package detect

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readLines reads every line of input with a lineReader, showing errors
// as "!ERR".
func readLines(t testing.TB, input string, max int) []string {
	lr := newLineReader(bufio.NewReaderSize(strings.NewReader(input), 16), max)
	var out []string
	for {
		line, err := lr.next()
		if err == io.EOF {
			return out
		}
		if errors.Is(err, ErrLineTooLong) {
			out = append(out, fmt.Sprintf("%d:!long", lr.line))
			continue
		}
		if err != nil {
			t.Fatalf("next() = %v", err)
		}
		out = append(out, fmt.Sprintf("%d:%s", lr.line, line))
	}
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", 40) // longer than the 16-byte buffer
	tests := []struct {
		name  string
		input string
		max   int
		want  string
	}{
		{"empty", "", 100, ""},
		{"one line", "a\n", 100, "1:a"},
		{"no final newline", "a\nb", 100, "1:a|2:b"},
		{"CRLF", "a\r\nb\r\n", 100, "1:a|2:b"},
		{"blank lines are lines", "\n\r\n\na\n", 100, "1:|2:|3:|4:a"},
		{"a lone CR stays", "a\rb\n", 100, "1:a\rb"},
		{"longer than the buffer", long + "\n" + long, 100, "1:" + long + "|2:" + long},
		{"exactly the limit", long + "\r\n", 40, "1:" + long},
		{"one over the limit", long + "x\nok\n", 40, "1:!long|2:ok"},
		{"over the limit at the end", "ok\n" + long + long, 40, "1:ok|2:!long"},
		{"over the limit, CRLF", long + long + "\r\nok", 40, "1:!long|2:ok"},
		{"byte order mark", "\xef\xbb\xbfa\nb\n", 100, "1:a|2:b"},
		{"byte order mark at the start of a line", "a\n\xef\xbb\xbfb\n\xef\xbb\xbf\n", 100, "1:a|2:b|3:"},
		{"byte order mark inside a line", "a\xef\xbb\xbf\n \xef\xbb\xbfb", 100, "1:a\xef\xbb\xbf|2: \xef\xbb\xbfb"},
		{"byte order mark not counted in the limit", "\xef\xbb\xbf" + long + "\n", 40, "1:" + long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(readLines(t, tt.input, tt.max), "|")
			if got != tt.want {
				t.Errorf("lines of %q (max %d) = %q; want %q", tt.input, tt.max, got, tt.want)
			}
		})
	}
}

// scan runs a Scanner with one rule matching every event over input and
// returns its alerts' event counts, the malformed-line reports and stats.
func scan(t *testing.T, input io.Reader, max int) (alerts []int, reports []string, st ScanStats, err error) {
	t.Helper()
	sink := AlertSinkFunc(func(a *Alert) error { alerts = append(alerts, a.EventCount); return nil })
	eng, err := NewEngine([]*Rule{{Severity: SeverityInfo, ID: "All", Condition: "true"}}, WithSink(sink), WithReplay())
	if err != nil {
		t.Fatal(err)
	}
	sc := &Scanner{Engine: eng, MaxLineBytes: max, OnMalformed: func(e *LineError) { reports = append(reports, e.Error()) }}
	err = sc.Scan(context.Background(), input, "in.jsonl")
	if ferr := eng.Flush(); ferr != nil {
		t.Fatal(ferr)
	}
	return alerts, reports, sc.Stats(), err
}

func TestScanner(t *testing.T) {
	big := `{"pad":"` + strings.Repeat("p", 100<<10) + `"}`
	tests := []struct {
		name      string
		input     string
		max       int
		events    int
		malformed []string
	}{
		{"events", "{}\n{\"a\":1}\n", 0, 2, nil},
		{"blank lines count nowhere", "\n  \n{}\r\n\t\r\n", 0, 1, nil},
		{"malformed lines", "{}\n[1]\n3\nnull\n\"s\"\n{\n{}{}\nnot json\ntrue story\n{}\n", 0, 2, []string{
			"detect: in.jsonl:2: invalid event at byte 0: a JSON array is not an object",
			"detect: in.jsonl:3: invalid event at byte 0: a JSON number is not an object",
			"detect: in.jsonl:4: invalid event at byte 0: a JSON null is not an object",
			"detect: in.jsonl:5: invalid event at byte 0: a JSON string is not an object",
			"detect: in.jsonl:6: invalid event at byte 1: expected a string key",
			"detect: in.jsonl:7: invalid event at byte 2: text after the JSON object",
			"detect: in.jsonl:8: invalid event at byte 0: not JSON",
			"detect: in.jsonl:9: invalid event at byte 0: not JSON",
		}},
		{"a line over 64 KiB is an event", big + "\n{}\n", 0, 2, nil},
		{"a line over the limit is malformed", "{}\n" + big + "\n{}\n", 1 << 16, 2, []string{
			"detect: in.jsonl:2: line too long: over 65536 bytes",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alerts, reports, st, err := scan(t, strings.NewReader(tt.input), tt.max)
			if err != nil {
				t.Fatalf("Scan() = %v", err)
			}
			if st.Events != int64(tt.events) || st.Malformed != int64(len(tt.malformed)) || st.Bytes != int64(len(tt.input)) {
				t.Errorf("Stats() = %+v; want %d events, %d malformed, %d bytes", st, tt.events, len(tt.malformed), len(tt.input))
			}
			if tt.events > 0 && (len(alerts) != 1 || alerts[0] != tt.events) {
				t.Errorf("alert event counts %v; want [%d]", alerts, tt.events)
			}
			if strings.Join(reports, "\n") != strings.Join(tt.malformed, "\n") {
				t.Errorf("reports:\n%s\nwant:\n%s", strings.Join(reports, "\n"), strings.Join(tt.malformed, "\n"))
			}
		})
	}
}

// spaces yields n spaces.
func spaces(n int) io.Reader {
	return io.LimitReader(spaceReader{}, int64(n))
}

type spaceReader struct{}

var someSpaces = bytes.Repeat([]byte(" "), 64<<10)

func (spaceReader) Read(p []byte) (int, error) {
	return copy(p, someSpaces), nil
}

func TestScannerDefaultLimit(t *testing.T) {
	input := io.MultiReader(
		strings.NewReader("{}\n{\"s\":\""),
		spaces(DefaultMaxLineBytes-8),
		strings.NewReader("\"}\n"), // exactly the limit: an event
		spaces(DefaultMaxLineBytes-1),
		strings.NewReader("{}\r\n"), // one byte over
		strings.NewReader("{}"),
	)
	_, reports, st, err := scan(t, input, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 3 || len(reports) != 1 || reports[0] != "detect: in.jsonl:3: line too long: over 16777216 bytes" {
		t.Errorf("events %d, reports %q; want 3 events and line 3 too long", st.Events, reports)
	}
}

func TestScannerGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("{}\n[]\n{}\n"))
	zw.Close()
	// A second gzip member follows the first, as with cat a.gz b.gz.
	zw = gzip.NewWriter(&buf)
	zw.Write([]byte("{}\n"))
	zw.Close()
	alerts, reports, st, err := scan(t, &buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 3 || len(alerts) != 1 || alerts[0] != 3 || len(reports) != 1 || !strings.Contains(reports[0], "in.jsonl:2:") {
		t.Errorf("events %d, alerts %v, reports %q; want 3 events in one alert, line 2 malformed", st.Events, alerts, reports)
	}
}

func TestScannerReadErrors(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(strings.Repeat("{}\n", 1000)))
	zw.Close()
	truncated := buf.Bytes()[:buf.Len()-10]
	tests := []struct {
		name  string
		input io.Reader
		want  string
	}{
		{"read error", io.MultiReader(strings.NewReader("{}\n{"), iotest.ErrReader(errors.New("disk gone"))), "detect: in.jsonl:2: disk gone"},
		{"corrupt gzip", bytes.NewReader(truncated), "detect: in.jsonl:1001: unexpected EOF"},
		{"not gzip after all", strings.NewReader("\x1f\x8b not gzip"), "detect: in.jsonl: gzip: invalid header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := scan(t, tt.input, 0)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Scan() = %v; want %s", err, tt.want)
			}
		})
	}
}

func TestScannerCancel(t *testing.T) {
	eng, _ := NewEngine(nil, WithSink(AlertSinkFunc(func(*Alert) error { return nil })))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sc := &Scanner{Engine: eng}
	err := sc.Scan(ctx, strings.NewReader(strings.Repeat("{}\n", 5000)), "in")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Scan() = %v; want context.Canceled", err)
	}
	if (&Scanner{}).Scan(context.Background(), strings.NewReader(""), "in") == nil {
		t.Errorf("Scan() without an Engine succeeded")
	}
}

func FuzzLineReader(f *testing.F) {
	for _, s := range []string{"", "a\nb", "a\r\n\r\nb\r", "\xef\xbb\xbf{}\n", strings.Repeat("x", 50) + "\ny"} {
		f.Add([]byte(s), 8)
	}
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max <= 0 || max > 1<<20 {
			max = 32
		}
		lr := newLineReader(bufio.NewReaderSize(bytes.NewReader(data), 16), max)
		lines := 0
		for {
			line, err := lr.next()
			if err == io.EOF {
				break
			}
			lines++
			if lr.line != lines {
				t.Fatalf("line number %d after %d lines", lr.line, lines)
			}
			if errors.Is(err, ErrLineTooLong) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(line) > max || bytes.IndexByte(line, '\n') >= 0 {
				t.Fatalf("line %d = %q (max %d)", lines, line, max)
			}
		}
		if want := bytes.Count(data, []byte("\n")) + 1; lines > want {
			t.Fatalf("%d lines from %d newlines", lines, want-1)
		}
	})
}

// TestScannerMatchesProcessEvent checks that the Scanner, which decodes
// each line only as far as the rules need, raises the alerts of events
// decoded in full and given to ProcessEvent: the built-in Wiz rules over
// the sample log, with each event's log type and with --log-type.
func TestScannerMatchesProcessEvent(t *testing.T) {
	rules, err := Load("rules/wiz")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("examples/data/wiz_audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	// Lines a scan must report, between the sample's events.
	data = append(data, "{\"p_log_type\": \"Wiz.Audit\", \"action\": [}\n{\"a\": \"\\x\"}\n"...)
	clock := func() time.Time { return time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC) }
	run := func(logType string, feed func(*Engine) (events, malformed int)) ([]string, int, int) {
		var alerts []string
		sink := AlertSinkFunc(func(a *Alert) error {
			b, err := a.MarshalJSON()
			alerts = append(alerts, string(b))
			return err
		})
		eng, err := NewEngine(rules, WithSink(sink), WithClock(clock), WithReplay())
		if err != nil {
			t.Fatal(err)
		}
		events, malformed := feed(eng)
		if err := eng.Flush(); err != nil {
			t.Fatal(err)
		}
		sort.Strings(alerts)
		return alerts, events, malformed
	}
	for _, logType := range []string{"", "Wiz.Audit", "Wiz.Issues"} {
		got, gotEvents, gotMalformed := run(logType, func(eng *Engine) (int, int) {
			sc := &Scanner{Engine: eng, LogType: logType}
			if err := sc.Scan(context.Background(), bytes.NewReader(data), "sample"); err != nil {
				t.Fatal(err)
			}
			st := sc.Stats()
			return int(st.Events), int(st.Malformed)
		})
		want, wantEvents, wantMalformed := run(logType, func(eng *Engine) (events, malformed int) {
			for _, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
				ev, err := ParseEvent(line)
				if err != nil {
					malformed++
					continue
				}
				events++
				if err := eng.ProcessEvent(ev, logType); err != nil {
					t.Fatal(err)
				}
			}
			return events, malformed
		})
		if len(want) == 0 || wantMalformed != 2 {
			t.Fatalf("log type %q: the reference raised %d alerts, found %d malformed lines", logType, len(want), wantMalformed)
		}
		if gotEvents != wantEvents || gotMalformed != wantMalformed || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("log type %q: scan read %d events, %d malformed, raised %d alerts; ProcessEvent %d, %d, %d",
				logType, gotEvents, gotMalformed, len(got), wantEvents, wantMalformed, len(want))
		}
	}
}
