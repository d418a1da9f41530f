package detect

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/vm/runtime"
)

// The functions in this file implement the nil-safe forms of expr's
// operators that rewritten expressions call. Each follows DESIGN's rules:
// missing data is nil, and a predicate with a nil operand is false.

// get reads obj[key]: a field of an object (exact name, else
// case-insensitive), an element of a list (negative counts from the end), or
// nil for anything missing or of the wrong shape.
func get(obj, key any) any {
	switch o := obj.(type) {
	case nil:
		return nil
	case map[string]any:
		if k, ok := key.(string); ok {
			return lookup(o, k)
		}
		return nil
	case []any:
		i, ok := index(key, len(o))
		if !ok {
			return nil
		}
		return o[i]
	case *slots:
		// An object decoded as the keys a rule reads (see slots).
		if k, ok := key.(string); ok {
			return o.keyNamed(k)
		}
		return nil
	case map[any]any:
		// A map that fromPairs builds.
		return lookupAny(o, key)
	case string:
		// Characters of a string, as expr indexes them.
		if _, isStr := key.(string); isStr {
			return nil
		}
		r := []rune(o)
		i, ok := index(key, len(r))
		if !ok {
			return nil
		}
		return string(r[i])
	}
	return getReflect(obj, key)
}

// index converts an expression index into a position in a list of n
// elements, counting negative indexes from the end.
func index(key any, n int) (int, bool) {
	var i int
	switch k := key.(type) {
	case int:
		i = k
	case float64:
		if k != math.Trunc(k) || math.Abs(k) > 1<<53 {
			return 0, false
		}
		i = int(k)
	default:
		v := reflect.ValueOf(key)
		if !v.CanInt() {
			return 0, false
		}
		i = int(v.Int())
	}
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n {
		return 0, false
	}
	return i, true
}

// lookupAny reads key from a map whose keys may be of any type, as
// fromPairs builds: the key itself, else, for a name, a key that equals it
// ignoring case (the first in byte order), as lookup does.
func lookupAny(m map[any]any, key any) any {
	if key == nil {
		return nil
	}
	if !reflect.TypeOf(key).Comparable() {
		return nil
	}
	if v, ok := m[key]; ok {
		return v
	}
	name, ok := key.(string)
	if !ok {
		return nil
	}
	var best string
	found := false
	for k := range m {
		if s, isStr := k.(string); isStr && strings.EqualFold(s, name) && (!found || s < best) {
			best, found = s, true
		}
	}
	if !found {
		return nil
	}
	return m[best]
}

// getReflect handles the values that custom functions, lookup tables and
// builtins such as groupBy may return: maps with keys of any type, slices
// and arrays of any type.
func getReflect(obj, key any) any {
	v := reflect.ValueOf(obj)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Map:
		kt := v.Type().Key()
		if key != nil && kt.Kind() != reflect.String {
			// groupBy's map[any][]any, or keys of another type: the
			// key itself, then a name ignoring case among string keys.
			kv := reflect.ValueOf(key)
			if !kv.Type().Comparable() || !kv.Type().AssignableTo(kt) {
				return nil
			}
			if e := v.MapIndex(kv); e.IsValid() {
				return e.Interface()
			}
		}
		k, ok := key.(string)
		if !ok {
			return nil
		}
		if kt.Kind() != reflect.String {
			if kt.Kind() != reflect.Interface {
				return nil
			}
			var best string
			found := false
			iter := v.MapRange()
			for iter.Next() {
				if name, isStr := iter.Key().Interface().(string); isStr && strings.EqualFold(name, k) && (!found || name < best) {
					best, found = name, true
				}
			}
			if !found {
				return nil
			}
			return v.MapIndex(reflect.ValueOf(best)).Interface()
		}
		kv := reflect.ValueOf(k).Convert(kt)
		if e := v.MapIndex(kv); e.IsValid() {
			return e.Interface()
		}
		var best string
		found := false
		iter := v.MapRange()
		for iter.Next() {
			name := iter.Key().String()
			if strings.EqualFold(name, k) && (!found || name < best) {
				best, found = name, true
			}
		}
		if !found {
			return nil
		}
		return v.MapIndex(reflect.ValueOf(best).Convert(v.Type().Key())).Interface()
	case reflect.Slice, reflect.Array:
		i, ok := index(key, v.Len())
		if !ok {
			return nil
		}
		return v.Index(i).Interface()
	case reflect.Struct:
		k, ok := key.(string)
		if !ok {
			return nil
		}
		f := v.FieldByNameFunc(func(name string) bool { return strings.EqualFold(name, k) })
		if !f.IsValid() || !f.CanInterface() {
			return nil
		}
		return f.Interface()
	}
	return nil
}

