package console

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
)

// Cookie names. The session cookie carries only a random id; the CSRF
// cookie (without sign-in) a random value the forms' tokens are derived
// from.
const (
	sessionCookie = "swfd_session"
	csrfCookie    = "swfd_csrf"
)

// maxSessions bounds the sessions kept at once; the oldest go first.
const maxSessions = 10000

// session is one signed-in browser (or, without sign-in, none: s is nil).
type session struct {
	id       string
	keyID    string // the access key signed in with; its secret is not kept
	name     string // the principal's name
	csrf     string
	created  time.Time
	lastSeen time.Time
	// ended is closed when the session is forgotten (sign-out, expiry
	// found by a request, its key gone, too many sessions), so that its
	// live pages stop at once.
	ended chan struct{}
}

type sessions struct {
	keys      *auth.Keyring
	ttl, idle time.Duration
	now       func() time.Time
	key       []byte // derives forms' CSRF tokens without sign-in

	mu   sync.Mutex
	byID map[string]*session

	// failures limits failed sign-ins per client address and access key
	// id (see takeAttempt).
	failMu   sync.Mutex
	failures map[attemptKey]*bucket
}

func newSessions(cfg Config) *sessions {
	return &sessions{keys: cfg.Keys, ttl: cfg.SessionTTL, idle: cfg.SessionIdle, now: cfg.Now, key: randomBytes(32),
		byID: map[string]*session{}, failures: map[attemptKey]*bucket{}}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func randomID() string { return base64.RawURLEncoding.EncodeToString(randomBytes(32)) }

type sessionKey struct{}

// requestInfo is what a request's context carries for the pages: the
// session (nil without sign-in) and the CSRF token its forms must send.
type requestInfo struct {
	s    *session
	csrf string
	// keys is the auth file the request's principal was taken from (nil
	// without sign-in): a live stream is authorized again if another is
	// put in force while it runs.
	keys *auth.Config
}

func withSession(ctx context.Context, ri requestInfo) context.Context {
	return context.WithValue(ctx, sessionKey{}, ri)
}

func infoOf(ctx context.Context) requestInfo {
	ri, _ := ctx.Value(sessionKey{}).(requestInfo)
	return ri
}

// resolve finds a request's session. With sign-in: the session its cookie
// names, if it is alive and its key is still in the auth file; the returned
// context then carries the key's principal, as a signed API request's
// does. Without sign-in every request passes, and a browser gets a CSRF
// cookie the first time.
func (ss *sessions) resolve(w http.ResponseWriter, r *http.Request) (context.Context, requestInfo, bool) {
	ctx := r.Context()
	if ss.keys == nil {
		c, err := r.Cookie(csrfCookie)
		val := ""
		if err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
			val = c.Value
		} else {
			val = randomID()
			setCookie(w, r, csrfCookie, val, 0)
		}
		return ctx, requestInfo{csrf: ss.derive(val)}, true
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ctx, requestInfo{}, false
	}
	now := ss.now()
	ss.mu.Lock()
	s := ss.byID[c.Value]
	if s != nil && ss.over(s, now) {
		ss.forget(s)
		s = nil
	}
	if s != nil {
		s.lastSeen = now
	}
	ss.mu.Unlock()
	if s == nil {
		return ctx, requestInfo{}, false
	}
	keys := ss.keys.Config()
	p := keys.Principal(s.keyID)
	if p == nil {
		ss.end(s.id)
		return ctx, requestInfo{}, false
	}
	p.UserAgent = r.UserAgent() // p is this request's copy
	return auth.NewContext(ctx, p), requestInfo{s: s, csrf: s.csrf, keys: keys}, true
}

