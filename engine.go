package detect

import (
	"bytes"
	"context"
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
// unless WithTimeFields says otherwise, for the log types without fields
// of their own (see BuiltinTimeFields): Panther's normalised event time,
// then a common raw one.
var defaultTimeFields = []string{"p_event_time", "timestamp"}

// DefaultSinkRetries and DefaultSinkBackoff are how often, and after how
// long a first pause (doubled at each retry), the engine offers an alert
// again to a sink whose error is temporary, unless WithSinkRetry says
// otherwise.
const (
	DefaultSinkRetries = 3
	DefaultSinkBackoff = 100 * time.Millisecond
)

// LogTypeField is the event field that names its log type, as in Panther.
const LogTypeField = "p_log_type"

// Engine runs many rules over a stream of events and turns their matches
// into alerts. Each event goes to the enabled rules for its log type; each
// match, and each failure of a rule on an event, is counted by a Deduper;
// and the states of alerts go to the AlertSink given with WithSink: an
// alert is delivered within the call that creates it (the match that
// reaches the rule's threshold), and its final state when its window
// closes: as its clock passes the window's end, or at Flush, which a
// caller calls at the end of its input (see AlertStep; WithReplay
// delivers only the final states).
//
// Each log type has its own clock, and so has each input of events without
// a log type: the median of its last five event times, which one outlier
// cannot move (see WithClockBound).
//
// An Engine is safe for concurrent use by multiple goroutines. Its sink is
// never called concurrently.
type Engine struct {
	all     *ruleSet            // enabled rules, in the order given
	byType  map[string]*ruleSet // log type to its rules, untyped ones included
	untyped *ruleSet            // enabled rules without LogTypes

	dedup      Deduper
	locked     *LockedDedup // dedup, when it is the in-memory one
	sink       AlertSink
	sinkMu     sync.Mutex
	timeFields [][]string            // for log types without their own
	typeFields map[string][][]string // log type to its time fields
	clock      func() time.Time
	clockBound int64
	replay     bool
	retries    int
	backoff    time.Duration

	clocks sync.Map // clock name to *streamClock
	// types holds, for the log types that rules list or that have time
	// fields, their clock and time fields, found without boxing the name;
	// untypedClock is the clock of events without log type or input.
	types        map[string]*logTypeState
	untypedClock *streamClock

	// headFields are the top-level fields Process reads before routing:
	// the log type, the time fields and the fields the indexes look up.
	headFields *fieldSet

	events, matches, suppressed, ruleErrors, alerts atomic.Uint64
	delivered, failed, retried                      atomic.Uint64
}

// EngineOption configures an Engine.
type EngineOption func(*engineConfig)

type engineConfig struct {
	sink          AlertSink
	dedup         Deduper
	dedupSet      bool
	maxGroups     int
	maxGroupsSet  bool
	maxBytes      int64
	maxBytesSet   bool
	timeFields    []string
	timeFieldsSet bool
	typeFields    map[string][]string
	clock         func() time.Time
	clockSet      bool
	clockBound    time.Duration
	clockBoundSet bool
	replay        bool
	retries       int
	backoff       time.Duration
	retrySet      bool
}

// WithSink sets where the states of alerts go; an Engine needs one.
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

// WithMaxDedupBytes sets how many bytes, as GroupBytes estimates them, the
// groups of the in-memory deduper may hold (default DefaultMaxDedupBytes);
// see DedupTable for what happens when they would hold more.
func WithMaxDedupBytes(n int64) EngineOption {
	return func(c *engineConfig) { c.maxBytes, c.maxBytesSet = n, true }
}

// WithTimeFields sets the fields, tried in order, that give an event its
// time, for every log type without fields set by WithLogTypeTimeFields
// (default: those of BuiltinTimeFields for its log types, "p_event_time"
// then "timestamp" for the others); a dotted name reads a nested field,
// and no fields at all means always using the clock.
func WithTimeFields(fields ...string) EngineOption {
	return func(c *engineConfig) {
		c.timeFields, c.timeFieldsSet = append([]string(nil), fields...), true
	}
}

// WithLogTypeTimeFields sets the time fields, tried in order, of the events
// of one log type, in place of the built-in or default ones.
func WithLogTypeTimeFields(logType string, fields ...string) EngineOption {
	return func(c *engineConfig) {
		if c.typeFields == nil {
			c.typeFields = map[string][]string{}
		}
		c.typeFields[logType] = append([]string(nil), fields...)
	}
}

// WithClockBound sets how far ahead of its clock an event time may be and
// still be trusted (default DefaultClockBound). The clock itself only
// moves to the median of its last five event times, so no time moves it
// alone and a genuine jump moves it with the third event at the new time.
// A time further ahead than the bound of both its clock and the
// processing clock (from the future) is windowed at the clock's time; one
// further ahead of its clock and of a later time of its stream is counted
// as distrusted (ClockStats.Distrusted).
func WithClockBound(d time.Duration) EngineOption {
	return func(c *engineConfig) { c.clockBound, c.clockBoundSet = d, true }
}

// WithReplay makes the engine deliver each alert once, with its final
// state, when its window closes, rather than also when it is created: for
// replays and back-tests that want one record per alert.
func WithReplay() EngineOption {
	return func(c *engineConfig) { c.replay = true }
}

// WithSinkRetry sets how many times the engine offers an alert state again
// to a sink that failed with a temporary error (see Temporary), and the
// pause before the first retry, doubled at each one (default
// DefaultSinkRetries and DefaultSinkBackoff). Retries end early when the
// context of the call is done.
func WithSinkRetry(retries int, backoff time.Duration) EngineOption {
	return func(c *engineConfig) { c.retries, c.backoff, c.retrySet = retries, backoff, true }
}

// WithClock sets the processing clock, which times events without a usable
// time field (default time.Now); such events are counted in
// ClockStats.Fallback.
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
	e := &Engine{sink: c.sink, clock: time.Now, clockBound: int64(DefaultClockBound),
		replay: c.replay, retries: DefaultSinkRetries, backoff: DefaultSinkBackoff}
	if c.sink == nil {
		return nil, errors.New("detect: NewEngine: no alert sink (use WithSink)")
	}
	switch {
	case c.dedupSet && c.dedup == nil:
		return nil, errors.New("detect: NewEngine: WithDeduper(nil)")
	case c.dedupSet && c.maxGroupsSet:
		return nil, errors.New("detect: NewEngine: WithMaxGroups applies to the in-memory deduper, not to one given by WithDeduper")
	case c.dedupSet && c.maxBytesSet:
		return nil, errors.New("detect: NewEngine: WithMaxDedupBytes applies to the in-memory deduper, not to one given by WithDeduper")
	case c.dedupSet:
		e.dedup = c.dedup
	default:
		n, bytes := DefaultMaxGroups, int64(DefaultMaxDedupBytes)
		if c.maxGroupsSet {
			if c.maxGroups <= 0 {
				return nil, fmt.Errorf("detect: NewEngine: WithMaxGroups(%d): must be positive", c.maxGroups)
			}
			n = c.maxGroups
		}
		if c.maxBytesSet {
			if c.maxBytes <= 0 {
				return nil, fmt.Errorf("detect: NewEngine: WithMaxDedupBytes(%d): must be positive", c.maxBytes)
			}
			bytes = c.maxBytes
		}
		d, err := NewLockedDedupBytes(n, bytes)
		if err != nil {
			return nil, err
		}
		e.dedup, e.locked = d, d
		d.table.finalOnly = c.replay
	}
	if c.clockBoundSet {
		if c.clockBound <= 0 {
			return nil, fmt.Errorf("detect: NewEngine: WithClockBound(%v): must be positive", c.clockBound)
		}
		e.clockBound = int64(c.clockBound)
	}
	if c.retrySet {
		if c.retries < 0 || c.backoff < 0 {
			return nil, fmt.Errorf("detect: NewEngine: WithSinkRetry(%d, %v): must not be negative", c.retries, c.backoff)
		}
		e.retries, e.backoff = c.retries, c.backoff
	}
	if c.clockSet {
		if c.clock == nil {
			return nil, errors.New("detect: NewEngine: WithClock(nil)")
		}
		e.clock = c.clock
	}
	fields := defaultTimeFields
	typeFields := map[string][]string{}
	if c.timeFieldsSet {
		fields = c.timeFields
	} else {
		typeFields = BuiltinTimeFields()
	}
	for lt, f := range c.typeFields {
		typeFields[lt] = f
	}
	e.headFields = newFieldSet(append([]string{LogTypeField}, idFieldNames()...)...)
	var err error
	if e.timeFields, err = e.timePaths(fields); err != nil {
		return nil, err
	}
	e.typeFields = make(map[string][][]string, len(typeFields))
	for lt, f := range typeFields {
		if e.typeFields[lt], err = e.timePaths(f); err != nil {
			return nil, err
		}
	}
	if err := e.addRules(rules); err != nil {
		return nil, err
	}
	e.types = map[string]*logTypeState{}
	addType := func(lt string) {
		if e.types[lt] == nil {
			c := newStreamClock()
			e.clocks.Store(lt, c)
			e.types[lt] = &logTypeState{clock: c, fields: e.timeFields}
		}
	}
	for lt := range e.byType {
		addType(lt)
	}
	for lt, f := range e.typeFields {
		addType(lt)
		e.types[lt].fields = f
	}
	e.untypedClock = newStreamClock()
	e.clocks.Store("", e.untypedClock)
	return e, nil
}

