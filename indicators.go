package detect

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// Indicator is one predicate that a rule's condition tests on a field of
// the event: `action == "RevokeUserSessions"` is the indicator
// {Field: "action", Kind: "eq", Values: ["RevokeUserSessions"]}.
// Catalogs list them, and count how many rules look for the same thing.
type Indicator struct {
	// Field is the event path the predicate reads: "user.name",
	// "items[0].id", or "roles[*]" for the elements of a list tested by
	// any, all, none or one.
	Field string `json:"field"`
	// Kind is the test: eq (==, in a list, equalFold), contains (a text's
	// substring or a list's element), startswith, endswith, regex (matches),
	// glob, cidr (inCIDR), lt, lte, gt, gte, exists (compared with nil),
	// lookup (inLookup, the table as value), or the name of a library
	// predicate that takes no value (isPrivateIP, isIPv4...).
	Kind string `json:"kind"`
	// Values are the constants tested, in the order written; any of them
	// satisfies the predicate. Empty for kinds that take none.
	Values []any `json:"values"`
	// Negated is set when the condition needs the predicate to be false
	// (!=, not in, a predicate under !).
	Negated bool `json:"negated,omitempty"`
	// IgnoreCase is set when the field is compared ignoring letter case
	// (lower(field) == "x", equalFold, containsFold).
	IgnoreCase bool `json:"ignoreCase,omitempty"`
	// Required is set when no event matches the rule unless the predicate
	// holds (or, when Negated, fails).
	Required bool `json:"required"`
}

// String renders the indicator as a line of detection logic,
// `status eq "SUCCESS"`.
func (in Indicator) String() string {
	var b strings.Builder
	b.WriteString(in.Field)
	b.WriteByte(' ')
	kind := in.Kind
	if in.IgnoreCase {
		kind = "i" + kind
	}
	switch {
	case in.Negated && in.Kind == "eq" && !in.IgnoreCase:
		b.WriteString("ne")
	case in.Negated:
		b.WriteString("not " + kind)
	default:
		b.WriteString(kind)
	}
	switch len(in.Values) {
	case 0:
	case 1:
		b.WriteByte(' ')
		b.WriteString(renderLiteral(in.Values[0]))
	default:
		parts := make([]string, len(in.Values))
		for i, v := range in.Values {
			parts[i] = renderLiteral(v)
		}
		b.WriteString(" [" + strings.Join(parts, ", ") + "]")
	}
	return b.String()
}

