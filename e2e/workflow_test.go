package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/matching"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/service"
)

// Canonical sequence A: one activity, happy path.
func TestWorkflowOneActivity(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	runID := h.start("order-1", func(in *swf.StartWorkflowExecutionInput) { in.TagList = []string{"blue", "vip"} })

	d := h.mustDecision("deciders")
	if d.StartedEventId != 3 || d.PreviousStartedEventId != 0 || *d.WorkflowExecution.RunId != runID || *d.WorkflowType.Name != "order" {
		t.Fatalf("first decision task: started %d prev %d exec %+v", d.StartedEventId, d.PreviousStartedEventId, d.WorkflowExecution)
	}
	if got := eventTypes(d.Events); !reflect.DeepEqual(got, []string{"WorkflowExecutionStarted", "DecisionTaskScheduled", "DecisionTaskStarted"}) {
		t.Fatalf("first task events: %v", got)
	}
	started := d.Events[0].WorkflowExecutionStartedEventAttributes
	if *started.Input != "in-order-1" || *started.TaskList.Name != "deciders" || *started.ExecutionStartToCloseTimeout != "3600" || started.ChildPolicy != types.ChildPolicyTerminate || !reflect.DeepEqual(started.TagList, []string{"blue", "vip"}) {
		t.Fatalf("WorkflowExecutionStarted attributes: %+v", started)
	}
	if id := d.Events[2].DecisionTaskStartedEventAttributes.Identity; id == nil || *id != "decider-1" {
		t.Fatalf("identity not recorded: %v", id)
	}
	h.decide(d.TaskToken, scheduleActivity("a1", "pay 10"))

	a := h.mustActivity("workers")
	if *a.ActivityId != "a1" || *a.Input != "pay 10" || a.StartedEventId != 6 || *a.ActivityType.Name != "charge" {
		t.Fatalf("activity task: %+v", a)
	}
	if _, err := h.c.RespondActivityTaskCompleted(h.ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken, Result: aws.String("paid")}); err != nil {
		t.Fatal(err)
	}
	// A token is good once.
	_, err := h.c.RespondActivityTaskCompleted(h.ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken})
	wantCode(t, err, "UnknownResourceFault")

	d = h.mustDecision("deciders")
	if d.StartedEventId != 9 || d.PreviousStartedEventId != 3 {
		t.Fatalf("second decision task: started %d prev %d", d.StartedEventId, d.PreviousStartedEventId)
	}
	h.decide(d.TaskToken, completeWorkflow("done"))
	_, err = h.c.RespondDecisionTaskCompleted(h.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken})
	wantCode(t, err, "UnknownResourceFault")

	evs := h.history("order-1", runID)
	want := []string{"WorkflowExecutionStarted", "DecisionTaskScheduled", "DecisionTaskStarted", "DecisionTaskCompleted",
		"ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted", "DecisionTaskScheduled", "DecisionTaskStarted",
		"DecisionTaskCompleted", "WorkflowExecutionCompleted"}
	if got := eventTypes(evs); !reflect.DeepEqual(got, want) {
		t.Fatalf("history:\n got %v\nwant %v", got, want)
	}
	sched := evs[4].ActivityTaskScheduledEventAttributes
	if *sched.TaskList.Name != "workers" || *sched.StartToCloseTimeout != "NONE" || sched.DecisionTaskCompletedEventId != 4 {
		t.Fatalf("resolved ActivityTaskScheduled: %+v", sched)
	}
	if c := evs[6].ActivityTaskCompletedEventAttributes; *c.Result != "paid" || c.ScheduledEventId != 5 || c.StartedEventId != 6 {
		t.Fatalf("ActivityTaskCompleted: %+v", c)
	}
	desc := h.describe("order-1", runID)
	if desc.ExecutionInfo.ExecutionStatus != types.ExecutionStatusClosed || desc.ExecutionInfo.CloseStatus != types.CloseStatusCompleted || desc.ExecutionInfo.CloseTimestamp == nil {
		t.Fatalf("describe after completion: %+v", desc.ExecutionInfo)
	}
	if desc.OpenCounts.OpenDecisionTasks != 0 || desc.OpenCounts.OpenActivityTasks != 0 {
		t.Fatalf("open counts: %+v", desc.OpenCounts)
	}
	// The workflowId may be reused once the run is closed.
	if h.start("order-1") == runID {
		t.Fatal("new run got the old run id")
	}
}

func TestEmptyPollsOmitToken(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{PollTimeout: 100 * time.Millisecond})
	d := h.pollDecision("nobody-home")
	if d.TaskToken != nil || d.StartedEventId != 0 || len(d.Events) != 0 {
		t.Fatalf("empty decision poll: %+v", d)
	}
	a, err := h.c.PollForActivityTask(h.ctx, &swf.PollForActivityTaskInput{Domain: aws.String(h.domain), TaskList: &types.TaskList{Name: aws.String("nobody")}})
	if err != nil || a.TaskToken != nil {
		t.Fatalf("empty activity poll: %+v %v", a, err)
	}
}

func TestStartFaults(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	h.start("dup")
	_, err := h.c.StartWorkflowExecution(h.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("dup"), WorkflowType: h.wfType})
	wantCode(t, err, "WorkflowExecutionAlreadyStartedFault")
	_, err = h.c.StartWorkflowExecution(h.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("x"), WorkflowType: &types.WorkflowType{Name: aws.String("nope"), Version: aws.String("1")}})
	wantCode(t, err, "UnknownResourceFault")
	_, err = h.c.StartWorkflowExecution(h.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("no-domain"), WorkflowId: aws.String("x"), WorkflowType: h.wfType})
	wantCode(t, err, "UnknownResourceFault")
	// A type without defaults needs every value in the call.
	h.must(h.c.RegisterWorkflowType(h.ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String(h.domain), Name: aws.String("bare"), Version: aws.String("1")}))
	_, err = h.c.StartWorkflowExecution(h.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("x"), WorkflowType: &types.WorkflowType{Name: aws.String("bare"), Version: aws.String("1")}})
	wantCode(t, err, "DefaultUndefinedFault")
	h.must(h.c.DeprecateWorkflowType(h.ctx, &swf.DeprecateWorkflowTypeInput{Domain: aws.String(h.domain), WorkflowType: h.wfType}))
	_, err = h.c.StartWorkflowExecution(h.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("y"), WorkflowType: h.wfType})
	wantCode(t, err, "TypeDeprecatedFault")
	_, err = h.c.StartWorkflowExecution(h.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("a:b"), WorkflowType: h.wfType})
	wantCode(t, err, "ValidationException")
}

func TestSignalAndMarkerAndTimerCancel(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	runID := h.start("sig")
	d := h.mustDecision("deciders")
	h.decide(d.TaskToken,
		types.Decision{DecisionType: types.DecisionTypeRecordMarker, RecordMarkerDecisionAttributes: &types.RecordMarkerDecisionAttributes{MarkerName: aws.String("m"), Details: aws.String("x")}},
		types.Decision{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{TimerId: aws.String("t1"), StartToFireTimeout: aws.String("3600")}},
	)
	if _, err := h.c.SignalWorkflowExecution(h.ctx, &swf.SignalWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("sig"), SignalName: aws.String("go"), Input: aws.String("now")}); err != nil {
		t.Fatal(err)
	}
	d = h.mustDecision("deciders")
	if desc := h.describe("sig", runID); desc.OpenCounts.OpenTimers != 1 {
		t.Fatalf("open timers = %d", desc.OpenCounts.OpenTimers)
	}
	h.decide(d.TaskToken, types.Decision{DecisionType: types.DecisionTypeCancelTimer, CancelTimerDecisionAttributes: &types.CancelTimerDecisionAttributes{TimerId: aws.String("t1")}})
	evs := h.history("sig", runID)
	want := []string{"WorkflowExecutionStarted", "DecisionTaskScheduled", "DecisionTaskStarted", "DecisionTaskCompleted",
		"MarkerRecorded", "TimerStarted", "WorkflowExecutionSignaled", "DecisionTaskScheduled", "DecisionTaskStarted", "DecisionTaskCompleted", "TimerCanceled"}
	if got := eventTypes(evs); !reflect.DeepEqual(got, want) {
		t.Fatalf("history:\n got %v\nwant %v", got, want)
	}
	if s := evs[6].WorkflowExecutionSignaledEventAttributes; *s.SignalName != "go" || *s.Input != "now" {
		t.Fatalf("signal: %+v", s)
	}
	if c := evs[10].TimerCanceledEventAttributes; *c.TimerId != "t1" || c.StartedEventId != 6 {
		t.Fatalf("timer canceled: %+v", c)
	}
	if desc := h.describe("sig", runID); desc.OpenCounts.OpenTimers != 0 {
		t.Fatalf("open timers after cancel = %d", desc.OpenCounts.OpenTimers)
	}
}

