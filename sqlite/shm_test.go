package sqlite

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/sqlite/internal/diskio"
)

// When the WAL index's shared memory (the -shm file) cannot grow, as on a
// file system with no room left, SQLite fails the commit with
// SQLITE_IOERR_SHMSIZE: the write fails as on a full disk (an error
// wrapping swfd.ErrStorageFull, which the API answers with a retryable
// 503), the log says which file could not grow, nothing of the write is
// kept, and writes succeed again once the file can grow.
func TestShmCannotGrowIsAFullDisk(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	path := filepath.Join(t.TempDir(), "swfd.db")
	db, err := Open(ctx, path, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var refused atomic.Int64
	// Region 0 exists from the start; the WAL outgrows it after about
	// 4000 pages, and the next region needs the file to grow.
	diskio.SetShmFault(func(region int32, extend bool) int32 {
		if region > 0 && extend {
			refused.Add(1)
			return sqlite3.SQLITE_IOERR_SHMSIZE
		}
		return sqlite3.SQLITE_OK
	})
	t.Cleanup(func() { diskio.SetShmFault(nil) })
	big := bytes.Repeat([]byte("x"), 256<<10)
	n := 0
	for ; n < 200; n++ {
		b := sampleBatch(n)
		b.AddTransfers = append(b.AddTransfers, swfd.Transfer{RunID: b.Updates[0].Execution.RunID, Payload: big})
		if err = db.Commit(ctx, b); err != nil {
			break
		}
	}
	if err == nil || refused.Load() == 0 {
		t.Fatalf("%d writes of 256 KiB and more never grew the -shm file (%d refused)", n, refused.Load())
	}
	if !errors.Is(err, swfd.ErrStorageFull) {
		t.Errorf("a write that could not grow the -shm file: %v, want an error wrapping swfd.ErrStorageFull", err)
	}
	if !strings.Contains(logs.String(), path+"-shm") || !strings.Contains(logs.String(), "could not grow") {
		t.Errorf("the log does not say the -shm file could not grow:\n%s", logs.String())
	}
	// Nothing of the failed write was kept.
	if _, err := db.GetExecution(ctx, "d", sampleBatch(n).Updates[0].Execution.RunID); !errors.Is(err, swfd.ErrNotFound) {
		t.Errorf("the failed write's run: %v, want ErrNotFound", err)
	}
	diskio.SetShmFault(nil)
	if err := db.Commit(ctx, sampleBatch(n)); err != nil {
		t.Fatalf("a write once the -shm file can grow: %v", err)
	}
	checkSample(t, db, n+1)
}
