package console_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/swfd/swfd/api"
)

// countLoads has every document the browser opens count itself and the
// live streams it opens, in the tab's sessionStorage ("loads",
// "streams"), so that a test sees reloads and streams whatever the page's
// script does.
func countLoads(t *testing.T, ctx context.Context) {
	t.Helper()
	step(t, ctx, "count loads", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `try {
  sessionStorage.loads = String((+sessionStorage.loads || 0) + 1);
  const ES = window.EventSource;
  if (ES) window.EventSource = function (url, opts) {
    sessionStorage.streams = String((+sessionStorage.streams || 0) + 1);
    return new ES(url, opts);
  };
} catch (e) { /* about:blank has no storage */ }`})
		return err
	}))
}

// loads is how many documents and live streams the tab has opened (see
// countLoads).
func loads(t *testing.T, ctx context.Context) (docs, streams int) {
	t.Helper()
	return eval[int](t, ctx, `+sessionStorage.loads || 0`), eval[int](t, ctx, `+sessionStorage.streams || 0`)
}

// A closed run's history page opens no live stream, whatever screen it
// shows: one that does not show the run's last event (a jump, a filter,
// oldest first) used to be sent the later events, the close among them,
// and reload itself for ever. An open run's filtered page that sees the run
// close says so and stays; its first screen reloads once, to show the
// closed run, and then opens no stream.
func TestBrowserClosedRunStaysPut(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	countLoads(t, ctx)
	f.register("orders")
	closed := f.longHistory("orders", "long-closed", 120)
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: closed.WorkflowID, RunID: api.String(closed.RunID)}))
	base := f.srv.URL
	step(t, ctx, "origin", chromedp.Navigate(base+"/console/"), until(`document.readyState === "complete"`))

	for _, q := range []string{"", "?at=5", "?types=WorkflowExecutionSignaled", "?q=tick-1", "?order=asc", "?before=60"} {
		d0, s0 := loads(t, ctx)
		step(t, ctx, "closed run "+q, chromedp.Navigate(base+execPath("orders", closed)+q),
			until(`document.readyState === "complete" && !!document.querySelector("#events tbody tr.ev")`))
		d1, s1 := loads(t, ctx)
		if d1-d0 != 1 || s1 != s0 {
			t.Errorf("closed run%s: %d loads and %d live streams, want 1 and 0", q, d1-d0, s1-s0)
		}
		if eval[bool](t, ctx, `!!document.querySelector("[data-live], [data-live-status]")`) {
			t.Errorf("closed run%s: the page has a live stream or its badge", q)
		}
	}

	// An open run, filtered: the close is news, not a reload.
	open := f.longHistory("orders", "long-open", 120)
	d0, s0 := loads(t, ctx)
	step(t, ctx, "open run, filtered", chromedp.Navigate(base+execPath("orders", open)+"?types=WorkflowExecutionSignaled"),
		until(`!!document.querySelector("#events tbody tr.ev")`), until(`!document.querySelector("[data-live-status]").hidden`),
		chromedp.Evaluate[chromedp.Void](`window.__same = 1`))
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: open.WorkflowID}))
	step(t, ctx, "closed while filtered", until(`document.querySelector("[data-events-note]").innerText.includes("closed")`))
	if note := eval[string](t, ctx, `document.querySelector("[data-events-note]").innerText`); note != "1 new event; the run has closed — show newest" {
		t.Errorf("note %q, want one new event (the terminate) and the close", note)
	}
	if !eval[bool](t, ctx, `window.__same === 1`) {
		t.Error("the filtered page reloaded when the run closed")
	}
	if d1, s1 := loads(t, ctx); d1-d0 != 1 || s1-s0 != 1 {
		t.Errorf("open run, filtered, then closed: %d loads and %d live streams, want 1 and 1", d1-d0, s1-s0)
	}

	// An open run's first screen: reloaded once, then still.
	head := f.longHistory("orders", "long-head", 60)
	d0, s0 = loads(t, ctx)
	step(t, ctx, "open run", chromedp.Navigate(base+execPath("orders", head)),
		until(`!!document.querySelector("#events tbody tr.ev")`), until(`!document.querySelector("[data-live-status]").hidden`))
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: head.WorkflowID}))
	step(t, ctx, "closed, reloaded", until(`document.readyState === "complete" && document.querySelector("[data-status]").innerText.includes("TERMINATED")`))
	if d1, s1 := loads(t, ctx); d1-d0 != 2 || s1-s0 != 1 {
		t.Errorf("open run's first screen, then closed: %d loads and %d live streams, want 2 and 1", d1-d0, s1-s0)
	}
}

