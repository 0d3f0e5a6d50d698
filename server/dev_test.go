package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
	s, err := Open(ctx, Config{Dev: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Start()
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
