package detect_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rules"
)

// t0 is the start of scripted time in these tests.
var t0 = time.Date(2024, 7, 31, 12, 0, 0, 0, time.UTC)

// at returns t0 plus d, written as in the tables: at(61*time.Minute).
func at(d time.Duration) time.Time { return t0.Add(d) }

// step is one call on a deduper in a scripted test: Observe a hit of rule
// with dedup string key at time t, Advance to t, or Flush.
type step struct {
	op   string // "hit" (default), "err", "advance", "flush"
	rule *detect.Rule
	key  string
	t    time.Duration
}

func hit(r *detect.Rule, key string, t time.Duration) step {
	return step{rule: r, key: key, t: t}
}
func errHit(r *detect.Rule, key string, t time.Duration) step {
	return step{op: "err", rule: r, key: key, t: t}
}
func advance(t time.Duration) step { return step{op: "advance", t: t} }
func flush() step                  { return step{op: "flush"} }

// summary writes an alert as the tables expect it: "@STEP TYPE RULE/KEY
// n=COUNT [CREATED,UPDATED]", with times as offsets from t0 and STEP the
// index of the step that emitted it.
func summary(i int, a *detect.Alert) string {
	return fmt.Sprintf("@%d %s %s/%s n=%d [%v,%v]", i, a.Type, a.RuleID, a.Dedup, a.EventCount,
		a.CreationTime.Sub(t0), a.UpdateTime.Sub(t0))
}

func testRule(id string, period time.Duration, threshold int) *detect.Rule {
	return detect.MustCompile(&detect.Rule{Severity: detect.SeverityInfo, ID: id, Condition: "true", DedupPeriod: period, Threshold: threshold})
}

