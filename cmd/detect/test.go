package main

import (
	"fmt"
	"io"
)

func runTest(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "detect test: not implemented yet")
	return 2
}
