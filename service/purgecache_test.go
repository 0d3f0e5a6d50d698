package service

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
)

// afterPurge runs then once a PurgeClosed call has deleted something, as a
// call that arrives once the purge's batch is committed and before its
// pass ends would.
type afterPurge struct {
	swfd.Store
	then atomic.Pointer[func()]
}

func (a *afterPurge) PurgeClosed(ctx context.Context, domain string, cutoff time.Time, limit int) (int, error) {
	n, err := a.Store.PurgeClosed(ctx, domain, cutoff, limit)
	if n > 0 {
		if f := a.then.Swap(nil); f != nil {
			(*f)()
		}
	}
	return n, err
}

// TestPurgedRunLeavesCacheWithItsBatch: once a purge has deleted a closed
// run, a task token of it is unknown ("Unknown task token", as for any run
// no longer stored), even before the purge's pass is over. The issue: the
// run cache dropped purged runs only at the end of each pass (which goes
// through every domain, a batch at a time), so meanwhile a call on the run
// was answered from the cache, as for a run still there ("Unknown
// execution").
func TestPurgedRunLeavesCacheWithItsBatch(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	var store *afterPurge
	s := testService(t, Options{Clock: clk, PollTimeout: 100 * time.Millisecond}, func(st swfd.Store) swfd.Store {
		store = &afterPurge{Store: st}
		return store
	})
	mustNil(t, s.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "z", WorkflowExecutionRetentionPeriodInDays: "NONE"}))
	mustNil(t, s.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "z", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "60", DefaultTaskStartToCloseTimeout: "10", DefaultChildPolicy: api.ChildPolicyTerminate}))
	_, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "z", WorkflowID: "w",
		WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	mustNil(t, err)
	dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "z", TaskList: api.TaskList{Name: "l"}})
	mustNil(t, err)
	if dt.TaskToken == "" {
		t.Fatal("no decision task")
	}
	mustNil(t, s.TerminateWorkflowExecution(ctx, &api.TerminateWorkflowExecutionInput{Domain: "z", WorkflowID: "w"}))
	clk.MoveTo(clk.Now().Add(time.Second))
	var respondErr error
	ran := false
	then := func() {
		ran = true
		respondErr = s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken})
	}
	store.then.Store(&then)
	mustNil(t, s.Retention().Purge(ctx))
	if !ran {
		t.Fatal("the purge deleted nothing")
	}
	if f, ok := api.AsFault(respondErr); !ok || f.Code != api.UnknownResourceFault || !strings.Contains(f.Message, "Unknown task token") {
		t.Errorf("completing a task of a run its purge had deleted, before the pass ended: %v; want UnknownResourceFault, Unknown task token", respondErr)
	}
}