// run plays steps on d and returns the final states of the alerts in the
// order emitted (TestDedupLifecycle checks the created states).
func run(t *testing.T, d detect.Deduper, steps []step) []string {
	t.Helper()
	var got []string
	for i, s := range steps {
		var (
			alerts []*detect.Alert
			err    error
		)
		switch s.op {
		case "", "err":
			h := detect.Hit{Type: detect.AlertRule, Match: &detect.Match{Rule: s.rule, Dedup: s.key, Title: s.key}}
			if s.op == "err" {
				h.Type = detect.AlertRuleError
			}
			alerts, err = d.Observe(h, at(s.t))
		case "advance":
			alerts, err = d.Advance("", at(s.t))
		case "flush":
			alerts, err = d.Flush()
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		for _, a := range alerts {
			if a.Step == detect.StepFinal {
				got = append(got, summary(i, a))
			}
		}
	}
	return got
}

func TestDedupWindows(t *testing.T) {
	const h = time.Hour
	const m = time.Minute
	r := testRule("R", 0, 0) // default period: one hour
	r2 := testRule("R2", 0, 0)
	r3 := testRule("R3", 0, 3)
	r10 := testRule("R10", 10*m, 0)
	tests := []struct {
		name  string
		steps []step
		want  []string
	}{{
		name:  "one match",
		steps: []step{hit(r, "a", 5*m), flush()},
		want:  []string{"@1 RULE R/a n=1 [5m0s,5m0s]"},
	}, {
		name:  "a match just before the end joins",
		steps: []step{hit(r, "a", 0), hit(r, "a", h-time.Nanosecond), flush()},
		want:  []string{"@2 RULE R/a n=2 [0s,59m59.999999999s]"},
	}, {
		name:  "a match exactly at the end opens a new alert",
		steps: []step{hit(r, "a", 0), hit(r, "a", 30*m), hit(r, "a", h), flush()},
		want:  []string{"@2 RULE R/a n=2 [0s,30m0s]", "@3 RULE R/a n=1 [1h0m0s,1h0m0s]"},
	}, {
		name:  "windows are fixed, not sliding",
		steps: []step{hit(r, "a", 0), hit(r, "a", 50*m), hit(r, "a", 70*m), hit(r, "a", 100*m), flush()},
		want:  []string{"@2 RULE R/a n=2 [0s,50m0s]", "@4 RULE R/a n=2 [1h10m0s,1h40m0s]"},
	}, {
		name:  "advance to the end closes the window",
		steps: []step{hit(r, "a", 0), advance(h - time.Nanosecond), advance(h), hit(r, "a", h), flush()},
		want:  []string{"@2 RULE R/a n=1 [0s,0s]", "@4 RULE R/a n=1 [1h0m0s,1h0m0s]"},
	}, {
		name:  "the rule's period",
		steps: []step{hit(r10, "a", 0), hit(r10, "a", 9*m), hit(r10, "a", 10*m), advance(20 * m)},
		want:  []string{"@2 RULE R10/a n=2 [0s,9m0s]", "@3 RULE R10/a n=1 [10m0s,10m0s]"},
	}, {
		name:  "threshold reached",
		steps: []step{hit(r3, "a", 0), hit(r3, "a", 10*m), advance(30 * m), hit(r3, "a", 59*m), hit(r3, "a", 59*m), advance(h)},
		want:  []string{"@5 RULE R3/a n=4 [0s,59m0s]"},
	}, {
		name:  "threshold not reached: the count restarts at the next match",
		steps: []step{hit(r3, "a", 0), hit(r3, "a", 10*m), hit(r3, "a", 70*m), hit(r3, "a", 80*m), hit(r3, "a", 129*m), flush()},
		want:  []string{"@5 RULE R3/a n=3 [1h10m0s,2h9m0s]"},
	}, {
		name:  "threshold not reached by the end of the input",
		steps: []step{hit(r3, "a", 0), hit(r3, "a", 10*m), flush()},
		want:  nil,
	}, {
		name:  "threshold not reached when advance closes the window",
		steps: []step{hit(r3, "a", 0), hit(r3, "a", 10*m), advance(h), hit(r3, "a", h), hit(r3, "a", h), flush()},
		want:  nil,
	}, {
		name: "interleaved groups",
		steps: []step{
			hit(r, "a", 0), hit(r, "b", 10*m), hit(r, "a", 30*m), hit(r, "b", 65*m),
			hit(r, "a", 61*m), advance(70 * m), flush(),
		},
		want: []string{"@4 RULE R/a n=2 [0s,30m0s]", "@5 RULE R/b n=2 [10m0s,1h5m0s]", "@6 RULE R/a n=1 [1h1m0s,1h1m0s]"},
	}, {
		name:  "two rules with the same dedup string are separate alerts",
		steps: []step{hit(r, "a", 0), hit(r2, "a", 1*m), hit(r, "a", 2*m), flush()},
		want:  []string{"@3 RULE R/a n=2 [0s,2m0s]", "@3 RULE R2/a n=1 [1m0s,1m0s]"},
	}, {
		name:  "a rule error and a match with the same dedup string are separate alerts",
		steps: []step{hit(r, "a", 0), errHit(r, "a", 1*m), flush()},
		want:  []string{"@2 RULE R/a n=1 [0s,0s]", "@2 RULE_ERROR R/a n=1 [1m0s,1m0s]"},
	}, {
		name:  "rule errors ignore the threshold",
		steps: []step{errHit(r3, "kind", 0), flush()},
		want:  []string{"@1 RULE_ERROR R3/kind n=1 [0s,0s]"},
	}, {
		name:  "an old match counts in the current window",
		steps: []step{hit(r, "a", 100*m), hit(r, "a", 50*m), hit(r, "a", -10*h), flush()},
		want:  []string{"@3 RULE R/a n=3 [1h40m0s,1h40m0s]"},
	}, {
		name:  "closed windows never reopen",
		steps: []step{hit(r, "a", 0), hit(r, "a", 70*m), hit(r, "a", 30*m), flush()},
		want:  []string{"@1 RULE R/a n=1 [0s,0s]", "@3 RULE R/a n=2 [1h10m0s,1h10m0s]"},
	}, {
		name:  "an old match counts towards the threshold",
		steps: []step{hit(r3, "a", 30*m), hit(r3, "a", 0), hit(r3, "a", 10*m), advance(90 * m)},
		want:  []string{"@3 RULE R3/a n=3 [30m0s,30m0s]"},
	}, {
		name:  "flush emits in the order windows end",
		steps: []step{hit(r10, "x", 20*m), hit(r, "y", 0), hit(r, "z", 0), hit(r10, "w", 20*m), flush()},
		want:  []string{"@4 RULE R10/x n=1 [20m0s,20m0s]", "@4 RULE R10/w n=1 [20m0s,20m0s]", "@4 RULE R/y n=1 [0s,0s]", "@4 RULE R/z n=1 [0s,0s]"},
	}, {
		name:  "flush leaves the table empty",
		steps: []step{hit(r, "a", 0), flush(), hit(r, "a", 1*m), flush(), flush()},
		want:  []string{"@1 RULE R/a n=1 [0s,0s]", "@3 RULE R/a n=1 [1m0s,1m0s]"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := detect.NewLockedDedup(100)
			if err != nil {
				t.Fatal(err)
			}
			got := run(t, d, tt.steps)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			checkConservation(t, d.Stats(), got)
		})
	}
}

// checkConservation checks that every hit is accounted for, once all
// windows are closed or the table still holds them.
func checkConservation(t *testing.T, s detect.DedupStats, alerts []string) {
	t.Helper()
	var inAlerts uint64
	for _, a := range alerts {
		var n uint64
		fmt.Sscanf(a[strings.Index(a, " n=")+3:], "%d", &n)
		inAlerts += n
	}
	if inAlerts != s.AlertHits || inAlerts+s.ExpiredHits+s.EvictedHits+s.OpenHits != s.Hits {
		t.Errorf("hits: %d in alerts (AlertHits %d) + %d expired + %d evicted + %d open; want %d",
			inAlerts, s.AlertHits, s.ExpiredHits, s.EvictedHits, s.OpenHits, s.Hits)
	}
	var sum detect.DedupCounts
	for _, c := range s.Rules {
		sum.Groups += c.Groups
		sum.Bytes += c.Bytes
		sum.Hits += c.Hits
		sum.Alerts += c.Alerts
		sum.AlertHits += c.AlertHits
		sum.OpenHits += c.OpenHits
		sum.Expired += c.Expired
		sum.ExpiredHits += c.ExpiredHits
		sum.Evicted += c.Evicted
		sum.EvictedAlerts += c.EvictedAlerts
		sum.EvictedHits += c.EvictedHits
	}
	if sum != s.DedupCounts {
		t.Errorf("the rules' counters add up to %+v; the totals are %+v", sum, s.DedupCounts)
	}
	if s.OpenHits == 0 && s.Alerts != uint64(len(alerts)) {
		t.Errorf("Stats().Alerts = %d; want %d", s.Alerts, len(alerts))
	}
}

func TestDedupFull(t *testing.T) {
	const m = time.Minute
	r := testRule("R", 0, 0)
	r10 := testRule("R10", 10*m, 0)
	r2 := testRule("R2", 0, 2)
	tests := []struct {
		name  string
		max   int
		steps []step
		want  []string
		stats detect.DedupCounts
	}{{
		name:  "the group that ends first is evicted and its alert emitted",
		max:   2,
		steps: []step{hit(r, "a", 0), hit(r, "b", 1*m), hit(r, "a", 2*m), hit(r, "c", 3*m), flush()},
		want:  []string{"@3 RULE R/a n=2 [0s,2m0s]", "@4 RULE R/b n=1 [1m0s,1m0s]", "@4 RULE R/c n=1 [3m0s,3m0s]"},
		stats: detect.DedupCounts{Hits: 4, Alerts: 3, AlertHits: 4, Evicted: 1, EvictedAlerts: 1},
	}, {
		name:  "between rules holding as much, the first rule ID loses its oldest group",
		max:   2,
		steps: []step{hit(r10, "b", 0), hit(r, "a", 1*m), hit(r, "c", 3*m)},
		want:  []string{"@2 RULE R/a n=1 [1m0s,1m0s]"},
		stats: detect.DedupCounts{Groups: 2, Hits: 3, Alerts: 3, AlertHits: 1, OpenHits: 2, Evicted: 1, EvictedAlerts: 1},
	}, {
		name:  "the rule holding the most loses its oldest group",
		max:   3,
		steps: []step{hit(r, "a", 0), hit(r10, "b", 1*m), hit(r10, "c", 2*m), hit(r, "d", 3*m)},
		want:  []string{"@3 RULE R10/b n=1 [1m0s,1m0s]"},
		stats: detect.DedupCounts{Groups: 3, Hits: 4, Alerts: 4, AlertHits: 1, OpenHits: 3, Evicted: 1, EvictedAlerts: 1},
	}, {
		name:  "later matches of an evicted alert's window form a new alert",
		max:   1,
		steps: []step{hit(r, "a", 0), hit(r, "b", 1*m), hit(r, "a", 2*m), flush()},
		want:  []string{"@1 RULE R/a n=1 [0s,0s]", "@2 RULE R/b n=1 [1m0s,1m0s]", "@3 RULE R/a n=1 [2m0s,2m0s]"},
		stats: detect.DedupCounts{Hits: 3, Alerts: 3, AlertHits: 3, Evicted: 2, EvictedAlerts: 2},
	}, {
		name:  "a group below its threshold is evicted with its hits counted",
		max:   2,
		steps: []step{hit(r2, "a", 0), hit(r2, "b", 1*m), hit(r2, "b", 2*m), hit(r2, "c", 3*m), flush()},
		want:  []string{"@4 RULE R2/b n=2 [1m0s,2m0s]"},
		stats: detect.DedupCounts{Hits: 4, Alerts: 1, AlertHits: 2, Expired: 1, ExpiredHits: 1, Evicted: 1, EvictedHits: 1},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := detect.NewLockedDedup(tt.max)
			if err != nil {
				t.Fatal(err)
			}
			got := run(t, d, tt.steps)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			s := d.Stats().DedupCounts
			s.Bytes = 0 // checked by TestDedupBytes
			if s != tt.stats {
				t.Errorf("Stats() = %+v; want %+v", s, tt.stats)
			}
			checkConservation(t, d.Stats(), got)
		})
	}
}

