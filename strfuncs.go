package detect

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
)

// expr's string builtins fail on nil. Rules call them on fields that may be
// missing (lower(user.name) == "root"), so detect replaces them with
// versions that follow DESIGN's rule for missing data: a nil text gives nil
// (false for hasPrefix and hasSuffix), and only a value of the wrong type
// is an error, as in expr.
var stringOptions = []expr.Option{
	expr.Function("lower", strFunc1("lower", strings.ToLower), new(func(any) any)),
	expr.Function("upper", strFunc1("upper", strings.ToUpper), new(func(any) any)),
	expr.Function("trim", strTrim, new(func(any) any), new(func(any, string) any)),
	expr.Function("trimPrefix", strFunc2("trimPrefix", strings.TrimPrefix), new(func(any, string) any)),
	expr.Function("trimSuffix", strFunc2("trimSuffix", strings.TrimSuffix), new(func(any, string) any)),
	expr.Function("hasPrefix", strPred("hasPrefix", strings.HasPrefix), new(func(any, string) bool)),
	expr.Function("hasSuffix", strPred("hasSuffix", strings.HasSuffix), new(func(any, string) bool)),
	expr.Function("indexOf", strIndex("indexOf", strings.Index), new(func(any, string) any)),
	expr.Function("lastIndexOf", strIndex("lastIndexOf", strings.LastIndex), new(func(any, string) any)),
	expr.Function("split", strSplit, new(func(any, string) any), new(func(any, string, int) any)),
}

// text returns the text argument of a string function; ok is false for
// nil.
func text(fn string, v any) (s string, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	}
	return "", false, fmt.Errorf("%s needs a string, got %s", fn, typeName(v))
}

// textArg returns a string argument after the text, which must be a
// string: nil is an error here, as in expr.
func textArg(fn string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s needs a string argument, got %s", fn, typeName(v))
	}
	return s, nil
}

func strFunc1(name string, f func(string) string) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		s, ok, err := text(name, args[0])
		if !ok {
			return nil, err
		}
		return f(s), nil
	}
}

func strFunc2(name string, f func(string, string) string) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		s, ok, err := text(name, args[0])
		if !ok {
			return nil, err
		}
		a, err := textArg(name, args[1])
		if err != nil {
			return nil, err
		}
		return f(s, a), nil
	}
}

func strPred(name string, f func(string, string) bool) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		// A predicate with a nil operand is false.
		if args[1] == nil {
			return false, nil
		}
		s, ok, err := text(name, args[0])
		if !ok {
			return false, err
		}
		a, err := textArg(name, args[1])
		if err != nil {
			return nil, err
		}
		return f(s, a), nil
	}
}

// strIndex gives the index in characters, where expr gives it in bytes:
// text is indexed and sliced by character (see runtime.go), and the index
// is where the text can be sliced.
func strIndex(name string, f func(string, string) int) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		s, ok, err := text(name, args[0])
		if !ok {
			return nil, err
		}
		a, err := textArg(name, args[1])
		if err != nil {
			return nil, err
		}
		i := f(s, a)
		if i < 0 {
			return i, nil
		}
		return len([]rune(s[:i])), nil
	}
}

func strTrim(args ...any) (any, error) {
	s, ok, err := text("trim", args[0])
	if !ok {
		return nil, err
	}
	if len(args) == 1 {
		return strings.TrimSpace(s), nil
	}
	cut, err := textArg("trim", args[1])
	if err != nil {
		return nil, err
	}
	return strings.Trim(s, cut), nil
}

func strSplit(args ...any) (any, error) {
	s, ok, err := text("split", args[0])
	if !ok {
		return nil, err
	}
	sep, err := textArg("split", args[1])
	if err != nil {
		return nil, err
	}
	n := -1
	if len(args) == 3 {
		var isInt bool
		if n, isInt = args[2].(int); !isInt {
			return nil, fmt.Errorf("split needs an int count, got %s", typeName(args[2]))
		}
	}
	// The pieces are counted before they are built: split(s, "") of a
	// long text would otherwise make a string of every character.
	pieces := strings.Count(s, sep) + 1
	if n >= 0 && n < pieces {
		pieces = n
	}
	if pieces >= MaxEvalMemory {
		return nil, errMemoryBudget
	}
	return strings.SplitN(s, sep, n), nil
}
