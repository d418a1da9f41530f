package detect

import (
	"encoding/json"
	"errors"
	"testing"
)

// fuzzRules are evaluated on every fuzzed event: equality and membership
// (which the prefilter indexes), nested paths, string predicates,
// arithmetic that may fail, and templates.
var fuzzRules = []*Rule{
	{ID: "F.Eq", Condition: `status == "SUCCESS" && action == "RevokeUserSessions"`, Title: "[{action}] by {user.name}", GroupBy: []string{"id"},
		Fields: []Field{{Name: "ip", Expr: "sourceIP"}, {Name: "params", Expr: "actionParameters"}}},
	{ID: "F.In", Condition: `action in ["CreateUser", "DeleteUser"] || user.name startsWith "adm"`},
	{ID: "F.Nested", Condition: `any(items, .key == "x") || len(user.roles) > 1 || missing.a.b == nil`},
	{ID: "F.Arith", Condition: `count + 1 > 2`, Fields: []Field{{Name: "n", Expr: "int(count) * 2"}}},
	{ID: "F.Re", Condition: `sourceIP matches "^10\\." || userAgent contains "curl"`},
}

func FuzzEvaluate(f *testing.F) {
	for _, s := range []string{
		`{"status": "SUCCESS", "action": "RevokeUserSessions", "user": {"name": "a"}, "id": "e1"}`,
		`{"STATUS": "SUCCESS", "Action": "Revoke\u0055serSessions"}`,
		`{"action": "CreateUser", "items": [{"KEY": "x"}], "count": 3}`,
		`{"count": "abc", "sourceIP": "10.0.0.1"}`,
		`{"user": null, "missing": {"a": []}}`,
		`[]`, `null`, `{"a": 1e999}`, `{"a": "\xff"}`, `{"a": 1} x`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range fuzzRules {
			got, err := r.Evaluate(data)
			if err != nil {
				var se *SyntaxError
				var ee *EvalError
				if !errors.As(err, &se) && !errors.As(err, &ee) {
					t.Fatalf("%s: Evaluate error of unexpected type %T: %v", r.ID, err, err)
				}
				continue
			}
			// The fast path on raw bytes must agree with evaluation of the
			// fully decoded event.
			ev, perr := ParseEvent(data)
			if perr != nil {
				if got {
					t.Fatalf("%s: raw event matched but does not parse: %v", r.ID, perr)
				}
				continue
			}
			full, ferr := r.Evaluate(ev.Map())
			if ferr == nil && full != got {
				t.Fatalf("%s: Evaluate(raw) = %v; Evaluate(decoded) = %v for %q", r.ID, got, full, data)
			}
			if got {
				if _, err := r.Match(data); err != nil {
					var ee *EvalError
					if !errors.As(err, &ee) {
						t.Fatalf("%s: Match error of unexpected type %T: %v", r.ID, err, err)
					}
				}
				if _, err := r.Outputs(data); err != nil {
					var ee *EvalError
					if !errors.As(err, &ee) {
						t.Fatalf("%s: Outputs error of unexpected type %T: %v", r.ID, err, err)
					}
				}
			}
		}
	})
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`status == "SUCCESS"`, `a.b.c > 1 && x in [1, 2, "3"]`, `any(list, .x matches "^a")`,
		`let x = 1; x + y`, `$env["a"] ?? "b"`, `foo(`, `"\u00e9" contains a`, `a[1:2] == nil`,
		`{"k": a}.k`, `len(a) > 0 ? a[0] : nil`, `not (a in b)`, `all(a, all(#, # > 1))`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		r := &Rule{ID: "F.Compile", Condition: src, Title: "{" + src + "}", Fields: []Field{{Name: "v", Expr: src}}}
		if _, err := Compile(r); err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile(%q) error of type %T: %v", src, err, err)
			}
			return
		}
		ev := map[string]any{"a": []any{1, "x", nil}, "b": map[string]any{"c": 1.5}, "status": "SUCCESS"}
		if _, err := r.Evaluate(ev); err != nil {
			var ee *EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("Evaluate error of type %T: %v", err, err)
			}
		}
		if _, err := r.Match(ev); err != nil {
			var ee *EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("Match error of type %T: %v", err, err)
			}
		}
	})
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
		for _, r := range fuzzRules {
			raw, rawErr := r.Evaluate([]byte(s))
			dec, decErr := r.Evaluate(m)
			if raw != dec || (rawErr == nil) != (decErr == nil) {
				t.Errorf("%s on %s: raw = %v, %v; encoding/json = %v, %v", r.ID, s, raw, rawErr, dec, decErr)
			}
		}
	}
}
