package detect

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/expr-lang/expr/vm/runtime"
)

// The differential test of the expression language: a generator of
// well-typed expressions over a random event, each written twice, as a
// rule writes it and as an oracle: the same expression in plain expr with
// DESIGN's rules for values ("Precise semantics of values") spelt out as
// calls of the o* functions below, written from that text and not from
// detect's runtime. Every way detect evaluates the expression (a direct
// program or the VM, on the decoded map or on raw JSON through slots, with
// the prefilter and the index's equalities) must give the oracle's answer,
// value and error or not. Where no nil, missing field, letter case or
// text beyond ASCII is involved, the oracle's helpers do what expr does,
// so detect must then give plain expr's answer; the test counts how often
// it does, so that the generator keeps producing such expressions.

// ---- The oracle's helpers: DESIGN's rules over plain expr. ----

// oGet reads key from obj: a name from a map (the exact key, else the
// first in byte order of the keys equal to it ignoring case), an element
// of a list or a character of a text (negative indexes count from the
// end), nil for anything missing or of another shape.
func oGet(obj, key any) any {
	if obj == nil || key == nil {
		return nil
	}
	v := reflect.ValueOf(obj)
	switch v.Kind() {
	case reflect.Map:
		kv := reflect.ValueOf(key)
		if kv.Type().AssignableTo(v.Type().Key()) {
			if e := v.MapIndex(kv); e.IsValid() {
				return e.Interface()
			}
		}
		name, ok := key.(string)
		if !ok {
			return nil
		}
		var best reflect.Value
		bestName := ""
		for it := v.MapRange(); it.Next(); {
			k, isStr := it.Key().Interface().(string)
			if isStr && strings.EqualFold(k, name) && (!best.IsValid() || k < bestName) {
				best, bestName = it.Value(), k
			}
		}
		if !best.IsValid() {
			return nil
		}
		return best.Interface()
	case reflect.Slice, reflect.Array, reflect.String:
		i, ok := key.(int)
		if !ok {
			if f, isFloat := key.(float64); isFloat && f == math.Trunc(f) {
				i, ok = int(f), true
			}
		}
		if !ok {
			return nil
		}
		n := v.Len()
		var r []rune
		if v.Kind() == reflect.String {
			r = []rune(v.String())
			n = len(r)
		}
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return nil
		}
		if r != nil {
			return string(r[i])
		}
		return v.Index(i).Interface()
	}
	return nil
}

// oBool is a boolean position: nil is false, anything but a boolean an
// error.
func oBool(v any) (any, error) {
	switch b := v.(type) {
	case nil:
		return false, nil
	case bool:
		return b, nil
	}
	return nil, fmt.Errorf("not a boolean: %T", v)
}

// oOrder is an ordering: false with a nil side, else expr's.
func oOrder(op string) func(a, b any) (any, error) {
	return func(a, b any) (out any, err error) {
		if a == nil || b == nil {
			return false, nil
		}
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		switch op {
		case "<":
			return runtime.Less(a, b), nil
		case ">":
			return runtime.More(a, b), nil
		case "<=":
			return runtime.LessOrEqual(a, b), nil
		}
		return runtime.MoreOrEqual(a, b), nil
	}
}

// oText is a string predicate: false with a nil side, an error unless
// both are strings.
func oText(test func(a, b string) bool) func(a, b any) (any, error) {
	return func(a, b any) (any, error) {
		if a == nil || b == nil {
			return false, nil
		}
		x, ok1 := a.(string)
		y, ok2 := b.(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("not strings: %T, %T", a, b)
		}
		return test(x, y), nil
	}
}

// oIn is membership: false with a nil side, else expr's.
func oIn(a, b any) (out any, err error) {
	if a == nil || b == nil {
		return false, nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return runtime.In(a, b), nil
}

// oLen is len: 0 for nil, characters for text.
func oLen(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case string:
		return utf8.RuneCountInString(x), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len(), nil
	}
	return nil, fmt.Errorf("no length: %T", v)
}

// oList is the collection of a closure: nil is an empty list.
func oList(v any) any {
	if v == nil {
		return []any{}
	}
	return v
}

// oSlice is a slice: nil of nil, characters of text, else expr's.
func oSlice(v, from, to any) (out any, err error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		r := []rune(s)
		i, j := clampSlice(from, to, len(r))
		return string(r[i:j]), nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	n := reflect.ValueOf(v).Len()
	if from == nil {
		from = 0
	}
	if to == nil {
		to = n
	}
	return runtime.Slice(v, from, to), nil
}

func clampSlice(from, to any, n int) (int, int) {
	c := func(v any, def int) int {
		i, ok := v.(int)
		if !ok {
			return def
		}
		if i < 0 {
			i += n
		}
		return min(max(i, 0), n)
	}
	i, j := c(from, 0), c(to, n)
	return i, max(i, j)
}

// oracleOptions are the helpers as expr functions.
var oracleOptions = []expr.Option{
	// The reads give values of a type unknown to expr's checker, as
	// plain expr's fields are.
	unknownResult("oGet", func(a ...any) (any, error) { return oGet(a[0], a[1]), nil }),
	expr.Function("oBool", func(a ...any) (any, error) { return oBool(a[0]) }),
	expr.Function("oEq", func(a ...any) (any, error) { return runtime.Equal(a[0], a[1]), nil }),
	expr.Function("oLt", func(a ...any) (any, error) { return oOrder("<")(a[0], a[1]) }),
	expr.Function("oGt", func(a ...any) (any, error) { return oOrder(">")(a[0], a[1]) }),
	expr.Function("oLe", func(a ...any) (any, error) { return oOrder("<=")(a[0], a[1]) }),
	expr.Function("oGe", func(a ...any) (any, error) { return oOrder(">=")(a[0], a[1]) }),
	expr.Function("oContains", func(a ...any) (any, error) { return oText(strings.Contains)(a[0], a[1]) }),
	expr.Function("oStarts", func(a ...any) (any, error) { return oText(strings.HasPrefix)(a[0], a[1]) }),
	expr.Function("oEnds", func(a ...any) (any, error) { return oText(strings.HasSuffix)(a[0], a[1]) }),
	expr.Function("oMatches", func(a ...any) (any, error) {
		return oText(func(s, p string) bool { return regexp.MustCompile(p).MatchString(s) })(a[0], a[1])
	}),
	expr.Function("oIn", func(a ...any) (any, error) { return oIn(a[0], a[1]) }),
	expr.Function("oLen", func(a ...any) (any, error) { return oLen(a[0]) }),
	// oChars turns expr's index in bytes into one in characters.
	expr.Function("oChars", func(a ...any) (any, error) {
		s, i := a[0].(string), a[1].(int)
		if i < 0 {
			return i, nil
		}
		return utf8.RuneCountInString(s[:i]), nil
	}),
	expr.Function("oId", func(a ...any) (any, error) { return a[0], nil }),
	expr.Function("oList", func(a ...any) (any, error) { return oList(a[0]), nil }),
	unknownResult("oSlice", func(a ...any) (any, error) { return oSlice(a[0], a[1], a[2]) }),
}

// ---- The generator. ----

// gType is the type of a generated expression.
type gType int

