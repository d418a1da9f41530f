package detect

import (
	"errors"
	"fmt"
	"reflect"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/expr-lang/expr/vm/runtime"
)

// semanticsEvent exercises Panther's field semantics: nested objects, mixed
// letter case, arrays of objects, nulls and numbers.
const semanticsEvent = `{
  "status": "SUCCESS",
  "action": "RevokeUserSessions",
  "sourceIP": "12.34.56.78",
  "user": {"id": "u1", "name": "alice@example.com", "Roles": ["admin", "dev"]},
  "serviceAccount": null,
  "bytes": 5368709120,
  "ratio": 0.25,
  "port": 443,
  "type": "audit",
  "Name": "upper", "name": "lower",
  "AA": 1, "aa": 2,
  "Zz": "first-in-byte-order-is-Zz", "zZ": "second",
  "items": [{"Key": "a", "n": 1}, {"key": "b", "n": 2}, {"KEY": "c", "n": 3}],
  "empty": [],
  "text": "Hello, World",
  "nested": {"deep": {"Deeper": {"value": "x"}}}
}`

func TestConditionSemantics(t *testing.T) {
	tests := []struct {
		name string
		cond string
		want bool
	}{
		{"equality", `status == "SUCCESS" && action == "RevokeUserSessions"`, true},
		{"equality false", `status == "FAILED"`, false},
		{"nested path", `user.name == "alice@example.com"`, true},
		{"deep path with case fallback", `nested.DEEP.deeper.VALUE == "x"`, true},
		{"missing field is nil", `missing == nil`, true},
		{"missing field is not a value", `missing == "x"`, false},
		{"field of missing object is nil", `missing.a.b.c == nil`, true},
		{"field of null object is nil", `serviceAccount.name == nil`, true},
		{"field of a string is nil", `status.length == nil`, true},
		{"field of a number is nil", `port.x == nil`, true},
		{"not equal on missing", `missing != "x"`, true},
		{"case fallback top level", `sourceip == "12.34.56.78"`, true},
		{"case fallback upper", `SOURCEIP == "12.34.56.78"`, true},
		{"exact match wins over fallback", `name == "lower" && Name == "upper"`, true},
		{"several fallbacks: first in byte order", `zz == "first-in-byte-order-is-Zz"`, true},
		{"exact wins among duplicates", `AA == 1 && aa == 2 && Aa == 1`, true},
		{"fallback inside arrays", `items[1].KEY == "b" && items[2].key == "c"`, true},
		{"index out of range is nil", `items[10] == nil && items[10].key == nil`, true},
		{"negative index", `items[-1].n == 3`, true},
		{"ordering on nil is false", `missing > 1`, false},
		{"ordering on nil is false (<)", `missing < 1`, false},
		{"ordering on nil is false (<=)", `missing <= 1`, false},
		{"ordering on nil is false (>=)", `missing >= 1`, false},
		{"negated ordering on nil", `!(missing > 1)`, true},
		{"ordering numbers", `port > 100 && port <= 443 && ratio < 1`, true},
		{"int and float compare", `bytes > 5368709119.5`, true},
		{"whole number stays exact", `bytes == 5368709120`, true},
		{"ordering strings", `status > "A"`, true},
		{"contains", `text contains "World"`, true},
		{"contains on nil", `missing contains "x"`, false},
		{"contains nil needle", `text contains missing`, false},
		{"startsWith", `action startsWith "Revoke"`, true},
		{"startsWith on nil", `missing startsWith "x"`, false},
		{"endsWith", `action endsWith "Sessions"`, true},
		{"endsWith on nil", `missing endsWith "x"`, false},
		{"matches", `sourceIP matches "^12\\.34\\."`, true},
		{"matches on nil", `missing matches ".*"`, false},
		{"matches dynamic pattern", `action matches ("^" + "Revoke")`, true},
		{"in list", `action in ["CreateUser", "RevokeUserSessions"]`, true},
		{"in list false", `action in ["CreateUser"]`, false},
		{"in list with nil needle", `missing in ["a", nil]`, false},
		{"not in with nil needle", `missing not in ["a"]`, true},
		{"in list of numbers int/float", `port in [80, 443.0]`, true},
		{"in field list", `"admin" in user.roles`, true},
		{"in missing list", `"admin" in missing`, false},
		{"in map keys", `"name" in user`, true},
		{"nil in boolean position", `missing`, false},
		{"nil in && is false", `missing && true`, false},
		{"nil in || is false", `missing || status == "SUCCESS"`, true},
		{"not nil is true", `!missing`, true},
		{"nil ternary condition", `(missing ? 1 : 2) == 2`, true},
		{"len nil", `len(missing) == 0`, true},
		{"len string", `len(status) == 7`, true},
		{"any over nil", `any(missing, .x == 1)`, false},
		{"all over nil", `all(missing, .x == 1)`, true},
		{"none over nil", `none(missing, .x == 1)`, true},
		{"count over nil", `count(missing, .x == 1) == 0`, true},
		{"filter over nil", `len(filter(missing, .x == 1)) == 0`, true},
		{"map over nil", `len(map(missing, .x)) == 0`, true},
		{"one over nil", `one(missing, .x == 1)`, false},
		{"any over objects with case fallback", `any(items, .KEY == "c")`, true},
		{"predicate nil is false", `any(items, .missing)`, false},
		{"$env field named like a builtin", `$env.type == "audit"`, true},
		{"$env bracket", `$env["sourceIP"] == "12.34.56.78"`, true},
		{"let variables", `let u = user; u.id == "u1"`, true},
		{"nil coalescing", `(missing ?? "d") == "d"`, true},
		{"empty list", `len(empty) == 0 && !any(empty, # == 1)`, true},
		{"slice", `action[0:6] == "Revoke"`, true},
		{"slice of nil", `missing[0:2] == nil`, true},
		{"string functions", `lower(action) == "revokeusersessions"`, true},
		{"optional chaining", `missing?.x == nil`, true},
		{"condition yielding nil", `missing ?? nil`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Rule{Severity: SeverityInfo, ID: "Test.Semantics", Condition: tt.cond}
			got, err := r.Evaluate([]byte(semanticsEvent))
			if err != nil {
				t.Fatalf("Evaluate(%s) error: %v", tt.cond, err)
			}
			if got != tt.want {
				t.Errorf("Evaluate(%s) = %v; want %v", tt.cond, got, tt.want)
			}
		})
	}
}

