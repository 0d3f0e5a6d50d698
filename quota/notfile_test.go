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

// A quota file that is a named pipe is refused at once: reading it waited
// for a writer that might never come, holding swfd's start (or a SIGHUP).
func TestLoadRefusesANamedPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quotas.json")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	err := loadWithin(t, path)
	if err == nil || !strings.Contains(err.Error(), "quota file: "+path+" is a named pipe, not a file; give the path of the quota file") {
		t.Errorf("Load of a named pipe: %v, want it refused as no file", err)
	}
}

// A device such as /dev/zero is refused, not read without end.
func TestLoadRefusesADevice(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero here")
	}
	err := loadWithin(t, "/dev/zero")
	if err == nil || !strings.Contains(err.Error(), "quota file: /dev/zero is a device, not a file") {
		t.Errorf("Load of /dev/zero: %v, want it refused as a device", err)
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
