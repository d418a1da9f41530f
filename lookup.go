package detect

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// Table is a lookup table, as Panther's enrichment tables: rows of fields,
// each found by its key, such as the company's administrators by user
// name. Rules read it by the name it has in their Functions set:
//
//	inLookup("admins", user.name)              // is there a row?
//	lookup("admins", user.name).team           // a field of the row, nil if none
//
// Rows come from a CSV file (a header row, then one row per line), a JSON
// lines file (one object per line), or Go values. Keys are strings: a
// whole number given as a key reads the row of its decimal text. Keys
// match exactly unless the table ignores their case (IgnoreKeyCase).
//
// A Table is safe for concurrent use: its rows may be replaced while rules
// read them, and each lookup sees either all the old rows or all the new
// ones (two lookups in one expression may see different versions).
// Replacing rows needs no rule to compile again. Rows are shared with the
// rules that read them, and with outputs that return them whole: they
// must not be changed once given to the table.
type Table struct {
	name     string
	key      string
	fold     bool
	maxBytes int64
	rows     atomic.Pointer[map[string]map[string]any]
}

// DefaultMaxTableBytes is the most text a table reads its rows from
// unless MaxTableBytes says otherwise. Rows held in memory take up to
// about 33 times the text they are read from (32 MiB of CSV rows of four
// one-letter fields held 1,049 MiB), so about 530 MiB at this bound.
const DefaultMaxTableBytes = 16 << 20

// MaxTableBytes sets the most bytes of CSV or JSON lines that LoadFile,
// LoadFS, ReadCSV and ReadJSONLines read: a longer input is an error and
// the rows are not replaced. Zero or less means DefaultMaxTableBytes.
func MaxTableBytes(n int64) TableOption {
	return func(t *Table) { t.maxBytes = n }
}

// errTableTooLarge is the error of a table's input over its bound.
var errTableTooLarge = errors.New("table input too large")

// limitedReader reads at most n bytes of r, then fails if r holds more.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		var one [1]byte
		for {
			n, err := l.r.Read(one[:])
			if n > 0 {
				return 0, errTableTooLarge
			}
			if err != nil {
				return 0, err
			}
		}
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// limit wraps r in the table's bound.
func (t *Table) limit(r io.Reader) io.Reader {
	return &limitedReader{r: r, n: t.bound()}
}

// bound is the table's bound on its input.
func (t *Table) bound() int64 {
	if t.maxBytes <= 0 {
		return DefaultMaxTableBytes
	}
	return t.maxBytes
}

// TableOption configures a Table.
type TableOption func(*Table)

// IgnoreKeyCase makes keys match regardless of letter case, as
// strings.EqualFold compares them.
func IgnoreKeyCase() TableOption {
	return func(t *Table) { t.fold = true }
}

// NewTable returns an empty table named name, whose rows are found by
// their key column (CSV) or field (JSON lines); an empty key means the
// first column of a CSV file.
func NewTable(name, key string, opts ...TableOption) (*Table, error) {
	if name == "" {
		return nil, errors.New("detect: NewTable: the table name is required")
	}
	t := &Table{name: name, key: key}
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("detect: NewTable(%q): option %d is nil", name, i+1)
		}
		opt(t)
	}
	return t, nil
}

// Name returns the name rules know the table by.
func (t *Table) Name() string { return t.name }

// Len returns the number of rows.
func (t *Table) Len() int {
	if m := t.rows.Load(); m != nil {
		return len(*m)
	}
	return 0
}

// Get returns the row of key.
func (t *Table) Get(key string) (map[string]any, bool) {
	return t.row(key)
}

// row finds the row of an expression value: a string, or a whole number
// read as its decimal text.
func (t *Table) row(key any) (map[string]any, bool) {
	m := t.rows.Load()
	if m == nil {
		return nil, false
	}
	var k string
	switch x := key.(type) {
	case string:
		k = x
	case int:
		k = strconv.Itoa(x)
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return nil, false
		}
		k = strconv.FormatInt(int64(x), 10)
	default:
		return nil, false
	}
	if t.fold {
		return foldedLookup(*m, k)
	}
	row, ok := (*m)[k]
	return row, ok
}

