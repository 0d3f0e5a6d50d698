package runs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/history"
)

// recordingStore keeps the state of every update committed to it.
type recordingStore struct {
	swfd.Store
	mu     sync.Mutex
	states [][]byte
}

func (r *recordingStore) Commit(ctx context.Context, b swfd.Batch) error {
	if err := r.Store.Commit(ctx, b); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range b.Updates {
		r.states = append(r.states, u.Execution.State)
	}
	return nil
}

func (r *recordingStore) last() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.states[len(r.states)-1]
}

// A run of many open activities is encoded with a memo of its items
// (history.JSONMemo) that goes from each step of the run to the next
// through the run cache: each step's stored state must be json.Marshal's
// encoding of the state committed, and a step that changes one activity
// must find the memo the previous step left.
func TestFanOutStatesStoredAsMarshaled(t *testing.T) {
	ctx := context.Background()
	db := &recordingStore{Store: memStore(t)}
	s := New(Options{Store: db, Limits: history.DefaultLimits})
	startRun(t, s)
	var prev *history.JSONMemo
	step := func(name string, change func(st *history.State)) {
		t.Helper()
		unlock := s.Lock("run")
		defer unlock()
		var memo *history.JSONMemo
		var want []byte
		err := s.Step(ctx, "d", "run", func(r *Run, err error) error {
			if err != nil {
				return err
			}
			res, err := r.State.Signal(s.Env(ctx), name, nil)
			if err != nil {
				return err
			}
			change(r.State)
			if err := s.CommitRun(ctx, r, res); err != nil {
				return err
			}
			memo = r.memo
			want, err = json.Marshal(r.State)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := db.last(); !bytes.Equal(got, want) {
			t.Fatalf("%s: stored\n%s\nwant\n%s", name, got, want)
		}
		if prev != nil && memo != prev {
			t.Fatalf("%s: the step did not use the memo of the step before", name)
		}
		prev = memo
	}
	step("fan out", func(st *history.State) {
		for i := range 200 {
			id := fmt.Sprint("a", i)
			st.Activities[id] = &history.Activity{ActivityID: id, ScheduledID: int64(100 + i), TaskList: "l<&>", StartToClose: "60"}
		}
	})
	if prev == nil {
		t.Fatal("a run of 200 activities has no memo")
	}
	for i := range 60 {
		step(fmt.Sprint("start ", i), func(st *history.State) {
			a := st.Activities[fmt.Sprint("a", i)]
			a.StartedID, a.Identity, a.StartedTime = int64(1000+i), "worker", s.Now()
		})
		if i%2 == 0 {
			step(fmt.Sprint("complete ", i), func(st *history.State) { delete(st.Activities, fmt.Sprint("a", i)) })
		}
	}
	step("more", func(st *history.State) {
		st.Activities["b"] = &history.Activity{ActivityID: "b", ScheduledID: 5000}
	})
	// A run read from the store again (the cache let it go) starts a memo
	// afresh.
	s.cache.evict("run")
	prev = nil
	step("after eviction", func(st *history.State) { st.Activities["a199"].Identity = "other" })
	if prev == nil {
		t.Fatal("a run read from the store has no memo")
	}
	if _, _, _, size := s.CacheStats(); size < prev.Size() {
		t.Errorf("the cache estimates %d bytes in all, its run's memo alone %d", size, prev.Size())
	}
}
