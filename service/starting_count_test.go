package service

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// A task a poller has taken and is starting is still pending until its
// start commits: CountPendingDecisionTasks counts it, as the history shows
// it scheduled and not started. It used to count only the tasks queued,
// so from the moment a poll took a task until its start committed (a read
// of a long history, a slow disk) the count left it out, and a count that
// scales workers on it saw no work; and a task given back by a poll that
// could not start it came back to the count later.
func TestTaskBeingStartedIsCountedPending(t *testing.T) {
	ctx := context.Background()
	starting := make(chan struct{})
	release := make(chan struct{})
	var hold atomic.Bool
	s := testService(t, Options{PollTimeout: 10 * time.Second, HoldTime: func() func() {
		if hold.Swap(false) {
			starting <- struct{}{}
			<-release
		}
		return func() {}
	}}, nil)
	if _, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}}); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		n, err := s.CountPendingDecisionTasks(ctx, &api.CountPendingDecisionTasksInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
		if err != nil {
			t.Fatal(err)
		}
		return n.Count
	}
	if n := count(); n != 1 {
		t.Fatalf("%d decision tasks pending once scheduled, want 1", n)
	}
	hold.Store(true)
	polled := make(chan *api.DecisionTask, 1)
	go func() {
		d, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
		if err != nil {
			t.Error(err)
		}
		polled <- d
	}()
	<-starting
	n := count()
	close(release)
	if n != 1 {
		t.Errorf("%d decision tasks pending while a poll was starting the one scheduled, want 1", n)
	}
	if d := <-polled; d == nil || d.TaskToken == "" {
		t.Fatalf("the poll answered %+v", d)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d decision tasks pending once the task started, want 0", n)
	}
}
