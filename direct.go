package detect

import (
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm/runtime"
)

// A direct program evaluates the commonest expressions (comparisons of
// fields with constants joined by && and ||, string predicates, constant
// membership) by walking closures instead of running expr's VM, which
// saves the VM's set-up and its per-run allocation. It is built from the
// same rewritten tree and calls the same functions as the VM would, so its
// answers are the VM's; when it meets an error, the VM runs the expression
// again to report the error with its position.
type direct func(env evalEnv) (any, error)

// directFunctions2 are the internal functions of two arguments that a
// direct program may call, each calling the function the VM calls with
// its arguments written out: a variadic call through a function value
// must build its list of arguments on the heap, a call of a known
// function keeps it on the stack.
var directFunctions2 = map[string]func(a, b any) (any, error){
	fnGet:      func(a, b any) (any, error) { return get(a, b), nil },
	fnLess:     func(a, b any) (any, error) { return rtLess(a, b) },
	fnMore:     func(a, b any) (any, error) { return rtMore(a, b) },
	fnLessEq:   func(a, b any) (any, error) { return rtLessEq(a, b) },
	fnMoreEq:   func(a, b any) (any, error) { return rtMoreEq(a, b) },
	fnContains: func(a, b any) (any, error) { return rtContains(a, b) },
	fnStarts:   func(a, b any) (any, error) { return rtStartsWith(a, b) },
	fnEnds:     func(a, b any) (any, error) { return rtEndsWith(a, b) },
	fnMatchRe:  func(a, b any) (any, error) { return rtMatchRe(a, b) },
	fnMatches:  func(a, b any) (any, error) { return rtMatches(a, b) },
	fnIn:       func(a, b any) (any, error) { return rtIn(a, b) },
	fnInSet:    func(a, b any) (any, error) { return rtInSet(a, b) },
}

// directFunctions1 are those of one argument, likewise.
var directFunctions1 = map[string]func(a any) (any, error){
	fnBool: func(a any) (any, error) { return rtBool(a) },
	fnLen:  func(a any) (any, error) { return rtLen(a) },
}

