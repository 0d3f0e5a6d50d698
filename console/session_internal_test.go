package console

import (
	"net/http"
	"net/http/httptest"
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
