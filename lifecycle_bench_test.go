package detect_test

import (
	"fmt"
	"testing"

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
