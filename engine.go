package detect

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// defaultTimeFields are the event fields that give an event its time
// unless WithTimeFields says otherwise: Panther's normalised event time,
// then a common raw one.
var defaultTimeFields = []string{"p_event_time", "timestamp"}

// LogTypeField is the event field that names its log type, as in Panther.
const LogTypeField = "p_log_type"

// Engine runs many rules over a stream of events and turns their matches
// into alerts. Each event goes to the enabled rules for its log type; each
// match, and each failure of a rule on an event, is counted by a Deduper;
// and every finished alert is handed to the AlertSink given with WithSink.
//
// Alerts are finished when their dedup window closes: as the observed time
// (the latest event time seen, or a time given to Advance) passes its end,
// or at Flush, which a caller calls at the end of its input. Until then
// an alert's event count may still grow.
//
// An Engine is safe for concurrent use by multiple goroutines. Its sink is
// never called concurrently.
type Engine struct {
	all     *ruleSet            // enabled rules, in the order given
	byType  map[string]*ruleSet // log type to its rules, untyped ones included
	untyped *ruleSet            // enabled rules without LogTypes

	dedup      Deduper
	sink       AlertSink
	sinkMu     sync.Mutex
	timeFields [][]string
	clock      func() time.Time

	observed atomic.Int64 // latest time observed, Unix nanoseconds

	// headFields are the top-level fields Process reads before routing:
	// the log type, the time fields and the fields the indexes look up.
	headFields *fieldSet

	events, matches, suppressed, ruleErrors, alerts atomic.Uint64
}

// EngineOption configures an Engine.
type EngineOption func(*engineConfig)

type engineConfig struct {
	sink          AlertSink
	dedup         Deduper
	dedupSet      bool
	maxGroups     int
	maxGroupsSet  bool
	timeFields    []string
	timeFieldsSet bool
	clock         func() time.Time
	clockSet      bool
}

// WithSink sets where finished alerts go; an Engine needs one.
func WithSink(s AlertSink) EngineOption {
	return func(c *engineConfig) { c.sink = s }
}

// WithDeduper replaces the in-memory deduper, e.g. with a shared store; d
// must be safe for concurrent use.
func WithDeduper(d Deduper) EngineOption {
	return func(c *engineConfig) { c.dedup, c.dedupSet = d, true }
}

// WithMaxGroups sets how many dedup groups the in-memory deduper keeps
// (default DefaultMaxGroups); see DedupTable for what happens when full.
func WithMaxGroups(n int) EngineOption {
	return func(c *engineConfig) { c.maxGroups, c.maxGroupsSet = n, true }
}

// WithTimeFields sets the fields, tried in order, that give an event its
// time (default "p_event_time", then "timestamp"); a dotted name reads a
// nested field, and no fields at all means always using the clock.
func WithTimeFields(fields ...string) EngineOption {
	return func(c *engineConfig) {
		c.timeFields, c.timeFieldsSet = append([]string(nil), fields...), true
	}
}

// WithClock sets the clock that times events without a usable time field
// (default time.Now).
func WithClock(now func() time.Time) EngineOption {
	return func(c *engineConfig) { c.clock, c.clockSet = now, true }
}

// NewEngine returns an Engine running rules, configured by opts. It
// compiles every enabled rule and returns the first compile error, and
// reports invalid options, rules without an ID and duplicate rule IDs.
// Disabled rules are skipped. The engine keeps the rules as they are
// compiled now: a rule compiled again later (with Compile) changes other
// uses of the rule, not the engine; build a new Engine to change its rules.
//
// For each log type, the engine indexes the rules whose condition tests
// an equality before anything that could fail (action == "DeleteUser",
// eventName in [...]) by the values it requires, and evaluates on an event
// the indexed rules that its values select, and the others; the results
// are those of every rule evaluated one by one.
func NewEngine(rules []*Rule, opts ...EngineOption) (*Engine, error) {
	var c engineConfig
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("detect: NewEngine: option %d is nil", i+1)
		}
		opt(&c)
	}
	e := &Engine{sink: c.sink, clock: time.Now}
	if c.sink == nil {
		return nil, errors.New("detect: NewEngine: no alert sink (use WithSink)")
	}
	switch {
	case c.dedupSet && c.dedup == nil:
		return nil, errors.New("detect: NewEngine: WithDeduper(nil)")
	case c.dedupSet && c.maxGroupsSet:
		return nil, errors.New("detect: NewEngine: WithMaxGroups applies to the in-memory deduper, not to one given by WithDeduper")
	case c.dedupSet:
		e.dedup = c.dedup
	default:
		n := DefaultMaxGroups
		if c.maxGroupsSet {
			if c.maxGroups <= 0 {
				return nil, fmt.Errorf("detect: NewEngine: WithMaxGroups(%d): must be positive", c.maxGroups)
			}
			n = c.maxGroups
		}
		d, err := NewLockedDedup(n)
		if err != nil {
			return nil, err
		}
		e.dedup = d
	}
	if c.clockSet {
		if c.clock == nil {
			return nil, errors.New("detect: NewEngine: WithClock(nil)")
		}
		e.clock = c.clock
	}
	fields := defaultTimeFields
	if c.timeFieldsSet {
		fields = c.timeFields
	}
	for _, f := range fields {
		path := strings.Split(f, ".")
		for _, p := range path {
			if p == "" {
				return nil, fmt.Errorf("detect: NewEngine: invalid time field %q", f)
			}
		}
		e.timeFields = append(e.timeFields, path)
	}
	e.headFields = newFieldSet(LogTypeField)
	for _, path := range e.timeFields {
		e.headFields = union(e.headFields, newFieldSet(path[0]))
	}
	if err := e.addRules(rules); err != nil {
		return nil, err
	}
	e.observed.Store(math.MinInt64)
	return e, nil
}

