package detect

import (
	"fmt"
	"sort"

	"github.com/expr-lang/expr/ast"
)

// An equality is what a condition requires before anything that could
// fail: that a field hold one of a few strings (action == "DeleteUser",
// eventName in ["A", "B"]), as an operand of the condition's chain of &&
// preceded only by operands that cannot fail (other equalities, nil
// checks). On an event whose field holds none of the strings, the
// condition is false, and evaluating it would raise no error: skipping it
// changes nothing. The engine indexes rules by these values, as Falco
// indexes rules by event type, and evaluates only the rules an event's
// values select.
type equality struct {
	path   []any    // the field's keys from the event down
	values []string // sorted
}

// leadingEqualities returns the equalities that the condition n requires
// before anything that could fail, in their order.
func leadingEqualities(n ast.Node) []*equality {
	if x, ok := n.(*ast.VariableDeclaratorNode); ok {
		// The evaluation's budget, declared around the expression, is a
		// call that cannot fail; other variables could.
		c, ok := x.Value.(*ast.CallNode)
		if !ok || len(c.Arguments) != 1 {
			return nil
		}
		if id, ok := c.Callee.(*ast.IdentifierNode); !ok || id.Value != fnBudget {
			return nil
		}
		n = x.Expr
	}
	var out []*equality
	for _, c := range conjuncts(n, nil) {
		if eq := equalityOf(c); eq != nil {
			out = append(out, eq)
		} else if !infallible(c) {
			break
		}
	}
	return out
}

// conjuncts appends the operands of n's chain of && to list, in the order
// they are evaluated.
func conjuncts(n ast.Node, list []ast.Node) []ast.Node {
	if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
		return conjuncts(b.Right, conjuncts(b.Left, list))
	}
	return append(list, n)
}

// equalityOf returns the equality n is, or nil.
func equalityOf(n ast.Node) *equality {
	switch x := n.(type) {
	case *ast.BinaryNode:
		if x.Operator != "==" {
			return nil
		}
		path, s := fieldPath(x.Left), x.Right
		if path == nil {
			path, s = fieldPath(x.Right), x.Left
		}
		lit, ok := s.(*ast.StringNode)
		if path == nil || !ok {
			return nil
		}
		return &equality{path: path, values: []string{lit.Value}}
	case *ast.CallNode:
		id, ok := x.Callee.(*ast.IdentifierNode)
		if !ok || id.Value != fnInSet || len(x.Arguments) != 2 {
			return nil
		}
		path := fieldPath(x.Arguments[0])
		c, ok := x.Arguments[1].(*ast.ConstantNode)
		if path == nil || !ok {
			return nil
		}
		set, ok := c.Value.(*valueSet)
		if !ok || len(set.nums) > 0 || set.bools != [2]bool{} || len(set.others) > 0 || len(set.strs) == 0 {
			return nil
		}
		eq := &equality{path: path}
		for s := range set.strs {
			eq.values = append(eq.values, s)
		}
		sort.Strings(eq.values)
		return eq
	}
	return nil
}

// valueAt reads the field at path in env, as the condition reads it.
func valueAt(env map[string]any, path []any) any {
	var v any = env
	for _, k := range path {
		if v = get(v, k); v == nil {
			return nil
		}
	}
	return v
}

// ruleSet is the rules that events of one log type go to, compiled, with
// the fields they read and an index of their leading equalities.
type ruleSet struct {
	rules []setRule
	// reads is what decoding needs for the rules: the fields they read
	// and the engine's head fields; nil for any field.
	reads *fieldSet
	// unread is reads without the head fields, which Process decodes
	// first, before routing; nil when reads is.
	unread *fieldSet
	// indexInHead is set when the index looks up top-level fields only,
	// which Process decodes with the head.
	indexInHead bool
	// index is nil unless enough rules lead with an equality for looking
	// the event's values up to cost less than the prefilters it saves.
	index []indexedField
}

// setRule is a rule of a set. The engine keeps the compiled form that
// the rule had when the engine was built.
type setRule struct {
	rule     *Rule
	compiled *compiledRule
	indexed  bool // its equality is in the index: it runs only if selected
}

// indexedField maps the values of one field to the rules whose leading
// equality they satisfy.
type indexedField struct {
	path  []any
	rules map[string][]int // value to positions in ruleSet.rules
}

// minIndexed is how many rules of a set must lead with an equality for
// the set to be indexed. The engine decodes the indexed fields of every
// event with its log type, before routing; a few prefilters cost less
// than that.
const minIndexed = 8

// newRuleSet returns the set of rules, compiled, which must be done
// without error; head is the fields the engine reads before routing.
func newRuleSet(rules []*Rule, head *fieldSet) *ruleSet {
	set := &ruleSet{rules: make([]setRule, len(rules))}
	reads := []*fieldSet{head}
	// How many distinct values the rules' equalities test, per field: a
	// rule is indexed by its most telling field (action rather than a
	// status that every rule wants to be "SUCCESS").
	distinct := map[string]map[string]bool{}
	indexable := 0
	for i, r := range rules {
		c, _ := r.compiled()
		set.rules[i] = setRule{rule: r, compiled: c}
		reads = append(reads, c.reads)
		if len(c.condition.equal) > 0 {
			indexable++
		}
		for _, eq := range c.condition.equal {
			k := pathKey(eq.path)
			if distinct[k] == nil {
				distinct[k] = map[string]bool{}
			}
			for _, v := range eq.values {
				distinct[k][v] = true
			}
		}
	}
	set.reads = union(reads...)
	if indexable < minIndexed {
		return set
	}
	for i := range set.rules {
		var best *equality
		for _, eq := range set.rules[i].compiled.condition.equal {
			if best == nil || len(distinct[pathKey(eq.path)]) > len(distinct[pathKey(best.path)]) {
				best = eq
			}
		}
		if best == nil {
			continue
		}
		set.rules[i].indexed = true
		f := set.field(best.path)
		for _, v := range best.values {
			f.rules[v] = append(f.rules[v], i)
		}
	}
	return set
}

// pathKey is a map key for a field path.
func pathKey(path []any) string {
	return fmt.Sprintf("%#v", path)
}

// field returns the index of the field at path, adding it if needed.
func (s *ruleSet) field(path []any) *indexedField {
	for i := range s.index {
		if equalPaths(s.index[i].path, path) {
			return &s.index[i]
		}
	}
	s.index = append(s.index, indexedField{path: path, rules: map[string][]int{}})
	return &s.index[len(s.index)-1]
}

func equalPaths(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// candidates returns the indexed rules that env's values select.
func (s *ruleSet) candidates(env map[string]any) bitset {
	b := newBitset(len(s.rules))
	for i := range s.index {
		f := &s.index[i]
		if v, ok := valueAt(env, f.path).(string); ok {
			for _, r := range f.rules[v] {
				b.set(r)
			}
		}
	}
	return b
}

// bitset is a set of small integers.
type bitset struct {
	small [2]uint64 // for sets of up to 128 rules, without allocating
	words []uint64
}

func newBitset(n int) bitset {
	var b bitset
	if n > 128 {
		b.words = make([]uint64, (n+63)/64)
	}
	return b
}

func (b *bitset) set(i int) {
	if b.words != nil {
		b.words[i/64] |= 1 << (i % 64)
		return
	}
	b.small[i/64] |= 1 << (i % 64)
}

func (b *bitset) has(i int) bool {
	if b.words != nil {
		return b.words[i/64]&(1<<(i%64)) != 0
	}
	return i < 128 && b.small[i/64]&(1<<(i%64)) != 0
}
