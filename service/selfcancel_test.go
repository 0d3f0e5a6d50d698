package service

import (
	"context"
	"testing"

	"github.com/swfd/swfd/api"
)

// TestRequestCancelExternalOfItself: a RequestCancelExternalWorkflowExecution
// decision that names the decider's own workflowId is delivered as one
// naming any other run: the run records WorkflowExecutionCancelRequested
// from itself (externalWorkflowExecution and externalInitiatedEventId set),
// is cancelRequested, gets a decision task for it, and hears back with
// ExternalWorkflowExecutionCancelRequested. Without a runId the request
// reaches the run open when it is delivered: the new run when the same
// batch continued as new, none when the batch closed the run (nothing is
// recorded then, and nothing stays pending).
func TestRequestCancelExternalOfItself(t *testing.T) {
	ctx := context.Background()
	wt := api.WorkflowType{Name: "wf", Version: "1"}
	for _, tc := range []struct {
		name    string
		ownRun  bool            // the decision names the run id too
		closing *api.Decision   // decided after it, in the same batch
		want    api.CloseStatus // the run's close status, "" for open
		newRun  bool            // the request reaches a new run
	}{
		{name: "by workflowId"},
		{name: "by its own runId", ownRun: true},
		{name: "then continued as new", newRun: true, want: api.CloseStatusContinuedAsNew,
			closing: &api.Decision{DecisionType: api.DecisionTypeContinueAsNewWorkflowExecution,
				ContinueAsNewWorkflowExecutionDecisionAttributes: &api.ContinueAsNewWorkflowExecutionDecisionAttributes{}}},
		{name: "then completed", want: api.CloseStatusCompleted,
			closing: &api.Decision{DecisionType: api.DecisionTypeCompleteWorkflowExecution}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testService(t, Options{}, nil)
			run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "me", WorkflowType: wt})
			mustNil(t, err)
			dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
			mustNil(t, err)
			a := &api.RequestCancelExternalWorkflowExecutionDecisionAttributes{WorkflowID: "me", Control: api.String("c")}
			if tc.ownRun {
				a.RunID = api.String(run.RunID)
			}
			ds := []api.Decision{{DecisionType: api.DecisionTypeRequestCancelExternalWorkflowExecution, RequestCancelExternalWorkflowExecutionDecisionAttributes: a}}
			if tc.closing != nil {
				ds = append(ds, *tc.closing)
			}
			mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: ds}))
			for range 10 {
				n, err := s.Transfers().Deliver(ctx)
				mustNil(t, err)
				if n == 0 {
					break
				}
			}
			left, err := s.store.PendingTransfers(ctx, 10)
			mustNil(t, err)
			if len(left) != 0 {
				t.Fatalf("%d messages left pending", len(left))
			}
			history := func(runID string) []api.HistoryEvent {
				h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "me", RunID: runID}})
				mustNil(t, err)
				evs := make([]api.HistoryEvent, len(h.Events))
				for i, e := range h.Events {
					evs[i], err = e.Full()
					mustNil(t, err)
				}
				return evs
			}
			evs := history(run.RunID)
			var initiated int64
			for _, e := range evs {
				if e.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes != nil {
					initiated = e.EventID
				}
			}
			if initiated == 0 {
				t.Fatalf("no RequestCancelExternalWorkflowExecutionInitiated in %v", eventTypes(t, evs))
			}
			self := api.WorkflowExecution{WorkflowID: "me", RunID: run.RunID}
			d, err := s.DescribeWorkflowExecution(ctx, &api.DescribeWorkflowExecutionInput{Domain: "d", Execution: self})
			mustNil(t, err)
			if got := d.ExecutionInfo.CloseStatus; got != tc.want {
				t.Fatalf("the run's close status is %q, want %q (%v)", got, tc.want, eventTypes(t, evs))
			}
			target := run.RunID
			if tc.newRun {
				var cont *api.WorkflowExecutionContinuedAsNewEventAttributes
				if last := evs[len(evs)-1]; last.WorkflowExecutionContinuedAsNewEventAttributes != nil {
					cont = last.WorkflowExecutionContinuedAsNewEventAttributes
				}
				if cont == nil {
					t.Fatalf("the run did not end continued as new: %v", eventTypes(t, evs))
				}
				target = cont.NewExecutionRunID
			}
			if tc.want != "" && !tc.newRun {
				// Closed with nothing open to take the request.
				if last := evs[len(evs)-1]; last.EventID != initiated+1 || last.WorkflowExecutionCompletedEventAttributes == nil {
					t.Fatalf("events after the run closed: %v", eventTypes(t, evs))
				}
				return
			}
			var requested *api.WorkflowExecutionCancelRequestedEventAttributes
			for _, e := range history(target) {
				if e.WorkflowExecutionCancelRequestedEventAttributes != nil {
					requested = e.WorkflowExecutionCancelRequestedEventAttributes
				}
			}
			if requested == nil || requested.ExternalWorkflowExecution == nil || *requested.ExternalWorkflowExecution != self ||
				requested.ExternalInitiatedEventID != initiated || requested.Cause != "" {
				t.Fatalf("cancel request recorded as %+v, want one from %v, initiated by event %d", requested, self, initiated)
			}
			d, err = s.DescribeWorkflowExecution(ctx, &api.DescribeWorkflowExecutionInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "me", RunID: target}})
			mustNil(t, err)
			if !d.ExecutionInfo.CancelRequested || d.OpenCounts.OpenDecisionTasks != 1 {
				t.Fatalf("the run asked to cancel shows cancelRequested %v and %d open decision tasks, want true and 1", d.ExecutionInfo.CancelRequested, d.OpenCounts.OpenDecisionTasks)
			}
			if tc.newRun {
				return // the old run is closed: it hears back from nothing
			}
			var heard *api.ExternalWorkflowExecutionCancelRequestedEventAttributes
			for _, e := range history(run.RunID) {
				if e.ExternalWorkflowExecutionCancelRequestedEventAttributes != nil {
					heard = e.ExternalWorkflowExecutionCancelRequestedEventAttributes
				}
				if e.RequestCancelExternalWorkflowExecutionFailedEventAttributes != nil {
					t.Fatalf("the request failed: %+v", e.RequestCancelExternalWorkflowExecutionFailedEventAttributes)
				}
			}
			if heard == nil || heard.InitiatedEventID != initiated || heard.WorkflowExecution != self {
				t.Fatalf("the run heard back %+v, want its own execution and initiated event %d", heard, initiated)
			}
		})
	}
}