func TestRequestCancelWorkflowExecution(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	cancel := func(wid, rid string) error {
		in := &swf.RequestCancelWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String(wid)}
		if rid != "" {
			in.RunId = aws.String(rid)
		}
		_, err := h.c.RequestCancelWorkflowExecution(h.ctx, in)
		return err
	}
	runID := h.start("c1")

	t.Run("unknown targets record nothing", func(t *testing.T) {
		wantCode(t, cancel("nope", ""), "UnknownResourceFault")
		wantCode(t, cancel("c1", "22notarun"), "UnknownResourceFault")
		_, err := h.c.RequestCancelWorkflowExecution(h.ctx, &swf.RequestCancelWorkflowExecutionInput{Domain: aws.String("nodomain"), WorkflowId: aws.String("c1")})
		wantCode(t, err, "UnknownResourceFault")
		if n := len(h.history("c1", runID)); n != 2 {
			t.Fatalf("history grew to %d events", n)
		}
	})

	t.Run("scheduled task is not duplicated", func(t *testing.T) {
		if err := cancel("c1", ""); err != nil { // no runId: the open run
			t.Fatal(err)
		}
		got := eventTypes(h.history("c1", runID))
		want := []string{"WorkflowExecutionStarted", "DecisionTaskScheduled", "WorkflowExecutionCancelRequested"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("history %v, want %v", got, want)
		}
		desc := h.describe("c1", runID)
		if !desc.ExecutionInfo.CancelRequested || desc.ExecutionInfo.ExecutionStatus != types.ExecutionStatusOpen {
			t.Fatalf("describe: %+v", desc.ExecutionInfo)
		}
		attrs := h.history("c1", runID)[2].WorkflowExecutionCancelRequestedEventAttributes
		if attrs.ExternalWorkflowExecution != nil || attrs.Cause != "" || attrs.ExternalInitiatedEventId != 0 {
			t.Fatalf("API cancel request has external fields: %+v", attrs)
		}
	})

	t.Run("started task does not prevent a new one; closing decision fails UNHANDLED_DECISION", func(t *testing.T) {
		d := h.mustDecision("deciders")
		if err := cancel("c1", runID); err != nil {
			t.Fatal(err)
		}
		h.decide(d.TaskToken, types.Decision{DecisionType: types.DecisionTypeCancelWorkflowExecution, CancelWorkflowExecutionDecisionAttributes: &types.CancelWorkflowExecutionDecisionAttributes{Details: aws.String("bye")}})
		evs := h.history("c1", runID)
		got := eventTypes(evs)
		want := []string{"WorkflowExecutionStarted", "DecisionTaskScheduled", "WorkflowExecutionCancelRequested", "DecisionTaskStarted",
			"WorkflowExecutionCancelRequested", "DecisionTaskScheduled", "DecisionTaskCompleted", "CancelWorkflowExecutionFailed"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("history\n got %v\nwant %v", got, want)
		}
		if c := evs[7].CancelWorkflowExecutionFailedEventAttributes.Cause; c != types.CancelWorkflowExecutionFailedCauseUnhandledDecision {
			t.Fatalf("cause %s", c)
		}
		// The pending task is handed out next; cancel now succeeds.
		d = h.mustDecision("deciders")
		if d.PreviousStartedEventId != 4 {
			t.Fatalf("previousStartedEventId = %d, want 4", d.PreviousStartedEventId)
		}
		h.decide(d.TaskToken, types.Decision{DecisionType: types.DecisionTypeCancelWorkflowExecution, CancelWorkflowExecutionDecisionAttributes: &types.CancelWorkflowExecutionDecisionAttributes{Details: aws.String("bye")}})
		desc := h.describe("c1", runID)
		if desc.ExecutionInfo.CloseStatus != types.CloseStatusCanceled {
			t.Fatalf("close status %s", desc.ExecutionInfo.CloseStatus)
		}
	})

	t.Run("closed run", func(t *testing.T) {
		wantCode(t, cancel("c1", runID), "UnknownResourceFault")
		wantCode(t, cancel("c1", ""), "UnknownResourceFault")
	})
}

func TestActivityCancelAndHeartbeat(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	runID := h.start("hb")
	d := h.mustDecision("deciders")
	h.decide(d.TaskToken, scheduleActivity("a1", ""))
	a := h.mustActivity("workers")
	st, err := h.c.RecordActivityTaskHeartbeat(h.ctx, &swf.RecordActivityTaskHeartbeatInput{TaskToken: a.TaskToken, Details: aws.String("50%")})
	if err != nil || st.CancelRequested {
		t.Fatalf("heartbeat: %+v %v", st, err)
	}
	if _, err := h.c.SignalWorkflowExecution(h.ctx, &swf.SignalWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("hb"), SignalName: aws.String("stop")}); err != nil {
		t.Fatal(err)
	}
	d = h.mustDecision("deciders")
	h.decide(d.TaskToken, types.Decision{DecisionType: types.DecisionTypeRequestCancelActivityTask, RequestCancelActivityTaskDecisionAttributes: &types.RequestCancelActivityTaskDecisionAttributes{ActivityId: aws.String("a1")}})
	st, err = h.c.RecordActivityTaskHeartbeat(h.ctx, &swf.RecordActivityTaskHeartbeatInput{TaskToken: a.TaskToken})
	if err != nil || !st.CancelRequested {
		t.Fatalf("heartbeat after cancel request: %+v %v", st, err)
	}
	if _, err := h.c.RespondActivityTaskCanceled(h.ctx, &swf.RespondActivityTaskCanceledInput{TaskToken: a.TaskToken, Details: aws.String("stopped")}); err != nil {
		t.Fatal(err)
	}
	evs := h.history("hb", runID)
	last := evs[len(evs)-2]
	if last.EventType != types.EventTypeActivityTaskCanceled || *last.ActivityTaskCanceledEventAttributes.Details != "stopped" || last.ActivityTaskCanceledEventAttributes.LatestCancelRequestedEventId == 0 {
		t.Fatalf("expected ActivityTaskCanceled then DTS, got %v", eventTypes(evs))
	}
	if evs[len(evs)-1].EventType != types.EventTypeDecisionTaskScheduled {
		t.Fatalf("no decision task after cancel: %v", eventTypes(evs))
	}
}

func TestChildWorkflowAndTerminatePolicy(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	parentRun := h.start("parent")
	d := h.mustDecision("deciders")
	h.decide(d.TaskToken, types.Decision{DecisionType: types.DecisionTypeStartChildWorkflowExecution, StartChildWorkflowExecutionDecisionAttributes: &types.StartChildWorkflowExecutionDecisionAttributes{
		WorkflowId: aws.String("child"), WorkflowType: h.wfType, Input: aws.String("kid"), TaskList: &types.TaskList{Name: aws.String("child-deciders")}}})

	// The child starts and its decider sees the parent.
	c := h.mustDecision("child-deciders")
	cs := c.Events[0].WorkflowExecutionStartedEventAttributes
	if *c.WorkflowExecution.WorkflowId != "child" || cs.ParentWorkflowExecution == nil || *cs.ParentWorkflowExecution.RunId != parentRun || cs.ParentInitiatedEventId != 5 {
		t.Fatalf("child start: %+v", cs)
	}
	childRun := *c.WorkflowExecution.RunId
	// The parent is told the child started.
	d = h.mustDecision("deciders")
	if got := eventTypes(d.Events); got[len(got)-3] != "ChildWorkflowExecutionStarted" {
		t.Fatalf("parent events: %v", got)
	}
	h.decide(d.TaskToken)
	h.decide(c.TaskToken, completeWorkflow("kid-done"))
	d = h.mustDecision("deciders")
	var completed *types.ChildWorkflowExecutionCompletedEventAttributes
	for _, e := range d.Events {
		if e.ChildWorkflowExecutionCompletedEventAttributes != nil {
			completed = e.ChildWorkflowExecutionCompletedEventAttributes
		}
	}
	if completed == nil || *completed.Result != "kid-done" || completed.InitiatedEventId != 5 || *completed.WorkflowExecution.RunId != childRun {
		t.Fatalf("ChildWorkflowExecutionCompleted: %+v", completed)
	}
	list, err := h.c.ListClosedWorkflowExecutions(h.ctx, &swf.ListClosedWorkflowExecutionsInput{Domain: aws.String(h.domain), StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}, ExecutionFilter: &types.WorkflowExecutionFilter{WorkflowId: aws.String("child")}})
	if err != nil || len(list.ExecutionInfos) != 1 || list.ExecutionInfos[0].Parent == nil || *list.ExecutionInfos[0].Parent.RunId != parentRun {
		t.Fatalf("closed child listing: %+v %v", list, err)
	}

	// A second child, then terminate the parent: policy TERMINATE closes it.
	h.decide(d.TaskToken, types.Decision{DecisionType: types.DecisionTypeStartChildWorkflowExecution, StartChildWorkflowExecutionDecisionAttributes: &types.StartChildWorkflowExecutionDecisionAttributes{
		WorkflowId: aws.String("child2"), WorkflowType: h.wfType, TaskList: &types.TaskList{Name: aws.String("child-deciders")}}})
	c2 := h.mustDecision("child-deciders")
	child2Run := *c2.WorkflowExecution.RunId
	if _, err := h.c.TerminateWorkflowExecution(h.ctx, &swf.TerminateWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("parent"), Reason: aws.String("enough")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "child2 terminated", func() bool {
		return h.describe("child2", child2Run).ExecutionInfo.CloseStatus == types.CloseStatusTerminated
	})
	evs := h.history("child2", child2Run)
	term := evs[len(evs)-1].WorkflowExecutionTerminatedEventAttributes
	if term == nil || term.Cause != types.WorkflowExecutionTerminatedCauseChildPolicyApplied {
		t.Fatalf("child2 last event: %+v", evs[len(evs)-1])
	}
	if h.describe("parent", parentRun).ExecutionInfo.CloseStatus != types.CloseStatusTerminated {
		t.Fatal("parent not terminated")
	}
}

