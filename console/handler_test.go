package console_test

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/server"
)

// web is a browser without a browser: cookies, and the CSRF token of the
// last page read.
type web struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func newWeb(t *testing.T, base string) *web {
	jar, _ := cookiejar.New(nil)
	return &web{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (w *web) do(req *http.Request) (int, string, http.Header) {
	w.t.Helper()
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		w.csrf = string(m[1])
	}
	return resp.StatusCode, string(b), resp.Header
}

func (w *web) get(path string) (int, string) {
	w.t.Helper()
	req, _ := http.NewRequest("GET", w.base+path, nil)
	code, body, _ := w.do(req)
	return code, body
}

// post sends a form with the page's CSRF token (unless form sets csrf).
func (w *web) post(path string, form url.Values) (int, string, http.Header) {
	w.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", w.csrf)
	}
	req, _ := http.NewRequest("POST", w.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return w.do(req)
}

func wantIn(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(body, want) {
			t.Errorf("%s lacks %q", what, want)
		}
	}
}

func wantNotIn(t *testing.T, what, body string, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(body, n) {
			t.Errorf("%s holds %q", what, n)
		}
	}
}

// An empty tag box is no tag filter: a person who leaves it empty asks for
// every execution, not for those tagged "" (which the API's tagFilter with
// tag "" lists). The list, its count, its command line and a batch all
// take every execution, one tagged "" among them.
func TestEmptyTagBoxIsNoFilter(t *testing.T) {
	f := newFixture(t)
	f.shop()
	f.startRun("orders", "order-2000", `{}`, "")
	w := newWeb(t, f.srv.URL)
	// The form sends every box, the empty ones too.
	_, body := w.get("/console/d/orders/executions?wid=&type=&version=&tag=&from=&to=&order=&size=50")
	wantIn(t, "empty tag box", body, "order-1001", "order-1004", "order-1005", "order-2000", "4 open executions<")
	wantNotIn(t, "empty tag box", body, "--tag-filter", "No open executions match")
	_, body = w.get("/console/d/orders/executions?status=closed&tag=")
	wantIn(t, "empty tag box, closed", body, "order-1000", "order-1002", "order-1003", "3 closed executions")
	_, body, _ = w.post("/console/d/orders/batch", url.Values{"tag": {""}, "action": {"terminate"}, "reason": {"r"}})
	wantIn(t, "batch with an empty tag box", body, "Terminate 4 executions?")
}

