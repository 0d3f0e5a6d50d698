package console_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/server"
)

// signIn signs w in with an access key of authFile and reads a page, for
// its CSRF token.
func (w *web) signIn(keyID, secret string) {
	w.t.Helper()
	code, _, _ := w.post("/console/login", url.Values{"accessKeyId": {keyID}, "secretAccessKey": {secret}})
	if code != http.StatusSeeOther {
		w.t.Fatalf("sign-in as %s: %d", keyID, code)
	}
	if code, _ := w.get("/console/d/orders/executions"); code != http.StatusOK {
		w.t.Fatalf("signed in as %s: %d", keyID, code)
	}
}

// openStream opens a live stream as a browser's EventSource does and
// returns its status and, if it is a stream, its reader past the first
// line.
func (w *web) openStream(ctx context.Context, path string) (int, *bufio.Reader) {
	w.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", w.base+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		if strings.Contains(string(b), "SECRET") {
			w.t.Errorf("refused stream %s answers %q", path, b)
		}
		return resp.StatusCode, nil
	}
	r := bufio.NewReader(resp.Body)
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "retry:") {
		w.t.Fatalf("stream %s starts %q", path, line)
	}
	return resp.StatusCode, r
}

// readToEnd reads a stream until the server ends it.
func readToEnd(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("stream cut: %v\n%s", err, b)
	}
	return string(b)
}

// lastEventID is the id of a run's newest event.
func (f *fixture) lastEventID(domain string, ex api.WorkflowExecution) int64 {
	f.t.Helper()
	hist, err := f.svc.GetWorkflowExecutionHistory(f.ctx, &api.GetWorkflowExecutionHistoryInput{Domain: domain, Execution: ex, ReverseOrder: true, MaximumPageSize: 1})
	f.check(err)
	return hist.Events[0].EventID
}

