package detect_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rules"
)

// collector is an AlertSink that keeps the alert states it receives: the
// final ones in alerts, the created ones in created.
type collector struct {
	alerts  []*detect.Alert
	created []*detect.Alert
}

func (c *collector) Send(a *detect.Alert) error {
	if a.Step == detect.StepCreated {
		c.created = append(c.created, a)
		return nil
	}
	c.alerts = append(c.alerts, a)
	return nil
}

// lines returns one "TYPE RULE/DEDUP n=COUNT" line per alert, sorted.
func (c *collector) lines() []string {
	var out []string
	for _, a := range c.alerts {
		out = append(out, fmt.Sprintf("%s %s/%s n=%d", a.Type, a.RuleID, a.Dedup, a.EventCount))
	}
	sort.Strings(out)
	return out
}

func newEngine(t testing.TB, rs []*detect.Rule, opts ...detect.EngineOption) (*detect.Engine, *collector) {
	t.Helper()
	c := &collector{}
	e, err := detect.NewEngine(rs, append([]detect.EngineOption{detect.WithSink(c), detect.WithClock(func() time.Time { return t0 })}, opts...)...)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	return e, c
}

func process(t testing.TB, e *detect.Engine, events ...string) {
	t.Helper()
	for _, ev := range events {
		if err := e.Process([]byte(ev)); err != nil {
			t.Fatalf("Process(%s) = %v", ev, err)
		}
	}
}

func TestEngineRouting(t *testing.T) {
	rs := []*detect.Rule{
		{Severity: detect.SeverityInfo, ID: "A", LogTypes: []string{"Type.A"}, Condition: "true"},
		{Severity: detect.SeverityInfo, ID: "AB", LogTypes: []string{"Type.A", "Type.B"}, Condition: "true"},
		{Severity: detect.SeverityInfo, ID: "Any", Condition: "true"},
		{Severity: detect.SeverityInfo, ID: "Off", LogTypes: []string{"Type.A"}, Condition: "true", Disabled: true},
		{Severity: detect.SeverityInfo, ID: "Quiet", LogTypes: []string{"Type.A"}, Condition: "true", SuppressAlerts: true},
	}
	tests := []struct {
		name    string
		event   string
		logType string // given by the caller
		want    string // rules that alert
		matches uint64
	}{
		{"p_log_type", `{"p_log_type":"Type.A"}`, "", "A AB Any", 4},
		{"another type", `{"p_log_type":"Type.B"}`, "", "AB Any", 2},
		{"unknown type", `{"p_log_type":"Type.C"}`, "", "Any", 1},
		{"type matched exactly", `{"p_log_type":"type.a"}`, "", "Any", 1},
		{"no type: every enabled rule", `{}`, "", "A AB Any", 4},
		{"a type that is not text", `{"p_log_type":7}`, "", "A AB Any", 4},
		{"the caller's type wins", `{"p_log_type":"Type.A"}`, "Type.B", "AB Any", 2},
		{"the caller's type", `{}`, "Type.B", "AB Any", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, c := newEngine(t, rs)
			ev, err := detect.ParseEvent([]byte(tt.event))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.ProcessEvent(ev, tt.logType); err != nil {
				t.Fatal(err)
			}
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range c.alerts {
				got = append(got, a.RuleID)
			}
			sort.Strings(got)
			if strings.Join(got, " ") != tt.want {
				t.Errorf("ProcessEvent(%s, %q) alerts from %q; want %q", tt.event, tt.logType, got, tt.want)
			}
			if s := e.Stats(); s.Matches != tt.matches || s.Events != 1 {
				t.Errorf("Stats() = %+v; want 1 event, %d matches", s, tt.matches)
			}
		})
	}
}