// StartChildWorkflowExecution whose workflowId an open run holds — another
// workflow's, the parent's own, or a child started by an earlier decision
// of the same batch — is recorded as initiated, then fails with
// WORKFLOW_ALREADY_RUNNING: StartChildWorkflowExecutionFailed names the
// initiated event, the decision's DecisionTaskCompleted and control, and a
// decision task follows. A workflowId whose run has closed is free.
func TestStartChildWorkflowAlreadyRunning(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	h.start("busy")
	closedRun := h.start("was-busy")
	if _, err := h.c.TerminateWorkflowExecution(h.ctx, &swf.TerminateWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("was-busy")}); err != nil {
		t.Fatal(err)
	}
	parentRun := h.start("parent", func(in *swf.StartWorkflowExecutionInput) {
		in.TaskList = &types.TaskList{Name: aws.String("parent-list")}
	})
	child := func(id string) types.Decision {
		return types.Decision{DecisionType: types.DecisionTypeStartChildWorkflowExecution, StartChildWorkflowExecutionDecisionAttributes: &types.StartChildWorkflowExecutionDecisionAttributes{
			WorkflowId: aws.String(id), WorkflowType: h.wfType, Control: aws.String("ctl-" + id), TaskList: &types.TaskList{Name: aws.String("children")}}}
	}
	d := h.mustDecision("parent-list")
	h.decide(d.TaskToken, child("busy"), child("parent"), child("twin"), child("twin"), child("was-busy"))
	// Events 4 DecisionTaskCompleted, 5..9 StartChildWorkflowExecutionInitiated.
	failed := map[int64]*types.StartChildWorkflowExecutionFailedEventAttributes{}
	waitFor(t, "the parent hears of all five children", func() bool {
		n := 0
		clear(failed)
		for _, e := range h.history("parent", parentRun) {
			if a := e.StartChildWorkflowExecutionFailedEventAttributes; a != nil {
				failed[a.InitiatedEventId] = a
				n++
			}
			if e.ChildWorkflowExecutionStartedEventAttributes != nil {
				n++
			}
		}
		return n == 5
	})
	for ini, id := range map[int64]string{5: "busy", 6: "parent", 8: "twin"} {
		a := failed[ini]
		if a == nil || a.Cause != types.StartChildWorkflowExecutionFailedCauseWorkflowAlreadyRunning || aws.ToString(a.WorkflowId) != id ||
			a.DecisionTaskCompletedEventId != 4 || aws.ToString(a.Control) != "ctl-"+id || aws.ToString(a.WorkflowType.Name) != "order" {
			t.Fatalf("child %s (initiated %d): failed %+v", id, ini, a)
		}
	}
	if len(failed) != 3 {
		t.Fatalf("failures %+v, want those of busy, parent and the second twin", failed)
	}
	evs := h.history("parent", parentRun)
	for _, e := range evs[9:] {
		if a := e.ChildWorkflowExecutionStartedEventAttributes; a != nil && a.InitiatedEventId != 7 && a.InitiatedEventId != 9 {
			t.Fatalf("started %+v, want the first twin (7) and was-busy (9)", a)
		}
	}
	if h.describe("parent", parentRun).ExecutionInfo.ExecutionStatus != types.ExecutionStatusOpen {
		t.Fatal("parent closed")
	}
	if h.describe("was-busy", closedRun).ExecutionInfo.CloseStatus != types.CloseStatusTerminated {
		t.Fatal("the closed run of was-busy changed")
	}
	// The failures (and the starts) ask the parent's decider to decide
	// again: the first of them schedules a decision task, the others join
	// it.
	d = h.mustDecision("parent-list")
	got := eventTypes(d.Events)
	if len(got) != 16 || got[15] != "DecisionTaskStarted" || got[10] != "DecisionTaskScheduled" {
		t.Fatalf("parent's next decision task: %v", got)
	}
}

// A child that continued as new is still its parent's child: the parent's
// child policy reaches the open run of its chain. Here the child continues
// as new twice and the parent is terminated: the child's third run is
// terminated (TERMINATE), or asked to cancel (REQUEST_CANCEL), with cause
// CHILD_POLICY_APPLIED.
func TestChildPolicyAfterContinueAsNew(t *testing.T) {
	for _, policy := range []types.ChildPolicy{types.ChildPolicyTerminate, types.ChildPolicyRequestCancel} {
		t.Run(string(policy), func(t *testing.T) {
			h := newWFHarness(t, swfdtest.Options{})
			parentRun := h.start("parent", func(in *swf.StartWorkflowExecutionInput) { in.ChildPolicy = policy })
			d := h.mustDecision("deciders")
			h.decide(d.TaskToken, types.Decision{DecisionType: types.DecisionTypeStartChildWorkflowExecution, StartChildWorkflowExecutionDecisionAttributes: &types.StartChildWorkflowExecutionDecisionAttributes{
				WorkflowId: aws.String("child"), WorkflowType: h.wfType, TaskList: &types.TaskList{Name: aws.String("child-deciders")}}})
			for range 2 {
				c := h.mustDecision("child-deciders")
				h.decide(c.TaskToken, types.Decision{DecisionType: types.DecisionTypeContinueAsNewWorkflowExecution, ContinueAsNewWorkflowExecutionDecisionAttributes: &types.ContinueAsNewWorkflowExecutionDecisionAttributes{
					TaskList: &types.TaskList{Name: aws.String("child-deciders")}}})
			}
			c := h.mustDecision("child-deciders")
			run := *c.WorkflowExecution.RunId
			st := c.Events[0].WorkflowExecutionStartedEventAttributes
			if st == nil || st.ContinuedExecutionRunId == nil || st.ParentWorkflowExecution == nil || *st.ParentWorkflowExecution.RunId != parentRun {
				t.Fatalf("the child's third run did not start as the parent's continued child: %+v", st)
			}
			h.decide(c.TaskToken)
			waitFor(t, "the parent to count its child open", func() bool {
				return h.describe("parent", parentRun).OpenCounts.OpenChildWorkflowExecutions == 1
			})
			h.must(h.c.TerminateWorkflowExecution(h.ctx, &swf.TerminateWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("parent")}))
			switch policy {
			case types.ChildPolicyTerminate:
				waitFor(t, "the child's open run terminated", func() bool {
					return h.describe("child", run).ExecutionInfo.CloseStatus == types.CloseStatusTerminated
				})
				evs := h.history("child", run)
				if a := evs[len(evs)-1].WorkflowExecutionTerminatedEventAttributes; a == nil || a.Cause != types.WorkflowExecutionTerminatedCauseChildPolicyApplied {
					t.Fatalf("child's last event: %+v", evs[len(evs)-1])
				}
			case types.ChildPolicyRequestCancel:
				waitFor(t, "the child's open run asked to cancel", func() bool {
					return h.describe("child", run).ExecutionInfo.CancelRequested
				})
				var cause types.WorkflowExecutionCancelRequestedCause
				for _, e := range h.history("child", run) {
					if a := e.WorkflowExecutionCancelRequestedEventAttributes; a != nil {
						cause = a.Cause
					}
				}
				if cause != types.WorkflowExecutionCancelRequestedCauseChildPolicyApplied {
					t.Fatalf("cancel requested with cause %q", cause)
				}
			}
		})
	}
}

