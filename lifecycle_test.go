package detect_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/detectkit/detect"
)

// states returns "STEP RULE/DEDUP n=COUNT @CREATION" for each alert state,
// in the order received.
func states(alerts []*detect.Alert) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, fmt.Sprintf("%s %s/%s n=%d @%s", a.Step, a.RuleID, a.Dedup, a.EventCount, a.CreationTime.Format("15:04")))
	}
	return out
}

// recorder is a sink keeping every state in order.
type recorder struct{ got []*detect.Alert }

func (r *recorder) Send(a *detect.Alert) error { r.got = append(r.got, a); return nil }

// TestAlertLifecycle checks that an alert reaches the sink within the
// Process call that creates it, for threshold 1 and for the match that
// reaches threshold N, and that its final state, with the same ID, comes
// when its window closes, with the count of every match in it.
func TestAlertLifecycle(t *testing.T) {
	for _, threshold := range []int{1, 3} {
		t.Run(fmt.Sprintf("threshold %d", threshold), func(t *testing.T) {
			r := &detect.Rule{Severity: detect.SeverityLow, ID: "R", Condition: `kind == "x"`, GroupBy: []string{"user"}, Threshold: threshold, DedupPeriod: 10 * time.Minute}
			rec := &recorder{}
			e, err := detect.NewEngine([]*detect.Rule{r}, detect.WithSink(rec))
			if err != nil {
				t.Fatal(err)
			}
			ev := func(kind string, min int) string {
				return fmt.Sprintf(`{"kind":%q,"user":"a","p_event_time":"2024-07-31T10:%02d:00Z"}`, kind, min)
			}
			for i := 0; i < threshold; i++ {
				if len(rec.got) != 0 {
					t.Fatalf("before match %d: %q; want nothing yet", i+1, states(rec.got))
				}
				process(t, e, ev("x", i))
			}
			// The match that reached the threshold delivered the alert.
			if got := strings.Join(states(rec.got), "; "); got != fmt.Sprintf("created R/a n=%d @10:00", threshold) {
				t.Fatalf("after the match reaching the threshold: %s", got)
			}
			process(t, e, ev("x", 5)) // a later match updates it, silently
			if len(rec.got) != 1 {
				t.Fatalf("after a later match: %q; want the created state only", states(rec.got))
			}
			// The clock passing the window's end (10:10) delivers the
			// final state: three of the last five times are past it.
			process(t, e, ev("y", 11), ev("y", 12))
			if len(rec.got) != 1 {
				t.Fatalf("with the clock at 10:05: %q", states(rec.got))
			}
			process(t, e, ev("y", 13))
			want := fmt.Sprintf("created R/a n=%d @10:00; final R/a n=%d @10:00", threshold, threshold+1)
			if got := strings.Join(states(rec.got), "; "); got != want {
				t.Fatalf("after the window closed: %s; want %s", got, want)
			}
			if a, b := rec.got[0], rec.got[1]; a.ID != b.ID || !b.UpdateTime.Equal(time.Date(2024, 7, 31, 10, 5, 0, 0, time.UTC)) {
				t.Errorf("IDs %s and %s, final update time %v; want one ID and 10:05", a.ID, b.ID, b.UpdateTime)
			}
			if err := e.Flush(); err != nil || len(rec.got) != 2 {
				t.Errorf("Flush() = %v and %d states; want nothing more", err, len(rec.got))
			}
			if s := e.Stats(); s.Alerts != 1 || s.Delivered != 2 || s.Failed != 0 {
				t.Errorf("Stats() = %d alerts, %d delivered, %d failed; want 1, 2, 0", s.Alerts, s.Delivered, s.Failed)
			}
		})
	}
}

