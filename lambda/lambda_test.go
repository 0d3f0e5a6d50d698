package lambda_test

import (
	"context"
	"errors"
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
	"github.com/swfd/swfd/lambda"
	"github.com/swfd/swfd/runs"
	"github.com/swfd/swfd/sqlite"
)

// fakeInvoker answers each function by its name.
type fakeInvoker struct {
	mu      sync.Mutex
	checks  []string
	invokes []lambda.Request
	answer  func(r lambda.Request) (lambda.Response, error)
	refuse  func(r lambda.Request) error
	// hang makes Check wait for its context to end, as an endpoint that
	// takes the request and never answers.
	hang bool
}

func (f *fakeInvoker) Check(ctx context.Context, r lambda.Request) error {
	f.mu.Lock()
	f.checks = append(f.checks, r.Function)
	f.mu.Unlock()
	if f.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	if f.refuse != nil {
		return f.refuse(r)
	}
	return nil
}

func (f *fakeInvoker) Invoke(ctx context.Context, r lambda.Request) (lambda.Response, error) {
	f.mu.Lock()
	f.invokes = append(f.invokes, r)
	f.mu.Unlock()
	return f.answer(r)
}

type codedErr struct{ code string }

func (e codedErr) Error() string     { return e.code + ": it went wrong" }
func (e codedErr) ErrorCode() string { return e.code }

// fixture is a run store over an in-memory SQLite database holding one run
// whose first decision scheduled the given Lambda functions (ids f0, f1…).
type fixture struct {
	t   *testing.T
	ctx context.Context
	rs  *runs.Store
	db  *sqlite.DB
	st  *failingStore // the run store's store: db, whose commits may be made to fail
}

// failingStore fails the next commits, as many as fail says, as a
// database that went away would; with applied set, after applying them
// (the connection broke before the commit's answer came).
type failingStore struct {
	*sqlite.DB
	fail    atomic.Int32
	applied atomic.Bool
}

func (f *failingStore) Commit(ctx context.Context, b swfd.Batch) error {
	if f.fail.Add(-1) >= 0 {
		if f.applied.Load() {
			if err := f.DB.Commit(ctx, b); err != nil {
				return err
			}
		}
		return errors.New("disk I/O error")
	}
	f.fail.Store(0)
	return f.DB.Commit(ctx, b)
}

func newFixture(t *testing.T, functions ...string) *fixture {
	t.Helper()
	return newFixtureAt(t, nil, functions...)
}

// newFixtureAt is newFixture with the run store on clk (nil: the system's).
func newFixtureAt(t *testing.T, clk swfd.Clock, functions ...string) *fixture {
	t.Helper()
	return newFixtureWithTimeout(t, clk, "", functions...)
}

// newFixtureWithTimeout is newFixtureAt with the functions' startToCloseTimeout
// ("": the default).
func newFixtureWithTimeout(t *testing.T, clk swfd.Clock, timeout string, functions ...string) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, ctx: ctx, db: db, st: &failingStore{DB: db}}
	f.rs = runs.New(runs.Options{Store: f.st, Clock: clk, Limits: history.DefaultLimits, Lambda: true})
	st, res := history.Start(f.rs.Env(ctx), history.StartParams{
		Domain: "d", WorkflowID: "w", RunID: "run", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
		Config: history.Config{TaskList: "l", ExecutionStartToCloseTimeout: "3600", TaskStartToCloseTimeout: "60",
			ChildPolicy: api.ChildPolicyTerminate, LambdaRole: "arn:aws:iam::123456789012:role/r"},
	})
	var b runs.Batch
	if err := b.Add(st, 0, true, res); err != nil {
		t.Fatal(err)
	}
	if err := f.rs.Commit(ctx, &b); err != nil {
		t.Fatal(err)
	}
	f.step(func(s *history.State, env history.Env) (history.Result, error) {
		return s.StartDecisionTask(env, 2, api.String("decider"))
	})
	var ds []api.Decision
	for i, fn := range functions {
		ds = append(ds, api.Decision{DecisionType: api.DecisionTypeScheduleLambdaFunction, ScheduleLambdaFunctionDecisionAttributes: &api.ScheduleLambdaFunctionDecisionAttributes{
			ID: "f" + string(rune('0'+i)), Name: fn, Input: api.String(`{"i":` + string(rune('0'+i)) + `}`), StartToCloseTimeout: timeout}})
	}
	f.step(func(s *history.State, env history.Env) (history.Result, error) {
		return s.CompleteDecisionTask(env, 3, &api.RespondDecisionTaskCompletedInput{Decisions: ds})
	})
	return f
}

