package rulefiles_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rulefiles"
)

const panther = `AnalysisType: rule
RuleID: Panther.Rule
Enabled: true
LogTypes: [Okta.SystemLog]
Severity: Low
Condition: eventType == "user.session.start"
`

const sigmaRule = `title: Sigma Rule
id: 0f06a3a5-6a09-413f-8743-e6cf35561297
logsource: {product: okta, service: okta}
detection:
  sel: {eventType: user.session.start}
  condition: sel
level: high
`

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadMixed(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"a/panther.yml": panther, "b/sigma.yml": sigmaRule, "b/drafts/old.yml": sigmaRule})
	l := detect.Loader{Exclude: []string{"drafts"}}
	rules, err := rulefiles.Load(rulefiles.Options{Loader: l}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].ID != "0f06a3a5-6a09-413f-8743-e6cf35561297" || rules[1].ID != "Panther.Rule" {
		t.Fatalf("rules = %v", rules)
	}
	event := []byte(`{"eventType": "USER.SESSION.START", "published": "2025-01-01T00:00:00Z", "actor": {}}`)
	// Sigma ignores case; Panther's == does not.
	for i, want := range []bool{true, false} {
		if ok, err := rules[i].Evaluate(event); ok != want || err != nil {
			t.Errorf("%s.Evaluate = %v, %v; want %v", rules[i].ID, ok, err, want)
		}
	}
	// Files named one by one.
	rules, err = rulefiles.Load(rulefiles.Options{}, filepath.Join(dir, "a/panther.yml"), filepath.Join(dir, "b/sigma.yml"))
	if err != nil || len(rules) != 2 {
		t.Errorf("Load(files) = %v, %v", rules, err)
	}
}

func TestLoadProblems(t *testing.T) {
	dir := t.TempDir()
	badSigma := strings.Replace(sigmaRule, "condition: sel", "condition: nope", 1)
	dupSigma := strings.Replace(sigmaRule, "id: 0f06a3a5-6a09-413f-8743-e6cf35561297", "id: Panther.Rule", 1)
	write(t, dir, map[string]string{
		"good.yml": panther, "bad_sigma.yml": badSigma, "dup.yml": dupSigma,
		"bad_panther.yml": strings.Replace(panther, "RuleID: Panther.Rule", "RuleID: Other\nBogus: 1", 1),
	})
	rules, err := rulefiles.Load(rulefiles.Options{}, dir)
	var le *detect.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Load: %v; want a *LoadError", err)
	}
	if len(rules) != 1 || rules[0].ID != "Panther.Rule" {
		t.Errorf("rules = %v; want the good one", rules)
	}
	var got []string
	for _, fe := range le.Errs {
		got = append(got, filepath.Base(fe.File)+": "+fe.Message())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`bad_panther.yml: `, `bad_sigma.yml: rule 0f06a3a5-6a09-413f-8743-e6cf35561297: the condition names "nope"`,
		`dup.yml: rule Panther.Rule: rule ID is also used by`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("problems:\n%s\nlack %q", all, want)
		}
	}
}
