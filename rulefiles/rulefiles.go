// Package rulefiles loads directories of rule files in any format detect
// reads: Panther-style YAML (rules, globals, Detection blocks) and Sigma
// rules and filters, told apart by their content, mixed in one directory.
// It is what the detect command uses, and the one call a service needs to
// load a rules repository:
//
//	rules, err := rulefiles.Load(rulefiles.Options{}, "rules/")
//	engine, err := detect.NewEngine(rules, detect.WithSink(sink))
//
// Panther files go to a detect.Loader, Sigma files to the sigma package;
// every problem of every file comes back in one *detect.LoadError.
package rulefiles

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/sigma"
)

// Options configure a load.
type Options struct {
	// Loader loads the Panther files: its Functions (definitions, lookup
	// tables, Go functions), Exclude patterns and OnSkip apply to every
	// file, the Sigma ones included.
	Loader detect.Loader
	// Pipelines map Sigma log sources and fields; nil means the built-in
	// ones (sigma.Builtin).
	Pipelines []*sigma.Pipeline
}

// maxSniff is how much of a file is read to tell its format.
const maxSniff = 1 << 20

// Load reads the rule files and directories named by paths (a directory
// is searched recursively for *.yml and *.yaml files, as detect.Loader
// does) and returns every rule that loads, sorted by ID, with a
// *detect.LoadError listing the problems of the others. A rule ID used by
// two files is a problem of the second.
func Load(opts Options, paths ...string) ([]*detect.Rule, error) {
	l := opts.Loader
	sigmaFiles, err := findSigma(paths, &l)
	if err != nil {
		return nil, err
	}
	// The Panther loader leaves the Sigma files out, by their paths, and
	// their tests beside them (RULE.tests.yml, see the sigma package).
	for _, f := range sigmaFiles {
		base := strings.TrimSuffix(strings.TrimSuffix(f, ".yml"), ".yaml")
		l.Exclude = append(l.Exclude, escapeGlob(filepath.ToSlash(f)), escapeGlob(filepath.ToSlash(base+".tests.yml")))
	}
	rules, err := l.Load(paths...)
	var le *detect.LoadError
	var problems []*detect.FileError
	if err != nil {
		if !errors.As(err, &le) {
			return nil, err
		}
		problems = append(problems, le.Errs...)
	}
	if len(sigmaFiles) > 0 {
		srules, err := sigma.Load(sigma.Options{Pipelines: opts.Pipelines, Functions: l.Functions}, sigmaFiles...)
		for _, e := range unjoin(err) {
			problems = append(problems, fileError(e))
		}
		ids := map[string]string{}
		for _, r := range rules {
			ids[r.ID] = r.Source
		}
		for _, r := range srules {
			if other, dup := ids[r.ID]; dup {
				problems = append(problems, &detect.FileError{File: r.Source, RuleID: r.ID, Msg: "rule ID is also used by " + other})
				continue
			}
			ids[r.ID] = r.Source
			rules = append(rules, r)
		}
		sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	}
	if len(problems) > 0 {
		sort.SliceStable(problems, func(i, j int) bool { return problems[i].File < problems[j].File })
		return rules, &detect.LoadError{Errs: problems}
	}
	return rules, nil
}

// findSigma returns the Sigma files among paths: files named explicitly,
// and the YAML files of directories that the Loader would read.
func findSigma(paths []string, l *detect.Loader) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			continue // the Panther loader reports it
		}
		if !info.IsDir() {
			if info.Mode().IsRegular() && !l.Excluded(p, "") && isSigmaFile(p) {
				out = append(out, p)
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // the Panther loader reports it
			}
			name := d.Name()
			if path != p && (strings.HasPrefix(name, ".") || l.Excluded(path, p)) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() || !(strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml")) {
				return nil
			}
			if isSigmaFile(path) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// isSigmaFile reads the start of a file to tell whether it is Sigma.
func isSigmaFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head, _ := io.ReadAll(io.LimitReader(f, maxSniff))
	return sigma.IsSigma(head)
}

// escapeGlob makes a path a pattern that matches only itself.
func escapeGlob(p string) string {
	var b strings.Builder
	for _, r := range p {
		switch r {
		case '*', '?', '[', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unjoin returns the errors joined in err.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// fileError turns a Sigma problem into a problem of its file.
func fileError(err error) *detect.FileError {
	var se *sigma.Error
	if errors.As(err, &se) {
		msg := se.Err.Error()
		if se.Doc > 1 {
			msg = "document " + strconv.Itoa(se.Doc) + ": " + msg
		}
		return &detect.FileError{File: se.Source, RuleID: se.Rule, Msg: msg, Err: se.Err}
	}
	return &detect.FileError{Msg: err.Error(), Err: err}
}
