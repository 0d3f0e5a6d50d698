package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/sqlite/internal/diskio"
)

// coded is an error with a SQLite result code, as the driver's are.
type coded int

func (c coded) Error() string { return fmt.Sprintf("SQLite error (%d)", int(c)) }
func (c coded) Code() int     { return int(c) }

// Failures to reach the disk are told from a full disk and from the
// failures of the data.
func TestIsIOFailure(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{coded(sqlite3.SQLITE_IOERR_WRITE), true}, // "disk I/O error (778)": EROFS, EIO
		{coded(sqlite3.SQLITE_IOERR_FSYNC), true},
		{fmt.Errorf("sqlite: commit: %w", coded(sqlite3.SQLITE_IOERR)), true},
		{coded(sqlite3.SQLITE_READONLY), true},
		{coded(sqlite3.SQLITE_READONLY_DBMOVED), true},
		{coded(sqlite3.SQLITE_CANTOPEN), true},
		{fmt.Errorf("sync: %w", syscall.EIO), true},
		{fmt.Errorf("sync: %w", syscall.EROFS), true},
		{coded(sqlite3.SQLITE_IOERR_NOMEM), false},
		{coded(sqlite3.SQLITE_FULL), false},
		{syscall.ENOSPC, false},
		{coded(sqlite3.SQLITE_CONSTRAINT_UNIQUE), false},
		{coded(sqlite3.SQLITE_BUSY), false},
		{swfd.ErrConflict, false},
		{swfd.ErrStorageUnavailable, false},
		{errors.New("something else"), false},
	} {
		if got := isIOFailure(c.err); got != c.want {
			t.Errorf("isIOFailure(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// Writes fail to reach the disk (here the write-ahead log's writes fail,
// as on a file system that went read-only after an I/O error): each
// write fails, and WriteHealth says the store cannot write, where before
// it said the store could (so /readyz said ready); Ping still says the
// store answers. Once a write succeeds WriteHealth says so again; and with
// no write sent, WriteHealth's own write finds writes work again.
func TestWriteFailuresMakeTheStoreUnwritable(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	if err := db.Commit(ctx, sampleBatch(0)); err != nil {
		t.Fatal(err)
	}
	var walWrites atomic.Int64
	fail := func(code int32) {
		diskio.SetWriteFault(func(wal bool, n int32, off int64) int32 {
			if wal {
				walWrites.Add(1)
				return code
			}
			return sqlite3.SQLITE_OK
		})
	}
	t.Cleanup(func() { diskio.SetWriteFault(nil) })
	n := 1
	for _, code := range []int32{sqlite3.SQLITE_IOERR_WRITE, sqlite3.SQLITE_READONLY} {
		fail(code)
		err := db.Commit(ctx, sampleBatch(n))
		if err == nil || !isIOFailure(err) {
			t.Fatalf("a write failing with %d: %v", code, err)
		}
		if err := db.WriteHealth(ctx); err == nil {
			t.Fatalf("WriteHealth after a write failed with %d: nil", code)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		// WriteHealth's own writes fail too while the fault lasts.
		before := walWrites.Load()
		waitFor(t, "WriteHealth to try a write", func() bool {
			return db.WriteHealth(ctx) != nil && walWrites.Load() > before
		})
		if err := db.WriteHealth(ctx); err == nil {
			t.Fatal("WriteHealth after its own write failed: nil")
		}
		diskio.SetWriteFault(nil)
		if code == sqlite3.SQLITE_IOERR_WRITE {
			// A write that succeeds makes the store writable again.
			if err := db.Commit(ctx, sampleBatch(n)); err != nil {
				t.Fatal(err)
			}
			n++
			if err := db.WriteHealth(ctx); err != nil {
				t.Fatalf("WriteHealth after a write succeeded: %v", err)
			}
			continue
		}
		// With no write sent, WriteHealth finds out by itself.
		waitFor(t, "WriteHealth to find writes work again", func() bool { return db.WriteHealth(ctx) == nil })
	}
	if err := db.Commit(ctx, sampleBatch(n)); err != nil {
		t.Fatal(err)
	}
	checkSample(t, db, n+1)
}

// Open's error says the disk is full, and which file, for each way SQLite
// reports that, and leaves any other error as it is.
func TestOpenErrorSaysTheDiskIsFull(t *testing.T) {
	db := &DB{path: "/data/swfd.db"}
	for _, c := range []struct {
		err  error
		want string // "" for no change
	}{
		{coded(sqlite3.SQLITE_IOERR_SHMSIZE), "could not grow /data/swfd.db-shm"},
		{coded(sqlite3.SQLITE_FULL), "could not write /data/swfd.db"},
		{fmt.Errorf("migrate: %w", syscall.ENOSPC), "could not write /data/swfd.db"},
		{coded(sqlite3.SQLITE_IOERR_WRITE), ""},
		{coded(sqlite3.SQLITE_CORRUPT), ""},
	} {
		err := db.openErr(c.err)
		if c.want == "" {
			if errors.Is(err, swfd.ErrStorageFull) || strings.Contains(err.Error(), "full") {
				t.Errorf("openErr(%v) = %v, which says the disk is full", c.err, err)
			}
			continue
		}
		if !errors.Is(err, swfd.ErrStorageFull) || !errors.Is(err, c.err) || !strings.Contains(err.Error(), "the disk is full") ||
			!strings.Contains(err.Error(), c.want) {
			t.Errorf("openErr(%v) = %v; want one wrapping swfd.ErrStorageFull and the error, saying the disk is full and %q", c.err, err, c.want)
		}
	}
}
