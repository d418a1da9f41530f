package detect_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/detectkit/detect"
)

// panicky is a value whose String method panics, as a custom function's
// result may.
type panicky struct{}

func (panicky) String() string { panic("String of panicky") }

// faultyFunctions are custom functions that fail in every way a service's
// function can: panicking, returning an error, or returning a value that
// later code cannot render or encode.
func faultyFunctions(t testing.TB) *detect.Functions {
	fs := detect.NewFunctions()
	cycle := []any{1, nil}
	cycle[1] = cycle
	for name, fn := range map[string]func(args ...any) (any, error){
		"explode":     func(...any) (any, error) { panic("explode was called") },
		"nilDeref":    func(...any) (any, error) { var m *struct{ x int }; return m.x, nil },
		"fail":        func(...any) (any, error) { return nil, errors.New("fail was called") },
		"channel":     func(...any) (any, error) { return make(chan int), nil },
		"function":    func(...any) (any, error) { return func() {}, nil },
		"nilTime":     func(...any) (any, error) { return (*time.Time)(nil), nil },
		"badStringer": func(...any) (any, error) { return panicky{}, nil },
		"cycle":       func(...any) (any, error) { return cycle, nil },
		"ok":          func(...any) (any, error) { return "fine", nil },
	} {
		if err := fs.Register(name, fn); err != nil {
			t.Fatal(err)
		}
	}
	return fs
}

// TestRuleErrorsFromFunctions checks that a custom function that panics,
// fails, or returns a value that cannot be rendered or encoded makes a
// rule error (*EvalError naming the rule and the expression), through
// Evaluate and Match, and never a crash.
func TestRuleErrorsFromFunctions(t *testing.T) {
	fs := faultyFunctions(t)
	tests := []struct {
		name      string
		rule      detect.Rule
		evaluate  bool   // Evaluate's result when it does not fail
		evalPart  string // the part Evaluate reports failing, "" if none
		matchPart string // the part Match reports failing, "" if none
		title     string // Match's title when it does not fail
	}{
		{name: "panic in the condition", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: "explode()"}, evalPart: "condition", matchPart: "condition"},
		{name: "nil dereference in the condition", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: `nilDeref() == 1`}, evalPart: "condition", matchPart: "condition"},
		{name: "error in the condition", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: "fail() == 1"}, evalPart: "condition", matchPart: "condition"},
		{name: "panic in the title", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: "true", Title: "x {explode()}"}, evaluate: true, matchPart: "title"},
		{name: "channel in the title", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: "true", Title: "x {channel()}"}, evaluate: true, matchPart: "title"},
		{name: "panicking String in the title", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: "true", Title: "x {badStringer()}"}, evaluate: true, matchPart: "title"},
		{name: "typed nil pointer in the title", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: "true", Title: "x{nilTime()}"}, evaluate: true, title: "x"},
		{name: "panic in the group by", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: "true", GroupBy: []string{"ok()", "explode()"}}, evaluate: true, matchPart: "group by 2"},
		{name: "cycle in the group by", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: "true", GroupBy: []string{"ok()", "cycle()"}}, evaluate: true, matchPart: "group by 2"},
		{name: "channel in an output", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: "true", Fields: []detect.Field{{Name: "c", Expr: "channel()"}}}, evaluate: true, matchPart: "output c"},
		{name: "function in an output", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: "true", Fields: []detect.Field{{Name: "f", Expr: "[function()]"}}}, evaluate: true, matchPart: "output f"},
		{name: "cycle in an output", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: "true", Fields: []detect.Field{{Name: "c", Expr: "cycle()"}}}, evaluate: true, matchPart: "output c"},
		{name: "panic in an output", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: "true", Fields: []detect.Field{{Name: "ok", Expr: "ok()"}, {Name: "p", Expr: "explode()"}}}, evaluate: true, matchPart: "output p"},
		{name: "panic in a dynamic severity", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: "true", DynamicSeverities: []detect.DynamicSeverity{{ChangeTo: detect.SeverityHigh, Condition: "false"}, {ChangeTo: detect.SeverityLow, Condition: "explode()"}}}, evaluate: true, matchPart: "dynamic severity 2"},
		{name: "panicking String in the description", rule: detect.Rule{Severity: detect.SeverityInfo, Condition: "true", AlertDescription: "{badStringer()}"}, evaluate: true, matchPart: "description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rule
			r.ID = "R.Faulty"
			if _, err := detect.Compile(&r, detect.WithFunctions(fs)); err != nil {
				t.Fatal(err)
			}
			for _, event := range []any{map[string]any{"a": 1}, []byte(`{"a": 1}`)} {
				got, err := r.Evaluate(event)
				checkEvalError(t, "Evaluate", err, tt.evalPart)
				if err == nil && got != tt.evaluate {
					t.Errorf("Evaluate(%v) = %v; want %v", event, got, tt.evaluate)
				}
				m, err := r.Match(event)
				checkEvalError(t, "Match", err, tt.matchPart)
				if err == nil && (m == nil || m.Title != tt.title && tt.title != "") {
					t.Errorf("Match(%v) = %+v; want a match titled %q", event, m, tt.title)
				}
			}
		})
	}
}

