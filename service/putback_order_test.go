package service

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// A task a poll took and could not hand out (its client went away before
// the start committed) goes back to the head of its list, ahead of the
// tasks scheduled after it, as it had never been taken. It went to the back,
// behind every task of its priority queued meanwhile, so on a busy list a
// task could be passed over again and again by each poll that gave it back.
func TestTaskPutBackKeepsItsPlace(t *testing.T) {
	ctx := context.Background()
	var goneOnStart atomic.Pointer[context.CancelFunc]
	s := testService(t, Options{PollTimeout: 200 * time.Millisecond, HoldTime: func() func() {
		if cancel := goneOnStart.Swap(nil); cancel != nil {
			(*cancel)()
		}
		return func() {}
	}}, nil)
	if err := s.RegisterActivityType(ctx, &api.RegisterActivityTypeInput{Domain: "d", Name: "act", Version: "1", DefaultTaskList: &api.TaskList{Name: "al"},
		DefaultTaskScheduleToStartTimeout: "NONE", DefaultTaskScheduleToCloseTimeout: "NONE", DefaultTaskStartToCloseTimeout: "NONE", DefaultTaskHeartbeatTimeout: "NONE"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, TaskStartToCloseTimeout: "NONE"}); err != nil {
		t.Fatal(err)
	}
	d, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	if err != nil || d.TaskToken == "" {
		t.Fatalf("decision task %+v, %v", d, err)
	}
	var decisions []api.Decision
	for _, id := range []string{"a1", "a2", "a3"} {
		decisions = append(decisions, api.Decision{
			DecisionType: api.DecisionTypeScheduleActivityTask,
			ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{
				ActivityID: id, ActivityType: api.ActivityType{Name: "act", Version: "1"}},
		})
	}
	if err := s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: decisions}); err != nil {
		t.Fatal(err)
	}
	apoll := &api.PollForActivityTaskInput{Domain: "d", TaskList: api.TaskList{Name: "al"}}
	for range 2 {
		pctx, cancel := context.WithCancel(ctx)
		goneOnStart.Store(&cancel)
		if _, err := s.PollForActivityTask(pctx, apoll); !errors.Is(err, context.Canceled) {
			t.Fatalf("the poll of a client gone answered %v", err)
		}
		cancel()
	}
	var got []string
	for range 3 {
		a, err := s.PollForActivityTask(ctx, apoll)
		if err != nil || a.TaskToken == "" {
			t.Fatalf("activity task %+v, %v", a, err)
		}
		got = append(got, a.ActivityID)
	}
	if got[0] != "a1" || got[1] != "a2" || got[2] != "a3" {
		t.Fatalf("tasks handed out in the order %v after the first was given back twice, want [a1 a2 a3]", got)
	}
}
