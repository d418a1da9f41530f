package detect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
)

// The JSON schema of rule files, schema/rule.schema.json, lets editors
// check and complete rule files. These tests keep it in step with the
// loader: the same keys, and every good file valid.

func readSchema(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("schema/rule.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&s); err != nil {
		t.Fatalf("schema/rule.schema.json: %v", err)
	}
	return s
}

// schemaKeys returns the properties of a definition of the schema: those
// it accepts, and those it names only to reject them ("not": {}).
func schemaKeys(t *testing.T, s map[string]any, def string) (accepted, rejected []string) {
	t.Helper()
	d, ok := s["$defs"].(map[string]any)[def].(map[string]any)
	if !ok {
		t.Fatalf("schema has no $defs/%s", def)
	}
	for k, v := range d["properties"].(map[string]any) {
		if _, isNot := v.(map[string]any)["not"]; isNot {
			rejected = append(rejected, k)
		} else {
			accepted = append(accepted, k)
		}
	}
	sort.Strings(accepted)
	sort.Strings(rejected)
	return accepted, rejected
}

func sorted(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	sort.Strings(out)
	return out
}

func TestSchemaKeys(t *testing.T) {
	s := readSchema(t)
	tests := []struct {
		def            string
		accepted, lost []string // lost: keys the loader knows only to explain they are not supported
	}{
		{"rule", sorted(ruleKeys, extraKeys), []string{"BaseDetection", "Filename", "ScheduledQueries"}},
		{"global", sorted(globalKeys), []string{"Filename"}},
		{"test", sorted(testKeys), nil},
		{"matchExpression", sorted(matchKeys[:4], matchKeys[5:]), []string{"Enrichment"}},
	}
	if matchKeys[4] != "Enrichment" {
		t.Fatalf("matchKeys[4] = %s; the test expects Enrichment", matchKeys[4])
	}
	for _, tt := range tests {
		accepted, rejected := schemaKeys(t, s, tt.def)
		if !reflect.DeepEqual(accepted, tt.accepted) {
			t.Errorf("schema $defs/%s properties = %v; the loader accepts %v", tt.def, accepted, tt.accepted)
		}
		if !reflect.DeepEqual(rejected, tt.lost) {
			t.Errorf("schema $defs/%s rejects %v; want %v", tt.def, rejected, tt.lost)
		}
	}
	cond := s["$defs"].(map[string]any)["matchExpression"].(map[string]any)["properties"].(map[string]any)["Condition"].(map[string]any)["enum"].([]any)
	var names []string
	for _, c := range cond {
		names = append(names, c.(string))
	}
	if !reflect.DeepEqual(names, conditionNames()) {
		t.Errorf("schema Condition enum = %v; the loader supports %v", names, conditionNames())
	}
}

