package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The SWF API answers a call whatever its path: a POST with an X-Amz-Target
// to /a/../b, //x or /a/./b is the call a POST to / or to /anything is.
// Those paths were answered 307 Temporary Redirect to the cleaned path by
// net/http's ServeMux, which no SDK follows for a POST, though /anything
// was served; and a redirect could lead a call to swfd's own paths. A
// path that is not clean reaches neither the web console nor swfd's own
// API: it is the SWF API's.
func TestUncleanPathsAreTheAPIs(t *testing.T) {
	s := startDev(t)
	call := func(method, path, target, body string) (int, http.Header, string) {
		t.Helper()
		req := httptest.NewRequest(method, "http://127.0.0.1:7733/", strings.NewReader(body))
		req.URL.Path, req.RequestURI = path, path
		if target != "" {
			req.Header.Set("X-Amz-Target", "SimpleWorkflowService."+target)
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		}
		rec := httptest.NewRecorder()
		s.Handler.ServeHTTP(rec, req)
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, rec.Header(), string(b)
	}
	if code, _, body := call("POST", "/", "RegisterDomain", `{"name":"d1","workflowExecutionRetentionPeriodInDays":"1"}`); code != 200 {
		t.Fatalf("RegisterDomain: %d %s", code, body)
	}
	const list = `{"registrationStatus":"REGISTERED"}`
	_, _, want := call("POST", "/", "ListDomains", list)
	if !strings.Contains(want, `"name":"d1"`) {
		t.Fatalf("ListDomains at /: %s", want)
	}
	for _, p := range []string{"/anything", "/a/../b", "//x", "/a/./b", "/..", "/a/..", "/swfd/../x", "/console/../", "/a/../swfd/dev/reset", "/x/../console/", "/a//b/"} {
		code, h, body := call("POST", p, "ListDomains", list)
		if code != 200 || body != want || h.Get("Location") != "" {
			t.Errorf("POST %s: %d (Location %q) %s; want 200 %s", p, code, h.Get("Location"), body, want)
		}
	}
	// A call to /console or /swfd, the console's and swfd's own API's
	// subtrees without their slash, was redirected to the subtree too.
	for _, p := range []string{"/console", "/swfd"} {
		if code, h, body := call("POST", p, "ListDomains", list); code != 200 || body != want {
			t.Errorf("POST %s: %d (Location %q) %s; want 200 %s", p, code, h.Get("Location"), body, want)
		}
	}
	// Nothing was reset through /a/../swfd/dev/reset.
	if _, _, body := call("POST", "/", "ListDomains", list); body != want {
		t.Errorf("after the calls: %s; want %s", body, want)
	}
	// Other methods are answered at such a path as at any other path.
	_, _, wantGet := call("GET", "/anything", "ListDomains", "")
	for _, p := range []string{"/a/../b", "//x"} {
		if code, h, body := call("GET", p, "ListDomains", ""); code != 400 || body != wantGet || h.Get("Location") != "" {
			t.Errorf("GET %s: %d (Location %q) %s; want 400 %s", p, code, h.Get("Location"), body, wantGet)
		}
	}
	// Clean paths are served as before: swfd's own API, the console, health.
	if code, _, body := call("GET", "/healthz", "", ""); code != 200 || body != "ok\n" {
		t.Errorf("GET /healthz: %d %q", code, body)
	}
	if code, _, body := call("GET", "/swfd/clock", "", ""); code != 200 || !strings.Contains(body, "now") {
		t.Errorf("GET /swfd/clock: %d %s", code, body)
	}
	if code, _, _ := call("GET", "/console/", "", ""); code != 200 {
		t.Errorf("GET /console/: %d", code)
	}
	if code, h, _ := call("GET", "/console", "", ""); code/100 != 3 || h.Get("Location") != "/console/" {
		t.Errorf("GET /console: %d (Location %q); want a redirect to /console/", code, h.Get("Location"))
	}
}

// A path is judged as sent, with its escapes, as net/http's mux judges it:
// a console page's path whose run id holds "//" or a workflow id ".." or
// "a/./b" (sent as %2F%2F, %2E%2E, a%2F.%2Fb) is clean, and goes to the
// console, not to the SWF API. It went to the API, which answered its form
// posts (a signal, a terminate) UnknownOperationException, when a run id
// came out with "//" in it.
func TestEscapedSlashesAndDotsKeepTheirPath(t *testing.T) {
	s := startDev(t)
	for _, p := range []string{"/console/d/orders/w/order-1/ab%2F%2Fcd", "/console/d/orders/w/%2E%2E/r", "/console/d/orders/w/a%2F.%2Fb/r"} {
		req := httptest.NewRequest("POST", "http://127.0.0.1:7733"+p+"/signal", strings.NewReader("signalName=ring"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		s.Handler.ServeHTTP(rec, req)
		if b := rec.Body.String(); strings.Contains(b, "UnknownOperationException") || rec.Header().Get("Location") != "" && rec.Code == http.StatusTemporaryRedirect {
			t.Errorf("POST %s/signal went to the SWF API or was redirected: %d %.200s", p, rec.Code, b)
		}
	}
}
