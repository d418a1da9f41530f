package main

import (
	"flag"
	"fmt"
	"io"
)

const lintUsage = `usage: detect lint [PATH...]

Validate rule files: each PATH is a rule file or a directory searched
recursively for *.yml and *.yaml files (default: the current directory).
Every problem of every file is printed as "file:line:column: message";
nothing is printed when all files are valid.

Flags:
  -v                  print the number of rules checked.
` + lookupUsage + `
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
	list, err := lookups.load(paths)
	if err != nil {
		printLoadProblems(stdout, err)
		return 1
	}
	if len(list) == 0 {
		fmt.Fprintln(stderr, "detect lint: no rules found")
	}
	if *verbose {
		fmt.Fprintf(stdout, "%d rules, no problems\n", len(list))
	}
	return 0
}
