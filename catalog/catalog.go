// Package catalog describes detection rules as a catalog: for each rule
// its metadata, its MITRE ATT&CK coverage with the names of tactics and
// techniques, its detection logic as conditions and indicators (with how
// many other rules of the catalog look for the same thing), and the
// outputs an alert carries with their sources. It renders the catalog as
// JSON, as Markdown pages and as a static HTML site, and as an ATT&CK
// Navigator layer.
//
// The main path:
//
//	attack, _ := catalog.LoadAttackFile("enterprise-attack.json") // optional
//	c, err := catalog.Build(rules.All(), catalog.Options{Attack: attack, Files: rules.FS()})
//	c.WriteJSON(os.Stdout)
//
// docs/catalog.md documents the command detect catalog and the JSON shape.
package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/detectkit/detect"
)

// Catalog is a set of rules described for people. Build makes one; its
// fields are the JSON document that WriteJSON writes.
type Catalog struct {
	Rules []*Entry `json:"rules"`
	// Attack is the bundle the names came from; nil without one.
	Attack *Attack `json:"-"`
}

// Entry is one rule of a catalog.
type Entry struct {
	ID                 string      `json:"id"`
	DisplayName        string      `json:"displayName"`
	Description        string      `json:"description"`
	Severity           string      `json:"severity"`
	GroupBy            []string    `json:"groupBy"`
	LogTypes           []string    `json:"logTypes"`
	Reference          string      `json:"reference"`
	Runbook            string      `json:"runbook"`
	Source             string      `json:"source"`
	Format             string      `json:"format"`
	Enabled            bool        `json:"enabled"`
	Tags               []string    `json:"tags"`
	DedupPeriodMinutes int         `json:"dedupPeriodMinutes"`
	Threshold          int         `json:"threshold"`
	Mitre              []Mitre     `json:"mitre"`
	Condition          []string    `json:"condition"`
	Indicators         []Indicator `json:"indicators"`
	Outputs            []Output    `json:"outputs"`
	Tests              int         `json:"tests"`
	Body               string      `json:"body"`
}

// Indicator is a predicate of a rule's condition (see detect.Indicator),
// with Corpus: how many other rules of the catalog have an indicator of
// the same field and kind sharing a value.
type Indicator struct {
	detect.Indicator
	Corpus int `json:"corpus"`
}

// Output is an output of a rule: its name, and the event path it reads
// when it reads a field, else its expression.
type Output struct {
	Field  string `json:"field"`
	Source string `json:"source"`
	// Path is set when Source is an event path.
	Path bool `json:"path"`
}

// Options tell Build where names and rule bodies come from.
type Options struct {
	// Attack names tactics and techniques; nil shows IDs alone.
	Attack *Attack
	// Files holds the rules' source files by Rule.Source, for the rule
	// bodies; nil reads them from the operating system's files. A rule
	// whose file cannot be read has an empty body.
	Files fs.FS
}

