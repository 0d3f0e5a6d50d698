package sqlite

import (
	"context"
	"database/sql"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// Under a steady load of writes and reads the WAL stays bounded: SQLite's
// own checkpoints cannot restart it while readers keep using it, so the
// writer truncates it once it passes walLimit.
func TestWALStaysBoundedUnderLoad(t *testing.T) {
	old := walLimit
	walLimit = 1 << 20
	defer func() { walLimit = old }()
	path := t.TempDir() + "/wal.db"
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stop atomic.Bool
	var readers sync.WaitGroup
	for r := 0; r < 4; r++ { // readers always inside a query
		readers.Add(1)
		go func() {
			defer readers.Done()
			for !stop.Load() {
				db.History(context.Background(), swfd.HistoryQuery{RunID: "bench-run-0", Limit: 50})
			}
		}()
	}
	var writers sync.WaitGroup
	maxWAL := int64(0)
	var mu sync.Mutex
	for w := 0; w < 8; w++ {
		writers.Add(1)
		go func(w int) {
			defer writers.Done()
			run := newBenchRun(t, db, int64(w))
			for i := 0; i < 400; i++ {
				if err := db.Commit(context.Background(), run.update()); err != nil {
					t.Error(err)
					return
				}
				if fi, err := os.Stat(path + "-wal"); err == nil {
					mu.Lock()
					maxWAL = max(maxWAL, fi.Size())
					mu.Unlock()
				}
			}
		}(w)
	}
	writers.Wait()
	stop.Store(true)
	readers.Wait()
	// 3,200 commits write well over 10 MB of WAL frames; trimmed at 1 MB
	// (checked every 16 commits), the file stays a few MB at most.
	if maxWAL > 8<<20 {
		t.Fatalf("WAL grew to %d bytes; limit %d", maxWAL, walLimit)
	}
	t.Logf("largest WAL: %d bytes", maxWAL)
}

// A reader that keeps one snapshot for long (swfd backup copying a large
// database, say) keeps the WAL from being truncated. The writer must not
// wait for it: it gives up on the truncation at once, tries again later, and
// truncates once the reader has gone.
func TestWALTrimDoesNotWaitForALongReader(t *testing.T) {
	old := walLimit
	walLimit = 64 << 10
	defer func() { walLimit = old }()
	path := t.TempDir() + "/wal.db"
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run := newBenchRun(t, db, 0)
	commit := func() {
		t.Helper()
		// Far less than the busy timeout (10 s) a truncation used to wait
		// for readers, far more than a commit needs.
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- db.Commit(context.Background(), run.update()) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatal("a commit waited for a reader's snapshot")
		}
	}
	for i := 0; i < 40; i++ {
		commit()
	}

	// The long reader: a read transaction of another connection, holding
	// its snapshot of the WAL as SQLite's online backup does.
	other, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ { // the WAL passes walLimit; trims are tried
		commit()
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < walLimit {
		t.Fatalf("WAL is %d bytes with a reader holding it; the test needs it past %d", fi.Size(), walLimit)
	}
	tx.Rollback()

	// With the reader gone the WAL is truncated again.
	for i := 0; i < 2000; i++ {
		commit()
		if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() < walLimit {
			return
		}
	}
	t.Fatalf("the WAL was never truncated after the reader left")
}
