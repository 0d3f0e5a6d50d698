package lambda_test

import (
	"context"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/lambda"
)

// runningInvoker is a Lambda endpoint whose functions run for runFor of
// real time, then answer "done", unless their call is cut off first.
type runningInvoker struct {
	runFor time.Duration
	cutOff chan struct{} // closed when a call is cut off
}

func (*runningInvoker) Check(ctx context.Context, r lambda.Request) error { return nil }

func (v *runningInvoker) Invoke(ctx context.Context, r lambda.Request) (lambda.Response, error) {
	t := time.NewTimer(v.runFor)
	defer t.Stop()
	select {
	case <-t.C:
		return lambda.Response{Payload: []byte(`"done"`)}, nil
	case <-ctx.Done():
		close(v.cutOff)
		return lambda.Response{}, ctx.Err()
	}
}

// A function on a manual clock that stands still has not timed out, however
// long it runs in real time: its START_TO_CLOSE timeout is on swfd's clock,
// as an activity's is, and the test that owns the clock moves it. Its
// answer is recorded. The call used to be cut off once the timeout and a
// minute (here the grace the test gives) had passed in real time, and
// nothing was recorded: the function stayed open, its answer lost, until
// the test moved the clock past its timeout.
func TestManualClockStandingStillKeepsTheCall(t *testing.T) {
	clk := clock.NewManual(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	f := newFixtureWithTimeout(t, clk, "1", "slow")
	iv := &runningInvoker{runFor: 1500 * time.Millisecond, cutOff: make(chan struct{})}
	l := lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Clock: clk, AnswerGrace: 50 * time.Millisecond})
	evs := f.runLoop(l, 1)
	done := find(evs, api.EventTypeLambdaFunctionCompleted)
	if len(done) != 1 || api.Value(done[0].LambdaFunctionCompletedEventAttributes.Result) != `"done"` {
		t.Fatalf("events %v", evs)
	}
	if !done[0].EventTimestamp.Equal(clk.Now()) {
		t.Errorf("completed at %v, the clock shows %v", done[0].EventTimestamp, clk.Now())
	}
}

// On the real clock a function that never answers has its call cut off
// once its timeout and the grace have passed, though no timer loop records
// its timeout here (the timer fired on another node, or the timer loop is
// stuck): the call does not hold its slot for good.
func TestCallOfAFunctionThatNeverAnswersIsCutOff(t *testing.T) {
	f := newFixtureWithTimeout(t, nil, "1", "hang")
	iv := &runningInvoker{runFor: time.Hour, cutOff: make(chan struct{})}
	l := lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, AnswerGrace: 50 * time.Millisecond})
	defer f.start(l)()
	select {
	case <-iv.cutOff:
	case <-time.After(10 * time.Second):
		t.Fatal("the call of a function that never answers was not cut off")
	}
	waitInFlight(t, l, 0)
}