func TestRequestCancelExternalAndSignalExternal(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	targetRun := h.start("target", func(in *swf.StartWorkflowExecutionInput) {
		in.TaskList = &types.TaskList{Name: aws.String("target-list")}
	})
	senderRun := h.start("sender")
	d := h.mustDecision("deciders")
	h.decide(d.TaskToken,
		types.Decision{DecisionType: types.DecisionTypeSignalExternalWorkflowExecution, SignalExternalWorkflowExecutionDecisionAttributes: &types.SignalExternalWorkflowExecutionDecisionAttributes{WorkflowId: aws.String("target"), SignalName: aws.String("hello"), Input: aws.String("hi")}},
		types.Decision{DecisionType: types.DecisionTypeRequestCancelExternalWorkflowExecution, RequestCancelExternalWorkflowExecutionDecisionAttributes: &types.RequestCancelExternalWorkflowExecutionDecisionAttributes{WorkflowId: aws.String("target")}},
		types.Decision{DecisionType: types.DecisionTypeRequestCancelExternalWorkflowExecution, RequestCancelExternalWorkflowExecutionDecisionAttributes: &types.RequestCancelExternalWorkflowExecutionDecisionAttributes{WorkflowId: aws.String("ghost")}},
	)
	waitFor(t, "sender sees all three outcomes", func() bool {
		n := 0
		for _, e := range h.history("sender", senderRun) {
			switch e.EventType {
			case types.EventTypeExternalWorkflowExecutionSignaled, types.EventTypeExternalWorkflowExecutionCancelRequested, types.EventTypeRequestCancelExternalWorkflowExecutionFailed:
				n++
			}
		}
		return n == 3
	})
	for _, e := range h.history("sender", senderRun) {
		if f := e.RequestCancelExternalWorkflowExecutionFailedEventAttributes; f != nil && f.Cause != types.RequestCancelExternalWorkflowExecutionFailedCauseUnknownExternalWorkflowExecution {
			t.Fatalf("cause %s", f.Cause)
		}
	}
	var sig *types.WorkflowExecutionSignaledEventAttributes
	var creq *types.WorkflowExecutionCancelRequestedEventAttributes
	for _, e := range h.history("target", targetRun) {
		if e.WorkflowExecutionSignaledEventAttributes != nil {
			sig = e.WorkflowExecutionSignaledEventAttributes
		}
		if e.WorkflowExecutionCancelRequestedEventAttributes != nil {
			creq = e.WorkflowExecutionCancelRequestedEventAttributes
		}
	}
	if sig == nil || *sig.SignalName != "hello" || sig.ExternalWorkflowExecution == nil || *sig.ExternalWorkflowExecution.RunId != senderRun || sig.ExternalInitiatedEventId == 0 {
		t.Fatalf("target signal: %+v", sig)
	}
	if creq == nil || creq.ExternalWorkflowExecution == nil || *creq.ExternalWorkflowExecution.RunId != senderRun || creq.ExternalInitiatedEventId == 0 {
		t.Fatalf("target cancel request: %+v", creq)
	}
	if !h.describe("target", targetRun).ExecutionInfo.CancelRequested {
		t.Fatal("target cancelRequested not set")
	}
}

// A signal or cancel request from a decision to an execution that is not
// there fails with UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION: a workflowId never
// used, a run that has closed (named by its runId, or the workflowId's only
// run), and a runId that is not a run of the workflowId named. Each
// *Failed event names the decision's initiated event, its
// DecisionTaskCompleted, the workflowId and runId as given and the
// control, and the sender's decider gets a decision task with all of them.
func TestExternalToUnknownExecutions(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	openRun := h.start("open")
	closedRun := h.start("closed")
	if _, err := h.c.TerminateWorkflowExecution(h.ctx, &swf.TerminateWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("closed")}); err != nil {
		t.Fatal(err)
	}
	senderRun := h.start("sender", func(in *swf.StartWorkflowExecutionInput) {
		in.TaskList = &types.TaskList{Name: aws.String("sender-list")}
	})
	targets := []struct{ workflowID, runID string }{
		{"never", ""}, {"closed", closedRun}, {"closed", ""}, {"open", closedRun}, {"never", openRun},
	}
	var ds []types.Decision
	for i, tg := range targets {
		var run *string
		if tg.runID != "" {
			run = aws.String(tg.runID)
		}
		ds = append(ds,
			types.Decision{DecisionType: types.DecisionTypeSignalExternalWorkflowExecution, SignalExternalWorkflowExecutionDecisionAttributes: &types.SignalExternalWorkflowExecutionDecisionAttributes{
				WorkflowId: aws.String(tg.workflowID), RunId: run, SignalName: aws.String("s"), Control: aws.String(fmt.Sprint("sig-", i))}},
			types.Decision{DecisionType: types.DecisionTypeRequestCancelExternalWorkflowExecution, RequestCancelExternalWorkflowExecutionDecisionAttributes: &types.RequestCancelExternalWorkflowExecutionDecisionAttributes{
				WorkflowId: aws.String(tg.workflowID), RunId: run, Control: aws.String(fmt.Sprint("cancel-", i))}})
	}
	d := h.mustDecision("sender-list")
	h.decide(d.TaskToken, ds...) // 4 DecisionTaskCompleted, 5.. the initiated events
	n := 2 * len(targets)
	var evs []types.HistoryEvent
	waitFor(t, "every request fails", func() bool {
		evs = h.history("sender", senderRun)
		failed := 0
		for _, e := range evs {
			if e.SignalExternalWorkflowExecutionFailedEventAttributes != nil || e.RequestCancelExternalWorkflowExecutionFailedEventAttributes != nil {
				failed++
			}
		}
		return failed == n
	})
	for _, e := range evs {
		switch {
		case e.ExternalWorkflowExecutionSignaledEventAttributes != nil, e.ExternalWorkflowExecutionCancelRequestedEventAttributes != nil:
			t.Fatalf("a request reached a run: %+v", e)
		case e.SignalExternalWorkflowExecutionFailedEventAttributes != nil:
			a := e.SignalExternalWorkflowExecutionFailedEventAttributes
			i := int(a.InitiatedEventId-5) / 2
			if a.InitiatedEventId < 5 || (a.InitiatedEventId-5)%2 != 0 || i >= len(targets) {
				t.Fatalf("signal failed naming initiated event %d", a.InitiatedEventId)
			}
			tg := targets[i]
			if a.Cause != types.SignalExternalWorkflowExecutionFailedCauseUnknownExternalWorkflowExecution || a.DecisionTaskCompletedEventId != 4 ||
				aws.ToString(a.WorkflowId) != tg.workflowID || aws.ToString(a.RunId) != tg.runID || aws.ToString(a.Control) != fmt.Sprint("sig-", i) {
				t.Fatalf("signal to %+v failed %+v", tg, a)
			}
		case e.RequestCancelExternalWorkflowExecutionFailedEventAttributes != nil:
			a := e.RequestCancelExternalWorkflowExecutionFailedEventAttributes
			i := int(a.InitiatedEventId-6) / 2
			if a.InitiatedEventId < 6 || (a.InitiatedEventId-6)%2 != 0 || i >= len(targets) {
				t.Fatalf("cancel request failed naming initiated event %d", a.InitiatedEventId)
			}
			tg := targets[i]
			if a.Cause != types.RequestCancelExternalWorkflowExecutionFailedCauseUnknownExternalWorkflowExecution || a.DecisionTaskCompletedEventId != 4 ||
				aws.ToString(a.WorkflowId) != tg.workflowID || aws.ToString(a.RunId) != tg.runID || aws.ToString(a.Control) != fmt.Sprint("cancel-", i) {
				t.Fatalf("cancel request to %+v failed %+v", tg, a)
			}
		}
	}
	// Nothing reached the open run.
	if got := eventTypes(h.history("open", openRun)); len(got) != 2 {
		t.Fatalf("the open run's history: %v", got)
	}
	// The sender's decider sees every failure.
	d = h.mustDecision("sender-list")
	failed := 0
	for _, e := range d.Events {
		if e.SignalExternalWorkflowExecutionFailedEventAttributes != nil || e.RequestCancelExternalWorkflowExecutionFailedEventAttributes != nil {
			failed++
		}
	}
	if failed != n || d.Events[len(d.Events)-1].EventType != types.EventTypeDecisionTaskStarted {
		t.Fatalf("the sender's decision task: %v", eventTypes(d.Events))
	}
}

