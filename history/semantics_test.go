package history

import (
	"reflect"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// A ContinueAsNewWorkflowExecution decision that leaves its parameters out
// takes them from the workflow type's registration, not from the run it
// continues: a run started with its own task list, timeouts, child policy,
// priority, Lambda role and tags continues with the type's defaults, and
// with no tags and no Lambda role where the type has none.
func TestContinueAsNewDefaultsFromTypeNotRun(t *testing.T) {
	h := newHarness(t)
	p := rootParams()
	p.Config = Config{TaskList: "custom", TaskPriority: "8", ExecutionStartToCloseTimeout: "500", TaskStartToCloseTimeout: "77",
		ChildPolicy: api.ChildPolicyAbandon, LambdaRole: "old-role"}
	p.TagList = []string{"old-tag"}
	h.start(p)
	res := h.pollAndDecide(continueAsNew(nil))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:WorkflowExecutionContinuedAsNew")
	want := api.WorkflowExecutionContinuedAsNewEventAttributes{
		Input: api.String("next"), DecisionTaskCompletedEventID: 4, NewExecutionRunID: "run-1",
		ExecutionStartToCloseTimeout: "3600", TaskList: api.TaskList{Name: "deciders"}, TaskStartToCloseTimeout: "10",
		ChildPolicy: api.ChildPolicyTerminate, WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
	}
	if a := h.event(5).WorkflowExecutionContinuedAsNewEventAttributes; !reflect.DeepEqual(*a, want) {
		t.Fatalf("continued as new\n got %+v\nwant %+v", *a, want)
	}
	wantCfg := Config{TaskList: "deciders", ExecutionStartToCloseTimeout: "3600", TaskStartToCloseTimeout: "10", ChildPolicy: api.ChildPolicyTerminate}
	if res.ContinuedAs == nil || res.ContinuedAs.Config != wantCfg || res.ContinuedAs.TagList != nil || res.ContinuedAs.ContinuedExecutionRunID != "r1" {
		t.Fatalf("new run's parameters %+v", res.ContinuedAs)
	}
	// The new run starts with them, and names the run it continues.
	n := newHarness(t)
	n.start(*res.ContinuedAs)
	a := n.event(1).WorkflowExecutionStartedEventAttributes
	if a.TaskList.Name != "deciders" || a.TaskStartToCloseTimeout != "10" || a.ExecutionStartToCloseTimeout != "3600" ||
		a.ChildPolicy != api.ChildPolicyTerminate || a.TaskPriority != "" || a.LambdaRole != "" || a.TagList != nil ||
		a.ContinuedExecutionRunID != "r1" || api.Value(a.Input) != "next" {
		t.Fatalf("new run started %+v", a)
	}
	if d := n.event(2).DecisionTaskScheduledEventAttributes; d.TaskList.Name != "deciders" || d.StartToCloseTimeout != "10" {
		t.Fatalf("new run's first decision task %+v", d)
	}
}

// Each of an activity's timeouts and its task list is the decision's value
// if it gives one, else the type's default: a decision's NONE overrides a
// type's number (and arms no timer), a decision's number overrides a type's
// NONE.
func TestScheduleActivityDecisionValuesOverrideDefaults(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(
		schedActOf("a", "act", func(a *api.ScheduleActivityTaskDecisionAttributes) {
			a.TaskList = &api.TaskList{Name: "mine"}
			a.ScheduleToStartTimeout, a.HeartbeatTimeout, a.StartToCloseTimeout = "NONE", "NONE", "7"
		}),
		schedActOf("b", "none", func(a *api.ScheduleActivityTaskDecisionAttributes) { a.ScheduleToCloseTimeout = "40" }),
	)
	h.expectEvents(res, "4:DecisionTaskCompleted 5:ActivityTaskScheduled 6:ActivityTaskScheduled")
	a := h.event(5).ActivityTaskScheduledEventAttributes
	if a.TaskList.Name != "mine" || a.ScheduleToStartTimeout != "NONE" || a.HeartbeatTimeout != "NONE" || a.StartToCloseTimeout != "7" ||
		a.ScheduleToCloseTimeout != "300" || a.TaskPriority != "5" {
		t.Fatalf("a scheduled %+v", a)
	}
	b := h.event(6).ActivityTaskScheduledEventAttributes
	if b.TaskList.Name != "acts" || b.ScheduleToCloseTimeout != "40" || b.ScheduleToStartTimeout != "NONE" || b.StartToCloseTimeout != "NONE" || b.HeartbeatTimeout != "NONE" {
		t.Fatalf("b scheduled %+v", b)
	}
	if _, ok := hasTimer(res, "at:5:S2S"); ok {
		t.Fatal("a decision's NONE armed the schedule-to-start timer")
	}
	if tm, ok := hasTimer(res, "at:6:S2C"); !ok || !tm.Due.Equal(t0.Add(40*time.Second)) {
		t.Fatalf("b's schedule-to-close timer %+v", res.AddTimers)
	}
	res = h.must(func(s *State) (Result, error) { return s.StartActivityTask(h.env, 5, api.String("w")) })
	if _, ok := hasTimer(res, "at:5:HB"); ok {
		t.Fatal("a decision's NONE armed the heartbeat timer")
	}
	if tm, ok := hasTimer(res, "at:5:ST2C"); !ok || !tm.Due.Equal(t0.Add(7*time.Second)) {
		t.Fatalf("a's start-to-close timer %+v", res.AddTimers)
	}
}

// ACTIVITY_ID_ALREADY_IN_USE is for an id an open activity holds, the one
// scheduled earlier in the same batch too; an id is free again once its
// activity has closed, however it closed, in the same batch as well.
func TestActivityIDInUseAndReuse(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(schedAct("a"), schedAct("a"), schedAct("b"), cancelAct("b"), schedAct("b"))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:ActivityTaskScheduled 6:ScheduleActivityTaskFailed "+
		"7:ActivityTaskScheduled 8:ActivityTaskCancelRequested 9:ActivityTaskCanceled 10:ActivityTaskScheduled 11:DecisionTaskScheduled")
	if a := h.event(6).ScheduleActivityTaskFailedEventAttributes; a.Cause != api.ScheduleActivityTaskFailedCauseActivityIdAlreadyInUse || a.ActivityID != "a" || a.DecisionTaskCompletedEventID != 4 {
		t.Fatalf("failed %+v", a)
	}
	if h.s.Activities["b"] == nil || h.s.Activities["b"].ScheduledID != 10 {
		t.Fatalf("b is not the activity scheduled again: %+v", h.s.Activities["b"])
	}
	// a fails, b times out: both ids are free for the next batch.
	h.startActivity("a") // 12
	h.must(func(s *State) (Result, error) { return s.FailActivityTask(h.env, 5, 12, nil, nil) })
	h.advance(30 * time.Second)
	h.fire("at:10:S2S") // b's schedule-to-start
	if len(h.s.Activities) != 0 {
		t.Fatalf("activities left %+v", h.s.Activities)
	}
	res = h.pollAndDecide(schedAct("a"), schedAct("b"))
	if got := evTypes(res.Events); got != "16:DecisionTaskCompleted 17:ActivityTaskScheduled 18:ActivityTaskScheduled" {
		t.Fatalf("ids of closed activities not reused: %s", evTypes(res.Events))
	}
}

