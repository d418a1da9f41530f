package detect

import (
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"
)

// DefaultDedupPeriod is the dedup period of a rule that sets none, as in
// Panther.
const DefaultDedupPeriod = 60 * time.Minute

// Rule is a detection rule: a condition over one event, and how its matches
// become alerts. Rules are data; build them as Go values or load them from
// Panther-style YAML files.
//
// Expressions are compiled on first use (or by Compile) into programs that
// are cached process-wide: rules with the same expression share one program.
// A Rule is safe for concurrent use by multiple goroutines. Its fields must
// not be changed after its first use: a copy of a used Rule shares its
// compiled expressions, so change the fields of a fresh Rule, or call
// Compile again after changing them.
type Rule struct {
	ID          string // unique rule ID, e.g. "Wiz.Revoke.User.Sessions"
	DisplayName string // human name; the default alert title
	Description string
	Runbook     string
	Reference   string
	// Disabled rules are loaded but never alert.
	Disabled bool
	// LogTypes lists the log types the rule applies to, e.g. "Wiz.Audit".
	LogTypes []string
	// Severity is the alert severity unless a DynamicSeverity changes it.
	Severity Severity
	// Reports maps a framework to its entries, e.g. "MITRE ATT&CK" to
	// "TA0040:T1531".
	Reports map[string][]string
	Tags    []string

	// Condition is an expression that must be true for an event to match.
	Condition string

	// Title is the alert title template: text with {expression}
	// placeholders. Empty means DisplayName, else ID.
	Title string
	// GroupBy expressions form the alert's dedup string, joined with ":".
	// Empty means the rendered title if Title is set, else
	// "defaultDedupString:<ID>".
	GroupBy []string
	// Fields are the outputs an alert carries, in order.
	Fields []Field
	// DynamicSeverities change the severity of an alert: the first whose
	// condition holds wins.
	DynamicSeverities []DynamicSeverity
	// AlertDescription, AlertReference and AlertRunbook are templates like
	// Title that give each alert its own description, reference and runbook;
	// empty means the rule's.
	AlertDescription string
	AlertReference   string
	AlertRunbook     string

	// DedupPeriod groups matches with the same dedup string into one
	// alert; zero means DefaultDedupPeriod.
	DedupPeriod time.Duration
	// Threshold is how many matches a dedup group needs within its period
	// before it becomes an alert; zero means 1.
	Threshold int
	// SuppressAlerts keeps the rule's matches out of alerts (Panther's
	// CreateAlert: false); Match and Evaluate still report them.
	SuppressAlerts bool

	// Tests are the rule's unit tests, run by RunTests.
	Tests []Test

	// Extra keeps rule-file keys that do not change evaluation (Panther's
	// SummaryAttributes, OutputIds, Status...).
	Extra map[string]any

	// Source is where the rule was loaded from, if from a file.
	Source string

	// state is the compiled rule, a *ruleState accessed atomically. It is
	// not an atomic.Pointer so that Rule values can be copied before use
	// (tables of rules in tests, say): a copy shares the immutable compiled
	// state.
	state unsafe.Pointer
}

// Field is one output of a rule: a name and the expression that computes
// its value.
type Field struct {
	Name string
	Expr string
}

// DynamicSeverity sets an alert's severity to ChangeTo when Condition holds.
type DynamicSeverity struct {
	ChangeTo  Severity
	Condition string
}

type ruleState struct {
	funcs *Functions
	c     *compiledRule
	err   error
}

// compiledRule holds a rule's compiled expressions.
type compiledRule struct {
	reads       *fieldSet // top-level fields any expression reads; nil: any
	condition   *program
	title       *template
	groupBy     []*program
	groupParts  []string // the part of each of groupBy, for errors
	fields      []compiledField
	severities  []compiledSeverity
	description *template
	reference   *template
	runbook     *template
	// onSlots tells that the rule's expressions may run on raw JSON
	// decoded into slots (see slots): they read few fields, and each
	// runs without expr's VM, which needs a map. condOnSlots is onSlots
	// for the condition alone.
	onSlots, condOnSlots bool
	// objects and condObjects hold, for each slot (in the order of reads,
	// and of condition.reads) whose field every expression of the rule,
	// or the condition, only lends, the keys they read from it (see
	// lentFields); nil for the others.
	objects, condObjects *[maxSlots]*fieldSet
}

type compiledField struct {
	name string
	part string // "output name", for errors
	prog *program
}

type compiledSeverity struct {
	to   Severity
	part string // "dynamic severity n", for errors
	cond *program
}