func (f *fixture) step(fn func(s *history.State, env history.Env) (history.Result, error)) {
	f.t.Helper()
	unlock := f.rs.Lock("run")
	defer unlock()
	err := f.rs.Step(f.ctx, "d", "run", func(r *runs.Run, err error) error {
		if err != nil {
			return err
		}
		res, err := fn(r.State, f.rs.Env(f.ctx))
		if err != nil {
			return err
		}
		return f.rs.CommitRun(f.ctx, r, res)
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// run runs a Loop over the fixture until every function has an outcome,
// and returns the full events recorded after the decision.
func (f *fixture) run(iv lambda.Invoker, outcomes int) []api.HistoryEvent {
	f.t.Helper()
	return f.runLoop(lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv}), outcomes)
}

// start runs l over the fixture until stop is called, which ends it and
// waits for it to return.
func (f *fixture) start(l *lambda.Loop) (stop func()) {
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

// runLoop is run with a Loop of the caller's.
func (f *fixture) runLoop(l *lambda.Loop, outcomes int) []api.HistoryEvent {
	f.t.Helper()
	defer f.start(l)()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, _, err := f.rs.HistoryPage(f.ctx, "run", 0, 0, false, 1000, true)
		if err != nil {
			f.t.Fatal(err)
		}
		var out []api.HistoryEvent
		n := 0
		for _, e := range evs {
			full, err := e.Full()
			if err != nil {
				f.t.Fatal(err)
			}
			out = append(out, full)
			switch e.EventType {
			case api.EventTypeLambdaFunctionCompleted, api.EventTypeLambdaFunctionFailed, api.EventTypeStartLambdaFunctionFailed:
				n++
			}
		}
		if n >= outcomes && l.InFlight() == 0 {
			return out
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%d outcomes of %d: %d events", n, outcomes, len(evs))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func find(evs []api.HistoryEvent, typ api.EventType) []api.HistoryEvent {
	var out []api.HistoryEvent
	for _, e := range evs {
		if e.EventType == typ {
			out = append(out, e)
		}
	}
	return out
}

// A result's length is counted as the model's limits count it, in UTF-16
// code units: a response of 32,768 of them is a result, even when they are
// 16,383 emoji and two quotes; one more code unit is ResultTooLarge, as a
// result the history could not hold. The details of a function error are
// cut to 32,768 of them, never inside an emoji.
func TestResultLengthCountsUTF16CodeUnits(t *testing.T) {
	f := newFixture(t, "fits", "wide", "err")
	fits := `"` + strings.Repeat("😀", 16383) + `"`
	iv := &fakeInvoker{answer: func(r lambda.Request) (lambda.Response, error) {
		switch r.Function {
		case "fits":
			return lambda.Response{Payload: []byte(fits)}, nil
		case "wide":
			return lambda.Response{Payload: []byte(`"` + strings.Repeat("😀", 16383) + `a"`)}, nil
		case "err":
			return lambda.Response{FunctionError: "Unhandled", Payload: []byte(`a` + strings.Repeat("😀", 16384))}, nil
		}
		return lambda.Response{}, errors.New("unexpected " + r.Function)
	}}
	evs := f.run(iv, 3)
	if c := find(evs, api.EventTypeLambdaFunctionCompleted); len(c) != 1 || api.Value(c[0].LambdaFunctionCompletedEventAttributes.Result) != fits {
		t.Errorf("completed: %d events, want the one whose result is 32,768 code units", len(c))
	}
	failed := map[string]*api.LambdaFunctionFailedEventAttributes{}
	for _, e := range find(evs, api.EventTypeLambdaFunctionFailed) {
		a := e.LambdaFunctionFailedEventAttributes
		failed[api.Value(a.Reason)] = a
	}
	if a := failed["ResultTooLarge"]; a == nil || !strings.Contains(api.Value(a.Details), "32769 characters") {
		t.Errorf("a result of 32,769 code units: %+v, want ResultTooLarge", failed)
	}
	if a := failed["Unhandled"]; a == nil || api.Value(a.Details) != `a`+strings.Repeat("😀", 16383) {
		t.Errorf("function error's details: %d code units, want 32,767 (the last emoji would pass 32,768)", api.Length(api.Value(failed["Unhandled"].Details)))
	}
}

// The Loop reports each kind of outcome: a result, a function error (the
// reason from its errorType), an invocation that failed after it started
// (the error's code, and no retry), a result too long for the history,
// a refusal before the start (no LambdaFunctionStarted).
func TestOutcomes(t *testing.T) {
	f := newFixture(t, "ok", "err", "net", "big", "refused")
	iv := &fakeInvoker{
		refuse: func(r lambda.Request) error {
			if r.Function == "refused" {
				return codedErr{"ResourceNotFoundException"}
			}
			return nil
		},
		answer: func(r lambda.Request) (lambda.Response, error) {
			switch r.Function {
			case "ok":
				return lambda.Response{Payload: []byte(`{"r":` + *r.Input + `}`)}, nil
			case "err":
				return lambda.Response{FunctionError: "Unhandled", Payload: []byte(`{"errorType":"KeyError","errorMessage":"k"}`)}, nil
			case "net":
				return lambda.Response{}, codedErr{"ServiceException"}
			case "big":
				return lambda.Response{Payload: []byte(`"` + strings.Repeat("é", 32768) + `"`)}, nil
			}
			return lambda.Response{}, errors.New("unexpected " + r.Function)
		},
	}
	evs := f.run(iv, 5)
	if n := len(find(evs, api.EventTypeLambdaFunctionStarted)); n != 4 {
		t.Errorf("%d started, want 4 (all but the refused one)", n)
	}
	if c := find(evs, api.EventTypeLambdaFunctionCompleted); len(c) != 1 || api.Value(c[0].LambdaFunctionCompletedEventAttributes.Result) != `{"r":{"i":0}}` {
		t.Errorf("completed %+v", c)
	}
	failed := map[string]*api.LambdaFunctionFailedEventAttributes{}
	for _, e := range find(evs, api.EventTypeLambdaFunctionFailed) {
		a := e.LambdaFunctionFailedEventAttributes
		failed[api.Value(a.Reason)] = a
	}
	if a := failed["KeyError"]; a == nil || api.Value(a.Details) != `{"errorType":"KeyError","errorMessage":"k"}` {
		t.Errorf("function error %+v", failed)
	}
	if a := failed["ServiceException"]; a == nil || api.Value(a.Details) != "ServiceException: it went wrong" {
		t.Errorf("invocation error %+v", failed)
	}
	if a := failed["ResultTooLarge"]; a == nil || !strings.Contains(api.Value(a.Details), "32770 characters") {
		t.Errorf("result too large %+v", failed)
	}
	sf := find(evs, api.EventTypeStartLambdaFunctionFailed)
	if len(sf) != 1 || sf[0].StartLambdaFunctionFailedEventAttributes.Message != "ResourceNotFoundException: it went wrong" ||
		sf[0].StartLambdaFunctionFailedEventAttributes.ScheduledEventID != 9 {
		t.Errorf("start failed %+v", sf)
	}
	// Each function ran once, with its input and the run's role.
	if len(iv.invokes) != 4 {
		t.Errorf("%d invocations", len(iv.invokes))
	}
	for _, r := range iv.invokes {
		if r.Role != "arn:aws:iam::123456789012:role/r" || r.WorkflowID != "w" || r.Input == nil {
			t.Errorf("request %+v", r)
		}
	}
}

// Without an Invoker, a Lambda task left in the store fails to start.
func TestNoInvoker(t *testing.T) {
	f := newFixture(t, "fn")
	evs := f.run(nil, 1)
	sf := find(evs, api.EventTypeStartLambdaFunctionFailed)
	if len(sf) != 1 || !strings.Contains(sf[0].StartLambdaFunctionFailedEventAttributes.Message, "--lambda-endpoint") {
		t.Fatalf("%+v", sf)
	}
}

// A check the endpoint never answers, each cut off after CheckTimeout, is
// made again until the next would come after the function's START_TO_CLOSE
// timeout (counted from its schedule, by the Loop's clock): then
// StartLambdaFunctionFailed is recorded, and the function is not invoked.
// Without a bound the task would wait for good, the decider never told.
func TestCheckNeverAnswered(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := clock.NewManual(t0)
	f := newFixtureAt(t, clk, "fn")
	iv := &hangFirst{n: 1 << 30, fakeInvoker: &fakeInvoker{}, before: func(n int32) {
		if n == 2 {
			clk.MoveTo(t0.Add(900*time.Second - 5*time.Millisecond))
		}
	}}
	evs := f.runLoop(lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Clock: clk, CheckTimeout: 50 * time.Millisecond,
		FirstThrottleRetry: 10 * time.Millisecond, MaxThrottleRetry: 10 * time.Millisecond}), 1)
	sf := find(evs, api.EventTypeStartLambdaFunctionFailed)
	if len(sf) != 1 || !strings.Contains(sf[0].StartLambdaFunctionFailedEventAttributes.Message, "did not answer") ||
		!strings.Contains(sf[0].StartLambdaFunctionFailedEventAttributes.Message, "timeout") {
		t.Fatalf("start failed %+v", sf)
	}
	if n := iv.checks.Load(); n != 2 {
		t.Errorf("%d checks, want 2", n)
	}
	if len(iv.invokes) != 0 {
		t.Fatalf("%d invocations of a function whose check was never answered", len(iv.invokes))
	}
}

// A refusal seen while the Loop shuts down is not recorded: the task stays
// for the next start.
func TestShutdownDuringCheck(t *testing.T) {
	f := newFixture(t, "fn")
	ctx, cancel := context.WithCancel(f.ctx)
	checked := make(chan struct{})
	iv := &fakeInvoker{refuse: func(r lambda.Request) error {
		close(checked)
		cancel()
		return context.Canceled
	}}
	l := lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv})
	l.Run(ctx)
	<-checked
	tasks, err := f.db.PendingTasks(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tk := range tasks {
		found = found || tk.ScheduledEventID == 5
	}
	evs, _, err := f.rs.HistoryPage(f.ctx, "run", 0, 0, false, 1000, true)
	if err != nil {
		t.Fatal(err)
	}
	if !found || len(evs) != 5 {
		t.Fatalf("task kept %v, %d events", found, len(evs))
	}
}