// TestAlertLifecycleFlush checks that Flush delivers the final state of an
// open alert, and that in replay mode only final states are delivered.
func TestAlertLifecycleFlush(t *testing.T) {
	r := &detect.Rule{Severity: detect.SeverityLow, ID: "R", Condition: "true", GroupBy: []string{"user"}, Threshold: 2}
	events := []string{
		`{"user":"a","p_event_time":"2024-07-31T10:00:00Z"}`,
		`{"user":"b","p_event_time":"2024-07-31T10:01:00Z"}`,
		`{"user":"a","p_event_time":"2024-07-31T10:02:00Z"}`,
		`{"user":"a","p_event_time":"2024-07-31T10:03:00Z"}`,
	}
	for _, tt := range []struct {
		name string
		opts []detect.EngineOption
		want string
	}{
		{"live", nil, "created R/a n=2 @10:00; final R/a n=3 @10:00"},
		{"replay", []detect.EngineOption{detect.WithReplay()}, "final R/a n=3 @10:00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			e, err := detect.NewEngine([]*detect.Rule{r}, append(tt.opts, detect.WithSink(rec))...)
			if err != nil {
				t.Fatal(err)
			}
			process(t, e, events...)
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(states(rec.got), "; "); got != tt.want {
				t.Errorf("states %s; want %s", got, tt.want)
			}
			s := e.Stats()
			if s.Alerts != 1 || s.Dedup.Expired != 1 || s.Dedup.ExpiredHits != 1 {
				t.Errorf("Stats() = %+v; want 1 alert, b's window expired below threshold with 1 match", s)
			}
		})
	}
}

// failedLogins is the rule of the clock scenarios: five failed logins of
// one user within an hour.
var failedLogins = &detect.Rule{Severity: detect.SeverityLow, ID: "Failed.Logins", LogTypes: []string{"T"}, Condition: `action == "Login"`, GroupBy: []string{"user"}, Threshold: 5}

func logins(from, n int) []string {
	var out []string
	for i := from; i < from+n; i++ {
		out = append(out, fmt.Sprintf(`{"p_log_type":"T","action":"Login","user":"victim","p_event_time":"2025-01-01T00:%02d:00Z"}`, i))
	}
	return out
}

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestClockScenarios checks that a disturbance of the stream (a time far
// ahead, an epoch in the wrong unit, another log source an hour ahead,
// times without a zone) gives the alerts of the same stream without it,
// and that the disturbance is counted.
func TestClockScenarios(t *testing.T) {
	const poison = `{"p_log_type":"T","p_event_time":"2200-01-01T00:00:00Z"}`
	const epoch = `{"p_log_type":"T","timestamp":9000000000000000}`
	undisturbed := logins(0, 6)
	other := func(min int) string {
		return fmt.Sprintf(`{"p_log_type":"X","p_event_time":"2025-01-01T01:%02d:00Z"}`, min)
	}
	tests := []struct {
		name   string
		events []string
		check  func(t *testing.T, s detect.EngineStats)
	}{
		{"poison line first", concat([]string{poison}, logins(0, 6)), distrusted("T", 1)},
		{"poison line mid-stream", concat(logins(0, 3), []string{poison}, logins(3, 3)), distrusted("T", 1)},
		{"two poison lines mid-stream", concat(logins(0, 3), []string{poison, poison}, logins(3, 3)), distrusted("T", 2)},
		{"an epoch in microseconds", concat([]string{epoch}, logins(0, 3), []string{epoch}, logins(3, 3)), distrusted("T", 2)},
		{"another log source an hour ahead", concat([]string{other(1), other(2), other(3)}, logins(0, 6)), func(t *testing.T, s detect.EngineStats) {
			if x, tt := s.Clocks["X"].Time, s.Clocks["T"].Time; x.Hour() != 1 || tt.Hour() != 0 || s.Distrusted != 0 {
				t.Errorf("clocks X at %v, T at %v, %d distrusted; want 01:0x, 00:0x, 0", x, tt, s.Distrusted)
			}
		}},
		{"times without a zone", func() []string {
			var out []string
			for _, l := range logins(0, 6) {
				out = append(out, strings.Replace(l, `:00Z"`, `:00"`, 1))
			}
			return out
		}(), func(t *testing.T, s detect.EngineStats) {
			if s.Fallback != 0 {
				t.Errorf("%d events timed by the processing clock; want 0", s.Fallback)
			}
		}},
	}
	run := func(t *testing.T, events []string) ([]string, detect.EngineStats) {
		rec := &recorder{}
		e, err := detect.NewEngine([]*detect.Rule{failedLogins}, detect.WithSink(rec),
			detect.WithClock(func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }))
		if err != nil {
			t.Fatal(err)
		}
		process(t, e, events...)
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
		return states(rec.got), e.Stats()
	}
	// A sparse stream, hours between events, is not distrusted: each
	// time is confirmed by the ones after it.
	var sparse []string
	for h := range 12 {
		sparse = append(sparse, fmt.Sprintf(`{"p_log_type":"T","action":"Login","user":"u%d","p_event_time":"2025-01-01T%02d:00:00Z"}`, h, 2*h))
	}
	if _, s := run(t, sparse); s.Distrusted != 0 || s.Clocks["T"].Time.Hour() != 18 {
		t.Errorf("sparse stream: %d distrusted, clock at %v; want 0 and 18:00", s.Distrusted, s.Clocks["T"].Time)
	}
	// A time from the future in the victim's own stream of matches is
	// windowed at the clock's time: it joins the open window instead of
	// closing it.
	own := strings.Replace(logins(0, 1)[0], "2025-01-01T00:00:00Z", "2200-01-01T00:00:00Z", 1)
	if got, s := run(t, concat(logins(0, 3), []string{own}, logins(3, 3))); strings.Join(got, "; ") !=
		"created Failed.Logins/victim n=5 @00:00; final Failed.Logins/victim n=7 @00:00" || s.Distrusted != 1 {
		t.Errorf("a poisoned match: %q, %d distrusted", got, s.Distrusted)
	}
	want, ws := run(t, undisturbed)
	if strings.Join(want, "; ") != "created Failed.Logins/victim n=5 @00:00; final Failed.Logins/victim n=6 @00:00" || ws.Distrusted != 0 {
		t.Fatalf("undisturbed: %q, %d distrusted", want, ws.Distrusted)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, s := run(t, tt.events)
			if strings.Join(got, "; ") != strings.Join(want, "; ") {
				t.Errorf("alerts %q; without the disturbance %q", got, want)
			}
			tt.check(t, s)
		})
	}
}

