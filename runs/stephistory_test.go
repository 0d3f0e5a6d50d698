package runs

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
	"github.com/swfd/swfd/sqlite"
)

// TestStepHistoryPageMatchesCommitted reads every shape of page of a run
// with a step's events pending (StepHistoryPage), then commits them and
// reads the same pages (HistoryPage): each page, and where the next
// begins, must be the same, whether the stored events come from the store
// or the run cache (a single node's, or a cluster node's).
func TestStepHistoryPageMatchesCommitted(t *testing.T) {
	for _, cache := range []string{"none", "single", "cluster"} {
		t.Run(cache, func(t *testing.T) { testStepHistoryPage(t, cache) })
	}
}

func testStepHistoryPage(t *testing.T, cache string) {
	ctx := context.Background()
	const stored, last = 5, 8
	s, db, row, _ := pageFixture(t, cache == "cluster", cache != "none", stored)
	// The step's events, as the engine makes them: without their JSON.
	pending := cacheEvents(stored+1, last)
	for i := range pending {
		pending[i].Raw = nil
	}
	type shape struct {
		after, upTo int64
		reverse     bool
		size        int
	}
	type page struct {
		ids  []int64
		raw  []string
		next int64
	}
	read := func(evs []api.HistoryEvent, next int64, err error) page {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return page{mapEach(evs, func(e api.HistoryEvent) int64 { return e.EventID }), mapEach(evs, func(e api.HistoryEvent) string { return string(e.Raw) }), next}
	}
	var shapes []shape
	for _, reverse := range []bool{false, true} {
		for after := int64(0); after <= last+1; after++ {
			for upTo := int64(0); upTo <= last; upTo++ {
				for size := 1; size <= last+1; size++ {
					shapes = append(shapes, shape{after, upTo, reverse, size})
				}
			}
		}
	}
	before := map[shape]page{}
	for _, sh := range shapes {
		before[sh] = read(s.StepHistoryPage(ctx, "r", pending, sh.after, sh.upTo, sh.reverse, sh.size))
	}
	for i := range pending {
		if len(pending[i].Raw) == 0 {
			t.Fatalf("pending event %d was given no JSON", pending[i].EventID)
		}
	}
	// The events stored as the commit stores them: their JSON as given.
	row.Version++
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: row, Events: storedEvents(pending)}}}); err != nil {
		t.Fatal(err)
	}
	s.cache.evict("r")
	for _, sh := range shapes {
		after := read(s.HistoryPage(ctx, "r", sh.after, sh.upTo, sh.reverse, sh.size, false))
		if b := before[sh]; !slices.Equal(b.ids, after.ids) || !slices.Equal(b.raw, after.raw) || b.next != after.next {
			t.Errorf("%+v: before the commit %v next %d, after %v next %d", sh, b.ids, b.next, after.ids, after.next)
		}
	}
	if t.Failed() {
		return
	}
	// And pages of a step with no events pending are HistoryPage's.
	got := read(s.StepHistoryPage(ctx, "r", nil, 0, 0, false, 3))
	if fmt.Sprint(got.ids) != "[1 2 3]" || got.next != 3 {
		t.Errorf("no events pending: %v next %d", got.ids, got.next)
	}
}

// pageFixture is a run store on memory with run "r" stored with events 1
// to stored (shared: as in a cluster; cached: its history in the run
// cache too), with its database, the run's row and those events.
func pageFixture(t *testing.T, shared, cached bool, stored int64) (*Store, *sqlite.DB, swfd.Execution, []api.HistoryEvent) {
	t.Helper()
	db := memStore(t)
	s := New(Options{Store: db, Shared: shared})
	row := swfd.Execution{Domain: "d", WorkflowID: "w", RunID: "r", TypeName: "t", TypeVersion: "1",
		StartTime: time.UnixMilli(1_700_000_000_000), Open: true, Version: 1, State: []byte("{}")}
	evs := cacheEvents(1, stored)
	if err := db.Commit(context.Background(), swfd.Batch{Updates: []swfd.Update{{Execution: row, Create: true, Events: storedEvents(evs)}}}); err != nil {
		t.Fatal(err)
	}
	if cached {
		s.cache.put(row, &history.State{}, evs, true, nil)
	}
	return s, db, row, evs
}
