package detect

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/expr-lang/expr/file"
)

// CompileError reports a rule whose expression does not compile, or whose
// settings are invalid. Line and Column (1-based, 0 when unknown) locate the
// problem in Expr; File, FileLine and FileColumn locate it in a rule file
// when the rule came from one.
type CompileError struct {
	RuleID string // the rule's ID
	Part   string // which expression: "condition", "title", "output source_ip", ...
	Expr   string // the expression's source
	Line   int    // line in Expr
	Column int    // column in Expr, in characters
	Msg    string // what is wrong
	File   string // rule file, if any
	// FileLine and FileColumn locate the problem in File: the place of
	// Line:Column when the expression is written in the file, else the
	// key the expression was made from (a Detection, for one).
	FileLine, FileColumn int
	Err                  error // the underlying error, if any
}

// Error formats the error with its file, rule, part and position, and a
// caret under the expression when the position is known.
func (e *CompileError) Error() string {
	var b strings.Builder
	b.WriteString("detect: ")
	if e.File != "" {
		b.WriteString(e.File)
		if e.FileLine > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.FileLine, e.FileColumn)
		}
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "rule %s: %s: %s", e.RuleID, e.Part, e.Msg)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (%d:%d)", e.Line, e.Column)
		b.WriteString(snippet(e.Expr, e.Line, e.Column))
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *CompileError) Unwrap() error { return e.Err }

// snippet draws the line of src that holds the error with a caret under
// the column, as expr does.
func snippet(src string, line, col int) string {
	lines := strings.Split(src, "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	text := strings.ReplaceAll(lines[line-1], "\t", " ")
	return "\n | " + text + "\n | " + strings.Repeat(".", max(col-1, 0)) + "^"
}

// forRule gives an expression's compile error its rule and part.
func (e *exprError) forRule(ruleID, part, source string) *CompileError {
	return &CompileError{RuleID: ruleID, Part: part, Expr: source, Line: e.Line, Column: e.Column, Msg: e.Msg, Err: e.Err}
}

// shift moves an error found in inner, which starts at byte offset start of
// outer, to its position in outer.
func (e *CompileError) shift(outer string, start int, inner string) {
	e.Expr = outer
	if e.Line == 0 {
		e.Line, e.Column = position(outer, start)
		return
	}
	e.Line, e.Column = position(outer, start+offsetOf(inner, e.Line, e.Column))
}

// EvalError reports an expression that failed on an event. The event
// itself is not kept, so an EvalError is safe to log.
type EvalError struct {
	RuleID string // the rule's ID
	Part   string // which expression: "condition", "title", ...
	Expr   string // the expression's source
	Line   int    // line in Expr of the failing operation, 0 when unknown
	Column int    // its column
	Msg    string // what went wrong
	Err    error  // the underlying error
}

// Error formats the error with its rule, part and position.
func (e *EvalError) Error() string {
	s := fmt.Sprintf("detect: rule %s: %s: %s", e.RuleID, e.Part, e.Msg)
	if e.Line > 0 {
		s += fmt.Sprintf(" (%d:%d)", e.Line, e.Column)
	}
	return s
}

// Unwrap returns the underlying error.
func (e *EvalError) Unwrap() error { return e.Err }

// Kind names the failure without any value from the event: the same
// failure of the same expression has the same kind, whatever the event.
// Rule-error alerts are grouped by it.
func (e *EvalError) Kind() string {
	k := fmt.Sprintf("%s: %s", e.Part, normalizeMessage(e.Msg))
	if e.Line > 0 {
		k += fmt.Sprintf(" (%d:%d)", e.Line, e.Column)
	}
	return k
}

var (
	quotedText = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	numberText = regexp.MustCompile(`[-+]?\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b`)
	// expr reports a string that int() or float() cannot convert with the
	// string itself, unquoted: "invalid operation: int(abc)".
	conversionText = regexp.MustCompile(`(?s)^invalid operation: (int|float)\(.*\)$`)
)

// normalizeMessage removes the values that an error message may quote.
func normalizeMessage(msg string) string {
	msg = conversionText.ReplaceAllString(msg, "invalid operation: $1(…)")
	msg = quotedText.ReplaceAllString(msg, `"…"`)
	return numberText.ReplaceAllString(msg, "N")
}

func (r *Rule) evalError(part, source string, err error) *EvalError {
	e := &EvalError{RuleID: r.ID, Part: part, Expr: source, Msg: err.Error(), Err: err}
	if fe, ok := err.(*file.Error); ok {
		fe = fe.Bind(file.NewSource(source))
		e.Msg = fe.Message
		e.Line, e.Column = fe.Line, fe.Column+1
		if fe.Prev != nil {
			e.Err = fe.Prev
		}
	}
	return e
}