// Every page answers, with what it is for.
func TestPages(t *testing.T) {
	f := newFixture(t)
	open := f.shop()
	w := newWeb(t, f.srv.URL)
	ep := execPath("orders", open)
	pages := []struct {
		path  string
		wants []string
	}{
		{"/console/", []string{"orders", "Orders from the web shop", "30 days", "register-domain"}},
		{"/console/d/orders/types", []string{"process-order", "charge-card", "deciders", "Deprecate domain", "register-workflow-type",
			"swf deprecate-activity-type --domain orders --activity-type name=pack,version=1"}},
		{"/console/d/orders/executions", []string{"order-1001", "order-1004", "3 open executions", "list-open-workflow-executions"}},
		{"/console/d/orders/executions?status=closed", []string{"order-1000", "COMPLETED", "TERMINATED", "FAILED", "list-closed-workflow-executions"}},
		{"/console/d/orders/executions?status=closed&close=FAILED", []string{"order-1003", "--close-status-filter status=FAILED"}},
		{"/console/d/orders/executions?type=process-order&version=1", []string{"order-1001", "--type-filter name=process-order,version=1"}},
		{"/console/d/orders/executions?wid=order-1004", []string{"order-1004", "--execution-filter workflowId=order-1004"}},
		{"/console/d/orders/executions?from=2026-11-30T09:00:20&to=2026-11-30T09:00:25", []string{"order-1004", "1 open execution match"}},
		{"/console/d/orders/start", []string{"process-order 1", "start-workflow-execution"}},
		{"/console/d/orders/tasklists", []string{"deciders", "workers", "decider-1", "worker-7"}},
		{"/console/d/orders/attention", []string{"Looked at 3 open executions"}},
		{ep, []string{"order-1001", "OPEN", "vip", "WorkflowExecutionSignaled", "address-changed", "ActivityTaskFailed", "card declined", "signal-workflow-execution"}},
		{ep + "/pending", []string{"charge-card", "worker-7", "waiting for the bank", "reminder"}},
		{ep + "/timeline", []string{"<svg", "charge", "reminder", "Decision tasks"}},
		{ep + "/events?types=ActivityTaskFailed", []string{"ActivityTaskFailed", "card declined"}},
		{ep + "/events?q=LYON", []string{"WorkflowExecutionSignaled"}},
	}
	for _, p := range pages {
		code, body := w.get(p.path)
		if code != http.StatusOK && !(strings.Contains(p.path, "/events") && code == http.StatusSeeOther) {
			t.Errorf("GET %s: %d", p.path, code)
			continue
		}
		if code == http.StatusSeeOther {
			req, _ := http.NewRequest("GET", w.base+p.path, nil)
			req.Header.Set("X-Console-Fragment", "1")
			code, body, _ = w.do(req)
		}
		wantIn(t, p.path, body, p.wants...)
	}
	// The fragment of a type filter holds only that type.
	req, _ := http.NewRequest("GET", w.base+ep+"/events?types=ActivityTaskFailed", nil)
	req.Header.Set("X-Console-Fragment", "1")
	_, frag, _ := w.do(req)
	if n := strings.Count(frag, `<tr id="e`); n != 1 {
		t.Errorf("type filter: %d rows, want 1", n)
	}
	// Jump to an event: it is marked.
	_, body := w.get(ep + "?at=5")
	wantIn(t, "jump", body, `id="e5" class="ev c-activity mark"`)
	// The whole history as JSON.
	_, js := w.get(ep + "/history.json")
	wantIn(t, "history.json", js, `"eventType":"WorkflowExecutionStarted"`, `"eventId":1`)
	// A workflow id alone goes to its run.
	code, _ := w.get("/console/d/orders/w/order-1001")
	if code != http.StatusSeeOther {
		t.Errorf("latest run: %d", code)
	}
	// GET / sends a browser to the console; a GET that is not a
	// browser's gets the API's answer.
	req, _ = http.NewRequest("GET", f.srv.URL+"/", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	resp, err := w.c.Do(req)
	f.check(err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/console/" {
		t.Errorf("a browser's GET /: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = w.c.Get(f.srv.URL + "/")
	f.check(err)
	resp.Body.Close()
	if resp.StatusCode == http.StatusFound {
		t.Error("GET / without Accept: text/html was sent to the console")
	}
}

// A long history opens from its end and pages back by cursor.
func TestHistoryPaging(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	ex := f.longHistory("orders", "long", 300)
	w := newWeb(t, f.srv.URL)
	_, body := w.get(execPath("orders", ex))
	rows := regexp.MustCompile(`<tr id="e(\d+)"`).FindAllStringSubmatch(body, -1)
	if len(rows) != 50 || rows[0][1] != "302" || rows[49][1] != "253" {
		t.Fatalf("first screen: %d rows from %v to %v, want 50 from 302 down", len(rows), rows[0], rows[len(rows)-1])
	}
	more := regexp.MustCompile(`href="([^"]+/events\?before=253)"`).FindStringSubmatch(body)
	if more == nil {
		t.Fatal("no link to older events")
	}
	req, _ := http.NewRequest("GET", w.base+html.UnescapeString(more[1]), nil)
	req.Header.Set("X-Console-Fragment", "1")
	_, frag, _ := w.do(req)
	rows = regexp.MustCompile(`<tr id="e(\d+)"`).FindAllStringSubmatch(frag, -1)
	if len(rows) != 50 || rows[0][1] != "252" {
		t.Errorf("second screen starts at %v (%d rows), want 252", rows[0], len(rows))
	}
	// Oldest first, filtered by text across every page.
	req, _ = http.NewRequest("GET", w.base+execPath("orders", ex)+"/events?order=asc&q=tick-29", nil)
	req.Header.Set("X-Console-Fragment", "1")
	_, frag, _ = w.do(req)
	if n := strings.Count(frag, `<tr id="e`); n != 11 { // tick-29 and tick-290 … tick-299
		t.Errorf("text filter: %d rows, want 11", n)
	}
}

// Bad input to any form or URL gets a clear message and changes nothing.
func TestHostileInput(t *testing.T) {
	var logBuf logbuf.Buffer
	f := newFixture(t, withConfig(func(c *server.Config) { c.Logger = slog.New(slog.NewTextHandler(&logBuf, nil)) }))
	open := f.shop()
	w := newWeb(t, f.srv.URL)
	w.get("/console/")
	ep := execPath("orders", open)
	cases := []struct {
		method, path string
		form         url.Values
		code         int
		wants        []string
	}{
		{"GET", "/console/d/nope/executions", nil, 404, []string{"UnknownResourceFault", "nope"}},
		{"GET", "/console/d/orders/executions?from=yesterday-ish", nil, 200, []string{"is not a time"}},
		{"GET", "/console/d/orders/executions?wid=a&tag=b", nil, 200, []string{"ValidationException"}},
		{"GET", "/console/d/orders/executions?page=forged-token", nil, 200, []string{"ValidationException"}},
		{"GET", "/console/d/orders/executions?status=closed&close=BOGUS", nil, 200, []string{"ValidationException"}},
		{"GET", "/console/d/orders/w/order-1001/22nope", nil, 404, []string{"UnknownResourceFault"}},
		{"GET", ep + "?at=-3", nil, 400, []string{"is not a positive number"}},
		{"GET", ep + "?before=x", nil, 400, []string{"must be an event id"}},
		{"GET", ep + "?q=" + strings.Repeat("z", 300), nil, 400, []string{"longer than 256"}},
		{"POST", ep + "/signal", url.Values{"signalName": {""}}, 400, []string{"ValidationException", "signalName"}},
		{"POST", ep + "/signal", url.Values{"signalName": {"s"}, "input": {strings.Repeat("i", 40000)}}, 400, []string{"ValidationException", "input"}},
		{"POST", "/console/d/orders/start", url.Values{"workflowId": {"a:b"}, "type": {"process-order|1"}}, 400, []string{"ValidationException", "workflowId"}},
		{"POST", "/console/d/orders/start", url.Values{"workflowId": {"x"}, "type": {"nope|9"}}, 404, []string{"UnknownResourceFault"}},
		{"POST", "/console/domains", url.Values{"name": {"d"}, "retention": {"9999"}}, 400, []string{"ValidationException"}},
		{"POST", "/console/d/orders/types", url.Values{"kind": {"spaceship"}}, 400, []string{"kind must be"}},
		{"POST", "/console/d/orders/batch", url.Values{"action": {"explode"}}, 400, []string{"Choose an action"}},
		{"POST", "/console/d/orders/batch", url.Values{"action": {"rerun"}}, 400, []string{"applies to closed executions"}},
		{"POST", "/console/d/orders/batch", url.Values{"action": {"cancel"}, "confirm": {"999"}}, 400, []string{"changed since the confirmation"}},
		{"POST", ep + "/signal", url.Values{"signalName": {"s"}, "csrf": {"forged"}}, 400, []string{"InvalidCSRFToken"}},
		{"POST", ep + "/signal", url.Values{"signalName": {"s"}, "csrf": {""}}, 400, []string{"InvalidCSRFToken"}},
	}
	for _, c := range cases {
		var code int
		var body string
		if c.method == "GET" {
			code, body = w.get(c.path)
		} else {
			code, body, _ = w.post(c.path, c.form)
		}
		if code != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, trunc(c.path), code, c.code)
		}
		wantIn(t, c.method+" "+trunc(c.path), body, c.wants...)
		wantNotIn(t, c.method+" "+trunc(c.path), body, "goroutine", ".go:", "panic")
	}
	// Nothing of that signalled the run.
	hist, err := f.svc.GetWorkflowExecutionHistory(f.ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "orders", Execution: open, ReverseOrder: true, MaximumPageSize: 1})
	f.check(err)
	if hist.Events[0].EventType == api.EventTypeWorkflowExecutionSignaled {
		t.Error("a refused form signalled the run")
	}

	// A form over 1 MB.
	code, body, _ := w.post(ep+"/signal", url.Values{"signalName": {"s"}, "input": {strings.Repeat("x", 2<<20)}})
	if code != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MB form: %d %s", code, trunc(body))
	}

	// Markup in names is shown, not run.
	f.startRun("orders", `<img src=x onerror=alert(1)>`, `<b>bold</b>`)
	_, body = w.get("/console/d/orders/executions")
	wantIn(t, "list", body, "&lt;img src=x onerror=alert(1)&gt;")
	wantNotIn(t, "list", body, "<img src=x")

	// A post from another site, and a page asked for by a name that is not
	// this machine's, are refused.
	req, _ := http.NewRequest("POST", w.base+ep+"/cancel", strings.NewReader("csrf="+url.QueryEscape(w.csrf)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if code, _, _ := w.do(req); code != http.StatusForbidden {
		t.Errorf("cross-site post: %d, want 403", code)
	}
	req, _ = http.NewRequest("POST", w.base+ep+"/cancel", strings.NewReader("csrf="+url.QueryEscape(w.csrf)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	if code, _, _ := w.do(req); code != http.StatusForbidden {
		t.Errorf("post from another origin: %d, want 403", code)
	}
	req, _ = http.NewRequest("GET", w.base+"/console/", nil)
	req.Host = "evil.example:7733"
	if code, _, _ := w.do(req); code != http.StatusMisdirectedRequest {
		t.Errorf("rebound host name: %d, want 421", code)
	}
	det, err := f.svc.DescribeWorkflowExecution(f.ctx, &api.DescribeWorkflowExecutionInput{Domain: "orders", Execution: open})
	f.check(err)
	if det.ExecutionInfo.CancelRequested {
		t.Error("a refused post requested cancellation")
	}
	// The headers that keep pages in their place.
	resp, err := w.c.Get(w.base + "/console/")
	f.check(err)
	resp.Body.Close()
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if strings.Contains(logBuf.String(), "goroutine ") {
		t.Errorf("a stack in the log:\n%s", logBuf.String())
	}
}

// A query parameter with a value the console's own forms never send (a
// URL edited by hand or cut short) is named in a fault, not read as the
// default: ?status=Closed showed the open executions as if they were the
// closed ones asked for, and a misspelt event type showed a history with
// no events of it.
func TestGarbageParametersAreFaults(t *testing.T) {
	f := newFixture(t)
	open := f.shop()
	w := newWeb(t, f.srv.URL)
	ep := execPath("orders", open)
	for _, c := range []struct {
		path  string
		code  int
		wants []string
	}{
		{"/console/d/orders/executions?status=Closed", 200, []string{"ValidationException", "status: &#39;Closed&#39; is not one of open, closed"}},
		{"/console/d/orders/executions?order=sideways", 200, []string{"ValidationException", "order: &#39;sideways&#39;"}},
		{"/console/d/orders/executions?status=closed&by=end", 200, []string{"ValidationException", "by: &#39;end&#39;"}},
		{"/console/d/orders/executions?size=7", 200, []string{"ValidationException", "size: &#39;7&#39; is not one of 50, 100, 200, 500, 1000"}},
		{"/console/d/orders/executions?size=lots", 200, []string{"ValidationException", "size: &#39;lots&#39;"}},
		{ep + "?order=oldest", 400, []string{"ValidationException", "order: &#39;oldest&#39; is not one of asc, desc"}},
		{ep + "?types=ActivityTaskFaild", 400, []string{"ValidationException", "&#39;ActivityTaskFaild&#39; is not an event type"}},
		{ep + "/events?types=WorkflowExecutionStarted,Nope&before=5", 400, []string{"<!doctype html>", "&#39;Nope&#39; is not an event type"}},
	} {
		code, body := w.get(c.path)
		if code != c.code {
			t.Errorf("%s: %d, want %d", c.path, code, c.code)
		}
		wantIn(t, c.path, body, c.wants...)
		if strings.Contains(c.path, "/executions") {
			wantNotIn(t, c.path, body, "order-")
		}
	}
	// The script's fragment of more rows gets the fault as text.
	req, _ := http.NewRequest("GET", w.base+ep+"/events?types=Nope&before=5", nil)
	req.Header.Set("X-Console-Fragment", "1")
	if code, body, _ := w.do(req); code != http.StatusBadRequest || !strings.Contains(body, "'Nope' is not an event type") {
		t.Errorf("events fragment with an unknown type: %d %s", code, trunc(body))
	}
	// What the forms send is taken.
	for _, p := range []string{"/console/d/orders/executions?status=open&order=newest&size=100", "/console/d/orders/executions?status=closed&by=close&order=oldest&size=1000"} {
		if _, body := w.get(p); strings.Contains(body, "ValidationException") {
			t.Errorf("%s: a fault", p)
		}
	}
	for _, p := range []string{ep + "?order=asc", ep + "?order=desc", ep + "?types=WorkflowExecutionStarted,+DecisionTaskScheduled"} {
		if code, body := w.get(p); code != http.StatusOK || strings.Contains(body, "ValidationException") {
			t.Errorf("%s: %d, a fault", p, code)
		}
	}
}

// A workflow id's URL, which opens its latest run, keeps its query: a
// bookmark of a filtered history, or of an event, of the latest run opens
// that view, not the run's first screen.
func TestLatestRunKeepsTheQuery(t *testing.T) {
	f := newFixture(t)
	open := f.shop()
	w := newWeb(t, f.srv.URL)
	for _, q := range []string{"types=WorkflowExecutionStarted", "at=1", "q=" + url.QueryEscape("a b&c")} {
		code, _, hdr := w.do(mustRequest(t, w.base+"/console/d/orders/w/"+url.PathEscape(open.WorkflowID)+"?"+q))
		if want := execPath("orders", open) + "?" + q; code != http.StatusSeeOther || hdr.Get("Location") != want {
			t.Errorf("?%s: %d to %s, want %s", q, code, hdr.Get("Location"), want)
		}
	}
	code, _, hdr := w.do(mustRequest(t, w.base+"/console/d/orders/w/"+url.PathEscape(open.WorkflowID)))
	if want := execPath("orders", open); code != http.StatusSeeOther || hdr.Get("Location") != want {
		t.Errorf("no query: %d to %s, want %s", code, hdr.Get("Location"), want)
	}
}

func mustRequest(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// A line of the domain form's tags that is no key=value is the form's
// fault, and no domain is registered: it used to be dropped, and the
// domain registered without the tag meant. Blank lines are no tags.
func TestRegisterDomainTagLines(t *testing.T) {
	f := newFixture(t)
	w := newWeb(t, f.srv.URL)
	w.get("/console/")
	for _, tags := range []string{"team=ops\nstray", "=orphan", "team=ops\n  =x  "} {
		code, body, _ := w.post("/console/domains", url.Values{"name": {"tagged"}, "retention": {"3"}, "tags": {tags}})
		if code != http.StatusBadRequest {
			t.Errorf("tags %q: %d, want 400", tags, code)
		}
		wantIn(t, "tags "+tags, body, "ValidationException", "is not key=value")
		if _, err := f.svc.DescribeDomain(f.ctx, &api.DescribeDomainInput{Name: "tagged"}); err == nil {
			t.Fatalf("tags %q: the domain was registered", tags)
		}
	}
	if code, body, _ := w.post("/console/domains", url.Values{"name": {"tagged"}, "retention": {"3"}, "tags": {"\n team = ops \n\nempty=\n"}}); code != http.StatusSeeOther {
		t.Fatalf("register with blank lines: %d %s", code, trunc(body))
	}
	det, err := f.svc.DescribeDomain(f.ctx, &api.DescribeDomainInput{Name: "tagged"})
	f.check(err)
	tags, err := f.svc.ListTagsForResource(f.ctx, &api.ListTagsForResourceInput{ResourceArn: det.DomainInfo.Arn})
	f.check(err)
	var got []string
	for _, tg := range tags.Tags {
		got = append(got, tg.Key+"="+api.Value(tg.Value))
	}
	if strings.Join(got, ",") != "team=ops,empty=" {
		t.Errorf("tags %q, want team=ops and empty=", got)
	}
}

// A jump to an event the run's history does not have is a fault that
// says so, not a screen that reads "No more events." as if the history had
// ended there. An event that is there but does not match the filter is no
// fault.
func TestJumpToMissingEvent(t *testing.T) {
	f := newFixture(t)
	open := f.shop()
	w := newWeb(t, f.srv.URL)
	ep := execPath("orders", open)
	hist, err := f.svc.GetWorkflowExecutionHistory(f.ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "orders", Execution: open, ReverseOrder: true, MaximumPageSize: 1})
	f.check(err)
	last := hist.Events[0].EventID
	for _, at := range []int64{last + 1, last + 7, 99999} {
		code, body := w.get(ep + "?at=" + strconv.FormatInt(at, 10))
		if code != http.StatusNotFound {
			t.Errorf("?at=%d of %d events: %d, want 404", at, last, code)
		}
		wantIn(t, "?at="+strconv.FormatInt(at, 10), body, "UnknownResourceFault", "Event "+strconv.FormatInt(at, 10)+" is not in this run")
	}
	for _, q := range []string{"at=1", "at=" + strconv.FormatInt(last, 10), "at=1&types=WorkflowExecutionCompleted", "at=1&q=no-such-text"} {
		code, body := w.get(ep + "?" + q)
		if code != http.StatusOK || strings.Contains(body, "UnknownResourceFault") {
			t.Errorf("?%s: %d, a fault", q, code)
		}
	}
}

// A path under the console that names no page (a link cut short, a
// segment too many) gets the console's page saying so, with its way back,
// not a bare "404 page not found".
func TestUnknownConsolePath(t *testing.T) {
	f := newFixture(t)
	open := f.shop()
	w := newWeb(t, f.srv.URL)
	for _, p := range []string{"/console/nope", "/console/d/orders/w/", "/console/d/orders/bogus", execPath("orders", open) + "/extra/x", "/console/d/orders/w/order-1001/x/y/z"} {
		code, body := w.get(p)
		if code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, code)
		}
		wantIn(t, p, body, "UnknownResourceFault", "The console has no page at", `href="/console/"`)
	}
	// The pages that are there still answer.
	for _, p := range []string{"/console/", "/console/d/orders/executions", execPath("orders", open), "/console/static/console.css"} {
		if code, _ := w.get(p); code != http.StatusOK {
			t.Errorf("%s: %d, want 200", p, code)
		}
	}
}

// A filtered history's "Load more" says how far the filter has searched
// over every screen so far: the event it read back to, where the next
// screen starts. It used to count the events the last screen read, "read
// 350 events so far" on a second screen that had read 700.
func TestFilteredLoadMoreSaysHowFar(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	ex := f.longHistory("orders", "sparse", 800)
	w := newWeb(t, f.srv.URL)
	moreRE := regexp.MustCompile(`<a href="([^"]*)" data-more>Load more \(searched (back|up) to event (\d+)\)</a>`)
	next := execPath("orders", ex) + "?q=" + url.QueryEscape(`"xxxxxx"`)
	prev := int64(1 << 62)
	for screen := 1; screen <= 2; screen++ {
		req := mustRequest(t, w.base+next)
		if screen > 1 {
			req.Header.Set("X-Console-Fragment", "1")
		}
		code, body, _ := w.do(req)
		if code != http.StatusOK {
			t.Fatalf("screen %d: %d", screen, code)
		}
		m := moreRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("screen %d has no Load more that says how far: %s", screen, trunc(body[max(0, len(body)-400):]))
		}
		next = html.UnescapeString(m[1])
		u, err := url.Parse(next)
		f.check(err)
		reached, _ := strconv.ParseInt(m[3], 10, 64)
		if m[2] != "back" || strconv.FormatInt(reached, 10) != u.Query().Get("before") || reached >= prev {
			t.Errorf("screen %d: searched %s to event %d, the next screen from before=%s (the last said %d)", screen, m[2], reached, u.Query().Get("before"), prev)
		}
		prev = reached
	}
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// Actions through forms: start, cancel, terminate, re-run, register and
// deprecate; batches confirm the count first.
func TestActions(t *testing.T) {
	f := newFixture(t)
	f.shop()
	w := newWeb(t, f.srv.URL)
	w.get("/console/")
	code, _, hdr := w.post("/console/d/orders/start", url.Values{"workflowId": {"form-1"}, "type": {"process-order|1"}, "input": {"hello"}, "tags": {"a\nb"}, "taskList": {"deciders"}})
	if code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "/w/form-1/") {
		t.Fatalf("start: %d %s", code, hdr.Get("Location"))
	}
	_, body := w.get(hdr.Get("Location"))
	wantIn(t, "started run", body, "form-1", "hello", ">a<", ">b<", "Execution started.")
	loc, _ := url.Parse(hdr.Get("Location"))
	locPath := loc.EscapedPath()
	code, _, _ = w.post(locPath+"/cancel", nil)
	if code != http.StatusSeeOther {
		t.Errorf("cancel: %d", code)
	}
	code, _, _ = w.post(locPath+"/terminate", url.Values{"reason": {"r1"}, "childPolicy": {"ABANDON"}})
	if code != http.StatusSeeOther {
		t.Errorf("terminate: %d", code)
	}
	_, body = w.get(locPath)
	wantIn(t, "terminated run", body, "TERMINATED", "r1", "Re-run")
	code, _, hdr = w.post(locPath+"/rerun", nil)
	if code != http.StatusSeeOther || strings.HasPrefix(hdr.Get("Location"), locPath) {
		t.Fatalf("rerun: %d %s", code, hdr.Get("Location"))
	}
	_, body = w.get(hdr.Get("Location"))
	wantIn(t, "re-run", body, "OPEN", "hello", ">a<")

	// Register and deprecate.
	if code, body, _ := w.post("/console/domains", url.Values{"name": {"fresh"}, "retention": {"3"}, "description": {"new"}, "tags": {"team=ops\n"}}); code != http.StatusSeeOther {
		t.Fatalf("register domain: %d %s", code, trunc(body))
	}
	if code, body, _ := w.post("/console/d/fresh/types", url.Values{"kind": {"activity"}, "name": {"act"}, "version": {"2"}, "taskList": {"tl"}, "heartbeat": {"30"}}); code != http.StatusSeeOther {
		t.Fatalf("register type: %d %s", code, trunc(body))
	}
	if code, _, _ := w.post("/console/d/fresh/types/status", url.Values{"kind": {"activity"}, "name": {"act"}, "version": {"2"}, "action": {"deprecate"}}); code != http.StatusSeeOther {
		t.Errorf("deprecate type: %d", code)
	}
	if code, _, _ := w.post("/console/d/fresh/status", url.Values{"action": {"deprecate"}}); code != http.StatusSeeOther {
		t.Errorf("deprecate domain: %d", code)
	}
	_, body = w.get("/console/d/fresh/types")
	wantIn(t, "fresh domain", body, "DEPRECATED", "act", "HeartbeatTimeout", "30", "team=ops", "Undeprecate domain")

	// A batch: the confirmation shows the count; the second post applies.
	q := url.Values{"tag": {"web"}, "action": {"terminate"}, "reason": {"cleanup"}}
	code, body, _ = w.post("/console/d/orders/batch", q)
	wantIn(t, "batch confirmation", html.UnescapeString(body), "Terminate 2 executions?", "swf terminate-workflow-execution", "--reason cleanup", "while IFS=\"$(printf '\\t')\" read -r w r")
	q.Set("confirm", "2")
	code, body, _ = w.post("/console/d/orders/batch", q)
	wantIn(t, "batch outcome", body, "<strong>2</strong> succeeded")
	cnt, err := f.svc.CountOpenWorkflowExecutions(f.ctx, &api.CountOpenWorkflowExecutionsInput{Domain: "orders", StartTimeFilter: api.ExecutionTimeFilter{OldestDate: api.Time{Time: time.Unix(0, 0)}}, TagFilter: &api.TagFilter{Tag: "web"}})
	f.check(err)
	if cnt.Count != 0 {
		t.Errorf("after the batch, %d open executions tagged web, want 0", cnt.Count)
	}
	// Re-run every closed execution tagged web (order-1000, -1002, -1004, -1005).
	q = url.Values{"status": {"closed"}, "tag": {"web"}, "action": {"rerun"}}
	_, body, _ = w.post("/console/d/orders/batch", q)
	wantIn(t, "rerun confirmation", body, "Re-run 4 executions?")
	q.Set("confirm", "4")
	_, body, _ = w.post("/console/d/orders/batch", q)
	wantIn(t, "rerun outcome", body, "<strong>4</strong> succeeded")
}

