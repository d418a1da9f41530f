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

// IsSigma reports whether data looks like a Sigma rule file: a YAML
// mapping with the keys title and detection, or title and correlation or
// filter, and no Panther AnalysisType.
func IsSigma(data []byte) bool {
	var probe struct {
		Title        any `yaml:"title"`
		Detection    any `yaml:"detection"`
		Correlation  any `yaml:"correlation"`
		Filter       any `yaml:"filter"`
		AnalysisType any `yaml:"AnalysisType"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&probe); err != nil {
		return false
	}
	return probe.AnalysisType == nil && probe.Title != nil && (probe.Detection != nil || probe.Correlation != nil || probe.Filter != nil)
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
func Parse(data []byte, source string, opts Options) ([]*detect.Rule, error) {
	fns, err := functionsFor(opts.Functions)
	if err != nil {
		return nil, err
	}
	pipelines := opts.Pipelines
	if pipelines == nil {
		pipelines = Builtin()
	}
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.UseOrderedMap())
	var out []*detect.Rule
	for n := 1; ; n++ {
		var doc ruleDoc
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &Error{Source: source, Doc: n, Err: err}
		}
		r, err := convert(&doc, pipelines)
		if err != nil {
			return nil, &Error{Source: source, Doc: n, Rule: firstNonEmpty(doc.ID, doc.Title), Err: err}
		}
		if r == nil {
			continue
		}
		r.Source = source
		if _, err := detect.Compile(r, detect.WithFunctions(fns)); err != nil {
			return nil, &Error{Source: source, Doc: n, Rule: r.ID, Err: err}
		}
		out = append(out, r)
	}
	return out, nil
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
func convert(doc *ruleDoc, pipelines []*Pipeline) (*detect.Rule, error) {
	switch {
	case doc.Correlation != nil:
		return nil, unsupported("correlation rules", "")
	case doc.Filter != nil:
		return nil, unsupported("Sigma filters", "")
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
		s, err := detectionExpr(doc, v, pipelines)
		if err != nil {
			return nil, err
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
func detectionExpr(doc *ruleDoc, v variant, pipelines []*Pipeline) (string, error) {
	c := &converter{v: v, placeholders: map[string][]string{}}
	for _, p := range pipelines {
		for k, vals := range p.Placeholders {
			c.placeholders[k] = vals
		}
	}
	ids := map[string]string{}
	var order []string
	var condition any
	for _, item := range doc.Detection {
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