func renderLiteral(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Logic is what a rule's condition tests, for people and catalogs: the
// condition's top-level conjuncts as lines (`status eq "SUCCESS"` where a
// conjunct is one indicator, its expression otherwise) and every
// indicator, with the definitions the condition calls written out.
type Logic struct {
	Conditions []string
	Indicators []Indicator
}

// Logic returns what the rule's condition tests. It reads the condition as
// written, with the definitions of the rule's Functions inlined; a rule
// that does not compile returns its compile error. Expressions that are not
// predicates on fields (a registered Go function, arithmetic) give a
// condition line but no indicator.
func (r *Rule) Logic() (*Logic, error) {
	if _, err := r.compiled(); err != nil {
		return nil, err
	}
	var funcs *Functions
	if st := (*ruleState)(atomic.LoadPointer(&r.state)); st != nil {
		funcs = st.funcs
	}
	root, err := expandDefinitions(r.Condition, funcs)
	if err != nil {
		return nil, &CompileError{RuleID: r.ID, Part: "condition", Expr: r.Condition, Msg: err.Error()}
	}
	l := &Logic{}
	for _, c := range topConjuncts(root, nil) {
		x := indicatorWalker{funcs: funcs}
		x.walk(c, nil, false, true)
		if len(x.out) == 1 && x.exact {
			l.Conditions = append(l.Conditions, x.out[0].String())
		} else {
			l.Conditions = append(l.Conditions, c.String())
		}
		for _, in := range x.out {
			l.Indicators = addIndicator(l.Indicators, in)
		}
	}
	return l, nil
}

// addIndicator adds in to list unless it is there already; a repeat
// that is required makes the one listed required.
func addIndicator(list []Indicator, in Indicator) []Indicator {
	for i := range list {
		if sameIndicator(list[i], in) {
			list[i].Required = list[i].Required || in.Required
			return list
		}
	}
	return append(list, in)
}

// OutputSource is where an output of a rule comes from: the event path it
// reads when it only reads a field, else its expression.
type OutputSource struct {
	Name   string `json:"field"`
	Source string `json:"source"`
	// Path is set when Source is an event path rather than an
	// expression.
	Path bool `json:"path"`
}

// OutputSources returns, in order, the source of each of the rule's
// outputs (Fields).
func (r *Rule) OutputSources() []OutputSource {
	out := make([]OutputSource, 0, len(r.Fields))
	for _, f := range r.Fields {
		src := OutputSource{Name: f.Name, Source: strings.TrimSpace(f.Expr)}
		if tree, err := parser.Parse(f.Expr); err == nil {
			if p, ok := nodePath(tree.Node, ""); ok {
				src.Source, src.Path = p, true
			}
		}
		out = append(out, src)
	}
	return out
}

// maxExpandedNodes bounds the tree that inlining definitions may build.
const maxExpandedNodes = 100_000

// expandDefinitions parses source and replaces each call of a definition
// of funcs (taking no arguments) with the definition's expression.
func expandDefinitions(source string, funcs *Functions) (ast.Node, error) {
	tree, err := parser.Parse(source)
	if err != nil {
		return nil, err
	}
	e := expander{funcs: funcs, room: maxExpandedNodes}
	root := tree.Node
	ast.Walk(&root, &e)
	return root, e.err
}

type expander struct {
	funcs    *Functions
	inlining []string
	room     int
	err      error
}

func (e *expander) Visit(node *ast.Node) {
	c, ok := (*node).(*ast.CallNode)
	if !ok || e.err != nil || len(c.Arguments) != 0 {
		return
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	source, ok := e.funcs.definition(id.Value)
	if !ok {
		return
	}
	for _, d := range e.inlining {
		if d == id.Value {
			e.err = fmt.Errorf("definition %s uses itself", id.Value)
			return
		}
	}
	tree, err := parser.Parse(source)
	if err != nil {
		e.err = fmt.Errorf("definition %s: %w", id.Value, err)
		return
	}
	if e.room -= countNodes(tree.Node); e.room < 0 {
		e.err = fmt.Errorf("condition exceeds %d nodes with its definitions inlined", maxExpandedNodes)
		return
	}
	n := tree.Node
	e.inlining = append(e.inlining, id.Value)
	ast.Walk(&n, e)
	e.inlining = e.inlining[:len(e.inlining)-1]
	*node = n
}

// topConjuncts flattens the && at the top of n.
func topConjuncts(n ast.Node, list []ast.Node) []ast.Node {
	if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
		return topConjuncts(b.Right, topConjuncts(b.Left, list))
	}
	return append(list, n)
}

// indicatorWalker collects the indicators of a boolean expression. exact
// is left set when the expression is exactly its one indicator, so that the
// indicator can stand for it as a line of logic.
type indicatorWalker struct {
	funcs *Functions
	out   []Indicator
	exact bool
	seen  bool
}

// walk collects the indicators of n: neg tells that the condition needs n
// false, req that it needs n (or its negation) to hold, base the path of
// the list whose elements # stands for.
func (x *indicatorWalker) walk(n ast.Node, base *string, neg, req bool) {
	if !x.seen {
		x.seen, x.exact = true, true
	}
	switch n := n.(type) {
	case *ast.UnaryNode:
		if n.Operator == "!" || n.Operator == "not" {
			x.walk(n.Node, base, !neg, req)
			return
		}
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and", "||", "or":
			and := n.Operator == "&&" || n.Operator == "and"
			if and != neg {
				// Both sides must hold (or, negated, both fail).
				x.exact = false
				x.walk(n.Left, base, neg, req)
				x.walk(n.Right, base, neg, req)
				return
			}
			x.disjunction(n, base, neg, req)
			return
		}
		if in, ok := binaryIndicator(n, base); ok {
			x.add(in, neg, req)
			return
		}
	case *ast.BuiltinNode:
		if len(n.Arguments) == 2 {
			if p, ok := n.Arguments[1].(*ast.PredicateNode); ok {
				if path, ok := nodePath(n.Arguments[0], deref(base)); ok {
					elem := path + "[*]"
					x.exact = false
					switch n.Name {
					case "any", "one", "filter":
						x.walk(p.Node, &elem, neg, req)
					case "all":
						x.walk(p.Node, &elem, neg, false)
					case "none":
						x.walk(p.Node, &elem, !neg, false)
					default:
						x.walk(p.Node, &elem, neg, false)
					}
					return
				}
			}
		}
	case *ast.CallNode:
		if in, ok := x.callIndicator(n, base); ok {
			x.add(in, neg, req)
			return
		}
	case *ast.BoolNode, *ast.NilNode:
		x.exact = false
		return
	default:
		// A bare field in a boolean position holds when it is true.
		if path, ok := nodePath(n, deref(base)); ok {
			x.add(Indicator{Field: path, Kind: "eq", Values: []any{true}}, neg, req)
			return
		}
	}
	x.exact = false
	// Not a predicate on a field: look inside for those of its parts,
	// which no match needs for sure.
	for _, c := range children(n) {
		if _, isPath := nodePath(c, deref(base)); !isPath {
			x.walk(c, base, neg, false)
		}
	}
	x.exact = false
}

