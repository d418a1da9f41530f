package detect

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
)

// FuzzYAMLHints checks that the plain-words explanations of YAML syntax
// errors never panic on any input and point inside the file.
func FuzzYAMLHints(f *testing.F) {
	files, _ := filepath.Glob("testdata/rules/bad/*.yml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("a: [x\nb: 1\n"))
	f.Add([]byte("a:\n\t- b\n"))
	f.Add([]byte("AlertTitle: {x} y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := parser.ParseBytes(data, 0)
		var se *yaml.SyntaxError
		if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil {
			return
		}
		yf := newYAMLFile("f.yml", data)
		line, col, msg, ok := yf.yamlHint(se)
		if !ok {
			return
		}
		if line < 1 || line > len(yf.lines) || col < 1 || msg == "" {
			t.Errorf("yamlHint(%q) = %d:%d %q; want a place in the file", data, line, col, msg)
		}
	})
}
