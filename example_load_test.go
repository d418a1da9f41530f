package detect_test

import (
	"errors"
	"fmt"
	"strings"
	"testing/fstest"

	"github.com/detectkit/detect"
)

// A rule file, as a pack would embed it.
const exampleRule = `AnalysisType: rule
RuleID: Example.Root.Login
Enabled: true
LogTypes: [Custom.Audit]
Severity: High
Condition: action == "login" && user.name == "root"
AlertTitle: "Root login from {sourceIP}"
Tests:
  - Name: root logs in
    ExpectedResult: true
    ExpectedTitle: Root login from 10.0.0.1
    Log: {action: login, sourceIP: 10.0.0.1, user: {name: root}}
`

func ExampleLoadFS() {
	fsys := fstest.MapFS{"rules/root_login.yml": {Data: []byte(exampleRule)}}
	rules, err := detect.LoadFS(fsys, "rules")
	if err != nil {
		fmt.Println(err)
		return
	}
	r := rules[0]
	for _, res := range r.RunTests() {
		fmt.Println(res)
	}
	title, _ := r.AlertTitle(`{"action": "login", "sourceIP": "192.0.2.7", "user": {"name": "root"}}`)
	fmt.Println(title)
	// Output:
	// PASS Example.Root.Login: root logs in
	// Root login from 192.0.2.7
}

func ExampleLoadError() {
	fsys := fstest.MapFS{
		"bad.yml": {Data: []byte(`AnalysisType: rule
RuleID: Example.Bad
Enabled: true
LogTypes: [Custom.Audit]
Severity: Urgent
Condition: action == "login" &&& user.name == "root"
`)},
		"python.yml": {Data: []byte("AnalysisType: rule\nRuleID: Example.Python\nFilename: rule.py\n")},
	}
	_, err := detect.LoadFS(fsys, ".")
	var le *detect.LoadError
	if errors.As(err, &le) {
		for _, fe := range le.Errs {
			fmt.Printf("%s: %s\n", fe.Position(), fe.Message())
		}
	}
	// Output:
	// bad.yml:5:11: rule Example.Bad: invalid Severity "Urgent" (want Info, Low, Medium, High or Critical)
	// bad.yml:6:32: rule Example.Bad: condition: unexpected token Operator("&")
	// python.yml:1:1: rule Example.Python: missing required keys Enabled, LogTypes and Severity
	// python.yml:3:1: rule Example.Python: Python rules are not supported: Filename names Python code; write the rule's logic as a Condition expression (Condition replaces Filename)
}

func ExampleLoad() {
	rules, err := detect.Load("testdata/rules/good")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rules {
		fmt.Println(r.ID, "tests:", len(r.Tests))
	}
	// Output:
	// Test.All.Keys tests: 3
	// Test.Always tests: 1
	// Test.Detection tests: 6
	// Test.Panther.Style tests: 3
	// Test.Uses.Helpers tests: 3
}

func ExampleLoader() {
	// A function of the service, which rules call by name.
	fns := detect.NewFunctions()
	internal := func(args ...any) (any, error) {
		ip, _ := args[0].(string)
		return strings.HasPrefix(ip, "10."), nil
	}
	if err := fns.Register("isInternal", internal, new(func(string) bool)); err != nil {
		fmt.Println(err)
		return
	}
	fsys := fstest.MapFS{
		"helpers.yml": {Data: []byte(`AnalysisType: global
GlobalID: helpers
Definitions:
  external_login: action == "login" && !isInternal(sourceIP)
`)},
		"login.yml": {Data: []byte(`AnalysisType: rule
RuleID: Example.External.Login
Enabled: true
LogTypes: [Custom.Audit]
Severity: Medium
Condition: external_login()
`)},
	}
	l := detect.Loader{Functions: fns}
	rules, err := l.LoadFS(fsys, ".")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ip := range []string{"10.1.2.3", "192.0.2.7"} {
		ok, _ := rules[0].Evaluate(map[string]any{"action": "login", "sourceIP": ip})
		fmt.Println(ip, ok)
	}
	// Output:
	// 10.1.2.3 false
	// 192.0.2.7 true
}
