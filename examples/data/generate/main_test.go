package main

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite ../wiz_audit.jsonl")

const sampleFile = "../wiz_audit.jsonl"

// TestSampleIsCurrent checks that the committed sample is what the command
// writes, so that the two cannot drift apart. Run with -update after a
// change to the generator.
func TestSampleIsCurrent(t *testing.T) {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(sampleFile, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(sampleFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Errorf("%s differs from what the command writes; regenerate it with\n\tgo run ./examples/data/generate > examples/data/wiz_audit.jsonl\nor go test ./examples/data/generate -update", sampleFile)
	}
}
