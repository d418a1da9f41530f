package sigma_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/sigma"
)

// testPipeline maps the log source "product: test" to the log type Test,
// with fields read by name.
var testPipeline = mustPipeline(`
name: test
logsources:
  - {product: test, logtypes: [Test]}
placeholders:
  admins: [root, "adm*"]
`)

func mustPipeline(s string) *sigma.Pipeline {
	p, err := sigma.ParsePipeline([]byte(s))
	if err != nil {
		panic(err)
	}
	return p
}

// rule compiles a Sigma rule whose detection is given, with the test
// pipeline.
func rule(t *testing.T, detection string) *detect.Rule {
	t.Helper()
	rs, err := sigma.Parse([]byte("title: T\nid: t-1\nlogsource: {product: test}\ndetection:\n"+indent(detection)), "t.yml",
		sigma.Options{Pipelines: []*sigma.Pipeline{testPipeline}})
	if err != nil {
		t.Fatalf("Parse(%q): %v", detection, err)
	}
	return rs[0]
}

func indent(s string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n") + "\n"
}

type matchCase struct {
	event string
	want  bool
}

func checkMatches(t *testing.T, r *detect.Rule, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		got, err := r.Evaluate([]byte(c.event))
		if err != nil || got != c.want {
			t.Errorf("Evaluate(%s) = %v, %v; want %v (condition %s)", c.event, got, err, c.want, r.Condition)
		}
	}
}

