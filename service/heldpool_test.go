package service

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/postgres"
	"github.com/swfd/swfd/runs"
)

// racedNode is the store of a node whose first runs.HoldAfter commits of
// each run, while armed, lose the race (as when other nodes keep writing
// the run), so that its steps go on to hold their runs. Each hold, once
// holders holds have been asked for, reads once more from the store (a
// domain's open executions, as a step's decision may) before its step
// decides.
type racedNode struct {
	swfd.Store
	armed   atomic.Bool
	holders int

	mu      sync.Mutex
	lost    map[string]int
	asked   int
	allHeld chan struct{} // closed once holders holds have been asked for
}

func (n *racedNode) Commit(ctx context.Context, b swfd.Batch) error {
	if n.armed.Load() && len(b.Updates) > 0 {
		id := b.Updates[0].Execution.RunID
		n.mu.Lock()
		lose := n.lost[id] < runs.HoldAfter
		if lose {
			n.lost[id]++
		}
		n.mu.Unlock()
		if lose {
			return fmt.Errorf("run %s: overtaken: %w", id, swfd.ErrConflict)
		}
	}
	return n.Store.Commit(ctx, b)
}

func (n *racedNode) HoldRun(ctx context.Context, domain, runID string) (swfd.Execution, swfd.RunHold, error) {
	e, h, err := n.Store.HoldRun(ctx, domain, runID)
	if !n.armed.Load() {
		return e, h, err
	}
	n.mu.Lock()
	if n.asked++; n.asked == n.holders {
		close(n.allHeld)
	}
	n.mu.Unlock()
	if err != nil {
		return e, h, err
	}
	select {
	case <-n.allHeld:
	case <-ctx.Done():
	}
	if _, err := n.Store.CountOpen(ctx, domain); err != nil {
		h.Release()
		return swfd.Execution{}, nil, fmt.Errorf("a read while holding run %s: %w", runID, err)
	}
	return e, h, nil
}

// As many steps of one node of a cluster as its pool has connections lose
// their races and hold their runs at once, and each reads from the store
// while it holds. Each read waited for a connection that only another
// hold could give back, and every call failed at its deadline. Holds are
// bounded below the pool's size: every call is answered, and every
// history holds its signal once.
func TestClusterHeldStepsLeaveConnections(t *testing.T) {
	const conns = 4
	dsn := pgtest.NewDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := postgres.Open(ctx, withPoolSize(dsn, conns), nil)
	mustNil(t, err)
	t.Cleanup(func() { db.Close() })
	store := &racedNode{Store: db, holders: conns, lost: map[string]int{}, allHeld: make(chan struct{})}
	s, err := New(ctx, Options{Store: store, Broadcaster: silentBroadcaster{}, PollTimeout: 100 * time.Millisecond})
	mustNil(t, err)
	registerTestTypes(t, s, false)
	runIDs := make([]string, conns)
	for i := range runIDs {
		out, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: fmt.Sprintf("w%d", i), WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
		mustNil(t, err)
		runIDs[i] = out.RunID
	}

	store.armed.Store(true)
	callCtx, callCancel := context.WithTimeout(ctx, 5*time.Second)
	errs := make([]error, conns)
	var calls sync.WaitGroup
	for i := range conns {
		calls.Go(func() {
			errs[i] = s.SignalWorkflowExecution(callCtx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: fmt.Sprintf("w%d", i), SignalName: "sig"})
		})
	}
	calls.Wait()
	callCancel()
	store.armed.Store(false)
	if store.asked != conns {
		t.Fatalf("%d holds asked for; want %d, one for each step", store.asked, conns)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("signal of w%d: %v", i, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for i, runID := range runIDs {
		h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d",
			Execution: api.WorkflowExecution{WorkflowID: fmt.Sprintf("w%d", i), RunID: runID}, MaximumPageSize: 1000})
		mustNil(t, err)
		var types []string
		signals := 0
		for _, e := range h.Events {
			types = append(types, string(e.EventType))
			if e.EventType == api.EventTypeWorkflowExecutionSignaled {
				signals++
			}
		}
		if len(h.Events) != 3 || signals != 1 {
			t.Errorf("history of w%d: %v; want started, decision scheduled, and its signal once", i, types)
		}
	}
}

// withPoolSize returns dsn (a URL or key=value string) with pool_max_conns
// set to n.
func withPoolSize(dsn string, n int) string {
	switch {
	case !strings.Contains(dsn, "://"):
		return fmt.Sprintf("%s pool_max_conns=%d", dsn, n)
	case strings.Contains(dsn, "?"):
		return fmt.Sprintf("%s&pool_max_conns=%d", dsn, n)
	}
	return fmt.Sprintf("%s?pool_max_conns=%d", dsn, n)
}
