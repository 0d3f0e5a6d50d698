package runs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// historyBytes counts the bytes of events a store's History returns.
type historyBytes struct {
	swfd.Store
	mu    sync.Mutex
	bytes int
}

func (h *historyBytes) History(ctx context.Context, q swfd.HistoryQuery) ([]swfd.Event, error) {
	evs, err := h.Store.History(ctx, q)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range evs {
		h.bytes += len(e.JSON)
	}
	return evs, err
}

func (h *historyBytes) take() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.bytes
	h.bytes = 0
	return n
}

// bigEvents returns events from..to whose JSON takes size bytes each.
func bigEvents(from, to int64, size int) []api.HistoryEvent {
	evs := cacheEvents(from, to)
	for i := range evs {
		raw := string(evs[i].Raw)
		pad := max(size-len(raw)-len(`,"x":""`), 0)
		evs[i].Raw = []byte(raw[:len(raw)-1] + `,"x":"` + strings.Repeat("x", pad) + `"}`)
	}
	return evs
}

// storeRun commits a run with the given events straight into the store,
// so that a fresh Store has to read them back.
func storeRun(t *testing.T, db swfd.Store, runID string, evs []api.HistoryEvent) {
	t.Helper()
	row := swfd.Execution{Domain: "d", WorkflowID: runID, RunID: runID, TypeName: "t", TypeVersion: "1",
		StartTime: time.UnixMilli(1_700_000_000_000), Open: true, Version: 1, State: []byte("{}")}
	if err := db.Commit(context.Background(), swfd.Batch{Updates: []swfd.Update{{Execution: row, Create: true, Events: storedEvents(evs)}}}); err != nil {
		t.Fatal(err)
	}
}

// A history page of large events costs about HistoryPageBytes of reading,
// not the maximumPageSize events it may ask for: 1,000 events of 32 KB
// were read (32 MB) to answer a page that holds 1 MB of them, so a few
// dozen concurrent calls on such a history took swfd past 2 GB.
func TestHistoryPageReadsOnlyItsBytes(t *testing.T) {
	ctx := context.Background()
	db := &historyBytes{Store: memStore(t)}
	const size = 32 << 10
	all := bigEvents(1, 1200, size)
	storeRun(t, db, "big", all)
	s := New(Options{Store: db})
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) {
			var got []int64
			var after int64
			for range 100 {
				page, next, err := s.HistoryPage(ctx, "big", after, 0, reverse, 1000, true)
				if err != nil {
					t.Fatal(err)
				}
				if read := db.take(); read > HistoryPageBytes+2*size {
					t.Fatalf("a page of %d events read %d bytes of events, budget %d", len(page), read, HistoryPageBytes)
				}
				got = append(got, ids(page)...)
				if next == 0 {
					break
				}
				after = next
			}
			if len(got) != len(all) {
				t.Fatalf("the pages hold %d events, want %d", len(got), len(all))
			}
			for i, id := range got {
				want := int64(i + 1)
				if reverse {
					want = int64(len(all) - i)
				}
				if id != want {
					t.Fatalf("event %d of the pages is %d, want %d", i, id, want)
				}
			}
		})
	}
}

// An event alone larger than a page's bytes still comes in a page of its
// own, and the pages go on past it (or end with it when it is the last).
func TestHistoryPageOfOneHugeEvent(t *testing.T) {
	ctx := context.Background()
	db := memStore(t)
	evs := append(bigEvents(1, 1, HistoryPageBytes+100), cacheEvents(2, 2)...)
	evs = append(evs, bigEvents(3, 3, HistoryPageBytes+100)...)
	storeRun(t, db, "huge", evs)
	s := New(Options{Store: db})
	for _, reverse := range []bool{false, true} {
		var got []int64
		var after int64
		for range 10 {
			page, next, err := s.HistoryPage(ctx, "huge", after, 0, reverse, 1000, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				t.Fatalf("reverse=%v: an empty page after %v", reverse, got)
			}
			got = append(got, ids(page)...)
			if next == 0 {
				break
			}
			after = next
		}
		want := []int64{1, 2, 3}
		if reverse {
			want = []int64{3, 2, 1}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("reverse=%v: pages hold %v, want %v", reverse, got, want)
		}
	}
}

