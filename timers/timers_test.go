package timers

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
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

// aheadClock is a clock standing still ten days ahead of the wall clock, as
// a manual clock moved forward does.
type aheadClock struct{ t time.Time }

func (c aheadClock) Now() time.Time { return c.t }

// countingStore counts the loop's looks at the due timers.
type countingStore struct {
	swfd.ExecutionStore
	looks atomic.Int32
}

func (s *countingStore) DueTimers(ctx context.Context, now time.Time, limit int) ([]swfd.Timer, error) {
	s.looks.Add(1)
	return s.ExecutionStore.DueTimers(ctx, now, limit)
}

// TestWakeForOnTheLoopsClock checks that the loop's wake-up time and a
// timer's due time are compared on the same clock: with the clock ten days
// ahead of the wall clock (a manual clock moved forward), the loop means to
// wake an hour later on that clock, and a timer due now on it (a
// zero-second timer or timeout) wakes the loop at once.
func TestWakeForOnTheLoopsClock(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := &countingStore{ExecutionStore: db}
	clk := aheadClock{time.Now().Add(10 * 24 * time.Hour)}
	l := New(Options{Store: store, Clock: clk, MaxSleep: time.Hour})
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	asleep := func() (time.Time, int32) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if until, ok := l.Sleeping(); ok {
				return until, store.looks.Load()
			}
		}
		t.Fatal("the loop does not sleep")
		return time.Time{}, 0
	}
	until, looks := asleep()
	if d := until.Sub(clk.Now()); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("the loop means to wake at %v, %v after its clock's now; want an hour", until, d)
	}
	l.WakeFor(clk.Now())
	for deadline := time.Now().Add(10 * time.Second); store.looks.Load() == looks; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a timer due now on the loop's clock did not wake it")
		}
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
	n, _, _, err := l.FireDue(ctx, skip)
	if n != 0 || err != nil {
		t.Fatalf("FireDue: %d fired, %v", n, err)
	}
	if _, ok := skip["p\x00k"]; !ok {
		t.Error("the timer that panicked was not set aside")
	}
}

// failStore fails every read of a run, as a store on a full or failed
// disk fails every step.
type failStore struct{ swfd.Store }

func (s failStore) GetExecution(ctx context.Context, domain, runID string) (swfd.Execution, error) {
	return swfd.Execution{}, fmt.Errorf("commit: %w", swfd.ErrStorageFull)
}

