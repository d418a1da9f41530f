package detect

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// Expressions are rewritten before expr compiles them so that they follow
// Panther's field semantics: every field access goes through fnGet (nil for
// anything missing, case-insensitive fallback), every predicate that expr
// would reject on nil goes through a nil-safe function, and every boolean
// position goes through fnBool so that nil counts as false.
const (
	fnGet      = "__get"
	fnBool     = "__bool"
	fnLess     = "__lt"
	fnMore     = "__gt"
	fnLessEq   = "__le"
	fnMoreEq   = "__ge"
	fnContains = "__contains"
	fnStarts   = "__startsWith"
	fnEnds     = "__endsWith"
	fnMatchRe  = "__matchRe"
	fnMatches  = "__matches"
	fnIn       = "__in"
	fnInSet    = "__inSet"
	fnLen      = "__len"
	fnList     = "__list"
	fnSlice    = "__slice"
	fnBudget   = "__budget"
	fnGetCost  = "__getc"
	fnCost     = "__cost"
	fnInCost   = "__inc"
	fnDeep     = "__deep"
)

// varBudget is the variable that holds an evaluation's budget (see
// MaxEvalCost). It is not an identifier that an expression can spell.
const varBudget = "#budget"

// exprKind says what an expression must produce.
type exprKind uint8

const (
	kindBool  exprKind = iota // a condition: boolean, nil counts as false
	kindValue                 // an output, title placeholder or group-by value
)

// program is one compiled expression. It is immutable and shared by every
// rule that uses the same source, so it is safe for concurrent use; the VM
// that runs it comes from a pool.
type program struct {
	source string
	kind   exprKind
	prog   *vm.Program
	// memory is expr's memory budget for a run (see MaxEvalMemory).
	memory uint
	// filter rejects raw events that cannot satisfy a condition; nil when
	// it cannot tell.
	filter *prefilter
	// equal is what a condition requires before anything that could
	// fail, for the engine's index.
	equal []*equality
	// reads lists the top-level fields the expression reads; only those
	// need decoding. It is nil when the expression may read any field.
	reads *fieldSet
	// path is set when the expression only reads a field (user.name,
	// items[0].id): its keys, followed without running the VM.
	path []any
	// lent holds the top-level fields that the expression only compares
	// with nil or reads constant keys from, with those keys (see
	// lentReads); nil when there are none.
	lent map[string]*fieldSet
	// pathID is the fieldID of path[0] when it is a name; name is that
	// name, and top is set when the path is that name alone (a top-level
	// field, the commonest output).
	pathID uint32
	name   string
	top    bool
	// direct evaluates the expression without the VM when it is simple
	// enough; nil otherwise.
	direct direct
	// plain is set when the expression's value on a decoded JSON event
	// is made of that event's values and of JSON constants only (a field,
	// or a map of fields such as an actor), so that an alert can carry it
	// without a check.
	plain bool
}

// MaxEvalMemory is expr's memory budget for one evaluation of an
// expression: the arrays, maps and ranges that it builds (with a literal,
// a range such as 1..n, or builtins such as sort and concat) may hold
// fewer than MaxEvalMemory elements in all, repeat may build fewer than
// MaxEvalMemory bytes, and replace may add fewer. An evaluation that
// builds more fails with a rule error (*EvalError) instead of running out
// of memory. It is the default of Limits.MaxEvalMemory, which sets expr's
// budget; repeat, replace and split are bounded by this constant.
const MaxEvalMemory = 1_000_000

// MaxEvalCost is the budget of one evaluation of an expression, in steps:
// an evaluation that would spend more fails with a rule error (*EvalError)
// instead of stalling. A step takes from about 100 ns to about a
// microsecond (nested closures), so the budget is at most about a second.
// It is the default of Limits.MaxEvalCost.
//
// A closure builtin (all, any, none, one, filter, map, count, sum, find,
// groupBy, sortBy, reduce, ...) spends one step per element of the
// collection it iterates. Inside the predicate of any closure, each field
// read, each use of #acc or a variable, each operand of in, contains,
// startsWith and endsWith, and each argument of a builtin spends one step
// more, and one per 64 bytes of text or per element of a list or map that
// it hands over. Inside closures and out, matches spends by the text's
// length times its pattern's size, and the text functions (lower, upper,
// split, repeat, replace...), + and the builtins that build text or
// collections (fromJSON, toJSON, string, concat, flatten, sort, uniq,
// join...) spend by what they read and build. Comparisons, field reads
// and contains outside closures spend nothing: their work grows with the
// event only linearly.
const MaxEvalCost = 1_000_000

// stepBytes is the text that costs one step.
const stepBytes = 64

var vmPool = sync.Pool{New: func() any { return &vm.VM{MemoryBudget: MaxEvalMemory} }}

