package lambda_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/lambda"
	"github.com/swfd/swfd/lambda/awslambda"
)

// answer is an error answer of a Lambda endpoint: its HTTP status, its
// code (none: an answer such as a proxy's, without one) and its message.
type answer struct {
	status        int
	code, message string
}

func (a answer) write(w http.ResponseWriter) {
	if a.code == "" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(a.status)
		w.Write([]byte("<html><body>" + http.StatusText(a.status) + "</body></html>"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", a.code)
	w.WriteHeader(a.status)
	w.Write([]byte(`{"Type":"Service","message":"` + a.message + `"}`))
}

// Answers of Lambda that mean it cannot serve the request for now, and ran
// nothing.
var (
	pending       = answer{409, "ResourceConflictException", "The operation cannot be performed at this time. The function is currently in the following state: Pending"}
	notReady      = answer{502, "ResourceNotReadyException", "The function is inactive and its VPC connection is no longer available."}
	ec2Throttled  = answer{502, "EC2ThrottledException", "Lambda was throttled by Amazon EC2 during function initialization."}
	internalError = answer{500, "ServiceException", "An internal error occurred."}
	unavailable   = answer{503, "", ""}
	badGateway    = answer{502, "", ""} // a proxy's or load balancer's, in front of Lambda
)

// endpoint is a Lambda endpoint whose answers to the checks (DryRun) and to
// the invocations are given, in turn, by check and invoke (nil: a check
// passes; a function answers "done").
type endpoint struct {
	mu              sync.Mutex
	checks, invokes int
	check, invoke   func(n int) *answer
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	var a *answer
	dryRun := r.Header.Get("X-Amz-Invocation-Type") == "DryRun"
	if dryRun {
		e.checks++
		if e.check != nil {
			a = e.check(e.checks)
		}
	} else {
		e.invokes++
		if e.invoke != nil {
			a = e.invoke(e.invokes)
		}
	}
	e.mu.Unlock()
	switch {
	case a != nil:
		a.write(w)
	case dryRun:
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Write([]byte(`"done"`))
	}
}

func (e *endpoint) counts() (checks, invokes int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.checks, e.invokes
}

// invoker is the real Invoker for e, without the SDK's own retries of a
// check (one try each, so that the Loop's tries are counted).
func (e *endpoint) invoker(t *testing.T) lambda.Invoker {
	t.Helper()
	noAWSConfig(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	iv, err := awslambda.New(context.Background(), awslambda.Options{Endpoint: srv.URL, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

func (f *fixture) quickLoop(iv lambda.Invoker) *lambda.Loop {
	return lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv,
		FirstThrottleRetry: 10 * time.Millisecond, MaxThrottleRetry: 20 * time.Millisecond})
}

// A check that Lambda answers with an error that passes (the service's
// internal error, a 5xx without a code from whatever stands before it, a
// function not ready: Pending, its VPC connection being made again, EC2
// throttling its set-up) refused nothing, and ran nothing: it is made again
// as a throttled one is, and the function starts once a check passes. Such
// a check used to record StartLambdaFunctionFailed at once, with cause
// ASSUME_ROLE_FAILED, telling the decider its role was wrong.
func TestCheckAnsweredAnErrorThatPassesIsRetried(t *testing.T) {
	for name, a := range map[string]answer{"ServiceException": internalError, "503": unavailable, "Pending": pending,
		"ResourceNotReadyException": notReady, "EC2ThrottledException": ec2Throttled} {
		t.Run(name, func(t *testing.T) {
			e := &endpoint{check: func(n int) *answer {
				if n <= 2 {
					return &a
				}
				return nil
			}}
			f := newFixture(t, "fn")
			evs := f.runLoop(f.quickLoop(e.invoker(t)), 1)
			if sf := find(evs, api.EventTypeStartLambdaFunctionFailed); len(sf) != 0 {
				a := sf[0].StartLambdaFunctionFailedEventAttributes
				t.Fatalf("StartLambdaFunctionFailed, cause %s, message %q; want the check made again", a.Cause, a.Message)
			}
			if c := find(evs, api.EventTypeLambdaFunctionCompleted); len(c) != 1 {
				t.Fatalf("%d LambdaFunctionCompleted events, want 1", len(c))
			}
			if checks, invokes := e.counts(); checks != 3 || invokes != 1 {
				t.Errorf("%d checks and %d invocations, want 3 and 1", checks, invokes)
			}
		})
	}
}

// A check that Lambda refuses for good (no such function, not allowed, a
// function whose configuration cannot work) records StartLambdaFunctionFailed
// at once, with Lambda's answer as its message: trying again would not
// pass.
func TestCheckRefusedIsNotRetried(t *testing.T) {
	for name, a := range map[string]answer{
		"ResourceNotFoundException": {404, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:123456789012:function:fn"},
		"AccessDeniedException":     {403, "AccessDeniedException", "User is not authorized to perform: lambda:InvokeFunction"},
		"KMSAccessDeniedException":  {502, "KMSAccessDeniedException", "Lambda was unable to decrypt the environment variables because KMS access was denied."},
		"state Failed":              {409, "ResourceConflictException", "The operation cannot be performed at this time. The function is currently in the following state: Failed"},
	} {
		t.Run(name, func(t *testing.T) {
			e := &endpoint{check: func(int) *answer { return &a }}
			f := newFixture(t, "fn")
			evs := f.runLoop(f.quickLoop(e.invoker(t)), 1)
			sf := find(evs, api.EventTypeStartLambdaFunctionFailed)
			if len(sf) != 1 || sf[0].StartLambdaFunctionFailedEventAttributes.Message != a.code+": "+a.message {
				t.Fatalf("StartLambdaFunctionFailed %+v; want one, its message Lambda's answer", sf)
			}
			if checks, invokes := e.counts(); checks != 1 || invokes != 0 {
				t.Errorf("%d checks and %d invocations, want 1 and none", checks, invokes)
			}
		})
	}
}

// An invocation that Lambda answers with an error that says the function
// is not ready yet (Pending, its VPC connection being made again, EC2
// throttling its set-up) ran nothing: it is invoked again, as a throttled
// one is, and the function runs once it is ready. It used to be recorded
// at once as LambdaFunctionFailed.
func TestInvocationOfAFunctionNotReadyIsRetried(t *testing.T) {
	for name, a := range map[string]answer{"Pending": pending, "ResourceNotReadyException": notReady, "EC2ThrottledException": ec2Throttled} {
		t.Run(name, func(t *testing.T) {
			e := &endpoint{invoke: func(n int) *answer {
				if n <= 2 {
					return &a
				}
				return nil
			}}
			f := newFixture(t, "fn")
			evs := f.runLoop(f.quickLoop(e.invoker(t)), 1)
			if failed := find(evs, api.EventTypeLambdaFunctionFailed); len(failed) != 0 {
				a := failed[0].LambdaFunctionFailedEventAttributes
				t.Fatalf("LambdaFunctionFailed, reason %q, details %q; want the function invoked again", api.Value(a.Reason), api.Value(a.Details))
			}
			if c := find(evs, api.EventTypeLambdaFunctionCompleted); len(c) != 1 {
				t.Fatalf("%d LambdaFunctionCompleted events, want 1", len(c))
			}
			if _, invokes := e.counts(); invokes != 3 {
				t.Errorf("%d invocations, want 3", invokes)
			}
		})
	}
}

// An invocation answered with Lambda's internal error (500
// ServiceException), or a 5xx without a code, may have run the function:
// Lambda does not say at which point it failed, and a gateway in front of
// it (a proxy, a load balancer) answers 502 when Lambda's answer did not
// reach it, whether or not the function ran. It is recorded at once as
// LambdaFunctionFailed with the answer, and not invoked again; one without
// a code has reason InvokeError, its details naming the HTTP status that
// came and saying that the function may have run.
func TestInvocationAnsweredAServerErrorIsNotRetried(t *testing.T) {
	for name, c := range map[string]struct {
		a       answer
		reason  string
		details []string
	}{
		"ServiceException": {internalError, "ServiceException", []string{"An internal error occurred"}},
		"503":              {unavailable, lambda.InvokeError, []string{"HTTP 503", "may have run"}},
		"502":              {badGateway, lambda.InvokeError, []string{"HTTP 502", "may have run"}},
	} {
		t.Run(name, func(t *testing.T) {
			e := &endpoint{invoke: func(int) *answer { return &c.a }}
			f := newFixture(t, "fn")
			evs := f.runLoop(f.quickLoop(e.invoker(t)), 1)
			failed := find(evs, api.EventTypeLambdaFunctionFailed)
			if len(failed) != 1 {
				t.Fatalf("%d LambdaFunctionFailed events, want 1", len(failed))
			}
			a := failed[0].LambdaFunctionFailedEventAttributes
			if r := api.Value(a.Reason); r != c.reason {
				t.Errorf("reason %q, want %q", r, c.reason)
			}
			for _, want := range c.details {
				if d := api.Value(a.Details); !strings.Contains(d, want) {
					t.Errorf("details %q; want them to say %q", d, want)
				}
			}
			if _, invokes := e.counts(); invokes != 1 {
				t.Errorf("%d invocations, want 1", invokes)
			}
		})
	}
}

// A check answered with an error that passes, again and again, until the
// next check would come after the function's timeout (counted from the
// first, by the Loop's clock) records StartLambdaFunctionFailed, its
// message naming Lambda's last answer and saying the checks went on until
// the timeout.
func TestCheckNotReadyUntilItsTimeout(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clk := clock.NewManual(t0)
	e := &endpoint{check: func(n int) *answer {
		if n == 2 {
			clk.MoveTo(t0.Add(900*time.Second - 5*time.Millisecond))
		}
		return &pending
	}}
	f := newFixtureAt(t, clk, "fn")
	evs := f.runLoop(lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: e.invoker(t), Clock: clk,
		FirstThrottleRetry: 10 * time.Millisecond, MaxThrottleRetry: 10 * time.Millisecond}), 1)
	sf := find(evs, api.EventTypeStartLambdaFunctionFailed)
	if len(sf) != 1 {
		t.Fatalf("%d StartLambdaFunctionFailed events, want 1", len(sf))
	}
	msg := sf[0].StartLambdaFunctionFailedEventAttributes.Message
	if !strings.Contains(msg, "timeout") || !strings.Contains(msg, pending.code+": "+pending.message) {
		t.Errorf("message %q; want Lambda's answer, and that the checks went on until the timeout", msg)
	}
	if checks, invokes := e.counts(); checks != 2 || invokes != 0 {
		t.Errorf("%d checks and %d invocations, want 2 and none", checks, invokes)
	}
}

// hangFirst is a fakeInvoker whose first n checks wait for their context
// to end, as an endpoint that takes the request and does not answer.
type hangFirst struct {
	*fakeInvoker
	n      int32
	checks atomic.Int32
	// before, if set, is called at the start of each check, with its number.
	before func(n int32)
}

func (h *hangFirst) Check(ctx context.Context, r lambda.Request) error {
	n := h.checks.Add(1)
	if h.before != nil {
		h.before(n)
	}
	if n <= h.n {
		<-ctx.Done()
		return ctx.Err()
	}
	return h.fakeInvoker.Check(ctx, r)
}

// A check the endpoint does not answer within CheckTimeout refused
// nothing, and ran nothing: it is made again as a throttled one is, and
// the function starts once a check is answered. Such a check used to
// record StartLambdaFunctionFailed at once, with cause
// ASSUME_ROLE_FAILED, telling the decider its role was wrong.
func TestCheckNotAnsweredIsRetried(t *testing.T) {
	f := newFixture(t, "fn")
	iv := &hangFirst{n: 1, fakeInvoker: &fakeInvoker{answer: func(r lambda.Request) (lambda.Response, error) {
		return lambda.Response{Payload: []byte(`"done"`)}, nil
	}}}
	evs := f.runLoop(lambda.New(lambda.Options{Runs: f.rs, Store: f.db, Invoker: iv, CheckTimeout: 50 * time.Millisecond,
		FirstThrottleRetry: 10 * time.Millisecond, MaxThrottleRetry: 20 * time.Millisecond}), 1)
	if sf := find(evs, api.EventTypeStartLambdaFunctionFailed); len(sf) != 0 {
		t.Fatalf("StartLambdaFunctionFailed, message %q; want the check made again", sf[0].StartLambdaFunctionFailedEventAttributes.Message)
	}
	if c := find(evs, api.EventTypeLambdaFunctionCompleted); len(c) != 1 {
		t.Fatalf("%d LambdaFunctionCompleted events, want 1", len(c))
	}
	if n := iv.checks.Load(); n != 2 {
		t.Errorf("%d checks, want 2", n)
	}
}

// A check whose connection broke before the endpoint answered (here it
// hangs up once it has read the request) refused nothing, and a check runs
// nothing: it is made again, and the function starts once a check passes.
// It used to record StartLambdaFunctionFailed at once, with cause
// ASSUME_ROLE_FAILED.
func TestCheckCutOffIsRetried(t *testing.T) {
	var hungUp atomic.Bool
	e := &endpoint{}
	hangUp := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Invocation-Type") == "DryRun" && hungUp.CompareAndSwap(false, true) {
			io.Copy(io.Discard, r.Body)
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		e.ServeHTTP(w, r)
	})
	noAWSConfig(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	srv := httptest.NewServer(hangUp)
	defer srv.Close()
	iv, err := awslambda.New(context.Background(), awslambda.Options{Endpoint: srv.URL, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, "fn")
	evs := f.runLoop(f.quickLoop(iv), 1)
	if sf := find(evs, api.EventTypeStartLambdaFunctionFailed); len(sf) != 0 {
		t.Fatalf("StartLambdaFunctionFailed, message %q; want the check made again", sf[0].StartLambdaFunctionFailedEventAttributes.Message)
	}
	if c := find(evs, api.EventTypeLambdaFunctionCompleted); len(c) != 1 {
		t.Fatalf("%d LambdaFunctionCompleted events, want 1", len(c))
	}
	if checks, invokes := e.counts(); !hungUp.Load() || checks != 1 || invokes != 1 {
		t.Errorf("hung up %v, then %d checks and %d invocations; want true, 1 and 1", hungUp.Load(), checks, invokes)
	}
}
