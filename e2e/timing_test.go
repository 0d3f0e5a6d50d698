package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/server"
)

// Timing combinations on a manual clock: what a run's timeout, a
// continue-as-new and a termination leave behind, and that nothing of the
// closed run fires or answers afterwards.

func newManualHarness(t *testing.T) (*wfHarness, func(time.Duration)) {
	t.Helper()
	h := newWFHarness(t, swfdtest.Options{Config: func(c *server.Config) { c.ClockMode = clock.Manual; c.ClockUnsafe = true }})
	return h, func(d time.Duration) {
		t.Helper()
		if _, err := h.srv.Server.Clock.Advance(h.ctx, d); err != nil {
			t.Fatal(err)
		}
	}
}

func startChildDecision(id, list string) types.Decision {
	return types.Decision{DecisionType: types.DecisionTypeStartChildWorkflowExecution, StartChildWorkflowExecutionDecisionAttributes: &types.StartChildWorkflowExecutionDecisionAttributes{
		WorkflowId: aws.String(id), WorkflowType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")}, TaskList: &types.TaskList{Name: aws.String(list)},
		ChildPolicy: types.ChildPolicyAbandon}}
}

func startTimerDecision(id, after string) types.Decision {
	return types.Decision{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{TimerId: aws.String(id), StartToFireTimeout: aws.String(after)}}
}

// A run times out with an activity started, a timer and a child open, a
// timer started and cancelled in one decision, and a signal to a run that
// does not exist on its way: WorkflowExecutionTimedOut is its last event,
// its child policy (REQUEST_CANCEL) reaches the child, its worker's token
// is dead, and neither of its timers ever fires.
func TestManualClockRunTimesOutWithOpenWork(t *testing.T) {
	h, advance := newManualHarness(t)
	rid := h.start("p", func(in *swf.StartWorkflowExecutionInput) {
		in.ExecutionStartToCloseTimeout = aws.String("100")
		in.ChildPolicy = types.ChildPolicyRequestCancel
	})
	d := h.mustDecision("deciders")
	h.decide(d.TaskToken, scheduleActivity("a", ""), startTimerDecision("long", "1000"), startTimerDecision("gone", "10"),
		types.Decision{DecisionType: types.DecisionTypeCancelTimer, CancelTimerDecisionAttributes: &types.CancelTimerDecisionAttributes{TimerId: aws.String("gone")}},
		startChildDecision("kid", "kids"),
		types.Decision{DecisionType: types.DecisionTypeSignalExternalWorkflowExecution, SignalExternalWorkflowExecutionDecisionAttributes: &types.SignalExternalWorkflowExecutionDecisionAttributes{
			WorkflowId: aws.String("nobody"), SignalName: aws.String("hi")}})
	act := h.mustActivity("workers")
	kid := h.mustDecision("kids")
	kidRun := *kid.WorkflowExecution.RunId
	h.decide(kid.TaskToken)
	advance(99 * time.Second)
	evs := h.history("p", rid)
	if e := findEvent(evs, types.EventTypeTimerFired); e != nil {
		t.Fatalf("a cancelled timer fired: %+v", e.TimerFiredEventAttributes)
	}
	waitFor(t, "the signal's failure", func() bool {
		return findEvent(h.history("p", rid), types.EventTypeSignalExternalWorkflowExecutionFailed) != nil
	})
	advance(time.Second)
	evs = h.history("p", rid)
	last := evs[len(evs)-1]
	if a := last.WorkflowExecutionTimedOutEventAttributes; a == nil || a.TimeoutType != types.WorkflowExecutionTimeoutTypeStartToClose || a.ChildPolicy != types.ChildPolicyRequestCancel {
		t.Fatalf("last event %s %+v", last.EventType, a)
	}
	_, err := h.c.RespondActivityTaskCompleted(h.ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: act.TaskToken})
	wantCode(t, err, "UnknownResourceFault")
	if !strings.Contains(err.Error(), "Unknown execution") {
		t.Fatalf("a token of a closed run: %v", err)
	}
	waitFor(t, "the child's cancel request", func() bool {
		return findEvent(h.history("kid", kidRun), types.EventTypeWorkflowExecutionCancelRequested) != nil
	})
	kevs := h.history("kid", kidRun)
	cr := findEvent(kevs, types.EventTypeWorkflowExecutionCancelRequested)
	if a := cr.WorkflowExecutionCancelRequestedEventAttributes; a.Cause != types.WorkflowExecutionCancelRequestedCauseChildPolicyApplied || a.ExternalWorkflowExecution != nil {
		t.Fatalf("child's cancel request %+v", a)
	}
	if kevs[len(kevs)-1].EventType != types.EventTypeDecisionTaskScheduled || !h.describe("kid", kidRun).ExecutionInfo.CancelRequested {
		t.Fatalf("child after the request: %v", eventTypes(kevs))
	}
	advance(20 * time.Minute) // past the timer "long", short of the child's own timeout
	if got := h.history("p", rid); len(got) != len(evs) {
		t.Fatalf("the closed run grew: %v", eventTypes(got[len(evs):]))
	}
	if h.describe("kid", kidRun).ExecutionInfo.ExecutionStatus != types.ExecutionStatusOpen {
		t.Fatal("REQUEST_CANCEL closed the child")
	}
}

