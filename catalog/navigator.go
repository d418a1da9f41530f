package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// navigatorLayer is an ATT&CK Navigator layer, format 4.5.
type navigatorLayer struct {
	Name        string              `json:"name"`
	Versions    map[string]string   `json:"versions"`
	Domain      string              `json:"domain"`
	Description string              `json:"description"`
	Techniques  []navigatorTech     `json:"techniques"`
	Gradient    navigatorGradient   `json:"gradient"`
	Legend      []map[string]string `json:"legendItems"`
	Metadata    []map[string]string `json:"metadata"`
}

type navigatorTech struct {
	TechniqueID string `json:"techniqueID"`
	Tactic      string `json:"tactic,omitempty"`
	Score       int    `json:"score"`
	Comment     string `json:"comment"`
	Enabled     bool   `json:"enabled"`
}

type navigatorGradient struct {
	Colors   []string `json:"colors"`
	MinValue int      `json:"minValue"`
	MaxValue int      `json:"maxValue"`
}

// WriteNavigator writes an ATT&CK Navigator layer (layer format 4.5) that
// scores each technique by the number of enabled rules covering it, per
// tactic when the tactic is known, with the rules' IDs as its comment.
func (c *Catalog) WriteNavigator(w io.Writer, name string) error {
	type key struct{ technique, tactic string }
	rules := map[key][]string{}
	for _, e := range c.Rules {
		if !e.Enabled {
			continue
		}
		for _, m := range e.Mitre {
			if m.Technique == "" {
				continue
			}
			shortName := ""
			if t, ok := c.Attack.Tactic(m.Tactic); ok {
				shortName = t.ShortName
			}
			k := key{m.Technique, shortName}
			if ids := rules[k]; len(ids) == 0 || ids[len(ids)-1] != e.ID {
				rules[k] = append(ids, e.ID)
			}
		}
	}
	layer := navigatorLayer{
		Name:        name,
		Versions:    map[string]string{"layer": "4.5", "navigator": "5.1.0", "attack": "18"},
		Domain:      "enterprise-attack",
		Description: fmt.Sprintf("Techniques covered by %d enabled rules, scored by their number of rules.", c.enabled()),
		Techniques:  []navigatorTech{},
		Gradient:    navigatorGradient{Colors: []string{"#ffffff", "#66b1ff"}, MinValue: 0, MaxValue: 1},
		Legend:      []map[string]string{},
		Metadata:    []map[string]string{},
	}
	for k, ids := range rules {
		layer.Techniques = append(layer.Techniques, navigatorTech{
			TechniqueID: k.technique, Tactic: k.tactic, Score: len(ids),
			Comment: strings.Join(ids, ", "), Enabled: true,
		})
		layer.Gradient.MaxValue = max(layer.Gradient.MaxValue, len(ids))
	}
	sort.Slice(layer.Techniques, func(i, j int) bool {
		a, b := layer.Techniques[i], layer.Techniques[j]
		if a.TechniqueID != b.TechniqueID {
			return a.TechniqueID < b.TechniqueID
		}
		return a.Tactic < b.Tactic
	})
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(layer); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	return nil
}

func (c *Catalog) enabled() int {
	n := 0
	for _, e := range c.Rules {
		if e.Enabled {
			n++
		}
	}
	return n
}