// firstKey returns the first key of a path when it is a name.
func firstKey(path []any) (string, bool) {
	if len(path) == 0 {
		return "", false
	}
	name, ok := path[0].(string)
	return name, ok
}

// run evaluates the program against env, the event.
func (p *program) run(env evalEnv) (any, error) {
	if p.top {
		if v, ok := env.slotField(p.pathID); ok {
			return v, nil
		}
		return env.otherField(p.name, p.pathID), nil
	}
	if p.path != nil {
		var v any
		keys := p.path
		if name, ok := firstKey(keys); ok {
			v, keys = env.field(name, p.pathID), keys[1:]
		} else {
			v = env.asMap()
		}
		for _, k := range keys {
			if v == nil {
				break
			}
			v = get(v, k)
		}
		return v, nil
	}
	if p.direct != nil {
		// Any error, including a value the VM would reject, is left to
		// the VM to report with its position.
		if out, err := p.direct(env); err == nil {
			return out, nil
		}
	}
	m := vmPool.Get().(*vm.VM)
	m.MemoryBudget = p.memory
	out, err := m.Run(p.prog, env.asMap())
	vmPool.Put(m)
	return out, err
}

// withoutVM reports whether the program runs without expr's VM (unless
// it fails): it follows a path, or is a direct program.
func (p *program) withoutVM() bool {
	return p.path != nil || p.direct != nil
}

// runBool evaluates a condition.
func (p *program) runBool(env evalEnv) (bool, error) {
	out, err := p.run(env)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok && out != nil {
		// The checker may type a condition as boolean when a branch of
		// a ternary is of unknown type (false ? false : x.n): its value
		// is checked here, as __bool would check it.
		return false, fmt.Errorf("expected a boolean, got %s", typeName(out))
	}
	return b, nil
}

// cacheKey identifies a compiled program: the same source compiled for the
// same purpose with the same functions is compiled once per process.
type cacheKey struct {
	source string
	kind   exprKind
	limits Limits
	funcs  *Functions
}

// programCache holds the programs compiled in the process, each as long
// as a rule holds it: a service that reloads its rules does not keep
// the programs of the rules it dropped. Compile errors are not kept.
var programCache sync.Map // cacheKey -> *cacheEntry

type cacheEntry struct {
	once sync.Once
	prog weak.Pointer[program]
	err  *exprError
}

// compileCached compiles source once for each kind and set of functions,
// as long as the program is in use. Concurrent callers of the same key
// wait for the first.
func compileCached(source string, kind exprKind, funcs *Functions, lim Limits) (*program, *exprError) {
	key := cacheKey{source: source, kind: kind, limits: lim, funcs: funcs}
	for {
		v, _ := programCache.LoadOrStore(key, new(cacheEntry))
		e := v.(*cacheEntry)
		var compiled *program
		e.once.Do(func() {
			compiled, e.err = compileExpr(source, kind, funcs, lim)
			if e.err == nil {
				e.prog = weak.Make(compiled)
				// The entry goes when the program does.
				runtime.AddCleanup(compiled, func(key cacheKey) { programCache.CompareAndDelete(key, e) }, key)
			}
		})
		switch {
		case compiled != nil:
			return compiled, nil
		case e.err != nil:
			programCache.CompareAndDelete(key, e)
			return nil, e.err
		}
		if p := e.prog.Value(); p != nil {
			return p, nil
		}
		// Collected after its rules were dropped, before its entry
		// went: compiled again.
		programCache.CompareAndDelete(key, e)
	}
}

// exprError is a compile error within one expression, before it is given
// its rule and part.
type exprError struct {
	Line, Column int // 1-based; 0 when unknown
	Msg          string
	Snippet      string
	Err          error
}

func newExprError(err error, source string) *exprError {
	var fe *file.Error
	if errors.As(err, &fe) {
		fe = fe.Bind(file.NewSource(source))
		// expr ends some messages with a space.
		return &exprError{Line: fe.Line, Column: fe.Column + 1, Msg: strings.TrimSpace(fe.Message), Snippet: fe.Snippet, Err: err}
	}
	return &exprError{Msg: err.Error(), Err: err}
}

func errorAt(node ast.Node, source, format string, args ...any) *exprError {
	fe := &file.Error{Location: node.Location(), Message: fmt.Sprintf(format, args...)}
	return newExprError(fe, source)
}

// MaxNodes is the largest expression, in syntax tree nodes, that a rule may
// use, counting the definitions it calls (see Functions.Define) as if their
// expressions were written in its place. Larger expressions are compile
// errors. It is the default of Limits.MaxNodes.
const MaxNodes = 10000

// countNodes returns the number of nodes in the tree rooted at n.
func countNodes(n ast.Node) int {
	var c nodeCounter
	ast.Walk(&n, &c)
	return int(c)
}

type nodeCounter int

func (c *nodeCounter) Visit(*ast.Node) { *c++ }

