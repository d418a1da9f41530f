package detect

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	jsoniter "github.com/json-iterator/go"
)

// MaxDedupLength is the longest dedup string or title, in characters;
// longer ones are cut, as Panther does.
const MaxDedupLength = 1000

// Severity is how urgent an alert is. The zero value is no severity: a
// rule must set one (Compile reports a rule without one), as rule files
// must.
type Severity uint8

// The severities, in increasing order.
const (
	SeverityInfo Severity = iota + 1
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"}

// String returns the severity in upper case, as alerts carry it: "INFO",
// "LOW", "MEDIUM", "HIGH" or "CRITICAL".
func (s Severity) String() string {
	if s.valid() {
		return severityNames[s]
	}
	return "Severity(" + strconv.Itoa(int(s)) + ")"
}

func (s Severity) valid() bool { return s >= SeverityInfo && int(s) < len(severityNames) }

// ParseSeverity reads a severity name in any letter case ("Medium",
// "HIGH"); "INFORMATIONAL" is accepted for Info, as Wiz and others name it.
func ParseSeverity(name string) (Severity, error) {
	up := strings.ToUpper(strings.TrimSpace(name))
	if up == "INFORMATIONAL" {
		return SeverityInfo, nil
	}
	for i, n := range severityNames {
		if n == up && n != "" {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("detect: unknown severity %q (want Info, Low, Medium, High or Critical)", name)
}

// MarshalText encodes the severity as its upper-case name.
func (s Severity) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("detect: invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText decodes a severity name in any letter case.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Output is one computed output of an alert.
type Output struct {
	Name  string
	Value any
}

// Outputs are an alert's output values, in the order the rule declares
// them. They encode to JSON as an object with the keys in that order.
type Outputs []Output

// Get returns the value of the output named name, and whether it exists.
func (o Outputs) Get(name string) (any, bool) {
	for _, f := range o {
		if f.Name == name {
			return f.Value, true
		}
	}
	return nil, false
}

// Map returns the outputs as a map.
func (o Outputs) Map() map[string]any {
	m := make(map[string]any, len(o))
	for _, f := range o {
		m[f.Name] = f.Value
	}
	return m
}

// MarshalJSON encodes the outputs as a JSON object in declaration order.
func (o Outputs) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, err := renderJSON.Marshal(f.Name)
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		v, err := marshalValue(f.Value)
		if err != nil {
			return nil, fmt.Errorf("detect: output %s: %w", f.Name, err)
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// Match is what one matching event contributes to an alert.
type Match struct {
	Rule        *Rule
	Title       string
	Dedup       string
	Severity    Severity
	Outputs     Outputs
	Description string // the rule's, or its AlertDescription rendered
	Reference   string
	Runbook     string
}

// Outputs returns the rule's output values for event, computed whether or
// not the event matches. Missing data gives nil values, never errors; an
// expression that fails returns an *EvalError.
func (r *Rule) Outputs(event any) (_ map[string]any, err error) {
	c, env, err := r.prepare(event)
	if err != nil {
		return nil, err
	}
	_, decoded := rawJSON(event)
	var at evalAt
	defer r.recoverAt(&err, &at)
	out, err := r.outputs(c, env, decoded, &at)
	if err != nil {
		return nil, err
	}
	return out.Map(), nil
}

// AlertTitle returns the alert title for event: the rule's Title template
// rendered, else its DisplayName, else its ID.
func (r *Rule) AlertTitle(event any) (_ string, err error) {
	c, env, err := r.prepare(event)
	if err != nil {
		return "", err
	}
	var at evalAt
	defer r.recoverAt(&err, &at)
	return r.title(c, env, &at)
}

// Dedup returns the dedup string for event (see Rule.GroupBy).
func (r *Rule) Dedup(event any) (_ string, err error) {
	c, env, err := r.prepare(event)
	if err != nil {
		return "", err
	}
	var at evalAt
	defer r.recoverAt(&err, &at)
	title, err := r.title(c, env, &at)
	if err != nil {
		return "", err
	}
	return r.dedup(c, env, title, &at)
}

// AlertSeverity returns the severity of an alert for event: that of the
// first DynamicSeverity whose condition holds, else the rule's.
func (r *Rule) AlertSeverity(event any) (_ Severity, err error) {
	c, env, err := r.prepare(event)
	if err != nil {
		return 0, err
	}
	var at evalAt
	defer r.recoverAt(&err, &at)
	return r.severity(c, env, &at)
}

func (r *Rule) prepare(event any) (*compiledRule, evalEnv, error) {
	c, err := r.compiled()
	if err != nil {
		return nil, evalEnv{}, err
	}
	env, err := eventMap(event)
	if err != nil {
		return nil, evalEnv{}, err
	}
	return c, mapEnv(env), nil
}

// alertFields computes what a match contributes to an alert. decoded
// tells that env was decoded from JSON by detect, so that the values read
// from it need no check that an alert can carry them. Like the other
// functions that evaluate a rule's expressions, it leaves panics to the
// caller's recoverAt, telling it in at which expression runs.
func (r *Rule) alertFields(c *compiledRule, env evalEnv, decoded bool, at *evalAt) (*Match, error) {
	m, outs := newMatch(len(c.fields))
	*m = Match{Rule: r, Description: r.Description, Reference: r.Reference, Runbook: r.Runbook}
	var err error
	if m.Title, err = r.title(c, env, at); err != nil {
		return nil, err
	}
	if m.Dedup, err = r.dedup(c, env, m.Title, at); err != nil {
		return nil, err
	}
	if m.Severity, err = r.severity(c, env, at); err != nil {
		return nil, err
	}
	if m.Outputs, err = r.outputsInto(outs, c, env, decoded, at); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		part string
		tpl  *template
		dst  *string
	}{
		{"description", c.description, &m.Description},
		{"reference", c.reference, &m.Reference},
		{"runbook", c.runbook, &m.Runbook},
	} {
		if t.tpl == nil {
			continue
		}
		s, err := r.renderTemplate(t.part, t.tpl, env, at)
		if err != nil {
			return nil, err
		}
		if s != "" {
			*t.dst = s
		}
	}
	return m, nil
}

// matchWith is a Match with room for its outputs, allocated at once.
type matchWith[A any] struct {
	m    Match
	outs A
}

// newMatch returns a new Match and an empty slice with room for n
// outputs, in one allocation when n is small: a match is kept with its
// outputs.
func newMatch(n int) (*Match, Outputs) {
	switch n {
	case 0:
		return new(Match), Outputs{}
	case 1:
		x := new(matchWith[[1]Output])
		return &x.m, x.outs[:0:n]
	case 2:
		x := new(matchWith[[2]Output])
		return &x.m, x.outs[:0:n]
	case 3:
		x := new(matchWith[[3]Output])
		return &x.m, x.outs[:0:n]
	case 4:
		x := new(matchWith[[4]Output])
		return &x.m, x.outs[:0:n]
	case 5:
		x := new(matchWith[[5]Output])
		return &x.m, x.outs[:0:n]
	case 6:
		x := new(matchWith[[6]Output])
		return &x.m, x.outs[:0:n]
	case 7, 8:
		x := new(matchWith[[8]Output])
		return &x.m, x.outs[:0:n]
	}
	return new(Match), make(Outputs, 0, n)
}

// matchFields is alertFields for an event that needs no check, with a
// recoverAt of its own.
func (r *Rule) matchFields(c *compiledRule, env evalEnv) (m *Match, err error) {
	var at evalAt
	defer r.recoverAt(&err, &at)
	return r.alertFields(c, env, false, &at)
}

// outputs computes the rule's outputs. When env was decoded from JSON by
// detect, an output made only of the event's values (a field, an object
// of fields) holds decoded JSON, which an alert can always carry: it is
// not checked again.
func (r *Rule) outputs(c *compiledRule, env evalEnv, decoded bool, at *evalAt) (Outputs, error) {
	return r.outputsInto(make(Outputs, 0, len(c.fields)), c, env, decoded, at)
}

// outputsInto is outputs appended to out.
func (r *Rule) outputsInto(out Outputs, c *compiledRule, env evalEnv, decoded bool, at *evalAt) (Outputs, error) {
	for i := range c.fields {
		f := &c.fields[i]
		at.set(f.part, f.prog.source)
		v, err := f.prog.run(env)
		if err == nil && !(decoded && f.prog.plain) {
			err = checkValue(v)
		}
		if err != nil {
			return nil, r.evalError(f.part, f.prog.source, err)
		}
		out = append(out, Output{Name: f.name, Value: v})
	}
	return out, nil
}

// renderTemplate renders one of the rule's templates: its title,
// description, reference or runbook.
func (r *Rule) renderTemplate(part string, t *template, env evalEnv, at *evalAt) (string, error) {
	at.set(part, t.source)
	s, err := t.render(env)
	if err != nil {
		return "", r.evalError(part, t.source, err)
	}
	return s, nil
}

// defaultTitle is Panther's title when a rule has no title function.
func (r *Rule) defaultTitle() string {
	if r.DisplayName != "" {
		return r.DisplayName
	}
	return r.ID
}

func (r *Rule) title(c *compiledRule, env evalEnv, at *evalAt) (string, error) {
	if c.title == nil {
		return truncate(r.defaultTitle()), nil
	}
	s, err := r.renderTemplate("title", c.title, env, at)
	if err != nil {
		return "", err
	}
	if s == "" {
		return truncate(r.defaultTitle()), nil
	}
	return truncate(s), nil
}

func (r *Rule) dedup(c *compiledRule, env evalEnv, title string, at *evalAt) (string, error) {
	if len(c.groupBy) > 0 {
		var one [1]string
		parts := one[:]
		if len(c.groupBy) > 1 {
			parts = make([]string, len(c.groupBy))
		}
		empty := true
		for i, p := range c.groupBy {
			at.set(c.groupParts[i], p.source)
			v, err := p.run(env)
			if err == nil {
				parts[i], err = renderValue(v)
			}
			if err != nil {
				return "", r.evalError(at.part, p.source, err)
			}
			empty = empty && parts[i] == ""
		}
		if !empty {
			return truncate(strings.Join(parts, ":")), nil
		}
	}
	if c.title != nil && title != "" {
		return title, nil
	}
	return truncate("defaultDedupString:" + r.ID), nil
}

// groupByPart names the expression i of n group-by expressions.
func groupByPart(i, n int) string {
	if n > 1 {
		return fmt.Sprintf("group by %d", i+1)
	}
	return "group by"
}

func (r *Rule) severity(c *compiledRule, env evalEnv, at *evalAt) (Severity, error) {
	for _, s := range c.severities {
		at.set(s.part, s.cond.source)
		ok, err := s.cond.runBool(env)
		if err != nil {
			return 0, r.evalError(s.part, s.cond.source, err)
		}
		if ok {
			return s.to, nil
		}
	}
	return r.Severity, nil
}

// truncate cuts s to MaxDedupLength characters.
func truncate(s string) string {
	if len(s) <= MaxDedupLength {
		return s
	}
	n := 0
	for i := range s {
		if n == MaxDedupLength {
			return s[:i]
		}
		n++
	}
	return s
}

var renderJSON = jsoniter.Config{SortMapKeys: true, EscapeHTML: false}.Froze()

// renderValue formats a value the way title placeholders and group-by
// values show it: strings as they are, whole numbers without exponent,
// other numbers in shortest form, nil (a nil pointer too) as nothing,
// values with a String method by it, lists and maps as compact JSON. A
// value that JSON cannot encode (a channel, a function, a cycle) is an
// error.
func renderValue(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return formatFloat(x), nil
	case []byte:
		return string(x), nil
	}
	if f, ok := toFloat(v); ok {
		return formatFloat(f), nil
	}
	if isNilPointer(v) {
		return "", nil
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String(), nil
	}
	if err := checkValue(v); err != nil {
		return "", err
	}
	b, err := marshalValue(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// checkValue returns an error when v, an output or a rendered value, is
// not one that an alert can carry as JSON. Values read from events always
// can; values made by custom functions may not.
func checkValue(v any) error {
	if plainValue(v, 0) {
		return nil
	}
	// json-iterator, which encodes alerts, would recurse without end on a
	// cycle: look for one first.
	if err := acyclic(reflect.ValueOf(v), 0); err != nil {
		return fmt.Errorf("value of type %s cannot be encoded: %w", typeName(v), err)
	}
	if _, err := marshalValue(v); err != nil {
		return fmt.Errorf("value of type %s cannot be encoded: %w", typeName(v), err)
	}
	return nil
}

// maxValueDepth bounds the nesting of a value that custom functions
// return; deeper is taken for a cycle.
const maxValueDepth = 1000

// acyclic returns an error when v nests deeper than maxValueDepth, or
// holds a channel, a function or another value that JSON cannot encode.
func acyclic(v reflect.Value, depth int) error {
	if depth > maxValueDepth {
		return fmt.Errorf("nested deeper than %d levels, or a cycle", maxValueDepth)
	}
	switch v.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
		return fmt.Errorf("unsupported type %s", v.Type())
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return acyclic(v.Elem(), depth+1)
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := acyclic(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			// A key of an interface type holding nil, as groupBy makes
			// of elements whose key is nil, has no JSON name.
			if k := iter.Key(); k.Kind() == reflect.Interface && k.IsNil() {
				return errors.New("a map key is nil")
			}
			if err := acyclic(iter.Value(), depth+1); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() && f.Tag.Get("json") != "-" {
				if err := acyclic(v.Field(i), depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// plainValue reports whether v holds only the types of decoded JSON, no
// deeper than a decoded event may be.
func plainValue(v any, depth int) bool {
	switch x := v.(type) {
	case nil, string, bool, int, float64:
		return true
	case []any:
		return plainValues(slices.Values(x), depth)
	case map[string]any:
		return plainValues(maps.Values(x), depth)
	}
	return false
}

// plainValues reports whether the elements of a list or map at depth are
// all plain values.
func plainValues(elems iter.Seq[any], depth int) bool {
	if depth >= MaxDepth {
		return false
	}
	for e := range elems {
		if !plainValue(e, depth+1) {
			return false
		}
	}
	return true
}

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// marshalValue encodes an expression value as compact JSON. Numbers that
// JSON cannot hold (NaN, infinities) become strings rather than failing.
func marshalValue(v any) ([]byte, error) {
	safe, _ := jsonSafe(v, 0)
	return renderJSON.Marshal(safe)
}

// jsonSafe replaces the numbers that JSON cannot hold with strings, and
// reports whether it changed anything. It goes no deeper than a decoded
// event may be: deeper values come from custom functions, and may be
// cycles.
func jsonSafe(v any, depth int) (any, bool) {
	if depth > MaxDepth {
		return v, false
	}
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return formatFloat(x), true
		}
	case []any:
		var out []any
		for i, e := range x {
			s, changed := jsonSafe(e, depth+1)
			if changed && out == nil {
				out = append(make([]any, 0, len(x)), x[:i]...)
			}
			if out != nil {
				out = append(out, s)
			}
		}
		if out != nil {
			return out, true
		}
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			s, changed := jsonSafe(e, depth+1)
			if changed && out == nil {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
			}
			if out != nil {
				out[k] = s
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

// template is a compiled title-like template: text with {expression}
// placeholders, "{{" and "}}" standing for literal braces.
type template struct {
	source string
	parts  []templatePart
}

type templatePart struct {
	text string
	prog *program // nil for literal text
}

func (t *template) render(env evalEnv) (string, error) {
	if len(t.parts) == 1 && t.parts[0].prog == nil {
		return t.parts[0].text, nil
	}
	// Rendered on the stack, then copied into one allocation of the exact
	// length: the title is kept with every alert.
	var stack [256]byte
	b := stack[:0]
	for _, p := range t.parts {
		if p.prog == nil {
			b = append(b, p.text...)
			continue
		}
		v, err := p.prog.run(env)
		var s string
		if err == nil {
			s, err = renderValue(v)
		}
		if err != nil {
			return "", err
		}
		b = append(b, s...)
	}
	return string(b), nil
}

// compileTemplate parses and compiles a template; an empty source gives a
// nil template.
func (r *Rule) compileTemplate(part, source string, funcs *Functions, lim Limits) (*template, error) {
	if source == "" {
		return nil, nil
	}
	t := &template{source: source}
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			t.parts = append(t.parts, templatePart{text: text.String()})
			text.Reset()
		}
	}
	for i := 0; i < len(source); {
		c := source[i]
		switch {
		case c == '{' && i+1 < len(source) && source[i+1] == '{':
			text.WriteByte('{')
			i += 2
		case c == '}' && i+1 < len(source) && source[i+1] == '}':
			text.WriteByte('}')
			i += 2
		case c == '}':
			return nil, templateError(r.ID, part, source, i, `unmatched "}" (write "}}" for a literal brace)`)
		case c == '{':
			end, ok := placeholderEnd(source, i+1)
			if !ok {
				return nil, templateError(r.ID, part, source, i, `unclosed "{" (write "{{" for a literal brace)`)
			}
			inner := source[i+1 : end]
			if strings.TrimSpace(inner) == "" {
				return nil, templateError(r.ID, part, source, i, "empty placeholder {}")
			}
			p, e := compileCached(inner, kindValue, funcs, lim)
			if e != nil {
				ce := e.forRule(r.ID, part, source)
				ce.shift(source, i+1, inner)
				return nil, ce
			}
			flush()
			t.parts = append(t.parts, templatePart{prog: p})
			i = end + 1
		default:
			text.WriteByte(c)
			i++
		}
	}
	flush()
	if len(t.parts) == 0 {
		t.parts = []templatePart{{text: ""}}
	}
	return t, nil
}

// placeholderEnd finds the "}" that closes a placeholder starting at i,
// skipping braces inside string literals and nested maps.
func placeholderEnd(s string, i int) (int, bool) {
	depth := 0
	for i < len(s) {
		switch c := s[i]; c {
		case '"', '\'', '`':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			i = j + 1
			continue
		case '{':
			depth++
		case '}':
			if depth == 0 {
				return i, true
			}
			depth--
		}
		i++
	}
	return 0, false
}

func templateError(ruleID, part, source string, offset int, msg string) *CompileError {
	line, col := position(source, offset)
	return &CompileError{RuleID: ruleID, Part: part, Expr: source, Line: line, Column: col, Msg: msg}
}

// position converts a byte offset in s to a 1-based line and column, the
// column counted in characters.
func position(s string, offset int) (line, col int) {
	line, col = 1, 1
	for i, r := range s {
		if i >= offset {
			break
		}
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// offsetOf converts a 1-based line and column in s into a byte offset.
func offsetOf(s string, line, col int) int {
	l, c := 1, 1
	for i, r := range s {
		if l == line && c == col {
			return i
		}
		if r == '\n' {
			l++
			c = 1
		} else {
			c++
		}
	}
	return len(s)
}
