package catalog

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

// Attack holds the tactics and techniques of a MITRE ATT&CK STIX bundle
// (enterprise-attack.json as MITRE publishes it), for their names. It is
// immutable once loaded and safe for concurrent use.
type Attack struct {
	tactics    map[string]*Tactic // by ID, TA0040
	byShort    map[string]*Tactic // by short name, impact
	order      []*Tactic          // in the matrix's order
	techniques map[string]*Technique
}

// Tactic is an ATT&CK tactic.
type Tactic struct {
	ID        string // TA0040
	Name      string // Impact
	ShortName string // impact
}

// Technique is an ATT&CK technique or sub-technique.
type Technique struct {
	ID         string // T1531, T1110.003
	Name       string // Account Access Removal
	Tactics    []string
	Revoked    bool
	Deprecated bool
}

// maxBundleBytes bounds the bundle LoadAttack reads: MITRE's full
// enterprise bundle is about 45 MB.
const maxBundleBytes = 256 << 20

// LoadAttackFile reads an ATT&CK STIX bundle from a file.
func LoadAttackFile(path string) (*Attack, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	defer f.Close()
	a, err := LoadAttack(f)
	if err != nil {
		return nil, fmt.Errorf("catalog: %s: %w", path, err)
	}
	return a, nil
}

type stixObject struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Name       string `json:"name"`
	ShortName  string `json:"x_mitre_shortname"`
	Revoked    bool   `json:"revoked"`
	Deprecated bool   `json:"x_mitre_deprecated"`
	References []struct {
		Source     string `json:"source_name"`
		ExternalID string `json:"external_id"`
	} `json:"external_references"`
	Phases []struct {
		Chain string `json:"kill_chain_name"`
		Phase string `json:"phase_name"`
	} `json:"kill_chain_phases"`
}

// LoadAttack reads an ATT&CK STIX 2 bundle: its tactics
// (x-mitre-tactic), techniques (attack-pattern) and the matrix's order of
// tactics.
func LoadAttack(r io.Reader) (*Attack, error) {
	var bundle struct {
		Type    string `json:"type"`
		Objects []struct {
			stixObject
			TacticRefs []string `json:"tactic_refs"`
		} `json:"objects"`
	}
	dec := json.NewDecoder(io.LimitReader(r, maxBundleBytes))
	if err := dec.Decode(&bundle); err != nil {
		return nil, fmt.Errorf("not a STIX bundle: %w", err)
	}
	if bundle.Type != "bundle" {
		return nil, fmt.Errorf("not a STIX bundle: type %q", bundle.Type)
	}
	a := &Attack{tactics: map[string]*Tactic{}, byShort: map[string]*Tactic{}, techniques: map[string]*Technique{}}
	byStix := map[string]*Tactic{}
	var matrix []string
	for _, o := range bundle.Objects {
		id := mitreID(o.References)
		switch o.Type {
		case "x-mitre-tactic":
			if id == "" {
				continue
			}
			t := &Tactic{ID: id, Name: o.Name, ShortName: o.ShortName}
			a.tactics[id], a.byShort[o.ShortName], byStix[o.ID] = t, t, t
		case "attack-pattern":
			if id == "" {
				continue
			}
			t := &Technique{ID: id, Name: o.Name, Revoked: o.Revoked, Deprecated: o.Deprecated}
			for _, p := range o.Phases {
				if p.Chain == "mitre-attack" {
					t.Tactics = append(t.Tactics, p.Phase)
				}
			}
			// A revoked object may share its ID with the one that
			// replaces it: the current one wins.
			if old, ok := a.techniques[id]; !ok || old.Revoked || old.Deprecated {
				a.techniques[id] = t
			}
		case "x-mitre-matrix":
			if len(matrix) == 0 {
				matrix = o.TacticRefs
			}
		}
	}
	for _, ref := range matrix {
		if t, ok := byStix[ref]; ok {
			a.order = append(a.order, t)
		}
	}
	if len(a.order) != len(a.tactics) {
		// No matrix, or one that leaves tactics out: the rest by ID.
		in := map[*Tactic]bool{}
		for _, t := range a.order {
			in[t] = true
		}
		var rest []*Tactic
		for _, t := range a.tactics {
			if !in[t] {
				rest = append(rest, t)
			}
		}
		sort.Slice(rest, func(i, j int) bool { return rest[i].ID < rest[j].ID })
		a.order = append(a.order, rest...)
	}
	return a, nil
}

func mitreID(refs []struct {
	Source     string `json:"source_name"`
	ExternalID string `json:"external_id"`
}) string {
	for _, r := range refs {
		if r.Source == "mitre-attack" {
			return r.ExternalID
		}
	}
	return ""
}

