package frontend_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/swfd/swfd/frontend"
)

// A call that only reads, failing because the storage is unavailable (a
// database that cannot be reached), is answered ServiceUnavailable and
// logged at warn level with words true of it: the line does not say that
// a call that writes was refused.
func TestUnavailableStorageLogOfARead(t *testing.T) {
	var logs lockedBuffer
	h := &frontend.Handler{Service: &fakeService{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"name":"unreachable"}`))
	req.Header.Set("X-Amz-Target", "SimpleWorkflowService.DescribeDomain")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 503 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	logs.mu.Lock()
	out := logs.b.String()
	logs.mu.Unlock()
	if !strings.Contains(out, `level=WARN msg="storage is unavailable: a call failed and nothing of it was applied" op=DescribeDomain`) {
		t.Errorf("the read's failure is not logged as storage unavailable:\n%s", out)
	}
	if strings.Contains(out, "writes") {
		t.Errorf("a call that only reads is logged as one that writes:\n%s", out)
	}
}
