package service

import (
	"context"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/matching"
	"github.com/swfd/swfd/sqlite"
)

// memStore returns a fresh in-memory store, closed when the test ends.
func memStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// testService returns a Service over a fresh in-memory store (wrapped by
// wrap, when not nil), with domain "d" and workflow type wf/1 (task list
// "l") registered.
func testService(t *testing.T, opts Options, wrap func(swfd.Store) swfd.Store) *Service {
	t.Helper()
	db := memStore(t)
	opts.Store = db
	if wrap != nil {
		opts.Store = wrap(db)
	}
	s, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	registerTestTypes(t, s, false)
	return s
}

// registerTestTypes registers domain "d" and workflow type wf/1 (task list
// "l"), and with activity also activity type act/1 (task list "al").
func registerTestTypes(t testing.TB, s *Service, activity bool) {
	t.Helper()
	ctx := context.Background()
	if err := s.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "60", DefaultTaskStartToCloseTimeout: "10", DefaultChildPolicy: api.ChildPolicyTerminate}); err != nil {
		t.Fatal(err)
	}
	if !activity {
		return
	}
	if err := s.RegisterActivityType(ctx, &api.RegisterActivityTypeInput{Domain: "d", Name: "act", Version: "1", DefaultTaskList: &api.TaskList{Name: "al"},
		DefaultTaskScheduleToStartTimeout: "NONE", DefaultTaskScheduleToCloseTimeout: "NONE", DefaultTaskStartToCloseTimeout: "60", DefaultTaskHeartbeatTimeout: "NONE"}); err != nil {
		t.Fatal(err)
	}
}

// pollWaiting starts a PollForDecisionTask of s on task list "l" of domain
// "d" and returns, once s's matcher has it waiting, the channel its answer
// comes on (nil if the poll failed, which the test is told).
func pollWaiting(ctx context.Context, t *testing.T, s *Service) <-chan *api.DecisionTask {
	t.Helper()
	answered := make(chan *api.DecisionTask, 1)
	go func() {
		d, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
		if err != nil {
			t.Error(err)
		}
		answered <- d
	}()
	key := matching.ListKey{Kind: swfd.DecisionTask, Domain: "d", TaskList: "l"}
	for s.matcher.Waiting(key) == 0 {
		time.Sleep(time.Millisecond)
	}
	return answered
}