func compileExpr(source string, kind exprKind, funcs *Functions, lim Limits) (*program, *exprError) {
	config := conf.CreateNew()
	config.MaxNodes = uint(lim.MaxNodes)
	for _, op := range builtinOptions {
		op(config)
	}
	for _, op := range libraryOptions {
		op(config)
	}
	for _, op := range stringOptions {
		op(config)
	}
	for _, op := range funcs.exprOptions() {
		op(config)
	}
	config.Check()
	// Every field access is rewritten into a call, so an identifier left
	// unknown is a misspelt function or variable: a compile error.
	config.Strict = true

	tree, err := parser.ParseWithConfig(source, config)
	if err != nil {
		return nil, newExprError(err, source)
	}
	if e := neverBoolean(tree.Node, source, funcs); kind == kindBool && e != nil {
		return nil, e
	}
	rw := rewriter{config: config, funcs: funcs, maxNodes: lim.MaxNodes, room: lim.MaxNodes - countNodes(tree.Node)}
	tree.Node = rw.rewrite(tree.Node)
	if rw.err != nil {
		return nil, newExprError(rw.err, source)
	}
	if rw.budgeted {
		let := &ast.VariableDeclaratorNode{Name: varBudget, Value: call(tree.Node.Location(), fnBudget, constant(tree.Node.Location(), newEvalLimit(lim.MaxEvalCost))), Expr: tree.Node}
		let.SetLocation(tree.Node.Location())
		tree.Node = let
	}
	root := call(tree.Node.Location(), fnBool, tree.Node)
	if kind == kindBool {
		tree.Node = root
	}
	if _, err := checker.Check(tree, config); err != nil {
		return nil, newExprError(err, source)
	}
	if e := checkBoolPositions(tree.Node, source); e != nil {
		return nil, e
	}
	nilSafeEquality(tree.Node)
	if kind == kindBool {
		// A condition whose type is known must be boolean; one whose type
		// depends on the event is checked when it runs.
		if t := root.Arguments[0].Type(); t.Kind() == reflect.Bool {
			tree.Node = root.Arguments[0]
		} else if t.Kind() != reflect.Interface {
			return nil, errorAt(root.Arguments[0], source, "condition must be boolean, not %s", t)
		}
	}
	var (
		filter *prefilter
		equal  []*equality
	)
	if kind == kindBool {
		filter = newPrefilter(tree.Node)
		equal = leadingEqualities(tree.Node)
	}
	if err := optimizer.Optimize(&tree.Node, config); err != nil {
		return nil, newExprError(err, source)
	}
	prog, err := compiler.Compile(tree, config)
	if err != nil {
		return nil, newExprError(err, source)
	}
	p := &program{source: source, kind: kind, prog: prog, memory: uint(lim.MaxEvalMemory), filter: filter, equal: equal, reads: topLevelReads(tree.Node)}
	if p.reads != nil {
		p.lent = lentReads(tree.Node)
	}
	if kind == kindValue {
		p.path = fieldPath(tree.Node)
		if name, ok := firstKey(p.path); ok {
			p.pathID, p.name, p.top = fieldID(name), name, len(p.path) == 1
		}
	}
	p.direct = compileDirect(tree.Node)
	p.plain = p.path != nil || p.direct != nil && infallible(tree.Node) && plainConstants(tree.Node)
	return p, nil
}

// at formats where an error is, with a caret under it.
func (e *exprError) at(source string) string {
	if e.Line == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d:%d)", e.Line, e.Column) + snippet(source, e.Line, e.Column)
}

// checkBoolPositions rejects at compile time a boolean position (an operand
// of && or !, a ternary's condition, a predicate) whose type is known and
// is not boolean.
func checkBoolPositions(root ast.Node, source string) *exprError {
	var found *exprError
	ast.Find(root, func(n ast.Node) bool {
		c, ok := n.(*ast.CallNode)
		if !ok || found != nil {
			return false
		}
		if id, ok := c.Callee.(*ast.IdentifierNode); !ok || id.Value != fnBool || len(c.Arguments) != 1 {
			return false
		}
		t := c.Arguments[0].Type()
		if t.Kind() != reflect.Bool && t.Kind() != reflect.Interface {
			found = errorAt(c.Arguments[0], source, "expected a boolean, got %s", t)
			return true
		}
		return false
	})
	return found
}

// interfaceType is the type of a value whose type is known only when it
// runs.
var interfaceType = reflect.TypeOf((*any)(nil)).Elem()

