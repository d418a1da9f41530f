package detect

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
)

// A prefilter rejects raw JSON events that cannot match a condition without
// decoding them. It is derived from the condition's syntax tree: when the
// condition can only hold if some field equals (or contains, starts or ends
// with) one of a few string literals, the raw event must contain that
// needle. The check is sound because a JSON string's bytes are its
// value's bytes unless an escape sequence is involved, so an event holding
// any backslash is never rejected; field names play no part, so the
// case-insensitive fallback and duplicate keys cannot defeat it.
type prefilter struct {
	// all lists requirements that must all hold; each holds when the event
	// contains any one of its literals.
	all [][]needle
}

// needle is text that an event must contain; quoted literals must stand
// between double quotes, as a whole JSON string.
type needle struct {
	text   []byte
	quoted bool
}

// in reports whether raw contains the needle. Quoted literals are found by
// their text, which is rarer than the quote that starts every JSON string.
func (l needle) in(raw []byte) bool {
	if !l.quoted {
		return bytes.Contains(raw, l.text)
	}
	for base := 0; ; {
		i := bytes.Index(raw[base:], l.text)
		if i < 0 {
			return false
		}
		start, end := base+i, base+i+len(l.text)
		if start > 0 && end < len(raw) && raw[start-1] == '"' && raw[end] == '"' {
			return true
		}
		base = start + 1
		if base > len(raw) {
			// The empty literal, after the last byte.
			return false
		}
	}
}

// mayMatch reports whether an event with these raw bytes can match. A
// literal may be written with escapes, so only an event without any
// backslash is rejected; the backslash is looked for last, so that an
// event holding every literal (every matching event) is not read for it.
func (p *prefilter) mayMatch(raw []byte) bool {
	return p.holds(raw) || bytes.IndexByte(raw, '\\') >= 0
}

