package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"
	"github.com/aws/smithy-go"

	"github.com/swfd/swfd/lambda"
	"github.com/swfd/swfd/server"
)

// Lambda events under the manual clock carry the clock's times: a function
// that answers at once is scheduled, started and completed at the instant
// the decision was taken, and one that times out does so at its own
// deadline, not at the end of a longer move.
func TestLambdaEventsCarryTheManualClocksTimes(t *testing.T) {
	f := newLambdaFlow(t, nil)
	ex := f.start("w", "with-role")
	t0 := f.srv.Now()
	f.decide(scheduleLambda("e", "echo", `{}`, ""), scheduleLambda("s", "slow", `{}`, "5"))
	f.waitEvents(ex, types.EventTypeLambdaFunctionCompleted, 1)
	f.waitEvents(ex, types.EventTypeLambdaFunctionStarted, 2)
	f.srv.Advance(10 * time.Second)
	evs := f.waitEvents(ex, types.EventTypeLambdaFunctionTimedOut, 1)
	want := t0
	for _, e := range evs {
		if e.EventType == types.EventTypeLambdaFunctionTimedOut {
			want = t0.Add(5 * time.Second) // and every event after it
		}
		if !e.EventTimestamp.Equal(want) {
			t.Errorf("event %d %s at %v, want %v", e.EventId, e.EventType, e.EventTimestamp, want)
		}
	}
	if n := len(eventsOf(evs, types.EventTypeLambdaFunctionTimedOut)); n != 1 {
		t.Errorf("%d timeouts: %v", n, eventTypes(evs))
	}
}

// An invocation answered with Lambda's internal error (500
// ServiceException) or a gateway's 502 without a code may have run the
// function: it is recorded at once as the function's failure (reason
// Lambda's code, else InvokeError) and not invoked again. A function named
// with a qualifier (name:alias) reaches the endpoint under that name (the
// double knows no such function, and its 404 fails it too: the test waits
// for all three failures, as any two may come first).
func TestLambdaServerErrorsAreNotRetried(t *testing.T) {
	f := newLambdaFlow(t, nil)
	ex := f.start("w", "with-role")
	f.decide(scheduleLambda("b", "broken", `{}`, ""), scheduleLambda("g", "gateway", `{}`, ""), scheduleLambda("q", "echo:prod", `{}`, ""))
	evs := f.waitEvents(ex, types.EventTypeLambdaFunctionFailed, 3)
	reasons := map[int64]string{}
	for _, e := range eventsOf(evs, types.EventTypeLambdaFunctionFailed) {
		reasons[e.LambdaFunctionFailedEventAttributes.ScheduledEventId] = aws.ToString(e.LambdaFunctionFailedEventAttributes.Reason) + " " + aws.ToString(e.LambdaFunctionFailedEventAttributes.Details)
	}
	if r := reasons[5]; !strings.HasPrefix(r, "ServiceException ") {
		t.Errorf("broken: %q", r)
	}
	if r := reasons[6]; !strings.HasPrefix(r, "InvokeError ") || !strings.Contains(r, "502") {
		t.Errorf("gateway: %q", r)
	}
	waitFor(t, "the Lambda loop to finish", func() bool { return f.srv.Server.Service.Lambda().InFlight() == 0 })
	f.srv.Advance(time.Minute)
	if n, m := len(f.fn.invocations("broken")), len(f.fn.invocations("gateway")); n != 1 || m != 1 {
		t.Errorf("invoked %d and %d times", n, m)
	}
	f.fn.mu.Lock()
	var names []string
	for _, c := range f.fn.calls {
		names = append(names, c.Function)
	}
	f.fn.mu.Unlock()
	if !strings.Contains(strings.Join(names, " "), "echo:prod") {
		t.Errorf("functions called: %v", names)
	}
}

