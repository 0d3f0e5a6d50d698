package lambda_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/lambda"
	"github.com/swfd/swfd/lambda/awslambda"
)

// noAWSConfig keeps the AWS configuration of the machine out of a test's
// Invoker: no credentials (requests go unsigned), no retries changed.
func noAWSConfig(t *testing.T) {
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "AWS_CONFIG_FILE": filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "none"),
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "",
		"AWS_MAX_ATTEMPTS": "", "AWS_RETRY_MODE": "", "HTTP_PROXY": "", "http_proxy": "",
	} {
		t.Setenv(k, v)
	}
}

// An invocation whose connection to the endpoint could not even be made
// (here refused: the endpoint stopped listening after the check) never
// reached Lambda, so the function did not run: it is invoked again, with
// the back-off of a throttled invocation, and once the endpoint listens
// again the function runs, once, and its result is recorded. It used to
// be recorded at once as LambdaFunctionFailed.
func TestInvocationNotSentIsRetried(t *testing.T) {
	noAWSConfig(t)
	f := newFixture(t, "fn")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	var invocations atomic.Int32
	var once sync.Once
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Invocation-Type") == "DryRun" {
			// The endpoint goes away once it has answered the check:
			// the invocation that follows finds nobody listening.
			once.Do(func() { ln.Close() })
			w.WriteHeader(http.StatusNoContent)
			return
		}
		invocations.Add(1)
		w.Write([]byte(`"done"`))
	})
	serve := func(ln net.Listener) {
		srv := &http.Server{Handler: handler}
		srv.SetKeepAlivesEnabled(false) // each call on a connection of its own
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
	}
	serve(ln)
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	iv, err := awslambda.New(context.Background(), awslambda.Options{Endpoint: "http://" + addr, Region: "us-east-1", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	l := lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Log: log,
		FirstThrottleRetry: 10 * time.Millisecond, MaxThrottleRetry: 50 * time.Millisecond})
	defer f.start(l)()
	reopened := false
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, _, err := f.rs.HistoryPage(f.ctx, "run", 0, 0, false, 1000, true)
		if err != nil {
			t.Fatal(err)
		}
		var completed bool
		for _, e := range evs {
			full, err := e.Full()
			if err != nil {
				t.Fatal(err)
			}
			if a := full.LambdaFunctionFailedEventAttributes; a != nil {
				t.Fatalf("LambdaFunctionFailed, reason %q, details %q; want the invocation tried again", api.Value(a.Reason), api.Value(a.Details))
			}
			if a := full.LambdaFunctionCompletedEventAttributes; a != nil {
				if api.Value(a.Result) != `"done"` {
					t.Fatalf("result %q", api.Value(a.Result))
				}
				completed = true
			}
		}
		if completed && l.InFlight() == 0 {
			break
		}
		if !reopened && strings.Contains(logs.String(), "not reached") {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatalf("listening again on %s: %v", addr, err)
			}
			serve(ln)
			reopened = true
		}
		if time.Now().After(deadline) {
			t.Fatalf("no outcome recorded (endpoint listening again: %v):\n%s", reopened, logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !reopened {
		t.Error("the invocation was never refused")
	}
	if n := invocations.Load(); n != 1 {
		t.Errorf("the function ran %d times, want 1", n)
	}
}

// notSentErr is an invocation that never reached the endpoint, its text
// the transport's.
var notSentErr = fmt.Errorf(`Post "http://10.0.0.5:9000/2015-03-31/functions/fn/invocations": dial tcp 10.0.0.5:9000: connect: connection refused: %w`, lambda.ErrNotSent)

// An invocation that never reaches the endpoint, try after try, is tried
// until the next try would come after the function's START_TO_CLOSE
// deadline (by the Loop's clock), and then recorded as failed with reason
// Unreachable, in plain words: the function did not run.
func TestNotSentUntilItsTimeout(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := clock.NewManual(t0)
	f := newFixtureAt(t, clk, "away")
	var n atomic.Int32
	iv := &fakeInvoker{answer: func(r lambda.Request) (lambda.Response, error) {
		if n.Add(1) == 2 {
			clk.MoveTo(t0.Add(900*time.Second - 5*time.Millisecond))
		}
		return lambda.Response{}, notSentErr
	}}
	evs := f.runLoop(lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Clock: clk,
		FirstThrottleRetry: 10 * time.Millisecond, MaxThrottleRetry: 10 * time.Millisecond}), 1)
	failed := find(evs, api.EventTypeLambdaFunctionFailed)
	if len(failed) != 1 {
		t.Fatalf("%d LambdaFunctionFailed events, want 1", len(failed))
	}
	a := failed[0].LambdaFunctionFailedEventAttributes
	if api.Value(a.Reason) != lambda.Unreachable || !strings.Contains(api.Value(a.Details), "did not run") || strings.Contains(api.Value(a.Details), "10.0.0.5") {
		t.Errorf("reason %q, details %q; want Unreachable, in plain words", api.Value(a.Reason), api.Value(a.Details))
	}
	if len(iv.invokes) != 2 {
		t.Errorf("%d invocations, want 2", len(iv.invokes))
	}
	if !errors.Is(notSentErr, lambda.ErrNotSent) {
		t.Fatal("notSentErr is not ErrNotSent")
	}
}

