package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"

	"github.com/swfd/swfd"
)

// While another program holds the database's write lock (the sqlite3
// shell in a write transaction, say) longer than the busy timeout, a write
// fails as one the store cannot make now and did not apply:
// swfd.ErrStorageUnavailable (answered ServiceUnavailable, which SDKs
// retry), not an internal error; once the lock is let go, writes succeed
// again with no restart.
func TestWriteLockHeldElsewhereIsUnavailable(t *testing.T) {
	setBusyTimeout(t, 200)
	db, path := openTemp(t)
	ctx := context.Background()
	if err := db.Commit(ctx, sampleBatch(0)); err != nil {
		t.Fatal(err)
	}
	unlock := holdWriteLock(t, path)
	err := db.Commit(ctx, sampleBatch(1))
	if !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Errorf("a write while another program holds the write lock: %v, want %v", err, swfd.ErrStorageUnavailable)
	}
	unlock()
	if err := db.Commit(ctx, sampleBatch(1)); err != nil {
		t.Errorf("a write once the lock was let go: %v", err)
	}
	if _, err := db.GetExecution(ctx, "d", "run-0001"); err != nil {
		t.Errorf("the write made once the lock was let go: %v", err)
	}
}

// While another program holds the write lock, every write fails (above), so
// the store is not ready for writes: from the first write that failed so
// WriteHealth (behind /readyz) says it cannot write, where before it said it
// could, and a load balancer kept sending calls that could only fail. It
// says so again after its own write, tried while the lock is still held,
// and, with no write sent, it finds by itself that writes work again once
// the lock is let go.
func TestWriteLockHeldElsewhereMakesTheStoreUnwritable(t *testing.T) {
	setBusyTimeout(t, 200)
	db, path := openTemp(t)
	ctx := context.Background()
	if err := db.Commit(ctx, sampleBatch(0)); err != nil {
		t.Fatal(err)
	}
	unlock := holdWriteLock(t, path)
	if err := db.Commit(ctx, sampleBatch(1)); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("a write while another program holds the write lock: %v", err)
	}
	if err := db.WriteHealth(ctx); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("WriteHealth after a write failed on another program's lock: %v, want %v", err, swfd.ErrStorageUnavailable)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	// WriteHealth's own write meets the lock too.
	groups := db.groups.Load()
	waitFor(t, "WriteHealth to try a write", func() bool {
		return db.WriteHealth(ctx) != nil && db.groups.Load() > groups
	})
	if err := db.WriteHealth(ctx); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("WriteHealth after its own write met the lock: %v", err)
	}
	unlock()
	waitFor(t, "WriteHealth to find writes work again", func() bool { return db.WriteHealth(ctx) == nil })
	if err := db.Commit(ctx, sampleBatch(1)); err != nil {
		t.Fatal(err)
	}
	checkSample(t, db, 2)
}

// setBusyTimeout sets how long the store's connections wait for a lock
// another program holds, for the test (busyTimeoutMS).
func setBusyTimeout(t *testing.T, ms int) {
	old := busyTimeoutMS
	busyTimeoutMS = ms
	t.Cleanup(func() { busyTimeoutMS = old })
}

// holdWriteLock has another connection, as another program would (the
// sqlite3 shell in a write transaction), take the write lock of the
// database at path and hold it until unlock is called or the test ends.
func holdWriteLock(t *testing.T, path string) (unlock func()) {
	t.Helper()
	ctx := context.Background()
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := other.Conn(ctx)
	if err != nil {
		other.Close()
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		conn.Close()
		other.Close()
		t.Fatal(err)
	}
	var once sync.Once
	unlock = func() {
		once.Do(func() {
			if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
				t.Error(err)
			}
			conn.Close()
			other.Close()
		})
	}
	t.Cleanup(unlock)
	return unlock
}
