package detect

import (
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/builtin"
	"github.com/goccy/go-yaml/ast"
)

// Panther's simple detections describe a condition as YAML "match
// expressions". The loader translates them into one expression, so that
// they run through the same compiled, cached path as a Condition and follow
// the same rules for missing data.

// matchCondition describes one value of a match expression's Condition.
type matchCondition struct {
	form  matchForm
	op    string // the expression operator or function
	neg   bool   // the result is negated
	fold  bool   // compares strings ignoring letter case
	value valueKind
}

type matchForm uint8

const (
	formCompare     matchForm = iota // Key, Condition, Value; or two keys in Values
	formList                         // Key, Condition, Values
	formExistence                    // Key, Condition
	formElements                     // Key, Condition, Expressions
	formAbsolute                     // Condition only
	formUnsupported                  // known to Panther, not to detect
)

// valueKind is the kind of Value a comparison accepts.
type valueKind uint8

const (
	anyScalar valueKind = iota
	stringValue
	orderedValue // a number or a string
)

var matchConditions = map[string]matchCondition{
	"Equals":                 {form: formCompare, op: "=="},
	"DoesNotEqual":           {form: formCompare, op: "!="},
	"IEquals":                {form: formCompare, op: "==", fold: true, value: stringValue},
	"IDoesNotEqual":          {form: formCompare, op: "==", fold: true, neg: true, value: stringValue},
	"IsGreaterThan":          {form: formCompare, op: ">", value: orderedValue},
	"IsGreaterThanOrEquals":  {form: formCompare, op: ">=", value: orderedValue},
	"IsGreaterThanOrEqual":   {form: formCompare, op: ">=", value: orderedValue},
	"IsLessThan":             {form: formCompare, op: "<", value: orderedValue},
	"IsLessThanOrEquals":     {form: formCompare, op: "<=", value: orderedValue},
	"IsLessThanOrEqual":      {form: formCompare, op: "<=", value: orderedValue},
	"StartsWith":             {form: formCompare, op: "startsWith", value: stringValue},
	"EndsWith":               {form: formCompare, op: "endsWith", value: stringValue},
	"Contains":               {form: formCompare, op: "contains", value: stringValue},
	"DoesNotStartWith":       {form: formCompare, op: "startsWith", neg: true, value: stringValue},
	"DoesNotEndWith":         {form: formCompare, op: "endsWith", neg: true, value: stringValue},
	"DoesNotContain":         {form: formCompare, op: "contains", neg: true, value: stringValue},
	"IStartsWith":            {form: formCompare, op: "startsWith", fold: true, value: stringValue},
	"IEndsWith":              {form: formCompare, op: "endsWith", fold: true, value: stringValue},
	"IContains":              {form: formCompare, op: "contains", fold: true, value: stringValue},
	"IDoesNotStartWith":      {form: formCompare, op: "startsWith", fold: true, neg: true, value: stringValue},
	"IDoesNotEndWith":        {form: formCompare, op: "endsWith", fold: true, neg: true, value: stringValue},
	"IDoesNotContain":        {form: formCompare, op: "contains", fold: true, neg: true, value: stringValue},
	"IsIn":                   {form: formList, op: "in"},
	"IsNotIn":                {form: formList, op: "in", neg: true},
	"Exists":                 {form: formExistence, op: "!= nil"},
	"DoesNotExist":           {form: formExistence, op: "== nil"},
	"IsNull":                 {form: formExistence, op: "== nil"},
	"IsNotNull":              {form: formExistence, op: "!= nil"},
	"IsNullOrEmpty":          {form: formExistence, op: "empty"},
	"IsNotNullOrEmpty":       {form: formExistence, op: "empty", neg: true},
	"AnyElement":             {form: formElements, op: "any"},
	"AllElements":            {form: formElements, op: "all"},
	"NoElement":              {form: formElements, op: "none"},
	"OnlyOneElement":         {form: formElements, op: "one"},
	"AlwaysTrue":             {form: formAbsolute, op: "true"},
	"AlwaysFalse":            {form: formAbsolute, op: "false"},
	"IsIPAddress":            {form: formUnsupported},
	"IsIPv4Address":          {form: formUnsupported},
	"IsIPv6Address":          {form: formUnsupported},
	"IsIPAddressPublic":      {form: formUnsupported},
	"IsIPAddressPrivate":     {form: formUnsupported},
	"IsIPAddressInCIDR":      {form: formUnsupported},
	"IsIPAddressNotInCIDR":   {form: formUnsupported},
	"IsIPAddressInCIDRRange": {form: formUnsupported},
}