func TestDedupTableBounded(t *testing.T) {
	d, err := detect.NewDedupTable(64)
	if err != nil {
		t.Fatal(err)
	}
	r := testRule("R", 0, 0)
	n := 0
	for i := range 10_000 {
		m := &detect.Match{Rule: r, Dedup: fmt.Sprint(i)}
		n += finals(d.Observe(detect.Hit{Type: detect.AlertRule, Match: m}, at(time.Duration(i)*time.Second)))
		if d.Len() > 64 {
			t.Fatalf("after %d hits Len() = %d; want at most 64", i+1, d.Len())
		}
	}
	n += finals(d.Flush())
	if n != 10_000 {
		t.Errorf("%d alerts; want 10000", n)
	}
}

// finals counts the final states among alerts.
func finals(alerts []*detect.Alert) int {
	n := 0
	for _, a := range alerts {
		if a.Step == detect.StepFinal {
			n++
		}
	}
	return n
}

func TestNewDedupTableSize(t *testing.T) {
	for _, n := range []int{0, -1} {
		if _, err := detect.NewDedupTable(n); err == nil {
			t.Errorf("NewDedupTable(%d) succeeded; want an error", n)
		}
		if _, err := detect.NewLockedDedup(n); err == nil {
			t.Errorf("NewLockedDedup(%d) succeeded; want an error", n)
		}
	}
}

