package main

import (
	"fmt"
	"io"
)

func runScan(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "detect scan: not implemented yet")
	return 2
}