// countingStore counts the reads of every pending task.
type countingStore struct {
	swfd.ExecutionStore
	reads atomic.Int32
}

func (c *countingStore) PendingTasks(ctx context.Context) ([]swfd.Task, error) {
	c.reads.Add(1)
	return c.ExecutionStore.PendingTasks(ctx)
}

// A Loop given the pending tasks at start (Pending) runs the Lambda ones
// among them without reading them from the store again; without Pending it
// reads them itself.
func TestPendingGivenAtStart(t *testing.T) {
	f := newFixture(t, "ok")
	tasks, err := f.db.PendingTasks(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].Kind != swfd.LambdaTask {
		t.Fatalf("pending tasks: %+v; want the one Lambda task", tasks)
	}
	st := &countingStore{ExecutionStore: f.db}
	iv := &fakeInvoker{answer: func(r lambda.Request) (lambda.Response, error) {
		return lambda.Response{Payload: []byte(`"done"`)}, nil
	}}
	l := lambda.New(lambda.Options{Runs: f.rs, Store: st, Invoker: iv})
	l.Pending(tasks)
	evs := f.runLoop(l, 1)
	if n := len(find(evs, api.EventTypeLambdaFunctionCompleted)); n != 1 {
		t.Fatalf("%d LambdaFunctionCompleted events, want 1", n)
	}
	if n := st.reads.Load(); n != 0 {
		t.Errorf("the Loop read the pending tasks %d times though it was given them", n)
	}

	g := newFixture(t, "ok")
	st = &countingStore{ExecutionStore: g.db}
	g.runLoop(lambda.New(lambda.Options{Runs: g.rs, Store: st, Invoker: iv}), 1)
	if n := st.reads.Load(); n != 1 {
		t.Errorf("without Pending the Loop read the pending tasks %d times, want 1", n)
	}
}

