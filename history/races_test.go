package history

import (
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// A worker's answer and a timeout race: whichever is recorded first wins
// and the other is a no-op (timer) or UnknownResourceFault (worker).
func TestActivityCompletesThenTimersFire(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedAct("a1"))
	started := h.startActivity("a1")
	h.must(func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, 5, started, api.String("ok")) })
	h.advance(59 * time.Minute) // past every timeout of the activity, short of the run's (an hour)
	for _, kind := range []string{ActivityScheduleToStart, ActivityScheduleToClose, ActivityStartToClose, ActivityHeartbeat} {
		if res := h.fire(ActivityTimerKey(5, kind)); !isEmpty(res) {
			t.Fatalf("%s after completion: %+v", kind, res)
		}
	}
	// The other way round: timed out, then the worker answers.
	h.pollAndDecide(schedAct("a2"))
	a := h.s.Activities["a2"]
	st := h.startActivity("a2")
	h.fire(ActivityTimerKey(a.ScheduledID, ActivityScheduleToClose))
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) {
		return s.CompleteActivityTask(h.env, a.ScheduledID, st, api.String(""))
	})
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) {
		return s.FailActivityTask(h.env, a.ScheduledID, st, api.String(""), api.String(""))
	})
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.CancelActivityTask(h.env, a.ScheduledID, st, api.String("")) })
}

// Wrong ids are unknown: a started id that does not match, a task not yet
// started, a scheduled id that is not an activity.
func TestActivityTokenChecks(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedAct("a1"))
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, 5, 0, api.String("")) })
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) {
		_, r, err := s.RecordHeartbeat(h.env, 5, 0, api.String(""))
		return r, err
	})
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.StartActivityTask(h.env, 4, api.String("w")) })
	st := h.startActivity("a1")
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, 5, st+1, api.String("")) })
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, 4, st, api.String("")) })
}

// Decision task started with taskStartToCloseTimeout NONE arms no timer.
func TestDecisionTimeoutNone(t *testing.T) {
	h := newHarness(t)
	p := rootParams()
	p.Config.TaskStartToCloseTimeout = "NONE"
	h.start(p)
	res := h.must(func(s *State) (Result, error) { return s.StartDecisionTask(h.env, 2, api.String("d")) })
	if len(res.AddTimers) != 0 || len(res.DoneTasks) != 1 || res.DoneTasks[0] != 2 {
		t.Fatalf("res %+v", res)
	}
	if a := h.event(3).DecisionTaskStartedEventAttributes; !equalJSON(*a, api.DecisionTaskStartedEventAttributes{Identity: api.String("d"), ScheduledEventID: 2}) {
		t.Fatalf("started %+v", a)
	}
	if h.event(2).DecisionTaskScheduledEventAttributes.StartToCloseTimeout != "NONE" {
		t.Fatal("DTS timeout")
	}
}

// A decision task completed, then its START_TO_CLOSE timer fires: nothing.
func TestDecisionCompletesThenTimerFires(t *testing.T) {
	h := startDefault(t)
	res := h.must(func(s *State) (Result, error) { return s.StartDecisionTask(h.env, 2, api.String("d")) })
	if tm, ok := hasTimer(res, "dt:3:S2C"); !ok || tm.Due != t0.Add(10*time.Second) {
		t.Fatalf("timer %+v", res.AddTimers)
	}
	h.decide(3, startTimer("t", "1"))
	h.advance(10 * time.Second)
	if res := h.fire("dt:3:S2C"); !isEmpty(res) {
		t.Fatalf("fired %+v", res)
	}
}

// The event limit also applies to hand-outs: StartDecisionTask may close
// the run instead of starting the task.
func TestEventLimitOnStartDecision(t *testing.T) {
	h := newHarness(t)
	h.env.Limits.MaxEvents = 3
	h.start(rootParams())
	res := h.must(func(s *State) (Result, error) { return s.StartDecisionTask(h.env, 2, api.String("d")) })
	h.expectEvents(res, "3:WorkflowExecutionTerminated")
	if !res.Closed || len(res.AddTimers) != 0 || h.s.OpenCounts().OpenDecisionTasks != 0 {
		t.Fatalf("res %+v", res)
	}
}
