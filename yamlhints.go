package detect

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
)

// This file words the YAML parser's most common complaints in terms of
// what to change in the file: a tab in the indentation, a value that
// starts with [ or { (an alert title such as "[Okta] {actor}") or holds
// ": ", and a line indented differently from the keys before it, with the
// line where the mistake is (the parser often reports the line before).

// keyLine is a line holding a key: its indentation, an optional "- ",
// the key, then the value.
var keyLine = regexp.MustCompile(`^(\s*(?:-\s+)?)([^\s#:\-\[\]{}"'][^:#]*?):(?:\s+(.*))?$`)

// line returns the text of line n (1-based), without its end of line.
func (f *yamlFile) line(n int) string {
	if n < 1 || n > len(f.lines) {
		return ""
	}
	s := f.src[f.lines[n-1]:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, "\r")
}

// yamlHint explains a syntax error in plain words, with where the mistake
// is; ok is false when it has no better words than the parser's.
func (f *yamlFile) yamlHint(se *yaml.SyntaxError) (line, col int, msg string, ok bool) {
	tk := se.Token
	tl := tk.Position.Line
	switch {
	case strings.Contains(se.Message, "cannot start any token") && strings.Contains(tk.Value, "\t"):
		for n := max(tl-1, 1); n <= min(tl+1, len(f.lines)); n++ {
			text := f.line(n)
			indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
			if i := strings.IndexByte(indent, '\t'); i >= 0 {
				return n, i + 1, "invalid YAML: a tab in the indentation: indent with spaces, not tabs", true
			}
		}
		return 0, 0, "", false
	case strings.Contains(se.Message, "']' must be specified") || strings.Contains(se.Message, "'}' must be specified"):
		// The parser reports the line after an unclosed list or mapping.
		for n := tl; n >= max(tl-1, 1); n-- {
			text := f.line(n)
			for i := len(text) - 1; i >= 0; i-- {
				if (text[i] == '[' || text[i] == '{') && closing(text[i:]) < 0 {
					what, end := "list", "]"
					if text[i] == '{' {
						what, end = "mapping", "}"
					}
					return n, i + 1, fmt.Sprintf("invalid YAML: this %s is not closed: end it with %q", what, end), true
				}
			}
		}
		return 0, 0, "", false
	case strings.Contains(se.Message, "not allowed in this context"):
		lines := []int{tl}
		if tk.Prev != nil && tk.Prev.Position != nil && tk.Prev.Position.Line != tl {
			lines = append(lines, tk.Prev.Position.Line)
		}
		for _, n := range lines {
			if line, col, msg, ok := f.quoteHint(n); ok {
				return line, col, msg, true
			}
		}
		// A plain value that runs on into the next line, where a key
		// is indented too far.
		culprit := 0
		if tk.Next != nil && tk.Next.Position != nil && tk.Next.Position.Line > tl && strings.HasPrefix(se.Message, "mapping value") {
			culprit = tk.Next.Position.Line
		} else if tk.Prev != nil && tk.Prev.Position != nil && tk.Prev.Position.Line < tl && firstColumn(f.line(tl)) == tk.Position.Column {
			culprit = tl
		}
		if culprit > 0 {
			return f.indentHint(culprit)
		}
	}
	return 0, 0, "", false
}

// quoteHint explains line n when it holds a key whose plain value YAML
// cannot read as text: one that starts with [ or { and goes on after the
// bracket closes, or one that holds ": ".
func (f *yamlFile) quoteHint(n int) (line, col int, msg string, ok bool) {
	m := keyLine.FindStringSubmatchIndex(f.line(n))
	if m == nil || m[6] < 0 {
		return 0, 0, "", false
	}
	text := f.line(n)
	key, value := text[m[4]:m[5]], strings.TrimSpace(text[m[6]:m[7]])
	col = m[6] + 1
	switch {
	case value == "":
		return 0, 0, "", false
	case value[0] == '[' || value[0] == '{':
		end := closing(value)
		if end < 0 || end == len(value)-1 {
			return 0, 0, "", false
		}
		what := "a list"
		if value[0] == '{' {
			what = "a mapping"
		}
		return n, col, fmt.Sprintf("invalid YAML: the value of %s starts with %q, which YAML reads as %s; quote the whole value: %s: %s", key, value[:1], what, key, quoted(value)), true
	case value[0] == '"' || value[0] == '\'':
		end := strings.IndexByte(value[1:], value[0]) + 1
		if end <= 0 || end == len(value)-1 {
			return 0, 0, "", false
		}
		return n, col, fmt.Sprintf("invalid YAML: the value of %s starts with a quoted string and goes on after it; quote the whole value: %s: %s", key, key, quoted(value)), true
	case strings.Contains(value, ": ") && value[0] != '"' && value[0] != '\'':
		return n, col, fmt.Sprintf("invalid YAML: the value of %s holds \": \", which YAML reads as a key; quote the whole value: %s: %s", key, key, quoted(value)), true
	}
	return 0, 0, "", false
}

// indentHint explains line n, a key indented differently from the key on
// the line before it.
func (f *yamlFile) indentHint(n int) (line, col int, msg string, ok bool) {
	m := keyLine.FindStringSubmatchIndex(f.line(n))
	if m == nil {
		return 0, 0, "", false
	}
	key, c := f.line(n)[m[4]:m[5]], m[4]+1
	for p := n - 1; p >= 1; p-- {
		prev := f.line(p)
		if t := strings.TrimSpace(prev); t == "" || t[0] == '#' {
			continue
		}
		pm := keyLine.FindStringSubmatchIndex(prev)
		if pm == nil || pm[4]+1 == c {
			return 0, 0, "", false
		}
		return n, c, fmt.Sprintf("invalid YAML: wrong indentation: %s starts in column %d, and the key on line %d in column %d; the keys of one mapping must start in the same column", key, c, p, pm[4]+1), true
	}
	return 0, 0, "", false
}

// firstColumn returns the column of the first character of text that is
// not a space or a "- ".
func firstColumn(text string) int {
	if m := keyLine.FindStringSubmatchIndex(text); m != nil {
		return m[4] + 1
	}
	return len(text) - len(strings.TrimLeft(text, " ")) + 1
}

// closing returns the index of the bracket that closes s[0], or -1.
func closing(s string) int {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			if depth--; depth == 0 {
				return i
			}
		}
	}
	return -1
}

// quoted returns s as a YAML quoted scalar.
func quoted(s string) string {
	if !strings.Contains(s, `"`) && !strings.Contains(s, `\`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