// A storm of timers that fail to fire (every due timer, again every 5 s,
// while the disk is full) writes a few lines, and a later line says how
// many were left out; before, each timer wrote an error line each time.
func TestFailingTimersAreLoggedRateLimited(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	const timers = 200
	for i := range timers {
		run := fmt.Sprint("r", i)
		row := swfd.Execution{Domain: "d", WorkflowID: run, RunID: run, Open: true, StartTime: now, Version: 1, State: []byte("{}")}
		if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: row, Create: true,
			AddTimers: []swfd.Timer{{RunID: run, Key: "k", Due: now.Add(-time.Second)}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	var logs logbuf.Buffer
	store := failStore{db}
	l := New(Options{Store: store, Runs: runs.New(runs.Options{Store: store}), Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if n, _, _, err := l.FireDue(ctx, map[string]time.Time{}); n != 0 || err != nil {
		t.Fatalf("FireDue: %d fired, %v", n, err)
	}
	if lines := strings.Count(logs.String(), "timer failed to fire"); lines == 0 || lines > failLineBurst+1 {
		t.Fatalf("%d lines for %d timers that failed to fire:\n%s", lines, timers, logs.String())
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "suppressed=") {
		if time.Now().After(deadline) {
			t.Fatalf("no line says how many were left out:\n%s", logs.String())
		}
		l.FireDue(ctx, map[string]time.Time{})
	}
}

// staleStore answers DueTimers with the timers another node read a moment
// ago, as a node that read them just before the other fired them does.
type staleStore struct {
	swfd.Store
	due []swfd.Timer
}

func (s staleStore) DueTimers(context.Context, time.Time, int) ([]swfd.Timer, error) {
	return s.due, nil
}

// Two nodes that read the same due timer both try to fire it; the one that
// loses finds that it no longer applies and records nothing. Only the node
// that recorded its event counts it as fired, so the nodes' counts sum to
// the timers fired (the node that lost counted it too before).
func TestTimerFiredOnlyWhereRecorded(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rsA := runs.New(runs.Options{Store: db, Limits: history.DefaultLimits})
	st, res := history.Start(rsA.Env(ctx), history.StartParams{
		Domain: "d", WorkflowID: "w", RunID: "run", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
		Config: history.Config{TaskList: "l", ExecutionStartToCloseTimeout: "1", TaskStartToCloseTimeout: "60", ChildPolicy: api.ChildPolicyTerminate},
	})
	var b runs.Batch
	if err := b.Add(st, 0, true, res); err != nil {
		t.Fatal(err)
	}
	if err := rsA.Commit(ctx, &b); err != nil {
		t.Fatal(err)
	}
	clk := aheadClock{time.Now().Add(time.Hour)}
	due, err := db.DueTimers(ctx, clk.Now(), 256)
	if err != nil || len(due) != 1 {
		t.Fatalf("due timers: %v, %v; want the workflow's timeout", due, err)
	}
	var fired []string
	node := func(name string, store swfd.Store) *Loop {
		return New(Options{Store: store, Runs: runs.New(runs.Options{Store: store, Limits: history.DefaultLimits}), Clock: clk,
			Fired: func(time.Time) { fired = append(fired, name) }})
	}
	a, lost := node("a", db), node("b", staleStore{db, due})
	if n, _, _, err := a.FireDue(ctx, nil); n != 1 || err != nil {
		t.Fatalf("node a: FireDue = %d, %v", n, err)
	}
	if n, _, _, err := lost.FireDue(ctx, nil); n != 1 || err != nil {
		t.Fatalf("node b: FireDue = %d, %v", n, err)
	}
	if len(fired) != 1 || fired[0] != "a" {
		t.Errorf("timers counted as fired: %v, want one, on node a", fired)
	}
	ex, err := db.GetExecution(ctx, "d", "run")
	if err != nil || ex.Open || ex.CloseStatus != string(api.CloseStatusTimedOut) {
		t.Errorf("the run: open %v, status %q, %v; want timed out", ex.Open, ex.CloseStatus, err)
	}
}

// badRunStore fails every read of run "bad", as a store fails a run it
// cannot read (or whose firing panics), and reads the others.
type badRunStore struct{ swfd.Store }

func (s badRunStore) GetExecution(ctx context.Context, domain, runID string) (swfd.Execution, error) {
	if runID == "bad" {
		return swfd.Execution{}, fmt.Errorf("run %s: its state cannot be read", runID)
	}
	return s.Store.GetExecution(ctx, domain, runID)
}

// One run whose timers keep failing to fire is set aside, and the timers
// due after its own still fire, however many of its own are due: a run
// with more due timers than the loop reads at once (a decision that
// scheduled hundreds of activities with the same timeouts) held up every
// other timer of the server for as long as it kept failing.
func TestTimersSetAsideDoNotHoldUpTheOthers(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clk := aheadClock{time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)}
	bad := swfd.Execution{Domain: "d", WorkflowID: "bad", RunID: "bad", Open: true, StartTime: clk.t, Version: 1, State: []byte("{}")}
	var timers []swfd.Timer
	for i := range 3 * batch / 2 {
		timers = append(timers, swfd.Timer{RunID: "bad", Key: fmt.Sprintf("ut:t%04d:5", i), Due: clk.t.Add(-time.Minute)})
	}
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: bad, Create: true, AddTimers: timers}}}); err != nil {
		t.Fatal(err)
	}
	rs := runs.New(runs.Options{Store: db, Limits: history.DefaultLimits, Clock: aheadClock{clk.t.Add(-time.Minute)}})
	st, res := history.Start(rs.Env(ctx), history.StartParams{
		Domain: "d", WorkflowID: "good", RunID: "good", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
		Config: history.Config{TaskList: "l", ExecutionStartToCloseTimeout: "1", TaskStartToCloseTimeout: "60", ChildPolicy: api.ChildPolicyTerminate},
	})
	var b runs.Batch
	if err := b.Add(st, 0, true, res); err != nil {
		t.Fatal(err)
	}
	if err := rs.Commit(ctx, &b); err != nil {
		t.Fatal(err)
	}
	store := badRunStore{db}
	l := New(Options{Store: store, Runs: runs.New(runs.Options{Store: store, Limits: history.DefaultLimits, Clock: clk}), Clock: clk})
	skip := map[string]time.Time{}
	for range 3 {
		if _, _, _, err := l.FireDue(ctx, skip); err != nil {
			t.Fatal(err)
		}
	}
	ex, err := db.GetExecution(ctx, "d", "good")
	if err != nil || ex.Open || ex.CloseStatus != string(api.CloseStatusTimedOut) {
		t.Fatalf("the other run: open %v, status %q, %v; want it timed out", ex.Open, ex.CloseStatus, err)
	}
}

