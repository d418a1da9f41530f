package detect

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// hostileBig runs the hostile evaluations at the size of a line that
// MaxLineBytes lets through, rather than at the CI-friendly size.
var hostileBig = flag.Bool("hostile.big", false, "run the hostile evaluations with fields of 14 MiB")

// hostileSize is the size of the long fields of the hostile evaluations.
func hostileSize() int {
	if *hostileBig {
		return 14 << 20
	}
	return 2 << 20
}

// hostileWords is a case-insensitive alternation of 200 words, a pattern
// whose program has thousands of instructions.
func hostileWords() string {
	words := make([]string, 200)
	for i := range words {
		words[i] = fmt.Sprintf("word%03dxyz", i)
	}
	return "(?i)(" + strings.Join(words, "|") + ")"
}

// TestHostileEvaluations checks that each evaluation that builds or scans
// in proportion to its input, the attacks on the evaluation budget, ends
// quickly in a rule error over the budget (of steps or of memory), and
// takes neither seconds nor gigabytes, raw JSON and maps alike.
func TestHostileEvaluations(t *testing.T) {
	n := hostileSize()
	long := strings.Repeat("Mozilla/5.0 (X11; Linux) ", n/25)
	tiny := "[" + strings.TrimSuffix(strings.Repeat("{},", n/3), ",") + "]"
	tests := []struct {
		name  string
		cond  string
		event map[string]any
	}{
		{"doubling the accumulator over a literal range", `reduce(1..60, #acc + #acc, "a") == ""`, nil},
		{"a megabyte repeated in a map over a range", `len(map(1..20000, repeat("a", 999999))) == 0`, nil},
		{"splitting a long text into characters", `len(split(ua, "")) == 0`, map[string]any{"ua": long}},
		{"decoding a long JSON string", `len(fromJSON(doc)) == 0`, map[string]any{"doc": tiny}},
		{"a 200-word case-insensitive pattern on a long text", `userAgent matches "` + hostileWords() + `"`, map[string]any{"userAgent": long}},
		{"lowering a long text in a million-step range", `any(1..999999, lower(ua) contains "zzqq")`, map[string]any{"ua": long}},
		{"a long text scanned in a million-step range", `any(1..999999, ua contains "zzqq")`, map[string]any{"ua": long}},
		{"a pattern from the event", `ua matches pattern`, map[string]any{"ua": long, "pattern": hostileWords()}},
		{"doubling text with variables", `let a = ua + ua; let b = a + a; let c = b + b; let d = c + c; let e = d + d; len(e + e) == 0`, map[string]any{"ua": long}},
		{"upper over a literal list", `any(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"], upper(ua) contains #)`, map[string]any{"ua": long}},
		{"replace that multiplies text", `len(replace(ua, " ", repeat("x", 1000))) == 0`, map[string]any{"ua": long}},
		{"sorting a range", `len(sort(map(1..999999, -#))) == 0`, nil},
		{"text joined in a range", `len(join(map(1..999999, ua), ",")) == 0`, map[string]any{"ua": long}},
		{"a list of a list flattened", `len(flatten(map(a, a))) == 0`, map[string]any{"a": ints(n / 16)}},
		{"shared lists written as JSON", `let b = [a, a]; let c = [b, b]; let d = [c, c]; let e = [d, d]; len(toJSON([e, e])) == 0`, map[string]any{"a": ints(n / 16)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.Hostile", Condition: tt.cond})
			if err != nil {
				t.Fatal(err)
			}
			ev := tt.event
			if ev == nil {
				ev = map[string]any{}
			}
			raw, err := marshalEvent(ev)
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range []struct {
				name string
				run  func() (bool, error)
			}{
				{"map", func() (bool, error) { return r.Evaluate(ev) }},
				{"raw", func() (bool, error) { return r.EvaluateJSON(raw) }},
			} {
				var before runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				start := time.Now()
				_, err := in.run()
				elapsed := time.Since(start)
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				var ee *EvalError
				if !errors.As(err, &ee) || !(errors.Is(err, errOverBudget) || strings.Contains(err.Error(), "memory budget")) {
					t.Errorf("%s: Evaluate(%s) = %v; want a rule error over the budget", in.name, tt.cond, err)
				}
				if limit := 2 * time.Second * slowdown(); elapsed > limit {
					t.Errorf("%s: Evaluate(%s) took %v; want under %v", in.name, tt.cond, elapsed, limit)
				}
				// What the evaluation allocated, beyond the event's
				// decoding (about 65 times its size at most).
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(512<<20+70*len(raw)) {
					t.Errorf("%s: Evaluate(%s) allocated %d MiB", in.name, tt.cond, alloc>>20)
				}
			}
		})
	}
}

// marshalEvent is the event as a JSON object.
func marshalEvent(ev map[string]any) ([]byte, error) {
	return json.Marshal(ev)
}

