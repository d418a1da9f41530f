package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rules"
)

const testUsage = `usage: detect test [flags] [PATH...]

Run the unit tests (the Tests key) of rule files. Each PATH is a rule file
or a directory searched recursively for *.yml and *.yaml files; without
PATH, the built-in rules are tested.

Prints one line per failing test, "<file>:<line>: FAIL <rule ID>: <test
name>: <what differed>" (the file and line of the test; for a result of
false where true was expected, the parts of the condition that were false
and the values of the fields they read), then the line "N passed, N
failed".

Flags:
  --id ID             test only rules with this ID; * and ? match any text
                      and one character (Wiz.*). Repeat it or list IDs
                      separated by commas.
  --tag TAG           test only rules with this tag, in any letter case.
                      Repeat it or list tags separated by commas.
  --filter KEY=VALUE  test only rules whose KEY has one of the VALUEs
                      (separated by commas): RuleID, Tags, LogTypes,
                      Severity or Enabled. Repeated, every filter must hold.
  --minimum-tests N   a rule with fewer than N tests fails; with N of 2 or
                      more it also needs a test whose ExpectedResult is
                      true and one whose ExpectedResult is false.
  --skip-disabled     skip rules with Enabled: false.
  -v                  list passing tests too.
` + excludeUsage + lookupUsage + `
Rules that call a service's Go functions cannot be tested here: test them
with go test, where the functions are (see the detecttest package).

Exit status: 0 when every test passes; 1 when a test fails, when no rule
is selected (no rule found, or --id, --tag or --filter match none), or
when no selected rule has a test (nothing was tested); 2 when the rules
cannot be loaded or the flags are wrong.
`

// repeatedFlag collects a repeatable flag whose values may also be separated
// by commas.
type repeatedFlag []string

func (l *repeatedFlag) String() string { return strings.Join(*l, ",") }

func (l *repeatedFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// badUsage reports a mistake in the arguments and returns exit code 2;
// asked for help (-h), it prints the usage on stdout and returns 0.
func badUsage(stdout, stderr io.Writer, cmd, usage string, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "detect %s: %v\n\n%s", cmd, err, usage)
	return 2
}

// ruleFilter selects rules: every key must match one of its values.
type ruleFilter map[string][]string

var filterKeys = []string{"RuleID", "Tags", "LogTypes", "Severity", "Enabled"}

func (f ruleFilter) add(key string, values ...string) error {
	for _, k := range filterKeys {
		if strings.EqualFold(k, key) {
			f[k] = append(f[k], values...)
			return nil
		}
	}
	return fmt.Errorf("unknown filter key %q (want %s)", key, strings.Join(filterKeys, ", "))
}

func (f ruleFilter) match(r *detect.Rule) bool {
	for key, values := range f {
		if !f.matchKey(r, key, values) {
			return false
		}
	}
	return true
}

func (f ruleFilter) matchKey(r *detect.Rule, key string, values []string) bool {
	for _, v := range values {
		switch key {
		case "RuleID":
			if ok, _ := path.Match(v, r.ID); ok || v == r.ID {
				return true
			}
		case "Tags":
			for _, t := range r.Tags {
				if strings.EqualFold(t, v) {
					return true
				}
			}
		case "LogTypes":
			for _, t := range r.LogTypes {
				if t == v {
					return true
				}
			}
		case "Severity":
			if s, err := detect.ParseSeverity(v); err == nil && s == r.Severity {
				return true
			}
		case "Enabled":
			if b, err := strconv.ParseBool(v); err == nil && b == !r.Disabled {
				return true
			}
		}
	}
	return false
}