// nilSafeEquality makes == and != hold to the nil rules when the checker
// typed both operands as strings (or both as ints): expr then compares
// them with an instruction that fails on nil, and an operand so typed may
// still be nil, as the variable v of `let v = x ? "m" : nil; v == "q"`,
// typed by the ternary's other branch. Each operand that may be nil is typed as
// an interface, for which expr compares with runtime.Equal, as it does
// operands of unknown type.
func nilSafeEquality(root ast.Node) {
	ast.Find(root, func(n ast.Node) bool {
		b, ok := n.(*ast.BinaryNode)
		if !ok || (b.Operator != "==" && b.Operator != "!=") || b.Left.Type() == nil || b.Right.Type() == nil {
			return false
		}
		l, r := b.Left.Type().Kind(), b.Right.Type().Kind()
		if l != r || (l != reflect.String && l != reflect.Int) {
			return false
		}
		for _, op := range []ast.Node{b.Left, b.Right} {
			if mayBeNil(op) {
				op.SetType(interfaceType)
			}
		}
		return false
	})
}

// mayBeNil reports whether n, which the checker typed as a string or an
// int, may be nil when it runs: anything but a literal, an operation or a
// call of a function, whose results have the types they are declared with.
func mayBeNil(n ast.Node) bool {
	switch n.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.UnaryNode, *ast.CallNode, *ast.ConstantNode:
		return false
	case *ast.BinaryNode:
		return n.(*ast.BinaryNode).Operator == "??"
	}
	return true
}

// call builds a call of one of the internal functions at loc.
func call(loc file.Location, name string, args ...ast.Node) *ast.CallNode {
	callee := &ast.IdentifierNode{Value: name}
	callee.SetLocation(loc)
	n := &ast.CallNode{Callee: callee, Arguments: args}
	n.SetLocation(loc)
	return n
}

func str(loc file.Location, s string) ast.Node {
	n := &ast.StringNode{Value: s}
	n.SetLocation(loc)
	return n
}

func constant(loc file.Location, v any) ast.Node {
	n := &ast.ConstantNode{Value: v}
	n.SetLocation(loc)
	return n
}

// closureBuiltins take a collection as their first argument; nil counts as
// an empty list.
var closureBuiltins = map[string]bool{
	"all": true, "none": true, "any": true, "one": true, "filter": true, "map": true,
	"count": true, "sum": true, "find": true, "findIndex": true, "findLast": true,
	"findLastIndex": true, "groupBy": true, "sortBy": true, "reduce": true,
}

// boolPredicates are the closure builtins whose predicate is a condition.
var boolPredicates = map[string]bool{
	"all": true, "none": true, "any": true, "one": true, "filter": true, "count": true,
	"find": true, "findIndex": true, "findLast": true, "findLastIndex": true,
}

// rewriter turns a parsed expression into one with Panther's semantics.
type rewriter struct {
	config   *conf.Config
	funcs    *Functions
	vars     []string // names declared by let, innermost last
	inlining []string // definitions being inlined, to catch cycles
	// room is how many more nodes inlined definitions may add: each
	// call of a definition copies its expression, so definitions that
	// call others twice would otherwise double the tree at every level.
	room int
	// maxNodes is the limit room counts down from.
	maxNodes int
	// dynamic counts the closures around the node being rewritten;
	// inside them, where work multiplies with the number of elements,
	// operations spend the evaluation's budget.
	dynamic int
	// budgeted is set when the expression spends a budget, which is then
	// declared around it.
	budgeted bool
	err      error
}

// inline replaces a call of a definition with the definition's expression,
// located at the call.
func (rw *rewriter) inline(name, source string, loc file.Location) ast.Node {
	for _, d := range rw.inlining {
		if d == name {
			rw.err = &file.Error{Location: loc, Message: fmt.Sprintf("definition %s uses itself (%s)", name, strings.Join(append(rw.inlining, name), " -> "))}
			return nil
		}
	}
	tree, err := parser.ParseWithConfig(source, rw.config)
	if err != nil {
		rw.err = &file.Error{Location: loc, Message: fmt.Sprintf("definition %s: %v", name, err)}
		return nil
	}
	if rw.room -= countNodes(tree.Node); rw.room < 0 {
		rw.err = &file.Error{Location: loc, Message: fmt.Sprintf("expression exceeds %d nodes with its definitions inlined (inlining %s)", rw.maxNodes, name)}
		return nil
	}
	ast.Find(tree.Node, func(n ast.Node) bool {
		n.SetLocation(loc)
		return false
	})
	// A definition sees the event, not the variables of the expression
	// that calls it.
	saved := rw.vars
	rw.vars = nil
	rw.inlining = append(rw.inlining, name)
	n := rw.rewrite(tree.Node)
	rw.inlining = rw.inlining[:len(rw.inlining)-1]
	rw.vars = saved
	return n
}

func (rw *rewriter) isVar(name string) bool {
	for i := len(rw.vars) - 1; i >= 0; i-- {
		if rw.vars[i] == name {
			return true
		}
	}
	return false
}

