package service

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// failingStore fails commits while fail is set.
type failingStore struct {
	swfd.Store
	fail atomic.Bool
}

func (f *failingStore) Commit(ctx context.Context, b swfd.Batch) error {
	if f.fail.Load() {
		return errors.New("disk on fire")
	}
	return f.Store.Commit(ctx, b)
}

// TestPollStoreFailureKeepsTask checks that a task whose start could not be
// committed stays pending for the next poller.
func TestPollStoreFailureKeepsTask(t *testing.T) {
	ctx := context.Background()
	st := &failingStore{}
	s := testService(t, Options{PollTimeout: 200 * time.Millisecond}, func(db swfd.Store) swfd.Store { st.Store = db; return st })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	must(err)
	poll := &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}}
	st.fail.Store(true)
	if _, err := s.PollForDecisionTask(ctx, poll); err == nil {
		t.Fatal("poll with a failing store succeeded")
	}
	st.fail.Store(false)
	d, err := s.PollForDecisionTask(ctx, poll)
	must(err)
	if d.TaskToken == "" {
		t.Fatal("the decision task was lost with the failed start")
	}
}