// Build describes rules. A rule that does not compile is an error naming
// it; rules are listed by ID.
func Build(rules []*detect.Rule, opts Options) (*Catalog, error) {
	c := &Catalog{Attack: opts.Attack}
	var errs []error
	for _, r := range rules {
		e, err := entryOf(r, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.Rules = append(c.Rules, e)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("catalog: %w", errors.Join(errs...))
	}
	sort.SliceStable(c.Rules, func(i, j int) bool { return c.Rules[i].ID < c.Rules[j].ID })
	c.countCorpus()
	return c, nil
}

func entryOf(r *detect.Rule, opts Options) (*Entry, error) {
	logic, err := r.Logic()
	if err != nil {
		return nil, err
	}
	e := &Entry{
		ID:                 r.ID,
		DisplayName:        r.DisplayName,
		Description:        r.Description,
		Severity:           severityName(r.Severity),
		GroupBy:            groupBy(r.GroupBy),
		LogTypes:           nonNil(r.LogTypes),
		Reference:          r.Reference,
		Runbook:            r.Runbook,
		Source:             r.Source,
		Format:             formatOf(r),
		Enabled:            !r.Disabled,
		Tags:               nonNil(r.Tags),
		DedupPeriodMinutes: dedupMinutes(r),
		Threshold:          max(r.Threshold, 1),
		Mitre:              mitreOf(reportsOf(r), r.Tags, opts.Attack),
		Condition:          nonNil(logic.Conditions),
		Tests:              len(r.Tests),
		Body:               body(r.Source, opts.Files),
	}
	if e.Mitre == nil {
		e.Mitre = []Mitre{}
	}
	e.Indicators = make([]Indicator, len(logic.Indicators))
	for i, in := range logic.Indicators {
		e.Indicators[i] = Indicator{Indicator: in}
	}
	for _, o := range r.OutputSources() {
		e.Outputs = append(e.Outputs, Output{Field: o.Name, Source: o.Source, Path: o.Path})
	}
	if e.Outputs == nil {
		e.Outputs = []Output{}
	}
	return e, nil
}

func dedupMinutes(r *detect.Rule) int {
	if r.DedupPeriod > 0 {
		return int(r.DedupPeriod.Minutes())
	}
	return int(detect.DefaultDedupPeriod.Minutes())
}

// severityName writes a severity as rule files do: Medium.
func severityName(s detect.Severity) string {
	n := strings.ToLower(s.String())
	if n == "" {
		return n
	}
	return strings.ToUpper(n[:1]) + n[1:]
}

// reportsOf returns the reports ATT&CK entries are read from besides the
// tags: none for a Sigma rule, whose reports are read from its tags.
func reportsOf(r *detect.Rule) map[string][]string {
	if formatOf(r) == "sigma" {
		return nil
	}
	return r.Reports
}

// formatOf tells the rule format a rule was loaded from: sigma for Sigma
// rules, panther for the rest (Panther's YAML, and rules built in Go).
func formatOf(r *detect.Rule) string {
	if f, ok := r.Extra["Format"].(string); ok && f != "" {
		return f
	}
	return "panther"
}

func body(source string, files fs.FS) string {
	if source == "" {
		return ""
	}
	var (
		b   []byte
		err error
	)
	if files != nil {
		b, err = fs.ReadFile(files, source)
	} else {
		b, err = os.ReadFile(source)
	}
	if err != nil {
		return ""
	}
	return string(b)
}

// groupBy names what a rule groups by: each expression, or the field it
// reads when it reads one with Panther's fallback written out
// (id != nil && id != "" ? id : "defaultDedupString:<ID>" groups by id).
func groupBy(exprs []string) []string {
	out := make([]string, 0, len(exprs))
	for _, e := range exprs {
		out = append(out, groupByName(e))
	}
	return out
}

func groupByName(e string) string {
	tree, err := parser.Parse(e)
	if err != nil {
		return e
	}
	c, ok := tree.Node.(*ast.ConditionalNode)
	if !ok {
		return e
	}
	def, ok := c.Exp2.(*ast.StringNode)
	if !ok || !strings.HasPrefix(def.Value, "defaultDedupString:") {
		return e
	}
	r := &detect.Rule{Fields: []detect.Field{{Name: "g", Expr: c.Exp1.String()}}}
	if src := r.OutputSources(); src[0].Path {
		return src[0].Source
	}
	return e
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// countCorpus sets each indicator's Corpus: the number of other rules with
// an indicator of the same field (ignoring case, as field names match),
// kind and negation that shares a value with it, or that has no values
// like it.
func (c *Catalog) countCorpus() {
	type key struct {
		field, kind string
		negated     bool
	}
	// For each key, the rules having it, by value.
	byValue := map[key]map[string]map[int]bool{}
	for i, e := range c.Rules {
		for _, in := range e.Indicators {
			k := key{strings.ToLower(in.Field), in.Kind, in.Negated}
			if byValue[k] == nil {
				byValue[k] = map[string]map[int]bool{}
			}
			for _, v := range valueKeys(in.Indicator) {
				if byValue[k][v] == nil {
					byValue[k][v] = map[int]bool{}
				}
				byValue[k][v][i] = true
			}
		}
	}
	for i, e := range c.Rules {
		for j := range e.Indicators {
			in := &e.Indicators[j]
			k := key{strings.ToLower(in.Field), in.Kind, in.Negated}
			others := map[int]bool{}
			for _, v := range valueKeys(in.Indicator) {
				for r := range byValue[k][v] {
					if r != i {
						others[r] = true
					}
				}
			}
			in.Corpus = len(others)
		}
	}
}

// valueKeys are the keys under which an indicator's values are compared:
// their JSON texts, or one empty key for an indicator without values.
func valueKeys(in detect.Indicator) []string {
	if len(in.Values) == 0 {
		return []string{""}
	}
	out := make([]string, 0, len(in.Values))
	for _, v := range in.Values {
		out = append(out, renderValue(v))
	}
	return out
}

// WriteJSON writes the catalog as one JSON document {"rules": [...]}.
func (c *Catalog) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	return nil
}

// renderValue writes a value that is not text as JSON.
func renderValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