// TestSchemaValidatesFiles checks every good rule file against the schema,
// and that the schema rejects bad files it can tell apart.
func TestSchemaValidatesFiles(t *testing.T) {
	v := &schemaValidator{root: readSchema(t)}
	var good []string
	for _, dir := range []string{"testdata/rules/good", "rules"} {
		err := filepath.WalkDir(dir, func(name string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml")) && !strings.Contains(name, ".hidden") {
				good = append(good, name)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(good) < 6 {
		t.Fatalf("found %d good files", len(good))
	}
	for _, name := range good {
		t.Run(filepath.ToSlash(name), func(t *testing.T) {
			if problems := v.validateFile(t, name); len(problems) > 0 {
				t.Errorf("%s does not match the schema:\n%s", name, strings.Join(problems, "\n"))
			}
		})
	}
	for _, name := range []string{"unknown_key", "wrong_type", "missing_required", "missing_condition", "condition_and_detection",
		"invalid_severity", "negative_dedup", "negative_threshold", "python_rule", "python_global", "detection_unknown_condition",
		"detection_enrichment", "tests_invalid", "unsupported_type", "group_by_mapping", "invalid_rule_id", "dynamic_severity", "alert_context"} {
		t.Run("bad/"+name, func(t *testing.T) {
			if problems := v.validateFile(t, "testdata/rules/bad/"+name+".yml"); len(problems) == 0 {
				t.Errorf("bad/%s.yml matches the schema", name)
			}
		})
	}
}

// schemaValidator checks a value against the subset of JSON Schema that
// schema/rule.schema.json uses; a keyword it does not know fails the test,
// so that the schema cannot grow checks this test ignores.
type schemaValidator struct {
	root map[string]any
}

func (v *schemaValidator) validateFile(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	// Through JSON, so that values have the types a schema speaks of.
	j, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	problems, err := v.validate(v.root, doc, "")
	if err != nil {
		t.Fatal(err)
	}
	return problems
}

func (v *schemaValidator) validate(schema, x any, at string) ([]string, error) {
	s, ok := schema.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: schema %v is not an object", at, schema)
	}
	var problems []string
	fail := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s: %s", at, fmt.Sprintf(format, args...)))
	}
	sub := func(schema, x any, at string) ([]string, error) { return v.validate(schema, x, at) }
	for key, arg := range s {
		switch key {
		case "$schema", "$id", "$defs", "title", "description":
		case "$ref":
			name, _ := strings.CutPrefix(arg.(string), "#/$defs/")
			target, ok := v.root["$defs"].(map[string]any)[name]
			if !ok {
				return nil, fmt.Errorf("%s: unknown $ref %v", at, arg)
			}
			p, err := sub(target, x, at)
			if err != nil {
				return nil, err
			}
			problems = append(problems, p...)
		case "type":
			types, ok := arg.([]any)
			if !ok {
				types = []any{arg}
			}
			match := false
			for _, typ := range types {
				match = match || hasType(x, typ.(string))
			}
			if !match {
				fail("%v is not of type %v", x, arg)
			}
		case "enum":
			found := false
			for _, e := range arg.([]any) {
				found = found || reflect.DeepEqual(e, x)
			}
			if !found {
				fail("%v is not one of %v", x, arg)
			}
		case "const":
			if !reflect.DeepEqual(arg, x) {
				fail("%v is not %v", x, arg)
			}
		case "properties", "additionalProperties", "propertyNames", "required":
			m, ok := x.(map[string]any)
			if !ok {
				continue
			}
			props, _ := s["properties"].(map[string]any)
			switch key {
			case "properties":
				for k, ps := range props {
					if val, ok := m[k]; ok {
						p, err := sub(ps, val, at+"/"+k)
						if err != nil {
							return nil, err
						}
						problems = append(problems, p...)
					}
				}
			case "additionalProperties":
				for k, val := range m {
					if _, known := props[k]; known {
						continue
					}
					if b, isBool := arg.(bool); isBool {
						if !b {
							fail("unknown key %s", k)
						}
						continue
					}
					p, err := sub(arg, val, at+"/"+k)
					if err != nil {
						return nil, err
					}
					problems = append(problems, p...)
				}
			case "propertyNames":
				for k := range m {
					p, err := sub(arg, k, at+"/"+k)
					if err != nil {
						return nil, err
					}
					problems = append(problems, p...)
				}
			case "required":
				for _, r := range arg.([]any) {
					if _, ok := m[r.(string)]; !ok {
						fail("missing %s", r)
					}
				}
			}
		case "items", "minItems":
			list, ok := x.([]any)
			if !ok {
				continue
			}
			if key == "minItems" {
				if n, _ := arg.(json.Number).Int64(); int64(len(list)) < n {
					fail("fewer than %d items", n)
				}
				continue
			}
			for i, e := range list {
				p, err := sub(arg, e, fmt.Sprintf("%s/%d", at, i))
				if err != nil {
					return nil, err
				}
				problems = append(problems, p...)
			}
		case "minLength", "pattern":
			str, ok := x.(string)
			if !ok {
				continue
			}
			if key == "minLength" {
				if n, _ := arg.(json.Number).Int64(); int64(utf8.RuneCountInString(str)) < n {
					fail("%q is shorter than %d", str, n)
				}
				continue
			}
			if !regexp.MustCompile(arg.(string)).MatchString(str) {
				fail("%q does not match %s", str, arg)
			}
		case "minimum":
			n, ok := x.(json.Number)
			if !ok {
				continue
			}
			a, _ := n.Float64()
			b, _ := arg.(json.Number).Float64()
			if a < b {
				fail("%v is less than %v", n, arg)
			}
		case "anyOf", "oneOf", "allOf":
			valid := 0
			var all []string
			for _, alt := range arg.([]any) {
				p, err := sub(alt, x, at)
				if err != nil {
					return nil, err
				}
				if len(p) == 0 {
					valid++
				}
				all = append(all, p...)
			}
			switch {
			case key == "anyOf" && valid == 0, key == "allOf" && valid < len(arg.([]any)):
				problems = append(problems, all...)
			case key == "oneOf" && valid != 1:
				fail("matches %d of the oneOf schemas, not exactly one", valid)
			}
		case "not":
			p, err := sub(arg, x, at)
			if err != nil {
				return nil, err
			}
			if len(p) == 0 {
				fail("%v is not allowed", x)
			}
		case "if":
			p, err := sub(arg, x, at)
			if err != nil {
				return nil, err
			}
			branch := "then"
			if len(p) > 0 {
				branch = "else"
			}
			if next, ok := s[branch]; ok {
				p, err := sub(next, x, at)
				if err != nil {
					return nil, err
				}
				problems = append(problems, p...)
			}
		case "then", "else":
		default:
			return nil, fmt.Errorf("%s: the test's validator does not know the keyword %s", at, key)
		}
	}
	return problems, nil
}

func hasType(x any, typ string) bool {
	switch typ {
	case "object":
		_, ok := x.(map[string]any)
		return ok
	case "array":
		_, ok := x.([]any)
		return ok
	case "string":
		_, ok := x.(string)
		return ok
	case "boolean":
		_, ok := x.(bool)
		return ok
	case "null":
		return x == nil
	case "number":
		_, ok := x.(json.Number)
		return ok
	case "integer":
		n, ok := x.(json.Number)
		return ok && !strings.ContainsAny(n.String(), ".eE")
	}
	return false
}