func (e *Engine) addRules(rules []*Rule) error {
	var all, untyped []*Rule
	byType := map[string][]*Rule{}
	ids := make(map[string]bool, len(rules))
	for i, r := range rules {
		if r == nil {
			return fmt.Errorf("detect: NewEngine: rule %d is nil", i+1)
		}
		if r.ID == "" {
			return fmt.Errorf("detect: NewEngine: rule %d has no ID", i+1)
		}
		if ids[r.ID] {
			return fmt.Errorf("detect: NewEngine: rule ID %s is used twice", r.ID)
		}
		ids[r.ID] = true
		if r.Disabled {
			continue
		}
		if _, err := r.compiled(); err != nil {
			return err
		}
		all = append(all, r)
		if len(r.LogTypes) == 0 {
			untyped = append(untyped, r)
		}
	}
	for _, r := range all {
		seen := map[string]bool{}
		for _, lt := range r.LogTypes {
			if !seen[lt] {
				seen[lt] = true
				byType[lt] = append(byType[lt], r)
			}
		}
	}
	// Rules without log types apply to events of every type.
	e.byType = make(map[string]*ruleSet, len(byType))
	for lt, rs := range byType {
		e.byType[lt] = newRuleSet(append(rs, untyped...), e.headFields)
	}
	e.all = newRuleSet(all, e.headFields)
	e.untyped = newRuleSet(untyped, e.headFields)
	// The top-level fields the indexes look up are decoded with the head,
	// so that the index selects an event's rules before the event is
	// decoded for them. A set that looks a nested field up decodes the
	// event first: decoding its outer object for every event would cost
	// more.
	sets := append(slices.Collect(maps.Values(e.byType)), e.all, e.untyped)
	var indexed []string
	for _, set := range sets {
		set.indexInHead = !slices.ContainsFunc(set.index, func(f indexedField) bool {
			_, top := f.path[0].(string)
			return len(f.path) != 1 || !top
		})
		if set.indexInHead {
			for _, f := range set.index {
				indexed = append(indexed, f.path[0].(string))
			}
		}
	}
	e.headFields = union(e.headFields, newFieldSet(indexed...))
	for _, set := range sets {
		if set.reads != nil {
			set.unread = newFieldSet()
			for _, n := range set.reads.names {
				if !contains(e.headFields.names, n) {
					set.unread.add(n)
				}
			}
		}
	}
	return nil
}

// rulesFor returns the rules for events of log type lt: those listing it
// and those listing none; every enabled rule when lt is empty.
func (e *Engine) rulesFor(lt string) *ruleSet {
	if lt == "" {
		return e.all
	}
	if rs, ok := e.byType[lt]; ok {
		return rs
	}
	return e.untyped
}

// Process decodes data, one JSON object, and processes it as ProcessEvent
// does, with the log type of its p_log_type field. Data that is not a JSON
// object returns a *SyntaxError and is not counted as an event.
func (e *Engine) Process(data []byte) error {
	ev, err := e.decodeHead(data)
	if err != nil {
		return err
	}
	return e.processHead(&ev, "")
}

// decodeHead checks the syntax of data, one JSON object, and decodes only
// what the engine reads before routing: the log type, the time and the
// top-level fields its indexes look up. The rest is decoded once, for the
// fields the event's rules read, when the index or a rule's prefilter lets
// the event through. A syntax error is a *SyntaxError.
func (e *Engine) decodeHead(data []byte) (Event, error) {
	head, err := decodeTransient(data, e.headFields)
	if err != nil {
		return Event{}, err
	}
	return Event{fields: head, raw: data}, nil
}