// RequestCancelActivityTask names an open activity: one that completed, or
// timed out, is ACTIVITY_ID_UNKNOWN, and the failure makes a decision task
// available.
func TestRequestCancelClosedActivity(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedAct("done"), schedAct("late")) // 4 DTC, 5, 6
	st := h.startActivity("done")                       // 7
	h.must(func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, 5, st, nil) })
	h.advance(30 * time.Second)
	h.fire("at:6:S2S") // 10
	res := h.pollAndDecide(cancelAct("done"), cancelAct("late"))
	h.expectEvents(res, "12:DecisionTaskCompleted 13:RequestCancelActivityTaskFailed 14:RequestCancelActivityTaskFailed 15:DecisionTaskScheduled")
	for i, id := range []string{"done", "late"} {
		a := h.event(int64(13 + i)).RequestCancelActivityTaskFailedEventAttributes
		if !equalJSON(*a, api.RequestCancelActivityTaskFailedEventAttributes{ActivityID: id, Cause: api.RequestCancelActivityTaskFailedCauseActivityIdUnknown, DecisionTaskCompletedEventID: 12}) {
			t.Fatalf("failed %+v", a)
		}
	}
	if len(res.AddTasks) != 1 || res.AddTasks[0].Kind != swfd.DecisionTask || res.AddTasks[0].ScheduledEventID != 15 {
		t.Fatalf("tasks %+v", res.AddTasks)
	}
}

