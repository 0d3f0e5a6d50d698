package service

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// A poll whose client went away after the poll was handed its task, and
// before the task's start committed, starts nothing: the task stays
// pending for the next poller. (The run is in the run cache, so nothing
// the start reads from the store notices the client gone.) The start
// committed all the same, and the task stood started with no one to run
// it until its START_TO_CLOSE timeout.
func TestPollOfAGoneClientStartsNoTask(t *testing.T) {
	ctx := context.Background()
	var goneOnStart atomic.Pointer[context.CancelFunc]
	s := testService(t, Options{PollTimeout: 200 * time.Millisecond, HoldTime: func() func() {
		// The client goes as the poll starts its task.
		if cancel := goneOnStart.Swap(nil); cancel != nil {
			(*cancel)()
		}
		return func() {}
	}}, nil)
	if err := s.RegisterActivityType(ctx, &api.RegisterActivityTypeInput{Domain: "d", Name: "act", Version: "1", DefaultTaskList: &api.TaskList{Name: "al"},
		DefaultTaskScheduleToStartTimeout: "NONE", DefaultTaskScheduleToCloseTimeout: "NONE", DefaultTaskStartToCloseTimeout: "NONE", DefaultTaskHeartbeatTimeout: "NONE"}); err != nil {
		t.Fatal(err)
	}
	run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, TaskStartToCloseTimeout: "NONE"})
	if err != nil {
		t.Fatal(err)
	}
	events := func() int {
		t.Helper()
		h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: run.RunID}})
		if err != nil {
			t.Fatal(err)
		}
		return len(h.Events)
	}
	gonePoll := func(poll func(ctx context.Context) error) {
		t.Helper()
		before := events()
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		goneOnStart.Store(&cancel)
		if err := poll(pctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("the poll of a client gone answered %v", err)
		}
		if n := events(); n != before {
			t.Fatalf("the poll of a client gone recorded %d events", n-before)
		}
	}

	dpoll := &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}}
	gonePoll(func(ctx context.Context) error { _, err := s.PollForDecisionTask(ctx, dpoll); return err })
	d, err := s.PollForDecisionTask(ctx, dpoll)
	if err != nil || d.TaskToken == "" {
		t.Fatalf("the decision task was lost with the poll of a client gone: %+v, %v", d, err)
	}
	if err := s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []api.Decision{{
		DecisionType: api.DecisionTypeScheduleActivityTask,
		ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{
			ActivityID: "a", ActivityType: api.ActivityType{Name: "act", Version: "1"}},
	}}}); err != nil {
		t.Fatal(err)
	}

	apoll := &api.PollForActivityTaskInput{Domain: "d", TaskList: api.TaskList{Name: "al"}}
	gonePoll(func(ctx context.Context) error { _, err := s.PollForActivityTask(ctx, apoll); return err })
	a, err := s.PollForActivityTask(ctx, apoll)
	if err != nil || a.TaskToken == "" {
		t.Fatalf("the activity task was lost with the poll of a client gone: %+v, %v", a, err)
	}
}