func rtGet(args ...any) (any, error) { return get(args[0], args[1]), nil }

func rtBool(args ...any) (any, error) {
	switch v := args[0].(type) {
	case bool:
		return v, nil
	case nil:
		return false, nil
	}
	return nil, fmt.Errorf("expected a boolean, got %s", typeName(args[0]))
}

// typeName names a value's type in the words of the expression language.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case string:
		return "string"
	case bool:
		return "bool"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "int"
	case float32, float64:
		return "float"
	case []any:
		return "array"
	case map[string]any:
		return "map"
	}
	return reflect.TypeOf(v).String()
}

// compare orders a and b: numbers by value, strings by bytes, times and
// durations by time. ok is false when either is nil; an error means the two
// cannot be ordered.
func compare(a, b any) (c int, ok bool, err error) {
	if a == nil || b == nil {
		return 0, false, nil
	}
	switch x := a.(type) {
	case string:
		if y, isStr := b.(string); isStr {
			return strings.Compare(x, y), true, nil
		}
	case int:
		if y, isInt := b.(int); isInt {
			return cmpOrdered(x, y), true, nil
		}
	case time.Time:
		if y, isTime := b.(time.Time); isTime {
			return x.Compare(y), true, nil
		}
	case time.Duration:
		if y, isDur := b.(time.Duration); isDur {
			return cmpOrdered(x, y), true, nil
		}
	}
	if x, isNum := toFloat(a); isNum {
		if y, isNum := toFloat(b); isNum {
			if math.IsNaN(x) || math.IsNaN(y) {
				return 0, false, nil
			}
			return cmpOrdered(x, y), true, nil
		}
	}
	return 0, false, fmt.Errorf("cannot compare %s and %s", typeName(a), typeName(b))
}

func cmpOrdered[T int | float64 | time.Duration](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// toFloat converts any Go number to float64.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case float64:
		return n, true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case float32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint:
		return float64(n), true
	case int8, int16, uint8, uint16, uint32:
		return float64(reflect.ValueOf(n).Convert(reflect.TypeOf(0.0)).Float()), true
	}
	return 0, false
}

// order applies test to the order of a and b (see compare); false when
// either is nil.
func order(a, b any, test func(int) bool) (any, error) {
	c, ok, err := compare(a, b)
	if err != nil || !ok {
		return false, err
	}
	return test(c), nil
}

// The orderings are plain functions, not closures, so that a call with
// its arguments written out keeps their list on the stack (see
// directFunctions2).
func rtLess(args ...any) (any, error) {
	return order(args[0], args[1], func(c int) bool { return c < 0 })
}

func rtMore(args ...any) (any, error) {
	return order(args[0], args[1], func(c int) bool { return c > 0 })
}

func rtLessEq(args ...any) (any, error) {
	return order(args[0], args[1], func(c int) bool { return c <= 0 })
}

func rtMoreEq(args ...any) (any, error) {
	return order(args[0], args[1], func(c int) bool { return c >= 0 })
}

// strings2 returns both operands of a string predicate; ok is false when
// either is nil.
func strings2(op string, args []any) (a, b string, ok bool, err error) {
	if args[0] == nil || args[1] == nil {
		return "", "", false, nil
	}
	a, okA := args[0].(string)
	b, okB := args[1].(string)
	if !okA || !okB {
		return "", "", false, fmt.Errorf("%s needs strings, got %s and %s", op, typeName(args[0]), typeName(args[1]))
	}
	return a, b, true, nil
}

