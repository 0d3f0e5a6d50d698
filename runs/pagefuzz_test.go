package runs

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
)

// pageCase is one random history and one first page of a decision task
// asked of it.
type pageCase struct {
	seed    uint64
	sizes   []int // the length of event i+1's input
	stored  int   // events committed before the step; the rest are its own
	cache   string
	cached  int // events of a cluster node's cache (a prefix of stored)
	upTo    int64
	after   int64
	reverse bool
	size    int
}

func (c pageCase) String() string {
	return fmt.Sprintf("seed %d: %d events (%d stored, cache %s/%d), upTo %d after %d reverse %v size %d",
		c.seed, len(c.sizes), c.stored, c.cache, c.cached, c.upTo, c.after, c.reverse, c.size)
}

// randomPageCase draws a case from seed: histories of 2 to 600 events,
// some runs of inputs large enough that a page is cut by its bytes (and
// now and then events alone larger than a page's bytes), a
// step of one or more events, every cache, the page sizes a decider asks
// for, either order, and the first pages of a task polled with and
// without startAtPreviousStartedEvent (forward: from an event past 0).
func randomPageCase(seed uint64) pageCase {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	c := pageCase{seed: seed}
	var n int
	switch rng.IntN(4) {
	case 0:
		n = 2 + rng.IntN(10)
	case 1:
		n = 2 + rng.IntN(300)
	default:
		n = 2 + rng.IntN(599)
	}
	big := rng.IntN(3) == 0
	c.sizes = make([]int, n)
	for i := range c.sizes {
		switch {
		case big && rng.IntN(4) != 0:
			c.sizes[i] = 16<<10 + rng.IntN(16<<10)
		case rng.IntN(20) == 0:
			c.sizes[i] = rng.IntN(32 << 10)
		default:
			c.sizes[i] = rng.IntN(64)
		}
	}
	c.stored = 1 + rng.IntN(n-1)
	if rng.IntN(2) == 0 {
		// Most steps that start a task add a few events.
		c.stored = max(1, n-1-rng.IntN(4))
	}
	c.cache = []string{"none", "single", "cluster"}[rng.IntN(3)]
	if c.cache == "cluster" {
		// A cluster node's cache may not have what other nodes added.
		c.cached = c.stored - rng.IntN(2)*rng.IntN(c.stored)
	}
	c.upTo = int64(n)
	if rng.IntN(4) == 0 {
		c.upTo = 1 + rng.Int64N(int64(n))
	}
	if rng.IntN(8) == 0 {
		// Events alone larger than a page's bytes, each in a page of
		// its own: anywhere, the last stored, the last shown.
		for range 1 + rng.IntN(2) {
			i := []int{rng.IntN(n), c.stored - 1, int(c.upTo) - 1}[rng.IntN(3)]
			c.sizes[i] = HistoryPageBytes + rng.IntN(100)
		}
	}
	c.reverse = rng.IntN(2) == 0
	if !c.reverse && rng.IntN(2) == 0 {
		c.after = rng.Int64N(c.upTo)
	}
	if c.reverse && rng.IntN(4) == 0 {
		c.after = 1 + rng.Int64N(c.upTo+1)
	}
	c.size = []int{0, 1, 2, 100, 1000, 1 + rng.IntN(50)}[rng.IntN(6)]
	return c
}

// pageEvents makes the case's events, as the engine makes them: without
// their JSON.
func pageEvents(sizes []int) []api.HistoryEvent {
	out := make([]api.HistoryEvent, len(sizes))
	for i, n := range sizes {
		id := int64(i + 1)
		input := strings.Repeat(string(rune('a'+i%26)), n)
		out[i] = api.HistoryEvent{EventID: id, EventType: "WorkflowExecutionSignaled",
			EventTimestamp: api.Time{Time: time.UnixMilli(1_700_000_000_000 + id*1001)},
			WorkflowExecutionSignaledEventAttributes: &api.WorkflowExecutionSignaledEventAttributes{
				SignalName: "s", Input: &input}}
	}
	return out
}

// wantPages are the pages of a history as the API defines them: the
// events after `after` up to upTo in order (newest first: before `after`,
// or from upTo), each page as many as fit its size and bytes (at least
// one), each next the last event of its page while any follow.
func wantPages(raw [][]byte, after, upTo int64, reverse bool, size int) (pages [][]int64, nexts []int64) {
	var ids []int64
	if !reverse {
		for id := after + 1; id <= upTo; id++ {
			ids = append(ids, id)
		}
	} else {
		from := upTo
		if after != 0 {
			from = min(after-1, upTo)
		}
		for id := from; id >= 1; id-- {
			ids = append(ids, id)
		}
	}
	n := HistoryPageSize(size)
	for {
		var page []int64
		bytes := 0
		for len(ids) > 0 && len(page) < n {
			b := len(raw[ids[0]-1])
			if len(page) > 0 && bytes+b > HistoryPageBytes {
				break
			}
			bytes += b
			page = append(page, ids[0])
			ids = ids[1:]
		}
		var next int64
		if len(ids) > 0 {
			next = page[len(page)-1]
		}
		pages, nexts = append(pages, page), append(nexts, next)
		if next == 0 {
			return pages, nexts
		}
	}
}

