// Package rules holds detect's ready-made detection rules.
//
// The rules are YAML files in Panther's format (see the wiz directory),
// embedded in the package and loaded when it is initialised. Each rule
// carries its unit tests. Rules shared as package variables, such as
// WizRevokeUserSessions, are compiled and safe for concurrent use; they
// must not be modified.
package rules

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"

	"github.com/detectkit/detect"
)

//go:embed wiz/*.yml
var files embed.FS

// functions holds the definitions of the embedded global files.
var functions = detect.NewFunctions()

// loaded holds every embedded rule, by ID.
var loaded = mustLoad()

// mustLoad loads the embedded rule files. They are part of the program: a
// file that does not load is a programming error, named in the panic.
func mustLoad() map[string]*detect.Rule {
	l := detect.Loader{Functions: functions}
	list, err := l.LoadFS(files, ".")
	if err != nil {
		panic(fmt.Sprintf("rules: the embedded rule files do not load:\n%v", err))
	}
	byID := make(map[string]*detect.Rule, len(list))
	for _, r := range list {
		byID[r.ID] = r
	}
	return byID
}

// mustGet returns the embedded rule with the given ID, for the package's
// exported rule variables. It panics if there is none.
func mustGet(id string) *detect.Rule {
	r, ok := loaded[id]
	if !ok {
		panic(fmt.Sprintf("rules: no embedded rule file has RuleID %s", id))
	}
	return r
}

// WizRevokeUserSessions alerts when a Wiz audit event says that a user's
// sessions were revoked successfully.
var WizRevokeUserSessions = mustGet("Wiz.Revoke.User.Sessions")

// All returns every ready-made rule, ordered by rule ID. The slice is the
// caller's; the rules are shared.
func All() []*detect.Rule {
	out := make([]*detect.Rule, 0, len(loaded))
	for _, r := range loaded {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Get returns the ready-made rule with the given ID.
func Get(id string) (*detect.Rule, bool) {
	r, ok := loaded[id]
	return r, ok
}

// FS returns the embedded rule files, such as wiz/wiz_revoke_user_sessions.yml,
// for tools that read or copy them.
func FS() fs.FS { return files }