// A check the endpoint throttles (after the SDK's own tries), or that
// never reaches it, refused nothing: it is tried again, with the back-off
// of a throttled invocation, and the function starts once a check passes.
// Such a check used to record StartLambdaFunctionFailed at once, cause
// ASSUME_ROLE_FAILED, which tells a decider the execution's role is
// wrong, for a condition that passes.
func TestCheckThrottledOrNotSentIsRetried(t *testing.T) {
	for name, checkErr := range map[string]error{"throttled": errThrottled, "not sent": notSentErr} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, "fn")
			var checks atomic.Int32
			iv := &fakeInvoker{
				refuse: func(r lambda.Request) error {
					if checks.Add(1) <= 2 {
						return checkErr
					}
					return nil
				},
				answer: func(r lambda.Request) (lambda.Response, error) {
					return lambda.Response{Payload: []byte(`"done"`)}, nil
				},
			}
			evs := f.runLoop(lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv,
				FirstThrottleRetry: 10 * time.Millisecond, MaxThrottleRetry: 20 * time.Millisecond}), 1)
			if sf := find(evs, api.EventTypeStartLambdaFunctionFailed); len(sf) != 0 {
				t.Fatalf("StartLambdaFunctionFailed, message %q; want the check tried again", sf[0].StartLambdaFunctionFailedEventAttributes.Message)
			}
			if c := find(evs, api.EventTypeLambdaFunctionCompleted); len(c) != 1 {
				t.Fatalf("%d LambdaFunctionCompleted events, want 1", len(c))
			}
			if n := checks.Load(); n != 3 {
				t.Errorf("%d checks, want 3", n)
			}
			if len(iv.invokes) != 1 {
				t.Errorf("%d invocations, want 1", len(iv.invokes))
			}
		})
	}
}

