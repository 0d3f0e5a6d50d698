package history

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// These tests make calls at a time past a deadline whose timer has not
// fired (the timer loop runs late): each call must find the run as it
// would had the timer fired on time.

// refused checks that res is a call refused with UnknownResourceFault
// after recording what the timers due before it recorded (want).
func (h *harness) refused(res Result, want string) {
	h.t.Helper()
	h.expectEvents(res, want)
	if res.Refused == nil || res.Refused.Code != api.UnknownResourceFault {
		h.t.Fatalf("call not refused: %+v", res.Refused)
	}
}

func TestLateHeartbeatDoesNotReviveTask(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedAct("a1")) // heartbeat timeout 20 s
	h.startActivity("a1")
	h.advance(20 * time.Second) // the deadline; the timer has not fired
	res := h.must(func(s *State) (Result, error) {
		_, r, err := s.RecordHeartbeat(h.env, 5, 6, api.String("late"))
		return r, err
	})
	h.refused(res, "7:ActivityTaskTimedOut 8:DecisionTaskScheduled")
	if a := h.event(7).ActivityTaskTimedOutEventAttributes; a.TimeoutType != api.ActivityTaskTimeoutTypeHeartbeat || a.ScheduledEventID != 5 || a.StartedEventID != 6 || a.Details != nil {
		t.Fatalf("ActivityTaskTimedOut %+v", a)
	}
	for _, k := range []string{"at:5:HB", "at:5:ST2C", "at:5:S2C"} {
		if !hasString(res.DeleteTimers, k) {
			t.Fatalf("timer %s kept: %v", k, res.DeleteTimers)
		}
	}
	// The timer fires late: nothing more.
	if res := h.fire("at:5:HB"); !isEmpty(res) {
		t.Fatalf("late timer recorded %s", evTypes(res.Events))
	}
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, 5, 6, nil) })
}

func TestLateActivityAnswersTimeOut(t *testing.T) {
	answers := map[string]func(h *harness, s *State) (Result, error){
		"completed": func(h *harness, s *State) (Result, error) {
			return s.CompleteActivityTask(h.env, 5, 6, api.String("r"))
		},
		"failed": func(h *harness, s *State) (Result, error) {
			return s.FailActivityTask(h.env, 5, 6, api.String("x"), nil)
		},
		"canceled": func(h *harness, s *State) (Result, error) { return s.CancelActivityTask(h.env, 5, 6, nil) },
	}
	for name, answer := range answers {
		t.Run(name, func(t *testing.T) {
			h := startDefault(t)
			h.pollAndDecide(schedActOf("a1", "act", func(a *api.ScheduleActivityTaskDecisionAttributes) { a.HeartbeatTimeout = "NONE" }))
			h.startActivity("a1") // start-to-close 60 s
			h.advance(60*time.Second - time.Millisecond)
			h.must(func(s *State) (Result, error) {
				_, r, err := s.RecordHeartbeat(h.env, 5, 6, api.String("beat"))
				return r, err
			})
			h.advance(time.Millisecond) // the deadline
			res := h.must(func(s *State) (Result, error) { return answer(h, s) })
			h.refused(res, "7:ActivityTaskTimedOut 8:DecisionTaskScheduled")
			if a := h.event(7).ActivityTaskTimedOutEventAttributes; a.TimeoutType != api.ActivityTaskTimeoutTypeStartToClose || a.StartedEventID != 6 || api.Value(a.Details) != "beat" {
				t.Fatalf("ActivityTaskTimedOut %+v", a)
			}
		})
	}
	// Short of the deadline the answer is taken.
	h := startDefault(t)
	h.pollAndDecide(schedAct("a1"))
	h.startActivity("a1")
	h.advance(20*time.Second - time.Millisecond)
	res := h.must(func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, 5, 6, nil) })
	h.expectEvents(res, "7:ActivityTaskCompleted 8:DecisionTaskScheduled")
	if res.Refused != nil {
		t.Fatal(res.Refused)
	}
}

