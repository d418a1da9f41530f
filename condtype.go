package detect

import (
	"github.com/expr-lang/expr/ast"
)

// This file rejects at compile time conditions that can never be boolean
// whatever the event holds: `action + "x"`, `lower(action)`, `n * 2`, or
// `action ?? "x"`, whose fallback is not boolean. The type checker cannot
// see these, because every field is of unknown type; the operators and
// built-in functions tell the type of the result on their own.

// resultNouns gives, for built-in and library functions whose result is
// never boolean, what it is.
var resultNouns = func() map[string]string {
	m := map[string]string{}
	for noun, names := range map[string][]string{
		"a string": {"lower", "upper", "trim", "trimPrefix", "trimSuffix", "replace", "repeat",
			"string", "toJSON", "toBase64", "fromBase64", "join", "type",
			"emailDomain", "urlDomain", "b64decode"},
		"a number": {"len", "abs", "ceil", "floor", "round", "int", "float", "mean", "median",
			"sum", "count", "indexOf", "lastIndexOf", "findIndex", "findLastIndex", "hourOf"},
		"a list": {"split", "splitAfter", "filter", "map", "keys", "values", "sort", "sortBy",
			"uniq", "flatten", "concat", "reverse", "toPairs", "take"},
		"a map": {"groupBy", "fromPairs"},
	} {
		for _, name := range names {
			m[name] = noun
		}
	}
	return m
}()

// neverBoolean returns the error of a condition n that is never boolean,
// or nil. funcs may redefine a built-in's name, whose result is then
// unknown.
func neverBoolean(n ast.Node, source string, funcs *Functions) *exprError {
	for {
		if v, ok := n.(*ast.VariableDeclaratorNode); ok {
			n = v.Expr
			continue
		}
		if q, ok := n.(*ast.SequenceNode); ok && len(q.Nodes) > 0 {
			n = q.Nodes[len(q.Nodes)-1]
			continue
		}
		break
	}
	if b, ok := n.(*ast.BinaryNode); ok && b.Operator == "??" && nounOf(b.Left, funcs) == "" {
		if fallback := nounOf(b.Right, funcs); fallback != "" {
			return errorAt(b, source, "must be boolean: when %s is null, ?? gives %s", b.Left, fallback)
		}
	}
	if noun := nounOf(n, funcs); noun != "" {
		return errorAt(n, source, "must be boolean, not %s", noun)
	}
	return nil
}

// nounOf returns what n gives when that is never a boolean ("a string",
// "a number"...), or "" when it may be a boolean or is not known.
func nounOf(n ast.Node, funcs *Functions) string {
	switch x := n.(type) {
	case *ast.StringNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode:
		return "a number"
	case *ast.ArrayNode:
		return "a list"
	case *ast.MapNode:
		return "a map"
	case *ast.UnaryNode:
		if x.Operator == "-" || x.Operator == "+" {
			return "a number"
		}
	case *ast.BinaryNode:
		switch x.Operator {
		case "+":
			for _, side := range []ast.Node{x.Left, x.Right} {
				if s := nounOf(side, funcs); s == "a string" || s == "a list" {
					return s
				}
			}
			if nounOf(x.Left, funcs) == "a number" || nounOf(x.Right, funcs) == "a number" {
				return "a number"
			}
			return "a number, a string or a list"
		case "-", "*", "/", "%", "**", "^":
			return "a number"
		case "..":
			return "a list"
		case "??":
			if l := nounOf(x.Left, funcs); l != "" && l == nounOf(x.Right, funcs) {
				return l
			}
		}
	case *ast.CallNode:
		if id, ok := x.Callee.(*ast.IdentifierNode); ok && !funcs.defines(id.Value) {
			return resultNouns[id.Value]
		}
	case *ast.BuiltinNode:
		if !funcs.defines(x.Name) {
			return resultNouns[x.Name]
		}
	case *ast.ConditionalNode:
		a, b := nounOf(x.Exp1, funcs), nounOf(x.Exp2, funcs)
		switch {
		case a == "" || b == "":
		case a == b:
			return a
		default:
			return a + " or " + b
		}
	case *ast.VariableDeclaratorNode:
		return nounOf(x.Expr, funcs)
	case *ast.SequenceNode:
		if len(x.Nodes) > 0 {
			return nounOf(x.Nodes[len(x.Nodes)-1], funcs)
		}
	}
	return ""
}
