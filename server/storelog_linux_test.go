//go:build linux

package server

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// fullFS mounts a small tmpfs for the test and returns its directory and a
// function that fills it up; the test is skipped where mounting is not
// allowed.
func fullFS(t *testing.T) (dir string, fill func()) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", 8<<20), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small file system here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})
	return dir, func() {
		f, err := os.Create(filepath.Join(dir, "filler"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		chunk := make([]byte, 64<<10)
		for _, n := range []int{len(chunk), 4096, 512, 1} {
			for {
				if _, err := f.Write(chunk[:n]); err != nil {
					if !errors.Is(err, syscall.ENOSPC) {
						t.Fatalf("filling the disk: %v", err)
					}
					break
				}
			}
		}
	}
}

// On a full disk a storm of calls that write is refused with 503s, and
// the log gets a few lines a second of the calls refused and of the
// commits that failed, with counts of those left out; before, the probe
// counted 28,000 lines in 10 s, a line per call and one per commit.
func TestFullDiskIsLoggedRateLimited(t *testing.T) {
	dir, fill := fullFS(t)
	s, logBuf := openSQLiteServer(t, dir)
	fill()
	stormOfWrites(t, s, logBuf, 2000, 503, "WARN", "storage is full: a call that writes was refused")
	lines, counted := tallyLines(logBuf, "WARN", "sqlite: commit failed: the disk is full")
	if len(lines) == 0 || len(lines) > 3*storeLineBurst || counted == 0 {
		t.Fatalf("%d lines of failed commits, %d counted as left out:\n%s", len(lines), counted, logBuf.String())
	}
}
