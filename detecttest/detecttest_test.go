package detecttest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/detecttest"
	"github.com/detectkit/detect/rules"
)

func TestRunBuiltinRules(t *testing.T) {
	detecttest.Run(t, rules.All())
}

// failingRules have tests that fail in each way a rule test can.
func failingRules() []*detect.Rule {
	title := "wrong"
	return []*detect.Rule{
		detect.MustCompile(&detect.Rule{
			Severity:  detect.SeverityInfo,
			ID:        "Test.Failing",
			Source:    "pack/failing.yml",
			Condition: `action == "x"`,
			Title:     "{action}",
			Tests: []detect.Test{
				{Name: "passes", ExpectedResult: true, Log: map[string]any{"action": "x"}},
				{Name: "wrong result", ExpectedResult: true, Log: map[string]any{"action": "y"}, Line: 12},
				{Name: "wrong title", ExpectedResult: true, ExpectedTitle: &title, Log: map[string]any{"action": "x"}},
				{Name: "not an object", ExpectedResult: true, Log: "[1]"},
			},
		}),
		{Severity: detect.SeverityInfo, ID: "Test.Untested", Condition: "true"},
	}
}

// TestFailingPack is run by TestRunReportsFailures in a process of its
// own, since its subtests fail on purpose.
func TestFailingPack(t *testing.T) {
	if os.Getenv("DETECTTEST_FAILING") != "1" {
		t.Skip("run by TestRunReportsFailures")
	}
	detecttest.Run(t, failingRules())
}

// TestRunReportsFailures checks the subtests that Run creates, their names
// and messages, as go test -v prints them.
func TestRunReportsFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary again")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailingPack$", "-test.v")
	cmd.Env = append(os.Environ(), "DETECTTEST_FAILING=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the failing pack passed:\n%s", out)
	}
	for _, want := range []string{
		"--- PASS: TestFailingPack/Test.Failing/passes",
		"--- FAIL: TestFailingPack/Test.Failing/wrong_result",
		`pack/failing.yml:12: result: want true, got false (false: action == "x" with action = "y")`,
		"--- FAIL: TestFailingPack/Test.Failing/wrong_title",
		`title: want "wrong", got "x"`,
		"--- FAIL: TestFailingPack/Test.Failing/not_an_object",
		"a JSON array is not an object",
		"--- SKIP: TestFailingPack/Test.Untested",
		"the rule has no tests",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("go test output lacks %q:\n%s", want, out)
		}
	}
}
