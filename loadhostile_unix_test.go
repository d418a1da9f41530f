//go:build unix

package detect

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadNotRegular checks that what is not a regular file, named or
// found in a directory, is a problem of that file reported at once
// rather than read: a FIFO, which blocks its reader, and a symbolic link
// to a device that never ends. A symbolic link found in a directory that
// leads outside it is refused; one named explicitly is read.
func TestLoadNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.yml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFO:", err)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if err := os.Symlink("/dev/zero", filepath.Join(dir, "evil.yml")); err != nil {
			t.Fatal(err)
		}
	}
	outside := filepath.Join(t.TempDir(), "outside.yml")
	if err := os.WriteFile(outside, []byte(ruleHeader+"Condition: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link.yml")); err != nil {
		t.Fatal(err)
	}
	for _, paths := range [][]string{{dir}, {fifo}} {
		done := make(chan error, 1)
		go func() {
			_, err := Load(paths...)
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, errNotRegular) || !strings.Contains(err.Error(), "x.yml: cannot read: not a regular file") {
				t.Errorf("Load(%v) = %v; want x.yml not a regular file", paths, err)
			}
			var le *LoadError
			if errors.As(err, &le) && paths[0] == dir {
				var msgs []string
				for _, e := range le.Errs {
					msgs = append(msgs, e.Error())
				}
				all := strings.Join(msgs, "\n")
				if !strings.Contains(all, "link.yml: cannot read: a symbolic link to a file outside the directory loaded") {
					t.Errorf("Load(%s) = %s; want link.yml, a link out of the directory, refused", dir, all)
				}
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Load(%v) still reading after 5 s", paths)
		}
	}
	// A link to a device, named explicitly, is not read.
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := Load(filepath.Join(dir, "evil.yml")); !errors.Is(err, errNotRegular) {
			t.Errorf("Load(a link to /dev/zero) = %v; want not a regular file", err)
		}
	}
	// Named explicitly, the link is read.
	rules, err := Load(filepath.Join(dir, "link.yml"))
	if err != nil || len(rules) != 1 {
		t.Errorf("Load(link named explicitly) = %d rules, %v; want 1", len(rules), err)
	}
}