// stringPredicate applies test to the strings of args; false when either
// is nil.
func stringPredicate(op string, args []any, test func(a, b string) bool) (any, error) {
	a, b, ok, err := strings2(op, args)
	if err != nil || !ok {
		return false, err
	}
	return test(a, b), nil
}

func rtContains(args ...any) (any, error) {
	return stringPredicate("contains", args, strings.Contains)
}

func rtStartsWith(args ...any) (any, error) {
	return stringPredicate("startsWith", args, strings.HasPrefix)
}

func rtEndsWith(args ...any) (any, error) {
	return stringPredicate("endsWith", args, strings.HasSuffix)
}

// rtMatchRe is matches with a pattern compiled with the expression:
// (text, regexp[, budget, weight]), the weight being regexpWeight's.
func rtMatchRe(args ...any) (any, error) {
	re := args[1].(*regexp.Regexp)
	switch s := args[0].(type) {
	case nil:
		return false, nil
	case string:
		if len(args) == 4 {
			if err := args[2].(*evalBudget).spend(matchSteps(len(s), args[3].(int))); err != nil {
				return false, err
			}
		}
		return re.MatchString(s), nil
	}
	return false, fmt.Errorf("matches needs a string, got %s", typeName(args[0]))
}

// A match spends by the text's length times what a byte costs its
// pattern: Go's matcher is linear in both, at up to about 200 ns a byte
// for the smallest patterns that are not literals (an automaton of a few
// states on text that keeps them all alive) and a few nanoseconds more
// for each instruction of its program (a case-insensitive alternation of
// 200 words, 1,029 instructions, took 54 s on 14 MiB). A pattern that is
// a literal costs what contains does.
const (
	matchBase  = 24 // instructions' worth of a byte's fixed cost
	matchBytes = 16 // bytes of text times instructions that cost a step
)

// matchSteps is the cost of matching a text of n bytes with a pattern of
// the given weight (regexpWeight's; zero for a literal).
func matchSteps(n, weight int) int {
	if weight == 0 {
		return 1 + n/stepBytes
	}
	w := weight + matchBase
	if n > (1<<62)/w {
		return 1 << 62
	}
	return 1 + n*w/matchBytes
}

// regexpWeight is what a byte of text costs the pattern, in instructions
// of its program as estimated from the parsed pattern without compiling
// it (a{1000} is a thousand): one for each, and for a class of runes one
// more per doubling of its ranges (it is searched). A literal pattern
// weighs nothing, and one that does not parse its length.
func regexpWeight(pattern string) int {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return max(len(pattern), 1)
	}
	if re.Op == syntax.OpLiteral && re.Flags&syntax.FoldCase == 0 {
		return 0
	}
	return max(progSize(re), 1)
}

// maxWeight caps progSize, far beyond any budget.
const maxWeight = 1 << 40

// progSize estimates the instructions of re's program.
func progSize(re *syntax.Regexp) int {
	n := 0
	for _, sub := range re.Sub {
		n = min(n+progSize(sub), maxWeight)
	}
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune) + 1
	case syntax.OpCharClass:
		return 1 + bits.Len(uint(len(re.Rune)/2))
	case syntax.OpRepeat:
		times := max(re.Max, re.Min+1, 1)
		return min(n*times+times, maxWeight)
	case syntax.OpConcat, syntax.OpAlternate:
		return min(n+len(re.Sub), maxWeight)
	}
	return n + 2
}

// regexpCache holds patterns that are not constants in the expression.
// Such a pattern may come from the event, so the cache is bounded in
// bytes: a pattern is kept while the patterns kept weigh less than
// MaxRegexpCacheBytes in all, counting the pattern's text and about 64
// bytes for each instruction of its program, and a pattern over
// maxCachedPattern bytes is never kept. Others are compiled at each use.
var (
	regexpCache      sync.Map // string -> *cachedRegexp
	regexpCacheBytes atomic.Int64
)

// MaxRegexpCacheBytes bounds the memory of the process-wide cache of
// patterns that matches reads from events (or builds) rather than from
// the expression, estimated from each pattern's size.
const MaxRegexpCacheBytes = 8 << 20

