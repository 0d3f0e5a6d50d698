package console_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/console"
)

// signInConsole is a console with sign-in over a fixture's service, whose
// sessions expire by a clock the test moves (the returned advance).
func signInConsole(t *testing.T, f *fixture) (base string, advance func(time.Duration)) {
	t.Helper()
	cfg, err := auth.ParseConfig([]byte(authFile))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	h := console.New(console.Config{API: f.svc, Inspect: f.srv.Server.Service, Keys: auth.NewKeyring(cfg),
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL, func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
}

// act starts an execution from the console and returns the link to the
// page it went back to, with its notice.
func (w *web) act(wid string) string {
	w.t.Helper()
	w.get("/console/d/orders/start")
	code, body, hdr := w.post("/console/d/orders/start", url.Values{"workflowId": {wid}, "type": {"process-order|1"}})
	if code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "msg=") {
		w.t.Fatalf("start %s: %d to %q %s", wid, code, hdr.Get("Location"), trunc(body))
	}
	return hdr.Get("Location")
}

var nextFieldRE = regexp.MustCompile(`name="next" value="([^"]*)"`)

// throughSignIn follows a link signed out, as a browser does: to the
// sign-in page with the link as its destination, signs in there with a
// key, and follows the sign-in to its destination, whose page it returns.
func (w *web) throughSignIn(link, keyID, secret string) (dest, body string) {
	w.t.Helper()
	req, _ := http.NewRequest("GET", w.base+link, nil)
	code, _, hdr := w.do(req)
	login := hdr.Get("Location")
	if code != http.StatusSeeOther || !strings.HasPrefix(login, "/console/login?next=") {
		w.t.Fatalf("signed out, %s: %d to %q, want the sign-in page", link, code, login)
	}
	u, _ := url.Parse(login)
	next := u.Query().Get("next")
	if next != link {
		w.t.Fatalf("sign-in's destination %q, want %q", next, link)
	}
	_, page := w.get(login)
	if m := nextFieldRE.FindStringSubmatch(page); m == nil || html.UnescapeString(m[1]) != next {
		w.t.Fatalf("the sign-in form's destination %q, want %q", m, next)
	}
	code, _, hdr = w.post("/console/login", url.Values{"accessKeyId": {keyID}, "secretAccessKey": {secret}, "next": {next}})
	if code != http.StatusSeeOther {
		w.t.Fatalf("sign in as %s: %d", keyID, code)
	}
	dest = hdr.Get("Location")
	if p, _, _ := strings.Cut(dest, "?"); p != strings.SplitN(link, "?", 2)[0] {
		w.t.Fatalf("signed in to %q, want the page of %q", dest, link)
	}
	_, body = w.get(dest)
	return dest, body
}

// The notice an action left on its page survives signing in again: a
// browser whose session ended (idle for over an hour) follows the link to
// that page, signs in with the same key, and sees the notice. It is the
// only one that does: the notice is dropped for another key on the same
// browser, for another browser (a link made for someone else), for a
// browser that had no session, and for text a link made up.
func TestNoticeThroughSignIn(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	base, advance := signInConsole(t, f)
	const op, opSecret = "AKIAOPERATOR0000001", "operator-secret"
	const viewer, viewerSecret = "AKIAVIEWER000000001", "viewer-secret"
	const notice = `class="notice" role="status">Execution started.<`

	acting, other, elsewhere := newWeb(t, base), newWeb(t, base), newWeb(t, base)
	acting.signIn(op, opSecret)
	other.signIn(op, opSecret)
	elsewhere.signIn(op, opSecret)
	mine, others := acting.act("mine"), other.act("others")
	if _, body := acting.get(mine); !strings.Contains(body, notice) {
		t.Fatalf("the notice is not shown right after the action:\n%s", trunc(body))
	}
	advance(61 * time.Minute) // every session has been idle too long

	dest, body := acting.throughSignIn(mine, op, opSecret)
	wantIn(t, "the acting browser, signed in again, at "+dest, body, notice)

	for _, c := range []struct {
		what         string
		w            *web
		link         string
		key, secrets string
	}{
		{"the same browser signed in with another key", other, others, viewer, viewerSecret},
		{"another browser following the acting browser's link", elsewhere, mine, op, opSecret},
		{"a browser that had no session", newWeb(t, base), mine, op, opSecret},
		{"a made-up notice", newWeb(t, base), "/console/d/orders/executions?msg=" + url.QueryEscape("Security notice: sign in at https://evil.example") +
			"&sig=AAAAAAAAAAAAAAAAAAAAAA", op, opSecret},
	} {
		dest, body := c.w.throughSignIn(c.link, c.key, c.secrets)
		wantNotIn(t, c.what+" at "+dest, body, `class="notice"`, "Security notice")
		if strings.Contains(dest, "msg=") || strings.Contains(dest, "sig=") {
			t.Errorf("%s: signed in to %q, which still carries the notice", c.what, dest)
		}
	}
}
