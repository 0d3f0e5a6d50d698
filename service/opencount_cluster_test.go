package service

import (
	"context"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/runs"
)

// TestClusterOpenExecutionLimit runs two nodes over one store, hearing no
// news of each other, with a limit of 2 open executions per domain. Each
// node counts the domain's open executions once and then follows its own
// commits; the other node's starts and closes must count too once the
// count is runs.SharedOpenCountKept old (by the wall clock, which the test
// moves): a node must neither refuse starts for executions another node
// closed long ago, nor start more than the limit for executions another
// node started long ago.
func TestClusterOpenExecutionLimit(t *testing.T) {
	ctx := context.Background()
	db := memStore(t)
	clk := clock.NewManual(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	wall := clock.NewManual(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	limits := DefaultLimits
	limits.MaxOpenExecutions = 2
	node := func() *Service {
		s, err := New(ctx, Options{Store: db, Broadcaster: silentBroadcaster{}, PollTimeout: 100 * time.Millisecond, Clock: clk, Limits: limits, wall: wall})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := node(), node()
	registerTestTypes(t, a, false)
	start := func(s *Service, id string) error {
		_, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id, WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
		return err
	}
	terminate := func(s *Service, id string) {
		t.Helper()
		mustNil(t, s.TerminateWorkflowExecution(ctx, &api.TerminateWorkflowExecutionInput{Domain: "d", WorkflowID: id}))
	}
	later := func() { wall.MoveTo(wall.Now().Add(runs.SharedOpenCountKept)) }

	mustNil(t, start(a, "w1"))
	mustNil(t, start(a, "w2"))
	wantFault(t, start(a, "w3"), api.LimitExceededFault)
	// B closes both: A may start again.
	terminate(b, "w1")
	terminate(b, "w2")
	later()
	mustNil(t, start(a, "w3"))

	// A closes w3 and counts none open; B starts two: A must refuse a
	// third.
	terminate(a, "w3")
	mustNil(t, start(b, "w4"))
	mustNil(t, start(b, "w5"))
	later()
	wantFault(t, start(a, "w6"), api.LimitExceededFault)
	if n, err := db.CountOpen(ctx, "d"); err != nil || n != 2 {
		t.Fatalf("open executions in the store: %d, %v; want 2", n, err)
	}
}

// The count of open executions a node of a cluster keeps is taken again
// once runs.SharedOpenCountKept of real time has passed, whatever the
// workflows' clock does: with a clock that stands still (a test's manual
// clock), another node's closes must count all the same. The count used to
// be as old as the workflows' clock said, so with that clock held, it was
// never taken again and the node refused every start for good.
func TestClusterOpenCountWithClockHeld(t *testing.T) {
	ctx := context.Background()
	db := memStore(t)
	clk := clock.NewManual(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	limits := DefaultLimits
	limits.MaxOpenExecutions = 1
	node := func() *Service {
		s, err := New(ctx, Options{Store: db, Broadcaster: silentBroadcaster{}, PollTimeout: 100 * time.Millisecond, Clock: clk, Limits: limits})
		mustNil(t, err)
		return s
	}
	a, b := node(), node()
	registerTestTypes(t, a, false)
	start := func(s *Service, id string) error {
		_, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id, WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
		return err
	}
	mustNil(t, start(a, "w1"))
	wantFault(t, start(a, "w2"), api.LimitExceededFault)
	mustNil(t, b.TerminateWorkflowExecution(ctx, &api.TerminateWorkflowExecutionInput{Domain: "d", WorkflowID: "w1"}))
	// Real time passes; the workflows' clock does not move.
	deadline := time.Now().Add(10 * runs.SharedOpenCountKept)
	for {
		err := start(a, "w2")
		if err == nil {
			break
		}
		wantFault(t, err, api.LimitExceededFault)
		if time.Now().After(deadline) {
			t.Fatalf("node a still refuses a start %s after node b closed the domain's one open execution", 10*runs.SharedOpenCountKept)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
