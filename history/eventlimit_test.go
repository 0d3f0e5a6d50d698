package history

import (
	"fmt"
	"strings"
	"testing"

	"github.com/swfd/swfd/api"
)

// The event limit and the calls of clients: a call whose own events would
// not all fit in the history records none of them; the run is terminated
// (EVENT_LIMIT_EXCEEDED) in the same step instead, and the call is
// answered with UnknownResourceFault (Result.Refused). Events the service
// causes itself (timers, a child's close, a poll's hand-out) still
// terminate the run, and nobody is refused.

// fillWithSignals signals the run until its next event would be next. A
// decision task must be pending (scheduled or running with another
// scheduled), so that each signal records one event.
func fillWithSignals(h *harness, next int64) {
	h.t.Helper()
	for i := 0; h.s.NextEventID < next; i++ {
		h.must(func(s *State) (Result, error) { return s.Signal(h.env, "fill", api.String(fmt.Sprint("fill-", i))) })
	}
	if h.s.NextEventID != next {
		h.t.Fatalf("filled to %d, want %d", h.s.NextEventID, next)
	}
}

// expectRefused checks that res terminated the run for the event limit
// (only WorkflowExecutionTerminated, as event id) and refuses the call
// with UnknownResourceFault naming the run and the limit.
func expectRefused(h *harness, res Result, id int64) {
	h.t.Helper()
	h.expectEvents(res, fmt.Sprintf("%d:WorkflowExecutionTerminated", id))
	a := h.last().WorkflowExecutionTerminatedEventAttributes
	if a.Cause != api.WorkflowExecutionTerminatedCauseEventLimitExceeded || a.Reason != nil || a.Details != nil {
		h.t.Fatalf("terminated %+v", a)
	}
	if !res.Closed || h.s.Open || h.s.CloseStatus != api.CloseStatusTerminated {
		h.t.Fatalf("run not closed: %+v", res)
	}
	if len(res.AddTasks) != 0 || len(res.AddTimers) != 0 || res.ContinuedAs != nil {
		h.t.Fatalf("a refused call left tasks, timers or a new run: %+v", res)
	}
	if res.Refused == nil {
		h.t.Fatal("the call was not refused")
	}
	want := fmt.Sprintf("Unknown execution: WorkflowExecution=[workflowId=%s, runId=%s]: terminated because its history reached the limit of %d events", h.s.WorkflowID, h.s.RunID, h.env.Limits.MaxEvents)
	if res.Refused.Code != api.UnknownResourceFault || res.Refused.Message != want {
		h.t.Fatalf("refused with %s %q, want %s %q", res.Refused.Code, res.Refused.Message, api.UnknownResourceFault, want)
	}
}

// noEventWith fails if any event of the history holds s (the input of a
// refused call must leave no trace).
func noEventWith(h *harness, s string) {
	h.t.Helper()
	for _, e := range h.hist {
		b, _ := e.MarshalJSON()
		if strings.Contains(string(b), s) {
			h.t.Fatalf("event %d %s holds %q: %s", e.EventID, e.EventType, s, b)
		}
	}
}

