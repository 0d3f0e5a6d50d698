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

// memStore returns a fresh in-memory store, closed when the test ends.
func memStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func cacheEvents(from, to int64) []api.HistoryEvent {
	var out []api.HistoryEvent
	for id := from; id <= to; id++ {
		ev := api.HistoryEvent{EventID: id, EventType: api.EventType(fmt.Sprintf("Type%d", id)),
			EventTimestamp: api.Time{Time: time.UnixMilli(1_700_000_000_000 + id*1001)}}
		ev.Raw = fmt.Appendf(nil, `{"eventId":%d,"eventTimestamp":%.3f,"eventType":%q}`, id,
			float64(ev.EventTimestamp.UnixMilli())/1000, ev.EventType)
		out = append(out, ev)
	}
	return out
}

// mapEach returns f of each item.
func mapEach[T, U any](items []T, f func(T) U) []U {
	out := make([]U, 0, len(items))
	for _, it := range items {
		out = append(out, f(it))
	}
	return out
}

func storedEvents(evs []api.HistoryEvent) []swfd.Event {
	return mapEach(evs, func(e api.HistoryEvent) swfd.Event { return swfd.Event{ID: e.EventID, JSON: e.Raw} })
}

// TestCachedHistoryMatchesStore answers every shape of history query from
// the run cache and from the store holding the same history, and wants the
// same events.
func TestCachedHistoryMatchesStore(t *testing.T) {
	ctx := context.Background()
	db := memStore(t)
	row := swfd.Execution{Domain: "d", WorkflowID: "w", RunID: "r", TypeName: "t", TypeVersion: "1",
		StartTime: time.UnixMilli(1_700_000_000_000), Open: true, Version: 1, State: []byte("{}")}
	c := newRunCache(10, DefaultCacheBytes)
	st := &history.State{}
	// The history arrives in three steps, as commits bring it.
	steps := [][]api.HistoryEvent{cacheEvents(1, 3), cacheEvents(4, 4), cacheEvents(5, 7)}
	for i, evs := range steps {
		u := swfd.Update{Execution: row, Create: i == 0, Events: storedEvents(evs)}
		if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{u}}); err != nil {
			t.Fatal(err)
		}
		c.put(row, st, evs, i == 0, nil)
		row.Version++
	}
	for _, reverse := range []bool{false, true} {
		for after := int64(0); after <= 9; after++ {
			for limit := 0; limit <= 8; limit++ {
				q := swfd.HistoryQuery{RunID: "r", AfterID: after, Reverse: reverse, Limit: limit}
				want, err := db.History(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got, ok := cachedHistory(c, q, 0, 0)
				if !ok {
					t.Fatalf("%+v: not answered from the cache", q)
				}
				if !slices.EqualFunc(storedEvents(got), want, func(a, b swfd.Event) bool { return a.ID == b.ID && string(a.JSON) == string(b.JSON) }) {
					t.Errorf("%+v: cache %v, store %v", q, ids(got), ids(cachedFromStored(want)))
				}
				// Each event as the store's would be read: its JSON, id,
				// type and time.
				for i := range min(len(got), len(want)) {
					raw, err := api.RawHistoryEvent(want[i].JSON)
					if err != nil {
						t.Fatal(err)
					}
					g := got[i]
					if g.EventID != raw.EventID || g.EventType != raw.EventType || !g.EventTimestamp.Equal(raw.EventTimestamp.Time) {
						t.Errorf("%+v: cached event %d/%s/%v, stored %d/%s/%v", q, g.EventID, g.EventType, g.EventTimestamp,
							raw.EventID, raw.EventType, raw.EventTimestamp)
					}
				}
			}
		}
	}
}

func ids(evs []api.HistoryEvent) []int64 {
	return mapEach(evs, func(e api.HistoryEvent) int64 { return e.EventID })
}

func cachedFromStored(evs []swfd.Event) []api.HistoryEvent {
	return mapEach(evs, func(e swfd.Event) api.HistoryEvent { return api.HistoryEvent{EventID: e.ID, Raw: e.JSON} })
}

