package detect

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// This file reads rule files at the level of YAML nodes, so that every
// problem can name the line and column of the key or value at fault.

// maxYAMLNodes bounds the work that one file may cause once aliases are
// expanded, so that a small file cannot expand into gigabytes ("billion
// laughs").
const maxYAMLNodes = 1 << 20

// maxYAMLDepth bounds the nesting of one value.
const maxYAMLDepth = MaxDepth

// MaxExpandedBytes bounds the JSON that the test events of one rule file
// may make once their aliases are expanded, so that a large anchor
// aliased many times is an error rather than gigabytes.
const MaxExpandedBytes = 16 << 20

// yamlFile is one rule file being read. Problems found in it accumulate in
// errs; reading goes on after a problem so that one pass reports them all.
type yamlFile struct {
	name    string
	src     string
	lines   []int                  // byte offset of the start of each line
	anchors map[string][]anchorDef // by name, in file order
	budget  int                    // nodes left to convert, see maxYAMLNodes
	written int                    // bytes of JSON written, see MaxExpandedBytes
	errs    []*FileError
	ruleID  string // the rule's ID once known, for error messages
	walked  bool   // found in a directory: skipped if not a Panther file
	stray   string // why it was skipped, see strayReason
}

type anchorDef struct {
	name   string
	offset int
	node   ast.Node
}

func newYAMLFile(name string, data []byte) *yamlFile {
	f := &yamlFile{name: name, src: string(data), lines: []int{0}, budget: maxYAMLNodes}
	for i := 0; i < len(data); i++ {
		if data[i] == '\n' {
			f.lines = append(f.lines, i+1)
		}
	}
	return f
}

// parse parses the file into its single document body. A file that is not
// one YAML mapping is a problem reported at the place where it goes wrong.
func (f *yamlFile) parse() (body *ast.MappingNode) {
	defer func() {
		// The YAML parser is third-party code run on untrusted input: a
		// crash in it becomes a problem of this file, not of the process.
		if p := recover(); p != nil {
			body = nil
			f.errs = append(f.errs, &FileError{File: f.name, Line: 1, Column: 1, Msg: fmt.Sprintf("YAML parser failed: %v", p)})
		}
	}()
	// The parser recurses once for every level of nesting before the
	// walks below can count them: deep nesting is refused first. So does
	// the parser's work with anchors and aliases, which grows with their
	// product: their number is bounded first too.
	if line, col, msg := prescanYAML(f.src, maxYAMLDepth, maxYAMLAliases); msg != "" {
		f.errs = append(f.errs, &FileError{File: f.name, Line: line, Column: col, Msg: "invalid YAML: " + msg})
		return nil
	}
	file, err := parser.ParseBytes([]byte(f.src), 0)
	if err != nil {
		f.syntaxError(err)
		f.laterSyntaxErrors(err)
		return nil
	}
	var docs []ast.Node
	for _, d := range file.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d.Body)
		}
	}
	if len(docs) == 0 {
		f.errs = append(f.errs, &FileError{File: f.name, Line: 1, Column: 1, Msg: "file is empty"})
		return nil
	}
	if f.walked {
		if f.stray = strayReason(docs[0]); f.stray != "" {
			return nil
		}
	}
	if len(docs) > 1 {
		f.errorAt(docs[1], "a rule file holds one YAML document, found %d", len(docs))
		return nil
	}
	f.anchors = map[string][]anchorDef{}
	for _, d := range docs {
		f.collectAnchors(d)
	}
	for _, defs := range f.anchors {
		sort.SliceStable(defs, func(i, j int) bool { return defs[i].offset < defs[j].offset })
	}
	n, _ := f.resolve(docs[0])
	m, ok := n.(*ast.MappingNode)
	if !ok {
		f.errorAt(docs[0], "a rule file must be a YAML mapping of keys to values, not %s", f.describe(n))
		return nil
	}
	return m
}