func TestContinueAsNew(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	run1 := h.start("loop")
	d := h.mustDecision("deciders")
	h.decide(d.TaskToken, types.Decision{DecisionType: types.DecisionTypeContinueAsNewWorkflowExecution, ContinueAsNewWorkflowExecutionDecisionAttributes: &types.ContinueAsNewWorkflowExecutionDecisionAttributes{Input: aws.String("round-2")}})
	d = h.mustDecision("deciders")
	run2 := *d.WorkflowExecution.RunId
	if run2 == run1 {
		t.Fatal("same run id")
	}
	st := d.Events[0].WorkflowExecutionStartedEventAttributes
	if *st.ContinuedExecutionRunId != run1 || *st.Input != "round-2" || *st.ExecutionStartToCloseTimeout != "3600" {
		t.Fatalf("continued run start: %+v", st)
	}
	evs := h.history("loop", run1)
	last := evs[len(evs)-1]
	if last.EventType != types.EventTypeWorkflowExecutionContinuedAsNew || *last.WorkflowExecutionContinuedAsNewEventAttributes.NewExecutionRunId != run2 {
		t.Fatalf("old run last event: %+v", last)
	}
	if h.describe("loop", run1).ExecutionInfo.CloseStatus != types.CloseStatusContinuedAsNew {
		t.Fatal("old run not CONTINUED_AS_NEW")
	}
}

// A ContinueAsNewWorkflowExecution decision's parameters reach the new run
// through the wire: the old run's WorkflowExecutionContinuedAsNew and the
// new run's WorkflowExecutionStarted (which names the old run) carry its
// tags, task list, timeouts, child policy, priority and Lambda role, as do
// the new run's description and its listing by tag; the workflowId is held
// by the new run at once. One that gives none of them continues with the
// type's registered defaults, and without the old run's tags.
func TestContinueAsNewCarriesAttributes(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	run1 := h.start("carry", func(in *swf.StartWorkflowExecutionInput) { in.TagList = []string{"old"} })
	d := h.mustDecision("deciders")
	role := "arn:aws:iam::123456789012:role/next"
	h.decide(d.TaskToken, types.Decision{DecisionType: types.DecisionTypeContinueAsNewWorkflowExecution, ContinueAsNewWorkflowExecutionDecisionAttributes: &types.ContinueAsNewWorkflowExecutionDecisionAttributes{
		Input: aws.String("round-2"), TagList: []string{"next", "vip"}, TaskList: &types.TaskList{Name: aws.String("next-list")},
		TaskStartToCloseTimeout: aws.String("45"), ExecutionStartToCloseTimeout: aws.String("900"), ChildPolicy: types.ChildPolicyAbandon,
		TaskPriority: aws.String("4"), LambdaRole: aws.String(role),
	}})
	_, err := h.c.StartWorkflowExecution(h.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("carry"), WorkflowType: h.wfType})
	wantCode(t, err, "WorkflowExecutionAlreadyStartedFault")

	evs := h.history("carry", run1)
	can := evs[len(evs)-1].WorkflowExecutionContinuedAsNewEventAttributes
	if can == nil || !reflect.DeepEqual(can.TagList, []string{"next", "vip"}) || aws.ToString(can.TaskList.Name) != "next-list" ||
		aws.ToString(can.TaskStartToCloseTimeout) != "45" || aws.ToString(can.ExecutionStartToCloseTimeout) != "900" ||
		can.ChildPolicy != types.ChildPolicyAbandon || aws.ToString(can.TaskPriority) != "4" || aws.ToString(can.LambdaRole) != role ||
		aws.ToString(can.Input) != "round-2" || can.DecisionTaskCompletedEventId != int64(len(evs)-1) {
		t.Fatalf("WorkflowExecutionContinuedAsNew %+v", can)
	}
	d = h.mustDecision("next-list")
	run2 := *d.WorkflowExecution.RunId
	if run2 != aws.ToString(can.NewExecutionRunId) {
		t.Fatalf("new run %s, the old run names %s", run2, aws.ToString(can.NewExecutionRunId))
	}
	st := d.Events[0].WorkflowExecutionStartedEventAttributes
	if aws.ToString(st.ContinuedExecutionRunId) != run1 || !reflect.DeepEqual(st.TagList, []string{"next", "vip"}) || aws.ToString(st.TaskList.Name) != "next-list" ||
		aws.ToString(st.TaskStartToCloseTimeout) != "45" || aws.ToString(st.ExecutionStartToCloseTimeout) != "900" ||
		st.ChildPolicy != types.ChildPolicyAbandon || aws.ToString(st.TaskPriority) != "4" || aws.ToString(st.LambdaRole) != role {
		t.Fatalf("new run's WorkflowExecutionStarted %+v", st)
	}
	desc := h.describe("carry", run2)
	if c := desc.ExecutionConfiguration; aws.ToString(c.TaskList.Name) != "next-list" || aws.ToString(c.TaskStartToCloseTimeout) != "45" ||
		aws.ToString(c.ExecutionStartToCloseTimeout) != "900" || c.ChildPolicy != types.ChildPolicyAbandon || aws.ToString(c.TaskPriority) != "4" ||
		aws.ToString(c.LambdaRole) != role {
		t.Fatalf("new run's configuration %+v", c)
	}
	if !reflect.DeepEqual(desc.ExecutionInfo.TagList, []string{"next", "vip"}) {
		t.Fatalf("new run's tags %v", desc.ExecutionInfo.TagList)
	}
	open, err := h.c.ListOpenWorkflowExecutions(h.ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: aws.String(h.domain),
		StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}, TagFilter: &types.TagFilter{Tag: aws.String("vip")}})
	if err != nil || len(open.ExecutionInfos) != 1 || aws.ToString(open.ExecutionInfos[0].Execution.RunId) != run2 {
		t.Fatalf("open runs tagged vip: %+v, %v", open, err)
	}

	// Continued with nothing given: the type's defaults, no tags.
	h.decide(d.TaskToken, types.Decision{DecisionType: types.DecisionTypeContinueAsNewWorkflowExecution})
	d = h.mustDecision("deciders")
	st = d.Events[0].WorkflowExecutionStartedEventAttributes
	if aws.ToString(st.ContinuedExecutionRunId) != run2 || st.TagList != nil || aws.ToString(st.TaskStartToCloseTimeout) != "30" ||
		aws.ToString(st.ExecutionStartToCloseTimeout) != "3600" || st.ChildPolicy != types.ChildPolicyTerminate || st.LambdaRole != nil {
		t.Fatalf("run continued without parameters %+v", st)
	}
}

func TestDecisionTaskPaging(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	runID := h.start("pages")
	for i := 0; i < 7; i++ {
		h.must(h.c.SignalWorkflowExecution(h.ctx, &swf.SignalWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("pages"), SignalName: aws.String(fmt.Sprint("s", i))}))
	}
	first, err := h.c.PollForDecisionTask(h.ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(h.domain), TaskList: &types.TaskList{Name: aws.String("deciders")}, MaximumPageSize: 4})
	if err != nil || first.TaskToken == nil || len(first.Events) != 4 || first.NextPageToken == nil {
		t.Fatalf("first page: %d events, token %v, err %v", len(first.Events), first.NextPageToken, err)
	}
	var all []types.HistoryEvent
	all = append(all, first.Events...)
	tok := first.NextPageToken
	for tok != nil {
		p, err := h.c.PollForDecisionTask(h.ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(h.domain), TaskList: &types.TaskList{Name: aws.String("deciders")}, MaximumPageSize: 4, NextPageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		if *p.TaskToken != *first.TaskToken || p.StartedEventId != first.StartedEventId {
			t.Fatal("later page names another task")
		}
		all = append(all, p.Events...)
		tok = p.NextPageToken
	}
	if len(all) != 10 || all[9].EventType != types.EventTypeDecisionTaskStarted {
		t.Fatalf("paged events: %v", eventTypes(all))
	}
	if n := len(h.history("pages", runID)); n != 10 {
		t.Fatalf("fetching pages changed the history: %d events", n)
	}
	h.decide(first.TaskToken, completeWorkflow(""))
}

func TestInvalidDecisionsChangeNothing(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	runID := h.start("bad")
	d := h.mustDecision("deciders")
	before := len(h.history("bad", runID))
	_, err := h.c.RespondDecisionTaskCompleted(h.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []types.Decision{
		{DecisionType: types.DecisionTypeStartTimer}}}) // attributes missing
	wantCode(t, err, "ValidationException")
	_, err = h.c.RespondDecisionTaskCompleted(h.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []types.Decision{completeWorkflow("x"), scheduleActivity("a", "")}})
	wantCode(t, err, "ValidationException")
	// A task list no poller could name, and a child that would outlive the
	// one-year limit.
	spaced := scheduleActivity("a", "")
	spaced.ScheduleActivityTaskDecisionAttributes.TaskList = &types.TaskList{Name: aws.String(" workers")}
	_, err = h.c.RespondDecisionTaskCompleted(h.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []types.Decision{spaced}})
	wantCode(t, err, "ValidationException")
	if err == nil || !strings.Contains(err.Error(), "scheduleActivityTaskDecisionAttributes.taskList.name") {
		t.Errorf("the fault does not name the task list: %v", err)
	}
	_, err = h.c.RespondDecisionTaskCompleted(h.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []types.Decision{{
		DecisionType: types.DecisionTypeStartChildWorkflowExecution,
		StartChildWorkflowExecutionDecisionAttributes: &types.StartChildWorkflowExecutionDecisionAttributes{
			WorkflowId: aws.String("long-child"), WorkflowType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")},
			ExecutionStartToCloseTimeout: aws.String("31536001")}}}})
	wantCode(t, err, "ValidationException")
	if n := len(h.history("bad", runID)); n != before {
		t.Fatalf("history changed: %d -> %d", before, n)
	}
	h.decide(d.TaskToken, completeWorkflow("ok")) // the token is still good
}

