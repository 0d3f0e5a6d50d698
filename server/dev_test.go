package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/promtest"
)

// inFlight reports how many requests e is serving.
func (e *engine) inFlight() int {
	e.calls.mu.Lock()
	defer e.calls.mu.Unlock()
	return e.calls.n
}

// A reset waits for the SWF calls being served: one still reading its
// request when the reset is asked for finishes first, on the old engine,
// and the reset returns only after it has been answered. Without that, a
// call could be answered after the reset had returned while its effects
// went to the store the reset had dropped.
func TestResetWaitsForCallsInProgress(t *testing.T) {
	ctx := context.Background()
	s := startDev(t)
	old := s.current()

	// A RegisterDomain whose body has not all arrived: the handler has
	// begun and waits for the rest.
	body, send := io.Pipe()
	// Registered after the server's Close, so it runs first: a test that
	// fails while the call is held must not leave Close waiting for it.
	t.Cleanup(func() { send.Close() })
	req := httptest.NewRequest(http.MethodPost, "/", body)
	req.Header.Set("X-Amz-Target", "SimpleWorkflowService.RegisterDomain")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	rec := httptest.NewRecorder()
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		s.Handler.ServeHTTP(rec, req)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for old.inFlight() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the call never reached the engine")
		}
		time.Sleep(time.Millisecond)
	}

	reset := make(chan error, 1)
	go func() { reset <- s.Reset(ctx) }()
	// A correct server never lets the reset through while the call is
	// held, so this bounded wait cannot fail it; a server that did would
	// be caught here.
	select {
	case err := <-reset:
		t.Fatalf("Reset returned (%v) while a call was still being served", err)
	case <-answered:
		t.Fatal("the call was answered before its body had arrived")
	case <-time.After(200 * time.Millisecond):
	}
	if s.current() != old {
		t.Fatal("the engine was replaced while a call was still being served")
	}

	if _, err := io.Copy(send, strings.NewReader(`{"name":"shop","workflowExecutionRetentionPeriodInDays":"1"}`)); err != nil {
		t.Fatal(err)
	}
	send.Close()
	<-answered
	if rec.Code != http.StatusOK {
		t.Fatalf("RegisterDomain: %d %s", rec.Code, rec.Body)
	}
	select {
	case err := <-reset:
		if err != nil {
			t.Fatalf("Reset: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Reset did not return after the call was answered")
	}
	if s.current() == old {
		t.Fatal("Reset returned without replacing the engine")
	}
	// The domain was registered before the reset, so the reset dropped
	// it.
	if _, err := s.Store.GetDomain(ctx, "shop"); err == nil {
		t.Fatal("the domain registered before the reset is still there")
	}
}

// A --dev reset drops the series of the domains it removed: a test suite
// that resets between tests with a domain each would otherwise grow the
// domain-labelled counters without bound, past the account's 100 domains
// that bound them.
func TestResetDropsDomainSeries(t *testing.T) {
	ctx := context.Background()
	s := startDev(t)
	domains := func() map[string]bool {
		t.Helper()
		rec := httptest.NewRecorder()
		s.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		fams, err := promtest.Parse(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, name := range []string{"swfd_executions_started_total", "swfd_executions_closed_total"} {
			for _, m := range fams[name].GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "domain" {
						out[l.GetValue()] = true
					}
				}
			}
		}
		return out
	}
	for _, d := range []string{"first", "second"} {
		svc := s.current().svc
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(svc.RegisterDomain(ctx, &api.RegisterDomainInput{Name: d, WorkflowExecutionRetentionPeriodInDays: "1"}))
		must(svc.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: d, Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
			DefaultExecutionStartToCloseTimeout: "60", DefaultTaskStartToCloseTimeout: "10", DefaultChildPolicy: api.ChildPolicyTerminate}))
		_, err := svc.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: d, WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
		must(err)
		must(svc.TerminateWorkflowExecution(ctx, &api.TerminateWorkflowExecutionInput{Domain: d, WorkflowID: "w"}))
		if got := domains(); !got[d] {
			t.Fatalf("no series of domain %s after an execution started and closed there: %v", d, got)
		}
		must(s.Reset(ctx))
		if got := domains(); len(got) != 0 {
			t.Errorf("after a reset, series of the domains it removed: %v", got)
		}
	}
}

// startDev opens and starts a server as --dev does (in memory, every
// default), closed when the test ends.
func startDev(t *testing.T) *Server {
	t.Helper()
	s, err := Open(context.Background(), Config{Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Start()
	return s
}
