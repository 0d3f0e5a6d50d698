package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/swfd/swfd/frontend"
)

// The web console's requests count in the API's bound on request bytes
// decoded at once: with the bound taken, a console page whose operation
// (ListDomains) would go past it is answered 503 ServiceUnavailable, and
// served once the bytes are let go.
func TestConsoleCountsInTheAPIDecodingBound(t *testing.T) {
	s, _ := openSQLiteServer(t, t.TempDir())
	page := func() (int, string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/console/", nil)
		req.Host = "127.0.0.1" // the console without --auth answers only local names
		s.Handler.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	if code, body := page(); code != http.StatusOK {
		t.Fatalf("the console's first page: %d %s", code, body)
	}
	release, err := s.current().api.HoldDecoding(context.Background(), "", frontend.DefaultMaxDecoding)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := page(); code != http.StatusServiceUnavailable || !strings.Contains(body, "ServiceUnavailable") {
		t.Errorf("the console's page with the API's bound taken: %d, want 503 ServiceUnavailable\n%.500s", code, body)
	}
	release()
	if code, body := page(); code != http.StatusOK {
		t.Errorf("the console's page once the bytes are let go: %d\n%.500s", code, body)
	}
}
