package rules

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/detectkit/detect"
)

// pantherAlert is one alert of testdata/wiz_audit_panther.jsonl: what
// Panther's Python Wiz rules (panther-analysis, rules/wiz_rules and
// global_helpers/panther_wiz_helpers.py) give on examples/data/wiz_audit.jsonl
// when run with the fallbacks of Panther's engine in batch mode (a title,
// dedup or severity function that raises or returns the wrong type gives the
// rule ID, defaultDedupString:<RuleID> or the rule's Severity; "DEFAULT" is
// the rule's Severity) and its dedup windows. An empty description,
// reference or runbook is shown as the rule's static one.
type pantherAlert struct {
	RuleID       string         `json:"ruleId"`
	Title        string         `json:"title"`
	Dedup        string         `json:"dedup"`
	Severity     string         `json:"severity"`
	EventCount   int            `json:"eventCount"`
	CreationTime time.Time      `json:"creationTime"`
	Description  string         `json:"description"`
	Reference    string         `json:"reference"`
	Runbook      string         `json:"runbook"`
	Outputs      map[string]any `json:"outputs"`
}

// TestWizSampleAsPanther scans the sample Wiz log with the built-in rules
// and checks that every alert is the one Panther's Python rules give: the
// same rules, titles, dedup strings, severities, event counts, creation
// times, descriptions, references, runbooks and alert contexts.
func TestWizSampleAsPanther(t *testing.T) {
	want := readPantherAlerts(t, "testdata/wiz_audit_panther.jsonl")
	data, err := os.ReadFile("../examples/data/wiz_audit.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	final := map[string]*detect.Alert{}
	var order []string
	sink := detect.AlertSinkFunc(func(a *detect.Alert) error {
		if _, ok := final[a.ID]; !ok {
			order = append(order, a.ID)
		}
		final[a.ID] = a
		return nil
	})
	eng, err := detect.NewEngine(All(), detect.WithSink(sink))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		if err := eng.Process(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := eng.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []pantherAlert
	matches := 0
	for _, id := range order {
		a := final[id]
		if a.Type != detect.AlertRule {
			t.Errorf("alert %s of %s has type %s", a.ID, a.RuleID, a.Type)
		}
		matches += a.EventCount
		got = append(got, pantherAlert{
			RuleID: a.RuleID, Title: a.Title, Dedup: a.Dedup, Severity: a.Severity.String(),
			EventCount: a.EventCount, CreationTime: a.CreationTime.UTC(),
			Description: a.Description, Reference: a.Reference, Runbook: a.Runbook,
			Outputs: roundTrip(t, a.Outputs),
		})
	}
	if len(got) != 84 || matches != 85 {
		t.Errorf("the sample gives %d alerts of %d matches; want 84 of 85", len(got), matches)
	}
	key := func(a pantherAlert) string {
		return a.CreationTime.Format(time.RFC3339Nano) + " " + a.RuleID + " " + a.Dedup
	}
	sort.Slice(got, func(i, j int) bool { return key(got[i]) < key(got[j]) })
	sort.Slice(want, func(i, j int) bool { return key(want[i]) < key(want[j]) })
	if len(got) != len(want) {
		t.Fatalf("%d alerts; Panther gives %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			g, _ := json.Marshal(got[i])
			w, _ := json.Marshal(want[i])
			t.Errorf("alert %d:\n got  %s\n want %s", i, g, w)
		}
	}
}

// readPantherAlerts reads a JSON-lines file of pantherAlert.
func readPantherAlerts(t *testing.T, name string) []pantherAlert {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []pantherAlert
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var a pantherAlert
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// roundTrip gives v as encoding/json decodes its JSON: maps, slices,
// float64, to compare with values read from a file.
func roundTrip(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// wizAuditActions are the actions each Wiz audit rule watches, as its
// Python rule lists them (SUSPICIOUS_ACTIONS, or the one action it
// compares with).
var wizAuditActions = map[string][]string{
	"Wiz.CICD.Scan.Policy.Updated.Or.Deleted":          {"DeleteCICDScanPolicy", "UpdateCICDScanPolicy"},
	"Wiz.Connector.Updated.Or.Deleted":                 {"DeleteConnector", "UpdateConnector"},
	"Wiz.Data.Classifier.Updated.Or.Deleted":           {"DeleteDataClassifier", "UpdateDataClassifier"},
	"Wiz.Image.Integrity.Validator.Updated.Or.Deleted": {"DeleteImageIntegrityValidator", "UpdateImageIntegrityValidator"},
	"Wiz.Integration.Updated.Or.Deleted":               {"DeleteIntegration", "UpdateIntegration"},
	"Wiz.Revoke.User.Sessions":                         {"RevokeUserSessions"},
	"Wiz.Rotate.Service.Account.Secret":                {"RotateServiceAccountSecret"},
	"Wiz.Rule.Change": {"DeleteAutomationRule", "UpdateAutomationRule", "DeleteCloudEventRule",
		"UpdateCloudEventRule", "DeleteCloudConfigurationRule", "UpdateCloudConfigurationRule",
		"DeleteHostConfigurationRule", "UpdateHostConfigurationRule", "CreateIgnoreRule",
		"DeleteIgnoreRule", "UpdateIgnoreRule", "CreateMalwareExclusion", "UpdateMalwareExclusion"},
	"Wiz.SAML.Identity.Provider.Change": {"UpdateSAMLIdentityProvider", "DeleteSAMLIdentityProvider",
		"CreateSAMLIdentityProvider", "ModifySAMLIdentityProviderGroupMappings"},
	"Wiz.Service.Account.Change":       {"CreateServiceAccount", "DeleteServiceAccount", "UpdateServiceAccount"},
	"Wiz.Update.IP.Restrictions":       {"UpdateIPRestrictions"},
	"Wiz.Update.Login.Settings":        {"UpdateLoginSettings"},
	"Wiz.Update.Scanner.Settings":      {"UpdateScannerSettings"},
	"Wiz.Update.Support.Contact.List":  {"UpdateSupportContactList"},
	"Wiz.User.Created.Or.Deleted":      {"CreateUser", "DeleteUser"},
	"Wiz.User.Role.Updated.Or.Deleted": {"DeleteUserRole", "UpdateUserRole"},
}

// wizAuditSeverity is the severity Panther gives an alert of rule id for
// action: severity() of Wiz.Rule.Change (High for Delete, Low for Create,
// else "Default") and of Wiz.User.Role.Updated.Or.Deleted (High for
// Delete, else "Default"); "Default" and the other rules give the rule's
// Severity.
func wizAuditSeverity(r *detect.Rule, action string) detect.Severity {
	switch {
	case r.ID == "Wiz.Rule.Change" && strings.Contains(action, "Delete"):
		return detect.SeverityHigh
	case r.ID == "Wiz.Rule.Change" && strings.Contains(action, "Create"):
		return detect.SeverityLow
	case r.ID == "Wiz.User.Role.Updated.Or.Deleted" && strings.Contains(action, "Delete"):
		return detect.SeverityHigh
	}
	return r.Severity
}

// TestWizAuditRulesAsPanther checks every Wiz audit rule against its Python
// rule and Panther's panther_wiz_helpers, on events of every kind of
// actor, with fields missing, null or in other letter cases.
func TestWizAuditRulesAsPanther(t *testing.T) {
	audit := 0
	for _, r := range All() {
		if !reflect.DeepEqual(r.LogTypes, []string{"Wiz.Audit"}) {
			continue
		}
		audit++
		actions, ok := wizAuditActions[r.ID]
		if !ok {
			t.Errorf("no actions listed for %s", r.ID)
			continue
		}
		t.Run(r.ID, func(t *testing.T) {
			for _, action := range actions {
				testWizAuditAction(t, r, action)
			}
			// rule(): wiz_success and the action compared exactly.
			for _, ev := range []string{
				`{"id": "e", "status": "FAILED", "action": "` + actions[0] + `"}`,
				`{"id": "e", "action": "` + actions[0] + `"}`,
				`{"id": "e", "status": "success", "action": "` + actions[0] + `"}`,
				`{"id": "e", "status": "SUCCESS", "action": "` + strings.ToLower(actions[0]) + `"}`,
				`{"id": "e", "status": "SUCCESS", "action": "Get` + actions[0] + `"}`,
				`{"id": "e", "status": "SUCCESS"}`,
			} {
				if ok, err := r.Evaluate([]byte(ev)); ok || err != nil {
					t.Errorf("Evaluate(%s) = %v, %v; want false", ev, ok, err)
				}
			}
		})
	}
	if audit != len(wizAuditActions) {
		t.Errorf("%d audit rules; want %d", audit, len(wizAuditActions))
	}
}

// testWizAuditAction checks rule r on successful events of one of its
// actions.
func testWizAuditAction(t *testing.T, r *detect.Rule, action string) {
	t.Helper()
	prefix := "[Wiz]: [" + action + "] action performed by "
	params := map[string]any{"input": map[string]any{"id": "x"}}
	for _, tt := range []struct {
		name   string
		fields string // added to the event
		title  string // after prefix
		dedup  string
		out    map[string]any
	}{{
		name:   "user",
		fields: `"id": "e-1", "sourceIP": "198.51.100.7", "actionParameters": {"input": {"id": "x"}}, "serviceAccount": null, "user": {"id": "u-1", "name": "ana@example.com"}`,
		title:  "user [ana@example.com]",
		dedup:  "e-1",
		out: map[string]any{"action": action, "source_ip": "198.51.100.7", "event_id": "e-1", "action_parameters": params,
			"actor": map[string]any{"type": "user", "id": "u-1", "name": "ana@example.com"}},
	}, {
		name:   "service account",
		fields: `"id": "e-2", "sourceIP": "203.0.113.9", "actionParameters": {"input": {"id": "x"}}, "serviceAccount": {"id": "sa-1", "name": "terraform"}, "user": null`,
		title:  "serviceaccount [terraform]",
		dedup:  "e-2",
		out: map[string]any{"action": action, "source_ip": "203.0.113.9", "event_id": "e-2", "action_parameters": params,
			"actor": map[string]any{"type": "serviceaccount", "id": "sa-1", "name": "terraform"}},
	}, {
		name:   "neither, both null",
		fields: `"id": "e-3", "sourceIP": "203.0.113.10", "actionParameters": {"input": {"id": "x"}}, "serviceAccount": null, "user": null`,
		title:  "unknown [<Unknown Name>]",
		dedup:  "e-3",
		out: map[string]any{"action": action, "source_ip": "203.0.113.10", "event_id": "e-3", "action_parameters": params,
			"actor": map[string]any{"type": "unknown", "id": "<Unknown ID>", "name": "<Unknown Name>"}},
	}, {
		// The dedup falls back to Panther's default string. Panther's
		// event.get("sourceip", "") and the others give "" for an absent
		// key; detect gives null (rules/wiz/README.md says why).
		name:  "neither, and no id, address or parameters",
		title: "unknown [<Unknown Name>]",
		dedup: "defaultDedupString:" + r.ID,
		out: map[string]any{"action": action, "source_ip": nil, "event_id": nil, "action_parameters": nil,
			"actor": map[string]any{"type": "unknown", "id": "<Unknown ID>", "name": "<Unknown Name>"}},
	}, {
		// A present null stays null; a user without a name is "None" in
		// the f-string of the title.
		name:   "user without a name, null fields",
		fields: `"id": null, "sourceIP": null, "actionParameters": null, "user": {"id": "u-2"}`,
		title:  "user [None]",
		dedup:  "defaultDedupString:" + r.ID,
		out: map[string]any{"action": action, "source_ip": nil, "event_id": nil, "action_parameters": nil,
			"actor": map[string]any{"type": "user", "id": "u-2", "name": nil}},
	}, {
		// "user" is null, so the service account is the actor even when
		// it is empty.
		name:   "empty service account",
		fields: `"id": "", "sourceip": "192.0.2.1", "actionparameters": {"input": {"id": "x"}}, "serviceAccount": {}`,
		title:  "serviceaccount [None]",
		dedup:  "defaultDedupString:" + r.ID,
		out: map[string]any{"action": action, "source_ip": "192.0.2.1", "event_id": "", "action_parameters": params,
			"actor": map[string]any{"type": "serviceaccount", "id": nil, "name": nil}},
	}, {
		// Panther's event reads keys in any letter case.
		name:   "other letter cases",
		fields: `"ID": "e-7", "SourceIp": "192.0.2.2", "ACTIONPARAMETERS": {"input": {"id": "x"}}, "User": {"ID": "u-3", "Name": "bo@example.com"}`,
		title:  "user [bo@example.com]",
		dedup:  "e-7",
		out: map[string]any{"action": action, "source_ip": "192.0.2.2", "event_id": "e-7", "action_parameters": params,
			"actor": map[string]any{"type": "user", "id": "u-3", "name": "bo@example.com"}},
	}} {
		ev := `{"status": "SUCCESS", "action": "` + action + `"`
		if tt.fields != "" {
			ev += ", " + tt.fields
		}
		ev += "}"
		m, err := r.Match([]byte(ev))
		if err != nil || m == nil {
			t.Errorf("%s: Match = %v, %v; want a match", tt.name, m, err)
			continue
		}
		if m.Title != prefix+tt.title {
			t.Errorf("%s %s: title %q; want %q", action, tt.name, m.Title, prefix+tt.title)
		}
		if m.Dedup != tt.dedup {
			t.Errorf("%s %s: dedup %q; want %q", action, tt.name, m.Dedup, tt.dedup)
		}
		if want := wizAuditSeverity(r, action); m.Severity != want {
			t.Errorf("%s %s: severity %s; want %s", action, tt.name, m.Severity, want)
		}
		if got := roundTrip(t, m.Outputs); !reflect.DeepEqual(got, tt.out) {
			t.Errorf("%s %s: outputs %v; want %v", action, tt.name, got, tt.out)
		}
		var names []string
		for _, o := range m.Outputs {
			names = append(names, o.Name)
		}
		if want := []string{"action", "actor", "source_ip", "event_id", "action_parameters"}; !reflect.DeepEqual(names, want) {
			t.Errorf("output order %v; want wiz_alert_context's %v", names, want)
		}
		if m.Description != r.Description || m.Reference != r.Reference || m.Runbook != r.Runbook {
			t.Errorf("%s: description, reference, runbook = %q, %q, %q; want the rule's", tt.name, m.Description, m.Reference, m.Runbook)
		}
	}
}

// TestWizPassthroughTextsAsPanther checks the descriptions, references and
// runbooks of the passthrough rules against their Python description(),
// reference() and runbook(): an empty result (a value that is not text)
// leaves the rule's own, and reference() is "DEFAULT" without a truthy id.
func TestWizPassthroughTextsAsPanther(t *testing.T) {
	const issueURL = "https://app.wiz.io/issues#~(issue~'"
	for _, tt := range []struct {
		rule, event                     string
		description, reference, runbook string // "" means the rule's own
	}{
		{"Wiz.Alert.Passthrough", `{"id": "i-1", "status": "OPEN", "severity": "HIGH", "sourceRule": {"controlDescription": "D", "resolutionRecommendation": "R"}}`,
			"D", issueURL + "i-1)", "R"},
		{"Wiz.Alert.Passthrough", `{"status": "OPEN", "severity": "HIGH"}`,
			"<DESCRIPTION_NOT_FOUND>", "DEFAULT", "<RECOMMENDATION_NOT_FOUND>"},
		{"Wiz.Alert.Passthrough", `{"id": "", "status": "OPEN", "severity": "HIGH", "sourceRule": {"controlDescription": 5, "resolutionRecommendation": ["R"]}}`,
			"", "DEFAULT", ""},
		{"Wiz.Alert.Passthrough", `{"id": 12, "status": "OPEN", "severity": "HIGH", "sourceRule": {"controlDescription": null}}`,
			"<DESCRIPTION_NOT_FOUND>", issueURL + "12)", "<RECOMMENDATION_NOT_FOUND>"},
		{"Wiz.Issue.Alert.Passthrough", `{"issue": {"id": "w-1", "status": "OPEN", "severity": "HIGH"}, "control": {"description": "D"}}`,
			"D", issueURL + "w-1)", ""},
		{"Wiz.Issue.Alert.Passthrough", `{"issue": {"status": "OPEN", "severity": "HIGH"}}`,
			"<DESCRIPTION_NOT_FOUND>", "DEFAULT", ""},
		{"Wiz.Issue.Alert.Passthrough", `{"issue": {"id": false, "status": "OPEN", "severity": "HIGH"}, "control": {"description": {"a": 1}}}`,
			"", "DEFAULT", ""},
		{"Wiz.Defend.Alert.Passthrough", `{"id": "d-1", "threatId": "t-1", "severity": "HIGH", "description": "D"}`,
			"D", issueURL + "d-1)", ""},
		{"Wiz.Defend.Alert.Passthrough", `{"threatId": "t-1", "severity": "HIGH"}`,
			"", "DEFAULT", ""},
		{"Wiz.Defend.Alert.Passthrough", `{"id": true, "threatId": "t-1", "severity": "HIGH", "description": 5}`,
			"", issueURL + "True)", ""},
	} {
		r, ok := Get(tt.rule)
		if !ok {
			t.Fatalf("no rule %s", tt.rule)
		}
		m, err := r.Match([]byte(tt.event))
		if err != nil || m == nil {
			t.Errorf("%s: Match(%s) = %v, %v; want a match", tt.rule, tt.event, m, err)
			continue
		}
		or := func(s, def string) string {
			if s == "" {
				return def
			}
			return s
		}
		if want := or(tt.description, r.Description); m.Description != want {
			t.Errorf("%s %s: description %q; want %q", tt.rule, tt.event, m.Description, want)
		}
		if want := or(tt.reference, r.Reference); m.Reference != want {
			t.Errorf("%s %s: reference %q; want %q", tt.rule, tt.event, m.Reference, want)
		}
		if want := or(tt.runbook, r.Runbook); m.Runbook != want {
			t.Errorf("%s %s: runbook %q; want %q", tt.rule, tt.event, m.Runbook, want)
		}
	}
}

// TestPantherWizTests checks the built-in rules against Panther's own Wiz
// rule files: the same metadata, and the same result on the Log of each of
// their unit tests (the Python holds the rest of what they check). It needs Panther's YAML in ../../shared/reference/wiz and
// is skipped without it.
func TestPantherWizTests(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "reference", "wiz")
	files, err := filepath.Glob(filepath.Join(dir, "wiz_*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) || err == nil {
			t.Skipf("no Panther Wiz rule files in %s", dir)
		}
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			AnalysisType       string              `yaml:"AnalysisType"`
			RuleID             string              `yaml:"RuleID"`
			DisplayName        string              `yaml:"DisplayName"`
			Description        string              `yaml:"Description"`
			Runbook            string              `yaml:"Runbook"`
			Reference          string              `yaml:"Reference"`
			Enabled            bool                `yaml:"Enabled"`
			Severity           string              `yaml:"Severity"`
			LogTypes           []string            `yaml:"LogTypes"`
			Reports            map[string][]string `yaml:"Reports"`
			DedupPeriodMinutes int                 `yaml:"DedupPeriodMinutes"`
			Threshold          int                 `yaml:"Threshold"`
			Tests              []struct {
				Name           string         `yaml:"Name"`
				ExpectedResult bool           `yaml:"ExpectedResult"`
				Log            map[string]any `yaml:"Log"`
			} `yaml:"Tests"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if doc.AnalysisType != "rule" {
			continue
		}
		r, ok := Get(doc.RuleID)
		if !ok {
			t.Errorf("%s: no built-in rule %s", f, doc.RuleID)
			continue
		}
		// The metadata is Panther's.
		for _, c := range []struct {
			field     string
			got, want any
		}{
			{"DisplayName", r.DisplayName, doc.DisplayName},
			{"Description", r.Description, doc.Description},
			{"Runbook", r.Runbook, doc.Runbook},
			{"Reference", r.Reference, doc.Reference},
			{"Disabled", r.Disabled, !doc.Enabled},
			{"Severity", r.Severity.String(), strings.ToUpper(doc.Severity)},
			{"LogTypes", r.LogTypes, doc.LogTypes},
			{"Reports", r.Reports, doc.Reports},
			{"DedupPeriod", r.DedupPeriod, time.Duration(doc.DedupPeriodMinutes) * time.Minute},
			{"Threshold", r.Threshold, doc.Threshold},
		} {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%s: %s = %#v; Panther's is %#v", doc.RuleID, c.field, c.got, c.want)
			}
		}
		for _, tc := range doc.Tests {
			n++
			if got, err := r.Evaluate(tc.Log); got != tc.ExpectedResult || err != nil {
				t.Errorf("%s: Panther's test %q: Evaluate = %v, %v; want %v", doc.RuleID, tc.Name, got, err, tc.ExpectedResult)
			}
		}
	}
	if n == 0 {
		t.Error("Panther's Wiz rule files hold no tests")
	}
}

// TestWizKnownDifferences pins what rules/wiz/README.md lists as not the
// same as Panther, so that the list stays true.
func TestWizKnownDifferences(t *testing.T) {
	r := WizRevokeUserSessions
	const prefix = "[Wiz]: [RevokeUserSessions] action performed by "
	for _, tt := range []struct {
		name, fields, title, dedup string
	}{
		// Panther: title Wiz.Revoke.User.Sessions (wiz_actor raises).
		{"user that is not an object", `"id": "e-1", "user": "bob"`, prefix + "user [None]", "e-1"},
		// Panther: defaultDedupString:Wiz.Revoke.User.Sessions.
		{"id that is not text", `"id": 7, "user": {"name": "ann"}`, prefix + "user [ann]", "7"},
		// Panther: [True].
		{"boolean name", `"id": "e-2", "serviceAccount": {"name": true}`, prefix + "serviceaccount [true]", "e-2"},
	} {
		m, err := r.Match([]byte(`{"status": "SUCCESS", "action": "RevokeUserSessions", ` + tt.fields + `}`))
		if err != nil || m == nil {
			t.Errorf("%s: Match = %v, %v", tt.name, m, err)
			continue
		}
		if m.Title != tt.title || m.Dedup != tt.dedup {
			t.Errorf("%s: title %q, dedup %q; want %q, %q", tt.name, m.Title, m.Dedup, tt.title, tt.dedup)
		}
	}
	// Panther: "" for an absent sourceIP.
	m, err := r.Match([]byte(`{"id": "e-3", "status": "SUCCESS", "action": "RevokeUserSessions"}`))
	if err != nil || m == nil {
		t.Fatalf("Match = %v, %v", m, err)
	}
	if v, ok := m.Outputs.Get("source_ip"); !ok || v != nil {
		t.Errorf("source_ip = %v, %v; want null", v, ok)
	}
	// Panther: ['a'] (Python's repr).
	d, _ := Get("Wiz.Defend.Alert.Passthrough")
	m, err = d.Match([]byte(`{"threatId": "t", "severity": "HIGH", "tdrId": ["a"]}`))
	if err != nil || m == nil || m.Title != `[Wiz Alert]: ["a"]` {
		t.Errorf("Defend title for a list tdrId: %+v, %v", m, err)
	}
}