// A signal or cancel request to an unknown execution fails asynchronously:
// its *Failed event (cause UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION, naming the
// initiated event and the decision that initiated it) is followed by a
// DecisionTaskScheduled, handed out at once, when no decision task is
// scheduled already.
func TestExternalFailureSchedulesDecisionTask(t *testing.T) {
	for _, signal := range []bool{true, false} {
		h := startDefault(t)
		d := cancelExt("ghost", "gr")
		if signal {
			d = signalExt("ghost", "gr", "ping")
		}
		res := h.pollAndDecide(d)
		if len(res.Events) != 2 || len(res.AddTasks) != 0 || h.s.Decision.ScheduledID != 0 {
			t.Fatalf("initiating scheduled a decision task: %s %+v", evTypes(res.Events), res.AddTasks)
		}
		r := &ExternalResultMsg{InitiatedID: 5, Target: api.WorkflowExecution{WorkflowID: "ghost", RunID: "gr"}, Failed: true}
		m := Message{CancelResult: r}
		if signal {
			m = Message{SignalResult: r}
		}
		res = h.deliver(m)
		if signal {
			h.expectEvents(res, "6:SignalExternalWorkflowExecutionFailed 7:DecisionTaskScheduled")
			if a := h.event(6).SignalExternalWorkflowExecutionFailedEventAttributes; a.Cause != api.SignalExternalWorkflowExecutionFailedCauseUnknownExternalWorkflowExecution ||
				a.InitiatedEventID != 5 || a.DecisionTaskCompletedEventID != 4 || a.WorkflowID != "ghost" || api.Value(a.RunID) != "gr" {
				t.Fatalf("failed %+v", a)
			}
		} else {
			h.expectEvents(res, "6:RequestCancelExternalWorkflowExecutionFailed 7:DecisionTaskScheduled")
			if a := h.event(6).RequestCancelExternalWorkflowExecutionFailedEventAttributes; a.Cause != api.RequestCancelExternalWorkflowExecutionFailedCauseUnknownExternalWorkflowExecution ||
				a.InitiatedEventID != 5 || a.DecisionTaskCompletedEventID != 4 || a.WorkflowID != "ghost" || api.Value(a.RunID) != "gr" {
				t.Fatalf("failed %+v", a)
			}
		}
		if len(res.AddTasks) != 1 || res.AddTasks[0].ScheduledEventID != 7 {
			t.Fatalf("decision task not handed out: %+v", res.AddTasks)
		}
	}
}

// Timers: an id is in use while its timer is open, in the batch that
// started it too, and free once it is canceled (in the same batch) or has
// fired; a canceled timer never fires; TimerCanceled makes no decision task
// available, and CancelTimer of a timer that fired is TIMER_ID_UNKNOWN.
func TestTimerIDsInOneBatch(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(startTimer("t", "5"), cancelTimer("t"), startTimer("t", "8"), startTimer("t", "9"))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:TimerStarted 6:TimerCanceled 7:TimerStarted 8:StartTimerFailed 9:DecisionTaskScheduled")
	if a := h.event(6).TimerCanceledEventAttributes; !equalJSON(*a, api.TimerCanceledEventAttributes{TimerID: "t", StartedEventID: 5, DecisionTaskCompletedEventID: 4}) {
		t.Fatalf("canceled %+v", a)
	}
	if a := h.event(8).StartTimerFailedEventAttributes; a.Cause != api.StartTimerFailedCauseTimerIdAlreadyInUse {
		t.Fatalf("start failed %+v", a)
	}
	if tm, ok := hasTimer(res, "ut:t:7"); !ok || !tm.Due.Equal(t0.Add(8*time.Second)) {
		t.Fatalf("timers %+v", res.AddTimers)
	}
	if _, ok := hasTimer(res, "ut:t:5"); ok {
		t.Fatalf("the canceled timer is armed: %+v", res.AddTimers)
	}
	if res := h.fire("ut:t:5"); !isEmpty(res) {
		t.Fatalf("the canceled timer fired: %+v", res)
	}
	// A CancelTimer alone: TimerCanceled, no decision task.
	res = h.pollAndDecide(cancelTimer("t"), startTimer("u", "0"))
	h.expectEvents(res, "11:DecisionTaskCompleted 12:TimerCanceled 13:TimerStarted")
	if len(res.AddTasks) != 0 || h.s.Decision.ScheduledID != 0 {
		t.Fatalf("TimerCanceled made a decision task available: %+v", res.AddTasks)
	}
	res = h.fire("ut:u:13")
	h.expectEvents(res, "14:TimerFired 15:DecisionTaskScheduled")
	res = h.pollAndDecide(cancelTimer("u"))
	h.expectEvents(res, "17:DecisionTaskCompleted 18:CancelTimerFailed 19:DecisionTaskScheduled")
	if a := h.event(18).CancelTimerFailedEventAttributes; a.Cause != api.CancelTimerFailedCauseTimerIdUnknown || a.TimerID != "u" {
		t.Fatalf("cancel failed %+v", a)
	}
}

