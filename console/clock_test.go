package console_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/swfdtest"
)

// waitUntil waits, up to 20 s of real time, for cond.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// dump logs a run's history with each event's time from t0.
func dump(t *testing.T, evs []api.HistoryEvent, t0 time.Time) {
	t.Helper()
	for _, e := range evs {
		t.Logf("%d %s at +%v", e.EventID, e.EventType, e.EventTimestamp.Sub(t0))
	}
}

// A console action made while a manual clock moves is decided and
// committed before the move or after it, never at an instant on the way,
// as an API call is: the signal sent from the console as a move of an
// hour fires twenty timers is dated when the move began or when it ended,
// and the run's history never goes back in time (a timer of the move
// fired after the signal, dated earlier than it). Without the hold the
// signal landed between two of the move's timers, dated a few seconds
// into the hour.
func TestConsoleActionIsNotMadeDuringAMove(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	w := newWeb(t, f.srv.URL)
	ctl := f.srv.Server.Clock
	for round := range 30 {
		wid := fmt.Sprintf("order-%d", round)
		ex := f.startRun("orders", wid, `{}`)
		ds := []api.Decision{timer("day", "86400")}
		for i := 1; i <= 20; i++ {
			ds = append(ds, timer(fmt.Sprintf("t%d", i), fmt.Sprint(i)))
		}
		f.decide("orders", ds...)
		ep := execPath("orders", ex)
		if code, _ := w.get(ep); code != http.StatusOK {
			t.Fatalf("the execution page: %d", code)
		}
		from := f.srv.Now()
		var moved clock.Moved
		var moveErr error
		var wg sync.WaitGroup
		wg.Go(func() { moved, moveErr = ctl.Advance(context.Background(), time.Hour) })
		// Send the signal once the move is on its way.
		waitUntil(t, "the move to begin", func() bool { return f.srv.Now().After(from) })
		code, body, _ := w.post(ep+"/signal", url.Values{"signalName": {"ring"}})
		wg.Wait()
		if moveErr != nil {
			t.Fatal(moveErr)
		}
		if code != http.StatusSeeOther {
			t.Fatalf("round %d: the signal: %d %.300s", round, code, body)
		}
		evs := f.events("orders", ex)
		var last time.Time
		for _, e := range evs {
			at := e.EventTimestamp.Time
			if at.Before(last) {
				dump(t, evs, from)
				t.Fatalf("round %d: event %d %s dated +%v, after one dated +%v", round, e.EventID, e.EventType, at.Sub(from), last.Sub(from))
			}
			last = at
			if e.EventType == api.EventTypeWorkflowExecutionSignaled && !at.Equal(from) && !at.Equal(moved.Now) {
				dump(t, evs, from)
				t.Fatalf("round %d: the console's signal dated +%v, during the move of an hour; want it before (+0s) or after (+1h)", round, at.Sub(from))
			}
		}
		f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: wid}))
	}
}

