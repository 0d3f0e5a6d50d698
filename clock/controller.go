package clock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// Errors of moving the clock; the admin API turns them into faults.
var (
	// ErrReal: the clock is the real one and cannot be moved.
	ErrReal = errors.New("the clock is real and cannot be moved")
	// ErrBackwards: the clock never goes back.
	ErrBackwards = errors.New("the clock never goes backwards")
	// ErrTooLate: a move past Latest.
	ErrTooLate = errors.New("the clock cannot be moved past " + Latest.Format(time.RFC3339))
	// ErrTimePrecision: the clock counts whole milliseconds (Precision), as
	// SWF's timestamps do, and a time with a part below one is not a time
	// it can show.
	ErrTimePrecision = errors.New("a time to move the clock to must be a whole number of milliseconds")
)

// Latest is as far as the clock may be moved. swfd keeps times up to the
// end of the year 9999 (the last that RFC 3339 and its stores can spell),
// and the longest wait SWF allows (a timer of 99,999,999 seconds, about
// three years) must still end within it.
var Latest = time.Date(9990, 1, 1, 0, 0, 0, 0, time.UTC)

// Engine is what moving the clock needs from the rest of swfd.
type Engine interface {
	// NextTimer returns when the earliest pending timer due after after
	// is due (with a zero after, the earliest of all); ok is false when no
	// such timer is pending.
	NextTimer(ctx context.Context, after time.Time) (due time.Time, ok bool, err error)
	// Overdue returns up to limit pending timers due at or before by,
	// earliest first: once Settle has fired what was due, those that
	// failed to fire.
	Overdue(ctx context.Context, by time.Time, limit int) ([]swfd.Timer, error)
	// Settle does the work due at the clock's current time: it fires every
	// timer due by now and delivers every message waiting between runs,
	// until nothing more is due at this instant. It returns how many
	// timers fired: those that recorded something, not those deleted as
	// no longer applying (what they guarded had ended already).
	Settle(ctx context.Context) (fired int, err error)
	// PurgeExpired deletes closed executions whose domain's retention has
	// passed.
	PurgeExpired(ctx context.Context) error
	// PendingMessages reports whether a message between runs (a child to
	// start, a signal, a cancel request, a close to report) waits to be
	// delivered. One whose delivery has kept failing for long (its target
	// cannot be read) need not count: it would stop the skip clock for
	// good.
	PendingMessages(ctx context.Context) (bool, error)
}

// Moved is the outcome of a move of the clock.
type Moved struct {
	Now   time.Time // the clock's time after the move
	Fired int       // timers and timeouts that fired on the way (recorded something)
	// Stuck holds the timers the move went on past because they failed
	// to fire (their run could not be read or written), earliest first,
	// up to MaxStuck of them; they are still pending, tried again by
	// every later move and by the timer loop.
	Stuck []swfd.Timer
}

// MaxStuck is how many of the timers that failed to fire a move reports.
const MaxStuck = 100

// Controller moves the clock the way time passes, and knows when a skip
// clock may jump.
//
// Calls from outside meet moves at a gate: every call but a long poll is
// served on the gate's shared side (Enter, Middleware), and so are the
// start of a task by a long poll and each operation the web console makes
// (HoldWait), each step of a Lambda task and each delivery of a message
// between runs by the transfer loop (Hold); a move or a reset takes the
// gate exclusively. What a client waits on waits for a move at most
// GateWait.
// A move therefore happens between calls, never during one, and a task
// scheduled during a move is handed out only after it, at the new time —
// as if the pollers had been away while that much time passed.
type Controller struct {
	mode    Mode
	clock   swfd.Clock
	movable Movable // nil for the real clock
	engine  Engine
	wake    func()

	move sync.Mutex   // one move (or reset) at a time
	gate sync.RWMutex // see the type's comment

	keeper Keeper // nil: the clock's time is kept nowhere (see Keep)

	// GateWait bounds how long a call served by Middleware waits at the
	// gate for a move or a reset to end (0: as long as it takes). One
	// that waits longer is answered by Busy and not served: a client
	// whose own timeout passes meanwhile would retry it, and the first
	// attempt, carried out after the move, would be done twice.
	GateWait time.Duration
	// Busy answers a call Middleware let wait GateWait at the gate in vain
	// (nil: a bare 503). With Enter the caller answers such a call.
	Busy http.Handler

	// retired is set (under move) once a reset has replaced the engine
	// (Exclusive): the controller of the next engine moves the clock from
	// then on, and this one no longer jumps it for the engine it drops.
	retired bool

	mu   sync.Mutex
	work map[string]*runWork // runs with a task scheduled or started (skip mode)
}