func (rw *rewriter) rewrite(n ast.Node) ast.Node {
	if rw.err != nil || n == nil {
		return n
	}
	loc := n.Location()
	switch n := n.(type) {
	case *ast.IdentifierNode:
		if n.Value == "$env" {
			return n
		}
		if rw.isVar(n.Value) {
			return rw.cost(n)
		}
		// A function's name is a field unless it is called; the
		// internal functions are never fields.
		if _, ok := rw.config.Functions[n.Value]; ok && strings.HasPrefix(n.Value, "__") {
			return n
		}
		env := &ast.IdentifierNode{Value: "$env"}
		env.SetLocation(loc)
		return rw.get(loc, env, str(loc, n.Value))

	case *ast.MemberNode:
		n.Node = rw.rewrite(n.Node)
		n.Property = rw.rewrite(n.Property)
		if n.Method {
			return n
		}
		return rw.get(loc, n.Node, n.Property)

	case *ast.PointerNode:
		// The element, #, is charged where an operation handles it, as
		// an operand of +, contains, a builtin...; the accumulator, #acc,
		// may grow at every step, so every use spends.
		if n.Name == "acc" {
			return rw.cost(n)
		}
		return n

	case *ast.ChainNode:
		n.Node = rw.rewrite(n.Node)
		// Every member access is nil-safe already; the chain has nothing
		// left to short-circuit.
		return n.Node

	case *ast.SliceNode:
		n.Node = rw.rewrite(n.Node)
		from, to := n.From, n.To
		if from == nil {
			from = &ast.NilNode{}
			from.SetLocation(loc)
		}
		if to == nil {
			to = &ast.NilNode{}
			to.SetLocation(loc)
		}
		return call(loc, fnSlice, rw.cost(n.Node), rw.rewrite(from), rw.rewrite(to))

	case *ast.UnaryNode:
		n.Node = rw.rewrite(n.Node)
		if n.Operator == "!" || n.Operator == "not" {
			n.Node = rw.boolean(n.Node)
		}
		return n

	case *ast.BinaryNode:
		n.Left = rw.rewrite(n.Left)
		n.Right = rw.rewrite(n.Right)
		switch n.Operator {
		case "&&", "||", "and", "or":
			n.Left = rw.boolean(n.Left)
			n.Right = rw.boolean(n.Right)
			return n
		case "<":
			return call(loc, fnLess, n.Left, n.Right)
		case ">":
			return call(loc, fnMore, n.Left, n.Right)
		case "<=":
			return call(loc, fnLessEq, n.Left, n.Right)
		case ">=":
			return call(loc, fnMoreEq, n.Left, n.Right)
		case "contains":
			return call(loc, fnContains, rw.cost(n.Left), n.Right)
		case "startsWith":
			return call(loc, fnStarts, rw.cost(n.Left), n.Right)
		case "endsWith":
			return call(loc, fnEnds, rw.cost(n.Left), n.Right)
		case "matches":
			// A match spends by the text's length times the pattern's
			// size, inside closures and out: a large pattern on a long
			// text takes seconds where a field read takes nanoseconds.
			rw.budgeted = true
			if s, ok := n.Right.(*ast.StringNode); ok {
				// Compiled with the program and held by it alone: the
				// process-wide cache is for patterns read from events.
				re, err := regexp.Compile(s.Value)
				if err != nil {
					rw.err = &file.Error{Location: s.Location(), Message: err.Error()}
					return n
				}
				return call(loc, fnMatchRe, rw.cost(n.Left), constant(s.Location(), re), rw.budget(loc), constant(s.Location(), regexpWeight(s.Value)))
			}
			return call(loc, fnMatches, rw.cost(n.Left), rw.cost(n.Right), rw.budget(loc))
		case "in":
			if list, ok := literalList(n.Right); ok {
				return call(loc, fnInSet, n.Left, constant(n.Right.Location(), newValueSet(list)))
			}
			if rw.dynamic > 0 {
				rw.budgeted = true
				return call(loc, fnInCost, n.Left, n.Right, rw.budget(loc))
			}
			return call(loc, fnIn, n.Left, n.Right)
		case "+":
			// Text and lists that + joins are built anew: they spend by
			// their size wherever they are, so that doubling a value
			// step after step ends at the budget, not out of memory.
			n.Left, n.Right = rw.charge(n.Left, 1), rw.charge(n.Right, 1)
		}
		return n

	case *ast.ConditionalNode:
		n.Cond = rw.boolean(rw.rewrite(n.Cond))
		n.Exp1 = rw.rewrite(n.Exp1)
		n.Exp2 = rw.rewrite(n.Exp2)
		return n

	case *ast.BuiltinNode:
		backwardsAsReduce(n)
		closure := closureBuiltins[n.Name] && len(n.Arguments) > 0
		for i := range n.Arguments {
			_, isPredicate := n.Arguments[i].(*ast.PredicateNode)
			if isPredicate && closure {
				rw.dynamic++
			}
			n.Arguments[i] = rw.rewrite(n.Arguments[i])
			if isPredicate && closure {
				rw.dynamic--
			}
			if !isPredicate && !(closure && i == 0) && n.Name != "len" {
				n.Arguments[i] = rw.charge(n.Arguments[i], builtinArgSteps[n.Name])
				if deepBuiltins[n.Name] {
					if _, ok := literal(n.Arguments[i]); !ok {
						n.Arguments[i] = call(loc, fnDeep, n.Arguments[i], rw.budget(loc))
					}
				}
			}
		}
		if closure {
			rw.budgeted = true
			n.Arguments[0] = call(n.Arguments[0].Location(), fnList, n.Arguments[0], rw.budget(loc))
			if boolPredicates[n.Name] && len(n.Arguments) > 1 {
				if p, ok := n.Arguments[1].(*ast.PredicateNode); ok {
					p.Node = rw.boolean(p.Node)
				}
			}
		}
		if n.Name == "len" && len(n.Arguments) == 1 {
			return call(loc, fnLen, n.Arguments[0])
		}
		if sizedBuiltins[n.Name] {
			return rw.charge(n, 1)
		}
		return n

	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && len(n.Arguments) == 0 {
			if source, ok := rw.funcs.definition(id.Value); ok {
				return rw.inline(id.Value, source, loc)
			}
		}
		if id, ok := n.Callee.(*ast.IdentifierNode); !ok {
			n.Callee = rw.rewrite(n.Callee)
		} else if _, known := rw.config.Functions[id.Value]; !known && id.Value != "$env" {
			msg := "unknown function " + id.Value + rw.didYouMean(id.Value)
			if _, isDef := rw.funcs.definition(id.Value); isDef {
				msg = "definition " + id.Value + " takes no arguments"
			}
			rw.err = &file.Error{Location: loc, Message: msg}
			return n
		}
		for i := range n.Arguments {
			n.Arguments[i] = rw.rewrite(n.Arguments[i])
		}
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			if id.Value == "uniq" && len(n.Arguments) == 1 {
				rw.budgeted = true
				n.Arguments = []ast.Node{rw.charge(n.Arguments[0], 1), rw.budget(loc)}
				return rw.charge(n, 1)
			}
			if mul, ok := textFunctions[id.Value]; ok {
				// The text a string function reads and the value it
				// builds spend by their size.
				for i := range n.Arguments {
					n.Arguments[i] = rw.charge(n.Arguments[i], mul)
				}
				return rw.charge(n, 1)
			}
			if isLibraryFunction(id.Value) {
				return rw.libraryCall(id.Value, n)
			}
		}
		return n

	case *ast.PredicateNode:
		n.Node = rw.rewrite(n.Node)
		return n

	case *ast.VariableDeclaratorNode:
		n.Value = rw.rewrite(n.Value)
		rw.vars = append(rw.vars, n.Name)
		n.Expr = rw.rewrite(n.Expr)
		rw.vars = rw.vars[:len(rw.vars)-1]
		return n

	case *ast.SequenceNode:
		for i := range n.Nodes {
			n.Nodes[i] = rw.rewrite(n.Nodes[i])
		}
		return n

	case *ast.ArrayNode:
		for i := range n.Nodes {
			n.Nodes[i] = rw.rewrite(n.Nodes[i])
		}
		return n

	case *ast.MapNode:
		for i := range n.Pairs {
			n.Pairs[i] = rw.rewrite(n.Pairs[i])
		}
		return n

	case *ast.PairNode:
		n.Value = rw.rewrite(n.Value)
		return n
	}
	return n
}

