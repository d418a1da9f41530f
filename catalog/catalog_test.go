package catalog_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/catalog"
	"github.com/detectkit/detect/rules"
	"github.com/detectkit/detect/sigma"
)

// sharedAttack is the ATT&CK bundle beside the project, when it is there.
const sharedAttack = "../../shared/attack/enterprise-attack.json"

func loadFixture(t *testing.T) *catalog.Catalog {
	t.Helper()
	list, err := detect.Load("testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	attack, err := catalog.LoadAttackFile("testdata/attack-mini.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Build(list, catalog.Options{Attack: attack})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func entry(t *testing.T, c *catalog.Catalog, id string) *catalog.Entry {
	t.Helper()
	for _, e := range c.Rules {
		if e.ID == id {
			return e
		}
	}
	t.Fatalf("no rule %s in the catalog", id)
	return nil
}

// TestSeedFacts checks the built-in Wiz.Revoke.User.Sessions against the
// facts of the catalog page it comes from.
func TestSeedFacts(t *testing.T) {
	attack, err := catalog.LoadAttackFile(sharedAttack)
	if os.IsNotExist(errorsUnwrapAll(err)) {
		t.Skip("no ATT&CK bundle beside the project")
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Build(rules.All(), catalog.Options{Attack: attack, Files: rules.FS()})
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON, as detect catalog --format json gives it.
	var buf bytes.Buffer
	if err := c.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Rules []map[string]any `json:"rules"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var e map[string]any
	for _, r := range doc.Rules {
		if r["id"] == "Wiz.Revoke.User.Sessions" {
			e = r
		}
	}
	if e == nil {
		t.Fatal("no Wiz.Revoke.User.Sessions in the catalog")
	}
	check := func(key string, want any) {
		t.Helper()
		if got := e[key]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v; want %#v", key, got, want)
		}
	}
	check("severity", "Medium")
	// Grouped by id, with Panther's default dedup string without one.
	// The rule writes Panther's fallback for an empty id out; it groups by id.
	check("groupBy", []any{"id"})
	check("logTypes", []any{"Wiz.Audit"})
	check("displayName", "Wiz Revoke User Sessions")
	check("description", "This rule detects user sessions revoked.")
	check("reference", "https://www.wiz.io/blog/storm-0558-compromised-microsoft-key-enables-authentication-of-countless-micr")
	check("format", "panther")
	check("source", "wiz/wiz_revoke_user_sessions.yml")
	check("mitre", []any{map[string]any{"tactic": "TA0040", "tacticName": "Impact", "technique": "T1531", "techniqueName": "Account Access Removal"}})
	check("condition", []any{`status eq "SUCCESS"`, `action eq "RevokeUserSessions"`})
	check("tests", float64(3))
	var inds []string
	for _, in := range e["indicators"].([]any) {
		m := in.(map[string]any)
		vals, _ := json.Marshal(m["values"])
		inds = append(inds, m["field"].(string)+" "+m["kind"].(string)+" "+string(vals)+" required="+jsonText(m["required"]))
	}
	wantInds := []string{`status eq ["SUCCESS"] required=true`, `action eq ["RevokeUserSessions"] required=true`}
	if !reflect.DeepEqual(inds, wantInds) {
		t.Errorf("indicators = %q; want %q", inds, wantInds)
	}
	outputs := map[string]string{}
	for _, o := range e["outputs"].([]any) {
		m := o.(map[string]any)
		outputs[m["field"].(string)] = m["source"].(string)
	}
	for field, source := range map[string]string{"action": "action", "source_ip": "sourceIP", "event_id": "id", "action_parameters": "actionParameters"} {
		if outputs[field] != source {
			t.Errorf("output %s <- %q; want %q", field, outputs[field], source)
		}
	}
	body, _ := e["body"].(string)
	if !strings.Contains(body, "RuleID: Wiz.Revoke.User.Sessions") {
		t.Errorf("body does not hold the rule file:\n%s", body)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func errorsUnwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// TestCorpus counts, for each indicator, the other rules with the same
// field (in any case), kind, negation and a shared value.
func TestCorpus(t *testing.T) {
	c := loadFixture(t)
	want := map[string][]int{
		"Test.A": {2, 1}, // status (B, C), action X (B)
		"Test.B": {2, 2}, // status (A, C), action X or Y (A, F)
		"Test.C": {2, 0}, // STATUS (A, B), action Z
		"Test.D": {0, 1}, // status != (no other), isPrivateIP(ip) (E's IP)
		"Test.E": {1, 0}, // isPrivateIP(IP) (D), action "success" (values keep their case)
		"Test.F": {1},    // action Y (B)
	}
	for id, counts := range want {
		e := entry(t, c, id)
		var got []int
		for _, in := range e.Indicators {
			got = append(got, in.Corpus)
		}
		if !reflect.DeepEqual(got, counts) {
			t.Errorf("%s corpus = %v; want %v (indicators %+v)", id, got, counts, e.Indicators)
		}
	}
}

func TestMitre(t *testing.T) {
	c := loadFixture(t)
	tests := []struct {
		id   string
		want []catalog.Mitre
	}{
		{"Test.A", []catalog.Mitre{{Tactic: "TA0040", TacticName: "Impact", Technique: "T1531", TechniqueName: "Account Access Removal"}}},
		{"Test.B", []catalog.Mitre{{Tactic: "TA0006", TacticName: "Credential Access", Technique: "T1110.003", TechniqueName: "Password Spraying"}}},
		// Sigma tags: a technique goes with the rule's tactics it belongs to.
		{"Test.C", []catalog.Mitre{
			{Tactic: "TA0006", TacticName: "Credential Access", Technique: "T1110", TechniqueName: "Brute Force"},
			{Tactic: "TA0003", TacticName: "Persistence"},
		}},
		{"Test.D", []catalog.Mitre{{Tactic: "TA0040", TacticName: "Impact"}}},
		{"Test.E", []catalog.Mitre{{Technique: "T9999", Unknown: true}, {Technique: "T1562.001", Unknown: true}}},
		{"Test.F", []catalog.Mitre{
			{Tactic: "TA0040", TacticName: "Impact", Technique: "T1066", TechniqueName: "Old Technique", Revoked: true},
			{Tactic: "TA0003", TacticName: "Persistence", Technique: "T1153", TechniqueName: "Retired Technique", Deprecated: true},
		}},
	}
	for _, tt := range tests {
		if got := entry(t, c, tt.id).Mitre; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s mitre = %+v; want %+v", tt.id, got, tt.want)
		}
	}
}

func TestMitreWithoutBundle(t *testing.T) {
	list, err := detect.Load("testdata/corpus/a.yml", "testdata/corpus/c.yml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Build(list, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := entry(t, c, "Test.A").Mitre, []catalog.Mitre{{Tactic: "TA0040", Technique: "T1531"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Test.A mitre = %+v; want %+v", got, want)
	}
	// Without a bundle, Sigma's tactic names cannot become IDs.
	if got, want := entry(t, c, "Test.C").Mitre, []catalog.Mitre{{Technique: "T1110"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Test.C mitre = %+v; want %+v", got, want)
	}
}

func TestBuildError(t *testing.T) {
	_, err := catalog.Build([]*detect.Rule{{Severity: detect.SeverityInfo, ID: "Bad", Condition: "status =="}}, catalog.Options{})
	if err == nil || !strings.Contains(err.Error(), "Bad") {
		t.Fatalf("Build of a rule that does not compile: %v; want an error naming it", err)
	}
}

func TestLoadAttackErrors(t *testing.T) {
	for _, in := range []string{``, `[]`, `{"type": "report"}`, `{"type": "bundle", "objects": 5}`} {
		if _, err := catalog.LoadAttack(strings.NewReader(in)); err == nil {
			t.Errorf("LoadAttack(%q): no error", in)
		}
	}
}

func TestNavigator(t *testing.T) {
	c := loadFixture(t)
	var buf bytes.Buffer
	if err := c.WriteNavigator(&buf, "test"); err != nil {
		t.Fatal(err)
	}
	var layer struct {
		Versions   map[string]string `json:"versions"`
		Domain     string            `json:"domain"`
		Techniques []struct {
			TechniqueID string `json:"techniqueID"`
			Tactic      string `json:"tactic"`
			Score       int    `json:"score"`
			Comment     string `json:"comment"`
		} `json:"techniques"`
	}
	if err := json.Unmarshal(buf.Bytes(), &layer); err != nil {
		t.Fatal(err)
	}
	if layer.Versions["layer"] != "4.5" || layer.Domain != "enterprise-attack" {
		t.Errorf("versions %v, domain %q", layer.Versions, layer.Domain)
	}
	var got []string
	for _, tech := range layer.Techniques {
		got = append(got, tech.TechniqueID+"/"+tech.Tactic+"="+jsonText(tech.Score)+" "+tech.Comment)
	}
	// Test.F is disabled: its techniques score nothing.
	want := []string{
		"T1110/credential-access=1 Test.C",
		"T1110.003/credential-access=1 Test.B",
		"T1531/impact=1 Test.A",
		"T1562.001/=1 Test.E",
		"T9999/=1 Test.E",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("techniques = %q; want %q", got, want)
	}
}

func TestMarkdown(t *testing.T) {
	c, err := catalog.Build(rules.All(), catalog.Options{Files: rules.FS()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := c.WriteMarkdown(dir); err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.Rules {
		if !strings.Contains(string(index), "("+e.ID+".md)") {
			t.Errorf("the index does not link %s", e.ID)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "Wiz.Revoke.User.Sessions.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# Wiz Revoke User Sessions", "| Severity | Medium |", "| Group by | id |", "| Log types | Wiz.Audit |",
		"## MITRE ATT&CK coverage", "| TA0040 | T1531 |", "```yaml\n# yaml-language-server",
		"status eq \"SUCCESS\"\naction eq \"RevokeUserSessions\"\n",
		"| `action` | eq | RevokeUserSessions | yes | 0 |", "| `status` | eq | SUCCESS | yes | 15 |",
		"| source_ip | `sourceIP` |", "| event_id | `id` |",
	} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the rule's page lacks %q:\n%s", want, page)
		}
	}
}

