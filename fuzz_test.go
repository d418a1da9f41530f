package detect_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rules"
)

// ownRules are evaluated on every fuzzed event: equality and membership
// (which the prefilter indexes), nested paths, string predicates,
// arithmetic that may fail, closures that spend the evaluation's budget,
// and templates.
var ownRules = []*detect.Rule{
	{Severity: detect.SeverityInfo, ID: "F.Eq", Condition: `status == "SUCCESS" && action == "RevokeUserSessions"`, Title: "[{action}] by {user.name}", GroupBy: []string{"id"},
		Fields: []detect.Field{{Name: "ip", Expr: "sourceIP"}, {Name: "params", Expr: "actionParameters"}}},
	{Severity: detect.SeverityInfo, ID: "F.In", Condition: `action in ["CreateUser", "DeleteUser"] || user.name startsWith "adm"`},
	{Severity: detect.SeverityInfo, ID: "F.Nested", Condition: `any(items, .key == "x") || len(user.roles) > 1 || missing.a.b == nil`},
	{Severity: detect.SeverityInfo, ID: "F.Arith", Condition: `count + 1 > 2`, Fields: []detect.Field{{Name: "n", Expr: "int(count) * 2"}}},
	{Severity: detect.SeverityInfo, ID: "F.Re", Condition: `sourceIP matches "^10\\." || userAgent contains "curl"`},
	{Severity: detect.SeverityInfo, ID: "F.Loops", Condition: `any(items, any(items, # == #) && .name in tags) || count(tags, # contains action) > 1`,
		Title: "{join(map(items, string(.key)), \",\")}", GroupBy: []string{"user.name", "sourceIP"}},
}

// fuzzRules are ownRules and every built-in rule.
var fuzzRules = append(append([]*detect.Rule{}, ownRules...), rules.All()...)

// checkRuleError fails unless err is a *SyntaxError or an *EvalError that
// is not a recovered panic: a panic in detect's own code is a bug that
// the recovery must not hide.
func checkRuleError(t *testing.T, call string, r *detect.Rule, err error) {
	t.Helper()
	var se *detect.SyntaxError
	var ee *detect.EvalError
	switch {
	case errors.As(err, &se):
	case errors.As(err, &ee):
		if strings.HasPrefix(ee.Msg, "panic: ") {
			t.Fatalf("%s: %s: %v", r.ID, call, err)
		}
	default:
		t.Fatalf("%s: %s error of unexpected type %T: %v", r.ID, call, err, err)
	}
}

// matchSummary is what an alert keeps of a Match, as text to compare.
func matchSummary(m *detect.Match) string {
	if m == nil {
		return "no match"
	}
	out, err := json.Marshal(m.Outputs)
	if err != nil {
		out = []byte(err.Error())
	}
	return fmt.Sprintf("title %q dedup %q severity %s description %q outputs %s", m.Title, m.Dedup, m.Severity, m.Description, out)
}

