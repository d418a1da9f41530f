package detect

import (
	"errors"
	"strings"
	"testing"
)

// TestSeverityRequired checks that a Go rule without a severity is a
// compile error, as a rule file without Severity is, whether compiled
// eagerly or on first use, and that the zero Severity is no severity.
func TestSeverityRequired(t *testing.T) {
	_, err := Compile(&Rule{ID: "No.Severity", Condition: `a == 1`})
	var ce *CompileError
	if !errors.As(err, &ce) || ce.Part != "severity" || !strings.Contains(ce.Msg, "no severity") {
		t.Errorf("Compile(no Severity) = %v; want a severity CompileError", err)
	}
	r := &Rule{ID: "No.Severity", Condition: `a == 1`}
	if _, err := r.Evaluate(map[string]any{"a": 1}); !errors.As(err, &ce) || ce.Part != "severity" {
		t.Errorf("Evaluate on a rule without Severity = %v; want a severity CompileError", err)
	}
	if _, err := Compile(&Rule{ID: "Info", Severity: SeverityInfo, Condition: `a == 1`}); err != nil {
		t.Errorf("Compile(SeverityInfo) = %v", err)
	}
	var zero Severity
	if _, err := zero.MarshalText(); err == nil {
		t.Error("the zero Severity marshals; want an error")
	}
	if s, err := ParseSeverity("info"); err != nil || s != SeverityInfo || s.String() != "INFO" {
		t.Errorf(`ParseSeverity("info") = %v, %v`, s, err)
	}
	if _, err := ParseSeverity(""); err == nil {
		t.Error(`ParseSeverity("") succeeded`)
	}
}
