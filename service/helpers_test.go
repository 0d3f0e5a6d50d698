package service

import (
	"context"
	"testing"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/sqlite"
)

// testService returns a Service over a fresh in-memory store (wrapped by
// wrap, when not nil), with domain "d" and workflow type wf/1 (task list
// "l") registered.
func testService(t *testing.T, opts Options, wrap func(swfd.Store) swfd.Store) *Service {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	opts.Store = db
	if wrap != nil {
		opts.Store = wrap(db)
	}
	s, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "60", DefaultTaskStartToCloseTimeout: "10", DefaultChildPolicy: api.ChildPolicyTerminate}); err != nil {
		t.Fatal(err)
	}
	return s
}