// Option configures how a rule is compiled.
type Option func(*options)

type options struct {
	funcs  *Functions
	limits Limits
}

// WithFunctions lets the rule's expressions call the functions in fs.
func WithFunctions(fs *Functions) Option {
	return func(o *options) { o.funcs = fs }
}

// Limits bound what a rule's expressions may do. A zero field means its
// default: the package constant of the same name.
type Limits struct {
	// MaxEvalCost is the budget of one evaluation of an expression, in
	// steps (see the constant MaxEvalCost).
	MaxEvalCost int
	// MaxEvalMemory is expr's memory budget of one evaluation, in
	// elements of the arrays, maps and ranges it builds (see the
	// constant MaxEvalMemory).
	MaxEvalMemory int
	// MaxNodes is the largest expression, in syntax tree nodes with
	// definitions inlined (see the constant MaxNodes).
	MaxNodes int
}

// withDefaults returns l with each zero field set to its default.
func (l Limits) withDefaults() Limits {
	if l.MaxEvalCost <= 0 {
		l.MaxEvalCost = MaxEvalCost
	}
	if l.MaxEvalMemory <= 0 {
		l.MaxEvalMemory = MaxEvalMemory
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = MaxNodes
	}
	return l
}

// WithLimits sets the limits of the rule's expressions; without it, each
// is its package constant.
func WithLimits(l Limits) Option {
	return func(o *options) { o.limits = l }
}

// Compile compiles every expression of r and returns r, or the first
// error with the rule ID, the expression and its line:column. Compiling is
// optional: a rule compiles itself on first use, with no custom functions.
func Compile(r *Rule, opts ...Option) (*Rule, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	st := r.build(o.funcs, o.limits.withDefaults())
	atomic.StorePointer(&r.state, unsafe.Pointer(st))
	if st.err != nil {
		return nil, st.err
	}
	return r, nil
}

// MustCompile is like Compile but panics if the rule does not compile. It
// simplifies safe initialization of package variables holding rules.
func MustCompile(r *Rule, opts ...Option) *Rule {
	c, err := Compile(r, opts...)
	if err != nil {
		panic(fmt.Sprintf("detect: MustCompile(%s): %v", r.ID, err))
	}
	return c
}

// compiled returns the rule's compiled form, compiling it on first use.
func (r *Rule) compiled() (*compiledRule, error) {
	st := (*ruleState)(atomic.LoadPointer(&r.state))
	if st == nil {
		// Racing first uses compile the same cached programs; the first
		// to store wins and the others use its result.
		atomic.CompareAndSwapPointer(&r.state, nil, unsafe.Pointer(r.build(nil, Limits{}.withDefaults())))
		st = (*ruleState)(atomic.LoadPointer(&r.state))
	}
	return st.c, st.err
}

