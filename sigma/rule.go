package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/detectkit/detect"
)

// ruleDoc is one YAML document of a Sigma rule file.
type ruleDoc struct {
	Title               string        `yaml:"title"`
	ID                  string        `yaml:"id"`
	Name                string        `yaml:"name"`
	Status              string        `yaml:"status"`
	Description         string        `yaml:"description"`
	Author              string        `yaml:"author"`
	Date                any           `yaml:"date"`
	Modified            any           `yaml:"modified"`
	References          []string      `yaml:"references"`
	Tags                []string      `yaml:"tags"`
	Level               string        `yaml:"level"`
	FalsePositives      any           `yaml:"falsepositives"`
	Fields              []string      `yaml:"fields"`
	LogSource           ruleLogSource `yaml:"logsource"`
	Detection           yaml.MapSlice `yaml:"detection"`
	Correlation         any           `yaml:"correlation"`
	Filter              any           `yaml:"filter"`
	Type                string        `yaml:"type"`
	Action              string        `yaml:"action"`
	RegressionTestsPath string        `yaml:"regression_tests_path"`
}

type ruleLogSource struct {
	Product    string `yaml:"product"`
	Category   string `yaml:"category"`
	Service    string `yaml:"service"`
	Definition string `yaml:"definition"`
}

// IsSigma reports whether data looks like a Sigma rule file: a top-level
// title key and a detection, correlation or filter key, and no Panther
// AnalysisType. It reads the text line by line, without parsing YAML, so
// that telling formats apart costs nothing on a hostile file.
func IsSigma(data []byte) bool {
	var title, body bool
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		key, _, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(key) == 0 || key[0] == ' ' || key[0] == '\t' || key[0] == '#' {
			continue
		}
		switch string(bytes.TrimSpace(key)) {
		case "title":
			title = true
		case "detection", "correlation", "filter":
			body = true
		case "AnalysisType":
			return false
		}
	}
	return title && body
}

// Options configure how Sigma rules become detect rules.
type Options struct {
	// Pipelines map log sources and fields; nil means Builtin(). Later
	// pipelines override earlier ones for the log sources they map.
	Pipelines []*Pipeline
	// Functions is the set the rules compile with; the Sigma matching
	// functions are added to it. Nil means a set of the package's own.
	Functions *detect.Functions
}

// levels maps Sigma levels to severities.
var levels = map[string]detect.Severity{
	"informational": detect.SeverityInfo, "low": detect.SeverityLow, "medium": detect.SeverityMedium,
	"high": detect.SeverityHigh, "critical": detect.SeverityCritical,
}

// tactics maps ATT&CK tactic short names, as Sigma tags spell them, to
// their IDs.
var tactics = map[string]string{
	"reconnaissance": "TA0043", "resource-development": "TA0042", "initial-access": "TA0001",
	"execution": "TA0002", "persistence": "TA0003", "privilege-escalation": "TA0004",
	"defense-evasion": "TA0005", "credential-access": "TA0006", "discovery": "TA0007",
	"lateral-movement": "TA0008", "collection": "TA0009", "command-and-control": "TA0011",
	"exfiltration": "TA0010", "impact": "TA0040",
}

// Parse reads the rules of one Sigma file (one rule per YAML document)
// and compiles them. source names the file in errors and in Rule.Source.
// A filter in the file applies to the file's rules that it names.
func Parse(data []byte, source string, opts Options) ([]*detect.Rule, error) {
	docs, err := readDocs(data, source)
	if err != nil {
		return nil, err
	}
	rules, errs := build(docs, opts)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return rules, nil
}

// sourceDoc is a document of a rule file, with where it comes from.
type sourceDoc struct {
	doc    *ruleDoc
	source string
	n      int // the document, from 1
}

func (d sourceDoc) errorf(rule string, err error) *Error {
	return &Error{Source: d.source, Doc: d.n, Rule: rule, Err: err}
}

