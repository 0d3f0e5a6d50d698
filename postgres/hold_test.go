package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// A hold of a run another node holds locked (here a node stopped in the
// middle of a commit) waits at most until its caller's deadline, or for
// its lock wait, and then fails with ErrLocked, holding nothing and giving
// its connection back; a caller already out of time fails at once.
func TestHoldRunWaitsOnlyItsTime(t *testing.T) {
	t.Parallel()
	a, _, _ := stoppedNode(t)
	bg := context.Background()
	dctx, cancel := context.WithTimeout(bg, 300*time.Millisecond)
	defer cancel()
	expired, cancelExpired := context.WithDeadline(bg, time.Now().Add(-time.Second))
	defer cancelExpired()
	for _, c := range []struct {
		what string
		ctx  context.Context
	}{
		{"with a deadline", dctx},
		{"with a lock wait", swfd.WithLockWait(bg, 200*time.Millisecond)},
		{"out of time", expired},
	} {
		began := time.Now()
		_, _, err := a.HoldRun(c.ctx, "dom", "r")
		if !errors.Is(err, swfd.ErrLocked) {
			t.Fatalf("a hold of a locked run %s: %v, want ErrLocked", c.what, err)
		}
		if waited := time.Since(began); waited > 4*time.Second {
			t.Fatalf("a hold %s gave up after %s", c.what, waited)
		}
	}
	if n := a.pool.Stat().AcquiredConns(); n != 0 {
		t.Fatalf("%d connections still taken after the holds failed", n)
	}
	// The rows the stopped node does not hold can be held.
	_, h, err := a.HoldRun(swfd.WithLockWait(bg, 5*time.Second), "dom", "w1")
	if err != nil {
		t.Fatalf("a hold of a free run: %v", err)
	}
	h.Release()
}

// A hold whose connection dies before its commit is sent (the backend
// terminated, or ended by idle_in_transaction_session_timeout) has lost
// the run: its Commit applies nothing and answers ErrConflict, so that
// the step is decided again; the run can be written at once.
func TestHoldLostBeforeCommit(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	a := open(t, dsn, nil)
	ctx := context.Background()
	if err := a.Commit(ctx, createBatch("r")); err != nil {
		t.Fatal(err)
	}
	_, h, err := a.HoldRun(ctx, "dom", "r")
	if err != nil {
		t.Fatal(err)
	}
	pid := h.(*runHold).conn.Conn().PgConn().PID()
	var killed bool
	if err := a.pool.QueryRow(ctx, "SELECT pg_terminate_backend($1)", int64(pid)).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminating the hold's backend: %v %v", killed, err)
	}
	err = h.Commit(ctx, swfd.Batch{Updates: []swfd.Update{stepUpdate("r", 2, "held")}})
	if !errors.Is(err, swfd.ErrConflict) {
		t.Fatalf("the Commit of a hold whose connection died: %v, want ErrConflict", err)
	}
	if e, err := a.GetExecution(ctx, "dom", "r"); err != nil || e.Version != 1 {
		t.Fatalf("run r: version %d, %v; want 1, nothing applied", e.Version, err)
	}
	if err := a.Commit(swfd.WithLockWait(ctx, 5*time.Second), swfd.Batch{Updates: []swfd.Update{stepUpdate("r", 2, "after")}}); err != nil {
		t.Fatalf("a commit after the hold was lost: %v", err)
	}
}