// Many deciders and workers on one task list: every task is handed out
// once, every workflow completes, every history is contiguous.
func TestConcurrentDecidersAndWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test")
	}
	h := newWFHarness(t, swfdtest.Options{PollTimeout: 200 * time.Millisecond})
	const workflows, perWorkflow, pollers = 40, 3, 12
	runs := make([]string, workflows)
	for i := range runs {
		runs[i] = h.start(fmt.Sprint("stress-", i))
	}
	var completed atomic.Int32
	var mu sync.Mutex
	seenActivity := map[string]bool{}
	seenDecision := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	fail := make(chan error, 100)
	for p := 0; p < pollers; p++ {
		wg.Add(2)
		go func() { // decider
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				d, err := h.c.PollForDecisionTask(h.ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(h.domain), TaskList: &types.TaskList{Name: aws.String("deciders")}})
				if err != nil {
					fail <- err
					return
				}
				if d.TaskToken == nil {
					continue
				}
				key := *d.WorkflowExecution.RunId + fmt.Sprint("/", d.StartedEventId)
				mu.Lock()
				if seenDecision[key] {
					fail <- fmt.Errorf("decision task %s handed out twice", key)
				}
				seenDecision[key] = true
				mu.Unlock()
				done := 0
				for _, e := range d.Events {
					if e.EventType == types.EventTypeActivityTaskCompleted {
						done++
					}
				}
				var ds []types.Decision
				switch {
				case done == perWorkflow:
					ds = []types.Decision{completeWorkflow("ok")}
				case d.PreviousStartedEventId == 0 || done > 0:
					ds = []types.Decision{scheduleActivity(fmt.Sprint("act-", done), "")}
				}
				_, err = h.c.RespondDecisionTaskCompleted(h.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: ds})
				if err != nil {
					fail <- err
					return
				}
				if done == perWorkflow {
					completed.Add(1)
				}
			}
		}()
		go func() { // worker
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				a, err := h.c.PollForActivityTask(h.ctx, &swf.PollForActivityTaskInput{Domain: aws.String(h.domain), TaskList: &types.TaskList{Name: aws.String("workers")}})
				if err != nil {
					fail <- err
					return
				}
				if a.TaskToken == nil {
					continue
				}
				key := *a.WorkflowExecution.RunId + "/" + *a.ActivityId
				mu.Lock()
				if seenActivity[key] {
					fail <- fmt.Errorf("activity %s handed out twice", key)
				}
				seenActivity[key] = true
				mu.Unlock()
				if _, err := h.c.RespondActivityTaskCompleted(h.ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken}); err != nil {
					fail <- err
					return
				}
			}
		}()
	}
	deadline := time.After(60 * time.Second)
	for completed.Load() < workflows {
		select {
		case err := <-fail:
			close(stop)
			wg.Wait()
			t.Fatal(err)
		case <-deadline:
			close(stop)
			wg.Wait()
			t.Fatalf("only %d of %d workflows completed", completed.Load(), workflows)
		case <-time.After(20 * time.Millisecond):
		}
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-fail:
		t.Fatal(err)
	default:
	}
	for i, r := range runs {
		evs := h.history(fmt.Sprint("stress-", i), r) // checks contiguity
		if evs[len(evs)-1].EventType != types.EventTypeWorkflowExecutionCompleted {
			t.Fatalf("run %d did not complete: %v", i, eventTypes(evs))
		}
	}
	if len(seenActivity) != workflows*perWorkflow {
		t.Fatalf("%d activities ran, want %d", len(seenActivity), workflows*perWorkflow)
	}
}

// A poller whose client goes away before a task arrives is not handed the
// task: the next poller gets it, as the first decision task of the run.
func TestDisconnectedPollerGetsNoTask(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{PollTimeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	go func() {
		_, err := h.c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(h.domain), TaskList: &types.TaskList{Name: aws.String("deciders")}})
		done <- err
	}()
	key := matching.ListKey{Kind: swfd.DecisionTask, Domain: h.domain, TaskList: "deciders"}
	m := h.srv.Server.Service.Matcher()
	waitFor(t, "the poll to wait", func() bool { return m.Waiting(key) == 1 })
	cancel()
	<-done
	waitFor(t, "the server to notice the closed connection", func() bool { return m.Waiting(key) == 0 })
	runID := h.start("after-disconnect")
	d := h.mustDecision("deciders")
	if d.StartedEventId != 3 {
		t.Fatalf("decision task started as event %d, want 3 (was it handed to the gone poller?)", d.StartedEventId)
	}
	if got := eventTypes(h.history("after-disconnect", runID)); len(got) != 3 {
		t.Fatalf("history %v", got)
	}
}

func TestExecutionLimits(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{Config: func(c *server.Config) {
		c.Limits = service.DefaultLimits
		c.Limits.MaxOpenExecutions = 2
		c.Limits.History.MaxEvents = 12
	}})
	t.Run("six tags", func(t *testing.T) {
		_, err := h.c.StartWorkflowExecution(h.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("tags"), WorkflowType: h.wfType,
			TagList: []string{"1", "2", "3", "4", "5", "6"}})
		wantCode(t, err, "ValidationException")
	})
	t.Run("input over 32768", func(t *testing.T) {
		_, err := h.c.StartWorkflowExecution(h.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("big"), WorkflowType: h.wfType,
			Input: aws.String(strings.Repeat("x", 32769))})
		wantCode(t, err, "ValidationException")
	})
	runID := h.start("limited")
	h.start("second")
	t.Run("open executions per domain", func(t *testing.T) {
		_, err := h.c.StartWorkflowExecution(h.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("third"), WorkflowType: h.wfType})
		wantCode(t, err, "LimitExceededFault")
	})
	t.Run("history size", func(t *testing.T) {
		for i := 0; i < 12; i++ {
			_, err := h.c.SignalWorkflowExecution(h.ctx, &swf.SignalWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("limited"), SignalName: aws.String("s")})
			if err != nil {
				wantCode(t, err, "UnknownResourceFault") // closed by the limit
				break
			}
		}
		evs := h.history("limited", runID)
		last := evs[len(evs)-1]
		if last.EventType != types.EventTypeWorkflowExecutionTerminated || last.WorkflowExecutionTerminatedEventAttributes.Cause != types.WorkflowExecutionTerminatedCauseEventLimitExceeded {
			t.Fatalf("last event %v", eventTypes(evs))
		}
		if len(evs) > 12 {
			t.Fatalf("%d events, limit 12", len(evs))
		}
		// The slot is free again.
		h.start("third")
	})
}

