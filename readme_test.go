package detect_test

import (
	"os"
	"path/filepath"
	"regexp"
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

// TestReadmeGuaranteesNameRealTests keeps the Guarantees section honest:
// every test it names exists.
func TestReadmeGuaranteesNameRealTests(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, "## Guarantees"), strings.Index(s, "## Errors")
	if i < 0 || j < i {
		t.Fatal("README.md has no Guarantees section before Errors")
	}
	var sources strings.Builder
	for _, dir := range []string{".", "rules", "cmd/detect"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sources.Write(b)
		}
	}
	names := regexp.MustCompile("`((?:Test|Fuzz)\\w+)`").FindAllStringSubmatch(s[i:j], -1)
	if len(names) < 10 {
		t.Fatalf("the Guarantees section names only %d tests", len(names))
	}
	for _, m := range names {
		if !strings.Contains(sources.String(), "func "+m[1]+"(") {
			t.Errorf("the Guarantees section names %s, which does not exist", m[1])
		}
	}
}
