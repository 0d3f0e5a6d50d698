package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/service"
	"github.com/swfd/swfd/swfdtest"
)

// fakeLambda is a test double of AWS Lambda's Invoke API
// (POST /2015-03-31/functions/NAME/invocations). What a function does is
// its name's:
//
//	echo     answers {"echo": <input>}
//	boom     fails: X-Amz-Function-Error Unhandled and an error payload
//	slow     answers only once release is closed
//	missing  404 ResourceNotFoundException
//	denied   403 AccessDeniedException
//	broken   500 ServiceException (Lambda's internal error)
//	gateway  502 without an error code, as a proxy in front of Lambda answers
//	busy     429 TooManyRequestsException to its first two invocations
//	         (not to DryRun), then answers "ok"
type fakeLambda struct {
	srv     *httptest.Server
	release chan struct{}

	mu     sync.Mutex
	calls  []lambdaCall
	slowIn chan struct{} // closed when a slow invocation has arrived
	busy   int           // invocations of busy
	once   sync.Once
	// noDryRun makes DryRun answer 501 NotImplemented, as an emulator
	// that only runs functions does (sam local start-lambda).
	noDryRun atomic.Bool
}

type lambdaCall struct {
	Function, Type, Payload string
	Authorization           string
}

func newFakeLambda(t *testing.T) *fakeLambda {
	f := &fakeLambda{release: make(chan struct{}), slowIn: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.Release()
		f.srv.Close()
	})
	return f
}

// Release lets slow invocations answer.
func (f *fakeLambda) Release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.release:
	default:
		close(f.release)
	}
}

// invocations returns the calls that ran function fn (DryRun checks left out).
func (f *fakeLambda) invocations(fn string) []lambdaCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []lambdaCall
	for _, c := range f.calls {
		if c.Function == fn && c.Type != "DryRun" {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeLambda) serve(w http.ResponseWriter, r *http.Request) {
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, prefix) || !strings.HasSuffix(r.URL.Path, suffix) {
		http.Error(w, "not the Invoke API", http.StatusNotFound)
		return
	}
	fn := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix), suffix)
	body, _ := io.ReadAll(r.Body)
	typ := r.Header.Get("X-Amz-Invocation-Type")
	if typ == "" {
		typ = "RequestResponse"
	}
	f.mu.Lock()
	f.calls = append(f.calls, lambdaCall{Function: fn, Type: typ, Payload: string(body), Authorization: r.Header.Get("Authorization")})
	f.mu.Unlock()
	refuse := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
	}
	if typ == "DryRun" && f.noDryRun.Load() {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "NotImplemented")
		w.WriteHeader(http.StatusNotImplemented)
		json.NewEncoder(w).Encode(map[string]string{"Type": "LocalService", "Message": "invocation-type: DryRun is not supported"})
		return
	}
	switch fn {
	case "missing":
		refuse(http.StatusNotFound, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:123456789012:function:missing")
		return
	case "denied":
		refuse(http.StatusForbidden, "AccessDeniedException", "not authorized to perform: lambda:InvokeFunction")
		return
	}
	if typ == "DryRun" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	switch fn {
	case "echo":
		var in any
		if len(body) > 0 {
			json.Unmarshal(body, &in)
		}
		json.NewEncoder(w).Encode(map[string]any{"echo": in})
	case "broken":
		refuse(http.StatusInternalServerError, "ServiceException", "internal error")
	case "gateway":
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html>502 Bad Gateway</html>"))
	case "boom":
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.Write([]byte(`{"errorType":"ValueError","errorMessage":"boom","stackTrace":["handler.py:3"]}`))
	case "busy":
		f.mu.Lock()
		f.busy++
		n := f.busy
		f.mu.Unlock()
		if n <= 2 {
			refuse(http.StatusTooManyRequests, "TooManyRequestsException", "Rate Exceeded.")
			return
		}
		w.Write([]byte(`"ok"`))
	case "slow":
		f.once.Do(func() { close(f.slowIn) })
		<-f.release
		w.Write([]byte(`"late"`))
	default:
		refuse(http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+fn)
	}
}

// lambdaFlow is a server with a Lambda endpoint (the double) and a manual
// clock, a domain, a workflow type whose default Lambda role is set and
// one without.
type lambdaFlow struct {
	t   *testing.T
	ctx context.Context
	fn  *fakeLambda
	srv *swfdtest.Server
	c   *swf.Client
}

const lambdaRole = "arn:aws:iam::123456789012:role/swf-lambda"

