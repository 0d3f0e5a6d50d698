package sqlite

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"

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
