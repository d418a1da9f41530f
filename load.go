package detect

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// A Loader reads rule files: Panther-style YAML files, each holding one
// rule (AnalysisType: rule) or shared definitions (AnalysisType: global).
// The zero Loader is ready to use. Loads with nil Functions are independent
// and may run concurrently; loads that share Functions must not.
type Loader struct {
	// Functions are the custom functions that loaded rules may call. The
	// definitions of the global files loaded are added to it, so a set
	// must not be shared by loads of different files. Nil means a new set
	// for each load.
	Functions *Functions
	// Limits are those of the rules loaded (see WithLimits); the zero
	// value means the defaults.
	Limits Limits

	// Exclude lists glob patterns (as path.Match takes them, with forward
	// slashes) of files and directories to leave out. A pattern matches
	// a file's or directory's base name, its path relative to the
	// directory named to Load, or its path as given: "docker-compose.yml",
	// "vendor", "drafts/*.yml".
	Exclude []string

	// OnSkip, when set, is told of each file found in a directory that is
	// read but left out because it is not a Panther file at all: a YAML
	// list, or a mapping with no AnalysisType nor any other Panther key
	// (a docker-compose.yml beside the rules). Such a file named
	// explicitly is a problem instead.
	OnSkip func(file, reason string)
}

// Load reads rule files and directories with a zero Loader. See
// Loader.Load.
func Load(paths ...string) ([]*Rule, error) {
	var l Loader
	return l.Load(paths...)
}

// LoadFS reads the rule files of fsys under root with a zero Loader. See
// Loader.LoadFS.
func LoadFS(fsys fs.FS, root string) ([]*Rule, error) {
	var l Loader
	return l.LoadFS(fsys, root)
}

// Load reads rule files and directories. A directory is read recursively
// for files named *.yml or *.yaml, skipping names that start with a dot; a
// file named explicitly is read whatever its name. Files and directories
// matching Exclude are left out, and YAML files of a directory that are
// not Panther files are skipped (see OnSkip). The rules come back
// compiled and sorted by ID.
//
// Every problem of every file is reported, not just the first: the error
// is then a *LoadError listing a *FileError for each, with its file, line
// and column. The rules of the files without problems are returned with
// it.
func (l *Loader) Load(paths ...string) ([]*Rule, error) {
	var names []string
	var errs []*FileError
	seen, walked := map[string]bool{}, map[string]bool{}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, &FileError{File: p, Msg: pathError(err), Err: err})
			continue
		}
		if !info.IsDir() {
			if !seen[filepath.Clean(p)] && !l.excluded(p, "") {
				seen[filepath.Clean(p)] = true
				names = append(names, p)
			}
			continue
		}
		root, rootErr := filepath.EvalSymlinks(p)
		err = filepath.WalkDir(p, func(name string, d fs.DirEntry, err error) error {
			if err == nil && d.Type()&fs.ModeSymlink != 0 && rootErr == nil {
				if outside, err := linksOutside(root, name); err != nil || outside {
					if err == nil {
						err = &fs.PathError{Op: "read", Path: name, Err: errOutside}
					}
					if ext := strings.ToLower(path.Ext(d.Name())); ext == ".yml" || ext == ".yaml" {
						errs = append(errs, &FileError{File: name, Msg: pathError(err), Err: err})
					}
					return nil
				}
			}
			return l.visit(name, d, err, p, filepath.Clean, seen, walked, &names, &errs)
		})
		if err != nil {
			errs = append(errs, &FileError{File: p, Msg: pathError(err), Err: err})
		}
	}
	return l.load(names, walked, readRuleFile, errs)
}

// MaxRuleFileBytes is the largest rule file that Load and LoadFS read; a
// larger file is a problem of that file, and is not read.
const MaxRuleFileBytes = 4 << 20

// errNotRegular is the problem of a rule file that is a FIFO, a device, a
// socket or a symbolic link to one: reading it could block or never end.
var errNotRegular = errors.New("not a regular file")

// errTooLarge is the problem of a rule file over MaxRuleFileBytes.
var errTooLarge = fmt.Errorf("larger than %d bytes (detect.MaxRuleFileBytes)", MaxRuleFileBytes)

// readRuleFile reads a rule file from the operating system's files: a
// regular file (a symbolic link is followed) of at most MaxRuleFileBytes.
// Whether it is one is checked before it is opened, as opening a FIFO
// waits for a writer, and again on the open file.
func readRuleFile(name string) ([]byte, error) {
	info, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if err := checkRuleFile(name, info); err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(name, f)
}

// checkRuleFile refuses what is not a regular file of a rule file's size.
func checkRuleFile(name string, info fs.FileInfo) error {
	if !info.Mode().IsRegular() {
		return &fs.PathError{Op: "read", Path: name, Err: errNotRegular}
	}
	if info.Size() > MaxRuleFileBytes {
		return &fs.PathError{Op: "read", Path: name, Err: errTooLarge}
	}
	return nil
}

// readLimited reads an open rule file, checking it again: it may have
// changed since it was named.
func readLimited(name string, f fs.File) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkRuleFile(name, info); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxRuleFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxRuleFileBytes {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errTooLarge}
	}
	return data, nil
}