// The loop sleeps on the machine's monotonic clock, which stands still
// while the machine is suspended (a laptop's lid closed, a virtual machine
// paused) and does not follow a step of the wall clock, while timers are
// due by the wall clock. So it looks again at least every WallCheck, not
// only when its earliest timer is due: a timer a day away slept a day of
// running time, and fired as late as the machine had been asleep (unless
// a commit of an earlier timer woke the loop first).
func TestLoopLooksAgainWithinWallCheck(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clk := aheadClock{time.Now().UTC().Truncate(time.Millisecond)}
	row := swfd.Execution{Domain: "d", WorkflowID: "w", RunID: "r", Open: true, StartTime: clk.t, Version: 1, State: []byte("{}")}
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: row, Create: true,
		AddTimers: []swfd.Timer{{RunID: "r", Key: "k", Due: clk.t.Add(24 * time.Hour)}}}}}); err != nil {
		t.Fatal(err)
	}
	l := New(Options{Store: db, Clock: clk})
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if until, ok := l.Sleeping(); ok {
			if d := until.Sub(clk.Now()); d > WallCheck {
				t.Fatalf("with a timer a day away the loop means to sleep %v; want at most %v", d, WallCheck)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the loop does not sleep")
		}
	}
}

// movingClock is a clock the test moves.
type movingClock struct{ t time.Time }

func (c *movingClock) Now() time.Time { return c.t }

// A timer set aside after failing to fire, then deleted before its wait
// was over (its run closed or purged, or another node fired it), left its
// entry in the loop's skip map for the life of the process: one entry for
// every such timer, never read again.
func TestSkippedTimersDeletedMeanwhileLeaveNoEntry(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clk := &movingClock{time.Now().UTC().Truncate(time.Millisecond)}
	row := swfd.Execution{Domain: "d", WorkflowID: "bad", RunID: "bad", Open: true, StartTime: clk.t, Version: 1, State: []byte("{}")}
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: row, Create: true,
		AddTimers: []swfd.Timer{{RunID: "bad", Key: "k", Due: clk.t.Add(-time.Second)}}}}}); err != nil {
		t.Fatal(err)
	}
	store := badRunStore{db}
	wall := &movingClock{time.Now()}
	l := New(Options{Store: store, Runs: runs.New(runs.Options{Store: store, Clock: clk}), Clock: clk, Wall: wall})
	skip := map[string]time.Time{}
	if n, _, _, err := l.FireDue(ctx, skip); n != 0 || err != nil {
		t.Fatalf("FireDue: %d fired, %v", n, err)
	}
	if _, ok := skip["bad\x00k"]; !ok {
		t.Fatal("the timer that failed was not set aside")
	}
	row.Version++
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: row, DeleteTimers: []string{"k"}}}}); err != nil {
		t.Fatal(err)
	}
	wall.t = wall.t.Add(time.Minute)
	if _, _, _, err := l.FireDue(ctx, skip); err != nil {
		t.Fatal(err)
	}
	if len(skip) != 0 {
		t.Errorf("skip keeps %d entries for timers that are gone: %v", len(skip), skip)
	}
}

// stoppingStore ends the loop's context at the first run it reads, as a node
// told to stop (SIGTERM) does while its loop fires due timers.
type stoppingStore struct {
	swfd.Store
	stop  context.CancelFunc
	reads atomic.Int32
}

func (s *stoppingStore) GetExecution(ctx context.Context, domain, runID string) (swfd.Execution, error) {
	s.reads.Add(1)
	s.stop()
	return swfd.Execution{}, ctx.Err()
}

