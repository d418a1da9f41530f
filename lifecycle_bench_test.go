package detect_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/detectkit/detect"
)

// BenchmarkEngineAlerts runs a threshold-1 rule that matches every event
// and whose dedup string comes back every 1,024 events, a second later
// each time, with a one-minute dedup period: every event opens a new
// alert and closes the one its key had, the alert-heaviest stream there
// is. The events are fed decoded, one goroutine.
func BenchmarkEngineAlerts(b *testing.B) {
	r := &detect.Rule{ID: "Every", LogTypes: []string{"T"}, Condition: "true", GroupBy: []string{"k"}, DedupPeriod: 60e9}
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
// created costs on the alert-heaviest stream of BenchmarkEngineAlerts:
// live runs the default engine (a created and a final state per alert),
// replay an engine WithReplay (the final state only), in alternating
// rounds so that both see the same state of the machine. live/replay is
// the ratio of their times per event.
func BenchmarkLifecycle(b *testing.B) {
	r := &detect.Rule{ID: "Every", LogTypes: []string{"T"}, Condition: "true", GroupBy: []string{"k"}, DedupPeriod: 60e9}
	const n = 1 << 14
	events := make([]*detect.Event, n)
	for i := range events {
		ev, err := detect.ParseEvent(fmt.Appendf(nil, `{"p_log_type":"T","k":%d,"p_event_time":%d}`, i%1024, 1_700_000_000+i))
		if err != nil {
			b.Fatal(err)
		}
		events[i] = ev
	}
	sink := detect.WithSink(detect.AlertSinkFunc(func(*detect.Alert) error { return nil }))
	round := func(opts ...detect.EngineOption) time.Duration {
		e, err := detect.NewEngine([]*detect.Rule{r}, append(opts, sink)...)
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
}
