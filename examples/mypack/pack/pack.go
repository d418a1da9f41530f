// Package pack is the detection pack of a service, Acme: rules in YAML
// files embedded in the package, which call one of the service's Go
// functions (entropy) and read its lookup table of administrators.
//
// It shows how a service builds its own pack: embed the rule files and the
// tables, register the functions and tables on a detect.Functions of its
// own, and load the files with a detect.Loader that has them. Its rules'
// tests run under go test (see pack_test.go).
package pack

import (
	"embed"
	"fmt"
	"math"

	"github.com/detectkit/detect"
)

//go:embed rules/*.yml lookups/admins.csv
var files embed.FS

// Pack is a loaded pack: its rules and what they use. Each Pack has its own
// functions and tables, so two engines can use two Packs with different
// administrators.
type Pack struct {
	// Admins is the lookup table "admins": the administrators, by email.
	// It starts with the embedded lookups/admins.csv; replace its rows with
	// Admins.LoadFile while the rules run.
	Admins *detect.Table
	// Functions holds the pack's Go functions and tables.
	Functions *detect.Functions
	// Rules are the pack's rules, compiled, ordered by ID.
	Rules []*detect.Rule
}

// New loads the pack.
func New() (*Pack, error) {
	admins, err := detect.NewTable("admins", "email")
	if err != nil {
		return nil, err
	}
	if err := admins.LoadFS(files, "lookups/admins.csv"); err != nil {
		return nil, err
	}
	fns := detect.NewFunctions()
	if err := fns.RegisterFunc("entropy", Entropy); err != nil {
		return nil, err
	}
	if err := fns.AddTable(admins); err != nil {
		return nil, err
	}
	l := detect.Loader{Functions: fns}
	rules, err := l.LoadFS(files, "rules")
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	return &Pack{Admins: admins, Functions: fns, Rules: rules}, nil
}

// Entropy returns the Shannon entropy of s in bits per character: about 2
// for English words, over 3.5 for random letters and digits.
func Entropy(s string) float64 {
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	h := 0.0
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h
}