// build compiles every expression of the rule.
func (r *Rule) build(funcs *Functions, lim Limits) *ruleState {
	c := &compiledRule{}
	fail := func(err error) *ruleState { return &ruleState{funcs: funcs, err: err} }
	if r.DedupPeriod < 0 {
		return fail(&CompileError{RuleID: r.ID, Part: "dedup period", Msg: fmt.Sprintf("dedup period %v is negative", r.DedupPeriod)})
	}
	if r.Threshold < 0 {
		return fail(&CompileError{RuleID: r.ID, Part: "threshold", Msg: fmt.Sprintf("threshold %d is negative", r.Threshold)})
	}
	if r.Severity == 0 {
		return fail(&CompileError{RuleID: r.ID, Part: "severity", Msg: "no severity: set Severity (SeverityInfo to SeverityCritical), as rule files must"})
	}
	if !r.Severity.valid() {
		return fail(&CompileError{RuleID: r.ID, Part: "severity", Msg: fmt.Sprintf("invalid severity %d", int(r.Severity))})
	}
	var err error
	if c.condition, err = r.compileExpr("condition", r.Condition, kindBool, funcs, lim); err != nil {
		return fail(err)
	}
	if c.title, err = r.compileTemplate("title", r.Title, funcs, lim); err != nil {
		return fail(err)
	}
	if c.description, err = r.compileTemplate("description", r.AlertDescription, funcs, lim); err != nil {
		return fail(err)
	}
	if c.reference, err = r.compileTemplate("reference", r.AlertReference, funcs, lim); err != nil {
		return fail(err)
	}
	if c.runbook, err = r.compileTemplate("runbook", r.AlertRunbook, funcs, lim); err != nil {
		return fail(err)
	}
	for i, g := range r.GroupBy {
		part := groupByPart(i, len(r.GroupBy))
		p, err := r.compileExpr(part, g, kindValue, funcs, lim)
		if err != nil {
			return fail(err)
		}
		c.groupBy, c.groupParts = append(c.groupBy, p), append(c.groupParts, part)
	}
	seen := map[string]bool{}
	for _, f := range r.Fields {
		if f.Name == "" {
			return fail(&CompileError{RuleID: r.ID, Part: "output", Expr: f.Expr, Msg: "output has no name"})
		}
		if seen[f.Name] {
			return fail(&CompileError{RuleID: r.ID, Part: "output " + f.Name, Expr: f.Expr, Msg: "output is defined twice"})
		}
		seen[f.Name] = true
		p, err := r.compileExpr("output "+f.Name, f.Expr, kindValue, funcs, lim)
		if err != nil {
			return fail(err)
		}
		c.fields = append(c.fields, compiledField{name: f.Name, part: "output " + f.Name, prog: p})
	}
	for i, d := range r.DynamicSeverities {
		if !d.ChangeTo.valid() {
			return fail(&CompileError{RuleID: r.ID, Part: fmt.Sprintf("dynamic severity %d", i+1), Msg: fmt.Sprintf("invalid severity %d", int(d.ChangeTo))})
		}
		part := fmt.Sprintf("dynamic severity %d", i+1)
		p, err := r.compileExpr(part, d.Condition, kindBool, funcs, lim)
		if err != nil {
			return fail(err)
		}
		c.severities = append(c.severities, compiledSeverity{to: d.ChangeTo, part: part, cond: p})
	}
	c.reads = c.fieldsRead()
	c.condOnSlots = slotted(c.condition.reads) && c.condition.withoutVM()
	c.onSlots = slotted(c.reads)
	for _, p := range c.programs() {
		c.onSlots = c.onSlots && p.withoutVM()
	}
	if c.onSlots {
		c.objects = lentFields(c.reads, c.programs())
	}
	if c.condOnSlots {
		c.condObjects = lentFields(c.condition.reads, []*program{c.condition})
	}
	return &ruleState{funcs: funcs, c: c}
}

// programs returns every program of the rule.
func (c *compiledRule) programs() []*program {
	progs := []*program{c.condition}
	for _, t := range []*template{c.title, c.description, c.reference, c.runbook} {
		if t != nil {
			for _, p := range t.parts {
				if p.prog != nil {
					progs = append(progs, p.prog)
				}
			}
		}
	}
	progs = append(progs, c.groupBy...)
	for _, f := range c.fields {
		progs = append(progs, f.prog)
	}
	for _, s := range c.severities {
		progs = append(progs, s.cond)
	}
	return progs
}

// fieldsRead is the union of the top-level fields that the rule's
// expressions read.
func (c *compiledRule) fieldsRead() *fieldSet {
	var sets []*fieldSet
	for _, p := range c.programs() {
		sets = append(sets, p.reads)
	}
	return union(sets...)
}

func (r *Rule) compileExpr(part, source string, kind exprKind, funcs *Functions, lim Limits) (*program, error) {
	if source == "" {
		return nil, &CompileError{RuleID: r.ID, Part: part, Msg: "expression is empty"}
	}
	p, e := compileCached(source, kind, funcs, lim)
	if e != nil {
		return nil, e.forRule(r.ID, part, source)
	}
	return p, nil
}

// Evaluate reports whether event matches the rule's condition. The event
// is a map[string]any, a JSON object as []byte, json.RawMessage or string,
// an *Event, or any value that encodes to a JSON object. An event that is
// not a JSON object (an array, a scalar, null, empty or truncated input)
// returns a *SyntaxError; a condition that fails on the event returns an
// *EvalError naming the rule.
//
// Raw JSON that cannot match, because it lacks the literals the condition
// requires, is rejected without being decoded or evaluated, so a syntax
// error inside such an object, or a rule error that evaluating it would
// raise (a string predicate on an object, say), may go unreported; a
// match never is. Use ParseEvent to validate an event.
func (r *Rule) Evaluate(event any) (bool, error) {
	c, err := r.compiled()
	if err != nil {
		return false, err
	}
	if raw, ok := rawJSON(event); ok {
		if _, isEvent := event.(*Event); !isEvent {
			return r.EvaluateJSON(raw)
		}
		if !c.condition.filter.mayMatch(raw) {
			return false, nil
		}
	}
	env, err := eventMap(event)
	if err != nil {
		return false, err
	}
	return r.match(c, mapEnv(env))
}

