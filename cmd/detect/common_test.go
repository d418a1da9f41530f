package main

import (
	"regexp"
	"strings"
	"testing"
)

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		n    int
		noun string
		want string
	}{
		{0, "alert", "0 alerts"},
		{1, "alert", "1 alert"},
		{2, "rule", "2 rules"},
		{1, "match", "1 match"},
		{3, "match", "3 matches"},
		{1, "malformed line", "1 malformed line"},
	} {
		if got := plural(tc.n, tc.noun); got != tc.want {
			t.Errorf("plural(%d, %q) = %q; want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}

// TestUsageAligned checks that in each command's help every flag's
// description, and every continuation line, starts in the same column,
// the shared lookup and exclude flags included, and that the usage line
// names --lookup.
func TestUsageAligned(t *testing.T) {
	flagLine := regexp.MustCompile(`^  (-\S+(?: \S+)?)( {2,})\S`)
	for name, usage := range map[string]string{"test": testUsage, "lint": lintUsage, "scan": scanUsage, "catalog": catalogUsage} {
		_, flags, ok := strings.Cut(usage, "\nFlags:\n")
		if !ok {
			t.Fatalf("%s usage has no Flags section", name)
		}
		flags, _, _ = strings.Cut(flags, "\n\n")
		col := -1
		for _, line := range strings.Split(flags, "\n") {
			c := -1
			if m := flagLine.FindStringSubmatch(line); m != nil {
				c = 2 + len(m[1]) + len(m[2])
			} else if strings.HasPrefix(line, "    ") {
				c = len(line) - len(strings.TrimLeft(line, " "))
			}
			if c < 0 {
				continue // a flag too long for the column, described below
			}
			if col < 0 {
				col = c
			}
			if c != col {
				t.Errorf("%s usage: %q starts its text in column %d; want %d", name, line, c+1, col+1)
			}
		}
		if !strings.Contains(flags, "--lookup NAME") || !strings.Contains(flags, "--exclude GLOB") {
			t.Errorf("%s usage does not describe --lookup and --exclude", name)
		}
	}
	if line, _, _ := strings.Cut(scanUsage, "\n\n"); !strings.Contains(line, "[--lookup NAME=PATH]...") {
		t.Errorf("scan usage line %q does not name --lookup", line)
	}
}

func TestTopUsage(t *testing.T) {
	code, stdout, _ := runCmd("--help")
	if code != 0 || !strings.Contains(stdout, "gzip") || !strings.Contains(stdout, "--version") {
		t.Errorf("detect --help = %d:\n%s\nwant 0 and a usage that says gzip is read and names --version", code, stdout)
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "version", "-version"} {
		code, stdout, stderr := runCmd(arg)
		if code != 0 || !regexp.MustCompile(`^detect \S+ \(.*go1\.[0-9]+.*\)\n$`).MatchString(stdout) {
			t.Errorf("detect %s = %d, %q, %q; want 0 and one line with the version and the Go version", arg, code, stdout, stderr)
		}
	}
}