// runWork is what keeps a run from being idle: its decision task (the
// event id of the latest DecisionTaskScheduled not yet closed, 0 for none)
// and the activity tasks (by scheduled event id) scheduled or started.
type runWork struct {
	decision   int64
	activities map[int64]bool
}

// NewController returns a controller of clk in mode. For Manual and Skip clk
// must be Movable (a ManualClock or a SkipClock); for Real it only tells
// the time (nil: the wall clock). Call SetEngine before the first move.
func NewController(mode Mode, clk swfd.Clock) (*Controller, error) {
	if clk == nil {
		clk = swfd.SystemClock{}
	}
	c := &Controller{mode: mode, clock: clk, work: map[string]*runWork{}}
	if mode != Real {
		m, ok := clk.(Movable)
		if !ok {
			return nil, fmt.Errorf("clock: a %s clock must be movable, not %T", mode, clk)
		}
		c.movable = m
	}
	return c, nil
}

// SetEngine gives the controller the engine it moves time for, and wake,
// which tells whatever sleeps until the next timer to look again (the skip
// clock calls it when the server may have become idle). Call it once,
// before the server serves.
func (c *Controller) SetEngine(e Engine, wake func()) {
	c.engine, c.wake = e, wake
}

// Mode returns the clock's mode.
func (c *Controller) Mode() Mode { return c.mode }

// Keeper keeps values that outlive the server: a store's meta values
// (swfd.Store is one). SetMetaMax writes a value unless the one kept is
// greater, byte by byte, in one atomic step.
type Keeper interface {
	Meta(ctx context.Context, key string) ([]byte, error)
	SetMetaMax(ctx context.Context, key string, value []byte) error
}

// KeptKey is the meta value in which a clock that moves keeps the latest
// time it reached (RFC 3339, UTC, to the millisecond: keptLayout).
const KeptKey = "clock-time"

// keptLayout is the form of the time kept. Its fields have fixed widths,
// largest first, so that its bytes sort as the times do (up to the year
// 9999, past Latest): the Keeper keeps the greatest.
const keptLayout = "2006-01-02T15:04:05.000Z"

// Keep makes k keep the time of a clock that moves, so that such a clock
// never goes backwards across restarts either: the clock moves forward at
// once to the time k kept, if that is later than it shows, and from then
// on every move (Advance, Set, a skip clock's jump, Save) writes the time
// reached to k. Call it once, before the first move. With the real clock
// it does nothing: the real clock is the wall clock's, whatever time k
// kept (which the server only warns of, when it is ahead).
func (c *Controller) Keep(ctx context.Context, k Keeper) error {
	if c.mode == Real {
		return nil
	}
	t, ok, err := Kept(ctx, k)
	if err != nil {
		return err
	}
	if ok {
		c.movable.MoveTo(t)
	}
	c.keeper = k
	return nil
}

// Kept returns the time k keeps for a clock that moves (see Keep): the
// latest time such a clock reached while k kept it. ok is false when k
// keeps none.
func Kept(ctx context.Context, k Keeper) (t time.Time, ok bool, err error) {
	b, err := k.Meta(ctx, KeptKey)
	switch {
	case errors.Is(err, swfd.ErrNotFound):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("clock: read the time kept: %w", err)
	}
	t, err = time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("clock: the time kept, %q: %w", b, err)
	}
	return t.UTC(), true, nil
}

