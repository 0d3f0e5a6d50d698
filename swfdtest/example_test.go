package swfdtest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/swfdtest"
)

// A whole test of a decider and a worker on a manual clock: the decider
// waits a day before it ships an order, the test moves the clock by a day
// instead of waiting for it, and checks every event's time.
func Example() {
	t := &exampleT{} // in a test: func TestOrder(t *testing.T) { … }
	defer t.done()
	ctx := context.Background()

	start := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	srv := swfdtest.New(t, swfdtest.StartAt(start))
	c := srv.Client()
	srv.RegisterDomain("shop",
		swfdtest.WorkflowType{Name: "order", Version: "1", TaskList: "deciders"},
		swfdtest.ActivityType{Name: "ship", Version: "1", TaskList: "workers"})

	run, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{
		Domain: aws.String("shop"), WorkflowId: aws.String("order-1"),
		WorkflowType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")},
	})
	check(err)

	// The decider: wait a day.
	decide(ctx, c, types.Decision{DecisionType: types.DecisionTypeStartTimer,
		StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{
			TimerId: aws.String("cool-off"), StartToFireTimeout: aws.String("86400")}})

	srv.Advance(24 * time.Hour) // the timer fires now, not in a day

	// The decider sees the timer fire and ships.
	decide(ctx, c, types.Decision{DecisionType: types.DecisionTypeScheduleActivityTask,
		ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
			ActivityId: aws.String("ship-1"), ActivityType: &types.ActivityType{Name: aws.String("ship"), Version: aws.String("1")}}})

	// The worker ships.
	task, err := c.PollForActivityTask(ctx, &swf.PollForActivityTaskInput{Domain: aws.String("shop"), TaskList: &types.TaskList{Name: aws.String("workers")}})
	check(err)
	_, err = c.RespondActivityTaskCompleted(ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: task.TaskToken, Result: aws.String("shipped")})
	check(err)

	// The decider completes the workflow.
	decide(ctx, c, types.Decision{DecisionType: types.DecisionTypeCompleteWorkflowExecution})

	hist, err := c.GetWorkflowExecutionHistory(ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("shop"),
		Execution: &types.WorkflowExecution{WorkflowId: aws.String("order-1"), RunId: run.RunId}})
	check(err)
	for _, e := range hist.Events {
		fmt.Printf("%-8v %s\n", e.EventTimestamp.Sub(start), e.EventType)
	}
	// Output:
	// 0s       WorkflowExecutionStarted
	// 0s       DecisionTaskScheduled
	// 0s       DecisionTaskStarted
	// 0s       DecisionTaskCompleted
	// 0s       TimerStarted
	// 24h0m0s  TimerFired
	// 24h0m0s  DecisionTaskScheduled
	// 24h0m0s  DecisionTaskStarted
	// 24h0m0s  DecisionTaskCompleted
	// 24h0m0s  ActivityTaskScheduled
	// 24h0m0s  ActivityTaskStarted
	// 24h0m0s  ActivityTaskCompleted
	// 24h0m0s  DecisionTaskScheduled
	// 24h0m0s  DecisionTaskStarted
	// 24h0m0s  DecisionTaskCompleted
	// 24h0m0s  WorkflowExecutionCompleted
}

// decide takes the decision task waiting on "deciders" and answers it.
func decide(ctx context.Context, c *swf.Client, decisions ...types.Decision) {
	task, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("shop"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
	check(err)
	_, err = c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: decisions})
	check(err)
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}

// exampleT stands in for the *testing.T of a test, so that the examples
// run as they are.
type exampleT struct{ cleanups []func() }

func (t *exampleT) Helper()                           {}
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