func distrusted(clock string, n uint64) func(*testing.T, detect.EngineStats) {
	return func(t *testing.T, s detect.EngineStats) {
		t.Helper()
		if got := s.Clocks[clock].Distrusted; got != n || s.Distrusted != n {
			t.Errorf("clock %s: %d distrusted times (%d in all); want %d", clock, got, s.Distrusted, n)
		}
	}
}

// TestClockJump checks that a genuine jump (a stream resuming the next
// day) closes the old windows once the stream confirms it: at the third
// event at the new time, before any Flush.
func TestClockJump(t *testing.T) {
	r := &detect.Rule{Severity: detect.SeverityLow, ID: "R", LogTypes: []string{"T"}, Condition: "true", GroupBy: []string{"user"}}
	rec := &recorder{}
	e, err := detect.NewEngine([]*detect.Rule{r}, detect.WithSink(rec))
	if err != nil {
		t.Fatal(err)
	}
	ev := func(user, at string) string {
		return fmt.Sprintf(`{"p_log_type":"T","user":%q,"p_event_time":"%s"}`, user, at)
	}
	process(t, e, ev("a", "2025-01-01T10:00:00Z"), ev("a", "2025-01-01T10:01:00Z"), ev("a", "2025-01-01T10:02:00Z"))
	process(t, e, ev("b", "2025-01-02T10:00:00Z"), ev("b", "2025-01-02T10:01:00Z"))
	// The first two times of the new day open b's window at their own
	// time, but do not move the clock: a's window stays open.
	if got := strings.Join(states(rec.got), "; "); got != "created R/a n=1 @10:00; created R/b n=1 @10:00" {
		t.Fatalf("before the jump is confirmed: %s", got)
	}
	if s := e.Stats().Clocks["T"]; s.Time.Day() != 1 {
		t.Fatalf("clock T before the jump is confirmed: %+v; want the first day", s)
	}
	// The third time of the new day confirms it: a's window closes.
	process(t, e, ev("b", "2025-01-02T10:02:00Z"))
	want := "created R/a n=1 @10:00; created R/b n=1 @10:00; final R/a n=3 @10:00"
	if got := strings.Join(states(rec.got), "; "); got != want {
		t.Fatalf("after the jump: %s; want %s", got, want)
	}
	if s := e.Stats().Clocks["T"]; s.Distrusted != 0 || s.Time.Day() != 2 {
		t.Errorf("clock T: %+v; want no distrusted time, at the next day", s)
	}
}