// backwardsAsReduce rewrites findLast(list, p), findLastIndex(list, p) and
// last(filter(list, p)) (which expr's optimizer turns into findLast) into
// reduce(list, p ? # : #acc, nil), with #index for findLastIndex: the same
// value, the last element or index for which p holds, else nil. expr
// v1.17.8 compiles the backward loop of findLast and findLastIndex so that
// each step leaves a value on the VM's stack, which corrupts the values that
// a closure around them collects: map(list, findLast(...)) gives wrong elements.
// A predicate that uses #acc, which only a reduce may, or #index, which
// findLast may not, is left as it is, for expr to reject.
func backwardsAsReduce(n *ast.BuiltinNode) {
	name, args := n.Name, n.Arguments
	if name == "last" && len(args) == 1 {
		f, ok := args[0].(*ast.BuiltinNode)
		if !ok || f.Name != "filter" {
			return
		}
		name, args = "findLast", f.Arguments
	}
	if (name != "findLast" && name != "findLastIndex") || len(args) != 2 {
		return
	}
	p, ok := args[1].(*ast.PredicateNode)
	if !ok || usesPointer(p.Node, "acc") || usesPointer(p.Node, "index") {
		return
	}
	loc := n.Location()
	found := &ast.PointerNode{}
	if name == "findLastIndex" {
		found.Name = "index"
	}
	acc := &ast.PointerNode{Name: "acc"}
	none := &ast.NilNode{}
	choice := &ast.ConditionalNode{Cond: p.Node, Exp1: found, Exp2: acc}
	for _, x := range []ast.Node{found, acc, none, choice} {
		x.SetLocation(loc)
	}
	p.Node = choice
	n.Name, n.Arguments = "reduce", []ast.Node{args[0], p, none}
}