// compileDirect returns a direct program for n, or nil when n uses anything
// beyond the subset.
func compileDirect(n ast.Node) direct {
	switch n := n.(type) {
	case *ast.StringNode:
		v := any(n.Value)
		return func(evalEnv) (any, error) { return v, nil }
	case *ast.IntegerNode:
		v := any(n.Value)
		return func(evalEnv) (any, error) { return v, nil }
	case *ast.FloatNode:
		v := any(n.Value)
		return func(evalEnv) (any, error) { return v, nil }
	case *ast.BoolNode:
		v := any(n.Value)
		return func(evalEnv) (any, error) { return v, nil }
	case *ast.NilNode:
		return func(evalEnv) (any, error) { return nil, nil }
	case *ast.ConstantNode:
		v := n.Value
		return func(evalEnv) (any, error) { return v, nil }
	case *ast.IdentifierNode:
		if n.Value == "$env" {
			return func(env evalEnv) (any, error) { return env.asMap(), nil }
		}
	case *ast.UnaryNode:
		if n.Operator != "!" && n.Operator != "not" {
			return nil
		}
		x := compileDirect(n.Node)
		if x == nil {
			return nil
		}
		return func(env evalEnv) (any, error) {
			v, err := x(env)
			if err != nil {
				return nil, err
			}
			b, ok := v.(bool)
			if !ok {
				return nil, errNotDirect
			}
			return !b, nil
		}
	case *ast.BinaryNode:
		l, r := compileDirect(n.Left), compileDirect(n.Right)
		if l == nil || r == nil {
			return nil
		}
		switch n.Operator {
		case "==", "!=":
			neg := n.Operator == "!="
			// A nil check, the commonest comparison of an object, skips
			// the type switches and reflection of runtime.Equal.
			x := l
			_, lnil := n.Left.(*ast.NilNode)
			_, rnil := n.Right.(*ast.NilNode)
			if lnil {
				x = r
			}
			if lnil || rnil {
				return func(env evalEnv) (any, error) {
					v, err := x(env)
					if err != nil {
						return nil, err
					}
					return isNil(v) != neg, nil
				}
			}
			return func(env evalEnv) (any, error) {
				a, err := l(env)
				if err != nil {
					return nil, err
				}
				b, err := r(env)
				if err != nil {
					return nil, err
				}
				return runtime.Equal(a, b) != neg, nil
			}
		case "&&", "and", "||", "or":
			or := n.Operator == "||" || n.Operator == "or"
			return func(env evalEnv) (any, error) {
				a, err := l(env)
				if err != nil {
					return nil, err
				}
				ab, ok := a.(bool)
				if !ok {
					return nil, errNotDirect
				}
				if ab == or {
					return ab, nil
				}
				b, err := r(env)
				if err != nil {
					return nil, err
				}
				if _, ok := b.(bool); !ok {
					return nil, errNotDirect
				}
				return b, nil
			}
		}
	case *ast.ConditionalNode:
		return conditional(compileDirect(n.Cond), compileDirect(n.Exp1), compileDirect(n.Exp2))
	case *ast.MapNode:
		keys := make([]string, len(n.Pairs))
		vals := make([]direct, len(n.Pairs))
		for i, p := range n.Pairs {
			pair, ok := p.(*ast.PairNode)
			if !ok {
				return nil
			}
			k, ok := pair.Key.(*ast.StringNode)
			if !ok {
				return nil
			}
			// The VM keeps the first of duplicate keys: leave those to it.
			if contains(keys[:i], k.Value) {
				return nil
			}
			keys[i] = k.Value
			if vals[i] = compileDirect(pair.Value); vals[i] == nil {
				return nil
			}
		}
		return func(env evalEnv) (any, error) {
			m := make(map[string]any, len(keys))
			for i, k := range keys {
				v, err := vals[i](env)
				if err != nil {
					return nil, err
				}
				m[k] = v
			}
			return m, nil
		}
	case *ast.VariableDeclaratorNode:
		// The budget of an evaluation that spends one: a direct program
		// runs only what is cheap without it (see directMatch).
		if n.Name != varBudget {
			return nil
		}
		return compileDirect(n.Expr)
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return nil
		}
		if d := directMatch(id.Value, n.Arguments); d != nil {
			return d
		}
		if directFunctions1[id.Value] == nil && directFunctions2[id.Value] == nil {
			return nil
		}
		args := make([]direct, len(n.Arguments))
		for i, a := range n.Arguments {
			if args[i] = compileDirect(a); args[i] == nil {
				return nil
			}
		}
		switch len(args) {
		case 1:
			a0, fn1 := args[0], directFunctions1[id.Value]
			if fn1 == nil {
				return nil
			}
			return func(env evalEnv) (any, error) {
				x, err := a0(env)
				if err != nil {
					return nil, err
				}
				return fn1(x)
			}
		case 2:
			if id.Value == fnGet {
				if d := compileGetFolded(n.Arguments[0], n.Arguments[1]); d != nil {
					return d
				}
			}
			a0, a1 := args[0], args[1]
			if id.Value == fnGet {
				if d := compileGetConst(n.Arguments[0], a0, n.Arguments[1]); d != nil {
					return d
				}
				return func(env evalEnv) (any, error) {
					x, err := a0(env)
					if err != nil {
						return nil, err
					}
					k, err := a1(env)
					if err != nil {
						return nil, err
					}
					return get(x, k), nil
				}
			}
			fn2 := directFunctions2[id.Value]
			if fn2 == nil {
				return nil
			}
			return func(env evalEnv) (any, error) {
				x, err := a0(env)
				if err != nil {
					return nil, err
				}
				y, err := a1(env)
				if err != nil {
					return nil, err
				}
				return fn2(x, y)
			}
		}
	}
	return nil
}

