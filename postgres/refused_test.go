package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/pgtest"
)

// storeCalls are a read and a write of each kind, for the tests of what
// the store answers when the database refuses them.
func storeCalls(ctx context.Context, db *DB) []struct {
	name  string
	write bool
	do    func() error
} {
	n := 0
	next := func() string { n++; return fmt.Sprint(n) }
	return []struct {
		name  string
		write bool
		do    func() error
	}{
		{"get", false, func() error { _, err := db.GetExecution(ctx, "dom", "one"); return err }},
		{"history", false, func() error { _, err := db.History(ctx, swfd.HistoryQuery{RunID: "one"}); return err }},
		{"list executions", false, func() error {
			_, err := db.ListExecutions(ctx, swfd.VisibilityQuery{Domain: "dom", Open: true})
			return err
		}},
		{"count open", false, func() error { _, err := db.CountOpen(ctx, "dom"); return err }},
		{"list domains", false, func() error { _, err := db.ListDomains(ctx, swfd.ListQuery{}); return err }},
		{"commit of one update", true, func() error {
			return db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{stepUpdate("one", 2, "s2")}})
		}},
		{"commit of a new run", true, func() error { return db.Commit(ctx, createBatch("new"+next())) }},
		{"commit of a batch", true, func() error {
			return db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{stepUpdate("one", 2, "s2")},
				AddTransfers: []swfd.Transfer{{RunID: "one", Payload: []byte("x")}}})
		}},
		{"create domain", true, func() error {
			return db.CreateDomain(ctx, swfd.Domain{Name: "d" + next(), Status: swfd.StatusRegistered, RetentionDays: "1"}, 10)
		}},
		{"set meta", true, func() error { return db.SetMeta(ctx, "k", []byte("v")) }},
		{"purge", true, func() error { _, err := db.PurgeClosed(ctx, "dom", time.Now(), 10); return err }},
	}
}

// A statement the database cancels for its statement_timeout (set on the
// role, the database or, here, the connection string) fails its call
// with ErrStorageUnavailable, which the API answers ServiceUnavailable
// (SDKs retry it), and applies nothing; not with the bare ERROR, which
// the API answered InternalFailure (500). Here every table is held
// locked by another session, as by an operator's maintenance, for longer
// than the timeout.
func TestStatementTimeoutIsUnavailable(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	ctx := context.Background()
	open(t, dsn, nil).Close() // migrated
	db := open(t, withParam(t, dsn, "statement_timeout", "300"), nil)
	if err := db.Commit(ctx, createBatch("one")); err != nil {
		t.Fatal(err)
	}
	locker, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	if _, err := locker.Exec(ctx, "BEGIN; LOCK TABLE executions, events, domains, meta, transfers IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	for _, c := range storeCalls(ctx, db) {
		err := c.do()
		var pe *pgconn.PgError
		if !errors.Is(err, swfd.ErrStorageUnavailable) || !errors.As(err, &pe) || pe.Code != codeQueryCanceled {
			t.Errorf("%s past its statement timeout: %v, want ErrStorageUnavailable (and the server's 57014)", c.name, err)
		}
	}
	if _, err := locker.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if e, err := db.GetExecution(ctx, "dom", "one"); err != nil || e.Version != 1 {
		t.Fatalf("run one: version %d, %v; want 1, nothing applied", e.Version, err)
	}
	if trs, err := db.PendingTransfers(ctx, 0); err != nil || len(trs) != 0 {
		t.Fatalf("transfers: %v, %v; want none", trs, err)
	}
	if ds, err := db.ListDomains(ctx, swfd.ListQuery{}); err != nil || len(ds) != 0 {
		t.Fatalf("domains: %v, %v; want none", ds, err)
	}
}

// A database that takes no writes (a standby the connection string still
// points at after a failover; here default_transaction_read_only, set on
// the database and in force once its sessions were ended) fails every
// write with ErrStorageUnavailable, nothing applied, while reads go on;
// and writes succeed again once it takes them, without a new store. Its
// WriteHealth (behind /readyz) says so meanwhile.
func TestReadOnlyDatabaseIsUnavailable(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	ctx := context.Background()
	db := open(t, dsn, nil)
	if err := db.Commit(ctx, createBatch("one")); err != nil {
		t.Fatal(err)
	}
	setReadOnly := func(on bool) { t.Helper(); pgtest.SetReadOnly(t, dsn, on) }
	if err := db.WriteHealth(ctx); err != nil {
		t.Fatalf("write health of a database that takes writes: %v", err)
	}
	setReadOnly(true)
	if err := db.WriteHealth(ctx); !errors.Is(err, ErrReadOnly) {
		t.Errorf("write health of a read-only database: %v, want ErrReadOnly", err)
	}
	for _, c := range storeCalls(ctx, db) {
		err := c.do()
		switch {
		case c.write && !errors.Is(err, swfd.ErrStorageUnavailable):
			t.Errorf("%s on a read-only database: %v, want ErrStorageUnavailable", c.name, err)
		case !c.write && err != nil:
			t.Errorf("%s on a read-only database: %v, want it read", c.name, err)
		}
	}
	setReadOnly(false)
	if err := db.WriteHealth(ctx); err != nil {
		t.Fatalf("write health once the database takes writes again: %v", err)
	}
	if e, err := db.GetExecution(ctx, "dom", "one"); err != nil || e.Version != 1 {
		t.Fatalf("run one: version %d, %v; want 1, nothing applied", e.Version, err)
	}
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{stepUpdate("one", 2, "s2")}}); err != nil {
		t.Fatalf("a commit once the database takes writes again: %v", err)
	}
}

