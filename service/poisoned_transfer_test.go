package service

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// poisonStore fails every commit that changes a run it has been told to
// fail, as a store does with a run it cannot write (say, a row it cannot
// take), and lets every other commit through.
type poisonStore struct {
	swfd.Store
	mu   sync.Mutex
	runs map[string]bool
}

func (p *poisonStore) poison(runID string, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.runs == nil {
		p.runs = map[string]bool{}
	}
	p.runs[runID] = on
}

func (p *poisonStore) Commit(ctx context.Context, b swfd.Batch) error {
	p.mu.Lock()
	for _, u := range b.Updates {
		if p.runs[u.Execution.RunID] {
			p.mu.Unlock()
			return errors.New("this run cannot be written")
		}
	}
	p.mu.Unlock()
	return p.Store.Commit(ctx, b)
}

// A message whose delivery keeps failing (not a locked target: a store
// error) must not hold up the messages to other runs: the round delivers
// them and reports the failure; the later messages to the failing run wait
// with it, and once it can be written it gets them all, in the order sent.
// The first such failure used to end every round, so no message sent after
// it was ever delivered.
func TestDeliveryPassesAFailingRun(t *testing.T) {
	ps := &poisonStore{}
	policyWorlds(t, func(s swfd.Store) swfd.Store { ps.Store = s; return ps }, func(t *testing.T, w *policyWorld) {
		runs, signals := w.signalsOfX()
		ps.poison(runs["r"], true)
		defer ps.poison(runs["r"], false)
		for round := range 2 {
			if _, err := w.loops.Transfers().Deliver(w.ctx); err == nil {
				t.Fatalf("round %d: a delivery that failed was not reported", round)
			}
		}
		if got := signals("s"); len(got) != 1 {
			t.Fatalf("run s, signalled after the failing run, got signals %v; want [x]", got)
		}
		if got := signals("r"); len(got) != 0 {
			t.Fatalf("the failing run got signals %v", got)
		}
		ps.poison(runs["r"], false)
		w.settle()
		if got := signals("r"); len(got) != 2 || got[0] != "1" || got[1] != "2" {
			t.Fatalf("run r, writable again, got signals %v; want [1 2]", got)
		}
		if got := signals("s"); len(got) != 1 {
			t.Fatalf("run s got signals %v; want [x] once", got)
		}
	})
}

// More messages to a failing run than one read of pending messages holds
// must not hold up the messages to other runs sent after them: a round
// whose read is all held up reads further. The round used to read one
// batch (256) only, so run s never got its signal while r kept failing.
func TestDeliveryPassesAFailingRunOfManyMessages(t *testing.T) {
	ps := &poisonStore{}
	policyWorlds(t, func(s swfd.Store) swfd.Store { ps.Store = s; return ps }, func(t *testing.T, w *policyWorld) {
		runs := map[string]string{}
		for _, id := range []string{"r", "s", "x"} {
			run, err := w.calls.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id,
				WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
			mustNil(t, err)
			runs[id] = run.RunID
		}
		signal := func(to, name string) api.Decision {
			return api.Decision{DecisionType: api.DecisionTypeSignalExternalWorkflowExecution,
				SignalExternalWorkflowExecutionDecisionAttributes: &api.SignalExternalWorkflowExecutionDecisionAttributes{WorkflowID: to, SignalName: name}}
		}
		const many = 300
		var ds []api.Decision
		for i := range many {
			ds = append(ds, signal("r", strconv.Itoa(i)))
		}
		ds = append(ds, signal("s", "x"))
		for range 3 {
			dt := w.decisionTask("l")
			if dt.WorkflowExecution.WorkflowID == "x" {
				w.decide(dt, ds...)
			} else {
				w.decide(dt)
			}
		}
		signals := func(id string) (names []string) {
			h, err := w.calls.GetWorkflowExecutionHistory(w.ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d",
				Execution: api.WorkflowExecution{WorkflowID: id, RunID: runs[id]}, MaximumPageSize: 1000})
			mustNil(t, err)
			for _, e := range h.Events {
				full, err := e.Full()
				mustNil(t, err)
				if a := full.WorkflowExecutionSignaledEventAttributes; a != nil {
					names = append(names, a.SignalName)
				}
			}
			return names
		}
		ps.poison(runs["r"], true)
		defer ps.poison(runs["r"], false)
		if _, err := w.loops.Transfers().Deliver(w.ctx); err == nil {
			t.Fatal("a delivery that failed was not reported")
		}
		if got := signals("s"); len(got) != 1 {
			t.Fatalf("run s, signalled after %d signals to the failing run, got signals %v; want [x]", many, got)
		}
		if got := signals("r"); len(got) != 0 {
			t.Fatalf("the failing run got signals %v", got)
		}
		ps.poison(runs["r"], false)
		w.settle()
		got := signals("r")
		if len(got) != many {
			t.Fatalf("run r, writable again, got %d signals; want %d", len(got), many)
		}
		for i, name := range got {
			if name != strconv.Itoa(i) {
				t.Fatalf("run r got signal %s in place %d", name, i)
			}
		}
	})
}

// A round of the message loop gives up after a few failures (with the store
// down, every message would fail), so messages to as many runs that keep
// failing, sent first, used to end every round before the messages after
// them were tried: run s never got its signal. The loop now sets a target
// whose delivery failed aside for a few seconds, and its next rounds go on
// past it.
func TestDeliveryLoopPassesManyFailingRuns(t *testing.T) {
	ps := &poisonStore{}
	policyWorlds(t, func(s swfd.Store) swfd.Store { ps.Store = s; return ps }, func(t *testing.T, w *policyWorld) {
		ids := []string{"r1", "r2", "r3", "r4", "r5", "s", "x"}
		runs := map[string]string{}
		for _, id := range ids {
			run, err := w.calls.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id,
				WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
			mustNil(t, err)
			runs[id] = run.RunID
		}
		var ds []api.Decision
		for _, id := range ids[:6] {
			ds = append(ds, api.Decision{DecisionType: api.DecisionTypeSignalExternalWorkflowExecution,
				SignalExternalWorkflowExecutionDecisionAttributes: &api.SignalExternalWorkflowExecutionDecisionAttributes{WorkflowID: id, SignalName: "hi"}})
		}
		for range ids {
			dt := w.decisionTask("l")
			if dt.WorkflowExecution.WorkflowID == "x" {
				w.decide(dt, ds...)
			} else {
				w.decide(dt)
			}
		}
		for _, id := range ids[:5] {
			ps.poison(runs[id], true)
			defer ps.poison(runs[id], false)
		}
		ctx, cancel := context.WithCancel(w.ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			w.loops.Transfers().Run(ctx)
		}()
		defer func() { cancel(); <-done }()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if countEvents(w.history("s", runs["s"]), api.EventTypeWorkflowExecutionSignaled) == 1 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("run s, signalled after five runs that cannot be written, got no signal in 10 s")
			}
		}
	})
}