// Set replaces the table's rows with rows, by key. The table keeps the
// maps, which must not be changed afterwards. For a table that ignores key
// case, two keys that differ only in case are an error, and the rows are
// not replaced.
func (t *Table) Set(rows map[string]map[string]any) error {
	m := make(map[string]map[string]any, len(rows))
	if !t.fold {
		for k, row := range rows {
			m[k] = row
		}
		t.rows.Store(&m)
		return nil
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	first := map[string]string{}
	for _, k := range keys {
		f := foldString(k)
		if other, dup := first[f]; dup {
			return &TableError{Table: t.name, Msg: fmt.Sprintf("keys %q and %q are the same ignoring case", other, k)}
		}
		first[f] = k
		m[f] = rows[k]
	}
	t.rows.Store(&m)
	return nil
}

// LoadFile replaces the table's rows with those of a file: CSV when its
// name ends in .csv, JSON lines when it ends in .jsonl, .ndjson or .json.
// If the file has a problem, the error is a *TableError naming the file
// and the line, and the rows are not replaced.
func (t *Table) LoadFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return &TableError{Table: t.name, File: name, Msg: pathError(err), Err: err}
	}
	defer f.Close()
	return t.load(f, name)
}

// LoadFS is LoadFile for a file of fsys, such as one embedded with
// //go:embed.
func (t *Table) LoadFS(fsys fs.FS, name string) error {
	f, err := fsys.Open(name)
	if err != nil {
		return &TableError{Table: t.name, File: name, Msg: pathError(err), Err: err}
	}
	defer f.Close()
	return t.load(f, name)
}

func (t *Table) load(r io.Reader, name string) error {
	switch strings.ToLower(path.Ext(name)) {
	case ".csv":
		return t.readCSV(r, name)
	case ".jsonl", ".ndjson", ".json":
		return t.readJSONLines(r, name)
	}
	return &TableError{Table: t.name, File: name, Msg: "unknown format: want a .csv, .jsonl, .ndjson or .json file"}
}

// ReadCSV replaces the table's rows with those of CSV text: a header row
// naming the columns, then one row per record, every field a string. The
// key column is the table's key, or the first column. Blank lines are
// skipped; a row without a key, a key given twice, or a row with the
// wrong number of fields is an error, and the rows are not replaced.
func (t *Table) ReadCSV(r io.Reader) error { return t.readCSV(r, "") }

// ReadJSONLines replaces the table's rows with JSON lines: one object per
// line, decoded as events are. The key field, the table's key, must be a
// string or a whole number. Blank lines are skipped; a line that is not an
// object, a row without a key or a key given twice is an error, and the
// rows are not replaced.
func (t *Table) ReadJSONLines(r io.Reader) error { return t.readJSONLines(r, "") }

func (t *Table) fail(file string, line, col int, err error, format string, args ...any) *TableError {
	return &TableError{Table: t.name, File: file, Line: line, Column: col, Msg: fmt.Sprintf(format, args...), Err: err}
}

// utf8BOM starts files saved by some spreadsheets.
const utf8BOM = "\ufeff"