func FuzzEvaluate(f *testing.F) {
	for _, s := range []string{
		`{"status": "SUCCESS", "action": "RevokeUserSessions", "user": {"name": "a"}, "id": "e1"}`,
		`{"STATUS": "SUCCESS", "Action": "Revoke\u0055serSessions"}`,
		`{"action": "CreateUser", "items": [{"KEY": "x"}], "count": 3}`,
		`{"count": "abc", "sourceIP": "10.0.0.1"}`,
		`{"user": null, "missing": {"a": []}}`,
		`{"items": [{"key": 1, "name": "t"}, {"key": "x"}], "tags": ["t", "CreateUser"], "action": "User"}`,
		`[]`, `null`, `{"a": 1e999}`, `{"a": "\xff"}`, `{"a": 1} x`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	// The test logs of the built-in rules.
	for _, r := range rules.All() {
		for _, test := range r.Tests {
			if log, ok := test.Log.([]byte); ok {
				f.Add(log)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, perr := detect.ParseEvent(data)
		for _, r := range fuzzRules {
			got, err := r.Evaluate(data)
			if err != nil {
				checkRuleError(t, "Evaluate", r, err)
				continue
			}
			// The fast path on raw bytes must agree with evaluation of the
			// fully decoded event.
			if perr != nil {
				if got {
					t.Fatalf("%s: raw event matched but does not parse: %v", r.ID, perr)
				}
				continue
			}
			// The prefilter rejects raw events that lack the literals the
			// condition needs without evaluating them: a rule error that
			// evaluating the decoded event raises may go unreported, but
			// never a match.
			full, ferr := r.Evaluate(ev.Map())
			if ferr != nil && got {
				t.Fatalf("%s: Evaluate(decoded) = %v; Evaluate(raw) = true, nil", r.ID, ferr)
			}
			if ferr == nil && full != got {
				t.Fatalf("%s: Evaluate(raw) = %v; Evaluate(decoded) = %v for %q", r.ID, got, full, data)
			}
			m, err := r.Match(data)
			if err != nil {
				checkRuleError(t, "Match", r, err)
			}
			md, derr := r.Match(ev.Map())
			prefiltered := !got && ferr != nil && err == nil && m == nil
			if !prefiltered && ((err == nil) != (derr == nil) || matchSummary(m) != matchSummary(md)) {
				t.Fatalf("%s: Match(raw) = %s, %v; Match(decoded) = %s, %v", r.ID, matchSummary(m), err, matchSummary(md), derr)
			}
			if got && err == nil && m == nil {
				t.Fatalf("%s: Evaluate matched and Match did not", r.ID)
			}
			if _, err := r.Outputs(data); err != nil {
				checkRuleError(t, "Outputs", r, err)
			}
		}
	})
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`status == "SUCCESS"`, `a.b.c > 1 && x in [1, 2, "3"]`, `any(list, .x matches "^a")`,
		`let x = 1; x + y`, `$env["a"] ?? "b"`, `foo(`, `"\u00e9" contains a`, `a[1:2] == nil`,
		`{"k": a}.k`, `len(a) > 0 ? a[0] : nil`, `not (a in b)`, `all(a, all(#, # > 1))`,
		`reduce(a, #acc + #, 0) > 1`, `let s = b.c; all(a, s in a)`, `map(1..3, # * 2)[0]`,
		`sortBy(a, #, "desc")`, `groupBy(a, type(#))`, `upper(a[0]) + lower(string(b))`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		r := &detect.Rule{Severity: detect.SeverityInfo, ID: "F.Compile", Condition: src, Title: "{" + src + "}", Fields: []detect.Field{{Name: "v", Expr: src}}}
		if _, err := detect.Compile(r); err != nil {
			var ce *detect.CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile(%q) error of type %T: %v", src, err, err)
			}
			return
		}
		ev := map[string]any{"a": []any{1, "x", nil}, "b": map[string]any{"c": 1.5}, "status": "SUCCESS"}
		if _, err := r.Evaluate(ev); err != nil {
			checkRuleError(t, "Evaluate", r, err)
		}
		if _, err := r.Match(ev); err != nil {
			checkRuleError(t, "Match", r, err)
		}
	})
}

// refLine is what a Scanner must make of one line.
type refLine struct {
	blank, tooLong bool
	err            error // of ParseEvent
}

// referenceLines splits plain (not gzip) input into lines as the Scanner
// documents it, independently of its line reader: lines end with "\n" or
// "\r\n", the last one may have no ending, a byte order mark at the start
// of a line is skipped.
func referenceLines(data []byte, max int) []refLine {
	var out []refLine
	if len(data) == 0 {
		return nil
	}
	parts := bytes.Split(data, []byte("\n"))
	if len(parts[len(parts)-1]) == 0 {
		parts = parts[:len(parts)-1] // the input ended with "\n"
	}
	for _, p := range parts {
		p = bytes.TrimSuffix(p, []byte("\r"))
		p = bytes.TrimPrefix(p, []byte("\xef\xbb\xbf"))
		l := refLine{}
		switch {
		case len(p) > max:
			l.tooLong = true
		case len(bytes.Trim(p, " \t\r\v\f")) == 0:
			l.blank = true
		default:
			_, l.err = detect.ParseEvent(p)
		}
		out = append(out, l)
	}
	return out
}

