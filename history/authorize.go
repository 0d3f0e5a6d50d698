package history

import (
	"strconv"

	"github.com/swfd/swfd/api"
)

// authorized asks env.AuthorizeDecision about one decision.
// ScheduleLambdaFunction is governed by the execution's Lambda role, not
// by IAM policy on the decider, and is never asked about.
func (b *batch) authorized(d *api.Decision) bool {
	if b.st.env.AuthorizeDecision == nil || d.DecisionType == api.DecisionTypeScheduleLambdaFunction {
		return true
	}
	return b.st.env.AuthorizeDecision(d, b.decisionKeys(d))
}

// decisionKeys returns a decision's IAM condition keys (the names, versions,
// task lists and tags the decision names, as swf:<key> values). Values the
// decision leaves to the type's registration (the task list) are
// resolved from it, as they count as present; a type that does not exist
// leaves them absent. A member left empty is absent, but an empty tag is
// present with the value "": the new execution keeps it in its tag list.
func (b *batch) decisionKeys(d *api.Decision) map[string]string {
	keys := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			keys[k] = v
		}
	}
	tags := func(list []string) {
		for i, t := range list {
			keys["swf:tagList.member."+strconv.Itoa(i)] = t
		}
	}
	s := b.st.s
	switch d.DecisionType {
	case api.DecisionTypeScheduleActivityTask:
		a := d.ScheduleActivityTaskDecisionAttributes
		if a == nil {
			break
		}
		set("swf:activityType.name", a.ActivityType.Name)
		set("swf:activityType.version", a.ActivityType.Version)
		list := taskListName(a.TaskList)
		if list == "" {
			if _, cfg, found := b.st.activityType(s.Domain, a.ActivityType.Name, a.ActivityType.Version); found {
				list = taskListName(cfg.DefaultTaskList)
			}
		}
		set("swf:taskList.name", list)
	case api.DecisionTypeStartChildWorkflowExecution:
		a := d.StartChildWorkflowExecutionDecisionAttributes
		if a == nil {
			break
		}
		set("swf:workflowType.name", a.WorkflowType.Name)
		set("swf:workflowType.version", a.WorkflowType.Version)
		list := taskListName(a.TaskList)
		if list == "" {
			if _, cfg, found := b.st.workflowType(s.Domain, a.WorkflowType.Name, a.WorkflowType.Version); found {
				list = taskListName(cfg.DefaultTaskList)
			}
		}
		set("swf:taskList.name", list)
		tags(a.TagList)
		// The API reference spells this decision's tag keys swf:tagList.N,
		// the developer guide (as StartWorkflowExecution's reference)
		// swf:tagList.member.N: both are set.
		for i, t := range a.TagList {
			keys["swf:tagList."+strconv.Itoa(i)] = t
		}
	case api.DecisionTypeContinueAsNewWorkflowExecution:
		a := d.ContinueAsNewWorkflowExecutionDecisionAttributes
		if a == nil {
			a = &api.ContinueAsNewWorkflowExecutionDecisionAttributes{}
		}
		version := firstOf(a.WorkflowTypeVersion, s.WorkflowType.Version)
		// The developer guide spells the key swf:workflowTypeVersion, the
		// model's documentation swf:workflowType.version: both are set.
		set("swf:workflowType.version", version)
		set("swf:workflowTypeVersion", version)
		list := taskListName(a.TaskList)
		if list == "" {
			if _, cfg, found := b.st.workflowType(s.Domain, s.WorkflowType.Name, version); found {
				list = taskListName(cfg.DefaultTaskList)
			}
		}
		set("swf:taskList.name", list)
		tags(a.TagList)
	}
	return keys
}