// checkPageCase reads the case's first page before the step commits
// (StepHistoryPage), then commits the step and reads every page of the
// history (HistoryPage, from the store and from the cache): the first
// page must be the committed one, byte for byte, and both must be the
// pages the API defines, following each next to the end.
func checkPageCase(t *testing.T, c pageCase) {
	t.Helper()
	ctx := context.Background()
	db := memStore(t)
	s := New(Options{Store: db, Shared: c.cache == "cluster"})
	row := swfd.Execution{Domain: "d", WorkflowID: "w", RunID: "r", TypeName: "t", TypeVersion: "1",
		StartTime: time.UnixMilli(1_700_000_000_000), Open: true, Version: 1, State: []byte("{}")}
	evs := pageEvents(c.sizes)
	stored, pending := evs[:c.stored], evs[c.stored:]
	for i := range stored {
		b, err := stored[i].MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		stored[i] = compact(api.HistoryEvent{EventID: stored[i].EventID, EventType: stored[i].EventType, EventTimestamp: stored[i].EventTimestamp, Raw: b})
	}
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: row, Create: true, Events: storedEvents(stored)}}}); err != nil {
		t.Fatal(err)
	}
	switch c.cache {
	case "single":
		s.cache.put(row, &history.State{NextEventID: int64(c.stored) + 1}, stored, true, nil)
	case "cluster":
		old := row
		if c.cached < c.stored {
			// Cached at an earlier version, before the other nodes'
			// steps.
			old.Version--
		}
		s.cache.put(old, &history.State{NextEventID: int64(c.cached) + 1}, stored[:c.cached], true, nil)
	}
	first, firstNext, err := s.StepHistoryPage(ctx, "r", pending, c.after, c.upTo, c.reverse, c.size)
	if err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	for _, ev := range pending {
		if len(ev.Raw) == 0 {
			t.Fatalf("%v: pending event %d was given no JSON", c, ev.EventID)
		}
	}
	row.Version++
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: row, Events: storedEvents(pending)}}}); err != nil {
		t.Fatal(err)
	}
	all := append(slices.Clone(stored), pending...)
	raw := mapEach(all, func(e api.HistoryEvent) []byte { return e.Raw })
	switch c.cache {
	case "single", "cluster":
		// The commit brings the step's events to the cache.
		s.cache.put(row, &history.State{NextEventID: int64(len(all)) + 1}, pending, false, nil)
	}
	pages, nexts := wantPages(raw, c.after, c.upTo, c.reverse, c.size)
	checkRaw := func(what string, evs []api.HistoryEvent) {
		t.Helper()
		for _, e := range evs {
			if string(e.Raw) != string(raw[e.EventID-1]) {
				t.Fatalf("%v: %s: event %d is not as stored", c, what, e.EventID)
			}
		}
	}
	if !slices.Equal(ids(first), pages[0]) || firstNext != nexts[0] {
		t.Fatalf("%v: the page before the commit is %v next %d, the API's %v next %d", c, ids(first), firstNext, pages[0], nexts[0])
	}
	checkRaw("the page before the commit", first)
	// Every page of the committed history, following next: first as
	// GetWorkflowExecutionHistory reads it (waiting for commits), then as
	// a decision task's next pages do.
	for _, wait := range []bool{true, false} {
		after := c.after
		for i := range pages {
			got, next, err := s.HistoryPage(ctx, "r", after, c.upTo, c.reverse, c.size, wait)
			if err != nil {
				t.Fatalf("%v: %v", c, err)
			}
			if !slices.Equal(ids(got), pages[i]) || next != nexts[i] {
				t.Fatalf("%v: committed page %d (wait %v) is %v next %d, the API's %v next %d", c, i, wait, ids(got), next, pages[i], nexts[i])
			}
			checkRaw(fmt.Sprintf("committed page %d", i), got)
			after = next
		}
	}
}

// TestStepHistoryPageRandom checks checkPageCase for random cases.
func TestStepHistoryPageRandom(t *testing.T) {
	n := uint64(150)
	if testing.Short() || underRace {
		n = 40
	}
	for seed := range n {
		checkPageCase(t, randomPageCase(seed))
	}
}

// FuzzStepHistoryPage is TestStepHistoryPageRandom for the seeds a fuzzer
// picks.
func FuzzStepHistoryPage(f *testing.F) {
	f.Add(uint64(1))
	f.Fuzz(func(t *testing.T, seed uint64) {
		checkPageCase(t, randomPageCase(seed))
	})
}
