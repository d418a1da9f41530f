package detect

import "testing"

// TestWhyFalse checks what a failing test says about a condition that is
// false: the parts joined by && that are false, with the fields they read.
func TestWhyFalse(t *testing.T) {
	for _, tc := range []struct {
		cond  string
		event map[string]any
		want  string
	}{
		{`action == "x"`, map[string]any{"action": "y"},
			`result: want true, got false (false: action == "x" with action = "y")`},
		{`status == "OK" && user.name startsWith "adm" && len(roles) > 1`,
			map[string]any{"status": "OK", "user": map[string]any{"name": "bob"}, "roles": []any{"a"}},
			`result: want true, got false (false: user.name startsWith "adm" with user.name = "bob"; len(roles) > 1 with roles = ["a"])`},
		{`(a == 1 || b == 2) and lower(c) == "x"`, map[string]any{"a": 3},
			`result: want true, got false (false: a == 1 || b == 2 with a = 3, b = null; lower(c) == "x" with c = null)`},
		{`any(items, .n > 3) && x == 1`, map[string]any{"items": []any{map[string]any{"n": 1}}, "x": 1},
			`result: want true, got false (false: any(items, .n > 3) with items = [{"n":1}])`},
	} {
		r := MustCompile(&Rule{ID: "T", Severity: SeverityLow, Condition: tc.cond})
		res := r.RunTest(Test{Name: "t", ExpectedResult: true, Log: tc.event})
		if len(res.Failures) != 1 || res.Failures[0] != tc.want {
			t.Errorf("RunTest(%s) failures = %q; want %q", tc.cond, res.Failures, tc.want)
		}
	}
}
