package frontend_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/frontend"
)

// sinkService accepts decision batches and tags, keeping nothing; a
// RegisterDomain or PollForDecisionTask waits until its ctx ends or release
// is closed, telling started first.
type sinkService struct {
	api.Service
	started chan struct{}
	release chan struct{}
}

func (sinkService) RespondDecisionTaskCompleted(ctx context.Context, in *api.RespondDecisionTaskCompletedInput) error {
	return nil
}

func (s sinkService) PollForDecisionTask(ctx context.Context, in *api.PollForDecisionTaskInput) (*api.DecisionTask, error) {
	s.started <- struct{}{}
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return &api.DecisionTask{}, nil
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
// body: reading it (into a buffer that grows, about twice the body in all),
// decoding it (api.MaxDecodeRatio for its values, a few more for the input
// they are stored in).
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

// The request bytes being decoded at once are bounded: a call that would
// take them past MaxDecoding is answered ServiceUnavailable (503) at once,
// taking nothing, and served once the bytes before it are let go.
func TestDecodingIsBounded(t *testing.T) {
	fe := &frontend.Handler{Service: sinkService{}, MaxDecoding: 2 * frontend.MaxBodyBytes}
	srv := httptest.NewServer(fe)
	defer srv.Close()
	release, ok := frontend.Hold(fe, 2*frontend.MaxBodyBytes-100)
	if !ok {
		t.Fatal("Hold refused bytes within the bound")
	}
	body := fill(`{"taskToken":"t","decisions":[`, `{"decisionType":"CancelTimer"}`, `]}`, 200)
	r := post(t, srv, "RespondDecisionTaskCompleted", body)
	if msg := checkFault(t, r, http.StatusServiceUnavailable, "com.amazon.coral.service#ServiceUnavailable"); !strings.Contains(msg, "decoding") {
		t.Errorf("message %q", msg)
	}
	if n := fe.Decoding(); n != 2*frontend.MaxBodyBytes-100 {
		t.Errorf("Decoding = %d after a refused call, want the %d held before it", n, 2*frontend.MaxBodyBytes-100)
	}
	release()
	if r := post(t, srv, "RespondDecisionTaskCompleted", body); r.status != 200 {
		t.Errorf("once the bytes are let go: status %d (%s), want 200", r.status, r.body)
	}
	if n := fe.Decoding(); n != 0 {
		t.Errorf("Decoding = %d once every call is answered, want 0", n)
	}
}

// A body counts from when it has arrived until its call is answered:
// clients that are still sending theirs, or never finish, hold none of the
// bound, nor does a long poll waiting for a task; a call waiting in the
// service holds its bytes, since its decoded input lives as long (300
// decision batches of 780 KB in the service at once took 823 MB, outside
// any bound), and one that would go past the bound meanwhile is refused.
func TestDecodingCountsOnlyWhatIsDecoded(t *testing.T) {
	svc := sinkService{started: make(chan struct{}), release: make(chan struct{})}
	fe := &frontend.Handler{Service: svc, MaxDecoding: 2 * frontend.MaxBodyBytes}
	srv := httptest.NewServer(fe)
	defer srv.Close()

	// Three clients announce bodies of 1 MB and send a little of them.
	for range 3 {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.RespondDecisionTaskCompleted\r\n"+
			"Content-Length: %d\r\n\r\n{\"taskToken\":\"t\",", frontend.MaxBodyBytes)
	}
	done := make(chan int, 3)
	call := func(op, body string) {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
			req.Header.Set("X-Amz-Target", "SimpleWorkflowService."+op)
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
	// A long poll of almost 1 MB waits in the service, holding nothing.
	call("PollForDecisionTask", fill(`{"domain":"d","taskList":{"name":"l"},"x":[`, `0`, `]}`, frontend.MaxBodyBytes-64))
	if n := fe.Decoding(); n != 0 {
		t.Errorf("Decoding = %d with bodies arriving and a long poll waiting, want 0", n)
	}
	// Two calls of almost 1 MB each wait in the service, holding their
	// bytes.
	big := fill(`{"name":"d","workflowExecutionRetentionPeriodInDays":"1","x":[`, `0`, `]}`, frontend.MaxBodyBytes-64)
	call("RegisterDomain", big)
	call("RegisterDomain", big)
	if n := fe.Decoding(); n != 2*int64(len(big)) {
		t.Errorf("Decoding = %d with two calls of %d bytes in the service, want %d", n, len(big), 2*len(big))
	}
	// A body of 1 KB more would go past the bound: refused at once.
	body := fill(`{"taskToken":"t","decisions":[`, `{"decisionType":"CancelTimer"}`, `]}`, 1<<10)
	r := post(t, srv, "RespondDecisionTaskCompleted", body)
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("a call past the bound: status %d (%s), want 503", r.status, r.body)
	}
	close(svc.release)
	for range 3 {
		if status := <-done; status != 200 {
			t.Errorf("a call in the service: status %d, want 200", status)
		}
	}
	// Once answered, the calls' bytes are let go.
	if n := fe.Decoding(); n != 0 {
		t.Errorf("Decoding = %d once every call is answered, want 0", n)
	}
	big = fill(`{"taskToken":"t","decisions":[`, `{"decisionType":"CancelTimer"}`, `]}`, frontend.MaxBodyBytes)
	if r := post(t, srv, "RespondDecisionTaskCompleted", big); r.status != 200 {
		t.Errorf("once the calls are answered: status %d (%s), want 200", r.status, r.body)
	}
}
