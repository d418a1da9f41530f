package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/detectkit/detect"
)

const lintUsage = `usage: detect lint [flags] [PATH...]

Validate rule files: each PATH is a rule file or a directory searched
recursively for *.yml and *.yaml files (default: the current directory).
Every problem of every file is printed as "file:line:column: message",
then the line "lint: N rules ok, M files with problems".

Flags:
  -v                  list each valid rule, with its file.
` + excludeUsage + lookupUsage + `
Exit status: 0 when every file is valid, 1 when a file has a problem,
2 when the flags are wrong.
`

func runLint(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	verbose := fs.Bool("v", false, "")
	var lookups lookupFlags
	lookups.register(fs)
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return badUsage(stdout, stderr, "lint", lintUsage, err)
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	list, err := lookups.load(paths, stderr, "lint")
	bad := map[string]bool{}
	if err != nil {
		printLoadProblems(stdout, err)
		var le *detect.LoadError
		if errors.As(err, &le) {
			for _, fe := range le.Errs {
				bad[fe.File] = true
			}
		} else {
			bad[""] = true // the lookup tables, not a rule file
		}
	}
	if *verbose {
		for _, r := range list {
			fmt.Fprintf(stdout, "ok %s (%s)\n", r.ID, r.Source)
		}
	}
	if len(list) == 0 && len(bad) == 0 {
		fmt.Fprintln(stderr, "detect lint: no rules found")
	}
	fmt.Fprintf(stdout, "lint: %s ok, %s with problems\n", plural(len(list), "rule"), plural(len(bad), "file"))
	if len(bad) > 0 {
		return 1
	}
	return 0
}
