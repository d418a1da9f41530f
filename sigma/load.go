package sigma

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/detectkit/detect"
)

var (
	ownFunctions     *detect.Functions
	ownFunctionsErr  error
	ownFunctionsOnce sync.Once
	// registering makes adding the functions to a caller's set, and
	// checking that it has them, one step.
	registering sync.Mutex
)

// functionsFor returns fns with the Sigma functions added (a set of the
// package's own for nil), adding them once per set.
func functionsFor(fns *detect.Functions) (*detect.Functions, error) {
	if fns == nil {
		ownFunctionsOnce.Do(func() {
			ownFunctions = detect.NewFunctions()
			ownFunctionsErr = addFunctions(ownFunctions)
		})
		return ownFunctions, ownFunctionsErr
	}
	registering.Lock()
	defer registering.Unlock()
	if fns.Has("sigma_like") {
		return fns, nil
	}
	if err := addFunctions(fns); err != nil {
		return nil, fmt.Errorf("sigma: %w", err)
	}
	return fns, nil
}

// Load reads Sigma rule files: each path is a file, or a directory searched
// recursively for .yml and .yaml files. Filters apply to the rules they
// name in any of the files. Every rule that converts is returned; the
// others are reported together in the error, one *Error each (errors.As
// finds an *UnsupportedError in those that use a feature detect does not
// run).
func Load(opts Options, paths ...string) ([]*detect.Rule, error) {
	var docs []sourceDoc
	var errs []error
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, fmt.Errorf("sigma: %w", err))
				return nil
			}
			if d.IsDir() || !(strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
				return nil
			}
			if !d.Type().IsRegular() {
				errs = append(errs, fmt.Errorf("sigma: %s: not a regular file", path))
				return nil
			}
			if info, err := d.Info(); err == nil && info.Size() > detect.MaxRuleFileBytes {
				errs = append(errs, &Error{Source: path, Err: fmt.Errorf("the file is %d bytes, more than the %d a rule file may have", info.Size(), detect.MaxRuleFileBytes)})
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("sigma: %w", err))
				return nil
			}
			ds, err := readDocs(data, path)
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			docs = append(docs, ds...)
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	rules, buildErrs := build(docs, opts)
	return rules, errors.Join(append(errs, buildErrs...)...)
}