// A function that answers at or after its START_TO_CLOSE deadline, before
// the timer loop fired that timer (no timer loop runs here), is timed out
// by the step that reports its outcome, as a worker's late answer is: the
// run records LambdaFunctionTimedOut, and not the result. The result used
// to be recorded, so the outcome depended on how late the timer loop ran.
func TestLateOutcomeTimesOut(t *testing.T) {
	clk := clock.NewManual(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	f := newFixtureAt(t, clk, "slow")
	iv := &fakeInvoker{answer: func(r lambda.Request) (lambda.Response, error) {
		clk.MoveTo(clk.Now().Add(900 * time.Second)) // the default start-to-close
		return lambda.Response{Payload: []byte(`"late"`)}, nil
	}}
	l := lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Clock: clk})
	defer f.start(l)()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, _, err := f.rs.HistoryPage(f.ctx, "run", 0, 0, false, 1000, true)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range evs {
			types = append(types, string(e.EventType))
		}
		got := strings.Join(types, " ")
		if strings.Contains(got, "LambdaFunctionCompleted") {
			t.Fatalf("the late result was recorded: %s", got)
		}
		if strings.HasSuffix(got, "LambdaFunctionStarted LambdaFunctionTimedOut DecisionTaskScheduled") && l.InFlight() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no timeout recorded: %s", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A function's outcome whose commit fails (the database went away for a