// MaxPatternBytes is the longest pattern that matches compiles from the
// data (a pattern written in the expression has no limit but MaxNodes);
// a longer one is a rule error.
const MaxPatternBytes = 16 << 10

// compileSteps is what compiling costs for each instruction of the
// program: about 600 ns (a program of 146,000 took 86 ms).
const compileSteps = 6

// maxCachedPattern is the longest pattern the cache keeps.
const maxCachedPattern = 4 << 10

// instBytes is about what one instruction of a compiled pattern holds.
const instBytes = 64

type cachedRegexp struct {
	re     *regexp.Regexp
	weight int
}

// size is the cache's estimate of the memory the pattern holds.
func (c *cachedRegexp) size() int64 {
	return int64(len(c.re.String()) + c.weight*instBytes)
}

// compileRegexp compiles a pattern read from the data. It spends a step
// per byte of the pattern first, what compiling it costs.
func compileRegexp(pattern string, b *evalBudget) (*cachedRegexp, error) {
	if c, ok := regexpCache.Load(pattern); ok {
		return c.(*cachedRegexp), nil
	}
	if len(pattern) > MaxPatternBytes {
		return nil, fmt.Errorf("pattern of %d bytes is longer than %d (detect.MaxPatternBytes)", len(pattern), MaxPatternBytes)
	}
	// Compiling takes time in proportion to the program (a{1000} is a
	// thousand instructions), spent before it is compiled.
	weight := regexpWeight(pattern)
	if b != nil {
		if err := b.spend(len(pattern) + min(weight, b.limit.steps+1)*compileSteps); err != nil {
			return nil, err
		}
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	c := &cachedRegexp{re: re, weight: weight}
	if len(pattern) > maxCachedPattern {
		return c, nil
	}
	size := c.size()
	if regexpCacheBytes.Add(size) <= MaxRegexpCacheBytes {
		if _, loaded := regexpCache.LoadOrStore(pattern, c); loaded {
			regexpCacheBytes.Add(-size)
		}
	} else {
		regexpCacheBytes.Add(-size)
	}
	return c, nil
}

// rtMatches is matches with a pattern from the data: (text, pattern[,
// budget]).
func rtMatches(args ...any) (any, error) {
	a, b, ok, err := strings2("matches", args[:2])
	if err != nil || !ok {
		return false, err
	}
	var budget *evalBudget
	if len(args) == 3 {
		budget = args[2].(*evalBudget)
	}
	c, err := compileRegexp(b, budget)
	if err != nil {
		return false, err
	}
	if budget != nil {
		if err := budget.spend(matchSteps(len(a), c.weight)); err != nil {
			return false, err
		}
	}
	return c.re.MatchString(a), nil
}

// rtIn tests membership: of an element in a list, or of a key in a map.
func rtIn(args ...any) (any, error) {
	needle, hay := args[0], args[1]
	if needle == nil || hay == nil {
		return false, nil
	}
	switch h := hay.(type) {
	case []any:
		for _, v := range h {
			if runtime.Equal(needle, v) {
				return true, nil
			}
		}
		return false, nil
	case map[string]any:
		k, ok := needle.(string)
		if !ok {
			return false, nil
		}
		_, found := h[k]
		return found, nil
	}
	v := reflect.ValueOf(hay)
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if runtime.Equal(needle, v.Index(i).Interface()) {
				return true, nil
			}
		}
		return false, nil
	case reflect.Map:
		k := reflect.ValueOf(needle)
		if !k.Type().AssignableTo(v.Type().Key()) {
			return false, nil
		}
		return v.MapIndex(k).IsValid(), nil
	}
	return false, fmt.Errorf("in needs an array or a map, got %s", typeName(hay))
}

// rtInCost is rtIn inside a closure over the event's data: a search of a
// list spends a step per element, a lookup in a map one step.
func rtInCost(args ...any) (any, error) {
	steps := 1
	switch h := args[1].(type) {
	case []any:
		steps += len(h)
	case map[string]any, nil:
	default:
		if v := reflect.ValueOf(h); v.Kind() == reflect.Slice || v.Kind() == reflect.Array {
			steps += v.Len()
		}
	}
	if err := args[2].(*evalBudget).spend(steps); err != nil {
		return nil, err
	}
	return rtIn(args[0], args[1])
}