// A run of another domain cannot be watched through a domain the key may
// read: its run id under /d/orders/… is not found (as its page is not),
// whatever the workflow id, and nothing of it is sent. Nor can a domain
// that is not there.
func TestLiveOtherDomain(t *testing.T) {
	f := newFixture(t, withConfig(authOption(t)))
	f.shop()
	f.register("vault")
	secret := f.startRun("vault", "vault-run", `{"card":"START-SECRET"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	viewer := newWeb(t, f.srv.URL)
	viewer.signIn("AKIAVIEWER000000001", "viewer-secret")
	if code, _ := viewer.get(execPath("orders", secret)); code != http.StatusNotFound {
		t.Errorf("the other domain's run under /d/orders: page %d, want 404", code)
	}
	operator := newWeb(t, f.srv.URL)
	operator.signIn("AKIAOPERATOR0000001", "operator-secret")
	type open struct {
		who  string
		path string
		r    *bufio.Reader
	}
	var leaks []open
	for _, c := range []struct {
		w    *web
		who  string
		path string
	}{
		{viewer, "orders-viewer", "/console/d/orders/w/anything/" + url.PathEscape(secret.RunID) + "/live?after=2"},
		{viewer, "orders-viewer", execPath("orders", secret) + "/live"},
		// A key allowed everywhere is held to the URL's domain too.
		{operator, "operator", execPath("orders", secret) + "/live?after=2"},
		// A list of a domain that is not there, as its page is not.
		{operator, "operator", "/console/d/nowhere/live"},
	} {
		code, r := c.w.openStream(ctx, c.path)
		if code != http.StatusNotFound {
			t.Errorf("%s: GET %s: %d, want 404", c.who, c.path, code)
		}
		if r != nil {
			leaks = append(leaks, open{c.who, c.path, r})
		}
	}
	// What a stream opened anyway carries (the first shows it: one that
	// says it has events up to 2 gets the signal at once).
	if len(leaks) > 0 {
		f.check(f.svc.SignalWorkflowExecution(f.ctx, &api.SignalWorkflowExecutionInput{Domain: "vault", WorkflowID: secret.WorkflowID,
			SignalName: "s", Input: api.String("SIGNAL-SECRET")}))
		l := leaks[0]
		t.Errorf("%s: %s streams the other domain's run:\n%s", l.who, l.path, readUntil(t, l.r, "SIGNAL-SECRET"))
	}
}

// Signing out ends the session's open streams, an execution's and a
// list's, before anything else is sent to them.
func TestLiveEndsOnSignOut(t *testing.T) {
	f := newFixture(t, withConfig(authOption(t)))
	open := f.shop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w := newWeb(t, f.srv.URL)
	w.signIn("AKIAVIEWER000000001", "viewer-secret")
	_, run := w.openStream(ctx, execPath("orders", open)+"/live?after="+itoa(f.lastEventID("orders", open)))
	readUntil(t, run, "event: pending") // subscribed: the first refresh
	_, list := w.openStream(ctx, "/console/d/orders/live")
	f.startRun("orders", "before-sign-out", "{}")
	readUntil(t, list, "before-sign-out") // subscribed

	if code, _, _ := w.post("/console/logout", nil); code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", code)
	}
	f.check(f.svc.SignalWorkflowExecution(f.ctx, &api.SignalWorkflowExecutionInput{Domain: "orders", WorkflowID: open.WorkflowID, SignalName: "AFTER-SIGN-OUT"}))
	f.startRun("orders", "AFTER-SIGN-OUT-RUN", "{}")
	for name, r := range map[string]*bufio.Reader{"execution": run, "list": list} {
		got := readToEnd(t, r)
		wantIn(t, name+" stream after sign-out", got, "event: signedout")
		wantNotIn(t, name+" stream after sign-out", got, "AFTER-SIGN-OUT")
	}
}

// A reload of the auth file that drops the key ends its session's streams
// before anything else is sent to them.
func TestLiveEndsOnKeyRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(path, []byte(authFile), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := auth.LoadKeyring(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, withConfig(func(c *server.Config) { c.Auth = keys }))
	open := f.shop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w := newWeb(t, f.srv.URL)
	w.signIn("AKIAVIEWER000000001", "viewer-secret")
	_, run := w.openStream(ctx, execPath("orders", open)+"/live?after="+itoa(f.lastEventID("orders", open)))
	readUntil(t, run, "event: pending")

	without := strings.ReplaceAll(authFile, "AKIAVIEWER000000001", "AKIAVIEWER000000002")
	if err := os.WriteFile(path, []byte(without), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.Server.Reload(); err != nil {
		t.Fatal(err)
	}
	f.check(f.svc.SignalWorkflowExecution(f.ctx, &api.SignalWorkflowExecutionInput{Domain: "orders", WorkflowID: open.WorkflowID, SignalName: "AFTER-RELOAD"}))
	got := readToEnd(t, run)
	wantIn(t, "stream after the key was removed", got, "event: signedout")
	wantNotIn(t, "stream after the key was removed", got, "AFTER-RELOAD")
}

// narrowing is an auth file whose orders-viewer may read orders and
// payments, less what deny takes away on orders (JSON statements, each
// with a leading comma); the operator may do anything.
func narrowing(deny string) string {
	return `{"principals": [
 {"name": "operator", "accessKeys": [{"accessKeyId": "AKIAOPERATOR0000001", "secretAccessKey": "operator-secret"}],
  "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]},
 {"name": "orders-viewer", "accessKeys": [{"accessKeyId": "AKIAVIEWER000000001", "secretAccessKey": "viewer-secret"}],
  "policies": [{"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/orders"},
    {"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/payments"}` + deny + `]}]}
]}`
}

// A reload of the auth file that keeps a key but narrows its policies asks
// each of its open streams again what the stream was authorized as when it
// opened: a stream no longer allowed ends ("denied") before anything else
// is sent to it, and the others — the same key's on what it may still
// read, another key's on the same run — keep going.
func TestLiveStreamReauthorizedOnReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(path, []byte(narrowing("")), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := auth.LoadKeyring(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, withConfig(func(c *server.Config) { c.Auth = keys }))
	open := f.shop()
	f.register("payments")
	pay := f.startRun("payments", "payment-1", "{}")
	reload := func(deny string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(narrowing(deny)), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := f.srv.Server.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	signal := func(domain string, ex api.WorkflowExecution, name string) {
		t.Helper()
		f.check(f.svc.SignalWorkflowExecution(f.ctx, &api.SignalWorkflowExecutionInput{Domain: domain, WorkflowID: ex.WorkflowID, SignalName: name}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	viewer := newWeb(t, f.srv.URL)
	viewer.signIn("AKIAVIEWER000000001", "viewer-secret")
	operator := newWeb(t, f.srv.URL)
	operator.signIn("AKIAOPERATOR0000001", "operator-secret")
	stream := func(w *web, path string) *bufio.Reader {
		t.Helper()
		code, r := w.openStream(ctx, path)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, code)
		}
		return r
	}
	ordersRun := stream(viewer, execPath("orders", open)+"/live?after="+itoa(f.lastEventID("orders", open)))
	readUntil(t, ordersRun, "event: pending") // subscribed: the first refresh
	operatorRun := stream(operator, execPath("orders", open)+"/live?after="+itoa(f.lastEventID("orders", open)))
	readUntil(t, operatorRun, "event: pending")
	paymentsRun := stream(viewer, execPath("payments", pay)+"/live?after="+itoa(f.lastEventID("payments", pay)))
	readUntil(t, paymentsRun, "event: pending")
	ordersList := stream(viewer, "/console/d/orders/live")
	f.startRun("orders", "before-reload", "{}")
	readUntil(t, ordersList, "before-reload") // subscribed

	// The viewer may no longer read orders' histories: its stream of an
	// orders run ends; it may still list orders' executions and read
	// payments, and the operator may still read everything.
	reload(`,
    {"Effect": "Deny", "Action": "swf:GetWorkflowExecutionHistory", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/orders"}`)
	signal("orders", open, "AFTER-FIRST-RELOAD")
	f.startRun("orders", "after-first-reload-run", "{}")
	signal("payments", pay, "payments-after-first-reload")
	got := readToEnd(t, ordersRun)
	wantIn(t, "the viewer's orders run stream after its history was denied", got, "event: denied")
	wantNotIn(t, "the viewer's orders run stream after its history was denied", got, "AFTER-FIRST-RELOAD", "event: signedout")
	readUntil(t, operatorRun, "AFTER-FIRST-RELOAD")
	readUntil(t, ordersList, "after-first-reload-run")
	readUntil(t, paymentsRun, "payments-after-first-reload")

	// Nor list orders' closed executions: its list of orders ends too.
	reload(`,
    {"Effect": "Deny", "Action": "swf:GetWorkflowExecutionHistory", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/orders"},
    {"Effect": "Deny", "Action": "swf:ListClosedWorkflowExecutions", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/orders"}`)
	f.startRun("orders", "AFTER-SECOND-RELOAD-RUN", "{}")
	signal("orders", open, "after-second-reload")
	signal("payments", pay, "payments-after-second-reload")
	got = readToEnd(t, ordersList)
	wantIn(t, "the viewer's orders list stream after its listing was denied", got, "event: denied")
	wantNotIn(t, "the viewer's orders list stream after its listing was denied", got, "AFTER-SECOND-RELOAD-RUN", "event: signedout")
	readUntil(t, operatorRun, "after-second-reload")
	readUntil(t, paymentsRun, "payments-after-second-reload")

	// The viewer is still signed in, and its pages say what it may not
	// see.
	if code, _ := viewer.get(execPath("payments", pay)); code != http.StatusOK {
		t.Errorf("the viewer's payments run page after the reloads: %d, want 200", code)
	}
	if code, _ := viewer.openStream(ctx, execPath("orders", open)+"/live"); code != http.StatusForbidden {
		t.Errorf("the viewer's orders run stream opened after the reloads: %d, want 403", code)
	}
}