func TestEngineLogTypesOfAlerts(t *testing.T) {
	rs := []*detect.Rule{{Severity: detect.SeverityInfo, ID: "R", LogTypes: []string{"Type.A", "Type.B"}, Condition: "true"}}
	for _, tt := range []struct {
		name   string
		events []string
		want   string
	}{
		{"the events' types", []string{`{"p_log_type":"Type.B"}`, `{"p_log_type":"Type.A"}`, `{"p_log_type":"Type.B"}`}, "Type.A Type.B"},
		{"one type", []string{`{"p_log_type":"Type.B"}`, `{}`}, "Type.B"},
		{"the rule's when the events have none", []string{`{}`}, "Type.A Type.B"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, c := newEngine(t, rs)
			process(t, e, tt.events...)
			e.Flush()
			if len(c.alerts) != 1 {
				t.Fatalf("%d alerts; want 1", len(c.alerts))
			}
			if got := strings.Join(c.alerts[0].LogTypes, " "); got != tt.want {
				t.Errorf("LogTypes = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestEngineRuleErrors(t *testing.T) {
	failing := &detect.Rule{
		ID: "Port.Check", Condition: `int(port) > 5`, Severity: detect.SeverityHigh,
		Description: "checks ports", Runbook: "look", Reference: "ref", Threshold: 3,
		DedupPeriod: 10 * time.Minute, Tags: []string{"t"},
	}
	other := &detect.Rule{Severity: detect.SeverityInfo, ID: "Any.Port", Condition: `port != nil`, GroupBy: []string{"'all'"}}
	quiet := &detect.Rule{Severity: detect.SeverityInfo, ID: "Quiet", Condition: `int(port) > 5`, SuppressAlerts: true}
	e, c := newEngine(t, []*detect.Rule{failing, other, quiet})
	process(t, e,
		`{"port":"abc","timestamp":"2024-07-31T12:00:00Z"}`,
		`{"port":7,"timestamp":"2024-07-31T12:01:00Z"}`,
		`{"port":8,"timestamp":"2024-07-31T12:01:30Z"}`,
		`{"port":9,"timestamp":"2024-07-31T12:01:40Z"}`,
		`{"port":"x y","timestamp":"2024-07-31T12:02:00Z"}`,
		`{"port":"zz9","timestamp":"2024-07-31T12:03:00Z"}`,
	)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"RULE Any.Port/all n=6",
		"RULE Port.Check/defaultDedupString:Port.Check n=3",
		"RULE_ERROR Port.Check/condition: invalid operation: int(…) (1:1) n=3",
	}
	if got := c.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, a := range c.alerts {
		if a.Type != detect.AlertRuleError {
			continue
		}
		// The title names the failure without the event's value.
		if want := "Error in Port.Check: condition `int(port) > 5` failed: invalid operation: int(…)"; a.Title != want {
			t.Errorf("Title = %q; want %q", a.Title, want)
		}
		if a.Severity != detect.SeverityHigh || a.Description != "checks ports" || a.Runbook != "look" || a.Reference != "ref" || len(a.Tags) != 1 {
			t.Errorf("rule error alert %+v; want the rule's severity, description, runbook, reference and tags", a)
		}
		if got := a.UpdateTime.Sub(a.CreationTime); got != 3*time.Minute {
			t.Errorf("rule error alert spans %v; want 3m0s", got)
		}
	}
	if s := e.Stats(); s.Events != 6 || s.Matches != 3+6+3 || s.RuleErrors != 3+3 || s.Suppressed != 3 || s.Alerts != 3 {
		t.Errorf("Stats() = %+v", s)
	}
}

func TestEngineEventTime(t *testing.T) {
	clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &detect.Rule{Severity: detect.SeverityInfo, ID: "R", Condition: "true"}
	tests := []struct {
		name   string
		event  string
		fields []string // nil: the default
		want   time.Time
	}{
		{"p_event_time", `{"p_event_time":"2024-07-31 17:55:29.239","timestamp":"2020-01-01T00:00:00Z"}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 239e6, time.UTC)},
		{"Panther's form without fraction", `{"p_event_time":"2024-07-31 17:55:29"}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 0, time.UTC)},
		{"timestamp", `{"timestamp":"2024-07-31T17:55:29.239928Z"}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 239928e3, time.UTC)},
		{"any offset", `{"timestamp":"2024-07-31T19:55:29+02:00"}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 0, time.UTC)},
		{"epoch seconds", `{"timestamp":1722448529}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 0, time.UTC)},
		{"epoch seconds with fraction", `{"timestamp":1722448529.5}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 5e8, time.UTC)},
		{"epoch milliseconds", `{"timestamp":1722448529239}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 239e6, time.UTC)},
		{"epoch microseconds", `{"timestamp":1722448529239928}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 239928e3, time.UTC)},
		{"epoch nanoseconds", `{"timestamp":1722448529239928001}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 239928001, time.UTC)},
		{"no zone: UTC", `{"timestamp":"2024-07-31T17:55:29.5"}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 5e8, time.UTC)},
		{"no zone, with a space: UTC", `{"p_event_time":"2024-07-31 17:55:29"}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 0, time.UTC)},
		{"a space and an offset", `{"timestamp":"2024-07-31 19:55:29+02:00"}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 0, time.UTC)},
		{"CloudTrail's eventTime", `{"p_log_type":"AWS.CloudTrail","eventTime":"2024-07-31T17:55:29Z"}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 0, time.UTC)},
		{"Okta's published", `{"p_log_type":"Okta.SystemLog","published":"2024-05-02 18:46:21.121000000"}`, nil, time.Date(2024, 5, 2, 18, 46, 21, 121e6, time.UTC)},
		{"GitHub's @timestamp in milliseconds", `{"p_log_type":"GitHub.Audit","@timestamp":1671111111111}`, nil, time.Date(2022, 12, 15, 13, 31, 51, 111e6, time.UTC)},
		{"GSuite's id.time", `{"p_log_type":"GSuite.ActivityEvent","id":{"time":"2020-09-07T15:50:49.617Z"}}`, nil, time.Date(2020, 9, 7, 15, 50, 49, 617e6, time.UTC)},
		{"Slack's date_create in seconds", `{"p_log_type":"Slack.AuditLogs","date_create":1659021752}`, nil, time.Date(2022, 7, 28, 15, 22, 32, 0, time.UTC)},
		{"p_event_time before the log type's field", `{"p_log_type":"AWS.CloudTrail","p_event_time":"2024-07-31 10:00:00","eventTime":"2024-07-31T17:55:29Z"}`, nil, time.Date(2024, 7, 31, 10, 0, 0, 0, time.UTC)},
		{"another log type's field is not read", `{"p_log_type":"Okta.SystemLog","eventTime":"2024-07-31T17:55:29Z"}`, nil, clock},
		{"an invalid first field falls through", `{"p_event_time":"yesterday","timestamp":1722448529}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 0, time.UTC)},
		{"field names fall back to any case", `{"TimeStamp":1722448529}`, nil, time.Date(2024, 7, 31, 17, 55, 29, 0, time.UTC)},
		{"no time: the clock", `{"time":"2024-07-31T17:55:29Z"}`, nil, clock},
		{"invalid time: the clock", `{"timestamp":"31/07/2024"}`, nil, clock},
		{"out of range: the clock", `{"timestamp":1e300}`, nil, clock},
		{"a time that is not a string or number", `{"timestamp":true}`, nil, clock},
		{"custom fields", `{"time":"2024-07-31T17:55:29Z","timestamp":1}`, []string{"time"}, time.Date(2024, 7, 31, 17, 55, 29, 0, time.UTC)},
		{"nested field", `{"meta":{"at":"2024-07-31T17:55:29Z"}}`, []string{"meta.at"}, time.Date(2024, 7, 31, 17, 55, 29, 0, time.UTC)},
		{"nested field of a non-object", `{"meta":"x"}`, []string{"meta.at"}, clock},
		{"no fields: the clock", `{"timestamp":1722448529}`, []string{}, clock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []detect.EngineOption{detect.WithClock(func() time.Time { return clock })}
			if tt.fields != nil {
				opts = append(opts, detect.WithTimeFields(tt.fields...))
			}
			e, c := newEngine(t, []*detect.Rule{r}, opts...)
			process(t, e, tt.event)
			e.Flush()
			if len(c.alerts) != 1 {
				t.Fatalf("%d alerts; want 1", len(c.alerts))
			}
			if got := c.alerts[0].CreationTime; !got.Equal(tt.want) {
				t.Errorf("Process(%s): CreationTime = %v; want %v", tt.event, got, tt.want)
			}
		})
	}
}