// notPermitted records the *Failed event of a decision that was not
// authorized, with cause OPERATION_NOT_PERMITTED; a decision task follows
// at the end of the batch. Child and external failures carry
// initiatedEventId 0: nothing was initiated.
func (b *batch) notPermitted(d *api.Decision) {
	ev := api.HistoryEvent{}
	switch d.DecisionType {
	case api.DecisionTypeScheduleActivityTask:
		a := d.ScheduleActivityTaskDecisionAttributes
		ev.EventType = api.EventTypeScheduleActivityTaskFailed
		ev.ScheduleActivityTaskFailedEventAttributes = &api.ScheduleActivityTaskFailedEventAttributes{
			ActivityType: a.ActivityType, ActivityID: a.ActivityID,
			Cause: api.ScheduleActivityTaskFailedCauseOperationNotPermitted, DecisionTaskCompletedEventID: b.dtc,
		}
	case api.DecisionTypeRequestCancelActivityTask:
		a := d.RequestCancelActivityTaskDecisionAttributes
		ev.EventType = api.EventTypeRequestCancelActivityTaskFailed
		ev.RequestCancelActivityTaskFailedEventAttributes = &api.RequestCancelActivityTaskFailedEventAttributes{
			ActivityID: a.ActivityID, Cause: api.RequestCancelActivityTaskFailedCauseOperationNotPermitted,
			DecisionTaskCompletedEventID: b.dtc,
		}
	case api.DecisionTypeCompleteWorkflowExecution:
		ev.EventType = api.EventTypeCompleteWorkflowExecutionFailed
		ev.CompleteWorkflowExecutionFailedEventAttributes = &api.CompleteWorkflowExecutionFailedEventAttributes{
			Cause: api.CompleteWorkflowExecutionFailedCauseOperationNotPermitted, DecisionTaskCompletedEventID: b.dtc,
		}
	case api.DecisionTypeFailWorkflowExecution:
		ev.EventType = api.EventTypeFailWorkflowExecutionFailed
		ev.FailWorkflowExecutionFailedEventAttributes = &api.FailWorkflowExecutionFailedEventAttributes{
			Cause: api.FailWorkflowExecutionFailedCauseOperationNotPermitted, DecisionTaskCompletedEventID: b.dtc,
		}
	case api.DecisionTypeCancelWorkflowExecution:
		ev.EventType = api.EventTypeCancelWorkflowExecutionFailed
		ev.CancelWorkflowExecutionFailedEventAttributes = &api.CancelWorkflowExecutionFailedEventAttributes{
			Cause: api.CancelWorkflowExecutionFailedCauseOperationNotPermitted, DecisionTaskCompletedEventID: b.dtc,
		}
	case api.DecisionTypeContinueAsNewWorkflowExecution:
		ev.EventType = api.EventTypeContinueAsNewWorkflowExecutionFailed
		ev.ContinueAsNewWorkflowExecutionFailedEventAttributes = &api.ContinueAsNewWorkflowExecutionFailedEventAttributes{
			Cause: api.ContinueAsNewWorkflowExecutionFailedCauseOperationNotPermitted, DecisionTaskCompletedEventID: b.dtc,
		}
	case api.DecisionTypeRecordMarker:
		a := d.RecordMarkerDecisionAttributes
		ev.EventType = api.EventTypeRecordMarkerFailed
		ev.RecordMarkerFailedEventAttributes = &api.RecordMarkerFailedEventAttributes{
			MarkerName: a.MarkerName, Cause: api.RecordMarkerFailedCauseOperationNotPermitted, DecisionTaskCompletedEventID: b.dtc,
		}
	case api.DecisionTypeStartTimer:
		a := d.StartTimerDecisionAttributes
		ev.EventType = api.EventTypeStartTimerFailed
		ev.StartTimerFailedEventAttributes = &api.StartTimerFailedEventAttributes{
			TimerID: a.TimerID, Cause: api.StartTimerFailedCauseOperationNotPermitted, DecisionTaskCompletedEventID: b.dtc,
		}
	case api.DecisionTypeCancelTimer:
		a := d.CancelTimerDecisionAttributes
		ev.EventType = api.EventTypeCancelTimerFailed
		ev.CancelTimerFailedEventAttributes = &api.CancelTimerFailedEventAttributes{
			TimerID: a.TimerID, Cause: api.CancelTimerFailedCauseOperationNotPermitted, DecisionTaskCompletedEventID: b.dtc,
		}
	case api.DecisionTypeSignalExternalWorkflowExecution:
		a := d.SignalExternalWorkflowExecutionDecisionAttributes
		ev.EventType = api.EventTypeSignalExternalWorkflowExecutionFailed
		ev.SignalExternalWorkflowExecutionFailedEventAttributes = &api.SignalExternalWorkflowExecutionFailedEventAttributes{
			WorkflowID: a.WorkflowID, RunID: a.RunID, Control: a.Control, InitiatedEventID: 0,
			Cause: api.SignalExternalWorkflowExecutionFailedCauseOperationNotPermitted, DecisionTaskCompletedEventID: b.dtc,
		}
	case api.DecisionTypeRequestCancelExternalWorkflowExecution:
		a := d.RequestCancelExternalWorkflowExecutionDecisionAttributes
		ev.EventType = api.EventTypeRequestCancelExternalWorkflowExecutionFailed
		ev.RequestCancelExternalWorkflowExecutionFailedEventAttributes = &api.RequestCancelExternalWorkflowExecutionFailedEventAttributes{
			WorkflowID: a.WorkflowID, RunID: a.RunID, Control: a.Control, InitiatedEventID: 0,
			Cause: api.RequestCancelExternalWorkflowExecutionFailedCauseOperationNotPermitted, DecisionTaskCompletedEventID: b.dtc,
		}
	case api.DecisionTypeStartChildWorkflowExecution:
		a := d.StartChildWorkflowExecutionDecisionAttributes
		ev.EventType = api.EventTypeStartChildWorkflowExecutionFailed
		ev.StartChildWorkflowExecutionFailedEventAttributes = &api.StartChildWorkflowExecutionFailedEventAttributes{
			WorkflowType: a.WorkflowType, WorkflowID: a.WorkflowID, Control: a.Control, InitiatedEventID: 0,
			Cause: api.StartChildWorkflowExecutionFailedCauseOperationNotPermitted, DecisionTaskCompletedEventID: b.dtc,
		}
	default:
		return
	}
	b.fail(ev)
}
