package service

import (
	"context"
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