// matchKeys are the keys a match expression may have.
var matchKeys = []string{"All", "Any", "Condition", "DeepKey", "Enrichment", "Expressions", "Key", "KeyPath", "None", "OnlyOne", "Value", "Values"}

// combinators join a list of match expressions.
var combinators = map[string]bool{"All": true, "Any": true, "OnlyOne": true, "None": true}

// matchTranslator turns match expressions into expression source.
type matchTranslator struct {
	f     *yamlFile
	funcs *Functions
}

// list translates a list of match expressions joined by a combinator.
func (t *matchTranslator) list(key, combinator string, n ast.Node, base string, depth int) (string, bool) {
	seq, ok := t.f.sequence(n)
	if !ok {
		r, _ := t.f.resolve(n)
		t.f.errorAt(n, "%s must be a list of match expressions, not %s", key, t.f.describe(r))
		return "", false
	}
	if len(seq.Values) == 0 {
		t.f.errorAt(n, "%s is an empty list of match expressions", key)
		return "", false
	}
	parts := make([]string, 0, len(seq.Values))
	good := true
	for _, item := range seq.Values {
		s, ok := t.match(item, base, depth+1)
		good = good && ok
		parts = append(parts, s)
	}
	if !good {
		return "", false
	}
	return combine(combinator, parts), true
}

// combine joins translated match expressions.
func combine(combinator string, parts []string) string {
	switch combinator {
	case "OnlyOne":
		return "one([" + strings.Join(parts, ", ") + "], #)"
	case "None":
		return "!(" + strings.Join(wrapAll(parts), " || ") + ")"
	}
	if len(parts) == 1 {
		return parts[0]
	}
	op := " && "
	if combinator == "Any" {
		op = " || "
	}
	return strings.Join(wrapAll(parts), op)
}

// wrapAll parenthesizes the parts that are themselves joined by && or ||.
func wrapAll(parts []string) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		if topLevelJoin(p) {
			p = "(" + p + ")"
		}
		out[i] = p
	}
	return out
}

// topLevelJoin reports whether s has && or || outside parentheses,
// brackets and string literals.
func topLevelJoin(s string) bool {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case '&', '|':
			if depth == 0 && i+1 < len(s) && s[i+1] == c {
				return true
			}
		}
	}
	return false
}