// holds reports whether raw holds the literals the condition requires,
// as they are written without escapes; an event that holds no backslash
// and fails this cannot match.
func (p *prefilter) holds(raw []byte) bool {
	if p == nil {
		return true
	}
	for _, any := range p.all {
		found := false
		for _, lit := range any {
			if lit.in(raw) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// newPrefilter derives a prefilter from a rewritten condition, or returns
// nil when nothing is required.
func newPrefilter(root ast.Node) *prefilter {
	reqs := requirements(root)
	if len(reqs) == 0 {
		return nil
	}
	// Most selective first: fewer alternatives, then longer literals.
	for i := 1; i < len(reqs); i++ {
		for j := i; j > 0 && selectivity(reqs[j]) > selectivity(reqs[j-1]); j-- {
			reqs[j], reqs[j-1] = reqs[j-1], reqs[j]
		}
	}
	return &prefilter{all: reqs}
}

func selectivity(any []needle) int {
	shortest := 1 << 30
	for _, l := range any {
		shortest = min(shortest, len(l.text))
	}
	return shortest*4 - len(any)
}

// requirements returns what an event must contain for n to be true: a list
// of alternatives lists, all of which must be satisfied.
func requirements(n ast.Node) [][]needle {
	switch n := n.(type) {
	case *ast.VariableDeclaratorNode:
		// What the expression requires; the variable's value can only
		// be read through the expression.
		return requirements(n.Expr)
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and":
			return append(requirements(n.Left), requirements(n.Right)...)
		case "||", "or":
			l, r := requirements(n.Left), requirements(n.Right)
			if len(l) == 0 || len(r) == 0 {
				return nil
			}
			// Either side's most selective requirement will do.
			return [][]needle{append(append([]needle(nil), best(l)...), best(r)...)}
		case "==":
			if isFieldPath(n.Left) {
				if lit, ok := quotedLiteral(n.Right); ok {
					return [][]needle{{lit}}
				}
			}
			if isFieldPath(n.Right) {
				if lit, ok := quotedLiteral(n.Left); ok {
					return [][]needle{{lit}}
				}
			}
		}
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || len(n.Arguments) != 2 {
			return nil
		}
		switch id.Value {
		case fnBool:
			return nil
		case fnContains, fnStarts, fnEnds:
			if !isFieldPath(n.Arguments[0]) {
				return nil
			}
			if s, ok := n.Arguments[1].(*ast.StringNode); ok && s.Value != "" && plainJSON(s.Value) {
				return [][]needle{{{text: []byte(s.Value)}}}
			}
		case fnMatchRe:
			if !isFieldPath(n.Arguments[0]) {
				return nil
			}
			re, ok := n.Arguments[1].(*ast.ConstantNode).Value.(*regexp.Regexp)
			if !ok {
				return nil
			}
			if any := regexpLiterals(re.String()); len(any) > 0 {
				return [][]needle{any}
			}
		case fnInSet:
			if !isFieldPath(n.Arguments[0]) {
				return nil
			}
			set, ok := n.Arguments[1].(*ast.ConstantNode).Value.(*valueSet)
			if !ok || len(set.nums) > 0 || set.bools != [2]bool{} || len(set.others) > 0 || len(set.strs) == 0 {
				return nil
			}
			var any []needle
			for s := range set.strs {
				if !plainJSON(s) {
					return nil
				}
				any = append(any, needle{text: []byte(s), quoted: true})
			}
			return [][]needle{any}
		}
	}
	return nil
}

// regexpLiterals returns texts of which any string matching the pattern
// contains at least one, or nil when it cannot tell.
func regexpLiterals(pattern string) []needle {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	lits := requiredLiterals(re.Simplify())
	if len(lits) == 0 || len(lits) > 16 {
		return nil
	}
	out := make([]needle, 0, len(lits))
	for _, l := range lits {
		if l == "" || !plainJSON(l) {
			return nil
		}
		out = append(out, needle{text: []byte(l)})
	}
	return out
}

func requiredLiterals(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture:
		return requiredLiterals(re.Sub[0])
	case syntax.OpPlus:
		return requiredLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiterals(re.Sub[0])
		}
	case syntax.OpConcat:
		// Any part's literals are required; take the longest shortest one.
		var best []string
		for _, sub := range re.Sub {
			if l := requiredLiterals(sub); len(l) > 0 && shortestLen(l) > shortestLen(best) {
				best = l
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			l := requiredLiterals(sub)
			if len(l) == 0 {
				return nil
			}
			all = append(all, l...)
		}
		return all
	}
	return nil
}

func shortestLen(list []string) int {
	if len(list) == 0 {
		return 0
	}
	n := len(list[0])
	for _, s := range list[1:] {
		n = min(n, len(s))
	}
	return n
}

func best(reqs [][]needle) []needle {
	b := reqs[0]
	for _, r := range reqs[1:] {
		if selectivity(r) > selectivity(b) {
			b = r
		}
	}
	return b
}

// isFieldPath reports whether n reads a value straight from the event:
// $env, then member accesses with constant keys.
func isFieldPath(n ast.Node) bool {
	c, ok := n.(*ast.CallNode)
	if !ok || len(c.Arguments) != 2 {
		return false
	}
	if id, ok := c.Callee.(*ast.IdentifierNode); !ok || id.Value != fnGet {
		return false
	}
	switch c.Arguments[1].(type) {
	case *ast.StringNode, *ast.IntegerNode:
	default:
		return false
	}
	if env, ok := c.Arguments[0].(*ast.IdentifierNode); ok && env.Value == "$env" {
		return true
	}
	return isFieldPath(c.Arguments[0])
}

// quotedLiteral returns a string needle that JSON writes without escapes.
func quotedLiteral(n ast.Node) (needle, bool) {
	s, ok := n.(*ast.StringNode)
	if !ok || !plainJSON(s.Value) {
		return needle{}, false
	}
	return needle{text: []byte(s.Value), quoted: true}, true
}

// plainJSON reports whether JSON can only write s as its own bytes: no
// quote, backslash or control character, valid UTF-8 and no replacement
// character (which a decoder may produce from invalid bytes).
func plainJSON(s string) bool {
	if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || c < 0x20 {
			return false
		}
	}
	return true
}