// directWork bounds the work of a match that a direct program runs, in
// bytes of text times instructions of the pattern: a direct program does
// not count its work, so a match that may cost more is left to the VM,
// which spends the evaluation's budget on it. A condition's direct
// program makes at most MaxNodes matches.
const directWork = 1 << 16

// directMatch compiles the matches of a budgeted expression, or returns
// nil when the call is not one.
func directMatch(name string, args []ast.Node) direct {
	switch {
	case name == fnMatchRe && len(args) == 4:
		x := compileDirect(args[0])
		re, ok1 := args[1].(*ast.ConstantNode)
		w, ok2 := args[3].(*ast.ConstantNode)
		if x == nil || !ok1 || !ok2 {
			return nil
		}
		weight, ok := w.Value.(int)
		if !ok {
			return nil
		}
		pattern := re.Value
		return func(env evalEnv) (any, error) {
			v, err := x(env)
			if err != nil {
				return nil, err
			}
			if s, ok := v.(string); ok && len(s) > directWork/(weight+matchBase) {
				return nil, errNotDirect
			}
			return rtMatchRe(v, pattern)
		}
	case name == fnMatches && len(args) == 3:
		x, y := compileDirect(args[0]), compileDirect(args[1])
		if x == nil || y == nil {
			return nil
		}
		return func(env evalEnv) (any, error) {
			a, err := x(env)
			if err != nil {
				return nil, err
			}
			b, err := y(env)
			if err != nil {
				return nil, err
			}
			// Short patterns on short texts only; the VM spends on
			// others.
			as, ok1 := a.(string)
			bs, ok2 := b.(string)
			if !ok1 || !ok2 {
				return nil, errNotDirect
			}
			// Patterns compiled already: the VM spends what compiling
			// costs.
			v, cached := regexpCache.Load(bs)
			if !cached {
				return nil, errNotDirect
			}
			c := v.(*cachedRegexp)
			if len(as) > directWork/(c.weight+matchBase) {
				return nil, errNotDirect
			}
			return c.re.MatchString(as), nil
		}
	}
	return nil
}

// isNil is runtime.Equal(v, nil).
func isNil(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return x == nil
	case []any:
		return x == nil
	case string, bool, int, float64:
		return false
	case *slots:
		return x == nil
	}
	return runtime.IsNil(v)
}

// conditional returns c ? a : b, or nil if any of them is nil.
func conditional(c, a, b direct) direct {
	if c == nil || a == nil || b == nil {
		return nil
	}
	return func(env evalEnv) (any, error) {
		v, err := c(env)
		if err != nil {
			return nil, err
		}
		cond, ok := v.(bool)
		if !ok {
			return nil, errNotDirect
		}
		if cond {
			return a(env)
		}
		return b(env)
	}
}

// compileGetFolded compiles the read of a constant key from an object
// that the expression builds itself, without building it: the key of a
// map literal is its value (the other values are dropped only when they
// cannot fail, so that an error is raised all the same), a read from
// either branch of a ternary is a ternary of reads, and a read from a
// constant is a constant. A definition that returns a map, such as an
// actor with a type and a name, is then read field by field in a title at
// the cost of the field alone. It returns nil when no such rule applies.
func compileGetFolded(obj, key ast.Node) direct {
	k, ok := key.(*ast.StringNode)
	if !ok {
		return nil
	}
	switch obj := obj.(type) {
	case *ast.ConstantNode:
		switch obj.Value.(type) {
		case map[string]any, []any, nil:
			v := get(obj.Value, k.Value)
			return func(evalEnv) (any, error) { return v, nil }
		}
	case *ast.ConditionalNode:
		return conditional(compileDirect(obj.Cond), compileGet(obj.Exp1, k), compileGet(obj.Exp2, k))
	case *ast.MapNode:
		// Which pair a key reads is decided as get decides it, on a map
		// of the literal's keys; duplicate keys are left to the VM.
		index := make(map[string]any, len(obj.Pairs))
		for i, p := range obj.Pairs {
			pair, ok := p.(*ast.PairNode)
			if !ok {
				return nil
			}
			pk, ok := pair.Key.(*ast.StringNode)
			if !ok || index[pk.Value] != nil || !infallible(pair.Value) {
				return nil
			}
			index[pk.Value] = i
		}
		i, found := get(index, k.Value).(int)
		if !found {
			return func(evalEnv) (any, error) { return nil, nil }
		}
		return compileDirect(obj.Pairs[i].(*ast.PairNode).Value)
	}
	return nil
}

