package migrate_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/migrate"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/sqlite"
)

// Copy a live installation — registry, open and closed runs, a pending
// task, a timer — to a new database and keep working there.
func TestCopySQLiteToSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srcDSN := "sqlite:" + filepath.Join(dir, "src.db")
	srv, err := server.Open(ctx, server.Config{DB: srcDSN})
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
	must(svc.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "5", Tags: []api.ResourceTag{{Key: "team", Value: api.String("x")}}}))
	must(svc.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "old", WorkflowExecutionRetentionPeriodInDays: "1"}))
	must(svc.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "3600", DefaultTaskStartToCloseTimeout: "60", DefaultChildPolicy: api.ChildPolicyTerminate}))
	must(svc.RegisterActivityType(ctx, &api.RegisterActivityTypeInput{Domain: "d", Name: "act", Version: "1"}))
	must(svc.DeprecateActivityType(ctx, &api.DeprecateActivityTypeInput{Domain: "d", ActivityType: api.ActivityType{Name: "act", Version: "1"}}))
	must(svc.DeprecateDomain(ctx, &api.DeprecateDomainInput{Name: "old"}))
	openRun, err := svc.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "open", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	must(err)
	closedRun, err := svc.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "closed", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	must(err)
	must(svc.TerminateWorkflowExecution(ctx, &api.TerminateWorkflowExecutionInput{Domain: "d", WorkflowID: "closed"}))
	must(srv.Close())

	src, err := sqlite.Open(ctx, filepath.Join(dir, "src.db"), nil)
	must(err)
	dst, err := sqlite.Open(ctx, filepath.Join(dir, "dst.db"), nil)
	must(err)
	st, err := migrate.Copy(ctx, src, dst, nil)
	must(err)
	if st.Domains != 2 || st.Types != 2 || st.Executions != 2 || st.Tasks != 1 || st.Timers != 1 {
		t.Fatalf("stats %+v", st)
	}
	if _, err := migrate.Copy(ctx, src, dst, nil); !errors.Is(err, migrate.ErrTargetNotEmpty) {
		t.Fatalf("second copy: %v", err)
	}
	src.Close()
	dst.Close()

	srv2, err := server.Open(ctx, server.Config{DB: "sqlite:" + filepath.Join(dir, "dst.db"), PollTimeout: time.Second})
	must(err)
	defer srv2.Close()
	svc = srv2.Service
	dd, err := svc.DescribeDomain(ctx, &api.DescribeDomainInput{Name: "old"})
	must(err)
	if dd.DomainInfo.Status != "DEPRECATED" {
		t.Fatalf("old domain status %s", dd.DomainInfo.Status)
	}
	at, err := svc.DescribeActivityType(ctx, &api.DescribeActivityTypeInput{Domain: "d", ActivityType: api.ActivityType{Name: "act", Version: "1"}})
	must(err)
	if at.TypeInfo.Status != "DEPRECATED" {
		t.Fatalf("activity type status %s", at.TypeInfo.Status)
	}
	tags, err := svc.ListTagsForResource(ctx, &api.ListTagsForResourceInput{ResourceArn: "arn:aws:swf:us-east-1:123456789012:/domain/d"})
	must(err)
	if len(tags.Tags) != 1 {
		t.Fatalf("tags %+v", tags)
	}
	h, err := svc.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "closed", RunID: closedRun.RunID}})
	must(err)
	if n := len(h.Events); n != 3 || h.Events[2].EventType != "WorkflowExecutionTerminated" {
		t.Fatalf("closed history %d events", n)
	}
	// The pending decision task of the open run is handed out by the new
	// store's server, and its token works.
	task, err := svc.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	must(err)
	if task.TaskToken == "" || task.WorkflowExecution.RunID != openRun.RunID {
		t.Fatalf("decision task after migration: %+v", task)
	}
	must(svc.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken,
		Decisions: []api.Decision{{DecisionType: "CompleteWorkflowExecution"}}}))
}
