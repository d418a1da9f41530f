package detect_test

import (
	"bytes"
	"flag"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/internal/wizgen"
	"github.com/detectkit/detect/rules"
)

var stressScale = flag.Int("stress", 1, "size of TestStress: each worker's share of the work is multiplied by it")

// stressRules are the built-in rules and a few of their own: one that
// fails on some events, one whose matches are suppressed, and one with a
// threshold.
func stressRules() []*detect.Rule {
	return append(rules.All(),
		&detect.Rule{Severity: detect.SeverityInfo, ID: "S.Broken", Condition: `broken != nil && int(broken) > 0`},
		&detect.Rule{Severity: detect.SeverityInfo, ID: "S.Suppressed", Condition: `status == "SUCCESS"`, SuppressAlerts: true},
		&detect.Rule{Severity: detect.SeverityInfo, ID: "S.Threshold", Condition: `status != "SUCCESS"`, GroupBy: []string{"user.name"}, Threshold: 3, DedupPeriod: 10 * time.Minute},
	)
}

// stressCounts is what a sequential run of the rules over events gives:
// the counts that any concurrent run must reproduce exactly.
type stressCounts struct {
	events, matches, suppressed, ruleErrors uint64
	evaluate                                map[string][]bool   // rule ID to Evaluate by event
	match                                   map[string][]string // rule ID to Match summary by event
}

func sequentialCounts(t *testing.T, rs []*detect.Rule, events [][]byte) stressCounts {
	eng, _ := newEngine(t, rs)
	for _, ev := range events {
		if err := eng.Process(ev); err != nil {
			t.Fatal(err)
		}
	}
	st := eng.Stats()
	c := stressCounts{events: st.Events, matches: st.Matches, suppressed: st.Suppressed, ruleErrors: st.RuleErrors,
		evaluate: map[string][]bool{}, match: map[string][]string{}}
	for _, r := range rs {
		for _, ev := range events {
			ok, _ := r.Evaluate(ev)
			c.evaluate[r.ID] = append(c.evaluate[r.ID], ok)
			m, err := r.Match(ev)
			c.match[r.ID] = append(c.match[r.ID], matchSummary(m)+errText(err))
		}
	}
	return c
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return " error: " + err.Error()
}

