package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rulefiles"
	"github.com/detectkit/detect/rules"
)

var scanUsage = `usage: detect scan [--rules PATH]... [--log-type T] [--time-field F]... [--replay]
                   [--lookup NAME=PATH]... [--exclude GLOB]...
                   [--fail-on-rule-error] [FILE...]

Scan reads JSON lines, one event per line, from each FILE in turn (plain or
gzip; "-" or no FILE at all: standard input), runs the rules on every event,
and prints alerts as JSON lines on standard output as they happen: each
alert when it is created ("step":"created", the match that reaches the
rule's threshold), then its final state ("step":"final", with the final
eventCount and updateTime) when its dedup window closes or the input ends.
Both lines of an alert have the same alertId. With --replay, each alert is
printed once, with its final state: one line per alert.

Windows are measured on event time: p_event_time, then the log type's own
time field (AWS.CloudTrail eventTime, Okta.SystemLog published, ...), then
timestamp; a time without a zone is UTC; events without one are timed by
the processing clock, and counted. Each log type (each input, for events
without one) has its own clock, the median of its last five event times,
which no single time moves: a time more than an hour ahead of the clock
and of a later time of its stream is counted as distrusted.

A line that is not a JSON object (invalid JSON, an array, a scalar, null), or
that is longer than 16 MiB, is malformed: it is reported on standard error
with its file and line number, and the scan goes on. Blank lines are skipped.
An alert that cannot be written (standard output closed or full) is
reported and counted as failed, and the scan goes on. A summary on
standard error ends the scan: events, malformed lines, matches, alerts
created, alert lines written and failed, rule errors, windows that expired
below their threshold, and, per rule or per clock, evicted groups,
distrusted times and events timed by the processing clock. While a long
scan runs on a terminal, a progress line shows how far it is.

On SIGINT or SIGTERM, the scan stops reading, prints the final state of
every open alert and the summary, and exits 130 or 143.

Flags:
  --rules PATH       load rules from PATH, a rule file or a directory; may be
                     repeated (default: the built-in rules)
  --log-type T       take T as the log type of every event (default: the
                     event's p_log_type field; with none, every enabled rule
                     is tried)
  --time-field F     the field that gives an event its time, for every log
                     type; may be repeated, tried in order (default: as
                     above)
  --replay           print each alert once, with its final state
  --fail-on-rule-error
                     exit 1 when a rule failed on an event (a RULE_ERROR
                     alert), for pipelines that replay logs as a check
` + flagHelp(excludeUsage+lookupUsage, 21) + `
Exit codes:
  0    every input was read, every line was a JSON object or blank, and
       every alert was written
  1    an input could not be read, a line was malformed, or alerts could
       not be written (the scan still reads the other lines and inputs);
       with --fail-on-rule-error, also when a rule failed on an event
  2    bad usage, or the rules could not be loaded
  130  interrupted by SIGINT (after the open alerts and the summary)
  143  stopped by SIGTERM (likewise)
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
	replay := fs.Bool("replay", false, "")
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
		o, err := lookups.options(fns, stderr, "scan")
		if err != nil {
			fmt.Fprintf(stderr, "detect scan: %v\n", err)
			return 2
		}
		if rs, err = loadRules(rulePaths, o); err != nil {
			printLoadProblems(stderr, err)
			fmt.Fprintln(stderr, "detect scan: the rules cannot be loaded")
			return 2
		}
	}
	con := &console{w: stderr, tty: isTerminal(stderr)}
	opts := []detect.EngineOption{detect.WithSink(detect.NewAlertWriter(stdout)), detect.WithClock(now)}
	if *replay {
		opts = append(opts, detect.WithReplay())
	}
	if len(timeFields) > 0 {
		opts = append(opts, detect.WithTimeFields(timeFields...))
	}
	eng, err := detect.NewEngine(rs, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "detect scan: %v\n", err)
		return 2
	}
	sinkErrors := 0
	sc := &detect.Scanner{
		Engine:      eng,
		LogType:     *logType,
		OnMalformed: func(e *detect.LineError) { con.println(e.Error()) },
		// A line no rule could read (invalid, too long, nested too deep)
		// may hold an attack: each input's are reported as an alert too.
		MalformedAlerts: true,
		OnSinkError: func(err error) {
			// Once standard output fails it usually keeps failing: the
			// first error says why, the summary how many.
			if sinkErrors++; sinkErrors == 1 {
				con.println(err.Error())
			}
		},
	}

	ctx, stopSignals, caught := notifyStop()
	defer stopSignals()

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
		err := scanFile(ctx, sc, name, stdin)
		if ctx.Err() != nil {
			break // a signal: deliver what is open, then stop
		}
		if err != nil {
			con.println(err.Error())
			failed = true
		}
	}
	// On a signal too: every open alert's final state goes out.
	if err := eng.Flush(); err != nil {
		var se *detect.SinkError
		if !errors.As(err, &se) || sinkErrors == 0 {
			con.println(err.Error())
		}
		failed = true
	}
	elapsed := now().Sub(start)

	st, es := sc.Stats(), eng.Stats()
	for _, line := range summary(st, es, elapsed) {
		con.println(line)
	}
	switch sig := caught(); {
	case sig == os.Interrupt:
		con.println("detect scan: interrupted (SIGINT)")
		return 130
	case sig == syscall.SIGTERM:
		con.println("detect scan: stopped (SIGTERM)")
		return 143
	}
	if failed || st.Malformed > 0 || es.Failed > 0 || (*failOnRuleError && es.RuleErrors > 0) {
		return 1
	}
	return 0
}

// summary returns the lines that end a scan: the totals, then a line per
// rule whose windows expired below threshold or whose groups were
// evicted, and per clock that distrusted times or used the processing
// clock.
func summary(st detect.ScanStats, es detect.EngineStats, elapsed time.Duration) []string {
	rate := "-"
	if elapsed > 0 {
		rate = fmt.Sprintf("%.0f", float64(st.Events)/elapsed.Seconds())
	}
	d := es.Dedup
	lines := []string{fmt.Sprintf("detect scan: %s, %s, %s, %s (%s written, %d failed), %s, %s expired below threshold (%s), %s events/s",
		plural(int(st.Events), "event"), plural(int(st.Malformed), "malformed line"), plural(int(es.Matches), "match"),
		plural(int(es.Alerts), "alert"), plural(int(es.Delivered), "alert line"), es.Failed,
		plural(int(es.RuleErrors), "rule error"), plural(int(d.Expired), "window"), plural(int(d.ExpiredHits), "match"), rate)}
	if d.Evicted > 0 {
		lines = append(lines, fmt.Sprintf("detect scan: dedup table full: %s evicted, %s closed before their window ended, %s below threshold dropped",
			plural(int(d.Evicted), "group"), plural(int(d.EvictedAlerts), "alert"), plural(int(d.EvictedHits), "match")))
	}
	for _, id := range slices.Sorted(maps.Keys(d.Rules)) {
		c := d.Rules[id]
		var parts []string
		if c.Expired > 0 {
			parts = append(parts, fmt.Sprintf("%s expired below threshold (%s)", plural(int(c.Expired), "window"), plural(int(c.ExpiredHits), "match")))
		}
		if c.Evicted > 0 {
			parts = append(parts, fmt.Sprintf("%s evicted (%s closed early, %s below threshold dropped)",
				plural(int(c.Evicted), "group"), plural(int(c.EvictedAlerts), "alert"), plural(int(c.EvictedHits), "match")))
		}
		if len(parts) > 0 {
			lines = append(lines, fmt.Sprintf("detect scan: rule %s: %s", id, strings.Join(parts, ", ")))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(es.Clocks)) {
		c := es.Clocks[name]
		var parts []string
		if c.Distrusted > 0 {
			parts = append(parts, plural(int(c.Distrusted), "event time")+" distrusted")
		}
		if c.Fallback > 0 {
			parts = append(parts, plural(int(c.Fallback), "event")+" timed by the processing clock")
		}
		if len(parts) > 0 {
			if name == "" {
				name = "(no log type)"
			}
			lines = append(lines, fmt.Sprintf("detect scan: clock %s: %s", name, strings.Join(parts, ", ")))
		}
	}
	return lines
}

// notifyStop returns a context that SIGINT or SIGTERM cancels, a function
// that stops listening, and one that tells which signal came, if any.
func notifyStop() (context.Context, func(), func() os.Signal) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var (
		mu     sync.Mutex
		caught os.Signal
	)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			mu.Lock()
			caught = s
			mu.Unlock()
			cancel()
		case <-done:
		}
	}()
	stop := func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
	return ctx, stop, func() os.Signal {
		mu.Lock()
		defer mu.Unlock()
		return caught
	}
}

// scanFile scans the file called name, or stdin for "-".
func scanFile(ctx context.Context, sc *detect.Scanner, name string, stdin io.Reader) error {
	if name == "-" {
		return sc.Scan(ctx, stdin, "<stdin>")
	}
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("detect scan: %w", err)
	}
	defer f.Close()
	return sc.Scan(ctx, f, name)
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

// loadRules loads the rule files and directories named by paths, of
// every format; tests replace it.
var loadRules = func(paths []string, o rulefiles.Options) ([]*detect.Rule, error) {
	return rulefiles.Load(o, paths...)
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
