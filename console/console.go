// Package console is swfd's web console: pages served under /console/ on
// swfd's own address that show domains and their types, executions with
// every filter SWF has, one execution's summary, pending work, history and
// timeline, the task lists in use and what needs attention, and that start,
// signal, cancel, terminate and re-run executions (one or every execution a
// filter matches), each form showing the equivalent swf command line.
//
// It is server-rendered HTML (html/template) with a small hand-written
// script and style sheet, all embedded in the binary: nothing to build or
// install. It talks to the rest of swfd only through the SWF operations
// (api.Service, which with authentication on is the same auth.Guard the
// HTTP API uses, so one set of IAM policies decides what a caller may see
// and do) and through package inspect for what the API cannot give, each
// inspect method authorized as the API call nearest to it. Live updates
// come from a Hub fed by the run store's commit listener, fanned out to
// every open page by server-sent events without a query per page. A page
// catches up on what it missed while it had no stream (before its stream
// opened, while the stream was cut) when the stream opens: an execution's
// page is sent the events after the last it was served with, and a list
// reads itself again in place if a run of its domain started or closed
// meanwhile, as it does when more changes come at once than it is sent.
//
// With authentication on (Config.Keys), a person signs in with an access
// key id and secret of the auth file; the session lives in server memory,
// its cookie is HttpOnly and SameSite=Strict, every state-changing request
// carries a CSRF token, and secrets appear in no URL, page or log line.
// Without it the console is as open as the API, and answers only requests
// addressed to an IP address or localhost (so that a web page elsewhere
// cannot reach it through DNS rebinding).
package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/frontend"
	"github.com/swfd/swfd/inspect"
)

// Prefix is the path the console is served under.
const Prefix = "/console/"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config configures a Handler.
type Config struct {
	// API is every SWF operation. With authentication on it must be the
	// auth.Guard the HTTP API uses.
	API api.Service
	// Inspect answers what the API cannot. It is not guarded: the
	// console authorizes each call with Authorize.
	Inspect inspect.Inspector
	// Authorize decides a call without making it (auth.Guard.Authorize);
	// nil allows everything (authentication off).
	Authorize func(ctx context.Context, op string, in any) error
	// Keys, if set, turns on sign-in: the auth file's access keys.
	Keys *auth.Keyring
	// Hub, if set, pushes live updates to open pages.
	Hub *Hub
	// Region and Account are swfd's, for ARNs.
	Region, Account string
	Logger          *slog.Logger
	// SessionTTL is how long a sign-in lasts (default 12 hours);
	// SessionIdle how long it lasts unused (default 1 hour).
	SessionTTL, SessionIdle time.Duration
	// Now is the wall clock sessions expire by (default time.Now).
	Now func() time.Time
	// Clock is swfd's clock, which ages and durations are shown by
	// (default the system clock).
	Clock swfd.Clock
	// Observe, if set, is told of every SWF operation the console makes
	// that may change something (every one but those that only read:
	// Count…, Describe…, Get…, List…), as the HTTP API's
	// frontend.Handler.Observe is of its calls (the metrics and the access
	// log): with the signed-in principal, the domain, the fault and the
	// time it took. The Call must not be kept after Observe returns.
	Observe func(c *frontend.Call)
	// Admit, if set, is asked about each of those operations just before
	// it is made, once Authorize has allowed it, as frontend.Handler.Admit
	// is about the API's calls (the same function, so that an action takes
	// its tokens from the same buckets as the same call through the API,
	// and a denied one takes none): a fault it returns is the operation's
	// answer, and the operation is not made. in is the decoded input.
	Admit func(ctx context.Context, c *frontend.Call, in any) *api.Fault
	// HoldDecoding, if set, counts the request bytes the console decodes
	// in the API's bound on bytes decoded at once
	// (frontend.Handler.HoldDecoding, the same function): a form's body
	// from when it has arrived until it is parsed, and the input of each
	// operation the console makes while it is decoded. Past the bound the
	// page or action gets its ServiceUnavailable fault and nothing is done.
	// nil: they are not bounded.
	HoldDecoding func(ctx context.Context, op string, n int64) (release func(), err error)
	// ReadBody, if set, reads a form's body, at most limit bytes, as the
	// API reads its requests' (frontend.Handler.ReadBody): within the
	// API's body timeout, cut off at the connection limit when a new
	// connection needs its own, and counted in the API's bound on bytes
	// still arriving. nil: the body is read with no bound but its size, and
	// one that never arrives holds its connection until the client goes.
	ReadBody func(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error)
	// HoldTime, if set, is called as each SWF operation the console makes
	// begins, and the function it returns once the operation has been
	// answered: with a clock that tests move, it holds a move of the clock
	// off while the operation is decided and committed, as the HTTP API's
	// calls are held (the clock controller's HoldWait, which also wakes a
	// skip clock's timer loop on release, as the end of an API call does).
	// It waits for a move under way as long as an API call would
	// (--call-timeout) and no longer than ctx lasts; false: it gave up,
	// and the operation is refused undone with ServiceUnavailable, as such
	// a call is. nil: operations are not held (the real clock).
	HoldTime func(ctx context.Context) (release func(), ok bool)
}

