//go:build linux

package uring_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/swfd/swfd/sqlite/internal/uring"
)

// newRing gives a ring, or skips the test where the kernel refuses one
// (swfd then syncs as it always did, which the sqlite package's tests
// cover). SWFD_REQUIRE_IO_URING=1 makes a refusal fail the test instead.
func newRing(t *testing.T) *uring.Ring {
	t.Helper()
	r, err := uring.New()
	if err != nil {
		if !errors.Is(err, uring.ErrUnsupported) {
			t.Fatalf("New: %v, which is not ErrUnsupported", err)
		}
		if os.Getenv("SWFD_REQUIRE_IO_URING") != "" {
			t.Fatalf("no io_uring: %v", err)
		}
		t.Skipf("no io_uring here: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestFdatasyncThroughTheRing(t *testing.T) {
	r := newRing(t)
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range 50 {
		if _, err := f.WriteAt([]byte(strings.Repeat("x", 4096)), int64(i)*4096); err != nil {
			t.Fatal(err)
		}
		if err := r.Fdatasync(f); err != nil {
			t.Fatalf("sync %d: %v", i, err)
		}
	}
}

// TestFdatasyncErrorsAreTheSystemCalls: what the kernel answers a sync
// with reaches the caller as its errno. A pipe cannot be synced (EINVAL):
// that is the ring's refusal of the file, which the caller is told to sync
// some other way, and the ring stays usable.
func TestFdatasyncErrorsAreTheSystemCalls(t *testing.T) {
	r := newRing(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	err = r.Fdatasync(pw)
	if !errors.Is(err, syscall.EINVAL) || !errors.Is(err, uring.ErrUnsupported) {
		t.Fatalf("sync of a pipe: %v, want EINVAL and ErrUnsupported", err)
	}
	if plain := syscall.Fdatasync(int(pw.Fd())); !errors.Is(plain, syscall.EINVAL) {
		t.Fatalf("fdatasync(2) of a pipe: %v; the test expects EINVAL", plain)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := r.Fdatasync(f); err != nil {
		t.Fatalf("sync of a file after the pipe's: %v", err)
	}
	f.Close()
	if err := r.Fdatasync(f); err == nil || errors.Is(err, uring.ErrUnsupported) {
		t.Fatalf("sync of a closed file: %v, want the file's error", err)
	}
}

func TestClosedRingRefusesSyncs(t *testing.T) {
	r := newRing(t)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := r.Fdatasync(f); !errors.Is(err, uring.ErrUnsupported) {
		t.Fatalf("sync on a closed ring: %v, want ErrUnsupported", err)
	}
}