func newLambdaFlow(t *testing.T, config func(*server.Config)) *lambdaFlow {
	f := &lambdaFlow{t: t, ctx: context.Background(), fn: newFakeLambda(t)}
	f.srv = swfdtest.New(t, swfdtest.WithPollTimeout(time.Second), swfdtest.WithConfig(func(c *server.Config) {
		c.LambdaEndpoint = f.fn.srv.URL
		if config != nil {
			config(c)
		}
	}))
	f.c = f.srv.Client()
	f.register()
	return f
}

// register registers the domain "fn" and its two workflow types.
func (f *lambdaFlow) register() {
	f.t.Helper()
	if _, err := f.c.RegisterDomain(f.ctx, &swf.RegisterDomainInput{Name: aws.String("fn"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}); err != nil {
		f.t.Fatal(err)
	}
	for name, role := range map[string]string{"with-role": lambdaRole, "no-role": ""} {
		in := &swf.RegisterWorkflowTypeInput{Domain: aws.String("fn"), Name: aws.String(name), Version: aws.String("1"),
			DefaultTaskList: &types.TaskList{Name: aws.String("deciders")}, DefaultExecutionStartToCloseTimeout: aws.String("3600"),
			DefaultTaskStartToCloseTimeout: aws.String("60"), DefaultChildPolicy: types.ChildPolicyTerminate}
		if role != "" {
			in.DefaultLambdaRole = aws.String(role)
		}
		if _, err := f.c.RegisterWorkflowType(f.ctx, in); err != nil {
			f.t.Fatal(err)
		}
	}
}

// waitClosed waits for ch to close, for at most 10 seconds.
func waitClosed(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func (f *lambdaFlow) start(id, typ string) *types.WorkflowExecution {
	f.t.Helper()
	out, err := f.c.StartWorkflowExecution(f.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("fn"), WorkflowId: aws.String(id),
		WorkflowType: &types.WorkflowType{Name: aws.String(typ), Version: aws.String("1")}})
	if err != nil {
		f.t.Fatal(err)
	}
	return &types.WorkflowExecution{WorkflowId: aws.String(id), RunId: out.RunId}
}

// decide polls for the next decision task and answers it with ds.
func (f *lambdaFlow) decide(ds ...types.Decision) *swf.PollForDecisionTaskOutput {
	f.t.Helper()
	for i := 0; i < 10; i++ {
		task, err := f.c.PollForDecisionTask(f.ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("fn"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
		if err != nil {
			f.t.Fatal(err)
		}
		if task.TaskToken == nil {
			continue
		}
		if _, err := f.c.RespondDecisionTaskCompleted(f.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: ds}); err != nil {
			f.t.Fatal(err)
		}
		return task
	}
	f.t.Fatal("no decision task")
	return nil
}

func (f *lambdaFlow) history(ex *types.WorkflowExecution) []types.HistoryEvent {
	f.t.Helper()
	out, err := f.c.GetWorkflowExecutionHistory(f.ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("fn"), Execution: ex})
	if err != nil {
		f.t.Fatal(err)
	}
	return out.Events
}

// waitEvents waits until the history has n events of type typ, and returns it.
func (f *lambdaFlow) waitEvents(ex *types.WorkflowExecution, typ types.EventType, n int) []types.HistoryEvent {
	f.t.Helper()
	var evs []types.HistoryEvent
	waitFor(f.t, "events "+string(typ), func() bool {
		evs = f.history(ex)
		return len(eventsOf(evs, typ)) >= n
	})
	return evs
}

func (f *lambdaFlow) openLambdas(ex *types.WorkflowExecution) int32 {
	f.t.Helper()
	d, err := f.c.DescribeWorkflowExecution(f.ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String("fn"), Execution: ex})
	if err != nil {
		f.t.Fatal(err)
	}
	return d.OpenCounts.OpenLambdaFunctions
}

func eventsOf(evs []types.HistoryEvent, typ types.EventType) []types.HistoryEvent {
	var out []types.HistoryEvent
	for _, e := range evs {
		if e.EventType == typ {
			out = append(out, e)
		}
	}
	return out
}

func scheduleLambda(id, fn, input, timeout string) types.Decision {
	a := &types.ScheduleLambdaFunctionDecisionAttributes{Id: aws.String(id), Name: aws.String(fn), Control: aws.String("ctl-" + id)}
	if input != "" {
		a.Input = aws.String(input)
	}
	if timeout != "" {
		a.StartToCloseTimeout = aws.String(timeout)
	}
	return types.Decision{DecisionType: types.DecisionTypeScheduleLambdaFunction, ScheduleLambdaFunctionDecisionAttributes: a}
}