func runTest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var ids, tags, filters repeatedFlag
	fs.Var(&ids, "id", "")
	fs.Var(&tags, "tag", "")
	fs.Var(&filters, "filter", "")
	minTests := fs.Int("minimum-tests", 0, "")
	skipDisabled := fs.Bool("skip-disabled", false, "")
	verbose := fs.Bool("v", false, "")
	var lookups lookupFlags
	lookups.register(fs)
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return badUsage(stdout, stderr, "test", testUsage, err)
	}
	filter := ruleFilter{}
	if len(ids) > 0 {
		filter.add("RuleID", ids...)
	}
	if len(tags) > 0 {
		filter.add("Tags", tags...)
	}
	for _, kv := range filters {
		key, value, ok := strings.Cut(kv, "=")
		if !ok {
			return badUsage(stdout, stderr, "test", testUsage, fmt.Errorf("--filter %q: want KEY=VALUE", kv))
		}
		if err := filter.add(strings.TrimSpace(key), strings.TrimSpace(value)); err != nil {
			return badUsage(stdout, stderr, "test", testUsage, err)
		}
	}
	if *minTests < 0 {
		return badUsage(stdout, stderr, "test", testUsage, fmt.Errorf("--minimum-tests %d is negative", *minTests))
	}

	var list []*detect.Rule
	if len(paths) == 0 {
		list = rules.All()
		_, err = lookups.functions()
	} else {
		list, err = lookups.load(paths, stderr, "test")
	}
	if err != nil {
		printLoadProblems(stderr, err)
		fmt.Fprintln(stderr, "detect test: the rules cannot be loaded")
		return 2
	}

	passed, failed, selected := 0, 0, 0
	for _, r := range list {
		if !filter.match(r) || (*skipDisabled && r.Disabled) {
			continue
		}
		selected++
		for _, msg := range coverage(r, *minTests) {
			if r.Source != "" {
				fmt.Fprintf(stdout, "%s: ", r.Source)
			}
			fmt.Fprintf(stdout, "FAIL %s: %s\n", r.ID, msg)
			failed++
		}
		for _, res := range r.RunTests() {
			if res.Passed {
				passed++
				if *verbose {
					fmt.Fprintln(stdout, res)
				}
				continue
			}
			failed++
			fmt.Fprintln(stdout, res)
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	switch {
	case failed > 0:
		return 1
	case selected == 0 && (len(filter) > 0 || *skipDisabled):
		fmt.Fprintf(stderr, "detect test: no rule matches %s (of %s)\n", filterText(ids, tags, filters, *skipDisabled), plural(len(list), "rule"))
		return 1
	case selected == 0:
		fmt.Fprintln(stderr, "detect test: no rules found")
		return 1
	case passed == 0:
		fmt.Fprintf(stderr, "detect test: nothing was tested: %s selected, none with Tests\n", plural(selected, "rule"))
		return 1
	}
	return 0
}

// filterText words the selection flags given, for a message.
func filterText(ids, tags, filters []string, skipDisabled bool) string {
	var parts []string
	for _, v := range ids {
		parts = append(parts, "--id "+v)
	}
	for _, v := range tags {
		parts = append(parts, "--tag "+v)
	}
	for _, v := range filters {
		parts = append(parts, "--filter "+v)
	}
	if skipDisabled {
		parts = append(parts, "--skip-disabled")
	}
	return strings.Join(parts, " ")
}

// coverage returns why a rule's tests fall short of --minimum-tests, as
// panther_analysis_tool checks it.
func coverage(r *detect.Rule, min int) []string {
	if min <= 0 {
		return nil
	}
	var out []string
	if n := len(r.Tests); n < min {
		noun := "tests"
		if n == 1 {
			noun = "test"
		}
		out = append(out, fmt.Sprintf("has %d %s, want at least %d", n, noun, min))
	}
	if min > 1 {
		var hasTrue, hasFalse bool
		for _, t := range r.Tests {
			hasTrue = hasTrue || t.ExpectedResult
			hasFalse = hasFalse || !t.ExpectedResult
		}
		if !hasTrue || !hasFalse {
			out = append(out, "needs a test with ExpectedResult: true and one with ExpectedResult: false")
		}
	}
	return out
}

// printLoadProblems prints each problem of a load as file:line:column: message.
func printLoadProblems(w io.Writer, err error) {
	var le *detect.LoadError
	if !errors.As(err, &le) {
		fmt.Fprintln(w, err)
		return
	}
	for _, fe := range le.Errs {
		fmt.Fprintf(w, "%s: %s%s\n", fe.Position(), fe.Message(), lookupHint(fe.Msg))
	}
}
