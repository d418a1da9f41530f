package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

const sigmaRuleFile = `title: Okta Admin Login
id: 4c1a3f2e-0d5b-4a8e-9b7c-2f6e1d3a5b70
tags: [attack.initial-access, attack.t1078]
logsource: {product: okta, service: okta}
detection:
  sel:
    eventType: user.session.start
    actor.alternateId|endswith: '@admin.example.com'
  condition: sel
fields: [actor.alternateId]
level: high
`

// TestSigmaFiles: lint, scan and catalog read Sigma files beside Panther
// files, and --pipeline adds a pipeline.
func TestSigmaFiles(t *testing.T) {
	inDir(t, map[string]string{
		"rules/panther.yml": header + "RuleID: Panther.Rule\nCondition: action == \"x\"\n",
		"rules/okta.yml":    sigmaRuleFile,
		"rules/okta.tests.yml": "tests:\n  - name: admin\n    match: true\n    event: {eventType: user.session.start, published: x, actor: {alternateId: a@admin.example.com}}\n" +
			"  - name: other\n    match: false\n    event: {eventType: user.session.start, published: x, actor: {alternateId: a@example.com}}\n",
		"events.jsonl": `{"p_log_type": "Okta.SystemLog", "eventType": "user.session.start", "published": "2025-01-01T00:00:00Z", "actor": {"alternateId": "Root@ADMIN.example.com"}}` + "\n",
		"mine.yml":     "name: mine\nlogsources:\n  - {product: custom, logtypes: [Custom.Audit]}\n",
		"custom/c.yml": "title: C\nid: c-1\nlogsource: {product: custom}\ndetection:\n  sel: {kind: bad}\n  condition: sel\n",
	})
	if code, stdout, stderr := runCmd("lint", "rules"); code != 0 || !strings.Contains(stdout, "lint: 2 rules ok, 0 files with problems") {
		t.Errorf("lint = %d\n%s%s", code, stdout, stderr)
	}
	// The sidecar's tests run; the sidecar is no rule file.
	if code, stdout, stderr := runCmd("test", "rules"); code != 0 || !strings.Contains(stdout, "2 passed, 0 failed") {
		t.Errorf("test = %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr := runCmd("scan", "--rules", "rules", "events.jsonl")
	if code != 0 || !strings.Contains(stdout, `"ruleId":"4c1a3f2e-0d5b-4a8e-9b7c-2f6e1d3a5b70"`) || !strings.Contains(stdout, `"severity":"HIGH"`) ||
		!strings.Contains(stdout, `"actor.alternateId":"Root@ADMIN.example.com"`) {
		t.Errorf("scan = %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCmd("catalog", "rules")
	if code != 0 || !strings.Contains(stdout, `"format": "sigma"`) || !strings.Contains(stdout, `"technique": "T1078"`) {
		t.Errorf("catalog = %d\n%s", code, stdout)
	}
	// Without the pipeline, the custom source is unmapped; with it, its
	// rule has the pipeline's log type.
	code, stdout, stderr = runCmd("catalog", "--pipeline", "mine.yml", "custom")
	if code != 0 || !strings.Contains(stdout, `"Custom.Audit"`) {
		t.Errorf("catalog --pipeline = %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCmd("lint", "--pipeline", "nowhere.yml", "rules"); code == 0 || !strings.Contains(stdout+stderr, "nowhere.yml") {
		t.Errorf("lint --pipeline nowhere.yml = %d, %s%s", code, stdout, stderr)
	}
}

// TestScanSigmaRegression runs SigmaHQ's regression events, as given,
// through detect scan with the rules they were recorded for and the
// built-in pipelines: each event's rule raises an alert.
func TestScanSigmaRegression(t *testing.T) {
	root, err := filepath.Abs("../../../shared/sigma/sigmahq")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); err != nil {
		t.Skip("no SigmaHQ rules beside the project")
	}
	var input bytes.Buffer
	want := map[string]string{} // rule id -> info file
	err = filepath.WalkDir(filepath.Join(root, "regression_data"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.Name() != "info.yml" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var info struct {
			RuleMetadata []struct{ ID string } `yaml:"rule_metadata"`
		}
		if err := yaml.Unmarshal(data, &info); err != nil {
			return err
		}
		events, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.json"))
		for _, e := range events {
			raw, err := os.ReadFile(e)
			if err != nil {
				return err
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			for dec.More() {
				var m json.RawMessage
				if err := dec.Decode(&m); err != nil {
					return err
				}
				if err := json.Compact(&input, m); err != nil {
					return err
				}
				input.WriteByte('\n')
			}
		}
		for _, m := range info.RuleMetadata {
			if len(events) > 0 {
				want[m.ID] = path
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Two rules expand a placeholder that no built-in pipeline gives
	// values; a pipeline of the test's gives it one.
	pipeline := filepath.Join(t.TempDir(), "placeholders.yml")
	if err := os.WriteFile(pipeline, []byte("name: placeholders\nplaceholders:\n  known_cdcs: [dc-1]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The rule files of the regression data, found by their ids.
	files := map[string]string{}
	for _, dir := range []string{"rules", "rules-emerging-threats", "rules-threat-hunting"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, line := range strings.Split(string(data), "\n") {
				if id, ok := strings.CutPrefix(strings.TrimSpace(line), "id: "); ok && !strings.HasPrefix(line, " ") {
					if _, wanted := want[id]; wanted {
						files[id] = path
					}
					break
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	args := []string{"scan", "--replay", "--pipeline", pipeline}
	for id := range want {
		if f, ok := files[id]; ok {
			args = append(args, "--rules", f)
		} else {
			t.Errorf("no rule file has id %s", id)
		}
	}
	if code := run(args, &input, &stdout, &stderr); code != 0 {
		t.Fatalf("scan = %d\n%.2000s", code, stderr.String())
	}
	got := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var a struct{ RuleID string }
		if json.Unmarshal([]byte(line), &a) == nil {
			got[a.RuleID] = true
		}
	}
	for id, info := range want {
		if !got[id] {
			t.Errorf("no alert of rule %s for its regression events (%s)", id, filepath.Base(filepath.Dir(info)))
		}
	}
	if len(want) < 200 {
		t.Errorf("%d regression rules; want SigmaHQ's 202", len(want))
	}
}