// A decider (aws-sdk-go-v2) schedules functions that succeed, fail, are
// refused, and reuse an id; each ends in its event, each outcome wakes the
// decider, and each function that ran was invoked once, with its input.
func TestLambdaOutcomes(t *testing.T) {
	f := newLambdaFlow(t, nil)
	ex := f.start("w1", "with-role") // the role comes from the type's default
	f.decide(
		scheduleLambda("ok", "echo", `{"n":1}`, ""),
		scheduleLambda("ok", "echo", `{"n":2}`, ""),
		scheduleLambda("bad", "boom", `{}`, "30"),
		scheduleLambda("gone", "missing", `{}`, ""),
		scheduleLambda("no", "denied", `{}`, ""),
	)
	evs := f.waitEvents(ex, types.EventTypeStartLambdaFunctionFailed, 2)
	evs = f.waitEvents(ex, types.EventTypeLambdaFunctionCompleted, 1)
	evs = f.waitEvents(ex, types.EventTypeLambdaFunctionFailed, 1)
	waitFor(t, "the Lambda loop to finish", func() bool { return f.srv.Server.Service.Lambda().InFlight() == 0 })
	evs = f.history(ex)

	sched := eventsOf(evs, types.EventTypeLambdaFunctionScheduled)
	if len(sched) != 4 {
		t.Fatalf("scheduled %d: %v", len(sched), eventTypes(evs))
	}
	byID := map[string]int64{}
	for _, e := range sched {
		a := e.LambdaFunctionScheduledEventAttributes
		byID[*a.Id] = e.EventId
		if aws.ToString(a.Control) != "ctl-"+*a.Id || a.DecisionTaskCompletedEventId != 4 {
			t.Errorf("scheduled %+v", a)
		}
	}
	if a := sched[0].LambdaFunctionScheduledEventAttributes; aws.ToString(a.StartToCloseTimeout) != "900" || aws.ToString(a.Input) != `{"n":1}` || *a.Name != "echo" {
		t.Errorf("scheduled %+v", a)
	}
	if a := sched[1].LambdaFunctionScheduledEventAttributes; aws.ToString(a.StartToCloseTimeout) != "30" {
		t.Errorf("scheduled %+v", a)
	}
	failed := eventsOf(evs, types.EventTypeScheduleLambdaFunctionFailed)
	if len(failed) != 1 || failed[0].ScheduleLambdaFunctionFailedEventAttributes.Cause != types.ScheduleLambdaFunctionFailedCauseIdAlreadyInUse ||
		*failed[0].ScheduleLambdaFunctionFailedEventAttributes.Id != "ok" {
		t.Errorf("schedule failures %+v", failed)
	}

	started := map[int64]int64{} // scheduled id -> started id
	for _, e := range eventsOf(evs, types.EventTypeLambdaFunctionStarted) {
		started[e.LambdaFunctionStartedEventAttributes.ScheduledEventId] = e.EventId
	}
	if len(started) != 2 || started[byID["ok"]] == 0 || started[byID["bad"]] == 0 {
		t.Errorf("started %v of %v", started, byID)
	}
	done := eventsOf(evs, types.EventTypeLambdaFunctionCompleted)[0].LambdaFunctionCompletedEventAttributes
	if done.ScheduledEventId != byID["ok"] || done.StartedEventId != started[byID["ok"]] || strings.TrimSpace(aws.ToString(done.Result)) != `{"echo":{"n":1}}` {
		t.Errorf("completed %+v", done)
	}
	fail := eventsOf(evs, types.EventTypeLambdaFunctionFailed)[0].LambdaFunctionFailedEventAttributes
	if fail.ScheduledEventId != byID["bad"] || aws.ToString(fail.Reason) != "ValueError" || !strings.Contains(aws.ToString(fail.Details), `"errorMessage":"boom"`) {
		t.Errorf("failed %+v", fail)
	}
	msgs := map[int64]string{}
	for _, e := range eventsOf(evs, types.EventTypeStartLambdaFunctionFailed) {
		a := e.StartLambdaFunctionFailedEventAttributes
		if a.Cause != types.StartLambdaFunctionFailedCauseAssumeRoleFailed {
			t.Errorf("start failed %+v", a)
		}
		msgs[a.ScheduledEventId] = aws.ToString(a.Message)
	}
	if !strings.HasPrefix(msgs[byID["gone"]], "ResourceNotFoundException: Function not found") || !strings.HasPrefix(msgs[byID["no"]], "AccessDeniedException: ") {
		t.Errorf("start failed messages %v", msgs)
	}

	// Each function that ran ran once, with its input; refused ones never
	// ran.
	if calls := f.fn.invocations("echo"); len(calls) != 1 || calls[0].Payload != `{"n":1}` || calls[0].Type != "RequestResponse" {
		t.Errorf("echo invocations %+v", calls)
	}
	if calls := f.fn.invocations("boom"); len(calls) != 1 {
		t.Errorf("boom invocations %+v", calls)
	}
	if n := len(f.fn.invocations("missing")) + len(f.fn.invocations("denied")); n != 0 {
		t.Errorf("refused functions ran %d times", n)
	}
	if n := f.openLambdas(ex); n != 0 {
		t.Errorf("openLambdaFunctions = %d after every task closed", n)
	}

	// The decider hears of every outcome: its next task shows them all.
	task := f.decide(completeWorkflow("done"))
	seen := eventTypes(task.Events)
	for _, want := range []types.EventType{types.EventTypeLambdaFunctionCompleted, types.EventTypeLambdaFunctionFailed, types.EventTypeStartLambdaFunctionFailed, types.EventTypeScheduleLambdaFunctionFailed} {
		if !strings.Contains(strings.Join(seen, " "), string(want)) {
			t.Errorf("decision task lacks %s: %v", want, seen)
		}
	}
}

