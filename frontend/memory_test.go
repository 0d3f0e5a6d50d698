package frontend_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/frontend"
)

// sinkService accepts decision batches and tags, keeping nothing; a
// RegisterDomain waits until its ctx ends or release is closed, telling
// started first.
type sinkService struct {
	api.Service
	started chan struct{}
	release chan struct{}
}

func (sinkService) RespondDecisionTaskCompleted(ctx context.Context, in *api.RespondDecisionTaskCompletedInput) error {
	return nil
}

func (sinkService) TagResource(ctx context.Context, in *api.TagResourceInput) error { return nil }

func (s sinkService) RegisterDomain(ctx context.Context, in *api.RegisterDomainInput) error {
	s.started <- struct{}{}
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return nil
}

// fill repeats elem, separated by commas, between prefix and suffix, until
// the body is about size bytes.
func fill(prefix, elem, suffix string, size int) string {
	n := (size - len(prefix) - len(suffix)) / (len(elem) + 1)
	return prefix + strings.TrimSuffix(strings.Repeat(elem+",", n), ",") + suffix
}

// maxServedPerByte bounds what serving a request allocates, per byte of its
// body: reading it (once), decoding it (api.MaxDecodeRatio for its values,
// a few more for the input they are stored in).
const maxServedPerByte = 18

// Bodies of 1 MB shaped to make the decoder allocate are refused with a
// SerializationException naming where (a list of empty objects), or decoded
// without keeping what the shape does not hold (the same list in a member
// the operation does not have), and serving any of them allocates at most
// maxServedPerByte per byte; the densest valid requests are served.
func TestAmplifyingBodiesAreBounded(t *testing.T) {
	const mb = 1 << 20
	fe := &frontend.Handler{Service: sinkService{}}
	srv := httptest.NewServer(fe)
	defer srv.Close()
	for _, tc := range []struct {
		name, op, body string
		status         int
		wireType, msg  string
	}{
		{"empty decisions", "RespondDecisionTaskCompleted", fill(`{"taskToken":"t","decisions":[`, `{}`, `]}`, mb),
			400, "com.amazon.coral.service#SerializationException", "Request body holds too many values for its size at 'decisions."},
		{"empty tags", "TagResource", fill(`{"resourceArn":"a","tags":[`, `{}`, `]}`, mb),
			400, "com.amazon.coral.service#SerializationException", "Request body holds too many values for its size at 'tags."},
		{"unknown member of empty objects", "RespondDecisionTaskCompleted", fill(`{"taskToken":"t","x":[`, `{}`, `]}`, mb), 200, "", ""},
		{"unknown member of numbers", "RespondDecisionTaskCompleted", fill(`{"taskToken":"t","x":[`, `0`, `]}`, mb), 200, "", ""},
		{"densest valid tags", "TagResource", fill(`{"resourceArn":"a","tags":[`, `{"key":"a"}`, `]}`, mb), 200, "", ""},
		{"tiny decisions", "RespondDecisionTaskCompleted", fill(`{"taskToken":"t","decisions":[`, `{"decisionType":"CancelTimer"}`, `]}`, mb), 200, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, srv, tc.op, tc.body)
			if tc.status == 200 {
				if r.status != 200 {
					t.Fatalf("status %d (%s), want 200", r.status, r.body)
				}
			} else if msg := checkFault(t, r, tc.status, tc.wireType); !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q, want it to contain %q", msg, tc.msg)
			}

			// What serving it allocates, in process.
			body := []byte(tc.body)
			serve := func() {
				req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
				req.Header.Set("X-Amz-Target", "SimpleWorkflowService."+tc.op)
				fe.ServeHTTP(httptest.NewRecorder(), req)
			}
			serve()
			var least uint64
			for i := range 3 {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				serve()
				runtime.ReadMemStats(&after)
				if n := after.TotalAlloc - before.TotalAlloc; i == 0 || n < least {
					least = n
				}
			}
			if limit := uint64(maxServedPerByte*len(body) + 256<<10); least > limit {
				t.Errorf("serving %d bytes allocated %d (%.1f per byte), want at most %d", len(body), least, float64(least)/float64(len(body)), limit)
			}
			t.Logf("%d bytes: %.1f allocated per byte", len(body), float64(least)/float64(len(body)))
		})
	}
}

// The request bytes held at once are bounded: a call that would take them
// past MaxBytesInFlight is answered ServiceUnavailable (503) at once, and
// served again once the calls before it have let their bytes go.
func TestBytesInFlightAreBounded(t *testing.T) {
	svc := sinkService{started: make(chan struct{}), release: make(chan struct{})}
	fe := &frontend.Handler{Service: svc, MaxBytesInFlight: 2 * frontend.MaxBodyBytes}
	srv := httptest.NewServer(fe)
	defer srv.Close()

	// Two calls of almost 1 MB each, held in the service.
	big := fill(`{"name":"d","workflowExecutionRetentionPeriodInDays":"1","x":[`, `0`, `]}`, frontend.MaxBodyBytes-64)
	done := make(chan int, 2)
	for range 2 {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(big))
			req.Header.Set("X-Amz-Target", "SimpleWorkflowService.RegisterDomain")
			resp, err := srv.Client().Do(req)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		<-svc.started
	}
	if n := fe.BytesInFlight(); n != int64(2*len(big)) {
		t.Errorf("BytesInFlight = %d with two calls of %d bytes held, want %d", n, len(big), 2*len(big))
	}

	// A third would go past the bound: refused, and its bytes not kept.
	small := `{"name":"d","workflowExecutionRetentionPeriodInDays":"1","description":"` + strings.Repeat("x", 200) + `"}`
	r := post(t, srv, "RegisterDomain", small)
	msg := checkFault(t, r, http.StatusServiceUnavailable, "com.amazon.coral.service#ServiceUnavailable")
	if !strings.Contains(msg, "request bytes") {
		t.Errorf("message %q", msg)
	}

	close(svc.release)
	for range 2 {
		if status := <-done; status != 200 {
			t.Fatalf("a held call: status %d, want 200", status)
		}
	}
	// The held calls let their bytes go once answered; the handler's
	// deferred release runs before the client has its answer, so this
	// needs no wait.
	if n := fe.BytesInFlight(); n != 0 {
		t.Fatalf("BytesInFlight = %d once every call is answered, want 0", n)
	}
	go func() { <-svc.started }()
	if r := post(t, srv, "RegisterDomain", small); r.status != 200 {
		t.Errorf("after the held calls: status %d (%s), want 200", r.status, r.body)
	}
}
