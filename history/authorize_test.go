package history

import (
	"reflect"
	"testing"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// denyOnly installs an AuthorizeDecision hook that refuses the given
// decision types and records what it was asked.
func denyOnly(h *harness, types ...api.DecisionType) *[]authCall {
	var calls []authCall
	deny := map[api.DecisionType]bool{}
	for _, t := range types {
		deny[t] = true
	}
	h.env.AuthorizeDecision = func(d *api.Decision, keys map[string]string) bool {
		calls = append(calls, authCall{d.DecisionType, keys})
		return !deny[d.DecisionType]
	}
	return &calls
}

type authCall struct {
	typ  api.DecisionType
	keys map[string]string
}

// Every decision type but ScheduleLambdaFunction can be refused; each
// records its *Failed event with OPERATION_NOT_PERMITTED and a decision
// task is scheduled, and the call itself succeeds.
func TestDecisionNotPermitted(t *testing.T) {
	cases := []struct {
		d    api.Decision
		want string
		attr func(e api.HistoryEvent) any
		exp  any
	}{
		{schedAct("a1"), "ScheduleActivityTaskFailed",
			func(e api.HistoryEvent) any { return *e.ScheduleActivityTaskFailedEventAttributes },
			api.ScheduleActivityTaskFailedEventAttributes{ActivityType: api.ActivityType{Name: "act", Version: "1"}, ActivityID: "a1", Cause: "OPERATION_NOT_PERMITTED", DecisionTaskCompletedEventID: 4}},
		{cancelAct("a1"), "RequestCancelActivityTaskFailed",
			func(e api.HistoryEvent) any { return *e.RequestCancelActivityTaskFailedEventAttributes },
			api.RequestCancelActivityTaskFailedEventAttributes{ActivityID: "a1", Cause: "OPERATION_NOT_PERMITTED", DecisionTaskCompletedEventID: 4}},
		{completeWF("r"), "CompleteWorkflowExecutionFailed",
			func(e api.HistoryEvent) any { return *e.CompleteWorkflowExecutionFailedEventAttributes },
			api.CompleteWorkflowExecutionFailedEventAttributes{Cause: "OPERATION_NOT_PERMITTED", DecisionTaskCompletedEventID: 4}},
		{failWF("r", "d"), "FailWorkflowExecutionFailed",
			func(e api.HistoryEvent) any { return *e.FailWorkflowExecutionFailedEventAttributes },
			api.FailWorkflowExecutionFailedEventAttributes{Cause: "OPERATION_NOT_PERMITTED", DecisionTaskCompletedEventID: 4}},
		{cancelWF("d"), "CancelWorkflowExecutionFailed",
			func(e api.HistoryEvent) any { return *e.CancelWorkflowExecutionFailedEventAttributes },
			api.CancelWorkflowExecutionFailedEventAttributes{Cause: "OPERATION_NOT_PERMITTED", DecisionTaskCompletedEventID: 4}},
		{continueAsNew(nil), "ContinueAsNewWorkflowExecutionFailed",
			func(e api.HistoryEvent) any { return *e.ContinueAsNewWorkflowExecutionFailedEventAttributes },
			api.ContinueAsNewWorkflowExecutionFailedEventAttributes{Cause: "OPERATION_NOT_PERMITTED", DecisionTaskCompletedEventID: 4}},
		{marker("m", "x"), "RecordMarkerFailed",
			func(e api.HistoryEvent) any { return *e.RecordMarkerFailedEventAttributes },
			api.RecordMarkerFailedEventAttributes{MarkerName: "m", Cause: "OPERATION_NOT_PERMITTED", DecisionTaskCompletedEventID: 4}},
		{startTimer("t1", "10"), "StartTimerFailed",
			func(e api.HistoryEvent) any { return *e.StartTimerFailedEventAttributes },
			api.StartTimerFailedEventAttributes{TimerID: "t1", Cause: "OPERATION_NOT_PERMITTED", DecisionTaskCompletedEventID: 4}},
		{cancelTimer("t1"), "CancelTimerFailed",
			func(e api.HistoryEvent) any { return *e.CancelTimerFailedEventAttributes },
			api.CancelTimerFailedEventAttributes{TimerID: "t1", Cause: "OPERATION_NOT_PERMITTED", DecisionTaskCompletedEventID: 4}},
		{signalExt("w2", "r2", "sig"), "SignalExternalWorkflowExecutionFailed",
			func(e api.HistoryEvent) any { return *e.SignalExternalWorkflowExecutionFailedEventAttributes },
			api.SignalExternalWorkflowExecutionFailedEventAttributes{WorkflowID: "w2", RunID: api.String("r2"), Control: api.String("sc"), Cause: "OPERATION_NOT_PERMITTED", DecisionTaskCompletedEventID: 4}},
		{cancelExt("w2", ""), "RequestCancelExternalWorkflowExecutionFailed",
			func(e api.HistoryEvent) any { return *e.RequestCancelExternalWorkflowExecutionFailedEventAttributes },
			api.RequestCancelExternalWorkflowExecutionFailedEventAttributes{WorkflowID: "w2", Control: api.String("cc"), Cause: "OPERATION_NOT_PERMITTED", DecisionTaskCompletedEventID: 4}},
		{startChild("c1", "child", nil), "StartChildWorkflowExecutionFailed",
			func(e api.HistoryEvent) any { return *e.StartChildWorkflowExecutionFailedEventAttributes },
			api.StartChildWorkflowExecutionFailedEventAttributes{WorkflowType: api.WorkflowType{Name: "child", Version: "1"}, WorkflowID: "c1", Control: api.String("ctl"), Cause: "OPERATION_NOT_PERMITTED", DecisionTaskCompletedEventID: 4}},
	}
	for _, c := range cases {
		t.Run(string(c.d.DecisionType), func(t *testing.T) {
			h := startDefault(t)
			calls := denyOnly(h, c.d.DecisionType)
			res := h.pollAndDecide(c.d)
			h.expectEvents(res, "4:DecisionTaskCompleted 5:"+c.want+" 6:DecisionTaskScheduled")
			if got := c.attr(h.event(5)); !reflect.DeepEqual(got, c.exp) {
				t.Fatalf("attributes\n got %+v\nwant %+v", got, c.exp)
			}
			if !h.s.Open || len(res.AddTasks) != 1 || res.AddTasks[0].Kind != swfd.DecisionTask {
				t.Fatalf("open %v tasks %+v", h.s.Open, res.AddTasks)
			}
			if len(res.Messages) != 0 || res.ContinuedAs != nil || len(res.AddTimers) != 0 {
				t.Fatalf("denied decision had effects: messages %d continued %v timers %v", len(res.Messages), res.ContinuedAs != nil, res.AddTimers)
			}
			if len(*calls) != 1 || (*calls)[0].typ != c.d.DecisionType {
				t.Fatalf("calls %+v", *calls)
			}
		})
	}
}

// A refused decision does not stop the others of the batch: they apply in
// order, and a later closing decision still closes the run.
func TestDecisionNotPermittedOthersApply(t *testing.T) {
	h := startDefault(t)
	denyOnly(h, api.DecisionTypeRequestCancelExternalWorkflowExecution)
	res := h.pollAndDecide(schedAct("a1"), cancelExt("w2", ""), startTimer("t1", "10"), marker("m", ""))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:ActivityTaskScheduled 6:RequestCancelExternalWorkflowExecutionFailed 7:TimerStarted 8:MarkerRecorded 9:DecisionTaskScheduled")
	if len(res.Messages) != 0 {
		t.Fatalf("a cancel request went out: %+v", res.Messages)
	}
	res = h.pollAndDecide(cancelExt("w3", ""), completeWF("done"))
	h.expectEvents(res, "11:DecisionTaskCompleted 12:RequestCancelExternalWorkflowExecutionFailed 13:WorkflowExecutionCompleted")
	if !res.Closed {
		t.Fatal("not closed")
	}
}

// ScheduleLambdaFunction is never asked about (it is governed by the
// execution's Lambda role), and a nil hook allows everything.
func TestDecisionAuthorizationLambdaAndNil(t *testing.T) {
	h := startDefault(t)
	calls := denyOnly(h, api.DecisionTypeScheduleLambdaFunction)
	res := h.pollAndDecide(lambda("l1"))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:ScheduleLambdaFunctionFailed 6:DecisionTaskScheduled")
	if c := h.event(5).ScheduleLambdaFunctionFailedEventAttributes.Cause; c != api.ScheduleLambdaFunctionFailedCauseLambdaServiceNotAvailableInRegion {
		t.Fatalf("cause %s", c)
	}
	if len(*calls) != 0 {
		t.Fatalf("asked about lambda: %+v", *calls)
	}
	h.env.AuthorizeDecision = nil
	res = h.pollAndDecide(completeWF("x"))
	h.expectEvents(res, "8:DecisionTaskCompleted 9:WorkflowExecutionCompleted")
}

// A denial is decided before UNHANDLED_DECISION: the cause is
// OPERATION_NOT_PERMITTED even when a decision task is pending.
func TestDecisionNotPermittedBeforeUnhandled(t *testing.T) {
	h := startDefault(t)
	denyOnly(h, api.DecisionTypeCompleteWorkflowExecution)
	started := h.pollDecision()
	h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", api.String("")) })
	res := h.decide(started, completeWF("x"))
	h.expectEvents(res, "6:DecisionTaskCompleted 7:CompleteWorkflowExecutionFailed")
	if c := h.event(7).CompleteWorkflowExecutionFailedEventAttributes.Cause; c != api.CompleteWorkflowExecutionFailedCauseOperationNotPermitted {
		t.Fatalf("cause %s", c)
	}
	if h.s.Decision.ScheduledID != 5 {
		t.Fatalf("pending task %d", h.s.Decision.ScheduledID)
	}
}

// The hook gets each decision's condition keys, with task lists resolved
// from the type's registration when the decision leaves them out.
func TestDecisionAuthorizationKeys(t *testing.T) {
	cases := []struct {
		name string
		d    api.Decision
		want map[string]string
	}{
		{"activity default list", schedAct("a1"), map[string]string{
			"swf:activityType.name": "act", "swf:activityType.version": "1", "swf:taskList.name": "acts"}},
		{"activity own list", schedActOf("a1", "act", func(a *api.ScheduleActivityTaskDecisionAttributes) { a.TaskList = &api.TaskList{Name: "mine"} }), map[string]string{
			"swf:activityType.name": "act", "swf:activityType.version": "1", "swf:taskList.name": "mine"}},
		{"activity of unknown type", schedActOf("a1", "nope", nil), map[string]string{
			"swf:activityType.name": "nope", "swf:activityType.version": "1"}},
		{"child", startChild("c1", "child", func(a *api.StartChildWorkflowExecutionDecisionAttributes) { a.TagList = []string{"x", "y"} }), map[string]string{
			"swf:workflowType.name": "child", "swf:workflowType.version": "1", "swf:taskList.name": "deciders",
			"swf:tagList.member.0": "x", "swf:tagList.member.1": "y", "swf:tagList.0": "x", "swf:tagList.1": "y"}},
		{"child with an empty tag (a tag the child keeps)", startChild("c1", "child", func(a *api.StartChildWorkflowExecutionDecisionAttributes) { a.TagList = []string{"", "y"} }), map[string]string{
			"swf:workflowType.name": "child", "swf:workflowType.version": "1", "swf:taskList.name": "deciders",
			"swf:tagList.member.0": "", "swf:tagList.member.1": "y", "swf:tagList.0": "", "swf:tagList.1": "y"}},
		{"child own list", startChild("c1", "child", func(a *api.StartChildWorkflowExecutionDecisionAttributes) { a.TaskList = &api.TaskList{Name: "kids"} }), map[string]string{
			"swf:workflowType.name": "child", "swf:workflowType.version": "1", "swf:taskList.name": "kids"}},
		{"continue as new", continueAsNew(func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) {
			a.WorkflowTypeVersion = "2"
			a.TagList = []string{"t"}
		}), map[string]string{
			"swf:workflowType.version": "2", "swf:workflowTypeVersion": "2", "swf:taskList.name": "deciders-v2", "swf:tagList.member.0": "t"}},
		{"continue as new, same version", continueAsNew(nil), map[string]string{
			"swf:workflowType.version": "1", "swf:workflowTypeVersion": "1", "swf:taskList.name": "deciders"}},
		{"timer", startTimer("t", "5"), map[string]string{}},
		{"signal", signalExt("w", "", "s"), map[string]string{}},
		{"cancel external", cancelExt("w", ""), map[string]string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := startDefault(t)
			calls := denyOnly(h)
			h.pollAndDecide(c.d)
			if len(*calls) != 1 || !reflect.DeepEqual((*calls)[0].keys, c.want) {
				t.Fatalf("calls %+v, want keys %v", *calls, c.want)
			}
		})
	}
}
