package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/detectkit/detect"
)

func wizEvent(id string, min int) string {
	return fmt.Sprintf(`{"p_log_type":"Wiz.Audit","id":%q,"action":"RevokeUserSessions","status":"SUCCESS",`+
		`"timestamp":"2024-07-31T10:%02d:00Z","user":{"id":"ann","name":"ann"},"sourceIP":"10.0.0.1"}`, id, min)
}

// TestScanSignal runs the built binary on a pipe that stays open, checks
// that alerts are printed as they are created, then stops it with SIGTERM
// or SIGINT: it must print every open alert's final state and the summary,
// and exit 143 or 130.
func TestScanSignal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary")
	}
	bin := filepath.Join(t.TempDir(), "detect")
	if out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		sig  syscall.Signal
		code int
		note string
	}{
		{syscall.SIGTERM, 143, "detect scan: stopped (SIGTERM)"},
		{syscall.SIGINT, 130, "detect scan: interrupted (SIGINT)"},
	} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "scan")
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close() // only after the process has ended
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := make(chan string, 16)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			next := func() string {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("standard output closed; stderr: %s", stderr.String())
					}
					return l
				case <-time.After(30 * time.Second):
					cmd.Process.Kill()
					t.Fatalf("no alert printed while the input stays open; stderr: %s", stderr.String())
				}
				return ""
			}
			io.WriteString(stdin, wizEvent("e1", 0)+"\n")
			if l := next(); !strings.Contains(l, `"step":"created"`) || !strings.Contains(l, `"dedup":"e1"`) {
				t.Fatalf("first line %s; want e1's created alert", l)
			}
			// e2's alert shows that the update of e1 before it was read.
			io.WriteString(stdin, wizEvent("e1", 1)+"\n"+wizEvent("e2", 2)+"\n")
			if l := next(); !strings.Contains(l, `"dedup":"e2"`) {
				t.Fatalf("second line %s; want e2's created alert", l)
			}
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			var rest []string
			deadline := time.After(30 * time.Second)
		read:
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						break read
					}
					rest = append(rest, l)
				case <-deadline:
					cmd.Process.Kill()
					t.Fatalf("still running 30 s after the signal; stderr: %s", stderr.String())
				}
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tt.code {
				t.Fatalf("exit: %v; want %d; stderr: %s", err, tt.code, stderr.String())
			}
			out := strings.Join(rest, "\n")
			if len(rest) != 2 || !strings.Contains(rest[0], `"step":"final"`) || !strings.Contains(out, `"dedup":"e1","eventCount":2`) ||
				!strings.Contains(out, `"dedup":"e2","eventCount":1`) {
				t.Errorf("after the signal:\n%s\nwant the final states of e1 (2 events) and e2", out)
			}
			if e := stderr.String(); !strings.Contains(e, "detect scan: 3 events, 0 malformed lines, 3 matches, 2 alerts (4 alert lines written, 0 failed)") ||
				!strings.HasSuffix(e, tt.note+"\n") {
				t.Errorf("stderr:\n%s\nwant the summary, then %q", e, tt.note)
			}
		})
	}
}

// failingWriter fails every write, as a full disk does.
type failingWriter struct{ writes int }

func (w *failingWriter) Write([]byte) (int, error) {
	w.writes++
	return 0, errors.New("no space left on device")
}

// TestScanFailingOutput checks that alerts that cannot be written are
// counted as failed, not as written, that the scan still reads every
// line, and that it exits 1.
func TestScanFailingOutput(t *testing.T) {
	var in strings.Builder
	for i := range 3000 {
		in.WriteString(wizEvent(fmt.Sprint("e", i%100), i%60) + "\n")
	}
	out := &failingWriter{}
	var stderr bytes.Buffer
	code := run([]string{"scan"}, strings.NewReader(in.String()), out, &stderr)
	e := stderr.String()
	if code != 1 || !strings.Contains(e, "detect scan: 3000 events, 0 malformed lines, 3000 matches, 100 alerts (0 alert lines written, 200 failed)") {
		t.Errorf("exit %d, stderr:\n%s\nwant 1, every event read and 200 alert lines failed", code, e)
	}
	if n := strings.Count(e, "no space left on device"); n != 1 || out.writes != 200 {
		t.Errorf("the error reported %d times, %d writes; want once and 200", n, out.writes)
	}
}

// TestScanSummary checks the summary's lines for evictions, windows below
// threshold and clocks, which small scans rarely show.
func TestScanSummary(t *testing.T) {
	es := detect.EngineStats{Matches: 9, Alerts: 2, Delivered: 3, Failed: 1, RuleErrors: 1}
	es.Dedup.Expired, es.Dedup.ExpiredHits = 1, 2
	es.Dedup.Evicted, es.Dedup.EvictedAlerts, es.Dedup.EvictedHits = 3, 1, 4
	es.Dedup.Rules = map[string]detect.DedupCounts{
		"B.Flood": {Evicted: 3, EvictedAlerts: 1, EvictedHits: 4},
		"A.Th":    {Expired: 1, ExpiredHits: 2},
		"C.Quiet": {Hits: 5, Alerts: 1, AlertHits: 5},
	}
	es.Clocks = map[string]detect.ClockStats{"": {Fallback: 2}, "T": {Distrusted: 1}, "U": {Events: 4}}
	got := strings.Join(summary(detect.ScanStats{Events: 10, Malformed: 1}, es, 2*time.Second), "\n")
	want := strings.Join([]string{
		"detect scan: 10 events, 1 malformed line, 9 matches, 2 alerts (3 alert lines written, 1 failed), 1 rule error, 1 window expired below threshold (2 matches), 5 events/s",
		"detect scan: dedup table full: 3 groups evicted, 1 alert closed before their window ended, 4 matches below threshold dropped",
		"detect scan: rule A.Th: 1 window expired below threshold (2 matches)",
		"detect scan: rule B.Flood: 3 groups evicted (1 alert closed early, 4 matches below threshold dropped)",
		"detect scan: clock (no log type): 2 events timed by the processing clock",
		"detect scan: clock T: 1 event time distrusted",
	}, "\n")
	if got != want {
		t.Errorf("summary:\n%s\nwant:\n%s", got, want)
	}
}
