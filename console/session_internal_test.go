package console

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/auth"
)

const testAuth = `{"principals": [{"name": "p", "accessKeys": [{"accessKeyId": "AKIATEST00000000001", "secretAccessKey": "s3cret"}],
 "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]}]}`

// A session ends after its lifetime, after its idle time, and as soon as a
// reload of the auth file drops its key.
func TestSessionEnds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(path, []byte(testAuth), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := auth.LoadKeyring(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ss := newSessions(Config{Keys: keys, SessionTTL: 12 * time.Hour, SessionIdle: time.Hour, Now: func() time.Time { return now }})
	p, ok := keys.Authenticate("AKIATEST00000000001", "s3cret")
	if !ok {
		t.Fatal("sign-in refused")
	}
	if _, ok := keys.Authenticate("AKIATEST00000000001", "s3cre"); ok {
		t.Error("a wrong secret signed in")
	}
	rec := httptest.NewRecorder()
	s := ss.begin(rec, httptest.NewRequest("POST", "/console/login", nil), p)
	alive := func() bool {
		req := httptest.NewRequest("GET", "/console/", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: s.id})
		_, _, ok := ss.resolve(httptest.NewRecorder(), req)
		return ok
	}
	for i := range 11 { // used every 59 minutes: alive for 12 hours
		now = now.Add(59 * time.Minute)
		if !alive() {
			t.Fatalf("session ended after %d uses an hour apart", i+1)
		}
	}
	now = now.Add(2 * time.Hour)
	if alive() {
		t.Error("a session past its lifetime is alive")
	}
	s = ss.begin(rec, httptest.NewRequest("POST", "/console/login", nil), p)
	now = now.Add(61 * time.Minute)
	if alive() {
		t.Error("a session idle for over an hour is alive")
	}
	s = ss.begin(rec, httptest.NewRequest("POST", "/console/login", nil), p)
	if !alive() {
		t.Fatal("a fresh session is not alive")
	}
	other := strings.ReplaceAll(testAuth, "AKIATEST00000000001", "AKIAOTHER0000000001")
	if err := os.WriteFile(path, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := keys.Reload(); err != nil {
		t.Fatal(err)
	}
	if alive() || ss.alive(s.id) {
		t.Error("a session whose key the auth file no longer lists is alive")
	}
}

// A live stream's view of its session: alive follows the same rules as a
// request (idle time too, with no request made), and a session forgotten
// by sign-out says so at once through its ended channel.
func TestSessionAliveForStreams(t *testing.T) {
	keys := auth.NewKeyring(mustConfig(t, testAuth))
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ss := newSessions(Config{Keys: keys, SessionTTL: 12 * time.Hour, SessionIdle: time.Hour, Now: func() time.Time { return now }})
	p := keys.Principal("AKIATEST00000000001")
	req := httptest.NewRequest("POST", "/console/login", nil)
	idle := ss.begin(httptest.NewRecorder(), req, p)
	now = now.Add(61 * time.Minute)
	if ss.alive(idle.id) {
		t.Error("a session unused for over an hour is alive for its stream")
	}
	s := ss.begin(httptest.NewRecorder(), req, p)
	select {
	case <-s.ended:
		t.Fatal("a fresh session has ended")
	default:
	}
	ss.end(s.id)
	select {
	case <-s.ended:
	default:
		t.Error("signing out does not tell the session's streams")
	}
	ss.end(s.id) // twice: nothing to close again
}

func mustConfig(t *testing.T, text string) *auth.Config {
	t.Helper()
	c, err := auth.ParseConfig([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signInFrom sends the sign-in form from a client address and returns
// the status.
func signInFrom(t *testing.T, h *Handler, addr, keyID, secret string) int {
	t.Helper()
	form := url.Values{"accessKeyId": {keyID}, "secretAccessKey": {secret}}
	post := httptest.NewRequest("POST", "http://127.0.0.1/console/login", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Header.Set("Sec-Fetch-Site", "same-origin")
	post.RemoteAddr = addr
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, post)
	return rec.Code
}

// The sign-in limit counts failures only, per client address and access
// key id: a person who signs in often is never refused; wrong secrets for
// one key from an address (a reverse proxy's, shared by everyone behind
// it) refuse that key from there, even with the right secret, and keep no
// other key out; and a client that fills the table of allowances with
// addresses of its own does not give another client its attempts back.
func TestSignInLimit(t *testing.T) {
	two := strings.Replace(testAuth, `"accessKeys": [`, `"accessKeys": [{"accessKeyId": "AKIAOTHER0000000001", "secretAccessKey": "other"}, `, 1)
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(path, []byte(two), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := auth.LoadKeyring(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	h := New(Config{Keys: keys, Now: func() time.Time { return now }})
	const proxy = "10.0.0.1:4000"
	for i := range 3 * signInBurst {
		if code := signInFrom(t, h, proxy, "AKIATEST00000000001", "s3cret"); code != http.StatusSeeOther {
			t.Fatalf("sign-in %d with the right secret: %d", i+1, code)
		}
	}
	for i := range signInBurst {
		if code := signInFrom(t, h, proxy, "AKIATEST00000000001", "guess"); code != http.StatusUnauthorized {
			t.Fatalf("wrong secret %d: %d, want 401", i+1, code)
		}
	}
	if code := signInFrom(t, h, proxy, "AKIATEST00000000001", "s3cret"); code != http.StatusTooManyRequests {
		t.Errorf("after %d wrong secrets, the right one: %d, want 429", signInBurst, code)
	}
	if code := signInFrom(t, h, proxy, "AKIAOTHER0000000001", "other"); code != http.StatusSeeOther {
		t.Errorf("another key from the same address: %d, want a sign-in", code)
	}
	// A client with many addresses fills the table with its own failures.
	for i := range maxAttemptKeys {
		now = now.Add(time.Microsecond)
		h.sessions.takeAttempt(attemptKey{addr: fmt.Sprintf("fd00::%x", i), keyID: "AKIATEST00000000001"})
	}
	if code := signInFrom(t, h, proxy, "AKIATEST00000000001", "s3cret"); code != http.StatusTooManyRequests {
		t.Errorf("after the table filled up, the right secret from the limited address: %d, want 429 still", code)
	}
	h.sessions.failMu.Lock()
	n := len(h.sessions.failures)
	h.sessions.failMu.Unlock()
	if n > maxAttemptKeys {
		t.Errorf("%d allowances kept, want at most %d", n, maxAttemptKeys)
	}
}