func (f *yamlFile) syntaxError(err error) {
	var se *yaml.SyntaxError
	if errors.As(err, &se) && se.Token != nil && se.Token.Position != nil {
		if line, col, msg, ok := f.yamlHint(se); ok {
			f.errs = append(f.errs, &FileError{File: f.name, Line: line, Column: col, Msg: msg, Err: err})
			return
		}
		line, col := se.Token.Position.Line, se.Token.Position.Column
		if line < 1 {
			line, col = 1, 1
		}
		f.errs = append(f.errs, &FileError{File: f.name, Line: line, Column: max(col, 1), Msg: "invalid YAML: " + se.Message, Err: err})
		return
	}
	// Errors without a token carry their position only in the text.
	msg := err.Error()
	line, col := 1, 1
	if m := yamlErrorPos.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		col, _ = strconv.Atoi(m[2])
		msg = strings.TrimSpace(msg[len(m[0]):])
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	f.errs = append(f.errs, &FileError{File: f.name, Line: max(line, 1), Column: max(col, 1), Msg: "invalid YAML: " + msg, Err: err})
}

var yamlErrorPos = regexp.MustCompile(`^\[(\d+):(\d+)\]`)

// maxSyntaxErrors bounds the YAML errors reported for one file.
const maxSyntaxErrors = 10

// laterSyntaxErrors looks for the YAML errors after the first: the parser
// stops at its first, so the text is parsed again from the first top-level
// key after the line of each error found, with the lines before it left
// blank so that positions hold, until it parses or maxSyntaxErrors are
// reported.
func (f *yamlFile) laterSyntaxErrors(first error) {
	line := rawErrorLine(first)
	lines := strings.SplitAfter(f.src, "\n")
	for n := 1; n < maxSyntaxErrors && line > 0; n++ {
		next := -1
		for i := line; i < len(lines); i++ { // lines[i] is line i+1
			if l := lines[i]; topLevelKey(l) {
				next = i
				break
			}
		}
		if next < 0 {
			return
		}
		_, err := parser.ParseBytes([]byte(strings.Repeat("\n", next)+strings.Join(lines[next:], "")), 0)
		if err == nil {
			return
		}
		l := rawErrorLine(err)
		if l <= line {
			return
		}
		f.syntaxError(err)
		line = l
	}
}

// topLevelKey reports whether a line starts a key of the file's top-level
// mapping: text at its first column that is not a comment, a list entry
// or a document marker, with a colon.
func topLevelKey(l string) bool {
	if l == "" || strings.ContainsRune(" \t#-\r\n.[{", rune(l[0])) {
		return false
	}
	return strings.Contains(l, ":")
}