func TestConditionRuntimeErrors(t *testing.T) {
	tests := []struct {
		name string
		cond string
		want string // substring of the error
	}{
		{"arithmetic on nil", `missing + 1 > 2`, "invalid operation"},
		{"int() on text", `int(status) > 2`, "invalid operation"},
		{"non-boolean field in boolean position", `status`, "expected a boolean, got string"},
		{"ordering mismatched types", `status > 1`, "cannot compare string and int"},
		{"contains on a number", `port contains "4"`, "contains needs strings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Rule{Severity: SeverityInfo, ID: "Test.Errors", Condition: tt.cond}
			got, err := r.Evaluate([]byte(semanticsEvent))
			if err == nil {
				t.Fatalf("Evaluate(%s) = %v, nil; want an error", tt.cond, got)
			}
			var ee *EvalError
			if !asEvalError(err, &ee) {
				t.Fatalf("Evaluate(%s) error %T is not an *EvalError", tt.cond, err)
			}
			if ee.RuleID != "Test.Errors" || ee.Part != "condition" {
				t.Errorf("EvalError names rule %q part %q; want Test.Errors condition", ee.RuleID, ee.Part)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Evaluate(%s) error = %q; want it to contain %q", tt.cond, err, tt.want)
			}
			if !strings.Contains(err.Error(), "Test.Errors") {
				t.Errorf("error %q does not name the rule", err)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name     string
		rule     Rule
		part     string
		line     int
		column   int
		contains string
	}{
		{"syntax", Rule{Severity: SeverityInfo, ID: "R.Syntax", Condition: `status == `}, "condition", 1, 10, "unexpected token"},
		{"second line", Rule{Severity: SeverityInfo, ID: "R.Line", Condition: "status == \"x\" &&\n  foo(1)"}, "condition", 2, 3, "unknown function foo"},
		{"not boolean", Rule{Severity: SeverityInfo, ID: "R.Bool", Condition: `"text"`}, "condition", 1, 1, "boolean"},
		{"not boolean arithmetic", Rule{Severity: SeverityInfo, ID: "R.Bool2", Condition: `1 + 2`}, "condition", 1, 3, "boolean"},
		{"bad regexp", Rule{Severity: SeverityInfo, ID: "R.Re", Condition: `action matches "("`}, "condition", 1, 16, "missing closing )"},
		{"empty condition", Rule{Severity: SeverityInfo, ID: "R.Empty"}, "condition", 0, 0, "empty"},
		{"title", Rule{Severity: SeverityInfo, ID: "R.Title", Condition: "true", Title: "x {action ==} y"}, "title", 1, 12, "unexpected token"},
		{"title unclosed brace", Rule{Severity: SeverityInfo, ID: "R.Brace", Condition: "true", Title: "a {b"}, "title", 1, 3, "unclosed"},
		{"title lone closing brace", Rule{Severity: SeverityInfo, ID: "R.Brace2", Condition: "true", Title: "a } b"}, "title", 1, 3, "unmatched"},
		{"output", Rule{Severity: SeverityInfo, ID: "R.Out", Condition: "true", Fields: []Field{{Name: "ip", Expr: "sourceIP +"}}}, "output ip", 1, 10, "unexpected token"},
		{"group by", Rule{Severity: SeverityInfo, ID: "R.Group", Condition: "true", GroupBy: []string{"id", "(("}}, "group by 2", 1, 2, "unexpected token"},
		{"dynamic severity", Rule{Severity: SeverityInfo, ID: "R.Sev", Condition: "true", DynamicSeverities: []DynamicSeverity{{ChangeTo: SeverityHigh, Condition: `"x"`}}}, "dynamic severity 1", 1, 1, "boolean"},
		{"negative threshold", Rule{Severity: SeverityInfo, ID: "R.Thr", Condition: "true", Threshold: -1}, "threshold", 0, 0, "negative"},
		{"negative dedup", Rule{Severity: SeverityInfo, ID: "R.Dedup", Condition: "true", DedupPeriod: -1}, "dedup period", 0, 0, "negative"},
		{"duplicate output", Rule{Severity: SeverityInfo, ID: "R.Dup", Condition: "true", Fields: []Field{{Name: "a", Expr: "x"}, {Name: "a", Expr: "y"}}}, "output a", 0, 0, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rule
			_, err := Compile(&r)
			if err == nil {
				t.Fatalf("Compile(%s) succeeded; want an error", tt.rule.ID)
			}
			ce, ok := err.(*CompileError)
			if !ok {
				t.Fatalf("Compile(%s) error %T; want *CompileError", tt.rule.ID, err)
			}
			if ce.RuleID != tt.rule.ID || ce.Part != tt.part || ce.Line != tt.line || ce.Column != tt.column {
				t.Errorf("Compile(%s) error at %s %d:%d; want %s %d:%d\n%v", tt.rule.ID, ce.Part, ce.Line, ce.Column, tt.part, tt.line, tt.column, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.contains) || !strings.Contains(msg, tt.rule.ID) {
				t.Errorf("Compile(%s) error = %q; want it to name the rule and contain %q", tt.rule.ID, msg, tt.contains)
			}
			if tt.line > 0 && !strings.Contains(msg, "^") {
				t.Errorf("Compile(%s) error has no caret:\n%s", tt.rule.ID, msg)
			}
			// The failure is cached: using the rule reports it again.
			if _, err := r.Evaluate(map[string]any{}); err == nil {
				t.Errorf("Evaluate on a rule that does not compile succeeded")
			}
		})
	}
}

func TestProgramsAreShared(t *testing.T) {
	cond := `status == "SUCCESS" && action == "Shared"`
	var first *program
	for i := 0; i < 1000; i++ {
		r := &Rule{Severity: SeverityInfo, ID: "R", Condition: cond}
		c, err := r.compiled()
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = c.condition
		} else if c.condition != first {
			t.Fatalf("rule %d compiled its own program; want the cached one", i)
		}
	}
}

// TestProgramsGoWithTheirRules checks that the cache keeps a program only
// while a rule holds it: a dropped rule's program is collected and its
// entry removed, and compiling the source again works.
func TestProgramsGoWithTheirRules(t *testing.T) {
	cond := `action == "OnlyInTestProgramsGoWithTheirRules"`
	key := cacheKey{source: cond, kind: kindBool, limits: Limits{}.withDefaults()}
	r := &Rule{Severity: SeverityInfo, ID: "R", Condition: cond}
	if _, err := r.compiled(); err != nil {
		t.Fatal(err)
	}
	if _, ok := programCache.Load(key); !ok {
		t.Fatalf("no cache entry for %q while its rule is alive", key.source)
	}
	goruntime.KeepAlive(r)
	r = nil
	deadline := time.Now().Add(5 * time.Second)
	for {
		goruntime.GC()
		if _, ok := programCache.Load(key); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the program of a dropped rule is still cached")
		}
		time.Sleep(10 * time.Millisecond)
	}
	again := &Rule{Severity: SeverityInfo, ID: "R", Condition: cond}
	if ok, err := again.Evaluate(map[string]any{"action": "OnlyInTestProgramsGoWithTheirRules"}); !ok || err != nil {
		t.Errorf("compiled again: Evaluate = %v, %v; want true", ok, err)
	}
}