const (
	gBool gType = iota
	gInt
	gFloat
	gStr
	gStrs  // a list of strings
	gInts  // a list of ints
	gMap   // an object
	gItems // a list of objects with a key and an n
	gAny   // nil, or anything
	nTypes
)

// gExpr is one expression in two spellings: d as a rule writes it, o as
// the oracle does.
type gExpr struct{ d, o string }

// boolMark starts the oracle's spelling of an operation that gives a
// boolean (a comparison, &&, a predicate), which detect does not convert
// in a boolean position and the oracle need not either: expr's optimizer
// folds x && false to false, in both, and a conversion would stop it.
const boolMark = "/*bool*/"

func asBool(e gExpr) gExpr {
	e.o = boolMark + e.o
	return e
}

func (e gExpr) paren() gExpr { return gExpr{"(" + e.d + ")", "(" + e.o + ")"} }

func same(s string) gExpr { return gExpr{s, s} }

// chooser draws the generator's choices from bytes, so that the fuzzer
// steers them; past the end it draws zeros.
type chooser struct {
	data []byte
	pos  int
}

func (c *chooser) pick(n int) int {
	if n <= 1 {
		return 0
	}
	if c.pos >= len(c.data) {
		return 0
	}
	b := int(c.data[c.pos])
	c.pos++
	return b % n
}

type gVar struct {
	name string
	t    gType
}

type generator struct {
	c    *chooser
	vars []gVar
	nvar int
	// elem is the type of # in the closure being generated, gAny
	// outside closures; item is set when # is an object of gItems.
	elem   gType
	inElem bool
}

func (g *generator) pick(n int) int { return g.c.pick(n) }

func (g *generator) oneOf(list ...string) string { return list[g.pick(len(list))] }

var (
	textPool  = []string{`"a-b"`, `"x"`, `"A-B"`, `""`, `"é-ü"`, `"b"`, `"a"`, `"Create-User"`}
	keyPool   = []string{`"a"`, `"A"`, `"b"`, `"B"`, `"name"`, `"Name"`, `"id"`, `"zz"`}
	intPool   = []string{"0", "1", "2", "-1", "3", "7"}
	floatPool = []string{"1.5", "0.25", "-2.5"}
)

// fieldReads are field reads of each type, in both spellings; the oracle
// reads through oGet.
var fieldReads = map[gType][][2]string{
	gStr: {
		{"action", `oGet($env, "action")`}, {"status", `oGet($env, "status")`},
		{"Action", `oGet($env, "Action")`}, {"user.name", `oGet(oGet($env, "user"), "name")`},
		{"USER.Name", `oGet(oGet($env, "USER"), "Name")`}, {"user?.name", `oGet(oGet($env, "user"), "name")`},
		{"$env.action", `oGet($env, "action")`}, {`$env["status"]`, `oGet($env, "status")`},
		{"items[0].key", `oGet(oGet(oGet($env, "items"), 0), "key")`},
		{"items[-1].KEY", `oGet(oGet(oGet($env, "items"), -1), "KEY")`},
		{"tags[1]", `oGet(oGet($env, "tags"), 1)`}, {"missing.name", `oGet(oGet($env, "missing"), "name")`},
	},
	gInt: {
		{"n", `oGet($env, "n")`}, {"m", `oGet($env, "m")`}, {"N", `oGet($env, "N")`},
		{"user.id", `oGet(oGet($env, "user"), "id")`}, {"items[1].n", `oGet(oGet(oGet($env, "items"), 1), "n")`},
		{"nums[-1]", `oGet(oGet($env, "nums"), -1)`}, {"nums[0]", `oGet(oGet($env, "nums"), 0)`},
	},
	gFloat: {{"f", `oGet($env, "f")`}, {"F", `oGet($env, "F")`}},
	gBool:  {{"flag", `oGet($env, "flag")`}, {"user.admin", `oGet(oGet($env, "user"), "admin")`}},
	gStrs: {
		{"tags", `oGet($env, "tags")`}, {"user.roles", `oGet(oGet($env, "user"), "roles")`},
		{"Tags", `oGet($env, "Tags")`},
	},
	gInts:  {{"nums", `oGet($env, "nums")`}},
	gMap:   {{"user", `oGet($env, "user")`}, {"User", `oGet($env, "User")`}, {"$env", "$env"}},
	gItems: {{"items", `oGet($env, "items")`}},
	gAny: {
		{"nul", `oGet($env, "nul")`}, {"missing", `oGet($env, "missing")`},
		{"user.missing", `oGet(oGet($env, "user"), "missing")`}, {"nil", "nil"},
	},
}

// leaf generates an expression of type t without operators.
func (g *generator) leaf(t gType) gExpr {
	var vars []gVar
	for _, v := range g.vars {
		if v.t == t {
			vars = append(vars, v)
		}
	}
	if len(vars) > 0 && g.pick(3) == 0 {
		return same(vars[g.pick(len(vars))].name)
	}
	if g.inElem && g.elem == t && g.pick(2) == 0 {
		return same("#")
	}
	if g.inElem && g.elem == gItems && g.pick(2) == 0 {
		switch t {
		case gStr:
			k := g.oneOf("key", "KEY")
			return gExpr{"." + k, fmt.Sprintf(`oGet(#, %q)`, k)}
		case gInt:
			return gExpr{".n", `oGet(#, "n")`}
		}
	}
	if reads := fieldReads[t]; len(reads) > 0 && g.pick(2) == 0 {
		r := reads[g.pick(len(reads))]
		return gExpr{r[0], r[1]}
	}
	switch t {
	case gBool:
		return same(g.oneOf("true", "false"))
	case gInt:
		return same(g.oneOf(intPool...))
	case gFloat:
		return same(g.oneOf(floatPool...))
	case gStr:
		return same(g.oneOf(textPool...))
	case gStrs:
		return same(g.oneOf(`["a", "b"]`, `["a-b", "x", "a"]`, `[]`))
	case gInts:
		return same(g.oneOf(`[1, 2, 3]`, `[3, 1]`, `[]`))
	case gMap:
		return same(g.oneOf(`{"a": 1, "B": "x"}`, `{"name": "n", "Name": "N"}`, `{}`))
	case gItems:
		return same(`[{"key": "a", "n": 1}, {"KEY": "b", "n": 2}]`)
	}
	r := fieldReads[gAny]
	x := r[g.pick(len(r))]
	return gExpr{x[0], x[1]}
}

// call spells f(args) in both spellings.
func call2(f string, args ...gExpr) gExpr {
	d := make([]string, len(args))
	o := make([]string, len(args))
	for i, a := range args {
		d[i], o[i] = a.d, a.o
	}
	return gExpr{f + "(" + strings.Join(d, ", ") + ")", f + "(" + strings.Join(o, ", ") + ")"}
}

// helper spells an operation that the oracle writes as a call of one of
// its helpers: d is the rule's spelling.
func helper(d, fn string, args ...gExpr) gExpr {
	o := make([]string, len(args))
	for i, a := range args {
		o[i] = a.o
	}
	return gExpr{d, fn + "(" + strings.Join(o, ", ") + ")"}
}

// binop spells a op b, the oracle's as a helper.
func binop(a gExpr, op string, b gExpr, fn string) gExpr {
	return helper("("+a.d+" "+op+" "+b.d+")", fn, a, b)
}

