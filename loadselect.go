package detect

import (
	"path"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// This file decides which files of a directory a Loader reads: the
// patterns of Loader.Exclude, and YAML files that are not Panther files
// at all (a docker-compose.yml beside the rules), which are skipped.

// Excluded reports whether the Loader's Exclude patterns leave out the
// file or directory at path, found under the directory root that the
// caller named (root "" for a path named itself): front ends that walk a
// directory beside the Loader apply the same patterns.
func (l *Loader) Excluded(path, root string) bool { return l.excluded(path, root) }

// excluded reports whether the file or directory name, found under root
// (or named by the caller when root is ""), matches one of the Loader's
// Exclude patterns. A pattern matches the base name, the path relative to
// root, or the path as given, all with forward slashes.
func (l *Loader) excluded(name, root string) bool {
	if len(l.Exclude) == 0 {
		return false
	}
	slash := filepath.ToSlash(name)
	cands := []string{path.Base(slash), slash}
	if root != "" {
		if rel, err := filepath.Rel(root, name); err == nil && rel != "." {
			cands = append(cands, filepath.ToSlash(rel))
		}
	}
	for _, p := range l.Exclude {
		p = strings.TrimSuffix(filepath.ToSlash(p), "/")
		for _, c := range cands {
			if ok, _ := path.Match(p, c); ok {
				return true
			}
		}
	}
	return false
}

// pantherKeys are the top-level keys of any kind of Panther analysis file
// (rules, globals, policies, queries, data models, packs, lookup tables).
// A YAML mapping without any of them is not a Panther file.
var pantherKeys = func() map[string]bool {
	m := map[string]bool{}
	lists := [][]string{ruleKeys, extraKeys, globalKeys, {
		"Filename", "PolicyID", "QueryName", "DataModelID", "PackID",
		"LookupName", "Schedule", "Query", "ResourceTypes", "Mappings",
	}}
	for _, list := range lists {
		for _, k := range list {
			m[strings.ToLower(k)] = true
		}
	}
	return m
}()

// strayReason tells why the first document of a file found in a directory
// is not a Panther file, or returns "" when it may be one: a list, or a
// mapping none of whose keys is a Panther key in any letter case.
func strayReason(doc ast.Node) string {
	for {
		switch x := doc.(type) {
		case *ast.TagNode:
			doc = x.Value
			continue
		case *ast.AnchorNode:
			doc = x.Value
			continue
		}
		break
	}
	switch x := doc.(type) {
	case *ast.SequenceNode:
		return "not a rule file: a YAML list"
	case *ast.MappingNode:
		for _, mv := range x.Values {
			if tk := mv.Key.GetToken(); tk != nil && pantherKeys[strings.ToLower(tk.Value)] {
				return ""
			}
			if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
				return ""
			}
		}
		return "not a rule file: no AnalysisType or other Panther key"
	case *ast.MappingValueNode:
		if tk := x.Key.GetToken(); tk != nil && pantherKeys[strings.ToLower(tk.Value)] {
			return ""
		}
		return "not a rule file: no AnalysisType or other Panther key"
	}
	return ""
}

// signature is the global's definitions as one comparable string.
func (g *globalSpec) signature() string {
	var b strings.Builder
	for _, d := range g.defs {
		b.WriteString(d.name)
		b.WriteByte(0)
		b.WriteString(d.source)
		b.WriteByte(0)
	}
	return b.String()
}