// usesPointer reports whether n refers to #name, in any closure.
func usesPointer(n ast.Node, name string) bool {
	found := false
	ast.Find(n, func(x ast.Node) bool {
		if p, ok := x.(*ast.PointerNode); ok && p.Name == name {
			found = true
		}
		return found
	})
	return found
}

// get reads key of obj; inside a closure over the event's data, the read
// spends the evaluation's budget.
func (rw *rewriter) get(loc file.Location, obj, key ast.Node) ast.Node {
	if rw.dynamic == 0 {
		return call(loc, fnGet, obj, key)
	}
	rw.budgeted = true
	return call(loc, fnGetCost, obj, key, rw.budget(loc))
}

// cost wraps n, a value that an operation inside a closure over the
// event's data handles, so that it spends the evaluation's budget by its
// size. Literals, whose size the expression fixes, are left alone.
func (rw *rewriter) cost(n ast.Node) ast.Node {
	if rw.dynamic == 0 || n == nil {
		return n
	}
	if _, ok := literal(n); ok {
		return n
	}
	rw.budgeted = true
	return call(n.Location(), fnCost, n, rw.budget(n.Location()))
}

// charge wraps n, a value that an operation reads or builds, so that it
// spends the evaluation's budget by its size times mul (zero counts as
// one), inside closures and out. Literals are left alone.
func (rw *rewriter) charge(n ast.Node, mul int) ast.Node {
	if n == nil {
		return n
	}
	if _, ok := literal(n); ok {
		return n
	}
	rw.budgeted = true
	args := []ast.Node{n, rw.budget(n.Location())}
	if mul > 1 {
		args = append(args, constant(n.Location(), mul))
	}
	return call(n.Location(), fnCost, args...)
}

// textFunctions are the string functions whose work grows with their
// text, each with what a step's 64 bytes of its arguments cost: lower and
// upper may rewrite every rune, where the others only scan.
var textFunctions = map[string]int{
	"lower": 4, "upper": 4, "trim": 1, "trimPrefix": 1, "trimSuffix": 1,
	"hasPrefix": 1, "hasSuffix": 1, "indexOf": 1, "lastIndexOf": 1,
	"split": 1, "repeat": 1, "replace": 1,
}

// builtinArgSteps is what a step's 64 bytes of a builtin's argument cost
// when they cost more than one: fromJSON builds a value for every few
// bytes it reads, so each byte is a step.
var builtinArgSteps = map[string]int{"fromJSON": stepBytes, "fromBase64": 2, "toJSON": 4, "string": 4}

// deepBuiltins are the builtins that walk their argument whole, at every
// depth.
var deepBuiltins = map[string]bool{"toJSON": true, "string": true, "flatten": true, "join": true}

// sizedBuiltins are the builtins whose value is text or a collection
// built anew, which spends by its size as well.
var sizedBuiltins = map[string]bool{
	"fromJSON": true, "toJSON": true, "concat": true, "flatten": true, "sort": true,
	"keys": true, "values": true, "join": true, "reverse": true,
	"toPairs": true, "fromPairs": true, "string": true, "toBase64": true,
	"fromBase64": true, "splitAfter": true, "sortBy": true, "groupBy": true,
	"map": true, "filter": true,
}

// budget refers to the evaluation's budget.
func (rw *rewriter) budget(loc file.Location) ast.Node {
	n := &ast.IdentifierNode{Value: varBudget}
	n.SetLocation(loc)
	return n
}

// boolean wraps n so that nil counts as false, unless n is boolean already.
func (rw *rewriter) boolean(n ast.Node) ast.Node {
	// n is nil when rewriting it failed (rw.err says why).
	if n == nil || isBoolean(n) {
		return n
	}
	return call(n.Location(), fnBool, n)
}

func isBoolean(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.BoolNode:
		return true
	case *ast.UnaryNode:
		return n.Operator == "!" || n.Operator == "not"
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "||", "and", "or", "==", "!=":
			return true
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			switch id.Value {
			case fnBool, fnLess, fnMore, fnLessEq, fnMoreEq, fnContains, fnStarts, fnEnds,
				fnMatchRe, fnMatches, fnIn, fnInSet, fnInCost:
				return true
			}
			return libraryPredicates[id.Value]
		}
	case *ast.BuiltinNode:
		switch n.Name {
		case "all", "any", "none", "one":
			return true
		}
	}
	return false
}

