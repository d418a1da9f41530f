// Command mypack runs a service's own detection pack, examples/mypack/pack,
// over sample audit events and prints the alerts. The pack's rules call a
// Go function of the service and read its lookup table of administrators.
//
//	go run ./examples/mypack [--admins FILE] [EVENTS]
//
// EVENTS holds one JSON event per line (default: the embedded samples).
// --admins replaces the administrators with those of a CSV file (columns
// email and team), as a service reloads its table while it runs.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/examples/mypack/pack"
)

//go:embed events.jsonl
var samples []byte

func main() {
	admins := flag.String("admins", "", "CSV file of administrators (columns email, team)")
	flag.Parse()
	in := io.Reader(bytes.NewReader(samples))
	name := "events.jsonl"
	if flag.NArg() > 0 {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		in, name = f, flag.Arg(0)
	}
	if err := run(in, name, *admins, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(in io.Reader, name, admins string, out io.Writer) error {
	p, err := pack.New()
	if err != nil {
		return err
	}
	if admins != "" {
		// A service would do this on a timer or a signal, while events
		// flow: the rules see the new rows at once.
		if err := p.Admins.LoadFile(admins); err != nil {
			return err
		}
	}
	sink := detect.AlertSinkFunc(func(a *detect.Alert) error {
		outputs, err := a.Outputs.MarshalJSON()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s %s: %s (%s)\n  outputs: %s\n", a.Severity, a.RuleID, a.Title, plural(a.EventCount, "event"), outputs)
		return err
	})
	// A report of one file: each alert once, with its final count.
	eng, err := detect.NewEngine(p.Rules, detect.WithSink(sink), detect.WithReplay())
	if err != nil {
		return err
	}
	sc := &detect.Scanner{
		Engine:      eng,
		LogType:     "Acme.Audit",
		OnMalformed: func(e *detect.LineError) { fmt.Fprintln(out, e) },
	}
	if err := sc.Scan(context.Background(), in, name); err != nil {
		return err
	}
	if err := eng.Flush(); err != nil {
		return err
	}
	st := eng.Stats()
	_, err = fmt.Fprintf(out, "%s, %s, %s\n", plural(int(sc.Stats().Events), "event"), plural(int(st.Matches), "match"), plural(int(st.Alerts), "alert"))
	return err
}

// plural returns "1 event" or "n events" ("n matches").
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "ch") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
