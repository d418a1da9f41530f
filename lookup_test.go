package detect

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
)

func newTestTable(t testing.TB, name, key string, opts ...TableOption) *Table {
	t.Helper()
	tab, err := NewTable(name, key, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestTableCSV(t *testing.T) {
	tab := newTestTable(t, "admins", "user")
	csv := "\ufeffteam,user,since\nsecurity,alice,2019\n\n\"ops, infra\",bob,2021\n"
	if err := tab.ReadCSV(strings.NewReader(csv)); err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 2 {
		t.Errorf("Len() = %d; want 2", tab.Len())
	}
	row, ok := tab.Get("bob")
	want := map[string]any{"team": "ops, infra", "user": "bob", "since": "2021"}
	if !ok || !reflect.DeepEqual(row, want) {
		t.Errorf(`Get("bob") = %v, %v; want %v, true`, row, ok, want)
	}
	if _, ok := tab.Get("Bob"); ok {
		t.Error(`Get("Bob") found a row; keys are case-sensitive by default`)
	}

	// The first column is the key when none is named.
	first := newTestTable(t, "teams", "")
	if err := first.ReadCSV(strings.NewReader(csv)); err != nil {
		t.Fatal(err)
	}
	if _, ok := first.Get("security"); !ok {
		t.Error(`Get("security") found nothing; want the row keyed by the first column`)
	}
}

func TestTableJSONLines(t *testing.T) {
	tab := newTestTable(t, "accounts", "id", IgnoreKeyCase())
	jsonl := `{"id": "Prod-1", "owner": {"team": "core"}, "critical": true}` + "\n\n" + `  {"id": 123456789012, "owner": null}` + "\n"
	if err := tab.ReadJSONLines(strings.NewReader(jsonl)); err != nil {
		t.Fatal(err)
	}
	row, ok := tab.Get("PROD-1")
	if !ok || row["critical"] != true {
		t.Errorf(`Get("PROD-1") = %v, %v; want the Prod-1 row`, row, ok)
	}
	if _, ok := tab.Get("123456789012"); !ok {
		t.Error("a whole-number key is not found by its text")
	}
}

func TestTableErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name  string
		key   string
		fold  bool
		file  string
		text  string
		where string // file:line:column as the error gives it
		msg   string
	}{
		{"empty key", "user", false, "a.csv", "user,team\nalice,x\n,y\n", "a.csv:3:1", "the key user is empty"},
		{"duplicate key", "user", false, "b.csv", "team,user\nx,alice\ny,bob\nz,alice\n", "b.csv:4:3", `key "alice" is also on line 2`},
		{"duplicate key ignoring case", "user", true, "c.csv", "user\nalice\nALICE\n", "c.csv:3:1", `key "ALICE" is also on line 2`},
		{"field count", "user", false, "d.csv", "user,team\nalice,x\nbob\n", "d.csv:3:1", "wrong number of fields"},
		{"bad quote", "user", false, "e.csv", "user,team\nalice,\"x\"y\n", "e.csv:2:9", `extraneous or missing " in quoted-field`},
		{"no key column", "login", false, "f.csv", "user,team\n", "f.csv:1:1", `no key column "login" (the columns are user, team)`},
		{"column twice", "user", false, "g.csv", "user,team,team\n", "g.csv:1:11", `column "team" is named twice`},
		{"unnamed column", "user", false, "h.csv", "user,,team\n", "h.csv:1:6", "column 2 has no name"},
		{"no header", "user", false, "i.csv", "", "i.csv:1", "no header row"},
		{"invalid JSON", "id", false, "j.jsonl", "{\"id\": \"a\"}\n  {\"id\": }\n", "j.jsonl:2:10", "invalid value"},
		{"not an object", "id", false, "k.jsonl", "[1, 2]\n", "k.jsonl:1:1", "a JSON array is not an object"},
		{"missing key", "id", false, "l.jsonl", "{\"name\": \"a\"}\n", "l.jsonl:1", `the key field "id" is missing or null`},
		{"key of wrong type", "id", false, "m.jsonl", "{\"id\": true}\n", "m.jsonl:1", `the key field "id" is bool, not a string`},
		{"duplicate JSON key", "id", false, "n.jsonl", "{\"id\": \"a\"}\n{\"id\": \"a\"}\n", "n.jsonl:2", `key "a" is also on line 1`},
		{"JSON lines without key", "", false, "o.jsonl", "{}\n", "o.jsonl", "a JSON lines table needs a key field"},
		{"unknown format", "id", false, "p.xml", "<x/>", "p.xml", "unknown format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []TableOption
			if tt.fold {
				opts = append(opts, IgnoreKeyCase())
			}
			tab := newTestTable(t, "admins", tt.key, opts...)
			if err := tab.Set(map[string]map[string]any{"old": {}}); err != nil {
				t.Fatal(err)
			}
			path := write(tt.file, tt.text)
			err := tab.LoadFile(path)
			var te *TableError
			if !errors.As(err, &te) {
				t.Fatalf("LoadFile(%s) = %v; want a *TableError", tt.file, err)
			}
			want := fmt.Sprintf("detect: lookup table admins: %s: %s", filepath.Join(dir, tt.where), tt.msg)
			if got := err.Error(); !strings.HasPrefix(got, want) {
				t.Errorf("LoadFile(%s) error\n  %s\nwant it to start with\n  %s", tt.file, got, want)
			}
			if _, ok := tab.Get("old"); !ok || tab.Len() != 1 {
				t.Errorf("a failed load replaced the rows")
			}
		})
	}
	tab := newTestTable(t, "admins", "user")
	if err := tab.LoadFile(filepath.Join(dir, "missing.csv")); err == nil || !strings.Contains(err.Error(), "missing.csv: cannot read") {
		t.Errorf("LoadFile(missing) = %v; want a cannot-read error naming the file", err)
	}
	fold := newTestTable(t, "admins", "user", IgnoreKeyCase())
	if err := fold.Set(map[string]map[string]any{"alice": {}, "Alice": {}}); err == nil || !strings.Contains(err.Error(), `keys "Alice" and "alice" are the same ignoring case`) {
		t.Errorf("Set with keys equal ignoring case = %v; want an error", err)
	}
	if _, err := NewTable("", "user"); err == nil {
		t.Error(`NewTable("") succeeded`)
	}
	if _, err := NewTable("t", "user", nil); err == nil {
		t.Error(`NewTable with a nil option succeeded`)
	}
}

