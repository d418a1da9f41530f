package main

import (
	"fmt"
	"io"
)

func runLint(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "detect lint: not implemented yet")
	return 2
}
