package service

import (
	"context"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
)

// A run given an executionStartToCloseTimeout of NONE (a continued run
// here; a child likewise) still times out when a year has passed, and its
// pending work, which the console shows and its needs-attention page reads,
// says so: it was shown with no deadline at all, and never as near it.
func TestPendingShowsTheYearOfARunWithoutTimeout(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := testService(t, Options{Clock: clk}, nil)
	_, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	task, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	if err != nil || task.TaskToken == "" {
		t.Fatalf("poll: %v %+v", err, task)
	}
	if err := s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: []api.Decision{{
		DecisionType: api.DecisionTypeContinueAsNewWorkflowExecution,
		ContinueAsNewWorkflowExecutionDecisionAttributes: &api.ContinueAsNewWorkflowExecutionDecisionAttributes{ExecutionStartToCloseTimeout: "NONE"},
	}}}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListOpenWorkflowExecutions(ctx, &api.ListOpenWorkflowExecutionsInput{Domain: "d", StartTimeFilter: api.ExecutionTimeFilter{OldestDate: api.Time{Time: clk.Now().Add(-time.Hour)}}})
	if err != nil || len(list.ExecutionInfos) != 1 {
		t.Fatalf("open runs: %v %+v", err, list)
	}
	next := list.ExecutionInfos[0].Execution
	p, err := s.Pending(ctx, "d", next)
	if err != nil {
		t.Fatal(err)
	}
	if want := clk.Now().Add(365 * 24 * time.Hour); !p.Deadline.Equal(want) {
		t.Fatalf("deadline %v, want %v (a year after its start)", p.Deadline, want)
	}

	// Within a tenth of the year of it, it needs attention.
	clk.MoveTo(clk.Now().Add(330 * 24 * time.Hour))
	a, err := s.Attention(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.NearTimeout) != 1 || a.NearTimeout[0].Execution.RunID != next.RunID {
		t.Fatalf("near timeout: %+v", a.NearTimeout)
	}
}
