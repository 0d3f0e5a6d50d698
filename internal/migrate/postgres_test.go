package migrate_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/migrate"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/postgres"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/sqlite"
)

// swfd migrate's purpose: a single-node SQLite installation moves to
// PostgreSQL and goes on working there, pending work included.
func TestCopySQLiteToPostgres(t *testing.T) {
	ctx := context.Background()
	pgDSN := pgtest.NewDatabase(t)
	dir := t.TempDir()
	srv, err := server.Open(ctx, server.Config{DB: "sqlite:" + filepath.Join(dir, "src.db")})
	if err != nil {
		t.Fatal(err)
	}
	svc := srv.Service
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "5"}))
	must(svc.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "3600", DefaultTaskStartToCloseTimeout: "60", DefaultChildPolicy: api.ChildPolicyTerminate}))
	run, err := svc.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	must(err)
	must(srv.Close())

	src, err := sqlite.Open(ctx, filepath.Join(dir, "src.db"), nil)
	must(err)
	dst, err := postgres.Open(ctx, pgDSN, nil)
	must(err)
	st, err := migrate.Copy(ctx, src, dst, nil)
	must(err)
	if st.Executions != 1 || st.Tasks != 1 || st.Timers != 1 {
		t.Fatalf("stats %+v", st)
	}
	src.Close()
	dst.Close()

	pg, err := server.Open(ctx, server.Config{DB: pgDSN, PollTimeout: time.Second})
	must(err)
	defer pg.Close()
	task, err := pg.Service.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	must(err)
	if task.WorkflowExecution.RunID != run.RunID || len(task.Events) != 3 {
		t.Fatalf("decision task on PostgreSQL: %+v", task)
	}
	must(pg.Service.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken,
		Decisions: []api.Decision{{DecisionType: "CompleteWorkflowExecution"}}}))
}
