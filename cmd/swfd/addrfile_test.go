package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/logbuf"
)

// When swfd stops it removes the address file it wrote, and nothing else:
// if the path has meanwhile been given to something else (another
// process's file, even one with the same addresses, as a second swfd on
// the same fixed address writes; a directory; a symbolic link, to a copy
// or to swfd's own file moved away), that is left as it is, and so is a
// file swfd wrote that another process has since written in.
func TestAddrFileRemovesOnlyItsOwn(t *testing.T) {
	const content = "addr=127.0.0.1:8080\nurl=http://127.0.0.1:8080\n"
	write := func(t *testing.T, path string) (remove func()) {
		t.Helper()
		w, err := writeAddrFile(path, content)
		if err != nil {
			t.Fatal(err)
		}
		return w.remove
	}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		replace func(t *testing.T, dir, path string) // what happens to path while swfd runs
		gone    bool                                 // whether path is to be removed
	}{
		{name: "left as written", gone: true},
		{name: "another process's file with the same text", replace: func(t *testing.T, dir, path string) {
			other := filepath.Join(dir, "other")
			check(os.WriteFile(other, []byte(content), 0o644))
			check(os.Rename(other, path))
		}},
		{name: "removed, and another file with the same text made there", replace: func(t *testing.T, dir, path string) {
			check(os.Remove(path))
			check(os.WriteFile(path, []byte(content), 0o644))
		}},
		{name: "a directory", replace: func(t *testing.T, dir, path string) {
			check(os.Remove(path))
			check(os.Mkdir(path, 0o755))
		}},
		{name: "a symbolic link to a copy", replace: func(t *testing.T, dir, path string) {
			other := filepath.Join(dir, "copy")
			check(os.WriteFile(other, []byte(content), 0o644))
			check(os.Remove(path))
			check(os.Symlink(other, path))
		}},
		{name: "a symbolic link to swfd's file moved away", replace: func(t *testing.T, dir, path string) {
			moved := filepath.Join(dir, "moved")
			check(os.Rename(path, moved))
			check(os.Symlink(moved, path))
		}},
		{name: "written in by another process", replace: func(t *testing.T, dir, path string) {
			check(os.WriteFile(path, []byte("addr=127.0.0.1:9090\nurl=http://127.0.0.1:9090\n"), 0o644))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "swfd.addr")
			remove := write(t, path)
			var before os.FileInfo
			if c.replace != nil {
				c.replace(t, dir, path)
				var err error
				if before, err = os.Lstat(path); err != nil {
					t.Fatal(err)
				}
			}
			names := func() map[string]bool {
				entries, err := os.ReadDir(dir)
				if err != nil {
					t.Fatal(err)
				}
				m := map[string]bool{}
				for _, e := range entries {
					m[e.Name()] = true
				}
				return m
			}
			left := names()
			remove()
			after, err := os.Lstat(path)
			switch {
			case c.gone && !os.IsNotExist(err):
				t.Errorf("the address file is still there (%v)", err)
			case !c.gone && err != nil:
				t.Errorf("what was put at the path was removed: %v", err)
			case !c.gone && (!os.SameFile(before, after) || before.Mode() != after.Mode()):
				t.Errorf("what was put at the path was replaced")
			}
			// Nothing else in the directory was touched.
			delete(left, "swfd.addr")
			now := names()
			delete(now, "swfd.addr")
			if len(now) != len(left) {
				t.Errorf("the directory held %v, and after %v", left, now)
			}
		})
	}
}

// A second swfd started with the --addr and --addr-file of one that runs
// stops at once, the address being taken, and leaves the running swfd's
// address file where it is: the file a script reads the address from
// still names the swfd that serves there.
func TestAddrFileOfARunningSwfdIsKept(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.addr")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out logbuf.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--db", "sqlite::memory:", "--addr-file", path, "--log-level", "warn"}, noenv, &out)
	}()
	var first []byte
	for deadline := time.Now().Add(30 * time.Second); first == nil; time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("swfd stopped: %v\n%s", err, out.String())
		default:
		}
		if b, err := os.ReadFile(path); err == nil {
			first = b
		}
		if time.Now().After(deadline) {
			t.Fatalf("no address file after 30 s:\n%s", out.String())
		}
	}
	addr, _, _ := strings.Cut(strings.TrimPrefix(string(first), "addr="), "\n")
	err := run(context.Background(), []string{"--addr", addr, "--db", "sqlite::memory:", "--addr-file", path}, noenv, &logbuf.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--addr: listen tcp "+addr) {
		t.Errorf("a second swfd on the same address: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != string(first) {
		t.Errorf("the running swfd's address file after a second one failed to start: %q, %v; want %q", b, err, first)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the address file is still there after swfd stopped (%v)", err)
	}
}
