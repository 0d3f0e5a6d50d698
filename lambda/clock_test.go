package lambda_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/lambda"
)

// A back-off of a minute: long enough in real time that a test which
// waited for it would time out, short next to a function's timeout of 900 s
// on the clock.
const minuteBackOff = time.Minute

// waitCount waits until n has reached want.
func waitCount(t *testing.T, what string, n *atomic.Int32, want int32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for n.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("%d %s, want %d", n.Load(), what, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitEvent returns the run's events once one of typ is among them.
func (f *fixture) waitEvent(typ api.EventType) []api.HistoryEvent {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, _, err := f.rs.HistoryPage(f.ctx, "run", 0, 0, false, 1000, true)
		if err != nil {
			f.t.Fatal(err)
		}
		var out []api.HistoryEvent
		for _, e := range evs {
			full, err := e.Full()
			if err != nil {
				f.t.Fatal(err)
			}
			out = append(out, full)
		}
		if len(find(out, typ)) > 0 {
			return out
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("no %s in %d events", typ, len(out))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The back-off between two checks of a function the endpoint does not let
// through (here never reached) is on swfd's clock as well as in real time:
// a move of a manual clock past it makes the next check at once, and a
// move past the function's START_TO_CLOSE timeout (counted from its
// schedule) records StartLambdaFunctionFailed at once, without another
// check. The back-off used to be a timer of real time only, which a move
// did not end: a test that moved the clock past the timeout waited for the
// back-off in real time (up to 15 s by default), then for one more check.
func TestCheckBackOffFollowsAMoveOfTheClock(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := clock.NewManual(t0)
	f := newFixtureAt(t, clk, "away")
	var checks atomic.Int32
	iv := &fakeInvoker{refuse: func(r lambda.Request) error {
		checks.Add(1)
		return notSentErr
	}}
	l := lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Clock: clk,
		FirstThrottleRetry: minuteBackOff, MaxThrottleRetry: minuteBackOff})
	defer f.start(l)()

	waitCount(t, "checks", &checks, 1)
	// Past the longest back-off (a minute and half as much again): the
	// next check comes now.
	clk.MoveTo(t0.Add(2 * minuteBackOff))
	waitCount(t, "checks after a move past the back-off", &checks, 2)
	// Past the function's timeout: its start failed, with no more checks.
	clk.MoveTo(t0.Add(900*time.Second + time.Millisecond))
	evs := f.waitEvent(api.EventTypeStartLambdaFunctionFailed)
	waitInFlight(t, l, 0)
	sf := find(evs, api.EventTypeStartLambdaFunctionFailed)
	if len(sf) != 1 {
		t.Fatalf("%d StartLambdaFunctionFailed events, want 1", len(sf))
	}
	if !sf[0].EventTimestamp.Equal(clk.Now()) {
		t.Errorf("start failed at %v; the clock shows %v", sf[0].EventTimestamp, clk.Now())
	}
	if n := checks.Load(); n != 2 {
		t.Errorf("%d checks, want 2: none once the clock had passed the function's timeout", n)
	}
	if len(iv.invokes) != 0 {
		t.Errorf("%d invocations, want none", len(iv.invokes))
	}
}

// So it is with the back-off between two invocations that never reached
// the endpoint: a move past it invokes the function again at once, and a
// move past the function's START_TO_CLOSE deadline ends the tries at once,
// without another invocation: the function timed out (here the Loop's own
// step records it, as no timer loop runs to).
func TestInvokeBackOffFollowsAMoveOfTheClock(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := clock.NewManual(t0)
	f := newFixtureAt(t, clk, "away")
	var invokes atomic.Int32
	iv := &fakeInvoker{answer: func(r lambda.Request) (lambda.Response, error) {
		invokes.Add(1)
		return lambda.Response{}, notSentErr
	}}
	l := lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Clock: clk,
		FirstThrottleRetry: minuteBackOff, MaxThrottleRetry: minuteBackOff})
	defer f.start(l)()

	waitCount(t, "invocations", &invokes, 1)
	clk.MoveTo(t0.Add(2 * minuteBackOff))
	waitCount(t, "invocations after a move past the back-off", &invokes, 2)
	clk.MoveTo(t0.Add(900*time.Second + time.Millisecond))
	evs := f.waitEvent(api.EventTypeLambdaFunctionTimedOut)
	waitInFlight(t, l, 0)
	if failed := find(evs, api.EventTypeLambdaFunctionFailed); len(failed) != 0 {
		t.Errorf("LambdaFunctionFailed %+v besides the timeout", failed)
	}
	if n := invokes.Load(); n != 2 {
		t.Errorf("%d invocations, want 2: none once the clock had passed the function's deadline", n)
	}
}

// The bound that frees the call of a function that never answers (its
// timeout and the grace, both in real time and on the clock) ends as soon
// as a move takes the clock past it, once the real time has passed. It
// used to sleep, in real time, as long as the clock had left to go when
// the real time passed: a move meanwhile waited for that sleep.
func TestGiveUpFollowsAMoveOfTheClock(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := clock.NewManual(t0)
	f := newFixtureWithTimeout(t, clk, "2", "hang")
	iv := &runningInvoker{runFor: time.Hour, cutOff: make(chan struct{})}
	const grace = 50 * time.Millisecond
	l := lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Clock: clk, AnswerGrace: grace})
	defer f.start(l)()
	start := time.Now()
	f.waitEvent(api.EventTypeLambdaFunctionStarted)
	// The bound's real time passes (2 s and the grace) while the clock
	// stands still: the call goes on.
	for time.Since(start) < 2*time.Second+grace+100*time.Millisecond {
		select {
		case <-iv.cutOff:
			t.Fatal("the call was cut off while the clock stood still")
		case <-time.After(10 * time.Millisecond):
		}
	}
	clk.MoveTo(t0.Add(time.Minute))
	select {
	case <-iv.cutOff:
	case <-time.After(time.Second):
		t.Fatal("the call was not cut off once the clock had passed its bound")
	}
}