func TestLockedDedupInvalidHit(t *testing.T) {
	d, _ := detect.NewLockedDedup(1)
	r := testRule("R", 0, 0)
	for _, h := range []detect.Hit{
		{Type: detect.AlertRule},
		{Type: detect.AlertRule, Match: &detect.Match{}},
		{Type: "OTHER", Match: &detect.Match{Rule: r}},
	} {
		if _, err := d.Observe(h, t0); err == nil {
			t.Errorf("Observe(%+v) succeeded; want an error", h)
		}
	}
}

func TestAlertID(t *testing.T) {
	id := detect.AlertID(detect.AlertRule, "R", "a", t0)
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		t.Errorf("AlertID = %q; want 32 hexadecimal digits", id)
	}
	if again := detect.AlertID(detect.AlertRule, "R", "a", t0.In(time.FixedZone("X", 3600))); again != id {
		t.Errorf("AlertID of the same instant in another zone = %q; want %q", again, id)
	}
	for _, other := range []string{
		detect.AlertID(detect.AlertRuleError, "R", "a", t0),
		detect.AlertID(detect.AlertRule, "R2", "a", t0),
		detect.AlertID(detect.AlertRule, "R", "b", t0),
		detect.AlertID(detect.AlertRule, "R", "a", t0.Add(time.Nanosecond)),
		detect.AlertID(detect.AlertRule, "R:", "a", t0),
		detect.AlertID(detect.AlertRule, "", "Ra", t0),
	} {
		if other == id {
			t.Errorf("AlertID collides for different inputs: %s", id)
		}
	}
}