// A batch's fields are checked before the confirmation, as the single
// action checks them: a signal name that is empty or too long, an unknown
// child policy or a reason too long is the page's fault at once (also when
// confirmed), never a confirmation followed by the same failure for every
// execution; nothing is signalled or terminated. A signal name is sent
// without white space at either end, as the single signal sends it.
func TestBatchChecksItsFieldsFirst(t *testing.T) {
	f := newFixture(t)
	f.shop()
	w := newWeb(t, f.srv.URL)
	w.get("/console/")
	for _, form := range []url.Values{
		{"action": {"signal"}, "signalName": {""}},
		{"action": {"signal"}, "signalName": {"   "}},
		{"action": {"signal"}, "signalName": {strings.Repeat("s", 257)}},
		{"action": {"signal"}, "signalName": {"s"}, "input": {strings.Repeat("i", 32769)}},
		{"action": {"terminate"}, "childPolicy": {"BOGUS"}},
		{"action": {"terminate"}, "reason": {strings.Repeat("r", 257)}},
	} {
		for _, confirm := range []string{"", "2"} {
			form.Set("tag", "web")
			form.Set("confirm", confirm)
			code, body, _ := w.post("/console/d/orders/batch", form)
			what := "batch " + trunc(form.Encode())
			if code != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", what, code)
			}
			wantIn(t, what, body, "ValidationException")
			wantNotIn(t, what, html.UnescapeString(body), "Signal 2", "Terminate 2", "succeeded")
		}
	}
	tf := api.ExecutionTimeFilter{OldestDate: api.Time{Time: time.Unix(0, 0)}}
	open, err := f.svc.ListOpenWorkflowExecutions(f.ctx, &api.ListOpenWorkflowExecutionsInput{Domain: "orders", StartTimeFilter: tf, TagFilter: &api.TagFilter{Tag: "web"}})
	f.check(err)
	if len(open.ExecutionInfos) != 2 {
		t.Fatalf("%d open executions tagged web, want 2", len(open.ExecutionInfos))
	}
	signals := func() []string {
		var names []string
		for _, info := range open.ExecutionInfos {
			hist, err := f.svc.GetWorkflowExecutionHistory(f.ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "orders", Execution: info.Execution})
			f.check(err)
			for _, ev := range hist.Events {
				full, err := ev.Full()
				f.check(err)
				if a := full.WorkflowExecutionSignaledEventAttributes; a != nil {
					names = append(names, a.SignalName)
				}
			}
		}
		return names
	}
	if got := signals(); len(got) != 0 {
		t.Fatalf("refused batches signalled %q", got)
	}

	q := url.Values{"tag": {"web"}, "action": {"signal"}, "signalName": {"  poke\t"}}
	_, body, _ := w.post("/console/d/orders/batch", q)
	wantIn(t, "batch confirmation", html.UnescapeString(body), "Signal 2 executions?", "--signal-name poke;")
	q.Set("confirm", "2")
	_, body, _ = w.post("/console/d/orders/batch", q)
	wantIn(t, "batch outcome", body, "<strong>2</strong> succeeded")
	if got := signals(); len(got) != 2 || got[0] != "poke" || got[1] != "poke" {
		t.Errorf("the batch sent signals %q, want poke twice", got)
	}
}

