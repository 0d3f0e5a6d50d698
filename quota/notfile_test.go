package quota

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loadWithin runs Load(path) and fails the test if it has not returned
// within a few seconds, letting a reader stuck on a named pipe go.
func loadWithin(t *testing.T, path string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := Load(path)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatalf("Load(%s) had not returned after 5 s", path)
		return nil
	}
}

// A directory is refused saying so, and a file past the size bound is
// refused without being read.
func TestLoadRefusesADirectoryAndAHugeFile(t *testing.T) {
	dir := t.TempDir()
	if err := loadWithin(t, dir); err == nil || !strings.Contains(err.Error(), dir+" is a directory; give the path of the quota file") {
		t.Errorf("Load of a directory: %v", err)
	}
	huge := filepath.Join(dir, "huge.json")
	if err := os.WriteFile(huge, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 1<<30); err != nil {
		t.Skipf("no sparse file here: %v", err)
	}
	if err := loadWithin(t, huge); err == nil || !strings.Contains(err.Error(), "more than the 16 MiB the quota file may hold") {
		t.Errorf("Load of a 1 GiB file: %v", err)
	}
}
