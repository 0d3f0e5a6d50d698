package sqlite

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
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

// When the WAL index cannot grow while Open recovers a write-ahead log
// left by a server that stopped without closing the store (a crash, a kill
// -9), as on a full file system, Open fails saying that the disk is full
// and which file could not grow, with an error wrapping
// swfd.ErrStorageFull, not with SQLite's bare code; once the file can grow
// it opens with everything the log held.
func TestShmCannotGrowDuringRecoveryIsAFullDisk(t *testing.T) {
	ctx := context.Background()
	// A log of more pages than the index's first region covers (about
	// 4,000), left without a checkpoint: the files copied while the store
	// that wrote them is open, as a crash would leave them.
	db, path := openTemp(t)
	big := bytes.Repeat([]byte("x"), 256<<10)
	n := 0
	for ; n < 200; n++ {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 5000*4096 {
			break
		}
		b := sampleBatch(n)
		b.AddTransfers = append(b.AddTransfers, swfd.Transfer{RunID: b.Updates[0].Execution.RunID, Payload: big})
		if err := db.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	crashed := filepath.Join(t.TempDir(), "swfd.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(crashed+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	var refused atomic.Int64
	diskio.SetShmFault(func(region int32, extend bool) int32 {
		if region > 0 && extend {
			refused.Add(1)
			return sqlite3.SQLITE_IOERR_SHMSIZE
		}
		return sqlite3.SQLITE_OK
	})
	t.Cleanup(func() { diskio.SetShmFault(nil) })
	reopened, err := Open(ctx, crashed, nil)
	if err == nil {
		reopened.Close()
		t.Fatalf("Open recovered a log of %d writes of 256 KiB without growing the -shm file (%d refused)", n, refused.Load())
	}
	if refused.Load() == 0 {
		t.Fatalf("Open failed before it grew the -shm file: %v", err)
	}
	if !errors.Is(err, swfd.ErrStorageFull) || !strings.Contains(err.Error(), "disk is full") || !strings.Contains(err.Error(), crashed+"-shm") {
		t.Errorf("Open, when the -shm file cannot grow: %v; want an error wrapping swfd.ErrStorageFull that says the disk is full and names %s-shm", err, crashed)
	}
	t.Log(err)
	diskio.SetShmFault(nil)
	reopened, err = Open(ctx, crashed, nil)
	if err != nil {
		t.Fatalf("Open once the -shm file can grow: %v", err)
	}
	defer reopened.Close()
	checkSample(t, reopened, n)
}