// builtinOptions registers the internal functions with their signatures,
// so that the checker knows which of them return booleans.
var builtinOptions = []expr.Option{
	unknownResult(fnGet, rtGet),
	expr.Function(fnBool, rtBool, new(func(any) bool)),
	expr.Function(fnLess, rtLess, new(func(any, any) bool)),
	expr.Function(fnMore, rtMore, new(func(any, any) bool)),
	expr.Function(fnLessEq, rtLessEq, new(func(any, any) bool)),
	expr.Function(fnMoreEq, rtMoreEq, new(func(any, any) bool)),
	expr.Function(fnContains, rtContains, new(func(any, any) bool)),
	expr.Function(fnStarts, rtStartsWith, new(func(any, any) bool)),
	expr.Function(fnEnds, rtEndsWith, new(func(any, any) bool)),
	expr.Function(fnMatchRe, rtMatchRe, new(func(any, any, any, any) bool)),
	expr.Function(fnMatches, rtMatches, new(func(any, any, any) bool)),
	expr.Function(fnIn, rtIn, new(func(any, any) bool)),
	expr.Function(fnInSet, rtInSet, new(func(any, any) bool)),
	expr.Function(fnLen, rtLen, new(func(any) int)),
	expr.Function(fnList, rtList, new(func(any, any) []any)),
	unknownResult(fnSlice, rtSlice),
	expr.Function(fnBudget, rtBudget, new(func(any) any)),
	unknownResult(fnGetCost, rtGetCost),
	expr.Function(fnInCost, rtInCost, new(func(any, any, any) bool)),
	// expr's repeat and replace, checked so that the text they would
	// build fits the memory budget before it is built: expr counts it
	// after, by which time a repeat of a long field may be out of memory.
	// As for the other builtins, a name not called reads a field.
	expr.Function("repeat", rtRepeat, new(func(string, int) string)),
	expr.Function("replace", rtReplace, new(func(string, string, string) string), new(func(string, string, string, int) string)),
	// uniq without comparing every pair, and with a budget for what
	// cannot be hashed.
	expr.Function("uniq", rtUniq, new(func(any, any) []any)),
	// __cost and __deep return their first argument: their type is that
	// argument's.
	func(c *conf.Config) {
		c.Functions[fnCost] = &builtin.Function{
			Name:     fnCost,
			Func:     rtCost,
			Validate: func(args []reflect.Type) (reflect.Type, error) { return args[0], nil },
		}
		c.Functions[fnDeep] = &builtin.Function{
			Name:     fnDeep,
			Func:     rtDeep,
			Validate: func(args []reflect.Type) (reflect.Type, error) { return args[0], nil },
		}
	},
}

// unknownResult registers an internal function that reads a field, a key
// or a slice: its result is of a type that expr's checker does not know,
// as plain expr's fields are. Typed any, it would narrow what holds it:
// the checker types c ? {"a": 1} : user as a map, and rejects comparing
// it with a list, where plain expr, for which user is unknown, does not.
func unknownResult(name string, fn func(args ...any) (any, error)) expr.Option {
	return func(c *conf.Config) {
		c.Functions[name] = &builtin.Function{
			Name:     name,
			Func:     fn,
			Validate: func([]reflect.Type) (reflect.Type, error) { return nil, nil },
		}
	}
}

// literalList returns the values of an array literal whose elements are all
// literals.
func literalList(n ast.Node) ([]any, bool) {
	arr, ok := n.(*ast.ArrayNode)
	if !ok {
		return nil, false
	}
	list := make([]any, 0, len(arr.Nodes))
	for _, e := range arr.Nodes {
		v, ok := literal(e)
		if !ok {
			return nil, false
		}
		list = append(list, v)
	}
	return list, true
}

func literal(n ast.Node) (any, bool) {
	switch n := n.(type) {
	case *ast.StringNode:
		return n.Value, true
	case *ast.IntegerNode:
		return n.Value, true
	case *ast.FloatNode:
		return n.Value, true
	case *ast.BoolNode:
		return n.Value, true
	case *ast.NilNode:
		return nil, true
	case *ast.UnaryNode:
		if n.Operator == "-" {
			switch v := n.Node.(type) {
			case *ast.IntegerNode:
				return -v.Value, true
			case *ast.FloatNode:
				return -v.Value, true
			}
		}
	}
	return nil, false
}

// fieldPath returns the keys of an expression that only reads a field, or
// nil.
func fieldPath(n ast.Node) []any {
	if !isFieldPath(n) {
		return nil
	}
	var keys []any
	for {
		c := n.(*ast.CallNode)
		switch k := c.Arguments[1].(type) {
		case *ast.StringNode:
			keys = append(keys, k.Value)
		case *ast.IntegerNode:
			keys = append(keys, k.Value)
		}
		if env, ok := c.Arguments[0].(*ast.IdentifierNode); ok && env.Value == "$env" {
			break
		}
		n = c.Arguments[0]
	}
	for i, j := 0, len(keys)-1; i < j; i, j = i+1, j-1 {
		keys[i], keys[j] = keys[j], keys[i]
	}
	return keys
}