// Save writes the clock's time to the Keeper (see Keep) unless the
// Keeper holds a later one, which it keeps: the time kept never goes back,
// even when a clock behind it saves (another swfd over the same database,
// or one that stops after a later one did). Without a Keeper it does
// nothing. Moves save by themselves; a skip clock also runs between them,
// so the server saves it once more when it stops.
func (c *Controller) Save(ctx context.Context) error { return c.keep(ctx, c.Now()) }

// keep saves t as the time to resume from (see Save).
func (c *Controller) keep(ctx context.Context, t time.Time) error {
	if c.keeper == nil {
		return nil
	}
	at := t.UTC().Format(keptLayout)
	if err := c.keeper.SetMetaMax(ctx, KeptKey, []byte(at)); err != nil {
		return fmt.Errorf("clock: keep the time %s: %w", at, err)
	}
	return nil
}

// Now returns the clock's time, to the millisecond, in UTC.
func (c *Controller) Now() time.Time { return c.clock.Now().UTC().Truncate(Precision) }

// Advance moves the clock forward by d: see MoveTo. A d below zero is
// ErrNegative, one that is not a whole number of milliseconds (the
// clock's Precision) ErrPrecision, and neither moves anything.
func (c *Controller) Advance(ctx context.Context, d time.Duration) (Moved, error) {
	if c.mode == Real {
		return Moved{}, ErrReal
	}
	if d < 0 {
		return Moved{}, ErrNegative
	}
	if d%Precision != 0 {
		return Moved{}, ErrPrecision
	}
	return c.moveTo(ctx, func(now time.Time) (time.Time, error) { return now.Add(d), nil })
}

// Set moves the clock forward to t: see MoveTo. A t before the clock's time
// is ErrBackwards, one that is not a whole number of milliseconds (the
// clock's Precision) ErrTimePrecision, and neither moves anything.
func (c *Controller) Set(ctx context.Context, t time.Time) (Moved, error) {
	if c.mode == Real {
		return Moved{}, ErrReal
	}
	if t.Nanosecond()%int(Precision) != 0 {
		return Moved{}, ErrTimePrecision
	}
	return c.moveTo(ctx, func(now time.Time) (time.Time, error) {
		if t.Before(now) {
			return time.Time{}, ErrBackwards
		}
		return t, nil
	})
}