// readDocs decodes the documents of a file, after the checks the Panther
// loader makes of a rule file: its size, and YAML that would make the
// parser work too hard.
func readDocs(data []byte, source string) ([]sourceDoc, error) {
	if len(data) > detect.MaxRuleFileBytes {
		return nil, &Error{Source: source, Err: fmt.Errorf("the file is %d bytes, more than the %d a rule file may have", len(data), detect.MaxRuleFileBytes)}
	}
	if err := detect.CheckYAML(data); err != nil {
		return nil, &Error{Source: source, Err: err}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.UseOrderedMap())
	var out []sourceDoc
	for n := 1; ; n++ {
		doc := &ruleDoc{}
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, &Error{Source: source, Doc: n, Err: err}
		}
		out = append(out, sourceDoc{doc: doc, source: source, n: n})
	}
}

// build converts and compiles the rules of docs, with the filters among
// them applied to the rules they name; it returns the rules that compile
// and an error for each document that does not.
func build(docs []sourceDoc, opts Options) ([]*detect.Rule, []error) {
	fns, err := functionsFor(opts.Functions)
	if err != nil {
		return nil, []error{err}
	}
	pipelines := opts.Pipelines
	if pipelines == nil {
		pipelines = Builtin()
	}
	var errs []error
	filters := map[string][]*filter{} // by the rule id or name they name
	var all []*filter
	for _, d := range docs {
		if d.doc.Filter == nil {
			continue
		}
		f, err := parseFilter(d.doc)
		if err != nil {
			errs = append(errs, d.errorf(firstNonEmpty(d.doc.ID, d.doc.Title), err))
			continue
		}
		f.at = d
		all = append(all, f)
		for _, ref := range f.rules {
			filters[ref] = append(filters[ref], f)
		}
	}
	var out []*detect.Rule
	for _, d := range docs {
		if d.doc.Filter != nil {
			continue
		}
		var fs []*filter
		for _, ref := range []string{d.doc.ID, d.doc.Name} {
			if ref != "" {
				fs = append(fs, filters[ref]...)
			}
		}
		r, err := convert(d.doc, pipelines, fs)
		if err != nil {
			errs = append(errs, d.errorf(firstNonEmpty(d.doc.ID, d.doc.Title), err))
			continue
		}
		for _, f := range fs {
			f.used = true
		}
		r.Source = d.source
		if r.Tests, err = ruleTests(d.doc, d.source); err != nil {
			errs = append(errs, d.errorf(r.ID, err))
			continue
		}
		if _, err := detect.Compile(r, detect.WithFunctions(fns)); err != nil {
			errs = append(errs, d.errorf(r.ID, err))
			continue
		}
		out = append(out, r)
	}
	for _, f := range all {
		if !f.used {
			errs = append(errs, f.at.errorf(firstNonEmpty(f.at.doc.ID, f.at.doc.Title),
				fmt.Errorf("the filter names %s, and no rule loaded with it has that id or name", strings.Join(f.rules, ", "))))
		}
	}
	return out, errs
}

// filter is a Sigma filter: a detection that, when it holds, suppresses
// the matches of the rules it names.
type filter struct {
	rules     []string
	logSource ruleLogSource
	detection yaml.MapSlice
	at        sourceDoc
	used      bool
}

func parseFilter(doc *ruleDoc) (*filter, error) {
	m, ok := doc.Filter.(yaml.MapSlice)
	if !ok {
		return nil, fmt.Errorf("filter must be a mapping with rules, a selection and a condition")
	}
	f := &filter{logSource: doc.LogSource}
	for _, item := range m {
		key, _ := item.Key.(string)
		if key != "rules" {
			f.detection = append(f.detection, item)
			continue
		}
		list, ok := item.Value.([]any)
		if !ok {
			list = []any{item.Value}
		}
		for _, e := range list {
			s, ok := e.(string)
			if !ok || s == "" {
				return nil, fmt.Errorf("filter rules must list rule ids or names")
			}
			f.rules = append(f.rules, s)
		}
	}
	if len(f.rules) == 0 {
		return nil, fmt.Errorf("the filter names no rules")
	}
	return f, nil
}

