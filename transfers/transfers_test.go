package transfers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/history"
	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/runs"
	"github.com/swfd/swfd/sqlite"
)

// unreadableStore fails every read of the pending messages, as a store on
// a failed disk does, and counts them.
type unreadableStore struct {
	swfd.ExecutionStore
	reads atomic.Int32
}

func (s *unreadableStore) PendingTransfers(context.Context, int) ([]swfd.Transfer, error) {
	s.reads.Add(1)
	return nil, fmt.Errorf("pending transfers: %w", swfd.ErrStorageUnavailable)
}

// The loop looks for messages at every commit that sends one; while its
// rounds fail (the store down, or a message that keeps failing), a busy
// server's commits made it write an error line for each, hundreds a
// second. The lines are now a few a second, a later one saying how many
// were left out.
func TestFailingRoundsAreLoggedRateLimited(t *testing.T) {
	var logs logbuf.Buffer
	st := &unreadableStore{}
	l := New(Options{Store: st, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	const rounds = 200
	for deadline := time.Now().Add(10 * time.Second); st.reads.Load() < rounds; time.Sleep(100 * time.Microsecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d rounds in 10 s", st.reads.Load())
		}
		l.Wake() // a commit that sent a message
	}
	cancel()
	<-done
	if lines := strings.Count(logs.String(), "delivering messages"); lines == 0 || lines > failLineBurst+1 {
		t.Fatalf("%d lines for %d failed rounds:\n%s", lines, st.reads.Load(), logs.String())
	}
}

// badReadsStore fails every read of run "bad" (its state cannot be read),
// and counts them.
type badReadsStore struct {
	swfd.Store
	reads atomic.Int32
}

func (s *badReadsStore) GetExecution(ctx context.Context, domain, runID string) (swfd.Execution, error) {
	if runID == "bad" {
		s.reads.Add(1)
		return swfd.Execution{}, fmt.Errorf("run %s: its state cannot be read", runID)
	}
	return s.Store.GetExecution(ctx, domain, runID)
}

// A skip clock does not jump while a message waits to be delivered; a
// message whose delivery kept failing (to a run whose state cannot be
// read) so stopped the clock for good, every other run's timers with it,
// and a test of them sat idle until it timed out. Such a message holds
// the clock while it is tried again, but once its delivery has failed for
// StuckAfter it no longer counts as waiting; it is still tried, and a
// message to another run still counts.
func TestStuckMessageStopsWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now().UTC().Truncate(time.Millisecond)
	bad := swfd.Execution{Domain: "d", WorkflowID: "bad", RunID: "bad", Open: true, StartTime: start, Version: 1, State: []byte("{}")}
	signal, err := json.Marshal(history.Message{Domain: "d", RunID: "bad", Signal: &history.SignalMsg{SignalName: "s"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: bad, Create: true}},
		AddTransfers: []swfd.Transfer{{RunID: "bad", Payload: signal}}}); err != nil {
		t.Fatal(err)
	}
	store := &badReadsStore{Store: db}
	wall := clock.NewManual(start)
	l := New(Options{Store: store, Runs: runs.New(runs.Options{Store: store, Limits: history.DefaultLimits}), Wall: wall})
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	// tried waits for the n-th try of the message, and the end of its
	// round.
	tried := func(n int32) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); store.reads.Load() < n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the message was tried %d times, not %d", store.reads.Load(), n)
			}
			l.Wake()
		}
		// The round ends before the loop waits for its next wake-up.
		l.Wake()
		for deadline := time.Now().Add(10 * time.Second); len(l.wake) > 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the loop does not go round")
			}
		}
	}
	waiting := func(want bool, when string) {
		t.Helper()
		if got, err := l.Waiting(ctx); got != want || err != nil {
			t.Fatalf("%s: Waiting = %v, %v; want %v", when, got, err, want)
		}
	}
	tried(1)
	waiting(true, "after the first failure")
	wall.MoveTo(wall.Now().Add(5 * time.Second))
	tried(2)
	waiting(true, "after failing for 5s")
	wall.MoveTo(wall.Now().Add(StuckAfter))
	tried(3)
	waiting(false, "after failing for 35s")
	// A message to another run waits, stuck one or not.
	other, err := json.Marshal(history.Message{Domain: "d", RunID: "other", Signal: &history.SignalMsg{SignalName: "s"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(ctx, swfd.Batch{AddTransfers: []swfd.Transfer{{RunID: "other", Payload: other}}}); err != nil {
		t.Fatal(err)
	}
	waiting(true, "with a message to another run")
}

// heldCommits checks, at each commit that delivers a message, that the
// clock is held (held > 0), and counts those commits and those made
// without it.
type heldCommits struct {
	swfd.Store
	held              *atomic.Int32
	delivered, unheld atomic.Int32
}

func (s *heldCommits) Commit(ctx context.Context, b swfd.Batch) error {
	if len(b.DoneTransfers) > 0 {
		s.delivered.Add(1)
		if s.held.Load() <= 0 {
			s.unheld.Add(1)
		}
	}
	return s.Store.Commit(ctx, b)
}

// The loop delivers each message with the clock held (Options.Hold), as a
// call is served and a Lambda step recorded: a skip clock that looked at
// the messages and the tasks while a delivery committed could find no
// message left and not yet the task the delivery made (a child started,
// with its decision task), and jump past that task. Deliver, which a move
// of the clock calls with the clock held already, does not hold it (it
// would wait for the move that called it).
func TestDeliveriesHoldTheClock(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var held atomic.Int32
	store := &heldCommits{Store: db, held: &held}
	rs := runs.New(runs.Options{Store: store, Limits: history.DefaultLimits})
	st, res := history.Start(rs.Env(ctx), history.StartParams{
		Domain: "d", WorkflowID: "w", RunID: "r", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
		Config: history.Config{TaskList: "l", ExecutionStartToCloseTimeout: "3600", TaskStartToCloseTimeout: "60", ChildPolicy: api.ChildPolicyTerminate},
	})
	var b runs.Batch
	if err := b.Add(st, 0, true, res); err != nil {
		t.Fatal(err)
	}
	send := func(name string) {
		t.Helper()
		b := runs.Batch{}
		if err := b.Send(history.Message{Domain: "d", RunID: "r", Signal: &history.SignalMsg{SignalName: name}}); err != nil {
			t.Fatal(err)
		}
		if err := rs.Commit(ctx, &b); err != nil {
			t.Fatal(err)
		}
	}
	if err := rs.Commit(ctx, &b); err != nil {
		t.Fatal(err)
	}
	hold := func() func() {
		held.Add(1)
		return func() { held.Add(-1) }
	}
	// Deliver, as a move calls it: no hold.
	l := New(Options{Store: store, Runs: rs, Hold: func() func() {
		t.Error("Deliver held the clock")
		return func() {}
	}})
	send("by a move")
	if n, err := l.Deliver(ctx); n != 1 || err != nil {
		t.Fatalf("Deliver: %d, %v", n, err)
	}
	// The loop: held for each delivery.
	l = New(Options{Store: store, Runs: rs, Hold: hold})
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	send("by the loop")
	// Each signal's delivery sends its sender the answer (here to no
	// run: it is dropped), which the loop delivers too.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		left, err := db.PendingTransfers(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 && held.Load() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the loop did not deliver the messages (%d left), or still holds the clock (%d)", len(left), held.Load())
		}
	}
	if n, all := store.unheld.Load(), store.delivered.Load(); n != 1 || all < 2 {
		t.Errorf("%d of %d deliveries committed without the clock held; want only Deliver's", n, all)
	}
}
