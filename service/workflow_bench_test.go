package service_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/server"
)

// BenchmarkWorkflowInProcess runs whole one-activity workflows through the
// service (no HTTP) on a durable SQLite file: start, poll, decide, poll,
// complete, poll, complete — seven calls, every write on disk before it
// returns.
func BenchmarkWorkflowInProcess(b *testing.B) {
	ctx := context.Background()
	srv, err := server.Open(ctx, server.Config{DB: "sqlite:" + filepath.Join(b.TempDir(), "swfd.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	svc := srv.Service
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(svc.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "1"}))
	must(svc.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "3600", DefaultTaskStartToCloseTimeout: "60", DefaultChildPolicy: api.ChildPolicyTerminate}))
	must(svc.RegisterActivityType(ctx, &api.RegisterActivityTypeInput{Domain: "d", Name: "a", Version: "1", DefaultTaskList: &api.TaskList{Name: "al"},
		DefaultTaskScheduleToStartTimeout: "NONE", DefaultTaskScheduleToCloseTimeout: "NONE", DefaultTaskStartToCloseTimeout: "60", DefaultTaskHeartbeatTimeout: "NONE"}))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := svc.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: fmt.Sprint("w", i), WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
		must(err)
		d, err := svc.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
		must(err)
		must(svc.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []api.Decision{{
			DecisionType: api.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{ActivityID: "a1", ActivityType: api.ActivityType{Name: "a", Version: "1"}}}}}))
		a, err := svc.PollForActivityTask(ctx, &api.PollForActivityTaskInput{Domain: "d", TaskList: api.TaskList{Name: "al"}})
		must(err)
		must(svc.RespondActivityTaskCompleted(ctx, &api.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken}))
		d, err = svc.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
		must(err)
		must(svc.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []api.Decision{{DecisionType: api.DecisionTypeCompleteWorkflowExecution}}}))
	}
}