// TestLogTypeTimeFields checks that CloudTrail and Okta events are
// windowed on their own time fields, that WithLogTypeTimeFields overrides
// a log type's, and that events without a time are counted.
func TestLogTypeTimeFields(t *testing.T) {
	ct := &detect.Rule{Severity: detect.SeverityLow, ID: "CT", LogTypes: []string{"AWS.CloudTrail", "Okta.SystemLog", "My.Log"}, Condition: "true", GroupBy: []string{"p_log_type"}, DedupPeriod: 10 * time.Minute}
	rec := &recorder{}
	e, err := detect.NewEngine([]*detect.Rule{ct}, detect.WithSink(rec), detect.WithReplay(),
		detect.WithLogTypeTimeFields("My.Log", "meta.at"),
		detect.WithClock(func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }))
	if err != nil {
		t.Fatal(err)
	}
	process(t, e,
		`{"p_log_type":"AWS.CloudTrail","eventTime":"2025-05-30T12:00:00Z"}`,
		`{"p_log_type":"AWS.CloudTrail","eventTime":"2025-05-30T12:05:00Z"}`,
		`{"p_log_type":"AWS.CloudTrail","eventTime":"2025-05-30T12:20:00Z"}`,
		`{"p_log_type":"Okta.SystemLog","published":"2024-05-02 18:46:21.121000000"}`,
		`{"p_log_type":"Okta.SystemLog","published":"2024-05-02 19:46:21.121000000"}`,
		`{"p_log_type":"My.Log","meta":{"at":"2024-01-01T08:00:00"},"timestamp":"2020-01-01T00:00:00Z"}`,
		`{"p_log_type":"My.Log"}`,
	)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range rec.got {
		got = append(got, fmt.Sprintf("%s n=%d @%s", a.Dedup, a.EventCount, a.CreationTime.Format(time.DateTime)))
	}
	want := "AWS.CloudTrail n=1 @2025-05-30 12:20:00; AWS.CloudTrail n=2 @2025-05-30 12:00:00; " +
		"My.Log n=1 @2024-01-01 08:00:00; My.Log n=1 @2030-01-01 00:00:00; " +
		"Okta.SystemLog n=1 @2024-05-02 18:46:21; Okta.SystemLog n=1 @2024-05-02 19:46:21"
	sort.Strings(got)
	if strings.Join(got, "; ") != want {
		t.Errorf("alerts\n%s\nwant\n%s", strings.Join(got, "; "), want)
	}
	if s := e.Stats(); s.Fallback != 1 || s.Clocks["My.Log"].Fallback != 1 {
		t.Errorf("%d events timed by the processing clock (%+v); want My.Log's last one", s.Fallback, s.Clocks)
	}
}

