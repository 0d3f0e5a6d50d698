package history

import (
	"fmt"
	"testing"

	"github.com/swfd/swfd/api"
)

// TestStepEventsMadeOnce: the steps of a workflow of one activity make their
// events' slice once, of the size they need, rather than growing it one
// event at a time (each growth copies events of over 500 bytes); and a
// step's events are its own, whatever the next step on the run records.
//
// The bounds are the steps' allocations when this was written; a step of
// two events made one more while its slice grew from one event. A change
// that allocates less lowers them; one that needs more raises them, for a
// reason its commit gives.
func TestStepEventsMadeOnce(t *testing.T) {
	env := Env{Now: t0, Types: newFakeTypes(), Limits: DefaultLimits}
	s, start := Start(env, rootParams())
	results := []Result{start}
	if n := testing.AllocsPerRun(20, func() { Start(env, rootParams()) }); n > 15 {
		t.Errorf("Start (2 events): %v allocations, want at most 15", n)
	}
	steps := []func(s *State) (Result, error){
		func(s *State) (Result, error) { return s.StartDecisionTask(env, 2, api.String("d")) },
		func(s *State) (Result, error) {
			return s.CompleteDecisionTask(env, 3, &api.RespondDecisionTaskCompletedInput{Decisions: []api.Decision{schedAct("a1")}})
		},
		func(s *State) (Result, error) { return s.StartActivityTask(env, 5, api.String("w")) },
		func(s *State) (Result, error) { return s.CompleteActivityTask(env, 5, 6, api.String("ok")) },
		func(s *State) (Result, error) { return s.StartDecisionTask(env, 8, api.String("d")) },
		func(s *State) (Result, error) {
			return s.CompleteDecisionTask(env, 9, &api.RespondDecisionTaskCompletedInput{Decisions: []api.Decision{{DecisionType: api.DecisionTypeCompleteWorkflowExecution}}})
		},
	}
	most := []float64{6, 34, 10, 12, 6, 15}
	for i, f := range steps {
		n := testing.AllocsPerRun(20, func() {
			if _, err := f(s.Clone()); err != nil {
				t.Fatal(err)
			}
		}) - testing.AllocsPerRun(20, func() { s.Clone() })
		res, err := f(s)
		if err != nil {
			t.Fatal(err)
		}
		if n > most[i] {
			t.Errorf("step %d (%d events): %v allocations, want at most %v", i+1, len(res.Events), n, most[i])
		}
		results = append(results, res)
	}
	// Each step's events are as recorded, ids in order, none overwritten
	// by a later step's.
	id := int64(1)
	for i, r := range results {
		for _, ev := range r.Events {
			if ev.EventID != id {
				t.Fatalf("result %d: event %d, want %d", i, ev.EventID, id)
			}
			id++
		}
	}
	if id != 12 {
		t.Fatalf("%d events, want 11", id-1)
	}
	if got := fmt.Sprint(results[len(results)-1].Events[1].EventType); got != string(api.EventTypeWorkflowExecutionCompleted) {
		t.Fatalf("last event %s", got)
	}
}

// allocsToGrow is how many allocations appending n events one by one to
// a nil slice makes.
func allocsToGrow(n int) int {
	var evs []api.HistoryEvent
	k := 0
	for range n {
		if len(evs) == cap(evs) {
			k++
		}
		evs = append(evs, api.HistoryEvent{})
	}
	return k
}
