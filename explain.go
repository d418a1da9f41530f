package detect

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"
)

// This file explains why a rule's condition is false for an event, for
// failing rule tests: the parts of the condition joined by && that are
// false, with the values of the fields each reads.

// maxExplained bounds the false parts and the fields listed.
const maxExplained = 8

// whyFalse returns the false parts of the condition for env, each as
// `part with field = value, ...`; nil when it cannot tell.
func (r *Rule) whyFalse(c *compiledRule, env evalEnv) (out []string) {
	defer func() {
		// Parts run user functions, as the condition does.
		if recover() != nil {
			out = nil
		}
	}()
	var funcs *Functions
	if st := (*ruleState)(atomic.LoadPointer(&r.state)); st != nil {
		funcs = st.funcs
	}
	tree, err := exprparser.Parse(c.condition.source)
	if err != nil {
		return nil
	}
	var parts []ast.Node
	var split func(n ast.Node)
	split = func(n ast.Node) {
		if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
			split(b.Left)
			split(b.Right)
			return
		}
		parts = append(parts, n)
	}
	split(tree.Node)
	for _, n := range parts {
		if len(out) == maxExplained {
			break
		}
		src := n.String()
		p, e := compileCached(src, kindBool, funcs, Limits{}.withDefaults())
		if e != nil {
			continue
		}
		if ok, err := p.runBool(env); err != nil || ok {
			continue
		}
		var vals []string
		seen := map[string]bool{}
		for _, f := range fieldsOf(n, nil) {
			s := f.String()
			if seen[s] || len(vals) == maxExplained {
				continue
			}
			seen[s] = true
			fp, e := compileCached(s, kindValue, funcs, Limits{}.withDefaults())
			if e != nil {
				continue
			}
			v, err := fp.run(env)
			if err != nil {
				continue
			}
			vals = append(vals, fmt.Sprintf("%s = %s", s, showValue(v)))
		}
		if len(vals) > 0 {
			src += " with " + strings.Join(vals, ", ")
		}
		out = append(out, src)
	}
	return out
}

// fieldsOf appends to out the field reads of n (identifiers and member
// chains over the event), leaving out closures, whose fields are those
// of each element.
func fieldsOf(n ast.Node, out []ast.Node) []ast.Node {
	switch x := n.(type) {
	case *ast.IdentifierNode:
		if x.Value != "$env" {
			out = append(out, x)
		}
	case *ast.MemberNode:
		if isFieldChain(x) {
			return append(out, x)
		}
		out = fieldsOf(x.Node, out)
		out = fieldsOf(x.Property, out)
	case *ast.ChainNode:
		out = fieldsOf(x.Node, out)
	case *ast.UnaryNode:
		out = fieldsOf(x.Node, out)
	case *ast.BinaryNode:
		out = fieldsOf(x.Left, out)
		out = fieldsOf(x.Right, out)
	case *ast.CallNode:
		for _, a := range x.Arguments {
			out = fieldsOf(a, out)
		}
	case *ast.BuiltinNode:
		for _, a := range x.Arguments {
			if _, closure := a.(*ast.PredicateNode); !closure {
				out = fieldsOf(a, out)
			}
		}
	case *ast.ConditionalNode:
		out = fieldsOf(x.Cond, out)
		out = fieldsOf(x.Exp1, out)
		out = fieldsOf(x.Exp2, out)
	case *ast.ArrayNode:
		for _, a := range x.Nodes {
			out = fieldsOf(a, out)
		}
	case *ast.SliceNode:
		out = fieldsOf(x.Node, out)
	}
	return out
}

// isFieldChain reports whether m reads a field path from the event:
// identifiers and constant properties down to an identifier.
func isFieldChain(m *ast.MemberNode) bool {
	for {
		switch m.Property.(type) {
		case *ast.StringNode, *ast.IntegerNode:
		default:
			return false
		}
		switch x := m.Node.(type) {
		case *ast.IdentifierNode:
			return true
		case *ast.MemberNode:
			m = x
		default:
			return false
		}
	}
}
