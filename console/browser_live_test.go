package console_test

import (
	"context"
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
	ctx := browser(t)
	countLoads(t, ctx)
	f := newFixture(t)
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
