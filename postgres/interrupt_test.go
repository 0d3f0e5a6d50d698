package postgres

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd/internal/logbuf"
)

// openInterrupted opens dsn, ends the open's context once the log says
// waiting, as a signal that stops swfd while it starts does, and returns
// the open's error and the log.
func openInterrupted(t *testing.T, dsn, waiting string) (error, string) {
	t.Helper()
	var logs logbuf.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		db, err := Open(ctx, dsn, logger)
		if err == nil {
			db.Close()
		}
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), waiting) {
		if time.Now().After(deadline) {
			t.Fatalf("never logged %q:\n%s", waiting, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		return err, logs.String()
	case <-time.After(30 * time.Second):
		t.Fatal("Open still going 30s after its context ended")
		return nil, ""
	}
}

// An open that waits for a server that never answers, ended by its
// context, says what it was waiting for (it said only "context canceled").
func TestOpenInterruptedWaitingForTheServer(t *testing.T) {
	t.Parallel()
	addr := silentServer(t)
	err, _ := openInterrupted(t, "postgres://postgres@"+addr+"/x?connect_timeout=120", "waiting for PostgreSQL to answer")
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted while waiting for PostgreSQL at "+addr+" to answer") {
		t.Fatalf("Open interrupted while the server does not answer: %v", err)
	}
}

// An open that waits for another swfd's migration of the schema (it holds
// the migration lock) logs that it waits, after a second, and, ended by
// its context, says what it was waiting for, without the failed rollback
// of a connection the driver has closed ("migrate: lock: context
// canceled", then "migrate: rollback: ... conn closed").
func TestOpenInterruptedWaitingForAnotherMigration(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	ctx := context.Background()
	other, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", int32(migrationLockKey)); err != nil {
		t.Fatal(err)
	}
	err, logs := openInterrupted(t, dsn, "waiting for another swfd to finish migrating the schema")
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted while waiting for another swfd to finish migrating the schema") {
		t.Fatalf("Open interrupted while another swfd migrates: %v", err)
	}
	if strings.Contains(err.Error(), "rollback") {
		t.Errorf("the error tells of a failed rollback: %v", err)
	}
	if !strings.Contains(logs, "migration lock") {
		t.Errorf("the log does not say what Open waits for:\n%s", logs)
	}
}
