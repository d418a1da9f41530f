package detect

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// testFunctions returns a set with functions of several shapes.
func testFunctions(t testing.TB) *Functions {
	t.Helper()
	fns := NewFunctions()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fns.RegisterFunc("isInternal", func(ip string) bool { return strings.HasPrefix(ip, "10.") }))
	must(fns.RegisterFunc("hasSuffixAny", func(s string, suffixes ...string) bool {
		for _, x := range suffixes {
			if strings.HasSuffix(s, x) {
				return true
			}
		}
		return false
	}))
	must(fns.RegisterFunc("double", func(n int64) int64 { return n * 2 }))
	must(fns.RegisterFunc("small", func(n int8) bool { return n < 10 }))
	must(fns.RegisterFunc("half", func(x float64) float64 { return x / 2 }))
	must(fns.RegisterFunc("year", func(t time.Time) int { return t.Year() }))
	must(fns.RegisterFunc("joined", func(parts []string) string { return strings.Join(parts, "+") }))
	must(fns.RegisterFunc("keys", func(m map[string]any) int { return len(m) }))
	must(fns.RegisterFunc("describe", func(v any) string { return typeName(v) }))
	must(fns.RegisterFunc("orDefault", func(p *string) string {
		if p == nil {
			return "default"
		}
		return *p
	}))
	must(fns.RegisterFunc("checked", func(s string) (string, error) {
		if s == "bad" {
			return "", errors.New("checked: bad input")
		}
		return strings.ToUpper(s), nil
	}))
	must(fns.RegisterFunc("explode", func(s string) bool { panic("explode: " + s) }))
	must(fns.RegisterFunc("explodeSlowly", func(s string, n int) bool {
		var list []int
		return list[n] > 0 // index out of range: a runtime panic
	}))
	type level string
	must(fns.RegisterFunc("levelOf", func(l level) string { return "level " + string(l) }))
	must(fns.Register("variadic", func(args ...any) (any, error) {
		if len(args) == 0 {
			return nil, errors.New("variadic: no arguments")
		}
		return len(args), nil
	}, new(func(...any) int)))
	must(fns.Register("panicky", func(args ...any) (any, error) {
		panic(errors.New("panicky: boom"))
	}, new(func(any) bool)))
	return fns
}

const functionsEvent = `{"ip": "10.1.2.3", "pub": "8.8.8.8", "n": 21, "big": 300, "f": 2.0, "frac": 2.5,
  "when": "2024-03-11T04:30:00Z", "epoch": 1710131400, "tags": ["a", "b"], "mixed": ["a", 1],
  "obj": {"x": 1, "y": 2}, "name": "alice", "word": "bad", "level": "high", "flag": true}`

func TestRegisterFunc(t *testing.T) {
	fns := testFunctions(t)
	tests := []struct {
		expr string
		want any
	}{
		{`isInternal(ip)`, true},
		{`isInternal(pub)`, false},
		{`isInternal(missing)`, false},
		{`!isInternal(missing)`, true},
		{`hasSuffixAny(name, "x", "ce")`, true},
		{`hasSuffixAny(name)`, false},
		{`double(n)`, int64(42)},
		{`double(f)`, int64(4)},
		{`double(missing)`, nil},
		{`double(missing) == nil`, true},
		{`small(n)`, false},
		{`half(n)`, 10.5},
		{`half(3)`, 1.5},
		{`year(when)`, 2024},
		{`year(epoch)`, 2024},
		{`joined(tags)`, "a+b"},
		{`joined(["x", "y", "z"])`, "x+y+z"},
		{`joined(missing)`, ""},
		{`keys(obj)`, 2},
		{`keys(missing)`, 0},
		{`describe(n) + " " + describe(missing) + " " + describe(tags)`, "int nil array"},
		{`orDefault(missing)`, "default"},
		{`checked(name)`, "ALICE"},
		{`checked(missing)`, nil},
		{`levelOf(level)`, "level high"},
		{`variadic(1, 2, 3)`, 3},
	}
	env, err := decodeObject([]byte(functionsEvent))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			if got := evalValue(t, tt.expr, env, fns); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %#v (%T); want %#v (%T)", tt.expr, got, got, tt.want, tt.want)
			}
		})
	}
}

