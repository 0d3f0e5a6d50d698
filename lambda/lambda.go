// Package lambda runs the Lambda tasks of workflow runs: each function a
// ScheduleLambdaFunction decision scheduled is invoked, at most once, and
// its outcome recorded in the run's history.
//
// A scheduled Lambda task is a task of kind swfd.LambdaTask in the store,
// written with the step that recorded LambdaFunctionScheduled. The Loop
// takes each one (from the commits that add them, and from the store at
// start), and:
//
//  1. asks the endpoint whether the function can be invoked, without
//     running it (Invoker.Check); a refusal records StartLambdaFunctionFailed
//     (a check throttled, one that never reached the endpoint, one not
//     answered within Options.CheckTimeout, or one the endpoint could not
//     serve for now, ErrUnavailable, is no refusal: it is made again, with
//     back-off, until the function's START_TO_CLOSE timeout counted from
//     its schedule, a time the store keeps, so that a restart or another
//     node taking the task does not start that bound again);
//  2. records LambdaFunctionStarted, which takes the task off the store and
//     arms the START_TO_CLOSE timer in the same commit;
//  3. only then invokes the function (Invoker.Invoke), once, without
//     retries (but for an invocation the endpoint throttled, one that
//     never reached the endpoint, or one refused as the function is not
//     ready to run yet, each of which ran nothing and is tried again
//     with back-off until the function's START_TO_CLOSE
//     deadline (the back-off passes in real time or on the Loop's
//     clock, whichever is first, so that a move of a clock tests move
//     ends it), then recorded as failed; an invocation whose connection
//     broke after it was sent may have run the function, and is recorded
//     as failed at once, reason InvokeError), and records
//     LambdaFunctionCompleted or LambdaFunctionFailed
//     with a normal step on the run, unless the task has closed meanwhile
//     (the timer fired, the run closed): what is recorded first wins, and
//     a commit that closes the task cuts its invocation off (Committed).
//     Like
//     a worker's answer, each step first fires the run's timers already
//     due (package history): an outcome at or after the function's
//     START_TO_CLOSE deadline records the timeout, even when the timer
//     loop has not got to it yet, and a start in a run past its own
//     timeout records that timeout and invokes nothing. A step that fails (a
//     store error) is tried again until it is recorded or the task has
//     closed: an outcome at once and then with a growing pace (record), a
//     check or a start from the first step after 1 s, then less and less
//     often, up to every 30 s (retryLater).
//
// So a function is never invoked twice for one schedule: if swfd dies
// after step 2, the task is no longer in the store, and after a restart
// the timer records LambdaFunctionTimedOut. If it dies before step 2, the
// task is still there and the Loop starts it after the restart.
//
// A graceful stop (Drain, which the server calls as it shuts down) starts
// nothing more: the tasks not yet started stay in the store, for the next
// start (or, in a cluster, another node). It waits, until the shutdown's
// deadline, for the functions already invoked to answer, and records
// their outcomes. A function still running at the deadline is given up:
// its call is cut off and LambdaFunctionFailed is recorded at once with
// reason "Interrupted" (its outcome will never be known: nothing can
// collect the answer of a synchronous invocation once its connection is
// gone), so that the decider hears of it now rather than at the
// function's START_TO_CLOSE timeout, which could be 15 minutes away. The
// function may still be running in Lambda, or have done its work: a
// decider that schedules it again must allow for that, as after a
// timeout.
//
// The history package decides every event; this package only invokes and
// reports, like a worker that polls for activity tasks.
package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
	"github.com/swfd/swfd/internal/loop"
	"github.com/swfd/swfd/runs"
)

// Request is one function to invoke.
type Request struct {
	// Function is the function's name or ARN, as the decision gave it.
	Function string
	// Input is the decision's input, sent as the invocation's payload
	// (none when nil).
	Input *string
	// Role is the execution's Lambda role (from its start, or its type's
	// default). The real service invokes the function as that role; an
	// Invoker may use it, and says what it does with it.
	Role string
	// Where the task comes from, for logs.
	Domain, WorkflowID, RunID string
	ScheduledEventID          int64
}

// Response is what an invocation returned.
type Response struct {
	// Payload is the function's response: its result, or with
	// FunctionError its error.
	Payload []byte
	// FunctionError is set when the function itself failed (Lambda's
	// X-Amz-Function-Error header: "Unhandled", "Handled"...).
	FunctionError string
	// Cut is set when the response was longer than MaxResponseBytes and
	// Payload holds its beginning only: an Invoker need not read more, as
	// a longer response cannot be recorded as a result.
	Cut bool
}

// MaxResponseBytes is as much of a function's response as an Invoker needs
// to read: a LambdaFunctionCompleted result holds at most 32,768
// characters (UTF-16 code units, api.Length), none more than 4 bytes in
// UTF-8, so a response longer than this is ResultTooLarge whatever it
// holds, and what an error payload beyond it holds is cut from
// LambdaFunctionFailed's details anyway.
const MaxResponseBytes = 4 * maxData

// An Invoker invokes Lambda functions.
type Invoker interface {
	// Check asks whether r's function can be invoked, without running it
	// (Lambda's DryRun). An error is a refusal (no such function, not
	// allowed), except one that wraps ErrThrottled, ErrNotSent or
	// ErrUnavailable: the Loop checks again later, with back-off, until
	// the function's timeout. As a check runs nothing, an Invoker marks
	// ErrUnavailable every answer that may pass: the service's internal
	// error or another 5xx, as well as a function not ready yet.
	//
	// The history holds an error's text only when it is the endpoint's
	// answer, which the error says with a method ErrorCode() string (its
	// code, as Lambda names it): a decider, often of another team than
	// swfd's operator, reads it. Any other error (a connection that
	// failed, an answer that could not be read) may name the endpoint's
	// address and the internals of the transport: it goes to swfd's log,
	// and the history gets a plain sentence instead.
	Check(ctx context.Context, r Request) error
	// Invoke runs r's function once and waits for its response. It must
	// not retry: a retried invocation may run the function twice. An
	// error means no response came (the function may or may not have
	// run), except one that wraps ErrThrottled (the endpoint refused the
	// invocation without running the function), ErrNotSent (the
	// invocation never reached the endpoint) or ErrUnavailable (the
	// endpoint answered that the function is not ready to run yet, and
	// so did not run it): the Loop invokes it again later, with back-off,
	// until the function's timeout. An answer that does not say the
	// function did not run (Lambda's internal error, 500
	// ServiceException, which may come after it ran) is not
	// ErrUnavailable.
	Invoke(ctx context.Context, r Request) (Response, error)
}