// A node stopped while its loop fires due timers logs no error for them:
// the timers did not fail, the node stopped, and another node or this one
// once restarted fires them. Before, each stop in the middle of a round
// wrote "timer failed to fire" at level ERROR, and the round went on
// through every due timer it had read, each failing at once.
func TestStopWhileFiringLogsNoFailure(t *testing.T) {
	db, err := sqlite.Open(context.Background(), ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	for i := range 20 {
		run := fmt.Sprint("r", i)
		row := swfd.Execution{Domain: "d", WorkflowID: run, RunID: run, Open: true, StartTime: now, Version: 1, State: []byte("{}")}
		if err := db.Commit(context.Background(), swfd.Batch{Updates: []swfd.Update{{Execution: row, Create: true,
			AddTimers: []swfd.Timer{{RunID: run, Key: "k", Due: now.Add(-time.Second)}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs logbuf.Buffer
	store := &stoppingStore{Store: db, stop: cancel}
	l := New(Options{Store: store, Runs: runs.New(runs.Options{Store: store}), Log: slog.New(slog.NewTextHandler(&logs, nil))})
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	<-done
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a stop while firing timers logged an error:\n%s", logs.String())
	}
	if n := store.reads.Load(); n != 1 {
		t.Errorf("the round went on through %d timers after the stop", n)
	}
}

// flakyStore fails every read of a run while failing is set.
type flakyStore struct {
	swfd.Store
	failing atomic.Bool
}

func (s *flakyStore) GetExecution(ctx context.Context, domain, runID string) (swfd.Execution, error) {
	if s.failing.Load() {
		return swfd.Execution{}, fmt.Errorf("run %s: %w", runID, swfd.ErrStorageUnavailable)
	}
	return s.Store.GetExecution(ctx, domain, runID)
}

// A timer that failed to fire is tried again once its wait is over in real
// time, whatever the workflows' clock does: with a clock that stands still
// (a manual clock between moves), the loop used to measure the wait on it,
// and so set the timer aside for good, looking at it every 50 ms and
// never firing it.
func TestSetAsideTimerTriedAgainWithClockHeld(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clk := aheadClock{time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)}
	rs := runs.New(runs.Options{Store: db, Limits: history.DefaultLimits, Clock: aheadClock{clk.t.Add(-time.Minute)}})
	st, res := history.Start(rs.Env(ctx), history.StartParams{
		Domain: "d", WorkflowID: "w", RunID: "r", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
		Config: history.Config{TaskList: "l", ExecutionStartToCloseTimeout: "1", TaskStartToCloseTimeout: "60", ChildPolicy: api.ChildPolicyTerminate},
	})
	var b runs.Batch
	if err := b.Add(st, 0, true, res); err != nil {
		t.Fatal(err)
	}
	if err := rs.Commit(ctx, &b); err != nil {
		t.Fatal(err)
	}
	store := &flakyStore{Store: db}
	store.failing.Store(true)
	l := New(Options{Store: store, Runs: runs.New(runs.Options{Store: store, Limits: history.DefaultLimits, Clock: clk}), Clock: clk})
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	// The loop's first round fails to fire the run's timeout; the store
	// then mends, and the clock stands still.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if until, ok := l.Sleeping(); ok && until.Sub(clk.Now()) <= time.Second {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the loop never set the failing timer aside")
		}
	}
	store.failing.Store(false)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		ex, err := db.GetExecution(ctx, "d", "r")
		if err != nil {
			t.Fatal(err)
		}
		if !ex.Open {
			if ex.CloseStatus != string(api.CloseStatusTimedOut) {
				t.Fatalf("the run closed as %q; want TIMED_OUT", ex.CloseStatus)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the timer that failed once was never fired again, the clock standing still")
		}
	}
}

// Under a skip clock, a timer that failed to fire holds the clock while it
// waits to be tried again (the clock does not jump past it), but not for
// ever: one that kept failing stopped the clock for good, and with it every
// other run's timers, a test of them sitting idle until it timed out. Once
// the timer has failed for StuckAfter of real time, the clock jumps on to
// the next timer, and the stuck one is still tried every 5 s.
func TestSkipClockGoesOnPastAStuckTimer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now().UTC().Truncate(time.Millisecond)
	clk, wall := clock.NewManual(start), clock.NewManual(start)
	// Run "bad" cannot be read: its timer, due a second ago, fails every
	// time. Run "good" times out in an hour.
	bad := swfd.Execution{Domain: "d", WorkflowID: "bad", RunID: "bad", Open: true, StartTime: start, Version: 1, State: []byte("{}")}
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: bad, Create: true,
		AddTimers: []swfd.Timer{{RunID: "bad", Key: "k", Due: start.Add(-time.Second)}}}}}); err != nil {
		t.Fatal(err)
	}
	rs := runs.New(runs.Options{Store: db, Limits: history.DefaultLimits, Clock: clk})
	st, res := history.Start(rs.Env(ctx), history.StartParams{
		Domain: "d", WorkflowID: "good", RunID: "good", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
		Config: history.Config{TaskList: "l", ExecutionStartToCloseTimeout: "3600", TaskStartToCloseTimeout: "60", ChildPolicy: api.ChildPolicyTerminate},
	})
	var b runs.Batch
	if err := b.Add(st, 0, true, res); err != nil {
		t.Fatal(err)
	}
	if err := rs.Commit(ctx, &b); err != nil {
		t.Fatal(err)
	}
	store := &countingStore{ExecutionStore: badRunStore{db}}
	var jumps atomic.Int32
	skipTo := func(ctx context.Context, due time.Time) (bool, error) {
		if !due.After(clk.Now()) {
			return false, nil // as clock.Controller.SkipTo: no jump to the past
		}
		jumps.Add(1)
		clk.MoveTo(due)
		return true, nil
	}
	l := New(Options{Store: store, Runs: runs.New(runs.Options{Store: badRunStore{db}, Limits: history.DefaultLimits, Clock: clk}),
		Clock: clk, Wall: wall, Skip: skipTo})
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	// rounds waits for the loop to look at the due timers n more times.
	rounds := func(n int32) {
		t.Helper()
		from := store.looks.Load()
		for deadline := time.Now().Add(10 * time.Second); store.looks.Load() < from+n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the loop does not go round")
			}
		}
	}
	rounds(3)
	if n := jumps.Load(); n != 0 {
		t.Fatalf("the clock jumped %d times while the failed timer waited for its first retry", n)
	}
	// Tried again 5 s later, it fails again: it still holds the clock.
	wall.MoveTo(wall.Now().Add(5 * time.Second))
	rounds(3)
	if n := jumps.Load(); n != 0 {
		t.Fatalf("the clock jumped %d times after the timer had failed for 5s", n)
	}
	// Failing for StuckAfter, it no longer does: the clock jumps to the
	// other run's timeout, which fires.
	wall.MoveTo(wall.Now().Add(StuckAfter))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		ex, err := db.GetExecution(ctx, "d", "good")
		if err != nil {
			t.Fatal(err)
		}
		if !ex.Open {
			if ex.CloseStatus != string(api.CloseStatusTimedOut) {
				t.Fatalf("the other run closed as %q; want TIMED_OUT", ex.CloseStatus)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other run's timeout never fired: the clock stays at %v, %d jumps", clk.Now(), jumps.Load())
		}
	}
	if got, want := clk.Now(), start.Add(time.Hour); !got.Equal(want) {
		t.Errorf("the clock at %v; want it jumped to the timeout, %v", got, want)
	}
	// The stuck timer is still there, tried again.
	if ts, err := db.DueTimers(ctx, clk.Now(), 10); err != nil || len(ts) != 1 || ts[0].RunID != "bad" {
		t.Errorf("due timers %v, %v; want the stuck one", ts, err)
	}
}

