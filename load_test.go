package detect

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// loadOne loads a single rule file given as text, with more files if any.
func loadOne(t *testing.T, text string, more ...string) (*Rule, error) {
	t.Helper()
	fsys := fstest.MapFS{"rule.yml": {Data: []byte(text)}}
	for i, m := range more {
		fsys[fmt.Sprintf("more%d.yml", i)] = &fstest.MapFile{Data: []byte(m)}
	}
	rules, err := LoadFS(fsys, ".")
	for _, r := range rules {
		if r.Source == "rule.yml" {
			return r, err
		}
	}
	return nil, err
}

const ruleHeader = "AnalysisType: rule\nRuleID: Test.Rule\nEnabled: true\nLogTypes: [Custom.Audit]\nSeverity: Medium\n"

// TestLoadGood loads every good fixture and runs the tests they carry.
func TestLoadGood(t *testing.T) {
	rules, err := Load("testdata/rules/good")
	if err != nil {
		t.Fatalf("Load(testdata/rules/good) = %v", err)
	}
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.ID)
	}
	want := []string{"Test.All.Keys", "Test.Always", "Test.Detection", "Test.Panther.Style", "Test.Uses.Helpers"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("Load(testdata/rules/good) rule IDs = %v; want %v (sorted, hidden directories skipped)", ids, want)
	}
	for _, r := range rules {
		if len(r.Tests) == 0 {
			t.Errorf("rule %s has no tests", r.ID)
		}
		for _, res := range r.RunTests() {
			t.Run(r.ID+"/"+res.Name, func(t *testing.T) {
				if !res.Passed {
					t.Error(res)
				}
			})
		}
	}
}

// TestLoadMapping checks that every key lands in its Rule field.
func TestLoadMapping(t *testing.T) {
	rules, err := Load("testdata/rules/good/all_keys.yml")
	if err != nil {
		t.Fatal(err)
	}
	got := rules[0]
	want := &Rule{
		ID:          "Test.All.Keys",
		DisplayName: "Every key",
		Description: "A rule that sets every key.",
		Runbook:     "Look at the actor.",
		Reference:   "https://example.com/reference",
		Disabled:    true,
		LogTypes:    []string{"Custom.Audit", "Custom.Other"},
		Severity:    SeverityLow,
		Reports:     map[string][]string{"MITRE ATT&CK": {"TA0001:T1078"}, "CIS": {"1.2"}},
		Tags:        []string{"Identity", "Test"},
		Condition:   `action == "login" && actor != nil`,
		Title:       "Login by {actor.name} from {ip}",
		GroupBy:     []string{"actor.name", "ip"},
		Fields: []Field{
			{Name: "actor", Expr: "actor.name"},
			{Name: "ip", Expr: "ip"},
			{Name: "country", Expr: "geo.country"},
			{Name: "first_tag", Expr: "tags[0]"},
		},
		DynamicSeverities: []DynamicSeverity{
			{ChangeTo: SeverityCritical, Condition: "actor.admin == true"},
			{ChangeTo: SeverityHigh, Condition: `!(geo.country in ["FR", "DE"])`},
		},
		AlertDescription: "{actor.name} logged in",
		AlertReference:   "https://example.com/actors/{actor.id}",
		AlertRunbook:     "Ask {actor.name}",
		DedupPeriod:      15 * time.Minute,
		Threshold:        3,
		SuppressAlerts:   true,
		Extra: map[string]any{
			"SummaryAttributes":    []string{"actor.name", "p_any_ip_addresses"},
			"OutputIds":            []string{"slack-security"},
			"OnlyUseBaseRiskScore": true,
			"Status":               "experimental",
			"CreatedBy":            "someone@example.com",
		},
		Source: "testdata/rules/good/all_keys.yml",
	}
	check := func(field string, got, want any) {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v; want %#v", field, got, want)
		}
	}
	check("ID", got.ID, want.ID)
	check("DisplayName", got.DisplayName, want.DisplayName)
	check("Description", got.Description, want.Description)
	check("Runbook", got.Runbook, want.Runbook)
	check("Reference", got.Reference, want.Reference)
	check("Disabled", got.Disabled, want.Disabled)
	check("LogTypes", got.LogTypes, want.LogTypes)
	check("Severity", got.Severity, want.Severity)
	check("Reports", got.Reports, want.Reports)
	check("Tags", got.Tags, want.Tags)
	check("Condition", got.Condition, want.Condition)
	check("Title", got.Title, want.Title)
	check("GroupBy", got.GroupBy, want.GroupBy)
	check("Fields", got.Fields, want.Fields)
	check("DynamicSeverities", got.DynamicSeverities, want.DynamicSeverities)
	check("AlertDescription", got.AlertDescription, want.AlertDescription)
	check("AlertReference", got.AlertReference, want.AlertReference)
	check("AlertRunbook", got.AlertRunbook, want.AlertRunbook)
	check("DedupPeriod", got.DedupPeriod, want.DedupPeriod)
	check("Threshold", got.Threshold, want.Threshold)
	check("SuppressAlerts", got.SuppressAlerts, want.SuppressAlerts)
	check("Extra", got.Extra, want.Extra)
	check("Source", filepath.ToSlash(got.Source), want.Source)
	check("len(Tests)", len(got.Tests), 3)

	title := "Login by alice from 10.0.0.1"
	sev := SeverityCritical
	t0 := got.Tests[0]
	check("Tests[0].Name", t0.Name, "admin login")
	check("Tests[0].ExpectedResult", t0.ExpectedResult, true)
	check("Tests[0].ExpectedTitle", t0.ExpectedTitle, &title)
	check("Tests[0].ExpectedSeverity", t0.ExpectedSeverity, &sev)
	check("Tests[0].ExpectedOutputs", t0.ExpectedOutputs, map[string]any{"actor": "alice", "ip": "10.0.0.1", "country": "FR", "first_tag": nil})
	check("Tests[0].Log", string(t0.Log.([]byte)), `{"action":"login","ip":"10.0.0.1","actor":{"id":1,"name":"alice","admin":true},"geo":{"country":"FR"}}`)
	// Merge keys: the keys the test sets win over the merged ones, which
	// follow them.
	check("Tests[2].Log", string(got.Tests[2].Log.([]byte)), `{"action":"logout","ip":"10.0.0.1","actor":{"id":1,"name":"alice","admin":true},"geo":{"country":"FR"}}`)
}

