package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/lambda"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/swfdtest"
)

// stuckInvoker runs each function until its call is cut off.
type stuckInvoker struct{}

func (stuckInvoker) Check(ctx context.Context, r lambda.Request) error { return nil }

func (stuckInvoker) Invoke(ctx context.Context, r lambda.Request) (lambda.Response, error) {
	<-ctx.Done()
	return lambda.Response{}, ctx.Err()
}

// kindsFlow drives one run per kind of timer or timeout, each on task
// lists of its own.
type kindsFlow struct {
	t   *testing.T
	ctx context.Context
	srv *swfdtest.Server
	c   *swf.Client
}

// start starts workflow id in domain "kinds", its decision tasks on the
// list "tl-"+id.
func (f *kindsFlow) start(id string, mod ...func(*swf.StartWorkflowExecutionInput)) *types.WorkflowExecution {
	f.t.Helper()
	in := &swf.StartWorkflowExecutionInput{Domain: aws.String("kinds"), WorkflowId: aws.String(id),
		WorkflowType: &types.WorkflowType{Name: aws.String("wf"), Version: aws.String("1")},
		TaskList:     &types.TaskList{Name: aws.String("tl-" + id)}, LambdaRole: aws.String(lambdaRole)}
	for _, m := range mod {
		m(in)
	}
	out, err := f.c.StartWorkflowExecution(f.ctx, in)
	if err != nil {
		f.t.Fatal(err)
	}
	return &types.WorkflowExecution{WorkflowId: aws.String(id), RunId: out.RunId}
}

// poll takes the decision task of workflow id.
func (f *kindsFlow) poll(id string) *swf.PollForDecisionTaskOutput {
	f.t.Helper()
	task, err := f.c.PollForDecisionTask(f.ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("kinds"), TaskList: &types.TaskList{Name: aws.String("tl-" + id)}})
	if err != nil || aws.ToString(task.TaskToken) == "" {
		f.t.Fatalf("decision poll of %s: %v", id, err)
	}
	return task
}

// decide answers the decision task of workflow id with ds.
func (f *kindsFlow) decide(id string, ds ...types.Decision) {
	f.t.Helper()
	task := f.poll(id)
	if _, err := f.c.RespondDecisionTaskCompleted(f.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: ds}); err != nil {
		f.t.Fatal(err)
	}
}

// take starts the activity task waiting on list, and leaves it running.
func (f *kindsFlow) take(list string) {
	f.t.Helper()
	task, err := f.c.PollForActivityTask(f.ctx, &swf.PollForActivityTaskInput{Domain: aws.String("kinds"), TaskList: &types.TaskList{Name: aws.String(list)}})
	if err != nil || aws.ToString(task.TaskToken) == "" {
		f.t.Fatalf("activity poll of %s: %v", list, err)
	}
}

func (f *kindsFlow) history(domain string, ex *types.WorkflowExecution) []types.HistoryEvent {
	f.t.Helper()
	out, err := f.c.GetWorkflowExecutionHistory(f.ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String(domain), Execution: ex})
	if err != nil {
		f.t.Fatal(err)
	}
	return out.Events
}

func activityOn(list string, set func(a *types.ScheduleActivityTaskDecisionAttributes)) types.Decision {
	a := &types.ScheduleActivityTaskDecisionAttributes{ActivityId: aws.String("a"),
		ActivityType: &types.ActivityType{Name: aws.String("act"), Version: aws.String("1")}, TaskList: &types.TaskList{Name: aws.String(list)}}
	set(a)
	return types.Decision{DecisionType: types.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: a}
}

