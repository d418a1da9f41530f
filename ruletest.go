package detect

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Test is a unit test of a rule, as in Panther's rule files: an event and
// what the rule must make of it. The optional expectations are checked
// only when set.
type Test struct {
	Name           string
	ExpectedResult bool
	// ExpectedTitle, ExpectedDedup and ExpectedSeverity, when set, must
	// equal the alert's title, dedup string and severity.
	ExpectedTitle    *string
	ExpectedDedup    *string
	ExpectedSeverity *Severity
	// ExpectedOutputs lists outputs that must have these values; outputs
	// not listed are not checked. A nil value matches a nil or absent
	// output; numbers compare by value.
	ExpectedOutputs map[string]any
	// Log is the event, in any form Evaluate accepts.
	Log any
	// Logs, when Log is nil, are several events: the rule's result is
	// whether any of them matches (a recording of an attack, of which one
	// event is the one the rule is for). Only ExpectedResult is checked.
	Logs []any
	// Line is the line of the test in the rule's file (Rule.Source), 0
	// when unknown; the loader sets it.
	Line int
}

// TestResult is the outcome of one Test.
type TestResult struct {
	RuleID string
	Name   string // the test's name
	// Source is where the test is, "file:line" (or the file alone when the
	// line is unknown); empty for a rule that has no file.
	Source string
	Passed bool
	// Failures says what differed, one line per expectation, e.g.
	// `title: want "a", got "b"`.
	Failures []string
	// Err is set when the rule could not be evaluated on the test's event;
	// the test then fails.
	Err error
}

// String formats the result as "PASS rule: test" or "source: FAIL rule:
// test: what differed", source being where the test is, when known.
func (t TestResult) String() string {
	if t.Passed {
		return fmt.Sprintf("PASS %s: %s", t.RuleID, t.Name)
	}
	msgs := append([]string(nil), t.Failures...)
	if t.Err != nil {
		msgs = append(msgs, "error: "+t.Err.Error())
	}
	s := fmt.Sprintf("FAIL %s: %s: %s", t.RuleID, t.Name, strings.Join(msgs, "; "))
	if t.Source != "" {
		s = t.Source + ": " + s
	}
	return s
}

// RunTests runs every test of the rule, in order.
func (r *Rule) RunTests() []TestResult {
	out := make([]TestResult, 0, len(r.Tests))
	for _, t := range r.Tests {
		out = append(out, r.RunTest(t))
	}
	return out
}

// runAny runs a test of several events: the rule matches when any does.
func (r *Rule) runAny(t Test, res TestResult) TestResult {
	got := false
	for _, log := range t.Logs {
		c, env, err := r.prepare(log)
		if err != nil {
			res.Err = err
			return res
		}
		ok, err := r.match(c, env)
		if err != nil {
			res.Err = err
			return res
		}
		got = got || ok
	}
	if got != t.ExpectedResult {
		res.Failures = append(res.Failures, fmt.Sprintf("result: want %v, got %v (of any of %d events)", t.ExpectedResult, got, len(t.Logs)))
	}
	res.Passed = len(res.Failures) == 0
	return res
}

// RunTest runs one test against the rule.
func (r *Rule) RunTest(t Test) TestResult {
	res := TestResult{RuleID: r.ID, Name: t.Name, Source: r.Source}
	if r.Source != "" && t.Line > 0 {
		res.Source = fmt.Sprintf("%s:%d", r.Source, t.Line)
	}
	if t.Log == nil && len(t.Logs) > 0 {
		return r.runAny(t, res)
	}
	c, env, err := r.prepare(t.Log)
	if err != nil {
		res.Err = err
		return res
	}
	got, err := r.match(c, env)
	if err != nil {
		res.Err = err
		return res
	}
	// The prefilter must never reject an event that matches.
	if raw, ok := rawJSON(t.Log); ok && got && !c.condition.filter.mayMatch(raw) {
		res.Err = fmt.Errorf("detect: rule %s: internal error: the prefilter rejects a matching event", r.ID)
		return res
	}
	if got != t.ExpectedResult {
		msg := fmt.Sprintf("result: want %v, got %v", t.ExpectedResult, got)
		if !got {
			if why := r.whyFalse(c, env); len(why) > 0 {
				msg += " (false: " + strings.Join(why, "; ") + ")"
			}
		}
		res.Failures = append(res.Failures, msg)
	}
	if t.ExpectedTitle != nil || t.ExpectedDedup != nil || t.ExpectedSeverity != nil || len(t.ExpectedOutputs) > 0 {
		m, err := r.matchFields(c, env)
		if err != nil {
			res.Err = err
			return res
		}
		if t.ExpectedTitle != nil && *t.ExpectedTitle != m.Title {
			res.Failures = append(res.Failures, fmt.Sprintf("title: want %q, got %q", *t.ExpectedTitle, m.Title))
		}
		if t.ExpectedDedup != nil && *t.ExpectedDedup != m.Dedup {
			res.Failures = append(res.Failures, fmt.Sprintf("dedup: want %q, got %q", *t.ExpectedDedup, m.Dedup))
		}
		if t.ExpectedSeverity != nil && *t.ExpectedSeverity != m.Severity {
			res.Failures = append(res.Failures, fmt.Sprintf("severity: want %s, got %s", *t.ExpectedSeverity, m.Severity))
		}
		names := make([]string, 0, len(t.ExpectedOutputs))
		for k := range t.ExpectedOutputs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			want := t.ExpectedOutputs[k]
			gotV, _ := m.Outputs.Get(k)
			if !valuesEqual(want, gotV) {
				res.Failures = append(res.Failures, fmt.Sprintf("output %s: want %s, got %s", k, showValue(want), showValue(gotV)))
			}
		}
	}
	res.Passed = len(res.Failures) == 0
	return res
}

func showValue(v any) string {
	if v == nil {
		return "null"
	}
	b, err := marshalValue(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// valuesEqual compares expected and actual values the way rule tests do:
// numbers by numeric value, lists and maps deeply, nil only to nil.
func valuesEqual(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if x, ok := toFloat(a); ok {
		y, ok := toFloat(b)
		return ok && x == y
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	switch va.Kind() {
	case reflect.Slice, reflect.Array:
		if vb.Kind() != reflect.Slice && vb.Kind() != reflect.Array || va.Len() != vb.Len() {
			return false
		}
		for i := 0; i < va.Len(); i++ {
			if !valuesEqual(va.Index(i).Interface(), vb.Index(i).Interface()) {
				return false
			}
		}
		return true
	case reflect.Map:
		if vb.Kind() != reflect.Map || va.Len() != vb.Len() {
			return false
		}
		iter := va.MapRange()
		for iter.Next() {
			k := iter.Key()
			if !k.Type().AssignableTo(vb.Type().Key()) {
				if k.Kind() != reflect.String || vb.Type().Key().Kind() != reflect.String {
					return false
				}
				k = k.Convert(vb.Type().Key())
			}
			e := vb.MapIndex(k)
			if !e.IsValid() || !valuesEqual(iter.Value().Interface(), e.Interface()) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