// match translates one match expression.
func (t *matchTranslator) match(n ast.Node, base string, depth int) (string, bool) {
	f := t.f
	if depth > 64 {
		f.errorAt(n, "match expressions are nested too deep")
		return "", false
	}
	m, ok := f.mapping(n)
	if !ok {
		r, _ := f.resolve(n)
		f.errorAt(n, "a match expression must be a mapping, not %s", f.describe(r))
		return "", false
	}
	es := f.entries(m)
	byKey := map[string]entry{}
	good := true
	for _, e := range es {
		if !slices.Contains(matchKeys, e.key) {
			f.errorAt(e.keyN, "unknown key %q in a match expression (want %s)", e.key, strings.Join(matchKeys, ", "))
			good = false
			continue
		}
		byKey[e.key] = e
	}
	if !good {
		return "", false
	}
	for name := range combinators {
		if e, ok := byKey[name]; ok {
			if len(byKey) > 1 {
				f.errorAt(m, "a match expression with %s has no other keys", name)
				return "", false
			}
			return t.list(name, name, e.value, base, depth)
		}
	}
	if e, ok := byKey["Enrichment"]; ok {
		f.errorAt(e.keyN, "Enrichment match expressions read lookup tables, which detect does not have; write a Condition expression instead")
		return "", false
	}
	ce, ok := byKey["Condition"]
	if !ok {
		f.errorAt(m, "a match expression needs a Condition (or one of All, Any, OnlyOne, None)")
		return "", false
	}
	name, ok := f.str("Condition", ce.value)
	if !ok {
		return "", false
	}
	cond, known := matchConditions[name]
	if !known {
		f.errorAt(ce.value, "unknown Condition %q (want one of %s)", name, strings.Join(conditionNames(), ", "))
		return "", false
	}
	if cond.form == formUnsupported {
		f.errorAt(ce.value, "Condition %s is not supported: detect has no IP address functions yet; write a Condition expression instead", name)
		return "", false
	}
	allowed := map[matchForm][]string{
		formCompare:   {"Condition", "Key", "DeepKey", "KeyPath", "Value", "Values"},
		formList:      {"Condition", "Key", "DeepKey", "KeyPath", "Values"},
		formExistence: {"Condition", "Key", "DeepKey", "KeyPath"},
		formElements:  {"Condition", "Key", "DeepKey", "KeyPath", "Expressions"},
		formAbsolute:  {"Condition"},
	}[cond.form]
	for _, e := range es {
		if !slices.Contains(allowed, e.key) {
			f.errorAt(e.keyN, "Condition %s takes no %s", name, e.key)
			good = false
		}
	}
	if !good {
		return "", false
	}
	if cond.form == formAbsolute {
		return cond.op, true
	}

	// Two keys compared with each other.
	if vs, ok := byKey["Values"]; ok && cond.form == formCompare {
		if _, has := byKey["Value"]; has {
			f.errorAt(vs.keyN, "a match expression has Value or Values, not both")
			return "", false
		}
		if t.hasKey(byKey) {
			f.errorAt(vs.keyN, "Condition %s compares two keys listed in Values, or one key with a Value; not a key with Values", name)
			return "", false
		}
		seq, ok := f.sequence(vs.value)
		if !ok || len(seq.Values) != 2 {
			f.errorAt(vs.value, "Values of Condition %s must list two keys to compare, like [{KeyPath: a}, {KeyPath: b}]", name)
			return "", false
		}
		var keys [2]string
		for i, item := range seq.Values {
			km, ok := f.mapping(item)
			if !ok {
				f.errorAt(item, "Values of Condition %s must list two keys to compare, like [{KeyPath: a}, {KeyPath: b}]", name)
				return "", false
			}
			if keys[i], ok = t.keySpec(km, base); !ok {
				return "", false
			}
		}
		return compareExpr(cond, keys[0], keys[1], false), true
	}

	key, ok := t.keyFrom(m, byKey, base)
	if !ok {
		return "", false
	}
	switch cond.form {
	case formExistence:
		if cond.op == "empty" {
			s := "(let __v = " + key + `; __v == nil || __v == "" || (type(__v) in ["array", "map"] && len(__v) == 0))`
			if cond.neg {
				s = "!" + s
			}
			return s, true
		}
		return key + " " + cond.op, true

	case formElements:
		ex, ok := byKey["Expressions"]
		if !ok {
			f.errorAt(m, "Condition %s needs Expressions, the match expressions each element is checked with", name)
			return "", false
		}
		inner, ok := t.list("Expressions", "All", ex.value, "#", depth)
		if !ok {
			return "", false
		}
		return cond.op + "(" + key + ", " + inner + ")", true

	case formList:
		vs, ok := byKey["Values"]
		if !ok {
			f.errorAt(m, "Condition %s needs Values, a list", name)
			return "", false
		}
		seq, ok := f.sequence(vs.value)
		if !ok {
			r, _ := f.resolve(vs.value)
			f.errorAt(vs.value, "Values must be a list, not %s", f.describe(r))
			return "", false
		}
		lits := make([]string, 0, len(seq.Values))
		for _, item := range seq.Values {
			lit, ok := t.literal(item, anyScalar, name)
			if !ok {
				return "", false
			}
			lits = append(lits, lit)
		}
		s := key + " in [" + strings.Join(lits, ", ") + "]"
		if cond.neg {
			s = "!(" + s + ")"
		}
		return s, true
	}

	// formCompare with a Value.
	ve, ok := byKey["Value"]
	if !ok {
		f.errorAt(m, "Condition %s needs a Value", name)
		return "", false
	}
	lit, ok := t.literal(ve.value, cond.value, name)
	if !ok {
		return "", false
	}
	if cond.fold {
		s, _ := f.str("Value", ve.value)
		lit = strconv.Quote(strings.ToLower(s))
	}
	return compareExpr(cond, key, lit, true), true
}

