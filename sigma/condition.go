package sigma

import (
	"fmt"
	"path"
	"strings"
	"unicode"
)

// A condition is parsed into a tree of these, then written as an
// expression over the search identifiers' expressions.
type condNode interface {
	expr(ids map[string]string, order []string) (string, error)
}

type (
	condAnd   struct{ l, r condNode }
	condOr    struct{ l, r condNode }
	condNot   struct{ n condNode }
	condIdent struct{ name string }
	// condOf is "1 of pattern", "all of pattern" or "... of them".
	condOf struct {
		all     bool
		pattern string // "" for them
	}
)

func (c condAnd) expr(ids map[string]string, order []string) (string, error) {
	return binary(c.l, c.r, " && ", ids, order)
}

func (c condOr) expr(ids map[string]string, order []string) (string, error) {
	return binary(c.l, c.r, " || ", ids, order)
}

func binary(l, r condNode, op string, ids map[string]string, order []string) (string, error) {
	a, err := l.expr(ids, order)
	if err != nil {
		return "", err
	}
	b, err := r.expr(ids, order)
	if err != nil {
		return "", err
	}
	return "(" + a + op + b + ")", nil
}

func (c condNot) expr(ids map[string]string, order []string) (string, error) {
	s, err := c.n.expr(ids, order)
	if err != nil {
		return "", err
	}
	return "!" + s, nil
}

func (c condIdent) expr(ids map[string]string, _ []string) (string, error) {
	s, ok := ids[c.name]
	if !ok {
		return "", fmt.Errorf("the condition names %q, which the detection does not define", c.name)
	}
	return "(" + s + ")", nil
}

func (c condOf) expr(ids map[string]string, order []string) (string, error) {
	var parts []string
	for _, name := range order {
		var ok bool
		if c.pattern == "" {
			ok = !strings.HasPrefix(name, "_")
		} else {
			ok, _ = path.Match(c.pattern, name)
		}
		if ok {
			parts = append(parts, "("+ids[name]+")")
		}
	}
	if len(parts) == 0 {
		what := "them"
		if c.pattern != "" {
			what = c.pattern
		}
		return "", fmt.Errorf("%q in the condition matches no search identifier", what)
	}
	op := " || "
	if c.all {
		op = " && "
	}
	return "(" + strings.Join(parts, op) + ")", nil
}

// parseCondition parses a Sigma condition: or, and, not (least to most
// binding), "1 of X", "all of X", parentheses and search identifiers.
func parseCondition(s string) (condNode, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &condParser{toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("condition %q: unexpected %q", s, p.toks[p.i])
	}
	return n, nil
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '|':
			return nil, fmt.Errorf("condition %q: aggregations (| count() ...) are Sigma 1's; write a correlation rule", s)
		default:
			j := i
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && s[j] != '(' && s[j] != ')' && s[j] != '|' {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("the condition is empty")
	}
	return toks, nil
}

type condParser struct {
	toks []string
	i    int
}

func (p *condParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *condParser) or() (condNode, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "or") {
		p.i++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = condOr{l, r}
	}
	return l, nil
}

func (p *condParser) and() (condNode, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for strings.EqualFold(p.peek(), "and") {
		p.i++
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = condAnd{l, r}
	}
	return l, nil
}

func (p *condParser) not() (condNode, error) {
	if strings.EqualFold(p.peek(), "not") {
		p.i++
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		return condNot{n}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (condNode, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, fmt.Errorf("the condition ends too early")
	case t == "(":
		p.i++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("the condition lacks a closing parenthesis")
		}
		p.i++
		return n, nil
	case t == ")":
		return nil, fmt.Errorf("unexpected ) in the condition")
	case t == "1" || strings.EqualFold(t, "all") || strings.EqualFold(t, "any"):
		if p.i+2 < len(p.toks)+1 && strings.EqualFold(p.tok(p.i+1), "of") {
			target := p.tok(p.i + 2)
			if target == "" {
				return nil, fmt.Errorf("%q of what? the condition ends", t)
			}
			p.i += 3
			of := condOf{all: strings.EqualFold(t, "all")}
			if !strings.EqualFold(target, "them") {
				of.pattern = target
			}
			return of, nil
		}
	}
	switch strings.ToLower(t) {
	case "and", "or", "of", "them":
		return nil, fmt.Errorf("unexpected %q in the condition", t)
	}
	if strings.ContainsAny(t, "*?") {
		return nil, fmt.Errorf("%q: a pattern of identifiers needs 1 of or all of", t)
	}
	p.i++
	return condIdent{name: t}, nil
}

func (p *condParser) tok(i int) string {
	if i < len(p.toks) {
		return p.toks[i]
	}
	return ""
}