// moment) is recorded once the store answers again, once: the function
// ran, and its result is not traded for a timeout.
// A commit that failed after it was applied is not recorded a second time.
func TestOutcomeRecordedAfterStoreError(t *testing.T) {
	for _, applied := range []bool{false, true} {
		t.Run(map[bool]string{false: "not applied", true: "applied"}[applied], func(t *testing.T) {
			f := newFixture(t, "ok")
			f.st.applied.Store(applied)
			iv := &fakeInvoker{answer: func(r lambda.Request) (lambda.Response, error) {
				f.st.fail.Store(2) // the outcome's first two commits fail
				return lambda.Response{Payload: []byte(`"done"`)}, nil
			}}
			evs := f.run(iv, 1)
			if c := find(evs, api.EventTypeLambdaFunctionCompleted); len(c) != 1 || api.Value(c[0].LambdaFunctionCompletedEventAttributes.Result) != `"done"` {
				t.Errorf("completed %+v", c)
			}
			if n := len(find(evs, api.EventTypeLambdaFunctionStarted)); n != 1 {
				t.Errorf("%d LambdaFunctionStarted events", n)
			}
			if n := len(find(evs, api.EventTypeDecisionTaskScheduled)); n != 2 {
				t.Errorf("%d DecisionTaskScheduled events, want 2", n)
			}
			if len(iv.invokes) != 1 {
				t.Errorf("%d invocations, want 1", len(iv.invokes))
			}
		})
	}
}

