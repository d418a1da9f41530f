package wizgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// decodeLines parses every line of a generated stream, failing the test on
// a line that is not a JSON object.
func decodeLines(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", n, err, sc.Bytes())
		}
		out = append(out, ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func generate(t *testing.T, n int, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Generate(&buf, n, opts); err != nil {
		t.Fatalf("Generate(%d, %+v) = %v", n, opts, err)
	}
	return buf.Bytes()
}

// matches reports whether an audit entry is one a Wiz audit rule alerts on.
func matches(ev map[string]any) bool {
	return ev["p_log_type"] == LogTypeAudit && ev["status"] == "SUCCESS" && slices.Contains(WatchedActions, ev["action"].(string))
}

func TestDeterministic(t *testing.T) {
	opts := Options{Seed: 42, MatchRatio: 0.05, Findings: 50}
	a, b := generate(t, 2000, opts), generate(t, 2000, opts)
	if !bytes.Equal(a, b) {
		t.Fatal("two streams with the same options differ")
	}
	opts.Seed = 43
	if bytes.Equal(a, generate(t, 2000, opts)) {
		t.Fatal("streams with seeds 42 and 43 are equal")
	}
	e1, e2 := Events(500, 7, 0.1), Events(500, 7, 0.1)
	for i := range e1 {
		if !bytes.Equal(e1[i], e2[i]) {
			t.Fatalf("Events(500, 7, 0.1)[%d] differs between calls", i)
		}
	}
}

func TestEventShape(t *testing.T) {
	const n, findings = 5000, 200
	events := decodeLines(t, generate(t, n, Options{Seed: 1, MatchRatio: 0.02, Findings: findings}))
	if len(events) != n {
		t.Fatalf("got %d events; want %d", len(events), n)
	}
	byType := map[string]int{}
	var last time.Time
	var users, services, nobody, failed int
	for i, ev := range events {
		lt, _ := ev["p_log_type"].(string)
		byType[lt]++
		at, err := time.Parse(time.RFC3339Nano, ev["p_event_time"].(string))
		if err != nil {
			t.Fatalf("event %d: p_event_time: %v", i, err)
		}
		if at.Before(last) {
			t.Fatalf("event %d at %v is before the previous one at %v", i, at, last)
		}
		last = at
		if lt != LogTypeAudit {
			continue
		}
		for _, k := range []string{"id", "action", "requestId", "status", "timestamp", "actionParameters", "userAgent", "sourceIP", "serviceAccount", "user"} {
			if _, ok := ev[k]; !ok {
				t.Fatalf("audit entry %d has no %s: %v", i, k, ev)
			}
		}
		if ev["timestamp"] != ev["p_event_time"] {
			t.Errorf("audit entry %d: timestamp %v, p_event_time %v", i, ev["timestamp"], ev["p_event_time"])
		}
		switch {
		case ev["user"] != nil && ev["serviceAccount"] != nil:
			t.Errorf("audit entry %d has both a user and a service account", i)
		case ev["user"] != nil:
			users++
		case ev["serviceAccount"] != nil:
			services++
		default:
			nobody++
		}
		if ev["status"] == "FAILED" {
			failed++
		} else if ev["status"] != "SUCCESS" {
			t.Errorf("audit entry %d: status %v", i, ev["status"])
		}
	}
	if got := n - byType[LogTypeAudit]; got != findings {
		t.Errorf("got %d findings; want %d", got, findings)
	}
	for _, lt := range []string{LogTypeAudit, LogTypeIssues, LogTypeIssuesWebhook, LogTypeDetections} {
		if byType[lt] == 0 {
			t.Errorf("no event of log type %s", lt)
		}
	}
	if len(byType) != 4 {
		t.Errorf("log types: %v", byType)
	}
	if last.Sub(DefaultStart) < DefaultSpan*9/10 || last.Sub(DefaultStart) > DefaultSpan {
		t.Errorf("last event at %v; want near %v", last, DefaultStart.Add(DefaultSpan))
	}
	if users == 0 || services == 0 || nobody == 0 || failed == 0 {
		t.Errorf("users %d, service accounts %d, no actor %d, failed %d: want some of each", users, services, nobody, failed)
	}
}

func TestMatchRatio(t *testing.T) {
	for _, tc := range []struct {
		n, findings int
		ratio       float64
		actions     []string
	}{
		{10000, 0, 0.01, []string{"RevokeUserSessions"}},
		{10000, 100, 0.01, nil},
		{3000, 0, 0, nil},
		{3000, 30, 0.5, []string{"UpdateIPRestrictions", "CreateUser"}},
		{100, 0, 1, nil},
	} {
		events := decodeLines(t, generate(t, tc.n, Options{Seed: 9, MatchRatio: tc.ratio, MatchActions: tc.actions, Findings: tc.findings}))
		want := int(math.Round(float64(tc.n-tc.findings) * tc.ratio))
		got := 0
		for _, ev := range events {
			if matches(ev) {
				got++
				if tc.actions != nil && !slices.Contains(tc.actions, ev["action"].(string)) {
					t.Errorf("ratio %v of %v: matching action %v", tc.ratio, tc.actions, ev["action"])
				}
			}
		}
		if got != want {
			t.Errorf("Generate(%d, ratio %v, actions %v): %d matching entries; want %d", tc.n, tc.ratio, tc.actions, got, want)
		}
	}
}

func TestEveryWatchedActionAppears(t *testing.T) {
	seen := map[string]int{}
	for _, e := range Events(5000, 1, 0.01) {
		var ev map[string]any
		if err := json.Unmarshal(e, &ev); err != nil {
			t.Fatal(err)
		}
		if matches(ev) {
			seen[ev["action"].(string)]++
		}
	}
	// 50 matches over the watched actions taken in turn: each once, some
	// twice.
	for _, a := range WatchedActions {
		if seen[a] < 1 || seen[a] > 2 {
			t.Errorf("%s matches %d times; want 1 or 2", a, seen[a])
		}
	}
}

func TestNearMissesAndQuietActions(t *testing.T) {
	failedWatched, quiet := 0, map[string]bool{}
	for _, e := range Events(5000, 3, 0) {
		var ev map[string]any
		if err := json.Unmarshal(e, &ev); err != nil {
			t.Fatal(err)
		}
		a := ev["action"].(string)
		if slices.Contains(WatchedActions, a) {
			failedWatched++
		} else {
			quiet[a] = true
		}
	}
	if failedWatched == 0 {
		t.Error("no failed watched action among the quiet entries")
	}
	for _, qa := range quietActions {
		if slices.Contains(WatchedActions, qa.name) {
			t.Errorf("quiet action %s is watched", qa.name)
		}
		if !quiet[qa.name] {
			t.Errorf("quiet action %s never appears in 5000 entries", qa.name)
		}
	}
}

func TestEventSize(t *testing.T) {
	var sizes []int
	for _, e := range Events(5000, 5, 0.01) {
		sizes = append(sizes, len(e))
	}
	sort.Ints(sizes)
	if med := sizes[len(sizes)/2]; med < 500 || med > 1500 {
		t.Errorf("median entry is %d bytes; want 500 to 1500", med)
	}
	if p5, p95 := sizes[len(sizes)/20], sizes[len(sizes)*19/20]; p5 < 300 || p95 > 2500 {
		t.Errorf("5th and 95th percentiles %d and %d bytes; want within 300 to 2500", p5, p95)
	}
}

// TestWatchedActionsMatchRules checks WatchedActions against the conditions
// of the Wiz audit rule files, so that neither drifts from the other.
func TestWatchedActionsMatchRules(t *testing.T) {
	files, err := filepath.Glob("../../rules/wiz/wiz_*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule files: %v", err)
	}
	quoted := regexp.MustCompile(`"([A-Z][A-Za-z]+)"`)
	inRules := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if !strings.Contains(text, "\n  - Wiz.Audit\n") {
			continue
		}
		for _, a := range quoted.FindAllStringSubmatch(condition(text), -1) {
			if a[1] == "SUCCESS" {
				continue
			}
			inRules[a[1]] = filepath.Base(f)
			if !slices.Contains(WatchedActions, a[1]) {
				t.Errorf("%s watches %s, which is not in WatchedActions", filepath.Base(f), a[1])
			}
		}
	}
	for _, a := range WatchedActions {
		if _, ok := inRules[a]; !ok && a != "RevokeUserSessions" {
			t.Errorf("WatchedActions has %s, which no rule file watches", a)
		}
	}
}

// condition returns the Condition of a rule file: its line and the
// indented lines that continue it.
func condition(file string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(file, "\n") {
		switch {
		case strings.HasPrefix(line, "Condition:"):
			in = true
		case in && !strings.HasPrefix(line, " "):
			return b.String()
		}
		if in {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func TestOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		opts Options
	}{
		{"negative count", -1, Options{}},
		{"ratio above 1", 10, Options{MatchRatio: 1.5}},
		{"negative ratio", 10, Options{MatchRatio: -0.1}},
		{"NaN ratio", 10, Options{MatchRatio: math.NaN()}},
		{"too many findings", 10, Options{Findings: 11}},
		{"unwatched match action", 10, Options{MatchRatio: 0.5, MatchActions: []string{"GetIssues"}}},
		{"negative span", 10, Options{Span: -time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := Generate(&bytes.Buffer{}, tc.n, tc.opts); err == nil || !strings.HasPrefix(err.Error(), "wizgen: ") {
				t.Errorf("Generate(%d, %+v) = %v; want a wizgen error", tc.n, tc.opts, err)
			}
		})
	}
}

func BenchmarkEvents(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Events(1000, 1, 0.01, "RevokeUserSessions")
	}
}
