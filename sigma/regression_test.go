package sigma_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/detectkit/detect"
	"github.com/detectkit/detect/sigma"
)

// sigmaHQ is SigmaHQ's repository beside the project, when it is there.
const sigmaHQ = "../../shared/sigma/sigmahq"

// loadSigmaHQ loads SigmaHQ's rules by id, or skips.
func loadSigmaHQ(t *testing.T) map[string]*detect.Rule {
	t.Helper()
	if _, err := os.Stat(sigmaHQ); err != nil {
		t.Skip("no SigmaHQ rules beside the project")
	}
	byID := map[string]*detect.Rule{}
	for _, dir := range []string{"rules", "rules-emerging-threats", "rules-threat-hunting"} {
		rules, _ := sigma.Load(sigma.Options{}, filepath.Join(sigmaHQ, dir))
		for _, r := range rules {
			byID[r.ID] = r
		}
	}
	return byID
}

type regressionInfo struct {
	RuleMetadata []struct {
		ID    string `yaml:"id"`
		Title string `yaml:"title"`
	} `yaml:"rule_metadata"`
	Tests []struct {
		Name string `yaml:"name"`
		Type string `yaml:"type"`
		Path string `yaml:"path"`
	} `yaml:"regression_tests_info"`
}

// TestRegressionData runs SigmaHQ's regression data: each event must match
// the rule it was recorded for, with the built-in pipeline.
func TestRegressionData(t *testing.T) {
	byID := loadSigmaHQ(t)
	infos, _ := filepath.Glob(filepath.Join(sigmaHQ, "regression_data", "*", "*", "*", "*", "info.yml"))
	more, _ := filepath.Glob(filepath.Join(sigmaHQ, "regression_data", "*", "*", "*", "*", "*", "info.yml"))
	infos = append(infos, more...)
	more, _ = filepath.Glob(filepath.Join(sigmaHQ, "regression_data", "*", "*", "*", "info.yml"))
	infos = append(infos, more...)
	pairs := 0
	for _, info := range infos {
		data, err := os.ReadFile(info)
		if err != nil {
			t.Fatal(err)
		}
		var ri regressionInfo
		if err := yaml.Unmarshal(data, &ri); err != nil {
			t.Errorf("%s: %v", info, err)
			continue
		}
		for _, meta := range ri.RuleMetadata {
			for _, tc := range ri.Tests {
				if tc.Type != "evtx" {
					continue
				}
				event := filepath.Join(filepath.Dir(info), strings.TrimSuffix(filepath.Base(tc.Path), ".evtx")+".json")
				raw, err := os.ReadFile(event)
				if err != nil {
					t.Errorf("%s: %v", info, err)
					continue
				}
				pairs++
				r, ok := byID[meta.ID]
				if !ok {
					t.Errorf("%s (%s): the rule did not load", meta.ID, meta.Title)
					continue
				}
				// A file holds one event, or several one after the other;
				// the rule must match one of them.
				events, err := splitEvents(raw)
				if err != nil {
					t.Errorf("%s: %v", event, err)
					continue
				}
				matched := false
				for _, ev := range events {
					got, err := r.Evaluate(ev)
					if err != nil {
						t.Errorf("%s (%s): Evaluate(%s): %v", meta.ID, meta.Title, filepath.Base(event), err)
					}
					matched = matched || got
				}
				if !matched {
					t.Errorf("%s (%s): no event of %s matches", meta.ID, meta.Title, filepath.Base(event))
				}
			}
		}
	}
	if pairs < 200 {
		t.Errorf("ran %d regression pairs; want the 202 of SigmaHQ", pairs)
	}
	t.Logf("%d regression pairs", pairs)
}

// splitEvents reads the JSON objects of a file, one after the other.
func splitEvents(raw []byte) ([][]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var out [][]byte
	for dec.More() {
		var m json.RawMessage
		if err := dec.Decode(&m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// TestSigmaHQLoads loads every rule of SigmaHQ's rules,
// rules-emerging-threats and rules-threat-hunting: at most 1% may be
// rejected, each for a feature the error names.
func TestSigmaHQLoads(t *testing.T) {
	if _, err := os.Stat(sigmaHQ); err != nil {
		t.Skip("no SigmaHQ rules beside the project")
	}
	total, loaded := 0, 0
	reasons := map[string]int{}
	for _, dir := range []string{"rules", "rules-emerging-threats", "rules-threat-hunting"} {
		err := filepath.WalkDir(filepath.Join(sigmaHQ, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") {
				return err
			}
			total++
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rs, err := sigma.Parse(data, path, sigma.Options{})
			var u *sigma.UnsupportedError
			switch {
			case err == nil && len(rs) > 0:
				loaded++
			case errors.As(err, &u):
				reasons[u.Feature]++
			default:
				t.Errorf("%s: %v", path, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	rejected := total - loaded
	t.Logf("%d rule files, %d load, %d rejected: %v", total, loaded, rejected, reasons)
	if total < 3000 || rejected*100 > total {
		t.Errorf("%d of %d rule files rejected; at most 1%% may be", rejected, total)
	}
}
