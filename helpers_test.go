package detect

import (
	"errors"
	"io/fs"
	"testing"
)

func asEvalError(err error, target **EvalError) bool { return errors.As(err, target) }

// loadPassing loads the rule files of fsys with fns and fails the test
// unless it finds rules and every rule test in them passes.
func loadPassing(t *testing.T, fsys fs.FS, fns *Functions) {
	t.Helper()
	l := Loader{Functions: fns}
	rules, err := l.LoadFS(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) == 0 {
		t.Fatal("no rules loaded")
	}
	for _, r := range rules {
		for _, res := range r.RunTests() {
			if !res.Passed {
				t.Error(res)
			}
		}
	}
}
