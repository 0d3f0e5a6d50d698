// Package timers fires durable timers: user timers and every activity,
// decision and workflow timeout. Timers are rows of the store, written with
// the step that armed them; the Loop sleeps until the earliest is due (or
// until a commit adds an earlier one), then fires each due timer as one
// step of its run, which records what the timeout or timer means and
// removes the timer in the same commit. An idle server with many pending
// timers costs one sleeping goroutine, which looks at the store once a
// minute (WallCheck) in case the machine slept.
//
// The loop may run late (a busy server, a restart). A call that reaches a
// run first fires that run's timers already due itself (package history
// catches them up), and a start of a workflowId whose open
// run is past its timeout first times that run out (runs.FreeWorkflowID),
// so the loop's lateness does not change the call's outcome; the same
// commit deletes those timers. Reads (describe, history, lists) do not
// catch up: they show what is recorded until the loop or a call records
// the timeout.
package timers

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/lograte"
	"github.com/swfd/swfd/internal/loop"
	"github.com/swfd/swfd/runs"
)

// Options configure a Loop.
type Options struct {
	Store swfd.ExecutionStore
	Runs  *runs.Store
	// Clock is the workflows' time, by which timers fall due.
	Clock swfd.Clock
	// Wall is the clock of the loop's own waits before it tries again a
	// timer that failed to fire (5 s) or whose run was locked (1 s):
	// real time, whatever time the workflows are at; the system clock
	// when nil. On Clock, a clock that stands still (a manual clock)
	// would set such a timer aside for good.
	Wall swfd.Clock
	Log  *slog.Logger
	// MaxSleep, if not 0, bounds how long the loop sleeps between looks
	// at the store's earliest timer: in a cluster another node may add an
	// earlier timer and die before it fires. 0 means WallCheck.
	MaxSleep time.Duration
	// Fired, if set, is told of each timer fired here, with its due time
	// (for metrics: how late it fired): each timer that recorded something,
	// those of its instant a timer's step fired before it (history's
	// FireTimer) included. A timer that no longer applied (another node
	// fired it first, the task it guarded finished, another timer of its
	// instant closed the run or fired it already) is deleted without being
	// told: nothing fired.
	Fired func(due time.Time)
	// Skip, if set, is asked before the loop sleeps until the earliest
	// timer, due at due: true means the clock was moved to due (a skip
	// clock with nothing else to do), so the loop fires it without
	// sleeping. While a timer that failed to fire waits to be tried
	// again, it is not asked: the clock must not jump past that timer,
	// which the retry may yet fire in its turn. Not for ever, though: a
	// timer that has failed for StuckAfter of real time no longer holds
	// the clock, which is then asked to jump to the earliest timer not
	// set aside.
	Skip func(ctx context.Context, due time.Time) (bool, error)
	// Hold, if set, is called before each of the loop's own rounds of
	// firing, and the function it returns after: with a clock that is
	// moved (manual or skip), it keeps the clock from moving meanwhile, and
	// a move waits for the round, so that the timers a move makes due are
	// fired by the move itself, each counted in what it reports, rather
	// than raced for by the loop (which the move's wake-up also woke).
	// FireDue, which a move calls, does not call it.
	Hold func() (release func())
}

// WallCheck bounds how long the loop sleeps when Options.MaxSleep is 0.
// The loop sleeps on the monotonic clock, which stands still while the
// machine is suspended (a laptop's lid closed, a virtual machine paused)
// and does not follow a step of the wall clock, while timers fall due by
// the wall clock: looking again at least this often keeps a timer from
// firing as late as the machine slept.
const WallCheck = time.Minute

// Loop fires timers as they come due.
type Loop struct {
	store swfd.ExecutionStore
	runs  *runs.Store
	clock swfd.Clock
	wall  swfd.Clock // Options.Wall
	log   *slog.Logger
	// failLines logs timers that failed to fire, a few lines a second at
	// most with a count of those left out: on a full disk every due timer
	// fails, again every 5 seconds.
	failLines *lograte.Limiter
	// lockedLines logs timers whose run another writer held locked, at
	// the same rate.
	lockedLines *lograte.Limiter
	maxSleep    time.Duration
	fired       func(due time.Time)
	skipTo      func(ctx context.Context, due time.Time) (bool, error)
	hold        func() (release func())

	wake chan struct{}
	// next is when the sleeping loop wakes (Unix ns, on its clock); 0
	// while it is awake.
	// Commits wake it only for timers due before then.
	next atomic.Int64
}

