//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package sqlite

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// On a file system that cannot flock, the store opens without the guard
// and says so in the log, as it opened before the guard existed.
func TestOpenWithoutFlock(t *testing.T) {
	flock = func(int, int) error { return syscall.ENOLCK }
	t.Cleanup(func() { flock = syscall.Flock })
	var log bytes.Buffer
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "swfd.db"), slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatalf("Open where flock fails: %v", err)
	}
	defer db.Close()
	if err := db.Commit(context.Background(), sampleBatch(0)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "cannot lock the database file") {
		t.Errorf("no warning in the log: %s", log.String())
	}
}
