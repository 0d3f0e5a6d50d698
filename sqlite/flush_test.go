package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/sqlite/internal/flush"
)

// requireFlusher skips a test where this kernel refuses asynchronous
// fdatasync (the store then syncs with fdatasync, as every other test of
// the file store checks), unless SWFD_REQUIRE_AIO is set, as on the
// machines CI runs on.
func requireFlusher(t *testing.T) {
	t.Helper()
	f, err := flush.New()
	if err != nil {
		if os.Getenv("SWFD_REQUIRE_AIO") != "" {
			t.Fatalf("no asynchronous I/O: %v", err)
		}
		t.Skipf("no asynchronous I/O here: %v", err)
	}
	f.Close()
}

func createDomain(t *testing.T, db *DB, name string) {
	t.Helper()
	d := swfd.Domain{Name: name, Status: swfd.StatusRegistered, RetentionDays: "1", Created: time.Unix(1_700_000_000, 0)}
	if err := db.CreateDomain(context.Background(), d, 0); err != nil {
		t.Fatalf("create domain %s: %v", name, err)
	}
}

// withGOMAXPROCS runs the rest of the test with n processors.
func withGOMAXPROCS(t *testing.T, n int) {
	old := runtime.GOMAXPROCS(n)
	t.Cleanup(func() { runtime.GOMAXPROCS(old) })
}

// TestWALSyncedAsynchronously: with one processor, where the kernel offers
// asynchronous fdatasync, the file store syncs its log that way, commit
// after commit, and what it acknowledged is there when the file is opened
// again; with two it calls fdatasync.
func TestWALSyncedAsynchronously(t *testing.T) {
	requireFlusher(t)
	path := filepath.Join(t.TempDir(), "swfd.db")
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	withGOMAXPROCS(t, 2)
	createDomain(t, db, "two")
	// The syncer answers a write after its sync: the count is read after
	// the last one.
	if n := db.asyncSyncs.Load(); n != 0 {
		t.Fatalf("%d asynchronous syncs with two processors, want none", n)
	}
	withGOMAXPROCS(t, 1)
	for i := range 20 {
		createDomain(t, db, "d"+strings.Repeat("x", i))
	}
	if n := db.asyncSyncs.Load(); n < 20 {
		t.Fatalf("%d asynchronous syncs of 20 commits with one processor, want 20", n)
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
	if mem.flusher != nil {
		t.Error("the in-memory store set up an asynchronous sync it has no file for")
	}
}

// TestBrokenFlusherFallsBackToFdatasync: a Flusher that fails (here,
// closed under the store) loses no write: the sync is made with fdatasync, which
// the store uses from then on, and says so in its log.
func TestBrokenFlusherFallsBackToFdatasync(t *testing.T) {
	requireFlusher(t)
	withGOMAXPROCS(t, 1)
	db, logs := openLogged(t, filepath.Join(t.TempDir(), "swfd.db"))
	createDomain(t, db, "before")
	if db.flusher == nil {
		t.Fatal("no Flusher to break")
	}
	db.flusher.Close()
	createDomain(t, db, "after")
	createDomain(t, db, "later")
	if db.flusher != nil {
		t.Error("the store kept the Flusher that failed")
	}
	if !strings.Contains(logs.String(), "using fdatasync from now on") {
		t.Errorf("the log does not say the store went back to fdatasync:\n%s", logs.String())
	}
	if err := db.failure(); err != nil {
		t.Errorf("the store refuses writes after the Flusher failed: %v", err)
	}
	if _, err := db.GetDomain(context.Background(), "after"); err != nil {
		t.Errorf("the write synced by fdatasync is not there: %v", err)
	}
}
