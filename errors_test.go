package detect

import (
	"errors"
	"testing"
)

func TestEvalErrorKindIsFreeOfEventValues(t *testing.T) {
	tests := []struct {
		name, cond string
		events     []string
	}{
		{"int of text", `int(port) > 5`, []string{`{"port":"abc"}`, `{"port":"zz9"}`, `{"port":"a)b"}`}},
		{"float of text", `float(ratio) > 0.5`, []string{`{"ratio":"x"}`, `{"ratio":"1,5"}`}},
		{"arithmetic on nil", `n + 1 > 2`, []string{`{}`, `{"m":3}`}},
		{"quoted values", `user.name matches "^(" + pattern`, []string{`{"user":{"name":"a"},"pattern":"x"}`, `{"user":{"name":"b"},"pattern":"yy"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Rule{Severity: SeverityInfo, ID: "Kind.Test", Condition: tt.cond}
			var kinds []string
			for _, ev := range tt.events {
				_, err := r.Evaluate([]byte(ev))
				var ee *EvalError
				if !errors.As(err, &ee) {
					t.Fatalf("Evaluate(%s) error = %v; want an *EvalError", ev, err)
				}
				kinds = append(kinds, ee.Kind())
			}
			for _, k := range kinds[1:] {
				if k != kinds[0] {
					t.Errorf("Kind() = %q and %q; want one kind for the same failure", kinds[0], k)
				}
			}
		})
	}
}
