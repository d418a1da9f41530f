package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestReadmeMainCommand runs the README's first set-up command: the
// built-in rules over the sample Wiz log.
func TestReadmeMainCommand(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const cmd = "go run ./cmd/detect scan examples/data/wiz_audit.jsonl"
	if !strings.Contains(string(readme), cmd) {
		t.Fatalf("README.md does not give %q", cmd)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"scan", "../../examples/data/wiz_audit.jsonl"}, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("scan exit %d:\n%s", code, stderr.String())
	}
	alerts := strings.Count(stdout.String(), "\n")
	if alerts < 19 {
		t.Errorf("scan printed %d alerts; want at least one per built-in rule", alerts)
	}
	if !strings.Contains(stderr.String(), "3000 events, 0 malformed lines") {
		t.Errorf("summary = %q", stderr.String())
	}
	for _, rule := range []string{"Wiz.Revoke.User.Sessions", "Wiz.Rule.Change", "Wiz.Issue.Alert.Passthrough"} {
		if !strings.Contains(stdout.String(), `"ruleId":"`+rule+`"`) {
			t.Errorf("no alert of %s", rule)
		}
	}
}
