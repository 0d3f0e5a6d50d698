package sqlite

import (
	"context"
	"database/sql"
	"errors"
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
	old := busyTimeoutMS
	busyTimeoutMS = 200
	defer func() { busyTimeoutMS = old }()
	db, path := openTemp(t)
	ctx := context.Background()
	if err := db.Commit(ctx, sampleBatch(0)); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	err = db.Commit(ctx, sampleBatch(1))
	if !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Errorf("a write while another program holds the write lock: %v, want %v", err, swfd.ErrStorageUnavailable)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(ctx, sampleBatch(1)); err != nil {
		t.Errorf("a write once the lock was let go: %v", err)
	}
	if _, err := db.GetExecution(ctx, "d", "run-0001"); err != nil {
		t.Errorf("the write made once the lock was let go: %v", err)
	}
}