// Tactic returns the tactic with an ID (TA0040) or short name (impact).
func (a *Attack) Tactic(key string) (*Tactic, bool) {
	if a == nil {
		return nil, false
	}
	if t, ok := a.tactics[strings.ToUpper(key)]; ok {
		return t, true
	}
	t, ok := a.byShort[strings.ToLower(key)]
	return t, ok
}

// Technique returns the technique with an ID (T1531, T1110.003).
func (a *Attack) Technique(id string) (*Technique, bool) {
	if a == nil {
		return nil, false
	}
	t, ok := a.techniques[strings.ToUpper(id)]
	return t, ok
}

// Tactics returns the tactics in the matrix's order.
func (a *Attack) Tactics() []*Tactic {
	if a == nil {
		return nil
	}
	return a.order
}

// Mitre is one ATT&CK entry of a rule: a tactic, a technique, or both.
type Mitre struct {
	Tactic        string `json:"tactic"`
	TacticName    string `json:"tacticName"`
	Technique     string `json:"technique"`
	TechniqueName string `json:"techniqueName"`
	// Revoked and Deprecated flag a technique that ATT&CK no longer
	// keeps; Unknown one that the bundle does not have.
	Revoked    bool `json:"revoked,omitempty"`
	Deprecated bool `json:"deprecated,omitempty"`
	Unknown    bool `json:"unknown,omitempty"`
}

var (
	tacticID    = regexp.MustCompile(`^TA\d{4}$`)
	techniqueID = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
)

// mitreOf returns a rule's ATT&CK entries, from its reports under a key
// naming MITRE ATT&CK ("TA0040:T1531", "T1531", "TA0040") and from Sigma
// tags (attack.impact, attack.t1531, attack.ta0040), in the order written
// and without repeats.
func mitreOf(reports map[string][]string, tags []string, a *Attack) []Mitre {
	var out []Mitre
	seen := map[[2]string]bool{}
	add := func(tactic, technique string) {
		k := [2]string{tactic, technique}
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, a.entry(tactic, technique))
	}
	keys := make([]string, 0, len(reports))
	for k := range reports {
		if strings.Contains(strings.ToLower(k), "mitre") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range reports[k] {
			var tactic, technique string
			for _, part := range strings.Split(v, ":") {
				part = strings.ToUpper(strings.TrimSpace(part))
				switch {
				case tacticID.MatchString(part):
					tactic = part
				case techniqueID.MatchString(part):
					technique = part
				}
			}
			if tactic != "" || technique != "" {
				add(tactic, technique)
			}
		}
	}
	// Sigma tags: tactics and techniques listed apart; a technique goes
	// with those of the rule's tactics it belongs to.
	var tactics, techniques []string
	for _, tag := range tags {
		rest, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(tag)), "attack.")
		if !ok {
			continue
		}
		switch up := strings.ToUpper(rest); {
		case techniqueID.MatchString(up):
			techniques = append(techniques, up)
		case tacticID.MatchString(up):
			tactics = append(tactics, up)
		default:
			if t, ok := a.Tactic(strings.ReplaceAll(rest, "_", "-")); ok {
				tactics = append(tactics, t.ID)
			}
		}
	}
	paired := map[string]bool{}
	for _, tech := range techniques {
		t, known := a.Technique(tech)
		pairedAny := false
		for _, tac := range tactics {
			if known && belongs(a, t, tac) {
				add(tac, tech)
				paired[tac], pairedAny = true, true
			}
		}
		if !pairedAny {
			add("", tech)
		}
	}
	for _, tac := range tactics {
		if !paired[tac] {
			add(tac, "")
		}
	}
	return out
}

func belongs(a *Attack, t *Technique, tacticID string) bool {
	tac, ok := a.Tactic(tacticID)
	if !ok {
		return false
	}
	for _, s := range t.Tactics {
		if s == tac.ShortName {
			return true
		}
	}
	return false
}

// entry names a tactic and technique from the bundle.
func (a *Attack) entry(tactic, technique string) Mitre {
	m := Mitre{Tactic: tactic, Technique: technique}
	if tactic != "" {
		if t, ok := a.Tactic(tactic); ok {
			m.TacticName = t.Name
		} else if a != nil {
			m.Unknown = true
		}
	}
	if technique != "" {
		if t, ok := a.Technique(technique); ok {
			m.TechniqueName, m.Revoked, m.Deprecated = t.Name, t.Revoked, t.Deprecated
		} else if a != nil {
			m.Unknown = true
		}
	}
	return m
}