// TestFunctionRuleErrors checks that a function that fails, panics or gets
// an argument it cannot take makes a rule error for the event, with the
// position of the call, and that nothing crashes.
func TestFunctionRuleErrors(t *testing.T) {
	fns := testFunctions(t)
	tests := []struct {
		cond     string
		contains string
		column   int
	}{
		{`name == "alice" && checked(word) == "X"`, "checked: bad input", 20},
		{`explode(name)`, "explode: alice", 1},
		{`explodeSlowly(name, 3)`, "index out of range", 1},
		{`panicky(name)`, "panicky: boom", 1},
		{`variadic() > 0`, "variadic: no arguments", 1},
		{`isInternal(n)`, "isInternal: argument 1: want a string, got int", 1},
		{`double(frac) > 1`, "double: argument 1: want a whole number, got float", 1},
		{`small(big)`, "small: argument 1: int out of the range of int8", 1},
		{`year(name) > 2000`, "year: argument 1: want a time, got string", 1},
		{`joined(mixed) == ""`, "joined: argument 1: element 1: want a string, got int", 1},
		{`keys(tags) > 0`, "keys: argument 1: want a map, got array", 1},
		{`half(name) > 1`, "half: argument 1: want a number, got string", 1},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			r, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.Fn", Condition: tt.cond}, WithFunctions(fns))
			if err != nil {
				t.Fatal(err)
			}
			for _, event := range []any{functionsEvent, []byte(functionsEvent), mustMap(t, functionsEvent)} {
				got, err := r.Evaluate(event)
				var ee *EvalError
				if !errors.As(err, &ee) {
					t.Fatalf("Evaluate(%T) = %v, %v; want an *EvalError", event, got, err)
				}
				if ee.RuleID != "R.Fn" || ee.Part != "condition" || !strings.Contains(ee.Msg, tt.contains) || ee.Line != 1 || ee.Column != tt.column {
					t.Errorf("Evaluate(%T) error = %s (%d:%d); want one containing %q at 1:%d", event, err, ee.Line, ee.Column, tt.contains, tt.column)
				}
			}
		})
	}
	// An error returned by a function is kept for errors.Is.
	sentinel := errors.New("sentinel")
	fs2 := NewFunctions()
	if err := fs2.RegisterFunc("fail", func(string) (bool, error) { return false, sentinel }); err != nil {
		t.Fatal(err)
	}
	r := MustCompile(&Rule{Severity: SeverityInfo, ID: "R.Sentinel", Condition: `fail(name)`}, WithFunctions(fs2))
	if _, err := r.Evaluate(functionsEvent); !errors.Is(err, sentinel) {
		t.Errorf("Evaluate = %v; want an error wrapping the function's", err)
	}
}