// A graceful stop (Drain) starts nothing: a task whose check is under way
// gives up its check and stays in the store, for the next start, and
// Drain does not wait for the check's timeout; a task scheduled after
// the stop began is not taken either.
func TestDrainStartsNothing(t *testing.T) {
	f := newFixture(t, "fn")
	checking := make(chan struct{})
	iv := &fakeInvoker{refuse: func(r lambda.Request) error {
		close(checking)
		return nil
	}}
	hung := &hangAfter{fakeInvoker: iv}
	l := lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: hung})
	defer f.start(l)()
	<-checking
	dctx, dcancel := context.WithTimeout(f.ctx, 10*time.Second)
	defer dcancel()
	l.Drain(dctx)
	if dctx.Err() != nil {
		t.Fatal("Drain waited for its deadline though no function was invoked")
	}
	l.Committed(runs.Commit{Runs: []runs.Change{{AddTasks: []swfd.Task{{Kind: swfd.LambdaTask, Domain: "d", RunID: "run", ScheduledEventID: 5}}}}})
	waitInFlight(t, l, 0)
	tasks, err := f.db.PendingTasks(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].ScheduledEventID != 5 {
		t.Errorf("pending tasks %+v; want the function's, kept for the next start", tasks)
	}
	if len(iv.invokes) != 0 {
		t.Errorf("%d invocations after the stop began", len(iv.invokes))
	}
}

// hangAfter is a fakeInvoker whose Check, once the fake's has answered,
// waits for its context to end.
type hangAfter struct{ *fakeInvoker }

func (h *hangAfter) Check(ctx context.Context, r lambda.Request) error {
	h.fakeInvoker.Check(ctx, r)
	<-ctx.Done()
	return ctx.Err()
}

// waitInFlight waits until l has n tasks queued or handled.
func waitInFlight(t *testing.T, l *lambda.Loop, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for l.InFlight() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d tasks in flight, want %d", l.InFlight(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// throttledErr is an invocation the endpoint throttled.
type throttledErr struct{ codedErr }

func (throttledErr) Is(target error) bool { return target == lambda.ErrThrottled }

var errThrottled = throttledErr{codedErr{"TooManyRequestsException"}}

// An invocation throttled again and again is tried until the next try
// would come after the function's START_TO_CLOSE deadline (by the Loop's
// clock), and then recorded as failed with the throttling's code.
func TestThrottledUntilItsTimeout(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := clock.NewManual(t0)
	f := newFixtureAt(t, clk, "busy")
	var n atomic.Int32
	iv := &fakeInvoker{answer: func(r lambda.Request) (lambda.Response, error) {
		if n.Add(1) == 2 {
			clk.MoveTo(t0.Add(900*time.Second - 100*time.Millisecond))
		}
		return lambda.Response{}, errThrottled
	}}
	evs := f.runLoop(lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Clock: clk}), 1)
	failed := find(evs, api.EventTypeLambdaFunctionFailed)
	if len(failed) != 1 || api.Value(failed[0].LambdaFunctionFailedEventAttributes.Reason) != "TooManyRequestsException" {
		t.Fatalf("failed %+v", failed)
	}
	if len(iv.invokes) != 2 {
		t.Errorf("%d invocations, want 2", len(iv.invokes))
	}
}

// A throttled function whose task closes before the next try (here its
// run is terminated) is not invoked again, and nothing more is recorded.
func TestThrottledTaskClosedMeanwhile(t *testing.T) {
	f := newFixture(t, "busy")
	iv := &fakeInvoker{answer: func(r lambda.Request) (lambda.Response, error) {
		f.step(func(s *history.State, env history.Env) (history.Result, error) {
			return s.Terminate(env, nil, nil, api.ChildPolicyAbandon, "")
		})
		return lambda.Response{}, errThrottled
	}}
	l := lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv})
	defer f.start(l)()
	deadline := time.Now().Add(10 * time.Second)
	for {
		iv.mu.Lock()
		invoked := len(iv.invokes)
		iv.mu.Unlock()
		if invoked == 1 && l.InFlight() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d invocations, %d tasks in flight", invoked, l.InFlight())
		}
		time.Sleep(5 * time.Millisecond)
	}
	evs, _, err := f.rs.HistoryPage(f.ctx, "run", 0, 0, false, 1000, true)
	if err != nil {
		t.Fatal(err)
	}
	if last := evs[len(evs)-1].EventType; last != api.EventTypeWorkflowExecutionTerminated {
		t.Errorf("last event %s, want the termination", last)
	}
}

