package detect

import (
	"errors"
	"testing"
)

// TestConditionNeverBoolean checks that conditions whose operators or
// functions never give a boolean are compile errors at their place, and
// that conditions that may be boolean still compile.
func TestConditionNeverBoolean(t *testing.T) {
	for _, tc := range []struct {
		cond string
		col  int
		msg  string // "" when the condition compiles
	}{
		{`action + "x"`, 8, "must be boolean, not a string"},
		{`"x" + action`, 5, "must be boolean, not a string"},
		{`lower(action)`, 1, "must be boolean, not a string"},
		{`action ?? "x"`, 8, `must be boolean: when action is null, ?? gives a string`},
		{`user.name ?? len(x)`, 11, `must be boolean: when user.name is null, ?? gives a number`},
		{`a + b`, 3, "must be boolean, not a number, a string or a list"},
		{`n * 2`, 3, "must be boolean, not a number"},
		{`split(a, ",")`, 1, "must be boolean, not a list"},
		{`let x = a; upper(x)`, 12, "must be boolean, not a string"},
		{`a ? "x" : 1`, 11, "must be boolean, not a string or a number"},
		{`-n`, 1, "must be boolean, not a number"},
		{`action ?? false`, 0, ""},
		{`a ?? b`, 0, ""},
		{`lower(action) == "x"`, 0, ""},
		{`a ? b : c`, 0, ""},
		{`len(a) > 1 && (b + "x") == "yx"`, 0, ""},
		{`first(items)`, 0, ""},
	} {
		_, err := Compile(&Rule{ID: "T", Severity: SeverityLow, Condition: tc.cond})
		if tc.msg == "" {
			if err != nil {
				t.Errorf("Compile(%s) = %v; want no error", tc.cond, err)
			}
			continue
		}
		var ce *CompileError
		if !errors.As(err, &ce) || ce.Msg != tc.msg || ce.Line != 1 || ce.Column != tc.col {
			t.Errorf("Compile(%s) = %v; want %q at 1:%d", tc.cond, err, tc.msg, tc.col)
		}
	}
	// Output expressions may be of any type.
	if _, err := Compile(&Rule{ID: "T", Severity: SeverityLow, Condition: `a == 1`, Fields: []Field{{Name: "x", Expr: `lower(a)`}}}); err != nil {
		t.Errorf("an output lower(a): %v", err)
	}
}
