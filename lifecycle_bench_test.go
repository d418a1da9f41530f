package detect_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rules"
)

// BenchmarkEngineAlerts runs a threshold-1 rule that matches every event
// and whose dedup string comes back every 1,024 events, a second later
// each time, with a one-minute dedup period: every event opens a new
// alert and closes the one its key had, the alert-heaviest stream there
// is. The events are fed decoded, one goroutine.
func BenchmarkEngineAlerts(b *testing.B) {
	r := &detect.Rule{Severity: detect.SeverityLow, ID: "Every", LogTypes: []string{"T"}, Condition: "true", GroupBy: []string{"k"}, DedupPeriod: 60e9}
	const n = 1 << 16
	events := make([]*detect.Event, n)
	for i := range events {
		ev, err := detect.ParseEvent(fmt.Appendf(nil, `{"p_log_type":"T","k":%d,"p_event_time":%d}`, i%1024, 1_700_000_000+i))
		if err != nil {
			b.Fatal(err)
		}
		events[i] = ev
	}
	e, err := detect.NewEngine([]*detect.Rule{r}, detect.WithSink(detect.AlertSinkFunc(func(*detect.Alert) error { return nil })))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := e.ProcessEvent(events[i%n], ""); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkLifecycle measures what delivering each alert when it is
// created costs. every-event is the alert-heaviest stream of
// BenchmarkEngineAlerts (each event opens an alert and closes one);
// wiz the Wiz rule over the events of BenchmarkEngine (1,024 dedup
// strings, so an alert per 16 matching events). live runs the default
// engine (a created and a final state per alert), replay an engine
// WithReplay (the final state only), in alternating rounds so that both
// see the same state of the machine; live/replay is the ratio of their
// times per event.
func BenchmarkLifecycle(b *testing.B) {
	const n = 1 << 14
	streams := []struct {
		name  string
		rule  *detect.Rule
		event func(i int) string
	}{
		{"every-event", &detect.Rule{Severity: detect.SeverityLow, ID: "Every", LogTypes: []string{"T"}, Condition: "true", GroupBy: []string{"k"}, DedupPeriod: 60e9},
			func(i int) string {
				return fmt.Sprintf(`{"p_log_type":"T","k":%d,"p_event_time":%d}`, i%1024, 1_700_000_000+i)
			}},
		{"wiz", rules.WizRevokeUserSessions, func(i int) string {
			return fmt.Sprintf(`{"p_log_type":"Wiz.Audit","id":"%08d-e83d-46e2-814a-6cebc47acf97","action":"RevokeUserSessions",`+
				`"status":"SUCCESS","timestamp":"2024-07-31T17:%02d:29Z","sourceIP":"12.34.56.78","actionParameters":{"input":{"id":"<redacted>"}},`+
				`"user":{"id":"u%d","name":"user%d@company.com"}}`, i%1024, (i/1024)%60, i%10, i%10)
		}},
	}
	for _, st := range streams {
		b.Run(st.name, func(b *testing.B) {
			events := make([]*detect.Event, n)
			for i := range events {
				ev, err := detect.ParseEvent([]byte(st.event(i)))
				if err != nil {
					b.Fatal(err)
				}
				events[i] = ev
			}
			sink := detect.WithSink(detect.AlertSinkFunc(func(*detect.Alert) error { return nil }))
			round := func(opts ...detect.EngineOption) time.Duration {
				e, err := detect.NewEngine([]*detect.Rule{st.rule}, append(opts, sink)...)
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				for _, ev := range events {
					if err := e.ProcessEvent(ev, ""); err != nil {
						b.Fatal(err)
					}
				}
				return time.Since(start)
			}
			var live, replay time.Duration
			for b.Loop() {
				for range 8 {
					live += round()
					replay += round(detect.WithReplay())
				}
			}
			events8 := float64(8 * n * b.N)
			b.ReportMetric(float64(live.Nanoseconds())/events8, "live-ns/op")
			b.ReportMetric(float64(replay.Nanoseconds())/events8, "replay-ns/op")
			b.ReportMetric(float64(live)/float64(replay), "live/replay")
		})
	}
}
