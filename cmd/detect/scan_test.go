package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rulefiles"
	"github.com/detectkit/detect/rules"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/scan")

// testRuleSets stand in for rule files in the scan tests: --rules NAME
// loads testRuleSets[NAME]; other names go to the real loader.
var testRuleSets = map[string][]*detect.Rule{
	"ports": {
		{
			ID: "High.Port", DisplayName: "Connection to a high port", LogTypes: []string{"Net.Flow"},
			Severity: detect.SeverityLow, Condition: `int(port) > 1024`, GroupBy: []string{"host"},
			Fields: []detect.Field{{Name: "port", Expr: "port"}}, Tags: []string{"network"},
		},
		rules.WizRevokeUserSessions,
	},
	"logins": {
		{
			ID: "Failed.Logins", LogTypes: []string{"Auth.Log"}, Severity: detect.SeverityHigh,
			Condition: `action == "Login" && result == "FAILURE"`, GroupBy: []string{"user"}, Threshold: 5,
		},
	},
}

// TestScan runs "detect scan" in each directory of testdata/scan, with the
// arguments in its file args (one a line), its file stdin as standard
// input, and compares the exit code, standard output and standard error
// with its file golden. Run "go test -update" to rewrite them.
func TestScan(t *testing.T) {
	dirs, err := filepath.Glob("testdata/scan/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no test cases: %v", err)
	}
	realLoad := loadRules
	t.Cleanup(func() { loadRules, now = realLoad, time.Now })
	loadRules = func(paths []string, o rulefiles.Options) ([]*detect.Rule, error) {
		var out []*detect.Rule
		for _, p := range paths {
			rs, ok := testRuleSets[p]
			if !ok {
				return realLoad(paths, o)
			}
			out = append(out, rs...)
		}
		return out, nil
	}
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			golden, err := filepath.Abs(filepath.Join(dir, "golden"))
			if err != nil {
				t.Fatal(err)
			}
			args := readArgs(t, filepath.Join(dir, "args"))
			var stdin io.Reader = strings.NewReader("")
			if b, err := os.ReadFile(filepath.Join(dir, "stdin")); err == nil {
				stdin = bytes.NewReader(b)
			}
			t.Chdir(dir)
			// The clock ticks a second each time it is read, so that
			// events without a time and the events/s rate are stable.
			tick := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			now = func() time.Time { tick = tick.Add(time.Second); return tick }

			var stdout, stderr bytes.Buffer
			code := run(append([]string{"scan"}, args...), stdin, &stdout, &stderr)
			got := fmt.Sprintf("exit %d\n-- stdout --\n%s-- stderr --\n%s", code, stdout.String(), stderr.String())
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("detect scan %s:\n%s\nwant:\n%s", strings.Join(args, " "), got, want)
			}
		})
	}
}

func readArgs(t *testing.T, name string) []string {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			args = append(args, line)
		}
	}
	return args
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args            []string
		files, logTypes string
	}{
		{nil, "", ""},
		{[]string{"a", "b"}, "a b", ""},
		{[]string{"--log-type", "T", "a"}, "a", "T"},
		{[]string{"a", "--log-type", "T", "b"}, "a b", "T"},
		{[]string{"a", "-", "--log-type=T"}, "a -", "T"},
		{[]string{"a", "--", "--log-type", "b"}, "a --log-type b", ""},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("scan", flag.ContinueOnError)
		lt := fs.String("log-type", "", "")
		files, err := parseInterspersed(fs, tt.args)
		if err != nil || strings.Join(files, " ") != tt.files || *lt != tt.logTypes {
			t.Errorf("parseInterspersed(%q) = %q, %v with --log-type %q; want %q, --log-type %q", tt.args, files, err, *lt, tt.files, tt.logTypes)
		}
	}
}
