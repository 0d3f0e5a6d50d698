package service

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
)

// Calls that reach a run after a deadline whose timer the timer loop has
// not fired yet (here it never runs: the test fires timers itself) are
// answered as if it had fired on time, and the timer then fires nothing.

func overdueService(t *testing.T) (*Service, *clock.ManualClock) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s, err := New(context.Background(), Options{Store: memStore(t), Clock: clk, PollTimeout: 50 * time.Millisecond})
	mustNil(t, err)
	registerTestTypes(t, s, true)
	return s, clk
}

func historyTypes(t *testing.T, s *Service, runID string) string {
	t.Helper()
	h, err := s.GetWorkflowExecutionHistory(context.Background(), &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: runID}})
	mustNil(t, err)
	var out []string
	for _, e := range h.Events {
		out = append(out, string(e.EventType))
	}
	return strings.Join(out, " ")
}

func wantUnknown(t *testing.T, err error) {
	t.Helper()
	if f, ok := api.AsFault(err); !ok || f.Code != api.UnknownResourceFault {
		t.Fatalf("err = %v, want UnknownResourceFault", err)
	}
}

func TestLateAnswersAreRefused(t *testing.T) {
	ctx := context.Background()
	s, clk := overdueService(t)
	run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	mustNil(t, err)
	// A decider answers its task at its START_TO_CLOSE (10 s).
	dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	mustNil(t, err)
	clk.MoveTo(clk.Now().Add(10 * time.Second))
	wantUnknown(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken,
		Decisions: []api.Decision{{DecisionType: api.DecisionTypeCompleteWorkflowExecution}}}))
	const timedOut = "WorkflowExecutionStarted DecisionTaskScheduled DecisionTaskStarted DecisionTaskTimedOut DecisionTaskScheduled"
	if got := historyTypes(t, s, run.RunID); got != timedOut {
		t.Fatalf("history %s", got)
	}
	if n, _, _, err := s.Timers().FireDue(ctx, nil); err != nil || historyTypes(t, s, run.RunID) != timedOut {
		t.Fatalf("the timer fired %d after the answer found it due: %v %s", n, err, historyTypes(t, s, run.RunID))
	}
	// The next task: an activity with a heartbeat timeout of 5 s.
	dt, err = s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	mustNil(t, err)
	if dt.PreviousStartedEventID != 0 || dt.StartedEventID != 6 {
		t.Fatalf("decision task %d after %d", dt.StartedEventID, dt.PreviousStartedEventID)
	}
	mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []api.Decision{{
		DecisionType: api.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{
			ActivityID: "a", ActivityType: api.ActivityType{Name: "act", Version: "1"}, HeartbeatTimeout: "5"}}}}))
	at, err := s.PollForActivityTask(ctx, &api.PollForActivityTaskInput{Domain: "d", TaskList: api.TaskList{Name: "al"}})
	mustNil(t, err)
	clk.MoveTo(clk.Now().Add(4 * time.Second))
	st, err := s.RecordActivityTaskHeartbeat(ctx, &api.RecordActivityTaskHeartbeatInput{TaskToken: at.TaskToken, Details: api.String("4s")})
	mustNil(t, err)
	if st.CancelRequested {
		t.Fatal("cancel requested")
	}
	// 5 s after that heartbeat: a heartbeat would have revived the task.
	clk.MoveTo(clk.Now().Add(5 * time.Second))
	_, err = s.RecordActivityTaskHeartbeat(ctx, &api.RecordActivityTaskHeartbeatInput{TaskToken: at.TaskToken})
	wantUnknown(t, err)
	wantUnknown(t, s.RespondActivityTaskCompleted(ctx, &api.RespondActivityTaskCompletedInput{TaskToken: at.TaskToken}))
	h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: run.RunID}, ReverseOrder: true, MaximumPageSize: 2})
	mustNil(t, err)
	ev, err := h.Events[1].Full()
	mustNil(t, err)
	if a := ev.ActivityTaskTimedOutEventAttributes; a == nil || a.TimeoutType != api.ActivityTaskTimeoutTypeHeartbeat || api.Value(a.Details) != "4s" || a.StartedEventID != 9 {
		t.Fatalf("event %d %s %+v", ev.EventID, ev.EventType, a)
	}
	if n, _, _, err := s.Timers().FireDue(ctx, nil); err != nil || strings.Count(historyTypes(t, s, run.RunID), "ActivityTaskTimedOut") != 1 {
		t.Fatalf("fired %d: %v %s", n, err, historyTypes(t, s, run.RunID))
	}
	d, err := s.DescribeWorkflowExecution(ctx, &api.DescribeWorkflowExecutionInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: run.RunID}})
	mustNil(t, err)
	if d.OpenCounts.OpenActivityTasks != 0 || d.OpenCounts.OpenDecisionTasks != 1 {
		t.Fatalf("open counts %+v", d.OpenCounts)
	}
	// Past the run's own timeout (60 s): a signal times the run out and is
	// refused, as on a closed run.
	clk.MoveTo(clk.Now().Add(time.Minute))
	wantUnknown(t, s.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: "late"}))
	if got := historyTypes(t, s, run.RunID); !strings.HasSuffix(got, "ActivityTaskTimedOut DecisionTaskScheduled WorkflowExecutionTimedOut") {
		t.Fatalf("history %s", got)
	}
	d, err = s.DescribeWorkflowExecution(ctx, &api.DescribeWorkflowExecutionInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: run.RunID}})
	mustNil(t, err)
	if d.ExecutionInfo.ExecutionStatus != api.ExecutionStatusClosed || d.ExecutionInfo.CloseStatus != api.CloseStatusTimedOut {
		t.Fatalf("execution %+v", d.ExecutionInfo)
	}
}

