package detect

import (
	"sort"
	"strings"

	"github.com/expr-lang/expr/builtin"
)

// didYouMean returns " (did you mean NAME?)" for an unknown function
// name that is close to one the expression could call (a function of the
// set or the library, a built-in, a definition), in any letter case; ""
// when none is close.
func (rw *rewriter) didYouMean(name string) string {
	var known []string
	for n := range rw.config.Functions {
		if !strings.HasPrefix(n, "__") {
			known = append(known, n)
		}
	}
	for _, n := range builtin.Names {
		if !strings.HasPrefix(n, "$") {
			known = append(known, n)
		}
	}
	if f := rw.funcs; f != nil {
		f.mu.Lock()
		for n := range f.defs {
			known = append(known, n)
		}
		f.mu.Unlock()
	}
	sort.Strings(known)
	return suggest(name, known)
}
