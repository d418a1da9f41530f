package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCatalogCommand(t *testing.T) {
	rule := header + "RuleID: Custom.Login\nCondition: action == \"login\" && user.name != nil\n" +
		"Reports:\n  MITRE ATT&CK: [TA0001:T1078]\nOutputs:\n  who: user.name\n"
	inDir(t, map[string]string{"rules/login.yml": rule})

	// JSON on standard output, from a directory.
	code, stdout, stderr := runCmd("catalog", "rules")
	if code != 0 {
		t.Fatalf("catalog rules = %d; stderr: %s", code, stderr)
	}
	var doc struct {
		Rules []struct {
			ID         string `json:"id"`
			Source     string `json:"source"`
			Format     string `json:"format"`
			Condition  []string
			Indicators []map[string]any
			Outputs    []map[string]any
			Mitre      []map[string]any
			Body       string
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("catalog rules: not JSON: %v\n%s", err, stdout)
	}
	if len(doc.Rules) != 1 {
		t.Fatalf("catalog rules: %d rules; want 1", len(doc.Rules))
	}
	r := doc.Rules[0]
	if r.ID != "Custom.Login" || r.Source != filepath.Join("rules", "login.yml") || r.Format != "panther" ||
		strings.Join(r.Condition, "; ") != `action eq "login"; user.name exists` || !strings.Contains(r.Body, "RuleID: Custom.Login") {
		t.Errorf("catalog rules: %+v", r)
	}
	if len(r.Outputs) != 1 || r.Outputs[0]["field"] != "who" || r.Outputs[0]["source"] != "user.name" {
		t.Errorf("outputs = %v", r.Outputs)
	}
	if len(r.Mitre) != 1 || r.Mitre[0]["tactic"] != "TA0001" || r.Mitre[0]["technique"] != "T1078" || r.Mitre[0]["techniqueName"] != "" {
		t.Errorf("mitre without a bundle = %v", r.Mitre)
	}

	// The built-in rules by default; markdown, html and a navigator layer
	// into files.
	if code, _, stderr := runCmd("catalog", "--format", "markdown", "--out", "md", "--navigator", "layer.json"); code != 0 {
		t.Fatalf("catalog --format markdown = %d; stderr: %s", code, stderr)
	}
	for _, f := range []string{"md/README.md", "md/Wiz.Revoke.User.Sessions.md", "layer.json"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("catalog --format markdown: %v", err)
		}
	}
	if code, _, stderr := runCmd("catalog", "--format", "html", "--out", "site", "rules"); code != 0 {
		t.Fatalf("catalog --format html = %d; stderr: %s", code, stderr)
	}
	for _, f := range []string{"site/index.html", "site/matrix.html", "site/indicators.html", "site/rules/Custom.Login.html"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("catalog --format html: %v", err)
		}
	}
	if code, _, stderr := runCmd("catalog", "--out", "js"); code != 0 {
		t.Fatalf("catalog --out js = %d; stderr: %s", code, stderr)
	} else if b, err := os.ReadFile("js/catalog.json"); err != nil || !strings.HasPrefix(string(b), `{`) {
		t.Errorf("catalog --out js: %v %.40q", err, b)
	}

	// Mistakes.
	for _, tt := range []struct {
		args []string
		code int
		has  string
	}{
		{[]string{"catalog", "--format", "pdf"}, 2, `--format "pdf": want json, markdown or html`},
		{[]string{"catalog", "--format", "html"}, 2, "--format html needs --out DIR"},
		{[]string{"catalog", "--attack", "nowhere.json"}, 2, "nowhere.json"},
		{[]string{"catalog", "nowhere"}, 2, "nowhere: cannot read"},
	} {
		code, _, stderr := runCmd(tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.has) {
			t.Errorf("run(%q) = %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.has)
		}
	}
	if code, stdout, _ := runCmd("catalog", "-h"); code != 0 || stdout != catalogUsage {
		t.Errorf("catalog -h = %d, %q", code, stdout)
	}
}

// TestCatalogSeed runs the command of the catalog's documentation with the
// ATT&CK bundle beside the project.
func TestCatalogSeed(t *testing.T) {
	bundle, err := filepath.Abs("../../../shared/attack/enterprise-attack.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bundle); err != nil {
		t.Skip("no ATT&CK bundle beside the project")
	}
	inDir(t, nil)
	code, stdout, stderr := runCmd("catalog", "--format", "json", "--attack", bundle)
	if code != 0 {
		t.Fatalf("catalog = %d; stderr: %s", code, stderr)
	}
	var doc struct {
		Rules []struct {
			ID, Severity string
			GroupBy      []string
			LogTypes     []string
			Mitre        []struct{ Tactic, TacticName, Technique, TechniqueName string }
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Rules {
		if r.ID != "Wiz.Revoke.User.Sessions" {
			continue
		}
		if r.Severity != "Medium" || strings.Join(r.GroupBy, ",") != "id" || strings.Join(r.LogTypes, ",") != "Wiz.Audit" ||
			len(r.Mitre) != 1 || r.Mitre[0].TacticName != "Impact" || r.Mitre[0].TechniqueName != "Account Access Removal" {
			t.Errorf("Wiz.Revoke.User.Sessions: %+v", r)
		}
		return
	}
	t.Error("no Wiz.Revoke.User.Sessions")
}
