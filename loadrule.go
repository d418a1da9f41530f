package detect

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/builtin"
	exprparser "github.com/expr-lang/expr/parser"
	"github.com/goccy/go-yaml/ast"
)

// The keys of each part of a rule file. The JSON schema in schema/ lists
// the same keys; a test keeps the two in step.
var (
	// ruleKeys are the keys of a rule file. Extra keys are kept in
	// Rule.Extra.
	ruleKeys = []string{
		"AnalysisType", "RuleID", "DisplayName", "Description", "Runbook", "Reference",
		"Enabled", "LogTypes", "Severity", "Reports", "Tags",
		"DedupPeriodMinutes", "Threshold", "CreateAlert",
		"Condition", "Detection", "InlineFilters",
		"AlertTitle", "AlertDescription", "AlertReference", "AlertRunbook",
		"GroupBy", "Outputs", "AlertContext", "DynamicSeverities", "Tests",
	}
	// extraKeys are Panther keys that do not change evaluation.
	extraKeys = []string{"SummaryAttributes", "OutputIds", "OnlyUseBaseRiskScore", "Status", "CreatedBy"}
	// globalKeys are the keys of a file of shared definitions.
	globalKeys = []string{"AnalysisType", "GlobalID", "Description", "Tags", "Definitions"}
	// testKeys are the keys of one unit test.
	testKeys = []string{"Name", "ExpectedResult", "ExpectedTitle", "ExpectedDedup", "ExpectedSeverity", "ExpectedOutputs", "Log", "Mocks", "LogType"}
	// requiredRuleKeys must be in every rule file, with Condition or
	// Detection.
	requiredRuleKeys = []string{"AnalysisType", "RuleID", "Enabled", "LogTypes", "Severity"}
)

// pantherIDChars are the characters Panther forbids in rule IDs.
var pantherIDChars = regexp.MustCompile(`[<>&"%]`)

// parsedFile is a rule file read into a rule or a set of definitions,
// before anything is compiled.
type parsedFile struct {
	f       *yamlFile
	rule    *ruleSpec
	global  *globalSpec
	skipped string // why the file is not a Panther file, see strayReason
}

// ruleSpec is a rule read from its file, with what compiling it needs to
// report problems at their place in the file.
type ruleSpec struct {
	rule       *Rule
	idNode     ast.Node
	exprs      []exprRef
	detection  *entry // Detection, translated once the definitions are known
	inline     *entry // InlineFilters
	condition  *entry
	groupBy    []groupByItem
	context    []entry // AlertContext items
	severities []severitySpec
	outputs    map[string]ast.Node // output names, where they are set
}

type groupByItem struct {
	node ast.Node
	spec bool // a key specifier, not an expression
}

type severitySpec struct {
	changeTo   Severity
	condition  *entry // Condition: an expression
	conditions *entry // Conditions: match expressions
}

// exprRef is one expression of a rule and where it comes from, so that a
// compile error can name its place in the file.
type exprRef struct {
	part     string // as CompileError.Part names it
	template bool
	kind     exprKind
	source   string
	node     ast.Node // the scalar holding the written part of source, if any
	value    string   // its value
	offset   int      // where value starts in source
	at       ast.Node // where problems outside value are reported
	origin   string   // what source was generated from, if it was
}

// globalSpec is a file of shared definitions.
type globalSpec struct {
	id     string
	idNode ast.Node
	defs   []definition
}

type definition struct {
	name   string
	source string
	key    ast.Node
	value  ast.Node
}

// loadState is what one load shares across files.
type loadState struct {
	funcs     *Functions
	limits    Limits            // with defaults
	defined   map[string]string // definition name -> file:line where defined
	ruleIDs   map[string]string // rule ID -> file:line where defined
	globalIDs map[string]string // GlobalID -> file:line where defined
	// globalDefs holds, for each GlobalID, its definitions as one string:
	// two packs loaded together may each carry the same global file.
	globalDefs map[string]string
}

