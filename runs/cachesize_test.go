package runs

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
)

// bigState is a run's state as a workflow may make it: an execution
// context of 32 KB and timers with ids of 256 bytes, every string its own
// allocation (as decoding makes them).
func bigState(runID string, timers int) *history.State {
	ctx := strings.Repeat("c", 32<<10)
	st := &history.State{Domain: "d", WorkflowID: "w-" + runID, RunID: runID, Open: true, NextEventID: 2,
		WorkflowType: api.WorkflowType{Name: "t", Version: "1"}, LatestExecutionContext: &ctx,
		Timers: map[string]*history.UserTimer{}}
	for i := range timers {
		id := fmt.Sprintf("%06d%s", i, strings.Repeat("t", 250))
		st.Timers[id] = &history.UserTimer{TimerID: strings.Clone(id), StartedID: int64(i + 1)}
	}
	return st
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// The run cache holds no more memory than its bound in bytes, however
// large the runs' states: runs of 32 KB execution contexts and a hundred
// timers each (some 90 KB apiece), 400 of them, in a cache of 4 MB. The
// memory is measured, not only the cache's estimate of it. (A cache
// bounded only by its number of runs held all 400: 37 MB.)
func TestRunCacheBoundedByBytes(t *testing.T) {
	const bound = 4 << 20
	before := heapInUse()
	c := newRunCache(runCacheSize, bound)
	for i := range 400 {
		id := fmt.Sprintf("r%d", i)
		c.put(swfd.Execution{RunID: id, Domain: "d", Open: true, Version: 1}, bigState(id, 100), nil, true, nil)
	}
	grew := int64(heapInUse()) - int64(before)
	runs, bytes := c.len()
	t.Logf("%d runs cached, estimated %d bytes, heap grew %d bytes", runs, bytes, grew)
	if grew > 2*bound {
		t.Errorf("the cache of %d runs holds %d bytes of heap, over twice its bound of %d", runs, grew, bound)
	}
	if bytes > bound || c.size != bytes {
		t.Errorf("estimated %d bytes held, bound %d", bytes, bound)
	}
	if runs < 20 {
		t.Errorf("only %d runs kept within %d bytes", runs, bound)
	}
	// The most recently used are the ones kept.
	if _, ok := c.get("r399"); !ok {
		t.Error("the last run put is not cached")
	}
	if _, ok := c.get("r0"); ok {
		t.Error("the first run put is still cached")
	}
	runtime.KeepAlive(c)
}

// The estimate follows the memory an entry holds, within a small factor,
// for runs of every shape: a bare one, one with a history of small events,
// one with large strings, one with many small open items.
func TestRunCacheEstimate(t *testing.T) {
	small := func(id string) (*history.State, []api.HistoryEvent) {
		st := &history.State{Domain: "d", WorkflowID: "w-" + id, RunID: id, Open: true, NextEventID: 8,
			WorkflowType: api.WorkflowType{Name: "t", Version: "1"}, Config: history.Config{TaskList: "tl", TaskStartToCloseTimeout: "60"},
			Activities: map[string]*history.Activity{"a": {ActivityID: "a", ScheduledID: 5, TaskList: "tl",
				ActivityType: api.ActivityType{Name: "act", Version: "1"}, StartToClose: "60"}},
			Timers: map[string]*history.UserTimer{}, Children: map[int64]*history.Child{}, Externals: map[int64]*history.External{},
			Lambdas: map[string]*history.Lambda{}}
		return st, cacheEvents(1, 7)
	}
	activities := func(id string) (*history.State, []api.HistoryEvent) {
		st := &history.State{Domain: "d", WorkflowID: "w-" + id, RunID: id, Open: true, Activities: map[string]*history.Activity{}}
		for i := range 300 {
			a := fmt.Sprintf("activity-%d", i)
			st.Activities[a] = &history.Activity{ActivityID: strings.Clone(a), ScheduledID: int64(i), TaskList: strings.Clone("list"),
				ActivityType: api.ActivityType{Name: strings.Clone("act"), Version: strings.Clone("1")}, StartToClose: strings.Clone("60")}
		}
		return st, nil
	}
	for _, c := range []struct {
		name string
		make func(id string) (*history.State, []api.HistoryEvent)
	}{
		{"bare", func(id string) (*history.State, []api.HistoryEvent) { return &history.State{RunID: id}, nil }},
		{"small", small},
		{"strings", func(id string) (*history.State, []api.HistoryEvent) { return bigState(id, 100), nil }},
		{"activities", activities},
	} {
		t.Run(c.name, func(t *testing.T) {
			const n = 300
			before := heapInUse()
			rc := newRunCache(runCacheSize, 1<<40)
			for i := range n {
				id := fmt.Sprintf("%s-%d", c.name, i)
				st, evs := c.make(id)
				rc.put(swfd.Execution{RunID: id, Domain: "d", Open: true, Version: 1}, st, evs, true, nil)
			}
			grew := float64(int64(heapInUse()) - int64(before))
			_, est := rc.len()
			ratio := float64(est) / grew
			t.Logf("%s: estimate %d, heap %.0f bytes for %d runs: %.2f", c.name, est, grew, n, ratio)
			if ratio < 0.6 || ratio > 2.5 {
				t.Errorf("%s: estimate %d bytes, heap %.0f: ratio %.2f", c.name, est, grew, ratio)
			}
			runtime.KeepAlive(rc)
		})
	}
}

// stateSize counts every string a state holds: a state whose every string
// (members, map keys, list items, down to the open items) is set to L
// bytes is estimated L bytes larger per string than the same one with
// empty strings. A member added to State that it would leave out fails
// here. A map key that is its item's id, one string, is counted once.
func TestStateSizeCountsEveryString(t *testing.T) {
	var empty, full history.State
	nEmpty := fillStrings(reflect.ValueOf(&empty).Elem(), "")
	const L = 1000
	nFull := fillStrings(reflect.ValueOf(&full).Elem(), strings.Repeat("x", L))
	if nEmpty != nFull || nFull < 40 {
		t.Fatalf("filled %d and %d strings", nEmpty, nFull)
	}
	if got, want := stateSize(&full)-stateSize(&empty), nFull*L; got != want {
		t.Errorf("a state with %d strings of %d bytes is estimated %d bytes over the empty one, want %d", nFull, L, got, want)
	}
	for k, tm := range full.Timers {
		tm.TimerID = k
	}
	if got, want := stateSize(&full)-stateSize(&empty), (nFull-1)*L; got != want {
		t.Errorf("a timer id that is its key counted apart: %d bytes over the empty state, want %d", got, want)
	}
}

// fillStrings sets every string reachable from v to s, giving each map
// one entry and each slice one item, and returns how many strings it set.
func fillStrings(v reflect.Value, s string) int {
	switch v.Kind() {
	case reflect.String:
		v.SetString(strings.Clone(s)) // each its own, as decoding makes them
		return 1
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return fillStrings(v.Elem(), s)
	case reflect.Struct:
		n := 0
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				n += fillStrings(f, s)
			}
		}
		return n
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		return fillStrings(v.Index(0), s)
	case reflect.Map:
		k := reflect.New(v.Type().Key()).Elem()
		n := 0
		if k.Kind() == reflect.String {
			n = fillStrings(k, s)
		}
		e := reflect.New(v.Type().Elem()).Elem()
		n += fillStrings(e, s)
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(k, e)
		return n
	}
	return 0
}