// One move of a manual clock fires every kind of timer and timeout that
// falls due on its way, each at its own instant: a decision task's
// START_TO_CLOSE, an activity's SCHEDULE_TO_START, SCHEDULE_TO_CLOSE,
// START_TO_CLOSE and HEARTBEAT, a timer, a run's own timeout, a child's
// timeout (and the parent's ChildWorkflowExecutionTimedOut, at the same
// instant), a Lambda function's START_TO_CLOSE; and a move past a closed
// run's retention purges it.
func TestManualClockMoveFiresEveryKindOfTimeout(t *testing.T) {
	start := time.Date(2030, 6, 1, 8, 0, 0, 0, time.UTC)
	srv := swfdtest.New(t, swfdtest.StartAt(start), swfdtest.WithPollTimeout(time.Second),
		swfdtest.WithConfig(func(c *server.Config) { c.LambdaInvoker = stuckInvoker{} }))
	f := &kindsFlow{t: t, ctx: context.Background(), srv: srv, c: srv.Client()}
	srv.RegisterDomain("kinds", swfdtest.WorkflowType{Name: "wf", Version: "1"}, swfdtest.ActivityType{Name: "act", Version: "1"})
	if _, err := f.c.RegisterDomain(f.ctx, &swf.RegisterDomainInput{Name: aws.String("brief"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.RegisterWorkflowType(f.ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String("brief"), Name: aws.String("wf"), Version: aws.String("1"),
		DefaultTaskList: &types.TaskList{Name: aws.String("d")}, DefaultExecutionStartToCloseTimeout: aws.String("3600"),
		DefaultTaskStartToCloseTimeout: aws.String("60"), DefaultChildPolicy: types.ChildPolicyTerminate}); err != nil {
		t.Fatal(err)
	}

	type want struct {
		domain string
		ex     *types.WorkflowExecution
		typ    types.EventType
		after  time.Duration
		check  func(e types.HistoryEvent) bool
	}
	var wants []want
	expect := func(ex *types.WorkflowExecution, typ types.EventType, after time.Duration, check func(e types.HistoryEvent) bool) {
		wants = append(wants, want{"kinds", ex, typ, after, check})
	}
	activityTimeout := func(tt types.ActivityTaskTimeoutType) func(e types.HistoryEvent) bool {
		return func(e types.HistoryEvent) bool { return e.ActivityTaskTimedOutEventAttributes.TimeoutType == tt }
	}

	dt := f.start("dt", func(in *swf.StartWorkflowExecutionInput) { in.TaskStartToCloseTimeout = aws.String("10") })
	f.poll("dt") // and never answered
	expect(dt, types.EventTypeDecisionTaskTimedOut, 10*time.Second, nil)

	s2s := f.start("s2s")
	f.decide("s2s", activityOn("nobody", func(a *types.ScheduleActivityTaskDecisionAttributes) { a.ScheduleToStartTimeout = aws.String("20") }))
	expect(s2s, types.EventTypeActivityTaskTimedOut, 20*time.Second, activityTimeout(types.ActivityTaskTimeoutTypeScheduleToStart))

	s2c := f.start("s2c")
	f.decide("s2c", activityOn("w-s2c", func(a *types.ScheduleActivityTaskDecisionAttributes) { a.ScheduleToCloseTimeout = aws.String("30") }))
	f.take("w-s2c")
	expect(s2c, types.EventTypeActivityTaskTimedOut, 30*time.Second, activityTimeout(types.ActivityTaskTimeoutTypeScheduleToClose))

	stc := f.start("stc")
	f.decide("stc", activityOn("w-stc", func(a *types.ScheduleActivityTaskDecisionAttributes) { a.StartToCloseTimeout = aws.String("40") }))
	f.take("w-stc")
	expect(stc, types.EventTypeActivityTaskTimedOut, 40*time.Second, activityTimeout(types.ActivityTaskTimeoutTypeStartToClose))

	hb := f.start("hb")
	f.decide("hb", activityOn("w-hb", func(a *types.ScheduleActivityTaskDecisionAttributes) { a.HeartbeatTimeout = aws.String("50") }))
	f.take("w-hb")
	expect(hb, types.EventTypeActivityTaskTimedOut, 50*time.Second, activityTimeout(types.ActivityTaskTimeoutTypeHeartbeat))

	timer := f.start("timer")
	f.decide("timer", types.Decision{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{
		TimerId: aws.String("t"), StartToFireTimeout: aws.String("60")}})
	expect(timer, types.EventTypeTimerFired, 60*time.Second, nil)

	run := f.start("run", func(in *swf.StartWorkflowExecutionInput) { in.ExecutionStartToCloseTimeout = aws.String("70") })
	expect(run, types.EventTypeWorkflowExecutionTimedOut, 70*time.Second, nil)

	parent := f.start("parent")
	f.decide("parent", types.Decision{DecisionType: types.DecisionTypeStartChildWorkflowExecution, StartChildWorkflowExecutionDecisionAttributes: &types.StartChildWorkflowExecutionDecisionAttributes{
		WorkflowId: aws.String("child"), WorkflowType: &types.WorkflowType{Name: aws.String("wf"), Version: aws.String("1")},
		TaskList: &types.TaskList{Name: aws.String("tl-child")}, ExecutionStartToCloseTimeout: aws.String("80")}})
	var child *types.WorkflowExecution
	waitFor(t, "the child's start", func() bool {
		if e := findEvent(f.history("kinds", parent), types.EventTypeChildWorkflowExecutionStarted); e != nil {
			child = e.ChildWorkflowExecutionStartedEventAttributes.WorkflowExecution
			return true
		}
		return false
	})
	expect(child, types.EventTypeWorkflowExecutionTimedOut, 80*time.Second, nil)
	expect(parent, types.EventTypeChildWorkflowExecutionTimedOut, 80*time.Second, nil)

	fn := f.start("fn")
	f.decide("fn", types.Decision{DecisionType: types.DecisionTypeScheduleLambdaFunction, ScheduleLambdaFunctionDecisionAttributes: &types.ScheduleLambdaFunctionDecisionAttributes{
		Id: aws.String("l"), Name: aws.String("stuck"), StartToCloseTimeout: aws.String("90")}})
	waitFor(t, "the function's start", func() bool { return findEvent(f.history("kinds", fn), types.EventTypeLambdaFunctionStarted) != nil })
	expect(fn, types.EventTypeLambdaFunctionTimedOut, 90*time.Second, nil)

	// A run of a domain that keeps closed runs a day, closed now.
	brief, err := f.c.StartWorkflowExecution(f.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("brief"), WorkflowId: aws.String("brief"),
		WorkflowType: &types.WorkflowType{Name: aws.String("wf"), Version: aws.String("1")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.TerminateWorkflowExecution(f.ctx, &swf.TerminateWorkflowExecutionInput{Domain: aws.String("brief"), WorkflowId: aws.String("brief")}); err != nil {
		t.Fatal(err)
	}
	briefEx := &types.WorkflowExecution{WorkflowId: aws.String("brief"), RunId: brief.RunId}

	if now := srv.Now(); !now.Equal(start) {
		t.Fatalf("the clock moved by itself to +%v", now.Sub(start))
	}
	srv.Advance(100 * time.Second)
	for _, w := range wants {
		e := findEvent(f.history(w.domain, w.ex), w.typ)
		switch {
		case e == nil:
			t.Errorf("%s: no %s after the move", aws.ToString(w.ex.WorkflowId), w.typ)
		case e.EventTimestamp.Sub(start) != w.after:
			t.Errorf("%s: %s at +%v, want +%v", aws.ToString(w.ex.WorkflowId), w.typ, e.EventTimestamp.Sub(start), w.after)
		case w.check != nil && !w.check(*e):
			t.Errorf("%s: %s %+v", aws.ToString(w.ex.WorkflowId), w.typ, e)
		}
	}
	if _, err := f.c.DescribeWorkflowExecution(f.ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String("brief"), Execution: briefEx}); err != nil {
		t.Fatalf("the closed run is gone before its retention passed: %v", err)
	}
	srv.Advance(24 * time.Hour)
	_, err = f.c.DescribeWorkflowExecution(f.ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String("brief"), Execution: briefEx})
	wantCode(t, err, "UnknownResourceFault")
}