// TestFieldsNamedLikeBuiltins checks that a name that is not called reads
// a field, for the builtins that detect replaces with its own functions
// as for the others.
func TestFieldsNamedLikeBuiltins(t *testing.T) {
	ev := map[string]any{"replace": "a", "repeat": "b", "type": "c"}
	for _, cond := range []string{`replace == "a"`, `repeat == "b"`, `type == "c"`, `$env.replace == "a"`,
		`replace(replace, "a", "x") == "x"`, `repeat(repeat, 2) == "bb"`} {
		r := &Rule{Severity: SeverityInfo, ID: "R.Names", Condition: cond}
		if ok, err := r.Evaluate(ev); !ok || err != nil {
			t.Errorf("Evaluate(%s) = %v, %v; want true", cond, ok, err)
		}
	}
}

func TestDefinitions(t *testing.T) {
	fs := NewFunctions()
	if err := fs.Define("is_admin", `"admin" in user.roles`); err != nil {
		t.Fatal(err)
	}
	if err := fs.Define("admin_name", `is_admin() ? user.name : "nobody"`); err != nil {
		t.Fatal(err)
	}
	r, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.Defs", Condition: "is_admin()", Title: "admin {admin_name()}",
		Fields: []Field{{Name: "who", Expr: "admin_name()"}}}, WithFunctions(fs))
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Match([]byte(semanticsEvent))
	if err != nil || m == nil {
		t.Fatalf("Match = %v, %v; want a match", m, err)
	}
	if m.Title != "admin alice@example.com" {
		t.Errorf("Title = %q; want %q", m.Title, "admin alice@example.com")
	}
	if v, _ := m.Outputs.Get("who"); v != "alice@example.com" {
		t.Errorf("output who = %v; want alice@example.com", v)
	}

	if err := fs.Define("loop_a", "loop_b()"); err != nil {
		t.Fatal(err)
	}
	if err := fs.Define("loop_b", "loop_a()"); err != nil {
		t.Fatal(err)
	}
	_, err = Compile(&Rule{Severity: SeverityInfo, ID: "R.Loop", Condition: "loop_a()"}, WithFunctions(fs))
	if err == nil || !strings.Contains(err.Error(), "uses itself") {
		t.Errorf("Compile with a cyclic definition: err = %v; want 'uses itself'", err)
	}
	if err := fs.Define("bad", "a =="); err == nil {
		t.Errorf("Define with a syntax error succeeded")
	}
	if err := fs.Define("is_admin", "true"); err == nil {
		t.Errorf("Define of an existing name succeeded")
	}
	// Without the definitions the call is an unknown function.
	if _, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.NoDefs", Condition: "is_admin()"}); err == nil {
		t.Errorf("Compile without the definitions succeeded")
	}
}