// processHead processes an event from decodeHead as Process does, with
// logType if not empty, else the event's p_log_type field, and lets go of
// it.
func (e *Engine) processHead(ev *Event, logType string) error {
	if logType == "" {
		logType, _ = ev.Get(LogTypeField).(string)
	}
	err := e.process(ev, logType, ev.raw)
	releaseEnv(ev.fields, e.headFields)
	return err
}

// ProcessMap processes an already decoded event as ProcessEvent does, with
// the log type of its p_log_type field. The map must not change while it
// is processed.
func (e *Engine) ProcessMap(fields map[string]any) error {
	if fields == nil {
		return ErrNilEvent
	}
	return e.ProcessEvent(NewEvent(fields), "")
}

// ProcessEvent runs the rules for the event's log type on ev: logType if
// not empty, else the event's p_log_type field; with neither, every
// enabled rule. The event's time is that of the first time field that
// holds one, else the clock's. Each match, and each rule error
// (*EvalError), is counted by the deduper at that time, and the observed
// time moves on to it if it is later; the alerts this finished go to the
// sink.
//
// A rule that fails on the event does not stop the others; its failure
// becomes a RULE_ERROR alert. Matches and failures of rules with
// SuppressAlerts are counted but raise no alert. The error returned, if
// any, comes from the deduper or the sink.
func (e *Engine) ProcessEvent(ev *Event, logType string) error {
	if ev == nil {
		return ErrNilEvent
	}
	if logType == "" {
		logType, _ = ev.Get(LogTypeField).(string)
	}
	return e.process(ev, logType, nil)
}