// Without a session nothing but the sign-in page answers; a session lives
// in an HttpOnly, SameSite=Strict cookie; secrets go nowhere.
func TestSignIn(t *testing.T) {
	var logBuf logbuf.Buffer
	f := newFixture(t, withConfig(func(c *server.Config) {
		authOption(t)(c)
		c.Logger = slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}))
	f.shop()
	w := newWeb(t, f.srv.URL)
	code, _ := w.get("/console/d/orders/executions")
	if code != http.StatusSeeOther {
		t.Errorf("no session: %d, want a redirect to sign in", code)
	}
	req, _ := http.NewRequest("GET", w.base+"/console/d/orders/live", nil)
	req.Header.Set("Accept", "text/event-stream")
	if code, _, _ := w.do(req); code != http.StatusUnauthorized {
		t.Errorf("live without a session: %d, want 401", code)
	}
	code, body, _ := w.post("/console/login", url.Values{"accessKeyId": {"AKIAVIEWER000000001"}, "secretAccessKey": {"wrong-secret-0815"}})
	if code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", code)
	}
	wantNotIn(t, "refused sign-in", body, "wrong-secret-0815")
	code, _, hdr := w.post("/console/login", url.Values{"accessKeyId": {"AKIAVIEWER000000001"}, "secretAccessKey": {"viewer-secret"}, "next": {"//evil.example/x"}})
	if code != http.StatusSeeOther || hdr.Get("Location") != "/console/" {
		t.Errorf("sign-in: %d to %q, want /console/ (not another site)", code, hdr.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: hdr}).Cookies() {
		if c.Name == "swfd_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.MaxAge <= 0 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, an expiry", cookie)
	}
	code, body = w.get("/console/d/orders/executions")
	if code != http.StatusOK {
		t.Fatalf("signed in: %d", code)
	}
	wantIn(t, "signed-in page", body, "orders-viewer", "order-1001")
	wantNotIn(t, "signed-in page", body, "viewer-secret", cookie.Value)
	// Many wrong secrets from one address: refused before they are checked.
	w2 := newWeb(t, f.srv.URL)
	limited := false
	for range 20 {
		if code, _, _ := w2.post("/console/login", url.Values{"accessKeyId": {"AKIAOPERATOR0000001"}, "secretAccessKey": {"guess"}}); code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("20 wrong secrets in a row were all checked")
	}
	// Sign-out ends the session on the server: the old cookie no longer works.
	w.post("/console/logout", nil)
	req, _ = http.NewRequest("GET", w.base+"/console/d/orders/executions", nil)
	req.AddCookie(&http.Cookie{Name: "swfd_session", Value: cookie.Value})
	if code, _, _ := w.do(req); code != http.StatusSeeOther {
		t.Errorf("after sign-out, the old cookie: %d, want a redirect to sign in", code)
	}
	log := logBuf.String()
	wantNotIn(t, "the log", log, "viewer-secret", "operator-secret", "wrong-secret-0815", cookie.Value)
	wantIn(t, "the log", log, "console: signed in", "console: sign-in failed")
}