// applies reports whether a filter's log source fits a rule's: each part
// the filter names must equal the rule's.
func (f *filter) applies(ls ruleLogSource) bool {
	return attrMatches(f.logSource.Product, ls.Product) && attrMatches(f.logSource.Category, ls.Category) &&
		attrMatches(f.logSource.Service, ls.Service)
}

// Error is a problem with one rule of a Sigma file.
type Error struct {
	Source string
	Doc    int    // the YAML document, from 1
	Rule   string // the rule's id or title, when known
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Doc > 1 {
		fmt.Fprintf(&b, " (document %d)", e.Doc)
	}
	if e.Rule != "" {
		b.WriteString(": rule " + e.Rule)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// convert turns one Sigma document into a rule, or nil for a document
// that holds no rule.
func convert(doc *ruleDoc, pipelines []*Pipeline, filters []*filter) (*detect.Rule, error) {
	switch {
	case doc.Correlation != nil:
		return nil, unsupported("correlation rules", "")
	case doc.Action != "":
		return nil, unsupported("action: "+doc.Action, "rule collections of Sigma 1")
	}
	if doc.Title == "" {
		return nil, fmt.Errorf("missing title")
	}
	if len(doc.Detection) == 0 {
		return nil, fmt.Errorf("missing detection")
	}
	r := &detect.Rule{
		ID:          firstNonEmpty(doc.ID, doc.Name, doc.Title),
		DisplayName: doc.Title,
		Description: strings.TrimSpace(doc.Description),
		Tags:        doc.Tags,
		Extra:       map[string]any{"Format": "sigma"},
	}
	if len(doc.References) > 0 {
		r.Reference = doc.References[0]
		r.Extra["References"] = doc.References
	}
	for k, v := range map[string]any{"Status": doc.Status, "Author": doc.Author, "Date": doc.Date, "Modified": doc.Modified,
		"FalsePositives": doc.FalsePositives, "RegressionTestsPath": doc.RegressionTestsPath} {
		if v != nil && v != "" {
			r.Extra[k] = v
		}
	}
	level := strings.ToLower(strings.TrimSpace(doc.Level))
	if level == "" {
		level = "medium"
	}
	sev, ok := levels[level]
	if !ok {
		return nil, fmt.Errorf("level %q is not one of informational, low, medium, high, critical", doc.Level)
	}
	r.Severity = sev
	r.Reports = mitreReports(doc.Tags)

	// The detection: each search identifier, then the condition.
	vs := variants(pipelines, doc.LogSource)
	if len(vs) == 0 {
		// No pipeline tells how to recognise the source's events: the
		// rule runs on events whose p_log_type names the source, and on
		// no other (an event without a log type is tried with every
		// rule, and this one could not tell it is not its source's).
		lt := unmappedLogType(doc.LogSource)
		vs = []variant{{logTypes: []string{lt}, guard: lt}}
		r.Extra["LogSource"] = "unmapped"
	}
	var alternatives []string
	logTypes := map[string]bool{}
	for _, v := range vs {
		s, err := detectionExpr(doc.Detection, v, pipelines)
		if err != nil {
			return nil, err
		}
		for _, f := range filters {
			if !f.applies(doc.LogSource) {
				return nil, fmt.Errorf("filter %s (%s) is for another log source", firstNonEmpty(f.at.doc.ID, f.at.doc.Title), f.at.source)
			}
			fs, err := detectionExpr(f.detection, v, pipelines)
			if err != nil {
				return nil, fmt.Errorf("filter %s (%s): %w", firstNonEmpty(f.at.doc.ID, f.at.doc.Title), f.at.source, err)
			}
			s = "(" + s + ") && !(" + fs + ")"
		}
		if len(filters) > 0 {
			r.Extra["Filters"] = filterNames(filters)
		}
		if v.guard != "" {
			s = "$env[" + strconv.Quote(detect.LogTypeField) + "] == " + strconv.Quote(v.guard) + " && " + s
		}
		if len(v.conditions) > 0 {
			sel, err := (&converter{v: v}).conditions(v.conditions)
			if err != nil {
				return nil, fmt.Errorf("pipeline %s: %w", v.pipeline.Name, err)
			}
			s = sel + " && " + s
		}
		alternatives = append(alternatives, "("+s+")")
		for _, t := range v.logTypes {
			logTypes[t] = true
		}
	}
	r.Condition = strings.Join(alternatives, " || ")
	for t := range logTypes {
		r.LogTypes = append(r.LogTypes, t)
	}
	sort.Strings(r.LogTypes)
	for _, f := range doc.Fields {
		r.Fields = append(r.Fields, detect.Field{Name: f, Expr: vs[0].fieldExpr(f)})
	}
	return r, nil
}

func filterNames(fs []*filter) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = firstNonEmpty(f.at.doc.ID, f.at.doc.Title)
	}
	return out
}

