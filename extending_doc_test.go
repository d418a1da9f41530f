package detect

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestExtendingDocExamples runs every example of docs/extending.md's
// expr blocks, one expression per line followed by "// result", and checks
// that every function of the library has an example.
func TestExtendingDocExamples(t *testing.T) {
	doc, err := os.ReadFile("docs/extending.md")
	if err != nil {
		t.Fatal(err)
	}
	fns := NewFunctions()
	admins := newTestTable(t, "admins", "email")
	if err := admins.Set(map[string]map[string]any{"alice@acme.example": {"email": "alice@acme.example", "team": "security"}}); err != nil {
		t.Fatal(err)
	}
	if err := fns.AddTable(admins); err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	in := false
	sc := bufio.NewScanner(strings.NewReader(string(doc)))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == "```expr":
			in = true
			continue
		case strings.HasPrefix(text, "```"):
			in = false
			continue
		case !in || text == "":
			continue
		}
		i := strings.LastIndex(text, " // ")
		if i < 0 {
			t.Errorf("docs/extending.md:%d: %q has no // result", line, text)
			continue
		}
		src, want := strings.TrimSpace(text[:i]), strings.TrimSpace(text[i+4:])
		for name := range library {
			if strings.Contains(src, name+"(") {
				covered[name] = true
			}
		}
		p, e := compileCached(src, kindValue, fns, Limits{}.withDefaults())
		if e != nil {
			t.Errorf("docs/extending.md:%d: %s does not compile: %s", line, src, e.Msg)
			continue
		}
		v, err := p.run(mapEnv(map[string]any{}))
		if err != nil {
			t.Errorf("docs/extending.md:%d: %s: %v", line, src, err)
			continue
		}
		if got := docValue(v); got != want {
			t.Errorf("docs/extending.md:%d: %s is %s; the page says %s", line, src, got, want)
		}
	}
	var missing []string
	for name := range library {
		if !covered[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docs/extending.md has no example of %s", strings.Join(missing, ", "))
	}
}

// docValue writes a value as the page does: nil, JSON, or "time" and
// RFC 3339.
func docValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case time.Time:
		return "time " + x.Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// TestExtendingDocPack keeps the page's listing of the example pack in
// step with the code.
func TestExtendingDocPack(t *testing.T) {
	doc, err := os.ReadFile("docs/extending.md")
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile("examples/mypack/pack/pack.go")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(doc), "func New() (*Pack, error) {")
	end := strings.Index(string(doc)[start:], "\n}\n")
	if start < 0 || end < 0 {
		t.Fatal("docs/extending.md does not list New")
	}
	listing := string(doc)[start : start+end+3]
	if !strings.Contains(string(code), listing) {
		t.Errorf("docs/extending.md lists a New that is not the one of examples/mypack/pack/pack.go:\n%s", listing)
	}
}
