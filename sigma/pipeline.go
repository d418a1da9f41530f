package sigma

import (
	"embed"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
)

// A Pipeline maps Sigma log sources to detect log types and to the
// conditions that select their events, and Sigma field names to event
// paths. The built-in ones (Pipelines) are used by default; a file in the
// same format (docs/sigma.md) adds or overrides log sources.
type Pipeline struct {
	Name string `yaml:"name"`
	// LogTypes are the log types of the rules whose log source the
	// pipeline maps, unless a log source names its own.
	LogTypes []string `yaml:"logtypes"`
	Fields   struct {
		// Default are the paths a field that Mappings does not list is
		// read from, in order ({field} stands for its name); empty means
		// the field name as a dotted path.
		Default []string `yaml:"default"`
		// Mappings maps a Sigma field name to a dotted event path.
		Mappings map[string]string `yaml:"mappings"`
	} `yaml:"fields"`
	LogSources []LogSource `yaml:"logsources"`
	// Placeholders are the values of the expand modifier's %name%
	// placeholders.
	Placeholders map[string][]string `yaml:"placeholders"`
}

// LogSource is one way to select the events of a Sigma log source. The
// product, category and service it names must equal the rule's; a rule
// whose log source several match is tried with each.
type LogSource struct {
	Product  string   `yaml:"product"`
	Category string   `yaml:"category"`
	Service  string   `yaml:"service"`
	LogTypes []string `yaml:"logtypes"`
	// Conditions select the source's events, as a Sigma selection: every
	// field must match one of its values.
	Conditions yaml.MapSlice `yaml:"conditions"`
	// Fields renames Sigma fields for this source before the pipeline's
	// mappings apply (Image is NewProcessName in Security 4688 events).
	Fields map[string]string `yaml:"fields"`
}

//go:embed pipelines/*.yml
var builtin embed.FS

// Builtin returns the built-in pipelines, which Load uses unless told
// otherwise: Windows event logs in the JSON shape of Windows event log
// records (Event.System, Event.EventData).
func Builtin() []*Pipeline {
	builtinOnce.Do(func() { builtinPipelines = readBuiltin() })
	return builtinPipelines
}

var (
	builtinOnce      sync.Once
	builtinPipelines []*Pipeline
)

func readBuiltin() []*Pipeline {
	entries, err := builtin.ReadDir("pipelines")
	if err != nil {
		panic(err)
	}
	var out []*Pipeline
	for _, e := range entries {
		data, err := builtin.ReadFile("pipelines/" + e.Name())
		if err != nil {
			panic(err)
		}
		p, err := ParsePipeline(data)
		if err != nil {
			panic(fmt.Sprintf("sigma: built-in pipeline %s: %v", e.Name(), err))
		}
		out = append(out, p)
	}
	return out
}

// ParsePipeline reads a pipeline file.
func ParsePipeline(data []byte) (*Pipeline, error) {
	var p Pipeline
	if err := yaml.UnmarshalWithOptions(data, &p, yaml.Strict(), yaml.UseOrderedMap()); err != nil {
		return nil, fmt.Errorf("sigma: pipeline: %w", err)
	}
	for i, ls := range p.LogSources {
		if ls.Product == "" && ls.Category == "" && ls.Service == "" {
			return nil, fmt.Errorf("sigma: pipeline %s: log source %d names no product, category or service", p.Name, i+1)
		}
	}
	return &p, nil
}

// LoadPipeline reads a pipeline file from disk.
func LoadPipeline(path string) (*Pipeline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sigma: %w", err)
	}
	p, err := ParsePipeline(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// variant is one way to read a rule's events: the log types, the
// selection of the source's events and how fields are read.
type variant struct {
	logTypes   []string
	conditions yaml.MapSlice
	rename     map[string]string
	pipeline   *Pipeline
	// guard, when set, is the log type an event's p_log_type must name.
	guard string
}

// variants returns the ways the pipelines read a rule's log source; none
// when no pipeline maps it. Later pipelines come first, so that a user's
// pipeline overrides the built-in ones for the sources it maps.
func variants(pipelines []*Pipeline, ls ruleLogSource) []variant {
	for i := len(pipelines) - 1; i >= 0; i-- {
		p := pipelines[i]
		var out []variant
		for _, s := range p.LogSources {
			if !attrMatches(s.Product, ls.Product) || !attrMatches(s.Category, ls.Category) || !attrMatches(s.Service, ls.Service) {
				continue
			}
			lt := s.LogTypes
			if len(lt) == 0 {
				lt = p.LogTypes
			}
			out = append(out, variant{logTypes: lt, conditions: s.Conditions, rename: s.Fields, pipeline: p})
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

// attrMatches tells whether a pipeline's log source attribute selects the
// rule's: unset selects any; set, the rule must have the same.
func attrMatches(pipeline, rule string) bool {
	return pipeline == "" || strings.EqualFold(pipeline, rule)
}

// fieldExpr returns the expression that reads a Sigma field in a variant.
func (v variant) fieldExpr(name string) string {
	if to, ok := v.rename[name]; ok {
		name = to
	}
	if p := v.pipeline; p != nil {
		if path, ok := p.Fields.Mappings[name]; ok {
			return pathExpr(path)
		}
		if len(p.Fields.Default) > 0 {
			return defaultExpr(p.Fields.Default, name)
		}
	}
	return pathExpr(name)
}

// pathExpr reads a dotted path from the event, each step a key.
func pathExpr(path string) string {
	var b strings.Builder
	b.WriteString("$env")
	for _, k := range strings.Split(path, ".") {
		b.WriteString("[" + strconv.Quote(k) + "]")
	}
	return b.String()
}

// defaultExpr reads a field through the pipeline's default paths: the
// first path directly, as any field is read, then, if it finds nothing,
// every path with sigma_lookup, which also matches keys that differ in
// spaces and letter case (the data field "Source Name" is Sigma's
// SourceName) and steps through any child object where a path says *.
func defaultExpr(templates []string, name string) string {
	paths := templates
	first := strings.ReplaceAll(templates[0], "{field}", name)
	direct := ""
	if !strings.Contains(first, "*") {
		direct = pathExpr(first)
	}
	// Paths that share their first step are looked up under it, so that
	// the rule reads that field of the event only.
	root, rest := "$env", paths
	if head, _, ok := strings.Cut(paths[0], "."); ok && head != "*" {
		shared := true
		for _, p := range paths {
			if !strings.HasPrefix(p, head+".") {
				shared = false
			}
		}
		if shared {
			root = pathExpr(head)
			rest = make([]string, len(paths))
			for i, p := range paths {
				rest[i] = strings.TrimPrefix(p, head+".")
			}
		}
	}
	lookup := "sigma_lookup(" + root + ", " + strconv.Quote(strings.Join(rest, "|")) + ", " + strconv.Quote(name) + ")"
	if direct == "" {
		return lookup
	}
	return "(" + direct + " ?? " + lookup + ")"
}