// Options configure a Loop.
type Options struct {
	Runs  *runs.Store
	Store swfd.ExecutionStore // for the Lambda tasks pending at start (unless given by Pending) and rescans
	// Invoker invokes the functions; nil when swfd has no Lambda endpoint:
	// a Lambda task left from a time it had one then fails to start.
	Invoker Invoker
	// Clock is swfd's clock (nil: the system's), by which the functions'
	// timeouts pass. A clock that is moved (package clock's manual and
	// skip clocks, which have WakeAt) ends the Loop's waits on it as soon
	// as a move passes them.
	Clock swfd.Clock
	Log   *slog.Logger
	// Rescan, if set, makes the Loop look at the store's pending Lambda
	// tasks that often, and take those scheduled at least that long ago
	// that it has not taken: in a cluster, another node may have scheduled
	// a task and died before invoking it. 0: only at start (a single node
	// sees every task it schedules).
	Rescan time.Duration
	// MaxConcurrent bounds the invocations in flight (default 1,000,
	// Lambda's default concurrency per account); more wait their turn.
	MaxConcurrent int
	// CheckTimeout bounds how long the check before a start may take
	// (Invoker.Check; default DefaultCheckTimeout). A check the endpoint
	// does not answer by then refused nothing: it is made again, as a
	// throttled one, until the function's START_TO_CLOSE timeout counted
	// from the first, and then the start is recorded as failed, so that
	// the decider hears of it and the task does not wait for good.
	CheckTimeout time.Duration
	// FirstRetry and MaxRetry pace the tries of a task whose check or
	// start failed on a store error: the first comes FirstRetry after the
	// failure (default DefaultFirstRetry), each later one twice as long
	// after the last, up to MaxRetry (default DefaultMaxRetry).
	FirstRetry, MaxRetry time.Duration
	// FirstThrottleRetry and MaxThrottleRetry pace the invocations again
	// of a function the endpoint throttled: the first after
	// FirstThrottleRetry (default DefaultFirstThrottleRetry), each later
	// wait twice as long, up to MaxThrottleRetry (default
	// DefaultMaxThrottleRetry), each with up to half as much again at
	// random. Each wait ends once it has passed in real time or on Clock,
	// whichever is first: on a clock that tests move (package clock, whose
	// clocks tell of their moves), a move past it ends it at once.
	FirstThrottleRetry, MaxThrottleRetry time.Duration
	// Hold, if set, is called before each step the Loop records (a
	// start, an outcome) and the function it returns once the step has
	// committed: a clock that tests move (package clock) holds its moves
	// off meanwhile, so a step is recorded before a move or after it,
	// never at an instant on the way, as a worker's answer is.
	Hold func() (release func())
	// AnswerGrace is how long past a started function's START_TO_CLOSE
	// timeout its call is still held open when no commit recording the
	// timeout is seen here, counted both in real time and on Clock
	// (default DefaultAnswerGrace; see giveUpAt).
	AnswerGrace time.Duration
}

// Loop invokes Lambda tasks.
type Loop struct {
	runs    *runs.Store
	store   swfd.ExecutionStore
	invoker Invoker
	clock   swfd.Clock
	log     *slog.Logger
	rescan  time.Duration
	slots   chan struct{}
	hold    func() (release func())
	// handlers counts the goroutines handling a task (Run waits for them
	// once its context has ended).
	handlers sync.WaitGroup
	// checkTimeout is Options.CheckTimeout.
	checkTimeout time.Duration
	// The paces of Options (defaults filled in).
	firstRetry, maxRetry                 time.Duration
	firstThrottleRetry, maxThrottleRetry time.Duration
	// answerGrace is Options.AnswerGrace (default filled in).
	answerGrace time.Duration

	mu    sync.Mutex
	queue []swfd.Task
	taken map[taskKey]bool // queued or being handled here
	wake  chan struct{}
	given bool // Pending gave the tasks pending at start: Run's first pass need not read them
	// failures counts the failures in a row of each task whose step
	// failed (retryLater), until it is handled.
	failures map[taskKey]int
	// invoking holds, for each task being started or invoked here, the
	// cancel of its invocation's context: a commit that closes the task
	// (its START_TO_CLOSE timeout, or its run's close) cuts the
	// invocation off (Committed), as no answer of it can be recorded.
	invoking map[taskKey]context.CancelFunc

	// A graceful stop (Drain). draining is set, and stopStarting
	// cancelled, when it begins: no task is handled from then on, and
	// those in their check give up. handling counts the tasks being
	// handled; idle is closed once it is 0 while draining. giveUp cancels
	// the invocations still in flight at the stop's deadline.
	draining     bool
	handling     int
	idle         chan struct{}
	stopStarting context.Context
	stopStart    context.CancelFunc
	giveUpCtx    context.Context
	giveUp       context.CancelFunc
}

type taskKey struct {
	run   string
	sched int64
}

// New returns a Loop; Run runs it.
func New(opts Options) *Loop {
	l := &Loop{
		runs: opts.Runs, store: opts.Store, invoker: opts.Invoker, clock: opts.Clock, log: opts.Log,
		rescan: opts.Rescan, taken: map[taskKey]bool{}, wake: make(chan struct{}, 1), hold: opts.Hold,
		failures: map[taskKey]int{},
		invoking: map[taskKey]context.CancelFunc{},
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.clock == nil {
		l.clock = swfd.SystemClock{}
	}
	n := opts.MaxConcurrent
	if n <= 0 {
		n = 1000
	}
	l.slots = make(chan struct{}, n)
	l.checkTimeout = opts.CheckTimeout
	if l.checkTimeout <= 0 {
		l.checkTimeout = DefaultCheckTimeout
	}
	l.firstRetry = orDefault(opts.FirstRetry, DefaultFirstRetry)
	l.maxRetry = max(orDefault(opts.MaxRetry, DefaultMaxRetry), l.firstRetry)
	l.firstThrottleRetry = orDefault(opts.FirstThrottleRetry, DefaultFirstThrottleRetry)
	l.maxThrottleRetry = max(orDefault(opts.MaxThrottleRetry, DefaultMaxThrottleRetry), l.firstThrottleRetry)
	l.answerGrace = orDefault(opts.AnswerGrace, DefaultAnswerGrace)
	l.stopStarting, l.stopStart = context.WithCancel(context.Background())
	l.giveUpCtx, l.giveUp = context.WithCancel(context.Background())
	l.idle = make(chan struct{})
	return l
}

// orDefault is d unless v is positive.
func orDefault(v, d time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return d
}

// Drain stops the Loop gracefully, for a server that shuts down: it starts
// no more functions (those not started stay in the store, and so does a
// task whose check is under way), and waits until every function already
// invoked has answered and its outcome is recorded, or until ctx ends.
// Then it gives up the functions still running: their calls are cut off
// and each records LambdaFunctionFailed with reason "Interrupted" (see the
// package comment); Drain waits for those records too, for at most
// giveUpWait. Run keeps running (without starting anything) until its own
// context ends; the store must stay open until Drain returns.
func (l *Loop) Drain(ctx context.Context) {
	l.mu.Lock()
	if !l.draining {
		l.draining = true
		l.stopStart()
		if l.handling == 0 {
			close(l.idle)
		} else {
			l.log.Info("stopping: waiting for the Lambda functions in flight to answer", "functions", l.handling)
		}
	}
	l.mu.Unlock()
	select {
	case <-l.idle:
		return
	case <-ctx.Done():
	}
	l.giveUp()
	t := time.NewTimer(giveUpWait)
	defer t.Stop()
	select {
	case <-l.idle:
	case <-t.C:
		l.log.Warn("stopping: Lambda functions given up were not all recorded in time; their timers record their timeouts")
	}
}

// giveUpWait bounds how long the records of the functions a graceful stop
// gives up may take (the store should answer in milliseconds).
const giveUpWait = 5 * time.Second

// Interrupted is the reason of the LambdaFunctionFailed recorded for a
// function in flight when a graceful stop gave it up (Drain).
const Interrupted = "Interrupted"

// beginHandling counts a task as being handled, unless the Loop is
// draining.
func (l *Loop) beginHandling() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.draining {
		return false
	}
	l.handling++
	return true
}