// Runs the cache evicts for its bound in bytes are read back from the
// store as they were committed: their state, their history pages and
// their activities' inputs are the same from the store as from the cache,
// on a single node and in a cluster.
func TestEvictedRunsReadFromStore(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			ctx := context.Background()
			db := memStore(t)
			const bound = 4 << 20
			s := New(Options{Store: db, Shared: shared, CacheBytes: bound})
			big := strings.Repeat("i", 4<<10)
			start := time.UnixMilli(1_700_000_000_000).UTC()
			var runIDs []string
			for i := range 100 {
				id := fmt.Sprintf("run-%d", i)
				runIDs = append(runIDs, id)
				st := bigState(id, 100)
				st.StartTime = start
				var evs []api.HistoryEvent
				for e := int64(1); e <= 4; e++ {
					in := big + fmt.Sprint(e)
					evs = append(evs, api.HistoryEvent{EventID: e, EventType: api.EventTypeWorkflowExecutionSignaled,
						EventTimestamp:                           api.NewTime(start.Add(time.Duration(e) * time.Second)),
						WorkflowExecutionSignaledEventAttributes: &api.WorkflowExecutionSignaledEventAttributes{SignalName: "s", Input: &in}})
				}
				st.NextEventID = 5
				var b Batch
				if err := b.Add(st, 0, true, history.Result{Events: evs}); err != nil {
					t.Fatal(err)
				}
				if err := s.Commit(ctx, &b); err != nil {
					t.Fatal(err)
				}
			}
			_, _, runs, bytes := s.CacheStats()
			if bytes > bound || runs == 0 || runs >= len(runIDs) {
				t.Fatalf("%d runs cached in %d bytes (bound %d)", runs, bytes, bound)
			}
			hits0, misses0, _, _ := s.CacheStats()
			for _, id := range runIDs {
				got, err := s.Load(ctx, "d", id)
				if err != nil {
					t.Fatal(err)
				}
				want, err := s.LoadStored(ctx, "d", id)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got.State, want.State) || got.Row.Version != want.Row.Version || got.Row.RunID != id {
					t.Fatalf("%s: loaded %+v, stored %+v", id, got.Row, want.Row)
				}
				page, _, err := s.HistoryPage(ctx, id, 0, 0, false, 0, true)
				if err != nil {
					t.Fatal(err)
				}
				stored, err := db.History(ctx, swfd.HistoryQuery{RunID: id})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.EqualFunc(storedEvents(page), stored, func(a, b swfd.Event) bool { return a.ID == b.ID && string(a.JSON) == string(b.JSON) }) {
					t.Fatalf("%s: history %v, stored %v", id, ids(page), ids(cachedFromStored(stored)))
				}
			}
			hits, misses, _, bytes := s.CacheStats()
			if misses == misses0 || hits == hits0 {
				t.Errorf("loads: %d hits, %d misses: want both", hits-hits0, misses-misses0)
			}
			if bytes > bound {
				t.Errorf("%d bytes cached after the reads, bound %d", bytes, bound)
			}
		})
	}
}

