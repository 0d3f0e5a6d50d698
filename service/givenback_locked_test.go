package service

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// stuckStore holds every commit, once stuck is set, until unstick is
// closed: a store waiting on its database (a PostgreSQL statement waiting
// for a lock another session holds, up to its call's deadline).
type stuckStore struct {
	swfd.Store
	stuck   atomic.Bool
	held    chan struct{} // receives when a commit is being held
	unstick chan struct{}
}

func (s *stuckStore) Commit(ctx context.Context, b swfd.Batch) error {
	if s.stuck.Load() {
		s.held <- struct{}{}
		<-s.unstick
	}
	return s.Store.Commit(ctx, b)
}

// A poll that gives its task back (handed it as its wait ended) while a
// call on the task's run holds the run's lock, its commit waiting on the
// store, answers at once and puts the task back on its list: before, the
// give-back waited for the run's lock, so the poll's answer, and the task
// (on no list meanwhile, so no other poller could have it), waited for the
// other call's commit, for as long as its store held it: with PostgreSQL
// waiting for a lock another session holds, up to that call's deadline,
// and for a database that did not answer some 35 s, past the poll's own
// time and its client's read timeout.
func TestTaskGivenBackWhileItsRunIsLocked(t *testing.T) {
	ctx := context.Background()
	st := &stuckStore{held: make(chan struct{}, 1), unstick: make(chan struct{})}
	var s *Service
	var giveBack atomic.Bool
	signalled := make(chan error, 1)
	s = testService(t, Options{PollTimeout: 10 * time.Second, LongWait: func(context.Context, func()) func() bool {
		return func() bool {
			if !giveBack.Swap(false) {
				return false
			}
			// A signal of the run, its commit held by the store, holds
			// the run's lock as the poll ends its wait.
			st.stuck.Store(true)
			go func() {
				signalled <- s.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: "s"})
			}()
			<-st.held
			return true
		}
	}}, func(db swfd.Store) swfd.Store { st.Store = db; return st })
	defer func() {
		select {
		case <-st.unstick:
		default:
			close(st.unstick)
		}
	}()
	giveBack.Store(true)
	polled := pollWaiting(ctx, t, s)
	if _, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-polled:
		if d == nil || d.TaskToken != "" {
			t.Fatalf("the poll whose wait ended answered %+v, want empty", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a poll giving its task back still waits after 5 s for a commit of the task's run that the store holds")
	}
	n, err := s.CountPendingDecisionTasks(ctx, &api.CountPendingDecisionTasksInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	if err != nil {
		t.Fatal(err)
	}
	if n.Count != 1 {
		t.Fatalf("%d decision tasks pending while the other call's commit is held, want 1 (the task given back)", n.Count)
	}
	st.stuck.Store(false)
	close(st.unstick)
	if err := <-signalled; err != nil {
		t.Fatal(err)
	}
	d, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	if err != nil || d == nil || d.TaskToken == "" {
		t.Fatalf("a poll once the commit went through: %+v, %v; want the task given back", d, err)
	}
}
