//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A restore whose database path is a named pipe (a slip: the --db of
// another program's pipe) is refused at once, the pipe left as it is.
// Looking at what the path held, the restore opened it for reading, which
// waited for a writer that never came: swfd restore hung, and as the wait
// is in the kernel, SIGINT and SIGTERM did not stop it either.
func TestRestoreRefusesANamedPipe(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "swfd.db")
	sampleDB(t, src, 2)
	backup := filepath.Join(dir, "backup.db")
	if _, err := Backup(context.Background(), src, backup, nil); err != nil {
		t.Fatal(err)
	}
	pipe := filepath.Join(dir, "pipe.db")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Restore(context.Background(), backup, pipe, nil)
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		// Let the stuck open go: a writer comes.
		if w, err := os.OpenFile(pipe, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("Restore into a named pipe had not returned after 5 s")
	}
	if err == nil || !strings.Contains(err.Error(), pipe+" is a named pipe, not a file; give the path of the database file") {
		t.Fatalf("Restore into a named pipe: %v, want it refused as no file", err)
	}
	if fi, err := os.Lstat(pipe); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the named pipe was not left as it was: %v, %v", fi, err)
	}
}