// end counts a task handled.
func (l *Loop) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handling--
	if l.draining && l.handling == 0 {
		close(l.idle)
	}
}

// DefaultCheckTimeout is how long the check before a function's start may
// take unless Options.CheckTimeout says otherwise: the check runs nothing,
// and a Lambda endpoint answers it in milliseconds.
const DefaultCheckTimeout = 30 * time.Second

// DefaultAnswerGrace is how long past a started function's START_TO_CLOSE
// timeout its call is held open unless Options.AnswerGrace says otherwise.
const DefaultAnswerGrace = time.Minute

// Committed is the Loop's runs.Listener: the Lambda tasks a commit here
// scheduled are queued. Other nodes' commits are not: each node invokes
// the tasks it schedules (and, with Rescan, those left by a node that died).
// A commit that closes a task whose function is invoked here (it records
// the function's LambdaFunctionTimedOut, or closes its run, here or on
// another node) cuts that invocation off: its answer could no longer be
// recorded, and waiting for it would hold a slot, and a graceful stop,
// for nothing.
func (l *Loop) Committed(c runs.Commit) {
	for _, ch := range c.Runs {
		if ch.Closed {
			l.cut(ch.RunID, 0)
		}
		if c.Remote {
			continue
		}
		for _, t := range ch.AddTasks {
			if t.Kind == swfd.LambdaTask {
				l.add(t)
			}
		}
		for i := range ch.Events {
			if e := &ch.Events[i]; e.EventType == api.EventTypeLambdaFunctionTimedOut {
				full := *e
				if full.LambdaFunctionTimedOutEventAttributes == nil {
					var err error
					if full, err = e.Full(); err != nil || full.LambdaFunctionTimedOutEventAttributes == nil {
						continue
					}
				}
				l.cut(ch.RunID, full.LambdaFunctionTimedOutEventAttributes.ScheduledEventID)
			}
		}
	}
}

// cut cuts off the invocation of run's task scheduled as sched (with sched
// 0, of each of run's tasks) being invoked here, if any.
func (l *Loop) cut(run string, sched int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.invoking) == 0 {
		return
	}
	for k, cancel := range l.invoking {
		if k.run == run && (sched == 0 || k.sched == sched) {
			cancel()
		}
	}
}

// watch returns a context of ctx for the invocation of t, which a commit
// that closes t cancels (Committed), and the function that lets it go.
func (l *Loop) watch(ctx context.Context, t swfd.Task) (context.Context, func()) {
	k := taskKey{t.RunID, t.ScheduledEventID}
	ictx, cancel := context.WithCancel(ctx)
	l.mu.Lock()
	l.invoking[k] = cancel
	l.mu.Unlock()
	return ictx, func() {
		l.mu.Lock()
		delete(l.invoking, k)
		l.mu.Unlock()
		cancel()
	}
}

// add queues a task unless it is queued or being handled already.
func (l *Loop) add(t swfd.Task) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := taskKey{t.RunID, t.ScheduledEventID}
	if l.taken[k] {
		return
	}
	l.taken[k] = true
	l.queue = append(l.queue, t)
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// InFlight reports how many Lambda tasks this Loop has queued or is
// handling (checking, invoking, or recording an outcome).
func (l *Loop) InFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.taken)
}

func (l *Loop) done(t swfd.Task) {
	l.mu.Lock()
	delete(l.taken, taskKey{t.RunID, t.ScheduledEventID})
	l.mu.Unlock()
}

// Pending gives the Loop the tasks pending in the store at start, of every
// kind (it queues the Lambda ones), as its caller has read them already, so
// that Run does not read them all from the store a second time: with
// 100,000 open runs that read is a pass over every task's row and 100,000
// tasks to collect. Call it before Run, after the Loop listens to commits
// (Committed), so that no task falls between the two. A Run after the first
// (once restarted) reads the store again.
func (l *Loop) Pending(tasks []swfd.Task) {
	for _, t := range tasks {
		if t.Kind == swfd.LambdaTask {
			l.add(t)
		}
	}
	l.mu.Lock()
	l.given = true
	l.mu.Unlock()
}

