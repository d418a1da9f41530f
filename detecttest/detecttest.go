// Package detecttest runs the unit tests of detection rules under go test.
//
// Rules carry their tests (the Tests key of a rule file, Rule.Tests). The
// detect command runs them for rules that need nothing but the built-in
// functions and lookup tables it can read from files (detect test
// --lookup); rules that call a service's Go functions are tested where
// those functions are, by go test:
//
//	func TestRules(t *testing.T) {
//		rules, err := pack.Load() // the service's rules, with its functions
//		if err != nil {
//			t.Fatal(err)
//		}
//		detecttest.Run(t, rules)
//	}
//
// Each test of each rule becomes a subtest named <RuleID>/<test name>, so
// that go test -run selects them and a failure names the rule and test.
package detecttest

import (
	"testing"

	"github.com/detectkit/detect"
)

// Run runs the tests of every rule as subtests of t: one subtest per rule,
// named by its ID, holding one subtest per test, named by the test. A test
// fails with what differed from its expectations, or with the error that
// evaluating the rule gave, after the file and line of the test when the
// rule was loaded from a file; a rule without tests is skipped.
func Run(t *testing.T, rules []*detect.Rule) {
	t.Helper()
	if len(rules) == 0 {
		t.Error("detecttest.Run: no rules")
	}
	for _, r := range rules {
		t.Run(r.ID, func(t *testing.T) {
			if len(r.Tests) == 0 {
				t.Skip("the rule has no tests")
			}
			for _, tc := range r.Tests {
				t.Run(tc.Name, func(t *testing.T) {
					res := r.RunTest(tc)
					at := ""
					if res.Source != "" {
						at = res.Source + ": " // where the test is
					}
					for _, f := range res.Failures {
						t.Error(at + f)
					}
					if res.Err != nil {
						t.Error(at + res.Err.Error())
					}
					if !res.Passed && len(res.Failures) == 0 && res.Err == nil {
						t.Error("failed")
					}
				})
			}
		})
	}
}