// plainBinary spells a op b the same in both.
func plainBinary(a gExpr, op string, b gExpr) gExpr {
	return gExpr{"(" + a.d + " " + op + " " + b.d + ")", "(" + a.o + " " + op + " " + b.o + ")"}
}

// boolPos is b in a boolean position: the oracle's nil counts as false.
// A boolean literal stays as it is: expr's optimizer folds x && false to
// false, for detect as for plain expr.
func boolPos(b gExpr) string {
	if strings.HasPrefix(b.o, boolMark) || b.o == "true" || b.o == "false" {
		return b.o
	}
	return "oBool(" + b.o + ")"
}

// closure generates a closure builtin over a collection of type of,
// whose elements are of type elem.
func (g *generator) closure(name string, coll gExpr, elem gType, body gType, d int) gExpr {
	saved, savedIn := g.elem, g.inElem
	g.elem, g.inElem = elem, true
	p := g.gen(body, d)
	g.elem, g.inElem = saved, savedIn
	po := p.o
	if body == gBool {
		po = boolPos(p)
	}
	ds := name + "(" + coll.d + ", " + p.d + ")"
	// expr v1.17.8's backward loops (findLast, findLastIndex) corrupt
	// the stack of a closure around them: the oracle searches forwards.
	switch name {
	case "findLast":
		return gExpr{ds, "find(reverse(oList(" + coll.o + ")), " + po + ")"}
	case "findLastIndex":
		return gExpr{ds, g.oracleLets([]gExpr{{o: "oList(" + coll.o + ")"}}, func(n []string) string {
			return "(let i = findIndex(reverse(" + n[0] + "), " + po + "); i == nil ? nil : len(" + n[0] + ") - 1 - i)"
		})}
	}
	return gExpr{ds, name + "(oList(" + coll.o + "), " + po + ")"}
}

// nilSafeText spells a string function that gives nil for nil text.
func (g *generator) nilSafeText(f string, s gExpr, rest ...gExpr) gExpr {
	d := s.d
	for _, r := range rest {
		d += ", " + r.d
	}
	return gExpr{f + "(" + d + ")", g.oracleLets(append([]gExpr{s}, rest...), func(names []string) string {
		return names[0] + " == nil ? nil : " + f + "(" + strings.Join(names, ", ") + ")"
	})}
}

// textIndex is indexOf or lastIndexOf, which detect counts in characters
// and expr in bytes.
func (g *generator) textIndex(f string, s, sub gExpr) gExpr {
	return gExpr{f + "(" + s.d + ", " + sub.d + ")", g.oracleLets([]gExpr{s, sub}, func(n []string) string {
		return n[0] + " == nil ? nil : oChars(" + n[0] + ", " + f + "(" + n[0] + ", " + n[1] + "))"
	})}
}

// oracleLets spells body over the values of args, each evaluated once and
// first, as a function's arguments are.
func (g *generator) oracleLets(args []gExpr, body func(names []string) string) string {
	var b strings.Builder
	names := make([]string, len(args))
	b.WriteString("(")
	for i, a := range args {
		g.nvar++
		names[i] = fmt.Sprintf("t%d", g.nvar)
		fmt.Fprintf(&b, "let %s = %s; ", names[i], a.o)
	}
	b.WriteString(body(names) + ")")
	return b.String()
}

// firstLast is first(l) or last(l); the oracle hides l from expr's
// optimizer, which turns last(filter(...)) into findLast.
func (g *generator) firstLast(f string, l gExpr) gExpr {
	return gExpr{f + "(" + l.d + ")", f + "(oId(" + l.o + "))"}
}

// let declares a variable of a random type around an expression of t.
func (g *generator) let(t gType, d int) gExpr {
	vt := gType(g.pick(int(nTypes)))
	v := g.gen(vt, d)
	g.nvar++
	name := fmt.Sprintf("v%d", g.nvar)
	g.vars = append(g.vars, gVar{name, vt})
	body := g.gen(t, d)
	g.vars = g.vars[:len(g.vars)-1]
	return gExpr{"(let " + name + " = " + v.d + "; " + body.d + ")", "(let " + name + " = " + v.o + "; " + body.o + ")"}
}

// ternary is c ? a : b, with b sometimes nil.
func (g *generator) ternary(t gType, d int) gExpr {
	c := g.gen(gBool, d)
	a := g.gen(t, d)
	b := same("nil")
	if g.pick(3) != 0 {
		b = g.gen(t, d)
	}
	return gExpr{"(" + c.d + " ? " + a.d + " : " + b.d + ")", "(" + boolPos(c) + " ? " + a.o + " : " + b.o + ")"}
}

// index reads an element of a list, or a key of a map.
func (g *generator) member(coll, key gExpr, dot bool) gExpr {
	if dot {
		k := strings.Trim(key.d, `"`)
		return gExpr{coll.d + "." + k, "oGet(" + coll.o + ", " + key.o + ")"}
	}
	return gExpr{coll.d + "[" + key.d + "]", "oGet(" + coll.o + ", " + key.o + ")"}
}

func (g *generator) slice(coll gExpr) gExpr {
	from, to := g.oneOf("", "0", "1", "-1", "-2"), g.oneOf("", "1", "2", "-1", "5")
	of, ot := from, to
	if of == "" {
		of = "nil"
	}
	if ot == "" {
		ot = "nil"
	}
	return gExpr{coll.d + "[" + from + ":" + to + "]", "oSlice(" + coll.o + ", " + of + ", " + ot + ")"}
}

