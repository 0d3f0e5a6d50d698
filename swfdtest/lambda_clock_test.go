package swfdtest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/lambda"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/swfdtest"
)

// lateInvoker lets a function start only once the clock has left the time
// it was scheduled at: the start is ready while a move is on its way.
type lateInvoker struct {
	srv   **swfdtest.Server
	since func() time.Time
}

func (l lateInvoker) Check(ctx context.Context, r lambda.Request) error {
	since := l.since()
	for !(*l.srv).Now().After(since) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Microsecond):
		}
	}
	return nil
}

func (lateInvoker) Invoke(ctx context.Context, r lambda.Request) (lambda.Response, error) {
	return lambda.Response{Payload: []byte(`"charged"`)}, nil
}

// A Lambda function's start and outcome are recorded before a move of the
// clock or after it, never at an instant on its way, as a worker's answer
// is. A start recorded during a move armed its START_TO_CLOSE timer after
// the move had looked for the next timer: the move went past that timer's
// time without firing it, and the function, allowed 10 s, was recorded
// complete an hour after it started.
func TestLambdaStepsAreNotRecordedDuringAMove(t *testing.T) {
	ctx := context.Background()
	var srv *swfdtest.Server
	var scheduled time.Time
	inv := lateInvoker{srv: &srv, since: func() time.Time { return scheduled }}
	srv = swfdtest.New(t, swfdtest.WithConfig(func(c *server.Config) { c.LambdaInvoker = inv }))
	c := srv.Client()
	for i := range 30 {
		srv.Reset()
		srv.RegisterDomain("shop", swfdtest.WorkflowType{Name: "order", Version: "1"})
		run, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("shop"), WorkflowId: aws.String("order-1"),
			WorkflowType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")},
			LambdaRole:   aws.String("arn:aws:iam::123456789012:role/swf-lambda")})
		if err != nil {
			t.Fatal(err)
		}
		task, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("shop"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
		if err != nil || aws.ToString(task.TaskToken) == "" {
			t.Fatalf("poll: %+v, %v", task, err)
		}
		scheduled = srv.Now()
		timer := func(id string, d time.Duration) types.Decision {
			return types.Decision{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{
				TimerId: aws.String(id), StartToFireTimeout: aws.String(fmt.Sprint(int(d.Seconds())))}}
		}
		if _, err := c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: []types.Decision{
			{DecisionType: types.DecisionTypeScheduleLambdaFunction, ScheduleLambdaFunctionDecisionAttributes: &types.ScheduleLambdaFunctionDecisionAttributes{
				Id: aws.String("charge"), Name: aws.String("charge-card"), StartToCloseTimeout: aws.String("10")}},
			timer("a", time.Second), timer("b", 2*time.Second), timer("c", 3*time.Second), timer("day", time.Hour),
		}}); err != nil {
			t.Fatal(err)
		}
		end := srv.Advance(time.Hour)
		// The function starts after the move, at its end, and completes.
		var events []types.HistoryEvent
		waitFor(t, "the function's outcome", func() bool {
			h, err := c.GetWorkflowExecutionHistory(ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("shop"),
				Execution: &types.WorkflowExecution{WorkflowId: aws.String("order-1"), RunId: run.RunId}})
			if err != nil {
				t.Fatal(err)
			}
			events = h.Events
			for _, e := range events {
				switch e.EventType {
				case types.EventTypeLambdaFunctionCompleted, types.EventTypeLambdaFunctionTimedOut:
					return true
				}
			}
			return false
		})
		for _, e := range events {
			switch e.EventType {
			case types.EventTypeLambdaFunctionStarted, types.EventTypeLambdaFunctionCompleted:
				if !e.EventTimestamp.Equal(end) {
					for _, e := range events {
						t.Logf("%d %s at +%v", e.EventId, e.EventType, e.EventTimestamp.Sub(scheduled))
					}
					t.Fatalf("round %d: %s recorded at +%v, during the move of an hour; want it after the move", i, e.EventType, e.EventTimestamp.Sub(scheduled))
				}
			case types.EventTypeLambdaFunctionTimedOut:
				t.Fatalf("round %d: the function timed out; it started after the move and completed at once", i)
			}
		}
	}
}
