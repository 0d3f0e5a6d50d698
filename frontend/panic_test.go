package frontend_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/swfd/swfd/frontend"
)

// lockedBuffer is a log destination safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestPanicLogsStack checks that a panic serving a request is logged with
// its stack, and that neither the panic nor the stack reaches the client.
func TestPanicLogsStack(t *testing.T) {
	var logs lockedBuffer
	h := &frontend.Handler{Service: &fakeService{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"name":"boom"}`))
	req.Header.Set("X-Amz-Target", "SimpleWorkflowService.DescribeDomain")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 500 {
		t.Fatalf("status %d", w.Code)
	}
	if body := w.Body.String(); strings.Contains(body, "exploded") || strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") {
		t.Errorf("the panic reached the client: %s", body)
	}
	logs.mu.Lock()
	out := logs.b.String()
	logs.mu.Unlock()
	if !strings.Contains(out, "panic serving request") || !strings.Contains(out, "stack=") || !strings.Contains(out, "frontend_test.go") {
		t.Errorf("panic logged without its stack:\n%s", out)
	}
}
