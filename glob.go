package detect

import (
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// globPattern is a compiled shell pattern with the meaning of Python's
// fnmatch.fnmatchcase, which Panther rules use: * matches any text
// (slashes included), ? any one character, [seq] any character of seq,
// [!seq] any character not in seq, and a-z in a set is a range. There is
// no escape character: [*] matches a star. A [ without its ] is itself.
// Matching is case-sensitive.
type globPattern struct {
	shape globShape
	lit   string // the literal of the simple shapes
	toks  []globToken
}

type globShape uint8

const (
	globGeneral  globShape = iota
	globExact              // lit
	globPrefix             // lit*
	globSuffix             // *lit
	globContains           // *lit*
	globAll                // *
)

type globOp uint8

const (
	globLiteral globOp = iota
	globStar
	globOne
	globClass
)

type globToken struct {
	op     globOp
	lit    string
	neg    bool
	ranges []runeRange
}

type runeRange struct{ lo, hi rune }

// compileGlob compiles a pattern; every pattern is valid.
func compileGlob(p string) *globPattern {
	var toks []globToken
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, globToken{op: globLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(p); {
		switch p[i] {
		case '*':
			flush()
			if len(toks) == 0 || toks[len(toks)-1].op != globStar {
				toks = append(toks, globToken{op: globStar})
			}
			i++
		case '?':
			flush()
			toks = append(toks, globToken{op: globOne})
			i++
		case '[':
			t, n, ok := parseGlobSet(p[i:])
			if !ok {
				lit.WriteByte('[')
				i++
				continue
			}
			flush()
			toks = append(toks, t)
			i += n
		default:
			lit.WriteByte(p[i])
			i++
		}
	}
	flush()
	g := &globPattern{toks: toks}
	isLit := func(i int) bool { return toks[i].op == globLiteral }
	isStar := func(i int) bool { return toks[i].op == globStar }
	switch {
	case len(toks) == 0:
		g.shape = globExact
	case len(toks) == 1 && isLit(0):
		g.shape, g.lit = globExact, toks[0].lit
	case len(toks) == 1 && isStar(0):
		g.shape = globAll
	case len(toks) == 2 && isLit(0) && isStar(1):
		g.shape, g.lit = globPrefix, toks[0].lit
	case len(toks) == 2 && isStar(0) && isLit(1):
		g.shape, g.lit = globSuffix, toks[1].lit
	case len(toks) == 3 && isStar(0) && isLit(1) && isStar(2):
		g.shape, g.lit = globContains, toks[1].lit
	}
	return g
}

// parseGlobSet reads the set that p starts with, as fnmatch does: a ] right
// after [ or [! belongs to the set, and a range whose end comes before its
// start matches nothing. n is the length of the set's text.
func parseGlobSet(p string) (t globToken, n int, ok bool) {
	j := 1
	if j < len(p) && p[j] == '!' {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for j < len(p) && p[j] != ']' {
		j++
	}
	if j >= len(p) {
		return t, 0, false
	}
	body := p[1:j]
	t.op = globClass
	if strings.HasPrefix(body, "!") {
		t.neg, body = true, body[1:]
	}
	runes := []rune(body)
	for i := 0; i < len(runes); i++ {
		lo, hi := runes[i], runes[i]
		if i+2 < len(runes) && runes[i+1] == '-' {
			hi = runes[i+2]
			i += 2
		}
		if lo <= hi {
			t.ranges = append(t.ranges, runeRange{lo, hi})
		}
	}
	return t, j + 1, true
}

// at matches the token at s[i:], returning the length matched.
func (t *globToken) at(s string, i int) (int, bool) {
	switch t.op {
	case globLiteral:
		return len(t.lit), strings.HasPrefix(s[i:], t.lit)
	case globOne:
		if i >= len(s) {
			return 0, false
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		return size, true
	case globClass:
		if i >= len(s) {
			return 0, false
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		in := false
		for _, rr := range t.ranges {
			if rr.lo <= r && r <= rr.hi {
				in = true
				break
			}
		}
		return size, in != t.neg
	}
	return 0, false
}

// match reports whether the whole of s matches the pattern. Only the last
// star seen is ever extended, when what follows it fails, and then to the
// next place where the literal after it occurs: this finds a match if
// there is one, in time at most proportional to the lengths of s and the
// pattern multiplied.
func (g *globPattern) match(s string) bool {
	switch g.shape {
	case globExact:
		return s == g.lit
	case globPrefix:
		return strings.HasPrefix(s, g.lit)
	case globSuffix:
		return strings.HasSuffix(s, g.lit)
	case globContains:
		return strings.Contains(s, g.lit)
	case globAll:
		return true
	}
	toks := g.toks
	if last := toks[len(toks)-1]; last.op == globLiteral && !strings.HasSuffix(s, last.lit) {
		return false
	}
	p, i := 0, 0
	starP, starI := -1, 0
	// skip moves i to where the literal after a star next occurs; false
	// when it occurs nowhere, since stars can only move forward.
	skip := func(i int) (int, bool) {
		if starP+1 < len(toks) && toks[starP+1].op == globLiteral {
			j := strings.Index(s[i:], toks[starP+1].lit)
			return i + j, j >= 0
		}
		return i, true
	}
	for {
		if p < len(toks) {
			t := &toks[p]
			if t.op == globStar {
				starP = p
				var ok bool
				if i, ok = skip(i); !ok {
					return false
				}
				starI, p = i, p+1
				continue
			}
			if n, ok := t.at(s, i); ok {
				p, i = p+1, i+n
				continue
			}
		} else if i == len(s) {
			return true
		}
		if starP < 0 || starI >= len(s) {
			return false
		}
		_, size := utf8.DecodeRuneInString(s[starI:])
		var ok bool
		if starI, ok = skip(starI + size); !ok {
			return false
		}
		p, i = starP+1, starI
	}
}

// globList is a constant list of patterns, compiled with the rule.
type globList []*globPattern

func (gs globList) match(s string) bool {
	for _, g := range gs {
		if g.match(s) {
			return true
		}
	}
	return false
}

// maxGlobs bounds the cache of patterns that are not constants: they may
// come from events.
const maxGlobs = 10000

var (
	globCache sync.Map // pattern -> *globPattern
	globCount atomic.Int64
)

// cachedGlob compiles a pattern known only when a rule runs.
func cachedGlob(p string) *globPattern {
	if g, ok := globCache.Load(p); ok {
		return g.(*globPattern)
	}
	g := compileGlob(p)
	if globCount.Add(1) <= maxGlobs {
		globCache.Store(p, g)
	}
	return g
}