// A poll that takes a task past its SCHEDULE_TO_START records the timeout
// and hands out nothing.
func TestLatePollTimesOutTask(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedAct("a1")) // schedule-to-start 30 s
	h.advance(31 * time.Second)
	res := h.must(func(s *State) (Result, error) { return s.StartActivityTask(h.env, 5, api.String("w")) })
	h.refused(res, "6:ActivityTaskTimedOut 7:DecisionTaskScheduled")
	if a := h.event(6).ActivityTaskTimedOutEventAttributes; a.TimeoutType != api.ActivityTaskTimeoutTypeScheduleToStart || a.StartedEventID != 0 {
		t.Fatalf("ActivityTaskTimedOut %+v", a)
	}
	if len(res.DoneTasks) != 1 || res.DoneTasks[0] != 5 || len(h.s.Activities) != 0 {
		t.Fatalf("task kept: %+v", res)
	}
}

// The decider answers after its task's START_TO_CLOSE: the answer is
// refused and changes nothing but the timeout, which makes the next
// decision task available at once.
func TestLateDecisionAnswerIsRefused(t *testing.T) {
	h := startDefault(t) // taskStartToCloseTimeout 10 s
	started := h.pollDecision()
	h.advance(10 * time.Second)
	res := h.must(func(s *State) (Result, error) {
		return s.CompleteDecisionTask(h.env, started, &api.RespondDecisionTaskCompletedInput{
			Decisions: []api.Decision{schedAct("a1"), completeWF("done")}, ExecutionContext: api.String("ctx")})
	})
	h.refused(res, "4:DecisionTaskTimedOut 5:DecisionTaskScheduled")
	if a := h.event(4).DecisionTaskTimedOutEventAttributes; a.TimeoutType != api.DecisionTaskTimeoutTypeStartToClose || a.ScheduledEventID != 2 || a.StartedEventID != 3 {
		t.Fatalf("DecisionTaskTimedOut %+v", a)
	}
	if !h.s.Open || len(h.s.Activities) != 0 || h.s.LatestExecutionContext != nil || h.s.PreviousStartedEventID != 0 || h.s.Decision.ScheduledID != 5 {
		t.Fatalf("state after a refused answer: %+v", h.s)
	}
	if len(res.AddTasks) != 1 || res.AddTasks[0].ScheduledEventID != 5 || !hasString(res.DeleteTimers, "dt:3:S2C") {
		t.Fatalf("res %+v", res)
	}
	// The next task is answered normally.
	h.pollAndDecide(completeWF("done"))
	if h.s.Open || h.s.CloseStatus != api.CloseStatusCompleted {
		t.Fatal("not completed")
	}
}

// A timer due while the decider worked fires before its answer is
// applied: the decider has not seen it, so its closing decision fails.
func TestOverdueTimerFiresBeforeTheAnswer(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(startTimer("t", "5"))
	h.must(func(s *State) (Result, error) { return s.Signal(h.env, "go", nil) })
	started := h.pollDecision()
	h.advance(5 * time.Second)
	res := h.must(func(s *State) (Result, error) {
		return s.CompleteDecisionTask(h.env, started, &api.RespondDecisionTaskCompletedInput{Decisions: []api.Decision{cancelTimer("t"), completeWF("")}})
	})
	h.expectEvents(res, "9:TimerFired 10:DecisionTaskScheduled 11:DecisionTaskCompleted 12:CancelTimerFailed 13:CompleteWorkflowExecutionFailed")
	if res.Refused != nil || !h.s.Open || h.event(9).TimerFiredEventAttributes.StartedEventID != 5 {
		t.Fatalf("refused %v, open %v, fired %+v", res.Refused, h.s.Open, h.event(9).TimerFiredEventAttributes)
	}
	if a := h.event(11).DecisionTaskCompletedEventAttributes; a.ScheduledEventID != 7 || a.StartedEventID != 8 {
		t.Fatalf("DecisionTaskCompleted %+v", a)
	}
	if a := h.event(12).CancelTimerFailedEventAttributes; a.Cause != api.CancelTimerFailedCauseTimerIdUnknown || a.DecisionTaskCompletedEventID != 11 {
		t.Fatalf("CancelTimerFailed %+v", a)
	}
	if c := h.event(13).CompleteWorkflowExecutionFailedEventAttributes.Cause; c != api.CompleteWorkflowExecutionFailedCauseUnhandledDecision {
		t.Fatalf("cause %s", c)
	}
	if !hasString(res.DeleteTimers, "ut:t:5") || len(res.AddTasks) != 1 || res.AddTasks[0].ScheduledEventID != 10 {
		t.Fatalf("res %+v", res)
	}
	if res := h.fire("ut:t:5"); !isEmpty(res) {
		t.Fatalf("timer fired twice: %s", evTypes(res.Events))
	}
}

