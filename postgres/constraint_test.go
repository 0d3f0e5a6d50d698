package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/swfd/swfd"
)

// A write that breaks a CHECK constraint (added here to swfd's tables, as
// nothing swfd writes breaks one) fails with PostgreSQL's error, not
// ErrAlreadyExists or ErrConflict: only unique_violation (23505) means a
// row with the key exists. The store goes on working.
func TestConstraintFailureIsNotAlreadyExists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t, newDatabase(t), nil)
	for _, q := range []string{
		`ALTER TABLE domains ADD CONSTRAINT guard CHECK (name <> 'refused')`,
		`ALTER TABLE types ADD CONSTRAINT guard CHECK (name <> 'refused')`,
		`ALTER TABLE executions ADD CONSTRAINT guard CHECK (workflow_id <> 'refused')`,
		`ALTER TABLE events ADD CONSTRAINT guard CHECK (event_id < 100)`,
	} {
		if _, err := db.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

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
		var pe *pgconn.PgError
		switch {
		case err == nil:
			t.Errorf("%s: no error", c.what)
		case errors.Is(err, swfd.ErrAlreadyExists), errors.Is(err, swfd.ErrConflict):
			t.Errorf("%s: %v, want an internal error, not ErrAlreadyExists or ErrConflict", c.what, err)
		case !errors.As(err, &pe) || pe.Code != "23514": // check_violation
			t.Errorf("%s: %v, want PostgreSQL's check_violation wrapped", c.what, err)
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