// valueSet is a constant list on the right of `in`, indexed for lookups.
type valueSet struct {
	strs   map[string]struct{}
	nums   map[float64]struct{}
	bools  [2]bool
	others []any // values that cannot be map keys
}

func (s *valueSet) has(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		_, ok := s.strs[x]
		return ok
	case bool:
		return s.bools[boolIndex(x)]
	}
	if f, ok := toFloat(v); ok {
		_, found := s.nums[f]
		return found
	}
	for _, o := range s.others {
		if runtime.Equal(v, o) {
			return true
		}
	}
	return false
}

// newValueSet indexes a list of constants.
func newValueSet(list []any) *valueSet {
	s := &valueSet{strs: map[string]struct{}{}, nums: map[float64]struct{}{}}
	for _, v := range list {
		switch x := v.(type) {
		case nil:
		case string:
			s.strs[x] = struct{}{}
		case bool:
			s.bools[boolIndex(x)] = true
		case int:
			s.nums[float64(x)] = struct{}{}
		case float64:
			s.nums[x] = struct{}{}
		default:
			s.others = append(s.others, v)
		}
	}
	return s
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

func rtInSet(args ...any) (any, error) {
	return args[1].(*valueSet).has(args[0]), nil
}

var emptyList = []any{}

// rtList is the collection of a closure builtin: nil is an empty list, and
// each element spends a step of the evaluation's budget.
func rtList(args ...any) (any, error) {
	if args[0] == nil {
		return emptyList, nil
	}
	n := 0
	switch x := args[0].(type) {
	case []any:
		n = len(x)
	default:
		if v := reflect.ValueOf(x); v.Kind() == reflect.Slice || v.Kind() == reflect.Array || v.Kind() == reflect.Map {
			n = v.Len()
		}
	}
	if err := args[1].(*evalBudget).spend(n); err != nil {
		return nil, err
	}
	return args[0], nil
}

// evalBudget counts the steps that one evaluation has spent (see
// MaxEvalCost).
type evalBudget struct {
	spent int
	limit *evalLimit
}

// evalLimit is an expression's budget, compiled with it.
type evalLimit struct {
	steps int
	err   error // the rule error over it
}

// defaultLimit is the budget at MaxEvalCost.
var defaultLimit = &evalLimit{steps: MaxEvalCost, err: errOverBudget}

// newEvalLimit returns the limit of steps.
func newEvalLimit(steps int) *evalLimit {
	if steps == MaxEvalCost {
		return defaultLimit
	}
	return &evalLimit{steps: steps, err: fmt.Errorf("evaluation needs more than %d steps (detect.Limits.MaxEvalCost): %w", steps, errOverBudget)}
}

// rtBudget makes the budget of an evaluation, which an expression that
// spends one declares first, with its limit.
func rtBudget(args ...any) (any, error) { return &evalBudget{limit: args[0].(*evalLimit)}, nil }

// errOverBudget is the rule error of an evaluation over its budget.
var errOverBudget = fmt.Errorf("evaluation needs more than %d steps (detect.MaxEvalCost)", MaxEvalCost)

func (b *evalBudget) spend(steps int) error {
	b.spent += steps
	if b.spent > b.limit.steps {
		return b.limit.err
	}
	return nil
}

// rtGetCost is rtGet inside a closure over the event's data: a step for
// the read, a step per key of an object that has no exact match (the
// case-insensitive fallback looks at every key), and the size of text
// read.
func rtGetCost(args ...any) (any, error) {
	obj, key := args[0], args[1]
	steps := 1
	var v any
	switch o := obj.(type) {
	case map[string]any:
		if k, ok := key.(string); ok {
			var exact bool
			if v, exact = o[k]; !exact {
				steps += len(o)
				v = lookup(o, k)
			}
		}
	case string:
		steps += len(o) / stepBytes
		v = get(obj, key)
	default:
		v = get(obj, key)
	}
	// A list or object read in a loop spends by its length, as text
	// does: what the loop builds of it could otherwise multiply.
	steps += valueSteps(v) - 1
	if err := args[2].(*evalBudget).spend(steps); err != nil {
		return nil, err
	}
	return v, nil
}

// rtCost spends steps for a value that an operation inside a closure over
// the event's data handles, by its size, and returns it.
func rtCost(args ...any) (any, error) {
	steps := valueSteps(args[0])
	if len(args) == 3 {
		steps *= args[2].(int)
	}
	if err := args[1].(*evalBudget).spend(steps); err != nil {
		return nil, err
	}
	return args[0], nil
}

// valueSteps is the cost of handling v: a step, and one more per 64 bytes
// of text or per element of a list or map.
func valueSteps(v any) int {
	switch x := v.(type) {
	case nil, bool, int, float64:
		return 1
	case string:
		return 1 + len(x)/stepBytes
	case []any:
		return 1 + len(x)
	case map[string]any:
		return 1 + len(x)
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.String:
		return 1 + rv.Len()/stepBytes
	case reflect.Slice, reflect.Array, reflect.Map:
		return 1 + rv.Len()
	}
	return 1
}

func rtLen(args ...any) (any, error) {
	switch v := args[0].(type) {
	case nil:
		return 0, nil
	case string:
		return len([]rune(v)), nil
	case []any:
		return len(v), nil
	case map[string]any:
		return len(v), nil
	}
	rv := reflect.ValueOf(args[0])
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
		return rv.Len(), nil
	}
	return nil, fmt.Errorf("len needs a string, an array or a map, got %s", typeName(args[0]))
}