// compareExpr builds a comparison of a and b, which are expressions; b is
// a string literal already in lower case when literal is true.
func compareExpr(c matchCondition, a, b string, literal bool) string {
	var s string
	switch {
	case c.fold && literal:
		// Text compared ignoring case: anything but a string never
		// matches, as nil never does. The names bound by let start with
		// "__", which no bare field name does (see bareName), so that
		// the second key cannot read the first's value.
		s = "(let __a = " + a + `; type(__a) == "string" && lower(__a) ` + c.op + " " + b + ")"
	case c.fold:
		s = "(let __a = " + a + "; let __b = " + b + `; type(__a) == "string" && type(__b) == "string" && lower(__a) ` + c.op + " lower(__b))"
	default:
		s = a + " " + c.op + " " + b
	}
	if c.neg {
		if c.fold {
			return "!" + s
		}
		return "!(" + s + ")"
	}
	return s
}

// hasKey reports whether a match expression names a key.
func (t *matchTranslator) hasKey(byKey map[string]entry) bool {
	for _, k := range []string{"Key", "DeepKey", "KeyPath"} {
		if _, ok := byKey[k]; ok {
			return true
		}
	}
	return false
}

// keySpec translates a key specifier: a mapping with one of Key, DeepKey
// or KeyPath and nothing else.
func (t *matchTranslator) keySpec(m *ast.MappingNode, base string) (string, bool) {
	byKey := map[string]entry{}
	for _, e := range t.f.entries(m) {
		switch e.key {
		case "Key", "DeepKey", "KeyPath":
			byKey[e.key] = e
		default:
			t.f.errorAt(e.keyN, "unknown key %q in a key specifier (want Key, DeepKey or KeyPath)", e.key)
			return "", false
		}
	}
	return t.keyFrom(m, byKey, base)
}

// keyFrom returns the expression that reads the key named by the Key,
// DeepKey or KeyPath entry of a mapping.
func (t *matchTranslator) keyFrom(m *ast.MappingNode, byKey map[string]entry, base string) (string, bool) {
	f := t.f
	var found []entry
	for _, k := range []string{"Key", "DeepKey", "KeyPath"} {
		if e, ok := byKey[k]; ok {
			found = append(found, e)
		}
	}
	switch len(found) {
	case 0:
		f.errorAt(m, "missing the key to read: Key, DeepKey or KeyPath")
		return "", false
	case 1:
	default:
		f.errorAt(found[1].keyN, "%s and %s both name a key; use one", found[0].key, found[1].key)
		return "", false
	}
	e := found[0]
	var segs []pathSeg
	switch e.key {
	case "Key":
		s, ok := f.str("Key", e.value)
		if !ok {
			return "", false
		}
		segs = []pathSeg{{name: s}}
	case "DeepKey":
		seq, ok := f.sequence(e.value)
		if !ok || len(seq.Values) == 0 {
			f.errorAt(e.value, "DeepKey must be a non-empty list of keys and indexes")
			return "", false
		}
		for _, item := range seq.Values {
			r, _ := f.resolve(item)
			if i, isInt := r.(*ast.IntegerNode); isInt {
				v, ok := f.integer("DeepKey index", i)
				if !ok {
					return "", false
				}
				segs = append(segs, pathSeg{index: v, isIndex: true})
				continue
			}
			s, ok := f.str("DeepKey entries", item)
			if !ok {
				return "", false
			}
			segs = append(segs, pathSeg{name: s})
		}
	case "KeyPath":
		s, ok := f.str("KeyPath", e.value)
		if !ok {
			return "", false
		}
		var msg string
		if segs, msg = parseKeyPath(s); msg != "" {
			f.errorAt(e.value, "KeyPath %q: %s", s, msg)
			return "", false
		}
	}
	if len(segs) == 0 || (!segs[0].isIndex && segs[0].name == "" && len(segs) == 1) {
		f.errorAt(e.value, "%s is empty", e.key)
		return "", false
	}
	return t.path(base, segs), true
}

type pathSeg struct {
	name    string
	index   int64
	isIndex bool
}

