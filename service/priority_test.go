package service

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// A priority given with leading zeros or a sign is recorded, and shown, as
// the integer it stands for. The model sets no length on taskPriority: a
// start whose priority held a million leading zeros answered a megabyte in
// its DescribeWorkflowExecution and recorded a megabyte in each
// DecisionTaskScheduled of the run, and a type registered with such a
// default put a megabyte into each ActivityTaskScheduled of it (a 16 KB
// RespondDecisionTaskCompleted of 100 of them wrote 100 MB of history).
func TestPriorityRecordedAsInteger(t *testing.T) {
	ctx := context.Background()
	s := testService(t, Options{PollTimeout: 100 * time.Millisecond}, nil)
	long := strings.Repeat("0", 1<<20) + "5"
	if err := s.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "prio", Version: "1", DefaultTaskList: &api.TaskList{Name: "pl"},
		DefaultTaskPriority: "+0012", DefaultExecutionStartToCloseTimeout: "60", DefaultTaskStartToCloseTimeout: "10", DefaultChildPolicy: api.ChildPolicyTerminate}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterActivityType(ctx, &api.RegisterActivityTypeInput{Domain: "d", Name: "prio", Version: "1", DefaultTaskList: &api.TaskList{Name: "al"},
		DefaultTaskPriority: long, DefaultTaskScheduleToStartTimeout: "NONE", DefaultTaskScheduleToCloseTimeout: "NONE", DefaultTaskStartToCloseTimeout: "60", DefaultTaskHeartbeatTimeout: "NONE"}); err != nil {
		t.Fatal(err)
	}
	wt, err := s.DescribeWorkflowType(ctx, &api.DescribeWorkflowTypeInput{Domain: "d", WorkflowType: api.WorkflowType{Name: "prio", Version: "1"}})
	if err != nil || wt.Configuration.DefaultTaskPriority != "12" {
		t.Fatalf("workflow type's default priority %q (%v), want 12", wt.Configuration.DefaultTaskPriority, err)
	}
	at, err := s.DescribeActivityType(ctx, &api.DescribeActivityTypeInput{Domain: "d", ActivityType: api.ActivityType{Name: "prio", Version: "1"}})
	if err != nil || at.Configuration.DefaultTaskPriority != "5" {
		t.Fatalf("activity type's default priority of %d bytes (%v), want 5", len(at.Configuration.DefaultTaskPriority), err)
	}

	// A start's own priority, and a start that takes its type's default.
	for _, c := range []struct{ id, given, want string }{{"given", long, "5"}, {"default", "", "12"}} {
		run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: c.id, WorkflowType: api.WorkflowType{Name: "prio", Version: "1"}, TaskPriority: c.given})
		if err != nil {
			t.Fatal(err)
		}
		exec := api.WorkflowExecution{WorkflowID: c.id, RunID: run.RunID}
		d, err := s.DescribeWorkflowExecution(ctx, &api.DescribeWorkflowExecutionInput{Domain: "d", Execution: exec})
		if err != nil || d.ExecutionConfiguration.TaskPriority != c.want {
			t.Fatalf("%s: described priority of %d bytes (%v), want %s", c.id, len(d.ExecutionConfiguration.TaskPriority), err, c.want)
		}
		h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: exec})
		if err != nil || len(h.Events) != 2 {
			t.Fatalf("%s: history %v %v", c.id, h, err)
		}
		evs := fullEvents(t, h.Events)
		if p := evs[0].WorkflowExecutionStartedEventAttributes.TaskPriority; p != c.want {
			t.Fatalf("%s: WorkflowExecutionStarted priority of %d bytes, want %s", c.id, len(p), c.want)
		}
		if p := evs[1].DecisionTaskScheduledEventAttributes.TaskPriority; p != c.want {
			t.Fatalf("%s: DecisionTaskScheduled priority of %d bytes, want %s", c.id, len(p), c.want)
		}
	}

	// An activity of the type with the long default.
	task, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "pl"}})
	if err != nil || task.TaskToken == "" {
		t.Fatalf("poll: %+v %v", task, err)
	}
	if err := s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: []api.Decision{{
		DecisionType:                           api.DecisionTypeScheduleActivityTask,
		ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{ActivityID: "a", ActivityType: api.ActivityType{Name: "prio", Version: "1"}},
	}}}); err != nil {
		t.Fatal(err)
	}
	h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: task.WorkflowExecution, ReverseOrder: true, MaximumPageSize: 1})
	if err != nil || len(h.Events) != 1 {
		t.Fatalf("history %+v %v", h, err)
	}
	a := fullEvents(t, h.Events)[0].ActivityTaskScheduledEventAttributes
	if a == nil {
		t.Fatalf("last event %+v, want ActivityTaskScheduled", h.Events[0])
	}
	if a.TaskPriority != "5" {
		t.Fatalf("ActivityTaskScheduled priority of %d bytes, want 5", len(a.TaskPriority))
	}
}

// fullEvents decodes events the store answered as their wire JSON.
func fullEvents(t *testing.T, events []api.HistoryEvent) []api.HistoryEvent {
	t.Helper()
	out := make([]api.HistoryEvent, len(events))
	for i, e := range events {
		var err error
		if out[i], err = e.Full(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