// A decision task's first page, read before the step that starts the task
// commits (StepHistoryPage), costs about HistoryPageBytes of reading too:
// it read every stored event maximumPageSize allowed (1,000 events of
// 32 KB for a page of 1 MB), so deciders polling a run of large events
// took as much memory as the history calls did before their bound. The
// page, and where the next begins, are those the committed run gives.
func TestStepHistoryPageReadsOnlyItsBytes(t *testing.T) {
	ctx := context.Background()
	const size = 32 << 10
	for _, tc := range []struct {
		name   string
		stored []api.HistoryEvent
	}{
		{"large events", bigEvents(1, 1200, size)},
		{"one huge event", append(cacheEvents(1, 1), bigEvents(2, 2, HistoryPageBytes+100)...)},
	} {
		for _, reverse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reverse=%v", tc.name, reverse), func(t *testing.T) {
				db := &historyBytes{Store: memStore(t)}
				storeRun(t, db, "big", tc.stored)
				s := New(Options{Store: db})
				last := int64(len(tc.stored))
				pending := cacheEvents(last+1, last+3)
				for i := range pending {
					pending[i].Raw = nil
				}
				upTo := last + 3
				shapes := []int64{0, last - 1, last, last + 1}
				got := map[int64][]int64{}
				nexts := map[int64]int64{}
				for _, after := range shapes {
					if reverse && after == 0 {
						continue
					}
					page, next, err := s.StepHistoryPage(ctx, "big", pending, after, upTo, reverse, 1000)
					if err != nil {
						t.Fatal(err)
					}
					if read := db.take(); read > HistoryPageBytes+2*size+200 {
						t.Fatalf("after %d: a page of %d events read %d bytes of events, budget %d", after, len(page), read, HistoryPageBytes)
					}
					got[after], nexts[after] = ids(page), next
				}
				if reverse {
					page, next, err := s.StepHistoryPage(ctx, "big", pending, 0, upTo, true, 1000)
					if err != nil {
						t.Fatal(err)
					}
					if read := db.take(); read > HistoryPageBytes+2*size+200 {
						t.Fatalf("first page: %d events read %d bytes of events, budget %d", len(page), read, HistoryPageBytes)
					}
					got[0], nexts[0] = ids(page), next
				}
				// The same pages once the step has committed.
				row := swfd.Execution{Domain: "d", WorkflowID: "big", RunID: "big", TypeName: "t", TypeVersion: "1",
					StartTime: time.UnixMilli(1_700_000_000_000), Open: true, Version: 2, State: []byte("{}")}
				if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: row, Events: storedEvents(pending)}}}); err != nil {
					t.Fatal(err)
				}
				for after, want := range got {
					page, next, err := s.HistoryPage(ctx, "big", after, upTo, reverse, 1000, false)
					if err != nil {
						t.Fatal(err)
					}
					if fmt.Sprint(ids(page)) != fmt.Sprint(want) || next != nexts[after] {
						t.Errorf("after %d: before the commit %v next %d, after it %v next %d", after, want, nexts[after], ids(page), next)
					}
				}
			})
		}
	}
}

// A step's page around events alone larger than a page's bytes is the
// page read once the step has committed, for every range of events.
func TestStepHistoryPageOfHugeEvents(t *testing.T) {
	ctx := context.Background()
	huge := HistoryPageBytes + 100
	evs := slices.Concat(bigEvents(1, 1, huge), cacheEvents(2, 2), bigEvents(3, 3, huge), cacheEvents(4, 4))
	for _, pending := range []int{1, 2, 3} { // how many events the step adds
		db := memStore(t)
		s := New(Options{Store: db})
		stored, mine := slices.Clone(evs[:len(evs)-pending]), slices.Clone(evs[len(evs)-pending:])
		storeRun(t, db, "huge", stored)
		type shape struct {
			after, upTo int64
			reverse     bool
			size        int
		}
		before := map[shape]string{}
		var shapes []shape
		for _, reverse := range []bool{false, true} {
			for after := int64(0); after <= 5; after++ {
				for _, upTo := range []int64{0, 2, 3, 4} {
					for _, size := range []int{1000} {
						sh := shape{after, upTo, reverse, size}
						page, next, err := s.StepHistoryPage(ctx, "huge", mine, after, upTo, reverse, size)
						if err != nil {
							t.Fatal(err)
						}
						shapes = append(shapes, sh)
						before[sh] = fmt.Sprint(ids(page), " next ", next)
					}
				}
			}
		}
		row := swfd.Execution{Domain: "d", WorkflowID: "huge", RunID: "huge", TypeName: "t", TypeVersion: "1",
			StartTime: time.UnixMilli(1_700_000_000_000), Open: true, Version: 2, State: []byte("{}")}
		if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: row, Events: storedEvents(mine)}}}); err != nil {
			t.Fatal(err)
		}
		for _, sh := range shapes {
			page, next, err := s.HistoryPage(ctx, "huge", sh.after, sh.upTo, sh.reverse, sh.size, true)
			if err != nil {
				t.Fatal(err)
			}
			if after := fmt.Sprint(ids(page), " next ", next); after != before[sh] {
				t.Errorf("%d pending, %+v: before the commit %s, after %s", pending, sh, before[sh], after)
			}
		}
	}
}