// A task whose step keeps failing (the database away) is tried again less
// and less often, and only its first failure is logged as an error: each
// try used to come a second after the last, each with an ERROR line and a
// check (a DryRun call to Lambda), for every pending task, for as long as
// the database was away. Once the store answers, the task runs, and the
// log says so.
func TestStepFailuresBackOff(t *testing.T) {
	f := newFixture(t, "fn")
	f.st.fail.Store(1 << 30) // every commit fails
	var mu sync.Mutex
	var checks []time.Time
	iv := &fakeInvoker{
		refuse: func(r lambda.Request) error {
			mu.Lock()
			checks = append(checks, time.Now())
			mu.Unlock()
			return nil
		},
		answer: func(r lambda.Request) (lambda.Response, error) {
			return lambda.Response{Payload: []byte(`"done"`)}, nil
		},
	}
	var logs logbuf.Buffer
	l := lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		FirstRetry: 20 * time.Millisecond, MaxRetry: 80 * time.Millisecond})
	defer f.start(l)()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(checks)
		mu.Unlock()
		if n >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d tries", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	spent := checks[4].Sub(checks[0])
	mu.Unlock()
	if want := (20 + 40 + 80 + 80) * time.Millisecond; spent < want {
		t.Errorf("5 tries in %v; with the back-off they take at least %v", spent, want)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines for 4 failures of one task, want 1:\n%s", n, logs.String())
	}
	f.st.fail.Store(0)
	for !strings.Contains(logs.String(), "running a Lambda task succeeded after failures") || l.InFlight() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the task did not run once the store answered:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	evs, _, err := f.rs.HistoryPage(f.ctx, "run", 0, 0, false, 1000, true)
	if err != nil {
		t.Fatal(err)
	}
	if last := evs[len(evs)-2].EventType; last != api.EventTypeLambdaFunctionCompleted {
		t.Errorf("the event before the last is %s, want LambdaFunctionCompleted", last)
	}
}