// moveTo moves the clock to the target that target computes from the
// clock's time, exactly as if that much time passed: it waits for calls
// in flight to finish and holds new ones, then does what is due now, and
// while a timer falls due before the target, sets the clock to that timer's
// instant and does what is due then — so each timer and timeout fires in
// order, at its own time, and sees what the earlier ones caused. Then it
// sets the clock to the target and purges executions whose retention has
// passed. A move, once begun, finishes even if the caller goes away; the
// time it reached is saved (Save) even if it fails on the way, and each
// instant it stops at on the way is saved before what is due there fires.
// A timer that fails to fire at its instant, and again when tried once
// more, does not fail the move: the move goes on past it, trying it again
// at each later instant, and reports it in Moved.Stuck if it never fired.
func (c *Controller) moveTo(ctx context.Context, target func(now time.Time) (time.Time, error)) (_ Moved, err error) {
	ctx = context.WithoutCancel(ctx)
	c.move.Lock()
	defer c.move.Unlock()
	c.gate.Lock()
	defer c.gate.Unlock()
	from := c.Now()
	to, err := target(from)
	if err != nil {
		return Moved{}, err
	}
	if to.After(Latest) {
		return Moved{}, ErrTooLate
	}
	defer func() {
		if c.Now().After(from) {
			err = errors.Join(err, c.Save(ctx))
			// The timer loop sleeps until a time on the clock before the
			// move: it looks again, so that a timer due now, at the new
			// time (one of zero seconds, armed after the move), wakes it.
			if c.wake != nil {
				c.wake()
			}
		}
	}()
	fired := 0
	settle := func() error {
		n, err := c.engine.Settle(ctx)
		fired += n
		return err
	}
	if err := settle(); err != nil {
		return Moved{}, err
	}
	var settledAgain time.Time // the due time of the last timer settled for once more
	// Timers due by past failed to fire, tried at their instant and once
	// more: the move goes on past them (each later instant's settling
	// tries them again) rather than fail, so that a run that cannot be
	// read does not stop time for every other run.
	var past time.Time
	for {
		due, ok, err := c.engine.NextTimer(ctx, past)
		if err != nil {
			return Moved{Now: c.Now(), Fired: fired}, err
		}
		if !ok || due.After(to) {
			break
		}
		if !due.After(c.Now()) {
			// Due already. A skip clock runs on in real time while the
			// work of an instant is done, so a timer due a few
			// milliseconds after that instant may have fallen due after
			// the settling looked: settle once more. Still due after
			// that, it failed to fire.
			if due.Equal(settledAgain) {
				past = c.Now()
				continue
			}
			settledAgain = due
			if err := settle(); err != nil {
				return Moved{Now: c.Now(), Fired: fired}, err
			}
			continue
		}
		// Kept before the clock shows it, so before anything is dated
		// there: a swfd killed in the middle of the move resumes at the
		// latest time its events bear. (Kept after the clock had moved,
		// the timer loop, woken by the move, could fire what is due
		// there while the time was being written, and the move would
		// not count it.)
		if err := c.keep(ctx, due); err != nil {
			return Moved{Now: c.Now(), Fired: fired}, err
		}
		c.movable.MoveTo(due)
		if err := settle(); err != nil {
			return Moved{Now: c.Now(), Fired: fired}, err
		}
	}
	var stuck []swfd.Timer
	if !past.IsZero() {
		// Kept first, as each instant on the way is: what is due is
		// tried once more at the target.
		if err := c.keep(ctx, to); err != nil {
			return Moved{Now: c.Now(), Fired: fired}, err
		}
	}
	c.movable.MoveTo(to)
	if !past.IsZero() {
		// A timer went unfired: try what is still due once more at the
		// target (a skip clock's timer that fell due while the stuck one
		// was being passed fires here too, late by milliseconds), and
		// report those that still fail.
		if err := settle(); err != nil {
			return Moved{Now: c.Now(), Fired: fired}, err
		}
		if stuck, err = c.engine.Overdue(ctx, to, MaxStuck); err != nil {
			return Moved{Now: c.Now(), Fired: fired}, err
		}
	}
	if err := c.engine.PurgeExpired(ctx); err != nil {
		return Moved{Now: c.Now(), Fired: fired, Stuck: stuck}, err
	}
	return Moved{Now: c.Now(), Fired: fired, Stuck: stuck}, nil
}

// Exclusive runs fn with no call in flight and no task being handed out,
// holding new ones until it returns (a reset). Once fn has succeeded (it
// dropped every run) the controller forgets every run's tasks and is
// retired: fn has put a new engine, with a controller of its own, in
// place of this one's, so a skip clock no longer jumps to the timers of
// the engine dropped (its timer loop may run on a moment until it stops,
// and would find it idle, its tasks forgotten).
func (c *Controller) Exclusive(fn func() error) error {
	c.move.Lock()
	defer c.move.Unlock()
	c.gate.Lock()
	defer c.gate.Unlock()
	if err := fn(); err != nil {
		return err
	}
	c.mu.Lock()
	clear(c.work)
	c.mu.Unlock()
	c.retired = true
	return nil
}

// Middleware serves every call of the SWF API but the long polls on the
// gate's shared side (see Enter), so that moves and resets happen
// between calls; past GateWait, Busy answers a call and it is not served.
func (c *Controller) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, ok := c.Enter(r)
		if !ok {
			if c.Busy == nil {
				http.Error(w, "the clock is moving", http.StatusServiceUnavailable)
				return
			}
			c.Busy.ServeHTTP(w, r)
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}