// FuzzScanner feeds arbitrary input to a Scanner and an Engine, and checks
// that every line is accounted for, as the reference reading expects:
// evaluated as an event, reported malformed with its line number, or
// blank; and that every match of the rules ends in an alert, an expired
// window or an evicted group.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		"{}\n{\"a\":1}\n", "\n  \n{}\r\n\t\r\n", "{}\n[1]\n3\nnull\n\"s\"\n{\n{}{}\nnot json\n",
		"\xef\xbb\xbf{}\n\xef\xbb\xbf{\"a\":1}\r\n", "{\"a\":\"\xff\"}", "{\"p_log_type\":\"Wiz.Audit\",\"status\":\"SUCCESS\",\"action\":\"RevokeUserSessions\",\"id\":\"x\"}\n",
		"{\"timestamp\":\"2024-01-01T00:00:00Z\",\"id\":1}\n{\"timestamp\":\"2024-01-01T02:00:00Z\",\"id\":1}\n",
		"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", "{\"a\":[[[[[[[[]]]]]]]]}\n{\"a\":1e999}\n{\"b\":-0}\n",
	} {
		f.Add([]byte(s), 64)
	}
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max <= 0 || max > 1<<16 {
			max = 64
		}
		total := 0
		sink := detect.AlertSinkFunc(func(a *detect.Alert) error {
			if _, err := a.MarshalJSON(); err != nil {
				t.Fatalf("alert of %s does not encode: %v", a.RuleID, err)
			}
			if a.Step == detect.StepFinal {
				total += a.EventCount
			}
			return nil
		})
		all := append([]*detect.Rule{{Severity: detect.SeverityInfo, ID: "F.Every", Condition: "true", GroupBy: []string{"id"}}}, fuzzRules...)
		eng, err := detect.NewEngine(all, detect.WithSink(sink), detect.WithClock(fixedClock), detect.WithMaxGroups(4))
		if err != nil {
			t.Fatal(err)
		}
		var reports []*detect.LineError
		sc := &detect.Scanner{Engine: eng, MaxLineBytes: max, OnMalformed: func(e *detect.LineError) { reports = append(reports, e) }}
		scanErr := sc.Scan(context.Background(), bytes.NewReader(data), "in")
		if err := eng.Flush(); err != nil {
			t.Fatal(err)
		}
		st, es := sc.Stats(), eng.Stats()
		if st.Bytes > int64(len(data)) && !gzipped(data) {
			t.Fatalf("Stats().Bytes = %d of %d", st.Bytes, len(data))
		}
		if es.Events != uint64(st.Events) || es.Matches < es.Events {
			t.Fatalf("engine saw %d events and %d matches; scanner %d events", es.Events, es.Matches, st.Events)
		}
		if got := uint64(total) + es.Dedup.ExpiredHits + es.Dedup.EvictedHits; got != es.Matches+es.RuleErrors-es.Suppressed {
			t.Fatalf("alerts hold %d events; want %d matches and rule errors", got, es.Matches+es.RuleErrors-es.Suppressed)
		}
		for i, r := range reports {
			if r.Name != "in" || r.Line < 1 || r.Err == nil || (i > 0 && r.Line <= reports[i-1].Line) {
				t.Fatalf("report %d: %v", i, r)
			}
		}
		if gzipped(data) {
			return // the reference reads plain input only
		}
		if scanErr != nil {
			t.Fatalf("Scan of plain input = %v", scanErr)
		}
		want := referenceLines(data, max)
		var events, blank int64
		var malformed []int
		for i, l := range want {
			switch {
			case l.blank:
				blank++
			case l.tooLong || l.err != nil:
				malformed = append(malformed, i+1)
			default:
				events++
			}
		}
		if st.Events != events || st.Malformed != int64(len(malformed)) || st.Events+st.Malformed+blank != int64(len(want)) {
			t.Fatalf("Stats() = %+v; the reference has %d lines: %d events, %d malformed, %d blank", st, len(want), events, len(malformed), blank)
		}
		for i, r := range reports {
			if r.Line != malformed[i] {
				t.Fatalf("report %d is of line %d; want line %d", i, r.Line, malformed[i])
			}
			if want[r.Line-1].tooLong != errors.Is(r, detect.ErrLineTooLong) {
				t.Fatalf("report of line %d: %v; too long: %v", r.Line, r, want[r.Line-1].tooLong)
			}
			// The scanner checks lines without decoding them all; it
			// must find the errors ParseEvent finds, where it finds them.
			if l := want[r.Line-1]; l.err != nil && r.Err.Error() != l.err.Error() {
				t.Fatalf("report of line %d: %v; ParseEvent: %v", r.Line, r.Err, l.err)
			}
		}
	})
}

