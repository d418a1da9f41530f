package sigma

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/detectkit/detect"
)

// Sigma rules carry no unit tests. A rule gets Tests from two places, for
// detect test and Rule.RunTests:
//
//   - its regression data: regression_tests_path names an info.yml of
//     SigmaHQ's regression_data, relative to the repository the rule is
//     in (found by going up from the rule's file); each of its tests of
//     type evtx has its events beside it in a .json file of the same name,
//     one JSON object after another, and expects the rule to match one;
//   - a sidecar file beside the rule, RULE.tests.yml:
//
//	tests:
//	  - name: encoded command
//	    match: true
//	    event: {Event: {System: {EventID: 1}, EventData: {CommandLine: "powershell -enc ..."}}}
//	  - name: a recording
//	    match: true
//	    file: recording.json   # JSON objects one after another; one must match
//
// Regression data that is not there (a copy of the rules without it) gives
// no tests; a sidecar that does not parse is an error of the rule.

// maxTestBytes bounds a file of test events.
const maxTestBytes = 16 << 20

// maxParents bounds how far up from a rule its repository is looked for.
const maxParents = 8

// ruleTests returns the tests of a rule read from source.
func ruleTests(doc *ruleDoc, source string) ([]detect.Test, error) {
	var tests []detect.Test
	if doc.RegressionTestsPath != "" && source != "" {
		tests = append(tests, regressionTests(doc.RegressionTestsPath, source)...)
	}
	side, err := sidecarTests(source)
	if err != nil {
		return nil, err
	}
	return append(tests, side...), nil
}

func regressionTests(rel, source string) []detect.Test {
	dir := filepath.Dir(source)
	var info string
	for i := 0; i < maxParents; i++ {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			info = p
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if info == "" {
		return nil
	}
	data, err := readBounded(info)
	if err != nil {
		return nil
	}
	var ri struct {
		Tests []struct {
			Name string `yaml:"name"`
			Type string `yaml:"type"`
			Path string `yaml:"path"`
		} `yaml:"regression_tests_info"`
	}
	if yaml.Unmarshal(data, &ri) != nil {
		return nil
	}
	var out []detect.Test
	for _, t := range ri.Tests {
		if t.Type != "evtx" {
			continue
		}
		events := filepath.Join(filepath.Dir(info), strings.TrimSuffix(filepath.Base(t.Path), ".evtx")+".json")
		logs, err := readEvents(events)
		if err != nil || len(logs) == 0 {
			continue
		}
		out = append(out, detect.Test{Name: "regression: " + t.Name, ExpectedResult: true, Logs: logs})
	}
	return out
}

// sidecarTests reads RULE.tests.yml beside a rule file, if there is one.
func sidecarTests(source string) ([]detect.Test, error) {
	if source == "" {
		return nil, nil
	}
	base := strings.TrimSuffix(strings.TrimSuffix(source, ".yml"), ".yaml")
	path := base + ".tests.yml"
	data, err := readBounded(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := detect.CheckYAML(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var side struct {
		Tests []struct {
			Name  string `yaml:"name"`
			Match *bool  `yaml:"match"`
			Event any    `yaml:"event"`
			File  string `yaml:"file"`
		} `yaml:"tests"`
	}
	if err := yaml.UnmarshalWithOptions(data, &side, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []detect.Test
	for i, t := range side.Tests {
		if t.Name == "" || t.Match == nil || (t.Event == nil) == (t.File == "") {
			return nil, fmt.Errorf("%s: test %d needs a name, match: true or false, and an event or a file", path, i+1)
		}
		test := detect.Test{Name: t.Name, ExpectedResult: *t.Match}
		if t.Event != nil {
			m, err := toJSONMap(t.Event)
			if err != nil {
				return nil, fmt.Errorf("%s: test %s: %w", path, t.Name, err)
			}
			test.Log = m
		} else {
			logs, err := readEvents(filepath.Join(filepath.Dir(path), t.File))
			if err != nil {
				return nil, fmt.Errorf("%s: test %s: %w", path, t.Name, err)
			}
			test.Logs = logs
		}
		out = append(out, test)
	}
	return out, nil
}

// toJSONMap turns a YAML event into the map its JSON decodes to.
func toJSONMap(v any) (map[string]any, error) {
	b, err := yaml.MarshalWithOptions(v, yaml.JSON())
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("the event is not an object: %w", err)
	}
	return m, nil
}

// readEvents reads JSON objects one after another, as raw JSON.
func readEvents(path string) ([]any, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []any
	for dec.More() {
		var m json.RawMessage
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, []byte(m))
	}
	return out, nil
}

func readBounded(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() || info.Size() > maxTestBytes {
		return nil, fmt.Errorf("%s: not a regular file of at most %d bytes", path, maxTestBytes)
	}
	return os.ReadFile(path)
}