// TestUniq checks detect's uniq, which keeps expr's answers without
// comparing every pair: numbers equal across int and float are one, and
// elements that cannot be hashed are compared with those kept.
func TestUniq(t *testing.T) {
	for _, tt := range []struct {
		cond  string
		event map[string]any
		want  bool
	}{
		{`uniq([1, 1.0, "1", true, nil, nil, 2, "a", "a"]) == [1, "1", true, nil, 2, "a"]`, nil, true},
		{`uniq(l) == [{"a": 1}, {"a": 2}, [1]]`, map[string]any{"l": []any{map[string]any{"a": 1}, map[string]any{"a": 1}, map[string]any{"a": 2}, []any{1}, []any{1}}}, true},
		{`len(uniq(1..100000)) == 100000`, nil, true},
		{`uniq(nil) == nil`, nil, false},
	} {
		r := &Rule{Severity: SeverityInfo, ID: "R.Uniq", Condition: tt.cond}
		if tt.event == nil {
			tt.event = map[string]any{}
		}
		start := time.Now()
		got, err := r.Evaluate(tt.event)
		if got != tt.want || tt.want && err != nil {
			t.Errorf("Evaluate(%s) = %v, %v; want %v", tt.cond, got, err, tt.want)
		}
		if d := time.Since(start); d > time.Second*slowdown() {
			t.Errorf("Evaluate(%s) took %v", tt.cond, d)
		}
	}
	// Objects, compared pairwise, spend the budget.
	objs := make([]any, 2000)
	for i := range objs {
		objs[i] = map[string]any{"i": i}
	}
	_, err := (&Rule{Severity: SeverityInfo, ID: "R.Uniq", Condition: `len(uniq(l)) > 0`}).Evaluate(map[string]any{"l": objs})
	checkOverBudget(t, "Evaluate(uniq of 2,000 objects)", err, "R.Uniq", "condition")
}

// TestMalformedAlerts checks that, with MalformedAlerts, the lines of an
// input that a limit kept from the rules (too long, nested too deep, not
// JSON) make one AlertMalformed alert per scanned input, with their count,
// line numbers and reasons, while the matching events around them alert
// as before; and that without it no such alert is sent.
func TestMalformedAlerts(t *testing.T) {
	match := `{"action": "RevokeUserSessions", "status": "SUCCESS", "id": "x"}`
	deep := `{"action": "RevokeUserSessions", "a": ` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`
	long := `{"action": "RevokeUserSessions", "pad": "` + strings.Repeat("x", 2100) + `"}`
	input := strings.Join([]string{match, deep, long, "not json", match}, "\n") + "\n"
	for _, on := range []bool{true, false} {
		var alerts []*Alert
		eng, err := NewEngine([]*Rule{{Severity: SeverityInfo, ID: "R.Revoke", Condition: `action == "RevokeUserSessions"`, DedupPeriod: time.Hour}},
			WithSink(AlertSinkFunc(func(a *Alert) error { alerts = append(alerts, a); return nil })),
			WithClock(func() time.Time { return time.Unix(1700000000, 0) }))
		if err != nil {
			t.Fatal(err)
		}
		sc := &Scanner{Engine: eng, MaxLineBytes: 2000, MalformedAlerts: on}
		if err := sc.Scan(context.Background(), strings.NewReader(input), "in.jsonl"); err != nil {
			t.Fatal(err)
		}
		if err := eng.Flush(); err != nil {
			t.Fatal(err)
		}
		var bad, rule []*Alert
		for _, a := range alerts {
			switch {
			case a.Type == AlertMalformed:
				bad = append(bad, a)
			case a.Step == StepFinal:
				rule = append(rule, a)
			}
		}
		if len(rule) != 1 || rule[0].EventCount != 2 {
			t.Errorf("MalformedAlerts %v: rule alerts %+v; want one of 2 events", on, rule)
		}
		if !on {
			if len(bad) != 0 {
				t.Errorf("MalformedAlerts off: %d AlertMalformed alerts; want none", len(bad))
			}
			continue
		}
		if len(bad) != 1 {
			t.Fatalf("AlertMalformed alerts %+v; want 1", bad)
		}
		a := bad[0]
		lines, _ := a.Outputs.Get("lines")
		reasons, _ := a.Outputs.Get("reasons")
		wantReasons := map[string]int{"nested too deep": 1, "line too long": 1, "not a JSON object": 1}
		if a.RuleID != MalformedRuleID || a.EventCount != 3 || a.Dedup != "in.jsonl" ||
			fmt.Sprint(lines) != "[2 3 4]" || fmt.Sprint(reasons) != fmt.Sprint(wantReasons) ||
			!strings.Contains(a.Title, "3 malformed lines in in.jsonl") {
			t.Errorf("AlertMalformed = %+v (lines %v, reasons %v); want 3 lines, 2 3 4, of in.jsonl, reasons %v", a, lines, reasons, wantReasons)
		}
		if out, err := json.Marshal(a); err != nil || !strings.Contains(string(out), `"MALFORMED_EVENTS"`) {
			t.Errorf("json.Marshal(AlertMalformed) = %s, %v", out, err)
		}
	}
}
