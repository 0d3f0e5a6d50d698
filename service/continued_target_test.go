package service

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// openRunHookStore runs hook once, right after the next OpenRun has found
// its run and before the caller acts on it: what happens to the run in that
// gap, as another caller's commit would.
type openRunHookStore struct {
	swfd.Store
	mu   sync.Mutex
	hook func()
}

func (s *openRunHookStore) OpenRun(ctx context.Context, domain, workflowID string) (swfd.Execution, error) {
	row, err := s.Store.OpenRun(ctx, domain, workflowID)
	s.mu.Lock()
	hook := s.hook
	s.hook = nil
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return row, err
}

// A signal, cancel request or termination that names a workflow by its
// workflowId alone is for the workflow's open run when it is applied. A
// run that continues as new between the lookup of the open run and the
// call's turn on it leaves the workflow open, in its new run: the call
// goes to that run rather than failing with UnknownResourceFault, which a
// client takes to mean that the workflow is not running.
func TestCallsByWorkflowIDFollowContinueAsNew(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		call func(s *Service) error
		want api.EventType // recorded by the new run
	}{
		{"signal", func(s *Service) error {
			return s.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: "go"})
		}, api.EventTypeWorkflowExecutionSignaled},
		{"cancel request", func(s *Service) error {
			return s.RequestCancelWorkflowExecution(ctx, &api.RequestCancelWorkflowExecutionInput{Domain: "d", WorkflowID: "w"})
		}, api.EventTypeWorkflowExecutionCancelRequested},
		{"terminate", func(s *Service) error {
			return s.TerminateWorkflowExecution(ctx, &api.TerminateWorkflowExecutionInput{Domain: "d", WorkflowID: "w"})
		}, api.EventTypeWorkflowExecutionTerminated},
	} {
		t.Run(c.name, func(t *testing.T) {
			hooked := &openRunHookStore{}
			s := testService(t, Options{PollTimeout: 50 * time.Millisecond}, func(db swfd.Store) swfd.Store {
				hooked.Store = db
				return hooked
			})
			first, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
			mustNil(t, err)
			dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
			mustNil(t, err)
			if dt.TaskToken == "" {
				t.Fatal("no decision task")
			}
			hooked.mu.Lock()
			hooked.hook = func() {
				mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []api.Decision{
					{DecisionType: api.DecisionTypeContinueAsNewWorkflowExecution},
				}}))
			}
			hooked.mu.Unlock()
			if err := c.call(s); err != nil {
				t.Fatalf("the call to the workflow, whose run continued as new on the way: %v", err)
			}
			old, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: first.RunID}})
			mustNil(t, err)
			evs := eventTypes(t, old.Events)
			last := evs[len(evs)-1]
			if last != api.EventTypeWorkflowExecutionContinuedAsNew {
				t.Fatalf("the first run ended with %s, want it continued as new: %v", last, evs)
			}
			a := old.Events[len(old.Events)-1]
			full, err := a.Full()
			mustNil(t, err)
			next := full.WorkflowExecutionContinuedAsNewEventAttributes.NewExecutionRunID
			h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: next}})
			mustNil(t, err)
			found := false
			for _, et := range eventTypes(t, h.Events) {
				found = found || et == c.want
			}
			if !found {
				t.Fatalf("the new run did not record %s: %v", c.want, eventTypes(t, h.Events))
			}
		})
	}
}

// A signal sent by a decision to a workflowId, without a runId, is for the
// run of the workflowId that is open when it is delivered. A run that
// closes between the lookup of the open run and the delivery, and is
// followed at once by a new run of the workflowId, leaves that run to
// receive it: the sender records ExternalWorkflowExecutionSignaled, not
// SignalExternalWorkflowExecutionFailed, and the new run the signal.
func TestSignalByWorkflowIDReachesNewerRun(t *testing.T) {
	ctx := context.Background()
	hooked := &openRunHookStore{}
	s := testService(t, Options{PollTimeout: 50 * time.Millisecond}, func(db swfd.Store) swfd.Store {
		hooked.Store = db
		return hooked
	})
	wf := api.WorkflowType{Name: "wf", Version: "1"}
	start := func(id, list string) string {
		t.Helper()
		run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id, WorkflowType: wf, TaskList: &api.TaskList{Name: list}})
		mustNil(t, err)
		return run.RunID
	}
	poll := func(list string) *api.DecisionTask {
		t.Helper()
		dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: list}})
		mustNil(t, err)
		if dt.TaskToken == "" {
			t.Fatalf("no decision task on %s", list)
		}
		return dt
	}
	history := func(id, run string) []api.EventType {
		t.Helper()
		h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: id, RunID: run}})
		mustNil(t, err)
		return eventTypes(t, h.Events)
	}
	sender := start("s", "ls")
	first := start("w", "lt")
	target := poll("lt")
	mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: poll("ls").TaskToken, Decisions: []api.Decision{
		{DecisionType: api.DecisionTypeSignalExternalWorkflowExecution, SignalExternalWorkflowExecutionDecisionAttributes: &api.SignalExternalWorkflowExecutionDecisionAttributes{WorkflowID: "w", SignalName: "go"}},
	}}))
	var second string
	hooked.mu.Lock()
	hooked.hook = func() {
		mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: target.TaskToken, Decisions: []api.Decision{
			{DecisionType: api.DecisionTypeCompleteWorkflowExecution},
		}}))
		second = start("w", "lt")
	}
	hooked.mu.Unlock()
	for range 10 {
		n, err := s.Transfers().Deliver(ctx)
		mustNil(t, err)
		if n == 0 {
			break
		}
	}
	if second == "" {
		t.Fatal("the signal was never looked up")
	}
	if evs := history("w", first); evs[len(evs)-1] != api.EventTypeWorkflowExecutionCompleted {
		t.Fatalf("the first run of w: %v", evs)
	}
	got := history("s", sender)
	if !slices.Contains(got, api.EventTypeExternalWorkflowExecutionSignaled) {
		t.Fatalf("the sender did not hear that its signal was delivered: %v", got)
	}
	if evs := history("w", second); !slices.Contains(evs, api.EventTypeWorkflowExecutionSignaled) {
		t.Fatalf("the open run of w did not get the signal: %v", evs)
	}
}
