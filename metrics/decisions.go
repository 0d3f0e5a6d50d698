package metrics

import "github.com/swfd/swfd/api"

// outcomeOK is the outcome label of a decision that took effect.
const outcomeOK = "ok"

// decisionOutcome tells, from an event a commit appended, which decision
// of a RespondDecisionTaskCompleted it records and how that decision
// ended: "ok", or the cause of its *Failed event. ok is false for events
// that record no decision. Every decision records exactly one such event
// when it is applied: its first success event, or its *Failed event.
// Failures reported later, after the decision took effect (a signal that
// found no execution, a child that was already running), are outcomes of
// the work the decision started, not of the decision: they carry the id of
// the event that initiated it, and are not counted.
func decisionOutcome(ev *api.HistoryEvent) (decision api.DecisionType, outcome string, ok bool) {
	switch ev.EventType {
	case api.EventTypeActivityTaskScheduled:
		return api.DecisionTypeScheduleActivityTask, outcomeOK, true
	case api.EventTypeActivityTaskCancelRequested:
		return api.DecisionTypeRequestCancelActivityTask, outcomeOK, true
	case api.EventTypeWorkflowExecutionCompleted:
		return api.DecisionTypeCompleteWorkflowExecution, outcomeOK, true
	case api.EventTypeWorkflowExecutionFailed:
		return api.DecisionTypeFailWorkflowExecution, outcomeOK, true
	case api.EventTypeWorkflowExecutionCanceled:
		return api.DecisionTypeCancelWorkflowExecution, outcomeOK, true
	case api.EventTypeWorkflowExecutionContinuedAsNew:
		return api.DecisionTypeContinueAsNewWorkflowExecution, outcomeOK, true
	case api.EventTypeMarkerRecorded:
		return api.DecisionTypeRecordMarker, outcomeOK, true
	case api.EventTypeTimerStarted:
		return api.DecisionTypeStartTimer, outcomeOK, true
	case api.EventTypeTimerCanceled:
		return api.DecisionTypeCancelTimer, outcomeOK, true
	case api.EventTypeSignalExternalWorkflowExecutionInitiated:
		return api.DecisionTypeSignalExternalWorkflowExecution, outcomeOK, true
	case api.EventTypeRequestCancelExternalWorkflowExecutionInitiated:
		return api.DecisionTypeRequestCancelExternalWorkflowExecution, outcomeOK, true
	case api.EventTypeStartChildWorkflowExecutionInitiated:
		return api.DecisionTypeStartChildWorkflowExecution, outcomeOK, true
	case api.EventTypeLambdaFunctionScheduled:
		return api.DecisionTypeScheduleLambdaFunction, outcomeOK, true

	case api.EventTypeScheduleActivityTaskFailed:
		if a := ev.ScheduleActivityTaskFailedEventAttributes; a != nil {
			return api.DecisionTypeScheduleActivityTask, string(a.Cause), true
		}
	case api.EventTypeRequestCancelActivityTaskFailed:
		if a := ev.RequestCancelActivityTaskFailedEventAttributes; a != nil {
			return api.DecisionTypeRequestCancelActivityTask, string(a.Cause), true
		}
	case api.EventTypeCompleteWorkflowExecutionFailed:
		if a := ev.CompleteWorkflowExecutionFailedEventAttributes; a != nil {
			return api.DecisionTypeCompleteWorkflowExecution, string(a.Cause), true
		}
	case api.EventTypeFailWorkflowExecutionFailed:
		if a := ev.FailWorkflowExecutionFailedEventAttributes; a != nil {
			return api.DecisionTypeFailWorkflowExecution, string(a.Cause), true
		}
	case api.EventTypeCancelWorkflowExecutionFailed:
		if a := ev.CancelWorkflowExecutionFailedEventAttributes; a != nil {
			return api.DecisionTypeCancelWorkflowExecution, string(a.Cause), true
		}
	case api.EventTypeContinueAsNewWorkflowExecutionFailed:
		if a := ev.ContinueAsNewWorkflowExecutionFailedEventAttributes; a != nil {
			return api.DecisionTypeContinueAsNewWorkflowExecution, string(a.Cause), true
		}
	case api.EventTypeRecordMarkerFailed:
		if a := ev.RecordMarkerFailedEventAttributes; a != nil {
			return api.DecisionTypeRecordMarker, string(a.Cause), true
		}
	case api.EventTypeStartTimerFailed:
		if a := ev.StartTimerFailedEventAttributes; a != nil {
			return api.DecisionTypeStartTimer, string(a.Cause), true
		}
	case api.EventTypeCancelTimerFailed:
		if a := ev.CancelTimerFailedEventAttributes; a != nil {
			return api.DecisionTypeCancelTimer, string(a.Cause), true
		}
	case api.EventTypeSignalExternalWorkflowExecutionFailed:
		if a := ev.SignalExternalWorkflowExecutionFailedEventAttributes; a != nil && a.InitiatedEventID == 0 {
			return api.DecisionTypeSignalExternalWorkflowExecution, string(a.Cause), true
		}
	case api.EventTypeRequestCancelExternalWorkflowExecutionFailed:
		if a := ev.RequestCancelExternalWorkflowExecutionFailedEventAttributes; a != nil && a.InitiatedEventID == 0 {
			return api.DecisionTypeRequestCancelExternalWorkflowExecution, string(a.Cause), true
		}
	case api.EventTypeStartChildWorkflowExecutionFailed:
		if a := ev.StartChildWorkflowExecutionFailedEventAttributes; a != nil && a.InitiatedEventID == 0 {
			return api.DecisionTypeStartChildWorkflowExecution, string(a.Cause), true
		}
	case api.EventTypeScheduleLambdaFunctionFailed:
		if a := ev.ScheduleLambdaFunctionFailedEventAttributes; a != nil {
			return api.DecisionTypeScheduleLambdaFunction, string(a.Cause), true
		}
	}
	return "", "", false
}

// timeout tells, from an event a commit appended, whether it records a
// timeout, and of what: an activity task, a decision task or a workflow
// execution, and the timeout's type. A child's timeout is counted in the
// child (the parent's ChildWorkflowExecutionTimedOut only reports it).
func timeout(ev *api.HistoryEvent) (kind, typ string, ok bool) {
	switch ev.EventType {
	case api.EventTypeActivityTaskTimedOut:
		if a := ev.ActivityTaskTimedOutEventAttributes; a != nil {
			return "activity", string(a.TimeoutType), true
		}
	case api.EventTypeDecisionTaskTimedOut:
		if a := ev.DecisionTaskTimedOutEventAttributes; a != nil {
			return "decision", string(a.TimeoutType), true
		}
	case api.EventTypeWorkflowExecutionTimedOut:
		if a := ev.WorkflowExecutionTimedOutEventAttributes; a != nil {
			return "workflow", string(a.TimeoutType), true
		}
	case api.EventTypeLambdaFunctionTimedOut:
		if a := ev.LambdaFunctionTimedOutEventAttributes; a != nil {
			return "lambda", string(a.TimeoutType), true
		}
	}
	return "", "", false
}
