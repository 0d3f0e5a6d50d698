//go:build linux

package server

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readOnlyFS mounts a small ext4 file system that remounts itself
// read-only on an error (errors=remount-ro), and returns its directory and
// a function that makes it fail as an I/O error would (ext4's
// trigger_fs_error). The test is skipped where that cannot be done (not
// root, no ext4 or loop devices).
func readOnlyFS(t *testing.T) (dir string, fail func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a file system needs root")
	}
	base := t.TempDir()
	img, dir := filepath.Join(base, "fs.img"), filepath.Join(base, "mnt")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(32 << 20)
	f.Close()
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.ext4: %v %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop,errors=remount-ro", img, dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount an ext4 image here: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})
	out, err := exec.Command("findmnt", "-n", "-o", "SOURCE", dir).Output()
	if err != nil {
		t.Skipf("findmnt: %v", err)
	}
	trigger := filepath.Join("/sys/fs/ext4", filepath.Base(strings.TrimSpace(string(out))), "trigger_fs_error")
	if _, err := os.Stat(trigger); err != nil {
		t.Skipf("ext4 cannot be made to fail here: %v", err)
	}
	return dir, func() {
		if err := os.WriteFile(trigger, []byte("swfd test\n"), 0o200); err != nil {
			t.Fatal(err)
		}
	}
}

// The SQLite database's file system goes read-only under a running server
// (ext4's errors=remount-ro after an I/O error): each call that writes
// fails with a 500 InternalFailure that tells nothing internal, and
// /readyz answers 503, where before it went on answering ready while
// every write failed; /healthz stays 200 (the store answers, and reads go
// on).
func TestReadinessSeesTheFileSystemGoReadOnly(t *testing.T) {
	dir, fail := readOnlyFS(t)
	s, _ := openSQLiteServer(t, dir)
	if code, body := registerDomain(t, s, "before"); code != 200 {
		t.Fatalf("RegisterDomain: %d %s", code, body)
	}
	fail()
	code, body := registerDomain(t, s, "after")
	if code != 500 || !strings.Contains(body, "InternalFailure") || strings.Contains(body, dir) ||
		strings.Contains(body, "sqlite") || strings.Contains(body, "I/O") {
		t.Fatalf("RegisterDomain on a read-only file system: %d %s", code, body)
	}
	if code, body := probe(t, s, "/readyz"); code != 503 {
		t.Fatalf("/readyz on a read-only file system: %d %q", code, body)
	}
	if code, body := probe(t, s, "/healthz"); code != 200 {
		t.Fatalf("/healthz on a read-only file system: %d %q", code, body)
	}
	if code, body := callAPI(t, s, "ListDomains", `{"registrationStatus":"REGISTERED"}`); code != 200 || !strings.Contains(body, `"before"`) {
		t.Fatalf("ListDomains: %d %s", code, body)
	}
}

// On a file system gone read-only a storm of calls that write fails with
// 500s, and the log gets a few lines a second of them and of the commits
// that failed, with counts of those left out, not a line per call and
// one per commit.
func TestReadOnlyFileSystemIsLoggedRateLimited(t *testing.T) {
	dir, fail := readOnlyFS(t)
	s, logBuf := openSQLiteServer(t, dir)
	fail()
	stormOfWrites(t, s, logBuf, 2000, 500, "ERROR", "internal error")
	lines, counted := tallyLines(logBuf, "ERROR", "sqlite: commit failed")
	if len(lines) == 0 || len(lines) > 3*storeLineBurst || counted == 0 {
		t.Fatalf("%d lines of failed commits, %d counted as left out:\n%s", len(lines), counted, logBuf.String())
	}
}
