package detect_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rules"
)

// seedLog returns the event of the built-in Wiz rule's test named name.
func seedLog(t testing.TB, name string) []byte {
	t.Helper()
	for _, tc := range rules.WizRevokeUserSessions.Tests {
		if tc.Name == name {
			switch l := tc.Log.(type) {
			case []byte:
				return l
			case json.RawMessage:
				return l
			}
			b, err := json.Marshal(tc.Log)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("no test %q in %s", name, rules.WizRevokeUserSessions.ID)
	return nil
}

func TestWizRevokeUserSessionsSeed(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"RevokeUserSessions", true},
		{"CreateUser", false},
		{"RevokeUserSessions - Fail", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := seedLog(t, tt.name)
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			for _, ev := range []any{raw, json.RawMessage(raw), string(raw), m} {
				got, err := rules.WizRevokeUserSessions.Evaluate(ev)
				if err != nil {
					t.Fatalf("Evaluate(%T) error: %v", ev, err)
				}
				if got != tt.want {
					t.Errorf("Evaluate(%T %s) = %v; want %v", ev, tt.name, got, tt.want)
				}
			}
		})
	}
}

func TestWizRevokeUserSessionsOutputs(t *testing.T) {
	raw := seedLog(t, "RevokeUserSessions")
	got, err := rules.WizRevokeUserSessions.Outputs(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"action":    "RevokeUserSessions",
		"source_ip": "12.34.56.78",
		"event_id":  "07fdb41e-e83d-46e2-814a-6cebc47acf97",
		"action_parameters": map[string]any{
			"input":     map[string]any{"id": "<redacted>"},
			"selection": []any{"__typename", "_stub"},
		},
	}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("Outputs()[%q] = %#v; want %#v", k, got[k], v)
		}
	}
	m, err := rules.WizRevokeUserSessions.Match(raw)
	if err != nil || m == nil {
		t.Fatalf("Match = %v, %v; want a match", m, err)
	}
	if want := "[Wiz]: [RevokeUserSessions] action performed by user [user@company.com]"; m.Title != want {
		t.Errorf("Title = %q; want %q", m.Title, want)
	}
	if want := "07fdb41e-e83d-46e2-814a-6cebc47acf97"; m.Dedup != want {
		t.Errorf("Dedup = %q; want %q", m.Dedup, want)
	}
	if m.Severity != detect.SeverityMedium {
		t.Errorf("Severity = %v; want MEDIUM", m.Severity)
	}
}

func TestWizRevokeUserSessionsMetadata(t *testing.T) {
	r := rules.WizRevokeUserSessions
	if r.ID != "Wiz.Revoke.User.Sessions" || r.DisplayName != "Wiz Revoke User Sessions" ||
		r.Severity != detect.SeverityMedium || !reflect.DeepEqual(r.LogTypes, []string{"Wiz.Audit"}) ||
		!reflect.DeepEqual(r.Reports, map[string][]string{"MITRE ATT&CK": {"TA0040:T1531"}}) ||
		r.Disabled || r.Runbook == "" || r.Reference == "" || r.Description == "" {
		t.Errorf("metadata of %s does not follow the seed: %+v", r.ID, r)
	}
	for _, res := range r.RunTests() {
		if !res.Passed {
			t.Errorf("%s", res)
		}
	}
}

func TestEvaluateBadEvents(t *testing.T) {
	r := rules.WizRevokeUserSessions
	tests := []struct {
		name  string
		event any
	}{
		{"nil", nil},
		{"nil map", map[string]any(nil)},
		{"nil event", (*detect.Event)(nil)},
		{"invalid JSON", []byte(`{"status": `)},
		{"array", []byte(`[1, 2]`)},
		{"scalar", []byte(`42`)},
		{"null", []byte(`null`)},
		{"empty", []byte(``)},
		{"trailing text", []byte(`{"a": 1} x`)},
		{"raw message array", json.RawMessage(`["x"]`)},
		{"unsupported value", make(chan int)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Evaluate(tt.event)
			if err == nil {
				t.Fatalf("Evaluate(%s) = %v, nil; want an error", tt.name, got)
			}
			if _, err := r.Outputs(tt.event); err == nil {
				t.Errorf("Outputs(%s) succeeded; want an error", tt.name)
			}
			if _, err := r.Match(tt.event); err == nil {
				t.Errorf("Match(%s) succeeded; want an error", tt.name)
			}
			if raw, ok := tt.event.([]byte); ok {
				if _, err := r.MatchJSON(raw); err == nil {
					t.Errorf("MatchJSON(%s) succeeded; want an error", tt.name)
				}
			}
		})
	}
	var se *detect.SyntaxError
	_, err := r.Evaluate([]byte(`[1]`))
	if !errors.As(err, &se) {
		t.Errorf("Evaluate(array) error %T; want *detect.SyntaxError", err)
	}
}

func TestEvaluateStructEvent(t *testing.T) {
	type user struct {
		Name string `json:"name"`
	}
	type event struct {
		Status string `json:"status"`
		Action string `json:"action"`
		User   *user  `json:"user"`
	}
	ok, err := rules.WizRevokeUserSessions.Evaluate(event{Status: "SUCCESS", Action: "RevokeUserSessions", User: &user{"bob"}})
	if err != nil || !ok {
		t.Errorf("Evaluate(struct) = %v, %v; want true, nil", ok, err)
	}
}

