package service

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/postgres"
)

// lockedWorld is one node on PostgreSQL, and lock, which takes a run's row
// lock in a transaction of its own and holds it, as a node that stopped in
// the middle of a commit does, until the test ends or release is called.
func lockedWorld(t *testing.T) (w *policyWorld, lock func(runID string) (release func())) {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	w = &policyWorld{t: t, ctx: context.Background(), clock: clock.NewManual(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))}
	db, err := postgres.Open(w.ctx, dsn, nil)
	mustNil(t, err)
	t.Cleanup(func() { db.Close() })
	w.store = db
	s, err := New(w.ctx, Options{Store: db, Broadcaster: silentBroadcaster{}, Clock: w.clock, PollTimeout: 100 * time.Millisecond})
	mustNil(t, err)
	w.calls, w.loops = s, s
	registerTestTypes(t, s, false)
	lock = func(runID string) func() {
		conn, err := pgx.Connect(w.ctx, dsn)
		mustNil(t, err)
		tx, err := conn.Begin(w.ctx)
		mustNil(t, err)
		var n int
		mustNil(t, tx.QueryRow(w.ctx, "SELECT count(*) FROM (SELECT 1 FROM executions WHERE run_id = $1 FOR UPDATE) x", runID).Scan(&n))
		if n != 1 {
			t.Fatalf("locked %d rows of run %s", n, runID)
		}
		release := func() {
			tx.Rollback(context.Background())
			conn.Close(context.Background())
		}
		t.Cleanup(release)
		return release
	}
	return w, lock
}

// within runs f and fails the test if it has not returned after 20s
// (then release lets it end).
func within(t *testing.T, what string, release func(), f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		release()
		<-done
		t.Fatalf("%s: still waiting on a locked run after 20s", what)
	}
}

// A run whose row another writer holds locked (a node stopped in the
// middle of a commit) must not hold up the timers of other runs: the timer
// loop gives up on it after a short wait and fires the others, and fires
// its timer once the lock is gone.
func TestTimersPassALockedRun(t *testing.T) {
	w, lock := lockedWorld(t)
	start := func(id string) string {
		run, err := w.calls.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id,
			WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, ExecutionStartToCloseTimeout: "30"})
		mustNil(t, err)
		return run.RunID
	}
	r := start("r")
	w.clock.MoveTo(w.clock.Now().Add(time.Second))
	s := start("s") // its timeout is due after r's
	w.clock.MoveTo(w.clock.Now().Add(time.Minute))
	release := lock(r)
	within(t, "firing timers", release, func() {
		_, _, _, err := w.loops.Timers().FireDue(w.ctx, nil)
		mustNil(t, err)
	})
	if got := w.describe("s", s).ExecutionInfo.CloseStatus; got != api.CloseStatusTimedOut {
		t.Fatalf("run s, whose timeout came due behind the locked run's, closed as %q; want TIMED_OUT", got)
	}
	if got := w.describe("r", r).ExecutionInfo.ExecutionStatus; got != api.ExecutionStatusOpen {
		t.Fatalf("the locked run is %s", got)
	}
	release()
	w.settle()
	if got := w.describe("r", r).ExecutionInfo.CloseStatus; got != api.CloseStatusTimedOut {
		t.Fatalf("run r, unlocked, closed as %q; want TIMED_OUT", got)
	}
}

// A message to a run another writer holds locked must not hold up the
// messages to other runs; the later messages to the locked run wait with
// it, and once the lock is gone the run gets them all, in the order sent.
func TestDeliveryPassesALockedRun(t *testing.T) {
	w, lock := lockedWorld(t)
	runs, signals := w.signalsOfX()
	release := lock(runs["r"])
	within(t, "delivering messages", release, func() {
		_, err := w.loops.Transfers().Deliver(w.ctx)
		mustNil(t, err)
	})
	if got := signals("s"); len(got) != 1 {
		t.Fatalf("run s, signalled after the locked run, got signals %v; want [x]", got)
	}
	if got := signals("r"); len(got) != 0 {
		t.Fatalf("the locked run got signals %v", got)
	}
	release()
	w.settle()
	if got := signals("r"); len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Fatalf("run r, unlocked, got signals %v; want [1 2]", got)
	}
}

// signalsOfX starts runs r, s and x, and has x's decider signal r ("1"),
// s ("x") and r again ("2"), in that order; it returns the runs by
// workflowId and what reads the names of the signals a run has got.
func (w *policyWorld) signalsOfX() (runs map[string]string, signals func(id string) []string) {
	w.t.Helper()
	runs = map[string]string{}
	for _, id := range []string{"r", "s", "x"} {
		run, err := w.calls.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id,
			WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
		mustNil(w.t, err)
		runs[id] = run.RunID
	}
	signal := func(to, name string) api.Decision {
		return api.Decision{DecisionType: api.DecisionTypeSignalExternalWorkflowExecution,
			SignalExternalWorkflowExecutionDecisionAttributes: &api.SignalExternalWorkflowExecutionDecisionAttributes{WorkflowID: to, SignalName: name}}
	}
	for range 3 {
		dt := w.decisionTask("l")
		if dt.WorkflowExecution.WorkflowID == "x" {
			w.decide(dt, signal("r", "1"), signal("s", "x"), signal("r", "2"))
		} else {
			w.decide(dt)
		}
	}
	signals = func(id string) (names []string) {
		for _, e := range w.history(id, runs[id]) {
			if a := e.WorkflowExecutionSignaledEventAttributes; a != nil {
				names = append(names, a.SignalName)
			}
		}
		return names
	}
	return runs, signals
}