// compileGetConst compiles the read of a constant key from obj, which x
// evaluates: a field of the event, or of an object, is looked up without
// evaluating the key or dispatching on the object's type. It returns nil
// when the key is not a constant string.
func compileGetConst(obj ast.Node, x direct, key ast.Node) direct {
	k, ok := key.(*ast.StringNode)
	if !ok {
		return nil
	}
	name := k.Value
	if id, ok := obj.(*ast.IdentifierNode); ok && id.Value == "$env" {
		id := fieldID(name)
		return func(env evalEnv) (any, error) {
			if v, ok := env.slotField(id); ok {
				return v, nil
			}
			return env.otherField(name, id), nil
		}
	}
	id := fieldID(name)
	return func(env evalEnv) (any, error) {
		o, err := x(env)
		if err != nil {
			return nil, err
		}
		switch o := o.(type) {
		case map[string]any:
			return lookup(o, name), nil
		case *slots:
			return o.key(name, id), nil
		}
		return get(o, name), nil
	}
}

// compileGet compiles the read of key from obj.
func compileGet(obj ast.Node, key *ast.StringNode) direct {
	if d := compileGetFolded(obj, key); d != nil {
		return d
	}
	callee := &ast.IdentifierNode{Value: fnGet}
	return compileDirect(&ast.CallNode{Callee: callee, Arguments: []ast.Node{obj, key}})
}

// infallible reports whether evaluating n can neither fail nor have an
// effect, so that leaving it unevaluated changes nothing: constants, the
// event, field reads, equality and objects built of those.
func infallible(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NilNode, *ast.ConstantNode:
		return true
	case *ast.IdentifierNode:
		return n.Value == "$env"
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || len(n.Arguments) != 2 || !infallible(n.Arguments[0]) || !infallible(n.Arguments[1]) {
			return false
		}
		// A field read, and membership in a constant set.
		return id.Value == fnGet || id.Value == fnInSet
	case *ast.BinaryNode:
		return (n.Operator == "==" || n.Operator == "!=") && infallible(n.Left) && infallible(n.Right)
	case *ast.ConditionalNode:
		// The condition must be a boolean: a comparison or a constant.
		switch c := n.Cond.(type) {
		case *ast.BoolNode:
		case *ast.BinaryNode:
			if c.Operator != "==" && c.Operator != "!=" {
				return false
			}
		default:
			return false
		}
		return infallible(n.Cond) && infallible(n.Exp1) && infallible(n.Exp2)
	case *ast.MapNode:
		for _, p := range n.Pairs {
			pair, ok := p.(*ast.PairNode)
			if !ok || !infallible(pair.Key) || !infallible(pair.Value) {
				return false
			}
		}
		return true
	case *ast.ArrayNode:
		for _, e := range n.Nodes {
			if !infallible(e) {
				return false
			}
		}
		return true
	}
	return false
}

// plainConstants reports whether every constant in n is a value of
// decoded JSON.
func plainConstants(n ast.Node) bool {
	plain := true
	ast.Find(n, func(n ast.Node) bool {
		if c, ok := n.(*ast.ConstantNode); ok && !plainValue(c.Value, 0) {
			plain = false
		}
		return false
	})
	return plain
}

// errNotDirect makes a direct program hand over to the VM.
var errNotDirect = &directError{}

type directError struct{}

func (*directError) Error() string { return "detect: not evaluated directly" }