// A function still running when its startToCloseTimeout passes times out
// (on the manual clock); its late answer is dropped.
func TestLambdaTimesOut(t *testing.T) {
	f := newLambdaFlow(t, nil)
	ex := f.start("w1", "with-role")
	f.decide(scheduleLambda("s", "slow", `"x"`, "5"))
	f.waitEvents(ex, types.EventTypeLambdaFunctionStarted, 1)
	waitClosed(t, "the slow function's invocation", f.fn.slowIn)
	if n := f.openLambdas(ex); n != 1 {
		t.Fatalf("openLambdaFunctions = %d while the function runs", n)
	}
	f.srv.Advance(4 * time.Second)
	if evs := f.history(ex); len(eventsOf(evs, types.EventTypeLambdaFunctionTimedOut)) != 0 {
		t.Fatalf("timed out early: %v", eventTypes(evs))
	}
	f.srv.Advance(time.Second)
	evs := f.waitEvents(ex, types.EventTypeLambdaFunctionTimedOut, 1)
	to := eventsOf(evs, types.EventTypeLambdaFunctionTimedOut)[0].LambdaFunctionTimedOutEventAttributes
	if to.TimeoutType != types.LambdaFunctionTimeoutTypeStartToClose || to.ScheduledEventId != 5 || to.StartedEventId != 6 {
		t.Errorf("timed out %+v", to)
	}
	if evs[len(evs)-1].EventType != types.EventTypeDecisionTaskScheduled {
		t.Errorf("the timeout schedules a decision task: %v", eventTypes(evs))
	}
	// The function answers after all: nothing more is recorded.
	n := len(evs)
	f.fn.Release()
	waitFor(t, "the late answer to be handled", func() bool { return f.srv.Server.Service.Lambda().InFlight() == 0 })
	if evs := f.history(ex); len(evs) != n {
		t.Errorf("late answer recorded: %v", eventTypes(evs))
	}
	if calls := f.fn.invocations("slow"); len(calls) != 1 || calls[0].Payload != `"x"` {
		t.Errorf("slow invocations %+v", calls)
	}
}