// derive is the CSRF token of a browser's CSRF cookie without sign-in.
func (ss *sessions) derive(cookie string) string {
	m := hmac.New(sha256.New, ss.key)
	m.Write([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF reports whether a form carries its page's CSRF token.
func (ss *sessions) checkCSRF(r *http.Request, ri requestInfo) bool {
	got := r.PostForm.Get("csrf")
	return ri.csrf != "" && subtle.ConstantTimeCompare([]byte(got), []byte(ri.csrf)) == 1
}

// notice is the query that has the page a redirect goes to show msg: the
// message and a MAC of it bound to the browser (noticeBinding), so that a
// page shows only the notices this console set for this browser, and never
// text that came in a link.
func (h *Handler) notice(r *http.Request, msg string) string {
	return "msg=" + urlq(msg) + "&sig=" + h.sessions.noticeMAC(infoOf(r.Context()).noticeBinding(), msg)
}

// message is the notice a page's URL carries if this console set it for
// this browser, else "".
func (h *Handler) message(r *http.Request) string {
	q := r.URL.Query()
	msg, sig := q.Get("msg"), q.Get("sig")
	bind := infoOf(r.Context()).noticeBinding()
	if msg == "" || bind == "" || !hmac.Equal([]byte(sig), []byte(h.sessions.noticeMAC(bind, msg))) {
		return ""
	}
	return msg
}

// noticeBinding is what a notice's MAC binds it to: with sign-in, the
// session (its id, which only the browser's cookie carries) and the access
// key it was signed in with, so that the notice can be checked again when
// the browser signs in anew after the session ended (renotice); without,
// the browser's CSRF token. "" when there is neither.
func (ri requestInfo) noticeBinding() string {
	if ri.s != nil {
		return sessionBinding(ri.s.id, ri.s.keyID)
	}
	if ri.csrf == "" {
		return ""
	}
	return "csrf\x00" + ri.csrf
}

func sessionBinding(id, keyID string) string { return "session\x00" + id + "\x00" + keyID }

func (ss *sessions) noticeMAC(binding, msg string) string {
	m := hmac.New(sha256.New, ss.key)
	m.Write([]byte("notice\x00" + binding + "\x00" + msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// renotice carries the notice a sign-in's destination holds over to the
// session just begun, s. A signed-out browser that follows a link to a page
// with a notice (the page an action of its own went back to, after its
// session ended: idle too long, its key dropped by a reload of the auth
// file) is sent to sign in with that link as its destination, and the new
// session would not know the notice's MAC. The browser still sends the
// ended session's cookie (oldID), which only it holds: the notice is kept,
// signed anew for s, if its MAC is that session's and s is signed in with
// the same access key; anything else is dropped from the destination. So a
// link still cannot put text of its own, or another browser's notice, or
// another key's, in the banner, and the check is made before the new
// session's MAC is given. A browser that signed out (its cookie cleared)
// or a server that restarted (a new MAC key) has no notice to carry.
func (ss *sessions) renotice(next, oldID string, s *session) string {
	path, query, ok := strings.Cut(next, "?")
	if !ok {
		return next
	}
	q, err := url.ParseQuery(query)
	if err != nil || (!q.Has("msg") && !q.Has("sig")) {
		return next
	}
	msg, sig := q.Get("msg"), q.Get("sig")
	q.Del("msg")
	q.Del("sig")
	if msg != "" && oldID != "" && hmac.Equal([]byte(sig), []byte(ss.noticeMAC(sessionBinding(oldID, s.keyID), msg))) {
		q.Set("msg", msg)
		q.Set("sig", ss.noticeMAC(sessionBinding(s.id, s.keyID), msg))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// begin starts a session for a principal that signed in.
func (ss *sessions) begin(w http.ResponseWriter, r *http.Request, p *auth.Principal) *session {
	now := ss.now()
	s := &session{id: randomID(), keyID: p.AccessKeyID, name: p.Name, csrf: randomID(), created: now, lastSeen: now, ended: make(chan struct{})}
	ss.mu.Lock()
	if len(ss.byID) >= maxSessions {
		var oldest *session
		for _, o := range ss.byID {
			if oldest == nil || o.lastSeen.Before(oldest.lastSeen) {
				oldest = o
			}
		}
		ss.forget(oldest)
	}
	ss.byID[s.id] = s
	ss.mu.Unlock()
	setCookie(w, r, sessionCookie, s.id, ss.ttl)
	return s
}

// over reports whether a session has run out of time: past its lifetime,
// or unused for longer than its idle time (a live page's open stream is
// not use). The caller holds ss.mu.
func (ss *sessions) over(s *session, now time.Time) bool {
	return now.Sub(s.created) >= ss.ttl || now.Sub(s.lastSeen) >= ss.idle
}

// forget drops a session and tells its live pages. The caller holds ss.mu.
func (ss *sessions) forget(s *session) {
	if ss.byID[s.id] != s {
		return
	}
	delete(ss.byID, s.id)
	close(s.ended)
}

// alive reports whether a session is still signed in, by the same rules
// as a request: not forgotten, not out of time, its key still in the auth
// file.
func (ss *sessions) alive(id string) bool {
	now := ss.now()
	ss.mu.Lock()
	s := ss.byID[id]
	ok := s != nil && !ss.over(s, now)
	ss.mu.Unlock()
	return ok && ss.keys.Principal(s.keyID) != nil
}

// end forgets a session.
func (ss *sessions) end(id string) {
	ss.mu.Lock()
	if s := ss.byID[id]; s != nil {
		ss.forget(s)
	}
	ss.mu.Unlock()
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, ttl time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil}
	if ttl > 0 {
		c.MaxAge = int(ttl / time.Second)
	} else if ttl < 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// Failed sign-ins allowed per client address and access key id: a burst,
// then one every few seconds. A sign-in that succeeds does not count, so
// a person who signs in often is never refused; and the access key id is
// part of the key, so that behind a reverse proxy (where every client has
// the proxy's address) a client that keeps sending a wrong secret for one
// key does not keep the others out. Guessing a key's secret is limited
// all the same: the guesses for one key id from one address share one
// allowance.
const (
	signInBurst = 10
	signInEvery = 6 * time.Second
	// maxAttemptKeys bounds the allowances kept (see makeRoom).
	maxAttemptKeys = 10000
	// maxKeyIDLen bounds the access key id kept in an allowance's key
	// (access key ids are at most 128 characters).
	maxKeyIDLen = 128
)

type attemptKey struct{ addr, keyID string }

// bucket is an allowance: tokens left at time at.
type bucket struct {
	tokens float64
	at     time.Time
}

// level is the tokens left at now, refilled since at.
func (b *bucket) level(now time.Time) float64 {
	return min(signInBurst, b.tokens+now.Sub(b.at).Seconds()/signInEvery.Seconds())
}

func attemptKeyOf(r *http.Request, keyID string) attemptKey {
	addr := r.RemoteAddr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		addr = h
	}
	if len(keyID) > maxKeyIDLen {
		keyID = keyID[:maxKeyIDLen]
	}
	return attemptKey{addr, keyID}
}

// takeAttempt takes one sign-in attempt from the allowance of a client
// address and access key id, and reports whether there was one. The
// attempt is taken before the secret is checked, so that attempts sent at
// once cannot all be checked; a sign-in that succeeds gives it back
// (returnAttempt).
func (ss *sessions) takeAttempt(k attemptKey) bool {
	now := ss.now()
	ss.failMu.Lock()
	defer ss.failMu.Unlock()
	b := ss.failures[k]
	if b == nil {
		if len(ss.failures) >= maxAttemptKeys {
			ss.makeRoom(now)
		}
		b = &bucket{tokens: signInBurst, at: now}
		ss.failures[k] = b
	}
	level := b.level(now)
	if level < 1 {
		return false
	}
	b.tokens, b.at = level-1, now
	return true
}

// returnAttempt gives back the attempt of a sign-in that succeeded.
func (ss *sessions) returnAttempt(k attemptKey) {
	now := ss.now()
	ss.failMu.Lock()
	defer ss.failMu.Unlock()
	if b := ss.failures[k]; b != nil {
		b.tokens, b.at = min(signInBurst, b.level(now)+1), now
	}
}

// makeRoom drops the allowances that are full again, which hold nothing a
// new one would not; if none is, it drops the one nearest to full. It
// never empties the table: a client that fills it with addresses or key
// ids of its own gives at most one other allowance its attempts back per
// attempt of its own, and only the one that had the most of them left.
func (ss *sessions) makeRoom(now time.Time) {
	var fullest attemptKey
	most := -1.0
	for k, b := range ss.failures {
		switch l := b.level(now); {
		case l >= signInBurst:
			delete(ss.failures, k)
		case l > most:
			fullest, most = k, l
		}
	}
	if len(ss.failures) >= maxAttemptKeys {
		delete(ss.failures, fullest)
	}
}

// loginPage shows the sign-in form (or, without sign-in, goes home).
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Keys == nil || infoOf(r.Context()).s != nil {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	d := &loginData{}
	if r.URL.Query().Get("unsent") != "" {
		d.Note = "Your session had ended, so what you sent was not done. Sign in, then send it again."
	}
	h.render(w, r, http.StatusOK, "login", &page{Title: "Sign in", Next: safeNext(r.URL.Query().Get("next")), Data: d})
}

// loginData is what the sign-in form shows again after a refusal: why, and
// the access key id typed (never the secret), so that only the secret is
// typed again.
type loginData struct {
	Error string
	Note  string // why the sign-in is asked for, when a form was refused for it
	KeyID string
}

// login checks an access key id and secret against the auth file.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Keys == nil {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	body, err := h.readBody(w, r, 16<<10)
	if f, ok := api.AsFault(err); ok && f.Code != api.RequestEntityTooLarge && f.Code != api.SerializationException {
		h.fail(w, r, f) // too slow, or refused for now: the client may send it again
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil || r.ParseForm() != nil {
		h.render(w, r, http.StatusBadRequest, "login", &page{Title: "Sign in", Data: &loginData{Error: "The form is malformed."}})
		return
	}
	keyID, secret := strings.TrimSpace(r.PostForm.Get("accessKeyId")), r.PostForm.Get("secretAccessKey")
	next := safeNext(r.PostForm.Get("next"))
	attempt := attemptKeyOf(r, keyID)
	if !h.sessions.takeAttempt(attempt) {
		h.log.Warn("console: sign-in refused: too many attempts", "access_key_id", keyID, "remote", r.RemoteAddr)
		h.render(w, r, http.StatusTooManyRequests, "login", &page{Title: "Sign in", Next: next, Data: &loginData{Error: "Too many attempts; wait a minute and try again.", KeyID: keyID}})
		return
	}
	p, ok := h.cfg.Keys.Authenticate(keyID, secret)
	if !ok {
		h.log.Warn("console: sign-in failed", "access_key_id", keyID, "remote", r.RemoteAddr)
		h.render(w, r, http.StatusUnauthorized, "login", &page{Title: "Sign in", Next: next, Data: &loginData{Error: "The access key id or the secret is wrong.", KeyID: keyID}})
		return
	}
	h.sessions.returnAttempt(attempt)
	oldID := ""
	if c, err := r.Cookie(sessionCookie); err == nil {
		oldID = c.Value
	}
	s := h.sessions.begin(w, r, p)
	h.log.Info("console: signed in", "principal", p.Name, "access_key_id", keyID, "remote", r.RemoteAddr)
	http.Redirect(w, r, h.sessions.renotice(next, oldID, s), http.StatusSeeOther)
}

// logout ends the session.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if s := infoOf(r.Context()).s; s != nil {
		h.sessions.end(s.id)
	}
	setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
}

// toLogin sends a request without a session to the sign-in page (a page
// fetched by script gets 401). A form sent once its session has ended is
// not acted on: the sign-in leads back to the page it was sent from (its
// Referer, when that is a page of the console on this host), to send it
// again from there.
func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request) {
	if (r.Method != http.MethodGet && r.Method != http.MethodPost) || r.Header.Get("X-Console-Fragment") != "" || r.Header.Get("Accept") == "text/event-stream" {
		http.Error(w, "Sign in first.", http.StatusUnauthorized)
		return
	}
	next, unsent := r.URL.RequestURI(), ""
	if r.Method == http.MethodPost {
		next, unsent = Prefix, "&unsent=1"
		if u, err := url.Parse(r.Referer()); err == nil && u.Host == r.Host && u.Path != Prefix+"login" {
			next = safeNext(u.RequestURI())
		}
	}
	http.Redirect(w, r, Prefix+"login?next="+url.QueryEscape(next)+unsent, http.StatusSeeOther)
}

// safeNext is a sign-in's destination if it is a page of the console, else
// the console's home.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	return next
}
