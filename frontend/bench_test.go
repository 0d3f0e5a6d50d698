package frontend_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/swfd/swfd/frontend"
)

// BenchmarkServeSmallCall is the handler's cost for a small non-poll call
// (a decision batch of 10), many at once: what the bound on request bytes
// adds to each call is measured against it.
func BenchmarkServeSmallCall(b *testing.B) {
	fe := &frontend.Handler{Service: sinkService{}}
	body := []byte(fill(`{"taskToken":"t","decisions":[`, `{"decisionType":"CancelTimer","cancelTimerDecisionAttributes":{"timerId":"t"}}`, `]}`, 800))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			req.Header.Set("X-Amz-Target", "SimpleWorkflowService.RespondDecisionTaskCompleted")
			w := httptest.NewRecorder()
			fe.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}