// parseFile reads one rule file. Its problems are in the result's f.errs.
// A file found in a directory (walked) that is not a Panther file comes
// back with skipped set instead.
func parseFile(name string, data []byte, walked bool) *parsedFile {
	f := newYAMLFile(name, data)
	f.walked = walked
	pf := &parsedFile{f: f}
	body := f.parse()
	if f.stray != "" {
		pf.skipped = f.stray
		return pf
	}
	if body == nil {
		return pf
	}
	es := f.entries(body)
	var typ *entry
	for i := range es {
		if es[i].key == "AnalysisType" {
			typ = &es[i]
		}
	}
	if typ == nil {
		f.errorAt(body, "missing AnalysisType (rule or global)")
		return pf
	}
	t, ok := f.str("AnalysisType", typ.value)
	if !ok {
		return pf
	}
	switch t {
	case "rule":
		pf.rule = decodeRule(f, body, es)
	case "global":
		pf.global = decodeGlobal(f, es)
	case "scheduled_rule", "correlation_rule", "policy", "scheduled_query", "saved_query", "datamodel", "pack", "lookup_table":
		f.errorAt(typ.value, "AnalysisType %s is not supported: detect loads rules (rule) and shared definitions (global)", t)
	default:
		f.errorAt(typ.value, "unknown AnalysisType %q (want rule or global)", t)
	}
	return pf
}

func pythonMessage(what string) string {
	return fmt.Sprintf("Python %s are not supported: Filename names Python code; %s", what, map[string]string{
		"rules":   "write the rule's logic as a Condition expression (Condition replaces Filename)",
		"globals": "write shared logic as Definitions, expressions that rules call by name",
	}[what])
}

