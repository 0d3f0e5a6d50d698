package swfdtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/swfdtest"
)

// A call made directly on Server.Service skips the HTTP API, where a call
// is kept apart from moves of the clock; between Hold and its release a
// move asked for from another goroutine waits, so the call's events are
// dated before it and its timers fire after it, at their own times. Hold
// used not to exist: such a call could meet a move halfway.
func TestHoldKeepsMovesOffDirectCalls(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := swfdtest.New(t, swfdtest.StartAt(t0))
	srv.RegisterDomain("orders", swfdtest.WorkflowType{Name: "order", Version: "1", Execution: time.Minute})
	ctx := context.Background()

	release := srv.Hold()
	moved := make(chan clock.Moved, 1)
	go func() {
		m, err := srv.Server.Clock.Advance(ctx, time.Hour)
		if err != nil {
			t.Errorf("advance: %v", err)
		}
		moved <- m
	}()
	run, err := srv.Server.Service.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{
		Domain: "orders", WorkflowID: "held", WorkflowType: api.WorkflowType{Name: "order", Version: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-moved:
		t.Fatalf("the clock moved to %s while held", m.Now)
	default:
	}
	release()
	if m := <-moved; !m.Now.Equal(t0.Add(time.Hour)) || m.Fired != 1 {
		t.Errorf("move: now %s, %d fired; want %s and the execution's timeout", m.Now, m.Fired, t0.Add(time.Hour))
	}
	hist, err := srv.Server.Service.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{
		Domain: "orders", Execution: api.WorkflowExecution{WorkflowID: "held", RunID: run.RunID}})
	if err != nil {
		t.Fatal(err)
	}
	first, last := hist.Events[0], hist.Events[len(hist.Events)-1]
	if !first.EventTimestamp.Time.Equal(t0) || last.EventType != api.EventTypeWorkflowExecutionTimedOut || !last.EventTimestamp.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("history starts %s at %s and ends %s at %s; want a start at %s and the timeout at %s",
			first.EventType, first.EventTimestamp.Time, last.EventType, last.EventTimestamp.Time, t0, t0.Add(time.Minute))
	}

	// With the real clock there is nothing to hold.
	real := swfdtest.New(t, swfdtest.WithClock(clock.Real))
	real.Hold()()
}

// Hold keeps the server from being reset, so it may be taken beside a
// Reset made from another goroutine: it holds the clock of the engine in
// use when it returns, and that engine stays in use until the release.
// Hold and Advance used to read the Server field a reset rewrites, without
// a lock (a data race, which -race reports every run): Hold could so hold
// the clock of the engine a reset was replacing, which held nothing, and
// Advance could move the clock of the engine a reset had dropped, failing
// the test with "store is closed".
func TestHoldBesideReset(t *testing.T) {
	srv := swfdtest.New(t)
	ctx := context.Background()
	stop := make(chan struct{})
	resets := make(chan struct{})
	go func() {
		defer close(resets)
		for {
			select {
			case <-stop:
				return
			default:
				srv.Reset()
			}
		}
	}()
	for i := 0; i < 50; i++ {
		release := srv.Hold()
		moved := make(chan struct{})
		go func() {
			defer close(moved)
			srv.Advance(time.Millisecond)
		}()
		// A direct call on the engine, as a test holds the clock for.
		for k := 0; k < 3; k++ {
			if _, err := srv.Server.Service.ListDomains(ctx, &api.ListDomainsInput{RegistrationStatus: api.RegistrationStatusRegistered}); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-moved:
			t.Fatalf("round %d: the clock moved while held", i)
		default:
		}
		release()
		<-moved
	}
	close(stop)
	<-resets
}
