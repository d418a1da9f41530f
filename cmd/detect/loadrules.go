package main

import (
	"errors"

	"github.com/detectkit/detect"
)

// loadRules loads the rule files and directories named by paths.
var loadRules = func(paths []string) ([]*detect.Rule, error) {
	return nil, errors.New("loading rule files is not available")
}