// readRuleFileFS is readRuleFile in a file system.
func readRuleFileFS(fsys fs.FS, name string) ([]byte, error) {
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if err := checkRuleFile(name, info); err != nil {
		return nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(name, f)
}

// LoadFS reads the rule files of fsys under root, which may name a file or
// a directory ("." for all of fsys), as Load does. Rule packs use it to
// load files embedded with //go:embed. File names in errors and in
// Rule.Source are paths within fsys.
func (l *Loader) LoadFS(fsys fs.FS, root string) ([]*Rule, error) {
	if root == "" {
		root = "."
	}
	var names []string
	var errs []*FileError
	seen, walked := map[string]bool{}, map[string]bool{}
	info, err := fs.Stat(fsys, root)
	switch {
	case err != nil:
		errs = append(errs, &FileError{File: root, Msg: pathError(err), Err: err})
	case !info.IsDir():
		names = append(names, root)
	default:
		err = fs.WalkDir(fsys, root, func(name string, d fs.DirEntry, err error) error {
			return l.visit(name, d, err, root, path.Clean, seen, walked, &names, &errs)
		})
		if err != nil {
			errs = append(errs, &FileError{File: root, Msg: pathError(err), Err: err})
		}
	}
	return l.load(names, walked, func(name string) ([]byte, error) { return readRuleFileFS(fsys, name) }, errs)
}

// errOutside is the problem of a rule file, found in a directory, that is
// a symbolic link to a file outside that directory.
var errOutside = errors.New("a symbolic link to a file outside the directory loaded")

// linksOutside reports whether the symbolic link name resolves to a file
// outside root, itself resolved.
func linksOutside(root, name string) (bool, error) {
	target, err := filepath.EvalSymlinks(name)
	if err != nil {
		return false, err
	}
	rel, err := filepath.Rel(root, target)
	if err != nil {
		return true, nil
	}
	return rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)), nil
}

// visit collects the rule files of a directory walk, and marks them as
// found in a directory in walked.
func (l *Loader) visit(name string, d fs.DirEntry, err error, root string, clean func(string) string, seen, walked map[string]bool, names *[]string, errs *[]*FileError) error {
	if err != nil {
		*errs = append(*errs, &FileError{File: name, Msg: pathError(err), Err: err})
		if d != nil && d.IsDir() {
			return fs.SkipDir
		}
		return nil
	}
	hidden := strings.HasPrefix(d.Name(), ".") && name != root
	if name != root && l.excluded(name, root) {
		if d.IsDir() {
			return fs.SkipDir
		}
		return nil
	}
	if d.IsDir() {
		if hidden {
			return fs.SkipDir
		}
		return nil
	}
	ext := strings.ToLower(path.Ext(d.Name()))
	if hidden || (ext != ".yml" && ext != ".yaml") || seen[clean(name)] {
		return nil
	}
	seen[clean(name)] = true
	walked[name] = true
	*names = append(*names, name)
	return nil
}

// pathError words a file system error without repeating the path, which
// FileError gives.
func pathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return "cannot read: " + err.Error()
}

// load parses the files, defines the globals, then builds and compiles the
// rules, collecting every problem.
func (l *Loader) load(names []string, walked map[string]bool, read func(string) ([]byte, error), errs []*FileError) ([]*Rule, error) {
	funcs := l.Functions
	if funcs == nil {
		funcs = NewFunctions()
	}
	st := &loadState{funcs: funcs, limits: l.Limits.withDefaults(), defined: map[string]string{}, ruleIDs: map[string]string{}, globalIDs: map[string]string{}, globalDefs: map[string]string{}}
	var files []*parsedFile
	for _, name := range names {
		data, err := read(name)
		if err != nil {
			errs = append(errs, &FileError{File: name, Msg: pathError(err), Err: err})
			continue
		}
		pf := parseFile(name, data, walked[name])
		if pf.skipped != "" {
			if l.OnSkip != nil {
				l.OnSkip(name, pf.skipped)
			}
			continue
		}
		files = append(files, pf)
	}
	// Definitions first: any rule may use those of any file.
	for _, pf := range files {
		if pf.global != nil {
			st.define(pf)
		}
	}
	for _, pf := range files {
		if pf.global != nil {
			st.checkDefinitions(pf)
		}
	}
	var rules []*Rule
	for _, pf := range files {
		if pf.rule != nil {
			if r := st.build(pf); r != nil {
				rules = append(rules, r)
			}
		}
		errs = append(errs, pf.f.errs...)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool {
			a, b := errs[i], errs[j]
			if a.File != b.File {
				return a.File < b.File
			}
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Column < b.Column
		})
		return rules, &LoadError{Errs: errs}
	}
	return rules, nil
}

// FileError is a problem in a rule file. Line and Column (1-based, 0 when
// unknown) locate the key or value at fault; for an expression that does
// not compile, the place in the expression where compiling failed.
type FileError struct {
	File         string
	Line, Column int
	RuleID       string // the rule's ID, when known
	Msg          string // what is wrong
	Err          error  // the underlying error, such as a *CompileError
}

// Error formats the problem as file:line:column: message.
func (e *FileError) Error() string {
	return "detect: " + e.Position() + ": " + e.Message()
}

// Position returns "file:line:column", or just the file when the line is
// unknown.
func (e *FileError) Position() string {
	if e.Line == 0 {
		return e.File
	}
	return fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Column)
}

// Message returns the problem without its position: the message, after the
// rule's ID when known.
func (e *FileError) Message() string {
	if e.RuleID != "" {
		return "rule " + e.RuleID + ": " + e.Msg
	}
	return e.Msg
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

// LoadError lists every problem found while loading rule files, ordered by
// file, line and column.
type LoadError struct {
	Errs []*FileError
}

// Error lists every problem, one per line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Errs))
	for i, fe := range e.Errs {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e *LoadError) Unwrap() []error {
	out := make([]error, len(e.Errs))
	for i, fe := range e.Errs {
		out[i] = fe
	}
	return out
}
