package detect

import (
	"strings"
	"testing"
)

func strp(s string) *string { return &s }

func TestRunTest(t *testing.T) {
	r := &Rule{ID: "R.Tests", Condition: `action == "Delete"`, Title: "{action} by {user}", GroupBy: []string{"id"},
		Severity: SeverityLow, DynamicSeverities: []DynamicSeverity{{ChangeTo: SeverityHigh, Condition: `port == 80`}},
		Fields: []Field{{Name: "port", Expr: "port"}, {Name: "tags", Expr: "tags"}, {Name: "none", Expr: "missing"}}}
	ev := []byte(`{"action": "Delete", "user": "bob", "id": "e1", "port": 80, "tags": ["a", {"k": 1.0}]}`)
	high := SeverityHigh
	tests := []struct {
		name     string
		test     Test
		failures []string
	}{
		{"all expectations hold", Test{ExpectedResult: true, ExpectedTitle: strp("Delete by bob"), ExpectedDedup: strp("e1"),
			ExpectedSeverity: &high, ExpectedOutputs: map[string]any{"port": 80.0, "tags": []any{"a", map[string]any{"k": 1}}, "none": nil, "absent": nil}, Log: ev}, nil},
		{"wrong result", Test{ExpectedResult: false, Log: ev}, []string{"result: want false, got true"}},
		{"wrong title and dedup", Test{ExpectedResult: true, ExpectedTitle: strp("x"), ExpectedDedup: strp("y"), Log: ev},
			[]string{`title: want "x", got "Delete by bob"`, `dedup: want "y", got "e1"`}},
		{"wrong output", Test{ExpectedResult: true, ExpectedOutputs: map[string]any{"port": "80", "tags": []any{"a"}}, Log: ev},
			[]string{`output port: want "80", got 80`, `output tags: want ["a"], got ["a",{"k":1}]`}},
		{"wrong severity", Test{ExpectedResult: true, ExpectedSeverity: func() *Severity { s := SeverityInfo; return &s }(), Log: ev}, []string{"severity: want INFO, got HIGH"}},
		{"non-matching", Test{ExpectedResult: false, Log: map[string]any{"action": "Read"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.test.Name = tt.name
			res := r.RunTest(tt.test)
			if res.Err != nil {
				t.Fatalf("RunTest error: %v", res.Err)
			}
			if res.Passed != (len(tt.failures) == 0) || strings.Join(res.Failures, "\n") != strings.Join(tt.failures, "\n") {
				t.Errorf("RunTest = passed %v, failures:\n%s\nwant:\n%s", res.Passed, strings.Join(res.Failures, "\n"), strings.Join(tt.failures, "\n"))
			}
		})
	}
}

func TestRunTestErrors(t *testing.T) {
	r := &Rule{Severity: SeverityInfo, ID: "R.Err", Condition: `count + 1 > 2`}
	res := r.RunTest(Test{Name: "bad", ExpectedResult: false, Log: map[string]any{}})
	if res.Passed || res.Err == nil {
		t.Errorf("RunTest on a failing expression = %+v; want failed with an error", res)
	}
	res = r.RunTest(Test{Name: "bad json", Log: []byte("{")})
	if res.Passed || res.Err == nil {
		t.Errorf("RunTest on invalid JSON = %+v; want failed with an error", res)
	}
	if s := res.String(); !strings.HasPrefix(s, "FAIL R.Err: bad json: error: ") {
		t.Errorf("TestResult.String() = %q", s)
	}
}

func TestValuesEqual(t *testing.T) {
	tests := []struct {
		a, b any
		want bool
	}{
		{80, 80.0, true},
		{80, 81, false},
		{nil, nil, true},
		{nil, "", false},
		{"a", "a", true},
		{true, true, true},
		{true, 1, false},
		{[]any{1, "a"}, []any{1.0, "a"}, true},
		{[]any{1}, []any{1, 2}, false},
		{map[string]any{"a": 1}, map[string]any{"a": 1.0}, true},
		{map[string]any{"a": 1}, map[string]any{"b": 1}, false},
		{[]string{"x"}, []any{"x"}, true},
	}
	for _, tt := range tests {
		if got := valuesEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("valuesEqual(%#v, %#v) = %v; want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