// An invocation Lambda throttles (429 TooManyRequestsException, which runs
// nothing) is tried again after a back-off until it is accepted: the
// function completes, invoked three times, and the history shows one
// start and no failure. The first 429 used to be recorded as the
// function's failure.
func TestLambdaThrottledIsRetried(t *testing.T) {
	f := newLambdaFlow(t, nil)
	ex := f.start("w1", "with-role")
	f.decide(scheduleLambda("b", "busy", `{}`, ""))
	evs := f.waitEvents(ex, types.EventTypeLambdaFunctionStarted, 1)
	waitFor(t, "the function's outcome", func() bool {
		evs = f.history(ex)
		return len(eventsOf(evs, types.EventTypeLambdaFunctionCompleted))+len(eventsOf(evs, types.EventTypeLambdaFunctionFailed)) > 0
	})
	if n := len(eventsOf(evs, types.EventTypeLambdaFunctionFailed)); n != 0 {
		t.Fatalf("%d LambdaFunctionFailed, reason %s", n, aws.ToString(eventsOf(evs, types.EventTypeLambdaFunctionFailed)[0].LambdaFunctionFailedEventAttributes.Reason))
	}
	if n := len(eventsOf(evs, types.EventTypeLambdaFunctionStarted)); n != 1 {
		t.Errorf("%d LambdaFunctionStarted: %v", n, eventTypes(evs))
	}
	if r := aws.ToString(eventsOf(evs, types.EventTypeLambdaFunctionCompleted)[0].LambdaFunctionCompletedEventAttributes.Result); r != `"ok"` {
		t.Errorf("result %q", r)
	}
	if calls := f.fn.invocations("busy"); len(calls) != 3 {
		t.Errorf("%d invocations, want 3 (two throttled)", len(calls))
	}
}

// An execution without a Lambda role cannot schedule Lambda tasks
// (ScheduleLambdaFunctionFailed, as the model documents lambdaRole); a role
// given at start works; the open-functions limit fails the decision past it.
func TestLambdaRoleAndLimit(t *testing.T) {
	f := newLambdaFlow(t, func(c *server.Config) {
		c.Limits = service.Limits{History: service.DefaultLimits.History}
		c.Limits.History.MaxOpenLambdas = 2
	})
	ex := f.start("bare", "no-role")
	f.decide(scheduleLambda("a", "echo", "", ""))
	evs := f.waitEvents(ex, types.EventTypeScheduleLambdaFunctionFailed, 1)
	if a := eventsOf(evs, types.EventTypeScheduleLambdaFunctionFailed)[0].ScheduleLambdaFunctionFailedEventAttributes; a.Cause != types.ScheduleLambdaFunctionFailedCauseLambdaServiceNotAvailableInRegion {
		t.Errorf("without a role: %+v", a)
	}
	if len(eventsOf(evs, types.EventTypeLambdaFunctionScheduled)) != 0 || len(f.fn.invocations("echo")) != 0 {
		t.Errorf("a function was scheduled without a role: %v", eventTypes(evs))
	}
	f.decide(completeWorkflow("no role"))

	// A role given at start, and the limit of 2 open functions.
	out, err := f.c.StartWorkflowExecution(f.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("fn"), WorkflowId: aws.String("roled"),
		WorkflowType: &types.WorkflowType{Name: aws.String("no-role"), Version: aws.String("1")}, LambdaRole: aws.String(lambdaRole)})
	if err != nil {
		t.Fatal(err)
	}
	ex2 := &types.WorkflowExecution{WorkflowId: aws.String("roled"), RunId: out.RunId}
	f.decide(scheduleLambda("s1", "slow", "", ""), scheduleLambda("s2", "slow", "", ""), scheduleLambda("s3", "slow", "", ""))
	evs = f.waitEvents(ex2, types.EventTypeLambdaFunctionStarted, 2)
	if a := eventsOf(evs, types.EventTypeScheduleLambdaFunctionFailed); len(a) != 1 ||
		a[0].ScheduleLambdaFunctionFailedEventAttributes.Cause != types.ScheduleLambdaFunctionFailedCauseOpenLambdaFunctionsLimitExceeded || *a[0].ScheduleLambdaFunctionFailedEventAttributes.Id != "s3" {
		t.Errorf("limit: %v", eventTypes(evs))
	}
	if n := f.openLambdas(ex2); n != 2 {
		t.Errorf("openLambdaFunctions = %d", n)
	}
	f.fn.Release()
	f.waitEvents(ex2, types.EventTypeLambdaFunctionCompleted, 2)
}

