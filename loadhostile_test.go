package detect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// loadBounded loads one rule file given as text and checks that it took
// less than limit and allocated less than alloc bytes.
func loadBounded(t *testing.T, name, text string, limit time.Duration, alloc uint64) error {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := LoadFS(fstest.MapFS{"rule.yml": {Data: []byte(text)}}, ".")
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if limit *= slowdown(); elapsed > limit {
		t.Errorf("%s: LoadFS took %v; want under %v", name, elapsed, limit)
	}
	if a := after.TotalAlloc - before.TotalAlloc; a > alloc {
		t.Errorf("%s: LoadFS allocated %d MiB; want under %d MiB", name, a>>20, alloc>>20)
	}
	return err
}

// wantFileError checks that err is a *LoadError whose first problem is in
// rule.yml at a line and says msg.
func wantFileError(t *testing.T, name string, err error, msg string) {
	t.Helper()
	var le *LoadError
	if !errors.As(err, &le) || len(le.Errs) == 0 || le.Errs[0].Line < 1 || !strings.Contains(le.Errs[0].Msg, msg) {
		t.Errorf("%s: LoadFS error = %v; want a problem of the file at a line: %q", name, err, msg)
	}
}

// TestLoadHostileYAML checks that rule files written to exhaust the loader
// are problems of the file, reported quickly and in little memory: deep
// nesting before the YAML parser recurses into it, large anchors aliased
// many times, and many anchors with many aliases.
func TestLoadHostileYAML(t *testing.T) {
	deep := 100_000
	tests := []struct {
		name, text, msg string
	}{
		{"100,000 nested flow sequences", ruleHeader + "Condition: true\nTags: " + strings.Repeat("[", deep) + strings.Repeat("]", deep) + "\n", "nested deeper than 512 levels"},
		{"100,000 nested flow mappings", ruleHeader + "Condition: true\nTags: " + strings.Repeat("{a: ", deep) + strings.Repeat("}", deep) + "\n", "nested deeper than 512 levels"},
		{"100,000 nested block sequences on a line", ruleHeader + "Condition: true\nTags:\n  " + strings.Repeat("- ", deep) + "x\n", "nested deeper than 512 levels"},
		{"a 64 KiB anchor aliased 1,000 times in a test's Log", ruleHeader + "Condition: true\nTests:\n  - Name: t\n    ExpectedResult: true\n    Log:\n      big: &big " + strings.Repeat("x", 64<<10) + "\n      list:\n" + strings.Repeat("        - *big\n", 1000), "too large once its aliases are expanded"},
		{"nesting after a quote in plain text", ruleHeader + "Condition: true\nDescription: it-'s\nTags: " + strings.Repeat("[", deep) + strings.Repeat("]", deep) + "\nRunbook: '\n", "nested deeper than 512 levels"},
		{"1,001 anchors", ruleHeader + "Condition: true\nTags:\n" + strings.Repeat("  - &a x\n", 1001), "more than 1000 anchors"},
		{"1,001 aliases", ruleHeader + "Condition: true\nTags:\n  - &a x\n" + strings.Repeat("  - *a\n", 1001), "more than 1000 aliases"},
	}
	for _, tt := range tests {
		err := loadBounded(t, tt.name, tt.text, 2*time.Second, 256<<20)
		wantFileError(t, tt.name, err, tt.msg)
	}
	// Nesting within the limit, written in all three ways and inside
	// quoted and block scalars and comments that only look nested, loads.
	ok := ruleHeader + "Condition: true\nDescription: '" + strings.Repeat("[", 1000) + "'\nRunbook: |\n  " + strings.Repeat("{", 1000) + "\n# " + strings.Repeat("[", 1000) + "\nReference: it's [not] \"nested\"\nTests:\n  - Name: t\n    ExpectedResult: true\n    Log: {\"a\": " + strings.Repeat("[", 400) + strings.Repeat("]", 400) + ", \"b\": \"" + strings.Repeat("{", 1000) + "\"}\n"
	if err := loadBounded(t, "nesting under the limit", ok, 2*time.Second, 256<<20); err != nil {
		t.Errorf("LoadFS(nesting under the limit) = %v; want no error", err)
	}
	// As many anchors and aliases as a file may hold: quick.
	var b strings.Builder
	b.WriteString(ruleHeader + "Condition: true\nTags:\n")
	const n = maxYAMLAliases
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - &a%d x%d\n", i, i)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - *a%d\n", n-1-i)
	}
	if err := loadBounded(t, "1,000 anchors and 1,000 aliases", b.String(), time.Second, 256<<20); err != nil {
		t.Errorf("LoadFS(1,000 anchors and aliases) = %v; want no error", err)
	}
}

// TestLoadFileLimits checks that a rule file over MaxRuleFileBytes is a
// problem of that file, not read, and one at the limit is read.
func TestLoadFileLimits(t *testing.T) {
	pad := func(n int) []byte {
		text := ruleHeader + "Condition: true\n#"
		return []byte(text + strings.Repeat("x", n-len(text)-1) + "\n")
	}
	_, err := LoadFS(fstest.MapFS{"rule.yml": {Data: pad(MaxRuleFileBytes)}}, ".")
	if err != nil {
		t.Errorf("LoadFS(a file of MaxRuleFileBytes) = %v; want no error", err)
	}
	_, err = LoadFS(fstest.MapFS{"rule.yml": {Data: pad(MaxRuleFileBytes + 1)}}, ".")
	if !errors.Is(err, errTooLarge) || !strings.Contains(err.Error(), "rule.yml") {
		t.Errorf("LoadFS(a file over MaxRuleFileBytes) = %v; want rule.yml larger than %d bytes", err, MaxRuleFileBytes)
	}
	dir := t.TempDir()
	name := filepath.Join(dir, "big.yml")
	if err := os.WriteFile(name, pad(MaxRuleFileBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); !errors.Is(err, errTooLarge) || !strings.Contains(err.Error(), "big.yml") {
		t.Errorf("Load(a file over MaxRuleFileBytes) = %v; want big.yml larger than %d bytes", err, MaxRuleFileBytes)
	}
}
