package server

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/lambda"
)

// heldInvoker runs every function until release is closed (it then answers
// "done") or its call is cut off.
type heldInvoker struct {
	invoked chan struct{} // closed at the first invocation
	release chan struct{}
}

func (h *heldInvoker) Check(ctx context.Context, r lambda.Request) error { return nil }

func (h *heldInvoker) Invoke(ctx context.Context, r lambda.Request) (lambda.Response, error) {
	close(h.invoked)
	select {
	case <-h.release:
		return lambda.Response{Payload: []byte(`"done"`)}, nil
	case <-ctx.Done():
		return lambda.Response{}, ctx.Err()
	}
}

// lambdaInFlight serves a server whose Lambda invoker is iv until the
// returned stop is called, with one execution whose function iv runs
// now; served gives Serve's error.
func lambdaInFlight(t *testing.T, iv *heldInvoker, shutdownTimeout time.Duration) (s *Server, logBuf *logbuf.Buffer, exec api.WorkflowExecution, stop func(), served <-chan error) {
	t.Helper()
	ctx := context.Background()
	logBuf = &logbuf.Buffer{}
	s, err := Open(ctx, Config{DB: MemoryDB, ShutdownTimeout: shutdownTimeout, LambdaInvoker: iv, MetricsOff: true, NoConsole: true,
		Logger: slog.New(slog.NewTextHandler(logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Start()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Service.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "1"}))
	must(s.Service.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1",
		DefaultTaskList: &api.TaskList{Name: "deciders"}, DefaultTaskStartToCloseTimeout: "60", DefaultExecutionStartToCloseTimeout: "3600",
		DefaultChildPolicy: api.ChildPolicyTerminate, DefaultLambdaRole: "arn:aws:iam::123456789012:role/r"}))
	run, err := s.Service.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w",
		WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	must(err)
	task, err := s.Service.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "deciders"}})
	must(err)
	must(s.Service.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: []api.Decision{{
		DecisionType:                             api.DecisionTypeScheduleLambdaFunction,
		ScheduleLambdaFunctionDecisionAttributes: &api.ScheduleLambdaFunctionDecisionAttributes{ID: "f", Name: "fn", StartToCloseTimeout: "900"},
	}}}))
	select {
	case <-iv.invoked:
	case <-time.After(10 * time.Second):
		t.Fatal("the function was not invoked")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Serve(sctx, ln) }()
	return s, logBuf, api.WorkflowExecution{WorkflowID: "w", RunID: run.RunID}, cancel, done
}

// lastEvent returns the last event of the execution's history of type typ.
func lastEvent(t *testing.T, s *Server, ex api.WorkflowExecution, typ api.EventType) *api.HistoryEvent {
	t.Helper()
	h, err := s.Service.GetWorkflowExecutionHistory(context.Background(), &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: ex})
	if err != nil {
		t.Fatal(err)
	}
	var found *api.HistoryEvent
	for _, e := range h.Events {
		if e.EventType == typ {
			full, err := e.Full()
			if err != nil {
				t.Fatal(err)
			}
			found = &full
		}
	}
	return found
}

// waitServed waits for Serve to return nil.
func waitServed(t *testing.T, served <-chan error) {
	t.Helper()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// A graceful stop waits for a Lambda function in flight, as for a call in
// flight, and records its outcome before Serve returns (so before the
// store closes). It used to return at once, and the store's close cut the
// invocation off: nothing was recorded, and the run waited for the
// function's START_TO_CLOSE timeout.
func TestGracefulStopAwaitsLambdaFunctions(t *testing.T) {
	iv := &heldInvoker{invoked: make(chan struct{}), release: make(chan struct{})}
	s, logBuf, ex, stop, served := lambdaInFlight(t, iv, time.Minute)
	stop()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logBuf.String(), "waiting for the Lambda functions in flight to answer") {
		select {
		case err := <-served:
			t.Fatalf("Serve returned (%v) with a Lambda function in flight", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stop does not wait for the function:\n%s", logBuf)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(iv.release)
	waitServed(t, served)
	e := lastEvent(t, s, ex, api.EventTypeLambdaFunctionCompleted)
	if e == nil || api.Value(e.LambdaFunctionCompletedEventAttributes.Result) != `"done"` {
		t.Fatalf("completed: %+v", e)
	}
}

// A function still running at the shutdown's deadline is recorded as
// failed (Interrupted) before Serve returns, so that its decider hears of
// it at once rather than at its START_TO_CLOSE timeout 15 minutes later.
func TestGracefulStopGivesUpLambdaFunctionsAtItsDeadline(t *testing.T) {
	iv := &heldInvoker{invoked: make(chan struct{}), release: make(chan struct{})}
	s, _, ex, stop, served := lambdaInFlight(t, iv, 200*time.Millisecond)
	stop()
	waitServed(t, served)
	e := lastEvent(t, s, ex, api.EventTypeLambdaFunctionFailed)
	if e == nil || api.Value(e.LambdaFunctionFailedEventAttributes.Reason) != lambda.Interrupted ||
		!strings.Contains(api.Value(e.LambdaFunctionFailedEventAttributes.Details), "swfd stopped") {
		t.Fatalf("failed: %+v", e)
	}
	if ds := lastEvent(t, s, ex, api.EventTypeDecisionTaskScheduled); ds == nil || ds.EventID <= e.EventID {
		t.Errorf("the failure scheduled no decision task")
	}
}