func TestEngineEmitsWhenWindowsClose(t *testing.T) {
	r := &detect.Rule{Severity: detect.SeverityInfo, ID: "R", Condition: `kind == "x"`, GroupBy: []string{"user"}}
	e, c := newEngine(t, []*detect.Rule{r})
	process(t, e,
		`{"kind":"x","user":"a","timestamp":"2024-07-31T12:00:00Z"}`,
		`{"kind":"x","user":"b","timestamp":"2024-07-31T12:30:00Z"}`,
		`{"kind":"x","user":"a","timestamp":"2024-07-31T12:10:00Z"}`,
	)
	if len(c.alerts) != 0 || len(c.created) != 2 {
		t.Fatalf("%d final and %d created states before any window closed; want 0 and 2", len(c.alerts), len(c.created))
	}
	// Events that match nothing still move time on, once three of the
	// last five confirm it: the clock is their median.
	process(t, e, `{"kind":"y","timestamp":"2024-07-31T13:00:00Z"}`, `{"kind":"y","timestamp":"2024-07-31T13:01:00Z"}`)
	if len(c.alerts) != 0 {
		t.Fatalf("%d alerts with the clock at 12:30; want 0", len(c.alerts))
	}
	process(t, e, `{"kind":"y","timestamp":"2024-07-31T13:02:00Z"}`)
	if got := c.lines(); strings.Join(got, " ") != "RULE R/a n=2" {
		t.Fatalf("alerts with the clock at 13:00 %q; want a's", got)
	}
	if err := e.Advance(time.Date(2024, 7, 31, 13, 30, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if got := c.lines(); len(got) != 2 {
		t.Fatalf("alerts after Advance(13:30) %q; want b's too", got)
	}
	e.Flush()
	if len(c.alerts) != 2 {
		t.Errorf("Flush emitted %d more alerts; want 0", len(c.alerts)-2)
	}
}

func TestEngineInputs(t *testing.T) {
	r := &detect.Rule{Severity: detect.SeverityInfo, ID: "R", Condition: `user.name == "a"`}
	e, c := newEngine(t, []*detect.Rule{r})
	if err := e.Process([]byte(`{"user":{"name":"a"}}`)); err != nil {
		t.Fatal(err)
	}
	if err := e.ProcessMap(map[string]any{"user": map[string]any{"name": "a"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.ProcessEvent(detect.NewEvent(map[string]any{"user": map[string]any{"name": "a"}}), ""); err != nil {
		t.Fatal(err)
	}
	var se *detect.SyntaxError
	for _, bad := range []string{`[1]`, `null`, `"x"`, `{`, ``} {
		if err := e.Process([]byte(bad)); !errors.As(err, &se) {
			t.Errorf("Process(%q) = %v; want a *SyntaxError", bad, err)
		}
	}
	if err := e.ProcessMap(nil); !errors.Is(err, detect.ErrNilEvent) {
		t.Errorf("ProcessMap(nil) = %v; want ErrNilEvent", err)
	}
	if err := e.ProcessEvent(nil, ""); !errors.Is(err, detect.ErrNilEvent) {
		t.Errorf("ProcessEvent(nil) = %v; want ErrNilEvent", err)
	}
	e.Flush()
	if got := c.lines(); strings.Join(got, " ") != "RULE R/defaultDedupString:R n=3" {
		t.Errorf("alerts %q; want one of 3 events", got)
	}
	if s := e.Stats(); s.Events != 3 {
		t.Errorf("Stats().Events = %d; want 3 (malformed input is not an event)", s.Events)
	}
}

func TestEngineSinkError(t *testing.T) {
	boom := errors.New("disk full")
	var sent int
	sink := detect.AlertSinkFunc(func(*detect.Alert) error { sent++; return boom })
	e, err := detect.NewEngine([]*detect.Rule{{Severity: detect.SeverityInfo, ID: "R", Condition: "true", GroupBy: []string{"k"}}}, detect.WithSink(sink))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{`{"k":1}`, `{"k":2}`} {
		var se *detect.SinkError
		if err := e.Process([]byte(ev)); !errors.Is(err, boom) || !errors.As(err, &se) || se.Alert.Step != detect.StepCreated {
			t.Errorf("Process(%s) = %v; want the sink's error for the created alert", ev, err)
		}
	}
	if err := e.Flush(); !errors.Is(err, boom) {
		t.Errorf("Flush() = %v; want the sink's error", err)
	}
	if sent != 4 {
		t.Errorf("sink got %d alert states; want 4 (an error does not stop the others)", sent)
	}
	if s := e.Stats(); s.Alerts != 2 || s.Delivered != 0 || s.Failed != 4 {
		t.Errorf("Stats() = %d alerts, %d states delivered, %d failed; want 2, 0, 4", s.Alerts, s.Delivered, s.Failed)
	}
}

func TestNewEngineErrors(t *testing.T) {
	sink := detect.WithSink(&collector{})
	ok := &detect.Rule{Severity: detect.SeverityInfo, ID: "OK", Condition: "true"}
	d, _ := detect.NewLockedDedup(10)
	tests := []struct {
		name  string
		rules []*detect.Rule
		opts  []detect.EngineOption
		want  string
	}{
		{"no sink", []*detect.Rule{ok}, nil, "no alert sink"},
		{"nil sink", []*detect.Rule{ok}, []detect.EngineOption{detect.WithSink(nil)}, "no alert sink"},
		{"nil option", []*detect.Rule{ok}, []detect.EngineOption{sink, nil}, "option 2 is nil"},
		{"max groups zero", []*detect.Rule{ok}, []detect.EngineOption{sink, detect.WithMaxGroups(0)}, "WithMaxGroups(0)"},
		{"max groups negative", []*detect.Rule{ok}, []detect.EngineOption{sink, detect.WithMaxGroups(-5)}, "WithMaxGroups(-5)"},
		{"nil deduper", []*detect.Rule{ok}, []detect.EngineOption{sink, detect.WithDeduper(nil)}, "WithDeduper(nil)"},
		{"deduper and max groups", []*detect.Rule{ok}, []detect.EngineOption{sink, detect.WithDeduper(d), detect.WithMaxGroups(5)}, "WithMaxGroups applies"},
		{"nil clock", []*detect.Rule{ok}, []detect.EngineOption{sink, detect.WithClock(nil)}, "WithClock(nil)"},
		{"empty time field", []*detect.Rule{ok}, []detect.EngineOption{sink, detect.WithTimeFields("a..b")}, `invalid time field "a..b"`},
		{"nil rule", []*detect.Rule{ok, nil}, []detect.EngineOption{sink}, "rule 2 is nil"},
		{"rule without ID", []*detect.Rule{{Severity: detect.SeverityInfo, Condition: "true"}}, []detect.EngineOption{sink}, "rule 1 has no ID"},
		{"duplicate ID", []*detect.Rule{ok, {Severity: detect.SeverityInfo, ID: "OK", Condition: "false", Disabled: true}}, []detect.EngineOption{sink}, "rule ID OK is used twice"},
		{"compile error", []*detect.Rule{{Severity: detect.SeverityInfo, ID: "Bad", Condition: "a ==="}}, []detect.EngineOption{sink}, "rule Bad: condition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := detect.NewEngine(tt.rules, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewEngine() = %v, %v; want an error containing %q", e, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "detect: ") {
				t.Errorf("error %q does not start with \"detect: \"", err)
			}
		})
	}
	var ce *detect.CompileError
	if _, err := detect.NewEngine([]*detect.Rule{{Severity: detect.SeverityInfo, ID: "Bad", Condition: "a ==="}}, sink); !errors.As(err, &ce) {
		t.Errorf("NewEngine with a bad rule = %v; want a *CompileError", err)
	}
	if _, err := detect.NewEngine([]*detect.Rule{{Severity: detect.SeverityInfo, ID: "Off", Condition: "a ===", Disabled: true}}, sink); err != nil {
		t.Errorf("NewEngine with a disabled bad rule = %v; want no error", err)
	}
	if _, err := detect.NewEngine(nil, sink, detect.WithDeduper(d), detect.WithTimeFields(), detect.WithClock(time.Now)); err != nil {
		t.Errorf("NewEngine with valid options = %v", err)
	}
}

// TestEngineConcurrent feeds events from many goroutines and checks that
// every match lands in exactly one alert, with the cap on live groups
// forcing evictions along the way.
func TestEngineConcurrent(t *testing.T) {
	const (
		workers = 4
		each    = 150
		users   = 50
	)
	for _, maxGroups := range []int{1000, 7} {
		t.Run(fmt.Sprintf("max %d groups", maxGroups), func(t *testing.T) {
			rs := []*detect.Rule{
				{Severity: detect.SeverityInfo, ID: "By.User", LogTypes: []string{"Test.Log"}, Condition: `action == "login"`, GroupBy: []string{"user"}, DedupPeriod: 10 * time.Minute},
				{Severity: detect.SeverityInfo, ID: "Odd", LogTypes: []string{"Test.Log"}, Condition: `n % 2 == 1`, GroupBy: []string{"user"}},
				{Severity: detect.SeverityInfo, ID: "Broken", LogTypes: []string{"Test.Log"}, Condition: `int(user) > 0`},
				rules.WizRevokeUserSessions,
			}
			var mu sync.Mutex
			total := 0
			sink := detect.AlertSinkFunc(func(a *detect.Alert) error {
				mu.Lock()
				total += a.EventCount
				mu.Unlock()
				return nil
			})
			e, err := detect.NewEngine(rs, detect.WithSink(sink), detect.WithMaxGroups(maxGroups), detect.WithReplay())
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						n := w*each + i
						ts := t0.Add(time.Duration(n) * time.Second).Format(time.RFC3339)
						ev := fmt.Sprintf(`{"p_log_type":"Test.Log","action":"login","user":"u%d","n":%d,"timestamp":%q}`, n%users, n, ts)
						if err := e.Process([]byte(ev)); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
			s := e.Stats()
			const events = workers * each
			if s.Events != events || s.Matches != events+events/2 || s.RuleErrors != events {
				t.Errorf("Stats() = %+v; want %d events, %d matches, %d rule errors", s, events, events+events/2, events)
			}
			if got := uint64(total) + s.Dedup.EvictedHits + s.Dedup.ExpiredHits; got != s.Matches+s.RuleErrors {
				t.Errorf("alerts hold %d events; want %d (matches and rule errors)", got, s.Matches+s.RuleErrors)
			}
			if maxGroups < users && s.Dedup.Evicted == 0 {
				t.Errorf("no group evicted with room for %d of %d", maxGroups, users)
			}
		})
	}
}

func TestAlertJSON(t *testing.T) {
	e, c := newEngine(t, []*detect.Rule{
		rules.WizRevokeUserSessions,
		{ID: "Broken", Condition: `n + 1 > 2`, Severity: detect.SeverityLow},
	})
	process(t, e,
		`{"p_log_type":"Wiz.Audit","id":"07fdb41e","action":"RevokeUserSessions","status":"SUCCESS","timestamp":"2024-07-31T17:55:29.239928Z",`+
			`"sourceIP":"12.34.56.78","actionParameters":{"input":{"id":"<x>"}},"user":{"name":"user@company.com"}}`,
		`{"p_log_type":"Wiz.Audit","id":"07fdb41e","action":"RevokeUserSessions","status":"SUCCESS","timestamp":"2024-07-31T20:05:00+02:00"}`,
	)
	e.Flush()
	var buf bytes.Buffer
	w := detect.NewAlertWriter(&buf)
	for _, a := range c.alerts {
		if err := w.Send(a); err != nil {
			t.Fatal(err)
		}
	}
	want := `{"alertId":"3fbb2ea741fe9be3d757e7ca8ac6045f","step":"final","type":"RULE","ruleId":"Wiz.Revoke.User.Sessions",` +
		`"title":"[Wiz]: [RevokeUserSessions] action performed by user [user@company.com]","severity":"MEDIUM","dedup":"07fdb41e",` +
		`"eventCount":2,"creationTime":"2024-07-31T17:55:29.239928Z","updateTime":"2024-07-31T18:05:00Z","firstEvent":"07fdb41e","lastEvent":"07fdb41e","logTypes":["Wiz.Audit"],` +
		`"outputs":{"action":"RevokeUserSessions","actor":{"id":null,"name":"user@company.com","type":"user"},"source_ip":"12.34.56.78","event_id":"07fdb41e","action_parameters":{"input":{"id":"<x>"}}},` +
		`"displayName":"Wiz Revoke User Sessions","description":"This rule detects user sessions revoked.",` +
		`"runbook":"Verify that this change was planned. If not, revoke all the sessions of the account and change its credentials",` +
		`"reference":"https://www.wiz.io/blog/storm-0558-compromised-microsoft-key-enables-authentication-of-countless-micr",` +
		`"reports":{"MITRE ATT&CK":["TA0040:T1531"]},"tags":[]}` + "\n" +
		`{"alertId":"ce5f58dc9f5035b2ec4872e59339608a","step":"final","type":"RULE_ERROR","ruleId":"Broken",` +
		"\"title\":\"Error in Broken: condition `n + 1 > 2` failed: invalid operation: <nil> + int\",\"severity\":\"LOW\"," +
		`"dedup":"condition: invalid operation: <nil> + int (1:3)","eventCount":2,"creationTime":"2024-07-31T17:55:29.239928Z",` +
		`"updateTime":"2024-07-31T18:05:00Z","firstEvent":"07fdb41e","lastEvent":"07fdb41e","logTypes":["Wiz.Audit"],"outputs":{},"displayName":"","description":"","runbook":"","reference":"",` +
		`"reports":{},"tags":[]}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("alerts:\n%s\nwant:\n%s", got, want)
	}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("invalid JSON: %s", line)
		}
	}
	// MarshalJSON gives the same object, so alerts nest in other JSON
	// (which encoding/json re-encodes with HTML escapes).
	b, err := json.Marshal(c.alerts[0])
	var got, wantObj any
	json.Unmarshal(b, &got)
	json.Unmarshal([]byte(want[:strings.Index(want, "\n")]), &wantObj)
	if err != nil || !reflect.DeepEqual(got, wantObj) {
		t.Errorf("json.Marshal(alert) = %s, %v", b, err)
	}
}

// BenchmarkEngine runs the Wiz rule, a grouped rule and a rule for
// another log type over events from every CPU: decode+match feeds raw
// JSON, match feeds already decoded events.
func BenchmarkEngine(b *testing.B) {
	rs := []*detect.Rule{
		rules.WizRevokeUserSessions,
		{Severity: detect.SeverityInfo, ID: "Wiz.Failed", LogTypes: []string{"Wiz.Audit"}, Condition: `status == "FAILED"`, GroupBy: []string{"user.name"}, Threshold: 5},
		{Severity: detect.SeverityInfo, ID: "Other", LogTypes: []string{"Other.Log"}, Condition: "true"},
	}
	const n = 1024
	raw := make([][]byte, n)
	events := make([]*detect.Event, n)
	for i := range raw {
		status := "SUCCESS"
		if i%3 == 0 {
			status = "FAILED"
		}
		raw[i] = fmt.Appendf(nil, `{"p_log_type":"Wiz.Audit","id":"%08d-e83d-46e2-814a-6cebc47acf97","action":"RevokeUserSessions",`+
			`"status":%q,"timestamp":"2024-07-31T17:%02d:29Z","sourceIP":"12.34.56.78","actionParameters":{"input":{"id":"<redacted>"}},`+
			`"user":{"id":"u%d","name":"user%d@company.com"}}`, i, status, i%60, i%10, i%10)
		events[i], _ = detect.ParseEvent(raw[i])
	}
	for _, mode := range []string{"decode+match", "match"} {
		b.Run(mode, func(b *testing.B) {
			e, err := detect.NewEngine(rs, detect.WithSink(detect.AlertSinkFunc(func(*detect.Alert) error { return nil })))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					var err error
					if mode == "match" {
						err = e.ProcessEvent(events[i%n], "")
					} else {
						err = e.Process(raw[i%n])
					}
					if err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.StopTimer()
			if err := e.Flush(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(e.Stats().Matches)/float64(b.N), "matches/op")
		})
	}
}

// TestEngineIndexKeepsErrors checks that the engine's index of leading
// equalities skips only rules that would be false without an error: a rule
// that fails before its equality still fails, through the engine as rule
// by rule.
func TestEngineIndexKeepsErrors(t *testing.T) {
	var rs []*detect.Rule
	for i := 0; i < 10; i++ { // enough leading equalities for an index
		rs = append(rs, &detect.Rule{Severity: detect.SeverityInfo, ID: fmt.Sprintf("Eq%d", i), Condition: fmt.Sprintf(`action == "A%d"`, i)})
	}
	rs = append(rs,
		&detect.Rule{Severity: detect.SeverityInfo, ID: "FailsFirst", Condition: `int(n) > 0 && action == "X"`},
		&detect.Rule{Severity: detect.SeverityInfo, ID: "EqualsFirst", Condition: `action == "X" && int(n) > 0`},
		&detect.Rule{Severity: detect.SeverityInfo, ID: "Matches", Condition: `action == "A3" && n == "abc"`},
	)
	// "X" in another field lets the prefilters of the X rules through.
	const ev = `{"action": "A3", "n": "abc", "note": "X"}`
	var wantLines []string
	for _, r := range rs {
		m, err := r.Match([]byte(ev))
		switch {
		case err != nil:
			var ee *detect.EvalError
			if !errors.As(err, &ee) {
				t.Fatal(err)
			}
			wantLines = append(wantLines, fmt.Sprintf("RULE_ERROR %s/%s n=1", r.ID, ee.Kind()))
		case m != nil:
			wantLines = append(wantLines, fmt.Sprintf("RULE %s/%s n=1", r.ID, m.Dedup))
		}
	}
	sort.Strings(wantLines)
	want := strings.Join(wantLines, "; ")
	if !strings.Contains(want, "RULE_ERROR FailsFirst") || strings.Contains(want, "EqualsFirst") || !strings.Contains(want, "RULE Matches") {
		t.Fatalf("rule by rule: %s; want an error of FailsFirst and matches of Eq3 and Matches", want)
	}
	for _, feed := range []string{"raw", "map"} {
		e, c := newEngine(t, rs)
		if feed == "raw" {
			process(t, e, ev)
		} else if err := e.ProcessMap(map[string]any{"action": "A3", "n": "abc", "note": "X"}); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(c.lines(), "; "); got != want {
			t.Errorf("%s: engine gives %s; rule by rule %s", feed, got, want)
		}
	}
}
