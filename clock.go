package detect

import (
	"math"
	"sync"
	"time"
)

// DefaultClockBound is how far ahead of its clock an event time may be and
// still be trusted unless WithClockBound says otherwise: one hour.
const DefaultClockBound = time.Hour

// clockSamples is how many recent event times a clock keeps; it moves to
// their median, so that up to two outliers in any five consecutive events
// cannot move it, and a jump is confirmed by the third event at the new
// time.
const clockSamples = 5

// builtinTimeFields are the fields, tried in order, that give the events
// of Panther's log types their time: p_event_time (Panther's normalised
// time) first, then the field of the log type's own schema, then
// "timestamp".
var builtinTimeFields = map[string][]string{
	"AWS.CloudTrail":              {"p_event_time", "eventTime", "timestamp"},
	"Okta.SystemLog":              {"p_event_time", "published", "timestamp"},
	"GitHub.Audit":                {"p_event_time", "@timestamp", "created_at", "timestamp"},
	"GCP.AuditLog":                {"p_event_time", "timestamp", "receiveTimestamp"},
	"GSuite.ActivityEvent":        {"p_event_time", "id.time", "timestamp"},
	"Azure.Audit":                 {"p_event_time", "time", "timestamp"},
	"Azure.MonitorActivity":       {"p_event_time", "time", "timestamp"},
	"Slack.AuditLogs":             {"p_event_time", "date_create", "timestamp"},
	"OneLogin.Events":             {"p_event_time", "created_at", "timestamp"},
	"Zoom.Operation":              {"p_event_time", "time", "timestamp"},
	"Wiz.Audit":                   {"p_event_time", "timestamp"},
	"Box.Event":                   {"p_event_time", "created_at", "timestamp"},
	"Asana.Audit":                 {"p_event_time", "created_at", "timestamp"},
	"Zendesk.Audit":               {"p_event_time", "created_at", "timestamp"},
	"Notion.AuditLogs":            {"p_event_time", "event.timestamp", "timestamp"},
	"Gravitational.TeleportAudit": {"p_event_time", "time", "timestamp"},
}

// BuiltinTimeFields returns the time fields the engine reads, by default,
// for the events of each log type it knows: p_event_time, then the log
// type's own field, then "timestamp". Other log types read p_event_time,
// then timestamp. WithTimeFields and WithLogTypeTimeFields change them.
func BuiltinTimeFields() map[string][]string {
	out := make(map[string][]string, len(builtinTimeFields))
	for lt, f := range builtinTimeFields {
		out[lt] = append([]string(nil), f...)
	}
	return out
}

// streamClock is the event-time clock of one stream: a log type, or an
// input without log type. Its time is the median of the stream's last
// clockSamples event times once it has three, and never goes back.
type streamClock struct {
	mu   sync.Mutex
	now  int64 // Unix nanoseconds; math.MinInt64 until set
	ring [clockSamples]int64
	// counted marks the samples already counted as distrusted.
	counted [clockSamples]bool
	n       int // samples in ring
	pos     int // where the next sample goes

	events, fallback, distrusted uint64
}

func newStreamClock() *streamClock { return &streamClock{now: math.MinInt64} }

// observe counts an event of time ts (fallback: from the processing
// clock) and returns the time to window it at, whether the clock moved,
// and the clock's time. A time more than bound ahead of the clock is
// windowed at its own time, unless it is also more than bound ahead of
// the processing clock (procNow, read only then): a time from the future
// is windowed at the clock's time. A time more than bound ahead of the
// clock, and of a later time of its stream, was an outlier that its
// stream went back on: it is counted as distrusted, once.
func (c *streamClock) observe(ts int64, fallback bool, bound int64, procNow func() int64) (at int64, moved bool, now int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events++
	if fallback {
		c.fallback++
	}
	for i, s := range c.ring[:c.n] {
		if !c.counted[i] && ahead(s, ts, bound) && (c.now == math.MinInt64 || ahead(s, c.now, bound)) {
			c.counted[i] = true
			c.distrusted++
		}
	}
	full := c.n == clockSamples
	c.ring[c.pos], c.counted[c.pos] = ts, false
	c.pos = (c.pos + 1) % clockSamples
	if !full {
		c.n++
	}
	// A time not after the clock's cannot raise the median above it: the
	// median had to be at most the clock's before.
	if c.n >= 3 && (c.n == 3 || ts > c.now) {
		if m := median(c.ring[:c.n]); m > c.now {
			c.now, moved = m, true
		}
	}
	at = ts
	if c.now != math.MinInt64 && ahead(ts, c.now, bound) && ahead(ts, procNow(), bound) {
		at = c.now
	}
	return at, moved, c.now
}

// advance moves the clock on to ts if it is later, and reports whether it
// moved.
func (c *streamClock) advance(ts int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts > c.now {
		c.now = ts
		return true
	}
	return false
}

func (c *streamClock) stats() ClockStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := ClockStats{Events: c.events, Fallback: c.fallback, Distrusted: c.distrusted}
	if c.now != math.MinInt64 {
		s.Time = time.Unix(0, c.now).UTC()
	}
	return s
}

// ahead reports whether ts is more than bound after now.
func ahead(ts, now, bound int64) bool {
	return ts > now && uint64(ts)-uint64(now) > uint64(bound)
}

// median returns the median of s, the lower one of an even count.
func median(s []int64) int64 {
	var a [clockSamples]int64
	n := copy(a[:], s)
	for i := 1; i < n; i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
	return a[(n-1)/2]
}

// ClockStats are the counters of one of an Engine's clocks.
type ClockStats struct {
	// Time is the clock's time; zero until the clock has three events.
	Time time.Time
	// Events are the events the clock timed; Fallback of them had no
	// usable time and were timed by the processing clock (WithClock).
	Events, Fallback uint64
	// Distrusted are the event times that were outliers: more than the
	// bound (WithClockBound) ahead of the clock and of a later event time
	// of the stream (which went back). They did not move the clock.
	Distrusted uint64
}