func mustMap(t testing.TB, event string) map[string]any {
	t.Helper()
	m, err := decodeObject([]byte(event))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFunctionPanicInEngine checks that a panicking function is a rule
// error alert, and that the engine's other rules still run on the event.
func TestFunctionPanicInEngine(t *testing.T) {
	fns := testFunctions(t)
	rules := []*Rule{
		{Severity: SeverityInfo, ID: "R.Panics", Condition: `explode(name)`},
		{Severity: SeverityInfo, ID: "R.Works", Condition: `isInternal(ip)`},
	}
	for _, r := range rules {
		if _, err := Compile(r, WithFunctions(fns)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var alerts []*Alert
	sink := AlertSinkFunc(func(a *Alert) error {
		mu.Lock()
		defer mu.Unlock()
		alerts = append(alerts, a)
		return nil
	})
	e, err := NewEngine(rules, WithSink(sink))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Process([]byte(functionsEvent)); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range alerts {
		got[a.RuleID] = string(a.Type)
	}
	want := map[string]string{"R.Panics": "RULE_ERROR", "R.Works": "RULE"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alerts = %v; want %v", got, want)
	}
}

func TestFunctionCompileErrors(t *testing.T) {
	fns := testFunctions(t)
	tests := []struct {
		cond         string
		line, column int
		contains     string
	}{
		{`isInternal()`, 1, 1, "not enough arguments to call isInternal"},
		{`isInternal(ip, pub)`, 1, 1, "too many arguments to call isInternal"},
		{"ip != nil &&\n   isInternal(42)", 2, 15, "cannot use int as argument (type string) to call isInternal"},
		{`double("x") > 1`, 1, 8, "cannot use string as argument (type int64) to call double"},
		{`hasSuffixAny(name, "a", 1)`, 1, 25, "cannot use int as argument (type string) to call hasSuffixAny"},
		{`isInternall(ip)`, 1, 1, "unknown function isInternall"},
		{`isInternal(ip) + 1 > 0`, 1, 16, "invalid operation: + (mismatched types bool and int)"},
		{`variadic() > "x"`, 1, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			_, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.Call", Condition: tt.cond}, WithFunctions(fns))
			if tt.contains == "" {
				// Compiles: the comparison is checked when it runs.
				if err != nil {
					t.Errorf("Compile(%s) = %v; want no error", tt.cond, err)
				}
				return
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile(%s) = %v; want a *CompileError", tt.cond, err)
			}
			if ce.Line != tt.line || ce.Column != tt.column || !strings.Contains(ce.Msg, tt.contains) {
				t.Errorf("Compile(%s) error at %d:%d %q; want %d:%d containing %q", tt.cond, ce.Line, ce.Column, ce.Msg, tt.line, tt.column, tt.contains)
			}
			if !strings.Contains(err.Error(), "^") {
				t.Errorf("Compile(%s) error has no caret:\n%v", tt.cond, err)
			}
		})
	}
}

func TestRegisterErrors(t *testing.T) {
	fns := NewFunctions()
	if err := fns.RegisterFunc("ok", func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
	}{
		{"twice", fns.RegisterFunc("ok", func(string) bool { return true })},
		{"twice with Register", fns.Register("ok", func(...any) (any, error) { return nil, nil })},
		{"not a function", fns.RegisterFunc("notFunc", 42)},
		{"nil function", fns.RegisterFunc("nilFunc", (func(string) bool)(nil))},
		{"no result", fns.RegisterFunc("noResult", func(string) {})},
		{"two results without error", fns.RegisterFunc("twoResults", func(string) (int, int) { return 0, 0 })},
		{"error only", fns.RegisterFunc("errOnly", func(string) error { return nil })},
		{"channel parameter", fns.RegisterFunc("chanParam", func(chan int) bool { return true })},
		{"empty name", fns.RegisterFunc("", func(string) bool { return true })},
		{"not an identifier", fns.RegisterFunc("is-internal", func(string) bool { return true })},
		{"keyword", fns.RegisterFunc("matches", func(string) bool { return true })},
		{"reserved", fns.RegisterFunc("__mine", func(string) bool { return true })},
		{"nil body", fns.Register("nilBody", nil)},
		{"bad signature", fns.Register("badSig", func(...any) (any, error) { return nil, nil }, 42)},
		{"signature without result", fns.Register("noOut", func(...any) (any, error) { return nil, nil }, new(func(string)))},
		{"definition of a function", fns.Define("ok", "true")},
	}
	for _, tt := range tests {
		if tt.err == nil {
			t.Errorf("%s: no error", tt.name)
		} else if !strings.HasPrefix(tt.err.Error(), "detect: ") {
			t.Errorf("%s: error %q lacks the package prefix", tt.name, tt.err)
		}
	}
}

// TestFunctionsPerSet checks that two sets with a function of the same
// name give the same expression different meanings in one process.
func TestFunctionsPerSet(t *testing.T) {
	a, b := NewFunctions(), NewFunctions()
	if err := a.RegisterFunc("trusted", func(ip string) bool { return strings.HasPrefix(ip, "10.") }); err != nil {
		t.Fatal(err)
	}
	if err := b.RegisterFunc("trusted", func(ip string) bool { return strings.HasPrefix(ip, "192.168.") }); err != nil {
		t.Fatal(err)
	}
	cond := `trusted(ip)`
	ra := MustCompile(&Rule{Severity: SeverityInfo, ID: "R.A", Condition: cond}, WithFunctions(a))
	rb := MustCompile(&Rule{Severity: SeverityInfo, ID: "R.B", Condition: cond}, WithFunctions(b))
	var sinkA, sinkB []*Alert
	ea, err := NewEngine([]*Rule{ra}, WithSink(AlertSinkFunc(func(al *Alert) error { sinkA = append(sinkA, al); return nil })), WithReplay())
	if err != nil {
		t.Fatal(err)
	}
	eb, err := NewEngine([]*Rule{rb}, WithSink(AlertSinkFunc(func(al *Alert) error { sinkB = append(sinkB, al); return nil })), WithReplay())
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{`{"ip": "10.0.0.1"}`, `{"ip": "192.168.0.1"}`, `{"ip": "192.168.0.2"}`} {
		if err := ea.Process([]byte(ev)); err != nil {
			t.Fatal(err)
		}
		if err := eb.Process([]byte(ev)); err != nil {
			t.Fatal(err)
		}
	}
	ea.Flush()
	eb.Flush()
	if len(sinkA) != 1 || sinkA[0].EventCount != 1 || len(sinkB) != 1 || sinkB[0].EventCount != 2 {
		t.Errorf("engine A alerts %d, engine B alerts %d; want one alert of 1 event and one of 2", len(sinkA), len(sinkB))
	}
	// Without the set the function does not exist.
	if _, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.None", Condition: cond}); err == nil {
		t.Error("Compile without the set succeeded")
	}
}

// TestMustCompilePanicNamesRule checks MustCompile's panic with a custom
// function called wrongly.
func TestMustCompilePanicNamesRule(t *testing.T) {
	fns := testFunctions(t)
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "Pack.Bad.Call") || !strings.Contains(msg, "not enough arguments to call isInternal") {
			t.Errorf("MustCompile panic = %q; want it to name the rule and the problem", msg)
		}
	}()
	MustCompile(&Rule{Severity: SeverityInfo, ID: "Pack.Bad.Call", Condition: `isInternal()`}, WithFunctions(fns))
}

// TestDefinitionWithArguments checks the message for a definition called
// like a function.
func TestDefinitionWithArguments(t *testing.T) {
	fns := NewFunctions()
	if err := fns.Define("isAdmin", `"admin" in user.roles`); err != nil {
		t.Fatal(err)
	}
	_, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.Def", Condition: `isAdmin(user)`}, WithFunctions(fns))
	if err == nil || !strings.Contains(err.Error(), "definition isAdmin takes no arguments (1:1)") {
		t.Errorf("Compile(isAdmin(user)) = %v; want an error saying definitions take no arguments", err)
	}
}