// TestConcurrentEvaluate checks that many goroutines evaluating the same
// rules get the same answers as one goroutine does.
func TestConcurrentEvaluate(t *testing.T) {
	rs := []*detect.Rule{
		rules.WizRevokeUserSessions,
		{Severity: detect.SeverityInfo, ID: "C.Status", Condition: `status == "SUCCESS"`, Title: "{action} by {user.name}", GroupBy: []string{"sourceIP"}},
		{Severity: detect.SeverityInfo, ID: "C.Failed", Condition: `status != "SUCCESS" && action startsWith "Revoke"`},
	}
	events := [][]byte{
		seedLog(t, "RevokeUserSessions"),
		seedLog(t, "CreateUser"),
		seedLog(t, "RevokeUserSessions - Fail"),
	}
	type answer struct {
		match bool
		title string
	}
	want := make([][]answer, len(rs))
	for i, r := range rs {
		for _, ev := range events {
			ok, err := r.Evaluate(ev)
			if err != nil {
				t.Fatal(err)
			}
			title, err := r.AlertTitle(ev)
			if err != nil {
				t.Fatal(err)
			}
			want[i] = append(want[i], answer{ok, title})
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for n := 0; n < 200; n++ {
				i, j := (g+n)%len(rs), n%len(events)
				ok, err := rs[i].Evaluate(events[j])
				if err != nil {
					errs <- err
					return
				}
				title, _ := rs[i].AlertTitle(events[j])
				if got := (answer{ok, title}); got != want[i][j] {
					errs <- fmt.Errorf("goroutine %d: rule %s event %d = %v; want %v", g, rs[i].ID, j, got, want[i][j])
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestMatchResultsOutliveEvaluation checks that what Match returns, and
// what the engine keeps for an alert, stays as it was while later events
// are evaluated: the maps that events are decoded into are pooled, and no
// value a result holds (a whole object, an object nested in one, a map an
// expression builds) may be among them.
func TestMatchResultsOutliveEvaluation(t *testing.T) {
	rule := &detect.Rule{
		Severity:  detect.SeverityInfo,
		ID:        "Test.Outlive",
		Condition: `user != nil && user.name != "skip"`,
		Title:     "{user.name} in {team.name}",
		GroupBy:   []string{"user.id"},
		Fields: []detect.Field{
			{Name: "profile", Expr: "user.profile"},
			{Name: "team", Expr: "team"},
			{Name: "actor", Expr: `{"name": user.name, "team": team.name}`},
		},
	}
	event := func(i int) []byte {
		return fmt.Appendf(nil, `{"user": {"id": "u%d", "name": "n%d", "profile": {"age": %d}}, "team": {"name": "t%d", "size": %d}}`, i, i, i, i, i)
	}
	want := func(i int) string {
		return fmt.Sprintf(`n%d in t%d|u%d|{"actor":{"name":"n%d","team":"t%d"},"profile":{"age":%d},"team":{"name":"t%d","size":%d}}`, i, i, i, i, i, i, i, i)
	}
	got := func(m *detect.Match) string {
		out, err := json.Marshal(m.Outputs.Map())
		if err != nil {
			t.Fatal(err)
		}
		return m.Title + "|" + m.Dedup + "|" + string(out)
	}
	var kept []*detect.Match
	for i := range 200 {
		m, err := rule.Match(event(i))
		if err != nil || m == nil {
			t.Fatalf("event %d: %v, %v", i, m, err)
		}
		if g := got(m); g != want(i) {
			t.Fatalf("event %d: %s; want %s", i, g, want(i))
		}
		kept = append(kept, m)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				if _, err := rule.Match(event(1000 + g*1000 + i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for i, m := range kept {
		if g := got(m); g != want(i) {
			t.Errorf("event %d, after others: %s; want %s", i, g, want(i))
		}
	}

	// The engine keeps each group's first match until its window ends;
	// with a rule that keeps the whole event, too.
	whole := &detect.Rule{Severity: detect.SeverityInfo, ID: "Test.Whole", Condition: `user != nil`, GroupBy: []string{"user.id"},
		Fields: []detect.Field{{Name: "event", Expr: "$env"}}}
	for _, rs := range [][]*detect.Rule{{rule}, {rule, whole}} {
		var alerts []*detect.Alert
		eng, err := detect.NewEngine(rs, detect.WithSink(detect.AlertSinkFunc(func(a *detect.Alert) error {
			alerts = append(alerts, a)
			return nil
		})), detect.WithReplay())
		if err != nil {
			t.Fatal(err)
		}
		for i := range 200 {
			if err := eng.Process(event(i % 100)); err != nil {
				t.Fatal(err)
			}
		}
		if err := eng.Flush(); err != nil {
			t.Fatal(err)
		}
		if len(alerts) != 100*len(rs) {
			t.Fatalf("%d alerts; want %d", len(alerts), 100*len(rs))
		}
		for _, a := range alerts {
			var i int
			fmt.Sscanf(a.Dedup, "u%d", &i)
			if a.RuleID == whole.ID {
				var e1, e2 any
				out, _ := json.Marshal(a.Outputs.Map()["event"])
				if json.Unmarshal(out, &e1) != nil || json.Unmarshal(event(i), &e2) != nil || !reflect.DeepEqual(e1, e2) {
					t.Errorf("alert %s of %s: event %s; want %s", a.Dedup, a.RuleID, out, event(i))
				}
				continue
			}
			if g := got(&detect.Match{Title: a.Title, Dedup: a.Dedup, Outputs: a.Outputs}); g != want(i) || a.EventCount != 2 {
				t.Errorf("alert %s: %s, %d events; want %s, 2 events", a.Dedup, g, a.EventCount, want(i))
			}
		}
	}
}