// Handler serves the console. Make it with New.
type Handler struct {
	cfg      Config
	api      api.Service
	insp     inspect.Inspector // guarded
	log      *slog.Logger
	mux      *http.ServeMux
	pages    map[string]*template.Template
	fragment *template.Template
	sessions *sessions
	static   http.Handler
}

// New returns the console's handler.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Clock == nil {
		cfg.Clock = swfd.SystemClock{}
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = time.Hour
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Account == "" {
		cfg.Account = "123456789012"
	}
	h := &Handler{cfg: cfg, api: cfg.API, log: cfg.Logger}
	h.insp = guardedInspector{next: cfg.Inspect, authorize: h.authorize}
	h.sessions = newSessions(cfg)
	h.parseTemplates()
	sub, _ := fs.Sub(staticFS, "static")
	h.static = http.StripPrefix(Prefix+"static/", http.FileServer(http.FS(sub)))
	if cfg.Hub != nil {
		cfg.Hub.setRenderer(h.fragment)
		cfg.Hub.setClock(h.now)
	}
	h.routes()
	return h
}

// now is swfd's time.
func (h *Handler) now() time.Time { return h.cfg.Clock.Now().UTC() }

// authorize is Config.Authorize, or allow-all.
func (h *Handler) authorize(ctx context.Context, op string, in any) error {
	if h.cfg.Authorize == nil {
		return nil
	}
	return h.cfg.Authorize(ctx, op, in)
}

func (h *Handler) routes() {
	m := http.NewServeMux()
	p := strings.TrimSuffix(Prefix, "/")
	get := func(path string, fn func(http.ResponseWriter, *http.Request)) { m.HandleFunc("GET "+p+path, names(fn)) }
	post := func(path string, fn func(http.ResponseWriter, *http.Request)) {
		m.HandleFunc("POST "+p+path, names(fn))
	}

	m.Handle("GET "+p+"/static/", h.staticFiles())
	get("/login", h.loginPage)
	post("/login", h.login)
	post("/logout", h.logout)

	get("/{$}", h.domainsPage)
	post("/domains", h.registerDomain)
	get("/go", h.goDomain)
	get("/d/{domain}/{$}", h.domainHome)
	get("/d/{domain}/types", h.domainPage)
	post("/d/{domain}/status", h.domainStatus)
	post("/d/{domain}/types", h.registerType)
	post("/d/{domain}/types/status", h.typeStatus)
	get("/d/{domain}/executions", h.executionsPage)
	get("/d/{domain}/start", h.startPage)
	post("/d/{domain}/start", h.start)
	post("/d/{domain}/batch", h.batch)
	get("/d/{domain}/tasklists", h.taskListsPage)
	get("/d/{domain}/attention", h.attentionPage)
	get("/d/{domain}/live", h.liveDomain)
	get("/d/{domain}/w/{wid}", h.latestRun)
	get("/d/{domain}/w/{wid}/{rid}", h.executionPage)
	get("/d/{domain}/w/{wid}/{rid}/events", h.eventsFragment)
	get("/d/{domain}/w/{wid}/{rid}/pending", h.pendingFragment)
	get("/d/{domain}/w/{wid}/{rid}/timeline", h.timelinePage)
	get("/d/{domain}/w/{wid}/{rid}/history.json", h.historyJSON)
	get("/d/{domain}/w/{wid}/{rid}/live", h.liveRun)
	post("/d/{domain}/w/{wid}/{rid}/signal", h.signal)
	post("/d/{domain}/w/{wid}/{rid}/cancel", h.cancel)
	post("/d/{domain}/w/{wid}/{rid}/terminate", h.terminate)
	post("/d/{domain}/w/{wid}/{rid}/rerun", h.rerun)
	// Any other path under the console (a link cut short, a segment too
	// many) gets the console's page that says so, not a bare text.
	get("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, api.ErrUnknownResource("The console has no page at %s.", trunc(200, r.URL.Path)))
	})
	h.mux = m
}