func (t *Table) readCSV(r io.Reader, file string) error {
	cr := csv.NewReader(t.limit(r))
	header, err := cr.Read()
	if err == io.EOF {
		return t.fail(file, 1, 0, nil, "no header row")
	}
	if err != nil {
		return t.csvError(file, err)
	}
	header[0] = strings.TrimPrefix(header[0], utf8BOM)
	keyCol := -1
	for i, h := range header {
		line, col := cr.FieldPos(i)
		if h == "" {
			return t.fail(file, line, col, nil, "column %d has no name", i+1)
		}
		for j := range i {
			if header[j] == h {
				return t.fail(file, line, col, nil, "column %q is named twice", h)
			}
		}
		if h == t.key || t.key == "" && i == 0 {
			keyCol = i
		}
	}
	if keyCol < 0 {
		return t.fail(file, 1, 1, nil, "no key column %q (the columns are %s)", t.key, strings.Join(header, ", "))
	}
	rows := map[string]map[string]any{}
	lines := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return t.csvError(file, err)
		}
		line, col := cr.FieldPos(keyCol)
		key := rec[keyCol]
		if key == "" {
			return t.fail(file, line, col, nil, "the key %s is empty", header[keyCol])
		}
		if t.fold {
			key = foldString(key)
		}
		if first, dup := lines[key]; dup {
			return t.fail(file, line, col, nil, "key %q is also on line %d", rec[keyCol], first)
		}
		lines[key] = line
		row := make(map[string]any, len(header))
		for i, h := range header {
			row[h] = rec[i]
		}
		rows[key] = row
	}
	t.rows.Store(&rows)
	return nil
}

func (t *Table) csvError(file string, err error) *TableError {
	if errors.Is(err, errTableTooLarge) {
		return t.fail(file, 0, 0, err, "longer than %d bytes (MaxTableBytes)", t.bound())
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return t.fail(file, pe.Line, pe.Column, err, "%v", pe.Err)
	}
	return t.fail(file, 0, 0, err, "cannot read: %v", err)
}

// maxTableLine is the longest line of a JSON lines table.
const maxTableLine = 16 << 20

func (t *Table) readJSONLines(r io.Reader, file string) error {
	if t.key == "" {
		return t.fail(file, 0, 0, nil, "a JSON lines table needs a key field (NewTable's key)")
	}
	sc := bufio.NewScanner(t.limit(r))
	sc.Buffer(make([]byte, 0, 64<<10), maxTableLine)
	rows := map[string]map[string]any{}
	lines := map[string]int{}
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		m, serr := decodeFast(b, nil)
		if serr != nil {
			// Offsets count from the line's first non-blank byte.
			lead := len(sc.Bytes()) - len(bytes.TrimLeft(sc.Bytes(), " \t\r"))
			return t.fail(file, line, lead+int(serr.Offset)+1, serr, "%s", serr.Msg)
		}
		given, err := tableKey(m[t.key])
		if err != nil {
			return t.fail(file, line, 0, nil, "the key field %q %s", t.key, err)
		}
		key := given
		if t.fold {
			key = foldString(key)
		}
		if first, dup := lines[key]; dup {
			return t.fail(file, line, 0, nil, "key %q is also on line %d", given, first)
		}
		lines[key] = line
		rows[key] = m
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return t.fail(file, line+1, 0, err, "line longer than %d bytes", maxTableLine)
		}
		if errors.Is(err, errTableTooLarge) {
			return t.fail(file, line+1, 0, err, "longer than %d bytes (MaxTableBytes)", t.bound())
		}
		return t.fail(file, line, 0, err, "cannot read: %v", err)
	}
	t.rows.Store(&rows)
	return nil
}

// tableKey reads the key of a JSON row: a string, or a whole number as its
// decimal text.
func tableKey(v any) (string, error) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return "", errors.New("is empty")
		}
		return x, nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
			return strconv.FormatInt(int64(x), 10), nil
		}
		return "", errors.New("is not a whole number")
	case nil:
		return "", errors.New("is missing or null")
	}
	return "", fmt.Errorf("is %s, not a string", typeName(v))
}

// TableError is a problem in the rows given to a lookup table. Line and
// Column are 1-based, 0 when unknown; File is empty when the rows came
// from a reader or Go values.
type TableError struct {
	Table        string
	File         string
	Line, Column int
	Msg          string
	Err          error
}

// Error formats the problem with its table, file, line and column.
func (e *TableError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "detect: lookup table %s: ", e.Table)
	switch {
	case e.File != "" && e.Line > 0 && e.Column > 0:
		fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Column)
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		fmt.Fprintf(&b, "%s: ", e.File)
	case e.Line > 0 && e.Column > 0:
		fmt.Fprintf(&b, "line %d:%d: ", e.Line, e.Column)
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *TableError) Unwrap() error { return e.Err }