// disjunction collects the indicators of an || (or a negated &&): none of
// its sides is needed alone, but when every side is one predicate of the
// same field and kind, they are one indicator with the values of all.
func (x *indicatorWalker) disjunction(n *ast.BinaryNode, base *string, neg, req bool) {
	var sides []ast.Node
	var flatten func(ast.Node)
	flatten = func(m ast.Node) {
		if b, ok := m.(*ast.BinaryNode); ok && b.Operator == n.Operator {
			flatten(b.Left)
			flatten(b.Right)
			return
		}
		sides = append(sides, m)
	}
	flatten(n)
	var merged *Indicator
	for _, s := range sides {
		w := indicatorWalker{funcs: x.funcs}
		w.walk(s, base, neg, true)
		if len(w.out) != 1 || !w.exact {
			merged = nil
			break
		}
		in := w.out[0]
		if merged == nil {
			merged = &in
			continue
		}
		if in.Field != merged.Field || in.Kind != merged.Kind || in.Negated != merged.Negated || in.IgnoreCase != merged.IgnoreCase || len(in.Values) == 0 {
			merged = nil
			break
		}
		merged.Values = appendNew(merged.Values, in.Values...)
	}
	if merged != nil {
		merged.Required = req
		x.out = append(x.out, *merged)
		return
	}
	// A predicate that every side needs is needed by the whole.
	x.exact = false
	var each [][]Indicator
	for _, s := range sides {
		w := indicatorWalker{funcs: x.funcs}
		w.walk(s, base, neg, true)
		each = append(each, w.out)
	}
	for i, list := range each {
		for _, in := range list {
			in.Required = in.Required && req && inEvery(in, each)
			if i > 0 && in.Required {
				continue // listed with the first side
			}
			x.out = append(x.out, in)
		}
	}
}