// TestStress evaluates, dedups and reloads rules from many goroutines at
// once, under the race detector in CI, and checks exact totals afterwards:
//
//   - evaluators call Evaluate and Match on shared rules, and must get the
//     answers of a sequential run;
//   - processors feed events to one shared Engine: its counters must be
//     those of a sequential run, and every match and rule error must end
//     in an alert's event count, an expired window or an evicted group;
//   - loaders load the rule files again (Loader.Load), compile fresh
//     copies of the rules (Rule.Compile, and first use without it), and
//     build engines of their own from them while the others run.
//
// Run with -stress=N for N times the work.
func TestStress(t *testing.T) {
	scale := *stressScale
	const workers = 4
	perWorker := 150 * scale
	if testing.Short() {
		perWorker = 40
	}
	var buf bytes.Buffer
	if err := wizgen.Generate(&buf, perWorker, wizgen.Options{Seed: 9, MatchRatio: 0.3, Findings: perWorker / 10, Span: 3 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	events := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	for i := range events {
		if i%7 == 0 { // some events for S.Broken to fail on
			events[i] = append([]byte(`{"broken":"x",`), events[i][1:]...)
		}
	}
	rs := stressRules()
	want := sequentialCounts(t, rs, events)
	if want.matches == 0 || want.ruleErrors == 0 || want.suppressed == 0 {
		t.Fatalf("sequential run: %d matches, %d rule errors, %d suppressed; want some of each", want.matches, want.ruleErrors, want.suppressed)
	}

	var (
		mu       sync.Mutex
		alerted  uint64 // events held by the final states of the shared engine's alerts
		alerts   int    // final states
		created  int    // created states
		failures atomic.Int64
	)
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 10 {
			t.Errorf(format, args...)
		}
	}
	sink := detect.AlertSinkFunc(func(a *detect.Alert) error {
		mu.Lock()
		defer mu.Unlock()
		if a.Step == detect.StepCreated {
			created++
			return nil
		}
		alerted += uint64(a.EventCount)
		alerts++
		return nil
	})
	// A small table, so that groups are evicted while others are added.
	shared, err := detect.NewEngine(rs, detect.WithSink(sink), detect.WithMaxGroups(16))
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	start := make(chan struct{})
	run := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f()
		}()
	}
	// Processors: each feeds every event once to the shared engine, in its
	// own order, so the engine sees workers times the sequential run.
	for w := range workers {
		run(func() {
			for i := range events {
				ev := events[(i+w*len(events)/workers)%len(events)]
				if w%2 == 1 {
					// ProcessEvent with a decoded event, half the time.
					parsed, err := detect.ParseEvent(ev)
					if err == nil {
						err = shared.ProcessEvent(parsed, "")
					}
					if err != nil {
						fail("ProcessEvent: %v", err)
					}
					continue
				}
				if err := shared.Process(ev); err != nil {
					fail("Process: %v", err)
				}
			}
		})
	}
	// Evaluators: every rule on every event, as the sequential run.
	for w := range workers {
		run(func() {
			for i := range events {
				j := (i + w*len(events)/workers) % len(events)
				for _, r := range rs {
					if ok, _ := r.Evaluate(events[j]); ok != want.evaluate[r.ID][j] {
						fail("%s: Evaluate(event %d) = %v; want %v", r.ID, j, ok, !ok)
					}
					if i%5 == 0 {
						m, err := r.Match(events[j])
						if got := matchSummary(m) + errText(err); got != want.match[r.ID][j] {
							fail("%s: Match(event %d) = %s; want %s", r.ID, j, got, want.match[r.ID][j])
						}
					}
				}
			}
		})
	}
	// Loaders: load the rule files, compile fresh copies, and run engines
	// of their own on a slice of the events.
	slice := events[:min(len(events), 60)]
	sliceWant := sequentialCounts(t, rs, slice)
	for w := range workers / 2 {
		run(func() {
			for round := range 2 * scale {
				fs := detect.NewFunctions()
				l := detect.Loader{Functions: fs}
				loaded, err := l.LoadFS(rules.FS(), ".")
				if err != nil {
					fail("LoadFS: %v", err)
					return
				}
				// Fresh copies, compiled concurrently with the same
				// functions: explicitly for the loaded rules, on first use
				// for the test's own.
				var fresh []*detect.Rule
				for _, r := range loaded {
					c := freshCopy(r)
					if _, err := detect.Compile(c, detect.WithFunctions(fs)); err != nil {
						fail("Compile(%s): %v", r.ID, err)
					}
					fresh = append(fresh, c)
				}
				for _, r := range rs[len(rs)-3:] {
					fresh = append(fresh, freshCopy(r))
				}
				var n atomic.Uint64
				eng, err := detect.NewEngine(fresh, detect.WithSink(detect.AlertSinkFunc(func(a *detect.Alert) error {
					n.Add(uint64(a.EventCount))
					return nil
				})), detect.WithMaxGroups(4+w+round), detect.WithReplay())
				if err != nil {
					fail("NewEngine: %v", err)
					return
				}
				for _, ev := range slice {
					if err := eng.Process(ev); err != nil {
						fail("Process: %v", err)
					}
				}
				if err := eng.Flush(); err != nil {
					fail("Flush: %v", err)
				}
				st := eng.Stats()
				if st.Events != sliceWant.events || st.Matches != sliceWant.matches || st.RuleErrors != sliceWant.ruleErrors {
					fail("engine of reloaded rules: %+v; want %d events, %d matches, %d rule errors", st, sliceWant.events, sliceWant.matches, sliceWant.ruleErrors)
				}
				if got := n.Load() + st.Dedup.ExpiredHits + st.Dedup.EvictedHits; got != st.Matches-st.Suppressed+st.RuleErrors {
					fail("engine of reloaded rules: alerts hold %d events; want %d", got, st.Matches-st.Suppressed+st.RuleErrors)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if err := shared.Flush(); err != nil {
		t.Fatal(err)
	}

	st := shared.Stats()
	n := uint64(workers)
	if st.Events != n*want.events || st.Matches != n*want.matches || st.Suppressed != n*want.suppressed || st.RuleErrors != n*want.ruleErrors {
		t.Errorf("shared engine: %+v; want %d times %d events, %d matches, %d suppressed, %d rule errors",
			st, n, want.events, want.matches, want.suppressed, want.ruleErrors)
	}
	if got := alerted + st.Dedup.ExpiredHits + st.Dedup.EvictedHits; got != st.Matches-st.Suppressed+st.RuleErrors {
		t.Errorf("alerts hold %d events, %d expired, %d evicted: %d in all; want %d matches and rule errors",
			alerted, st.Dedup.ExpiredHits, st.Dedup.EvictedHits, got, st.Matches-st.Suppressed+st.RuleErrors)
	}
	if uint64(alerts) != st.Alerts || uint64(created) != st.Alerts || st.Delivered != 2*st.Alerts || st.Dedup.Groups != 0 || st.Dedup.Evicted == 0 {
		t.Errorf("%d final and %d created states received; Stats() = %+v; want %d of each, no live groups and some evictions", alerts, created, st, st.Alerts)
	}
	if st.Dedup.AlertHits != alerted || st.Dedup.OpenHits != 0 {
		t.Errorf("Dedup.AlertHits = %d, OpenHits %d; the final states hold %d events", st.Dedup.AlertHits, st.Dedup.OpenHits, alerted)
	}
	t.Logf("%d events, %d matches, %d rule errors, %d alerts, %d evicted", st.Events, st.Matches, st.RuleErrors, st.Alerts, st.Dedup.Evicted)
}

// freshCopy copies the exported fields of r into a new Rule, which has
// not been compiled.
func freshCopy(r *detect.Rule) *detect.Rule {
	return &detect.Rule{
		ID: r.ID, DisplayName: r.DisplayName, Description: r.Description, Runbook: r.Runbook, Reference: r.Reference,
		Disabled: r.Disabled, LogTypes: r.LogTypes, Severity: r.Severity, Reports: r.Reports, Tags: r.Tags,
		Condition: r.Condition, Title: r.Title, GroupBy: r.GroupBy, Fields: r.Fields, DynamicSeverities: r.DynamicSeverities,
		AlertDescription: r.AlertDescription, AlertReference: r.AlertReference, AlertRunbook: r.AlertRunbook,
		DedupPeriod: r.DedupPeriod, Threshold: r.Threshold, SuppressAlerts: r.SuppressAlerts, Tests: r.Tests,
		Extra: r.Extra, Source: r.Source,
	}
}
