package service

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// failingStore fails commits while fail is set.
type failingStore struct {
	swfd.Store
	fail atomic.Bool
}

func (f *failingStore) Commit(ctx context.Context, b swfd.Batch) error {
	if f.fail.Load() {
		return errors.New("disk on fire")
	}
	return f.Store.Commit(ctx, b)
}

// TestPollStoreFailureKeepsTask checks that a task whose start could not be
// committed stays pending for the next poller.
func TestPollStoreFailureKeepsTask(t *testing.T) {
	ctx := context.Background()
	st := &failingStore{}
	s := testService(t, Options{PollTimeout: 200 * time.Millisecond}, func(db swfd.Store) swfd.Store { st.Store = db; return st })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	must(err)
	poll := &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}}
	st.fail.Store(true)
	if _, err := s.PollForDecisionTask(ctx, poll); err == nil {
		t.Fatal("poll with a failing store succeeded")
	}
	st.fail.Store(false)
	d, err := s.PollForDecisionTask(ctx, poll)
	must(err)
	if d.TaskToken == "" {
		t.Fatal("the decision task was lost with the failed start")
	}
}

// overtakenStore answers commits ErrConflict while overtaken is set, as a
// store does to a node whose every commit of a run another node's commit
// beat (a storm of signals on the run from other nodes). A run held
// (HoldRun) while overtaken is set cannot be had (heldElsewhere: ErrLocked,
// as when other nodes hold the run until the step's time is out) or is
// overtaken all the same (as in a store whose holds hold nothing).
type overtakenStore struct {
	swfd.Store
	overtaken     atomic.Bool
	heldElsewhere bool
}

func (o *overtakenStore) Commit(ctx context.Context, b swfd.Batch) error {
	if o.overtaken.Load() {
		return swfd.ErrConflict
	}
	return o.Store.Commit(ctx, b)
}

func (o *overtakenStore) HoldRun(ctx context.Context, domain, runID string) (swfd.Execution, swfd.RunHold, error) {
	if o.overtaken.Load() && o.heldElsewhere {
		<-ctx.Done()
		return swfd.Execution{}, nil, fmt.Errorf("waited for the run: %w", swfd.ErrLocked)
	}
	e, h, err := o.Store.HoldRun(ctx, domain, runID)
	if err != nil {
		return e, nil, err
	}
	return e, overtakenHold{h, o}, nil
}

type overtakenHold struct {
	swfd.RunHold
	o *overtakenStore
}

func (h overtakenHold) Commit(ctx context.Context, b swfd.Batch) error {
	if h.o.overtaken.Load() {
		h.RunHold.Release()
		return swfd.ErrConflict
	}
	return h.RunHold.Commit(ctx, b)
}

// A task whose start kept losing the race for its run until the poll ran
// out of time was not started, and stays pending for the next poller. (It
// was dropped as if the run had moved on without it, here and, told it was
// taken, on the other nodes: no poller was given it until a node next
// reloaded the pending tasks from the store.) So does one whose start,
// having lost, waited for the run to hold it until the poll's time was out.
func TestPollOvertakenStartKeepsTask(t *testing.T) {
	for _, heldElsewhere := range []bool{false, true} {
		t.Run(fmt.Sprintf("held elsewhere %v", heldElsewhere), func(t *testing.T) {
			testPollOvertakenStartKeepsTask(t, heldElsewhere)
		})
	}
}

func testPollOvertakenStartKeepsTask(t *testing.T, heldElsewhere bool) {
	st := &overtakenStore{heldElsewhere: heldElsewhere}
	s := testService(t, Options{PollTimeout: 200 * time.Millisecond}, func(db swfd.Store) swfd.Store { st.Store = db; return st })
	_, err := s.StartWorkflowExecution(context.Background(), &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	poll := &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}}
	st.overtaken.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if d, err := s.PollForDecisionTask(ctx, poll); err == nil && d.TaskToken != "" {
		t.Fatal("a start that never committed handed its task out")
	}
	st.overtaken.Store(false)
	d, err := s.PollForDecisionTask(context.Background(), poll)
	if err != nil {
		t.Fatal(err)
	}
	if d.TaskToken == "" {
		t.Fatal("the decision task was lost with the start that kept losing its run")
	}
}
