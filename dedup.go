package detect

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxGroups is the number of live dedup groups an Engine keeps in
// memory unless told otherwise (see WithMaxGroups).
const DefaultMaxGroups = 100_000

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
// Each method returns the alerts that the call finished, which the caller
// now owns.
type Deduper interface {
	// Observe counts h at time t, and returns the alerts it finished: the
	// alert of a window that t is past, or one evicted to make room.
	Observe(h Hit, t time.Time) ([]*Alert, error)
	// Advance closes every window that ends at or before t.
	Advance(t time.Time) ([]*Alert, error)
	// Flush closes every window, as at the end of the input.
	Flush() ([]*Alert, error)
	// Stats returns the counters of the deduper.
	Stats() DedupStats
}

// DedupStats are the counters of a Deduper. Every hit ends up in exactly
// one of: an alert's EventCount, Expired windows, or EvictedHits.
type DedupStats struct {
	Groups  int    // live groups (open windows) now
	Hits    uint64 // hits observed
	Alerts  uint64 // alerts returned
	Expired uint64 // windows closed below their threshold, which raise no alert
	// ExpiredHits are the hits of the Expired windows.
	ExpiredHits uint64
	// Evicted counts groups removed early because the table was full.
	// EvictedAlerts of them had reached their threshold and were returned
	// as alerts before their window ended; the others took EvictedHits
	// hits with them that had not reached their threshold.
	Evicted       uint64
	EvictedAlerts uint64
	EvictedHits   uint64
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
// counts in it (closed windows never reopen). A closed window with at
// least the rule's Threshold hits (1 for rule errors) is an alert; one
// with fewer raises nothing and the count starts again at the next hit.
// Alerts are returned when their window closes: when a hit past its end
// arrives, at Advance, at Flush, or when the group is evicted.
//
// Memory is bounded by maxGroups: when a hit needs a new group and the
// table is full, the group whose window ends first is evicted. If it has
// reached its threshold its alert is returned at once, with the count so
// far, and later hits of its window form a new alert; otherwise its hits
// are dropped, counted in DedupStats.EvictedHits.
//
// Times must lie between the years 1678 and 2262 (UnixNano's range);
// others are clamped to it.
type DedupTable struct {
	maxGroups int
	groups    map[groupKey]*group
	queue     groupQueue
	seq       uint64
	stats     DedupStats
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
	logTypes  []string
	seq       uint64 // creation order, to close equal windows in order
	index     int    // in the queue
}

// NewDedupTable returns an empty table that keeps at most maxGroups
// groups, which must be positive.
func NewDedupTable(maxGroups int) (*DedupTable, error) {
	if maxGroups <= 0 {
		return nil, fmt.Errorf("detect: dedup table size %d is not positive", maxGroups)
	}
	return &DedupTable{maxGroups: maxGroups, groups: make(map[groupKey]*group)}, nil
}

// Observe counts h at time t and returns the alerts that this finished
// (see DedupTable). h.Match and h.Match.Rule must not be nil.
func (d *DedupTable) Observe(h Hit, t time.Time) []*Alert {
	ts := unixNano(t)
	m := h.Match
	k := groupKey{typ: h.Type, rule: m.Rule.ID, dedup: m.Dedup}
	var out []*Alert
	g := d.groups[k]
	if g != nil && ts >= g.end {
		if g.count >= g.threshold {
			d.remove(g)
			out = append(out, d.alert(g))
			g = nil
		} else {
			d.expire(g)
			g.reset(m, ts)
			heap.Fix(&d.queue, g.index)
		}
	}
	if g == nil {
		for len(d.groups) >= d.maxGroups {
			out = d.evict(out)
		}
		g = &group{key: k, threshold: threshold(h.Type, m.Rule), seq: d.seq}
		d.seq++
		g.reset(m, ts)
		d.groups[k] = g
		heap.Push(&d.queue, g)
	}
	g.count++
	if ts > g.last {
		g.last = ts
	}
	g.addLogType(h.LogType)
	d.stats.Hits++
	return out
}

// Advance closes every window that ends at or before t and returns the
// alerts among them, in the order their windows end.
func (d *DedupTable) Advance(t time.Time) []*Alert {
	ts := unixNano(t)
	var out []*Alert
	for len(d.queue) > 0 && d.queue[0].end <= ts {
		out = d.close(heap.Pop(&d.queue).(*group), out)
	}
	return out
}

// Flush closes every window and returns the alerts among them, in the
// order their windows end.
func (d *DedupTable) Flush() []*Alert {
	var out []*Alert
	for len(d.queue) > 0 {
		out = d.close(heap.Pop(&d.queue).(*group), out)
	}
	return out
}

// Stats returns the table's counters.
func (d *DedupTable) Stats() DedupStats {
	s := d.stats
	s.Groups = len(d.groups)
	return s
}

// Len returns the number of live groups.
func (d *DedupTable) Len() int { return len(d.groups) }

// nextEnd returns the end of the window that closes first, or MaxInt64.
func (d *DedupTable) nextEnd() int64 {
	if len(d.queue) == 0 {
		return math.MaxInt64
	}
	return d.queue[0].end
}

// close ends a group already out of the queue.
func (d *DedupTable) close(g *group, out []*Alert) []*Alert {
	delete(d.groups, g.key)
	if g.count >= g.threshold {
		return append(out, d.alert(g))
	}
	d.expire(g)
	return out
}

func (d *DedupTable) evict(out []*Alert) []*Alert {
	g := heap.Pop(&d.queue).(*group)
	delete(d.groups, g.key)
	d.stats.Evicted++
	if g.count >= g.threshold {
		d.stats.EvictedAlerts++
		return append(out, d.alert(g))
	}
	d.stats.EvictedHits += uint64(g.count)
	return out
}

func (d *DedupTable) remove(g *group) {
	heap.Remove(&d.queue, g.index)
	delete(d.groups, g.key)
}

func (d *DedupTable) expire(g *group) {
	d.stats.Expired++
	d.stats.ExpiredHits += uint64(g.count)
}

func (d *DedupTable) alert(g *group) *Alert {
	d.stats.Alerts++
	m, r := g.match, g.match.Rule
	logTypes := g.logTypes
	if len(logTypes) == 0 {
		logTypes = r.LogTypes
	} else {
		sort.Strings(logTypes)
	}
	return &Alert{
		ID:           AlertID(g.key.typ, g.key.rule, g.key.dedup, time.Unix(0, g.start)),
		Type:         g.key.typ,
		Rule:         r,
		RuleID:       r.ID,
		Title:        m.Title,
		Severity:     m.Severity,
		Dedup:        m.Dedup,
		EventCount:   g.count,
		CreationTime: time.Unix(0, g.start).UTC(),
		UpdateTime:   time.Unix(0, g.last).UTC(),
		LogTypes:     logTypes,
		Outputs:      m.Outputs,
		Description:  m.Description,
		Runbook:      m.Runbook,
		Reference:    m.Reference,
		Reports:      r.Reports,
		Tags:         r.Tags,
	}
}

// reset starts a new window at ts with m as its first hit.
func (g *group) reset(m *Match, ts int64) {
	period := m.Rule.DedupPeriod
	if period <= 0 {
		period = DefaultDedupPeriod
	}
	g.match, g.start, g.last, g.count, g.logTypes = m, ts, ts, 0, nil
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

func (q groupQueue) Len() int { return len(q) }
func (q groupQueue) Less(i, j int) bool {
	if q[i].end != q[j].end {
		return q[i].end < q[j].end
	}
	return q[i].seq < q[j].seq
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
// when no window ends by its time, so calling it for every event is cheap.
type LockedDedup struct {
	mu    sync.Mutex
	table *DedupTable
	next  atomic.Int64 // table.nextEnd(), readable without the lock
}

var _ Deduper = (*LockedDedup)(nil)

// NewLockedDedup returns an empty LockedDedup that keeps at most
// maxGroups groups, which must be positive.
func NewLockedDedup(maxGroups int) (*LockedDedup, error) {
	t, err := NewDedupTable(maxGroups)
	if err != nil {
		return nil, err
	}
	l := &LockedDedup{table: t}
	l.next.Store(math.MaxInt64)
	return l, nil
}

// ErrInvalidHit is returned by LockedDedup.Observe for a Hit without a
// Match or rule, or of an unknown type.
var ErrInvalidHit = errors.New("detect: invalid hit")

// Observe counts h at time t (see DedupTable.Observe).
func (l *LockedDedup) Observe(h Hit, t time.Time) ([]*Alert, error) {
	if h.Match == nil || h.Match.Rule == nil {
		return nil, fmt.Errorf("%w: no match or no rule", ErrInvalidHit)
	}
	if h.Type != AlertRule && h.Type != AlertRuleError {
		return nil, fmt.Errorf("%w: type %q", ErrInvalidHit, h.Type)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.table.Observe(h, t)
	l.next.Store(l.table.nextEnd())
	return out, nil
}

// Advance closes every window that ends at or before t.
func (l *LockedDedup) Advance(t time.Time) ([]*Alert, error) {
	ts := unixNano(t)
	if ts < l.next.Load() {
		return nil, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.table.Advance(t)
	l.next.Store(l.table.nextEnd())
	return out, nil
}

// Flush closes every window.
func (l *LockedDedup) Flush() ([]*Alert, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.table.Flush()
	l.next.Store(l.table.nextEnd())
	return out, nil
}

// Stats returns the counters.
func (l *LockedDedup) Stats() DedupStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.table.Stats()
}
