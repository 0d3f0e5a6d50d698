package console

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// A POST's Origin must be this console's: its host, and a scheme of http
// or https (https only for a request that came over TLS, where a plain
// HTTP page may not post; over plain HTTP an https Origin is a browser
// behind a TLS-terminating proxy).
func TestSameOriginScheme(t *testing.T) {
	for _, c := range []struct {
		url, origin string
		ok          bool
	}{
		{"http://127.0.0.1:7733/console/x", "http://127.0.0.1:7733", true},
		{"http://127.0.0.1:7733/console/x", "https://127.0.0.1:7733", true},
		{"http://127.0.0.1:7733/console/x", "", true},
		{"http://127.0.0.1:7733/console/x", "http://127.0.0.1:7734", false},
		{"http://127.0.0.1:7733/console/x", "null", false},
		{"http://127.0.0.1:7733/console/x", "ftp://127.0.0.1:7733", false},
		{"http://127.0.0.1:7733/console/x", "chrome-extension://127.0.0.1:7733", false},
		{"https://127.0.0.1:7733/console/x", "https://127.0.0.1:7733", true},
		{"https://127.0.0.1:7733/console/x", "http://127.0.0.1:7733", false},
	} {
		r := httptest.NewRequest("POST", c.url, nil)
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if got := sameOrigin(r); got != c.ok {
			t.Errorf("POST %s with Origin %q: same origin %v, want %v", c.url, c.origin, got, c.ok)
		}
	}
}

// The static files are served; their directory is not listed.
func TestStaticNoListing(t *testing.T) {
	h := New(Config{})
	for path, want := range map[string]int{"/console/static/": http.StatusNotFound, "/console/static/console.js": http.StatusOK} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1"+path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d\n%s", path, rec.Code, want, rec.Body.String())
		}
	}
}