// inEvery reports whether every list has a required indicator equal to in.
func inEvery(in Indicator, lists [][]Indicator) bool {
	for _, list := range lists {
		found := false
		for _, other := range list {
			if other.Required && sameIndicator(in, other) {
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

func sameIndicator(a, b Indicator) bool {
	return a.Field == b.Field && a.Kind == b.Kind && a.Negated == b.Negated &&
		a.IgnoreCase == b.IgnoreCase && reflect.DeepEqual(a.Values, b.Values)
}

func (x *indicatorWalker) add(in Indicator, neg, req bool) {
	in.Negated = in.Negated != neg
	in.Required = req
	x.out = append(x.out, in)
}

func appendNew(list []any, vs ...any) []any {
	for _, v := range vs {
		dup := false
		for _, w := range list {
			if w == v {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, v)
		}
	}
	return list
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

var comparisonKinds = map[string]string{
	"==": "eq", "contains": "contains", "startsWith": "startswith", "endsWith": "endswith",
	"matches": "regex", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte",
}

// flipped is the kind of a comparison written with its operands swapped.
var flipped = map[string]string{"lt": "gt", "lte": "gte", "gt": "lt", "gte": "lte", "eq": "eq"}

// binaryIndicator reads a comparison of a field with constants.
func binaryIndicator(n *ast.BinaryNode, base *string) (Indicator, bool) {
	op, negated := n.Operator, false
	switch op {
	case "!=":
		op, negated = "==", true
	case "not in":
		op, negated = "in", true
	}
	if op == "in" {
		if path, fold, ok := foldedPath(n.Left, base); ok {
			if list, ok := literalList(n.Right); ok {
				return Indicator{Field: path, Kind: "eq", Values: list, Negated: negated, IgnoreCase: fold}, true
			}
		}
		if v, ok := literal(n.Left); ok {
			if path, ok := nodePath(n.Right, deref(base)); ok {
				return Indicator{Field: path, Kind: "contains", Values: []any{v}, Negated: negated}, true
			}
		}
		return Indicator{}, false
	}
	kind, ok := comparisonKinds[op]
	if !ok {
		return Indicator{}, false
	}
	left, right := n.Left, n.Right
	if _, isLit := literal(left); isLit && kind != "contains" && kind != "startswith" && kind != "endswith" && kind != "regex" {
		if k, ok := flipped[kind]; ok {
			left, right, kind = right, left, k
		}
	}
	path, fold, ok := foldedPath(left, base)
	if !ok {
		return Indicator{}, false
	}
	v, ok := literal(right)
	if !ok {
		return Indicator{}, false
	}
	if v == nil {
		if kind != "eq" {
			return Indicator{}, false
		}
		// == nil: the field does not exist.
		return Indicator{Field: path, Kind: "exists", Values: []any{}, Negated: !negated}, true
	}
	return Indicator{Field: path, Kind: kind, Values: []any{v}, Negated: negated, IgnoreCase: fold}, true
}

// libraryKinds are the library functions of a field and a constant.
var libraryKinds = map[string]struct {
	kind string
	fold bool
}{
	"equalFold": {"eq", true}, "containsFold": {"contains", true}, "inCIDR": {"cidr", false},
	"glob": {"glob", false}, "hasPrefix": {"startswith", false}, "hasSuffix": {"endswith", false},
}

// IndicatorFunc tells what a call of a registered predicate tests, for
// Rule.Logic: args are the call's arguments after the field, each a
// constant (nil where the expression is not one). It returns the
// indicator without its Field (the first argument's path), or false when
// the call tests nothing Logic can name.
type IndicatorFunc func(args []any) (Indicator, bool)

// DescribeIndicator tells Rule.Logic how to read calls of the function
// name, registered in the set, whose first argument is a field: a front
// end's matching functions then show in catalogs as indicators.
func (f *Functions) DescribeIndicator(name string, fn IndicatorFunc) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.names[name] {
		return fmt.Errorf("detect: DescribeIndicator: no function %s is registered", name)
	}
	if f.describe == nil {
		f.describe = map[string]IndicatorFunc{}
	}
	f.describe[name] = fn
	return nil
}

func (f *Functions) indicatorFunc(name string) (IndicatorFunc, bool) {
	if f == nil {
		return nil, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fn, ok := f.describe[name]
	return fn, ok
}

// callIndicator reads a library predicate of a field, or a registered
// function's that DescribeIndicator describes.
func (x *indicatorWalker) callIndicator(n *ast.CallNode, base *string) (Indicator, bool) {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok {
		return Indicator{}, false
	}
	if fn, ok := x.funcs.indicatorFunc(id.Value); ok && len(n.Arguments) > 0 {
		path, _, ok := foldedPath(n.Arguments[0], base)
		if !ok {
			return Indicator{}, false
		}
		args := make([]any, len(n.Arguments)-1)
		for i, a := range n.Arguments[1:] {
			if v, ok := literal(a); ok {
				args[i] = v
			} else if list, ok := literalList(a); ok {
				args[i] = list
			}
		}
		in, ok := fn(args)
		if !ok {
			return Indicator{}, false
		}
		in.Field = path
		if in.Values == nil {
			in.Values = []any{}
		}
		return in, true
	}
	if id.Value == "inLookup" && len(n.Arguments) == 2 {
		table, ok := n.Arguments[0].(*ast.StringNode)
		path, okPath := nodePath(n.Arguments[1], deref(base))
		if ok && okPath {
			return Indicator{Field: path, Kind: "lookup", Values: []any{table.Value}}, true
		}
		return Indicator{}, false
	}
	if lk, ok := libraryKinds[id.Value]; ok && len(n.Arguments) == 2 {
		path, fold, ok := foldedPath(n.Arguments[0], base)
		if !ok {
			return Indicator{}, false
		}
		if v, ok := literal(n.Arguments[1]); ok && v != nil {
			return Indicator{Field: path, Kind: lk.kind, Values: []any{v}, IgnoreCase: lk.fold || fold}, true
		}
		if list, ok := literalList(n.Arguments[1]); ok {
			return Indicator{Field: path, Kind: lk.kind, Values: list, IgnoreCase: lk.fold || fold}, true
		}
		return Indicator{}, false
	}
	if libraryPredicates[id.Value] && len(n.Arguments) == 1 {
		if path, ok := nodePath(n.Arguments[0], deref(base)); ok {
			return Indicator{Field: path, Kind: id.Value, Values: []any{}}, true
		}
	}
	return Indicator{}, false
}

// foldedPath reads a field path, or lower or upper of one (a comparison
// ignoring case).
func foldedPath(n ast.Node, base *string) (path string, fold, ok bool) {
	// field ?? "" tests the field: the empty text stands in for nil.
	// field ?? fallback tests the field, or what stands in for it when
	// it is missing (the empty text, another path a front end reads): the
	// field names it.
	if b, isBinary := n.(*ast.BinaryNode); isBinary && b.Operator == "??" {
		if _, isLit := literal(b.Right); !isLit || isEmptyString(b.Right) {
			return foldedPath(b.Left, base)
		}
	}
	if b, isBuiltin := n.(*ast.BuiltinNode); isBuiltin && (b.Name == "lower" || b.Name == "upper") && len(b.Arguments) == 1 {
		path, _, ok = foldedPath(b.Arguments[0], base)
		return path, true, ok
	}
	path, ok = nodePath(n, deref(base))
	return path, false, ok
}

func isEmptyString(n ast.Node) bool {
	s, ok := n.(*ast.StringNode)
	return ok && s.Value == ""
}

// nodePath returns the event path that n reads, when n only reads a field:
// user.name, $env["odd name"], items[0].id; inside a closure over the list
// at base, #.name or .name is base.name.
func nodePath(n ast.Node, base string) (string, bool) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		if n.Value == "$env" {
			return "", true
		}
		return n.Value, true
	case *ast.PointerNode:
		if n.Name != "" || base == "" {
			return "", false
		}
		return base, true
	case *ast.ChainNode:
		return nodePath(n.Node, base)
	case *ast.MemberNode:
		if n.Method {
			return "", false
		}
		parent, ok := nodePath(n.Node, base)
		if !ok {
			return "", false
		}
		switch p := n.Property.(type) {
		case *ast.StringNode:
			if parent == "" {
				return p.Value, true
			}
			return parent + "." + p.Value, true
		case *ast.IntegerNode:
			if parent == "" {
				return "", false
			}
			return parent + "[" + strconv.Itoa(p.Value) + "]", true
		}
	}
	return "", false
}

// SortIndicators orders indicators by field, kind and negation, for
// output that does not depend on how a condition was written.
func SortIndicators(list []Indicator) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.Field != b.Field {
			return a.Field < b.Field
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return !a.Negated && b.Negated
	})
}