// A check throttled, or not reaching the endpoint, until the next try
// would come after the function's START_TO_CLOSE timeout (counted from the
// function's schedule, by the Loop's clock) records StartLambdaFunctionFailed, its
// message saying so in plain words; the function never runs.
func TestCheckThrottledUntilItsTimeout(t *testing.T) {
	for name, checkErr := range map[string]error{"throttled": errThrottled, "not sent": notSentErr} {
		t.Run(name, func(t *testing.T) {
			t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			clk := clock.NewManual(t0)
			f := newFixtureAt(t, clk, "busy")
			var checks atomic.Int32
			iv := &fakeInvoker{refuse: func(r lambda.Request) error {
				if checks.Add(1) == 2 {
					clk.MoveTo(t0.Add(900*time.Second - 5*time.Millisecond))
				}
				return checkErr
			}}
			evs := f.runLoop(lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Clock: clk,
				FirstThrottleRetry: 10 * time.Millisecond, MaxThrottleRetry: 10 * time.Millisecond}), 1)
			sf := find(evs, api.EventTypeStartLambdaFunctionFailed)
			if len(sf) != 1 {
				t.Fatalf("%d StartLambdaFunctionFailed events, want 1", len(sf))
			}
			msg := sf[0].StartLambdaFunctionFailedEventAttributes.Message
			if !strings.Contains(msg, "timeout") || strings.Contains(msg, "10.0.0.5") {
				t.Errorf("message %q; want it to say the checks went on until the timeout, in plain words", msg)
			}
			if n := checks.Load(); n != 2 {
				t.Errorf("%d checks, want 2", n)
			}
			if len(iv.invokes) != 0 {
				t.Errorf("%d invocations, want none", len(iv.invokes))
			}
		})
	}
}

// A function's response far longer than any result the history can hold
// (here 64 MiB; an emulator may send one without end) is not read into
// memory whole: the Invoker stops reading past what a result of 32,768
// characters can take, and LambdaFunctionFailed records ResultTooLarge.
// The whole response used to be read, so a thousand functions in flight
// that each answered that much could take 64 GiB.
func TestHugeResponseIsNotReadWhole(t *testing.T) {
	noAWSConfig(t)
	f := newFixture(t, "huge")
	const size = 64 << 20
	wrote := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Invocation-Type") == "DryRun" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(size))
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		var err error
		for i := 0; i < size>>20 && err == nil; i++ {
			_, err = w.Write(chunk)
		}
		wrote <- err
	}))
	defer srv.Close()
	iv, err := awslambda.New(context.Background(), awslambda.Options{Endpoint: srv.URL, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	evs := f.run(iv, 1)
	failed := find(evs, api.EventTypeLambdaFunctionFailed)
	if len(failed) != 1 || api.Value(failed[0].LambdaFunctionFailedEventAttributes.Reason) != "ResultTooLarge" {
		t.Fatalf("LambdaFunctionFailed %+v; want reason ResultTooLarge", failed)
	}
	select {
	case err := <-wrote:
		if err == nil {
			t.Errorf("the endpoint sent all %d bytes of the response: it was read whole", size)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the endpoint is still sending the response")
	}
}

// A function whose invocations do not reach the endpoint when a graceful
// stop begins is not invoked again: it was started, and is recorded at
// once as failed (Unreachable; it did not run), and Drain does not wait
// for its timeout.
func TestNotSentWhenStopping(t *testing.T) {
	f := newFixture(t, "away")
	tried := make(chan struct{})
	var once sync.Once
	iv := &fakeInvoker{answer: func(r lambda.Request) (lambda.Response, error) {
		once.Do(func() { close(tried) })
		return lambda.Response{}, notSentErr
	}}
	l := lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, FirstThrottleRetry: time.Hour, MaxThrottleRetry: time.Hour})
	defer f.start(l)()
	<-tried
	dctx, dcancel := context.WithTimeout(f.ctx, 10*time.Second)
	defer dcancel()
	l.Drain(dctx)
	if dctx.Err() != nil {
		t.Fatal("Drain waited for its deadline")
	}
	evs, _, err := f.rs.HistoryPage(f.ctx, "run", 0, 0, false, 1000, true)
	if err != nil {
		t.Fatal(err)
	}
	var failed []api.HistoryEvent
	for _, e := range evs {
		full, err := e.Full()
		if err != nil {
			t.Fatal(err)
		}
		if full.EventType == api.EventTypeLambdaFunctionFailed {
			failed = append(failed, full)
		}
	}
	if len(failed) != 1 {
		t.Fatalf("%d LambdaFunctionFailed events, want 1", len(failed))
	}
	a := failed[0].LambdaFunctionFailedEventAttributes
	if api.Value(a.Reason) != lambda.Unreachable || !strings.Contains(api.Value(a.Details), "stopping") {
		t.Errorf("reason %q, details %q; want Unreachable, saying swfd was stopping", api.Value(a.Reason), api.Value(a.Details))
	}
	if len(iv.invokes) != 1 {
		t.Errorf("%d invocations, want 1", len(iv.invokes))
	}
}