// timePaths splits time field names into paths, and adds their top-level
// fields to the head.
func (e *Engine) timePaths(fields []string) ([][]string, error) {
	var out [][]string
	for _, f := range fields {
		path := strings.Split(f, ".")
		for _, p := range path {
			if p == "" {
				return nil, fmt.Errorf("detect: NewEngine: invalid time field %q", f)
			}
		}
		out = append(out, path)
		e.headFields = union(e.headFields, newFieldSet(path[0]))
	}
	return out, nil
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
	return e.processHead(context.Background(), &ev, "", "")
}

// ProcessContext is Process, with ctx bounding the retries of a sink that
// fails with a temporary error.
func (e *Engine) ProcessContext(ctx context.Context, data []byte) error {
	ev, err := e.decodeHead(data)
	if err != nil {
		return err
	}
	return e.processHead(ctx, &ev, "", "")
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
// it. input names the event's input, whose clock times it if it has no
// log type.
func (e *Engine) processHead(ctx context.Context, ev *Event, logType, input string) error {
	if logType == "" {
		logType, _ = ev.Get(LogTypeField).(string)
	}
	err := e.process(ctx, ev, logType, ev.raw, input)
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
// enabled rule. The event's time is that of the first of its log type's
// time fields that holds one, else the processing clock's; its log type's
// clock (the clock of events without a log type) observes it, and may
// move on. Each match, and each rule error (*EvalError), is counted by the
// deduper at that time (at the clock's time if the event's is from the
// future, see WithClockBound); the alerts this created, and the final states of
// those whose windows this closed, go to the sink before it returns.
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
	return e.process(context.Background(), ev, logType, nil, "")
}

// process runs the rules for logType on ev. When raw is set, ev holds only
// the head fields, and the fields the rules read are decoded from raw
// when a rule's prefilter lets the event through, or, for a set of rules
// with an index, before looking the event's values up in it.
func (e *Engine) process(ctx context.Context, ev *Event, logType string, raw []byte, input string) error {
	tf, clockName, clk := e.timeFields, logType, e.untypedClock
	switch st := e.types[logType]; {
	case st != nil:
		tf, clk = st.fields, st.clock
	case logType != "":
		clk = e.streamClock(logType)
	case input != "":
		clockName = "input:" + input
		clk = e.streamClock(clockName)
	}
	t, ok := eventTime(ev, tf)
	if !ok {
		t = e.clock()
	}
	ts, moved, now := clk.observe(unixNano(t), !ok, e.clockBound, e.procNow)
	t = time.Unix(0, ts)
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
		// The alerts of one event go to the sink before process
		// returns, so they are gathered in an array on the stack.
		buf  [4]*Alert
		out  = buf[:0]
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
		h := Hit{Type: AlertRule, LogType: logType, Clock: clockName}
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
		h.Ref = eventRef(ev, logType, r)
		if e.locked != nil {
			out, err = e.locked.observe(h, t, out)
		} else {
			var alerts []*Alert
			alerts, err = e.dedup.Observe(h, t)
			out = append(out, alerts...)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if moved {
		if e.locked != nil {
			out = e.locked.advance(clockName, time.Unix(0, now), out)
		} else {
			alerts, err := e.dedup.Advance(clockName, time.Unix(0, now))
			out = append(out, alerts...)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := e.emit(ctx, out); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// procNow reads the processing clock.
func (e *Engine) procNow() int64 { return unixNano(e.clock()) }

// logTypeState is what the engine keeps per log type.
type logTypeState struct {
	clock  *streamClock
	fields [][]string // time fields
}

// streamClock returns the clock called name, new if need be.
func (e *Engine) streamClock(name string) *streamClock {
	if c, ok := e.clocks.Load(name); ok {
		return c.(*streamClock)
	}
	c, _ := e.clocks.LoadOrStore(name, newStreamClock())
	return c.(*streamClock)
}

// ruleErrorMatch is what a rule's failure contributes to its RULE_ERROR
// alert: grouped by the kind of failure, with the rule's severity and
// texts, and a title naming the expression and the error.
func ruleErrorMatch(r *Rule, ee *EvalError) *Match {
	return &Match{
		Rule:        r,
		Title:       truncate(fmt.Sprintf("Error in %s: %s `%s` failed: %s", r.ID, ee.Part, ee.Expr, normalizeMessage(ee.Msg))),
		Dedup:       truncate(ee.Kind()),
		Severity:    r.Severity,
		Description: r.Description,
		Reference:   r.Reference,
		Runbook:     r.Runbook,
	}
}

// Advance moves every clock on to t, if t is later, and delivers the final
// states of the alerts whose windows have ended by then. A service whose
// events carry their own times need not call it; one that goes quiet
// calls it with the processing clock so that final states still go out.
func (e *Engine) Advance(t time.Time) error {
	return e.AdvanceContext(context.Background(), t)
}

// AdvanceContext is Advance, with ctx bounding the sink's retries.
func (e *Engine) AdvanceContext(ctx context.Context, t time.Time) error {
	ts := unixNano(t)
	var out []*Alert
	var errs []error
	e.clocks.Range(func(k, v any) bool {
		v.(*streamClock).advance(ts)
		alerts, err := e.dedup.Advance(k.(string), t)
		out = append(out, alerts...)
		if err != nil {
			errs = append(errs, err)
		}
		return true
	})
	return errors.Join(errors.Join(errs...), e.emit(ctx, out))
}

// Flush closes every dedup window and delivers its alert's final state:
// call it at the end of the input, or when a service stops. The engine
// remains usable; later events open new windows.
func (e *Engine) Flush() error {
	return e.FlushContext(context.Background())
}

// FlushContext is Flush, with ctx bounding the sink's retries: once ctx is
// done, a state that fails is not offered again.
func (e *Engine) FlushContext(ctx context.Context) error {
	alerts, err := e.dedup.Flush()
	return errors.Join(err, e.emit(ctx, alerts))
}

// isTemporary reports whether err wraps a *TemporaryError.
func isTemporary(err error) bool {
	var te *TemporaryError
	return errors.As(err, &te)
}

// SinkError is the error of an alert state that the sink did not take.
type SinkError struct {
	Alert *Alert
	Err   error
}

// Error names the alert and its step.
func (e *SinkError) Error() string {
	return fmt.Sprintf("detect: alert sink: alert %s (%s): %v", e.Alert.ID, e.Alert.Step, e.Err)
}

// Unwrap returns the sink's error.
func (e *SinkError) Unwrap() error { return e.Err }

// emit hands alert states to the sink, one call at a time, and returns the
// first failure, a *SinkError. In replay mode, created states are counted
// and not delivered.
func (e *Engine) emit(ctx context.Context, alerts []*Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	e.sinkMu.Lock()
	defer e.sinkMu.Unlock()
	var first error
	for _, a := range alerts {
		if a.Step == StepCreated || e.replay && a.Step == StepFinal {
			e.alerts.Add(1)
		}
		if e.replay && a.Step == StepCreated {
			continue // from a Deduper that does not know the mode
		}
		if err := e.send(ctx, a); err != nil {
			e.failed.Add(1)
			if first == nil {
				first = &SinkError{Alert: a, Err: err}
			}
			continue
		}
		e.delivered.Add(1)
	}
	return first
}

// send offers a to the sink, again after a pause while it fails with a
// temporary error, at most e.retries more times.
func (e *Engine) send(ctx context.Context, a *Alert) error {
	pause := e.backoff
	for i := 0; ; i++ {
		err := e.sink.Send(a)
		if err == nil || i >= e.retries || !isTemporary(err) {
			return err
		}
		e.retried.Add(1)
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}
		pause *= 2
	}
}

// EngineStats are an Engine's counters.
type EngineStats struct {
	Events  uint64 // events processed
	Matches uint64 // rule matches, those of rules with SuppressAlerts included
	// Suppressed are the matches of rules with SuppressAlerts.
	Suppressed uint64
	RuleErrors uint64 // rule evaluations that failed (*EvalError)
	// Alerts are the alerts created, RULE_ERROR ones included: each
	// has a created state (delivered unless in replay mode) and a final
	// one. In replay mode they are counted as their final states are
	// delivered.
	Alerts uint64
	// Delivered are the alert states the sink took; Failed those it did
	// not, after its retries; Retried the retries.
	Delivered, Failed, Retried uint64
	// Fallback are the events without a usable time, timed by the
	// processing clock; Distrusted the event times that were outliers of
	// their stream (see WithClockBound). Clocks gives them per
	// clock: a log type, "input:NAME" for an input's events without a log
	// type, or "" for other events without one.
	Fallback, Distrusted uint64
	Clocks               map[string]ClockStats
	Dedup                DedupStats
}

// Stats returns the engine's counters. Under concurrent use they are read
// one by one, not as one snapshot.
func (e *Engine) Stats() EngineStats {
	s := EngineStats{
		Events:     e.events.Load(),
		Matches:    e.matches.Load(),
		Suppressed: e.suppressed.Load(),
		RuleErrors: e.ruleErrors.Load(),
		Alerts:     e.alerts.Load(),
		Delivered:  e.delivered.Load(),
		Failed:     e.failed.Load(),
		Retried:    e.retried.Load(),
		Clocks:     map[string]ClockStats{},
		Dedup:      e.dedup.Stats(),
	}
	e.clocks.Range(func(k, v any) bool {
		cs := v.(*streamClock).stats()
		s.Clocks[k.(string)] = cs
		s.Fallback += cs.Fallback
		s.Distrusted += cs.Distrusted
		return true
	})
	return s
}

// eventTime returns the time of the first time field that holds one.
func eventTime(ev *Event, fields [][]string) (time.Time, bool) {
	for _, path := range fields {
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
			return t, true
		}
	}
	return time.Time{}, false
}

// Bounds of the times that UnixNano represents, with a day to spare.
var (
	minEventTime = time.Unix(0, math.MinInt64).Add(24 * time.Hour)
	maxEventTime = time.Unix(0, math.MaxInt64).Add(-24 * time.Hour)
)

// Where epoch numbers switch units: 1e11 seconds is in the year 5138,
// 1e11 milliseconds in 1973; 1e14 milliseconds is in the year 5138, 1e14
// microseconds in 1973; and so on for nanoseconds.
const (
	epochMillisFrom = 1e11
	epochMicrosFrom = 1e14
	epochNanosFrom  = 1e17
)

// timeLayouts are the text forms of event times: RFC 3339 with any
// offset, then without one (read as UTC), with a T or a space (Panther's
// "2006-01-02 15:04:05.000").
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// parseEventTime reads a time value: RFC 3339 text with any offset, or
// without one (UTC), with a T or a space between date and time; or a
// number of seconds, milliseconds, microseconds or nanoseconds since the
// Unix epoch, told apart by their size.
func parseEventTime(v any) (time.Time, bool) {
	var t time.Time
	switch x := v.(type) {
	case string:
		var err error
		for _, layout := range timeLayouts {
			if t, err = time.Parse(layout, x); err == nil {
				break
			}
		}
		if err != nil {
			return time.Time{}, false
		}
	case int:
		switch a := int64(x); {
		case a >= epochNanosFrom || a <= -epochNanosFrom:
			t = time.Unix(0, a)
		case a >= epochMicrosFrom || a <= -epochMicrosFrom:
			t = time.UnixMicro(a)
		case a >= epochMillisFrom || a <= -epochMillisFrom:
			t = time.UnixMilli(a)
		default:
			t = time.Unix(a, 0)
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e21 {
			return time.Time{}, false
		}
		switch a := math.Abs(x); {
		case a >= epochNanosFrom:
			x /= 1e9
		case a >= epochMicrosFrom:
			x /= 1e6
		case a >= epochMillisFrom:
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
