package detect_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeCommands keeps the README's set-up commands in step with CI.
func TestReadmeCommands(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	const testCmd = "go test -race ./..."
	if !strings.Contains(string(readme), testCmd) || !strings.Contains(string(ci), testCmd) {
		t.Errorf("README and .ci/run must both run %q", testCmd)
	}
}
