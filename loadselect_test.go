package detect

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeFiles writes files (slash paths relative to dir) and returns dir.
func writeFiles(t *testing.T, files map[string]string) string {
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
	return dir
}

const composeFile = "services:\n  web:\n    image: nginx\n    ports: [\"80:80\"]\n"

// TestLoadSkipsStrayYAML checks that YAML files of a directory that are
// not Panther files are skipped with a notice, while the rules beside them
// load, and that such a file named explicitly is a problem.
func TestLoadSkipsStrayYAML(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"rule.yml":           ruleHeader + "Condition: action == \"x\"\n",
		"docker-compose.yml": composeFile,
		"playbook.yaml":      "- hosts: all\n  tasks: []\n",
		"typo.yml":           "analysistype: rule\nRuleID: Typo\n",
	})
	var skipped []string
	l := Loader{OnSkip: func(file, reason string) {
		skipped = append(skipped, filepath.Base(file)+": "+reason)
	}}
	rules, err := l.Load(dir)
	slices.Sort(skipped)
	want := []string{
		"docker-compose.yml: not a rule file: no AnalysisType or other Panther key",
		"playbook.yaml: not a rule file: a YAML list",
	}
	if !slices.Equal(skipped, want) {
		t.Errorf("skipped %q; want %q", skipped, want)
	}
	if len(rules) != 1 || rules[0].ID != "Test.Rule" {
		t.Errorf("Load returned %d rules; want Test.Rule", len(rules))
	}
	// A file with a Panther key in the wrong case is a rule file with a
	// mistake, not a stray file.
	var le *LoadError
	if !errors.As(err, &le) || len(le.Errs) == 0 || filepath.Base(le.Errs[0].File) != "typo.yml" {
		t.Fatalf("Load(dir) error = %v; want the problems of typo.yml only", err)
	}
	for _, fe := range le.Errs {
		if filepath.Base(fe.File) != "typo.yml" {
			t.Errorf("problem in %s: %v", fe.File, fe)
		}
	}

	_, err = l.Load(filepath.Join(dir, "docker-compose.yml"))
	if err == nil || !strings.Contains(err.Error(), "missing AnalysisType") {
		t.Errorf("Load(docker-compose.yml) error = %v; want missing AnalysisType", err)
	}
}

// TestLoadExclude checks Loader.Exclude on base names, relative paths and
// directories.
func TestLoadExclude(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"rule.yml":         ruleHeader + "Condition: action == \"x\"\n",
		"broken.yml":       "AnalysisType: rule\n",
		"drafts/draft.yml": "AnalysisType: rule\n",
		"sub/other.yml":    strings.Replace(ruleHeader, "Test.Rule", "Test.Other", 1) + "Condition: action == \"y\"\n",
	})
	for _, tc := range []struct {
		exclude []string
		rules   int
		errs    []string // base names of the files with problems
	}{
		{nil, 2, []string{"broken.yml", "draft.yml"}},
		{[]string{"broken.yml"}, 2, []string{"draft.yml"}},
		{[]string{"broken.yml", "drafts"}, 2, nil},
		{[]string{"b*.yml", "drafts/*.yml"}, 2, nil},
		{[]string{"*.yml"}, 0, nil},
		{[]string{"sub", "broken.yml", "drafts/"}, 1, nil},
	} {
		l := Loader{Exclude: tc.exclude}
		rules, err := l.Load(dir)
		var files []string
		var le *LoadError
		if errors.As(err, &le) {
			for _, fe := range le.Errs {
				if b := filepath.Base(fe.File); !slices.Contains(files, b) {
					files = append(files, b)
				}
			}
		} else if err != nil {
			t.Fatal(err)
		}
		if len(rules) != tc.rules || !slices.Equal(files, tc.errs) {
			t.Errorf("Exclude %q: %d rules, problems in %q; want %d rules, problems in %q", tc.exclude, len(rules), files, tc.rules, tc.errs)
		}
	}
	// LoadFS excludes by the same patterns.
	fsys := os.DirFS(dir)
	lfs := Loader{Exclude: []string{"broken.yml", "drafts"}}
	if rules, err := lfs.LoadFS(fsys, "."); err != nil || len(rules) != 2 {
		t.Errorf("LoadFS with exclusions = %d rules, %v; want 2, no error", len(rules), err)
	}
	// A file named explicitly is excluded too.
	l := Loader{Exclude: []string{"broken.yml"}}
	if rules, err := l.Load(filepath.Join(dir, "broken.yml")); err != nil || len(rules) != 0 {
		t.Errorf("Load(broken.yml) with it excluded = %d rules, %v; want none, no error", len(rules), err)
	}
}

// TestLoadSharedGlobals checks that two packs that each carry the same
// global file load together, and that a definition or GlobalID with a
// different body is still a problem naming both places.
func TestLoadSharedGlobals(t *testing.T) {
	const global = "AnalysisType: global\nGlobalID: shared\nDefinitions:\n  ok: status == \"SUCCESS\"\n"
	rule := func(id string) string {
		return strings.Replace(ruleHeader, "Test.Rule", id, 1) + "Condition: ok() && action == \"x\"\n"
	}
	dir := writeFiles(t, map[string]string{
		"a/helpers.yml": global,
		"a/rule.yml":    rule("A.Rule"),
		"b/helpers.yml": global,
		"b/rule.yml":    rule("B.Rule"),
		"c/helpers.yml": strings.Replace(global, `"SUCCESS"`, `"OK"`, 1),
	})
	rules, err := Load(filepath.Join(dir, "a"), filepath.Join(dir, "b"))
	if err != nil || len(rules) != 2 {
		t.Fatalf("Load(a, b) = %d rules, %v; want 2 rules, no error", len(rules), err)
	}
	if ok, err := rules[1].Evaluate(map[string]any{"status": "SUCCESS", "action": "x"}); !ok || err != nil {
		t.Errorf("B.Rule.Evaluate = %v, %v; want true", ok, err)
	}
	_, err = Load(filepath.Join(dir, "a"), filepath.Join(dir, "c"))
	var le *LoadError
	if !errors.As(err, &le) || len(le.Errs) != 2 {
		t.Fatalf("Load(a, c) error = %v; want two problems", err)
	}
	for _, fe := range le.Errs {
		msg := fe.Error()
		if !strings.Contains(msg, filepath.Join("c", "helpers.yml")) || !strings.Contains(msg, filepath.Join("a", "helpers.yml")) {
			t.Errorf("problem %q does not name both files", msg)
		}
	}
}
