package postgres

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/logbuf"
)

// openLocked opens dsn with a short bound on the migration's lock waits
// and a short interval between its reports, and returns Open's error, how
// long it took and the log.
func openLocked(t *testing.T, dsn string, ms []migration) (error, time.Duration, string) {
	t.Helper()
	var logs logbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	began := time.Now()
	done := make(chan error, 1)
	go func() {
		db, err := openWith(context.Background(), dsn, logger, func(db *DB) {
			db.migrateLockWait = 1500 * time.Millisecond
			db.migrateReportEvery = 300 * time.Millisecond
			db.migrations = ms
		})
		if err == nil {
			db.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err, time.Since(began), logs.String()
	case <-time.After(20 * time.Second):
		t.Fatalf("Open still waits after 20 s (lock wait 1.5 s):\n%s", logs.String())
		return nil, 0, ""
	}
}

// A start that finds schema_version locked by another session (an
// operator's BEGIN; LOCK TABLE … left open in psql) neither waits without
// end nor without a word: the wait is logged, naming the table and the
// session that holds it, and after the bound Open fails with an error that
// says the same and what to do. Before, it waited silently for as long as
// the lock was held (the migration turns lock_timeout off).
func TestOpenBoundedWhenSchemaVersionLocked(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	open(t, dsn, nil).Close()
	lockTables(t, dsn, "schema_version")
	err, took, logs := openLocked(t, dsn, nil)
	if err == nil {
		t.Fatal("Open with schema_version locked succeeded")
	}
	if took > 10*time.Second {
		t.Errorf("Open with schema_version locked failed after %s (lock wait 1.5 s)", took.Round(time.Millisecond))
	}
	for _, want := range []string{"table public.schema_version", "pid ", "idle in transaction", "pg_terminate_backend", "nothing was migrated"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open's error does not say %q: %v", want, err)
		}
	}
	if !strings.Contains(logs, "waiting for a lock") || !strings.Contains(logs, "schema_version") {
		t.Errorf("the wait was not logged, naming the table:\n%s", logs)
	}
}

// A migration that touches a table another session keeps locked fails
// likewise, naming that table, and leaves the schema as it was.
func TestMigrationBoundedWhenItsTableLocked(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	open(t, dsn, nil).Close()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	next := migration{version: len(ms) + 1, name: "9999_test", sql: "ALTER TABLE domains ADD COLUMN test_only INTEGER"}
	lockTables(t, dsn, "domains")
	err, took, logs := openLocked(t, dsn, append(ms[:len(ms):len(ms)], next))
	if err == nil {
		t.Fatal("a migration of a locked table succeeded")
	}
	if took > 10*time.Second {
		t.Errorf("a migration of a locked table failed after %s (lock wait 1.5 s)", took.Round(time.Millisecond))
	}
	for _, want := range []string{"9999_test", "table public.domains", "pid ", "nothing was migrated"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	if !strings.Contains(logs, "domains") {
		t.Errorf("the wait was not logged, naming the table:\n%s", logs)
	}
	db := open(t, dsn, nil)
	if db.version != len(ms) {
		t.Errorf("schema version %d after the failed migration, want %d", db.version, len(ms))
	}
}