// Bad attributes of a ScheduleLambdaFunction decision are a
// ValidationException naming the member; nothing is recorded and the task
// token stays usable.
func TestScheduleLambdaFunctionValidation(t *testing.T) {
	f := newLambdaFlow(t, nil)
	ex := f.start("w", "with-role")
	task, err := f.c.PollForDecisionTask(f.ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("fn"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
	if err != nil || task.TaskToken == nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 65)
	for _, c := range []struct {
		d      types.Decision
		member string
	}{
		{scheduleLambda("", "echo", "", ""), "id"},
		{scheduleLambda("a", "", "", ""), "name"},
		{scheduleLambda("a", long, "", ""), "name"},
		{scheduleLambda(strings.Repeat("i", 257), "echo", "", ""), "id"},
		{scheduleLambda("a", "echo", strings.Repeat("x", 32769), ""), "input"},
		{scheduleLambda("a:b", "echo", "", ""), "id"},
		{scheduleLambda("a", "echo", "", "0"), "startToCloseTimeout"},
		{types.Decision{DecisionType: types.DecisionTypeScheduleLambdaFunction}, "scheduleLambdaFunctionDecisionAttributes"},
	} {
		_, err := f.c.RespondDecisionTaskCompleted(f.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: []types.Decision{c.d}})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || !strings.Contains(ae.ErrorMessage(), c.member) {
			t.Errorf("%s: %v", c.member, err)
		}
	}
	if _, err := f.c.RespondDecisionTaskCompleted(f.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: []types.Decision{scheduleLambda("ok", "echo", "", "")}}); err != nil {
		t.Fatal(err)
	}
	f.waitEvents(ex, types.EventTypeLambdaFunctionCompleted, 1)
}