// unmappedLogType names the log type of a log source that no pipeline
// maps: Sigma.<product>.<service>.<category>, with the parts the rule gives.
func unmappedLogType(ls ruleLogSource) string {
	parts := []string{"Sigma"}
	for _, p := range []string{ls.Product, ls.Service, ls.Category} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

// detectionExpr writes the detection of a document for one variant.
func detectionExpr(detection yaml.MapSlice, v variant, pipelines []*Pipeline) (string, error) {
	c := &converter{v: v, placeholders: map[string][]string{}}
	for _, p := range pipelines {
		for k, vals := range p.Placeholders {
			c.placeholders[k] = vals
		}
	}
	ids := map[string]string{}
	var order []string
	var condition any
	for _, item := range detection {
		name, _ := item.Key.(string)
		switch name {
		case "condition":
			condition = item.Value
			continue
		case "timeframe":
			return "", unsupported("timeframe", "use a correlation rule")
		}
		s, err := c.selection(name, item.Value)
		if err != nil {
			return "", err
		}
		ids[name] = s
		order = append(order, name)
	}
	var conds []string
	switch cv := condition.(type) {
	case string:
		conds = []string{cv}
	case []any:
		for _, e := range cv {
			s, ok := e.(string)
			if !ok {
				return "", fmt.Errorf("a condition must be text")
			}
			conds = append(conds, s)
		}
	case nil:
		return "", fmt.Errorf("the detection has no condition")
	default:
		return "", fmt.Errorf("a condition must be text or a list of texts")
	}
	var parts []string
	for _, s := range conds {
		n, err := parseCondition(s)
		if err != nil {
			return "", err
		}
		e, err := n.expr(ids, order)
		if err != nil {
			return "", err
		}
		parts = append(parts, e)
	}
	return strings.Join(parts, " || "), nil
}

// mitreReports reads the ATT&CK tags (attack.t1531, attack.impact) into
// Panther's report entries: tactics and techniques by ID.
func mitreReports(tags []string) map[string][]string {
	var entries []string
	for _, t := range tags {
		rest, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(t)), "attack.")
		if !ok {
			continue
		}
		switch {
		case len(rest) > 1 && rest[0] == 't' && rest[1] >= '0' && rest[1] <= '9':
			entries = append(entries, strings.ToUpper(rest))
		default:
			if id, ok := tactics[strings.ReplaceAll(rest, "_", "-")]; ok {
				entries = append(entries, id)
			}
		}
	}
	if len(entries) == 0 {
		return nil
	}
	return map[string][]string{"MITRE ATT&CK": entries}
}
