package e2e

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/server"
)

// These tests use one-second timeouts through the real client and check
// that each timeout arrives on its own — no API call has to nudge it.

func findEvent(evs []types.HistoryEvent, et types.EventType) *types.HistoryEvent {
	for i := range evs {
		if evs[i].EventType == et {
			return &evs[i]
		}
	}
	return nil
}

func waitEvent(t *testing.T, h *wfHarness, wid, rid string, et types.EventType) types.HistoryEvent {
	t.Helper()
	var ev *types.HistoryEvent
	waitFor(t, string(et), func() bool {
		ev = findEvent(h.history(wid, rid), et)
		return ev != nil
	})
	return *ev
}

func TestUserTimerFires(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	rid := h.start("timer")
	d := h.mustDecision("deciders")
	h.decide(d.TaskToken, types.Decision{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{TimerId: aws.String("t"), StartToFireTimeout: aws.String("1"), Control: aws.String("ctl")}})
	started := findEvent(h.history("timer", rid), types.EventTypeTimerStarted)
	fired := waitEvent(t, h, "timer", rid, types.EventTypeTimerFired)
	if lag := fired.EventTimestamp.Sub(*started.EventTimestamp); lag < time.Second || lag > 1500*time.Millisecond {
		t.Fatalf("timer fired %v after start, want ~1s", lag)
	}
	if a := fired.TimerFiredEventAttributes; *a.TimerId != "t" || a.StartedEventId != started.EventId {
		t.Fatalf("TimerFired: %+v", a)
	}
	d = h.mustDecision("deciders")
	if d.Events[len(d.Events)-3].EventType != types.EventTypeTimerFired {
		t.Fatalf("decision task after timer: %v", eventTypes(d.Events))
	}
}

func TestActivityScheduleToStartTimeout(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	rid := h.start("s2s")
	d := h.mustDecision("deciders")
	dec := scheduleActivity("a", "")
	dec.ScheduleActivityTaskDecisionAttributes.ScheduleToStartTimeout = aws.String("1")
	dec.ScheduleActivityTaskDecisionAttributes.TaskList = &types.TaskList{Name: aws.String("nobody")}
	h.decide(d.TaskToken, dec)
	ev := waitEvent(t, h, "s2s", rid, types.EventTypeActivityTaskTimedOut)
	a := ev.ActivityTaskTimedOutEventAttributes
	if a.TimeoutType != types.ActivityTaskTimeoutTypeScheduleToStart || a.StartedEventId != 0 || a.ScheduledEventId != 5 {
		t.Fatalf("ActivityTaskTimedOut: %+v", a)
	}
	if n, _ := h.c.CountPendingActivityTasks(h.ctx, &swf.CountPendingActivityTasksInput{Domain: aws.String(h.domain), TaskList: &types.TaskList{Name: aws.String("nobody")}}); n.Count != 0 {
		t.Fatalf("timed-out task still pending: %d", n.Count)
	}
}

func TestActivityHeartbeatTimeout(t *testing.T) {
	// A manual clock: the test decides when time passes, so a slow machine
	// cannot make a heartbeat late.
	h := newWFHarness(t, swfdtest.Options{Config: func(c *server.Config) { c.ClockMode = clock.Manual; c.ClockUnsafe = true }})
	rid := h.start("hbt")
	d := h.mustDecision("deciders")
	dec := scheduleActivity("a", "")
	dec.ScheduleActivityTaskDecisionAttributes.HeartbeatTimeout = aws.String("1")
	h.decide(d.TaskToken, dec)
	a := h.mustActivity("workers")
	advance := func(d time.Duration) {
		t.Helper()
		if _, err := h.srv.Server.Clock.Advance(h.ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	// Heartbeats keep it alive past one timeout period.
	for i := 0; i < 3; i++ {
		advance(500 * time.Millisecond)
		if _, err := h.c.RecordActivityTaskHeartbeat(h.ctx, &swf.RecordActivityTaskHeartbeatInput{TaskToken: a.TaskToken, Details: aws.String("beat")}); err != nil {
			t.Fatalf("heartbeat %d: %v", i, err)
		}
	}
	if findEvent(h.history("hbt", rid), types.EventTypeActivityTaskTimedOut) != nil {
		t.Fatal("timed out despite heartbeats")
	}
	advance(time.Second)
	ev := waitEvent(t, h, "hbt", rid, types.EventTypeActivityTaskTimedOut)
	at := ev.ActivityTaskTimedOutEventAttributes
	if at.TimeoutType != types.ActivityTaskTimeoutTypeHeartbeat || at.Details == nil || *at.Details != "beat" || at.StartedEventId != 6 {
		t.Fatalf("ActivityTaskTimedOut: %+v", at)
	}
	_, err := h.c.RespondActivityTaskCompleted(h.ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken})
	wantCode(t, err, "UnknownResourceFault")
}

func TestDecisionTaskStartToCloseTimeout(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	rid := h.start("dt", func(in *swf.StartWorkflowExecutionInput) { in.TaskStartToCloseTimeout = aws.String("1") })
	d := h.mustDecision("deciders")
	ev := waitEvent(t, h, "dt", rid, types.EventTypeDecisionTaskTimedOut)
	if a := ev.DecisionTaskTimedOutEventAttributes; a.TimeoutType != types.DecisionTaskTimeoutTypeStartToClose || a.StartedEventId != 3 || a.ScheduledEventId != 2 {
		t.Fatalf("DecisionTaskTimedOut: %+v", a)
	}
	_, err := h.c.RespondDecisionTaskCompleted(h.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken})
	wantCode(t, err, "UnknownResourceFault")
	d = h.mustDecision("deciders")
	h.decide(d.TaskToken, completeWorkflow(""))
}

