package service

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// A task a poll gives back after its run closed (here: the run terminated
// while the poll, handed the task as its wait was ended, was on its way
// out) is not put back on its list: the run's close took its tasks off
// the lists while the poll held this one, and put back it stood pending
// for good, CountPendingDecisionTasks counting it (and the console showing
// it) until a poller came to take it and found it gone.
func TestTaskOfAClosedRunIsNotGivenBack(t *testing.T) {
	ctx := context.Background()
	var s *Service
	var terminate atomic.Bool
	s = testService(t, Options{PollTimeout: time.Second, LongWait: func(context.Context, func()) func() bool {
		return func() bool {
			if !terminate.Swap(false) {
				return false
			}
			if err := s.TerminateWorkflowExecution(ctx, &api.TerminateWorkflowExecutionInput{Domain: "d", WorkflowID: "w"}); err != nil {
				t.Error(err)
			}
			return true
		}
	}}, nil)
	terminate.Store(true)
	gaveUp := pollWaiting(ctx, t, s)
	if _, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}}); err != nil {
		t.Fatal(err)
	}
	if d := <-gaveUp; d == nil || d.TaskToken != "" {
		t.Fatalf("the poll whose wait ended answered %+v", d)
	}
	if terminate.Load() {
		t.Fatal("the poll's wait was not ended")
	}
	n, err := s.CountPendingDecisionTasks(ctx, &api.CountPendingDecisionTasksInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	if err != nil {
		t.Fatal(err)
	}
	if n.Count != 0 {
		t.Fatalf("%d decision tasks pending on the list of a terminated run, want 0", n.Count)
	}
}
