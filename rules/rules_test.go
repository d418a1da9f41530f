package rules

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/detectkit/detect"
)

// TestAll runs the unit tests of every ready-made rule.
func TestAll(t *testing.T) {
	all := All()
	if len(all) == 0 {
		t.Fatal("All() is empty")
	}
	for i, r := range all {
		if i > 0 && all[i-1].ID >= r.ID {
			t.Errorf("All() is not sorted by ID: %s before %s", all[i-1].ID, r.ID)
		}
		if len(r.Tests) == 0 {
			t.Errorf("rule %s has no tests", r.ID)
		}
		for _, res := range r.RunTests() {
			t.Run(r.ID+"/"+res.Name, func(t *testing.T) {
				if !res.Passed {
					t.Error(res)
				}
			})
		}
	}
}

// TestWizRevokeUserSessions checks the rule against the contract it was
// written from.
func TestWizRevokeUserSessions(t *testing.T) {
	r := WizRevokeUserSessions
	if got, ok := Get("Wiz.Revoke.User.Sessions"); !ok || got != r {
		t.Errorf(`Get("Wiz.Revoke.User.Sessions") = %v, %v; want WizRevokeUserSessions`, got, ok)
	}
	check := func(field string, got, want any) {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v; want %#v", field, got, want)
		}
	}
	check("ID", r.ID, "Wiz.Revoke.User.Sessions")
	check("Severity", r.Severity, detect.SeverityMedium)
	check("LogTypes", r.LogTypes, []string{"Wiz.Audit"})
	check("DedupPeriod", r.DedupPeriod, 60*time.Minute)
	check("Threshold", r.Threshold, 1)
	check("Reports", r.Reports, map[string][]string{"MITRE ATT&CK": {"TA0040:T1531"}})
	if len(r.GroupBy) != 1 {
		t.Errorf("GroupBy = %q; want one expression", r.GroupBy)
	}
	check("Disabled", r.Disabled, false)
	var names []string
	for _, f := range r.Fields {
		names = append(names, f.Name)
	}
	check("output names", names, []string{"action", "actor", "source_ip", "event_id", "action_parameters"})
	check("len(Tests)", len(r.Tests), 3)

	// The actor is the user when present, else the service account
	// (type "serviceaccount"), else unknown, as Panther's wiz_actor says.
	for _, tt := range []struct{ event, want string }{
		{`{"status": "SUCCESS", "action": "RevokeUserSessions", "user": {"name": "u@x"}}`, "[Wiz]: [RevokeUserSessions] action performed by user [u@x]"},
		{`{"status": "SUCCESS", "action": "RevokeUserSessions", "user": null, "serviceAccount": {"name": "sa"}}`, "[Wiz]: [RevokeUserSessions] action performed by serviceaccount [sa]"},
		{`{"status": "SUCCESS", "action": "RevokeUserSessions"}`, "[Wiz]: [RevokeUserSessions] action performed by unknown [<Unknown Name>]"},
	} {
		if got, err := r.AlertTitle(tt.event); got != tt.want || err != nil {
			t.Errorf("AlertTitle(%s) = %q, %v; want %q", tt.event, got, err, tt.want)
		}
	}

	// Grouped by id; without a usable id, Panther's default dedup string.
	for _, tt := range []struct{ event, want string }{
		{`{"status": "SUCCESS", "action": "RevokeUserSessions", "id": "e-1"}`, "e-1"},
		{`{"status": "SUCCESS", "action": "RevokeUserSessions"}`, "defaultDedupString:Wiz.Revoke.User.Sessions"},
	} {
		m, err := r.Match([]byte(tt.event))
		if err != nil || m == nil || m.Dedup != tt.want {
			t.Errorf("Match(%s) = %+v, %v; want dedup %q", tt.event, m, err, tt.want)
		}
	}
}

// TestFS checks that the embedded files are the ones loaded.
func TestFS(t *testing.T) {
	rules, err := detect.LoadFS(FS(), ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != len(All()) {
		t.Errorf("LoadFS(FS()) loaded %d rules; All() has %d", len(rules), len(All()))
	}
	for _, r := range rules {
		if !strings.HasPrefix(r.Source, "wiz/") {
			t.Errorf("rule %s comes from %s; want a file under wiz/", r.ID, r.Source)
		}
	}
}