// New returns a Loop; Run runs it.
func New(opts Options) *Loop {
	l := &Loop{store: opts.Store, runs: opts.Runs, clock: opts.Clock, wall: opts.Wall, log: opts.Log, maxSleep: cmp.Or(opts.MaxSleep, WallCheck), fired: opts.Fired, skipTo: opts.Skip, hold: opts.Hold, wake: make(chan struct{}, 1)}
	if l.clock == nil {
		l.clock = swfd.SystemClock{}
	}
	if l.wall == nil {
		l.wall = swfd.SystemClock{}
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	l.failLines = lograte.New(l.log, failLinesPerSecond, failLineBurst, nil)
	l.lockedLines = lograte.New(l.log, failLinesPerSecond, failLineBurst, nil)
	return l
}

// LockWait is how long firing a timer waits for its run's row when another
// writer holds it locked (swfd.WithLockWait), and lockedRetry how long the
// timer is then left alone. Every node fires every due timer, one at a
// time: without the bound, a run locked by a node that stopped in the
// middle of a commit would hold up every other timer behind it until the
// database ends that node's session. A live writer holds a run's row for
// the milliseconds of its commit.
const (
	LockWait    = time.Second
	lockedRetry = time.Second
)

// How many lines a second timers that failed to fire may write to the log,
// after a burst of failLineBurst.
const (
	failLinesPerSecond = 2
	failLineBurst      = 10
)

// StuckAfter is how long (of real time) a timer that keeps failing to
// fire holds a skip clock (Options.Skip) before the clock goes on without
// it: a store error that lasts moments (a retry 5 s later fires the timer)
// keeps the timers in their order, while a timer that cannot fire at all
// (a run whose stored state cannot be read) does not stop time for every
// other run of the server. It goes on being tried every 5 s, late.
const StuckAfter = 30 * time.Second

// Run fires timers until ctx ends.
func (l *Loop) Run(ctx context.Context) {
	skip := map[string]time.Time{} // timers that failed to fire, retried later
	// failing: timers set aside after failing to fire, with when (on the
	// wall clock) the failures in a row began; for a skip clock.
	var failing map[string]time.Time
	if l.skipTo != nil {
		failing = map[string]time.Time{}
	}
	for ctx.Err() == nil {
		release := func() {}
		if l.hold != nil {
			release = l.hold()
		}
		n, _, due, next, err := l.fireDueFailing(ctx, skip, failing)
		release()
		if err != nil && ctx.Err() == nil {
			l.log.Error("firing timers", "err", err)
			next = time.Second
		}
		if n > 0 {
			continue
		}
		if err == nil && !due.IsZero() && l.skipTo != nil && !due.After(l.clock.Now()) {
			// The earliest timer is due but set aside: the clock waits
			// for its retry unless it is stuck.
			due, err = l.pastStuck(ctx, skip, failing)
			if err != nil && ctx.Err() == nil {
				l.log.Error("looking for the timer after those that keep failing to fire", "err", err)
			}
		}
		if err == nil && !due.IsZero() && l.skipTo != nil {
			moved, err := l.skipTo(ctx, due)
			if err != nil && ctx.Err() == nil {
				l.log.Error("skipping time to the next timer", "err", err)
			}
			if moved {
				continue
			}
		}
		if l.maxSleep > 0 && next > l.maxSleep {
			next = l.maxSleep
		}
		// On the loop's clock, as the due times WakeFor compares it with
		// are: a manual clock may stand days ahead of the wall clock.
		l.next.Store(l.clock.Now().Add(next).UnixNano())
		wait := time.NewTimer(next)
		select {
		case <-ctx.Done():
		case <-l.wake:
		case <-wait.C:
		}
		wait.Stop()
		l.next.Store(0)
	}
}

// Sleeping reports when the loop, asleep, means to wake, on its clock; ok
// is false while it is awake.
func (l *Loop) Sleeping() (until time.Time, ok bool) {
	n := l.next.Load()
	if n == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// Wake makes the loop look at the store's timers now.
func (l *Loop) Wake() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// WakeFor wakes the loop for a timer due at due, if it sleeps past due. A
// loop that is awake may have read the store before that timer was
// committed: it is woken too, to look again.
func (l *Loop) WakeFor(due time.Time) {
	if next := l.next.Load(); next == 0 || due.UnixNano() < next {
		l.Wake()
	}
}

// Committed is the loop's runs.Listener: a commit that added a timer wakes
// it if the timer is due before it means to wake.
func (l *Loop) Committed(c runs.Commit) {
	if due := c.EarliestTimer(); !due.IsZero() {
		l.WakeFor(due)
	}
}

// FireDue fires the timers due now, those of one read of the store (a
// batch, or more behind timers set aside: up to maxScan), and returns how
// many it handled (fired, or deleted as no longer applying), how many of
// those and of the timers their steps fired with them recorded something
// (as Options.Fired counts them), and how long until the next one is due. A timer that fails to
// fire is put in skip (when not nil) and left alone for 5 seconds (of real
// time, Options.Wall, until which skip holds); the
// timers due after those set aside are fired meanwhile, however many are
// set aside (up to maxScan read in one round). Tests
// with an injected clock call it directly.
func (l *Loop) FireDue(ctx context.Context, skip map[string]time.Time) (handled, fired int, next time.Duration, err error) {
	handled, fired, _, next, err = l.fireDue(ctx, skip)
	return handled, fired, next, err
}

// pastStuck returns when the earliest timer is due that a skip clock may
// jump to while the timers due now are set aside: zero if one of those
// waits for its retry and has not failed for StuckAfter yet (the clock
// waits for it), or if no timer comes after them.
func (l *Loop) pastStuck(ctx context.Context, skip, failing map[string]time.Time) (time.Time, error) {
	now, wall := l.clock.Now(), l.wall.Now()
	// The earliest timers: those set aside, and then the next one.
	ts, err := l.store.DueTimers(ctx, farFuture, len(skip)+1)
	if err != nil {
		return time.Time{}, err
	}
	stuck := 0
	for _, t := range ts {
		id := t.RunID + "\x00" + t.Key
		if _, aside := skip[id]; !aside {
			if !t.Due.After(now) || stuck == 0 {
				return time.Time{}, nil // the loop fires it next round
			}
			l.failLines.Log(ctx, slog.LevelWarn, "the skip clock goes on past timers that have failed to fire for 30s; they are still tried every 5s",
				"timers", stuck, "to", t.Due)
			return t.Due, nil
		}
		since, ok := failing[id]
		if !ok || wall.Sub(since) < StuckAfter {
			return time.Time{}, nil
		}
		stuck++
	}
	return time.Time{}, nil
}

// farFuture is later than any timer is due.
var farFuture = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// fireDue is FireDue that also returns when the next timer is due (zero
// when it handled some, or none is pending).
func (l *Loop) fireDue(ctx context.Context, skip map[string]time.Time) (int, int, time.Time, time.Duration, error) {
	return l.fireDueFailing(ctx, skip, nil)
}

// fireDueFailing is fireDue that also keeps, in failing (when not nil),
// when each timer set aside after failing to fire began to fail (on the
// wall clock): a timer that fires, or is gone, leaves it.
func (l *Loop) fireDueFailing(ctx context.Context, skip, failing map[string]time.Time) (int, int, time.Time, time.Duration, error) {
	if failing != nil {
		defer func() {
			for id := range failing {
				if _, ok := skip[id]; !ok {
					delete(failing, id)
				}
			}
		}()
	}
	now, wall := l.clock.Now(), l.wall.Now()
	// A set-aside timer whose wait is over is tried again below if it is
	// still due, and put back if it fails again; one deleted meanwhile (its
	// run closed, purged, or fired by another node) is never read again, so
	// its entry goes here or it would stay for the life of the process.
	for id, until := range skip {
		if !wall.Before(until) {
			delete(skip, id)
		}
	}
	handled, fired := 0, 0
	locked := map[string]bool{} // runs found locked in this round
	// The timers set aside (failed a moment ago, or their run locked) are
	// overdue, so they come first. When a whole read is of them, the loop
	// reads further, or the timers due after them would wait for as long
	// as those keep failing: one run with more due timers than a read
	// holds would hold up every other run's.
	var due []swfd.Timer
	for limit, seen := batch, 0; ; limit *= 2 {
		var err error
		if due, err = l.store.DueTimers(ctx, now, limit); err != nil {
			if seen > 0 {
				break
			}
			return 0, 0, time.Time{}, time.Second, err
		}
		h, f := l.fireEach(ctx, wall, due[min(seen, len(due)):], skip, failing, locked)
		handled, fired = handled+h, fired+f
		if handled > 0 || len(due) < limit || limit >= maxScan {
			break
		}
		seen = len(due)
	}
	if handled > 0 {
		return handled, fired, time.Time{}, 0, nil
	}
	next, err := l.store.NextTimer(ctx)
	if errors.Is(err, swfd.ErrNotFound) {
		return 0, 0, time.Time{}, time.Hour, nil
	}
	if err != nil {
		return 0, 0, time.Time{}, time.Second, err
	}
	d := next.Due.Sub(l.clock.Now())
	if d < time.Millisecond {
		d = 50 * time.Millisecond // due but skipped after a failure
	}
	return 0, 0, next.Due, d, nil
}

// fireEach fires the due timers of one read, but for those set aside in
// skip (until a time on the wall clock, now wall) and those of runs found
// locked in this round (locked), and returns how many it handled and how
// many timers recorded something. A timer that fails to fire is kept in
// failing (if not nil) with when its failures began.
func (l *Loop) fireEach(ctx context.Context, wall time.Time, due []swfd.Timer, skip, failing map[string]time.Time, locked map[string]bool) (handled, fired int) {
	for _, t := range due {
		id := t.RunID + "\x00" + t.Key
		if until, ok := skip[id]; ok && wall.Before(until) || locked[t.RunID] {
			continue
		}
		var recorded int
		err := loop.Error(l.log, "firing a timer", func() (err error) { recorded, err = l.fire(ctx, t); return err })
		if errors.Is(err, swfd.ErrLocked) {
			// Its run's other timers wait for the next round too.
			locked[t.RunID] = true
			l.lockedLines.Log(ctx, slog.LevelWarn, "a timer's run is locked by another writer (a node stopped in the middle of a commit?); trying it again in 1s", "run_id", t.RunID, "key", t.Key, "waited", LockWait)
			if skip != nil {
				skip[id] = wall.Add(lockedRetry)
			}
			continue
		}
		if err != nil && ctx.Err() != nil {
			// The node is stopping: the timer did not fail, and
			// whichever node fires it next finds it due. The rest
			// of the round would only fail the same way.
			return handled, fired
		}
		if err != nil {
			l.failLines.Log(ctx, slog.LevelError, "timer failed to fire; retrying in 5s", "run_id", t.RunID, "key", t.Key, "err", err)
			if skip != nil {
				skip[id] = wall.Add(5 * time.Second)
			}
			if _, ok := failing[id]; !ok && failing != nil {
				failing[id] = wall
			}
			continue
		}
		delete(skip, id)
		delete(failing, id)
		handled++
		fired += recorded
		for range recorded {
			if l.fired != nil {
				l.fired(t.Due)
			}
		}
	}
	return handled, fired
}

// fire fires one timer: one step of its run, on the stored run (another
// node may have changed it), that also deletes the timer unless the step
// armed it again. A step that keeps losing the race for the run to other
// nodes' holds the run for its next attempt (runs.StepStored), waiting for
// it at most LockWait. recorded counts the timers that recorded something:
// t, and those of its instant armed before it that the step fired first. It
// is 0 when t no longer applied (the run's state has nothing for it: another
// node fired it first, or what it guarded is over), so the step recorded no
// event and only deleted it.
func (l *Loop) fire(ctx context.Context, t swfd.Timer) (recorded int, err error) {
	ctx = swfd.WithLockWait(ctx, LockWait)
	unlock := l.runs.Lock(t.RunID)
	defer unlock()
	err = l.runs.StepStored(ctx, "", t.RunID, func(r *runs.Run, err error) error {
		recorded = 0
		if err != nil {
			return err
		}
		res, err := r.State.FireTimer(l.runs.Env(ctx), t.Key)
		if err != nil {
			return err
		}
		rearmed := false
		for _, a := range res.AddTimers {
			if a.Key == t.Key {
				rearmed = true
			}
		}
		if !rearmed {
			res.DeleteTimers = append(res.DeleteTimers, t.Key)
		}
		if err := l.runs.CommitRun(ctx, r, res); err != nil {
			return err
		}
		recorded = res.TimersFired
		return nil
	})
	return recorded, err
}

// batch is how many due timers the loop reads at once, and maxScan how
// many at most one round reads past timers set aside after failing.
const (
	batch   = 256
	maxScan = 16 * batch
)
