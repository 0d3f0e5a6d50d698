package timers

import (
	"context"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/runs"
	"github.com/swfd/swfd/sqlite"
)

// TestWakeFor checks that a timer wakes the sleeping loop only when it is
// due before the loop means to wake, and always wakes a loop that is awake
// (it may have read the store before the timer was committed).
func TestWakeFor(t *testing.T) {
	l := New(Options{})
	woken := func() bool {
		select {
		case <-l.wake:
			return true
		default:
			return false
		}
	}
	l.next.Store(time.Now().Add(time.Hour).UnixNano())
	if until, ok := l.Sleeping(); !ok || time.Until(until) < 59*time.Minute {
		t.Errorf("Sleeping() = %v, %v", until, ok)
	}
	l.WakeFor(time.Now().Add(2 * time.Hour))
	if woken() {
		t.Error("a timer due after the loop's wake-up woke it")
	}
	l.WakeFor(time.Now().Add(time.Minute))
	if !woken() {
		t.Error("a timer due before the loop's wake-up did not wake it")
	}
	l.next.Store(0)
	l.WakeFor(time.Now().Add(2 * time.Hour))
	if !woken() {
		t.Error("a timer committed while the loop was awake did not wake it")
	}
}

// panicStore panics reading run "p".
type panicStore struct{ swfd.Store }

func (s panicStore) GetExecution(ctx context.Context, domain, runID string) (swfd.Execution, error) {
	if runID == "p" {
		panic("corrupt run")
	}
	return s.Store.GetExecution(ctx, domain, runID)
}

// TestFireDueSurvivesPanic checks that a timer whose firing panics is
// logged, set aside like one that failed, and does not stop the loop.
func TestFireDueSurvivesPanic(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	row := swfd.Execution{Domain: "d", WorkflowID: "w", RunID: "p", Open: true, StartTime: now, Version: 1, State: []byte("{}")}
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: row, Create: true,
		AddTimers: []swfd.Timer{{RunID: "p", Key: "k", Due: now.Add(-time.Second)}}}}}); err != nil {
		t.Fatal(err)
	}
	store := panicStore{db}
	l := New(Options{Store: store, Runs: runs.New(runs.Options{Store: store})})
	skip := map[string]time.Time{}
	n, _, err := l.FireDue(ctx, skip)
	if n != 0 || err != nil {
		t.Fatalf("FireDue: %d fired, %v", n, err)
	}
	if _, ok := skip["p\x00k"]; !ok {
		t.Error("the timer that panicked was not set aside")
	}
}