// An ActivityTaskTimedOut carries the last heartbeat's details whichever
// timeout ended the task: SCHEDULE_TO_CLOSE too.
func TestScheduleToCloseTimeoutCarriesHeartbeatDetails(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedActOf("a", "act", func(a *api.ScheduleActivityTaskDecisionAttributes) {
		a.StartToCloseTimeout, a.HeartbeatTimeout = "NONE", "NONE"
	}))
	st := h.startActivity("a")
	h.advance(100 * time.Second)
	h.must(func(s *State) (Result, error) {
		_, r, err := s.RecordHeartbeat(h.env, 5, st, api.String("60%"))
		return r, err
	})
	h.advance(200 * time.Second)
	res := h.fire("at:5:S2C")
	h.expectEvents(res, "7:ActivityTaskTimedOut 8:DecisionTaskScheduled")
	if a := h.event(7).ActivityTaskTimedOutEventAttributes; !equalJSON(*a, api.ActivityTaskTimedOutEventAttributes{
		TimeoutType: api.ActivityTaskTimeoutTypeScheduleToClose, ScheduledEventID: 5, StartedEventID: st, Details: api.String("60%")}) {
		t.Fatalf("timed out %+v", a)
	}
}

// A StartChildWorkflowExecution decision's own values win over the child
// type's defaults, each on its own: they are what
// StartChildWorkflowExecutionInitiated records and what the child starts
// with, the defaults filling in only what the decision leaves out.
func TestStartChildDecisionValuesOverrideDefaults(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(startChild("kid", "child", func(a *api.StartChildWorkflowExecutionDecisionAttributes) {
		a.ChildPolicy, a.TaskList, a.TaskStartToCloseTimeout = api.ChildPolicyRequestCancel, &api.TaskList{Name: "kids"}, "NONE"
		a.LambdaRole = "kid-role"
	}))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:StartChildWorkflowExecutionInitiated")
	a := h.event(5).StartChildWorkflowExecutionInitiatedEventAttributes
	if a.ChildPolicy != api.ChildPolicyRequestCancel || a.TaskList.Name != "kids" || a.TaskStartToCloseTimeout != "NONE" ||
		a.ExecutionStartToCloseTimeout != "3600" || a.LambdaRole != "kid-role" {
		t.Fatalf("initiated %+v", a)
	}
	want := Config{TaskList: "kids", ExecutionStartToCloseTimeout: "3600", TaskStartToCloseTimeout: "NONE", ChildPolicy: api.ChildPolicyRequestCancel, LambdaRole: "kid-role"}
	if len(res.Messages) != 1 || res.Messages[0].StartChild == nil || res.Messages[0].StartChild.Start.Config != want {
		t.Fatalf("start message %+v", res.Messages)
	}
	c := startedChild(t, res.Messages[0].StartChild, "kid-run")
	if s := c.event(1).WorkflowExecutionStartedEventAttributes; s.ChildPolicy != api.ChildPolicyRequestCancel || s.TaskList.Name != "kids" ||
		s.TaskStartToCloseTimeout != "NONE" || s.LambdaRole != "kid-role" || s.ParentInitiatedEventID != 5 {
		t.Fatalf("child started %+v", s)
	}
	// Its decision tasks have no START_TO_CLOSE timeout.
	c.pollDecision()
	for _, tm := range c.s.dueBy(c.env.Now.Add(100 * 365 * 24 * time.Hour)) {
		if tm.key != WorkflowTimerKey {
			t.Fatalf("timer %s armed for a decision task of NONE", tm.key)
		}
	}
}