// Run invokes Lambda tasks until ctx ends: those pending in the store at
// start (read from it, or given by Pending), then each one a commit
// schedules. Invocations in flight when ctx ends are abandoned without
// recording anything (the store may be closing): their timers record
// LambdaFunctionTimedOut. Drain first to record their outcomes. Once ctx
// has ended, Run returns when every task it began has let go.
//
// Run may be started again after it returned, or panicked (package loop
// restarts a loop that panics): a task stays in the queue until a Run
// begins it, so the next Run begins the tasks the last one had not; and a
// Run that panics does not wait for the functions in flight (they go on,
// and record their outcomes), so that the next starts at once rather than
// when the last of them has answered, up to 15 minutes later.
func (l *Loop) Run(ctx context.Context) {
	defer func() {
		if ctx.Err() != nil {
			l.handlers.Wait()
		}
	}()
	l.mu.Lock()
	given := l.given
	l.given = false
	l.mu.Unlock()
	if !given {
		l.scan(ctx, false)
	}
	var rescan <-chan time.Time
	if l.rescan > 0 {
		t := time.NewTicker(l.rescan)
		defer t.Stop()
		rescan = t.C
	}
	for {
		l.mu.Lock()
		queued := len(l.queue) > 0
		l.mu.Unlock()
		if !queued {
			select {
			case <-ctx.Done():
				return
			case <-l.wake:
			case <-rescan:
				l.scan(ctx, true)
			}
			continue
		}
		// A task leaves the queue only once it has a slot: one left
		// there when Run ends is the next Run's.
		select {
		case l.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		l.mu.Lock()
		var t swfd.Task
		if len(l.queue) > 0 {
			t = l.queue[0]
			l.queue[0] = swfd.Task{}
			l.queue = l.queue[1:]
		}
		l.mu.Unlock()
		if t.RunID == "" {
			<-l.slots // (only a second Run at once could have taken it)
			continue
		}
		l.begin(ctx, t)
		select {
		case <-rescan:
			// A steady stream of tasks does not hold rescans off.
			l.scan(ctx, true)
		default:
		}
	}
}

// begin handles t, which holds a slot, in a goroutine of its own; a task
// of a Loop that is draining is let go at once (it stays in the store).
func (l *Loop) begin(ctx context.Context, t swfd.Task) {
	if !l.beginHandling() {
		<-l.slots
		l.done(t)
		return
	}
	l.handlers.Add(1)
	go func() {
		defer l.handlers.Done()
		defer l.end()
		defer func() { <-l.slots }()
		defer l.done(t)
		err := loop.Error(l.log, "running a Lambda task", func() error { return l.handle(ctx, t) })
		switch {
		case err == nil:
			l.succeeded(t)
		case ctx.Err() == nil:
			l.retryLater(ctx, t, err)
		}
	}()
}

// retryLater queues a task again after a while: its step failed with err
// (the store could not be read or written), and it is still pending. The
// wait grows with each failure of the task in a row, from
// Options.FirstRetry to Options.MaxRetry, and only the first is logged as
// an error: a database away for minutes must neither flood the log nor
// have every pending function checked (a DryRun call to Lambda) again
// every second.
func (l *Loop) retryLater(ctx context.Context, t swfd.Task, err error) {
	k := taskKey{t.RunID, t.ScheduledEventID}
	l.mu.Lock()
	n := l.failures[k]
	l.failures[k] = n + 1
	l.mu.Unlock()
	wait := l.maxRetry
	if n < 16 && l.firstRetry<<n < l.maxRetry {
		wait = l.firstRetry << n
	}
	log := l.log.With("domain", t.Domain, "runId", t.RunID, "scheduledEventId", t.ScheduledEventID, "err", err, "retryIn", wait)
	if n == 0 {
		log.Error("running a Lambda task failed; trying again, less and less often, until it succeeds (further failures are logged at debug level)")
	} else {
		log.Debug("running a Lambda task failed again", "failures", n+1)
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-time.After(wait):
			l.add(t)
		}
	}()
}

// succeeded forgets the failures of a task handled (retryLater).
func (l *Loop) succeeded(t swfd.Task) {
	k := taskKey{t.RunID, t.ScheduledEventID}
	l.mu.Lock()
	if _, ok := l.failures[k]; ok {
		delete(l.failures, k)
		l.log.Info("running a Lambda task succeeded after failures", "domain", t.Domain, "runId", t.RunID, "scheduledEventId", t.ScheduledEventID)
	}
	l.mu.Unlock()
}

// Default pace of the tries to run a Lambda task again after its step
// failed (Options.FirstRetry, Options.MaxRetry).
const (
	DefaultFirstRetry = time.Second
	DefaultMaxRetry   = 30 * time.Second
)

// scan queues the Lambda tasks pending in the store; with old set, only
// those scheduled at least Rescan ago.
func (l *Loop) scan(ctx context.Context, old bool) {
	tasks, err := l.store.PendingTasks(ctx)
	if err != nil {
		if ctx.Err() == nil {
			l.log.Error("reading pending Lambda tasks", "err", err)
		}
		return
	}
	now := l.clock.Now()
	for _, t := range tasks {
		if t.Kind == swfd.LambdaTask && (!old || now.Sub(t.Scheduled) >= l.rescan) {
			l.add(t)
		}
	}
}

// handle runs one Lambda task: check, start, invoke, report. A task that
// turns out stale (started elsewhere, closed, its run gone) is dropped.
func (l *Loop) handle(ctx context.Context, t swfd.Task) error {
	req, timeout, err := l.request(ctx, t)
	if err != nil || req == nil {
		return err
	}
	log := l.log.With("domain", t.Domain, "workflowId", req.WorkflowID, "runId", t.RunID, "scheduledEventId", t.ScheduledEventID, "function", req.Function)
	if l.invoker == nil {
		return l.startFailed(ctx, t, "swfd has no Lambda endpoint (--lambda-endpoint) to invoke the function")
	}
	req, timedOut, gone, err := l.checkUntilAnswered(ctx, t, log, req, timeout)
	if ctx.Err() != nil || l.stopStarting.Err() != nil {
		return nil // shutting down: the task stays, for the next start
	}
	if gone || (err != nil && req == nil) {
		return err // no longer waiting to start, or its run could not be read
	}
	if err != nil {
		message := checkFailure(err)
		if timedOut {
			// The checks went on until the function's timeout, each
			// cut off after CheckTimeout.
			message = fmt.Sprintf("the Lambda endpoint did not answer whether the function may be invoked (each check given %v), until the function's timeout; the function did not run", l.checkTimeout)
		}
		if _, _, ok := answered(err); ok {
			log.Info("Lambda function refused", "err", err)
		} else {
			log.Warn("checking a Lambda function failed without an answer from the endpoint; recording its start failed", "err", err)
		}
		return l.startFailed(ctx, t, message)
	}
	if l.stopStarting.Err() != nil {
		return nil // a graceful stop began during the check: not started
	}
	// Watched from before its start is committed, so that no commit
	// that closes it can come between the two unseen.
	ictx, unwatch := l.watch(ctx, t)
	defer unwatch()
	var startedID int64
	var startedAt time.Time
	err = l.step(ctx, t, func(s *history.State, env history.Env) (history.Result, error) {
		res, err := s.StartLambdaFunction(env, t.ScheduledEventID)
		if err == nil {
			if lt := s.LambdaBySchedID(t.ScheduledEventID); lt != nil {
				startedID, startedAt = lt.StartedID, lt.StartedTime
			}
		}
		return res, err
	})
	if err != nil || startedID == 0 {
		if runs.IsStale(err) {
			return nil
		}
		return err
	}
	log.Debug("invoking Lambda function", "role", req.Role)
	// The history's timer decides the timeout, and the commit that
	// records it cuts the call off (Committed); this bound only frees the
	// call of a function that never answers when that commit is not seen
	// here (see giveUpAt).
	deadline := l.giveUpAt(startedAt, timeout)
	resp, err := l.invoke(ictx, t, log, req, startedID, startedAt.Add(timeout), deadline)
	if ctx.Err() != nil || errors.Is(err, errClosed) {
		return nil // stopped at once (the timer records the timeout), or closed meanwhile
	}
	if ictx.Err() != nil {
		// Its timeout, or its run's close, was recorded meanwhile.
		log.Debug("Lambda task closed while its function ran; its invocation was cut off, nothing more is recorded")
		return nil
	}
	var report func(s *history.State, env history.Env) (history.Result, error)
	switch {
	case err != nil && l.giveUpCtx.Err() != nil:
		// A graceful stop gave the function up (Drain): its outcome
		// will never be known, and the decider hears so now rather
		// than at its timeout.
		log.Warn("stopping: gave up waiting for a Lambda function's answer; recording it failed (Interrupted)")
		reason := Interrupted
		details := "swfd stopped before the function answered, and cut its invocation off: the function may have run, in part or in full, or may still be running"
		report = func(s *history.State, env history.Env) (history.Result, error) {
			return s.FailLambdaFunction(env, t.ScheduledEventID, startedID, &reason, &details)
		}
		// Its record is bounded as Drain waits for it.
		rctx, cancel := context.WithTimeout(ctx, giveUpWait)
		defer cancel()
		l.record(rctx, t, log, report, deadline)
		return nil
	case errors.Is(err, errGivenUp):
		return nil // no answer: the timer records the timeout
	case err != nil:
		reason, details := invokeFailure(err)
		if _, _, ok := answered(err); ok {
			log.Info("Lambda invocation failed", "err", err)
		} else {
			log.Warn("Lambda invocation failed without an answer from the endpoint; recording it failed", "err", err)
		}
		report = func(s *history.State, env history.Env) (history.Result, error) {
			return s.FailLambdaFunction(env, t.ScheduledEventID, startedID, &reason, &details)
		}
	case resp.FunctionError != "":
		reason, details := functionFailure(resp)
		report = func(s *history.State, env history.Env) (history.Result, error) {
			return s.FailLambdaFunction(env, t.ScheduledEventID, startedID, &reason, &details)
		}
	case resp.Cut || api.Length(string(resp.Payload)) > maxData:
		reason := "ResultTooLarge"
		size := fmt.Sprintf("%d characters", api.Length(string(resp.Payload)))
		if resp.Cut {
			size = fmt.Sprintf("more than %d bytes", MaxResponseBytes)
		}
		details := fmt.Sprintf("the function's response has %s; a LambdaFunctionCompleted result holds at most %d characters", size, maxData)
		report = func(s *history.State, env history.Env) (history.Result, error) {
			return s.FailLambdaFunction(env, t.ScheduledEventID, startedID, &reason, &details)
		}
	case !utf8.Valid(resp.Payload):
		// A result is text: the history and the JSON every client reads
		// it in cannot carry other bytes, and replacing them would hand
		// the decider a result the function never returned.
		reason := "InvalidResult"
		details := fmt.Sprintf("the function's response is not text: byte %d is not valid UTF-8; a LambdaFunctionCompleted result holds text only", firstInvalid(resp.Payload)+1)
		report = func(s *history.State, env history.Env) (history.Result, error) {
			return s.FailLambdaFunction(env, t.ScheduledEventID, startedID, &reason, &details)
		}
	default:
		result := string(resp.Payload)
		report = func(s *history.State, env history.Env) (history.Result, error) {
			return s.CompleteLambdaFunction(env, t.ScheduledEventID, startedID, &result)
		}
	}
	l.record(ctx, t, log, report, deadline)
	return nil
}