// EvaluateJSON is Evaluate for one JSON object. Taking the bytes as they
// are, it avoids the allocation of passing them as an interface value.
func (r *Rule) EvaluateJSON(data []byte) (bool, error) {
	c, err := r.compiled()
	if err != nil {
		return false, err
	}
	if rejected, err := c.rejects(data); rejected {
		return false, err
	}
	env, err := decodeEnv(data, c.condition.reads, c.condOnSlots, c.condObjects)
	if err != nil {
		return false, err
	}
	ok, err := r.match(c, env)
	env.release(c.condition.reads)
	return ok, err
}

// rejects reports whether the condition's prefilter rules raw out without
// decoding it; the error tells, then, that raw is not even shaped like an
// object.
func (c *compiledRule) rejects(raw []byte) (bool, error) {
	if c.condition.filter.mayMatch(raw) {
		return false, nil
	}
	if !looksLikeObject(raw) {
		_, err := decodeObject(raw)
		return true, err
	}
	return true, nil
}

func (r *Rule) match(c *compiledRule, env evalEnv) (ok bool, err error) {
	var at evalAt
	defer r.recoverAt(&err, &at)
	return r.cond(c, env, &at)
}

// cond evaluates the rule's condition, leaving panics to the caller's
// recoverAt.
func (r *Rule) cond(c *compiledRule, env evalEnv, at *evalAt) (bool, error) {
	at.set("condition", c.condition.source)
	ok, err := c.condition.runBool(env)
	if err != nil {
		return false, r.evalError("condition", c.condition.source, err)
	}
	return ok, nil
}

// evalAt names the expression of a rule that runs, so that one deferred
// recoverAt can report a panic in any of the expressions that a call
// evaluates: expressions run code that detect does not control (functions
// registered by users), and a panic there must not take the process down.
type evalAt struct {
	part, source string
}

func (at *evalAt) set(part, source string) { at.part, at.source = part, source }

// recoverAt, deferred, turns a panic in the evaluation of the expression
// that at names into an *EvalError in *err.
func (r *Rule) recoverAt(err *error, at *evalAt) {
	if p := recover(); p != nil {
		*err = r.evalError(at.part, at.source, fmt.Errorf("panic: %v", p))
	}
}

// Match evaluates the rule on event and, when it matches, computes
// everything an alert needs from it: title, dedup string, severity,
// outputs, and the per-alert description, reference and runbook. It
// returns nil and no error when the event does not match.
//
// Match reads raw JSON once, for all of these; Evaluate, Outputs and
// AlertTitle called one after the other each read it again (unless the
// event is an *Event from ParseEvent, decoded once and for all). For
// bytes held as a []byte, MatchJSON does the same without boxing them in
// an interface.
func (r *Rule) Match(event any) (*Match, error) {
	c, err := r.compiled()
	if err != nil {
		return nil, err
	}
	raw, decoded := rawJSON(event)
	if !decoded {
		m, err := eventMap(event)
		if err != nil {
			return nil, err
		}
		return r.matchEnv(c, mapEnv(m), false)
	}
	ev, isEvent := event.(*Event)
	if !isEvent {
		return r.matchJSON(c, raw)
	}
	if !c.condition.filter.mayMatch(raw) {
		return nil, nil
	}
	return r.matchEnv(c, mapEnv(ev.fields), true)
}

// MatchJSON is Match for one JSON object. Taking the bytes as they are, it
// avoids the allocation of passing them as an interface value.
func (r *Rule) MatchJSON(data []byte) (*Match, error) {
	c, err := r.compiled()
	if err != nil {
		return nil, err
	}
	return r.matchJSON(c, data)
}

// matchJSON is Match on raw JSON.
func (r *Rule) matchJSON(c *compiledRule, raw []byte) (*Match, error) {
	if rejected, err := c.rejects(raw); rejected {
		return nil, err
	}
	env, err := decodeEnv(raw, c.reads, c.onSlots, c.objects)
	if err != nil {
		return nil, err
	}
	m, err := r.matchEnv(c, env, true)
	env.release(c.reads)
	return m, err
}

// matchEnv is Match on an event decoded into env; decoded tells that
// detect decoded it from JSON.
func (r *Rule) matchEnv(c *compiledRule, env evalEnv, decoded bool) (m *Match, err error) {
	var at evalAt
	defer r.recoverAt(&err, &at)
	ok, err := r.cond(c, env, &at)
	if err != nil || !ok {
		return nil, err
	}
	return r.alertFields(c, env, decoded, &at)
}