// TestLoadBad loads each bad fixture, a file or a directory, and compares
// its problems with the golden file beside it. Run with -update to
// rewrite the golden files after checking the differences.
func TestLoadBad(t *testing.T) {
	const dir = "testdata/rules/bad"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() && path.Ext(name) != ".yml" {
			continue
		}
		n++
		fixture := dir + "/" + name
		t.Run(strings.TrimSuffix(name, ".yml"), func(t *testing.T) {
			_, err := Load(filepath.FromSlash(fixture))
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Load(%s) = %v; want a *LoadError", fixture, err)
			}
			var got strings.Builder
			for _, fe := range le.Errs {
				file := filepath.ToSlash(fe.File)
				if !strings.HasPrefix(file, fixture) {
					t.Errorf("problem in file %s; want it in %s", file, fixture)
				}
				if fe.Line < 1 || fe.Column < 1 {
					t.Errorf("problem %q has no position", fe)
				}
				if fe.Msg == "" {
					t.Errorf("problem at %s has no message", fe.Position())
				}
				fmt.Fprintf(&got, "%s:%d:%d: %s\n", file, fe.Line, fe.Column, fe.Message())
			}
			golden := strings.TrimSuffix(fixture, ".yml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got.String() != string(want) {
				t.Errorf("Load(%s) problems:\n%s\nwant:\n%s", fixture, got.String(), want)
			}
		})
	}
	if n < 20 {
		t.Errorf("found %d bad fixtures; want one per kind of problem", n)
	}
}

// TestLoadReportsEveryFile checks that loading a directory reports the
// problems of every bad file, and still returns the good rules.
func TestLoadReportsEveryFile(t *testing.T) {
	rules, err := Load("testdata/rules/bad")
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Load(testdata/rules/bad) = %v; want a *LoadError", err)
	}
	files := map[string]bool{}
	for _, fe := range le.Errs {
		files[filepath.ToSlash(fe.File)] = true
	}
	entries, _ := os.ReadDir("testdata/rules/bad")
	for _, e := range entries {
		if path.Ext(e.Name()) == ".yml" && !files["testdata/rules/bad/"+e.Name()] {
			t.Errorf("no problem reported for %s", e.Name())
		}
	}
	if len(le.Unwrap()) != len(le.Errs) {
		t.Errorf("Unwrap() has %d errors; want %d", len(le.Unwrap()), len(le.Errs))
	}
	// The first of two files with one ID loads.
	if len(rules) != 1 || rules[0].ID != "Bad.Duplicate" || !strings.HasSuffix(filepath.ToSlash(rules[0].Source), "duplicate_id/a.yml") {
		t.Errorf("Load(testdata/rules/bad) rules = %v; want only Bad.Duplicate from a.yml", rules)
	}
}