func gzipped(data []byte) bool { return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b }

// FuzzProcess runs each line of the input through Engine.Process, which
// decodes lazily, and through ProcessEvent with the event fully decoded,
// and checks that both give the same alerts, and that every match is
// accounted for.
func FuzzProcess(f *testing.F) {
	for _, s := range []string{
		`{"p_log_type": "Wiz.Audit", "status": "SUCCESS", "action": "RevokeUserSessions", "id": "a", "user": {"name": "u"}}`,
		"{\"p_log_type\": \"Wiz.Audit\", \"status\": \"SUCCESS\", \"action\": \"CreateUser\", \"timestamp\": \"2024-01-01T00:00:00Z\"}\n{\"P_LOG_TYPE\": \"Wiz.Audit\", \"Status\": \"SUCC\\u0045SS\", \"action\": \"CreateUser\", \"timestamp\": 1704070800}",
		"{\"count\": \"x\"}\n{\"count\": 5, \"p_event_time\": \"2024-01-01 00:00:00.000\"}\n[]\n{",
		`{"items": [{"key": "x", "name": "a"}], "tags": ["a", "b"], "action": "b"}`,
	} {
		f.Add([]byte(s))
	}
	for _, r := range rules.All() {
		for _, test := range r.Tests {
			if log, ok := test.Log.([]byte); ok {
				f.Add(bytes.Join([][]byte{log, []byte(`{"p_log_type":"` + firstOr(r.LogTypes) + `"}`), log}, []byte("\n")))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lazy, lazyAlerts := fuzzEngine(t)
		full, fullAlerts := fuzzEngine(t)
		// Rule by rule, what the engine must count.
		var matches, ruleErrors uint64
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, len(data)+1)
		for sc.Scan() {
			line := sc.Bytes()
			err := lazy.Process(line)
			ev, perr := detect.ParseEvent(line)
			if (err == nil) != (perr == nil) {
				t.Fatalf("Process(%q) = %v; ParseEvent error %v", line, err, perr)
			}
			var se *detect.SyntaxError
			if err != nil && !errors.As(err, &se) {
				t.Fatalf("Process(%q) = %v (%T); want a *SyntaxError", line, err, err)
			}
			if perr == nil {
				if err := full.ProcessEvent(ev, ""); err != nil {
					t.Fatalf("ProcessEvent(%q) = %v", line, err)
				}
				logType, _ := ev.Get(detect.LogTypeField).(string)
				for _, r := range rulesFor(fuzzRules, logType) {
					m, err := r.Match(line)
					switch {
					case err != nil:
						ruleErrors++
					case m != nil:
						matches++
					}
				}
			}
		}
		if st := lazy.Stats(); st.Matches != matches || st.RuleErrors != ruleErrors {
			t.Fatalf("the engine counts %d matches and %d rule errors; rule by rule, %d and %d", st.Matches, st.RuleErrors, matches, ruleErrors)
		}
		for _, e := range []*detect.Engine{lazy, full} {
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		if l, f := strings.Join(*lazyAlerts, "\n"), strings.Join(*fullAlerts, "\n"); l != f {
			t.Fatalf("alerts of Process:\n%s\nalerts of ProcessEvent:\n%s", l, f)
		}
		if l, f := lazy.Stats(), full.Stats(); !reflect.DeepEqual(l, f) {
			t.Fatalf("Stats of Process %+v; of ProcessEvent %+v", l, f)
		}
	})
}

func firstOr(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

// fuzzEngine returns an engine with the fuzz rules and where its alerts
// go, one line each, sorted when read after Flush; it checks that every
// match is accounted for at Flush.
// rulesFor returns the enabled rules that the engine runs on an event of
// log type lt.
func rulesFor(rules []*detect.Rule, lt string) []*detect.Rule {
	var out []*detect.Rule
	for _, r := range rules {
		if !r.Disabled && (lt == "" || len(r.LogTypes) == 0 || slices.Contains(r.LogTypes, lt)) {
			out = append(out, r)
		}
	}
	return out
}

func fuzzEngine(t *testing.T) (*detect.Engine, *[]string) {
	var alerts []string
	sink := detect.AlertSinkFunc(func(a *detect.Alert) error {
		b, err := a.MarshalJSON()
		if err != nil {
			t.Fatalf("alert of %s does not encode: %v", a.RuleID, err)
		}
		alerts = append(alerts, string(b))
		sort.Strings(alerts)
		return nil
	})
	eng, err := detect.NewEngine(fuzzRules, detect.WithSink(sink), detect.WithClock(fixedClock), detect.WithMaxGroups(8))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st := eng.Stats()
		total := uint64(0)
		for _, a := range alerts {
			var v struct {
				EventCount uint64
				Step       string
			}
			if err := json.Unmarshal([]byte(a), &v); err != nil {
				t.Fatal(err)
			}
			if v.Step == string(detect.StepFinal) {
				total += v.EventCount
			}
		}
		if got := total + st.Dedup.ExpiredHits + st.Dedup.EvictedHits; got != st.Matches+st.RuleErrors-st.Suppressed {
			t.Errorf("alerts hold %d events; want %d matches and rule errors (%+v)", got, st.Matches+st.RuleErrors-st.Suppressed, st)
		}
	})
	return eng, &alerts
}

