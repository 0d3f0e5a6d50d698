package service

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// commitCounter counts the commits a node hands its store, and the bytes
// of the runs' states they write.
type commitCounter struct {
	swfd.Store
	commits, stateBytes, maxState atomic.Int64
}

func (c *commitCounter) Commit(ctx context.Context, b swfd.Batch) error {
	if len(b.Updates) > 0 {
		c.commits.Add(1)
	}
	for _, u := range b.Updates {
		n := int64(len(u.Execution.State))
		c.stateBytes.Add(n)
		if n > c.maxState.Load() {
			c.maxState.Store(n)
		}
	}
	return c.Store.Commit(ctx, b)
}

func (c *commitCounter) reset() {
	c.commits.Store(0)
	c.stateBytes.Store(0)
	c.maxState.Store(0)
}

// TestSignalsToItselfCommitInBatches: a run whose one decision sends
// hundreds of signals to itself (named by run id and by workflow id alike)
// and to another run gets each signal exactly once, in the order sent, and
// hears back about each exactly once; and the deliveries take a few
// commits, not one or two per signal. A run's state holds every signal it
// has sent and not heard back about, so a commit per delivery rewrote that
// growing state for every signal: settling took time in the square of
// their number (1,000 signals to itself: 2,000 commits writing 100 MB of
// state).
func TestSignalsToItselfCommitInBatches(t *testing.T) {
	const n = 600
	var counter *commitCounter
	wrap := func(s swfd.Store) swfd.Store {
		counter = &commitCounter{Store: s}
		return counter
	}
	policyWorlds(t, wrap, func(t *testing.T, w *policyWorld) {
		start := func(id, list string) string {
			run, err := w.calls.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id,
				WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, TaskList: &api.TaskList{Name: list}})
			mustNil(t, err)
			return run.RunID
		}
		me, other := start("me", "me"), start("other", "other")
		// Signal i goes to "me" by run id, to "me" by workflow id, or to
		// "other", in turn.
		var ds []api.Decision
		sent := map[string][]string{}
		for i := range n {
			a := &api.SignalExternalWorkflowExecutionDecisionAttributes{WorkflowID: "me", SignalName: strconv.Itoa(i), Input: api.String(fmt.Sprint("input ", i))}
			switch i % 3 {
			case 0:
				a.RunID = api.String(me)
			case 2:
				a.WorkflowID, a.RunID = "other", api.String(other)
			}
			sent[a.WorkflowID] = append(sent[a.WorkflowID], a.SignalName)
			ds = append(ds, api.Decision{DecisionType: api.DecisionTypeSignalExternalWorkflowExecution, SignalExternalWorkflowExecutionDecisionAttributes: a})
		}
		w.decide(w.decisionTask("me"), ds...)
		counter.reset()
		w.settle()

		for id, run := range map[string]string{"me": me, "other": other} {
			var got []string
			for _, e := range allEvents(t, w, id, run) {
				if a := e.WorkflowExecutionSignaledEventAttributes; a != nil {
					got = append(got, a.SignalName)
					if a.Input == nil || *a.Input != "input "+a.SignalName {
						t.Fatalf("signal %s to %s came with input %v", a.SignalName, id, a.Input)
					}
				}
			}
			if !slices.Equal(got, sent[id]) {
				t.Fatalf("%s got %d signals, want the %d sent, in order:\n got %v\nwant %v", id, len(got), len(sent[id]), got, sent[id])
			}
		}
		initiated, answered := map[int64]bool{}, map[int64]int{}
		for _, e := range allEvents(t, w, "me", me) {
			switch {
			case e.SignalExternalWorkflowExecutionInitiatedEventAttributes != nil:
				initiated[e.EventID] = true
			case e.ExternalWorkflowExecutionSignaledEventAttributes != nil:
				answered[e.ExternalWorkflowExecutionSignaledEventAttributes.InitiatedEventID]++
			case e.SignalExternalWorkflowExecutionFailedEventAttributes != nil:
				t.Fatalf("a signal failed: %+v", e.SignalExternalWorkflowExecutionFailedEventAttributes)
			}
		}
		if len(initiated) != n || len(answered) != n {
			t.Fatalf("%d signals initiated, %d answered; want %d", len(initiated), len(answered), n)
		}
		for id, k := range answered {
			if !initiated[id] || k != 1 {
				t.Fatalf("initiated event %d answered %d times (initiated: %v)", id, k, initiated[id])
			}
		}
		left, err := w.store.PendingTransfers(w.ctx, 10)
		mustNil(t, err)
		if len(left) != 0 {
			t.Fatalf("%d messages left pending", len(left))
		}

		commits, bytes, biggest := counter.commits.Load(), counter.stateBytes.Load(), counter.maxState.Load()
		t.Logf("%d signals delivered in %d commits writing %d bytes of state (the largest state %d bytes)", n, commits, bytes, biggest)
		if commits > n/20 {
			t.Errorf("%d signals took %d commits of runs; want at most %d", n, commits, n/20)
		}
		if bytes > 16*biggest {
			t.Errorf("%d signals wrote %d bytes of state, %d times the largest state (%d bytes); want at most 16 times", n, bytes, bytes/biggest, biggest)
		}
	})
}

