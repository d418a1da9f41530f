package detect

import (
	"strings"
	"testing"
)

func TestStringFunctionsNilSafe(t *testing.T) {
	ev := map[string]any{"name": "Alice Smith", "path": "/usr/bin/curl", "n": 5, "u": "héllo wörld"}
	tests := []struct {
		expr string
		want any
	}{
		{`lower(name)`, "alice smith"},
		{`upper(name)`, "ALICE SMITH"},
		{`lower(missing)`, nil},
		{`lower(missing) == "x"`, false},
		{`upper(missing.deeper)`, nil},
		{`trim("  a  ")`, "a"},
		{`trim("xxaxx", "x")`, "a"},
		{`trim(missing)`, nil},
		{`trimPrefix(path, "/usr")`, "/bin/curl"},
		{`trimSuffix(missing, "x")`, nil},
		{`hasPrefix(path, "/usr")`, true},
		{`hasPrefix(missing, "/usr")`, false},
		{`hasSuffix(path, "curl")`, true},
		{`hasSuffix(missing, "curl")`, false},
		{`indexOf(u, "w")`, 6},
		{`lastIndexOf(path, "/")`, 8},
		{`indexOf(path, "zzz")`, -1},
		{`indexOf(missing, "a")`, nil},
		{`split(path, "/")[2]`, "bin"},
		{`len(split(missing, "/"))`, 0},
		{`split("a,b,c", ",", 2)[1]`, "b,c"},
	}
	for _, tt := range tests {
		r := &Rule{Severity: SeverityInfo, ID: "R.Str", Condition: "true", Fields: []Field{{Name: "v", Expr: tt.expr}}}
		out, err := r.Outputs(ev)
		if err != nil {
			t.Errorf("%s: error %v", tt.expr, err)
			continue
		}
		if !valuesEqual(out["v"], tt.want) {
			t.Errorf("%s = %#v; want %#v", tt.expr, out["v"], tt.want)
		}
	}
	r := &Rule{Severity: SeverityInfo, ID: "R.Str", Condition: `lower(n) == "5"`}
	if _, err := r.Evaluate(ev); err == nil || !strings.Contains(err.Error(), "lower needs a string, got int") {
		t.Errorf("lower(5): error = %v; want a rule error", err)
	}
	if _, err := Compile(&Rule{Severity: SeverityInfo, ID: "R.Str2", Condition: `hasPrefix(name, 5)`}); err == nil {
		t.Errorf("hasPrefix(name, 5) compiled; want a compile error")
	}
}