// TestLoadExpressionPosition checks that a compile error names its place
// in the file, whatever the style of the YAML scalar.
func TestLoadExpressionPosition(t *testing.T) {
	tests := []struct {
		name, condition string
		want            string // line:column of the error in the file
	}{
		{"plain", `Condition: action == "x" &&& true`, "6:28"},
		{"double quoted", `Condition: "action == \"x\" &&& true"`, "6:31"},
		{"single quoted", `Condition: 'action == ''x'' &&& true'`, "6:31"},
		{"literal block", "Condition: |\n  action == \"x\"\n    && user\n    &&& true", "9:7"},
		{"folded block", "Condition: >\n  action == \"x\"\n  &&& true", "8:5"},
		{"plain on two lines", "Condition: action == \"x\"\n  &&& true", "7:5"},
		{"flow mapping", "Condition: true\nOutputs: {a: user.name +}", "7:24"},
		{"characters not bytes", `Condition: name == "éé" &&& true`, "6:27"},
		{"title template", `Condition: true` + "\n" + `AlertTitle: "By {user.name} at {ts(}"`, "7:35"},
		{"group by list", "Condition: true\nGroupBy:\n  - user.name\n  - user[", "9:9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadOne(t, ruleHeader+tt.condition+"\n")
			var le *LoadError
			if !errors.As(err, &le) || len(le.Errs) != 1 {
				t.Fatalf("load = %v; want one problem", err)
			}
			fe := le.Errs[0]
			if got := fmt.Sprintf("%d:%d", fe.Line, fe.Column); got != tt.want {
				t.Errorf("problem %q at %s; want %s", fe.Msg, got, tt.want)
			}
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("errors.As(%v, *CompileError) = false", err)
			}
			if ce.File != "rule.yml" || ce.FileLine != fe.Line || ce.FileColumn != fe.Column {
				t.Errorf("CompileError at %s:%d:%d; want rule.yml:%s", ce.File, ce.FileLine, ce.FileColumn, tt.want)
			}
		})
	}
}

