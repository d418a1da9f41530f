package main

import (
	"strings"
	"testing"
)

// lookupFiles are a rule that reads a lookup table, and the table.
var lookupFiles = map[string]string{
	"rules/admin.yml": header + `RuleID: Test.Admin
Condition: action == "delete" && inLookup("admins", user)
AlertTitle: "{user} of {lookup('admins', user).team} deleted"
Tests:
  - {Name: admin, ExpectedResult: true, ExpectedTitle: alice of security deleted, Log: {action: delete, user: alice}}
  - {Name: admin in capitals, ExpectedResult: true, Log: {action: delete, user: ALICE}}
  - {Name: not admin, ExpectedResult: false, Log: {action: delete, user: bob}}
`,
	"admins.csv":   "user,team\nalice,security\n",
	"admins.jsonl": `{"login": "alice", "team": "security"}` + "\n",
	"broken.csv":   "user,team\nalice,security\nalice,again\n",
}

func TestLookupFlag(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    string
		stderrHas string
	}{
		{
			name:   "test with a CSV table",
			args:   []string{"test", "--lookup", "admins=admins.csv", "--lookup-ignore-case", "admins", "rules"},
			stdout: "3 passed, 0 failed\n",
		},
		{
			name:   "keys are case-sensitive by default",
			args:   []string{"test", "--lookup", "admins=admins.csv", "rules"},
			code:   1,
			stdout: "rules/admin.yml:10: FAIL Test.Admin: admin in capitals: result: want true, got false (false: inLookup(\"admins\", user) with user = \"ALICE\")\n2 passed, 1 failed\n",
		},
		{
			name:   "test with a JSON lines table and a key",
			args:   []string{"test", "rules", "--lookup", "admins:login=admins.jsonl", "--lookup-ignore-case=admins"},
			stdout: "3 passed, 0 failed\n",
		},
		{
			name:      "test without the table",
			args:      []string{"test", "rules"},
			code:      2,
			stderrHas: `rules/admin.yml:6:43: rule Test.Admin: condition: unknown lookup table "admins": no table is registered`,
		},
		{
			name:      "broken table",
			args:      []string{"test", "--lookup", "admins=broken.csv", "rules"},
			code:      2,
			stderrHas: `detect: lookup table admins: broken.csv:3:1: key "alice" is also on line 2`,
		},
		{
			name:      "missing table file",
			args:      []string{"test", "--lookup", "admins=none.csv"},
			code:      2,
			stderrHas: "none.csv: cannot read",
		},
		{
			name:      "bad flag",
			args:      []string{"test", "--lookup", "admins.csv", "rules"},
			code:      2,
			stderrHas: `--lookup "admins.csv": want NAME=PATH or NAME:KEY=PATH`,
		},
		{
			name:      "ignore case of no table",
			args:      []string{"test", "--lookup-ignore-case", "admins", "rules"},
			code:      2,
			stderrHas: "--lookup-ignore-case admins: no --lookup names that table",
		},
		{
			name: "lint with the table",
			args: []string{"lint", "--lookup", "admins=admins.csv", "rules"},
		},
		{
			name:   "lint without the table",
			args:   []string{"lint", "rules"},
			code:   1,
			stdout: `unknown lookup table "admins"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inDir(t, lookupFiles)
			code, stdout, stderr := runCmd(tt.args...)
			if code != tt.code {
				t.Errorf("run(%q) = %d; want %d (stdout: %s, stderr: %s)", tt.args, code, tt.code, stdout, stderr)
			}
			if tt.stdout != "" && !strings.Contains(stdout, tt.stdout) {
				t.Errorf("run(%q) stdout:\n%s\nwant:\n%s", tt.args, stdout, tt.stdout)
			}
			if !strings.Contains(stderr, tt.stderrHas) {
				t.Errorf("run(%q) stderr:\n%s\nwant it to contain:\n%s", tt.args, stderr, tt.stderrHas)
			}
		})
	}
}

func TestScanLookupFlag(t *testing.T) {
	inDir(t, lookupFiles)
	var out, errOut strings.Builder
	in := strings.NewReader(`{"action": "delete", "user": "alice", "p_event_time": "2024-03-11T04:30:00Z"}` + "\n" +
		`{"action": "delete", "user": "bob", "p_event_time": "2024-03-11T04:31:00Z"}` + "\n")
	code := run([]string{"scan", "--rules", "rules", "--lookup", "admins=admins.csv", "--replay"}, in, &out, &errOut)
	if code != 0 {
		t.Fatalf("scan = %d; stderr: %s", code, errOut.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 1 || !strings.Contains(out.String(), `"title":"alice of security deleted"`) {
		t.Errorf("scan printed %d alerts:\n%s\nwant one for alice", n, out.String())
	}
	code = run([]string{"scan", "--lookup", "admins=none.csv"}, strings.NewReader(""), &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "none.csv") {
		t.Errorf("scan with a missing table = %d, %s; want 2 and an error naming the file", code, errOut.String())
	}
}
