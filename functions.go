package detect

import (
	"fmt"
	"reflect"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/parser"
)

// Functions is a set of Go functions that rule expressions may call, owned
// by the service that registers them, so that two engines in one process can
// offer different functions. Register every function before the first rule
// that uses the set is compiled; after that the set must not change.
//
// A Functions value is safe for concurrent use once registration is over.
type Functions struct {
	mu      sync.Mutex
	options []expr.Option
	names   map[string]bool
	defs    map[string]string // named expressions, by name
}

// Define adds a named expression: a rule expression that calls name() is
// compiled as if it contained source in its place. Definitions share logic
// between rules, as Panther's global helpers do, and may use each other.
// Its syntax is checked here; its names and types are checked with each
// rule that uses it, where a definition that uses itself, directly or not,
// is an error.
func (f *Functions) Define(name, source string) error {
	if name == "" || source == "" {
		return fmt.Errorf("detect: definition name and expression are required")
	}
	if _, err := parser.Parse(source); err != nil {
		e := newExprError(err, source)
		return fmt.Errorf("detect: definition %s: %s%s", name, e.Msg, e.at(source))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.names[name] || f.defs[name] != "" {
		return fmt.Errorf("detect: %q is defined twice", name)
	}
	if f.defs == nil {
		f.defs = map[string]string{}
	}
	f.defs[name] = source
	return nil
}

// definition returns the source of a named expression.
func (f *Functions) definition(name string) (string, bool) {
	if f == nil {
		return "", false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.defs[name]
	return s, ok
}

// NewFunctions returns an empty set of functions.
func NewFunctions() *Functions {
	return &Functions{names: map[string]bool{}}
}

// Register adds a function named name. Its arguments and result are
// expression values; an error it returns, or a panic, becomes a rule error
// on the event being evaluated. Signatures, given as pointers to function
// types such as new(func(string) bool), let the compiler reject wrong calls
// with their position; without them any call compiles.
func (f *Functions) Register(name string, fn func(args ...any) (any, error), signatures ...any) error {
	if name == "" || fn == nil {
		return fmt.Errorf("detect: function name and body are required")
	}
	for i, sig := range signatures {
		t := reflect.TypeOf(sig)
		if t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Func {
			return fmt.Errorf("detect: function %q: signature %d is %T, not a function type", name, i+1, sig)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.names == nil {
		f.names = map[string]bool{}
	}
	if f.names[name] || f.defs[name] != "" {
		return fmt.Errorf("detect: function %q is registered twice", name)
	}
	f.names[name] = true
	f.options = append(f.options, expr.Function(name, fn, signatures...))
	return nil
}

// defines reports whether name is a function or a definition of the set.
func (f *Functions) defines(name string) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, isDef := f.defs[name]
	return f.names[name] || isDef
}
