package history

import (
	"time"

	"github.com/swfd/swfd/api"
)

// Trouble is a run's recent trouble, as its history tells it: how many
// decision tasks in a row have timed out, and the last decision that
// failed. It changes with the events a step appends and with nothing else,
// so it is as deterministic as the rest of the State.
type Trouble struct {
	// DecisionTimeouts counts the decision tasks that timed out since the
	// last one completed.
	DecisionTimeouts int `json:",omitzero"`
	// LastTimeout is when the last of them timed out.
	LastTimeout time.Time `json:",omitzero"`
	// FailedDecision is the last decision that failed (a *Failed event
	// recorded for a decision: ScheduleActivityTaskFailed, StartTimerFailed,
	// StartChildWorkflowExecutionFailed, …), zero if none has.
	FailedDecision FailedDecision `json:",omitzero"`
}

// FailedDecision is one failed decision: its *Failed event and cause.
type FailedDecision struct {
	EventID   int64         `json:",omitzero"`
	EventType api.EventType `json:",omitzero"`
	Cause     string        `json:",omitzero"`
	Time      time.Time     `json:",omitzero"`
}

// note updates t for an event being appended.
func (t *Trouble) note(ev *api.HistoryEvent) {
	switch ev.EventType {
	case api.EventTypeDecisionTaskTimedOut:
		t.DecisionTimeouts++
		t.LastTimeout = ev.EventTimestamp.Time
		return
	case api.EventTypeDecisionTaskCompleted:
		t.DecisionTimeouts, t.LastTimeout = 0, time.Time{}
		return
	}
	if cause, ok := decisionFailureCause(ev); ok {
		t.FailedDecision = FailedDecision{EventID: ev.EventID, EventType: ev.EventType, Cause: cause, Time: ev.EventTimestamp.Time}
	}
}

// decisionFailureCause returns the cause of an event that records a failed
// decision, and whether ev is one.
func decisionFailureCause(ev *api.HistoryEvent) (string, bool) {
	switch {
	case ev.ScheduleActivityTaskFailedEventAttributes != nil:
		return string(ev.ScheduleActivityTaskFailedEventAttributes.Cause), true
	case ev.RequestCancelActivityTaskFailedEventAttributes != nil:
		return string(ev.RequestCancelActivityTaskFailedEventAttributes.Cause), true
	case ev.StartTimerFailedEventAttributes != nil:
		return string(ev.StartTimerFailedEventAttributes.Cause), true
	case ev.CancelTimerFailedEventAttributes != nil:
		return string(ev.CancelTimerFailedEventAttributes.Cause), true
	case ev.StartChildWorkflowExecutionFailedEventAttributes != nil:
		return string(ev.StartChildWorkflowExecutionFailedEventAttributes.Cause), true
	case ev.SignalExternalWorkflowExecutionFailedEventAttributes != nil:
		return string(ev.SignalExternalWorkflowExecutionFailedEventAttributes.Cause), true
	case ev.RequestCancelExternalWorkflowExecutionFailedEventAttributes != nil:
		return string(ev.RequestCancelExternalWorkflowExecutionFailedEventAttributes.Cause), true
	case ev.CompleteWorkflowExecutionFailedEventAttributes != nil:
		return string(ev.CompleteWorkflowExecutionFailedEventAttributes.Cause), true
	case ev.FailWorkflowExecutionFailedEventAttributes != nil:
		return string(ev.FailWorkflowExecutionFailedEventAttributes.Cause), true
	case ev.CancelWorkflowExecutionFailedEventAttributes != nil:
		return string(ev.CancelWorkflowExecutionFailedEventAttributes.Cause), true
	case ev.ContinueAsNewWorkflowExecutionFailedEventAttributes != nil:
		return string(ev.ContinueAsNewWorkflowExecutionFailedEventAttributes.Cause), true
	case ev.RecordMarkerFailedEventAttributes != nil:
		return string(ev.RecordMarkerFailedEventAttributes.Cause), true
	case ev.ScheduleLambdaFunctionFailedEventAttributes != nil:
		return string(ev.ScheduleLambdaFunctionFailedEventAttributes.Cause), true
	case ev.StartLambdaFunctionFailedEventAttributes != nil:
		return string(ev.StartLambdaFunctionFailedEventAttributes.Cause), true
	}
	return "", false
}
