package lambda_test

import (
	"context"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/history"
	"github.com/swfd/swfd/lambda"
)

// hangingInvoker's functions answer only when their call is cut off, as
// a function that runs far longer than it was allowed; invoked is closed
// at the first invocation.
type hangingInvoker struct{ invoked chan struct{} }

func (hangingInvoker) Check(ctx context.Context, r lambda.Request) error { return nil }

func (h hangingInvoker) Invoke(ctx context.Context, r lambda.Request) (lambda.Response, error) {
	close(h.invoked)
	<-ctx.Done()
	return lambda.Response{}, ctx.Err()
}

// An invocation whose task closes while the function runs (its
// START_TO_CLOSE timeout is recorded, or its run closes) is cut off at
// once: no answer of it can be recorded any more. It used to be awaited
// until a minute past the timeout in real time, holding one of the Loop's
// slots, and a graceful stop (Drain) waited for it until its deadline (15 s
// for swfd, for each test of a swfdtest server whose fake function hangs,
// on a manual clock that had timed it out in an instant) and then logged
// that it was recording it failed (Interrupted), which it could not.
func TestInvocationCutOffWhenItsTaskCloses(t *testing.T) {
	for _, how := range []string{"timed out", "run terminated"} {
		t.Run(how, func(t *testing.T) {
			clk := clock.NewManual(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
			f := newFixtureAt(t, clk, "slow")
			iv := hangingInvoker{invoked: make(chan struct{})}
			l := lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Clock: clk})
			f.rs.Listen(l.Committed)
			defer f.start(l)()
			<-iv.invoked

			clk.MoveTo(clk.Now().Add(900 * time.Second)) // the default start-to-close
			f.step(func(s *history.State, env history.Env) (history.Result, error) {
				if how == "timed out" {
					return s.FireTimer(env, history.LambdaTimerKey(5))
				}
				return s.Terminate(env, nil, nil, api.ChildPolicyAbandon, "")
			})

			deadline := time.Now().Add(5 * time.Second)
			for l.InFlight() != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("the invocation of a function whose task closed (%s) still runs 5 s later", how)
				}
				time.Sleep(5 * time.Millisecond)
			}
			dctx, dcancel := context.WithTimeout(f.ctx, 10*time.Second)
			defer dcancel()
			start := time.Now()
			l.Drain(dctx)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Drain took %v", d)
			}
			evs, _, err := f.rs.HistoryPage(f.ctx, "run", 0, 0, false, 1000, true)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(find(evs, api.EventTypeLambdaFunctionFailed)); n != 0 {
				t.Errorf("%d LambdaFunctionFailed recorded after the task closed", n)
			}
		})
	}
}
