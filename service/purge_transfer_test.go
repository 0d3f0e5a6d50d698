package service

import (
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// TestPurgeKeepsMessagesToPurgedRun: a signal and a cancel request sent by
// run id to a closed run are messages to that run until delivered; when
// the retention purge removes the run first, they must still be answered
// (the target is gone: they failed), not removed with the run, which left
// the sender waiting for an outcome that never came.
func TestPurgeKeepsMessagesToPurgedRun(t *testing.T) {
	policyWorlds(t, nil, func(t *testing.T, w *policyWorld) {
		start := func(id, list string) string {
			run, err := w.calls.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id,
				WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, TaskList: &api.TaskList{Name: list},
				ExecutionStartToCloseTimeout: "864000"})
			mustNil(t, err)
			return run.RunID
		}
		target := start("target", "target")
		mustNil(t, w.calls.TerminateWorkflowExecution(w.ctx, &api.TerminateWorkflowExecutionInput{Domain: "d", WorkflowID: "target"}))
		// Domain "d" keeps closed runs a day.
		w.clock.MoveTo(w.clock.Now().Add(24*time.Hour + time.Second))
		sender := start("sender", "sender")
		w.decide(w.decisionTask("sender"),
			api.Decision{DecisionType: api.DecisionTypeSignalExternalWorkflowExecution,
				SignalExternalWorkflowExecutionDecisionAttributes: &api.SignalExternalWorkflowExecutionDecisionAttributes{
					WorkflowID: "target", RunID: api.String(target), SignalName: "s"}},
			api.Decision{DecisionType: api.DecisionTypeRequestCancelExternalWorkflowExecution,
				RequestCancelExternalWorkflowExecutionDecisionAttributes: &api.RequestCancelExternalWorkflowExecutionDecisionAttributes{
					WorkflowID: "target", RunID: api.String(target)}})
		// The purge comes before the messages are delivered.
		mustNil(t, w.loops.Retention().Purge(w.ctx))
		if _, err := w.calls.DescribeWorkflowExecution(w.ctx, &api.DescribeWorkflowExecutionInput{Domain: "d",
			Execution: api.WorkflowExecution{WorkflowID: "target", RunID: target}}); err == nil {
			t.Fatal("the target was not purged")
		}
		w.settle()
		var signalFailed, cancelFailed bool
		for _, e := range allEvents(t, w, "sender", sender) {
			if a := e.SignalExternalWorkflowExecutionFailedEventAttributes; a != nil {
				signalFailed = a.Cause == api.SignalExternalWorkflowExecutionFailedCauseUnknownExternalWorkflowExecution
			}
			if a := e.RequestCancelExternalWorkflowExecutionFailedEventAttributes; a != nil {
				cancelFailed = a.Cause == api.RequestCancelExternalWorkflowExecutionFailedCauseUnknownExternalWorkflowExecution
			}
		}
		if !signalFailed || !cancelFailed {
			t.Fatalf("sender heard: signal failed %v, cancel failed %v; want both (events %v)", signalFailed, cancelFailed,
				eventTypes(t, w.history("sender", sender)))
		}
	})
}
