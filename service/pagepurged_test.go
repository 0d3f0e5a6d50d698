package service

import (
	"context"
	"github.com/swfd/swfd"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
)

// TestDecisionPageOfPurgedRun: a further page of a decision task whose run
// has since closed and been purged (a domain that keeps no closed runs) is an
// UnknownResourceFault naming the run, not an InternalFailure that SDKs
// retry again and again.
func TestDecisionPageOfPurgedRun(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	s := testService(t, Options{Clock: clk, PollTimeout: 100 * time.Millisecond}, nil)
	// A domain that keeps no closed runs.
	mustNil(t, s.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "z", WorkflowExecutionRetentionPeriodInDays: "NONE"}))
	mustNil(t, s.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "z", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "60", DefaultTaskStartToCloseTimeout: "10", DefaultChildPolicy: api.ChildPolicyTerminate}))
	run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "z", WorkflowID: "w",
		WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	mustNil(t, err)
	poll := &api.PollForDecisionTaskInput{Domain: "z", TaskList: api.TaskList{Name: "l"}, MaximumPageSize: 1}
	dt, err := s.PollForDecisionTask(ctx, poll)
	mustNil(t, err)
	if dt.NextPageToken == "" {
		t.Fatal("a page of one event has no nextPageToken")
	}
	mustNil(t, s.TerminateWorkflowExecution(ctx, &api.TerminateWorkflowExecutionInput{Domain: "z", WorkflowID: "w"}))
	clk.MoveTo(clk.Now().Add(time.Second))
	mustNil(t, s.Retention().Purge(ctx))
	poll.NextPageToken = dt.NextPageToken
	// On the node that closed the run (which may still have it in its
	// cache), and on one that never had it cached.
	for _, evict := range []bool{false, true} {
		if evict {
			s.runs.Evict(run.RunID)
		}
		_, err = s.PollForDecisionTask(ctx, poll)
		if f, ok := api.AsFault(err); !ok || f.Code != api.UnknownResourceFault {
			t.Fatalf("next page of a purged run's decision task (evicted %v): %v, want UnknownResourceFault", evict, err)
		}
	}
}

// purgeFirst purges domain z's closed runs before the first history read,
// as a purge that comes between a call's lookup of a run and its read of
// the run's events would.
type purgeFirst struct {
	swfd.Store
	armed atomic.Bool
}

func (p *purgeFirst) History(ctx context.Context, q swfd.HistoryQuery) ([]swfd.Event, error) {
	if p.armed.CompareAndSwap(true, false) {
		if _, err := p.Store.PurgeClosed(ctx, "z", time.Now().Add(100*365*24*time.Hour), 100); err != nil {
			return nil, err
		}
	}
	return p.Store.History(ctx, q)
}

// TestHistoryOfRunPurgedMeanwhile: a run purged between
// GetWorkflowExecutionHistory's lookup of it and its read of the events is
// an UnknownResourceFault, as it is a moment later, not a history of no
// events (every history begins with WorkflowExecutionStarted).
func TestHistoryOfRunPurgedMeanwhile(t *testing.T) {
	ctx := context.Background()
	var store *purgeFirst
	s := testService(t, Options{PollTimeout: 100 * time.Millisecond}, func(st swfd.Store) swfd.Store {
		store = &purgeFirst{Store: st}
		return store
	})
	mustNil(t, s.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "z", WorkflowExecutionRetentionPeriodInDays: "NONE"}))
	mustNil(t, s.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "z", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "60", DefaultTaskStartToCloseTimeout: "10", DefaultChildPolicy: api.ChildPolicyTerminate}))
	run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "z", WorkflowID: "w",
		WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	mustNil(t, err)
	mustNil(t, s.TerminateWorkflowExecution(ctx, &api.TerminateWorkflowExecutionInput{Domain: "z", WorkflowID: "w"}))
	in := &api.GetWorkflowExecutionHistoryInput{Domain: "z", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: run.RunID}}
	for _, reverse := range []bool{false, true} {
		in.ReverseOrder = reverse
		s.runs.Evict(run.RunID)
		h, err := s.GetWorkflowExecutionHistory(ctx, in)
		mustNil(t, err)
		if len(h.Events) != 3 {
			t.Fatalf("history of the closed run (reverse %v): %d events", reverse, len(h.Events))
		}
	}
	store.armed.Store(true)
	h, err := s.GetWorkflowExecutionHistory(ctx, in)
	if f, ok := api.AsFault(err); !ok || f.Code != api.UnknownResourceFault {
		t.Fatalf("history of a run purged meanwhile: %v (%+v), want UnknownResourceFault", err, h)
	}
}
