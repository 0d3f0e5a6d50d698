package service

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
)

// An activity scheduled and canceled by one decision batch (canceled at
// once, never started) leaves no task behind: none is pending on its task
// list, none is in the store for a restarted service to load, and a poll
// gets nothing. The batch's task used to be taken off its list before it
// was put on it (the store and the lists apply a step's finished tasks
// first), so it stood pending until a poller came to find it gone, and in
// the store until the run closed.
func TestActivityScheduledAndCanceledInOneBatchIsNotPending(t *testing.T) {
	ctx := context.Background()
	db := memStore(t)
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s, err := New(ctx, Options{Store: db, Clock: clk, PollTimeout: 50 * time.Millisecond})
	mustNil(t, err)
	registerTestTypes(t, s, true)
	run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	mustNil(t, err)
	dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	mustNil(t, err)
	mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []api.Decision{
		{DecisionType: api.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{
			ActivityID: "a", ActivityType: api.ActivityType{Name: "act", Version: "1"}}},
		{DecisionType: api.DecisionTypeRequestCancelActivityTask, RequestCancelActivityTaskDecisionAttributes: &api.RequestCancelActivityTaskDecisionAttributes{ActivityID: "a"}},
	}}))
	if got := historyTypes(t, s, run.RunID); !strings.HasSuffix(got, "DecisionTaskCompleted ActivityTaskScheduled ActivityTaskCancelRequested ActivityTaskCanceled DecisionTaskScheduled") {
		t.Fatalf("history %s", got)
	}
	pending := func(s *Service) int {
		t.Helper()
		n, err := s.CountPendingActivityTasks(ctx, &api.CountPendingActivityTasksInput{Domain: "d", TaskList: api.TaskList{Name: "al"}})
		mustNil(t, err)
		return n.Count
	}
	if n := pending(s); n != 0 {
		t.Fatalf("%d activity tasks pending after the activity was canceled", n)
	}
	// A service started again over the same store loads no such task.
	s2, err := New(ctx, Options{Store: db, Clock: clk, PollTimeout: 50 * time.Millisecond})
	mustNil(t, err)
	if n := pending(s2); n != 0 {
		t.Fatalf("%d activity tasks pending in the store after the activity was canceled", n)
	}
	at, err := s2.PollForActivityTask(ctx, &api.PollForActivityTaskInput{Domain: "d", TaskList: api.TaskList{Name: "al"}})
	mustNil(t, err)
	if at.TaskToken != "" {
		t.Fatalf("a poll was handed the canceled activity: %+v", at)
	}
}