// A decision task on a temporary task-list override times out
// START_TO_CLOSE while a signal has scheduled the next one behind it: the
// next decision task is on the execution's list, and the task lists say
// so (nothing pending on the override's list, one on the execution's).
func TestDecisionTaskListOverrideRevertsTheWaitingTask(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{Config: func(c *server.Config) { c.ClockMode = clock.Manual; c.ClockUnsafe = true }})
	rid := h.start("ovr", func(in *swf.StartWorkflowExecutionInput) { in.TaskStartToCloseTimeout = aws.String("10") })
	advance := func(d time.Duration) {
		t.Helper()
		if _, err := h.srv.Server.Clock.Advance(h.ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	pending := func(list string) int32 {
		t.Helper()
		out, err := h.c.CountPendingDecisionTasks(h.ctx, &swf.CountPendingDecisionTasksInput{Domain: aws.String(h.domain), TaskList: &types.TaskList{Name: aws.String(list)}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Count
	}
	d := h.mustDecision("deciders")
	if _, err := h.c.RespondDecisionTaskCompleted(h.ctx, &swf.RespondDecisionTaskCompletedInput{
		TaskToken: d.TaskToken, TaskList: &types.TaskList{Name: aws.String("tmp")}, TaskListScheduleToStartTimeout: aws.String("100"),
		Decisions: []types.Decision{{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{TimerId: aws.String("t"), StartToFireTimeout: aws.String("1")}}},
	}); err != nil {
		t.Fatal(err)
	}
	advance(time.Second)
	d = h.mustDecision("tmp")
	if n := len(d.Events); d.Events[n-1].DecisionTaskStartedEventAttributes.ScheduledEventId != 7 {
		t.Fatalf("override task: %v", eventTypes(d.Events))
	}
	h.must(h.c.SignalWorkflowExecution(h.ctx, &swf.SignalWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("ovr"), RunId: aws.String(rid), SignalName: aws.String("s")}))
	advance(11 * time.Second)

	evs := h.history("ovr", rid)
	if got := eventTypes(evs[10:]); len(got) != 3 || got[0] != "DecisionTaskTimedOut" || got[1] != "DecisionTaskTimedOut" || got[2] != "DecisionTaskScheduled" {
		t.Fatalf("after the timeout: %v", eventTypes(evs))
	}
	if a := evs[11].DecisionTaskTimedOutEventAttributes; a.TimeoutType != types.DecisionTaskTimeoutTypeScheduleToStart || a.ScheduledEventId != 10 {
		t.Fatalf("the waiting task: %+v", a)
	}
	if a := evs[12].DecisionTaskScheduledEventAttributes; *a.TaskList.Name != "deciders" || aws.ToString(a.ScheduleToStartTimeout) != "NONE" {
		t.Fatalf("next task: list %s, scheduleToStartTimeout %s", *a.TaskList.Name, aws.ToString(a.ScheduleToStartTimeout))
	}
	waitFor(t, "the task lists to follow the history", func() bool { return pending("tmp") == 0 && pending("deciders") == 1 })
	if d := h.pollDecision("tmp"); d.TaskToken != nil {
		t.Fatalf("a decision task handed out on the reverted override: %v", eventTypes(d.Events))
	}
	d = h.mustDecision("deciders")
	if n := len(d.Events); d.Events[n-1].DecisionTaskStartedEventAttributes.ScheduledEventId != 13 {
		t.Fatalf("decision task on the execution's list: %v", eventTypes(d.Events))
	}
	h.decide(d.TaskToken, completeWorkflow(""))
}

func TestWorkflowExecutionTimeout(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	rid := h.start("wt", func(in *swf.StartWorkflowExecutionInput) { in.ExecutionStartToCloseTimeout = aws.String("1") })
	ev := waitEvent(t, h, "wt", rid, types.EventTypeWorkflowExecutionTimedOut)
	if a := ev.WorkflowExecutionTimedOutEventAttributes; a.TimeoutType != types.WorkflowExecutionTimeoutTypeStartToClose || a.ChildPolicy != types.ChildPolicyTerminate {
		t.Fatalf("WorkflowExecutionTimedOut: %+v", a)
	}
	if s := h.describe("wt", rid).ExecutionInfo.CloseStatus; s != types.CloseStatusTimedOut {
		t.Fatalf("close status %s", s)
	}
	// Its pending decision task is gone.
	if d := h.pollDecision("deciders"); d.TaskToken != nil {
		t.Fatalf("decision task of a timed-out run handed out: %v", eventTypes(d.Events))
	}
}