// TestDifferentialEncodingJSON checks that evaluating raw JSON gives the
// same answers as evaluating the event decoded by encoding/json.
func TestDifferentialEncodingJSON(t *testing.T) {
	events := []string{
		`{"status": "SUCCESS", "action": "RevokeUserSessions", "user": {"name": "a"}, "id": "e1", "sourceIP": "10.1.2.3"}`,
		`{"status": "SUCCESS", "action": "RevokeUserSessions", "count": 5}`,
		`{"Status": "SUCCESS", "ACTION": "RevokeUserSessions"}`,
		`{"status": "SUCC\u0045SS", "action": "RevokeUserSessions", "action": "CreateUser"}`,
		`{"action": "DeleteUser", "user": {"name": "admin", "roles": ["a", "b"]}, "items": [{"Key": "x"}]}`,
		`{"userAgent": "curl/8.0", "count": 1.5}`,
		`{"status": "\ud83d\ude00", "action": "x\u0000y"}`,
		`{"status": "SUCCESS", "action": "RevokeUserSessions", "big": 12345678901234567890}`,
		"{\"status\": \"SUCC\xffESS\", \"action\": \"RevokeUserSessions\", \"user\": {\"name\": \"adm\xff\"}}",
	}
	for _, s := range events {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		for _, r := range ownRules {
			raw, rawErr := r.Evaluate([]byte(s))
			dec, decErr := r.Evaluate(m)
			if raw != dec || (rawErr == nil) != (decErr == nil) {
				t.Errorf("%s on %s: raw = %v, %v; encoding/json = %v, %v", r.ID, s, raw, rawErr, dec, decErr)
			}
		}
	}
}