// TestEvictionFlood checks that one rule's flood of distinct dedup strings
// evicts its own groups, not another rule's: the victim's alert is the one
// of the stream without the flood, and every match is accounted for.
func TestEvictionFlood(t *testing.T) {
	junk := &detect.Rule{Severity: detect.SeverityLow, ID: "Junk", LogTypes: []string{"T"}, Condition: `action == "Junk"`, GroupBy: []string{"key"}}
	flood := make([]string, 20_000)
	for i := range flood {
		flood[i] = fmt.Sprintf(`{"p_log_type":"T","action":"Junk","key":"k%d","p_event_time":"2025-01-01T00:02:30Z"}`, i)
	}
	rec := &recorder{}
	e, err := detect.NewEngine([]*detect.Rule{failedLogins, junk}, detect.WithSink(rec), detect.WithReplay(), detect.WithMaxGroups(1000))
	if err != nil {
		t.Fatal(err)
	}
	process(t, e, concat(logins(0, 3), flood, logins(3, 3))...)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	var victim []string
	for _, a := range rec.got {
		if a.RuleID == failedLogins.ID {
			victim = append(victim, fmt.Sprintf("n=%d", a.EventCount))
		}
	}
	if strings.Join(victim, " ") != "n=6" {
		t.Errorf("the victim's alerts: %q; want one of 6 events", victim)
	}
	s := e.Stats()
	fl, vi := s.Dedup.Rules["Junk"], s.Dedup.Rules[failedLogins.ID]
	if fl.Evicted == 0 || vi.Evicted != 0 || s.Dedup.Evicted != fl.Evicted {
		t.Errorf("evicted: Junk %d, victim %d, in all %d; want only Junk's", fl.Evicted, vi.Evicted, s.Dedup.Evicted)
	}
	checkEngineConservation(t, s)
}

// checkEngineConservation checks, after Flush, that every match and rule
// error of rules that raise alerts is counted in exactly one place: in an
// alert's final event count, in a window expired below threshold, or in an
// evicted group; in total and for each rule.
func checkEngineConservation(t *testing.T, s detect.EngineStats) {
	t.Helper()
	d := s.Dedup
	if want := s.Matches - s.Suppressed + s.RuleErrors; d.AlertHits+d.ExpiredHits+d.EvictedHits != want || d.Hits != want || d.OpenHits != 0 {
		t.Errorf("%d in alerts + %d expired + %d evicted (%d open); want %d matches and rule errors",
			d.AlertHits, d.ExpiredHits, d.EvictedHits, d.OpenHits, want)
	}
	for id, c := range d.Rules {
		if c.AlertHits+c.ExpiredHits+c.EvictedHits != c.Hits {
			t.Errorf("rule %s: %d in alerts + %d expired + %d evicted; want %d", id, c.AlertHits, c.ExpiredHits, c.EvictedHits, c.Hits)
		}
	}
}

// TestDedupBytes checks that the dedup table's bound in bytes holds, that
// reaching it evicts, and that the bytes are counted per rule.
func TestDedupBytes(t *testing.T) {
	r := testRule("R", 0, 0)
	small := &detect.Match{Rule: r, Dedup: "a"}
	big := &detect.Match{Rule: r, Dedup: "bb", Outputs: detect.Outputs{{Name: "blob", Value: strings.Repeat("x", 10_000)}}}
	if gs, gb := detect.GroupBytes(small), detect.GroupBytes(big); gb-gs < 10_000 {
		t.Fatalf("GroupBytes: %d small, %d with a 10,000-byte output", gs, gb)
	}
	budget := 5 * detect.GroupBytes(big)
	d, err := detect.NewDedupTableBytes(1_000_000, budget)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		m := *big
		m.Dedup = fmt.Sprintf("%02d", i)
		d.Observe(detect.Hit{Type: detect.AlertRule, Match: &m}, at(time.Duration(i)*time.Second))
		if s := d.Stats(); s.Bytes > budget {
			t.Fatalf("after %d hits: %d bytes; want at most %d", i+1, s.Bytes, budget)
		}
	}
	s := d.Stats()
	if s.Groups != 5 || s.Evicted != 95 || s.Rules["R"].Bytes != s.Bytes {
		t.Errorf("Stats() = %+v; want 5 groups, 95 evicted, R holding the bytes", s)
	}
	// One group larger than the budget is kept alone.
	d, _ = detect.NewDedupTableBytes(10, 100)
	d.Observe(detect.Hit{Type: detect.AlertRule, Match: big}, t0)
	if d.Len() != 1 {
		t.Errorf("a group over the budget: Len() = %d; want 1", d.Len())
	}
	if _, err := detect.NewDedupTableBytes(10, 0); err == nil {
		t.Error("NewDedupTableBytes(10, 0) succeeded; want an error")
	}
}