// heldStore counts the loop's looks at the due timers, and those made
// outside the loop's hold.
type heldStore struct {
	countingStore
	held, unheld atomic.Int32
}

func (s *heldStore) DueTimers(ctx context.Context, now time.Time, limit int) ([]swfd.Timer, error) {
	if s.held.Load() == 0 {
		s.unheld.Add(1)
	}
	return s.countingStore.DueTimers(ctx, now, limit)
}

// The loop's own rounds of firing run inside Options.Hold, so that a
// clock move (which takes the clock exclusively, keeping Hold waiting)
// fires and counts the timers it makes due itself, rather than racing the
// loop for them.
func TestRoundsRunInsideTheHold(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := &heldStore{countingStore: countingStore{ExecutionStore: db}}
	var gate sync.RWMutex
	hold := func() func() {
		gate.RLock()
		store.held.Add(1)
		return func() { store.held.Add(-1); gate.RUnlock() }
	}
	l := New(Options{Store: store, Clock: aheadClock{time.Now()}, MaxSleep: time.Hour, Hold: hold})
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	waitLooks := func(n int32) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); store.looks.Load() < n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the loop made %d looks; want %d", store.looks.Load(), n)
			}
		}
	}
	waitLooks(1)
	// A move holds the clock: the loop, woken, waits for it.
	gate.Lock()
	looks := store.looks.Load()
	l.Wake()
	gate.Unlock()
	waitLooks(looks + 1)
	if n := store.unheld.Load(); n != 0 {
		t.Errorf("%d of the loop's %d looks at the due timers were made outside its hold", n, store.looks.Load())
	}
}