// names has a handler see the names a URL's segments stand for (the
// domain, the workflow id and the run id; see pathSegment) as its path
// values.
func names(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, k := range []string{"domain", "wid", "rid"} {
			if v := r.PathValue(k); v != "" {
				r.SetPathValue(k, nameOf(v))
			}
		}
		fn(w, r)
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "+
		"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "same-origin")
	if h.cfg.Keys == nil && !localHost(r.Host) {
		// Without sign-in, anyone who reaches the console may act; a page
		// on another site must not reach it by a name that resolves here.
		http.Error(w, "The swfd console without --auth answers only requests to an IP address or localhost.", http.StatusMisdirectedRequest)
		return
	}
	if strings.HasPrefix(r.URL.Path, Prefix+"static/") {
		h.mux.ServeHTTP(w, r)
		return
	}
	hdr.Set("Cache-Control", "no-store")
	if r.Method == http.MethodPost && !sameOrigin(r) {
		http.Error(w, "Cross-site request refused.", http.StatusForbidden)
		return
	}
	ctx, s, ok := h.sessions.resolve(w, r)
	if !ok {
		if r.URL.Path != Prefix+"login" {
			h.toLogin(w, r)
			return
		}
	}
	r = r.WithContext(withSession(ctx, s))
	if r.Method == http.MethodPost && r.URL.Path != Prefix+"login" {
		if err := h.parseForm(w, r); err != nil {
			h.fail(w, r, err)
			return
		}
		if !h.sessions.checkCSRF(r, s) {
			h.fail(w, r, &api.Fault{Code: "InvalidCSRFToken", Message: "The form is out of date or was not sent by this console: reload the page and try again."})
			return
		}
		lineFeeds(r.PostForm)
		lineFeeds(r.Form)
	}
	h.mux.ServeHTTP(w, r)
}

// RedirectBrowsers sends a browser's GET / to the console, and its GET
// /favicon.ico to the console's icon, and passes every other request to
// next (the SWF API answers POST /; a GET that names an operation gets the
// API's own answer).
func RedirectBrowsers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.Header.Get("X-Amz-Target") == "" {
			switch {
			case r.URL.Path == "/" && strings.Contains(r.Header.Get("Accept"), "text/html"):
				http.Redirect(w, r, Prefix, http.StatusFound)
				return
			case r.URL.Path == "/favicon.ico":
				http.Redirect(w, r, Prefix+"static/favicon.svg", http.StatusFound)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// lineFeeds makes every line break in a form's values a line feed. A
// browser sends a multi-line box's line breaks as CRLF (the HTML standard's
// form submission), though the box, and the command line its form shows,
// hold "\n": the operation gets the text as typed, as swf would send it. A
// single-line field holds no line break to begin with.
func lineFeeds(f url.Values) {
	for _, vs := range f {
		for i, v := range vs {
			if strings.ContainsRune(v, '\r') {
				vs[i] = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\r", "\n")
			}
		}
	}
}

// maxForm bounds a form's size: SWF's own request limit.
const maxForm = 1 << 20

// parseForm reads a POST's body, at most maxForm bytes (Config.ReadBody),
// and parses its form, the body counted in Config.HoldDecoding from when it
// has arrived until it is parsed (a body still arriving counts nothing
// there, as in the API).
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) error {
	malformed := api.NewFault(api.RequestEntityTooLarge, "The form is too large or malformed.")
	body, err := h.readBody(w, r, maxForm)
	if err != nil {
		if f, ok := api.AsFault(err); ok && f.Code != api.RequestEntityTooLarge && f.Code != api.SerializationException {
			return f // too slow, or refused for now: the client may send it again
		}
		return malformed
	}
	if h.cfg.HoldDecoding != nil {
		release, err := h.cfg.HoldDecoding(r.Context(), "", int64(len(body)))
		if err != nil {
			return err
		}
		defer release()
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := r.ParseForm(); err != nil {
		return malformed
	}
	return nil
}

// readBody reads r's body, at most limit bytes, through Config.ReadBody
// when it is set.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if h.cfg.ReadBody != nil {
		return h.cfg.ReadBody(w, r, limit)
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

func (h *Handler) staticFiles() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Files only: a directory (the static root) is not listed.
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		// Pages name each file with its content's digest (staticURL), so a
		// browser may keep it for good under that URL: another swfd's file
		// has another URL. Any other URL of it (a page of an older swfd,
		// the icon /favicon.ico leads to) is checked again each time, by
		// its digest, so that a browser never runs an old script or style
		// sheet with the pages of a newer swfd.
		v := staticVersions[strings.TrimPrefix(r.URL.Path, Prefix+"static/")]
		if v != "" && r.URL.Query().Get("v") == v {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		if v != "" {
			w.Header().Set("ETag", `"`+v+`"`)
		}
		h.static.ServeHTTP(w, r)
	})
}

