package detect_test

import (
	"encoding/json"
	"testing"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rules"
)

var (
	sinkBool bool
	sinkAny  any
)

// BenchmarkEvaluate measures one rule on one event: already decoded (map),
// as raw JSON (decode + match), and from many goroutines.
func BenchmarkEvaluate(b *testing.B) {
	r := rules.WizRevokeUserSessions
	raw := seedLog(b, "CreateUser")
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		b.Fatal(err)
	}
	ev, err := detect.ParseEvent(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkBool, _ = r.Evaluate(m)
		}
	})
	b.Run("event", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sinkBool, _ = r.Evaluate(ev)
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for i := 0; i < b.N; i++ {
			sinkBool, _ = r.Evaluate(raw)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			var ok bool
			for pb.Next() {
				ok, _ = r.Evaluate(m)
			}
			sinkBool = ok
		})
	})
}

// BenchmarkMatch measures a matching event: condition, title, dedup
// string, severity and outputs.
func BenchmarkMatch(b *testing.B) {
	r := rules.WizRevokeUserSessions
	raw := seedLog(b, "RevokeUserSessions")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		m, err := r.Match(raw)
		if err != nil || m == nil {
			b.Fatal(m, err)
		}
		sinkAny = m
	}
}