// parseKeyPath splits a KeyPath such as `a.b[0].c` into its steps.
func parseKeyPath(p string) ([]pathSeg, string) {
	if p == "" {
		return nil, "is empty"
	}
	var segs []pathSeg
	i := 0
	for i < len(p) {
		switch p[i] {
		case '.':
			if i == 0 || i == len(p)-1 || p[i+1] == '.' || p[i+1] == '[' {
				return nil, "has an empty key name"
			}
			i++
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, "has an unclosed ["
			}
			idx := p[i+1 : i+end]
			if idx == "*" {
				return nil, "wildcards ([*]) are not supported; use a list comprehension (Condition: AnyElement) instead"
			}
			n, err := strconv.ParseInt(idx, 10, 64)
			if err != nil {
				return nil, "index " + strconv.Quote(idx) + " is not a whole number"
			}
			segs = append(segs, pathSeg{index: n, isIndex: true})
			i += end + 1
			if i < len(p) && p[i] != '.' && p[i] != '[' {
				return nil, "expected . or [ after ]"
			}
		default:
			end := strings.IndexAny(p[i:], ".[")
			if end < 0 {
				end = len(p) - i
			}
			segs = append(segs, pathSeg{name: p[i : i+end]})
			i += end
		}
	}
	return segs, ""
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// exprKeywords cannot be field names written bare.
var exprKeywords = map[string]bool{
	"in": true, "not": true, "and": true, "or": true, "matches": true, "contains": true,
	"startsWith": true, "endsWith": true, "let": true, "if": true, "else": true,
	"nil": true, "true": true, "false": true,
}

// path renders the field access for segs, read from base: the event when
// base is empty, else the expression base (such as # in a predicate). A
// top-level name is written bare when it cannot be mistaken for anything
// else, otherwise through $env.
func (t *matchTranslator) path(base string, segs []pathSeg) string {
	var b strings.Builder
	first := segs[0]
	rest := segs
	switch {
	case base != "":
		b.WriteString(base)
	case !first.isIndex && t.bareName(first.name):
		b.WriteString(first.name)
		rest = segs[1:]
	default:
		b.WriteString("$env")
	}
	for _, s := range rest {
		switch {
		case s.isIndex:
			b.WriteString("[" + strconv.FormatInt(s.index, 10) + "]")
		case identifier.MatchString(s.name) && !exprKeywords[s.name]:
			b.WriteString("." + s.name)
		default:
			b.WriteString("[" + strconv.Quote(s.name) + "]")
		}
	}
	return b.String()
}

// bareName reports whether a top-level field can be written as a bare
// identifier: not a keyword, a built-in or a function of the rule's set.
func (t *matchTranslator) bareName(name string) bool {
	if !identifier.MatchString(name) || exprKeywords[name] || strings.HasPrefix(name, "__") {
		return false
	}
	if _, ok := builtin.Index[name]; ok {
		return false
	}
	return !t.funcs.defines(name)
}

// literal renders a scalar Value as an expression literal.
func (t *matchTranslator) literal(n ast.Node, kind valueKind, cond string) (string, bool) {
	f := t.f
	r, tag := f.resolve(n)
	if tag == "!!str" {
		if s, ok := scalarText(r); ok {
			return strconv.Quote(s), true
		}
	}
	var lit string
	isString := false
	switch x := r.(type) {
	case *ast.StringNode, *ast.LiteralNode:
		s, _ := scalarText(x)
		lit, isString = strconv.Quote(s), true
	case *ast.IntegerNode:
		switch v := x.Value.(type) {
		case int64:
			lit = strconv.FormatInt(v, 10)
		case uint64:
			if v <= math.MaxInt64 {
				lit = strconv.FormatUint(v, 10)
			} else {
				// Beyond int: a float, as JSON numbers that large are.
				lit = strconv.FormatFloat(float64(v), 'e', -1, 64)
			}
		}
	case *ast.FloatNode:
		if math.IsInf(x.Value, 0) || math.IsNaN(x.Value) {
			f.errorAt(n, "Value %s is not a finite number", x.GetToken().Value)
			return "", false
		}
		lit = strconv.FormatFloat(x.Value, 'g', -1, 64)
		if !strings.ContainsAny(lit, ".e") {
			lit += ".0"
		}
	case *ast.BoolNode:
		lit = strconv.FormatBool(x.Value)
	case *ast.NullNode:
		lit = "nil"
	default:
		f.errorAt(n, "a Value must be a string, number, boolean or null, not %s", f.describe(r))
		return "", false
	}
	switch {
	case kind == stringValue && !isString:
		f.errorAt(n, "Condition %s needs a string Value, not %s", cond, f.describe(r))
		return "", false
	case kind == orderedValue && (lit == "nil" || lit == "true" || lit == "false"):
		f.errorAt(n, "Condition %s needs a number or string Value, not %s", cond, f.describe(r))
		return "", false
	}
	return lit, true
}

func conditionNames() []string {
	names := make([]string, 0, len(matchConditions))
	for n, c := range matchConditions {
		if c.form != formUnsupported {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}
