package detect

import (
	"container/heap"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxGroups is the number of live dedup groups an Engine keeps in
// memory unless told otherwise (see WithMaxGroups).
const DefaultMaxGroups = 100_000

// DefaultMaxDedupBytes is the memory, as GroupBytes estimates it, that the
// live dedup groups of an Engine may hold unless told otherwise (see
// WithMaxDedupBytes): 192 MiB, about 100,000 groups of the Wiz rule.
const DefaultMaxDedupBytes = 192 << 20

// maxAlertLogTypes bounds the log types an alert remembers; a rule without
// LogTypes sees whatever types its events claim.
const maxAlertLogTypes = 16

// Hit is one thing a Deduper counts: a rule's match on an event, or, for
// Type AlertRuleError, the rule's failure on one. Match carries the alert
// fields computed from the event; Match.Rule must be set.
type Hit struct {
	Type    AlertType
	Match   *Match
	LogType string // the event's log type, "" when unknown
	// Clock names the clock that times the event (its log type, or its
	// input when it has none): a window the hit opens closes when that
	// clock passes its end (see Deduper.Advance).
	Clock string
	// Ref references the event: its p_row_id, else its log type's ID
	// field (see BuiltinIDFields); "" when it has neither.
	Ref string
}

// A Deduper groups hits into alerts with Panther's semantics (see
// DedupTable). Time is a parameter: every call says what time it is for
// that call, so tests and replays script it.
//
// In memory, DedupTable does the work (it is not safe for concurrent use
// and cannot fail, so its methods return no error) and LockedDedup wraps
// it into a Deduper that is safe for concurrent use. A Deduper given to an
// Engine must be safe for concurrent use; a shared store (Redis, a
// database) can implement it so that several processes dedup together.
// Each method returns the alert states (see AlertStep) that the call
// produced, which the caller now owns.
type Deduper interface {
	// Observe counts h at time t, and returns the alert it created, if h
	// reached its group's threshold, and the final states of the alerts
	// it finished: a window that t is past, or one evicted to make room.
	Observe(h Hit, t time.Time) ([]*Alert, error)
	// Advance closes every window of clock that ends at or before t.
	Advance(clock string, t time.Time) ([]*Alert, error)
	// Flush closes every window, as at the end of the input.
	Flush() ([]*Alert, error)
	// Stats returns the counters of the deduper.
	Stats() DedupStats
}

// DedupCounts are the counters of a Deduper, in total or for one rule.
// Every hit is in exactly one of: AlertHits (the final states delivered),
// ExpiredHits, EvictedHits, or OpenHits (windows still open); at the end
// of the input, after Flush, OpenHits is 0.
type DedupCounts struct {
	Groups int   // live groups (open windows) now
	Bytes  int64 // what the live groups hold, as GroupBytes estimates it
	Hits   uint64
	// Alerts are the alerts created: windows that reached their
	// threshold. Each has one final state, whose event count AlertHits
	// adds up.
	Alerts    uint64
	AlertHits uint64
	OpenHits  uint64 // hits of the live groups
	// Expired are windows closed below their threshold, which raise no
	// alert; ExpiredHits their hits.
	Expired     uint64
	ExpiredHits uint64
	// Evicted counts groups removed early because the table was full (of
	// groups or bytes). EvictedAlerts of them had reached their threshold
	// and their final state went out before their window ended (their hits
	// are in AlertHits); the others took EvictedHits hits with them that
	// had not reached their threshold.
	Evicted       uint64
	EvictedAlerts uint64
	EvictedHits   uint64
}

// DedupStats are the counters of a Deduper: the totals, and per rule ID
// the counters of every rule that has had a hit.
type DedupStats struct {
	DedupCounts
	Rules map[string]DedupCounts
}

// DedupTable is the in-memory Deduper. It is not safe for concurrent use:
// use LockedDedup, which wraps it with a mutex, when several goroutines
// share one.
//
// Hits with the same type, rule ID and dedup string form a group. A
// group's window is [start, start+period), fixed, where start is the time
// of the group's first hit and period is the rule's DedupPeriod
// (DefaultDedupPeriod when zero). A hit at or after the window's end
// closes it and starts a new window; a hit before the window's start
// counts in it (closed windows never reopen). A window whose hits reach
// the rule's Threshold (1 for rule errors) is an alert: its created state
// is returned by the Observe call of the hit that reached the threshold,
// and its final state when the window closes: when a hit past its end
// arrives, at Advance of the window's clock (the Clock of the hit that
// opened it), at Flush, or when the group is evicted. A window closed with
// fewer hits raises nothing, and the count starts again at the next hit.
//
// Memory is bounded by maxGroups groups and maxBytes bytes, as GroupBytes
// estimates what a group holds. When a new group would pass either bound,
// groups are evicted, fairly between rules: the rule whose groups hold the
// most bytes loses its oldest group, until the new one fits (one group is
// always kept, however large). So a flood of distinct dedup strings for
// one rule evicts that rule's groups, not another's. An evicted group that
// has reached its threshold has its final state returned at once, with the
// count so far, and later hits of its window form a new alert; otherwise
// its hits are dropped, counted in EvictedHits.
//
// Times must lie between the years 1678 and 2262 (UnixNano's range);
// others are clamped to it.
type DedupTable struct {
	maxGroups int
	maxBytes  int64
	groups    map[groupKey]*group
	queues    map[string]*groupQueue // by clock
	rules     map[string]*ruleGroups
	seq       uint64
	total     DedupCounts
	// finalOnly leaves the created states out, for an engine in replay
	// mode.
	finalOnly bool
	// pushed is set when observe adds a group to a queue, so that
	// LockedDedup updates its hint only then.
	pushed bool
}

type groupKey struct {
	typ   AlertType
	rule  string
	dedup string
}

type group struct {
	key       groupKey
	match     *Match // the window's first hit: the alert's fields
	start     int64  // window start, Unix nanoseconds
	end       int64  // window end, exclusive
	last      int64  // latest hit time
	count     int
	threshold int
	bytes     int64
	id        string // the alert ID of the window, once computed
	logTypes  []string
	seq       uint64 // creation order, to close equal windows in order
	index     int    // in the queue
	queue     *groupQueue
	clock     string
	// firstRef and lastRef reference the first event of the window and
	// the latest that has a reference, at lastRefAt.
	firstRef, lastRef string
	lastRefAt         int64
	rule              *ruleGroups
	// prev and next link the groups of one rule, oldest first.
	prev, next *group
}

// ruleGroups are the live groups of one rule, oldest first, and its
// counters.
type ruleGroups struct {
	oldest, newest *group
	counts         DedupCounts
}

// NewDedupTable returns an empty table that keeps at most maxGroups
// groups, which must be positive, holding at most DefaultMaxDedupBytes.
func NewDedupTable(maxGroups int) (*DedupTable, error) {
	return NewDedupTableBytes(maxGroups, DefaultMaxDedupBytes)
}

// NewDedupTableBytes returns an empty table that keeps at most maxGroups
// groups holding at most maxBytes bytes (see GroupBytes); both must be
// positive.
func NewDedupTableBytes(maxGroups int, maxBytes int64) (*DedupTable, error) {
	if maxGroups <= 0 {
		return nil, fmt.Errorf("detect: dedup table size %d is not positive", maxGroups)
	}
	if maxBytes <= 0 {
		return nil, fmt.Errorf("detect: dedup table bytes %d is not positive", maxBytes)
	}
	return &DedupTable{
		maxGroups: maxGroups,
		maxBytes:  maxBytes,
		groups:    make(map[groupKey]*group),
		queues:    make(map[string]*groupQueue),
		rules:     make(map[string]*ruleGroups),
	}, nil
}

// groupOverhead is what a group costs besides its match's texts and
// outputs: the group itself, its map entry and key, its queue slot, the
// Match and the Alert fields it keeps.
const groupOverhead = 1000

// GroupBytes estimates the memory a dedup group keeps for m, its first
// match: a fixed overhead, the texts of the match (title, dedup string,
// description, reference, runbook) and its outputs' names and values,
// nested lists and maps included.
func GroupBytes(m *Match) int64 {
	n := int64(groupOverhead) + int64(len(m.Title)+2*len(m.Dedup)+len(m.Description)+len(m.Reference)+len(m.Runbook))
	for _, o := range m.Outputs {
		n += 16 + int64(len(o.Name)) + valueBytes(o.Value)
	}
	return n
}

// valueBytes estimates the memory a decoded value holds.
func valueBytes(v any) int64 {
	switch x := v.(type) {
	case string:
		return 16 + int64(len(x))
	case []any:
		n := int64(24)
		for _, e := range x {
			n += valueBytes(e)
		}
		return n
	case map[string]any:
		n := int64(48)
		for k, e := range x {
			n += 16 + int64(len(k)) + valueBytes(e)
		}
		return n
	}
	return 16
}

// Observe counts h at time t and returns the alert states that this
// produced (see DedupTable). h.Match and h.Match.Rule must not be nil.
func (d *DedupTable) Observe(h Hit, t time.Time) []*Alert {
	return d.observe(h, t, nil)
}

// observe is Observe, appending to out.
func (d *DedupTable) observe(h Hit, t time.Time, out []*Alert) []*Alert {
	ts := unixNano(t)
	m := h.Match
	k := groupKey{typ: h.Type, rule: m.Rule.ID, dedup: m.Dedup}
	g := d.groups[k]
	var spare *group // a closed group, reused for the new window
	if g != nil && ts >= g.end {
		d.dequeue(g)
		out = d.close(g, out)
		spare, g = g, nil
	}
	if g == nil {
		// The group keeps the references of its first and latest events
		// too, which take about the same room.
		bytes := GroupBytes(m) + 2*int64(len(h.Ref))
		for len(d.groups) > 0 && (len(d.groups) >= d.maxGroups || d.total.Bytes+bytes > d.maxBytes) {
			out = d.evict(out)
		}
		rg := d.rules[k.rule]
		if rg == nil {
			rg = &ruleGroups{}
			d.rules[k.rule] = rg
		}
		if spare == nil {
			spare = new(group)
		}
		g = spare
		*g = group{key: k, threshold: threshold(h.Type, m.Rule), seq: d.seq, rule: rg, clock: h.Clock, bytes: bytes, firstRef: h.Ref}
		d.seq++
		g.reset(m, ts)
		d.groups[k] = g
		q := d.queues[h.Clock]
		if q == nil {
			q = &groupQueue{}
			d.queues[h.Clock] = q
		}
		g.queue = q
		heap.Push(q, g)
		d.pushed = true
		rg.link(g)
		rg.counts.Groups++
		rg.counts.Bytes += bytes
		d.total.Groups++
		d.total.Bytes += bytes
	}
	g.count++
	if ts > g.last {
		g.last = ts
	}
	if h.Ref != "" && ts >= g.lastRefAt {
		g.lastRef, g.lastRefAt = h.Ref, ts
	}
	g.addLogType(h.LogType)
	// Hits and OpenHits are added up by Stats, off this path.
	c := &g.rule.counts
	c.Hits++
	if g.count == g.threshold {
		c.Alerts++
		d.total.Alerts++
		if !d.finalOnly {
			out = append(out, d.alert(g, StepCreated))
		}
	}
	return out
}

// Advance closes every window of clock that ends at or before t and
// returns the final states of the alerts among them, in the order their
// windows end.
func (d *DedupTable) Advance(clock string, t time.Time) []*Alert {
	return d.advance(clock, t, nil)
}

// advance is Advance, appending to out.
func (d *DedupTable) advance(clock string, t time.Time, out []*Alert) []*Alert {
	q := d.queues[clock]
	if q == nil {
		return out
	}
	ts := unixNano(t)
	for len(*q) > 0 && (*q)[0].end <= ts {
		g := heap.Pop(q).(*group)
		g.queue = nil
		out = d.close(g, out)
	}
	if len(*q) == 0 {
		delete(d.queues, clock)
	}
	return out
}

// Flush closes every window and returns the final states of the alerts
// among them, in the order their windows end.
func (d *DedupTable) Flush() []*Alert {
	all := make([]*group, 0, len(d.groups))
	for _, g := range d.groups {
		all = append(all, g)
	}
	sort.Slice(all, func(i, j int) bool { return before(all[i], all[j]) })
	var out []*Alert
	for _, g := range all {
		g.queue = nil
		out = d.close(g, out)
	}
	clear(d.queues)
	return out
}

// Stats returns the table's counters. It takes time in proportion to the
// live groups.
func (d *DedupTable) Stats() DedupStats {
	s := DedupStats{DedupCounts: d.total, Rules: make(map[string]DedupCounts, len(d.rules))}
	open := make(map[*ruleGroups]uint64, len(d.rules))
	for _, g := range d.groups {
		open[g.rule] += uint64(g.count)
	}
	for id, rg := range d.rules {
		c := rg.counts
		c.OpenHits = open[rg]
		s.Rules[id] = c
		s.Hits += c.Hits
		s.OpenHits += c.OpenHits
	}
	return s
}

// Len returns the number of live groups.
func (d *DedupTable) Len() int { return len(d.groups) }

// nextEnd returns the end of the window of clock that closes first, or
// MaxInt64.
func (d *DedupTable) nextEnd(clock string) int64 {
	q := d.queues[clock]
	if q == nil || len(*q) == 0 {
		return math.MaxInt64
	}
	return (*q)[0].end
}

// dequeue takes a live group out of its clock's queue.
func (d *DedupTable) dequeue(g *group) {
	if q := g.queue; q != nil {
		heap.Remove(q, g.index)
		g.queue = nil
		if len(*q) == 0 {
			delete(d.queues, g.clock)
		}
	}
}

// close ends a group already out of its queue: its final state if it
// reached its threshold, else an expired window.
func (d *DedupTable) close(g *group, out []*Alert) []*Alert {
	d.drop(g)
	c := &g.rule.counts
	if g.count >= g.threshold {
		c.AlertHits += uint64(g.count)
		d.total.AlertHits += uint64(g.count)
		return append(out, d.alert(g, StepFinal))
	}
	c.Expired++
	c.ExpiredHits += uint64(g.count)
	d.total.Expired++
	d.total.ExpiredHits += uint64(g.count)
	return out
}

// drop forgets a group out of its queue.
func (d *DedupTable) drop(g *group) {
	delete(d.groups, g.key)
	rg := g.rule
	rg.unlink(g)
	rg.counts.Groups--
	rg.counts.Bytes -= g.bytes
	d.total.Groups--
	d.total.Bytes -= g.bytes
}

// evict removes the oldest group of the rule whose groups hold the most
// bytes (ties: the rule ID first in byte order, so runs repeat).
func (d *DedupTable) evict(out []*Alert) []*Alert {
	var victim *ruleGroups
	var victimID string
	for id, rg := range d.rules {
		if rg.oldest == nil {
			continue
		}
		if victim == nil || rg.counts.Bytes > victim.counts.Bytes || rg.counts.Bytes == victim.counts.Bytes && id < victimID {
			victim, victimID = rg, id
		}
	}
	g := victim.oldest
	d.dequeue(g)
	d.drop(g)
	c := &g.rule.counts
	c.Evicted++
	d.total.Evicted++
	if g.count >= g.threshold {
		c.EvictedAlerts++
		c.AlertHits += uint64(g.count)
		d.total.EvictedAlerts++
		d.total.AlertHits += uint64(g.count)
		return append(out, d.alert(g, StepFinal))
	}
	c.EvictedHits += uint64(g.count)
	d.total.EvictedHits += uint64(g.count)
	return out
}

func (d *DedupTable) alert(g *group, step AlertStep) *Alert {
	m, r := g.match, g.match.Rule
	// The alert's log types must not change as the group's grow: one is
	// shared with the group, up to its length; more are copied and
	// sorted.
	var logTypes []string
	switch n := len(g.logTypes); n {
	case 0:
		logTypes = r.LogTypes
	case 1:
		logTypes = g.logTypes[:1:1]
	default:
		logTypes = slices.Clone(g.logTypes)
		sort.Strings(logTypes)
	}
	if g.id == "" {
		g.id = AlertID(g.key.typ, g.key.rule, g.key.dedup, time.Unix(0, g.start))
	}
	return &Alert{
		ID:           g.id,
		Step:         step,
		Type:         g.key.typ,
		Rule:         r,
		RuleID:       r.ID,
		Title:        m.Title,
		Severity:     m.Severity,
		Dedup:        m.Dedup,
		EventCount:   g.count,
		CreationTime: time.Unix(0, g.start).UTC(),
		UpdateTime:   time.Unix(0, g.last).UTC(),
		FirstEvent:   g.firstRef,
		LastEvent:    g.lastRef,
		LogTypes:     logTypes,
		Outputs:      m.Outputs,
		DisplayName:  r.DisplayName,
		Description:  m.Description,
		Runbook:      m.Runbook,
		Reference:    m.Reference,
		Reports:      r.Reports,
		Tags:         r.Tags,
	}
}

func (rg *ruleGroups) link(g *group) {
	g.prev, g.next = rg.newest, nil
	if rg.newest != nil {
		rg.newest.next = g
	} else {
		rg.oldest = g
	}
	rg.newest = g
}

func (rg *ruleGroups) unlink(g *group) {
	if g.prev != nil {
		g.prev.next = g.next
	} else {
		rg.oldest = g.next
	}
	if g.next != nil {
		g.next.prev = g.prev
	} else {
		rg.newest = g.prev
	}
	g.prev, g.next = nil, nil
}

// reset starts a new window at ts with m as its first hit.
func (g *group) reset(m *Match, ts int64) {
	period := m.Rule.DedupPeriod
	if period <= 0 {
		period = DefaultDedupPeriod
	}
	g.match, g.start, g.last, g.count, g.logTypes, g.id = m, ts, ts, 0, nil, ""
	g.end = ts + int64(period)
	if g.end < ts { // overflow: the window never ends
		g.end = math.MaxInt64
	}
}

func (g *group) addLogType(lt string) {
	if lt == "" || len(g.logTypes) >= maxAlertLogTypes {
		return
	}
	for _, x := range g.logTypes {
		if x == lt {
			return
		}
	}
	g.logTypes = append(g.logTypes, lt)
}

func threshold(typ AlertType, r *Rule) int {
	if typ == AlertRuleError || r.Threshold < 1 {
		return 1
	}
	return r.Threshold
}

// unixNano is t.UnixNano clamped to the int64 range instead of undefined.
func unixNano(t time.Time) int64 {
	const maxSec = math.MaxInt64 / int64(time.Second)
	switch s := t.Unix(); {
	case s >= maxSec:
		return math.MaxInt64
	case s <= -maxSec:
		return math.MinInt64
	}
	return t.UnixNano()
}

// groupQueue orders groups by window end, then by creation.
type groupQueue []*group

func (q groupQueue) Len() int           { return len(q) }
func (q groupQueue) Less(i, j int) bool { return before(q[i], q[j]) }

// before orders groups by window end, then by creation.
func before(a, b *group) bool {
	if a.end != b.end {
		return a.end < b.end
	}
	return a.seq < b.seq
}
func (q groupQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}
func (q *groupQueue) Push(x any) {
	g := x.(*group)
	g.index = len(*q)
	*q = append(*q, g)
}
func (q *groupQueue) Pop() any {
	old := *q
	n := len(old)
	g := old[n-1]
	old[n-1] = nil
	*q = old[:n-1]
	g.index = -1
	return g
}

// LockedDedup is a DedupTable behind a mutex: a Deduper that is safe for
// concurrent use by multiple goroutines. Advance does not take the lock
// when no window of its clock ends by its time, so calling it for every
// event is cheap.
type LockedDedup struct {
	mu    sync.Mutex
	table *DedupTable
	// next maps each clock to table.nextEnd(clock), or lower; the map is
	// replaced, under mu, to add a clock, so that it is read without a
	// lock.
	next atomic.Pointer[map[string]*atomic.Int64]
}

var _ Deduper = (*LockedDedup)(nil)

// NewLockedDedup returns an empty LockedDedup that keeps at most
// maxGroups groups, which must be positive, holding at most
// DefaultMaxDedupBytes.
func NewLockedDedup(maxGroups int) (*LockedDedup, error) {
	return NewLockedDedupBytes(maxGroups, DefaultMaxDedupBytes)
}

// NewLockedDedupBytes returns an empty LockedDedup that keeps at most
// maxGroups groups holding at most maxBytes bytes (see GroupBytes); both
// must be positive.
func NewLockedDedupBytes(maxGroups int, maxBytes int64) (*LockedDedup, error) {
	t, err := NewDedupTableBytes(maxGroups, maxBytes)
	if err != nil {
		return nil, err
	}
	l := &LockedDedup{table: t}
	l.next.Store(&map[string]*atomic.Int64{})
	return l, nil
}

// ErrInvalidHit is returned by LockedDedup.Observe for a Hit without a
// Match or rule, or of an unknown type.
var ErrInvalidHit = errors.New("detect: invalid hit")

// Observe counts h at time t (see DedupTable.Observe).
func (l *LockedDedup) Observe(h Hit, t time.Time) ([]*Alert, error) {
	return l.observe(h, t, nil)
}

// observe is Observe, appending to out.
func (l *LockedDedup) observe(h Hit, t time.Time, out []*Alert) ([]*Alert, error) {
	if h.Match == nil || h.Match.Rule == nil {
		return out, fmt.Errorf("%w: no match or no rule", ErrInvalidHit)
	}
	if h.Type != AlertRule && h.Type != AlertRuleError {
		return out, fmt.Errorf("%w: type %q", ErrInvalidHit, h.Type)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out = l.table.observe(h, t, out)
	if l.table.pushed {
		// Only a new group lowers the next end of its clock; removals
		// leave the hint lower than need be, which costs a lock once.
		l.table.pushed = false
		l.hint(h.Clock).Store(l.table.nextEnd(h.Clock))
	}
	return out, nil
}

// hint returns the next end of clock's windows as last stored, adding the
// clock if need be; l.mu must be held.
func (l *LockedDedup) hint(clock string) *atomic.Int64 {
	m := *l.next.Load()
	if v := m[clock]; v != nil {
		return v
	}
	v := new(atomic.Int64)
	next := make(map[string]*atomic.Int64, len(m)+1)
	maps.Copy(next, m)
	next[clock] = v
	l.next.Store(&next)
	return v
}

// Advance closes every window of clock that ends at or before t.
func (l *LockedDedup) Advance(clock string, t time.Time) ([]*Alert, error) {
	return l.advance(clock, t, nil), nil
}

// advance is Advance, appending to out.
func (l *LockedDedup) advance(clock string, t time.Time, out []*Alert) []*Alert {
	v := (*l.next.Load())[clock]
	if v == nil {
		return out // no window of clock was ever opened
	}
	if unixNano(t) < v.Load() {
		return out
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out = l.table.advance(clock, t, out)
	v.Store(l.table.nextEnd(clock))
	return out
}

// Flush closes every window.
func (l *LockedDedup) Flush() ([]*Alert, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.table.Flush()
	for _, v := range *l.next.Load() {
		v.Store(math.MaxInt64)
	}
	return out, nil
}

// Stats returns the counters.
func (l *LockedDedup) Stats() DedupStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.table.Stats()
}
