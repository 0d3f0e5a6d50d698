package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/swfd/swfd"
)

// Only a row whose key exists is a UNIQUE or PRIMARY KEY violation; the
// driver's errors for the other constraints are not, so the store never
// reports them as ErrAlreadyExists.
func TestIsUnique(t *testing.T) {
	ctx := context.Background()
	raw, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []string{
		`CREATE TABLE r (id INTEGER PRIMARY KEY, u TEXT UNIQUE, n TEXT NOT NULL, c INTEGER CHECK (c > 0))`,
		`CREATE TABLE w (k TEXT PRIMARY KEY) WITHOUT ROWID`,
		`CREATE UNIQUE INDEX r_partial ON r (n) WHERE c > 100`,
		`CREATE TRIGGER r_refuse BEFORE INSERT ON r WHEN NEW.n = 'refused' BEGIN SELECT RAISE(ABORT, 'refused'); END`,
		`INSERT INTO r (id, u, n, c) VALUES (1, 'a', 'x', 101)`,
		`INSERT INTO w (k) VALUES ('a')`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, c := range []struct {
		insert string
		unique bool
	}{
		{`INSERT INTO r (id, u, n, c) VALUES (1, 'b', 'y', 1)`, true},        // INTEGER PRIMARY KEY
		{`INSERT INTO w (k) VALUES ('a')`, true},                             // PRIMARY KEY of a WITHOUT ROWID table
		{`INSERT INTO r (id, u, n, c) VALUES (2, 'a', 'y', 1)`, true},        // UNIQUE column
		{`INSERT INTO r (id, u, n, c) VALUES (2, 'b', 'x', 102)`, true},      // partial unique index
		{`INSERT INTO r (id, u, n, c) VALUES (2, 'b', NULL, 1)`, false},      // NOT NULL
		{`INSERT INTO r (id, u, n, c) VALUES (2, 'b', 'y', 0)`, false},       // CHECK
		{`INSERT INTO r (id, u, n, c) VALUES (2, 'b', 'refused', 1)`, false}, // a trigger's RAISE
	} {
		_, err := raw.ExecContext(ctx, c.insert)
		var se *sqlite.Error
		if !errors.As(err, &se) {
			t.Fatalf("%s: %v, want a constraint failure", c.insert, err)
		}
		if got := isUnique(err); got != c.unique {
			t.Errorf("%s: %v (code %d): isUnique %v, want %v", c.insert, err, se.Code(), got, c.unique)
		}
	}
}

// A write that breaks a CHECK constraint (added here to swfd's tables, as
// nothing swfd writes breaks one) fails with SQLite's error, not
// ErrAlreadyExists or ErrConflict, whose callers would tell a client the
// domain, type or run exists; and the store goes on working.
func TestConstraintFailureIsNotAlreadyExists(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "swfd.db")
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`ALTER TABLE domains ADD COLUMN guard INTEGER CHECK (name <> 'refused')`,
		`ALTER TABLE types ADD COLUMN guard INTEGER CHECK (name <> 'refused')`,
		`ALTER TABLE executions ADD COLUMN guard INTEGER CHECK (workflow_id <> 'refused')`,
		`ALTER TABLE events ADD COLUMN guard INTEGER CHECK (event_id < 100)`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	db, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	now := time.UnixMilli(1_700_000_000_000).UTC()
	typ := func(name string) swfd.TypeRecord {
		return swfd.TypeRecord{Kind: swfd.WorkflowKind, Domain: "d", Name: name, Version: "1", Status: swfd.StatusRegistered, Created: now}
	}
	start := func(workflowID, runID string, eventID int64) swfd.Batch {
		return swfd.Batch{Updates: []swfd.Update{{Create: true,
			Execution: swfd.Execution{Domain: "d", WorkflowID: workflowID, RunID: runID, TypeName: "wf", TypeVersion: "1",
				StartTime: now, Open: true, Version: 1, State: []byte("s")},
			Events: []swfd.Event{{ID: eventID, JSON: []byte("{}")}}}}}
	}
	if err := db.CreateDomain(ctx, swfd.Domain{Name: "d", Status: swfd.StatusRegistered, RetentionDays: "1", Created: now}, 0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what  string
		write func() error
	}{
		{"CreateDomain", func() error {
			return db.CreateDomain(ctx, swfd.Domain{Name: "refused", Status: swfd.StatusRegistered, RetentionDays: "1", Created: now}, 0)
		}},
		{"CreateType", func() error { return db.CreateType(ctx, typ("refused"), 0) }},
		{"Commit of a new run", func() error { return db.Commit(ctx, start("refused", "run-1", 1)) }},
		{"Commit of a new run's events", func() error { return db.Commit(ctx, start("w", "run-2", 100)) }},
	} {
		err := c.write()
		var se *sqlite.Error
		switch {
		case err == nil:
			t.Errorf("%s: no error", c.what)
		case errors.Is(err, swfd.ErrAlreadyExists), errors.Is(err, swfd.ErrConflict):
			t.Errorf("%s: %v, want an internal error, not ErrAlreadyExists or ErrConflict", c.what, err)
		case !errors.As(err, &se) || !strings.Contains(err.Error(), "CHECK constraint failed"):
			t.Errorf("%s: %v, want SQLite's CHECK constraint error wrapped", c.what, err)
		}
	}

	// The failures left nothing behind, and the same writes that break no
	// constraint succeed; one that repeats a key is ErrAlreadyExists still.
	if err := db.CreateType(ctx, typ("wf"), 0); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(ctx, start("w", "run-2", 1)); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(ctx, start("w", "run-3", 1)); !errors.Is(err, swfd.ErrAlreadyExists) {
		t.Errorf("a second open run of a workflow: %v, want ErrAlreadyExists", err)
	}
	if _, err := db.GetDomain(ctx, "refused"); !errors.Is(err, swfd.ErrNotFound) {
		t.Errorf("the refused domain: %v, want ErrNotFound", err)
	}
}
