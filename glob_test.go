package detect

import (
	"math/rand"
	"testing"
	"unicode/utf8"
)

// The expected results are Python's fnmatch.fnmatchcase(name, pattern).
func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*.exe", "evil.exe", true},
		{"*.exe", "evil.exe.txt", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "a€c", true},
		{"[abc]x", "bx", true},
		{"[!abc]x", "bx", false},
		{"[!abc]x", "dx", true},
		{"[a-c]*", "cat", true},
		{"[a-c]*", "dog", false},
		{"[]a]", "ag", false},
		{"[]a]", "]", true},
		{"[!]a]", "]", false},
		{"[!]a]", "x", true},
		{"a[", "a[", true},
		{"a[b", "a[b", true},
		{"[z-a]", "m", false},
		{"[!z-a]", "m", true},
		{"[a-]", "-", true},
		{"[-a]", "-", true},
		{"*/bin/*", "/usr/bin/curl", true},
		{"*", "a\nb", true},
		{"?", "\n", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"", "", true},
		{"", "a", false},
		{"[*]", "*", true},
		{"[?]", "a", false},
		{`\*`, `\x`, true},
		{"DESKTOP-*", "desktop-1", false},
		{"[^a]", "^", true},
		{"[^a]", "b", false},
		{"**x", "abx", true},
		{"a*", "a", true},
		{"*a", "a", true},
		{"*ab*", "xaby", true},
		{"x[0-9][0-9]", "x42", true},
		{"x[0-9][0-9]", "x4a", false},
		{"[a-c-e]", "-", true},
		{"[a-c-e]", "d", false},
		{"[a-c-e]", "e", true},
	}
	for _, tt := range tests {
		if got := compileGlob(tt.pattern).match(tt.name); got != tt.want {
			t.Errorf("glob(%q, %q) = %v; want %v", tt.name, tt.pattern, got, tt.want)
		}
	}
}

// matchSlow is a reference matcher: every way a star can extend is tried.
func matchSlow(toks []globToken, s string) bool {
	if len(toks) == 0 {
		return s == ""
	}
	if toks[0].op == globStar {
		for i := 0; ; {
			if matchSlow(toks[1:], s[i:]) {
				return true
			}
			if i >= len(s) {
				return false
			}
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
	}
	n, ok := toks[0].at(s, 0)
	return ok && matchSlow(toks[1:], s[n:])
}

// TestGlobAgainstReference compares the matcher with the reference on
// random patterns and names.
func TestGlobAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	pick := func(alphabet string, n int) string {
		b := make([]byte, rng.Intn(n+1))
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		return string(b)
	}
	for range 20000 {
		p, s := pick("ab*?[]!-", 7), pick("ab-]!", 8)
		g := compileGlob(p)
		if got, want := g.match(s), matchSlow(g.toks, s); got != want {
			t.Fatalf("glob(%q, %q) = %v; the reference says %v", s, p, got, want)
		}
	}
}

func BenchmarkGlob(b *testing.B) {
	for _, bc := range []struct{ name, pattern, s string }{
		{"suffix", "*.exe", `C:\Windows\System32\cmd.exe`},
		{"general", "*/bin/*sh", "/usr/local/bin/bash"},
		{"set", "DESKTOP-[A-Z0-9][A-Z0-9]*", "DESKTOP-AB12CD"},
	} {
		g := compileGlob(bc.pattern)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !g.match(bc.s) {
					b.Fatal("no match")
				}
			}
		})
	}
}