// A child started with a lambdaRole, and a run continued as new with one,
// can run Lambda functions; a child started without one, of a type without a
// default, cannot (the parent's role is not inherited).
func TestLambdaRoleOfChildrenAndContinuedRuns(t *testing.T) {
	f := newLambdaFlow(t, nil)
	parent := f.start("p", "no-role")
	child := func(id, role string) types.Decision {
		a := &types.StartChildWorkflowExecutionDecisionAttributes{WorkflowId: aws.String(id), WorkflowType: &types.WorkflowType{Name: aws.String("no-role"), Version: aws.String("1")}}
		if role != "" {
			a.LambdaRole = aws.String(role)
		}
		return types.Decision{DecisionType: types.DecisionTypeStartChildWorkflowExecution, StartChildWorkflowExecutionDecisionAttributes: a}
	}
	f.decide(child("c1", lambdaRole), child("c2", ""))
	evs := f.waitEvents(parent, types.EventTypeChildWorkflowExecutionStarted, 2)
	runs := map[string]*types.WorkflowExecution{}
	for _, e := range eventsOf(evs, types.EventTypeChildWorkflowExecutionStarted) {
		we := e.ChildWorkflowExecutionStartedEventAttributes.WorkflowExecution
		runs[*we.WorkflowId] = we
	}
	for i := 0; i < 3; i++ { // the two children and the parent (woken by the starts)
		task, err := f.c.PollForDecisionTask(f.ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("fn"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
		if err != nil || task.TaskToken == nil {
			t.Fatal(err)
		}
		ds := []types.Decision{scheduleLambda("x", "echo", "", "")}
		if *task.WorkflowExecution.WorkflowId == "p" {
			ds = []types.Decision{{DecisionType: types.DecisionTypeContinueAsNewWorkflowExecution,
				ContinueAsNewWorkflowExecutionDecisionAttributes: &types.ContinueAsNewWorkflowExecutionDecisionAttributes{LambdaRole: aws.String(lambdaRole)}}}
		}
		if _, err := f.c.RespondDecisionTaskCompleted(f.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: ds}); err != nil {
			t.Fatal(err)
		}
	}
	f.waitEvents(runs["c1"], types.EventTypeLambdaFunctionCompleted, 1)
	evs = f.waitEvents(runs["c2"], types.EventTypeScheduleLambdaFunctionFailed, 1)
	if c := eventsOf(evs, types.EventTypeScheduleLambdaFunctionFailed)[0].ScheduleLambdaFunctionFailedEventAttributes.Cause; c != types.ScheduleLambdaFunctionFailedCauseLambdaServiceNotAvailableInRegion {
		t.Errorf("child without a role: %s", c)
	}
	// The continued run.
	evs = f.history(parent)
	cont := eventsOf(evs, types.EventTypeWorkflowExecutionContinuedAsNew)
	if len(cont) != 1 || aws.ToString(cont[0].WorkflowExecutionContinuedAsNewEventAttributes.LambdaRole) != lambdaRole {
		t.Fatalf("continued: %v", eventTypes(evs))
	}
	next := &types.WorkflowExecution{WorkflowId: aws.String("p"), RunId: cont[0].WorkflowExecutionContinuedAsNewEventAttributes.NewExecutionRunId}
	for {
		task, err := f.c.PollForDecisionTask(f.ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("fn"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
		if err != nil || task.TaskToken == nil {
			t.Fatal(err)
		}
		var ds []types.Decision
		if aws.ToString(task.WorkflowExecution.RunId) == aws.ToString(next.RunId) {
			ds = append(ds, scheduleLambda("y", "echo", "", ""))
		}
		if _, err := f.c.RespondDecisionTaskCompleted(f.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: ds}); err != nil {
			t.Fatal(err)
		}
		if ds != nil {
			break
		}
	}
	f.waitEvents(next, types.EventTypeLambdaFunctionCompleted, 1)
	d, err := f.c.DescribeWorkflowExecution(f.ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String("fn"), Execution: next})
	if err != nil || aws.ToString(d.ExecutionConfiguration.LambdaRole) != lambdaRole {
		t.Errorf("describe: %v %+v", err, d)
	}
}

// awayInvoker is a Lambda endpoint that cannot be reached: the check of
// "away" never gets there, nor does the invocation of "gone" (whose check
// passes). It counts the tries of each.
type awayInvoker struct{ checks, invokes atomic.Int32 }

func (a *awayInvoker) Check(ctx context.Context, r lambda.Request) error {
	if r.Function != "away" {
		return nil
	}
	a.checks.Add(1)
	return fmt.Errorf("dial tcp 127.0.0.1:9: connect: connection refused: %w", lambda.ErrNotSent)
}

func (a *awayInvoker) Invoke(ctx context.Context, r lambda.Request) (lambda.Response, error) {
	a.invokes.Add(1)
	return lambda.Response{}, fmt.Errorf("dial tcp 127.0.0.1:9: connect: connection refused: %w", lambda.ErrNotSent)
}

// A function whose endpoint cannot be reached is tried again with a
// back-off, and on a manual clock a move that passes its timeout ends the
// tries at once: a function not started yet (its check never got there)
// records StartLambdaFunctionFailed right after the move, with no check
// made after it, and one started (its invocation never got there) times
// out at its deadline on the way, not invoked again. The back-off was a
// timer of real time that a move did not end: the tries of the first
// went on after the move until the back-off of real time was over (up to
// 15 s) and one more check had been made.
func TestLambdaUnreachableEndsWithAMoveOfTheClock(t *testing.T) {
	iv := &awayInvoker{}
	f := newLambdaFlow(t, func(c *server.Config) { c.LambdaInvoker = iv })
	ex := f.start("w", "with-role")
	t0 := f.srv.Now()
	f.decide(scheduleLambda("a", "away", `{}`, "60"), scheduleLambda("g", "gone", `{}`, "120"))
	waitFor(t, "two tries of each function", func() bool { return iv.checks.Load() >= 2 && iv.invokes.Load() >= 2 })
	checks, invokes := iv.checks.Load(), iv.invokes.Load()
	end := f.srv.Advance(200 * time.Second)
	evs := f.waitEvents(ex, types.EventTypeStartLambdaFunctionFailed, 1)
	evs = f.waitEvents(ex, types.EventTypeLambdaFunctionTimedOut, 1)
	waitFor(t, "the tries to end", func() bool { return f.srv.Server.Service.Lambda().InFlight() == 0 })
	if n := iv.checks.Load(); n != checks {
		t.Errorf("%d checks after the move past the function's timeout", n-checks)
	}
	if n := iv.invokes.Load(); n != invokes {
		t.Errorf("%d invocations after the move past the function's deadline", n-invokes)
	}
	if sf := eventsOf(evs, types.EventTypeStartLambdaFunctionFailed)[0]; !sf.EventTimestamp.Equal(end) {
		t.Errorf("start failed at +%v; want it after the move, at +%v", sf.EventTimestamp.Sub(t0), end.Sub(t0))
	}
	if to := eventsOf(evs, types.EventTypeLambdaFunctionTimedOut)[0]; !to.EventTimestamp.Equal(t0.Add(120 * time.Second)) {
		t.Errorf("timed out at +%v; want +2m0s, its deadline", to.EventTimestamp.Sub(t0))
	}
	if n := len(eventsOf(evs, types.EventTypeLambdaFunctionFailed)); n != 0 {
		t.Errorf("%d LambdaFunctionFailed: %v", n, eventTypes(evs))
	}
}