// The count above a live list follows the rows it gains and loses: runs
// that start are counted in, runs that close counted out, so that the
// number says what the table shows.
func TestBrowserLiveListCount(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	for i := range 3 {
		f.startRun("orders", fmt.Sprintf("order-%d", i), `{}`)
	}
	count := `document.querySelector("[data-count]").innerText`
	step(t, ctx, "list", chromedp.Navigate(f.srv.URL+"/console/d/orders/executions"), until(`document.querySelectorAll("#executions tr.x").length === 3`),
		until(`!document.querySelector("[data-live-status]").hidden`))
	if got := eval[string](t, ctx, count); got != "3 open executions" {
		t.Fatalf("count %q", got)
	}
	f.startRun("orders", "order-3", `{}`)
	f.startRun("orders", "order-4", `{}`)
	step(t, ctx, "two start", until(`document.querySelectorAll("#executions tr.x").length === 5`))
	if got := eval[string](t, ctx, count); got != "5 open executions" {
		t.Errorf("with 5 rows the count says %q", got)
	}
	for _, wid := range []string{"order-0", "order-3", "order-4", "order-1"} {
		f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: wid}))
	}
	step(t, ctx, "four close", until(`document.querySelectorAll("#executions tr.x").length === 1`))
	if got := eval[string](t, ctx, count); got != "1 open execution" {
		t.Errorf("with 1 row the count says %q", got)
	}
	step(t, ctx, "closed list", chromedp.Navigate(f.srv.URL+"/console/d/orders/executions?status=closed&close=TERMINATED"),
		until(`document.querySelectorAll("#executions tr.x").length === 4`), until(`!document.querySelector("[data-live-status]").hidden`))
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: "order-2"}))
	step(t, ctx, "one more closes", until(`document.querySelectorAll("#executions tr.x").length === 5`))
	if got := eval[string](t, ctx, count); got != "5 closed executions match" {
		t.Errorf("with 5 rows the closed list's count says %q", got)
	}
}

// A history screen that fails to load (the network, a restart) leaves its
// link to be tried again, rather than "Loading…" for good with the rest
// of the history out of reach.
func TestBrowserLoadMoreRetries(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	ex := f.longHistory("orders", "long", 120)
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: ex.WorkflowID}))
	step(t, ctx, "history", chromedp.Navigate(f.srv.URL+execPath("orders", ex)), until(`document.querySelectorAll("#events tr.ev").length === 50`),
		until(`!!document.querySelector("a[data-more]")`))
	step(t, ctx, "offline", chromedp.Evaluate[chromedp.Void](`window.__fetch = window.fetch; window.fetch = () => Promise.reject(new TypeError("Failed to fetch"))`),
		clickShown(`a[data-more]`), until(`!document.querySelector("a[data-more]").dataset.loading`))
	if got := eval[string](t, ctx, `document.querySelector("a[data-more]").innerText`); !strings.Contains(got, "try again") {
		t.Errorf("after a failed load the link says %q", got)
	}
	step(t, ctx, "online", chromedp.Evaluate[chromedp.Void](`window.fetch = window.__fetch`), clickShown(`a[data-more]`),
		until(`document.querySelectorAll("#events tr.ev").length > 50`))
}

