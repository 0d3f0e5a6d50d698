package swfdtest_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/lambda"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/swfdtest"
)

// checkingInvoker is a Lambda endpoint whose Check waits until its caller
// gives up, and which counts what it was asked.
type checkingInvoker struct {
	mu      sync.Mutex
	checks  []context.Context
	invoked int
	entered chan struct{}
}

func (c *checkingInvoker) Check(ctx context.Context, r lambda.Request) error {
	c.mu.Lock()
	c.checks = append(c.checks, ctx)
	c.mu.Unlock()
	c.entered <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

func (c *checkingInvoker) Invoke(ctx context.Context, r lambda.Request) (lambda.Response, error) {
	c.mu.Lock()
	c.invoked++
	c.mu.Unlock()
	return lambda.Response{Payload: []byte(`"done"`)}, nil
}

// A reset ends the previous test's Lambda work before it returns: a
// function being checked or invoked for a run the reset dropped is given
// up (its context ends), so that nothing the last test scheduled reaches
// the endpoint once the next test has begun.
func TestResetEndsLambdaWork(t *testing.T) {
	ctx := context.Background()
	inv := &checkingInvoker{entered: make(chan struct{}, 1)}
	srv := swfdtest.New(t, swfdtest.WithConfig(func(c *server.Config) { c.LambdaInvoker = inv }))
	c := srv.Client()
	srv.RegisterDomain("shop", swfdtest.WorkflowType{Name: "order", Version: "1"})
	if _, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("shop"), WorkflowId: aws.String("order-1"),
		WorkflowType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")},
		LambdaRole:   aws.String("arn:aws:iam::123456789012:role/swf-lambda")}); err != nil {
		t.Fatal(err)
	}
	task, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("shop"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
	if err != nil || aws.ToString(task.TaskToken) == "" {
		t.Fatalf("poll: %+v, %v", task, err)
	}
	if _, err := c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: []types.Decision{{
		DecisionType:                             types.DecisionTypeScheduleLambdaFunction,
		ScheduleLambdaFunctionDecisionAttributes: &types.ScheduleLambdaFunctionDecisionAttributes{Id: aws.String("charge"), Name: aws.String("charge-card")},
	}}}); err != nil {
		t.Fatal(err)
	}
	<-inv.entered // the function is being checked
	srv.Reset()
	inv.mu.Lock()
	check := inv.checks[0]
	inv.mu.Unlock()
	select {
	case <-check.Done():
	default:
		t.Fatal("Reset returned while the previous test's Lambda function was still being checked")
	}
}
