package sigma_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/sigma"
)

// BenchmarkEngineWindows runs SigmaHQ's rules in one engine over the
// events of its regression data.
func BenchmarkEngineWindows(b *testing.B) {
	if _, err := os.Stat(sigmaHQ); err != nil {
		b.Skip("no SigmaHQ rules beside the project")
	}
	rules, _ := sigma.Load(sigma.Options{}, filepath.Join(sigmaHQ, "rules"))
	var events [][]byte
	filepath.Walk(filepath.Join(sigmaHQ, "regression_data"), func(p string, info os.FileInfo, err error) error {
		if filepath.Ext(p) == ".json" {
			raw, _ := os.ReadFile(p)
			evs, _ := splitEvents(raw)
			events = append(events, evs...)
		}
		return nil
	})
	eng, err := detect.NewEngine(rules, detect.WithSink(detect.AlertSinkFunc(func(*detect.Alert) error { return nil })))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := eng.Process(events[i%len(events)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rules)), "rules")
}