// allEvents reads a run's whole history, page by page.
func allEvents(t *testing.T, w *policyWorld, workflowID, runID string) []api.HistoryEvent {
	t.Helper()
	var evs []api.HistoryEvent
	token := ""
	for {
		h, err := w.calls.GetWorkflowExecutionHistory(w.ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d",
			Execution: api.WorkflowExecution{WorkflowID: workflowID, RunID: runID}, MaximumPageSize: 1000, NextPageToken: token})
		mustNil(t, err)
		for _, e := range h.Events {
			full, err := e.Full()
			mustNil(t, err)
			evs = append(evs, full)
		}
		if token = h.NextPageToken; token == "" {
			return evs
		}
	}
}

// TestSignalsInOneCommitMeetTheEventLimit: signals a decision sends to a
// run with room in its history for only some of them are delivered
// together until the history is full; the first that does not fit
// terminates the run, and it and the rest fail, their sender told of each
// once.
func TestSignalsInOneCommitMeetTheEventLimit(t *testing.T) {
	const max = 20
	limits := DefaultLimits
	limits.History.MaxEvents = max
	ctx := context.Background()
	s := testService(t, Options{Limits: limits}, nil)
	wt := api.WorkflowType{Name: "wf", Version: "1"}
	target, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "target", WorkflowType: wt})
	mustNil(t, err)
	for range max - 5 { // events 3 … 17: room for two more before the last
		mustNil(t, s.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "target", SignalName: "fill"}))
	}
	sender, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "sender", WorkflowType: wt, TaskList: &api.TaskList{Name: "senders"}})
	mustNil(t, err)
	dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "senders"}})
	mustNil(t, err)
	var ds []api.Decision
	for i := range 5 {
		ds = append(ds, api.Decision{DecisionType: api.DecisionTypeSignalExternalWorkflowExecution,
			SignalExternalWorkflowExecutionDecisionAttributes: &api.SignalExternalWorkflowExecutionDecisionAttributes{
				WorkflowID: "target", RunID: api.String(target.RunID), SignalName: strconv.Itoa(i)}})
	}
	mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: ds}))
	for range 10 {
		n, err := s.Transfers().Deliver(ctx)
		mustNil(t, err)
		if n == 0 {
			break
		}
	}
	history := func(id, run string) []api.HistoryEvent {
		h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: id, RunID: run}})
		mustNil(t, err)
		evs := make([]api.HistoryEvent, len(h.Events))
		for i, e := range h.Events {
			evs[i], err = e.Full()
			mustNil(t, err)
		}
		return evs
	}
	var got []string
	evs := history("target", target.RunID)
	for _, e := range evs {
		if a := e.WorkflowExecutionSignaledEventAttributes; a != nil && a.SignalName != "fill" {
			got = append(got, a.SignalName)
		}
	}
	if last := evs[len(evs)-1]; len(evs) != max || last.WorkflowExecutionTerminatedEventAttributes == nil || !slices.Equal(got, []string{"0", "1"}) {
		t.Fatalf("target got signals %v and has %d events, the last %s; want [0 1], then terminated as event %d", got, len(evs), last.EventType, max)
	}
	names := map[int64]string{}
	var outcomes []string
	for _, e := range history("sender", sender.RunID) {
		switch {
		case e.SignalExternalWorkflowExecutionInitiatedEventAttributes != nil:
			names[e.EventID] = e.SignalExternalWorkflowExecutionInitiatedEventAttributes.SignalName
		case e.ExternalWorkflowExecutionSignaledEventAttributes != nil:
			outcomes = append(outcomes, names[e.ExternalWorkflowExecutionSignaledEventAttributes.InitiatedEventID]+" signaled")
		case e.SignalExternalWorkflowExecutionFailedEventAttributes != nil:
			outcomes = append(outcomes, names[e.SignalExternalWorkflowExecutionFailedEventAttributes.InitiatedEventID]+" failed")
		}
	}
	want := []string{"0 signaled", "1 signaled", "2 failed", "3 failed", "4 failed"}
	if !slices.Equal(outcomes, want) {
		t.Fatalf("the sender heard\n %v\nwant\n %v", outcomes, want)
	}
}