// rtSlice is expr's a[from:to] with nil for a missing value and bounds
// clamped to the value, as Python slices are.
func rtSlice(args ...any) (any, error) {
	from, to := args[1], args[2]
	switch v := args[0].(type) {
	case nil:
		return nil, nil
	case []any:
		i, j, err := bounds(from, to, len(v))
		if err != nil {
			return nil, err
		}
		return v[i:j], nil
	case string:
		r := []rune(v)
		i, j, err := bounds(from, to, len(r))
		if err != nil {
			return nil, err
		}
		return string(r[i:j]), nil
	}
	// Lists of other types, such as the []string that split returns.
	if rv := reflect.ValueOf(args[0]); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		i, j, err := bounds(from, to, rv.Len())
		if err != nil {
			return nil, err
		}
		if rv.Kind() == reflect.Array {
			// An array in an interface cannot be sliced in place.
			c := reflect.New(rv.Type()).Elem()
			c.Set(rv)
			rv = c
		}
		return rv.Slice(i, j).Interface(), nil
	}
	return nil, fmt.Errorf("cannot slice %s", typeName(args[0]))
}

func bounds(from, to any, n int) (int, int, error) {
	clamp := func(v any, def int) (int, error) {
		if v == nil {
			return def, nil
		}
		i, ok := v.(int)
		if !ok {
			return 0, fmt.Errorf("slice index must be an int, got %s", typeName(v))
		}
		if i < 0 {
			i += n
		}
		return min(max(i, 0), n), nil
	}
	i, err := clamp(from, 0)
	if err != nil {
		return 0, 0, err
	}
	j, err := clamp(to, n)
	if err != nil {
		return 0, 0, err
	}
	return i, max(i, j), nil
}

// errMemoryBudget is expr's error for an evaluation over its memory
// budget.
var errMemoryBudget = errors.New("memory budget exceeded")

// rtRepeat is expr's repeat(s, n), which fails before it builds more than
// MaxEvalMemory bytes.
func rtRepeat(args ...any) (any, error) {
	s, ok := args[0].(string)
	n, isInt := args[1].(int)
	if !ok || !isInt {
		return nil, fmt.Errorf("repeat needs a string and an int, got %s and %s", typeName(args[0]), typeName(args[1]))
	}
	if n < 0 {
		return nil, fmt.Errorf("invalid argument for repeat (expected positive integer, got %d)", n)
	}
	if n > MaxEvalMemory || len(s)*n >= MaxEvalMemory {
		return nil, errMemoryBudget
	}
	return strings.Repeat(s, n), nil
}

