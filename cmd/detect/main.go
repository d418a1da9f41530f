// Command detect runs detection rules: it tests rule files, validates them,
// and replays logs through them.
//
// Usage:
//
//	detect test [flags] [PATH...]   run the unit tests of rule files
//	detect scan [flags] [FILE...]   replay JSON lines through rules, print alerts
//	detect lint [flags] [PATH...]   validate rule files
//	detect catalog [flags] [PATH...] describe rules: ATT&CK coverage, indicators, outputs
//
// Run "detect COMMAND -h" for a command's flags and exit codes.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage: detect COMMAND [flags] [ARG...]

Commands:
  test [PATH...]   run the Tests of rule files (default: the built-in rules)
  scan [FILE...]   read JSON lines (plain or gzip files, or stdin), print
                   alerts as JSON lines
  lint [PATH...]   validate rule files
  catalog [PATH...]
                   the rules as a catalog (JSON, Markdown or a static site):
                   metadata, ATT&CK coverage, indicators, outputs

Run "detect COMMAND -h" for the flags and exit codes of a command, and
"detect --version" for the version of this build.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches to a command and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "test":
		return runTest(args[1:], stdout, stderr)
	case "lint":
		return runLint(args[1:], stdout, stderr)
	case "scan":
		return runScan(args[1:], stdin, stdout, stderr)
	case "catalog":
		return runCatalog(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, version())
		return 0
	}
	fmt.Fprintf(stderr, "detect: unknown command %q\n\n%s", args[0], usage)
	return 2
}