// checkEvalError checks that err is an *EvalError of rule R.Faulty for
// part, or nil when part is empty.
func checkEvalError(t *testing.T, call string, err error, part string) {
	t.Helper()
	if part == "" {
		if err != nil {
			t.Errorf("%s error = %v; want none", call, err)
		}
		return
	}
	var ee *detect.EvalError
	if !errors.As(err, &ee) {
		t.Errorf("%s error = %v (%T); want an *EvalError", call, err, err)
		return
	}
	if ee.RuleID != "R.Faulty" || ee.Part != part || ee.Expr == "" || ee.Msg == "" {
		t.Errorf("%s error = %+v; want rule R.Faulty, part %q, its expression and a message", call, ee, part)
	}
}

// TestEngineSurvivesFaultyRules runs rules that fail in every way next to
// a rule that works, through an Engine: every failure is a RULE_ERROR
// alert counting each event, and the working rule still alerts on every
// event.
func TestEngineSurvivesFaultyRules(t *testing.T) {
	fs := faultyFunctions(t)
	rules := []*detect.Rule{
		{Severity: detect.SeverityInfo, ID: "Good", Condition: `action == "x"`, Fields: []detect.Field{{Name: "a", Expr: "action"}}},
		{Severity: detect.SeverityInfo, ID: "Panic", Condition: "explode()"},
		{Severity: detect.SeverityInfo, ID: "Error", Condition: "fail() == 1"},
		{Severity: detect.SeverityInfo, ID: "ChannelOutput", Condition: "true", Fields: []detect.Field{{Name: "c", Expr: "channel()"}}},
		{Severity: detect.SeverityInfo, ID: "StringerTitle", Condition: "true", Title: "{badStringer()}"},
		{Severity: detect.SeverityInfo, ID: "CycleGroup", Condition: "true", GroupBy: []string{"cycle()"}},
		{Severity: detect.SeverityInfo, ID: "EventChannel", Condition: "true", Fields: []detect.Field{{Name: "c", Expr: "weird"}}},
	}
	for _, r := range rules {
		if _, err := detect.Compile(r, detect.WithFunctions(fs)); err != nil {
			t.Fatal(err)
		}
	}
	var alerts []*detect.Alert
	sink := detect.AlertSinkFunc(func(a *detect.Alert) error {
		if _, err := a.MarshalJSON(); err != nil {
			t.Errorf("alert of %s does not encode: %v", a.RuleID, err)
		}
		if a.Step == detect.StepFinal {
			alerts = append(alerts, a)
		}
		return nil
	})
	eng, err := detect.NewEngine(rules, detect.WithSink(sink), detect.WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	for i := 0; i < n; i++ {
		// A map given by the caller may hold anything, a channel too.
		if err := eng.ProcessMap(map[string]any{"action": "x", "weird": make(chan int)}); err != nil {
			t.Fatalf("ProcessMap: %v", err)
		}
	}
	if err := eng.Flush(); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range alerts {
		got[a.RuleID] = string(a.Type) + " " + strconv.Itoa(a.EventCount)
	}
	want := map[string]string{
		"Good": "RULE 5", "Panic": "RULE_ERROR 5", "Error": "RULE_ERROR 5", "ChannelOutput": "RULE_ERROR 5",
		"StringerTitle": "RULE_ERROR 5", "CycleGroup": "RULE_ERROR 5", "EventChannel": "RULE_ERROR 5",
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("alert of %s: %q; want %q", id, got[id], w)
		}
	}
	if len(alerts) != len(want) {
		t.Errorf("%d alerts; want %d", len(alerts), len(want))
	}
	if st := eng.Stats(); st.Events != n || st.Matches != n || st.RuleErrors != n*(uint64(len(rules))-1) {
		t.Errorf("Stats() = %+v; want %d events, %d matches, %d rule errors", st, n, n, n*(len(rules)-1))
	}
	for _, a := range alerts {
		if a.Type == detect.AlertRuleError && !strings.HasPrefix(a.Title, "Error in "+a.RuleID) {
			t.Errorf("rule error alert title %q; want it to name the rule", a.Title)
		}
	}
}

func fixedClock() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }
