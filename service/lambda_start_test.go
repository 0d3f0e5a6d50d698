package service

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/sqlite"
)

// pendingCounter counts the reads of every pending task.
type pendingCounter struct {
	swfd.Store
	reads atomic.Int32
}

func (p *pendingCounter) PendingTasks(ctx context.Context) ([]swfd.Task, error) {
	p.reads.Add(1)
	return p.Store.PendingTasks(ctx)
}

// A starting service reads the pending tasks once: the Lambda loop runs a
// Lambda task left pending from before the start without reading them all
// again.
func TestStartReadsPendingTasksOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := sqlite.Open(ctx, t.TempDir()+"/s.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	// A service that never runs its loops schedules a Lambda function:
	// the task stays pending in the store.
	before, err := New(ctx, Options{Store: db, Lambda: &countingInvoker{}})
	mustNil(t, err)
	mustNil(t, before.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "1"}))
	mustNil(t, before.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "600", DefaultTaskStartToCloseTimeout: "60", DefaultChildPolicy: api.ChildPolicyTerminate, DefaultLambdaRole: "role"}))
	_, err = before.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	mustNil(t, err)
	task, err := before.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	mustNil(t, err)
	mustNil(t, before.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: []api.Decision{{
		DecisionType: api.DecisionTypeScheduleLambdaFunction, ScheduleLambdaFunctionDecisionAttributes: &api.ScheduleLambdaFunctionDecisionAttributes{ID: "f", Name: "fn"}}}}))

	// The service that starts now finds it.
	store := &pendingCounter{Store: db}
	iv := &countingInvoker{}
	s, err := New(ctx, Options{Store: store, Lambda: iv})
	mustNil(t, err)
	go s.Run(ctx)
	deadline := time.Now().Add(10 * time.Second)
	for iv.count() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the Lambda task pending at start was never invoked")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := store.reads.Load(); n != 1 {
		t.Fatalf("the pending tasks were read %d times at start, want 1", n)
	}
}