// decodeRule reads the keys of a rule file.
func decodeRule(f *yamlFile, body *ast.MappingNode, es []entry) *ruleSpec {
	r := &Rule{Source: f.name}
	spec := &ruleSpec{rule: r, outputs: map[string]ast.Node{}}
	for _, e := range es {
		if e.key == "RuleID" {
			if id, ok := f.str("RuleID", e.value); ok {
				r.ID = id
				f.ruleID = id
				spec.idNode = e.value
				switch {
				case strings.TrimSpace(id) == "":
					f.errorAt(e.value, "RuleID is empty")
				case pantherIDChars.MatchString(id):
					f.errorAt(e.value, "RuleID %q has a character Panther forbids in IDs (<, >, &, \" or %%)", id)
				}
			}
		}
	}
	seen := map[string]bool{}
	for i := range es {
		e := &es[i]
		seen[e.key] = true
		switch e.key {
		case "AnalysisType", "RuleID":
		case "DisplayName":
			r.DisplayName, _ = f.str(e.key, e.value)
		case "Description":
			r.Description, _ = f.str(e.key, e.value)
		case "Runbook":
			r.Runbook, _ = f.str(e.key, e.value)
		case "Reference":
			r.Reference, _ = f.str(e.key, e.value)
		case "Enabled":
			enabled, _ := f.boolean(e.key, e.value)
			r.Disabled = !enabled
		case "LogTypes":
			if lt, ok := f.strings(e.key, e.value); ok {
				if len(lt) == 0 {
					f.errorAt(e.value, "LogTypes is empty: list the log types the rule applies to")
				}
				for j, t := range lt {
					if strings.TrimSpace(t) == "" {
						seq, _ := f.sequence(e.value)
						f.errorAt(seq.Values[j], "LogTypes has an empty entry")
					}
				}
				r.LogTypes = lt
			}
		case "Severity":
			r.Severity, _ = severity(f, e.key, e.value)
		case "Reports":
			r.Reports = reports(f, e.value)
		case "Tags":
			r.Tags, _ = f.strings(e.key, e.value)
		case "DedupPeriodMinutes":
			if v, ok := f.integer(e.key, e.value); ok {
				switch {
				case v < 0:
					f.errorAt(e.value, "DedupPeriodMinutes is negative (%d); 0 means the default, 60", v)
				case v > math.MaxInt64/int64(time.Minute):
					f.errorAt(e.value, "DedupPeriodMinutes is too large")
				default:
					r.DedupPeriod = time.Duration(v) * time.Minute
				}
			}
		case "Threshold":
			if v, ok := f.integer(e.key, e.value); ok {
				switch {
				case v < 0:
					f.errorAt(e.value, "Threshold is negative (%d); 0 means the default, 1", v)
				case v > math.MaxInt32:
					f.errorAt(e.value, "Threshold is too large")
				default:
					r.Threshold = int(v)
				}
			}
		case "CreateAlert":
			create, ok := f.boolean(e.key, e.value)
			r.SuppressAlerts = ok && !create
		case "Condition":
			spec.condition = e
		case "Detection":
			spec.detection = e
		case "InlineFilters":
			spec.inline = e
		case "AlertTitle", "AlertDescription", "AlertReference", "AlertRunbook":
			s, ok := f.str(e.key, e.value)
			if !ok || s == "" {
				continue
			}
			var part string
			switch e.key {
			case "AlertTitle":
				part, r.Title = "title", s
			case "AlertDescription":
				part, r.AlertDescription = "description", s
			case "AlertReference":
				part, r.AlertReference = "reference", s
			case "AlertRunbook":
				part, r.AlertRunbook = "runbook", s
			}
			spec.exprs = append(spec.exprs, exprRef{part: part, template: true, source: s, node: e.value, value: s, at: e.value})
		case "GroupBy":
			spec.groupBy = groupBy(f, e.value)
		case "Outputs":
			spec.decodeOutputs(f, e.value)
		case "AlertContext":
			spec.context = alertContext(f, e.value)
		case "DynamicSeverities":
			spec.severities = dynamicSeverities(f, e.value)
		case "Tests":
			r.Tests = tests(f, e.value)
		case "Filename":
			f.errorAt(e.keyN, "%s", pythonMessage("rules"))
		case "BaseDetection":
			f.errorAt(e.keyN, "derived detections (BaseDetection) are not supported: copy the base rule and change it")
		case "ScheduledQueries":
			f.errorAt(e.keyN, "scheduled rules (ScheduledQueries) are not supported: detect runs rules on events as they arrive")
		default:
			if slices.Contains(extraKeys, e.key) {
				if v, ok := extra(f, e.key, e.value); ok {
					if r.Extra == nil {
						r.Extra = map[string]any{}
					}
					r.Extra[e.key] = v
				}
				continue
			}
			f.errorAt(e.keyN, "unknown key %q%s", e.key, suggest(e.key, append(append([]string(nil), ruleKeys...), extraKeys...)))
		}
	}
	var missing []string
	for _, k := range requiredRuleKeys {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		f.errorAt(body, "missing required key %s", missing[0])
	default:
		f.errorAt(body, "missing required keys %s and %s", strings.Join(missing[:len(missing)-1], ", "), missing[len(missing)-1])
	}
	switch {
	case spec.condition != nil && spec.detection != nil:
		f.errorAt(spec.detection.keyN, "a rule has Condition or Detection, not both")
	case spec.condition == nil && spec.detection == nil && !seen["Filename"] && !seen["BaseDetection"]:
		f.errorAt(body, "missing Condition (an expression) or Detection (match expressions)")
	}
	if spec.condition != nil {
		if s, ok := f.expression("Condition", spec.condition.value); ok {
			r.Condition = s
		}
	}
	return spec
}