// gen generates an expression of type t of depth at most d.
func (g *generator) gen(t gType, d int) gExpr {
	if d <= 0 || g.pick(4) == 0 {
		return g.leaf(t)
	}
	d--
	switch g.pick(6) {
	case 0:
		return g.ternary(t, d)
	case 1:
		return g.let(t, d)
	case 2:
		if t != gBool {
			return plainBinary(g.gen(t, d), "??", g.gen(t, d))
		}
	}
	switch t {
	case gBool:
		switch g.pick(22) {
		case 0:
			a, b := g.gen(gStr, d), g.gen(gStr, d)
			if g.pick(2) == 0 {
				return asBool(binop(a, "==", b, "oEq"))
			}
			return asBool(helper("("+a.d+" != "+b.d+")", "!oEq", a, b))
		case 1:
			tt := []gType{gInt, gFloat, gAny, gMap, gStrs}[g.pick(5)]
			a, b := g.gen(tt, d), g.gen(gInt, d)
			if tt != gInt && tt != gFloat {
				b = g.gen(tt, d)
			}
			if g.pick(2) == 0 {
				return asBool(binop(a, "==", b, "oEq"))
			}
			return asBool(helper("("+a.d+" != "+b.d+")", "!oEq", a, b))
		case 2, 3:
			tt := []gType{gInt, gFloat, gStr}[g.pick(3)]
			a := g.gen(tt, d)
			b := g.gen(tt, d)
			if tt != gStr {
				b = g.gen([]gType{gInt, gFloat}[g.pick(2)], d)
			}
			op := g.oneOf("<", ">", "<=", ">=")
			fn := map[string]string{"<": "oLt", ">": "oGt", "<=": "oLe", ">=": "oGe"}[op]
			return asBool(binop(a, op, b, fn))
		case 4:
			op := g.oneOf("contains", "startsWith", "endsWith")
			fn := map[string]string{"contains": "oContains", "startsWith": "oStarts", "endsWith": "oEnds"}[op]
			return asBool(binop(g.gen(gStr, d), op, g.gen(gStr, d), fn))
		case 5:
			pat := g.oneOf(`"^a"`, `"-"`, `"b$"`, `"(?i)^A"`, `"é"`)
			return asBool(binop(g.gen(gStr, d), "matches", same(pat), "oMatches"))
		case 6:
			lits := same(g.oneOf(`["a-b", "x"]`, `["b", "A-B", ""]`, `["é-ü"]`))
			if g.pick(2) == 0 {
				return asBool(binop(g.gen(gStr, d), "in", lits, "oIn"))
			}
			x := g.gen(gStr, d)
			return asBool(gExpr{"(" + x.d + " not in " + lits.d + ")", "!oIn(" + x.o + ", " + lits.o + ")"})
		case 7:
			return asBool(binop(g.gen(gStr, d), "in", g.gen(gStrs, d), "oIn"))
		case 8:
			return asBool(binop(g.gen(gInt, d), "in", g.gen(gInts, d), "oIn"))
		case 9:
			return asBool(binop(same(g.oneOf(keyPool...)), "in", g.gen(gMap, d), "oIn"))
		case 10, 11:
			a, b := g.gen(gBool, d), g.gen(gBool, d)
			op := g.oneOf("&&", "||", "and", "or")
			return asBool(gExpr{"(" + a.d + " " + op + " " + b.d + ")", "(" + boolPos(a) + " " + op + " " + boolPos(b) + ")"})
		case 12:
			a := g.gen(gBool, d)
			op := g.oneOf("!", "not ")
			return asBool(gExpr{op + a.paren().d, "!" + boolPos(a)})
		case 13, 14:
			name := g.oneOf("any", "all", "none", "one")
			if g.pick(2) == 0 {
				return asBool(g.closure(name, g.gen(gItems, d), gItems, gBool, d))
			}
			return asBool(g.closure(name, g.gen(gStrs, d), gStr, gBool, d))
		case 15:
			tt := gType(g.pick(int(nTypes)))
			x := g.gen(tt, d)
			if g.pick(2) == 0 {
				return asBool(gExpr{"(" + x.d + " == nil)", "(" + x.o + " == nil)"})
			}
			return asBool(gExpr{"(nil != " + x.d + ")", "(nil != " + x.o + ")"})
		case 16:
			tt := []gType{gStr, gStrs, gMap, gInts}[g.pick(4)]
			x, k := g.gen(tt, d), g.oneOf(intPool...)
			return asBool(gExpr{"(len(" + x.d + ") > " + k + ")", "(oLen(" + x.o + ") > " + k + ")"})
		case 17:
			f := g.oneOf("hasPrefix", "hasSuffix")
			a, b := g.gen(gStr, d), g.gen(gStr, d)
			return gExpr{f + "(" + a.d + ", " + b.d + ")", g.oracleLets([]gExpr{a, b}, func(n []string) string {
				return n[0] + " == nil || " + n[1] + " == nil ? false : " + f + "(" + n[0] + ", " + n[1] + ")"
			})}
		case 18:
			return asBool(binop(g.gen(gStr, d), "==", g.gen(gAny, d), "oEq"))
		case 20:
			m := g.gen(gMap, d)
			k := g.oneOf("flag", "admin", "a")
			return gExpr{"(" + m.d + "?." + k + " ?? false)", "(oGet(" + m.o + ", " + fmt.Sprintf("%q", k) + ") ?? false)"}
		case 21:
			return asBool(g.closure(g.oneOf("any", "all"), g.gen(gInts, d), gInt, gBool, d))
		case 19:
			return g.member(g.gen(gMap, d), same(g.oneOf(`"flag"`, `"admin"`)), g.pick(2) == 0)
		}
	case gInt:
		switch g.pick(19) {
		case 0, 1:
			op := g.oneOf("+", "-", "*")
			return plainBinary(g.gen(gInt, d), op, g.gen(gInt, d))
		case 2:
			return plainBinary(g.gen(gInt, d), "%", same(g.oneOf("2", "3")))
		case 3:
			tt := []gType{gStr, gStrs, gMap, gInts, gAny}[g.pick(5)]
			x := g.gen(tt, d)
			return helper("len("+x.d+")", "oLen", x)
		case 4:
			return g.closure(g.oneOf("count", "findIndex", "findLastIndex"), g.gen(gStrs, d), gStr, gBool, d)
		case 5:
			return g.member(g.gen(gInts, d), same(g.oneOf("0", "1", "-1", "5", "-4")), false)
		case 6:
			return call2(g.oneOf("max", "min"), g.gen(gInt, d), g.gen(gInt, d))
		case 7:
			return call2("abs", g.gen(gInt, d))
		case 8:
			if f := g.oneOf("sum", "first", "last"); f != "sum" {
				return g.firstLast(f, g.gen(gInts, d))
			}
			// sum is a closure builtin: nil is an empty list.
			l := g.gen(gInts, d)
			return gExpr{"sum(" + l.d + ")", "sum(oList(" + l.o + "))"}
		case 9:
			return call2("int", g.gen([]gType{gFloat, gStr, gInt}[g.pick(3)], d))
		case 10:
			l := g.gen(gInts, d)
			return gExpr{"reduce(" + l.d + ", #acc + #, 0)", "reduce(oList(" + l.o + "), #acc + #, 0)"}
		case 11:
			return g.textIndex("indexOf", g.gen(gStr, d), g.gen(gStr, d))
		case 12:
			k := same(g.oneOf(`"a"`, `"A"`, `"n"`))
			m := g.oneOf("map", "fromPairs")
			v := g.gen(gInt, d)
			var obj gExpr
			if m == "map" {
				obj = gExpr{`{` + k.d + `: ` + v.d + `}`, `{` + k.o + `: ` + v.o + `}`}
			} else {
				obj = gExpr{`fromPairs([[` + k.d + `, ` + v.d + `]])`, `fromPairs([[` + k.o + `, ` + v.o + `]])`}
			}
			return g.member(obj.paren(), same(g.oneOf(`"a"`, `"A"`, `"n"`, `"b"`)), g.pick(2) == 0)
		case 13:
			return g.member(g.gen(gMap, d), same(g.oneOf(`"id"`, `"a"`, `"n"`)), g.pick(2) == 0)
		case 14:
			return g.closure("sum", g.gen(gStrs, d), gStr, gInt, d)
		case 15:
			m := g.gen(gMap, d)
			return gExpr{"len(values(" + m.d + "))", "oLen(values(" + m.o + "))"}
		case 16:
			x := g.gen(gInt, d)
			return gExpr{"-" + x.paren().d, "-" + x.paren().o}
		case 17:
			return g.textIndex("lastIndexOf", g.gen(gStr, d), g.gen(gStr, d))
		case 18:
			return call2("get", g.gen([]gType{gInts, gMap}[g.pick(2)], d), same(g.oneOf("0", "-1", `"id"`, `"n"`)))
		}
	case gFloat:
		switch g.pick(7) {
		case 4:
			return plainBinary(g.gen(gInt, d), "**", same(g.oneOf("2", "0")))
		case 5:
			return call2(g.oneOf("mean", "median"), g.gen(gInts, d))
		case 0:
			return plainBinary(g.gen(gInt, d), "/", g.gen(gInt, d))
		case 1:
			return plainBinary(g.gen(gFloat, d), g.oneOf("+", "*", "-"), g.gen([]gType{gInt, gFloat}[g.pick(2)], d))
		case 2:
			return call2("float", g.gen([]gType{gInt, gStr}[g.pick(2)], d))
		case 3:
			return call2(g.oneOf("ceil", "floor", "round"), g.gen(gFloat, d))
		}
	case gStr:
		switch g.pick(23) {
		case 0:
			return plainBinary(g.gen(gStr, d), "+", g.gen(gStr, d))
		case 1:
			return g.nilSafeText(g.oneOf("lower", "upper", "trim"), g.gen(gStr, d))
		case 2:
			return g.nilSafeText(g.oneOf("trimPrefix", "trimSuffix"), g.gen(gStr, d), same(g.oneOf(`"a"`, `"-b"`)))
		case 3:
			return g.member(g.gen(gStrs, d), same(g.oneOf("0", "1", "-1", "3", "-3")), false)
		case 4:
			return g.firstLast(g.oneOf("first", "last"), g.gen(gStrs, d))
		case 5:
			return call2("join", g.gen(gStrs, d), same(g.oneOf(`"-"`, `","`)))
		case 6:
			return g.slice(g.gen(gStr, d))
		case 7:
			s := g.nilSafeText("split", g.gen(gStr, d), same(`"-"`))
			return g.member(s, same(g.oneOf("0", "1", "-1", "2")), false)
		case 8:
			return call2("string", g.gen([]gType{gInt, gBool, gStr}[g.pick(3)], d))
		case 9, 10:
			return g.member(g.gen(gMap, d), same(g.oneOf(keyPool...)), g.pick(2) == 0)
		case 11:
			k := same(g.oneOf(`"a"`, `"A"`, `"name"`))
			v := g.gen(gStr, d)
			obj := gExpr{`fromPairs([[` + k.d + `, ` + v.d + `], ["b", "x"]])`, `fromPairs([[` + k.o + `, ` + v.o + `], ["b", "x"]])`}
			return g.member(obj.paren(), same(g.oneOf(`"a"`, `"A"`, `"name"`, `"b"`, `"B"`)), g.pick(2) == 0)
		case 12:
			return call2("repeat", g.gen(gStr, d), same(g.oneOf("0", "2")))
		case 13:
			return call2("replace", g.gen(gStr, d), same(`"-"`), same(`"+"`))
		case 14:
			return g.closure(g.oneOf("find", "findLast"), g.gen(gStrs, d), gStr, gBool, d)
		case 15:
			return g.member(g.closure("sortBy", g.gen(gStrs, d), gStr, gStr, d), same(g.oneOf("0", "-1")), false)
		case 16:
			k := same(g.oneOf(`"a"`, `"b"`))
			x := g.gen(gStr, d)
			tp := gExpr{"toPairs({" + k.d + ": " + x.d + "})", "toPairs({" + k.o + ": " + x.o + "})"}
			return g.member(g.member(tp, same("0"), false), same(g.oneOf("0", "1")), false)
		case 17:
			return g.member(g.gen(gItems, d), same(g.oneOf("0", "1", "-1", "2")), false).dot(g.oneOf("key", "KEY"))
		case 18:
			return g.member(g.closure("groupBy", g.gen(gStrs, d), gStr, gStr, d), g.gen(gStr, d), false).first()
		case 19:
			return call2("toJSON", g.gen(gType(g.pick(int(nTypes))), d))
		case 20:
			x := g.gen(gStr, d)
			return gExpr{"fromBase64(toBase64(" + x.d + "))", "fromBase64(toBase64(" + x.o + "))"}
		case 21:
			return call2("type", g.gen(gType(g.pick(int(nTypes))), d))
		case 22:
			x := g.gen(gType(g.pick(int(nTypes))), d)
			return gExpr{"toJSON(fromJSON(toJSON(" + x.d + ")))", "toJSON(fromJSON(toJSON(" + x.o + ")))"}
		}
	case gStrs:
		switch g.pick(14) {
		case 0:
			return g.nilSafeText("split", g.gen(gStr, d), same(g.oneOf(`"-"`, `""`)))
		case 1:
			return g.slice(g.gen(gStrs, d))
		case 2:
			return g.closure("filter", g.gen(gStrs, d), gStr, gBool, d)
		case 3:
			return g.closure("map", g.gen(gStrs, d), gStr, gStr, d)
		case 4:
			a, b := g.gen(gStr, d), g.gen(gStr, d)
			return gExpr{"[" + a.d + ", " + b.d + "]", "[" + a.o + ", " + b.o + "]"}
		case 5:
			return call2(g.oneOf("sort", "reverse", "uniq"), g.gen(gStrs, d))
		case 6:
			return call2("concat", g.gen(gStrs, d), g.gen(gStrs, d))
		case 7:
			a, b := g.gen(gStrs, d), g.gen(gStrs, d)
			return gExpr{"flatten([" + a.d + ", " + b.d + "])", "flatten([" + a.o + ", " + b.o + "])"}
		case 8:
			return g.closure("sortBy", g.gen(gStrs, d), gStr, gStr, d)
		case 9:
			return g.closure("map", g.gen(gItems, d), gItems, gStr, d)
		case 10:
			m := g.gen(gMap, d)
			return gExpr{"sort(keys(" + m.d + "))", "sort(keys(" + m.o + "))"}
		case 11:
			return g.member(g.closure("groupBy", g.gen(gStrs, d), gStr, gStr, d), g.gen(gStr, d), false)
		}
	case gInts:
		switch g.pick(9) {
		case 0:
			a, b := g.gen(gInt, d), g.gen(gInt, d)
			return gExpr{"[" + a.d + ", " + b.d + "]", "[" + a.o + ", " + b.o + "]"}
		case 1:
			return g.closure("map", g.gen(gStrs, d), gStr, gInt, d)
		case 2:
			return g.slice(g.gen(gInts, d))
		case 3:
			return g.closure("filter", g.gen(gInts, d), gInt, gBool, d)
		case 4:
			return call2("sort", g.gen(gInts, d))
		case 5:
			return g.closure("map", g.gen(gItems, d), gItems, gInt, d)
		case 6:
			l := g.gen(gStrs, d)
			return gExpr{"map(" + l.d + ", #index)", "map(oList(" + l.o + "), #index)"}
		case 7:
			return plainBinary(same(g.oneOf("0", "1", "-1")), "..", g.gen(gInt, d))
		}
	case gMap:
		switch g.pick(5) {
		case 0:
			a, b := g.gen(gInt, d), g.gen(gStr, d)
			k1, k2 := g.oneOf(keyPool...), g.oneOf(keyPool...)
			return gExpr{"{" + k1 + ": " + a.d + ", " + k2 + ": " + b.d + "}", "{" + k1 + ": " + a.o + ", " + k2 + ": " + b.o + "}"}
		case 1:
			a, b := g.gen(gStr, d), g.gen(gInt, d)
			k1 := g.oneOf(keyPool...)
			return gExpr{"fromPairs([[" + k1 + ", " + a.d + "], [\"n\", " + b.d + "]])", "fromPairs([[" + k1 + ", " + a.o + "], [\"n\", " + b.o + "]])"}
		case 2:
			return g.closure("groupBy", g.gen(gStrs, d), gStr, gStr, d)
		case 3:
			return g.member(g.gen(gItems, d), same(g.oneOf("0", "-1", "4")), false)
		}
	case gItems:
		switch g.pick(3) {
		case 0:
			return g.closure("filter", g.gen(gItems, d), gItems, gBool, d)
		case 1:
			return g.slice(g.gen(gItems, d))
		}
	case gAny:
		switch g.pick(3) {
		case 0:
			return g.member(g.gen(gMap, d), same(`"missing"`), true)
		case 1:
			return g.member(g.gen(gStrs, d), same("9"), false)
		}
	}
	return g.leaf(t)
}