// Enter takes the gate's shared side (see Controller) for a call of the
// SWF API, so that moves and resets happen between calls; call release
// once the call has been answered. A long poll passes without it. A call
// that finds a move under way waits for it to end, at most GateWait (0:
// as long as it takes): past it ok is false, nothing is taken, and the
// call must be refused unserved. On a skip clock the end of each call may
// leave the server idle, so release wakes the timer loop.
//
// Enter is Middleware's gate for a handler that answers the refusal
// itself (the SWF API's frontend, which counts and logs it as it does any
// refused call).
func (c *Controller) Enter(r *http.Request) (release func(), ok bool) {
	if isPoll(r) {
		return func() {}, true
	}
	return c.HoldWait(context.Background())
}

// enterGate takes the gate's shared side, waiting at most GateWait (when
// it is set) and no longer than ctx lasts; false: it was not taken.
func (c *Controller) enterGate(ctx context.Context) bool {
	if c.GateWait <= 0 && ctx.Done() == nil {
		c.gate.RLock()
		return true
	}
	if c.gate.TryRLock() {
		return true
	}
	got := make(chan struct{})
	go func() {
		c.gate.RLock()
		close(got)
	}()
	var expired <-chan time.Time
	if c.GateWait > 0 {
		t := time.NewTimer(c.GateWait)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-got:
		return true
	case <-expired:
	case <-ctx.Done():
	}
	// The shared side comes once the move ends: give it back then.
	go func() {
		<-got
		c.gate.RUnlock()
	}()
	return false
}

// isPoll reports whether r is a long poll (PollForDecisionTask or
// PollForActivityTask, under either target prefix).
func isPoll(r *http.Request) bool {
	t := r.Header.Get("X-Amz-Target")
	return strings.HasSuffix(t, ".PollForDecisionTask") || strings.HasSuffix(t, ".PollForActivityTask")
}

// Hold holds moves and resets off while a Lambda function's start or
// outcome is recorded, while the transfer loop delivers a message, or
// while other work that does not come through Enter is done (HoldWait, for
// work a client waits on); call the function it returns when that has
// committed.
//
// On a skip clock the release wakes the timer loop, as the end of a call
// does: a jump it tried meanwhile was put off, and what was held may have
// changed nothing that would wake it (a start or an outcome that found its
// task gone).
func (c *Controller) Hold() (release func()) {
	c.gate.RLock()
	return c.release
}

// HoldWait is Hold for work a client waits on (a long poll starting its
// task, an operation of the web console): it waits for a move or a reset
// under way at most GateWait (0: as long as it takes), and no longer than
// ctx lasts. Past that ok is false and nothing is held: the work must not
// be done, since its client may have given up on it, as Enter's calls are
// refused.
func (c *Controller) HoldWait(ctx context.Context) (release func(), ok bool) {
	if !c.enterGate(ctx) {
		return nil, false
	}
	return c.release, true
}

// release gives back the gate's shared side taken for a call or a hold;
// on a skip clock it wakes the timer loop.
func (c *Controller) release() {
	c.gate.RUnlock()
	if c.mode == Skip && c.wake != nil {
		c.wake()
	}
}

// Observe is told of every committed change of a run: its id, whether it
// closed, and the events added. On a skip clock it keeps track of the
// decision, activity and Lambda tasks scheduled or started, and wakes the
// timer loop when none is left. (A Lambda function runs in real time, like
// an activity's worker: the clock must not jump to its timeout.)
func (c *Controller) Observe(runID string, closed bool, events []api.HistoryEvent) {
	if c.mode != Skip {
		return
	}
	c.mu.Lock()
	c.observeLocked(runID, closed, events)
	idle := len(c.work) == 0
	c.mu.Unlock()
	if idle && c.wake != nil {
		c.wake()
	}
}

