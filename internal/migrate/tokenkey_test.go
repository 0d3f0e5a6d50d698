package migrate_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/migrate"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/sqlite"
)

// A task token a client got from the source's server works on the
// target's after the move, even when the target already had a token key
// of its own (an swfd was started on it before the copy). Both target
// stores.
func TestCopyKeepsTaskTokens(t *testing.T) {
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, target := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "dst.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.NewDatabase(t) }},
	} {
		t.Run(target.name, func(t *testing.T) {
			srcPath := filepath.Join(t.TempDir(), "src.db")
			srv, err := server.Open(ctx, server.Config{DB: "sqlite:" + srcPath, PollTimeout: time.Second})
			must(err)
			svc := srv.Service
			must(svc.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "5"}))
			must(svc.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
				DefaultExecutionStartToCloseTimeout: "3600", DefaultTaskStartToCloseTimeout: "600", DefaultChildPolicy: api.ChildPolicyTerminate}))
			run, err := svc.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
			must(err)
			// The decider takes the task from the source's server, which
			// then stops before the decider answers.
			task, err := svc.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
			must(err)
			if task.TaskToken == "" || task.WorkflowExecution.RunID != run.RunID {
				t.Fatalf("decision task on the source: %+v", task)
			}
			must(srv.Close())

			// The target gets a key of its own from a server started on it.
			dsn := target.dsn(t)
			fresh, err := server.Open(ctx, server.Config{DB: dsn})
			must(err)
			must(fresh.Close())

			src, err := sqlite.Open(ctx, srcPath, nil)
			must(err)
			defer src.Close()
			dst, err := server.OpenStore(ctx, dsn, nil)
			must(err)
			before, err := dst.Meta(ctx, "token-key")
			must(err)
			srcKey, err := src.Meta(ctx, "token-key")
			must(err)
			if bytes.Equal(before, srcKey) {
				t.Fatal("the target's own key is the source's; the test wants them different")
			}
			_, err = migrate.Copy(ctx, src, dst, nil)
			must(err)
			after, err := dst.Meta(ctx, "token-key")
			must(err)
			if !bytes.Equal(after, srcKey) {
				t.Errorf("the target's token key after the copy is not the source's")
			}
			must(dst.Close())

			moved, err := server.Open(ctx, server.Config{DB: dsn})
			must(err)
			defer moved.Close()
			if err := moved.Service.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken,
				Decisions: []api.Decision{{DecisionType: "CompleteWorkflowExecution"}}}); err != nil {
				t.Fatalf("the source's task token on the target: %v", err)
			}
			d, err := moved.Service.DescribeWorkflowExecution(ctx, &api.DescribeWorkflowExecutionInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: run.RunID}})
			must(err)
			if d.ExecutionInfo.ExecutionStatus != "CLOSED" {
				t.Errorf("the run after its decision on the target: %s", d.ExecutionInfo.ExecutionStatus)
			}
		})
	}
}
