package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// trippingStore fails the next commits that change a run it has been told
// of, or the next lookups of a workflowId's open run, each as many times as
// it was told, with the error it was given; everything else goes through.
type trippingStore struct {
	swfd.Store
	mu      sync.Mutex
	commits map[string]int // by run id
	lookups map[string]int // by workflowId
	err     error
}

func (s *trippingStore) trip(commitsOf, lookupsOf string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits, s.lookups, s.err = map[string]int{}, map[string]int{}, err
	if commitsOf != "" {
		s.commits[commitsOf] = 1
	}
	if lookupsOf != "" {
		s.lookups[lookupsOf] = 1
	}
}

func (s *trippingStore) Commit(ctx context.Context, b swfd.Batch) error {
	s.mu.Lock()
	for _, u := range b.Updates {
		if s.commits[u.Execution.RunID] > 0 {
			s.commits[u.Execution.RunID]--
			s.mu.Unlock()
			return fmt.Errorf("tripped on run %s: %w", u.Execution.RunID, s.err)
		}
	}
	s.mu.Unlock()
	return s.Store.Commit(ctx, b)
}

func (s *trippingStore) OpenRun(ctx context.Context, domain, workflowID string) (swfd.Execution, error) {
	s.mu.Lock()
	if s.lookups[workflowID] > 0 {
		s.lookups[workflowID]--
		s.mu.Unlock()
		return swfd.Execution{}, fmt.Errorf("tripped on workflow %s: %w", workflowID, s.err)
	}
	s.mu.Unlock()
	return s.Store.OpenRun(ctx, domain, workflowID)
}

// A message to a workflowId that fails to be delivered (a store error, or a
// race lost to another writer of its target) must hold back the later
// messages to the same run however they name it, by its run id too: run r
// must get its signals in the order sent. They used to be held back only
// when they named the target as the failed one did (its workflowId), and a
// signal naming r's run id, separated from the failed one by a message held
// up for another reason, overtook it.
//
// The round: a signal to y (failing all along) holds up, as messages of its
// group, x's answer to a signal x sent earlier (it names x's run alone);
// then "1" to workflow r fails once; "stray", naming workflow r with x's
// run id, waits behind x's answer; "2" names r's run.
func TestDeliveryKeepsOrderToARunHowEverNamed(t *testing.T) {
	for _, c := range []struct {
		name            string
		commits, lookup bool
		err             error
	}{
		{"store error on the target's commit", true, false, errors.New("disk full")},
		{"store error on the workflowId's lookup", false, true, errors.New("connection reset")},
		{"race lost on the target's commit", true, false, swfd.ErrConflict},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := &trippingStore{}
			ps := &poisonStore{}
			policyWorlds(t, func(s swfd.Store) swfd.Store { ts.Store = s; ps.Store = ts; return ps }, func(t *testing.T, w *policyWorld) {
				runs := map[string]string{}
				for _, id := range []string{"r", "s", "x", "y"} {
					run, err := w.calls.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id,
						WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
					mustNil(t, err)
					runs[id] = run.RunID
				}
				signal := func(to, runID, name string) api.Decision {
					a := &api.SignalExternalWorkflowExecutionDecisionAttributes{WorkflowID: to, SignalName: name}
					if runID != "" {
						a.RunID = &runID
					}
					return api.Decision{DecisionType: api.DecisionTypeSignalExternalWorkflowExecution, SignalExternalWorkflowExecutionDecisionAttributes: a}
				}
				// decideX answers n decision tasks, x's with ds, the
				// others' with none.
				decideX := func(n int, ds ...api.Decision) {
					t.Helper()
					for range n {
						dt := w.decisionTask("l")
						if dt.WorkflowExecution.WorkflowID == "x" {
							w.decide(dt, ds...)
						} else {
							w.decide(dt)
						}
					}
				}
				decideX(4, signal("y", "", "0"), signal("s", "", "a"))
				ps.poison(runs["y"], true)
				defer ps.poison(runs["y"], false)
				// "a" reaches s; x's answer waits, sent after "0".
				if _, err := w.loops.Transfers().Deliver(w.ctx); err == nil {
					t.Fatal("the signal to y did not fail")
				}
				// s has a decision task for "a"; x is given one.
				mustNil(t, w.calls.SignalWorkflowExecution(w.ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "x", SignalName: "go"}))
				decideX(2, signal("r", "", "1"), signal("r", runs["x"], "stray"), signal("r", runs["r"], "2"))

				switch {
				case c.commits:
					ts.trip(runs["r"], "", c.err)
				case c.lookup:
					ts.trip("", "r", c.err)
				}
				w.loops.Transfers().Deliver(w.ctx)
				ps.poison(runs["y"], false)
				w.settle()
				var got []string
				for _, e := range w.history("r", runs["r"]) {
					if a := e.WorkflowExecutionSignaledEventAttributes; a != nil {
						got = append(got, a.SignalName)
					}
				}
				if fmt.Sprint(got) != "[1 2]" {
					t.Fatalf("run r got signals %v; want [1 2]", got)
				}
			})
		})
	}
}