// The execution page's pending work that fails to load (the network, a
// restart) says so and offers to try again, rather than "Loading…" for
// good.
func TestBrowserPendingRetries(t *testing.T) {
	f := newFixture(t)
	open := f.shop()
	ctx := f.browser()
	step(t, ctx, "offline fetch", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		// No live stream: its catch-up, sent as the page subscribes, fills
		// the pending box too, and could replace the failure before it is
		// read.
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `window.__offline = true;
delete window.EventSource;
const realFetch = window.fetch;
window.fetch = function (url, opts) {
  if (window.__offline && String(url).includes("/pending")) {
    window.__failed = (window.__failed || 0) + 1;
    return Promise.reject(new TypeError("Failed to fetch"));
  }
  return realFetch.call(this, url, opts);
};`})
		return err
	}))
	step(t, ctx, "offline", chromedp.Navigate(f.srv.URL+execPath("orders", open)), until(`document.readyState === "complete"`),
		until(`window.__failed > 0`))
	if got := eval[string](t, ctx, `document.querySelector("#pending").innerText`); !strings.Contains(got, "try again") {
		t.Fatalf("after a failed load the pending box says %q", got)
	}
	step(t, ctx, "online", chromedp.Evaluate[chromedp.Void](`window.__offline = false`), clickShown(`#pending a`),
		until(`!!document.querySelector("#pending tr.activity")`))
}

// The count above a list says "match" only when a filter narrows it: the
// closed list, and any list in another order or page size, said "408
// closed executions match", "27 open executions match", with nothing to
// match, as if a filter were in force; it says so still when one is, and
// the live count keeps the same words.
func TestBrowserListCountSaysMatchOnlyWhenFiltered(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	for i := range 3 {
		f.startRun("orders", fmt.Sprintf("order-%d", i), `{}`, "web")
	}
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: "order-0"}))
	for _, c := range []struct{ path, want string }{
		{"/console/d/orders/executions", "2 open executions"},
		{"/console/d/orders/executions?size=100&order=oldest", "2 open executions"},
		{"/console/d/orders/executions?status=closed", "1 closed execution"},
		{"/console/d/orders/executions?status=closed&by=close&order=oldest", "1 closed execution"},
		{"/console/d/orders/executions?tag=web", "2 open executions match"},
		{"/console/d/orders/executions?status=closed&close=TERMINATED", "1 closed execution matches"},
		{"/console/d/orders/executions?from=7d", "2 open executions match"},
	} {
		step(t, ctx, c.path, chromedp.Navigate(f.srv.URL+c.path), until(`document.readyState === "complete" && !!document.querySelector("[data-count]")`))
		if got := eval[string](t, ctx, `document.querySelector("[data-count]").innerText`); got != c.want {
			t.Errorf("%s: the count says %q, want %q", c.path, got, c.want)
		}
	}
	// "to" at the zero time (0001-01-01, as a tool writes a time it was not
	// given) is how the API's filter says "no latest date": no bound. The
	// field is empty, the count says nothing narrows the list, and the
	// command line sends no latestDate (swf would read it as a bound).
	for _, to := range []string{"0001-01-01", "0001-01-01T00:00:00Z", "0001-01-01 00:00"} {
		step(t, ctx, "to "+to, chromedp.Navigate(f.srv.URL+"/console/d/orders/executions?to="+url.QueryEscape(to)),
			until(`document.readyState === "complete" && !!document.querySelector("[data-count]")`))
		got := eval[[]string](t, ctx, `[document.querySelector("#filters input[name=to]").value, document.querySelector("[data-count]").innerText,
		  document.querySelector("[data-cli]").textContent]`)
		if got[0] != "" {
			t.Errorf("to=%s: the field shows %q, want it empty (no bound)", to, got[0])
		}
		if got[1] != "2 open executions" {
			t.Errorf("to=%s: the count says %q, want %q", to, got[1], "2 open executions")
		}
		if strings.Contains(got[2], "latestDate") {
			t.Errorf("to=%s: the command line sends a latest date: %s", to, got[2])
		}
	}
	// Live, the words stay.
	step(t, ctx, "closed list", chromedp.Navigate(f.srv.URL+"/console/d/orders/executions?status=closed"),
		until(`document.querySelectorAll("#executions tr.x").length === 1`), until(`!document.querySelector("[data-live-status]").hidden`))
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: "order-1"}))
	step(t, ctx, "one more closes", until(`document.querySelectorAll("#executions tr.x").length === 2`))
	if got := eval[string](t, ctx, `document.querySelector("[data-count]").innerText`); got != "2 closed executions" {
		t.Errorf("with 2 rows the closed list's count says %q", got)
	}
}