// An endpoint that runs functions but does not implement DryRun (501
// NotImplemented, as sam local start-lambda answers) cannot check a function
// before it starts: the function is started and invoked all the same, once;
// one that does not exist then fails after its start.
func TestLambdaEndpointWithoutDryRun(t *testing.T) {
	f := newLambdaFlow(t, nil)
	f.fn.noDryRun.Store(true)
	ex := f.start("w", "with-role")
	f.decide(scheduleLambda("ok", "echo", `{"n":1}`, ""), scheduleLambda("gone", "missing", `{}`, ""))
	f.waitEvents(ex, types.EventTypeLambdaFunctionCompleted, 1)
	evs := f.waitEvents(ex, types.EventTypeLambdaFunctionFailed, 1)
	if n := len(eventsOf(evs, types.EventTypeStartLambdaFunctionFailed)); n != 0 {
		t.Errorf("%d StartLambdaFunctionFailed: %v", n, eventTypes(evs))
	}
	done := eventsOf(evs, types.EventTypeLambdaFunctionCompleted)[0].LambdaFunctionCompletedEventAttributes
	if strings.TrimSpace(aws.ToString(done.Result)) != `{"echo":{"n":1}}` {
		t.Errorf("completed %+v", done)
	}
	if a := eventsOf(evs, types.EventTypeLambdaFunctionFailed)[0].LambdaFunctionFailedEventAttributes; aws.ToString(a.Reason) != "ResourceNotFoundException" {
		t.Errorf("failed %+v", a)
	}
	if calls := f.fn.invocations("echo"); len(calls) != 1 || calls[0].Payload != `{"n":1}` {
		t.Errorf("echo invocations %+v", calls)
	}
}

// Without --lambda-endpoint nothing changes: every ScheduleLambdaFunction
// fails with LAMBDA_SERVICE_NOT_AVAILABLE_IN_REGION, role or not.
func TestLambdaWithoutEndpoint(t *testing.T) {
	f := newLambdaFlow(t, func(c *server.Config) { c.LambdaEndpoint = "" })
	ex := f.start("w", "with-role")
	f.decide(scheduleLambda("a", "echo", "", ""))
	evs := f.waitEvents(ex, types.EventTypeScheduleLambdaFunctionFailed, 1)
	if a := eventsOf(evs, types.EventTypeScheduleLambdaFunctionFailed)[0].ScheduleLambdaFunctionFailedEventAttributes; a.Cause != types.ScheduleLambdaFunctionFailedCauseLambdaServiceNotAvailableInRegion {
		t.Errorf("%+v", a)
	}
	if len(f.fn.invocations("echo")) != 0 {
		t.Error("invoked without an endpoint")
	}
}

// A function in flight when swfd is killed (-9) is not invoked again after
// the restart: LambdaFunctionStarted was committed before the invocation
// (and took the task off the store), so the restarted swfd times it out
// instead. The invoker takes its credentials from the AWS configuration
// chain (here the environment) and signs with them.
func TestLambdaKill9InFlight(t *testing.T) {
	bin := buildSwfd(t)
	fn := newFakeLambda(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")
	env := append(noCredsEnv(t), "AWS_ACCESS_KEY_ID=AKIDLAMBDATEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_EC2_METADATA_DISABLED=true")
	args := []string{"--addr", anyPort, "--db", db, "--log-level", "warn", "--lambda-endpoint", fn.srv.URL}
	p := startSwfd(t, bin, env, args...)
	f := &lambdaFlow{t: t, ctx: context.Background(), fn: fn, c: swfdtest.NewClient("http://" + p.addr)}
	f.register()
	ex := f.start("w", "with-role")
	f.decide(scheduleLambda("s", "slow", `{"k":1}`, "3"))
	waitClosed(t, "the slow function's invocation", fn.slowIn)
	if evs := f.history(ex); len(eventsOf(evs, types.EventTypeLambdaFunctionStarted)) != 1 {
		t.Fatalf("invoked before LambdaFunctionStarted was recorded: %v", eventTypes(evs))
	}
	p.kill9(t)

	p2 := startSwfd(t, bin, env, args...)
	f.c = swfdtest.NewClient("http://" + p2.addr)
	evs := f.waitEvents(ex, types.EventTypeLambdaFunctionTimedOut, 1)
	if n := len(eventsOf(evs, types.EventTypeLambdaFunctionStarted)); n != 1 {
		t.Errorf("started %d times: %v", n, eventTypes(evs))
	}
	// The restarted server invokes new functions; by the time one has
	// completed, any second invocation of the first would have been made
	// (the Lambda loop starts with the tasks left in the store).
	f.decide(scheduleLambda("e", "echo", `{"k":2}`, ""))
	f.waitEvents(ex, types.EventTypeLambdaFunctionCompleted, 1)
	if calls := fn.invocations("slow"); len(calls) != 1 {
		t.Errorf("the function in flight at the kill was invoked %d times", len(calls))
	}
	calls := fn.invocations("echo")
	if len(calls) != 1 || !strings.Contains(calls[0].Authorization, "Credential=AKIDLAMBDATEST/") {
		t.Errorf("echo invocations %+v", calls)
	}
}