// The ERRORs with which the server refuses a statement for a reason of
// its own are marked as the storage's, a full disk as ErrStorageFull;
// an error of the statement itself, or a notice's severity, is not.
func TestRefusedErrors(t *testing.T) {
	for _, c := range []struct {
		code, severity string
		want           error
	}{
		{"57014", "ERROR", swfd.ErrStorageUnavailable},
		{"25006", "ERROR", swfd.ErrStorageUnavailable},
		{"53200", "ERROR", swfd.ErrStorageUnavailable},
		{"53400", "ERROR", swfd.ErrStorageUnavailable},
		{"55P03", "ERROR", swfd.ErrStorageUnavailable},
		{"58030", "ERROR", swfd.ErrStorageUnavailable},
		{"53100", "ERROR", swfd.ErrStorageFull},
		{"23505", "ERROR", nil},
		{"42P01", "ERROR", nil},
		{"XX000", "ERROR", nil},
	} {
		err := unavailable(fmt.Errorf("postgres: x: %w", &pgconn.PgError{Severity: c.severity, Code: c.code}))
		for _, e := range []error{swfd.ErrStorageUnavailable, swfd.ErrStorageFull} {
			if errors.Is(err, e) != (e == c.want) {
				t.Errorf("%s %s: %v; want it to wrap %v", c.severity, c.code, err, c.want)
			}
		}
	}
}

// A connection string whose search_path names no schema that exists is
// refused with an error that says so, not "cannot scan NULL into *bool"
// (the lock keyed by the schema's name, which is NULL); once the schema
// exists the store opens in it.
func TestOpenWithoutTheSearchPathsSchema(t *testing.T) {
	t.Parallel()
	dsn := withParam(t, newDatabase(t), "search_path", "nosuch")
	db, err := Open(context.Background(), dsn, nil)
	if err == nil {
		db.Close()
	}
	if !errors.Is(err, ErrNoSearchSchema) || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("Open with search_path naming no schema: %v, want ErrNoSearchSchema naming it", err)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "CREATE SCHEMA nosuch"); err != nil {
		t.Fatal(err)
	}
	open(t, dsn, nil)
}

// A hold of a run (HoldRun) that fails on its connection, or that the
// server cancels for a statement_timeout while it waits for another
// writer's row, fails with ErrStorageUnavailable, as a read does: it wrote
// nothing. Before, both errors came up bare, and the API answered them
// InternalFailure (500).
func TestHoldFailuresAreUnavailable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dsn := newDatabase(t)
	open(t, dsn, nil).Close() // migrated
	db := open(t, withParam(t, dsn, "statement_timeout", "300"), nil)
	if err := db.Commit(ctx, createBatch("one")); err != nil {
		t.Fatal(err)
	}
	locker, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	if _, err := locker.Exec(ctx, "BEGIN; SELECT 1 FROM executions WHERE run_id = 'one' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	if _, h, err := db.HoldRun(ctx, "dom", "one"); !errors.Is(err, swfd.ErrStorageUnavailable) {
		if h != nil {
			h.Release()
		}
		t.Errorf("a hold cancelled by the statement timeout: %v, want ErrStorageUnavailable", err)
	}
	locker.Exec(ctx, "ROLLBACK")

	proxy := pgtest.NewProxy(t, dsn)
	cut := open(t, withParam(t, proxy.DSN(dsn), "connect_timeout", "2"), nil)
	_, held, err := cut.HoldRun(ctx, "dom", "one")
	if err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	if _, err := held.Heartbeats(ctx); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Errorf("the heartbeat details of a held run with the database cut off: %v, want ErrStorageUnavailable", err)
	}
	held.Release()
	if _, h, err := cut.HoldRun(ctx, "dom", "one"); !errors.Is(err, swfd.ErrStorageUnavailable) {
		if h != nil {
			h.Release()
		}
		t.Errorf("a hold with the database cut off: %v, want ErrStorageUnavailable", err)
	}
}