// A signal that does not fit is refused; the run is terminated instead,
// its parent is told (ChildWorkflowExecutionTerminated follows from it)
// and its own child policy reaches its children.
func TestEventLimitRefusesSignal(t *testing.T) {
	h := newHarness(t)
	h.env.Limits.MaxEvents = 12
	p := rootParams()
	p.Parent = &api.WorkflowExecution{WorkflowID: "pw", RunID: "pr"}
	p.ParentInitiatedEventID = 9
	// Started (1), DecisionTaskScheduled (2), a decision task that starts
	// a child (3 … 5), the child's start (6, 7), signals (8 … 11).
	h.start(p)
	h.pollAndDecide(startChild("kid", "child", nil))
	h.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: 5, Child: api.WorkflowExecution{WorkflowID: "kid", RunID: "kr"}}})
	fillWithSignals(h, 12)
	res := h.must(func(s *State) (Result, error) { return s.Signal(h.env, "late", api.String("refused-input")) })
	expectRefused(h, res, 12)
	noEventWith(h, "refused-input")
	if len(res.Messages) != 2 {
		t.Fatalf("messages %+v", res.Messages)
	}
	if m := res.Messages[0]; m.ChildClosed == nil || m.RunID != "pr" || m.ChildClosed.CloseStatus != api.CloseStatusTerminated || m.ChildClosed.InitiatedID != 9 {
		t.Fatalf("parent told %+v", m)
	}
	if m := res.Messages[1]; m.Terminate == nil || m.WorkflowID != "kid" || m.Terminate.Parent == nil || m.Terminate.Parent.InitiatedID != 5 {
		t.Fatalf("child policy %+v", m)
	}
	// The run is closed: a later signal is the usual UnknownResourceFault.
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.Signal(h.env, "later", nil) })
}

// A signal is all or nothing with the decision task it schedules: when
// WorkflowExecutionSignaled fits and DecisionTaskScheduled does not, the
// signal is refused too (recorded, it would never reach a decider).
func TestEventLimitSignalAndItsDecisionTask(t *testing.T) {
	h := newHarness(t)
	h.env.Limits.MaxEvents = 7
	h.start(rootParams())            // 1, 2
	h.pollAndDecide(marker("m", "")) // 3, 4, 5: no decision task pending
	res := h.must(func(s *State) (Result, error) { return s.Signal(h.env, "late", api.String("refused-input")) })
	expectRefused(h, res, 6)
	noEventWith(h, "refused-input")
}

func TestEventLimitRefusesCancelRequest(t *testing.T) {
	h := newHarness(t)
	h.env.Limits.MaxEvents = 6
	h.start(rootParams()) // 1, 2
	fillWithSignals(h, 6) // 3 … 5
	res := h.must(func(s *State) (Result, error) { return s.RequestCancel(h.env) })
	expectRefused(h, res, 6)
	if h.s.CancelRequested {
		t.Fatal("a refused cancel request was recorded in the state")
	}
	for _, e := range h.hist {
		if e.EventType == api.EventTypeWorkflowExecutionCancelRequested {
			t.Fatalf("refused cancel request recorded as event %d", e.EventID)
		}
	}
}