// staticVersions is the digest of each static file's content, by name:
// the first 16 hex digits of its SHA-256.
var staticVersions = func() map[string]string {
	m := map[string]string{}
	entries, _ := fs.ReadDir(staticFS, "static")
	for _, e := range entries {
		b, err := fs.ReadFile(staticFS, "static/"+e.Name())
		if err != nil || e.IsDir() {
			continue
		}
		sum := sha256.Sum256(b)
		m[e.Name()] = hex.EncodeToString(sum[:8])
	}
	return m
}()

// staticURL is the URL pages name a static file by: with its content's
// digest, so that a browser's cached copy is of this swfd's file.
func staticURL(name string) string {
	return Prefix + "static/" + name + "?v=" + staticVersions[name]
}

// localHost reports whether a Host header names an IP address or localhost.
func localHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if net.ParseIP(host) != nil {
		return true
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// sameOrigin reports whether a POST came from a page of this console: the
// browser says so (Sec-Fetch-Site, or an Origin of this host). A client
// that sends neither (not a browser) passes; the CSRF token still applies.
// The Origin's scheme must be http or https, and https when the request
// came over TLS: a page served over plain HTTP may not post to the console
// served over HTTPS. Over plain HTTP an https Origin passes, since a
// TLS-terminating proxy in front of swfd forwards its browsers' requests
// as plain HTTP.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Path != "" || u.RawQuery != "" || u.User != nil {
		return false
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && r.TLS == nil:
	default:
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// do makes one SWF call as the API makes it: the input is checked against
// the service model first (the frontend's checks), then the operation runs
// through Config.API, with the clock held still as the API holds it for its
// calls (Config.HoldTime). A call that may change something is admitted as
// the API admits its calls (Config.Admit: the quotas), once authorized
// (Config.Authorize), and recorded as the API records them (see record).
func do[Out any](ctx context.Context, h *Handler, op string, in any) (_ *Out, err error) {
	info, ok := api.Operations[op]
	if !ok {
		return nil, fmt.Errorf("console: unknown operation %s", op)
	}
	var c *frontend.Call
	if changes(op) {
		c = frontend.NewCall(ctx, op, in)
		defer func() {
			c.Done(err)
			h.record(ctx, c)
		}()
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("console: encode %s: %w", op, err)
	}
	if len(body) > maxForm {
		return nil, api.NewFault(api.RequestEntityTooLarge, "Request of %d bytes is larger than the 1 MB limit", len(body))
	}
	v, err := h.decode(ctx, op, info, body)
	if err != nil {
		return nil, err
	}
	if c != nil && h.cfg.Admit != nil {
		// Authorized before it is admitted, as the API's calls are: an
		// action the principal may not make takes no token from the
		// quotas of those who may. (Config.API, the guard, decides it
		// again; an action is one person's click, and the guard stays
		// whole for the reads that are not admitted.)
		if err := h.authorize(ctx, op, v); err != nil {
			return nil, err
		}
		if f := h.cfg.Admit(ctx, c, v); f != nil {
			return nil, refused(op, f)
		}
	}
	out, err := h.call(ctx, info, v)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, nil
	}
	o, ok := out.(*Out)
	if !ok {
		return nil, fmt.Errorf("console: %s answered %T", op, out)
	}
	return o, nil
}

// call makes the operation with the clock held still (Config.HoldTime), so
// that a move of a clock that tests move happens before it or after it,
// never while it is decided and committed.
func (h *Handler) call(ctx context.Context, info api.OperationInfo, in any) (any, error) {
	if h.cfg.HoldTime != nil {
		release, ok := h.cfg.HoldTime(ctx)
		if !ok {
			if err := ctx.Err(); err != nil {
				return nil, err // the person gone: nothing to answer
			}
			return nil, api.NewFault(api.ServiceUnavailable,
				"The clock was moving for longer than the call may wait; nothing was done. Try again once the move has ended.")
		}
		defer release()
	}
	return info.Call(ctx, h.api, in)
}

// decode decodes body as op's input, counted in Config.HoldDecoding while
// it is.
func (h *Handler) decode(ctx context.Context, op string, info api.OperationInfo, body []byte) (any, error) {
	if h.cfg.HoldDecoding == nil {
		return info.Decode(body)
	}
	release, err := h.cfg.HoldDecoding(ctx, op, int64(len(body)))
	if err != nil {
		return nil, err
	}
	defer release()
	return info.Decode(body)
}