// rtReplace is expr's replace(s, old, new[, n]), which fails before it
// makes s longer by MaxEvalMemory bytes or more.
func rtReplace(args ...any) (any, error) {
	s, ok1 := args[0].(string)
	old, ok2 := args[1].(string)
	repl, ok3 := args[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("replace needs strings, got %s, %s and %s", typeName(args[0]), typeName(args[1]), typeName(args[2]))
	}
	n := -1
	if len(args) == 4 {
		var ok bool
		if n, ok = args[3].(int); !ok {
			return nil, fmt.Errorf("replace needs an int count, got %s", typeName(args[3]))
		}
	}
	if len(repl) > len(old) {
		count := strings.Count(s, old) // for "": one more than the characters
		if n >= 0 && n < count {
			count = n
		}
		if count > 0 && (len(repl)-len(old)) >= (MaxEvalMemory+count-1)/count {
			return nil, errMemoryBudget
		}
	}
	return strings.Replace(s, old, repl, n), nil
}

// rtUniq is expr's uniq(list): the distinct elements, in their order.
// Numbers, strings, booleans and nil are told apart by a set; other
// elements are compared with those kept before them, a step each, from
// the budget that the rewriter passes last.
func rtUniq(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("invalid number of arguments (expected 1, got %d)", len(args)-1)
	}
	b := args[1].(*evalBudget)
	v := reflect.ValueOf(args[0])
	if v.Kind() != reflect.Array && v.Kind() != reflect.Slice {
		return nil, fmt.Errorf("cannot uniq %s", typeName(args[0]))
	}
	// Hashing every element costs a step each, spent first.
	if err := b.spend(v.Len()); err != nil {
		return nil, err
	}
	type scalar struct {
		kind byte
		num  float64
		str  string
	}
	seen := map[scalar]struct{}{}
	out := []any{}
	var others []any
	for i := 0; i < v.Len(); i++ {
		e := v.Index(i).Interface()
		var k scalar
		switch x := e.(type) {
		case nil:
			k = scalar{kind: 'z'}
		case bool:
			k = scalar{kind: 'b', num: float64(boolIndex(x))}
		case int:
			k = scalar{kind: 'n', num: float64(x)}
		case float64:
			k = scalar{kind: 'n', num: x}
		case string:
			k = scalar{kind: 's', str: x}
		default:
			if err := b.spend(len(others)); err != nil {
				return nil, err
			}
			dup := false
			for _, o := range others {
				if runtime.Equal(e, o) {
					dup = true
					break
				}
			}
			if !dup {
				others = append(others, e)
				out = append(out, e)
			}
			continue
		}
		if _, dup := seen[k]; !dup {
			seen[k] = struct{}{}
			out = append(out, e)
		}
	}
	return out, nil
}

// rtDeep spends, for a value that a builtin walks whole (toJSON, string,
// flatten), a step per element, object and 64 bytes of text in it at any
// depth, and returns it. Values that share parts count them each time, as
// the walk does: a list of a list of a list, each of the one before
// twice, is small in memory and huge in text. The count stops once it
// is over the budget.
func rtDeep(args ...any) (any, error) {
	b := args[1].(*evalBudget)
	left := b.limit.steps - b.spent
	if err := b.spend(deepSteps(args[0], left+1)); err != nil {
		return nil, err
	}
	return args[0], nil
}

// deepSteps counts the steps of v, stopping once they exceed limit.
func deepSteps(v any, limit int) int {
	switch x := v.(type) {
	case []any:
		n := 1
		for _, e := range x {
			if n > limit {
				break
			}
			n += deepSteps(e, limit-n)
		}
		return n
	case map[string]any:
		n := 1
		for k, e := range x {
			if n > limit {
				break
			}
			n += len(k)/stepBytes + deepSteps(e, limit-n)
		}
		return n
	}
	return valueSteps(v)
}
