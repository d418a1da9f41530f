package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(bytes.NewReader(samples), "events.jsonl", "", &out); err != nil {
		t.Fatal(err)
	}
	want := `HIGH Acme.Admin.Delete.Outside.Office: Admin alice@acme.example (security) ran bucket.delete from 198.51.100.23 (2 events)
  outputs: {"team":"security","domain":"acme.example","source_ip":"198.51.100.23"}
MEDIUM Acme.Device.Random.Name: Device x7Kq9ZpL2mW4 registered by bob@acme.example (1 event)
  outputs: {"entropy":3.584962500721156}
6 events, 3 matches, 2 alerts
`
	if got := out.String(); got != want {
		t.Errorf("run printed:\n%s\nwant:\n%s", got, want)
	}
}

// TestRunWithAdmins replaces the administrators: dave's deletion of a
// trail becomes a critical alert, and alice is no longer an admin.
func TestRunWithAdmins(t *testing.T) {
	admins := filepath.Join(t.TempDir(), "admins.csv")
	if err := os.WriteFile(admins, []byte("email,team\ndave@acme.example,sre\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(bytes.NewReader(samples), "events.jsonl", admins, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.Contains(got, "CRITICAL Acme.Admin.Delete.Outside.Office: Admin dave@acme.example (sre) ran trail.delete from 192.0.2.50 (1 event)") {
		t.Errorf("no critical alert for dave:\n%s", got)
	}
	if strings.Contains(got, "alice") {
		t.Errorf("alice is still an admin:\n%s", got)
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("email,team\n,sre\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(bytes.NewReader(samples), "events.jsonl", bad, &out); err == nil || !strings.Contains(err.Error(), "bad.csv:2:1: the key email is empty") {
		t.Errorf("run with a broken admins file = %v; want the file, line and column", err)
	}
}