// An open page's stream carries a new event within moments, rendered once
// for every page.
func TestLiveStream(t *testing.T) {
	f := newFixture(t)
	open := f.shop()
	w := newWeb(t, f.srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	streams := make([]*bufio.Reader, 3)
	for i := range streams {
		req, _ := http.NewRequestWithContext(ctx, "GET", w.base+execPath("orders", open)+"/live?after=100", nil)
		resp, err := w.c.Do(req)
		f.check(err)
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
			t.Fatalf("stream: %d %s", resp.StatusCode, ct)
		}
		streams[i] = bufio.NewReader(resp.Body)
		if line, _ := streams[i].ReadString('\n'); !strings.HasPrefix(line, "retry:") {
			t.Fatalf("stream starts %q", line)
		}
	}
	// Pages that say they have more events than the run (after=100) get
	// no events, but the run's pending work, read once for them all.
	f.check(f.svc.SignalWorkflowExecution(f.ctx, &api.SignalWorkflowExecutionInput{Domain: "orders", WorkflowID: open.WorkflowID, SignalName: "live-one"}))
	for i, s := range streams {
		got := readUntil(t, s, "event: pending")
		if i == 0 {
			wantIn(t, "pending event", got, "charge-card")
		}
	}
	// Fresh pages that have the history up to now get the new events.
	hist, err := f.svc.GetWorkflowExecutionHistory(f.ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "orders", Execution: open, ReverseOrder: true, MaximumPageSize: 1})
	f.check(err)
	last := hist.Events[0].EventID
	req, _ := http.NewRequestWithContext(ctx, "GET", w.base+execPath("orders", open)+"/live?after="+itoa(last), nil)
	resp, err := w.c.Do(req)
	f.check(err)
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	r.ReadString('\n')
	readUntil(t, r, "event: pending") // connected: the first refresh
	f.check(f.svc.SignalWorkflowExecution(f.ctx, &api.SignalWorkflowExecutionInput{Domain: "orders", WorkflowID: open.WorkflowID, SignalName: "live-two"}))
	got := readUntil(t, r, "live-two")
	wantIn(t, "events message", got, "event: events", "WorkflowExecutionSignaled")

	// A list page hears of an execution that starts.
	req, _ = http.NewRequestWithContext(ctx, "GET", w.base+"/console/d/orders/live", nil)
	resp, err = w.c.Do(req)
	f.check(err)
	defer resp.Body.Close()
	r = bufio.NewReader(resp.Body)
	r.ReadString('\n')
	f.startRun("orders", "live-list", "{}")
	got = readUntil(t, r, "live-list")
	wantIn(t, "row message", got, "event: row", `"status":"OPEN"`, `"created":true`)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// readUntil reads a stream until the end of the message in which it has
// seen want, and returns what it read.
func readUntil(t *testing.T, r *bufio.Reader, want string) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			t.Fatalf("stream ended before %q: %v\n%s", want, err, b.String())
		}
		if line == "\n" && strings.Contains(b.String(), want) {
			return b.String()
		}
	}
}

// --console=false: no console, and GET / is the API's.
func TestConsoleOff(t *testing.T) {
	f := newFixture(t, withConfig(func(c *server.Config) { c.NoConsole = true }))
	for _, p := range []string{"/console/", "/console/static/console.js"} {
		resp, err := http.Get(f.srv.URL + p)
		f.check(err)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("GET %s with the console off: 200", p)
		}
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	f.check(err)
	resp.Body.Close()
	if resp.StatusCode == http.StatusFound {
		t.Error("GET / is sent to a console that is off")
	}
}

// The history's "Containing" filter finds '<', '>' and '&' (the stored
// JSON writes them as \u003c, \u003e, \u0026), and a row's JSON shows
// them as they are.
func TestHistoryFilterMarkup(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	ex := f.startRun("orders", "markup", `{}`)
	f.check(f.svc.SignalWorkflowExecution(f.ctx, &api.SignalWorkflowExecutionInput{Domain: "orders", WorkflowID: ex.WorkflowID,
		RunID: api.String(ex.RunID), SignalName: "a<b>&c", Input: api.String(`x < y && z`)}))
	w := newWeb(t, f.srv.URL)
	for _, q := range []string{"<B>&", "x < y && z", "a<b"} {
		code, body := w.get(execPath("orders", ex) + "?q=" + url.QueryEscape(q))
		if code != http.StatusOK {
			t.Fatalf("?q=%s: %d", q, code)
		}
		if n := strings.Count(body, `<tr id="e`); n != 1 {
			t.Errorf("?q=%s: %d events, want the signal", q, n)
		}
		wantNotIn(t, "?q="+q, body, `\u003c`, `\u0026`)
		wantIn(t, "?q="+q, html.UnescapeString(body), `"signalName": "a<b>&c"`, `"input": "x < y && z"`)
	}
}