func (c *Controller) observeLocked(runID string, closed bool, events []api.HistoryEvent) {
	if closed {
		delete(c.work, runID)
		return
	}
	w := c.work[runID]
	if w == nil {
		w = &runWork{activities: map[int64]bool{}}
	}
	for i := range events {
		switch e := &events[i]; e.EventType {
		case api.EventTypeDecisionTaskScheduled:
			w.decision = e.EventID
		case api.EventTypeDecisionTaskCompleted, api.EventTypeDecisionTaskTimedOut:
			// A signal (or another event) that arrives while a decision
			// task is started schedules the next one before the started
			// one closes: its close leaves the next one to come.
			if id := decisionScheduledID(e); id == 0 || id >= w.decision {
				w.decision = 0
			}
		case api.EventTypeActivityTaskScheduled, api.EventTypeLambdaFunctionScheduled:
			w.activities[e.EventID] = true
		case api.EventTypeActivityTaskCompleted, api.EventTypeActivityTaskFailed,
			api.EventTypeActivityTaskTimedOut, api.EventTypeActivityTaskCanceled,
			api.EventTypeLambdaFunctionCompleted, api.EventTypeLambdaFunctionFailed,
			api.EventTypeLambdaFunctionTimedOut, api.EventTypeStartLambdaFunctionFailed:
			delete(w.activities, activityScheduledID(e))
		}
	}
	if w.decision != 0 || len(w.activities) > 0 {
		c.work[runID] = w
	} else {
		delete(c.work, runID)
	}
}

// decisionScheduledID returns the scheduled event id a decision task's
// closing event names, decoding the event's stored form if need be; 0 when
// it cannot be told.
func decisionScheduledID(e *api.HistoryEvent) int64 {
	full := *e
	if full.DecisionTaskCompletedEventAttributes == nil && full.DecisionTaskTimedOutEventAttributes == nil {
		var err error
		if full, err = e.Full(); err != nil {
			return 0
		}
	}
	switch {
	case full.DecisionTaskCompletedEventAttributes != nil:
		return full.DecisionTaskCompletedEventAttributes.ScheduledEventID
	case full.DecisionTaskTimedOutEventAttributes != nil:
		return full.DecisionTaskTimedOutEventAttributes.ScheduledEventID
	}
	return 0
}

// activityScheduledID returns the scheduled event id an activity or Lambda
// task's closing event names, decoding the event's stored form if need be.
func activityScheduledID(e *api.HistoryEvent) int64 {
	full := *e
	if full.ActivityTaskCompletedEventAttributes == nil && full.ActivityTaskFailedEventAttributes == nil &&
		full.ActivityTaskTimedOutEventAttributes == nil && full.ActivityTaskCanceledEventAttributes == nil &&
		full.LambdaFunctionCompletedEventAttributes == nil && full.LambdaFunctionFailedEventAttributes == nil &&
		full.LambdaFunctionTimedOutEventAttributes == nil && full.StartLambdaFunctionFailedEventAttributes == nil {
		var err error
		if full, err = e.Full(); err != nil {
			return 0
		}
	}
	switch {
	case full.ActivityTaskCompletedEventAttributes != nil:
		return full.ActivityTaskCompletedEventAttributes.ScheduledEventID
	case full.ActivityTaskFailedEventAttributes != nil:
		return full.ActivityTaskFailedEventAttributes.ScheduledEventID
	case full.ActivityTaskTimedOutEventAttributes != nil:
		return full.ActivityTaskTimedOutEventAttributes.ScheduledEventID
	case full.ActivityTaskCanceledEventAttributes != nil:
		return full.ActivityTaskCanceledEventAttributes.ScheduledEventID
	case full.LambdaFunctionCompletedEventAttributes != nil:
		return full.LambdaFunctionCompletedEventAttributes.ScheduledEventID
	case full.LambdaFunctionFailedEventAttributes != nil:
		return full.LambdaFunctionFailedEventAttributes.ScheduledEventID
	case full.LambdaFunctionTimedOutEventAttributes != nil:
		return full.LambdaFunctionTimedOutEventAttributes.ScheduledEventID
	case full.StartLambdaFunctionFailedEventAttributes != nil:
		return full.StartLambdaFunctionFailedEventAttributes.ScheduledEventID
	}
	return 0
}

