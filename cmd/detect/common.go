package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// plural returns "1 alert" or "n alerts": n with the noun, made plural
// unless n is 1 (by adding es after ch, s or x, else s).
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	suffix := "s"
	if strings.HasSuffix(noun, "ch") || strings.HasSuffix(noun, "s") || strings.HasSuffix(noun, "x") {
		suffix = "es"
	}
	return fmt.Sprintf("%d %s%s", n, noun, suffix)
}

// excludeUsage documents --exclude and --pipeline, which test, lint, scan
// and catalog share.
const excludeUsage = `  --exclude GLOB      leave out the files and directories whose name, or
                      path below a PATH, matches GLOB (* and ? as in the
                      shell; docker-compose.yml, drafts, drafts/*.yml).
                      May be repeated. Sigma files (a title and a
                      detection, correlation or filter) are read as Sigma
                      rules; other YAML files found in a directory that
                      are not Panther files at all (a list, or a mapping
                      with neither AnalysisType nor any other Panther key)
                      are skipped with a notice on standard error; named
                      explicitly, such a file is a problem.
  --pipeline FILE     a Sigma pipeline, after the built-in ones (see
                      docs/sigma.md); may be repeated.
`

// skipNotice returns the Loader.OnSkip of a command: a line on w for each
// file of a directory that is not a Panther file.
func skipNotice(w io.Writer, cmd string) func(file, reason string) {
	return func(file, reason string) {
		fmt.Fprintf(w, "detect %s: skipping %s: %s\n", cmd, file, reason)
	}
}

// version returns the version of this build of detect: the module version
// and, when the build recorded them, the commit and its time, with the Go
// version.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "detect (unknown version)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var extra []string
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if settings["vcs.modified"] == "true" {
			rev += "+dirty"
		}
		extra = append(extra, "commit "+rev)
	}
	if t := settings["vcs.time"]; t != "" {
		extra = append(extra, t)
	}
	extra = append(extra, bi.GoVersion)
	return "detect " + v + " (" + strings.Join(extra, ", ") + ")"
}

// flagHelp re-indents flag descriptions written for column 23 (22 spaces
// before them), as lookupUsage and excludeUsage are, to start after col
// spaces, so that they line up with the other flags of a command.
func flagHelp(text string, col int) string {
	const written = 22
	lines := strings.SplitAfter(text, "\n")
	for i, line := range lines {
		if len(line) <= written || strings.TrimSpace(line) == "" {
			continue
		}
		head, rest := line[:written], line[written:]
		name := strings.TrimRight(head, " ")
		if name == "" {
			lines[i] = strings.Repeat(" ", col) + rest
			continue
		}
		if len(name) < col-1 && rest[0] != ' ' {
			lines[i] = name + strings.Repeat(" ", col-len(name)) + rest
		}
	}
	return strings.Join(lines, "")
}