// rawErrorLine is the line the YAML parser gives for err; 0 when unknown.
func rawErrorLine(err error) int {
	var se *yaml.SyntaxError
	if errors.As(err, &se) && se.Token != nil && se.Token.Position != nil {
		return se.Token.Position.Line
	}
	if m := yamlErrorPos.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// errorAt records a problem at node n.
func (f *yamlFile) errorAt(n ast.Node, format string, args ...any) {
	line, col := f.pos(n)
	f.errs = append(f.errs, &FileError{File: f.name, Line: line, Column: col, RuleID: f.ruleID, Msg: fmt.Sprintf(format, args...)})
}

// pos returns where node n starts in the file.
func (f *yamlFile) pos(n ast.Node) (line, col int) {
	switch x := n.(type) {
	case nil:
		return 1, 1
	case *ast.MappingNode:
		if !x.IsFlowStyle && len(x.Values) > 0 {
			return f.pos(x.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return f.pos(x.Key)
	case *ast.LiteralNode:
		if x.Start != nil && x.Start.Position != nil {
			return x.Start.Position.Line, x.Start.Position.Column
		}
	case *ast.TagNode:
		if x.Start != nil && x.Start.Position != nil {
			return x.Start.Position.Line, x.Start.Position.Column
		}
	case *ast.AnchorNode:
		if x.Start != nil && x.Start.Position != nil {
			return x.Start.Position.Line, x.Start.Position.Column
		}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil || tk.Position.Line < 1 {
		return 1, 1
	}
	return tk.Position.Line, max(tk.Position.Column, 1)
}

// collectAnchors records every anchor of the document in order, so that an
// alias can be resolved to the last anchor of its name before it.
func (f *yamlFile) collectAnchors(root ast.Node) {
	var walk func(n ast.Node, depth int)
	walk = func(n ast.Node, depth int) {
		if n == nil || depth > maxYAMLDepth {
			return
		}
		switch x := n.(type) {
		case *ast.AnchorNode:
			name := anchorName(x.Name)
			f.anchors[name] = append(f.anchors[name], anchorDef{name: name, offset: tokenOffset(x), node: x.Value})
			walk(x.Value, depth+1)
		case *ast.TagNode:
			walk(x.Value, depth+1)
		case *ast.MappingNode:
			for _, v := range x.Values {
				walk(v.Key, depth+1)
				walk(v.Value, depth+1)
			}
		case *ast.MappingKeyNode:
			walk(x.Value, depth+1)
		case *ast.MappingValueNode:
			walk(x.Key, depth+1)
			walk(x.Value, depth+1)
		case *ast.SequenceNode:
			for _, v := range x.Values {
				walk(v, depth+1)
			}
		}
	}
	walk(root, 0)
}

func anchorName(n ast.Node) string {
	if n == nil {
		return ""
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return n.String()
}

func tokenOffset(n ast.Node) int {
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Offset
	}
	return 0
}

// resolve looks through anchors, aliases and tags to the node that holds
// the value. tag is the tag of a tagged node ("!!str"), if any.
func (f *yamlFile) resolve(n ast.Node) (_ ast.Node, tag string) {
	for i := 0; i < 64; i++ {
		switch x := n.(type) {
		case *ast.AnchorNode:
			n = x.Value
		case *ast.TagNode:
			if x.Start != nil {
				tag = x.Start.Value
			}
			n = x.Value
		case *ast.AliasNode:
			name := anchorName(x.Value)
			off := tokenOffset(x)
			// The last anchor of the name before the alias.
			var target ast.Node
			defs := f.anchors[name]
			if i := sort.Search(len(defs), func(i int) bool { return defs[i].offset >= off }); i > 0 {
				target = defs[i-1].node
			}
			if target == nil {
				return nil, ""
			}
			n = target
		default:
			return n, tag
		}
	}
	return nil, ""
}

// entry is one key of a mapping.
type entry struct {
	key   string
	keyN  ast.Node // the key, where problems with the key are reported
	value ast.Node
}

// entries lists the keys of a mapping in file order, with the keys of
// merged mappings ("<<: *alias") that the mapping does not set itself.
func (f *yamlFile) entries(m *ast.MappingNode) []entry {
	return f.mergedEntries(m, 0)
}

func (f *yamlFile) mergedEntries(m *ast.MappingNode, depth int) []entry {
	// Merging aliases of aliases can take exponential time: it spends the
	// same budget as converting values.
	if f.budget--; f.budget < 0 {
		if f.budget == -1 {
			f.errorAt(m, "value is too large once its aliases are expanded")
		}
		return nil
	}
	var own, merged []entry
	seen := map[string]bool{}
	for _, mv := range m.Values {
		if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
			if depth > 16 {
				f.errorAt(mv.Key, "merge keys nested too deep")
				continue
			}
			merged = append(merged, f.mergeSources(mv.Value, depth)...)
			continue
		}
		k, ok := f.keyString(mv.Key)
		if !ok {
			continue
		}
		seen[k] = true
		own = append(own, entry{key: k, keyN: mv.Key, value: mv.Value})
	}
	for _, e := range merged {
		if !seen[e.key] {
			seen[e.key] = true
			own = append(own, e)
		}
	}
	return own
}

func (f *yamlFile) mergeSources(v ast.Node, depth int) []entry {
	n, _ := f.resolve(v)
	switch x := n.(type) {
	case *ast.MappingNode:
		return f.mergedEntries(x, depth+1)
	case *ast.SequenceNode:
		var out []entry
		for _, item := range x.Values {
			if m, ok := f.mapping(item); ok {
				out = append(out, f.mergedEntries(m, depth+1)...)
			} else {
				f.errorAt(item, "a merge key (<<) takes a mapping or a list of mappings")
			}
		}
		return out
	}
	f.errorAt(v, "a merge key (<<) takes a mapping or a list of mappings")
	return nil
}

// keyString returns the text of a mapping key, which must be a scalar.
func (f *yamlFile) keyString(k ast.Node) (string, bool) {
	if mk, ok := k.(*ast.MappingKeyNode); ok {
		k = mk.Value
	}
	n, _ := f.resolve(k)
	if s, ok := scalarText(n); ok {
		return s, true
	}
	f.errorAt(k, "a mapping key must be a scalar, not %s", f.describe(n))
	return "", false
}

// mapping returns n as a mapping, if it is one.
func (f *yamlFile) mapping(n ast.Node) (*ast.MappingNode, bool) {
	r, _ := f.resolve(n)
	m, ok := r.(*ast.MappingNode)
	return m, ok
}

// sequence returns n as a list, if it is one.
func (f *yamlFile) sequence(n ast.Node) (*ast.SequenceNode, bool) {
	r, _ := f.resolve(n)
	s, ok := r.(*ast.SequenceNode)
	return s, ok
}

// scalarText returns the value of a scalar node as text.
func scalarText(n ast.Node) (string, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.LiteralNode:
		if x.Value == nil {
			return "", true
		}
		return x.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, true
	case *ast.NullNode:
		return "", true
	}
	return "", false
}

// describe names the kind of a node for error messages.
func (f *yamlFile) describe(n ast.Node) string {
	switch n.(type) {
	case nil:
		return "nothing"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode:
		return "an integer"
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	case *ast.NullNode:
		return "null"
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	}
	return "a " + strings.ToLower(n.Type().String())
}

// str reads a string value. Other scalars are not strings: a file that
// means the text "1" writes it quoted.
func (f *yamlFile) str(key string, n ast.Node) (string, bool) {
	r, tag := f.resolve(n)
	switch x := r.(type) {
	case *ast.StringNode, *ast.LiteralNode:
		s, _ := scalarText(x)
		return s, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NullNode:
		if tag == "!!str" {
			s, _ := scalarText(x)
			return s, true
		}
	}
	f.errorAt(n, "%s must be a string, not %s", key, f.describe(r))
	return "", false
}

// boolean reads a true or false value.
func (f *yamlFile) boolean(key string, n ast.Node) (bool, bool) {
	r, _ := f.resolve(n)
	if b, ok := r.(*ast.BoolNode); ok {
		return b.Value, true
	}
	f.errorAt(n, "%s must be true or false, not %s", key, f.describe(r))
	return false, false
}

// integer reads a whole number.
func (f *yamlFile) integer(key string, n ast.Node) (int64, bool) {
	r, _ := f.resolve(n)
	if i, ok := r.(*ast.IntegerNode); ok {
		switch v := i.Value.(type) {
		case int64:
			return v, true
		case uint64:
			if v <= math.MaxInt64 {
				return int64(v), true
			}
		}
		f.errorAt(n, "%s is too large", key)
		return 0, false
	}
	f.errorAt(n, "%s must be a whole number, not %s", key, f.describe(r))
	return 0, false
}

// strings reads a list of strings; a single string is not a list.
func (f *yamlFile) strings(key string, n ast.Node) ([]string, bool) {
	seq, ok := f.sequence(n)
	if !ok {
		r, _ := f.resolve(n)
		f.errorAt(n, "%s must be a list of strings, not %s", key, f.describe(r))
		return nil, false
	}
	out := make([]string, 0, len(seq.Values))
	good := true
	for _, v := range seq.Values {
		s, ok := f.str(key+" entries", v)
		good = good && ok
		out = append(out, s)
	}
	return out, good
}

// expression reads the source of an expression. Any scalar is accepted, so
// that `Condition: true` is the expression true.
func (f *yamlFile) expression(key string, n ast.Node) (string, bool) {
	r, _ := f.resolve(n)
	switch r.(type) {
	case *ast.StringNode, *ast.LiteralNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		s, _ := scalarText(r)
		if strings.TrimSpace(s) == "" {
			f.errorAt(n, "%s is empty", key)
			return "", false
		}
		return s, true
	case *ast.NullNode:
		f.errorAt(n, "%s is empty", key)
		return "", false
	}
	f.errorAt(n, "%s must be an expression (a string), not %s", key, f.describe(r))
	return "", false
}

// json converts a YAML value to JSON text, the way a logged event would be
// written: mappings become objects in file order, whole numbers stay
// whole and other numbers keep a fraction.
func (f *yamlFile) json(n ast.Node) ([]byte, bool) {
	var buf bytes.Buffer
	before := len(f.errs)
	f.writeJSON(&buf, n, 0)
	f.written += buf.Len()
	return buf.Bytes(), len(f.errs) == before
}

func (f *yamlFile) writeJSON(buf *bytes.Buffer, n ast.Node, depth int) {
	if f.budget--; f.budget < 0 || f.written+buf.Len() > MaxExpandedBytes {
		if f.budget >= -1 {
			f.budget = -2
			f.errorAt(n, "value is too large once its aliases are expanded (more than %d nodes or %d bytes of JSON)", maxYAMLNodes, MaxExpandedBytes)
		}
		return
	}
	if depth > maxYAMLDepth {
		f.errorAt(n, "value is nested deeper than %d levels", maxYAMLDepth)
		return
	}
	r, tag := f.resolve(n)
	if tag == "!!str" {
		if s, ok := scalarText(r); ok {
			writeJSONString(buf, s)
			return
		}
	}
	switch x := r.(type) {
	case nil:
		f.errorAt(n, "alias refers to no anchor before it")
	case *ast.NullNode:
		buf.WriteString("null")
	case *ast.BoolNode:
		buf.WriteString(strconv.FormatBool(x.Value))
	case *ast.StringNode:
		// The YAML parser reads an exponent without a fraction (1e3) as
		// text; in a log written as JSON it is a number.
		if x.Token != nil && x.Token.Type == token.StringType && jsonNumber.MatchString(x.Value) {
			buf.WriteString(x.Value)
			return
		}
		writeJSONString(buf, x.Value)
	case *ast.LiteralNode:
		s, _ := scalarText(x)
		writeJSONString(buf, s)
	case *ast.IntegerNode:
		switch v := x.Value.(type) {
		case int64:
			buf.WriteString(strconv.FormatInt(v, 10))
		case uint64:
			buf.WriteString(strconv.FormatUint(v, 10))
		default:
			f.errorAt(n, "invalid integer %q", x.GetToken().Value)
		}
	case *ast.FloatNode:
		buf.WriteString(jsonFloat(x.GetToken().Value, x.Value))
	case *ast.InfinityNode, *ast.NanNode:
		f.errorAt(n, "%s is not a number JSON can hold", x.GetToken().Value)
	case *ast.SequenceNode:
		buf.WriteByte('[')
		for i, v := range x.Values {
			if i > 0 {
				buf.WriteByte(',')
			}
			f.writeJSON(buf, v, depth+1)
		}
		buf.WriteByte(']')
	case *ast.MappingNode:
		buf.WriteByte('{')
		for i, e := range f.entries(x) {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(buf, e.key)
			buf.WriteByte(':')
			f.writeJSON(buf, e.value, depth+1)
		}
		buf.WriteByte('}')
	default:
		f.errorAt(n, "unsupported YAML value: %s", f.describe(r))
	}
}

func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := renderJSON.Marshal(s)
	buf.Write(b)
}

var jsonNumber = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$`)

// jsonFloat writes a YAML float as JSON: as written when that is a JSON
// number, otherwise formatted so that it still reads as a fraction.
func jsonFloat(text string, v float64) string {
	if jsonNumber.MatchString(text) {
		return text
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// scalarStart returns where the text of a scalar starts: the first line of
// a block scalar's content, else the scalar's first character (its quote,
// if quoted).
func (f *yamlFile) scalarStart(n ast.Node) (line, col int) {
	r, _ := f.resolve(n)
	if l, ok := r.(*ast.LiteralNode); ok && l.Start != nil && l.Start.Position != nil {
		return l.Start.Position.Line + 1, 1
	}
	return f.pos(r)
}

// valuePos translates a byte offset in the value of scalar n into a line
// and column of the file. Block and plain scalars map exactly; inside
// quoted scalars, escape sequences may shift the column a little.
func (f *yamlFile) valuePos(n ast.Node, value string, offset int) (line, col int) {
	line, col = f.scalarStart(n)
	if line < 1 || line > len(f.lines) {
		return f.pos(n)
	}
	start := f.lines[line-1]
	// Columns count characters.
	for c := 1; c < col && start < len(f.src) && f.src[start] != '\n'; c++ {
		_, size := utf8.DecodeRuneInString(f.src[start:])
		start += size
	}
	target := utf8.RuneCountInString(value[:min(max(offset, 0), len(value))])
	src := f.src[start:]
	cur := 0 // byte offset in src
	i := 0
	for _, r := range value {
		// Skip what the scalar's value does not hold: indentation, line
		// breaks that folding removed, quotes and escape characters.
		for cur < len(src) {
			c, size := utf8.DecodeRuneInString(src[cur:])
			if c == r || !strings.ContainsRune(" \t\r\n\"'\\", c) {
				break
			}
			cur += size
		}
		if i == target {
			break
		}
		if cur < len(src) {
			_, size := utf8.DecodeRuneInString(src[cur:])
			cur += size
		}
		i++
	}
	// Count lines and columns up to the position found.
	for _, c := range src[:min(cur, len(src))] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// CheckYAML reports YAML text that would make a YAML parser work too hard,
// as the Loader does before it parses a rule file: nesting deeper than
// 512 levels, or more than 1,000 anchors or aliases. The error names the
// line and column. Front ends that parse rule files of their own (Sigma's)
// call it first.
func CheckYAML(src []byte) error {
	if line, col, msg := prescanYAML(string(src), maxYAMLDepth, maxYAMLAliases); msg != "" {
		return fmt.Errorf("%d:%d: %s", line, col, msg)
	}
	return nil
}

// maxYAMLAliases bounds the anchors, and the aliases, of one rule file.
const maxYAMLAliases = 1000

// prescanYAML looks through YAML text src, without parsing it, for what
// would make the parser work too hard: nesting deeper than limit
// (brackets and braces of flow collections open outside quoted and block
// scalars and comments, and the entries of block sequences begun on one
// line, "- - - x"), or more than aliases anchors or aliases. It returns
// the problem, with the line and column where the limit is passed, or
// "".
func prescanYAML(src string, limit, aliases int) (line, col int, msg string) {
	line = 1
	anchors, refs := 0, 0
	lineStart := 0
	depth := 0
	blockIndent := -1 // the indentation of a block scalar's parent, while in one
	// start is set where a scalar may begin: a quote there opens a
	// quoted scalar, & an anchor, * an alias, and | or > a block scalar.
	start := true
	for i := 0; i < len(src); i++ {
		c := src[i]
		if i == lineStart {
			indent := 0
			for i+indent < len(src) && src[i+indent] == ' ' {
				indent++
			}
			if blockIndent >= 0 {
				if j := i + indent; j < len(src) && src[j] != '\n' && src[j] != '\r' && indent <= blockIndent {
					blockIndent = -1
				}
			}
			if blockIndent >= 0 {
				// Text of a block scalar: skipped.
				j := strings.IndexByte(src[i:], '\n')
				if j < 0 {
					return 0, 0, ""
				}
				i += j
				line++
				lineStart = i + 1
				continue
			}
			// Entries of block sequences opened on this line.
			dashes, j := 0, i+indent
			for j+1 < len(src) && src[j] == '-' && (src[j+1] == ' ' || src[j+1] == '\t') {
				dashes++
				for j++; j < len(src) && (src[j] == ' ' || src[j] == '\t'); j++ {
				}
			}
			if depth+dashes > limit {
				return line, j - lineStart + 1, fmt.Sprintf("nested deeper than %d levels", limit)
			}
			start = true
		}
		switch c {
		case '\n':
			line++
			lineStart = i + 1
			continue
		case ' ', '\t', '\r':
			continue
		case '#':
			if i == lineStart || src[i-1] == ' ' || src[i-1] == '\t' {
				j := strings.IndexByte(src[i:], '\n')
				if j < 0 {
					return 0, 0, ""
				}
				i += j - 1
				continue
			}
		case '[', '{':
			if depth++; depth > limit {
				return line, i - lineStart + 1, fmt.Sprintf("nested deeper than %d levels", limit)
			}
			start = true
			continue
		case ']', '}':
			depth = max(depth-1, 0)
		case ',':
			if depth > 0 {
				start = true
				continue
			}
		case ':', '-', '?':
			// An indicator when white space or the end follows (or,
			// for ':', in a flow collection); else part of plain text,
			// where a quote is just a character.
			if i+1 >= len(src) || isYAMLSpace(src[i+1]) || c == ':' && depth > 0 {
				start = true
				continue
			}
		case '\'', '"':
			if !start {
				break
			}
			// A quoted scalar, possibly over several lines.
			for i++; i < len(src); i++ {
				if src[i] == '\n' {
					line++
					lineStart = i + 1
				} else if c == '"' && src[i] == '\\' {
					i++
				} else if src[i] == c {
					if c == '\'' && i+1 < len(src) && src[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '&', '*':
			if start {
				n, what := &anchors, "anchors"
				if c == '*' {
					n, what = &refs, "aliases"
				}
				if *n++; *n > aliases {
					return line, i - lineStart + 1, fmt.Sprintf("more than %d %s", aliases, what)
				}
			}
		case '|', '>':
			if start && depth == 0 {
				indent := 0
				for lineStart+indent < len(src) && src[lineStart+indent] == ' ' {
					indent++
				}
				blockIndent = indent
			}
		}
		start = false
	}
	return 0, 0, ""
}

// isYAMLSpace reports whether c is white space or a line end.
func isYAMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