// check asks the Invoker whether req's function may be invoked, for at
// most Options.CheckTimeout (timedOut: that ended it), and no longer than
// until a graceful stop begins.
func (l *Loop) check(ctx context.Context, req *Request) (timedOut bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, l.checkTimeout)
	defer cancel()
	stop := context.AfterFunc(l.stopStarting, cancel)
	defer stop()
	err = l.invoker.Check(cctx, *req)
	return errors.Is(cctx.Err(), context.DeadlineExceeded), err
}

// checkUntilAnswered checks req's function (check), again and again while
// the endpoint throttles the check (ErrThrottled, once the SDK's own tries
// are spent), it never reaches the endpoint (ErrNotSent), the endpoint
// does not answer it within Options.CheckTimeout, or it answers that it
// cannot serve it for now (ErrUnavailable: its internal error, a function
// still being set up): none of them refused anything,
// and all pass, so recording StartLambdaFunctionFailed
// (whose only cause, ASSUME_ROLE_FAILED, tells the decider the execution's
// role is wrong) would hand a decider a lasting failure for a passing
// condition, and in a burst of throttling fail every function scheduled
// meanwhile. The checks run nothing, so trying them again is safe. They
// go on, with the back-off of a throttled invocation, until the next
// would come after the function's START_TO_CLOSE timeout counted from its
// schedule (the time the decider allowed for the function's answer; by the
// Loop's clock; see checksFrom), though the first check is always made:
// the function has not started, no timer of its own runs,
// and a decider cannot cancel a Lambda task, so without a bound a task
// would wait for good. Then the last error is returned, to be recorded.
// Between two tries the task is read again: gone reports that it is no
// longer waiting to start (its run closed), req that it is; err without
// req is the error of that read. A graceful stop ends the tries, the
// task staying in the store.
func (l *Loop) checkUntilAnswered(ctx context.Context, t swfd.Task, log *slog.Logger, req *Request, timeout time.Duration) (_ *Request, timedOut, gone bool, err error) {
	expires := checksFrom(t, l.clock.Now()).Add(timeout)
	wait := l.firstThrottleRetry
	for tries := 1; ; tries++ {
		timedOut, err = l.check(ctx, req)
		if err == nil || ctx.Err() != nil || l.stopStarting.Err() != nil || !(timedOut || passing(err)) {
			return req, timedOut, false, err
		}
		if tries == 1 {
			log.Warn("checking a Lambda function was throttled, did not reach the endpoint, was not answered in time, or was answered with an error that passes; checking again until it is answered or the function's timeout", "err", err)
		}
		pause := wait + rand.N(wait/2+1)
		wait = min(2*wait, l.maxThrottleRetry)
		// Given up before a pause that would end past the timeout, or
		// after one that a move of the clock took past it.
		if l.clock.Now().Add(pause).After(expires) ||
			l.sleep(ctx, l.stopStarting, pause) && l.clock.Now().After(expires) {
			log.Warn("checking a Lambda function was throttled, did not reach the endpoint, was not answered in time, or was answered with an error that passes, until its timeout; recording its start failed", "tries", tries, "err", err)
			return req, timedOut, false, err
		}
		if ctx.Err() != nil || l.stopStarting.Err() != nil {
			return req, false, false, err
		}
		next, _, rerr := l.request(ctx, t)
		if rerr != nil {
			return nil, false, false, rerr
		}
		if next == nil {
			return nil, false, true, nil
		}
		req = next
	}
}

// checksFrom returns when the bound on t's checks starts: when its
// function was scheduled (LambdaFunctionScheduled), which the store keeps
// with the task, so that neither a restart, nor another node taking the
// task, nor a try after a store error gives the checks the whole timeout
// over again. A task without that time (none is stored so) counts from now.
func checksFrom(t swfd.Task, now time.Time) time.Time {
	if t.Scheduled.IsZero() {
		return now
	}
	return t.Scheduled
}