// With a skip clock a console action counts as a call being served: the
// clock does not jump while one is decided and committed, and jumps once
// it has ended and the run is idle. A signal sent from the console as the
// decider answers leaves a decision task scheduled, so the clock must not
// have jumped to the run's hour-long timer; without the hold it could
// jump between the decider's answer and the signal's commit, with the
// signal's decision task still to come. Once the decider has answered
// that task too, the clock jumps to the timer while console pages are
// being read, each read also held: the end of each wakes the timer loop,
// which would otherwise sleep the real hour after a jump put off by one.
func TestConsoleActionHoldsASkipClock(t *testing.T) {
	srv := swfdtest.New(t, swfdtest.WithClock(clock.Skip))
	f := &fixture{t: t, ctx: context.Background(), srv: srv, svc: srv.Server.Service}
	f.register("orders")
	w := newWeb(t, f.srv.URL)
	// Every call goes through the HTTP API, held as a call is: the test's
	// own calls made to the service directly are not.
	ctx, c := context.Background(), srv.Client()
	for round := range 20 {
		nap := fmt.Sprintf("nap-%d", round)
		run, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("orders"), WorkflowId: aws.String(fmt.Sprintf("order-%d", round)),
			WorkflowType: &types.WorkflowType{Name: aws.String("process-order"), Version: aws.String("1")}})
		if err != nil {
			t.Fatal(err)
		}
		ex := api.WorkflowExecution{WorkflowID: fmt.Sprintf("order-%d", round), RunID: aws.ToString(run.RunId)}
		ep := execPath("orders", ex)
		if code, _ := w.get(ep); code != http.StatusOK {
			t.Fatalf("the execution page: %d", code)
		}
		fired := func() bool {
			for _, e := range f.events("orders", ex) {
				if e.EventType == api.EventTypeTimerFired && e.TimerFiredEventAttributes.TimerID == nap {
					return true
				}
			}
			return false
		}
		decide := func(ds ...types.Decision) {
			t.Helper()
			task, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("orders"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
			if err != nil || aws.ToString(task.TaskToken) == "" {
				dump(t, f.events("orders", ex), time.Time{})
				t.Fatalf("round %d: poll: no decision task, %v", round, err)
			}
			if _, err := c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: ds}); err != nil {
				t.Fatal(err)
			}
		}
		var code int
		var body string
		var wg sync.WaitGroup
		wg.Go(func() { code, body, _ = w.post(ep+"/signal", url.Values{"signalName": {"ring"}}) })
		decide(types.Decision{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{
			TimerId: aws.String(nap), StartToFireTimeout: aws.String("3600")}})
		wg.Wait()
		if code != http.StatusSeeOther {
			t.Fatalf("round %d: the signal: %d %.300s", round, code, body)
		}
		// Read console pages while the decider answers that task; the run
		// is idle then, and the clock jumps to the timer.
		stop := make(chan struct{})
		var rg sync.WaitGroup
		rg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if resp, err := http.Get(f.srv.URL + ep); err == nil {
					resp.Body.Close()
				}
			}
		})
		decide()
		waitUntil(t, nap+" to fire at a jump of the clock", func() bool { return fired() })
		close(stop)
		rg.Wait()
		// The clock jumped only with no decision task to come: the
		// timer never fired after a decision task was scheduled and
		// before it was started.
		evs := f.events("orders", ex)
		var scheduled *api.HistoryEvent
		for i, e := range evs {
			switch e.EventType {
			case api.EventTypeDecisionTaskScheduled:
				scheduled = &evs[i]
			case api.EventTypeDecisionTaskStarted:
				scheduled = nil
			case api.EventTypeTimerFired:
				if scheduled != nil {
					dump(t, evs, evs[0].EventTimestamp.Time)
					t.Fatalf("round %d: the clock jumped to %s with decision task %d still to come", round,
						e.TimerFiredEventAttributes.TimerID, scheduled.EventID)
				}
			}
		}
		// Done with the run (it may have timed out already, once idle).
		c.TerminateWorkflowExecution(ctx, &swf.TerminateWorkflowExecutionInput{Domain: aws.String("orders"), WorkflowId: aws.String(ex.WorkflowID)})
	}
}

// A console action that meets a move of the clock waits for it at most
// --call-timeout, as an API call does, and is then refused, undone, with
// ServiceUnavailable, counted as the API counts it: it waited for the
// whole move, however long, and was made after it for a person who may
// have given up on the page and sent the form again.
func TestConsoleActionWaitingForAMoveGivesUp(t *testing.T) {
	f := newFixture(t, withConfig(func(c *server.Config) { c.CallTimeout = 50 * time.Millisecond }))
	f.register("orders")
	ex := f.startRun("orders", "order-1", `{}`)
	w := newWeb(t, f.srv.URL)
	ep := execPath("orders", ex)
	if code, _ := w.get(ep); code != http.StatusOK {
		t.Fatalf("the execution page: %d", code)
	}
	type answer struct {
		code int
		body string
	}
	answered := make(chan answer, 1)
	var got *answer
	errHeld := errors.New("held")
	err := f.srv.Server.Clock.Exclusive(func() error {
		go func() {
			code, body, _ := w.post(ep+"/signal", url.Values{"signalName": {"ring"}})
			answered <- answer{code, body}
		}()
		select {
		case a := <-answered:
			got = &a
		case <-time.After(20 * time.Second):
			t.Error("the console's signal was still waiting for the move after 20 s; want it refused after the call timeout (50 ms)")
		}
		return errHeld
	})
	if !errors.Is(err, errHeld) {
		t.Fatal(err)
	}
	if got == nil {
		a := <-answered
		got = &a
	}
	if got.code != http.StatusServiceUnavailable || !strings.Contains(got.body, "ServiceUnavailable") || !strings.Contains(got.body, "clock") {
		t.Errorf("the console's signal during the move: %d %.2000s; want 503 ServiceUnavailable, saying the clock was moving", got.code, got.body)
	}
	for _, e := range f.events("orders", ex) {
		if e.EventType == api.EventTypeWorkflowExecutionSignaled {
			t.Fatal("the signal refused was recorded")
		}
	}
	metrics := get(t, f.srv.URL+"/metrics")
	wantIn(t, "metrics", metrics, `swfd_api_calls_total{operation="SignalWorkflowExecution",outcome="ServiceUnavailable"} 1`)
}