// refused is the fault a page shows for an operation Config.Admit refused:
// for throttling, what it means to the person who acted.
func refused(op string, f *api.Fault) *api.Fault {
	if f.Code != api.ThrottlingException {
		return f
	}
	return &api.Fault{Code: f.Code, Message: f.Message + ": swfd's quotas (--quotas) allow no more " + op +
		" calls just now, from the console as through the API (the same token bucket). Nothing was done: wait a moment and try again."}
}

// changes reports whether op may change something: every SWF operation
// that only reads is named Count…, Describe…, Get… or List….
func changes(op string) bool {
	for _, read := range []string{"Count", "Describe", "Get", "List"} {
		if strings.HasPrefix(op, read) {
			return false
		}
	}
	return true
}

// record leaves the trail of an operation the console made: Config.Observe
// (the metrics and the access log, as for the API's calls) and a line of
// the log, so that who did what from the console is known without the
// access log too.
func (h *Handler) record(ctx context.Context, c *frontend.Call) {
	h.log.InfoContext(ctx, "console: operation", "op", c.Operation, "domain", c.Domain, "principal", c.Principal,
		"fault", c.Fault, "request_id", c.RequestID)
	if h.cfg.Observe != nil {
		h.cfg.Observe(c)
	}
}

// exec makes a call without output.
func (h *Handler) exec(ctx context.Context, op string, in any) error {
	_, err := do[struct{}](ctx, h, op, in)
	return err
}

// faultOf turns an error into what a page shows: a fault's code and
// message, or, for anything else, a bare internal failure (the error goes
// to the log, not to the page).
func (h *Handler) faultOf(ctx context.Context, err error) *api.Fault {
	if f, ok := api.AsFault(err); ok {
		return f
	}
	if errors.Is(err, context.Canceled) {
		return &api.Fault{Code: "Canceled", Message: "The request was canceled."}
	}
	h.log.ErrorContext(ctx, "console: request failed", "err", err)
	return &api.Fault{Code: api.InternalFailure, Message: "The server could not answer; the error is in its log."}
}

// statusOf is the HTTP status a page showing a fault answers with.
func statusOf(f *api.Fault) int {
	switch f.Code {
	case api.OperationNotPermittedFault:
		return http.StatusForbidden
	case api.UnknownResourceFault:
		return http.StatusNotFound
	case api.InternalFailure:
		return http.StatusInternalServerError
	case api.ServiceUnavailable:
		return http.StatusServiceUnavailable
	case api.RequestEntityTooLarge:
		return http.StatusRequestEntityTooLarge
	case api.RequestTimeout:
		return http.StatusRequestTimeout
	case api.ThrottlingException:
		return http.StatusTooManyRequests
	}
	return http.StatusBadRequest
}

// fail answers a request with a page that shows err.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	f := h.faultOf(r.Context(), err)
	if r.Header.Get("X-Console-Fragment") != "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(statusOf(f))
		fmt.Fprintf(w, "%s: %s", f.Code, revealText(f.Message))
		return
	}
	p := &page{Title: f.Code, Fault: f}
	// A fault about what was asked is shown in its domain; a server short
	// of room or time (503, 429, …) is not asked once more for the page.
	switch statusOf(f) {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound:
		p.Domain, p.Tab = h.faultDomain(r)
	}
	h.render(w, r, statusOf(f), "error", p)
}

// faultDomain is the domain a request under /console/d/{domain}/ that
// failed was about, and the domain's tab its page belongs to, if that
// domain exists and the caller may describe it: the error page of an
// unknown execution, of an action refused, keeps the domain's breadcrumb
// and tabs to go on from, as the domain's other pages do. An unknown
// domain, or one the caller may not see, gets none: a breadcrumb to it
// would lead to the same fault.
func (h *Handler) faultDomain(r *http.Request) (domain, tab string) {
	domain = r.PathValue("domain")
	if domain == "" {
		return "", ""
	}
	if _, err := do[api.DomainDetail](r.Context(), h, "DescribeDomain", &api.DescribeDomainInput{Name: domain}); err != nil {
		return "", ""
	}
	_, rest, _ := strings.Cut(r.Pattern, "/d/{domain}/")
	switch seg, _, _ := strings.Cut(rest, "/"); seg {
	case "w", "executions", "batch":
		return domain, "executions"
	case "types", "status":
		return domain, "types"
	case "start", "tasklists", "attention":
		return domain, seg
	}
	return domain, ""
}