// invoke invokes req's function, started as startedID: once, unless the
// endpoint throttles it (ErrThrottled), the invocation never reaches it
// (ErrNotSent), or the endpoint answers that the function is not ready to
// run yet (ErrUnavailable): each way the function did not run. Then it invokes it
// again after a back-off, growing from Options.FirstThrottleRetry to
// Options.MaxThrottleRetry, as long as the task is still started and open,
// the next try comes before expires (the function's START_TO_CLOSE
// deadline, by the Loop's clock), and no graceful stop has begun;
// otherwise it returns the last error, which is recorded as the
// function's failure. errClosed: the task closed meanwhile (timed out,
// its run closed), and nothing is to be recorded.
func (l *Loop) invoke(ctx context.Context, t swfd.Task, log *slog.Logger, req *Request, startedID int64, expires time.Time, deadline giveUp) (Response, error) {
	wait := l.firstThrottleRetry
	for tries := 1; ; tries++ {
		ictx, cancel := l.until(ctx, deadline)
		stop := context.AfterFunc(l.giveUpCtx, func() { cancel(context.Canceled) })
		resp, err := l.invoker.Invoke(ictx, *req)
		stop()
		givenUp := errors.Is(context.Cause(ictx), errGivenUp)
		cancel(context.Canceled)
		if err != nil && givenUp {
			return resp, errGivenUp
		}
		if err == nil || ctx.Err() != nil || l.giveUpCtx.Err() != nil {
			return resp, err
		}
		switch {
		case !passing(err):
			// It may have run: never invoked again.
			return resp, err
		case tries > 1:
		case errors.Is(err, ErrThrottled):
			log.Info("Lambda invocation throttled; trying again until it is accepted or the function's timeout", "err", err)
		case errors.Is(err, ErrUnavailable):
			log.Info("Lambda function not ready to run; invoking it again until it runs or the function's timeout", "err", err)
		default:
			log.Warn("Lambda endpoint not reached, the function did not run; invoking it again until the endpoint is reached or the function's timeout", "err", err)
		}
		// Wait, then invoke again if the task is still open.
		for {
			// Up to half as much again, so that functions throttled
			// together do not all come back at once.
			pause := wait + rand.N(wait/2+1)
			wait = min(2*wait, l.maxThrottleRetry)
			// Given up before a pause that would end past the
			// deadline, or after one that a move of the clock took
			// to it (where the timer records the timeout) or past it.
			if l.clock.Now().Add(pause).After(expires) ||
				l.sleep(ctx, l.stopStarting, pause) && !l.clock.Now().Before(expires) {
				log.Warn("Lambda invocation throttled, not reached or not ready until its timeout; recording it failed", "tries", tries, "err", err)
				return resp, err
			}
			if ctx.Err() != nil || l.stopStarting.Err() != nil {
				// Stopping (or the task closed): it is not invoked
				// again, and the throttling is its outcome.
				return resp, err
			}
			open, rerr := l.stillStarted(ctx, t, startedID)
			if rerr == nil && !open {
				return Response{}, errClosed
			}
			if rerr == nil {
				break
			}
			// Whether the task is still open cannot be told: it is
			// not invoked now, and looked at again after a wait.
			log.Warn("reading a run before invoking a throttled Lambda function again", "err", rerr)
		}
	}
}

// errClosed is invoke's error for a task that closed while its
// invocation was throttled.
var errClosed = errors.New("the Lambda task closed")

// giveUp is when a started function's call, and the tries to record its
// outcome, are given up: once both times have passed, the one in real
// time and the one on the Loop's clock.
type giveUp struct{ real, clock time.Time }

// giveUpAt returns when to give up the call of a function started at
// startedAt (by the Loop's clock) with that START_TO_CLOSE timeout: once
// the timeout and Options.AnswerGrace have passed since now in real time,
// and since startedAt on the Loop's clock. By then the timer has recorded
// the timeout, and the commit that did so has cut the call off, unless
// that commit was not seen here (the timer fired on another node of a
// cluster, whose news may be lost, or the timer loop cannot fire it): the
// bound frees the call of a function that never answers. Both times must
// pass, for on a clock that tests move (package clock) the function's
// timeout is on that clock, as an activity's is: a function that runs
// longer in real time than its timeout while the clock stands still has not
// timed out, and its answer is recorded. (On the real clock the two pass
// together; a skip clock runs at least as fast as real time.)
func (l *Loop) giveUpAt(startedAt time.Time, timeout time.Duration) giveUp {
	return giveUp{real: time.Now().Add(timeout + l.answerGrace), clock: startedAt.Add(timeout + l.answerGrace)}
}

// passed reports whether g will have passed after another d.
func (l *Loop) passed(g giveUp, d time.Duration) bool {
	return time.Now().Add(d).After(g.real) && l.clock.Now().Add(d).After(g.clock)
}

// errGivenUp is the cause of a call's context ended by its giveUp.
var errGivenUp = errors.New("the function did not answer by its timeout")

// until returns a context that ends with ctx, when cancel is called, or
// once g has passed (cause errGivenUp). On a clock that stands still it
// looks again each time its wait for the clock's time is over.
func (l *Loop) until(ctx context.Context, g giveUp) (context.Context, context.CancelCauseFunc) {
	cctx, cancel := context.WithCancelCause(ctx)
	go func() {
		for {
			realLeft, clockLeft := time.Until(g.real), g.clock.Sub(l.clock.Now())
			if realLeft <= 0 && clockLeft <= 0 {
				cancel(errGivenUp)
				return
			}
			// The real time first; then the clock's, which a move
			// brings at once (and real time on a clock that runs).
			wait, moved, forget := realLeft, (<-chan struct{})(nil), func() {}
			if realLeft <= 0 {
				wait = clockLeft
				moved, forget = l.clockAt(g.clock)
			}
			t := time.NewTimer(wait)
			select {
			case <-cctx.Done():
			case <-t.C:
			case <-moved:
			}
			t.Stop()
			forget()
			if cctx.Err() != nil {
				return
			}
		}
	}()
	return cctx, cancel
}

// waker is a clock that tells when a move takes it to a time: the manual
// and skip clocks of package clock (clock.Waker), which tests move.
type waker interface {
	WakeAt(t time.Time) (woken <-chan struct{}, stop func())
}

// clockAt returns a channel closed once a move takes the Loop's clock to t
// (nil, never closed, when the clock is not a waker: it only runs in real
// time), and the function that forgets the wait.
func (l *Loop) clockAt(t time.Time) (<-chan struct{}, func()) {
	if w, ok := l.clock.(waker); ok {
		return w.WakeAt(t)
	}
	return nil, func() {}
}