// TestEventLimitRefusesCalls: a call whose events no longer fit in the
// run's history is answered UnknownResourceFault, saying that the run was
// terminated because its history reached the limit, and leaves no trace
// of its input; every call answered OK before it is in the history. The
// run ends WorkflowExecutionTerminated (EVENT_LIMIT_EXCEEDED), its
// history at most the limit.
func TestEventLimitRefusesCalls(t *testing.T) {
	const limit = 12
	h := newWFHarness(t, swfdtest.Options{Config: func(c *server.Config) {
		c.Limits = service.DefaultLimits
		c.Limits.History.MaxEvents = limit
	}})
	// ended checks a run's history: the answered inputs in it, the
	// refused one not, the termination last.
	ended := func(t *testing.T, workflowID, runID string, answered []string, refused string) {
		t.Helper()
		evs := h.history(workflowID, runID)
		b, err := json.Marshal(evs)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range answered {
			if !strings.Contains(string(b), `"`+in+`"`) {
				t.Fatalf("%s was answered OK and is not in the history %v", in, eventTypes(evs))
			}
		}
		if strings.Contains(string(b), refused) {
			t.Fatalf("the refused call's %s is in the history %v", refused, eventTypes(evs))
		}
		last := evs[len(evs)-1]
		if len(evs) > limit || last.EventType != types.EventTypeWorkflowExecutionTerminated || last.WorkflowExecutionTerminatedEventAttributes.Cause != types.WorkflowExecutionTerminatedCauseEventLimitExceeded {
			t.Fatalf("history %v", eventTypes(evs))
		}
	}
	wantRefused := func(t *testing.T, err error, workflowID, runID string) {
		t.Helper()
		wantCode(t, err, "UnknownResourceFault")
		want := fmt.Sprintf("Unknown execution: WorkflowExecution=[workflowId=%s, runId=%s]: terminated because its history reached the limit of %d events", workflowID, runID, limit)
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want the message %q", err, want)
		}
	}
	signal := func(workflowID, input string) error {
		_, err := h.c.SignalWorkflowExecution(h.ctx, &swf.SignalWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String(workflowID),
			SignalName: aws.String("s"), Input: aws.String(input)})
		return err
	}

	t.Run("signal", func(t *testing.T) {
		runID := h.start("signalled")
		var answered []string
		for i := range limit {
			input := fmt.Sprintf("signal-input-%d", i)
			if err := signal("signalled", input); err != nil {
				ended(t, "signalled", runID, answered, input)
				wantRefused(t, err, "signalled", runID)
				return
			}
			answered = append(answered, input)
		}
		t.Fatal("no signal was refused")
	})

	t.Run("activity result", func(t *testing.T) {
		runID := h.start("worked", func(in *swf.StartWorkflowExecutionInput) {
			in.TaskList = &types.TaskList{Name: aws.String("worked-deciders")}
		})
		d := h.mustDecision("worked-deciders")              // 3
		h.decide(d.TaskToken, scheduleActivity("a", "act")) // 4, 5
		task := h.mustActivity("workers")                   // 6
		// Signals fill the history up to the last slot but one: the
		// first (7) with its decision task (8), then one event each.
		answered := []string{}
		for i := 0; i < 4; i++ {
			input := fmt.Sprintf("fill-%d", i)
			if err := signal("worked", input); err != nil {
				t.Fatal(err)
			}
			answered = append(answered, input)
		}
		if n := len(h.history("worked", runID)); n != limit-1 {
			t.Fatalf("history has %d events, want %d", n, limit-1)
		}
		_, err := h.c.RespondActivityTaskCompleted(h.ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: task.TaskToken, Result: aws.String("activity-result")})
		wantRefused(t, err, "worked", runID)
		ended(t, "worked", runID, answered, "activity-result")
	})
}

