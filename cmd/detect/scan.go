package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rules"
)

var scanUsage = `usage: detect scan [--rules PATH]... [--log-type T] [--time-field F]...
                   [--lookup NAME=PATH]... [--exclude GLOB]...
                   [--fail-on-rule-error] [FILE...]

Scan reads JSON lines, one event per line, from each FILE in turn (plain or
gzip; "-" or no FILE at all: standard input), runs the rules on every event,
and prints each alert once, as one JSON line on standard output, when its
dedup window closes or the input ends; the alert then has its final
eventCount. Windows are measured on event time.

A line that is not a JSON object (invalid JSON, an array, a scalar, null), or
that is longer than 16 MiB, is malformed: it is reported on standard error
with its file and line number, and the scan goes on. Blank lines are skipped.
A summary on standard error ends the scan; while a long scan runs on a
terminal, a progress line shows how far it is.

Flags:
  --rules PATH       load rules from PATH, a rule file or a directory; may be
                     repeated (default: the built-in rules)
  --log-type T       take T as the log type of every event (default: the
                     event's p_log_type field; with none, every enabled rule
                     is tried)
  --time-field F     the field that gives an event its time; may be repeated,
                     tried in order (default: p_event_time, then timestamp);
                     events without one are timed by the clock
  --fail-on-rule-error
                     exit 1 when a rule failed on an event (a RULE_ERROR
                     alert), for pipelines that replay logs as a check
` + flagHelp(excludeUsage+lookupUsage, 21) + `
Exit codes:
  0  every input was read and every line was a JSON object or blank
  1  an input could not be read, a line was malformed, or alerts could not
     be written (the scan still reads the other lines and inputs); with
     --fail-on-rule-error, also when a rule failed on an event
  2  bad usage, or the rules could not be loaded
`

// now is the clock of scans: it times events without a time field and the
// scan itself.
var now = time.Now

func runScan(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detect scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // -h prints the usage on stdout, errors a hint
	var rulePaths, timeFields stringList
	fs.Var(&rulePaths, "rules", "")
	logType := fs.String("log-type", "", "")
	fs.Var(&timeFields, "time-field", "")
	failOnRuleError := fs.Bool("fail-on-rule-error", false, "")
	var lookups lookupFlags
	lookups.register(fs)
	files, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, scanUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, `Run "detect scan -h" for usage.`)
		return 2
	}

	fns, err := lookups.functions()
	if err != nil {
		fmt.Fprintf(stderr, "detect scan: %v\n", err)
		return 2
	}
	rs := rules.All()
	if len(rulePaths) > 0 {
		if rs, err = loadRules(rulePaths, lookups.loader(fns, stderr, "scan")); err != nil {
			printLoadProblems(stderr, err)
			fmt.Fprintln(stderr, "detect scan: the rules cannot be loaded")
			return 2
		}
	}
	con := &console{w: stderr, tty: isTerminal(stderr)}
	opts := []detect.EngineOption{detect.WithSink(detect.NewAlertWriter(stdout)), detect.WithClock(now)}
	if len(timeFields) > 0 {
		opts = append(opts, detect.WithTimeFields(timeFields...))
	}
	eng, err := detect.NewEngine(rs, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "detect scan: %v\n", err)
		return 2
	}
	sc := &detect.Scanner{
		Engine:      eng,
		LogType:     *logType,
		OnMalformed: func(e *detect.LineError) { con.println(e.Error()) },
	}

	start := now()
	if con.tty {
		stop := con.showProgress(sc, eng, start)
		defer stop()
	}
	if len(files) == 0 {
		files = []string{"-"}
	}
	failed := false
	for _, name := range files {
		if err := scanFile(sc, name, stdin); err != nil {
			con.println(err.Error())
			failed = true
		}
	}
	if err := eng.Flush(); err != nil {
		con.println(err.Error())
		failed = true
	}
	elapsed := now().Sub(start)

	st, es := sc.Stats(), eng.Stats()
	rate := "-"
	if elapsed > 0 {
		rate = fmt.Sprintf("%.0f", float64(st.Events)/elapsed.Seconds())
	}
	summary := fmt.Sprintf("detect scan: %s, %s, %s, %s, %s, %s events/s",
		plural(int(st.Events), "event"), plural(int(st.Malformed), "malformed line"), plural(int(es.Matches), "match"), plural(int(es.Alerts), "alert"), plural(int(es.RuleErrors), "rule error"), rate)
	if d := es.Dedup; d.Evicted > 0 {
		summary += fmt.Sprintf("; dedup table full: %d alerts emitted before their window closed, %d matches below threshold dropped", d.EvictedAlerts, d.EvictedHits)
	}
	con.println(summary)
	if failed || st.Malformed > 0 || (*failOnRuleError && es.RuleErrors > 0) {
		return 1
	}
	return 0
}

// scanFile scans the file called name, or stdin for "-".
func scanFile(sc *detect.Scanner, name string, stdin io.Reader) error {
	if name == "-" {
		return sc.Scan(context.Background(), stdin, "<stdin>")
	}
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("detect scan: %w", err)
	}
	defer f.Close()
	return sc.Scan(context.Background(), f, name)
}

// parseInterspersed parses flags that may come before, between or after
// the file names, and returns the file names; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return files, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(files, rest...), nil
		}
		files = append(files, rest[0])
		args = rest[1:]
	}
}

// loadRules loads the rule files and directories named by paths with l;
// tests replace it.
var loadRules = func(paths []string, l detect.Loader) ([]*detect.Rule, error) {
	return l.Load(paths...)
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// console writes reports to standard error, and on a terminal a progress
// line that reports print over.
type console struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	progress bool // a progress line is shown
}

func (c *console) println(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clear()
	fmt.Fprintln(c.w, s)
}

func (c *console) clear() {
	if c.progress {
		fmt.Fprint(c.w, "\r\033[K")
		c.progress = false
	}
}

// showProgress updates a progress line every second until the returned
// function is called.
func (c *console) showProgress(sc *detect.Scanner, eng *detect.Engine, start time.Time) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			st, es := sc.Stats(), eng.Stats()
			secs := time.Since(start).Seconds()
			c.mu.Lock()
			fmt.Fprintf(c.w, "\r%d events, %d malformed, %d alerts, %.1f MB read, %.0f events/s\033[K",
				st.Events, st.Malformed, es.Alerts, float64(st.Bytes)/1e6, float64(st.Events)/secs)
			c.progress = true
			c.mu.Unlock()
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		c.mu.Lock()
		c.clear()
		c.mu.Unlock()
	}
}