// The history's "Containing" filter ignores case beyond ASCII too: text
// typed as a row shows it finds the row whatever its letters ("Заказ",
// "Été"), and so does the same text in another case. A filter of up to
// 256 characters is taken however many bytes they are.
func TestHistoryFilterFoldsUnicode(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	ex := f.startRun("orders", "unicode", `{}`)
	f.check(f.svc.SignalWorkflowExecution(f.ctx, &api.SignalWorkflowExecutionInput{Domain: "orders", WorkflowID: ex.WorkflowID,
		RunID: api.String(ex.RunID), SignalName: "Заказ", Input: api.String("Été à Ärger ΣΟΦΙΑ " + strings.Repeat("я", 200))}))
	w := newWeb(t, f.srv.URL)
	for _, q := range []string{"Заказ", "заказ", "ЗАКАЗ", "Été", "été", "ÉTÉ", "ärger", "σοφια", "Ärger ΣοΦιΑ", strings.Repeat("Я", 200)} {
		code, body := w.get(execPath("orders", ex) + "?q=" + url.QueryEscape(q))
		if code != http.StatusOK {
			t.Fatalf("?q=%s: %d", q, code)
		}
		if n := strings.Count(body, `<tr id="e`); n != 1 {
			t.Errorf("?q=%s: %d events, want the signal", q, n)
		}
	}
	for _, q := range []string{"Заказы", "étè"} {
		if _, body := w.get(execPath("orders", ex) + "?q=" + url.QueryEscape(q)); strings.Count(body, `<tr id="e`) != 0 {
			t.Errorf("?q=%s: found events, want none", q)
		}
	}
	if code, _ := w.get(execPath("orders", ex) + "?q=" + url.QueryEscape(strings.Repeat("я", 257))); code != http.StatusBadRequest {
		t.Errorf("a filter of 257 characters: %d, want 400", code)
	}
}

// A line copied from a row's JSON, as the page shows it (indented, a
// space after each key's colon), finds the event in the "Containing"
// filter, as a part of a value does.
func TestHistoryFilterFindsShownJSON(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	ex := f.startRun("orders", "shown", `{}`)
	f.check(f.svc.SignalWorkflowExecution(f.ctx, &api.SignalWorkflowExecutionInput{Domain: "orders", WorkflowID: ex.WorkflowID,
		RunID: api.String(ex.RunID), SignalName: "poke", Input: api.String(`say": x`)}))
	w := newWeb(t, f.srv.URL)
	_, body := w.get(execPath("orders", ex))
	shown := html.UnescapeString(body)
	for _, line := range []string{`    "signalName": "poke"`, `"signalName": "poke"`} {
		if !strings.Contains(shown, line) {
			t.Fatalf("the row's JSON lacks the line %q", line)
		}
	}
	for _, q := range []string{`"signalName": "poke"`, `    "signalName": "POKE"`, `"signalName": "poke"`, `"input": "say\": x"`, `say\": x`, "poke"} {
		_, body := w.get(execPath("orders", ex) + "?q=" + url.QueryEscape(q))
		if n := strings.Count(body, `<tr id="e`); n != 1 {
			t.Errorf("?q=%s: %d events, want the signal", q, n)
		}
	}
	if _, body := w.get(execPath("orders", ex) + "?q=" + url.QueryEscape(`"signalName": "pokes"`)); strings.Count(body, `<tr id="e`) != 0 {
		t.Error("a line of another value found events")
	}
}

var (
	hrefRE = regexp.MustCompile(`href="([^"]*)"`)
	tagRE  = regexp.MustCompile(`<[^>]*>`)
)

// follow is where a browser goes from a page's link or a redirect: the
// reference resolved against the page's URL, with dot segments ("." and
// "..", %2E too) removed as the URL standard says.
func follow(t *testing.T, page, ref string) string {
	t.Helper()
	base, err := url.Parse(page)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(strings.NewReplacer("%2E", ".", "%2e", ".").Replace(html.UnescapeString(ref)))
	if err != nil {
		t.Fatal(err)
	}
	return base.ResolveReference(u).RequestURI()
}

// linkTo is the first link on a page whose text is text, or whose target
// ends with text.
func linkTo(t *testing.T, body, text string) string {
	t.Helper()
	if href := findLink(body, text); href != "" {
		return href
	}
	t.Fatalf("no link to %q on the page", text)
	return ""
}

// findLink is linkTo's link, or "" if the page has none.
func findLink(body, text string) string {
	for _, m := range hrefRE.FindAllStringSubmatchIndex(body, -1) {
		// As a browser reads them: html/template writes '+' (in run ids)
		// as &#43;, in the text and the attribute alike.
		href, rest := html.UnescapeString(body[m[2]:m[3]]), body[m[1]:]
		if i, j := strings.Index(rest, ">"), strings.Index(rest, "</a>"); i >= 0 && j > i {
			if html.UnescapeString(tagRE.ReplaceAllString(rest[i+1:j], "")) == text {
				return href
			}
		}
		if strings.HasSuffix(href, "/"+text) {
			return href
		}
	}
	return ""
}

// Domains and workflow ids named "." and "..", which SWF allows, are
// reachable from the console's links and redirects as a browser follows
// them (resolving dot segments): each link opens its own domain's and its
// own run's page, not another's (a domain named "executions" is there to
// be landed on by mistake).
func TestDotNames(t *testing.T) {
	f := newFixture(t)
	w := newWeb(t, f.srv.URL)
	for _, dom := range []string{".", "..", "~tilde", "executions"} {
		f.register(dom)
	}
	runs := map[string]api.WorkflowExecution{}
	for _, wid := range []string{".", "..", "~w"} {
		runs[wid] = f.startRun(".", wid, `{}`)
	}
	_, domains := w.get("/console/")
	var list string // the executions of domain "."
	for _, dom := range []string{".", "..", "~tilde"} {
		link := linkTo(t, domains, dom)
		to := follow(t, "/console/", link)
		code, body := w.get(to)
		if code != http.StatusOK {
			t.Fatalf("domain %q: link %s, a browser asks for %s: %d", dom, link, to, code)
		}
		wantIn(t, "domain "+dom+"'s page ("+to+")", body, `class="dom">`+html.EscapeString(dom)+`</a>`)
		if dom == "." {
			list = to
		}
	}
	_, body := w.get(list)
	for wid, ex := range runs {
		link := linkTo(t, body, url.PathEscape(ex.RunID))
		to := follow(t, list, link)
		code, page := w.get(to)
		if code != http.StatusOK {
			t.Fatalf("run %q: link %s, a browser asks for %s: %d", wid, link, to, code)
		}
		// (html/template writes a run id's '+' as &#43;.)
		wantIn(t, "run "+wid+"'s page", page, strings.ReplaceAll(ex.RunID, "+", "&#43;"), `</span> `+html.EscapeString(wid)+`</h1>`, `class="dom">.</a>`)
		// An action's redirect comes back to the same page.
		code, _, hdr := w.post(to+"/signal", url.Values{"signalName": {"s"}})
		if code != http.StatusSeeOther {
			t.Fatalf("signal %q: %d", wid, code)
		}
		if back := follow(t, to, hdr.Get("Location")); !strings.HasPrefix(back, to+"?") {
			t.Errorf("signal %q: redirected to %s, a browser asks for %s, not %s", wid, hdr.Get("Location"), back, to)
		}
	}
	// Opening a domain by name.
	req, _ := http.NewRequest("GET", f.srv.URL+"/console/go?name=..", nil)
	_, _, hdr := w.do(req)
	to := follow(t, "/console/go", hdr.Get("Location"))
	if _, body := w.get(to); !strings.Contains(body, `class="dom">..</a>`) {
		t.Errorf("/console/go?name=..: redirected to %s, a browser asks for %s, which is not domain ..'s", hdr.Get("Location"), to)
	}
}