// Several timers overdue fire in the timer loop's order: by due time,
// whatever order the run keeps them in.
func TestOverdueTimersFireInOrder(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(startTimer("late", "15"), schedAct("a1"), startTimer("early", "3"))
	h.startActivity("a1") // heartbeat 20 s from now
	h.advance(25 * time.Second)
	res := h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", nil) })
	h.expectEvents(res, "9:TimerFired 10:DecisionTaskScheduled 11:TimerFired 12:ActivityTaskTimedOut 13:WorkflowExecutionSignaled")
	if h.event(9).TimerFiredEventAttributes.TimerID != "early" || h.event(11).TimerFiredEventAttributes.TimerID != "late" {
		t.Fatalf("order: %+v %+v", h.event(9).TimerFiredEventAttributes, h.event(11).TimerFiredEventAttributes)
	}
	for _, e := range res.Events {
		if !e.EventTimestamp.Equal(h.env.Now) {
			t.Fatalf("event %d dated %v, not at the call", e.EventID, e.EventTimestamp)
		}
	}
}

// Calls on a run past its executionStartToCloseTimeout time it out and are
// refused, as on a run that has timed out; its child policy is applied.
func TestCallsPastTheRunsTimeout(t *testing.T) {
	calls := map[string]func(h *harness, s *State) (Result, error){
		"signal":    func(h *harness, s *State) (Result, error) { return s.Signal(h.env, "s", nil) },
		"cancel":    func(h *harness, s *State) (Result, error) { return s.RequestCancel(h.env) },
		"terminate": func(h *harness, s *State) (Result, error) { return s.Terminate(h.env, nil, nil, "", "") },
		"decision": func(h *harness, s *State) (Result, error) {
			return s.CompleteDecisionTask(h.env, h.s.Decision.StartedID, &api.RespondDecisionTaskCompletedInput{Decisions: []api.Decision{completeWF("")}})
		},
		"delivered signal": func(h *harness, s *State) (Result, error) {
			return s.Deliver(h.env, Message{Signal: &SignalMsg{Sender: api.WorkflowExecution{WorkflowID: "o", RunID: "o1"}, InitiatedID: 9, SignalName: "s"}})
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			p := rootParams()
			p.Config.TaskStartToCloseTimeout = "NONE"
			h.start(p)
			h.pollAndDecide(startChild("kid", "child", nil))
			h.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: 5, Child: api.WorkflowExecution{WorkflowID: "kid", RunID: "k1"}, Type: api.WorkflowType{Name: "child", Version: "1"}}})
			h.pollDecision()
			h.advance(time.Hour)
			res := h.must(func(s *State) (Result, error) { return call(h, s) })
			h.refused(res, "9:WorkflowExecutionTimedOut")
			if !res.Closed || h.s.CloseStatus != api.CloseStatusTimedOut || !strings.HasPrefix(res.Refused.Message, "Unknown execution") {
				t.Fatalf("closed %v as %s, refused %v", res.Closed, h.s.CloseStatus, res.Refused)
			}
			if len(res.Messages) != 1 || res.Messages[0].Terminate == nil || res.Messages[0].WorkflowID != "kid" {
				t.Fatalf("child policy: %+v", res.Messages)
			}
			if len(res.AddTasks) != 0 || len(res.AddTimers) != 0 {
				t.Fatalf("a closed run arms %+v", res)
			}
		})
	}
}