// BenchmarkDedup measures Observe on an in-memory table. update: one live
// group; rotate: 10,000 live groups updated in turn (and the memory each
// holds, with the fields of a real match, as B/group); new: every hit
// opens a group in a full table, evicting one.
func BenchmarkDedup(b *testing.B) {
	r := testRule("R", 0, 0)
	b.Run("update", func(b *testing.B) {
		d, _ := detect.NewDedupTable(10)
		h := detect.Hit{Type: detect.AlertRule, Match: &detect.Match{Rule: r, Dedup: "a"}}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			d.Observe(h, at(time.Duration(i%1000)*time.Millisecond))
		}
	})
	b.Run("rotate", func(b *testing.B) {
		const groups = 10_000
		d, perGroup, hits := filledTable(b, groups)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			d.Observe(hits[i%groups], at(time.Minute))
		}
		b.ReportMetric(perGroup, "B/group")
	})
	b.Run("new", func(b *testing.B) {
		d, _ := detect.NewDedupTable(10_000)
		hits := make([]detect.Hit, 1<<16)
		for i := range hits {
			hits[i] = detect.Hit{Type: detect.AlertRule, Match: &detect.Match{Rule: r, Dedup: fmt.Sprint(i)}}
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			// Each round of hits is an hour later, so no key finds its
			// group still open from the previous round.
			d.Observe(hits[i%len(hits)], at(time.Duration(i/len(hits))*time.Hour+time.Duration(i%len(hits))))
		}
	})
}

// filledTable returns a table holding n groups made from real matches of
// the Wiz rule, the heap bytes each group retains, and a hit for each.
func filledTable(b *testing.B, n int) (*detect.DedupTable, float64, []detect.Hit) {
	hits := make([]detect.Hit, 0, n)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	d, _ := detect.NewDedupTable(n)
	for i := range n {
		ev, err := detect.ParseEvent(fmt.Appendf(nil, `{"id":"%08d-e83d-46e2-814a-6cebc47acf97","action":"RevokeUserSessions","status":"SUCCESS",`+
			`"sourceIP":"12.34.56.78","actionParameters":{"input":{"id":"<redacted>"}},"user":{"name":"user%d@company.com"}}`, i, i))
		if err != nil {
			b.Fatal(err)
		}
		m, err := rules.WizRevokeUserSessions.Match(ev)
		if err != nil || m == nil {
			b.Fatalf("Match = %v, %v", m, err)
		}
		h := detect.Hit{Type: detect.AlertRule, Match: m, LogType: "Wiz.Audit"}
		d.Observe(h, t0)
		hits = append(hits, h)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	// hits was allocated before the first reading and adds nothing.
	perGroup := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	return d, perGroup, hits
}