// A worker's answer that does not fit, with the decision task it
// schedules, is refused: its result, reason or details are not recorded.
func TestEventLimitRefusesActivityAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(s *State, env Env, sched, started int64) (Result, error)
	}{
		{"completed", func(s *State, env Env, sched, started int64) (Result, error) {
			return s.CompleteActivityTask(env, sched, started, api.String("refused-input"))
		}},
		{"failed", func(s *State, env Env, sched, started int64) (Result, error) {
			return s.FailActivityTask(env, sched, started, api.String("refused-input"), api.String("refused-input"))
		}},
		{"canceled", func(s *State, env Env, sched, started int64) (Result, error) {
			return s.CancelActivityTask(env, sched, started, api.String("refused-input"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.env.Limits.MaxEvents = 8
			h.start(rootParams())           // 1, 2
			h.pollAndDecide(schedAct("a"))  // 3, 4, 5
			started := h.startActivity("a") // 6
			// The answer (7) would fit, its DecisionTaskScheduled (8) not.
			res := h.must(func(s *State) (Result, error) { return tc.answer(s, h.env, 5, started) })
			expectRefused(h, res, 7)
			noEventWith(h, "refused-input")
			// And when the answer itself does not fit.
			g := newHarness(t)
			g.env.Limits.MaxEvents = 7
			g.start(rootParams())
			g.pollAndDecide(schedAct("a"))
			started = g.startActivity("a")
			// A heartbeat records no event: at the limit it is answered
			// as ever.
			res = g.must(func(s *State) (Result, error) {
				_, r, err := s.RecordHeartbeat(g.env, 5, started, api.String("beat"))
				return r, err
			})
			if len(res.Events) != 0 || res.Refused != nil || !g.s.Open {
				t.Fatalf("heartbeat at the limit: %+v", res)
			}
			res = g.must(func(s *State) (Result, error) { return tc.answer(s, g.env, 5, started) })
			expectRefused(g, res, 7)
			noEventWith(g, "refused-input")
		})
	}
}

// A decision batch is all or nothing: when its events would pass the
// limit, none of them is recorded, not even DecisionTaskCompleted, and
// nothing it asked for happens (no activity, timer, child, signal, no
// closing, no continued run).
func TestEventLimitRefusesDecisionBatch(t *testing.T) {
	h := newHarness(t)
	h.env.Limits.MaxEvents = 12
	h.start(rootParams())  // 1, 2
	st := h.pollDecision() // 3
	prev := h.s.PreviousStartedEventID
	in := &api.RespondDecisionTaskCompletedInput{ExecutionContext: api.String("refused-context"), Decisions: []api.Decision{
		schedAct("refused-activity"), startTimer("refused-timer", "5"), startChild("refused-child", "child", nil),
		signalExt("refused-target", "", "refused-signal"), marker("refused-marker", ""), marker("m2", ""), marker("m3", ""),
		marker("m4", ""), completeWF("refused-result"),
	}}
	// DecisionTaskCompleted (4) and the first seven decisions (5 … 11)
	// fit; the eighth (12) is the last slot, which only a closing event
	// may take.
	res := h.must(func(s *State) (Result, error) { return s.CompleteDecisionTask(h.env, st, in) })
	expectRefused(h, res, 4)
	for _, s := range []string{"refused-context", "refused-activity", "refused-timer", "refused-child", "refused-target", "refused-marker", "refused-result"} {
		noEventWith(h, s)
	}
	if len(res.Messages) != 0 {
		t.Fatalf("a refused batch sent %+v", res.Messages)
	}
	if h.s.PreviousStartedEventID != prev || h.s.LatestExecutionContext != nil {
		t.Fatalf("a refused batch changed the run: previous %d, context %v", h.s.PreviousStartedEventID, h.s.LatestExecutionContext)
	}

	// A continue-as-new in a batch that does not fit starts no new run.
	c := newHarness(t)
	c.env.Limits.MaxEvents = 5
	c.start(rootParams())
	res = c.pollAndDecide(marker("m", ""), marker("m", ""), continueAsNew(nil))
	expectRefused(c, res, 4)

	// The same batch less one marker fits exactly: DecisionTaskCompleted
	// (4), seven decisions (5 … 11), the closing event in the last slot.
	k := newHarness(t)
	k.env.Limits.MaxEvents = 12
	k.start(rootParams())
	in.Decisions = append(in.Decisions[:7:7], completeWF("done"))
	st = k.pollDecision()
	res = k.must(func(s *State) (Result, error) { return s.CompleteDecisionTask(k.env, st, in) })
	if res.Refused != nil || k.last().EventType != api.EventTypeWorkflowExecutionCompleted || k.last().EventID != 12 {
		t.Fatalf("a batch that fits was refused: %s", evTypes(res.Events))
	}
}

// Decisions that record two events each (canceling an activity not yet
// started) are counted as such: the batch is refused as a whole, or
// applied as a whole.
func TestEventLimitBatchOfTwoEventDecisions(t *testing.T) {
	for _, tc := range []struct {
		max     int
		refused bool
	}{{18, true}, {19, false}} {
		h := newHarness(t)
		h.env.Limits.MaxEvents = tc.max
		h.start(rootParams())
		// Three activities (3 … 7), a signal and its decision task (8, 9),
		// the decision task started (10).
		h.pollAndDecide(schedAct("a"), schedAct("b"), schedAct("c"))
		h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", nil) })
		st := h.pollDecision()
		// DecisionTaskCompleted (11), two events per decision (12 … 17),
		// DecisionTaskScheduled (18).
		res := h.must(func(s *State) (Result, error) {
			return s.CompleteDecisionTask(h.env, st, &api.RespondDecisionTaskCompletedInput{Decisions: []api.Decision{cancelAct("a"), cancelAct("b"), cancelAct("c")}})
		})
		if got := res.Refused != nil; got != tc.refused {
			t.Fatalf("max %d: refused %v, want %v: %s", tc.max, got, tc.refused, evTypes(res.Events))
		}
		if tc.refused {
			expectRefused(h, res, 11)
		} else {
			h.expectEvents(res, "11:DecisionTaskCompleted 12:ActivityTaskCancelRequested 13:ActivityTaskCanceled 14:ActivityTaskCancelRequested 15:ActivityTaskCanceled 16:ActivityTaskCancelRequested 17:ActivityTaskCanceled 18:DecisionTaskScheduled")
		}
	}
}

// A signal sent by another run's decision is refused as a client's is,
// so that its sender can be told it failed.
func TestEventLimitRefusesDeliveredSignal(t *testing.T) {
	h := newHarness(t)
	h.env.Limits.MaxEvents = 6
	h.start(rootParams())
	fillWithSignals(h, 6)
	sender := api.WorkflowExecution{WorkflowID: "sw", RunID: "sr"}
	res := h.deliver(Message{Signal: &SignalMsg{Sender: sender, InitiatedID: 5, SignalName: "late", Input: api.String("refused-input")}})
	expectRefused(h, res, 6)
	noEventWith(h, "refused-input")
}

// Events the service causes still terminate the run at the limit, and
// refuse nobody: a timer that fires, a child's close, a poll's hand-out
// (which then hands out nothing: the service looks for another task). The
// terminated run's parent is told, and its child policy applied. A
// client's call on the same run at the same point is refused.
func TestEventLimitServiceEvents(t *testing.T) {
	h := newHarness(t)
	h.env.Limits.MaxEvents = 12
	p := rootParams()
	p.Parent = &api.WorkflowExecution{WorkflowID: "pw", RunID: "pr"}
	p.ParentInitiatedEventID = 9
	// Started (1), DecisionTaskScheduled (2), a decision task that starts
	// a child, a timer and an activity (3 … 7), the child's start (8, 9),
	// signals (10, 11).
	h.start(p)
	h.pollAndDecide(startChild("kid", "child", nil), startTimer("t", "5"), schedAct("a"))
	h.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: 5, Child: api.WorkflowExecution{WorkflowID: "kid", RunID: "kr"}}})
	fillWithSignals(h, 12)
	at := func() *harness {
		return &harness{t: t, env: h.env, s: h.s.Clone(), hist: append([]api.HistoryEvent(nil), h.hist...)}
	}
	terminated := func(g *harness, res Result) {
		t.Helper()
		g.expectEvents(res, "12:WorkflowExecutionTerminated")
		if res.Refused != nil || !res.Closed || len(res.AddTasks) != 0 || len(res.AddTimers) != 0 {
			t.Fatalf("res %+v", res)
		}
		if len(res.Messages) != 2 || res.Messages[0].ChildClosed == nil || res.Messages[0].ChildClosed.CloseStatus != api.CloseStatusTerminated || res.Messages[1].Terminate == nil {
			t.Fatalf("messages %+v", res.Messages)
		}
	}

	g := at()
	terminated(g, g.fire(UserTimerKey("t", 6)))
	g = at()
	terminated(g, g.deliver(Message{ChildClosed: &ChildClosedMsg{InitiatedID: 5, Child: api.WorkflowExecution{WorkflowID: "kid", RunID: "kr"}, CloseStatus: api.CloseStatusCompleted}}))
	g = at()
	terminated(g, g.must(func(s *State) (Result, error) { return s.StartActivityTask(g.env, 7, api.String("w")) }))

	g = at()
	res := g.must(func(s *State) (Result, error) { return s.Signal(g.env, "late", api.String("refused-input")) })
	expectRefused(g, res, 12)
}