// The start form's tags are one a line: a tag may hold a comma (an SWF tag is
// any string), so "net, gross" is one tag. Commas used to split it in two.
// Blank lines are no tags; a browser's CRLF ends a line as a LF does.
func TestStartTagLines(t *testing.T) {
	f := newFixture(t)
	f.shop()
	w := newWeb(t, f.srv.URL)
	_, page := w.get("/console/d/orders/start")
	wantIn(t, "start form", page, `<textarea name="tags"`, "one a line")
	code, body, hdr := w.post("/console/d/orders/start", url.Values{"workflowId": {"tag-lines"}, "type": {"process-order|1"},
		"tags": {"net, gross\r\n  eu \r\n\r\na,b,c\n"}})
	if code != http.StatusSeeOther {
		t.Fatalf("start: %d %s", code, trunc(body))
	}
	loc, _ := url.Parse(hdr.Get("Location"))
	runID, err := url.PathUnescape(path.Base(loc.EscapedPath()))
	f.check(err)
	det, err := f.svc.DescribeWorkflowExecution(f.ctx, &api.DescribeWorkflowExecutionInput{Domain: "orders", Execution: api.WorkflowExecution{WorkflowID: "tag-lines", RunID: runID}})
	f.check(err)
	if got, want := det.ExecutionInfo.TagList, []string{"net, gross", "eu", "a,b,c"}; !slices.Equal(got, want) {
		t.Errorf("tags %q, want %q", got, want)
	}
}

// A list's URL carries the tokens of at most 100 pages before it: past
// that the oldest are dropped (lost=1), the page before is still linked
// while a token of it is kept, and a page with none kept links only to
// the first.
func TestPreviousPageTokensBounded(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	for i := range 60 {
		f.startRun("orders", fmt.Sprintf("order-%03d", i), `{}`)
	}
	w := newWeb(t, f.srv.URL)
	link := func(body, rel string) string {
		m := regexp.MustCompile(`<a href="([^"]*)" class="button" rel="` + rel + `">`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return html.UnescapeString(m[1])
	}
	_, body := w.get("/console/d/orders/executions")
	next := link(body, "next")
	if next == "" {
		t.Fatal("no next page")
	}
	u, err := url.Parse(next)
	f.check(err)
	q := u.Query()
	for i := range 150 {
		q.Add("back", fmt.Sprintf("tok-%03d", i))
	}
	_, body = w.get(u.Path + "?" + q.Encode())
	prev, err := url.Parse(link(body, "prev"))
	f.check(err)
	pq := prev.Query()
	if got := pq.Get("page"); got != "tok-149" {
		t.Errorf("the previous page's token is %q, want the last of those carried", got)
	}
	if n := len(pq["back"]); n != 99 || pq["back"][0] != "tok-050" || pq.Get("lost") != "1" {
		t.Errorf("the previous page carries %d tokens from %v, lost=%q; want the 99 before it and lost=1", n, pq["back"][:1], pq.Get("lost"))
	}
	// Lost, with no token kept: no previous page, the first page still.
	_, body = w.get("/console/d/orders/executions?lost=1&page=" + url.QueryEscape(q.Get("page")))
	if link(body, "prev") != "" || !strings.Contains(body, "First page") {
		t.Errorf("a page whose earlier tokens are all lost: previous %q, first page linked %v", link(body, "prev"), strings.Contains(body, "First page"))
	}
	if code, body := w.get("/console/d/orders/executions?lost=yes"); code != 200 || !strings.Contains(body, "ValidationException") {
		t.Errorf("lost=yes: %d, want the page's fault", code)
	}
}

// Without the page's script, every screen of a history that ends before
// the history's last event links to the newer events, as a screen that
// starts after its first links to the earlier ones: newest first, screen by
// screen up to the first screen (the live one); filtered, to the newer
// matches, oldest first; oldest first, "Load more" leads on.
func TestHistoryNewerEventsWithoutScript(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	ex := f.longHistory("orders", "long", 300) // events 1 to 302
	w := newWeb(t, f.srv.URL)
	ep := execPath("orders", ex)
	rowsRE := regexp.MustCompile(`<tr id="e(\d+)"`)
	ids := func(body string) []int {
		var out []int
		for _, m := range rowsRE.FindAllStringSubmatch(body, -1) {
			n, _ := strconv.Atoi(m[1])
			out = append(out, n)
		}
		return out
	}
	page := func(path string) (string, string) {
		t.Helper()
		code, body := w.get(path)
		if code == http.StatusSeeOther {
			t.Fatalf("%s: redirected", path)
		}
		if code != http.StatusOK {
			t.Fatalf("%s: %d", path, code)
		}
		return path, body
	}
	// "Load more", followed without the script, is the page at the next
	// screen: older events, newest first.
	path, body := page(ep)
	more := regexp.MustCompile(`href="([^"]+/events\?before=253)" data-more`).FindStringSubmatch(body)
	if more == nil {
		t.Fatal("the first screen has no link to older events")
	}
	req, _ := http.NewRequest("GET", w.base+html.UnescapeString(more[1]), nil)
	code, _, hdr := w.do(req)
	if code != http.StatusSeeOther {
		t.Fatalf("Load more without the script: %d", code)
	}
	path, body = page(follow(t, ep, hdr.Get("Location")))
	for _, before := range []string{"", "53", "2", "101"} {
		if before != "" {
			path, body = page(ep + "?before=" + before)
		}
		got := ids(body)
		for screen := 0; ; screen++ {
			if screen == 10 {
				t.Fatalf("from before=%s: ten screens and not yet the newest", before)
			}
			newer := findLink(body, "Newer events")
			if got[0] == 302 {
				if newer != "" {
					t.Errorf("%s: the screen from the newest event links to newer events (%s)", path, newer)
				}
				if strings.Contains(path, "before=") {
					t.Errorf("%s: the newest screen reached is not the first screen", path)
				}
				break
			}
			if newer == "" {
				t.Fatalf("%s: rows %d to %d of 302, and no link to newer events", path, got[0], got[len(got)-1])
			}
			top := got[0]
			path, body = page(follow(t, path, newer))
			got = ids(body)
			// Events after top, none skipped (the first screen, reached
			// last, may show some of the screen before again).
			if len(got) == 0 || got[0] <= top || got[len(got)-1] > top+1 || (strings.Contains(path, "before=") && got[len(got)-1] != top+1) {
				t.Fatalf("%s: the screen after the one up to event %d shows %v", path, top, got)
			}
			for i := 1; i < len(got); i++ {
				if got[i] != got[i-1]-1 {
					t.Fatalf("%s: not newest first, one after another: %v", path, got)
				}
			}
		}
	}
	// Filtered, newest first: the newer matches, oldest first.
	path, body = page(ep + "?types=WorkflowExecutionSignaled&before=100")
	if got := ids(body); len(got) != 50 || got[0] != 99 {
		t.Fatalf("%s: %v", path, got)
	}
	newer := findLink(body, "Newer events (oldest first)")
	if newer == "" {
		t.Fatalf("%s: no link to the newer matches", path)
	}
	path, body = page(follow(t, path, newer))
	if got := ids(body); len(got) != 50 || got[0] != 100 || got[49] != 149 {
		t.Errorf("%s: the newer matches are %v, want 100 to 149", path, got)
	}
	if strings.Contains(body, ">No more events") {
		t.Errorf("%s: says it has no more events", path)
	}
	// Oldest first, the next screen's link leads on without the script.
	path, body = page(ep + "?order=asc&after=100")
	more = regexp.MustCompile(`href="([^"]+/events\?[^"]*after=150[^"]*)" data-more`).FindStringSubmatch(body)
	if more == nil {
		t.Fatalf("%s: no link to the newer events", path)
	}
	req, _ = http.NewRequest("GET", w.base+html.UnescapeString(more[1]), nil)
	if code, _, hdr = w.do(req); code != http.StatusSeeOther {
		t.Fatalf("Load more, oldest first, without the script: %d", code)
	}
	path, body = page(follow(t, ep, hdr.Get("Location")))
	if got := ids(body); len(got) != 50 || got[0] != 151 {
		t.Errorf("%s: the screen after event 150 shows %v", path, got)
	}
}

// A refused sign-in is shown as an error, in the sign-in box, and keeps
// what was typed but the secret: the access key id is still in its field
// (its destination too), and the secret's field has the focus, so that a
// mistyped secret is typed again alone.
func TestRefusedSignInKeepsTheKeyID(t *testing.T) {
	f := newFixture(t, withConfig(authOption(t)))
	f.register("orders")
	w := newWeb(t, f.srv.URL)
	next := "/console/d/orders/executions?tag=vip"
	code, body, _ := w.post("/console/login", url.Values{"accessKeyId": {"AKIAVIEWER000000001"}, "secretAccessKey": {"wrong-secret-0815"}, "next": {next}})
	if code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", code)
	}
	wantNotIn(t, "refused sign-in", body, "wrong-secret-0815", `class="notice"`)
	alert := regexp.MustCompile(`<div class="fault" role="alert">([^<]*)</div>`).FindStringSubmatch(body)
	if alert == nil || !strings.Contains(alert[1], "wrong") {
		t.Errorf("the refusal is not shown as an error: %q", alert)
	}
	if i, j := strings.Index(body, `class="login"`), strings.Index(body, `role="alert"`); i < 0 || j < i {
		t.Errorf("the refusal is not in the sign-in box")
	}
	key := regexp.MustCompile(`<input name="accessKeyId"[^>]*>`).FindString(body)
	if !strings.Contains(key, `value="AKIAVIEWER000000001"`) || strings.Contains(key, "autofocus") {
		t.Errorf("the access key id's field after a refusal: %s", key)
	}
	if secret := regexp.MustCompile(`<input name="secretAccessKey"[^>]*>`).FindString(body); !strings.Contains(secret, "autofocus") || strings.Contains(secret, "value=") {
		t.Errorf("the secret's field after a refusal: %s", secret)
	}
	if !strings.Contains(body, `name="next" value="`+html.EscapeString(next)+`"`) {
		t.Errorf("the refusal lost the destination %s", next)
	}
	// A first visit: the key's field is empty and has the focus.
	_, body = w.get("/console/login")
	if key := regexp.MustCompile(`<input name="accessKeyId"[^>]*>`).FindString(body); !strings.Contains(key, "autofocus") || strings.Contains(key, "value=") {
		t.Errorf("the access key id's field on a first visit: %s", key)
	}
	wantNotIn(t, "a first visit", body, `role="alert"`)
}