func TestValues(t *testing.T) {
	tests := []struct {
		name, detection string
		cases           []matchCase
	}{
		{"plain text ignores case", "sel: {Image: 'C:\\Windows\\cmd.exe'}\ncondition: sel", []matchCase{
			{`{"Image": "c:\\windows\\CMD.EXE"}`, true},
			{`{"image": "C:\\Windows\\cmd.exe"}`, true}, // field names ignore case too
			{`{"Image": "C:\\Windows\\cmd.exe "}`, false},
			{`{"Other": "C:\\Windows\\cmd.exe"}`, false},
		}},
		{"wildcards", "sel: {Image: '*\\cm?.exe'}\ncondition: sel", []matchCase{
			{`{"Image": "C:\\x\\cmd.exe"}`, true},
			{`{"Image": "C:\\x\\cmdd.exe"}`, false},
			{`{"Image": "\\cmé.exe"}`, true}, // ? is one character, not one byte
		}},
		{"escaped wildcards", `sel: {F: 'a\*b\?c\\*'}` + "\ncondition: sel", []matchCase{
			{`{"F": "a*b?c\\"}`, true},
			{`{"F": "a*b?c\\xyz"}`, true},
			{`{"F": "aXb?c\\"}`, false},
			{`{"F": "a*bXc\\"}`, false},
		}},
		{"lists are ORed, maps ANDed", "sel:\n  A: [x, y]\n  B: z\ncondition: sel", []matchCase{
			{`{"A": "y", "B": "Z"}`, true},
			{`{"A": "w", "B": "z"}`, false},
			{`{"A": "x"}`, false},
		}},
		{"a list of maps is ORed", "sel:\n  - A: x\n  - B: y\ncondition: sel", []matchCase{
			{`{"B": "y"}`, true},
			{`{"A": "y"}`, false},
		}},
		{"numbers", "sel: {EventID: 4688}\ncondition: sel", []matchCase{
			{`{"EventID": 4688}`, true},
			{`{"EventID": "4688"}`, true},
			{`{"EventID": 4688.0}`, true},
			{`{"EventID": 46880}`, false},
			{`{"EventID": null}`, false},
		}},
		{"a number written as text", "sel: {EventID: '4688'}\ncondition: sel", []matchCase{
			{`{"EventID": 4688}`, true},
			{`{"EventID": "4688"}`, true},
		}},
		{"null is a missing field", "sel: {A: x}\nf: {B: null}\ncondition: sel and not f", []matchCase{
			{`{"A": "x", "B": "set"}`, true},
			{`{"A": "x"}`, false},
			{`{"A": "x", "B": null}`, false},
		}},
		{"the empty text", "sel: {A: ''}\ncondition: sel", []matchCase{
			{`{"A": ""}`, true},
			{`{"A": "x"}`, false},
			{`{}`, false},
		}},
		{"a list field matches by element", "sel: {Tags: admin}\ncondition: sel", []matchCase{
			{`{"Tags": ["user", "Admin"]}`, true},
			{`{"Tags": ["user"]}`, false},
		}},
		{"booleans", "sel: {Enabled: true}\ncondition: sel", []matchCase{
			{`{"Enabled": true}`, true},
			{`{"Enabled": "True"}`, true},
			{`{"Enabled": false}`, false},
		}},
		{"keywords", "kw: ['mimikatz', 'sekurlsa::*']\ncondition: kw", []matchCase{
			{`{"CommandLine": "run MIMIKATZ.exe"}`, true},
			{`{"deep": {"list": ["a", "x sekurlsa::logonpasswords"]}}`, true},
			{`{"CommandLine": "notepad"}`, false},
		}},
		{"keywords with all", "kw:\n  '|all': [OabVirtualDirectory, ' -ExternalUrl ']\ncondition: kw", []matchCase{
			{`{"a": "Set-OabVirtualDirectory -ExternalUrl http://x"}`, true},
			{`{"a": "Set-OabVirtualDirectory", "b": "x -ExternalUrl y"}`, true},
			{`{"a": "Set-OabVirtualDirectory"}`, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkMatches(t, rule(t, tt.detection), tt.cases) })
	}
}

func TestModifiers(t *testing.T) {
	tests := []struct {
		name, detection string
		cases           []matchCase
	}{
		{"contains", "sel: {C|contains: Evil}\ncondition: sel", []matchCase{{`{"C": "an evil one"}`, true}, {`{"C": "good"}`, false}}},
		{"startswith", "sel: {C|startswith: adm}\ncondition: sel", []matchCase{{`{"C": "ADMIN"}`, true}, {`{"C": "badm"}`, false}}},
		{"endswith", "sel: {C|endswith: '\\cmd.exe'}\ncondition: sel", []matchCase{{`{"C": "C:\\CMD.exe"}`, true}, {`{"C": "cmd.exe"}`, false}}},
		{"contains|all", "sel: {C|contains|all: [a1, b2]}\ncondition: sel", []matchCase{{`{"C": "b2 a1"}`, true}, {`{"C": "a1"}`, false}}},
		{"exists", "sel: {A|exists: true}\nf: {B|exists: false}\ncondition: sel and f", []matchCase{
			{`{"A": "x"}`, true}, {`{"A": "x", "B": 1}`, false}, {`{"B": 1}`, false},
		}},
		{"cased", "sel: {C|cased: Admin}\ncondition: sel", []matchCase{{`{"C": "Admin"}`, true}, {`{"C": "admin"}`, false}}},
		{"cased|contains", "sel: {C|contains|cased: Ad}\ncondition: sel", []matchCase{{`{"C": "xAdx"}`, true}, {`{"C": "xadx"}`, false}}},
		{"neq", "sel: {C|neq: [a, b]}\ncondition: sel", []matchCase{{`{"C": "c"}`, true}, {`{"C": "B"}`, false}, {`{"C": "a"}`, false}}},
		{"windash", "sel: {C|windash|contains: ' -enc '}\ncondition: sel", []matchCase{
			{`{"C": "powershell -enc abc"}`, true}, {`{"C": "powershell /enc abc"}`, true},
			{`{"C": "powershell –enc abc"}`, true}, {`{"C": "powershell —enc abc"}`, true},
			{`{"C": "powershell ―enc abc"}`, true}, {`{"C": "powershell +enc abc"}`, false},
		}},
		{"re", "sel: {C|re: '^ab+c$'}\ncondition: sel", []matchCase{{`{"C": "abbbc"}`, true}, {`{"C": "ABC"}`, false}}},
		{"re|i", "sel: {C|re|i: '^ab+c$'}\ncondition: sel", []matchCase{{`{"C": "ABBC"}`, true}}},
		{"re|m", "sel: {C|re|m: '^two$'}\ncondition: sel", []matchCase{{`{"C": "one\ntwo\nthree"}`, true}}},
		{"re|s", "sel: {C|re|s: 'one.two'}\ncondition: sel", []matchCase{{`{"C": "one\ntwo"}`, true}}},
		{"re without s", "sel: {C|re: 'one.two'}\ncondition: sel", []matchCase{{`{"C": "one\ntwo"}`, false}}},
		{"base64", "sel: {C|base64: 'http://'}\ncondition: sel", []matchCase{{`{"C": "aHR0cDovLw=="}`, true}, {`{"C": "http://"}`, false}}},
		// "sekurlsa" at each offset inside a longer encoded text.
		{"base64offset|contains", "sel: {C|base64offset|contains: sekurlsa}\ncondition: sel", []matchCase{
			{`{"C": "c2VrdXJsc2E="}`, true},      // sekurlsa
			{`{"C": "eHNla3VybHNh"}`, true},      // xsekurlsa
			{`{"C": "eHlzZWt1cmxzYQ=="}`, true},  // xysekurlsa
			{`{"C": "aGVsbG8gd29ybGQ="}`, false}, // hello world
		}},
		{"wide|base64offset|contains", "sel: {C|wide|base64offset|contains: ping}\ncondition: sel", []matchCase{
			{`{"C": "cABpAG4AZwA="}`, true}, // "ping" in UTF-16LE, base64
		}},
		{"utf16le|base64", "sel: {C|utf16le|base64: cmd}\ncondition: sel", []matchCase{{`{"C": "YwBtAGQA"}`, true}}},
		{"utf16be|base64", "sel: {C|utf16be|base64: cmd}\ncondition: sel", []matchCase{{`{"C": "AGMAbQBk"}`, true}}},
		{"utf16|base64", "sel: {C|utf16|base64: cmd}\ncondition: sel", []matchCase{{`{"C": "//5jAG0AZAA="}`, true}}},
		{"lt gte", "a: {N|lt: 10}\nb: {N|gte: 5}\ncondition: a and b", []matchCase{
			{`{"N": 5}`, true}, {`{"N": "7"}`, true}, {`{"N": 10}`, false}, {`{"N": 4.9}`, false}, {`{"N": "x"}`, false},
		}},
		{"lte gt", "a: {N|lte: 10}\nb: {N|gt: 5}\ncondition: a and b", []matchCase{{`{"N": 10}`, true}, {`{"N": 5}`, false}}},
		{"hour", "sel: {T|hour: 3}\ncondition: sel", []matchCase{{`{"T": "2025-01-01T03:04:05Z"}`, true}, {`{"T": "2025-01-01T04:04:05Z"}`, false}}},
		{"minute day month year week", "sel:\n  T|minute: 4\n  T|day: 9\n  T|month: 1\n  T|year: 2025\n  T|week: 2\ncondition: sel",
			[]matchCase{{`{"T": "2025-01-09T03:04:05Z"}`, true}, {`{"T": "2025-01-09T03:05:05Z"}`, false}}},
		{"time and comparison", "sel: {T|hour|gte: 22}\ncondition: sel", []matchCase{{`{"T": "2025-01-01T23:00:00Z"}`, true}, {`{"T": "2025-01-01T21:00:00Z"}`, false}}},
		{"cidr", "sel: {Ip|cidr: [10.0.0.0/8, 'fd00::/8']}\ncondition: sel", []matchCase{
			{`{"Ip": "10.1.2.3"}`, true}, {`{"Ip": "fd00::1"}`, true}, {`{"Ip": "11.1.2.3"}`, false}, {`{"Ip": "nope"}`, false},
		}},
		{"expand", "sel: {User|expand: '%admins%'}\ncondition: sel", []matchCase{{`{"User": "root"}`, true}, {`{"User": "admin1"}`, true}, {`{"User": "bob"}`, false}}},
		{"fieldref", "sel: {Target|fieldref: Source}\ncondition: sel", []matchCase{
			{`{"Target": "a", "Source": "a"}`, true}, {`{"Target": "a", "Source": "b"}`, false}, {`{}`, false},
		}},
		{"fieldref|neq", "sel: {Target|fieldref|neq: Source}\ncondition: sel", []matchCase{{`{"Target": "a", "Source": "b"}`, true}, {`{"Target": "a", "Source": "a"}`, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkMatches(t, rule(t, tt.detection), tt.cases) })
	}
}

func TestConditions(t *testing.T) {
	det := "selection_a: {A: 1}\nselection_b: {B: 1}\nfilter: {F: 1}\n_hidden: {H: 1}\n"
	tests := []struct {
		condition string
		cases     []matchCase
	}{
		{"selection_a and not filter", []matchCase{{`{"A": 1}`, true}, {`{"A": 1, "F": 1}`, false}}},
		{"selection_a or selection_b", []matchCase{{`{"B": 1}`, true}, {`{}`, false}}},
		{"1 of selection_*", []matchCase{{`{"B": 1}`, true}, {`{"F": 1}`, false}}},
		{"all of selection_*", []matchCase{{`{"A": 1, "B": 1}`, true}, {`{"A": 1}`, false}}},
		{"1 of them", []matchCase{{`{"F": 1}`, true}, {`{"H": 1}`, false}}}, // _ identifiers are not "them"
		{"all of them", []matchCase{{`{"A": 1, "B": 1, "F": 1}`, true}, {`{"A": 1, "B": 1}`, false}}},
		{"not selection_a and selection_b or filter", []matchCase{{`{"B": 1}`, true}, {`{"F": 1, "A": 1}`, true}, {`{"A": 1, "B": 1}`, false}}},
		{"selection_a and (selection_b or filter)", []matchCase{{`{"A": 1, "F": 1}`, true}, {`{"F": 1}`, false}}},
		{"[selection_a, filter]", []matchCase{{`{"F": 1}`, true}, {`{"B": 1}`, false}}}, // a list of conditions is ORed
		{"_hidden", []matchCase{{`{"H": 1}`, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.condition, func(t *testing.T) {
			checkMatches(t, rule(t, det+"condition: "+tt.condition), tt.cases)
		})
	}
}

func TestRuleErrors(t *testing.T) {
	tests := []struct {
		name, detection, want string
	}{
		{"unknown identifier", "sel: {A: 1}\ncondition: nope", `"nope"`},
		{"no match for a pattern", "sel: {A: 1}\ncondition: 1 of filter*", `"filter*"`},
		{"aggregation", "sel: {A: 1}\ncondition: sel | count() > 5", "correlation rule"},
		{"unbalanced", "sel: {A: 1}\ncondition: (sel", "closing parenthesis"},
		{"no condition", "sel: {A: 1}", "no condition"},
		{"unknown modifier", "sel: {A|nope: 1}\ncondition: sel", "modifier nope"},
		{"re flag without re", "sel: {A|i: x}\ncondition: sel", "follows re"},
		{"bad regexp", "sel: {A|re: '(?<=x)y'}\ncondition: sel", "regular expression"},
		{"bad cidr", "sel: {A|cidr: 10.0.0.0/99}\ncondition: sel", "cidr"},
		{"unknown placeholder", "sel: {A|expand: '%nope%'}\ncondition: sel", "placeholder %nope%"},
		{"all of one value", "sel: {A|contains|all: x}\ncondition: sel", "all needs two values"},
		{"base64 of a pattern", "sel: {A|base64: 'x*'}\ncondition: sel", "base64 of a value with wildcards"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sigma.Parse([]byte("title: T\nid: t-1\nlogsource: {product: test}\ndetection:\n"+indent(tt.detection)), "bad.yml",
				sigma.Options{Pipelines: []*sigma.Pipeline{testPipeline}})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "bad.yml: rule t-1: ") {
				t.Errorf("Parse: %v; want an error naming the file, the rule and %s", err, tt.want)
			}
		})
	}
	// Unsupported features are typed.
	_, err := sigma.Parse([]byte("title: C\ncorrelation: {type: event_count}\n"), "c.yml", sigma.Options{})
	var u *sigma.UnsupportedError
	if !errors.As(err, &u) || u.Feature != "correlation rules" {
		t.Errorf("a correlation rule: %v; want an *UnsupportedError", err)
	}
}

func TestMetadata(t *testing.T) {
	src := `title: Suspicious Thing
id: 0f06a3a5-6a09-413f-8743-e6cf35561297
status: test
description: Detects a thing.
references:
  - https://example.com/a
  - https://example.com/b
author: Someone
date: 2024-01-02
tags:
  - attack.defense-evasion
  - attack.t1562.001
  - attack.credential_access
  - cve.2024-1234
logsource: {product: test}
detection:
  sel: {Image: x}
  condition: sel
fields: [Image, User]
falsepositives: [Admins]
level: high
`
	rs, err := sigma.Parse([]byte(src), "m.yml", sigma.Options{Pipelines: []*sigma.Pipeline{testPipeline}})
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if r.ID != "0f06a3a5-6a09-413f-8743-e6cf35561297" || r.DisplayName != "Suspicious Thing" || r.Description != "Detects a thing." ||
		r.Severity != detect.SeverityHigh || r.Reference != "https://example.com/a" || r.Source != "m.yml" ||
		!reflect.DeepEqual(r.LogTypes, []string{"Test"}) {
		t.Errorf("rule = %+v", r)
	}
	if got, want := r.Reports["MITRE ATT&CK"], []string{"TA0005", "T1562.001", "TA0006"}; !reflect.DeepEqual(got, want) {
		t.Errorf("reports = %v; want %v", got, want)
	}
	if len(r.Fields) != 2 || r.Fields[1].Name != "User" {
		t.Errorf("fields = %v", r.Fields)
	}
	out, err := r.Outputs([]byte(`{"Image": "x", "User": "bob"}`))
	if err != nil || out["User"] != "bob" {
		t.Errorf("Outputs = %v, %v", out, err)
	}
	if r.Extra["Format"] != "sigma" || r.Extra["Status"] != "test" {
		t.Errorf("extra = %v", r.Extra)
	}
	for level, want := range map[string]detect.Severity{"informational": detect.SeverityInfo, "low": detect.SeverityLow, "critical": detect.SeverityCritical} {
		rs, err := sigma.Parse([]byte(strings.Replace(src, "level: high", "level: "+level, 1)), "m.yml", sigma.Options{Pipelines: []*sigma.Pipeline{testPipeline}})
		if err != nil || rs[0].Severity != want {
			t.Errorf("level %s: %v, %v", level, rs, err)
		}
	}
}

// TestUnmappedLogSource: a rule whose log source no pipeline maps runs
// only on events whose p_log_type names the source.
func TestUnmappedLogSource(t *testing.T) {
	rs, err := sigma.Parse([]byte("title: Z\nid: z\nlogsource: {product: zeek, service: rdp}\ndetection:\n  sel: {A: 1}\n  condition: sel\n"), "z.yml", sigma.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if !reflect.DeepEqual(r.LogTypes, []string{"Sigma.zeek.rdp"}) {
		t.Errorf("log types = %v", r.LogTypes)
	}
	checkMatches(t, r, []matchCase{{`{"A": 1, "p_log_type": "Sigma.zeek.rdp"}`, true}, {`{"A": 1}`, false}})
}

// TestWindowsPipeline reads Windows event log records: EventData and
// System fields, keys with spaces, UserData's wrapper, Security 4688's
// field names.
func TestWindowsPipeline(t *testing.T) {
	parse := func(logsource, detection string) *detect.Rule {
		t.Helper()
		rs, err := sigma.Parse([]byte("title: W\nid: w\nlogsource: "+logsource+"\ndetection:\n"+indent(detection)), "w.yml", sigma.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return rs[0]
	}
	sysmon := func(id int, data string) string {
		return fmt.Sprintf(`{"Event": {"System": {"EventID": %d, "Channel": "Microsoft-Windows-Sysmon/Operational", "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}}}, "EventData": %s}}`, id, data)
	}
	proc := parse("{category: process_creation, product: windows}", "sel: {Image|endswith: '\\evil.exe'}\ncondition: sel")
	checkMatches(t, proc, []matchCase{
		{sysmon(1, `{"Image": "C:\\evil.exe"}`), true},
		{sysmon(11, `{"Image": "C:\\evil.exe"}`), false}, // a file event, not a process creation
		{`{"Event": {"System": {"EventID": 4688, "Channel": "Security"}, "EventData": {"NewProcessName": "C:\\evil.exe"}}}`, true},
		{`{"Event": {"System": {"EventID": 4688, "Channel": "Security"}, "EventData": {"Image": "C:\\good.exe"}}}`, false},
	})
	if !reflect.DeepEqual(proc.LogTypes, []string{"Windows.EventLog"}) {
		t.Errorf("log types = %v", proc.LogTypes)
	}
	prov := parse("{product: windows, service: sysmon}", "sel: {Provider_Name: Microsoft-Windows-Sysmon, SourceName: x}\ncondition: sel")
	checkMatches(t, prov, []matchCase{
		{sysmon(1, `{"Source Name": "X"}`), true},
		{sysmon(1, `{"Source Name": "y"}`), false},
	})
	wmi := parse("{product: windows, service: wmi}", "sel: {EventID: 5858, Operation|contains: clear}\ncondition: sel")
	checkMatches(t, wmi, []matchCase{
		{`{"Event": {"System": {"EventID": 5858, "Channel": "Microsoft-Windows-WMI-Activity/Operational"}, "UserData": {"Operation_ClientFailure": {"Operation": "x::ClearEventLog"}}}}`, true},
	})
}

func TestPatterns(t *testing.T) {
	// A pipeline file in the documented format, and the override of a
	// built-in log source.
	p := mustPipeline(`
name: mine
logsources:
  - {product: windows, category: process_creation, logtypes: [My.Sysmon], conditions: {Kind: proc}}
fields:
  mappings: {Image: proc.path}
`)
	rs, err := sigma.Parse([]byte("title: P\nid: p\nlogsource: {category: process_creation, product: windows}\ndetection:\n  sel: {Image: x}\n  condition: sel\n"), "p.yml",
		sigma.Options{Pipelines: append(sigma.Builtin(), p)})
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if !reflect.DeepEqual(r.LogTypes, []string{"My.Sysmon"}) {
		t.Errorf("log types = %v", r.LogTypes)
	}
	checkMatches(t, r, []matchCase{{`{"Kind": "proc", "proc": {"path": "X"}}`, true}, {`{"Kind": "file", "proc": {"path": "x"}}`, false}})
	if _, err := sigma.ParsePipeline([]byte("name: x\nlogsources: [{logtypes: [A]}]\n")); err == nil {
		t.Error("a log source naming nothing: no error")
	}
	if _, err := sigma.ParsePipeline([]byte("name: x\nbogus: 1\n")); err == nil {
		t.Error("an unknown key: no error")
	}
}

func TestIsSigma(t *testing.T) {
	for src, want := range map[string]bool{
		"title: x\ndetection: {condition: a}\n":                    true,
		"title: x\ncorrelation: {type: event_count}\n":             true,
		"AnalysisType: rule\nRuleID: x\ntitle: x\ndetection: {}\n": false,
		"version: '3'\nservices: {web: {image: nginx}}\n":          false,
		"not: [yaml": false,
	} {
		if got := sigma.IsSigma([]byte(src)); got != want {
			t.Errorf("IsSigma(%q) = %v; want %v", src, got, want)
		}
	}
}

// TestSpecificationExamples loads the specification's own example rules
// (its schema tests): the rules convert, a filter without its rules is an
// error, and correlation rules are rejected as not yet supported.
func TestSpecificationExamples(t *testing.T) {
	dir := "../../shared/sigma/specification/tests/schema"
	rules, _ := filepath.Glob(dir + "/rules/*.yml")
	if len(rules) == 0 {
		t.Skip("no Sigma specification beside the project")
	}
	for _, f := range rules {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if rs, err := sigma.Parse(data, f, sigma.Options{}); err != nil || len(rs) != 1 {
			t.Errorf("%s: %v", f, err)
		}
	}
	// A filter alone names rules that are not there.
	filters, _ := filepath.Glob(dir + "/filter/*.yml")
	for _, f := range filters {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sigma.Parse(data, f, sigma.Options{}); err == nil || !strings.Contains(err.Error(), "no rule loaded with it") {
			t.Errorf("%s: %v; want an error naming the missing rules", f, err)
		}
	}
	others, _ := filepath.Glob(dir + "/correlation/*.yml")
	for _, f := range others {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = sigma.Parse(data, f, sigma.Options{})
		var u *sigma.UnsupportedError
		if !errors.As(err, &u) {
			t.Errorf("%s: %v; want an *UnsupportedError", f, err)
		}
	}
}

// TestIndicators: a Sigma rule's matches read as indicators, for the
// catalog.
func TestIndicators(t *testing.T) {
	r := rule(t, "sel:\n  Image|endswith: ['\\a.exe', '\\b.exe']\n  CommandLine|contains|cased: ' -x '\n  EventID: 4688\n  N|gt: 3\nf: {User: 'adm*x'}\ncondition: sel and not f")
	l, err := r.Logic()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range l.Indicators {
		got = append(got, fmt.Sprintf("%s %s %v fold=%v neg=%v req=%v", in.Field, in.Kind, in.Values, in.IgnoreCase, in.Negated, in.Required))
	}
	want := []string{
		`Image endswith [\a.exe \b.exe] fold=true neg=false req=true`,
		`CommandLine contains [ -x ] fold=false neg=false req=true`,
		`EventID eq [4688] fold=false neg=false req=true`,
		`N gt [3] fold=false neg=false req=true`,
		`User glob [adm*x] fold=true neg=true req=true`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("indicators:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestFilters: a Sigma filter suppresses the matches of the rules it names,
// in the same file or, through Load, in another.
func TestFilters(t *testing.T) {
	ruleSrc := `title: Rar
id: 6f3e2987-db24-4c78-a860-b4f4095a7095
logsource: {product: test}
detection:
  sel: {Image|endswith: '\\rar.exe'}
  condition: sel
`
	filterSrc := `title: Filter admins
logsource: {product: test}
filter:
  rules: [6f3e2987-db24-4c78-a860-b4f4095a7095]
  selection: {User|startswith: adm_}
  condition: selection
`
	opts := sigma.Options{Pipelines: []*sigma.Pipeline{testPipeline}}
	rs, err := sigma.Parse([]byte(ruleSrc+"---\n"+filterSrc), "f.yml", opts)
	if err != nil {
		t.Fatal(err)
	}
	checkMatches(t, rs[0], []matchCase{
		{`{"Image": "C:\\rar.exe", "User": "bob"}`, true},
		{`{"Image": "C:\\rar.exe", "User": "adm_bob"}`, false},
	})
	if got := rs[0].Extra["Filters"]; !reflect.DeepEqual(got, []string{"Filter admins"}) {
		t.Errorf("Extra[Filters] = %v", got)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rule.yml"), []byte(ruleSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mf_admins.yml"), []byte(filterSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err = sigma.Load(opts, dir)
	if err != nil || len(rs) != 1 {
		t.Fatalf("Load = %v, %v", rs, err)
	}
	checkMatches(t, rs[0], []matchCase{{`{"Image": "C:\\rar.exe", "User": "adm_x"}`, false}})

	// A filter for another log source is an error of the rule.
	other := strings.Replace(filterSrc, "{product: test}", "{product: windows}", 1)
	if _, err := sigma.Parse([]byte(ruleSrc+"---\n"+other), "f.yml", opts); err == nil || !strings.Contains(err.Error(), "another log source") {
		t.Errorf("a filter of another log source: %v", err)
	}
}

// TestHostileFiles: a Sigma file gets the Panther loader's checks before it
// is parsed, and a detection cannot grow without bound through aliases.
func TestHostileFiles(t *testing.T) {
	deep := "title: x\ndetection:\n  sel: {a: " + strings.Repeat("[", 100_000) + "}\n  condition: sel\n"
	if _, err := sigma.Parse([]byte(deep), "deep.yml", sigma.Options{}); err == nil || !strings.Contains(err.Error(), "deep.yml") {
		t.Errorf("deep nesting: %v", err)
	}
	var b strings.Builder
	b.WriteString("title: x\nid: x\nlogsource: {product: test}\ndetection:\n  big: &big [")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&b, "v%06d%s, ", i, strings.Repeat("x", 40))
	}
	b.WriteString("z]\n")
	for i := 0; i < 900; i++ {
		fmt.Fprintf(&b, "  s%d: {f%d: *big}\n", i, i)
	}
	b.WriteString("  condition: 1 of s*\n")
	_, err := sigma.Parse([]byte(b.String()), "aliases.yml", sigma.Options{Pipelines: []*sigma.Pipeline{testPipeline}})
	if err == nil || !strings.Contains(err.Error(), "bytes of expression") {
		t.Errorf("a list aliased 900 times: %v; want the expression bound", err)
	}
}

// TestSidecarTests: a rule's tests come from RULE.tests.yml beside it.
func TestSidecarTests(t *testing.T) {
	dir := t.TempDir()
	rule := "title: T\nid: t-1\nlogsource: {product: test}\ndetection:\n  sel: {C|contains: evil}\n  condition: sel\n"
	side := `tests:
  - name: evil
    match: true
    event: {C: "an evil thing"}
  - name: good
    match: false
    event: {C: "good"}
  - name: recording
    match: true
    file: rec.json
`
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("t.yml", rule)
	write("t.tests.yml", side)
	write("rec.json", `{"C": "nothing"}`+"\n"+`{"C": "EVIL"}`)
	rs, err := sigma.Load(sigma.Options{Pipelines: []*sigma.Pipeline{testPipeline}}, filepath.Join(dir, "t.yml"))
	if err != nil {
		t.Fatal(err)
	}
	results := rs[0].RunTests()
	if len(results) != 3 {
		t.Fatalf("RunTests = %v; want 3 results", results)
	}
	for _, res := range results {
		if !res.Passed {
			t.Errorf("%s: %v", res.Name, res)
		}
	}
	// A wrong expectation fails, naming the events.
	write("t.tests.yml", strings.Replace(side, "match: false", "match: true", 1))
	rs, _ = sigma.Load(sigma.Options{Pipelines: []*sigma.Pipeline{testPipeline}}, filepath.Join(dir, "t.yml"))
	if res := rs[0].RunTests()[1]; res.Passed {
		t.Errorf("a wrong expectation passed: %v", res)
	}
	write("t.tests.yml", "tests:\n  - name: x\n")
	if _, err := sigma.Load(sigma.Options{Pipelines: []*sigma.Pipeline{testPipeline}}, filepath.Join(dir, "t.yml")); err == nil || !strings.Contains(err.Error(), "needs a name, match") {
		t.Errorf("a bad sidecar: %v", err)
	}
}

// TestRegressionDataAsTests: SigmaHQ's rules get their regression data as
// tests, and each passes.
func TestRegressionDataAsTests(t *testing.T) {
	byID := loadSigmaHQ(t)
	n := 0
	for _, r := range byID {
		for _, res := range r.RunTests() {
			n++
			if !res.Passed {
				t.Errorf("%s %s: %v", r.ID, r.DisplayName, res)
			}
		}
	}
	if n < 200 {
		t.Errorf("%d regression tests; want SigmaHQ's 202", n)
	}
}

// TestCallersFunctions: rules compile with the caller's set, which gets the
// Sigma functions once, however many files use it.
func TestCallersFunctions(t *testing.T) {
	fns := detect.NewFunctions()
	src := []byte("title: T\nid: t-1\nlogsource: {product: test}\ndetection:\n  sel: {A: x}\n  condition: sel\n")
	for i := 0; i < 2; i++ {
		if _, err := sigma.Parse(src, "t.yml", sigma.Options{Pipelines: []*sigma.Pipeline{testPipeline}, Functions: fns}); err != nil {
			t.Fatalf("Parse #%d: %v", i+1, err)
		}
	}
	if !fns.Has("sigma_like") || fns.Has("nope") {
		t.Error("Has does not tell the set's functions")
	}
}
