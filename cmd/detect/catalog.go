package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/catalog"
	"github.com/detectkit/detect/rules"
)

const catalogUsage = `usage: detect catalog [--attack FILE] [--format json|markdown|html] [--out DIR] [--navigator FILE] [PATH...]

Describe rules as a catalog: for each rule its metadata, MITRE ATT&CK
coverage, detection logic (conditions and indicators, with how many other
rules look for the same field, kind and value), outputs with their
sources, number of tests and rule body. Each PATH is a rule file or a
directory searched recursively; without PATH, the built-in rules.

Flags:
  --attack FILE       name tactics and techniques from an ATT&CK STIX
                      bundle (enterprise-attack.json as MITRE publishes
                      it); without it, IDs are shown alone
  --format F          json (default): one document {"rules": [...]} on
                      standard output, or in DIR/catalog.json with --out;
                      markdown: a page per rule and README.md in DIR;
                      html: a static site in DIR (index.html, a page per
                      rule, matrix.html, indicators.html)
  --out DIR           where to write; needed for markdown and html
  --navigator FILE    also write an ATT&CK Navigator layer (format 4.5)
                      scoring each technique by its number of enabled rules
` + excludeUsage + lookupUsage + `
Exit status: 0 when the catalog is written, 1 when it cannot be written,
2 when the flags are wrong or the rules cannot be loaded.
`

func runCatalog(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("catalog", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	attackFile := fs.String("attack", "", "")
	format := fs.String("format", "json", "")
	out := fs.String("out", "", "")
	navigator := fs.String("navigator", "", "")
	var lookups lookupFlags
	lookups.register(fs)
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return badUsage(stdout, stderr, "catalog", catalogUsage, err)
	}
	switch *format {
	case "json":
	case "markdown", "html":
		if *out == "" {
			return badUsage(stdout, stderr, "catalog", catalogUsage, fmt.Errorf("--format %s needs --out DIR", *format))
		}
	default:
		return badUsage(stdout, stderr, "catalog", catalogUsage, fmt.Errorf("--format %q: want json, markdown or html", *format))
	}

	var attack *catalog.Attack
	if *attackFile != "" {
		if attack, err = catalog.LoadAttackFile(*attackFile); err != nil {
			fmt.Fprintf(stderr, "detect catalog: %v\n", err)
			return 2
		}
	}
	opts := catalog.Options{Attack: attack}
	var list []*detect.Rule
	if len(paths) == 0 {
		list, opts.Files = rules.All(), rules.FS()
		_, err = lookups.functions()
	} else {
		list, err = lookups.load(paths, stderr, "catalog")
	}
	if err != nil {
		printLoadProblems(stderr, err)
		fmt.Fprintln(stderr, "detect catalog: the rules cannot be loaded")
		return 2
	}
	c, err := catalog.Build(list, opts)
	if err != nil {
		fmt.Fprintf(stderr, "detect %v\n", err)
		return 2
	}

	switch *format {
	case "json":
		err = writeJSON(c, *out, stdout)
	case "markdown":
		err = c.WriteMarkdown(*out)
	case "html":
		err = c.WriteHTML(*out)
	}
	if err == nil && *navigator != "" {
		err = writeTo(*navigator, func(w io.Writer) error { return c.WriteNavigator(w, "detect rules") })
	}
	if err != nil {
		fmt.Fprintf(stderr, "detect %v\n", err)
		return 1
	}
	return 0
}

func writeJSON(c *catalog.Catalog, dir string, stdout io.Writer) error {
	if dir == "" {
		w := bufio.NewWriter(stdout)
		if err := c.WriteJSON(w); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("catalog: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	return writeTo(filepath.Join(dir, "catalog.json"), c.WriteJSON)
}

// writeTo writes a file through write, reporting the first error.
func writeTo(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	w := bufio.NewWriter(f)
	err = write(w)
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("catalog: %w", ferr)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("catalog: %w", cerr)
	}
	return err
}
