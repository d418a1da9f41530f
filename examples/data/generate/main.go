// Command generate writes the sample Wiz logs of examples/data, three days
// of a Wiz tenant's audit log with Wiz findings mixed in:
//
//	go run ./examples/data/generate > examples/data/wiz_audit.jsonl
//
// The output is the same on every run; a test checks that the committed
// file is what this command writes.
package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/detectkit/detect/internal/wizgen"
)

// The sample: a few thousand events, of which a few dozen audit entries
// alert (each watched action once or twice) and a few dozen are findings
// for the passthrough rules, so that replaying it gives a readable number
// of alerts.
const events = 3000

var sample = wizgen.Options{
	Seed:       2025,
	Start:      wizgen.DefaultStart,
	Span:       72 * time.Hour,
	MatchRatio: 0.02,
	Findings:   36,
}

func main() {
	if err := write(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

// write writes the sample to w.
func write(w io.Writer) error {
	return wizgen.Generate(w, events, sample)
}
