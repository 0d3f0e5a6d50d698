package service

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/membus"
	"github.com/swfd/swfd/lambda"
	"github.com/swfd/swfd/sqlite"
)

// countingInvoker counts invocations; check, if set, answers Check.
type countingInvoker struct {
	mu      sync.Mutex
	invoked int
	check   func(ctx context.Context) error
}

func (c *countingInvoker) Check(ctx context.Context, r lambda.Request) error {
	if c.check != nil {
		return c.check(ctx)
	}
	return nil
}

func (c *countingInvoker) Invoke(ctx context.Context, r lambda.Request) (lambda.Response, error) {
	c.mu.Lock()
	c.invoked++
	c.mu.Unlock()
	return lambda.Response{Payload: []byte(`"ok"`)}, nil
}

func (c *countingInvoker) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.invoked
}

// In a cluster, a Lambda task whose node dies before starting it is
// started by another node, once.
//
// Node B looks for tasks every 50 ms and takes those scheduled 50 ms ago
// by the nodes' clock, a manual one: it stands still until node A has
// taken the task and died, so B cannot take the task first, however late
// A's loop gets to it.
func TestClusterLambdaTaskOfADeadNode(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := sqlite.Open(ctx, t.TempDir()+"/c.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bus := &membus.Bus{}
	clk := clock.NewManual(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	checking := make(chan struct{})
	var once sync.Once
	// Node A hangs in its check until it dies.
	ivA := &countingInvoker{check: func(ctx context.Context) error {
		once.Do(func() { close(checking) })
		<-ctx.Done()
		return ctx.Err()
	}}
	ivB := &countingInvoker{}
	ctxA, killA := context.WithCancel(ctx)
	a, err := New(ctxA, Options{Store: db, Broadcaster: bus, Clock: clk, Lambda: ivA, lambdaRescan: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	go a.Run(ctxA)
	b, err := New(ctx, Options{Store: db, Broadcaster: bus, Clock: clk, Lambda: ivB, lambdaRescan: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	go b.Run(ctx)

	mustNil(t, a.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "1"}))
	mustNil(t, a.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "600", DefaultTaskStartToCloseTimeout: "60", DefaultChildPolicy: api.ChildPolicyTerminate, DefaultLambdaRole: "role"}))
	run, err := a.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	mustNil(t, err)
	task, err := a.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	mustNil(t, err)
	mustNil(t, a.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: []api.Decision{{
		DecisionType: api.DecisionTypeScheduleLambdaFunction, ScheduleLambdaFunctionDecisionAttributes: &api.ScheduleLambdaFunctionDecisionAttributes{ID: "f", Name: "fn"}}}}))
	select {
	case <-checking:
	case <-time.After(10 * time.Second):
		t.Fatal("node A never took its Lambda task")
	}
	killA()
	clk.MoveTo(clk.Now().Add(time.Second)) // the task is old enough for B's rescan

	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := b.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: run.RunID}})
		mustNil(t, err)
		completed := false
		for _, e := range h.Events {
			completed = completed || e.EventType == api.EventTypeLambdaFunctionCompleted
		}
		if completed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node B never ran the task: %d events", len(h.Events))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ivA.count() != 0 || ivB.count() != 1 {
		t.Fatalf("invoked by A %d times, by B %d times", ivA.count(), ivB.count())
	}
}