// sleep waits until d has passed, in real time or on the Loop's clock,
// whichever comes first, or until ctx or stop ends; it reports whether d
// passed. So a back-off follows the clock swfd runs on: a move of a clock
// that tests move (package clock) that takes it d further ends the wait
// at once, while on a clock that stands still the wait ends after d of real
// time, as the endpoint it waits for lives in real time.
func (l *Loop) sleep(ctx, stop context.Context, d time.Duration) bool {
	moved, forget := l.clockAt(l.clock.Now().Add(d))
	defer forget()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-stop.Done():
		return false
	case <-t.C:
	case <-moved:
	}
	return true
}

// stillStarted reports whether the task is still started as startedID on
// an open run.
func (l *Loop) stillStarted(ctx context.Context, t swfd.Task, startedID int64) (bool, error) {
	unlock := l.runs.Lock(t.RunID)
	r, err := l.runs.LoadCurrent(ctx, t.Domain, t.RunID)
	unlock()
	if errors.Is(err, swfd.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	lt := r.State.LambdaBySchedID(t.ScheduledEventID)
	return r.State.Open && lt != nil && lt.StartedID == startedID, nil
}

// Default pace of the tries to invoke a function again after the endpoint
// throttled it (Options.FirstThrottleRetry, Options.MaxThrottleRetry).
const (
	DefaultFirstThrottleRetry = 250 * time.Millisecond
	DefaultMaxThrottleRetry   = 10 * time.Second
)

// ErrThrottled is wrapped by an Invoker's error when the endpoint refused
// an invocation for now without running the function (Lambda's 429
// TooManyRequestsException): the Loop invokes it again after a while (see
// Invoker.Invoke).
var ErrThrottled = errors.New("invocation throttled")

// ErrNotSent is wrapped by an Invoker's error when the invocation surely
// never reached the endpoint, so that the function did not run (such an
// error is never recorded as the endpoint's answer, even when it holds a
// code: one of another service, such as STS refusing swfd's own
// credentials, names the operator's roles): no
// connection to the endpoint could be made (its name not found, the
// connection refused or timed out, the TLS handshake failed), or the
// request could not even be made ready (no credentials to sign it). The
// Loop invokes it again after a while, as a throttled one (see
// Invoker.Invoke): the endpoint may be away for a moment (restarting, a
// network that flaps), and the decider would be handed a failure of
// something that never ran. An invocation whose connection broke once it
// was sent is not ErrNotSent: the function may have run, and a Lambda task
// runs at most once for its schedule (it is recorded as failed, reason
// InvokeError).
var ErrNotSent = errors.New("the invocation never reached the Lambda endpoint")

// ErrUnavailable is wrapped by an Invoker's error when the endpoint could
// not serve the request for now, for a reason that passes, and ran
// nothing. For an invocation that is only an answer that
// says the function is not ready to run yet: Lambda's
// ResourceConflictException (the function is Pending, being created, or an
// update of it is under way), ResourceNotReadyException (its VPC
// connection is being made again), SnapStartNotReadyException (its
// snapshot is being made), EC2ThrottledException (EC2 throttled the set-up
// of its environment). Lambda answers each before the function's code is
// loaded, and each names a state that ends by itself. For a check (DryRun,
// which runs nothing in any case) it is also any 5xx that names no lasting
// fault of the function's configuration: Lambda's internal error
// (ServiceException), or a gateway's 502, 503 or 504; and a check that got
// no answer at all, its connection broken once it was sent. The Loop makes such
// a call again after a while, as a throttled one (see Invoker): failing
// it at once would tell the decider, through StartLambdaFunctionFailed's
// only cause ASSUME_ROLE_FAILED, that the execution's role is wrong, or
// hand it the failure of a function that never ran, for a condition that
// passes in seconds.
var ErrUnavailable = errors.New("the Lambda endpoint cannot serve the request for now")

// passing reports whether err is an Invoker's error the Loop tries again
// after a while: one that ran nothing, for a reason that passes.
func passing(err error) bool {
	return errors.Is(err, ErrThrottled) || errors.Is(err, ErrNotSent) || errors.Is(err, ErrUnavailable)
}

// Unreachable is the reason of the LambdaFunctionFailed recorded for a
// function whose invocations never reached the endpoint (ErrNotSent) until
// the function's START_TO_CLOSE timeout was about to pass, or a graceful
// stop began.
const Unreachable = "Unreachable"

// Pace of the tries to record an outcome whose step failed.
const (
	firstRecordRetry = 100 * time.Millisecond
	maxRecordRetry   = 5 * time.Second
)

// record records a function's outcome with report. A step that fails (the
// store could not be read or written, or the commit's outcome is unknown)
// is tried again, as a worker answers again when its answer failed: the
// function ran, and its outcome must not become a timeout because the
// database was away for a moment. A retry never records the outcome twice:
// the step finds the task started and open only if nothing closed it, and
// otherwise it is stale. The tries end with ctx (shutting down), or past
// deadline, when the task's timer records the timeout in any case; the
// function is never invoked again.
func (l *Loop) record(ctx context.Context, t swfd.Task, log *slog.Logger, report func(s *history.State, env history.Env) (history.Result, error), deadline giveUp) {
	wait := firstRecordRetry
	for {
		err := l.step(ctx, t, report)
		if err == nil || runs.IsStale(err) || ctx.Err() != nil {
			return
		}
		if l.passed(deadline, wait) {
			log.Error("recording a Lambda function's outcome; its timer records the timeout", "err", err)
			return
		}
		if wait == firstRecordRetry {
			// Once: a database away for minutes must not flood the log.
			log.Warn("recording a Lambda function's outcome failed; trying again until it is recorded", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, maxRecordRetry)
	}
}

// request reads what to invoke: the function and input from the
// LambdaFunctionScheduled event, the role from the run. nil when the task
// is no longer waiting to start.
func (l *Loop) request(ctx context.Context, t swfd.Task) (*Request, time.Duration, error) {
	unlock := l.runs.Lock(t.RunID)
	r, err := l.runs.LoadCurrent(ctx, t.Domain, t.RunID)
	unlock()
	if errors.Is(err, swfd.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	lt := r.State.LambdaBySchedID(t.ScheduledEventID)
	if !r.State.Open || lt == nil || lt.StartedID != 0 {
		return nil, 0, nil
	}
	evs, _, err := l.runs.HistoryPage(ctx, t.RunID, t.ScheduledEventID-1, t.ScheduledEventID, false, 1, false)
	if err != nil {
		return nil, 0, err
	}
	if len(evs) != 1 || evs[0].EventID != t.ScheduledEventID {
		return nil, 0, fmt.Errorf("run %s has no event %d", t.RunID, t.ScheduledEventID)
	}
	ev, err := evs[0].Full()
	if err != nil {
		return nil, 0, fmt.Errorf("decode event %d of run %s: %w", t.ScheduledEventID, t.RunID, err)
	}
	a := ev.LambdaFunctionScheduledEventAttributes
	if a == nil {
		return nil, 0, fmt.Errorf("event %d of run %s is %s, not LambdaFunctionScheduled", t.ScheduledEventID, t.RunID, ev.EventType)
	}
	timeout, _, err := history.ParseDuration(lt.StartToClose)
	if err != nil {
		return nil, 0, err
	}
	return &Request{
		Function: a.Name, Input: a.Input, Role: r.State.Config.LambdaRole,
		Domain: t.Domain, WorkflowID: r.State.WorkflowID, RunID: t.RunID, ScheduledEventID: t.ScheduledEventID,
	}, timeout, nil
}

// startFailed records StartLambdaFunctionFailed.
func (l *Loop) startFailed(ctx context.Context, t swfd.Task, message string) error {
	err := l.step(ctx, t, func(s *history.State, env history.Env) (history.Result, error) {
		return s.StartLambdaFunctionFailed(env, t.ScheduledEventID, message)
	})
	if runs.IsStale(err) {
		return nil
	}
	return err
}

// step runs one history command on the task's run and commits it, with
// the clock held (Options.Hold; before the run's lock, which a move of the
// clock takes to fire the run's timers).
func (l *Loop) step(ctx context.Context, t swfd.Task, fn func(s *history.State, env history.Env) (history.Result, error)) error {
	if l.hold != nil {
		defer l.hold()()
	}
	unlock := l.runs.Lock(t.RunID)
	defer unlock()
	return l.runs.Step(ctx, t.Domain, t.RunID, func(r *runs.Run, err error) error {
		if err != nil {
			return err
		}
		res, err := fn(r.State, l.runs.Env(ctx))
		if err != nil {
			return err
		}
		return l.runs.CommitRun(ctx, r, res)
	})
}

// Limits of the model on what LambdaFunctionFailed and
// LambdaFunctionCompleted carry, in characters as api.Length counts them.
const (
	maxReason = 256
	maxData   = 32768
)

// functionFailure reads a function error: the reason is the error's type
// from Lambda's error payload ({"errorType": …, "errorMessage": …}), else
// the X-Amz-Function-Error value; the details are the whole payload, so a
// decider sees the message and the stack trace as the function reported
// them.
func functionFailure(resp Response) (reason, details string) {
	var p struct {
		ErrorType string `json:"errorType"`
	}
	reason = resp.FunctionError
	if json.Unmarshal(resp.Payload, &p) == nil && p.ErrorType != "" {
		reason = p.ErrorType
	}
	return cut(reason, maxReason), cut(string(resp.Payload), maxData)
}

// answered returns the code and text of an error that is the endpoint's
// answer (it has an ErrorCode); ok is false for any other error, whose
// text is not to be recorded (see Invoker.Check).
func answered(err error) (code, text string, ok bool) {
	var coded interface{ ErrorCode() string }
	if !errors.As(err, &coded) || coded.ErrorCode() == "" {
		return "", "", false
	}
	code, text = coded.ErrorCode(), coded.ErrorCode()
	if e, isErr := coded.(error); isErr {
		text = e.Error()
	}
	return code, text, true
}

// InvokeError is the reason of the LambdaFunctionFailed recorded for an
// invocation that failed after it was sent without an answer of the
// endpoint's (the connection broke, the answer could not be read), or with
// an answer that named no error code (a gateway's 502 in front of Lambda).
const InvokeError = "InvokeError"

// invokeFailure describes an invocation that got no response after the
// function was started: it is recorded as LambdaFunctionFailed (the task
// started, so it must end; it is not invoked again). The endpoint's
// answer is recorded as it came; an answer without an error code (an
// error with an HTTPStatusCode method, as the AWS SDK's has) by its HTTP
// status, reason InvokeError; any other error only says so plainly.
func invokeFailure(err error) (reason, details string) {
	if errors.Is(err, ErrNotSent) {
		// Never the endpoint's answer, whatever code the error holds
		// (another service's: swfd's credentials could not be had).
		return Unreachable, "swfd could not reach the Lambda endpoint (swfd's log has the error), and tried again until it gave up (the function's timeout was near, or swfd was stopping): the function did not run"
	}
	if code, text, ok := answered(err); ok {
		return cut(code, maxReason), cut(text, maxData)
	}
	if errors.Is(err, ErrThrottled) {
		return "TooManyRequestsException", "the Lambda endpoint throttled every invocation of the function until swfd gave up (the function's timeout was near, or swfd was stopping): the function did not run"
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() != 0 {
		// An answer without a code, such as a gateway's in front of
		// Lambda (a proxy, a load balancer): a 502 there says that
		// Lambda's answer did not reach the gateway, not whether the
		// request reached Lambda, and the function may have run.
		return InvokeError, fmt.Sprintf("the Lambda endpoint, or a gateway in front of it, answered HTTP %d without an error code, which does not say whether the function ran: it may have run, in part or in full, or may still be running; swfd does not invoke it again", status.HTTPStatusCode())
	}
	return InvokeError, "the invocation was sent, but no answer could be read from the Lambda endpoint (swfd's log has the error): the function may have run, in part or in full, or may still be running; swfd does not invoke it again"
}

// checkFailure is the message of the StartLambdaFunctionFailed recorded
// for a check that failed with err: the endpoint's answer as it came, or a
// plain sentence for any other error.
func checkFailure(err error) string {
	_, text, ok := answered(err)
	switch {
	case errors.Is(err, ErrThrottled):
		if !ok {
			text = "TooManyRequestsException"
		}
		return cut("the Lambda endpoint throttled every check of whether the function may be invoked until the function's timeout ("+text+"); the function did not run", maxData)
	case errors.Is(err, ErrNotSent):
		return "swfd could not reach the Lambda endpoint to check whether the function may be invoked (swfd's log has the error), and tried again until the function's timeout; the function did not run"
	case errors.Is(err, ErrUnavailable):
		if !ok {
			text = "an error without a code; swfd's log has it"
		}
		return cut("the Lambda endpoint answered every check of whether the function may be invoked with an error that passes, until the function's timeout ("+text+"); the function did not run", maxData)
	case ok:
		return cut(text, maxData)
	}
	return "swfd could not get an answer from the Lambda endpoint on whether the function may be invoked (swfd's log has the error); the function did not run"
}

// firstInvalid returns the index of the first byte of b that is not part
// of valid UTF-8 (len(b) if there is none).
func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// cut shortens s to at most n characters, counted as the model's limits
// count them (api.Length: a character outside the Basic Multilingual
// Plane counts two), never inside a character.
func cut(s string, n int) string {
	if api.Length(s) <= n {
		return s
	}
	i := 0
	for k, r := range s {
		w := 1
		if r > 0xFFFF {
			w = 2
		}
		if i+w > n {
			return s[:k]
		}
		i += w
	}
	return s
}
