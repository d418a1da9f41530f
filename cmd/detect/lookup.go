package main

import (
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/rulefiles"
	"github.com/detectkit/detect/sigma"
)

// lookupUsage documents the lookup flags, which test, lint and scan share.
const lookupUsage = `  --lookup NAME[:KEY]=PATH
                      make the lookup table NAME, read from PATH (a .csv
                      file with a header row, or a .jsonl file), available
                      to lookup and inLookup; KEY is the key column or
                      field (default: the first CSV column). May be
                      repeated.
  --lookup-ignore-case NAME
                      match the keys of table NAME regardless of case.
`

// lookupFlags are the lookup tables given on the command line, and the
// files to exclude from loading (--exclude). Rules that call a service's
// Go functions cannot be run by this command: test them with go test and
// the detecttest package.
type lookupFlags struct {
	specs      []lookupSpec
	ignoreCase stringList
	exclude    stringList
	pipelines  stringList
}

type lookupSpec struct{ name, key, path string }

func (l *lookupFlags) register(fs *flag.FlagSet) {
	fs.Var(l, "lookup", "")
	fs.Var(&l.ignoreCase, "lookup-ignore-case", "")
	fs.Var(&l.exclude, "exclude", "")
	fs.Var(&l.pipelines, "pipeline", "")
}

func (l *lookupFlags) String() string { return "" }

// Set reads NAME[:KEY]=PATH.
func (l *lookupFlags) Set(s string) error {
	table, path, ok := strings.Cut(s, "=")
	name, key, _ := strings.Cut(table, ":")
	if !ok || name == "" || path == "" {
		return fmt.Errorf("--lookup %q: want NAME=PATH or NAME:KEY=PATH", s)
	}
	l.specs = append(l.specs, lookupSpec{name: name, key: key, path: path})
	return nil
}

// functions loads the tables into a new set of functions; nil when there
// are none, which leaves loaders their defaults.
func (l *lookupFlags) functions() (*detect.Functions, error) {
	for _, name := range l.ignoreCase {
		if !slices.ContainsFunc(l.specs, func(s lookupSpec) bool { return s.name == name }) {
			return nil, fmt.Errorf("--lookup-ignore-case %s: no --lookup names that table", name)
		}
	}
	if len(l.specs) == 0 {
		return nil, nil
	}
	fns := detect.NewFunctions()
	for _, s := range l.specs {
		var opts []detect.TableOption
		if slices.Contains(l.ignoreCase, s.name) {
			opts = append(opts, detect.IgnoreKeyCase())
		}
		t, err := detect.NewTable(s.name, s.key, opts...)
		if err != nil {
			return nil, err
		}
		if err := t.LoadFile(s.path); err != nil {
			return nil, err
		}
		if err := fns.AddTable(t); err != nil {
			return nil, err
		}
	}
	return fns, nil
}

// loader returns a Loader with the functions fns, the exclusions, and
// notices of skipped files on w for command cmd.
func (l *lookupFlags) loader(fns *detect.Functions, w io.Writer, cmd string) detect.Loader {
	return detect.Loader{Functions: fns, Exclude: l.exclude, OnSkip: skipNotice(w, cmd)}
}

// options returns how the rule files are loaded: Panther files with the
// tables, Sigma files with the built-in pipelines and those of
// --pipeline; notices of skipped files go to w.
func (l *lookupFlags) options(fns *detect.Functions, w io.Writer, cmd string) (rulefiles.Options, error) {
	o := rulefiles.Options{Loader: l.loader(fns, w, cmd)}
	if len(l.pipelines) > 0 {
		o.Pipelines = sigma.Builtin()
		for _, path := range l.pipelines {
			p, err := sigma.LoadPipeline(path)
			if err != nil {
				return o, err
			}
			o.Pipelines = append(o.Pipelines, p)
		}
	}
	return o, nil
}

// load reads rule files of every format with the tables; notices of
// skipped files go to w.
func (l *lookupFlags) load(paths []string, w io.Writer, cmd string) ([]*detect.Rule, error) {
	fns, err := l.functions()
	if err != nil {
		return nil, err
	}
	o, err := l.options(fns, w, cmd)
	if err != nil {
		return nil, err
	}
	return rulefiles.Load(o, paths...)
}

var unknownTable = regexp.MustCompile(`unknown lookup table "([^"]*)"`)

// lookupHint returns, for a problem that names an unknown lookup table,
// how to give the table on the command line; "" for other problems.
func lookupHint(msg string) string {
	m := unknownTable.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	return fmt.Sprintf(" (give it with --lookup %s=FILE)", m[1])
}