// The pace of the tries after a store error is each Loop's own
// (Options.FirstRetry, Options.MaxRetry): two Loops at once, one trying
// again every 10 ms and one after an hour, keep their paces. It used to be
// package variables that tests overwrote, shared by every Loop (and a data
// race between tests running in parallel).
func TestRetryPaceIsPerLoop(t *testing.T) {
	type side struct {
		f      *fixture
		l      *lambda.Loop
		checks atomic.Int32
	}
	mk := func(pace time.Duration) *side {
		s := &side{f: newFixture(t, "fn")}
		s.f.st.fail.Store(1 << 30) // every commit fails
		iv := &fakeInvoker{refuse: func(r lambda.Request) error {
			s.checks.Add(1)
			return nil
		}}
		s.l = lambda.New(lambda.Options{Runs: s.f.rs, Store: s.f.db, Invoker: iv, FirstRetry: pace, MaxRetry: pace})
		return s
	}
	fast, slow := mk(10*time.Millisecond), mk(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, s := range []*side{fast, slow} {
		wg.Add(1)
		go func() { defer wg.Done(); s.l.Run(ctx) }()
	}
	defer func() { cancel(); wg.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for fast.checks.Load() < 5 || slow.checks.Load() < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("checks: %d with a 10 ms pace (want 5), %d with an hour's (want 1)", fast.checks.Load(), slow.checks.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := slow.checks.Load(); n != 1 {
		t.Errorf("the Loop whose pace is an hour checked %d times, want 1", n)
	}
}

// An error of the Invoker that is not the endpoint's answer (it has no
// error code: a connection that failed, an answer that could not be read)
// is not written into the history: its text names the endpoint's address
// and Go's internals, which the operator's log holds and a decider of
// another team has no use for. The history says in plain words what
// happened; the log has the whole error. The error's text used to be the
// details of LambdaFunctionFailed and the message of
// StartLambdaFunctionFailed.
func TestTransportErrorsStayInTheLog(t *testing.T) {
	f := newFixture(t, "lost", "unchecked")
	const (
		invokeErr = `operation error Lambda: Invoke, https response error StatusCode: 0, RequestID: , request send failed, Post "http://10.0.0.5:9000/2015-03-31/functions/lost/invocations": read tcp 10.0.0.7:51234->10.0.0.5:9000: read: connection reset by peer`
		checkErr  = `operation error Lambda: Invoke, https response error StatusCode: 0, RequestID: , deserialization failed, failed to decode response body, invalid character '<' looking for beginning of value (http://10.0.0.5:9000)`
	)
	iv := &fakeInvoker{
		refuse: func(r lambda.Request) error {
			if r.Function == "unchecked" {
				return errors.New(checkErr)
			}
			return nil
		},
		answer: func(r lambda.Request) (lambda.Response, error) {
			return lambda.Response{}, errors.New(invokeErr)
		},
	}
	var logs logbuf.Buffer
	evs := f.runLoop(lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Log: slog.New(slog.NewTextHandler(&logs, nil))}), 2)
	internals := []string{"10.0.0.5", "http://", "tcp", "operation error", "invalid character"}
	failed := find(evs, api.EventTypeLambdaFunctionFailed)
	if len(failed) != 1 {
		t.Fatalf("%d LambdaFunctionFailed events, want 1", len(failed))
	}
	a := failed[0].LambdaFunctionFailedEventAttributes
	if api.Value(a.Reason) != "InvokeError" || !strings.Contains(api.Value(a.Details), "may have run") {
		t.Errorf("LambdaFunctionFailed reason %q, details %q; want InvokeError, saying the function may have run", api.Value(a.Reason), api.Value(a.Details))
	}
	sf := find(evs, api.EventTypeStartLambdaFunctionFailed)
	if len(sf) != 1 {
		t.Fatalf("%d StartLambdaFunctionFailed events, want 1", len(sf))
	}
	message := sf[0].StartLambdaFunctionFailedEventAttributes.Message
	for _, s := range internals {
		if strings.Contains(api.Value(a.Details), s) || strings.Contains(api.Value(a.Reason), s) {
			t.Errorf("LambdaFunctionFailed holds %q: reason %q, details %q", s, api.Value(a.Reason), api.Value(a.Details))
		}
		if strings.Contains(message, s) {
			t.Errorf("StartLambdaFunctionFailed's message holds %q: %q", s, message)
		}
	}
	if message == "" {
		t.Error("StartLambdaFunctionFailed has no message")
	}
	for _, e := range []string{invokeErr, checkErr} {
		if !strings.Contains(logs.String(), strings.ReplaceAll(e, `"`, `\"`)) {
			t.Errorf("the log lacks the error %s:\n%s", e, logs.String())
		}
	}
}

// A function's response that is not valid UTF-8 cannot be a result: the
// history's text (and the JSON every client reads it in) has no way to
// carry its bytes. It is recorded as LambdaFunctionFailed, reason
// InvalidResult, saying where the first bad byte is. Its bad bytes used to
// be replaced with U+FFFD, silently handing the decider a result the
// function never returned.
func TestResultNotUTF8(t *testing.T) {
	f := newFixture(t, "bin")
	iv := &fakeInvoker{answer: func(r lambda.Request) (lambda.Response, error) {
		return lambda.Response{Payload: []byte("\"ab\xff\xfec\"")}, nil
	}}
	evs := f.run(iv, 1)
	if c := find(evs, api.EventTypeLambdaFunctionCompleted); len(c) != 0 {
		t.Fatalf("completed with result %q", api.Value(c[0].LambdaFunctionCompletedEventAttributes.Result))
	}
	failed := find(evs, api.EventTypeLambdaFunctionFailed)
	if len(failed) != 1 {
		t.Fatalf("%d LambdaFunctionFailed events, want 1", len(failed))
	}
	a := failed[0].LambdaFunctionFailedEventAttributes
	if api.Value(a.Reason) != "InvalidResult" || !strings.Contains(api.Value(a.Details), "byte 4") {
		t.Errorf("reason %q, details %q; want InvalidResult, naming byte 4", api.Value(a.Reason), api.Value(a.Details))
	}
}
