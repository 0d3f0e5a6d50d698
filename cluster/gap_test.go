package cluster

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/matching"
	"github.com/swfd/swfd/postgres"
)

// pendingStore stands in for the store's pending tasks, which the test
// sets.
type pendingStore struct {
	mu    sync.Mutex
	tasks []swfd.Task
	reads int
}

func (s *pendingStore) PendingTasks(context.Context) ([]swfd.Task, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	return append([]swfd.Task(nil), s.tasks...), nil
}

func (s *pendingStore) set(ts ...swfd.Task) {
	s.mu.Lock()
	s.tasks = ts
	s.mu.Unlock()
}

// waitListeners waits until the store's listeners are connected (want) or
// not.
func waitListeners(t *testing.T, db *postgres.DB, want bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		listening, connected := db.Notifier().Listening()
		if listening > 0 && (connected >= listening) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("listeners connected: %d of %d after 30 s; want connected %v", connected, listening, want)
		}
		<-tick.C
	}
}

// A node whose listener lost its connection hears nothing of what the
// other nodes published until it listens again: a task another node
// scheduled meanwhile was news lost to it, and its pollers waited for the
// next periodic reload of the pending tasks (up to 5 s). Once the listener
// is back, the node now reads the pending tasks at once, so a poll waiting
// there gets the task within moments.
func TestNewsMissedWhileReconnectingIsReadAtOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := pgtest.NewDatabase(t)
	proxy := pgtest.NewProxy(t, dsn)
	other, err := postgres.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	db, err := postgres.Open(ctx, proxy.DSN(dsn), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	store := &pendingStore{}
	rec := &recorder{}
	m := matching.New(10)
	n := New(Options{Broadcaster: db.Broadcaster(), Store: store, Tasks: m, Runs: rec, Timers: rec, Transfers: transfers{rec}, Registry: rec})
	n.resync = time.Hour // no periodic reload during the test: only the gap may bring the task
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); n.Run(rctx) }()
	t.Cleanup(func() { stop(); <-done })
	waitListeners(t, db, true)

	// The listener's connection is lost; another node schedules a task
	// and says so while it is.
	proxy.Cut()
	waitListeners(t, db, false)
	task := swfd.Task{Kind: swfd.DecisionTask, Domain: "d", TaskList: "deciders", RunID: "run-1", ScheduledEventID: 3, Scheduled: time.Now()}
	store.set(task)
	if err := other.Broadcaster().Publish(ctx, mustJSON(t, news{Node: "other", Tasks: []swfd.Task{task}})); err != nil {
		t.Fatal(err)
	}
	proxy.Restore()
	waitListeners(t, db, true)

	// Well within the periodic reload's 5 s.
	pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
	defer pcancel()
	got, err := m.Poll(pctx, matching.KeyOf(task))
	if err != nil {
		t.Fatalf("a poll on the node found no task within 2 s of its listener's reconnection (%v): the task scheduled while it was disconnected waited for the periodic reload", err)
	}
	if got.RunID != task.RunID || got.ScheduledEventID != task.ScheduledEventID {
		t.Errorf("polled %+v, want %+v", got, task)
	}
	// The run store's listeners were told of the gap too, before the
	// reload that found the task: at the first listen and at the second.
	rec.mu.Lock()
	missed := rec.missed
	rec.mu.Unlock()
	if missed < 2 {
		t.Errorf("the run store was told %d times that news may have been lost, want 2 (the first listen and the reconnection)", missed)
	}
}