func TestTableLoadFS(t *testing.T) {
	fsys := fstest.MapFS{"lookups/admins.csv": {Data: []byte("user,team\nalice,security\n")}}
	tab := newTestTable(t, "admins", "user")
	if err := tab.LoadFS(fsys, "lookups/admins.csv"); err != nil {
		t.Fatal(err)
	}
	if row, ok := tab.Get("alice"); !ok || row["team"] != "security" {
		t.Errorf(`Get("alice") = %v, %v; want the security row`, row, ok)
	}
	if err := tab.LoadFS(fsys, "lookups/none.csv"); err == nil || !strings.Contains(err.Error(), "lookups/none.csv") {
		t.Errorf("LoadFS(missing file) = %v; want an error naming it", err)
	}
}

func TestLookupExpressions(t *testing.T) {
	fns := NewFunctions()
	admins := newTestTable(t, "admins", "user", IgnoreKeyCase())
	if err := admins.Set(map[string]map[string]any{
		"alice": {"team": "security", "level": 3},
		"1234":  {"team": "robots"},
	}); err != nil {
		t.Fatal(err)
	}
	empty := newTestTable(t, "empty", "id")
	for _, tab := range []*Table{admins, empty} {
		if err := fns.AddTable(tab); err != nil {
			t.Fatal(err)
		}
	}
	if err := fns.AddTable(newTestTable(t, "admins", "x")); err == nil {
		t.Error("AddTable of a second table named admins succeeded")
	}
	if got, ok := fns.Table("admins"); !ok || got != admins {
		t.Errorf(`Table("admins") = %v, %v; want the table`, got, ok)
	}
	env := mustMap(t, `{"user": "ALICE", "other": "mallory", "uid": 1234, "fuid": 1234.0, "half": 0.5, "flag": true}`)
	tests := []struct {
		expr string
		want any
	}{
		{`inLookup("admins", user)`, true},
		{`inLookup("admins", other)`, false},
		{`inLookup("admins", missing)`, false},
		{`inLookup("admins", uid) && inLookup("admins", fuid)`, true},
		{`inLookup("admins", half) || inLookup("admins", flag)`, false},
		{`inLookup("empty", user)`, false},
		{`lookup("admins", user).team`, "security"},
		{`lookup("admins", user).TEAM`, "security"},
		{`lookup("admins", user).level > 2`, true},
		{`lookup("admins", other)`, nil},
		{`lookup("admins", other).team`, nil},
		{`lookup("admins", missing).team == nil`, true},
		{`lookup("admins", other).level > 2`, false},
		{`lookup("admins", "1234").team`, "robots"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			if got := evalValue(t, tt.expr, env, fns); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %#v; want %#v", tt.expr, got, tt.want)
			}
		})
	}
}