// process runs the rules for logType on ev. When raw is set, ev holds only
// the head fields, and the fields the rules read are decoded from raw
// when a rule's prefilter lets the event through, or, for a set of rules
// with an index, before looking the event's values up in it.
func (e *Engine) process(ev *Event, logType string, raw []byte) error {
	t := e.eventTime(ev)
	e.events.Add(1)
	set := e.rulesFor(logType)
	filterBytes := raw
	if raw == nil {
		filterBytes = ev.raw
	}
	trusted := filterBytes != nil // values decoded by detect
	decode := func() error {
		// The rules' fields join the head's, in its pooled map, unless a
		// rule may keep the event's map: then a new one, of every field.
		into := ev.fields
		if set.reads == nil {
			into = nil
		}
		fields, err := decodeFastInto(raw, set.unread, into)
		if err != nil {
			return err
		}
		ev, raw = &Event{fields: fields, raw: raw}, nil
		return nil
	}
	var candidates bitset
	if set.index != nil {
		// The head holds the indexed fields, unless one is nested (see
		// addRules).
		if raw != nil && !set.indexInHead {
			if err := decode(); err != nil {
				return err
			}
		}
		candidates = set.candidates(ev.fields)
	}
	var (
		out  []*Alert
		errs []error
		// escaped tells whether filterBytes holds a backslash: 0 not
		// known yet, 1 no, 2 yes.
		escaped uint8
	)
	for i := range set.rules {
		sr := &set.rules[i]
		r := sr.rule
		if sr.indexed && !candidates.has(i) {
			continue
		}
		if filterBytes != nil && sr.compiled.condition.filter != nil {
			// An event that holds a backslash may hold any literal
			// escaped (see mayMatch): looked for once per event.
			if escaped == 0 {
				escaped = 1
				if bytes.IndexByte(filterBytes, '\\') >= 0 {
					escaped = 2
				}
			}
			if escaped == 1 && !sr.compiled.condition.filter.holds(filterBytes) {
				continue
			}
		}
		if raw != nil {
			if err := decode(); err != nil {
				return err
			}
		}
		h := Hit{Type: AlertRule, LogType: logType}
		m, err := r.matchEnv(sr.compiled, mapEnv(ev.fields), trusted)
		switch {
		case err != nil:
			var ee *EvalError
			if !errors.As(err, &ee) {
				errs = append(errs, err)
				continue
			}
			e.ruleErrors.Add(1)
			h.Type, h.Match = AlertRuleError, ruleErrorMatch(r, ee)
		case m == nil:
			continue
		default:
			e.matches.Add(1)
			h.Match = m
		}
		if r.SuppressAlerts {
			if h.Type == AlertRule {
				e.suppressed.Add(1)
			}
			continue
		}
		alerts, err := e.dedup.Observe(h, t)
		out = append(out, alerts...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	alerts, err := e.dedup.Advance(e.observe(t))
	out = append(out, alerts...)
	if err != nil {
		errs = append(errs, err)
	}
	if err := e.emit(out); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ruleErrorMatch is what a rule's failure contributes to its RULE_ERROR
// alert: grouped by the kind of failure, with the rule's severity and
// texts, and a title naming the expression and the error.
func ruleErrorMatch(r *Rule, ee *EvalError) *Match {
	return &Match{
		Rule:        r,
		Title:       truncate(fmt.Sprintf("Error in %s: %s `%s` failed: %s", r.ID, ee.Part, ee.Expr, ee.Msg)),
		Dedup:       truncate(ee.Kind()),
		Severity:    r.Severity,
		Description: r.Description,
		Reference:   r.Reference,
		Runbook:     r.Runbook,
	}
}

// Advance moves the observed time on to t, if t is later, and emits the
// alerts whose windows have ended by then. A service whose events carry
// their own times need not call it; one that goes quiet calls it with the
// clock so that pending alerts still go out.
func (e *Engine) Advance(t time.Time) error {
	alerts, err := e.dedup.Advance(e.observe(t))
	return errors.Join(err, e.emit(alerts))
}

// Flush closes every dedup window and emits its alert: call it at the end
// of the input. The engine remains usable; later events open new windows.
func (e *Engine) Flush() error {
	alerts, err := e.dedup.Flush()
	return errors.Join(err, e.emit(alerts))
}

// observe moves the observed time on to t and returns the observed time.
func (e *Engine) observe(t time.Time) time.Time {
	ts := unixNano(t)
	for {
		cur := e.observed.Load()
		if ts <= cur {
			return time.Unix(0, cur)
		}
		if e.observed.CompareAndSwap(cur, ts) {
			return t
		}
	}
}

// emit hands alerts to the sink, one call at a time, and returns the
// first error.
func (e *Engine) emit(alerts []*Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	e.sinkMu.Lock()
	defer e.sinkMu.Unlock()
	var first error
	for _, a := range alerts {
		e.alerts.Add(1)
		if err := e.sink.Send(a); err != nil && first == nil {
			first = fmt.Errorf("detect: alert sink: %w", err)
		}
	}
	return first
}

// EngineStats are an Engine's counters.
type EngineStats struct {
	Events  uint64 // events processed
	Matches uint64 // rule matches, those of rules with SuppressAlerts included
	// Suppressed are the matches of rules with SuppressAlerts.
	Suppressed uint64
	RuleErrors uint64 // rule evaluations that failed (*EvalError)
	Alerts     uint64 // alerts handed to the sink, RULE_ERROR ones included
	Dedup      DedupStats
}

// Stats returns the engine's counters. Under concurrent use they are read
// one by one, not as one snapshot.
func (e *Engine) Stats() EngineStats {
	return EngineStats{
		Events:     e.events.Load(),
		Matches:    e.matches.Load(),
		Suppressed: e.suppressed.Load(),
		RuleErrors: e.ruleErrors.Load(),
		Alerts:     e.alerts.Load(),
		Dedup:      e.dedup.Stats(),
	}
}

// eventTime returns the time of the first time field that holds one,
// else the clock's.
func (e *Engine) eventTime(ev *Event) time.Time {
	for _, path := range e.timeFields {
		var v any = ev.fields
		for _, name := range path {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = lookup(m, name)
		}
		if t, ok := parseEventTime(v); ok {
			return t
		}
	}
	return e.clock()
}

// Bounds of the times that UnixNano represents, with a day to spare.
var (
	minEventTime = time.Unix(0, math.MinInt64).Add(24 * time.Hour)
	maxEventTime = time.Unix(0, math.MaxInt64).Add(-24 * time.Hour)
)

// epochMillisFrom is where epoch numbers switch from seconds to
// milliseconds: 1e11 seconds is in the year 5138, 1e11 milliseconds in
// 1973.
const epochMillisFrom = 1e11

// parseEventTime reads a time value: RFC 3339 text with any offset,
// Panther's "2006-01-02 15:04:05.000" (UTC), or a number of seconds or
// milliseconds since the Unix epoch.
func parseEventTime(v any) (time.Time, bool) {
	var t time.Time
	switch x := v.(type) {
	case string:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, x); err != nil {
			if t, err = time.Parse("2006-01-02 15:04:05.999999999", x); err != nil {
				return time.Time{}, false
			}
		}
	case int:
		if x >= epochMillisFrom || x <= -epochMillisFrom {
			t = time.UnixMilli(int64(x))
		} else {
			t = time.Unix(int64(x), 0)
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e18 {
			return time.Time{}, false
		}
		if math.Abs(x) >= epochMillisFrom {
			x /= 1e3
		}
		sec := math.Floor(x)
		t = time.Unix(int64(sec), int64((x-sec)*1e9))
	default:
		return time.Time{}, false
	}
	if t.Before(minEventTime) || t.After(maxEventTime) {
		return time.Time{}, false
	}
	return t, true
}
