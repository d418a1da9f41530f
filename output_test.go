package detect

import (
	"encoding/json"
	"strings"
	"testing"
)

const outputEvent = `{"action": "Login", "bytes": 5368709120, "ratio": 0.25, "big": 1e300, "ok": true,
 "tags": ["a", "b"], "obj": {"k": 1, "a": [1, 2.5]}, "user": {"name": "alice"}, "empty": "",
 "html": "<b>&</b>", "long": "` + "%LONG%" + `"}`

func outputTestEvent() []byte {
	return []byte(strings.Replace(outputEvent, "%LONG%", strings.Repeat("x", 1200), 1))
}

func TestTitleTemplate(t *testing.T) {
	tests := []struct {
		tpl  string
		want string
	}{
		{"plain text", "plain text"},
		{"[{action}] by {user.name}", "[Login] by alice"},
		{"{bytes}", "5368709120"},
		{"{ratio}", "0.25"},
		{"{big}", "1e+300"},
		{"{ok} {!ok}", "true false"},
		{"[{missing}]", "[]"},
		{"{tags}", `["a","b"]`},
		{"{obj}", `{"a":[1,2.5],"k":1}`},
		{"{html}", "<b>&</b>"},
		{"{{literal}} {action}", "{literal} Login"},
		{"a }} b {{", "a } b {"},
		{"  spaced  ", "  spaced  "},
		{`{ {"k": action}.k }`, "Login"},
		{`{"}" + action}`, "}Login"},
		{"{1.5 + 1}", "2.5"},
		{"{10 / 4}", "2.5"},
		{"{2.0 * 3}", "6"},
	}
	for _, tt := range tests {
		t.Run(tt.tpl, func(t *testing.T) {
			r := &Rule{Severity: SeverityInfo, ID: "T", Condition: "true", Title: tt.tpl}
			got, err := r.AlertTitle(outputTestEvent())
			if err != nil {
				t.Fatalf("AlertTitle(%q) error: %v", tt.tpl, err)
			}
			if got != tt.want {
				t.Errorf("AlertTitle(%q) = %q; want %q", tt.tpl, got, tt.want)
			}
		})
	}
}

func TestDefaultTitleAndDedup(t *testing.T) {
	ev := outputTestEvent()
	tests := []struct {
		name      string
		rule      Rule
		wantTitle string
		wantDedup string
	}{
		{"display name", Rule{Severity: SeverityInfo, ID: "R.1", DisplayName: "Rule One"}, "Rule One", "defaultDedupString:R.1"},
		{"rule id", Rule{Severity: SeverityInfo, ID: "R.2"}, "R.2", "defaultDedupString:R.2"},
		{"title is dedup", Rule{Severity: SeverityInfo, ID: "R.3", Title: "login {action}"}, "login Login", "login Login"},
		{"group by", Rule{Severity: SeverityInfo, ID: "R.4", Title: "t", GroupBy: []string{"user.name"}}, "t", "alice"},
		{"group by list", Rule{Severity: SeverityInfo, ID: "R.5", GroupBy: []string{"user.name", "action", "bytes"}}, "R.5", "alice:Login:5368709120"},
		{"empty group by falls back to title", Rule{Severity: SeverityInfo, ID: "R.6", Title: "t {action}", GroupBy: []string{"missing"}}, "t Login", "t Login"},
		{"empty group by list falls back", Rule{Severity: SeverityInfo, ID: "R.7", GroupBy: []string{"missing", "empty"}}, "R.7", "defaultDedupString:R.7"},
		{"partly empty group by", Rule{Severity: SeverityInfo, ID: "R.8", GroupBy: []string{"missing", "action"}}, "R.8", ":Login"},
		{"empty title falls back to display name", Rule{Severity: SeverityInfo, ID: "R.9", DisplayName: "Nine", Title: "{missing}"}, "Nine", "Nine"},
		{"long dedup is cut", Rule{Severity: SeverityInfo, ID: "R.10", GroupBy: []string{"long"}}, "R.10", strings.Repeat("x", 1000)},
		{"long title is cut", Rule{Severity: SeverityInfo, ID: "R.11", Title: "{long}"}, strings.Repeat("x", 1000), strings.Repeat("x", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rule
			r.Condition = "true"
			m, err := r.Match(ev)
			if err != nil || m == nil {
				t.Fatalf("Match = %v, %v", m, err)
			}
			if m.Title != tt.wantTitle || m.Dedup != tt.wantDedup {
				t.Errorf("title, dedup = %q, %q; want %q, %q", m.Title, m.Dedup, tt.wantTitle, tt.wantDedup)
			}
		})
	}
}