func TestPrefilterSound(t *testing.T) {
	tests := []struct {
		cond  string
		event string
		want  bool // the full evaluation's answer
	}{
		{`action == "Revoke"`, `{"action": "Revoke"}`, true},
		{`action == "Revoke"`, `{"action": "Revok\u0065"}`, true},           // escape: never rejected
		{`action == "Revoke"`, `{"ACTION": "Revoke"}`, true},                // case fallback
		{`action == "Revoke"`, `{"action": "x", "action": "Revoke"}`, true}, // duplicate key, last wins
		{`action == "Revoke"`, `{"action": "NotRevoke"}`, false},
		{`action in ["A", "B"] && status == "OK"`, `{"action": "B", "status": "OK"}`, true},
		{`action in ["A", "B"] || user.name startsWith "adm"`, `{"user": {"name": "admin"}}`, true},
		{`action contains "evo"`, `{"action": "Revoke"}`, true},
		{`!(action == "x")`, `{}`, true},
		{`action == "x" || true`, `{}`, true},
		{`lower(action) == "revoke"`, `{"action": "REVOKE"}`, true},
		{`action == "é"`, `{"action": "\u00e9"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.cond+" "+tt.event, func(t *testing.T) {
			r := &Rule{Severity: SeverityInfo, ID: "R.Prefilter", Condition: tt.cond}
			got, err := r.Evaluate([]byte(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			full, err := r.Evaluate(NewEvent(mustDecode(t, tt.event)))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || full != tt.want {
				t.Errorf("Evaluate(%s) raw = %v, decoded = %v; want %v", tt.event, got, full, tt.want)
			}
		})
	}
}

func mustDecode(t *testing.T, s string) map[string]any {
	t.Helper()
	m, err := decodeObject([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDirectMatchesVM checks that the direct evaluation of the conditions
// of the semantics table gives the VM's answers.
func TestDirectMatchesVM(t *testing.T) {
	env := mustDecode(t, semanticsEvent)
	conds := []string{
		`status == "SUCCESS" && action == "RevokeUserSessions"`, `status == "FAILED"`, `missing == nil`,
		`sourceip == "12.34.56.78"`, `nested.DEEP.deeper.VALUE == "x"`, `missing > 1`, `port > 100 && port <= 443`,
		`text contains "World"`, `missing contains "x"`, `action startsWith "Revoke"`, `action in ["CreateUser", "RevokeUserSessions"]`,
		`missing in ["a", nil]`, `missing not in ["a"]`, `!missing`, `missing || status == "SUCCESS"`, `items[1].KEY == "b"`,
		`status > 1`, `port contains "4"`, `status`, `true`, `false || nil`, `sourceIP matches "^12\\."`, `len(missing) == 0`,
	}
	direct := 0
	for _, c := range conds {
		p, e := compileExpr(c, kindBool, nil, Limits{}.withDefaults())
		if e != nil {
			t.Fatalf("compile %s: %v", c, e.Msg)
		}
		if p.direct == nil {
			continue
		}
		direct++
		m := new(vm.VM)
		want, wantErr := m.Run(p.prog, env)
		got, gotErr := p.direct(mapEnv(env))
		if gotErr != nil {
			if wantErr == nil {
				t.Errorf("%s: direct error %v; VM gives %v", c, gotErr, want)
			}
			continue
		}
		if wantErr != nil || got != want {
			t.Errorf("%s: direct = %v; VM = %v, %v", c, got, want, wantErr)
		}
	}
	if direct < len(conds)/2 {
		t.Errorf("only %d of %d conditions are evaluated directly", direct, len(conds))
	}
}

// TestFoldedReadsMatchVM checks that reading a key from an object the
// expression builds (the field of a definition that returns a map) gives
// the VM's answer, errors included, without building the object.
func TestFoldedReadsMatchVM(t *testing.T) {
	env := mustDecode(t, semanticsEvent)
	actor := `(user != nil ? {"type": "user", "id": user.id, "name": user.name} : serviceAccount != nil ? {"type": "sa", "name": serviceAccount.name} : {"type": "unknown", "name": "unknown"})`
	exprs := []string{
		actor + `.type`, actor + `.name`, actor + `.NAME`, actor + `.missing`, actor + `.name.first`,
		`(serviceAccount != nil ? {"type": "sa"} : {"type": "none"}).type`,
		`{"Type": 1, "type": 2}.TYPE`, `{"Type": 1, "type": 2}.type`, `{"B": 1, "a": 2}.b`,
		`{"a": 1, "a": 2}.a`, `{"a": user.Roles, "b": 1}.a[1]`, `{"a": 1}.b`,
		`{"a": int("x"), "b": 1}.b`, `{"a": status + 1, "b": 1}.b`, `(port > 1 ? {"a": 1} : {"a": 2}).a`,
		`(status ? {"a": 1} : {"a": 2}).a`, `{"a": {"b": {"c": action}}}.a.b.c`,
		`{"a": status, "a": action}`, `{"a": status, "b": action}`,
		`user == nil`, `nil != user`, `missing == nil`, `nil == serviceAccount`, `port != nil`, `items != nil`,
		`user.Roles == nil`, `$env == nil`, `nil == nil`, `ratio != nil`,
	}
	for _, x := range exprs {
		p, e := compileExpr(x, kindValue, nil, Limits{}.withDefaults())
		if e != nil {
			t.Fatalf("compile %s: %v", x, e.Msg)
		}
		m := new(vm.VM)
		want, wantErr := m.Run(p.prog, env)
		got, gotErr := p.run(mapEnv(env))
		if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, %v; VM gives %v, %v", x, got, gotErr, want, wantErr)
		}
	}
	// The actor's fields are read without building the actor.
	for _, x := range []string{actor + `.type`, actor + `.name`} {
		p, _ := compileExpr(x, kindValue, nil, Limits{}.withDefaults())
		if p.direct == nil {
			t.Fatalf("%s is not evaluated directly", x)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = p.direct(mapEnv(env)) }); n != 0 {
			t.Errorf("%s: %v allocations per run; want 0", x, n)
		}
	}
}

// TestDirectCallsAllocateNothing checks that a direct program calls the
// internal functions without building their arguments on the heap.
func TestDirectCallsAllocateNothing(t *testing.T) {
	env := map[string]any{"action": "RevokeUserSessions", "count": 5, "tags": []any{"a", "b"}}
	for _, x := range []string{
		`action startsWith "Revoke"`, `action endsWith "Sessions"`, `action contains "User"`,
		`count > 3`, `count <= 3`, `count >= 5`, `count < 9`, `action matches "^Rev"`,
		`action in ["A", "RevokeUserSessions"]`, `"a" in tags`, `len(action) > 3`, `action == "x" || !(count > 1)`,
	} {
		p, e := compileExpr(x, kindBool, nil, Limits{}.withDefaults())
		if e != nil {
			t.Fatalf("compile %s: %v", x, e.Msg)
		}
		if p.direct == nil {
			t.Fatalf("%s is not evaluated directly", x)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = p.direct(mapEnv(env)) }); n != 0 {
			t.Errorf("%s: %v allocations per run; want 0", x, n)
		}
	}
}

func TestRegexpLiterals(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{`^(CreateUser|DeleteUser)$`, []string{"CreateUser", "DeleteUser"}},
		{`^Delete.*Bucket$`, []string{"Delete"}},
		{`abc`, []string{"abc"}},
		{`(?i)abc`, nil},
		{`a*`, nil},
		{`^(Create|x*)User`, []string{"User"}},
		{`[0-9]+`, nil},
		{`x|y*`, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, n := range regexpLiterals(tt.pattern) {
			got = append(got, string(n.text))
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("regexpLiterals(%q) = %q; want %q", tt.pattern, got, tt.want)
		}
	}
}

// TestDefinitionsInlinedSize checks that definitions calling others count
// toward MaxNodes as they are inlined, so that doubling at every level is a
// compile error rather than a compile that never ends.
func TestDefinitionsInlinedSize(t *testing.T) {
	fs := NewFunctions()
	if err := fs.Define("d0", `a == 1`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 40; i++ {
		if err := fs.Define(fmt.Sprintf("d%d", i), fmt.Sprintf("d%d() || d%d()", i-1, i-1)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.Doubling", Condition: "d40()"}, WithFunctions(fs))
	var ce *CompileError
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, "nodes with its definitions inlined") {
		t.Fatalf("Compile(d40()) = %v; want a CompileError about the inlined size", err)
	}
	// d10 inlines 2^10 copies of d0: 2^10*4 + 2^10-1 nodes with the ||s,
	// within the limit.
	if _, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.Doubling10", Condition: "d10()"}, WithFunctions(fs)); err != nil {
		t.Errorf("Compile(d10()) = %v", err)
	}

	// At the edge: the caller and the inlined list fill MaxNodes exactly.
	caller := "len(list()) > 0"
	tree, err := parser.Parse(caller)
	if err != nil {
		t.Fatal(err)
	}
	room := MaxNodes - countNodes(tree.Node)
	list := func(n int) string { // n nodes: the array and n-1 elements
		return "[" + strings.TrimSuffix(strings.Repeat("1,", n-1), ",") + "]"
	}
	for _, tt := range []struct {
		nodes int
		ok    bool
	}{{room, true}, {room + 1, false}} {
		fs := NewFunctions()
		if err := fs.Define("list", list(tt.nodes)); err != nil {
			t.Fatal(err)
		}
		_, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.Edge", Condition: caller}, WithFunctions(fs))
		if (err == nil) != tt.ok {
			t.Errorf("Compile with a definition of %d nodes (room %d) = %v; want ok %v", tt.nodes, room, err, tt.ok)
		}
	}
}

// TestRegexpCacheBounded checks that patterns taken from events do not
// grow the cache of compiled regular expressions beyond its bytes, and
// still match once it is full; that a pattern too long to keep is not
// kept; and that one too long to compile within the budget is a rule
// error before it is compiled.
func TestRegexpCacheBounded(t *testing.T) {
	regexpCache.Clear()
	regexpCacheBytes.Store(0)
	r := &Rule{Severity: SeverityInfo, ID: "R.DynamicPattern", Condition: `text matches pattern`}
	// Patterns of about 3 KiB, each estimated at about 190 KiB compiled:
	// a few dozen of them fill the cache.
	pad := strings.Repeat("x", 3000)
	for i := 0; i < 200; i++ {
		ev := map[string]any{"text": fmt.Sprintf("id-%d%s", i, pad), "pattern": fmt.Sprintf("^id-%d%s$", i, pad)}
		if ok, err := r.Evaluate(ev); !ok || err != nil {
			t.Fatalf("Evaluate(pattern %d) = %v, %v; want true", i, ok, err)
		}
	}
	var n, size int64
	regexpCache.Range(func(_, v any) bool { n++; size += v.(*cachedRegexp).size(); return true })
	if size > MaxRegexpCacheBytes || regexpCacheBytes.Load() != size || n == 0 {
		t.Errorf("regexp cache holds %d patterns of %d bytes (counter %d); want some, at most %d bytes", n, size, regexpCacheBytes.Load(), MaxRegexpCacheBytes)
	}
	long := "^y$|" + strings.Repeat("z", maxCachedPattern)
	if ok, err := r.Evaluate(map[string]any{"text": "y", "pattern": long}); !ok || err != nil {
		t.Fatalf("Evaluate(long pattern) = %v, %v; want true", ok, err)
	}
	if _, cached := regexpCache.Load(long); cached {
		t.Errorf("a pattern of %d bytes is cached; want none over %d", len(long), maxCachedPattern)
	}
	// Patterns from an event that would take long to compile: one of
	// 1 MiB is longer than MaxPatternBytes, and one of repetitions,
	// thousands of instructions for each few bytes, is over the budget
	// before it is compiled.
	for _, tt := range []struct{ pattern, want string }{
		{strings.Repeat("(a|b)", 1<<20/5), "MaxPatternBytes"},
		{strings.Repeat("a{1000}", MaxPatternBytes/7), "MaxEvalCost"},
	} {
		start := time.Now()
		_, err := r.Evaluate(map[string]any{"text": "ab", "pattern": tt.pattern})
		var ee *EvalError
		if !errors.As(err, &ee) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Evaluate(pattern %.20s... of %d bytes) = %v; want a rule error over %s", tt.pattern, len(tt.pattern), err, tt.want)
		}
		if d := time.Since(start); d > 2*time.Second*slowdown() {
			t.Errorf("Evaluate(pattern %.20s... of %d bytes) took %v", tt.pattern, len(tt.pattern), d)
		}
		if _, cached := regexpCache.Load(tt.pattern); cached {
			t.Errorf("pattern %.20s... over the budget is cached", tt.pattern)
		}
	}
}

// TestLiteralPatternsNotCached checks that a literal pattern is compiled
// with its program and kept by it alone: the process-wide cache, bounded,
// is left to patterns read from events, which a catalog of literal
// patterns would otherwise fill (and keep after its rules are dropped).
func TestLiteralPatternsNotCached(t *testing.T) {
	// An empty cache, that the other tests may have filled.
	regexpCache.Clear()
	regexpCacheBytes.Store(0)
	const pattern = `^literal-(\d+)-not-cached$`
	r := &Rule{Severity: SeverityInfo, ID: "R.LiteralPattern", Condition: "text matches \"" + strings.ReplaceAll(pattern, `\`, `\\`) + "\""}
	ok, err := r.Evaluate(map[string]any{"text": "literal-42-not-cached"})
	if !ok || err != nil {
		t.Fatalf("Evaluate = %v, %v; want true", ok, err)
	}
	if _, cached := regexpCache.Load(pattern); cached {
		t.Errorf("literal pattern %q is in the process-wide regexp cache", pattern)
	}
	// A pattern read from the event is cached.
	dyn := &Rule{Severity: SeverityInfo, ID: "R.DynamicPattern", Condition: `text matches pattern`}
	const read = `^read-from-the-event$`
	if ok, err := dyn.Evaluate(map[string]any{"text": "read-from-the-event", "pattern": read}); !ok || err != nil {
		t.Fatalf("Evaluate = %v, %v; want true", ok, err)
	}
	if _, cached := regexpCache.Load(read); !cached {
		t.Errorf("pattern %q read from an event is not cached", read)
	}
}

// TestPlainPrograms checks which expressions are known to give values of
// decoded JSON on a decoded event, so that alerts carry them unchecked.
func TestPlainPrograms(t *testing.T) {
	for src, want := range map[string]bool{
		`user.name`: true,
		`$env`:      true,
		`{"id": user.id, "type": "user", "n": 1, "f": 0.5, "b": true, "z": nil}`:  true,
		`user != nil ? {"type": "user", "name": user.name} : {"type": "unknown"}`: true,
		`{"a": {"b": 1}}`:       true,
		`{"d": duration("1h")}`: false,
		`now()`:                 false,
		`{"t": now()}`:          false,
		`lower(user.name)`:      false,
		`{"n": len(items)}`:     false,
		`groupBy(items, .Key)`:  false,
	} {
		p, e := compileExpr(src, kindValue, nil, Limits{}.withDefaults())
		if e != nil {
			t.Fatalf("compile %s: %v", src, e.Msg)
		}
		if p.plain != want {
			t.Errorf("%s: plain = %v; want %v", src, p.plain, want)
		}
	}
}

func TestIsNil(t *testing.T) {
	var (
		nilPtr   *int
		nilMap   map[string]any
		nilSlice []any
		nilOther map[int]int
		nilFunc  func()
	)
	for _, v := range []any{nil, nilPtr, nilMap, nilSlice, nilOther, nilFunc, 0, 1.5, "", "x", false, true,
		map[string]any{}, []any{}, map[int]int{}, new(int), struct{}{}, []string(nil), int64(0)} {
		if got, want := isNil(v), runtime.Equal(v, nil); got != want {
			t.Errorf("isNil(%#v) = %v; runtime.Equal(v, nil) = %v", v, got, want)
		}
	}
}
