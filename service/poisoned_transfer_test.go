package service

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/swfd/swfd"
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