// dot reads a key of an object.
func (e gExpr) dot(key string) gExpr {
	return gExpr{e.d + "." + key, "oGet(" + e.o + ", " + fmt.Sprintf("%q", key) + ")"}
}

// first reads the first element of a list.
func (e gExpr) first() gExpr {
	return gExpr{e.d + "[0]", "oGet(" + e.o + ", 0)"}
}

// ---- The event. ----

// genEvent builds a random event: each field of the schema may be absent,
// null, or spelt in another case, and an object may hold two keys equal
// ignoring case.
func genEvent(c *chooser) map[string]any {
	ev := map[string]any{}
	name := func(n string) string {
		switch c.pick(8) {
		case 0:
			return strings.ToUpper(n[:1]) + n[1:]
		case 1:
			return strings.ToUpper(n)
		}
		return n
	}
	put := func(m map[string]any, n string, v func() any) {
		switch c.pick(10) {
		case 0:
			return
		case 1:
			m[name(n)] = nil
			return
		case 2:
			m[n] = v()
			m[strings.ToUpper(n)] = v()
			return
		}
		m[name(n)] = v()
	}
	texts := []string{"a-b", "x", "A-B", "", "é-ü", "b", "Create-User", "a"}
	text := func() any { return texts[c.pick(len(texts))] }
	num := func() any { return []int{0, 1, 2, -1, 3, 7}[c.pick(6)] }
	strs := func() any {
		n := c.pick(4)
		l := make([]any, n)
		for i := range l {
			l[i] = text()
		}
		return l
	}
	put(ev, "action", text)
	put(ev, "status", text)
	put(ev, "n", num)
	put(ev, "m", num)
	put(ev, "f", func() any { return []float64{1.5, -0.5, 2.25}[c.pick(3)] })
	put(ev, "flag", func() any { return c.pick(2) == 0 })
	put(ev, "tags", strs)
	put(ev, "nums", func() any {
		n := c.pick(4)
		l := make([]any, n)
		for i := range l {
			l[i] = num()
		}
		return l
	})
	put(ev, "user", func() any {
		u := map[string]any{}
		put(u, "name", text)
		put(u, "id", num)
		put(u, "admin", func() any { return c.pick(2) == 0 })
		put(u, "roles", strs)
		return u
	})
	put(ev, "items", func() any {
		n := c.pick(4)
		l := make([]any, n)
		for i := range l {
			it := map[string]any{}
			put(it, "key", text)
			put(it, "n", num)
			l[i] = it
		}
		return l
	})
	ev["nul"] = nil
	return ev
}