// stsRefusal is an invocation that never reached the endpoint as swfd's
// own credentials could not be had: its error holds the answer of another
// service (STS), with a code, which names swfd's own role.
type stsRefusal struct{}

func (stsRefusal) Error() string {
	return "get identity: get credentials: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity on arn:aws:iam::123456789012:role/swfd-node"
}
func (stsRefusal) ErrorCode() string    { return "AccessDenied" }
func (stsRefusal) Is(target error) bool { return target == lambda.ErrNotSent }

// An invocation that never reached the endpoint is recorded as Unreachable,
// in plain words, even when its error holds another service's answer with
// a code (STS refusing swfd's own credentials): that answer is not the
// endpoint's, and names the operator's roles. Its code and text used to be
// recorded as the function's failure.
func TestNotSentWithAnotherServicesAnswer(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := clock.NewManual(t0)
	f := newFixtureAt(t, clk, "fn")
	var n atomic.Int32
	iv := &fakeInvoker{answer: func(r lambda.Request) (lambda.Response, error) {
		if n.Add(1) == 2 {
			clk.MoveTo(t0.Add(900*time.Second - 5*time.Millisecond))
		}
		return lambda.Response{}, stsRefusal{}
	}}
	evs := f.runLoop(lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Clock: clk,
		FirstThrottleRetry: 10 * time.Millisecond, MaxThrottleRetry: 10 * time.Millisecond}), 1)
	failed := find(evs, api.EventTypeLambdaFunctionFailed)
	if len(failed) != 1 {
		t.Fatalf("%d LambdaFunctionFailed events, want 1", len(failed))
	}
	a := failed[0].LambdaFunctionFailedEventAttributes
	if api.Value(a.Reason) != lambda.Unreachable || strings.Contains(api.Value(a.Details), "sts") {
		t.Errorf("reason %q, details %q; want Unreachable, in plain words", api.Value(a.Reason), api.Value(a.Details))
	}
}

// The bound on a check made again (the function's START_TO_CLOSE timeout
// counted from the function's schedule) holds across a store error: a task
// whose step failed, tried again (retryLater), is not given the whole
// timeout over again by each failure.
// Here the record of StartLambdaFunctionFailed fails once; the task's next
// try checks once more, finds the bound passed, and records it.
func TestCheckBoundKeptAcrossStoreErrors(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := clock.NewManual(t0)
	f := newFixtureAt(t, clk, "busy")
	f.st.fail.Store(1)
	var checks atomic.Int32
	iv := &fakeInvoker{refuse: func(r lambda.Request) error {
		if checks.Add(1) == 2 {
			clk.MoveTo(t0.Add(900*time.Second - 5*time.Millisecond))
		}
		return errThrottled
	}}
	evs := f.runLoop(lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, Clock: clk,
		FirstRetry: 10 * time.Millisecond, FirstThrottleRetry: 10 * time.Millisecond, MaxThrottleRetry: 10 * time.Millisecond}), 1)
	if sf := find(evs, api.EventTypeStartLambdaFunctionFailed); len(sf) != 1 {
		t.Fatalf("%d StartLambdaFunctionFailed events, want 1", len(sf))
	}
	if n := checks.Load(); n != 3 {
		t.Errorf("%d checks, want 3: two, and one after the failed record", n)
	}
	if len(iv.invokes) != 0 {
		t.Errorf("%d invocations, want none", len(iv.invokes))
	}
}
