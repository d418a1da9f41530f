package detect

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/parser"
)

// Functions is a set of Go functions, named expressions and lookup tables
// that rule expressions may use, owned by the service that registers them,
// so that two engines in one process can offer different ones. Register
// every function, definition and table before the first rule that uses the
// set is compiled; after that the set must not change, although the rows
// of its tables may (see Table).
//
// Rules compiled without a set (no WithFunctions) still have the functions
// of the built-in library (inCIDR, glob, parseTime...; see
// docs/extending.md), which no set can redefine.
//
// A Functions value is safe for concurrent use once registration is over.
type Functions struct {
	mu      sync.Mutex
	options []expr.Option
	names   map[string]bool
	defs    map[string]string // named expressions, by name
	tables  map[string]*Table
	// describe holds, by function name, how Rule.Logic reads a call of
	// the function as an indicator.
	describe map[string]IndicatorFunc
}

// NewFunctions returns an empty set of functions.
func NewFunctions() *Functions {
	return &Functions{names: map[string]bool{}}
}

// checkName reports why name cannot be a function or definition of a set:
// it must be an identifier that is not a keyword, an internal name or a
// function of the built-in library.
func checkName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("detect: %s name is required", what)
	case !identifier.MatchString(name) || exprKeywords[name]:
		return fmt.Errorf("detect: %s name %q is not an identifier", what, name)
	case strings.HasPrefix(name, "__"):
		return fmt.Errorf("detect: %s name %q: names starting with __ are reserved", what, name)
	case isLibraryFunction(name):
		return fmt.Errorf("detect: %s name %q is a function of the built-in library", what, name)
	}
	return nil
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
	if err := checkName("definition", name); err != nil {
		return err
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

// Register adds a function named name. Its arguments and result are
// expression values: a field that is missing is nil, a JSON number is an
// int or a float64, and so on; it must not keep args after it returns. An
// error it returns, or a panic, becomes a rule error on the event being
// evaluated.
//
// Signatures, given as pointers to function types such as
// new(func(string) bool), let the compiler reject wrong calls with their
// position; without them any call compiles. A signature states what the
// compiler can check: a field's value is not known until the rule runs, so
// fn must still accept any value (nil, or a number where a string is
// declared) in any argument that a field may give. A result that may be
// nil must be declared as any, since the compiler trusts declared types.
// RegisterFunc does all of this for a plain Go function.
func (f *Functions) Register(name string, fn func(args ...any) (any, error), signatures ...any) error {
	if fn == nil {
		return fmt.Errorf("detect: function %q has no body", name)
	}
	if err := checkName("function", name); err != nil {
		return err
	}
	for i, sig := range signatures {
		t := reflect.TypeOf(sig)
		if t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Func {
			return fmt.Errorf("detect: function %q: signature %d is %T, not a function type", name, i+1, sig)
		}
		if t.NumOut() == 0 || t.NumOut() > 2 {
			return fmt.Errorf("detect: function %q: signature %d (%s) must return one value, or a value and an error", name, i+1, t)
		}
	}
	return f.add(name, expr.Function(name, fn, signatures...))
}

// RegisterFunc adds a plain Go function, such as func(ip, cidr string) bool,
// under name. Its parameters are checked when rules compile: a call with
// the wrong number of arguments, or a literal of the wrong type (a number
// where a string is expected), is a compile error with its position. fn
// must return one value, or a value and an error.
//
// When a rule runs, each argument is converted to its parameter's type:
// numbers to any numeric type that holds them exactly, a list to a slice of
// any element type, a time given as RFC 3339 text or epoch seconds or
// milliseconds to time.Time. A value that does not convert is a rule error
// naming the function and the argument. A nil argument (a missing field)
// is passed as nil to a parameter that can hold it (an interface, pointer,
// slice or map); for any other parameter fn is not called and the call
// gives false when fn returns bool, else nil, as operators do with missing
// data. An error fn returns, or a panic, is a rule error.
func (f *Functions) RegisterFunc(name string, fn any) error {
	if err := checkName("function", name); err != nil {
		return err
	}
	g, err := adaptFunc(name, fn)
	if err != nil {
		return err
	}
	return f.add(name, expr.Function(name, g.call, g.signature))
}

// add records a function's option, once per name.
func (f *Functions) add(name string, opt expr.Option) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.names == nil {
		f.names = map[string]bool{}
	}
	if f.names[name] || f.defs[name] != "" {
		return fmt.Errorf("detect: function %q is registered twice", name)
	}
	f.names[name] = true
	f.options = append(f.options, opt)
	return nil
}

// AddTable makes t usable from expressions under its name, with lookup and
// inLookup. A rule that names a table its set lacks does not compile. The
// table's rows may be replaced at any time, without compiling anything
// again.
func (f *Functions) AddTable(t *Table) error {
	if t == nil {
		return fmt.Errorf("detect: AddTable(nil)")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tables[t.name] != nil {
		return fmt.Errorf("detect: lookup table %q is added twice", t.name)
	}
	if f.tables == nil {
		f.tables = map[string]*Table{}
	}
	f.tables[t.name] = t
	return nil
}

// Table returns the lookup table added under name, so that a service can
// replace its rows.
func (f *Functions) Table(name string) (*Table, bool) {
	if f == nil {
		return nil, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tables[name]
	return t, ok
}

// tableNames lists the names of the set's tables, sorted.
func (f *Functions) tableNames() []string {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	names := make([]string, 0, len(f.tables))
	for n := range f.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// exprOptions returns the options that make the set's functions known to
// the compiler.
func (f *Functions) exprOptions() []expr.Option {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.options[:len(f.options):len(f.options)]
}

// defines reports whether name is a function or a definition of the set.
// Has reports whether the set has a function or definition called name.
func (f *Functions) Has(name string) bool { return f.defines(name) }

func (f *Functions) defines(name string) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, isDef := f.defs[name]
	return f.names[name] || isDef
}