// ---- Evaluation and comparison. ----

type outcome struct {
	v   any
	err error
}

func (o outcome) String() string {
	if o.err != nil {
		return "error: " + o.err.Error()
	}
	return fmt.Sprintf("%#v", o.v)
}

// sameOutcome compares two results: both errors, or equal values (NaN
// equal to itself).
func sameOutcome(a, b outcome) bool {
	if (a.err != nil) != (b.err != nil) {
		return false
	}
	return a.err != nil || sameValue(a.v, b.v)
}

func sameValue(a, b any) bool {
	if x, ok := a.(float64); ok {
		if y, ok := b.(float64); ok && math.IsNaN(x) && math.IsNaN(y) {
			return true
		}
	}
	return reflect.DeepEqual(a, b)
}

// runPlain runs source in expr, compiled as a program is without an
// environment, on env.
func runPlain(source string, env map[string]any, opts ...expr.Option) (out outcome) {
	defer func() {
		if r := recover(); r != nil {
			out = outcome{err: fmt.Errorf("panic: %v", r)}
		}
	}()
	p, err := expr.Compile(source, opts...)
	if err != nil {
		return outcome{err: err}
	}
	v, err := expr.Run(p, env)
	return outcome{v, err}
}

// langStats counts how the cases went.
type langStats struct {
	cases, plainAgrees, errors, direct, prefiltered, indexed, detectOnly int
}