// suggest proposes the known key closest to a misspelt one.
func suggest(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func severity(f *yamlFile, key string, n ast.Node) (Severity, bool) {
	s, ok := f.str(key, n)
	if !ok {
		return 0, false
	}
	sev, err := ParseSeverity(s)
	if err != nil {
		f.errorAt(n, "invalid %s %q (want Info, Low, Medium, High or Critical)", key, s)
		return 0, false
	}
	return sev, true
}

// reports reads a mapping of framework to entries, such as
// "MITRE ATT&CK: [TA0040:T1531]". Entries may be numbers.
func reports(f *yamlFile, n ast.Node) map[string][]string {
	m, ok := f.mapping(n)
	if !ok {
		r, _ := f.resolve(n)
		f.errorAt(n, "Reports must be a mapping of framework to a list of entries, not %s", f.describe(r))
		return nil
	}
	out := map[string][]string{}
	for _, e := range f.entries(m) {
		seq, ok := f.sequence(e.value)
		if !ok {
			r, _ := f.resolve(e.value)
			f.errorAt(e.value, "Reports %s must be a list of entries, not %s", e.key, f.describe(r))
			continue
		}
		list := make([]string, 0, len(seq.Values))
		for _, item := range seq.Values {
			r, _ := f.resolve(item)
			switch r.(type) {
			case *ast.StringNode, *ast.LiteralNode, *ast.IntegerNode, *ast.FloatNode:
				s, _ := scalarText(r)
				list = append(list, s)
			default:
				f.errorAt(item, "Reports entries must be strings, not %s", f.describe(r))
			}
		}
		out[e.key] = list
	}
	return out
}

// extra reads a key kept in Rule.Extra.
func extra(f *yamlFile, key string, n ast.Node) (any, bool) {
	switch key {
	case "SummaryAttributes", "OutputIds":
		return f.strings(key, n)
	case "OnlyUseBaseRiskScore":
		return f.boolean(key, n)
	}
	return f.str(key, n)
}

// groupBy reads one expression, or a list of expressions and key
// specifiers.
func groupBy(f *yamlFile, n ast.Node) []groupByItem {
	if seq, ok := f.sequence(n); ok {
		if len(seq.Values) == 0 {
			f.errorAt(n, "GroupBy is an empty list")
		}
		var items []groupByItem
		for _, item := range seq.Values {
			_, isMap := f.mapping(item)
			items = append(items, groupByItem{node: item, spec: isMap})
		}
		return items
	}
	if _, ok := f.mapping(n); ok {
		f.errorAt(n, "GroupBy must be an expression or a list of them, not a mapping")
		return nil
	}
	return []groupByItem{{node: n}}
}

// decodeOutputs reads Outputs, an ordered mapping of name to expression.
func (spec *ruleSpec) decodeOutputs(f *yamlFile, n ast.Node) {
	m, ok := f.mapping(n)
	if !ok {
		r, _ := f.resolve(n)
		f.errorAt(n, "Outputs must be a mapping of output name to expression, not %s", f.describe(r))
		return
	}
	for _, e := range f.entries(m) {
		if e.key == "" {
			f.errorAt(e.keyN, "an output needs a name")
			continue
		}
		spec.outputs[e.key] = e.keyN
		src, ok := f.expression("output "+e.key, e.value)
		if !ok {
			continue
		}
		spec.rule.Fields = append(spec.rule.Fields, Field{Name: e.key, Expr: src})
		spec.exprs = append(spec.exprs, exprRef{part: "output " + e.key, kind: kindValue, source: src, node: e.value, value: src, at: e.value})
	}
}

// alertContext reads Panther's AlertContext: a list of
// {KeyName, KeyValue: {Key | DeepKey | KeyPath}}.
func alertContext(f *yamlFile, n ast.Node) []entry {
	seq, ok := f.sequence(n)
	if !ok {
		r, _ := f.resolve(n)
		f.errorAt(n, "AlertContext must be a list of {KeyName, KeyValue}, not %s", f.describe(r))
		return nil
	}
	var out []entry
	for _, item := range seq.Values {
		m, ok := f.mapping(item)
		if !ok {
			f.errorAt(item, "an AlertContext entry must be a mapping {KeyName, KeyValue}")
			continue
		}
		var name *entry
		var value *entry
		es := f.entries(m)
		for i := range es {
			switch es[i].key {
			case "KeyName":
				name = &es[i]
			case "KeyValue":
				value = &es[i]
			default:
				f.errorAt(es[i].keyN, "unknown key %q in AlertContext (want KeyName and KeyValue)", es[i].key)
			}
		}
		if name == nil || value == nil {
			f.errorAt(item, "an AlertContext entry needs KeyName and KeyValue")
			continue
		}
		s, ok := f.str("KeyName", name.value)
		if !ok {
			continue
		}
		if s == "" {
			f.errorAt(name.value, "KeyName is empty")
			continue
		}
		if _, ok := f.mapping(value.value); !ok {
			f.errorAt(value.value, "KeyValue must be a key specifier such as {KeyPath: a.b}")
			continue
		}
		out = append(out, entry{key: s, keyN: name.value, value: value.value})
	}
	return out
}

// dynamicSeverities reads a list of {ChangeTo, Condition} or
// {ChangeTo, Conditions}.
func dynamicSeverities(f *yamlFile, n ast.Node) []severitySpec {
	seq, ok := f.sequence(n)
	if !ok {
		r, _ := f.resolve(n)
		f.errorAt(n, "DynamicSeverities must be a list of {ChangeTo, Condition}, not %s", f.describe(r))
		return nil
	}
	var out []severitySpec
	for _, item := range seq.Values {
		m, ok := f.mapping(item)
		if !ok {
			f.errorAt(item, "a DynamicSeverities entry must be a mapping {ChangeTo, Condition}")
			continue
		}
		var s severitySpec
		hasTo, good := false, true
		es := f.entries(m)
		for i := range es {
			e := &es[i]
			switch e.key {
			case "ChangeTo":
				hasTo = true
				s.changeTo, ok = severity(f, "ChangeTo", e.value)
				good = good && ok
			case "Condition":
				s.condition = e
			case "Conditions":
				s.conditions = e
			default:
				f.errorAt(e.keyN, "unknown key %q in DynamicSeverities (want ChangeTo and Condition or Conditions)", e.key)
				good = false
			}
		}
		switch {
		case !hasTo:
			f.errorAt(item, "a DynamicSeverities entry needs ChangeTo")
		case s.condition != nil && s.conditions != nil:
			f.errorAt(s.conditions.keyN, "a DynamicSeverities entry has Condition or Conditions, not both")
		case s.condition == nil && s.conditions == nil:
			f.errorAt(item, "a DynamicSeverities entry needs a Condition (an expression) or Conditions (match expressions)")
		case good:
			out = append(out, s)
		}
	}
	return out
}

// tests reads the unit tests of a rule.
func tests(f *yamlFile, n ast.Node) []Test {
	seq, ok := f.sequence(n)
	if !ok {
		r, _ := f.resolve(n)
		f.errorAt(n, "Tests must be a list of tests, not %s", f.describe(r))
		return nil
	}
	var out []Test
	names := map[string]int{}
	for _, item := range seq.Values {
		m, ok := f.mapping(item)
		if !ok {
			r, _ := f.resolve(item)
			f.errorAt(item, "a test must be a mapping, not %s", f.describe(r))
			continue
		}
		var t Test
		t.Line, _ = f.pos(item)
		good := true
		seen := map[string]bool{}
		for _, e := range f.entries(m) {
			seen[e.key] = true
			ok := true
			switch e.key {
			case "Name":
				if t.Name, ok = f.str(e.key, e.value); ok {
					line, _ := f.pos(e.value)
					if first, dup := names[t.Name]; dup {
						f.errorAt(e.value, "test name %q is already used on line %d", t.Name, first)
						ok = false
					} else {
						names[t.Name] = line
					}
				}
			case "ExpectedResult":
				t.ExpectedResult, ok = f.boolean(e.key, e.value)
			case "ExpectedTitle":
				var s string
				if s, ok = f.str(e.key, e.value); ok {
					t.ExpectedTitle = &s
				}
			case "ExpectedDedup":
				var s string
				if s, ok = f.str(e.key, e.value); ok {
					t.ExpectedDedup = &s
				}
			case "ExpectedSeverity":
				var sev Severity
				if sev, ok = severity(f, e.key, e.value); ok {
					t.ExpectedSeverity = &sev
				}
			case "ExpectedOutputs":
				t.ExpectedOutputs, ok = object(f, e.key, e.value)
			case "Log":
				if _, isMap := f.mapping(e.value); !isMap {
					r, _ := f.resolve(e.value)
					f.errorAt(e.value, "Log must be a mapping, one event, not %s", f.describe(r))
					ok = false
					break
				}
				var data []byte
				if data, ok = f.json(e.value); ok {
					t.Log = data
				}
			case "Mocks":
				// Mocks replace Python functions; with expressions there
				// is nothing to replace.
				if _, isSeq := f.sequence(e.value); !isSeq {
					f.errorAt(e.value, "Mocks must be a list")
					ok = false
				}
			case "LogType":
				_, ok = f.str(e.key, e.value)
			default:
				f.errorAt(e.keyN, "unknown key %q in a test%s", e.key, suggest(e.key, testKeys))
				ok = false
			}
			good = good && ok
		}
		for _, k := range []string{"Name", "ExpectedResult", "Log"} {
			if !seen[k] {
				f.errorAt(item, "a test needs %s", k)
				good = false
			}
		}
		if good {
			out = append(out, t)
		}
	}
	return out
}

// object reads a mapping as a JSON object would decode, numbers included.
func object(f *yamlFile, key string, n ast.Node) (map[string]any, bool) {
	if _, ok := f.mapping(n); !ok {
		r, _ := f.resolve(n)
		f.errorAt(n, "%s must be a mapping, not %s", key, f.describe(r))
		return nil, false
	}
	data, ok := f.json(n)
	if !ok {
		return nil, false
	}
	m, err := decodeObject(data)
	if err != nil {
		f.errorAt(n, "%s: %v", key, err)
		return nil, false
	}
	return m, true
}

// decodeGlobal reads a file of shared definitions.
func decodeGlobal(f *yamlFile, es []entry) *globalSpec {
	g := &globalSpec{}
	var defs *entry
	python := false
	for i := range es {
		e := &es[i]
		switch e.key {
		case "AnalysisType":
		case "GlobalID":
			if id, ok := f.str(e.key, e.value); ok {
				g.id, g.idNode = id, e.value
				if strings.TrimSpace(id) == "" {
					f.errorAt(e.value, "GlobalID is empty")
				}
			}
		case "Description":
			f.str(e.key, e.value)
		case "Tags":
			f.strings(e.key, e.value)
		case "Definitions":
			defs = e
		case "Filename":
			python = true
			f.errorAt(e.keyN, "%s", pythonMessage("globals"))
		default:
			f.errorAt(e.keyN, "unknown key %q in a global%s", e.key, suggest(e.key, globalKeys))
		}
	}
	if g.id == "" {
		if _, found := findEntry(es, "GlobalID"); !found {
			f.errorAt(es[0].keyN, "missing required key GlobalID")
		}
	}
	if defs == nil {
		if !python {
			f.errorAt(es[0].keyN, "missing Definitions, the named expressions the global shares")
		}
		return g
	}
	m, ok := f.mapping(defs.value)
	if !ok {
		r, _ := f.resolve(defs.value)
		f.errorAt(defs.value, "Definitions must be a mapping of name to expression, not %s", f.describe(r))
		return g
	}
	for _, e := range f.entries(m) {
		switch {
		case !identifier.MatchString(e.key) || exprKeywords[e.key]:
			f.errorAt(e.keyN, "definition name %q is not a valid name (letters, digits and _, not starting with a digit)", e.key)
			continue
		case isBuiltin(e.key):
			f.errorAt(e.keyN, "definition name %q is a built-in function", e.key)
			continue
		}
		src, ok := f.expression("definition "+e.key, e.value)
		if !ok {
			continue
		}
		g.defs = append(g.defs, definition{name: e.key, source: src, key: e.keyN, value: e.value})
	}
	return g
}

func isBuiltin(name string) bool {
	_, ok := builtin.Index[name]
	return ok || strings.HasPrefix(name, "__") || isLibraryFunction(name)
}

func findEntry(es []entry, key string) (entry, bool) {
	for _, e := range es {
		if e.key == key {
			return e, true
		}
	}
	return entry{}, false
}

// define adds the definitions of a global file to the load's functions.
func (st *loadState) define(pf *parsedFile) {
	f := pf.f
	if id := pf.global.id; id != "" {
		line, _ := f.pos(pf.global.idNode)
		if first, dup := st.globalIDs[id]; dup {
			if st.globalDefs[id] != pf.global.signature() {
				f.errorAt(pf.global.idNode, "GlobalID %s is already used at %s, with other definitions", id, first)
			}
		} else {
			st.globalIDs[id] = fmt.Sprintf("%s:%d", f.name, line)
			st.globalDefs[id] = pf.global.signature()
		}
	}
	for _, d := range pf.global.defs {
		line, _ := f.pos(d.key)
		where := fmt.Sprintf("%s:%d", f.name, line)
		if first, dup := st.defined[d.name]; dup {
			if existing, _ := st.funcs.definition(d.name); existing != d.source {
				f.errorAt(d.key, "definition %s is already defined at %s, with another expression", d.name, first)
			}
			continue
		}
		if _, err := exprparser.Parse(d.source); err != nil {
			e := newExprError(err, d.source)
			st.exprProblem(f, "", exprRef{part: "definition " + d.name, source: d.source, node: d.value, value: d.source, at: d.value}, e.Line, e.Column, e.Msg, err)
			continue
		}
		if existing, ok := st.funcs.definition(d.name); ok && existing == d.source {
			// Loading the same definitions again into the same set.
			st.defined[d.name] = where
			continue
		}
		if err := st.funcs.Define(d.name, d.source); err != nil {
			f.errorAt(d.key, "definition %s: %v", d.name, strings.TrimPrefix(err.Error(), "detect: "))
			continue
		}
		st.defined[d.name] = where
	}
}

// checkDefinitions compiles each definition on its own, once all are
// known, so that a mistake in one is reported where it is written rather
// than in every rule that uses it.
func (st *loadState) checkDefinitions(pf *parsedFile) {
	for _, d := range pf.global.defs {
		if src, ok := st.funcs.definition(d.name); !ok || src != d.source {
			continue
		}
		if _, e := compileCached(d.source, kindValue, st.funcs, st.limits); e != nil {
			st.exprProblem(pf.f, "", exprRef{part: "definition " + d.name, source: d.source, node: d.value, value: d.source, at: d.value}, e.Line, e.Column, e.Msg, e.Err)
		}
	}
}

// build translates what needs the definitions, compiles every expression
// of the rule, and returns the compiled rule, or nil after reporting its
// problems.
func (st *loadState) build(pf *parsedFile) *Rule {
	f, spec := pf.f, pf.rule
	r := spec.rule
	if r.ID != "" {
		line, _ := f.pos(spec.idNode)
		if first, dup := st.ruleIDs[r.ID]; dup {
			f.errorAt(spec.idNode, "rule ID %s is already used at %s", r.ID, first)
		} else {
			st.ruleIDs[r.ID] = fmt.Sprintf("%s:%d", f.name, line)
		}
	}
	tr := &matchTranslator{f: f, funcs: st.funcs}
	st.buildCondition(spec, tr)
	for i, g := range spec.groupBy {
		part := groupByPart(i, len(spec.groupBy))
		if g.spec {
			m, _ := f.mapping(g.node)
			if src, ok := tr.keySpec(m, ""); ok {
				r.GroupBy = append(r.GroupBy, src)
				spec.exprs = append(spec.exprs, exprRef{part: part, kind: kindValue, source: src, at: g.node, origin: "GroupBy"})
			}
			continue
		}
		if src, ok := f.expression("GroupBy", g.node); ok {
			r.GroupBy = append(r.GroupBy, src)
			spec.exprs = append(spec.exprs, exprRef{part: part, kind: kindValue, source: src, node: g.node, value: src, at: g.node})
		}
	}
	for _, c := range spec.context {
		if first, dup := spec.outputs[c.key]; dup {
			line, _ := f.pos(first)
			f.errorAt(c.keyN, "output %s is already defined on line %d", c.key, line)
			continue
		}
		spec.outputs[c.key] = c.keyN
		m, _ := f.mapping(c.value)
		if src, ok := tr.keySpec(m, ""); ok {
			r.Fields = append(r.Fields, Field{Name: c.key, Expr: src})
			spec.exprs = append(spec.exprs, exprRef{part: "output " + c.key, kind: kindValue, source: src, at: c.value, origin: "AlertContext"})
		}
	}
	for _, s := range spec.severities {
		part := fmt.Sprintf("dynamic severity %d", len(r.DynamicSeverities)+1)
		ref := exprRef{part: part, kind: kindBool}
		if s.condition != nil {
			src, ok := f.expression("Condition", s.condition.value)
			if !ok {
				continue
			}
			ref.source, ref.node, ref.value, ref.at = src, s.condition.value, src, s.condition.value
		} else {
			src, ok := tr.list("Conditions", "All", s.conditions.value, "", 0)
			if !ok {
				continue
			}
			ref.source, ref.at, ref.origin = src, s.conditions.keyN, "Conditions"
		}
		r.DynamicSeverities = append(r.DynamicSeverities, DynamicSeverity{ChangeTo: s.changeTo, Condition: ref.source})
		spec.exprs = append(spec.exprs, ref)
	}
	for _, ref := range spec.exprs {
		st.check(f, r, ref)
	}
	if len(f.errs) > 0 {
		return nil
	}
	if _, err := Compile(r, WithFunctions(st.funcs), WithLimits(st.limits)); err != nil {
		// Every expression compiled on its own; what is left is a
		// setting the checks above do not know of.
		f.errorAt(spec.idNode, "%s", strings.TrimPrefix(err.Error(), "detect: "))
		return nil
	}
	return r
}

// buildCondition sets the rule's condition from Condition or Detection,
// and InlineFilters, which must hold too.
func (st *loadState) buildCondition(spec *ruleSpec, tr *matchTranslator) {
	r := spec.rule
	var ref exprRef
	switch {
	case spec.condition != nil && spec.detection == nil:
		if r.Condition == "" {
			return
		}
		ref = exprRef{source: r.Condition, node: spec.condition.value, value: r.Condition, at: spec.condition.value}
	case spec.detection != nil && spec.condition == nil:
		src, ok := tr.list("Detection", "All", spec.detection.value, "", 0)
		if !ok {
			return
		}
		ref = exprRef{source: src, at: spec.detection.keyN, origin: "Detection"}
	default:
		return
	}
	if spec.inline != nil {
		filters, ok := tr.list("InlineFilters", "All", spec.inline.value, "", 0)
		if !ok {
			return
		}
		prefix := "(" + filters + ") && ("
		if ref.node == nil {
			ref = exprRef{source: prefix + ref.source + ")", at: spec.inline.keyN, origin: "InlineFilters and Detection"}
		} else {
			ref.source = prefix + ref.source + ")"
			ref.offset = len(prefix)
			ref.at = spec.inline.keyN
			ref.origin = "InlineFilters and Condition"
		}
	}
	ref.part, ref.kind = "condition", kindBool
	r.Condition = ref.source
	spec.exprs = append([]exprRef{ref}, spec.exprs...)
}

// check compiles one expression of a rule and reports its problems.
func (st *loadState) check(f *yamlFile, r *Rule, ref exprRef) {
	var err error
	if ref.template {
		_, err = r.compileTemplate(ref.part, ref.source, st.funcs, st.limits)
	} else {
		_, err = r.compileExpr(ref.part, ref.source, ref.kind, st.funcs, st.limits)
	}
	ce, ok := err.(*CompileError)
	if !ok {
		return
	}
	st.exprProblem(f, r.ID, ref, ce.Line, ce.Column, ce.Msg, ce)
}

// exprProblem reports a compile error at line:col of ref's source, at its
// place in the file when the error lies in the written part.
func (st *loadState) exprProblem(f *yamlFile, ruleID string, ref exprRef, line, col int, msg string, err error) {
	fe := &FileError{File: f.name, RuleID: ruleID, Msg: ref.part + ": " + msg, Err: err}
	off := -1
	if line > 0 {
		off = offsetOf(ref.source, line, col)
	}
	if ref.node != nil && off >= ref.offset && off <= ref.offset+len(ref.value) {
		fe.Line, fe.Column = f.valuePos(ref.node, ref.value, off-ref.offset)
	} else {
		fe.Line, fe.Column = f.pos(ref.at)
		if ref.origin != "" {
			fe.Msg += fmt.Sprintf(" (in the expression made from %s: %s)", ref.origin, ref.source)
		}
	}
	if ce, ok := err.(*CompileError); ok {
		ce.File, ce.FileLine, ce.FileColumn = fe.File, fe.Line, fe.Column
	}
	f.errs = append(f.errs, fe)
}