func TestHTML(t *testing.T) {
	c := loadFixture(t)
	dir := t.TempDir()
	if err := c.WriteHTML(dir); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	index := read("index.html")
	if n := strings.Count(index, `<tr class="rule"`); n != len(c.Rules) {
		t.Errorf("the index lists %d rules; want %d", n, len(c.Rules))
	}
	for _, want := range []string{`<option>Okta.SystemLog</option>`, `<option value="TA0006">Credential Access (TA0006)</option>`, `id="q"`, "<script>"} {
		if !strings.Contains(index, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	// Nothing from the network: no remote scripts, styles or images.
	for _, name := range []string{"index.html", "matrix.html", "indicators.html", "rules/Test.A.html"} {
		page := read(name)
		for _, bad := range []string{"src=\"http", "href=\"//", "<link"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s refers to the network: %q", name, bad)
			}
		}
	}
	matrix := read("matrix.html")
	persist, impact := strings.Index(matrix, "<h3>Persistence</h3>"), strings.Index(matrix, "<h3>Impact</h3>")
	if persist < 0 || impact < 0 || persist > impact {
		t.Errorf("the matrix does not hold the bundle's tactics in its order")
	}
	if !strings.Contains(matrix, `T1531 Account Access Removal`) {
		t.Errorf("the matrix lacks T1531")
	}
	shared := read("indicators.html")
	if !strings.Contains(shared, "<summary>3 rules</summary>") {
		t.Errorf("indicators.html does not count status eq SUCCESS in 3 rules")
	}
	page := read("rules/Test.A.html")
	for _, want := range []string{`<pre id="condition"><code>status eq &#34;SUCCESS&#34;`, "Account Access Removal", `<td>2</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("rules/Test.A.html lacks %q", want)
		}
	}
}

func ExampleBuild() {
	c, err := catalog.Build(rules.All(), catalog.Options{Files: rules.FS()})
	if err != nil {
		panic(err)
	}
	for _, e := range c.Rules {
		if e.ID == "Wiz.Revoke.User.Sessions" {
			for _, in := range e.Indicators {
				fmt.Println(in.Field, in.Kind, in.Values, in.Required, in.Corpus)
			}
		}
	}
	// Output:
	// status eq [SUCCESS] true 15
	// action eq [RevokeUserSessions] true 0
}

// TestPantherDetections describes Panther's published simple detections,
// whose conditions the loader translates from Detection blocks: each that
// loads has its logic and at least one indicator.
func TestPantherDetections(t *testing.T) {
	files, _ := filepath.Glob("../../shared/panther-analysis/simple_detections/*/*/*.yml")
	if len(files) == 0 {
		t.Skip("no Panther simple detections beside the project")
	}
	var list []*detect.Rule
	for _, f := range files {
		rs, err := detect.Load(f)
		if err != nil {
			continue // a feature this loader lacks; rule-files.md says which
		}
		list = append(list, rs...)
	}
	if len(list) < len(files)/3 {
		t.Fatalf("only %d of %d files load", len(list), len(files))
	}
	c, err := catalog.Build(list, catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.Rules {
		if len(e.Indicators) == 0 || len(e.Condition) == 0 {
			t.Errorf("%s (%s): no indicators or no condition: %+v", e.ID, e.Source, e)
		}
		if !strings.Contains(e.Body, "Detection:") {
			t.Errorf("%s: the body is not the rule file", e.ID)
		}
	}
	// A Detection of two alternatives that share a test needs that test.
	for _, e := range c.Rules {
		if e.ID != "Panther.AdminRole.Assignment.Demo" {
			continue
		}
		for _, in := range e.Indicators {
			if want := in.Field == "actionParams.dynamic.input.role.value"; in.Required != want {
				t.Errorf("%s: %v required = %v; want %v", e.ID, in.Indicator, in.Required, want)
			}
		}
	}
}

// TestSigmaEntry describes a Sigma rule: its format, its ATT&CK entries
// from its tags and its matches as indicators.
func TestSigmaEntry(t *testing.T) {
	src := "title: Evil Login\nid: 9d2c5d2a-1111-4222-8333-944455556666\nlevel: high\n" +
		"tags: [attack.credential-access, attack.t1110]\nlogsource: {product: okta, service: okta}\n" +
		"detection:\n  sel: {eventType: user.session.start, outcome.result|startswith: fail}\n  condition: sel\n"
	rs, err := sigma.Parse([]byte(src), "evil.yml", sigma.Options{})
	if err != nil {
		t.Fatal(err)
	}
	attack, err := catalog.LoadAttackFile("testdata/attack-mini.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Build(rs, catalog.Options{Attack: attack})
	if err != nil {
		t.Fatal(err)
	}
	e := c.Rules[0]
	if e.Format != "sigma" || e.Severity != "High" || e.DisplayName != "Evil Login" || !reflect.DeepEqual(e.LogTypes, []string{"Okta.SystemLog"}) {
		t.Errorf("entry = %+v", e)
	}
	want := []catalog.Mitre{{Tactic: "TA0006", TacticName: "Credential Access", Technique: "T1110", TechniqueName: "Brute Force"}}
	if !reflect.DeepEqual(e.Mitre, want) {
		t.Errorf("mitre = %+v; want %+v", e.Mitre, want)
	}
	var got []string
	for _, in := range e.Indicators {
		got = append(got, in.String())
	}
	for _, w := range []string{`eventType ieq "user.session.start"`, `outcome.result istartswith "fail"`} {
		if !slices.Contains(got, w) {
			t.Errorf("indicators %q lack %q", got, w)
		}
	}
}