// checkLanguage generates one expression and one event from data and
// checks every evaluation of it against the oracle.
func checkLanguage(t *testing.T, data []byte, st *langStats) {
	t.Helper()
	c := &chooser{data: data}
	ev := genEvent(c)
	g := &generator{c: c}
	kind := kindValue
	var e gExpr
	switch c.pick(3) {
	case 0:
		e = g.gen(gType(c.pick(int(nTypes))), 4)
	case 1:
		// A condition that the index and the prefilter can use: a
		// field's equality with a literal, or its membership in a
		// list of literals, before the rest.
		kind = kindBool
		reads := [][2]string{
			{"action", `oGet($env, "action")`}, {"user.name", `oGet(oGet($env, "user"), "name")`},
			{"Status", `oGet($env, "Status")`}, {"items[0].key", `oGet(oGet(oGet($env, "items"), 0), "key")`},
		}
		f := reads[c.pick(len(reads))]
		lits := []string{`"a-b"`, `"x"`, `"Delete-User"`, `"é-ü"`, `"A-B"`}
		var head gExpr
		if c.pick(2) == 0 {
			l := lits[c.pick(len(lits))]
			head = gExpr{f[0] + " == " + l, "oEq(" + f[1] + ", " + l + ")"}
		} else {
			l := "[" + lits[c.pick(len(lits))] + ", " + lits[c.pick(len(lits))] + "]"
			head = gExpr{f[0] + " in " + l, "oIn(" + f[1] + ", " + l + ")"}
		}
		rest := g.gen(gBool, 3)
		e = gExpr{head.d + " && " + rest.d, "oBool(" + head.o + ") && " + boolPos(rest)}
	default:
		kind = kindBool
		e = g.gen(gBool, 4)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	checkExpr(t, e, kind, ev, raw, st)
}

// checkExpr checks every evaluation of e on the event ev, whose JSON is
// raw, against the oracle.
func checkExpr(t *testing.T, e gExpr, kind exprKind, ev map[string]any, raw []byte, st *langStats) {
	t.Helper()
	oracleSrc := e.o
	if kind == kindBool {
		oracleSrc = "oBool(" + e.o + ")"
	}
	if _, err := expr.Compile(oracleSrc, oracleOptions...); err != nil {
		// Types that expr's checker knows from literals (get of a map
		// literal with an int key): detect must reject it too.
		if _, perr := compileExpr(e.d, kind, nil, Limits{}.withDefaults()); perr == nil {
			// detect compiles some expressions that expr rejects
			// on types known from literals; plain expr must then
			// reject it too.
			if _, plainErr := expr.Compile(e.d); plainErr == nil {
				t.Fatalf("the oracle does not compile (%v), detect and plain expr do: %s\noracle %s", err, e.d, oracleSrc)
			}
			st.detectOnly++
		}
		return
	}
	want := runPlain(oracleSrc, ev, oracleOptions...)
	if want.err != nil && strings.Contains(want.err.Error(), "panic") {
		// A panic of the oracle's helpers is the test's bug.
		t.Fatalf("oracle: %s: %v", oracleSrc, want.err)
	}
	st.cases++
	if want.err != nil {
		st.errors++
	}
	what := fmt.Sprintf("expression %s\nevent %s\noracle %s", e.d, raw, oracleSrc)
	if sameOutcome(runPlain(e.d, ev), want) {
		st.plainAgrees++
	}
	checkPaths(t, what, e.d, kind, ev, raw, want, st)
}

// checkPaths checks every way detect evaluates source, of kind, on the
// event ev, whose JSON is raw, against want.
func checkPaths(t *testing.T, what, source string, kind exprKind, ev map[string]any, raw []byte, want outcome, st *langStats) {
	t.Helper()
	p, perr := compileExpr(source, kind, nil, Limits{}.withDefaults())
	_, plainErr := expr.Compile(source)
	if perr != nil {
		// detect compiles every expression that plain expr compiles.
		if plainErr == nil {
			t.Fatalf("%s\ndetect does not compile it: %s", what, perr.Msg)
		}
		return
	}
	if plainErr != nil {
		st.detectOnly++
		if st.detectOnly <= 3 {
			t.Logf("detect compiles what expr does not (%v): %s", plainErr, source)
		}
	}
	if p.direct != nil {
		st.direct++
	}
	decoded, err := ParseEvent(raw)
	if err != nil {
		t.Fatal(err)
	}
	// The VM alone, and run: the field path or the direct program
	// before the VM.
	m := &vm.VM{MemoryBudget: MaxEvalMemory}
	vmv, vmErr := m.Run(p.prog, ev)
	got := map[string]outcome{"VM": {vmv, vmErr}}
	v, err := p.run(mapEnv(ev))
	got["run on the map"] = outcome{v, err}
	v, err = p.run(mapEnv(decoded.Map()))
	got["run on the parsed event"] = outcome{v, err}
	if kind == kindBool {
		want = outcome{want.v, want.err}
		if b, ok := want.v.(bool); ok || want.v == nil {
			want.v = b
		}
		// A condition's value: nil is false, anything but a boolean
		// an error.
		for k, o := range got {
			if o.err == nil {
				v, err := oBool(o.v)
				got[k] = outcome{v, err}
			}
		}
		r := &Rule{Severity: SeverityInfo, ID: "Lang.Differential", Condition: source}
		b, err := r.Evaluate(raw)
		rawOut := outcome{b, err}
		b, err = r.Evaluate(NewEvent(ev))
		got["Evaluate on the map"] = outcome{b, err}
		rejected := p.filter != nil && !p.filter.mayMatch(raw)
		if rejected {
			st.prefiltered++
			// The prefilter never hides a match; it may hide an error.
			if want.err == nil && want.v == true {
				t.Fatalf("%s\nthe prefilter rejects the event; the oracle gives true", what)
			}
			if rawOut.err != nil || rawOut.v != false {
				t.Fatalf("%s\nthe prefilter rejects the event; Evaluate(raw) gives %s", what, rawOut)
			}
		} else {
			got["Evaluate on raw JSON"] = rawOut
		}
		checkEngine(t, what, source, raw, want, rejected)
		// The index: on an event whose field holds none of an
		// equality's strings, the condition is false and raises no
		// error.
		for _, eq := range p.equal {
			s, _ := valueAt(ev, eq.path).(string)
			if !contains(eq.values, s) {
				st.indexed++
				if want.err != nil || want.v != false {
					t.Fatalf("%s\nthe index skips the rule (%v not in %v); the oracle gives %s", what, eq.path, eq.values, want)
				}
			}
		}
	} else {
		// An output is carried as JSON: a value that has none (a map
		// with a nil key, as groupBy makes) is a rule error.
		wantOut := want
		if want.err == nil && checkValue(want.v) != nil {
			wantOut = outcome{err: checkValue(want.v)}
		}
		r := &Rule{Severity: SeverityInfo, ID: "Lang.Differential", Condition: "true", Fields: []Field{{Name: "v", Expr: source}}}
		for name, event := range map[string]any{"Outputs on raw JSON": raw, "Outputs on the map": NewEvent(ev)} {
			out, err := r.Outputs(event)
			if o := (outcome{out["v"], err}); !sameOutcome(o, wantOut) {
				t.Fatalf("%s\n%s gives %s; the oracle gives %s", what, name, o, wantOut)
			}
		}
	}
	for name, o := range got {
		if !sameOutcome(o, want) {
			t.Fatalf("%s\n%s gives %s; the oracle gives %s", what, name, o, want)
		}
	}
}

// langCases and langSeed set how many cases TestLanguageDifferential
// draws, and from which seed, for longer runs than CI's.
var (
	langCases = flag.Int("lang.cases", 0, "cases of TestLanguageDifferential (default 3000, 1000 with -short or -race)")
	langSeed  = flag.Uint64("lang.seed", 1, "seed of TestLanguageDifferential's cases")
)

// checkEngine checks that an engine, which routes the event through its
// index and the rules' prefilters, raises for the condition source the
// alert that want calls for: a match, a rule error (which the prefilter
// may hide when it rejected the event), or nothing.
func checkEngine(t *testing.T, what, source string, raw []byte, want outcome, rejected bool) {
	t.Helper()
	var alerts []*Alert
	sink := AlertSinkFunc(func(a *Alert) error {
		alerts = append(alerts, a)
		return nil
	})
	rules := []*Rule{
		{Severity: SeverityInfo, ID: "Lang.Differential", Condition: source},
		// Another rule with an equality, for the index to choose
		// between them.
		{Severity: SeverityInfo, ID: "Lang.Other", Condition: `action == "never-seen"`},
	}
	eng, err := NewEngine(rules, WithSink(sink))
	if err != nil {
		t.Fatalf("%s\nNewEngine: %v", what, err)
	}
	if err := eng.Process(raw); err != nil {
		t.Fatalf("%s\nProcess: %v", what, err)
	}
	if err := eng.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range alerts {
		// Each alert is raised when it is created and again, final,
		// when its window closes: the final one counts the events.
		if a.Step == StepFinal {
			got = append(got, fmt.Sprintf("%s %s %d", a.Type, a.RuleID, a.EventCount))
		}
	}
	var expect []string
	switch {
	case want.err != nil && !rejected:
		expect = []string{"RULE_ERROR Lang.Differential 1"}
	case want.err == nil && want.v == true:
		expect = []string{"RULE Lang.Differential 1"}
	}
	if want.err != nil && rejected && len(got) == 0 {
		return
	}
	if !slices.Equal(got, expect) {
		t.Fatalf("%s\nthe engine raises %v; the oracle gives %s, so %v", what, got, want, expect)
	}
}

// TestLanguageDifferential runs the differential on a fixed sample of
// generated expressions and events.
func TestLanguageDifferential(t *testing.T) {
	n := 3000
	if testing.Short() || raceEnabled {
		n = 1000
	}
	if *langCases > 0 {
		n = *langCases
	}
	r := rand.New(rand.NewPCG(25, *langSeed))
	var st langStats
	data := make([]byte, 256)
	for range n {
		for i := 0; i < len(data); i += 8 {
			binary.LittleEndian.PutUint64(data[i:], r.Uint64())
		}
		checkLanguage(t, data, &st)
	}
	t.Logf("%d cases: plain expr agrees on %d, the oracle errs on %d, %d direct programs, %d prefilter rejections, %d index skips, %d compiled by detect alone",
		st.cases, st.plainAgrees, st.errors, st.direct, st.prefiltered, st.indexed, st.detectOnly)
	// The generator must exercise both kinds of case: those where detect
	// is plain expr, and those where the nil rules apply.
	if st.plainAgrees < st.cases/3 || st.plainAgrees == st.cases {
		t.Errorf("plain expr agrees on %d of %d cases", st.plainAgrees, st.cases)
	}
	if st.errors == 0 || st.errors > st.cases/2 {
		t.Errorf("the oracle errs on %d of %d cases", st.errors, st.cases)
	}
}

// FuzzLanguage steers the generator with the fuzzer's bytes.
func FuzzLanguage(f *testing.F) {
	r := rand.New(rand.NewPCG(25, 2))
	for range 16 {
		data := make([]byte, 128)
		for i := 0; i < len(data); i += 8 {
			binary.LittleEndian.PutUint64(data[i:], r.Uint64())
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var st langStats
		checkLanguage(t, data, &st)
	})
}

// TestLanguageRegressions holds the cases where detect gave another answer
// than plain expr with DESIGN's rules, each checked on every path.
func TestLanguageRegressions(t *testing.T) {
	const event = `{"action": "a-b", "nums": [1, 2, 3], "n": 2, "a": 1}`
	errAny := errors.New("any error")
	tests := []struct {
		source string
		kind   exprKind
		want   any // errAny for a rule error
	}{
		// Maps that fromPairs and groupBy build are read by key.
		{`let m = fromPairs([["a", 1]]); m.a == 1`, kindBool, true},
		{`fromPairs([["a", 1]])["a"] == 1`, kindBool, true},
		{`fromPairs([["Name", 1]]).name`, kindValue, 1},
		{`fromPairs([[1, "x"]])[1]`, kindValue, "x"},
		{`groupBy(nums, # % 2)[1]`, kindValue, []any{1, 3}},
		{`groupBy(nums, # % 2)[5]`, kindValue, nil},
		// Lists of any type slice, as the []string from split.
		{`len(split(action, "-")[:1]) == 1`, kindBool, true},
		{`split(action, "-")[1:]`, kindValue, []string{"b"}},
		{`split(action, "-")[-1:]`, kindValue, []string{"b"}},
		// == and != with a nil typed as a string or an int.
		{`let v = action == "x" ? "m" : nil; v == "q"`, kindBool, false},
		{`let v = action == "x" ? "m" : nil; v != "q"`, kindBool, true},
		{`(action == "x" ? 1 : nil) == 1`, kindBool, false},
		{`first(split(action, "-")[2:]) == "q"`, kindBool, false},
		{`let v = action == "x" ? "m" : nil; v == nil`, kindBool, true},
		// hasPrefix and hasSuffix are predicates: false with a nil side;
		// the other string functions reject a nil argument after the text.
		{`hasPrefix(action, missing)`, kindBool, false},
		{`hasSuffix(n, missing)`, kindBool, false},
		{`hasSuffix(n, "x")`, kindBool, errAny},
		{`trimPrefix(action, missing)`, kindValue, errAny},
		{`indexOf(action, missing)`, kindValue, errAny},
		{`split(action, missing)`, kindValue, errAny},
		// expr's backward loops inside another closure.
		{`map(nums, findLast(nums, # > 5))`, kindValue, []any{nil, nil, nil}},
		{`map(nums, findLastIndex(nums, # > 1))`, kindValue, []any{2, 2, 2}},
		{`map(nums, last(filter(nums, # > 1)))`, kindValue, []any{3, 3, 3}},
		{`any(nums, findLast(nums, # > 5) == nil && # == 3)`, kindBool, true},
		{`findLastIndex(nums, # > 5)`, kindValue, nil},
		{`findLast(nums, # < 3)`, kindValue, 2},
		// A condition whose checked type is boolean and whose value is
		// not: the ternary's else branch is of unknown type.
		{`false ? false : ({"a": 1}?.a ?? false)`, kindBool, errAny},
		{`n == 2 ? true : a`, kindBool, true},
		{`n == 3 ? true : a`, kindBool, errAny},
		// A ternary with a field in a branch is of unknown type, as in
		// plain expr: comparing it with a map of another type compiles.
		{`(n == 2 ? {"a": 1} : a) == groupBy(nums, #)`, kindBool, false},
		{`(n == 2 ? "x" : a) == 1`, kindBool, false},
		// Text is indexed by character.
		{`indexOf("héllo", "l")`, kindValue, 2},
		{`lastIndexOf("é-ü", "")`, kindValue, 3},
		{`"héllo"[1:3]`, kindValue, "él"},
		// The prefilter's empty literal.
		{`action == ""`, kindBool, false},
		{`action != "" && a == 1`, kindBool, true},
	}
	ev := mustDecode(t, event)
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			want := outcome{v: tt.want}
			if tt.want == errAny {
				want = outcome{err: errAny}
			}
			var st langStats
			checkPaths(t, "expression "+tt.source, tt.source, tt.kind, ev, []byte(event), want, &st)
		})
	}
	// The empty literal on an event that holds none.
	r := &Rule{Severity: SeverityInfo, ID: "R.Empty", Condition: `action == ""`}
	for _, raw := range []string{`{"a":1}`, `{"a":"x"}`, `{}`} {
		if got, err := r.Evaluate([]byte(raw)); got || err != nil {
			t.Errorf("Evaluate(%s) = %v, %v; want false", raw, got, err)
		}
	}
	if got, err := r.Evaluate([]byte(`{"action":""}`)); !got || err != nil {
		t.Errorf(`Evaluate({"action":""}) = %v, %v; want true`, got, err)
	}
	// An output with a nil map key is a rule error, not a crash.
	out := &Rule{Severity: SeverityInfo, ID: "R.NilKey", Condition: "true", Fields: []Field{{Name: "g", Expr: `groupBy(["a"], missing)`}}}
	for _, e := range []any{[]byte(event), NewEvent(ev)} {
		if _, err := out.Outputs(e); err == nil || !strings.Contains(err.Error(), "map key is nil") {
			t.Errorf("Outputs = %v; want the error of a nil map key", err)
		}
	}
}