// TestLoadLogJSON checks that a test's Log becomes the JSON a logged event
// would be.
func TestLoadLogJSON(t *testing.T) {
	tests := []struct {
		name, log, want string
	}{
		{"numbers", "{i: 1, n: -2, f: 1.5, w: 2.0, e: 1.0e3, x: 1e3, h: 0x10, g: .5, big: 18446744073709551615}", `{"i":1,"n":-2,"f":1.5,"w":2.0,"e":1.0e3,"x":1e3,"h":16,"g":0.5,"big":18446744073709551615}`},
		{"json syntax", `{"a": 1E+2, "b": "1e3", "c": [-0.5e-3]}`, `{"a":1E+2,"b":"1e3","c":[-0.5e-3]}`},
		{"scalars", "{s: text, q: 'a \"b\"', b: true, z: null, t: ~, tagged: !!str 5}", `{"s":"text","q":"a \"b\"","b":true,"z":null,"t":null,"tagged":"5"}`},
		{"order and nesting", "{z: [1, {y: [], x: {}}], a: <b>}", `{"z":[1,{"y":[],"x":{}}],"a":"<b>"}`},
		{"anchors", "{a: &x {k: v}, b: *x, c: {<<: *x, m: n}}", `{"a":{"k":"v"},"b":{"k":"v"},"c":{"m":"n","k":"v"}}`},
		{"block scalar", "\n      text: |\n        two\n        lines", `{"text":"two\nlines\n"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := loadOne(t, ruleHeader+"Condition: true\nTests:\n  - Name: t\n    ExpectedResult: true\n    Log: "+tt.log+"\n")
			if err != nil {
				t.Fatal(err)
			}
			if got := string(r.Tests[0].Log.([]byte)); got != tt.want {
				t.Errorf("Log = %s; want %s", got, tt.want)
			}
			if _, err := ParseEvent(r.Tests[0].Log.([]byte)); err != nil {
				t.Errorf("ParseEvent(Log) = %v", err)
			}
		})
	}
	t.Run("whole and fractional numbers decode as events do", func(t *testing.T) {
		r, err := loadOne(t, ruleHeader+"Condition: true\nTests:\n  - Name: t\n    ExpectedResult: true\n    ExpectedOutputs: {a: 1, b: 2.0}\n    Log: {i: 1, f: 2.0}\n")
		if err != nil {
			t.Fatal(err)
		}
		ev, _ := ParseEvent(r.Tests[0].Log.([]byte))
		if _, ok := ev.Get("i").(int); !ok {
			t.Errorf("Log i is %T; want int", ev.Get("i"))
		}
		if _, ok := ev.Get("f").(float64); !ok {
			t.Errorf("Log f is %T; want float64", ev.Get("f"))
		}
		want := map[string]any{"a": 1, "b": 2.0}
		if got := r.Tests[0].ExpectedOutputs; !reflect.DeepEqual(got, want) {
			t.Errorf("ExpectedOutputs = %#v; want %#v", got, want)
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		_, err := loadOne(t, ruleHeader+"Condition: true\nTests:\n  - Name: t\n    ExpectedResult: true\n    Log: {n: .nan}\n")
		if err == nil || !strings.Contains(err.Error(), "rule.yml:10:14:") {
			t.Errorf("load = %v; want a problem at rule.yml:10:14", err)
		}
	})
	t.Run("alias bomb", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{a0: &a0 [x, x, x, x, x, x, x, x]")
		for i := 1; i < 12; i++ {
			fmt.Fprintf(&b, ", a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
		}
		b.WriteString("}")
		_, err := loadOne(t, ruleHeader+"Condition: true\nTests:\n  - Name: t\n    ExpectedResult: true\n    Log: "+b.String()+"\n")
		if err == nil || !strings.Contains(err.Error(), "too large") {
			t.Errorf("load = %v; want a problem: too large", err)
		}
	})
	t.Run("merge bomb", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{m0: &m0 {k: v}")
		for i := 1; i < 20; i++ {
			fmt.Fprintf(&b, ", m%d: &m%d {<<: [*m%d, *m%d, *m%d, *m%d, *m%d, *m%d, *m%d, *m%d]}", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
		}
		b.WriteString("}")
		_, err := loadOne(t, ruleHeader+"Condition: true\nTests:\n  - Name: t\n    ExpectedResult: true\n    Log: "+b.String()+"\n")
		if err == nil || !strings.Contains(err.Error(), "too large") {
			t.Errorf("load = %v; want a problem: too large", err)
		}
	})
}

// TestLoadTestsRun checks that tests read from a file fail when they
// should, with what differed.
func TestLoadTestsRun(t *testing.T) {
	r, err := loadOne(t, ruleHeader+`Condition: action == "x"
AlertTitle: "{action} by {user}"
Outputs:
  user: user
  n: n
Tests:
  - Name: wrong title
    ExpectedResult: true
    ExpectedTitle: x by nobody
    ExpectedDedup: x by bob
    ExpectedOutputs: {user: bob, n: 80}
    Log: {action: x, user: bob, n: 80.0}
  - Name: wrong result
    ExpectedResult: true
    Log: {action: y}
`)
	if err != nil {
		t.Fatal(err)
	}
	res := r.RunTests()
	want := []string{
		`rule.yml:12: FAIL Test.Rule: wrong title: title: want "x by nobody", got "x by bob"`,
		`rule.yml:18: FAIL Test.Rule: wrong result: result: want true, got false (false: action == "x" with action = "y")`,
	}
	for i, w := range want {
		if got := res[i].String(); got != w {
			t.Errorf("RunTests()[%d] = %s; want %s", i, got, w)
		}
	}
}

// TestLoadFunctions checks that rules call a service's Go functions and
// the definitions of global files.
func TestLoadFunctions(t *testing.T) {
	fns := NewFunctions()
	if err := fns.Register("double", func(args ...any) (any, error) { return args[0].(int) * 2, nil }, new(func(int) int)); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"global.yml": {Data: []byte("AnalysisType: global\nGlobalID: g\nDefinitions:\n  big: double(n) > 10\n")},
		"rule.yml":   {Data: []byte(ruleHeader + "Condition: big() && double(n) < 100\nTests:\n  - {Name: big, ExpectedResult: true, Log: {n: 6}}\n  - {Name: small, ExpectedResult: false, Log: {n: 5}}\n")},
	}
	loadPassing(t, fsys, fns)
	if _, ok := fns.definition("big"); !ok {
		t.Error("the definitions of the global file are not in Loader.Functions")
	}
	// Without the function, the rule does not compile.
	_, err := LoadFS(fsys, ".")
	if err == nil || !strings.Contains(err.Error(), "double") {
		t.Errorf("LoadFS without the function = %v; want a problem naming double", err)
	}
}

// TestLoadPaths checks how paths are found.
func TestLoadPaths(t *testing.T) {
	t.Run("file named twice loads once", func(t *testing.T) {
		rules, err := Load("testdata/rules/good/nested/true_condition.yml", "testdata/rules/good/nested/true_condition.yml")
		if err != nil || len(rules) != 1 {
			t.Errorf("Load(same file twice) = %d rules, %v; want 1, nil", len(rules), err)
		}
	})
	t.Run("missing path", func(t *testing.T) {
		_, err := Load("testdata/rules/nowhere")
		var fe *FileError
		if !errors.As(err, &fe) || fe.File != filepath.FromSlash("testdata/rules/nowhere") || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Load(missing) = %v; want a FileError naming it, wrapping os.ErrNotExist", err)
		}
	})
	t.Run("explicit file of any name", func(t *testing.T) {
		dir := t.TempDir()
		name := filepath.Join(dir, "rule.txt")
		if err := os.WriteFile(name, []byte(ruleHeader+"Condition: true\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if rules, err := Load(name); err != nil || len(rules) != 1 {
			t.Errorf("Load(%s) = %d rules, %v; want 1, nil", name, len(rules), err)
		}
		if rules, err := Load(dir); err != nil || len(rules) != 0 {
			t.Errorf("Load(%s) = %d rules, %v; want 0, nil: only .yml and .yaml files are read from directories", dir, len(rules), err)
		}
	})
	t.Run("fs root is a file", func(t *testing.T) {
		fsys := os.DirFS("testdata/rules/good")
		rules, err := LoadFS(fsys, "detection.yml")
		if err != nil || len(rules) != 1 || rules[0].Source != "detection.yml" {
			t.Errorf("LoadFS(detection.yml) = %v, %v", rules, err)
		}
	})
}

// TestLoadRulesCompiled checks that loaded rules are ready to use.
func TestLoadRulesCompiled(t *testing.T) {
	r, err := loadOne(t, ruleHeader+"Condition: n > 1\n")
	if err != nil {
		t.Fatal(err)
	}
	if st := (*ruleState)(atomic.LoadPointer(&r.state)); st == nil || st.err != nil {
		t.Errorf("loaded rule is not compiled: %v", st)
	}
}

// FuzzLoad checks that no input crashes the loader, that every problem has
// a position, and that a rule that loads has tests whose events decode.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"testdata/rules/good", "testdata/rules/bad"} {
		err := filepath.WalkDir(dir, func(name string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || path.Ext(name) != ".yml" {
				return err
			}
			data, err := os.ReadFile(name)
			f.Add(data)
			return err
		})
		if err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := LoadFS(fstest.MapFS{"rule.yml": {Data: data}}, ".")
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("LoadFS = %v (%T); want a *LoadError", err, err)
			}
			for _, fe := range le.Errs {
				if fe.File != "rule.yml" || fe.Line < 1 || fe.Column < 1 || fe.Msg == "" {
					t.Fatalf("problem %q lacks its file, position or message", fe)
				}
			}
			if len(rules) != 0 {
				t.Fatalf("a file with problems loaded %d rules", len(rules))
			}
			return
		}
		for _, r := range rules {
			for _, test := range r.Tests {
				if _, err := ParseEvent(test.Log.([]byte)); err != nil {
					t.Fatalf("test %s: Log %s does not decode: %v", test.Name, test.Log, err)
				}
			}
			r.RunTests()
		}
	})
}

// TestLoadDefinitionCycle checks that definitions that use each other in
// a cycle are reported where they are written.
func TestLoadDefinitionCycle(t *testing.T) {
	_, err := LoadFS(fstest.MapFS{"g.yml": {Data: []byte("AnalysisType: global\nGlobalID: g\nDefinitions:\n  a: b() && x\n  b: ok && a()\n")}}, ".")
	for _, want := range []string{"g.yml:4:6: definition a: definition b uses itself (b -> a -> b)", "g.yml:5:12: definition b: definition a uses itself (a -> b -> a)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadFS = %v; want a problem %s", err, want)
		}
	}
}