// TestLookupReload replaces a table's rows while many goroutines evaluate
// rules that read it: no compiling again, no data race, and every answer
// is one that a whole version of the rows gives.
func TestLookupReload(t *testing.T) {
	fns := NewFunctions()
	admins := newTestTable(t, "admins", "user")
	if err := fns.AddTable(admins); err != nil {
		t.Fatal(err)
	}
	version := func(v int) map[string]map[string]any {
		// Version v makes user<v> the only admin, of team t<v>.
		u := fmt.Sprintf("user%d", v%4)
		return map[string]map[string]any{u: {"team": fmt.Sprintf("t%d", v%4)}}
	}
	if err := admins.Set(version(0)); err != nil {
		t.Fatal(err)
	}
	r := MustCompile(&Rule{
		Severity:  SeverityInfo,
		ID:        "R.Admin",
		Condition: `inLookup("admins", user)`,
		Fields:    []Field{{Name: "team", Expr: `lookup("admins", user).team`}},
	}, WithFunctions(fns))
	compiled, _ := r.compiled()

	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				n := (g + i) % 4
				ev := fmt.Sprintf(`{"user": "user%d"}`, n)
				m, err := r.Match([]byte(ev))
				if err != nil {
					errs <- err
					return
				}
				if m == nil {
					continue
				}
				// A match whose row was replaced before its outputs were
				// computed has no team; one whose row was still there has
				// the team of the same user.
				team, _ := m.Outputs.Get("team")
				if team != nil && team != fmt.Sprintf("t%d", n) {
					errs <- fmt.Errorf("user%d matched with team %v", n, team)
					return
				}
			}
		}()
	}
	for v := 1; v <= 2000; v++ {
		if err := admins.Set(version(v)); err != nil {
			t.Fatal(err)
		}
		if v%100 == 0 {
			// Reloading from text works the same way.
			if err := admins.ReadCSV(strings.NewReader(fmt.Sprintf("user,team\nuser%d,t%d\n", v%4, v%4))); err != nil {
				t.Fatal(err)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if now, _ := r.compiled(); now != compiled {
		t.Error("the rule was compiled again after its table changed")
	}
	// The last version is the one every evaluation sees now.
	if ok, err := r.Evaluate(`{"user": "user0"}`); !ok || err != nil {
		t.Errorf("Evaluate(user0) after the reloads = %v, %v; want true", ok, err)
	}
}

// TestLookupInRuleFiles loads rule files that use a table: an unknown
// table is a problem at its place in the file.
func TestLookupInRuleFiles(t *testing.T) {
	fns := NewFunctions()
	admins := newTestTable(t, "admins", "user")
	if err := admins.ReadCSV(strings.NewReader("user,team\nalice,security\n")); err != nil {
		t.Fatal(err)
	}
	if err := fns.AddTable(admins); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"admin.yml": {Data: []byte(ruleHeader + `Condition: inLookup("admins", user)
AlertTitle: "Admin {user} of {lookup('admins', user).team}"
Tests:
  - Name: admin
    ExpectedResult: true
    ExpectedTitle: Admin alice of security
    Log: {user: alice}
  - Name: not admin
    ExpectedResult: false
    Log: {user: bob}
`)},
	}
	loadPassing(t, fsys, fns)
	bad := fstest.MapFS{"bad.yml": {Data: []byte(ruleHeader + "Condition: action == \"login\" && inLookup(\"admin\", user)\n")}}
	l := Loader{Functions: fns}
	_, err := l.LoadFS(bad, ".")
	var le *LoadError
	if !errors.As(err, &le) || len(le.Errs) != 1 {
		t.Fatalf("LoadFS(bad) = %v; want one problem", err)
	}
	fe := le.Errs[0]
	line := strings.Count(ruleHeader, "\n") + 1
	if fe.Line != line || fe.Column != 42 || !strings.Contains(fe.Msg, `unknown lookup table "admin": the tables are admins`) {
		t.Errorf("problem %s:%d:%d %s; want line %d column 42, an unknown table", fe.File, fe.Line, fe.Column, fe.Msg, line)
	}
}

// TestCompileChecksTablesEverywhere checks that Compile finds an unknown
// table in any expression of a rule, not just its condition.
func TestCompileChecksTablesEverywhere(t *testing.T) {
	fns := NewFunctions()
	if err := fns.AddTable(newTestTable(t, "admins", "user")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rule Rule
		part string
	}{
		{Rule{Severity: SeverityInfo, ID: "R.Title", Condition: "true", Title: `by {lookup("admin", user).team}`}, "title"},
		{Rule{Severity: SeverityInfo, ID: "R.Output", Condition: "true", Fields: []Field{{Name: "team", Expr: `lookup("admin", user).team`}}}, "output team"},
		{Rule{Severity: SeverityInfo, ID: "R.Group", Condition: "true", GroupBy: []string{`lookup("admin", user).team`}}, "group by"},
		{Rule{Severity: SeverityInfo, ID: "R.Sev", Condition: "true", DynamicSeverities: []DynamicSeverity{{ChangeTo: SeverityHigh, Condition: `inLookup("admin", user)`}}}, "dynamic severity 1"},
	}
	for _, tt := range tests {
		r := tt.rule
		_, err := Compile(&r, WithFunctions(fns))
		var ce *CompileError
		if !errors.As(err, &ce) || ce.Part != tt.part || !strings.Contains(ce.Msg, `unknown lookup table "admin"`) {
			t.Errorf("Compile(%s) = %v; want an unknown table in the %s", r.ID, err, tt.part)
		}
	}
}

// TestTableMaxBytes checks a table's bound on its input at its edge, for
// CSV and JSON lines: an input of the bound is read, one byte more is an
// error that names the bound, and the rows are not replaced.
func TestTableMaxBytes(t *testing.T) {
	csvText := "user,team\nalice,red\nbob,blue\n"
	jsonText := `{"user": "alice"}` + "\n" + `{"user": "bob"}` + "\n"
	for _, tt := range []struct {
		name string
		text string
		read func(*Table, io.Reader) error
	}{
		{"csv", csvText, (*Table).ReadCSV},
		{"jsonl", jsonText, (*Table).ReadJSONLines},
	} {
		tab, err := NewTable("t", "user", MaxTableBytes(int64(len(tt.text))))
		if err != nil {
			t.Fatal(err)
		}
		if err := tt.read(tab, strings.NewReader(tt.text)); err != nil || tab.Len() != 2 {
			t.Errorf("%s: read of %d bytes, the bound = %v (%d rows); want 2 rows", tt.name, len(tt.text), err, tab.Len())
		}
		err = tt.read(tab, strings.NewReader(tt.text+"\n"))
		var te *TableError
		if !errors.As(err, &te) || !errors.Is(err, errTableTooLarge) || !strings.Contains(err.Error(), "MaxTableBytes") || tab.Len() != 2 {
			t.Errorf("%s: read of %d bytes, one over the bound = %v (%d rows); want a *TableError over MaxTableBytes, rows kept", tt.name, len(tt.text)+1, err, tab.Len())
		}
	}
	// The default bound.
	tab, _ := NewTable("t", "user")
	big := `{"user": 1}` + "\n" + strings.Repeat(strings.Repeat(" ", 1<<20)+"\n", DefaultMaxTableBytes>>20)
	if err := tab.ReadJSONLines(strings.NewReader(big)); !errors.Is(err, errTableTooLarge) {
		t.Errorf("ReadJSONLines of %d bytes = %v; want over DefaultMaxTableBytes", len(big), err)
	}
}