// A run continues as new with an activity started and a timer open: the
// old run's worker token is dead, its timer never fires, and the new run
// starts with nothing open but its decision task.
func TestManualClockContinueAsNewWithOpenWork(t *testing.T) {
	h, advance := newManualHarness(t)
	rid := h.start("can")
	d := h.mustDecision("deciders")
	h.decide(d.TaskToken, scheduleActivity("a", ""), startTimerDecision("t", "60"))
	act := h.mustActivity("workers")
	if _, err := h.c.SignalWorkflowExecution(h.ctx, &swf.SignalWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("can"), SignalName: aws.String("go")}); err != nil {
		t.Fatal(err)
	}
	d = h.mustDecision("deciders")
	h.decide(d.TaskToken, types.Decision{DecisionType: types.DecisionTypeContinueAsNewWorkflowExecution, ContinueAsNewWorkflowExecutionDecisionAttributes: &types.ContinueAsNewWorkflowExecutionDecisionAttributes{Input: aws.String("next")}})
	evs := h.history("can", rid)
	cont := evs[len(evs)-1].WorkflowExecutionContinuedAsNewEventAttributes
	if cont == nil || cont.DecisionTaskCompletedEventId != evs[len(evs)-2].EventId {
		t.Fatalf("last event %+v", evs[len(evs)-1])
	}
	_, err := h.c.RecordActivityTaskHeartbeat(h.ctx, &swf.RecordActivityTaskHeartbeatInput{TaskToken: act.TaskToken})
	wantCode(t, err, "UnknownResourceFault")
	advance(2 * time.Minute)
	if got := h.history("can", rid); len(got) != len(evs) {
		t.Fatalf("the continued run grew: %v", eventTypes(got[len(evs):]))
	}
	next := h.describe("can", *cont.NewExecutionRunId)
	if oc := next.OpenCounts; oc.OpenActivityTasks != 0 || oc.OpenTimers != 0 || oc.OpenDecisionTasks != 1 {
		t.Fatalf("new run's open counts %+v", oc)
	}
	d = h.mustDecision("deciders")
	if *d.WorkflowExecution.RunId != *cont.NewExecutionRunId || d.PreviousStartedEventId != 0 || len(d.Events) != 3 {
		t.Fatalf("new run's first task: %s %d %v", *d.WorkflowExecution.RunId, d.PreviousStartedEventId, eventTypes(d.Events))
	}
}

// TerminateWorkflowExecution's childPolicy overrides the run's own, and
// is the one its event records.
func TestTerminateChildPolicyOverride(t *testing.T) {
	for _, override := range []types.ChildPolicy{types.ChildPolicyAbandon, types.ChildPolicyRequestCancel} {
		t.Run(string(override), func(t *testing.T) {
			h, advance := newManualHarness(t)
			rid := h.start("p") // the type's policy: TERMINATE
			d := h.mustDecision("deciders")
			h.decide(d.TaskToken, startChildDecision("kid", "kids"))
			kid := h.mustDecision("kids")
			kidRun := *kid.WorkflowExecution.RunId
			h.decide(kid.TaskToken)
			if _, err := h.c.TerminateWorkflowExecution(h.ctx, &swf.TerminateWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("p"), ChildPolicy: override}); err != nil {
				t.Fatal(err)
			}
			evs := h.history("p", rid)
			if a := evs[len(evs)-1].WorkflowExecutionTerminatedEventAttributes; a == nil || a.ChildPolicy != override || a.Cause != "" {
				t.Fatalf("last event %+v", evs[len(evs)-1])
			}
			if override == types.ChildPolicyRequestCancel {
				waitFor(t, "the child's cancel request", func() bool { return h.describe("kid", kidRun).ExecutionInfo.CancelRequested })
			} else {
				// A move of the clock delivers every message waiting
				// between runs first: none reaches the child.
				advance(time.Millisecond)
				if i := h.describe("kid", kidRun).ExecutionInfo; i.ExecutionStatus != types.ExecutionStatusOpen || i.CancelRequested {
					t.Fatalf("ABANDON reached the child: %+v", i)
				}
			}
		})
	}
}