// TestRunCacheHistoryBounds checks when the run cache keeps a history and
// that it accounts for the bytes it holds.
func TestRunCacheHistoryBounds(t *testing.T) {
	st := &history.State{}
	versions := map[string]int64{}
	open := func(id string) swfd.Execution { // the run's next version
		versions[id]++
		return swfd.Execution{RunID: id, Open: true, Version: versions[id]}
	}
	c := newRunCache(3, DefaultCacheBytes)

	// A run first seen after its start (loaded from the store) has no
	// cached history, even after later steps.
	versions["loaded"] = 4
	c.put(open("loaded"), st, cacheEvents(5, 6), false, nil)
	if _, ok := c.history("loaded"); ok {
		t.Error("history of a run not begun here is cached")
	}

	// A run begun here keeps its history until it closes.
	c.put(open("a"), st, cacheEvents(1, 2), true, nil)
	c.put(open("a"), st, cacheEvents(3, 3), false, nil)
	if evs, ok := c.history("a"); !ok || len(evs) != 3 || evs[0].id != 1 || evs[2].id != 3 {
		t.Fatalf("history of a: %v %v", evs, ok)
	}
	// A step that does not follow the cached version (a gap: another
	// writer's step in between) drops the history.
	c.put(open("gap"), st, cacheEvents(1, 2), true, nil)
	versions["gap"]++
	c.put(open("gap"), st, cacheEvents(4, 4), false, nil)
	if _, ok := c.history("gap"); ok {
		t.Error("history cached across a version gap")
	}
	closed := open("a")
	closed.Open = false
	c.put(closed, st, cacheEvents(4, 4), false, nil)
	if _, ok := c.history("a"); ok {
		t.Error("history of a closed run is cached")
	}
	if c.eventBytes != 0 {
		t.Errorf("%d event bytes held with no history cached", c.eventBytes)
	}

	// Too many events: dropped.
	c.put(open("long"), st, cacheEvents(1, maxCachedEvents), true, nil)
	if _, ok := c.history("long"); !ok {
		t.Error("a history of exactly maxCachedEvents is not cached")
	}
	c.put(open("long"), st, cacheEvents(maxCachedEvents+1, maxCachedEvents+1), false, nil)
	if _, ok := c.history("long"); ok {
		t.Error("a history past maxCachedEvents is cached")
	}

	// Over the byte budget: not cached.
	c.eventBudget = 100
	c.put(open("big"), st, []api.HistoryEvent{{EventID: 1, Raw: make([]byte, 101)}}, true, nil)
	if _, ok := c.history("big"); ok {
		t.Error("a history over the budget is cached")
	}
	c.put(open("small"), st, []api.HistoryEvent{{EventID: 1, Raw: make([]byte, 60)}}, true, nil)
	if _, ok := c.history("small"); !ok {
		t.Error("a history within the budget is not cached")
	}
	if c.eventBytes != 60 {
		t.Errorf("eventBytes = %d, want 60", c.eventBytes)
	}

	// Eviction (three entries at most) and a failed commit give the bytes back.
	c.put(open("x"), st, nil, true, nil)
	c.put(open("y"), st, nil, true, nil)
	c.put(open("z"), st, nil, true, nil)
	if _, ok := c.get("small"); ok {
		t.Fatal("small was not evicted")
	}
	if c.eventBytes != 0 {
		t.Errorf("eventBytes = %d after eviction, want 0", c.eventBytes)
	}
	c.put(open("w"), st, []api.HistoryEvent{{EventID: 1, Raw: make([]byte, 10)}}, true, nil)
	c.evict("w")
	if c.eventBytes != 0 {
		t.Errorf("eventBytes = %d after evict, want 0", c.eventBytes)
	}
}

// Once a domain's purge cutoff is declared (purging), its closed runs that
// closed before the cutoff are answered from the cache no more, even one a
// later read put back, while its open runs, its runs closed since and other
// domains' runs are.
func TestRunCacheAnswersNoRunBeingPurged(t *testing.T) {
	st := &history.State{}
	cutoff := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	closed := func(id, domain string, at time.Time) swfd.Execution {
		return swfd.Execution{RunID: id, Domain: domain, Version: 1, CloseTime: at}
	}
	c := newRunCache(10, DefaultCacheBytes)
	c.put(closed("old", "d", cutoff.Add(-time.Hour)), st, nil, false, nil)
	c.put(closed("new", "d", cutoff.Add(time.Hour)), st, nil, false, nil)
	c.put(swfd.Execution{RunID: "open", Domain: "d", Open: true, Version: 1}, st, nil, false, nil)
	c.put(closed("other", "e", cutoff.Add(-time.Hour)), st, nil, false, nil)
	c.purging(map[string]time.Time{"d": cutoff})
	c.purging(map[string]time.Time{"d": cutoff.Add(-24 * time.Hour)}) // never moves back
	if _, ok := c.get("old"); ok {
		t.Error("a run closed before its domain's purge cutoff is answered from the cache")
	}
	c.put(closed("old", "d", cutoff.Add(-time.Hour)), st, nil, false, nil) // read again from the store
	if _, ok := c.get("old"); ok {
		t.Error("a run closed before its domain's purge cutoff, put back by a read, is answered from the cache")
	}
	for _, id := range []string{"new", "open", "other"} {
		if _, ok := c.get(id); !ok {
			t.Errorf("run %s is no longer answered from the cache", id)
		}
	}
}
