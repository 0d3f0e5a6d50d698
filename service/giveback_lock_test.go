package service

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// A poll that gives its task back (its client gone as it was handed the
// task) answers at once, and the task is pending again at once, even while
// another call holds the task's run (a step waiting on a slow store, a
// decision task's start reading a long history). Giving it back used to
// wait for the run's lock, to check the task had not ended meanwhile: the
// poll's answer waited as long (a poll whose wait ended at its timeout
// answered late, and swfd's graceful stop waited for it), and the task
// was neither queued nor counted meanwhile.
func TestGiveBackWaitsForNoRunLock(t *testing.T) {
	ctx := context.Background()
	s := testService(t, Options{PollTimeout: 10 * time.Second}, nil)
	run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	if err != nil {
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
	unlock := s.runs.Lock(run.RunID)
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	gone, cancel := context.WithCancel(ctx)
	cancel()
	answered := make(chan error, 1)
	go func() {
		_, err := s.PollForDecisionTask(gone, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
		answered <- err
	}()
	select {
	case err := <-answered:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the poll of a client gone answered %v", err)
		}
	case <-time.After(5 * time.Second):
		unlock()
		locked = false
		<-answered
		t.Fatal("the poll that gave its task back had not answered after 5 s while another call held the task's run")
	}
	if n := count(); n != 1 {
		t.Fatalf("%d decision tasks pending once the task was given back, want 1", n)
	}
	unlock()
	locked = false
	d, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	if err != nil || d.TaskToken == "" {
		t.Fatalf("the task given back was not handed out again: %+v, %v", d, err)
	}
}