// An error that is no fault (a store's, on the way to deciding the call)
// fails the call even when timers were caught up before it: nothing of it
// is recorded, the timers' events included; a fault is answered with them.
func TestRefuseKeepsStoreErrorsOutOfHistory(t *testing.T) {
	s := &State{Open: true, WorkflowID: "w", RunID: "r"}
	pre := Result{Events: []api.HistoryEvent{{EventType: api.EventTypeTimerFired}}, DeleteTimers: []string{"t"}}
	storeErr := errors.New("disk I/O error")
	res, err := s.refuse(pre, storeErr)
	if !errors.Is(err, storeErr) || len(res.Events) != 0 || len(res.DeleteTimers) != 0 || res.Refused != nil {
		t.Fatalf("refuse(store error) = %+v, %v; want nothing to commit and the error", res, err)
	}
	res, err = s.refuse(pre, api.ErrUnknownResource("Unknown activity"))
	if err != nil || len(res.Events) != 1 || res.Refused == nil || res.Refused.Code != api.UnknownResourceFault {
		t.Fatalf("refuse(fault) = %+v, %v; want the timers committed and the fault as Refused", res, err)
	}
}

// A poll that would start a decision task on a temporary task-list override
// at or after its SCHEDULE_TO_START deadline finds it timed out, as the timer
// loop would have had it on time: the override reverts and the next task is
// scheduled on the execution's list. The deadline runs from when the task
// was put on its list, which for a task scheduled while another ran is when
// that one ended, not its DecisionTaskScheduled. This timer used to be left
// to the timer loop, so a late loop let the poll start the task.
func TestLatePollOnTemporaryOverrideTimesOut(t *testing.T) {
	override := &api.RespondDecisionTaskCompletedInput{TaskList: &api.TaskList{Name: "tmp"}, TaskListScheduleToStartTimeout: "100"}
	// Put on its list at once.
	h := startDefault(t)
	st := h.pollDecision() // 3
	h.must(func(s *State) (Result, error) {
		in := *override
		in.Decisions = []api.Decision{startTimer("t", "1")}
		return s.CompleteDecisionTask(h.env, st, &in)
	}) // 4, 5
	h.advance(time.Second)
	h.expectEvents(h.fire("ut:t:5"), "6:TimerFired 7:DecisionTaskScheduled")
	h.advance(100 * time.Second) // the deadline; the timer has not fired
	res := h.must(func(s *State) (Result, error) { return s.StartDecisionTask(h.env, 7, api.String("late")) })
	h.refused(res, "8:DecisionTaskTimedOut 9:DecisionTaskScheduled")
	if a := h.event(8).DecisionTaskTimedOutEventAttributes; a.TimeoutType != api.DecisionTaskTimeoutTypeScheduleToStart || a.ScheduledEventID != 7 {
		t.Fatalf("DecisionTaskTimedOut %+v", a)
	}
	if a := h.event(9).DecisionTaskScheduledEventAttributes; a.TaskList.Name != "deciders" || len(res.AddTasks) != 1 || res.AddTasks[0].TaskList != "deciders" {
		t.Fatalf("not reverted: %+v, tasks %+v", a, res.AddTasks)
	}

	// Scheduled while another ran, put on its list when that one completed.
	h = startDefault(t)
	st = h.pollDecision() // 3
	h.must(func(s *State) (Result, error) {
		in := *override
		in.Decisions = []api.Decision{startTimer("t", "1")}
		return s.CompleteDecisionTask(h.env, st, &in)
	}) // 4, 5
	h.advance(time.Second)
	h.fire("ut:t:5")      // 6, 7 on tmp
	st = h.pollDecision() // 8
	h.expectEvents(h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", nil) }), "9:WorkflowExecutionSignaled 10:DecisionTaskScheduled")
	h.advance(5 * time.Second)
	res = h.must(func(s *State) (Result, error) { return s.CompleteDecisionTask(h.env, st, override) })
	h.expectEvents(res, "11:DecisionTaskCompleted")
	if len(res.AddTasks) != 1 || res.AddTasks[0].TaskList != "tmp" || res.AddTasks[0].ScheduledEventID != 10 {
		t.Fatalf("tasks %+v", res.AddTasks)
	}
	// 100 s after it was scheduled, but not after it was put on its list.
	h.advance(100*time.Second - time.Millisecond)
	clone := h.s.Clone()
	res, err := clone.StartDecisionTask(h.env, 10, api.String("in time"))
	if err != nil || res.Refused != nil || evTypes(res.Events) != "12:DecisionTaskStarted" {
		t.Fatalf("in time: %s %v %v", evTypes(res.Events), res.Refused, err)
	}
	h.advance(time.Millisecond)
	res = h.must(func(s *State) (Result, error) { return s.StartDecisionTask(h.env, 10, api.String("late")) })
	h.refused(res, "12:DecisionTaskTimedOut 13:DecisionTaskScheduled")
	if a := h.event(12).DecisionTaskTimedOutEventAttributes; a.TimeoutType != api.DecisionTaskTimeoutTypeScheduleToStart || a.ScheduledEventID != 10 {
		t.Fatalf("DecisionTaskTimedOut %+v", a)
	}
}

// Looking a run's timers over, which every step does, makes a key only
// for a timer that is due: a run of a thousand open activities none of
// which is due costs no allocation per activity.
func TestDueByMakesKeysOfDueTimersOnly(t *testing.T) {
	s := fanOutState(1000)
	now := times[0].Add(30 * time.Minute)
	if due := s.dueBy(now); len(due) != 0 {
		t.Fatalf("%d timers due, none wanted", len(due))
	}
	if n := testing.AllocsPerRun(10, func() { s.dueBy(now) }); n > 2 {
		t.Errorf("%.0f allocations", n)
	}
	s.Activities["7"].ScheduleToClose = "60"
	if due := s.dueBy(now); len(due) != 1 || due[0].key != ActivityTimerKey(12, ActivityScheduleToClose) || !due[0].due.Equal(times[0].Add(time.Minute)) {
		t.Fatalf("due: %.200v", due)
	}
}

// Timers due at one instant fire in the order they were armed, as they
// would in real time, where the one armed later is due later by as long
// as came between: a timer of the run's own length, started by its first
// decision, never fires before the run times out. So it is whether the
// timer loop fires them (in the store's order, by key) or a call catches
// them up.
func TestSameInstantTimersFireInTheOrderArmed(t *testing.T) {
	for _, how := range []string{"loop", "call"} {
		t.Run(how, func(t *testing.T) {
			h := startDefault(t) // executionStartToCloseTimeout 3600
			h.pollAndDecide(startTimer("t", "3600"))
			h.advance(time.Hour)
			var res Result
			if how == "loop" {
				res = h.fire("ut:t:5") // "ut:" sorts before "wf": the loop takes it first
			} else {
				res = h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", nil) })
			}
			h.expectEvents(res, "6:WorkflowExecutionTimedOut")
			if !hasString(res.DeleteTimers, WorkflowTimerKey) {
				t.Fatalf("the run's timer kept: %v", res.DeleteTimers)
			}
			if res := h.fire(WorkflowTimerKey); !isEmpty(res) {
				t.Fatalf("fired again: %s", evTypes(res.Events))
			}
		})
	}
}

// Activities scheduled one after another with the same timeout time out
// in the order they were scheduled, the tenth after the ninth (their keys,
// "at:14:S2S" and "at:5:S2S", sort the other way as text).
func TestSameInstantActivityTimeoutsInScheduledOrder(t *testing.T) {
	for _, how := range []string{"loop", "call"} {
		t.Run(how, func(t *testing.T) {
			h := startDefault(t)
			var ds []api.Decision
			for i := range 10 {
				ds = append(ds, schedActOf(fmt.Sprint("a", i), "act", func(a *api.ScheduleActivityTaskDecisionAttributes) { a.ScheduleToStartTimeout = "30" }))
			}
			h.pollAndDecide(ds...) // scheduled as events 5 to 14
			h.advance(30 * time.Second)
			var res Result
			if how == "loop" {
				res = h.fire(ActivityTimerKey(10, ActivityScheduleToStart))
			} else {
				res = h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", nil) })
			}
			var got []int64
			for _, e := range res.Events {
				if a := e.ActivityTaskTimedOutEventAttributes; a != nil {
					got = append(got, a.ScheduledEventID)
				}
			}
			if how == "loop" {
				if want := []int64{5, 6, 7, 8, 9, 10}; !slices.Equal(got, want) {
					t.Fatalf("timed out %v, want %v", got, want)
				}
				return
			}
			if want := []int64{5, 6, 7, 8, 9, 10, 11, 12, 13, 14}; !slices.Equal(got, want) {
				t.Fatalf("timed out %v, want %v", got, want)
			}
		})
	}
}
