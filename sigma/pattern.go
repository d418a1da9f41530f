package sigma

import (
	"strings"
	"unicode/utf8"
)

// A pattern is a Sigma string value: literal text with the wildcards *
// (any text) and ? (one character). parts alternates literal runs and
// wildcards; a wildcard part is "*" or "?" with wild set.
type pattern struct {
	parts []part
}

type part struct {
	text string
	wild bool
}

// parsePattern reads a Sigma string with its escapes: \* and \? are the
// plain characters, \\ is one backslash, and a backslash before anything
// else is itself.
func parsePattern(s string) pattern {
	var p pattern
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.parts = append(p.parts, part{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				lit.WriteByte(s[i+1])
				i++
				continue
			}
			lit.WriteByte(c)
		case '*', '?':
			flush()
			p.parts = append(p.parts, part{text: string(c), wild: true})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return p
}

// literalPattern is a pattern of plain text, without wildcards.
func literalPattern(s string) pattern {
	if s == "" {
		return pattern{}
	}
	return pattern{parts: []part{{text: s}}}
}

// plain returns the text of a pattern without wildcards.
func (p pattern) plain() (string, bool) {
	var b strings.Builder
	for _, q := range p.parts {
		if q.wild {
			return "", false
		}
		b.WriteString(q.text)
	}
	return b.String(), true
}

// star wraps the pattern in * on the sides asked for.
func (p pattern) star(before, after bool) pattern {
	var out pattern
	if before && !(len(p.parts) > 0 && p.parts[0].wild && p.parts[0].text == "*") {
		out.parts = append(out.parts, part{text: "*", wild: true})
	}
	out.parts = append(out.parts, p.parts...)
	if after && !(len(out.parts) > 0 && out.parts[len(out.parts)-1].wild && out.parts[len(out.parts)-1].text == "*") {
		out.parts = append(out.parts, part{text: "*", wild: true})
	}
	return out
}

// mapText replaces the literal text of the pattern with f of it.
func (p pattern) mapText(f func(string) string) pattern {
	out := pattern{parts: make([]part, len(p.parts))}
	for i, q := range p.parts {
		if !q.wild {
			q.text = f(q.text)
		}
		out.parts[i] = q
	}
	return out
}

// String writes the pattern back as a Sigma string, escaping what needs it.
func (p pattern) String() string {
	var b strings.Builder
	for _, q := range p.parts {
		if q.wild {
			b.WriteString(q.text)
			continue
		}
		for i := 0; i < len(q.text); i++ {
			switch c := q.text[i]; c {
			case '*', '?', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			default:
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// matcher is a compiled pattern: what sigma_like runs.
type matcher struct {
	cased bool
	shape shape
	lit   string // the literal of the simple shapes, folded unless cased
	parts []part // the general shape's parts, folded unless cased
}

type shape uint8

const (
	shapeGeneral  shape = iota
	shapeExact          // lit
	shapePrefix         // lit*
	shapeSuffix         // *lit
	shapeContains       // *lit*
	shapeAny            // *
)

func compileMatcher(p pattern, cased bool) *matcher {
	m := &matcher{cased: cased}
	fold := func(s string) string {
		if cased {
			return s
		}
		return strings.ToLower(s)
	}
	parts := p.parts
	star := func(q part) bool { return q.wild && q.text == "*" }
	switch {
	case len(parts) == 0:
		m.shape = shapeExact
	case len(parts) == 1 && !parts[0].wild:
		m.shape, m.lit = shapeExact, fold(parts[0].text)
	case len(parts) == 1 && star(parts[0]):
		m.shape = shapeAny
	case len(parts) == 2 && !parts[0].wild && star(parts[1]):
		m.shape, m.lit = shapePrefix, fold(parts[0].text)
	case len(parts) == 2 && star(parts[0]) && !parts[1].wild:
		m.shape, m.lit = shapeSuffix, fold(parts[1].text)
	case len(parts) == 3 && star(parts[0]) && !parts[1].wild && star(parts[2]):
		m.shape, m.lit = shapeContains, fold(parts[1].text)
	default:
		m.shape = shapeGeneral
		for _, q := range parts {
			if !q.wild {
				q.text = fold(q.text)
			}
			m.parts = append(m.parts, q)
		}
	}
	return m
}

// match reports whether s matches.
func (m *matcher) match(s string) bool {
	if !m.cased {
		if m.shape != shapeGeneral && isASCII(s) && isASCII(m.lit) {
			return m.matchFoldASCII(s)
		}
		s = strings.ToLower(s)
	}
	switch m.shape {
	case shapeExact:
		return s == m.lit
	case shapePrefix:
		return strings.HasPrefix(s, m.lit)
	case shapeSuffix:
		return strings.HasSuffix(s, m.lit)
	case shapeContains:
		return strings.Contains(s, m.lit)
	case shapeAny:
		return true
	}
	return globMatch(m.parts, s)
}

// matchFoldASCII matches the simple shapes on ASCII text without
// lowering it.
func (m *matcher) matchFoldASCII(s string) bool {
	n := len(m.lit)
	switch m.shape {
	case shapeExact:
		return len(s) == n && strings.EqualFold(s, m.lit)
	case shapePrefix:
		return len(s) >= n && strings.EqualFold(s[:n], m.lit)
	case shapeSuffix:
		return len(s) >= n && strings.EqualFold(s[len(s)-n:], m.lit)
	case shapeContains:
		for i := 0; i+n <= len(s); i++ {
			if strings.EqualFold(s[i:i+n], m.lit) {
				return true
			}
		}
		return false
	}
	return true // shapeAny
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// globMatch matches s against parts, * and ? counting characters, with
// backtracking to the last star only (linear in practice, quadratic at
// worst in len(s) times the number of stars).
func globMatch(parts []part, s string) bool {
	pi, si := 0, 0
	starPart, starAt := -1, 0
	for {
		if pi < len(parts) {
			q := parts[pi]
			switch {
			case q.wild && q.text == "*":
				starPart, starAt = pi, si
				pi++
				continue
			case q.wild: // ?
				if si < len(s) {
					_, size := utf8.DecodeRuneInString(s[si:])
					si += size
					pi++
					continue
				}
			case strings.HasPrefix(s[si:], q.text):
				si += len(q.text)
				pi++
				continue
			}
		} else if si == len(s) {
			return true
		}
		if starPart < 0 || starAt >= len(s) {
			return false
		}
		_, size := utf8.DecodeRuneInString(s[starAt:])
		starAt += size
		pi, si = starPart+1, starAt
	}
}