// flakySink fails with the errors in errs, in turn, then succeeds.
type flakySink struct {
	errs  []error
	calls int
	got   []*detect.Alert
}

func (f *flakySink) Send(a *detect.Alert) error {
	f.calls++
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return err
	}
	f.got = append(f.got, a)
	return nil
}

// TestSinkRetry checks that a temporary sink error is retried with a
// bounded number of attempts, that other errors are not, that a done
// context ends the retries, and that delivered and failed states are
// counted apart.
func TestSinkRetry(t *testing.T) {
	busy := detect.Temporary(errors.New("busy"))
	down := errors.New("down")
	tests := []struct {
		name          string
		errs          []error
		ctx           context.Context
		calls         int
		delivered     uint64
		failed, retry uint64
	}{
		{"temporary errors, then success", []error{busy, busy}, context.Background(), 3, 1, 0, 2},
		{"a permanent error is not retried", []error{down}, context.Background(), 1, 0, 1, 0},
		{"retries are bounded", []error{busy, busy, busy, busy, busy}, context.Background(), 4, 0, 1, 3},
		{"a done context ends the retries", []error{busy, busy}, canceled(), 1, 0, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &flakySink{errs: tt.errs}
			e, err := detect.NewEngine([]*detect.Rule{{Severity: detect.SeverityLow, ID: "R", Condition: "true"}}, detect.WithSink(sink),
				detect.WithReplay(), detect.WithSinkRetry(3, time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			process(t, e, `{"a":1}`)
			err = e.FlushContext(tt.ctx)
			var se *detect.SinkError
			if (tt.failed > 0) != errors.As(err, &se) {
				t.Errorf("FlushContext() = %v", err)
			}
			s := e.Stats()
			if sink.calls != tt.calls || s.Delivered != tt.delivered || s.Failed != tt.failed || s.Retried != tt.retry {
				t.Errorf("%d calls, Stats() %d delivered, %d failed, %d retried; want %d, %d, %d, %d",
					sink.calls, s.Delivered, s.Failed, s.Retried, tt.calls, tt.delivered, tt.failed, tt.retry)
			}
		})
	}
	if _, err := detect.NewEngine(nil, detect.WithSink(&recorder{}), detect.WithSinkRetry(-1, 0)); err == nil {
		t.Error("WithSinkRetry(-1, 0) accepted")
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestScannerContext checks that Scan returns when its context is done,
// even while its input blocks (a pipe that stays open), having processed
// every line read whole; and that Flush then delivers the open alerts.
func TestScannerContext(t *testing.T) {
	rec := &recorder{}
	e, err := detect.NewEngine([]*detect.Rule{{Severity: detect.SeverityLow, ID: "R", Condition: "true", GroupBy: []string{"k"}}}, detect.WithSink(rec))
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	sc := &detect.Scanner{Engine: e}
	done := make(chan error, 1)
	go func() { done <- sc.Scan(ctx, pr, "pipe") }()
	fmt.Fprintln(pw, `{"k":1,"p_event_time":"2025-01-01T00:00:00Z"}`)
	fmt.Fprintln(pw, `{"k":1,"p_event_time":"2025-01-01T00:01:00Z"}`)
	fmt.Fprint(pw, `{"k":2,`) // half a line: not an event
	for deadline := time.Now().Add(10 * time.Second); sc.Stats().Events < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the scanner did not read two lines")
		}
		time.Sleep(time.Millisecond)
	}
	if got := strings.Join(states(rec.got), "; "); got != "created R/1 n=1 @00:00" {
		t.Fatalf("while reading: %s; want the created alert", got)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Scan() = %v; want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Scan did not return when its context was canceled")
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(states(rec.got), "; "); got != "created R/1 n=1 @00:00; final R/1 n=2 @00:00" || sc.Stats().Events != 2 {
		t.Errorf("after Flush: %s, %d events; want the final state of 2", got, sc.Stats().Events)
	}
}