// A run alone too large for its share of the cache is not kept, and does
// not push the others out: it is read from the store each time.
func TestRunCacheOversizedRun(t *testing.T) {
	c := newRunCache(runCacheSize, 1<<20)
	for i := range 5 {
		id := fmt.Sprint(i)
		c.put(swfd.Execution{RunID: id, Open: true, Version: 1}, &history.State{RunID: id}, nil, true, nil)
	}
	huge := bigState("huge", 200) // some 100 KB, over 1 MB / maxEntryShare
	c.put(swfd.Execution{RunID: "huge", Open: true, Version: 1}, huge, nil, true, nil)
	if _, ok := c.get("huge"); ok {
		t.Error("a run over its share of the cache is cached")
	}
	if n, _ := c.len(); n != 5 {
		t.Errorf("%d runs cached, want the 5 small ones", n)
	}
	// A run cached before that grows past its share is dropped.
	c.put(swfd.Execution{RunID: "0", Open: true, Version: 2}, bigState("0", 200), nil, false, nil)
	if _, ok := c.get("0"); ok {
		t.Error("a run grown over its share of the cache is still cached")
	}
	runs, bytes := c.len()
	if runs != 4 || bytes != c.size || bytes > 8<<10 {
		t.Errorf("%d runs, %d bytes cached after the large ones", runs, bytes)
	}
}

// The estimate counts what a run's memo (history.JSONMemo) holds, after
// most of its items have gone: the memo kept the items that arrived
// together in one allocation, so an item gone (an activity done) kept its
// place, its encoding and its copy of the activity for as long as any of
// the others was open, while the estimate counted only the items open. A
// run that had fanned out to 300 activities with 1 KB of details each,
// down to 20 open, held some twenty times what the cache counted for it.
func TestRunCacheEstimateCountsMemo(t *testing.T) {
	const runsN, fanOut, left = 100, 300, 20
	state := func(id string, n int) *history.State {
		st := &history.State{Domain: "d", WorkflowID: "w-" + id, RunID: id, Open: true, Activities: map[string]*history.Activity{}}
		for i := range n {
			a := fmt.Sprintf("activity-%d", i)
			st.Activities[a] = &history.Activity{ActivityID: a, ScheduledID: int64(i), TaskList: "list",
				ActivityType: api.ActivityType{Name: "act", Version: "1"}, StartToClose: "60",
				Identity: strings.Repeat(fmt.Sprint(i%10), 1<<10)}
		}
		return st
	}
	before := heapInUse()
	rc := newRunCache(runCacheSize, 1<<40)
	for i := range runsN {
		id := fmt.Sprint("fan-", i)
		memo := new(history.JSONMemo)
		memo.AppendJSON(nil, state(id, fanOut))
		st := state(id, left)
		memo.AppendJSON(nil, st)
		rc.put(swfd.Execution{RunID: id, Domain: "d", Open: true, Version: 1}, st, nil, true, memo)
	}
	grew := float64(int64(heapInUse()) - int64(before))
	_, est := rc.len()
	ratio := float64(est) / grew
	t.Logf("estimate %d, heap %.0f bytes for %d runs: %.2f", est, grew, runsN, ratio)
	if ratio < 0.6 || ratio > 2.5 {
		t.Errorf("estimate %d bytes, heap %.0f: ratio %.2f", est, grew, ratio)
	}
	runtime.KeepAlive(rc)
}
