package detect

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// Each limit is tested at its edge: just under passes, just over fails
// with an error that says which limit.

func ints(n int) []any {
	list := make([]any, n)
	for i := range list {
		list[i] = i
	}
	return list
}

// TestMaxEvalCost checks the budget of one evaluation at its edge, and
// that expressions whose work multiplies with the size of the event fail
// with a rule error in well under a second instead of stalling.
func TestMaxEvalCost(t *testing.T) {
	// A closure whose predicate is a literal spends one step per element.
	edge := &Rule{Severity: SeverityInfo, ID: "R.Edge", Condition: "any(a, false)"}
	if ok, err := edge.Evaluate(map[string]any{"a": ints(MaxEvalCost)}); ok || err != nil {
		t.Errorf("Evaluate(%d elements) = %v, %v; want false, nil", MaxEvalCost, ok, err)
	}
	_, err := edge.Evaluate(map[string]any{"a": ints(MaxEvalCost + 1)})
	checkOverBudget(t, "Evaluate(MaxEvalCost+1 elements)", err, "R.Edge", "condition")

	big := strings.Repeat("y", 8<<20)
	strs := make([]any, 1000)
	for i := range strs {
		strs[i] = strings.Repeat("s", 1000) + fmt.Sprint(i)
	}
	tests := []struct {
		name  string
		cond  string
		event map[string]any
		want  bool // when within budget
		over  bool
	}{
		{"three nested all over 1,000 elements", "all(a, all(a, all(a, # == #)))", map[string]any{"a": ints(1000)}, false, true},
		{"two nested all over 1,000 elements", "all(a, all(a, # == #))", map[string]any{"a": ints(1000)}, false, true},
		{"two nested any over 100 elements", "any(a, any(a, # + 1 == 1000))", map[string]any{"a": ints(100)}, false, false},
		{"membership in a list from the event", "all(a, # in a)", map[string]any{"a": ints(2000)}, false, true},
		{"a large text read in a loop", "any(a, msg contains string(#))", map[string]any{"a": ints(1000), "msg": big}, false, true},
		{"a large text with a literal list", `any(["a", "b", "y"], msg contains #)`, map[string]any{"msg": big}, true, false},
		{"strings compared in a nested loop", "any(s, any(s, # + # == #))", map[string]any{"s": strs}, false, true},
		{"doubling text in reduce", `len(reduce(a, #acc + #acc, "xy")) > 0`, map[string]any{"a": ints(64)}, false, true},
		{"a missing field read in a loop", "any(a, missing == 1)", map[string]any{"a": ints(100_000), "b": map[string]any{}}, false, false},
		{"a range from the event", "any(1..n, # < 0)", map[string]any{"n": 999_999}, false, false},
		{"nested ranges from the event", "any(1..n, any(1..n, # < 0))", map[string]any{"n": 1001}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Rule{Severity: SeverityInfo, ID: "R.Cost", Condition: tt.cond}
			start := time.Now()
			got, err := r.Evaluate(tt.event)
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("Evaluate took %v", elapsed)
			}
			if tt.over {
				checkOverBudget(t, "Evaluate", err, "R.Cost", "condition")
				return
			}
			if got != tt.want || err != nil {
				t.Errorf("Evaluate = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}

	// Outputs and titles have budgets of their own.
	r := &Rule{Severity: SeverityInfo, ID: "R.CostOutput", Condition: "true", Fields: []Field{{Name: "n", Expr: "count(a, any(a, # == 0))"}}}
	_, err = r.Match(map[string]any{"a": ints(2000)})
	checkOverBudget(t, "Match", err, "R.CostOutput", "output n")
}

func checkOverBudget(t *testing.T, call string, err error, ruleID, part string) {
	t.Helper()
	var ee *EvalError
	if !errors.As(err, &ee) || ee.RuleID != ruleID || ee.Part != part || !errors.Is(err, errOverBudget) ||
		!strings.Contains(ee.Error(), "MaxEvalCost") {
		t.Errorf("%s error = %v; want an *EvalError of %s %s over MaxEvalCost", call, err, ruleID, part)
	}
}

// TestMaxEvalCostInEngine checks that an evaluation over budget is a
// RULE_ERROR alert and the other rules still alert.
func TestMaxEvalCostInEngine(t *testing.T) {
	var alerts []*Alert
	sink := AlertSinkFunc(func(a *Alert) error { alerts = append(alerts, a); return nil })
	eng, err := NewEngine([]*Rule{
		{Severity: SeverityInfo, ID: "Costly", Condition: "all(a, all(a, all(a, # == #)))"},
		{Severity: SeverityInfo, ID: "Cheap", Condition: "len(a) > 0"},
	}, WithSink(sink), WithReplay())
	if err != nil {
		t.Fatal(err)
	}
	ev := []byte(`{"a": [` + strings.TrimSuffix(strings.Repeat("1,", 1000), ",") + `]}`)
	if err := eng.Process(ev); err != nil {
		t.Fatal(err)
	}
	if err := eng.Flush(); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 2 || alerts[0].Type == alerts[1].Type {
		t.Fatalf("alerts %+v; want a RULE_ERROR of Costly and a RULE of Cheap", alerts)
	}
	for _, a := range alerts {
		if a.Type == AlertRuleError && (a.RuleID != "Costly" || !strings.Contains(a.Title, "MaxEvalCost")) {
			t.Errorf("rule error alert %s %q; want Costly over MaxEvalCost", a.RuleID, a.Title)
		}
	}
}

// TestMaxEvalMemory checks expr's memory budget: a range from the event
// just under it is built, one at it is a rule error, and a huge constant
// range is a rule error rather than an out-of-memory crash.
func TestMaxEvalMemory(t *testing.T) {
	for _, tt := range []struct {
		cond  string
		event map[string]any
	}{
		{"len(1..n) > 0", map[string]any{"n": MaxEvalMemory - 1}},
		{`len(repeat("ab", n)) > 0`, map[string]any{"n": MaxEvalMemory/2 - 1}},
		{`len(replace(s, "", t)) > 0`, map[string]any{"s": "", "t": strings.Repeat("t", MaxEvalMemory-1)}},
		{`len(replace(s, "s", t)) > 0`, map[string]any{"s": strings.Repeat("s", 4*MaxEvalMemory), "t": "u"}},
	} {
		r := &Rule{Severity: SeverityInfo, ID: "R.Memory", Condition: tt.cond}
		if ok, err := r.Evaluate(tt.event); !ok || err != nil {
			t.Errorf("Evaluate(%s) just under the budget = %v, %v; want true, nil", tt.cond, ok, err)
		}
	}
	// repeat and replace fail before they build the text: a repeat of a
	// long field allocates nothing like its result.
	big := map[string]any{"s": strings.Repeat("s", 1<<20), "n": 100}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := (&Rule{Severity: SeverityInfo, ID: "R.Memory", Condition: "len(repeat(s, n)) > 0"}).Evaluate(big)
	runtime.ReadMemStats(&after)
	if err == nil || after.TotalAlloc-before.TotalAlloc > 10<<20 {
		t.Errorf("repeat of 1 MiB 100 times = %v after allocating %d bytes; want a rule error, allocating little", err, after.TotalAlloc-before.TotalAlloc)
	}
	for _, tt := range []struct {
		cond  string
		event map[string]any
	}{
		{"len(1..n) > 0", map[string]any{"n": MaxEvalMemory}},
		{"len(1..10000000) > 0", map[string]any{}},
		{`len(repeat("x", n)) > 0`, map[string]any{"n": MaxEvalMemory}},
		{`len(repeat("ab", n)) > 0`, map[string]any{"n": MaxEvalMemory / 2}},
		{`len(replace(s, "", t)) > 0`, map[string]any{"s": "", "t": strings.Repeat("t", MaxEvalMemory)}},
		{`len(replace(s, "", t)) > 0`, map[string]any{"s": strings.Repeat("s", 999), "t": strings.Repeat("t", 1000)}},
	} {
		r := &Rule{Severity: SeverityInfo, ID: "R.Memory", Condition: tt.cond}
		_, err := r.Evaluate(tt.event)
		var ee *EvalError
		if !errors.As(err, &ee) || !strings.Contains(ee.Msg, "memory budget exceeded") {
			t.Errorf("Evaluate(%s) on %.100v = %v; want a rule error over the memory budget", tt.cond, tt.event, err)
		}
	}
}

// TestMaxNodes finds the largest list literal that compiles and checks
// that one element more is a compile error about the size.
func TestMaxNodes(t *testing.T) {
	cond := func(n int) string {
		return "len([" + strings.TrimSuffix(strings.Repeat("1,", n), ",") + "]) > 0"
	}
	compiles := func(n int) (bool, error) {
		_, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.Size", Condition: cond(n)})
		return err == nil, err
	}
	lo, hi := 1, MaxNodes // lo compiles, hi does not
	if ok, _ := compiles(hi); ok {
		t.Fatalf("a list of %d elements compiles", hi)
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if ok, _ := compiles(mid); ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo < MaxNodes/3 {
		t.Errorf("only %d elements compile", lo)
	}
	_, err := compiles(lo + 1)
	var ce *CompileError
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "exceeds maximum allowed nodes") {
		t.Errorf("Compile of %d elements = %v; want a CompileError about the size", lo+1, err)
	}
}

// TestMaxDepth checks the nesting limit of events at its edge, for objects
// and arrays, through ParseEvent, Evaluate and Engine.Process.
func TestMaxDepth(t *testing.T) {
	nested := func(depth int, open, close string) []byte {
		// The event object is the first level.
		return []byte(`{"a":` + strings.Repeat(open, depth-1) + "1" + strings.Repeat(close, depth-1) + "}")
	}
	r := &Rule{Severity: SeverityInfo, ID: "R.Depth", Condition: "a != nil"}
	eng, err := NewEngine([]*Rule{r}, WithSink(AlertSinkFunc(func(*Alert) error { return nil })))
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []struct{ open, close string }{{`{"a":`, "}"}, {"[", "]"}} {
		for _, tt := range []struct {
			depth int
			ok    bool
		}{{MaxDepth - 1, true}, {MaxDepth, true}, {MaxDepth + 1, false}} {
			data := nested(tt.depth, kind.open, kind.close)
			_, perr := ParseEvent(data)
			_, eerr := r.Evaluate(data)
			xerr := eng.Process(data)
			for name, err := range map[string]error{"ParseEvent": perr, "Evaluate": eerr, "Process": xerr} {
				var se *SyntaxError
				switch {
				case tt.ok && err != nil:
					t.Errorf("%s(%d levels of %s) = %v; want no error", name, tt.depth, kind.open, err)
				case !tt.ok && (!errors.As(err, &se) || !strings.Contains(se.Msg, fmt.Sprintf("deeper than %d levels", MaxDepth))):
					t.Errorf("%s(%d levels of %s) = %v; want a *SyntaxError about the nesting", name, tt.depth, kind.open, err)
				}
			}
		}
	}
}

// TestEventMemory checks the documented bound on what decoding an event
// allocates, about 65 times its size, on the worst shapes known: long
// arrays of tiny values.
func TestEventMemory(t *testing.T) {
	for _, elem := range []string{"{}", "[]", `{"":0}`, `{"":[]}`, `{"":{"":0}}`, "0"} {
		data := []byte(`{"a":[` + strings.Repeat(elem+",", (1<<20)/(len(elem)+1)) + elem + "]}")
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ev, err := ParseEvent(data)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		runtime.KeepAlive(ev)
		if ratio := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(data)); ratio > 70 {
			t.Errorf("decoding %d bytes of %s allocated %.1f times as much; want at most about 65", len(data), elem, ratio)
		}
	}
}

// TestLimitsSettings checks that the evaluation limits set with WithLimits
// and Loader.Limits apply at their edge, that the same expression
// compiled with other limits keeps its own, and that zero means the
// package constants.
func TestLimitsSettings(t *testing.T) {
	ev := map[string]any{"a": ints(1000)}
	cond := "any(a, false)" // 1,000 steps
	for _, tt := range []struct {
		lim  Limits
		over bool
	}{
		{Limits{MaxEvalCost: 1000}, false},
		{Limits{MaxEvalCost: 999}, true},
		{Limits{}, false},
	} {
		r, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.Limits", Condition: cond}, WithLimits(tt.lim))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Evaluate(ev)
		if tt.over {
			var ee *EvalError
			if !errors.As(err, &ee) || !errors.Is(err, errOverBudget) || !strings.Contains(err.Error(), "more than 999 steps (detect.Limits.MaxEvalCost)") {
				t.Errorf("Evaluate with %+v = %v; want over 999 steps", tt.lim, err)
			}
		} else if err != nil {
			t.Errorf("Evaluate with %+v = %v; want no error", tt.lim, err)
		}
	}
	// Memory: a range of 1,000 elements at a budget of 1,000 and 1,001.
	for _, tt := range []struct {
		mem  int
		over bool
	}{{1001, false}, {1000, true}} {
		r := MustCompile(&Rule{Severity: SeverityInfo, ID: "R.Mem", Condition: "len(1..n) > 0"}, WithLimits(Limits{MaxEvalMemory: tt.mem}))
		_, err := r.Evaluate(map[string]any{"n": 1000})
		if (err != nil) != tt.over || tt.over && !strings.Contains(err.Error(), "memory budget exceeded") {
			t.Errorf("Evaluate(1..1000) with MaxEvalMemory %d = %v; want over %v", tt.mem, err, tt.over)
		}
	}
	// Nodes: an expression of 7 nodes.
	for _, tt := range []struct {
		nodes int
		ok    bool
	}{{7, true}, {6, false}} {
		_, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.Nodes", Condition: "a == 1 && b == 2"}, WithLimits(Limits{MaxNodes: tt.nodes}))
		if (err == nil) != tt.ok {
			t.Errorf("Compile(7 nodes) with MaxNodes %d = %v; want ok %v", tt.nodes, err, tt.ok)
		}
	}
	// The loader's limits.
	fsys := fstest.MapFS{"r.yml": {Data: []byte("AnalysisType: rule\nRuleID: L.Rule\nEnabled: true\nLogTypes: [X]\nSeverity: Low\nCondition: any(a, false)\n")}}
	rules, err := (&Loader{Limits: Limits{MaxEvalCost: 999}}).LoadFS(fsys, ".")
	if err != nil || len(rules) != 1 {
		t.Fatal(rules, err)
	}
	if _, err := rules[0].Evaluate(ev); !errors.Is(err, errOverBudget) {
		t.Errorf("Evaluate of a rule loaded with MaxEvalCost 999 = %v; want over budget", err)
	}
}
