package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const header = "AnalysisType: rule\nEnabled: true\nLogTypes: [Custom.Audit]\nSeverity: High\n"

// testRules are rule files for the CLI tests: two pass, one fails.
var testRules = map[string]string{
	"rules/login.yml": header + `RuleID: Test.Login
Tags: [Identity]
Condition: action == "login"
AlertTitle: "Login by {user}"
Tests:
  - {Name: login, ExpectedResult: true, ExpectedTitle: Login by bob, Log: {action: login, user: bob}}
  - {Name: logout, ExpectedResult: false, Log: {action: logout}}
`,
	"rules/nested/delete.yml": header + `RuleID: Test.Delete
Tags: [Data]
Condition: action == "delete"
Tests:
  - {Name: delete, ExpectedResult: true, Log: {action: delete}}
  - {Name: wrong, ExpectedResult: true, Log: {action: read}}
`,
	"rules/disabled.yml": `AnalysisType: rule
Enabled: false
LogTypes: [Custom.Other]
Severity: Low
RuleID: Other.Disabled
Condition: "true"
Tests:
  - {Name: always, ExpectedResult: true, Log: {}}
`,
}

// inDir writes files under a temporary directory and makes it the
// current directory for the test.
func inDir(t *testing.T, files map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTestCommand(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // exact
		stderrHas  string
		files      map[string]string
		noDefaults bool
	}{
		{
			name:   "failures",
			args:   []string{"test", "rules"},
			code:   1,
			stdout: "rules/nested/delete.yml:10: FAIL Test.Delete: wrong: result: want true, got false (false: action == \"delete\" with action = \"read\")\n4 passed, 1 failed\n",
		},
		{
			name:   "verbose",
			args:   []string{"test", "-v", "rules/login.yml"},
			stdout: "PASS Test.Login: login\nPASS Test.Login: logout\n2 passed, 0 failed\n",
		},
		{
			name:   "flags after paths",
			args:   []string{"test", "rules", "--id", "Test.L*"},
			stdout: "2 passed, 0 failed\n",
		},
		{
			name:   "ids as a list",
			args:   []string{"test", "--id=Test.Login,Other.Disabled", "rules"},
			stdout: "3 passed, 0 failed\n",
		},
		{
			name:   "tag",
			args:   []string{"test", "--tag", "data", "rules"},
			code:   1,
			stdout: "rules/nested/delete.yml:10: FAIL Test.Delete: wrong: result: want true, got false (false: action == \"delete\" with action = \"read\")\n1 passed, 1 failed\n",
		},
		{
			name:   "filter",
			args:   []string{"test", "--filter", "LogTypes=Custom.Other", "--filter", "Severity=low", "rules"},
			stdout: "1 passed, 0 failed\n",
		},
		{
			name:      "skip disabled",
			args:      []string{"test", "--skip-disabled", "--id", "Other.*", "rules"},
			code:      1,
			stdout:    "0 passed, 0 failed\n",
			stderrHas: "detect test: no rule matches --id Other.* --skip-disabled (of 3 rules)\n",
		},
		{
			name:      "id matching no rule",
			args:      []string{"test", "--id", "Nope", "rules"},
			code:      1,
			stdout:    "0 passed, 0 failed\n",
			stderrHas: "detect test: no rule matches --id Nope (of 3 rules)\n",
		},
		{
			name:      "tag matching no rule",
			args:      []string{"test", "--tag", "nope", "rules"},
			code:      1,
			stderrHas: "detect test: no rule matches --tag nope (of 3 rules)\n",
		},
		{
			name:      "filter matching no rule",
			args:      []string{"test", "--filter", "Severity=Critical", "rules"},
			code:      1,
			stderrHas: "detect test: no rule matches --filter Severity=Critical (of 3 rules)\n",
		},
		{
			name:      "no rules",
			args:      []string{"test", "empty"},
			code:      1,
			stdout:    "0 passed, 0 failed\n",
			stderrHas: "detect test: no rules found\n",
			files:     map[string]string{"empty/notes.txt": "no rules here"},
		},
		{
			name:      "no tests",
			args:      []string{"test", "untested"},
			code:      1,
			stdout:    "0 passed, 0 failed\n",
			stderrHas: "detect test: nothing was tested: 1 rule selected, none with Tests\n",
			files:     map[string]string{"untested/a.yml": header + "RuleID: No.Tests\nCondition: action == \"x\"\n"},
		},
		{
			name:      "a stray YAML file",
			args:      []string{"test", "rules"},
			code:      1,
			stdout:    "rules/nested/delete.yml:10: FAIL Test.Delete: wrong: result: want true, got false (false: action == \"delete\" with action = \"read\")\n4 passed, 1 failed\n",
			stderrHas: "detect test: skipping rules/docker-compose.yml: not a rule file: no AnalysisType or other Panther key\n",
			files:     map[string]string{"rules/docker-compose.yml": "services:\n  web:\n    image: nginx\n"},
		},
		{
			name:   "exclude",
			args:   []string{"test", "--exclude", "nested", "--exclude=broken.yml", "rules"},
			stdout: "3 passed, 0 failed\n",
			files:  map[string]string{"rules/broken.yml": header + "RuleID: Broken\nConditon: true\n"},
		},
		{
			name:   "minimum tests",
			args:   []string{"test", "--minimum-tests", "2", "rules"},
			code:   1,
			stdout: "rules/disabled.yml: FAIL Other.Disabled: has 1 test, want at least 2\nrules/disabled.yml: FAIL Other.Disabled: needs a test with ExpectedResult: true and one with ExpectedResult: false\nrules/nested/delete.yml: FAIL Test.Delete: needs a test with ExpectedResult: true and one with ExpectedResult: false\nrules/nested/delete.yml:10: FAIL Test.Delete: wrong: result: want true, got false (false: action == \"delete\" with action = \"read\")\n4 passed, 4 failed\n",
		},
		{
			name:      "rules that cannot be loaded",
			args:      []string{"test", "rules", "broken.yml"},
			code:      2,
			stderrHas: "broken.yml:6:1: rule Broken: unknown key \"Conditon\" (did you mean Condition?)\ndetect test: the rules cannot be loaded\n",
			files:     map[string]string{"broken.yml": header + "RuleID: Broken\nConditon: true\n"},
		},
		{
			name:      "unknown flag",
			args:      []string{"test", "--bogus"},
			code:      2,
			stderrHas: "flag provided but not defined: -bogus",
		},
		{
			name:      "bad filter",
			args:      []string{"test", "--filter", "Owner=me"},
			code:      2,
			stderrHas: `unknown filter key "Owner"`,
		},
		{
			name:   "help",
			args:   []string{"test", "-h"},
			stdout: testUsage,
		},
		{
			name:       "built-in rules",
			args:       []string{"test", "--id", "Wiz.Revoke.User.Sessions"},
			stdout:     "3 passed, 0 failed\n",
			noDefaults: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			if !tt.noDefaults {
				for k, v := range testRules {
					files[k] = v
				}
			}
			for k, v := range tt.files {
				files[k] = v
			}
			inDir(t, files)
			code, stdout, stderr := runCmd(tt.args...)
			if code != tt.code {
				t.Errorf("run(%q) = %d; want %d (stderr: %s)", tt.args, code, tt.code, stderr)
			}
			if tt.stdout != "" && stdout != tt.stdout {
				t.Errorf("run(%q) stdout:\n%s\nwant:\n%s", tt.args, stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("run(%q) stderr:\n%s\nwant it to contain:\n%s", tt.args, stderr, tt.stderrHas)
			}
		})
	}
}