// TestEmptyIdentityAndRunIDEchoed: a poller's identity given empty is
// "identity": "" in the DecisionTaskStarted or ActivityTaskStarted it
// records, and a decision's runId given empty is "runId": "" in the events
// that echo the decision; one not given is left out. The checks read the
// bytes sent, which the SDK would hide.
func TestEmptyIdentityAndRunIDEchoed(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	runID := h.start("empties")
	// poll sends a poll until it hands out a task, and returns its bytes
	// and its token.
	poll := func(op, body string) (string, string) {
		t.Helper()
		for range 10 {
			_, _, out := rgRaw(t, h.srv.URL, op, body)
			var task struct{ TaskToken string }
			if err := json.Unmarshal([]byte(out), &task); err != nil {
				t.Fatalf("%s: %s: %v", op, out, err)
			}
			if task.TaskToken != "" {
				return out, task.TaskToken
			}
		}
		t.Fatalf("%s %s: no task", op, body)
		return "", ""
	}
	respond := func(op, token, rest string) {
		t.Helper()
		tok, _ := json.Marshal(token)
		if st, _, out := rgRaw(t, h.srv.URL, op, `{"taskToken":`+string(tok)+rest+`}`); st != 200 {
			t.Fatalf("%s: %d %s", op, st, out)
		}
	}
	task, token := poll("PollForDecisionTask", `{"domain":"wf-tests","taskList":{"name":"deciders"},"identity":""}`)
	if !strings.Contains(task, `"decisionTaskStartedEventAttributes":{"identity":"","scheduledEventId":2}`) {
		t.Errorf("the decision task polled with identity \"\": %s", task)
	}
	respond("RespondDecisionTaskCompleted", token, `,"decisions":[`+
		`{"decisionType":"ScheduleActivityTask","scheduleActivityTaskDecisionAttributes":{"activityId":"a1","activityType":{"name":"charge","version":"1"},"taskList":{"name":"empty-identity"}}},`+
		`{"decisionType":"ScheduleActivityTask","scheduleActivityTaskDecisionAttributes":{"activityId":"a2","activityType":{"name":"charge","version":"1"},"taskList":{"name":"no-identity"}}},`+
		`{"decisionType":"SignalExternalWorkflowExecution","signalExternalWorkflowExecutionDecisionAttributes":{"workflowId":"nobody","runId":"","signalName":"s"}},`+
		`{"decisionType":"RequestCancelExternalWorkflowExecution","requestCancelExternalWorkflowExecutionDecisionAttributes":{"workflowId":"nobody","runId":""}}]`)
	_, token = poll("PollForActivityTask", `{"domain":"wf-tests","taskList":{"name":"empty-identity"},"identity":""}`)
	respond("RespondActivityTaskCompleted", token, "")
	_, token = poll("PollForActivityTask", `{"domain":"wf-tests","taskList":{"name":"no-identity"}}`)
	respond("RespondActivityTaskCompleted", token, "")

	// The attributes of each event as sent, by event type.
	attrs := func() (string, map[string][]string) {
		t.Helper()
		_, _, out := rgRaw(t, h.srv.URL, "GetWorkflowExecutionHistory", `{"domain":"wf-tests","execution":{"workflowId":"empties","runId":"`+runID+`"}}`)
		var hist struct{ Events []map[string]json.RawMessage }
		if err := json.Unmarshal([]byte(out), &hist); err != nil {
			t.Fatalf("history: %s: %v", out, err)
		}
		by := map[string][]string{}
		for _, ev := range hist.Events {
			var typ string
			json.Unmarshal(ev["eventType"], &typ)
			for k, v := range ev {
				if strings.HasSuffix(k, "EventAttributes") {
					by[typ] = append(by[typ], string(v))
				}
			}
		}
		return out, by
	}
	var body string
	var by map[string][]string
	waitFor(t, "both external decisions to fail", func() bool {
		body, by = attrs()
		return len(by["SignalExternalWorkflowExecutionFailed"]) == 1 && len(by["RequestCancelExternalWorkflowExecutionFailed"]) == 1
	})
	if !strings.Contains(body, `"identity":""`) || !strings.Contains(body, `"runId":""`) {
		t.Errorf("the history carries no empty identity or runId: %s", body)
	}
	if got := by["DecisionTaskStarted"]; len(got) != 1 || got[0] != `{"identity":"","scheduledEventId":2}` {
		t.Errorf("DecisionTaskStarted = %q", got)
	}
	// a1 (scheduled as event 5) was polled with identity "", a2 (6) without.
	if got, want := by["ActivityTaskStarted"], []string{`{"identity":"","scheduledEventId":5}`, `{"scheduledEventId":6}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("ActivityTaskStarted = %q, want %q", got, want)
	}
	for _, et := range []string{"SignalExternalWorkflowExecutionInitiated", "RequestCancelExternalWorkflowExecutionInitiated",
		"SignalExternalWorkflowExecutionFailed", "RequestCancelExternalWorkflowExecutionFailed"} {
		if got := by[et]; len(got) != 1 || !strings.Contains(got[0], `"runId":""`) {
			t.Errorf("%s = %q, want runId \"\"", et, got)
		}
	}

	// A decider that gives no identity is recorded without one.
	poll("PollForDecisionTask", `{"domain":"wf-tests","taskList":{"name":"deciders"}}`)
	_, by = attrs()
	if got := by["DecisionTaskStarted"]; len(got) != 2 || strings.Contains(got[1], "identity") {
		t.Errorf("DecisionTaskStarted of a poll without identity = %q", got)
	}
}

// Every page token fits the 2048 characters the SWF model allows, however
// long the names behind it: a decision task's history pages, in a domain,
// task list, workflowId and type at their longest and in characters of
// several bytes, and the list pages of the same names. A longer token would
// be refused when sent back, and a decider could never read past its first
// page.
func TestPageTokensWithLongestNames(t *testing.T) {
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 500 * time.Millisecond})
	c, ctx := srv.Client(), context.Background()
	must := mustOK(t)
	domain := strings.Repeat("é", 256)
	list := strings.Repeat("列", 256)
	wfID := strings.Repeat("<&>", 85) + "<"
	typ := &types.WorkflowType{Name: aws.String(strings.Repeat("型", 256)), Version: aws.String(strings.Repeat("版", 64))}
	must(c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(domain), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}))
	must(c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String(domain), Name: typ.Name, Version: typ.Version,
		DefaultTaskList: &types.TaskList{Name: aws.String(list)}, DefaultExecutionStartToCloseTimeout: aws.String("3600"),
		DefaultTaskStartToCloseTimeout: aws.String("30"), DefaultChildPolicy: types.ChildPolicyTerminate}))
	must(c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String(domain), Name: typ.Name, Version: aws.String("2")}))
	run, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(domain), WorkflowId: aws.String(wfID), WorkflowType: typ,
		TagList: []string{strings.Repeat("標", 256)}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		must(c.SignalWorkflowExecution(ctx, &swf.SignalWorkflowExecutionInput{Domain: aws.String(domain), WorkflowId: aws.String(wfID), SignalName: aws.String(fmt.Sprint("s", i))}))
	}
	checkLen := func(what string, tok *string) {
		t.Helper()
		if tok != nil && len(*tok) > 2048 {
			t.Fatalf("%s: a page token of %d characters", what, len(*tok))
		}
	}
	poll := &swf.PollForDecisionTaskInput{Domain: aws.String(domain), TaskList: &types.TaskList{Name: aws.String(list)}, MaximumPageSize: 2}
	first, err := c.PollForDecisionTask(ctx, poll)
	if err != nil || first.TaskToken == nil || first.NextPageToken == nil {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	events := len(first.Events)
	for tok := first.NextPageToken; tok != nil; {
		checkLen("PollForDecisionTask", tok)
		poll.NextPageToken = tok
		p, err := c.PollForDecisionTask(ctx, poll)
		if err != nil {
			t.Fatalf("next page: %v", err)
		}
		if *p.TaskToken != *first.TaskToken || *p.WorkflowExecution.WorkflowId != wfID || *p.WorkflowExecution.RunId != *run.RunId ||
			*p.WorkflowType.Name != *typ.Name || *p.WorkflowType.Version != *typ.Version || p.StartedEventId != first.StartedEventId {
			t.Fatalf("a later page names another task or run: %+v", p)
		}
		events += len(p.Events)
		tok = p.NextPageToken
	}
	if events != 8 { // started, scheduled, five signals, started
		t.Fatalf("%d events over the pages, want 8", events)
	}
	must(c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: first.TaskToken}))

	open := &swf.ListOpenWorkflowExecutionsInput{Domain: aws.String(domain), MaximumPageSize: 1,
		StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))},
		TypeFilter:      &types.WorkflowTypeFilter{Name: typ.Name, Version: typ.Version}}
	must(c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(domain), WorkflowId: aws.String(wfID[:255] + "2"), WorkflowType: typ}))
	lo, err := c.ListOpenWorkflowExecutions(ctx, open)
	if err != nil || lo.NextPageToken == nil {
		t.Fatalf("list open: %+v, %v", lo, err)
	}
	checkLen("ListOpenWorkflowExecutions", lo.NextPageToken)
	open.NextPageToken = lo.NextPageToken
	must(c.ListOpenWorkflowExecutions(ctx, open))

	types1 := &swf.ListWorkflowTypesInput{Domain: aws.String(domain), Name: typ.Name, RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 1}
	lt, err := c.ListWorkflowTypes(ctx, types1)
	if err != nil || lt.NextPageToken == nil {
		t.Fatalf("list types: %+v, %v", lt, err)
	}
	checkLen("ListWorkflowTypes", lt.NextPageToken)
	types1.NextPageToken = lt.NextPageToken
	must(c.ListWorkflowTypes(ctx, types1))

	must(c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(strings.Repeat("<", 256)), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}))
	domains := &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 1}
	ld, err := c.ListDomains(ctx, domains)
	if err != nil || ld.NextPageToken == nil {
		t.Fatalf("list domains: %+v, %v", ld, err)
	}
	checkLen("ListDomains", ld.NextPageToken)
	domains.NextPageToken = ld.NextPageToken
	must(c.ListDomains(ctx, domains))
}

// A task token fits the model's 1024 characters in a domain of the longest
// name whose token cannot carry it (256 characters of three bytes), and in
// one of the longest name of four-byte characters (128 of them, each two
// UTF-16 code units): a decider and a worker there take a workflow to
// completion through every task-token operation. Such tokens once carried
// the name, were over 1024 characters, and every call refused them.
func TestTaskTokensWithLongestDomainNames(t *testing.T) {
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 500 * time.Millisecond})
	c, ctx := srv.Client(), context.Background()
	must := mustOK(t)
	checkLen := func(what string, tok *string) {
		t.Helper()
		if tok == nil || len(*tok) > 1024 {
			t.Fatalf("%s: no task token, or one over 1024 characters", what)
		}
	}
	for _, domain := range []string{strings.Repeat("域", 256), strings.Repeat("😀", 128)} {
		wt := &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")}
		at := &types.ActivityType{Name: aws.String("charge"), Version: aws.String("1")}
		must(c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(domain), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}))
		must(c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String(domain), Name: wt.Name, Version: wt.Version,
			DefaultTaskList: &types.TaskList{Name: aws.String("deciders")}, DefaultExecutionStartToCloseTimeout: aws.String("3600"),
			DefaultTaskStartToCloseTimeout: aws.String("30"), DefaultChildPolicy: types.ChildPolicyTerminate}))
		must(c.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{Domain: aws.String(domain), Name: at.Name, Version: at.Version,
			DefaultTaskList: &types.TaskList{Name: aws.String("workers")}, DefaultTaskScheduleToStartTimeout: aws.String("NONE"),
			DefaultTaskScheduleToCloseTimeout: aws.String("NONE"), DefaultTaskStartToCloseTimeout: aws.String("NONE"),
			DefaultTaskHeartbeatTimeout: aws.String("NONE")}))
		run, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(domain), WorkflowId: aws.String("w"), WorkflowType: wt})
		if err != nil {
			t.Fatal(err)
		}
		exec := &types.WorkflowExecution{WorkflowId: aws.String("w"), RunId: run.RunId}

		d, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(domain), TaskList: &types.TaskList{Name: aws.String("deciders")}})
		must(d, err)
		checkLen("first decision task", d.TaskToken)
		must(c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []types.Decision{
			{DecisionType: types.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
				ActivityId: aws.String("a1"), ActivityType: at}}}}))

		a, err := c.PollForActivityTask(ctx, &swf.PollForActivityTaskInput{Domain: aws.String(domain), TaskList: &types.TaskList{Name: aws.String("workers")}})
		must(a, err)
		checkLen("activity task", a.TaskToken)
		hb, err := c.RecordActivityTaskHeartbeat(ctx, &swf.RecordActivityTaskHeartbeatInput{TaskToken: a.TaskToken, Details: aws.String("half")})
		if err != nil || hb.CancelRequested {
			t.Fatalf("heartbeat: %+v, %v", hb, err)
		}
		must(c.RespondActivityTaskCompleted(ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken, Result: aws.String("charged")}))
		// The task is done: its token names nothing any more.
		_, err = c.RespondActivityTaskFailed(ctx, &swf.RespondActivityTaskFailedInput{TaskToken: a.TaskToken})
		var unknown *types.UnknownResourceFault
		if !errors.As(err, &unknown) {
			t.Fatalf("a completed task failed: %v, want UnknownResourceFault", err)
		}

		d, err = c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(domain), TaskList: &types.TaskList{Name: aws.String("deciders")}})
		must(d, err)
		checkLen("second decision task", d.TaskToken)
		must(c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []types.Decision{
			{DecisionType: types.DecisionTypeCompleteWorkflowExecution, CompleteWorkflowExecutionDecisionAttributes: &types.CompleteWorkflowExecutionDecisionAttributes{Result: aws.String("done")}}}}))

		desc, err := c.DescribeWorkflowExecution(ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String(domain), Execution: exec})
		must(desc, err)
		if desc.ExecutionInfo.CloseStatus != types.CloseStatusCompleted {
			t.Fatalf("close status %q, want COMPLETED", desc.ExecutionInfo.CloseStatus)
		}
		hist, err := c.GetWorkflowExecutionHistory(ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String(domain), Execution: exec})
		must(hist, err)
		var got []string
		for _, e := range hist.Events {
			got = append(got, string(e.EventType))
		}
		want := "WorkflowExecutionStarted DecisionTaskScheduled DecisionTaskStarted DecisionTaskCompleted ActivityTaskScheduled ActivityTaskStarted " +
			"ActivityTaskCompleted DecisionTaskScheduled DecisionTaskStarted DecisionTaskCompleted WorkflowExecutionCompleted"
		if strings.Join(got, " ") != want {
			t.Fatalf("history:\n got %s\nwant %s", strings.Join(got, " "), want)
		}
		if r := hist.Events[6].ActivityTaskCompletedEventAttributes.Result; r == nil || *r != "charged" {
			t.Fatalf("activity result %v", r)
		}
	}
}
