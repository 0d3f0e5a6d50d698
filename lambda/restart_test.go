package lambda_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/loop"
	"github.com/swfd/swfd/lambda"
	"github.com/swfd/swfd/runs"
)

// waitCompleted waits until the fixture's run has n LambdaFunctionCompleted
// events, failing the test after 10 s.
func (f *fixture) waitCompleted(n int, what string) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, _, err := f.rs.HistoryPage(f.ctx, "run", 0, 0, false, 1000, true)
		if err != nil {
			f.t.Fatal(err)
		}
		got := 0
		for _, e := range evs {
			if e.EventType == api.EventTypeLambdaFunctionCompleted {
				got++
			}
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%d LambdaFunctionCompleted events, want %d: %s", got, n, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A Run that ends while tasks wait in its queue for a slot (here one slot,
// taken by a function that answers only when its call is given up) leaves
// them to the next Run: started again, the Loop runs them. They used to
// stay marked as taken, so that no later Run, nor its read of the store,
// ever ran them.
func TestRunStartedAgainRunsWhatItQueued(t *testing.T) {
	f := newFixture(t, "a", "b")
	invoked := make(chan struct{})
	var n atomic.Int32
	iv := &fakeInvoker{answer: func(r lambda.Request) (lambda.Response, error) {
		return lambda.Response{Payload: []byte(`"done"`)}, nil
	}}
	blocking := &blockFirst{fakeInvoker: iv, n: &n, invoked: invoked}
	l := lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: blocking, MaxConcurrent: 1})
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	<-invoked // the first function holds the only slot; the second waits for it
	cancel()
	<-done

	ctx, cancel = context.WithCancel(f.ctx)
	done = make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	f.waitCompleted(1, "the function queued when the first Run ended was never run")
	if got := n.Load(); got != 2 {
		t.Errorf("%d invocations, want 2 (each function once)", got)
	}
}

// blockFirst is a fakeInvoker whose first invocation answers only when its
// call is given up.
type blockFirst struct {
	*fakeInvoker
	n       *atomic.Int32
	invoked chan struct{}
}

func (b *blockFirst) Invoke(ctx context.Context, r lambda.Request) (lambda.Response, error) {
	if b.n.Add(1) == 1 {
		close(b.invoked)
		<-ctx.Done()
		return lambda.Response{}, ctx.Err()
	}
	return b.fakeInvoker.Invoke(ctx, r)
}

// panicOnce is a store whose read of the pending tasks panics once, when
// armed.
type panicOnce struct {
	swfd.ExecutionStore
	armed, panicked atomic.Bool
}

func (p *panicOnce) PendingTasks(ctx context.Context) ([]swfd.Task, error) {
	if p.armed.Load() && p.panicked.CompareAndSwap(false, true) {
		panic("injected: reading the pending tasks")
	}
	return p.ExecutionStore.PendingTasks(ctx)
}

// A Run that panics (here its rescan of the store) is started again (as
// the service does, with package loop) at once, though a function it began
// is still running: a task scheduled meanwhile runs then, and the function
// in flight still has its outcome recorded. The panicking Run used to wait
// for every function in flight to answer (up to 15 minutes) before it let
// go, starting nothing meanwhile.
func TestRunPanicDoesNotWaitForFunctionsInFlight(t *testing.T) {
	f := newFixture(t, "slow", "quick")
	tasks, err := f.db.PendingTasks(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var slowTask, quickTask swfd.Task
	for _, tk := range tasks {
		switch tk.ScheduledEventID {
		case 5:
			slowTask = tk
		case 6:
			quickTask = tk
		}
	}
	if slowTask.RunID == "" || quickTask.RunID == "" {
		t.Fatalf("pending tasks %+v; want those of events 5 and 6", tasks)
	}
	release := make(chan struct{})
	var releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) })
	slowInvoked := make(chan struct{})
	iv := &fakeInvoker{answer: func(r lambda.Request) (lambda.Response, error) {
		if r.Function == "slow" {
			close(slowInvoked)
			<-release
		}
		return lambda.Response{Payload: []byte(`"` + r.Function + `"`)}, nil
	}}
	st := &panicOnce{ExecutionStore: f.db}
	l := lambda.New(lambda.Options{Runs: f.rs, Store: st, Invoker: iv, Rescan: 10 * time.Millisecond})
	l.Pending([]swfd.Task{slowTask}) // the other is scheduled later, below
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() { loop.Keep(ctx, slog.New(slog.DiscardHandler), "lambda loop", l.Run); close(done) }()
	defer func() { releaseOnce.Do(func() { close(release) }); cancel(); <-done }()
	<-slowInvoked
	st.armed.Store(true) // the next rescan panics
	deadline := time.Now().Add(10 * time.Second)
	for !st.panicked.Load() {
		if time.Now().After(deadline) {
			t.Fatal("no rescan")
		}
		time.Sleep(5 * time.Millisecond)
	}
	l.Committed(runs.Commit{Runs: []runs.Change{{AddTasks: []swfd.Task{quickTask}}}})
	f.waitCompleted(1, "nothing ran after the Run panicked while a function was in flight")
	releaseOnce.Do(func() { close(release) })
	f.waitCompleted(2, "the function in flight when the Run panicked has no outcome")
}

// The bound on a check made again (the function's START_TO_CLOSE timeout)
// holds across a restart, or a move of the task to another node: a Loop
// that finds a task another Loop had checked, until it stopped, does not
// give the checks the whole timeout over again. Here a first Loop's checks
// are throttled until it stops; the clock reaches 5 ms before the timeout
// counted from the function's schedule; a new Loop (a restarted swfd)
// checks once, throttled again, and records StartLambdaFunctionFailed,
// since its next check would come after the timeout. The time of the first
// check used to be kept in the Loop's memory only, so the new Loop checked
// on for another 900 s.
func TestCheckBoundKeptAcrossRestart(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := clock.NewManual(t0)
	f := newFixtureAt(t, clk, "busy")
	var checks atomic.Int32
	twice := make(chan struct{})
	iv := &fakeInvoker{refuse: func(r lambda.Request) error {
		if checks.Add(1) == 2 {
			close(twice)
		}
		return errThrottled
	}}
	opts := lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Clock: clk,
		FirstThrottleRetry: 10 * time.Millisecond, MaxThrottleRetry: 10 * time.Millisecond}
	first := lambda.New(opts)
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() { first.Run(ctx); close(done) }()
	<-twice
	cancel()
	<-done
	clk.MoveTo(t0.Add(900*time.Second - 5*time.Millisecond))
	before := checks.Load()

	evs := f.runLoop(lambda.New(opts), 1)
	if sf := find(evs, api.EventTypeStartLambdaFunctionFailed); len(sf) != 1 {
		t.Fatalf("%d StartLambdaFunctionFailed events, want 1", len(sf))
	}
	if n := checks.Load() - before; n != 1 {
		t.Errorf("the restarted Loop checked %d times, want 1", n)
	}
	if len(iv.invokes) != 0 {
		t.Errorf("%d invocations, want none", len(iv.invokes))
	}
}