// idleLocked reports whether nothing could happen before the next timer fires:
// no call other than a long poll is being served and no task is being
// handed out, no run has a decision, activity or Lambda task scheduled or started,
// and no message between runs waits to be delivered. The caller holds the
// gate exclusively, so no call can begin meanwhile.
func (c *Controller) idleLocked(ctx context.Context) (bool, error) {
	c.mu.Lock()
	busy := len(c.work) > 0
	c.mu.Unlock()
	if busy {
		return false, nil
	}
	pending, err := c.engine.PendingMessages(ctx)
	return !pending, err
}

// SkipTo is asked by the timer loop of a skip clock before it sleeps until
// the next timer, due at due. If nothing could happen before then — no call
// other than a long poll is being served, no task is being handed out, no
// run has a decision or activity task scheduled or started, and no message
// between runs waits to be delivered — the clock jumps to due at once and
// SkipTo returns true: the loop fires the timer without sleeping. With any
// other clock it returns false.
func (c *Controller) SkipTo(ctx context.Context, due time.Time) (bool, error) {
	if c.mode != Skip {
		return false, nil
	}
	if !c.move.TryLock() {
		return false, nil // a move is under way and fires what is due
	}
	defer c.move.Unlock()
	if c.retired {
		return false, nil // a reset dropped this controller's engine
	}
	if !c.gate.TryLock() {
		return false, nil // a call is being served: it wakes the loop when done
	}
	defer c.gate.Unlock()
	if !due.After(c.clock.Now()) {
		return false, nil
	}
	idle, err := c.idleLocked(ctx)
	if err != nil || !idle {
		return false, err
	}
	c.movable.MoveTo(due)
	return true, c.Save(ctx)
}

// Load learns the tasks of the runs open in st, for a skip clock over a
// store that already holds executions: it reads the history of every open
// run once.
func (c *Controller) Load(ctx context.Context, st swfd.Store) error {
	if c.mode != Skip {
		return nil
	}
	for _, status := range []string{swfd.StatusRegistered, swfd.StatusDeprecated} {
		after := ""
		for {
			ds, err := st.ListDomains(ctx, swfd.ListQuery{Status: status, After: after, Limit: 100})
			if err != nil {
				return err
			}
			for _, d := range ds {
				if err := c.loadDomain(ctx, st, d.Name); err != nil {
					return err
				}
			}
			if len(ds) < 100 {
				break
			}
			after = ds[len(ds)-1].Name
		}
	}
	return nil
}

func (c *Controller) loadDomain(ctx context.Context, st swfd.Store, domain string) error {
	q := swfd.VisibilityQuery{Domain: domain, Open: true, Limit: 1000}
	for {
		runs, err := st.ListExecutions(ctx, q)
		if err != nil {
			return err
		}
		for _, r := range runs {
			events, err := readHistory(ctx, st, r.RunID)
			if err != nil {
				return err
			}
			c.mu.Lock()
			c.observeLocked(r.RunID, false, events)
			c.mu.Unlock()
		}
		if len(runs) < q.Limit {
			return nil
		}
		last := runs[len(runs)-1]
		q.AfterTime, q.AfterRunID = last.StartTime, last.RunID
	}
}

func readHistory(ctx context.Context, st swfd.Store, runID string) ([]api.HistoryEvent, error) {
	var out []api.HistoryEvent
	q := swfd.HistoryQuery{RunID: runID, Limit: 1000}
	for {
		evs, err := st.History(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			var he api.HistoryEvent
			if err := json.Unmarshal(e.JSON, &he); err != nil {
				return nil, fmt.Errorf("clock: event %d of run %s: %w", e.ID, runID, err)
			}
			out = append(out, he)
		}
		if len(evs) < q.Limit {
			return out, nil
		}
		q.AfterID = evs[len(evs)-1].ID
	}
}
