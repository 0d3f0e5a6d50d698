package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/sqlite/internal/uring"
)

// requireRing skips a test where this kernel offers no io_uring (the store
// then syncs with fdatasync, as every other test of the file store checks),
// unless SWFD_REQUIRE_IO_URING is set, as on the machines CI runs on.
func requireRing(t *testing.T) {
	t.Helper()
	r, err := uring.New()
	if err != nil {
		if os.Getenv("SWFD_REQUIRE_IO_URING") != "" {
			t.Fatalf("no io_uring: %v", err)
		}
		t.Skipf("no io_uring here: %v", err)
	}
	r.Close()
}

func createDomain(t *testing.T, db *DB, name string) {
	t.Helper()
	d := swfd.Domain{Name: name, Status: swfd.StatusRegistered, RetentionDays: "1", Created: time.Unix(1_700_000_000, 0)}
	if err := db.CreateDomain(context.Background(), d, 0); err != nil {
		t.Fatalf("create domain %s: %v", name, err)
	}
}

// TestWALSyncedThroughTheRing: where the kernel offers an io_uring, the
// file store syncs its log through it, commit after commit, and what it
// acknowledged is there when the file is opened again.
func TestWALSyncedThroughTheRing(t *testing.T) {
	requireRing(t)
	path := filepath.Join(t.TempDir(), "swfd.db")
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		createDomain(t, db, "d"+strings.Repeat("x", i))
	}
	// The syncer answers a write after its sync: the ring is read after
	// the last one.
	if db.ring == nil {
		t.Fatal("the store syncs its log with fdatasync, not through the io_uring this kernel offers")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 20 {
		if _, err := db.GetDomain(context.Background(), "d"+strings.Repeat("x", i)); err != nil {
			t.Fatalf("after reopening, domain %d: %v", i, err)
		}
	}
	mem, err := Open(context.Background(), ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if mem.ring != nil {
		t.Error("the in-memory store set up an io_uring it has no file to sync with")
	}
}

// TestBrokenRingFallsBackToFdatasync: a ring that fails (here, closed
// under the store) loses no write: the sync is made with fdatasync, which
// the store uses from then on, and says so in its log.
func TestBrokenRingFallsBackToFdatasync(t *testing.T) {
	requireRing(t)
	db, logs := openLogged(t, filepath.Join(t.TempDir(), "swfd.db"))
	createDomain(t, db, "before")
	if db.ring == nil {
		t.Fatal("no ring to break")
	}
	db.ring.Close()
	createDomain(t, db, "after")
	createDomain(t, db, "later")
	if db.ring != nil {
		t.Error("the store kept the ring that failed")
	}
	if !strings.Contains(logs.String(), "using fdatasync from now on") {
		t.Errorf("the log does not say the store went back to fdatasync:\n%s", logs.String())
	}
	if err := db.failure(); err != nil {
		t.Errorf("the store refuses writes after the ring failed: %v", err)
	}
	if _, err := db.GetDomain(context.Background(), "after"); err != nil {
		t.Errorf("the write synced by fdatasync is not there: %v", err)
	}
}
