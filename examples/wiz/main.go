// Command wiz evaluates sample Wiz audit events with the ready-made Wiz
// Revoke User Sessions rule and prints each match with its alert fields.
//
//	go run ./examples/wiz [FILE]
//
// FILE holds one JSON event per line; without it the embedded samples are
// used.
package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/detectkit/detect/rules"
)

//go:embed events.jsonl
var samples []byte

func main() {
	in := io.Reader(bytes.NewReader(samples))
	if len(os.Args) > 1 {
		f, err := os.Open(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		in = f
	}
	if err := run(in, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	rule := rules.WizRevokeUserSessions
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	events, matches := 0, 0
	for line := 1; sc.Scan(); line++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		events++
		m, err := rule.Match(raw)
		if err != nil {
			fmt.Fprintf(out, "line %d: %v\n", line, err)
			continue
		}
		if m == nil {
			continue
		}
		matches++
		outputs, err := m.Outputs.MarshalJSON()
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "line %d: %s %s\n  dedup:   %s\n  outputs: %s\n", line, m.Severity, m.Title, m.Dedup, outputs)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s, %s of %s\n", plural(events, "event"), plural(matches, "match"), rule.ID)
	return nil
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