func TestTruncateCountsCharacters(t *testing.T) {
	s := strings.Repeat("é", 1500)
	got := truncate(s)
	if n := len([]rune(got)); n != MaxDedupLength || !strings.HasPrefix(s, got) {
		t.Errorf("truncate kept %d characters; want %d", n, MaxDedupLength)
	}
}

func TestDynamicSeverity(t *testing.T) {
	r := &Rule{ID: "R.Sev", Condition: "true", Severity: SeverityMedium, DynamicSeverities: []DynamicSeverity{
		{ChangeTo: SeverityHigh, Condition: `action contains "Delete"`},
		{ChangeTo: SeverityLow, Condition: `action contains "Create"`},
		{ChangeTo: SeverityCritical, Condition: `action contains "Del"`},
	}}
	tests := []struct {
		action string
		want   Severity
	}{
		{"DeleteRule", SeverityHigh},
		{"CreateRule", SeverityLow},
		{"UpdateRule", SeverityMedium},
		{"DelRule", SeverityCritical},
	}
	for _, tt := range tests {
		got, err := r.AlertSeverity(map[string]any{"action": tt.action})
		if err != nil || got != tt.want {
			t.Errorf("AlertSeverity(%s) = %v, %v; want %v", tt.action, got, err, tt.want)
		}
	}
	got, err := r.AlertSeverity(map[string]any{})
	if err != nil || got != SeverityMedium {
		t.Errorf("AlertSeverity(no action) = %v, %v; want MEDIUM", got, err)
	}
}

func TestLazyAlertFields(t *testing.T) {
	// The title would fail on every event; a non-matching event never
	// computes it.
	r := &Rule{Severity: SeverityInfo, ID: "R.Lazy", Condition: `action == "Match"`, Title: "{1 + missing}"}
	m, err := r.Match(map[string]any{"action": "Other"})
	if m != nil || err != nil {
		t.Errorf("Match(non-matching) = %v, %v; want nil, nil", m, err)
	}
	_, err = r.Match(map[string]any{"action": "Match"})
	var ee *EvalError
	if !asEvalError(err, &ee) || ee.Part != "title" {
		t.Errorf("Match(matching) error = %v; want an EvalError in the title", err)
	}
}

func TestOutputsOrderAndJSON(t *testing.T) {
	r := &Rule{Severity: SeverityInfo, ID: "R.Out", Condition: "true", Fields: []Field{
		{Name: "z", Expr: "action"}, {Name: "a", Expr: "bytes"}, {Name: "m", Expr: "missing"}, {Name: "l", Expr: "tags"},
	}}
	m, err := r.Match(outputTestEvent())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m.Outputs)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"z":"Login","a":5368709120,"m":null,"l":["a","b"]}`; string(b) != want {
		t.Errorf("outputs JSON = %s; want %s", b, want)
	}
}

// TestOutputsInfinityNested checks that numbers beyond float64, which
// decode as infinities, are written as strings however deep they are in
// an output: a map whose first members hold one only in a nested map was
// written as it was, and the alert failed to encode.
func TestOutputsInfinityNested(t *testing.T) {
	r := &Rule{Severity: SeverityInfo, ID: "R.Inf", Condition: "true", Fields: []Field{{Name: "p", Expr: "p"}}}
	ev := []byte(`{"p": {"a": {"b": 1e999}, "c": [1, [-1e999, {"d": 1e999}]], "e": 2}}`)
	want := `{"p":{"a":{"b":"Infinity"},"c":[1,["-Infinity",{"d":"Infinity"}]],"e":2}}`
	// Map iteration order varies: try the orders it may take.
	for range 50 {
		m, err := r.Match(ev)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(m.Outputs)
		if err != nil || string(b) != want {
			t.Fatalf("outputs JSON = %s, %v; want %s", b, err, want)
		}
	}
}

func TestParseSeverity(t *testing.T) {
	for in, want := range map[string]Severity{"info": SeverityInfo, "Low": SeverityLow, "MEDIUM": SeverityMedium,
		"High": SeverityHigh, "critical": SeverityCritical, "INFORMATIONAL": SeverityInfo} {
		got, err := ParseSeverity(in)
		if err != nil || got != want {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseSeverity("urgent"); err == nil {
		t.Errorf("ParseSeverity(urgent) succeeded")
	}
	if s := SeverityHigh.String(); s != "HIGH" {
		t.Errorf("SeverityHigh.String() = %q", s)
	}
}
