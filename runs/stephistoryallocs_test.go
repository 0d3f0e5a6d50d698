package runs

import (
	"context"
	"testing"

	"github.com/swfd/swfd"
)

// TestStepHistoryPageAllocations: a decision task's first page, its stored
// events from the run cache, takes one slice for the step's events and one
// for the page, the stored events read with room for the step's: not a
// slice grown one event at a time and a third for both (each event is over
// 500 bytes). The page is the stored events and then the step's, and the
// cache's history is left as it was.
func TestStepHistoryPageAllocations(t *testing.T) {
	ctx := context.Background()
	const stored, last = 5, 8
	s, _, _, evs := pageFixture(t, false, true, stored)
	pending := cacheEvents(stored+1, last) // with their JSON: none is encoded here
	page, next, err := s.StepHistoryPage(ctx, "r", pending, 0, 0, false, 0)
	if err != nil || next != 0 || len(page) != last {
		t.Fatalf("%d events, next %d, %v", len(page), next, err)
	}
	for i, ev := range page {
		if ev.EventID != int64(i+1) || string(ev.Raw) != string(append(evs, pending...)[i].Raw) {
			t.Fatalf("event %d: id %d %s", i, ev.EventID, ev.Raw)
		}
	}
	// Appending past the stored events wrote nothing of the cache's.
	if got, ok := cachedHistory(s.cache, swfd.HistoryQuery{RunID: "r"}, 0, 0); !ok || len(got) != stored {
		t.Fatalf("cache holds %d events, %v; want %d", len(got), ok, stored)
	}
	n := testing.AllocsPerRun(50, func() {
		if _, _, err := s.StepHistoryPage(ctx, "r", pending, 0, 0, false, 0); err != nil {
			t.Fatal(err)
		}
	})
	if n > 2 {
		t.Errorf("StepHistoryPage: %v allocations, want 2 (the step's events, the page)", n)
	}
}
