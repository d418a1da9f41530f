package detect_test

import (
	"go/parser"
	"go/token"
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

// TestReadmeInstall keeps the install section true for someone with the
// repository: the local commands first, the published-module lines marked
// as such, and the note that -race needs cgo.
func TestReadmeInstall(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, "## Install"), strings.Index(s, "## Quick start")
	if i < 0 || j < i {
		t.Fatal("README.md has no Install section before Quick start")
	}
	install := s[i:j]
	local := strings.Index(install, "go install ./cmd/detect")
	replace := strings.Index(install, "-replace=github.com/detectkit/detect=")
	published := strings.Index(install, "Once the module is published")
	if local < 0 || replace < 0 || published < 0 {
		t.Fatalf("the Install section lacks go install ./cmd/detect, a replace directive or the published-module note:\n%s", install)
	}
	for _, cmd := range []string{"go get github.com/detectkit/detect", "go install github.com/detectkit/detect/cmd/detect@latest"} {
		if k := strings.Index(s, cmd); k >= 0 && k < i+published {
			t.Errorf("README gives %q before saying it needs the published module", cmd)
		}
	}
	if !strings.Contains(s[:i], "cgo") || !strings.Contains(s[:i], "C compiler") {
		t.Error("the Set-up section does not say that -race needs cgo and a C compiler")
	}
	if _, err := os.Stat("cmd/detect/main.go"); err != nil {
		t.Errorf("go install ./cmd/detect: %v", err)
	}
	if b, err := os.ReadFile("go.mod"); err != nil || !strings.HasPrefix(string(b), "module github.com/detectkit/detect\n") {
		t.Errorf("go.mod does not declare the module path the replace directive names")
	}
}

// TestPackageDoc checks that the package has one overview, in doc.go,
// that go doc shows, naming the main path.
func TestPackageDoc(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case name == "doc.go":
			text := f.Doc.Text()
			if !strings.HasPrefix(text, "Package detect ") {
				t.Errorf("doc.go's package comment starts %.40q; want \"Package detect ...\"", text)
			}
			for _, name := range []string{"Compile", "Load", "Rule.Evaluate", "Rule.Match", "NewEngine", "Scanner", "Functions"} {
				if !strings.Contains(text, "["+name+"]") {
					t.Errorf("the package doc does not link %s", name)
				}
			}
		case f.Doc != nil:
			t.Errorf("%s has a package comment too; go doc would join them", name)
		}
	}
}