// A poll that takes an activity task past its SCHEDULE_TO_START hands out
// nothing and records the timeout.
func TestLatePollGetsNoTimedOutTask(t *testing.T) {
	ctx := context.Background()
	s, clk := overdueService(t)
	run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	mustNil(t, err)
	dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	mustNil(t, err)
	mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []api.Decision{{
		DecisionType: api.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{
			ActivityID: "a", ActivityType: api.ActivityType{Name: "act", Version: "1"}, ScheduleToStartTimeout: "5"}}}}))
	clk.MoveTo(clk.Now().Add(5 * time.Second))
	at, err := s.PollForActivityTask(ctx, &api.PollForActivityTaskInput{Domain: "d", TaskList: api.TaskList{Name: "al"}})
	mustNil(t, err)
	if at.TaskToken != "" {
		t.Fatalf("handed out a task past its schedule-to-start timeout: %+v", at)
	}
	if got := historyTypes(t, s, run.RunID); !strings.HasSuffix(got, "DecisionTaskCompleted ActivityTaskScheduled ActivityTaskTimedOut DecisionTaskScheduled") {
		t.Fatalf("history %s", got)
	}
	n, err := s.CountPendingActivityTasks(ctx, &api.CountPendingActivityTasksInput{Domain: "d", TaskList: api.TaskList{Name: "al"}})
	mustNil(t, err)
	if n.Count != 0 {
		t.Fatalf("%d activity tasks pending", n.Count)
	}
}

// A poll on a temporary task-list override past its decision task's
// SCHEDULE_TO_START gets no task: the timeout is recorded, the override
// reverts, and the next decision task waits on the execution's list. The
// poll used to start the task when the timer loop had not fired yet.
func TestLatePollOnTemporaryOverride(t *testing.T) {
	ctx := context.Background()
	s, clk := overdueService(t)
	run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	mustNil(t, err)
	dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	mustNil(t, err)
	mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken,
		TaskList: &api.TaskList{Name: "tmp"}, TaskListScheduleToStartTimeout: "5"}))
	mustNil(t, s.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: "go"}))
	clk.MoveTo(clk.Now().Add(5 * time.Second))
	late, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "tmp"}})
	mustNil(t, err)
	if late.TaskToken != "" {
		t.Fatalf("handed out a decision task past its schedule-to-start timeout: %+v", late.StartedEventID)
	}
	if got := historyTypes(t, s, run.RunID); !strings.HasSuffix(got, "WorkflowExecutionSignaled DecisionTaskScheduled DecisionTaskTimedOut DecisionTaskScheduled") {
		t.Fatalf("history %s", got)
	}
	next, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	mustNil(t, err)
	if next.TaskToken == "" {
		t.Fatal("no decision task on the execution's list")
	}
}
