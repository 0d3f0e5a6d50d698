package service

import (
	"context"
	"testing"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
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
