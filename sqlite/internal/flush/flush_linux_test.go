//go:build linux

package flush_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/swfd/swfd/sqlite/internal/flush"
)

// newFlusher gives a Flusher, or skips the test where the kernel refuses
// asynchronous I/O (swfd then flushes with fdatasync, as the sqlite
// package's tests cover). SWFD_REQUIRE_AIO=1 makes a refusal fail the test.
func newFlusher(t *testing.T) *flush.Flusher {
	t.Helper()
	f, err := flush.New()
	if err != nil {
		if !errors.Is(err, flush.ErrUnsupported) {
			t.Fatalf("New: %v, which is not ErrUnsupported", err)
		}
		if os.Getenv("SWFD_REQUIRE_AIO") != "" {
			t.Fatalf("no asynchronous I/O: %v", err)
		}
		t.Skipf("no asynchronous I/O here: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestFdatasync(t *testing.T) {
	fl := newFlusher(t)
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range 50 {
		if _, err := f.WriteAt([]byte(strings.Repeat("x", 4096)), int64(i)*4096); err != nil {
			t.Fatal(err)
		}
		if err := fl.Fdatasync(f); err != nil {
			t.Fatalf("flush %d: %v", i, err)
		}
	}
}

// TestFdatasyncErrors: a file that cannot be flushed (a pipe: EINVAL, as
// fdatasync(2) says of it too) is one to flush another way, and the
// Flusher goes on serving; a closed file is the file's error.
func TestFdatasyncErrors(t *testing.T) {
	fl := newFlusher(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	if err := fl.Fdatasync(pw); !errors.Is(err, syscall.EINVAL) || !errors.Is(err, flush.ErrUnsupported) {
		t.Fatalf("flush of a pipe: %v, want EINVAL and ErrUnsupported", err)
	}
	if plain := syscall.Fdatasync(int(pw.Fd())); !errors.Is(plain, syscall.EINVAL) {
		t.Fatalf("fdatasync(2) of a pipe: %v; the test expects EINVAL", plain)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fl.Fdatasync(f); err != nil {
		t.Fatalf("flush of a file after the pipe's: %v", err)
	}
	f.Close()
	if err := fl.Fdatasync(f); err == nil || errors.Is(err, flush.ErrUnsupported) {
		t.Fatalf("flush of a closed file: %v, want the file's error", err)
	}
}

func TestClosedFlusherRefuses(t *testing.T) {
	fl := newFlusher(t)
	if err := fl.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := fl.Fdatasync(f); !errors.Is(err, flush.ErrUnsupported) {
		t.Fatalf("flush on a closed Flusher: %v, want ErrUnsupported", err)
	}
}