// A retention of one day reads "1 day", on the domains' page and the
// domain's, not "1 days".
func TestRetentionOfOneDay(t *testing.T) {
	f := newFixture(t)
	f.check(f.svc.RegisterDomain(f.ctx, &api.RegisterDomainInput{Name: "brief", WorkflowExecutionRetentionPeriodInDays: "1"}))
	f.check(f.svc.RegisterDomain(f.ctx, &api.RegisterDomainInput{Name: "kept", WorkflowExecutionRetentionPeriodInDays: "NONE"}))
	f.check(f.svc.RegisterDomain(f.ctx, &api.RegisterDomainInput{Name: "zero", WorkflowExecutionRetentionPeriodInDays: "0"}))
	w := newWeb(t, f.srv.URL)
	_, body := w.get("/console/")
	wantIn(t, "the domains", body, "<td>1 day</td>", "<td>none</td>", "<td>0 days</td>")
	_, body = w.get("/console/d/brief/types")
	wantIn(t, "the domain", body, "1 day after an execution closes")
}

// Without the page's script, "Show pending work" opens a page of the
// console (its bar, its style, a way back), not the bare fragment the
// script puts in the execution's page; and the pending work's links to
// events lead to the execution's page at the event, there as in the
// execution's page, not to the fragment again. A screen of history that
// cannot be shown is a page too.
func TestPendingWorkWithoutScript(t *testing.T) {
	f := newFixture(t)
	open := f.shop()
	w := newWeb(t, f.srv.URL)
	ep := execPath("orders", open)
	_, page := w.get(ep)
	link := regexp.MustCompile(`<noscript><p><a href="([^"]+)">Show pending work</a>`).FindStringSubmatch(page)
	if link == nil {
		t.Fatal("the execution's page has no link to its pending work without the script")
	}
	pending := follow(t, ep, link[1])
	code, body := w.get(pending)
	if code != http.StatusOK {
		t.Fatalf("%s: %d", pending, code)
	}
	wantIn(t, "the pending work's page", html.UnescapeString(body), "<!doctype html>", `href="/console/static/console.css?v=`, `class="top"`, "charge-card", "worker-7", `href="`+ep+`"`)
	var events []string
	for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
		if strings.Contains(m[1], "at=") {
			events = append(events, follow(t, pending, m[1]))
		}
	}
	if len(events) == 0 {
		t.Fatal("the pending work links to no event")
	}
	for _, e := range events {
		if !strings.HasPrefix(e, ep+"?at=") {
			t.Errorf("an event's link leads to %s, want the execution's page %s?at=…", e, ep)
		}
	}
	// A screen of history that cannot be shown, followed without the
	// script, is a page that says why, not a line of plain text.
	code, body = w.get(ep + "/events?before=x")
	if code != http.StatusBadRequest {
		t.Errorf("events?before=x: %d", code)
	}
	wantIn(t, "a bad screen of history", body, "<!doctype html>", "ValidationException", "must be an event id")
	// Fetched by the script, it is the fragment, with the same links.
	req, _ := http.NewRequest("GET", w.base+pending, nil)
	req.Header.Set("X-Console-Fragment", "1")
	_, frag, _ := w.do(req)
	wantNotIn(t, "the fragment", frag, "<!doctype html>", `class="top"`)
	wantIn(t, "the fragment", html.UnescapeString(frag), "charge-card", `href="`+ep+`?at=`)
}

// A form sent once its session has ended (an hour unused, signed out in
// another tab) is sent to sign in, and from there back to the page it was
// sent from, rather than answered with a bare "Sign in first." that leads
// nowhere. What it asked is not done. A fragment the page's script asks
// for still gets 401, which the script understands.
func TestFormAfterSessionEndedGoesToSignIn(t *testing.T) {
	f := newFixture(t, withConfig(authOption(t)))
	f.register("orders")
	w := newWeb(t, f.srv.URL)
	page := "/console/d/orders/w/order-1/r1?types=ActivityTaskFailed"
	for _, c := range []struct{ referer, next string }{
		{f.srv.URL + page, page},
		{"http://evil.example" + page, "/console/"},
		{f.srv.URL + "/elsewhere", "/console/"},
		{"", "/console/"},
	} {
		req, _ := http.NewRequest("POST", w.base+"/console/d/orders/w/order-1/r1/signal", strings.NewReader("signalName=poke&csrf=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if c.referer != "" {
			req.Header.Set("Referer", c.referer)
		}
		code, body, hdr := w.do(req)
		if want := "/console/login?next=" + url.QueryEscape(c.next) + "&unsent=1"; code != http.StatusSeeOther || hdr.Get("Location") != want {
			t.Errorf("a form from %q without a session: %d to %q (%s), want 303 to %s", c.referer, code, hdr.Get("Location"), trunc(body), want)
			continue
		}
		// The sign-in page says that what was sent was not done.
		_, body = w.get(hdr.Get("Location"))
		wantIn(t, "the sign-in after a refused form", body, "was not done", `name="next" value="`+html.EscapeString(c.next)+`"`)
	}
	_, body := w.get("/console/login?next=%2Fconsole%2F")
	wantNotIn(t, "a sign-in asked for otherwise", body, "was not done")
	req, _ := http.NewRequest("GET", w.base+"/console/d/orders/w/order-1/r1/pending", nil)
	req.Header.Set("X-Console-Fragment", "1")
	if code, _, _ := w.do(req); code != http.StatusUnauthorized {
		t.Errorf("a fragment without a session: %d, want 401", code)
	}
}
