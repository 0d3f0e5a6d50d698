package frontend_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/frontend"
)

// stuckService's calls wait on a store that does not answer: until their
// context ends, with its error, as a store's reads do. Its long poll
// answers at once, saying whether its context had a deadline.
type stuckService struct {
	api.Service
	pollDeadline chan bool
}

func (stuckService) DescribeDomain(ctx context.Context, in *api.DescribeDomainInput) (*api.DomainDetail, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (s stuckService) PollForActivityTask(ctx context.Context, in *api.PollForActivityTaskInput) (*api.ActivityTask, error) {
	_, ok := ctx.Deadline()
	s.pollDeadline <- ok
	return &api.ActivityTask{}, nil
}

func call(t *testing.T, h http.Handler, op, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "SimpleWorkflowService."+op)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// A call that waits on a store that has stopped answering is answered, once
// CallTimeout has passed, with a ServiceUnavailable that SDKs retry,
// instead of waiting for the store without end (so that the SDK's own read
// timeout sends the call again while the first attempt still waits). Long
// polls, which wait for work, are not cut short.
func TestCallTimeout(t *testing.T) {
	svc := stuckService{pollDeadline: make(chan bool, 1)}
	h := &frontend.Handler{Service: svc, CallTimeout: 200 * time.Millisecond}
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() { done <- call(t, h, "DescribeDomain", `{"name":"d"}`) }()
	var rec *httptest.ResponseRecorder
	select {
	case rec = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("a call waiting on the store is still unanswered after 20s")
	}
	var fault struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &fault); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusServiceUnavailable || !strings.HasSuffix(fault.Type, "ServiceUnavailable") {
		t.Fatalf("answered %d %s %q; want 503 ServiceUnavailable", rec.Code, fault.Type, fault.Message)
	}

	if rec := call(t, h, "PollForActivityTask", `{"domain":"d","taskList":{"name":"l"}}`); rec.Code != http.StatusOK {
		t.Fatalf("the long poll: %d %s", rec.Code, rec.Body)
	}
	if <-svc.pollDeadline {
		t.Fatal("a long poll was given CallTimeout's deadline")
	}
}

// A write that met a row another writer held locked (swfd.ErrLocked) was
// not applied: it is answered ServiceUnavailable, which SDKs retry.
func TestLockedIsServiceUnavailable(t *testing.T) {
	f := frontend.FaultFor(fmtWrap(swfd.ErrLocked))
	if f == nil || f.Code != api.ServiceUnavailable {
		t.Fatalf("fault for ErrLocked: %+v", f)
	}
	f = frontend.FaultFor(fmtWrap(context.DeadlineExceeded))
	if f == nil || f.Code != api.ServiceUnavailable {
		t.Fatalf("fault for a deadline: %+v", f)
	}
}

// A write whose store lost its database once the write may have been
// applied, and could not learn whether it was (swfd.ErrOutcomeUnknown), is
// answered ServiceUnavailable, which SDKs retry, saying that the outcome
// is unknown; before, it was a 500 InternalFailure.
func TestOutcomeUnknownIsServiceUnavailable(t *testing.T) {
	f := frontend.FaultFor(fmtWrap(swfd.ErrOutcomeUnknown))
	if f == nil || f.Code != api.ServiceUnavailable || !strings.Contains(f.Message, "unknown") {
		t.Fatalf("fault for ErrOutcomeUnknown: %+v", f)
	}
}
