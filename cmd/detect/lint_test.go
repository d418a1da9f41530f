package main

import (
	"strings"
	"testing"
)

func TestLintCommand(t *testing.T) {
	good := header + "RuleID: Good\nCondition: action == \"x\"\n"
	tests := []struct {
		name      string
		args      []string
		files     map[string]string
		code      int
		stdout    string
		stderrHas string
	}{
		{
			name:   "valid",
			args:   []string{"lint", "rules"},
			files:  map[string]string{"rules/good.yml": good},
			stdout: "lint: 1 rule ok, 0 files with problems\n",
		},
		{
			name:   "valid, verbose, current directory",
			args:   []string{"lint", "-v"},
			files:  map[string]string{"rules/good.yml": good, "rules/x/good.yaml": strings.Replace(good, "Good", "Good2", 1)},
			stdout: "ok Good (rules/good.yml)\nok Good2 (rules/x/good.yaml)\nlint: 2 rules ok, 0 files with problems\n",
		},
		{
			name: "two packs sharing a global",
			args: []string{"lint", "a", "b"},
			files: map[string]string{
				"a/helpers.yml": "AnalysisType: global\nGlobalID: shared\nDefinitions:\n  ok: status == \"OK\"\n",
				"b/helpers.yml": "AnalysisType: global\nGlobalID: shared\nDefinitions:\n  ok: status == \"OK\"\n",
				"a/good.yml":    header + "RuleID: A\nCondition: ok()\n",
				"b/good.yml":    header + "RuleID: B\nCondition: ok()\n",
			},
			stdout: "lint: 2 rules ok, 0 files with problems\n",
		},
		{
			name:      "a stray file and an excluded one",
			args:      []string{"lint", "--exclude", "drafts", "rules"},
			files:     map[string]string{"rules/good.yml": good, "rules/docker-compose.yml": "services: {}\n", "rules/drafts/bad.yml": "AnalysisType: rule\n"},
			stdout:    "lint: 1 rule ok, 0 files with problems\n",
			stderrHas: "detect lint: skipping rules/docker-compose.yml: not a rule file",
		},
		{
			name: "every problem",
			args: []string{"lint", "rules"},
			files: map[string]string{
				"rules/good.yml":     good,
				"rules/bad.yml":      header + "RuleID: Bad\nCondition: action ==\nThreshold: -2\n",
				"rules/a/python.yml": "AnalysisType: rule\nRuleID: Py\nFilename: py.py\nEnabled: true\nLogTypes: [X]\nSeverity: Low\n",
			},
			code: 1,
			stdout: "rules/a/python.yml:3:1: rule Py: Python rules are not supported: Filename names Python code; write the rule's logic as a Condition expression (Condition replaces Filename)\n" +
				"rules/bad.yml:6:20: rule Bad: condition: unexpected token EOF\n" +
				"rules/bad.yml:7:12: rule Bad: Threshold is negative (-2); 0 means the default, 1\n" +
				"lint: 1 rule ok, 2 files with problems\n",
		},
		{
			name:   "a lookup table not given",
			args:   []string{"lint", "rules"},
			files:  map[string]string{"rules/admins.yml": header + "RuleID: Admins\nCondition: inLookup(\"admins\", user)\n"},
			code:   1,
			stdout: "rules/admins.yml:6:21: rule Admins: condition: unknown lookup table \"admins\": no table is registered (give it with --lookup admins=FILE)\nlint: 0 rules ok, 1 file with problems\n",
		},
		{
			name:   "missing path",
			args:   []string{"lint", "nowhere"},
			code:   1,
			stdout: "nowhere: cannot read: no such file or directory\nlint: 0 rules ok, 1 file with problems\n",
		},
		{
			name:      "no rules",
			args:      []string{"lint"},
			stdout:    "lint: 0 rules ok, 0 files with problems\n",
			stderrHas: "no rules found",
		},
		{
			name:      "unknown flag",
			args:      []string{"lint", "-x"},
			code:      2,
			stderrHas: "flag provided but not defined: -x",
		},
		{
			name:   "help",
			args:   []string{"lint", "--help"},
			stdout: lintUsage,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inDir(t, tt.files)
			code, stdout, stderr := runCmd(tt.args...)
			if code != tt.code {
				t.Errorf("run(%q) = %d; want %d (stderr: %s)", tt.args, code, tt.code, stderr)
			}
			if stdout != tt.stdout {
				t.Errorf("run(%q) stdout:\n%s\nwant:\n%s", tt.args, stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("run(%q) stderr:\n%s\nwant it to contain:\n%s", tt.args, stderr, tt.stderrHas)
			}
		})
	}
}
