package console_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/runs"
	"github.com/swfd/swfd/server"
)

// holdLive has the tab hold, in the browser and before they reach the
// server, the requests for a domain's live stream from now on: each one
// held is sent on held, and goes on when release is called with it. A
// page's stream is then closed to the server for as long as the test
// wants, as when the network is down.
func holdLive(t *testing.T, ctx context.Context, domain string) (held <-chan fetch.RequestID, release func(fetch.RequestID)) {
	t.Helper()
	held, cont, stop := holdRequests(t, ctx, "the live stream", "*/console/d/"+domain+"/live*", "")
	return held, func(id fetch.RequestID) {
		t.Helper()
		cont(id)
		stop()
	}
}

// holdRequests has the tab hold, before they reach the server, the
// requests whose URL matches pattern (of the given resource type, if not
// ""), until stop is called: each one held is sent on held and goes on
// when release is called with it. what names them in the test's steps.
func holdRequests(t *testing.T, ctx context.Context, what, pattern string, rt network.ResourceType) (held <-chan fetch.RequestID, release func(fetch.RequestID), stop func()) {
	t.Helper()
	ch := make(chan fetch.RequestID, 16)
	// A listener stays for the tab's life: it takes only its own requests.
	url := strings.Trim(pattern, "*")
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok && strings.Contains(e.Request.URL, url) {
			select {
			case ch <- e.RequestID:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "hold "+what, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
			{URLPattern: pattern, ResourceType: rt, RequestStage: fetch.RequestStageRequest}}})
		return err
	}))
	return ch, func(id fetch.RequestID) {
			t.Helper()
			step(t, ctx, "release "+what, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
				return err
			}))
		}, func() {
			t.Helper()
			step(t, ctx, "stop holding "+what, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, fetch.Disable, cdp.Empty{})
				return err
			}))
		}
}

// waitHeld waits for a request holdLive holds.
func waitHeld(t *testing.T, held <-chan fetch.RequestID) fetch.RequestID {
	t.Helper()
	select {
	case id := <-held:
		return id
	case <-time.After(60 * time.Second):
		t.Fatal("the page did not ask for its live stream")
		return ""
	}
}

// countStreamEvents has every document count the events of the given
// types its live streams receive (rows, and for "many" the rows it
// stands for), in window.__events.
func countStreamEvents(t *testing.T, ctx context.Context, types ...string) {
	t.Helper()
	step(t, ctx, "count stream events", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `(() => {
  const ES = window.EventSource;
  if (!ES) return;
  window.__events = {};
  window.EventSource = function (url, opts) {
    const es = new ES(url, opts);
    ` + js(strings.Join(types, ",")) + `.split(",").forEach((ty) => es.addEventListener(ty, (m) => {
      const n = ty === "many" ? JSON.parse(m.data).count : 1;
      window.__events[ty] = (window.__events[ty] || 0) + n;
    }));
    return es;
  };
})();`})
		return err
	}))
}

// listShows is a condition on the executions list: it shows exactly the
// workflow ids given (in any order), its count says so, and it offers no
// refresh.
func listShows(wids ...string) string {
	return fmt.Sprintf(`(() => {
  const got = Array.from(document.querySelectorAll("#executions tbody tr.x td.wid a:first-child")).map((a) => a.textContent).sort();
  const want = %s.sort();
  const note = document.querySelector("[data-live-note]");
  return JSON.stringify(got) === JSON.stringify(want) && document.querySelector("[data-count]").dataset.n === String(want.length) &&
    (!note || note.hidden);
})()`, jsList(wids))
}

func jsList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = js(s)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// A run that starts, and one that closes, between the moment a list page
// reads its rows and the moment its live stream is open show on the page
// once the stream opens, in place: the page used to keep the rows it was
// served, without the run that started and with the one that closed, and
// say nothing.
func TestBrowserLiveListCatchesUpAtOpen(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	countLoads(t, ctx)
	countStreamEvents(t, ctx, "stale")
	f.register("orders")
	a := f.startRun("orders", "order-a", `{}`)
	f.startRun("orders", "order-b", `{}`)
	held, release := holdLive(t, ctx, "orders")
	step(t, ctx, "list", chromedp.Navigate(f.srv.URL+"/console/d/orders/executions"), until(listShows("order-a", "order-b")),
		chromedp.Evaluate[chromedp.Void](`window.__same = 1`))
	id := waitHeld(t, held)
	// The page has its rows; its stream is not open yet.
	f.startRun("orders", "order-c", `{}`)
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: a.WorkflowID}))
	release(id)
	step(t, ctx, "caught up", until(`!document.querySelector("[data-live-status]").hidden`), until(listShows("order-b", "order-c")))
	if d, s := loads(t, ctx); d != 1 || s != 1 || !eval[bool](t, ctx, `window.__same === 1`) {
		t.Errorf("%d loads and %d live streams, want 1 and 1: the list was reloaded, not read again in place", d, s)
	}

	// Live rows still come after that; the list was read again once.
	f.startRun("orders", "order-d", `{}`)
	step(t, ctx, "live after", until(listShows("order-b", "order-c", "order-d")))
	if n := eval[int](t, ctx, `window.__events.stale || 0`); n != 1 {
		t.Errorf("the list was told to read itself again %d times, want once", n)
	}
}

// A list page whose live stream the server ended (at --max-connections, to
// make room for another connection) shows, once its stream is open again,
// the runs that started and closed while it was away, in place, keeping
// its scroll and what is typed in its filters. It used to pick up the
// stream where it was, without those runs, and say nothing. A stream that
// opens again with nothing started or closed since it last opened has the
// list read nothing.
func TestBrowserLiveListCatchesUpAfterEviction(t *testing.T) {
	f := newFixture(t, withConfig(func(c *server.Config) { c.MaxConnections = 3 }))
	ctx := f.browser()
	countLoads(t, ctx)
	countStreamEvents(t, ctx, "stale")
	f.register("orders")
	var wids []string
	for i := range 40 {
		wids = append(wids, fmt.Sprintf("order-%02d", i))
		f.startRun("orders", wids[i], `{}`)
	}
	step(t, ctx, "list", chromedp.Navigate(f.srv.URL+"/console/d/orders/executions"), until(listShows(wids...)),
		until(`!document.querySelector("[data-live-status]").hidden`),
		chromedp.Evaluate[chromedp.Void](`window.__same = 1; window.scrollTo(0, 300); document.querySelector("input[name=tag]").value = "being typed"`))
	scroll := eval[float64](t, ctx, `window.scrollY`)
	held, release := holdLive(t, ctx, "orders")

	// Streams of other pages, opened after this one's, fill the
	// connections: the one open longest, this page's, is ended to make room.
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	evict := func() []net.Conn {
		var others []net.Conn
		for range 3 {
			c, err := net.Dial("tcp", addr)
			f.check(err)
			t.Cleanup(func() { c.Close() })
			others = append(others, c)
			fmt.Fprintf(c, "GET /console/d/orders/live HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", addr)
		}
		step(t, ctx, "evicted", until(`document.querySelector("[data-live-status]").hidden`))
		return others
	}
	others := evict()
	id := waitHeld(t, held)
	// While it is away: a run starts, one closes.
	f.startRun("orders", "order-new", `{}`)
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: "order-00"}))
	want := append(wids[1:], "order-new")
	for _, c := range others {
		c.Close()
	}
	release(id)
	step(t, ctx, "caught up", until(`!document.querySelector("[data-live-status]").hidden`), until(listShows(want...)))
	if d, s := loads(t, ctx); d != 1 || s != 1 || !eval[bool](t, ctx, `window.__same === 1`) {
		t.Errorf("%d loads and %d live streams, want 1 and 1: the list was reloaded, not read again in place", d, s)
	}
	if got := eval[string](t, ctx, `document.querySelector("input[name=tag]").value`); got != "being typed" {
		t.Errorf("the tag field says %q after the list was read again, want what was typed", got)
	}
	if got := eval[float64](t, ctx, `window.scrollY`); got != scroll {
		t.Errorf("the page scrolled from %v to %v", scroll, got)
	}

	// Evicted again, with nothing started or closed meanwhile: the stream
	// opens again where it was, and the list is not read again (a run that
	// starts after that comes as its row, after anything the stream's
	// opening sent).
	for _, c := range evict() {
		c.Close()
	}
	step(t, ctx, "open again", until(`!document.querySelector("[data-live-status]").hidden`))
	f.startRun("orders", "order-after", `{}`)
	step(t, ctx, "live after", until(listShows(append(want, "order-after")...)))
	if n := eval[int](t, ctx, `window.__events.stale || 0`); n != 1 {
		t.Errorf("the list was told to read itself again %d times, want once (after the first eviction only)", n)
	}
}

// A list page sent more changes at once than it shows one by one (its
// stream gets at most 20 rows a write, and the count of the others) reads
// itself again in place, and so does one told that runs changed on another
// node that could not be read: it used to show the first 20 and "N changes
// since this page loaded — refresh", and only that note for the other.
func TestBrowserLiveListOverflowRereads(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	countLoads(t, ctx)
	countStreamEvents(t, ctx, "row", "many", "stale")
	f.register("orders")
	step(t, ctx, "list", chromedp.Navigate(f.srv.URL+"/console/d/orders/executions?size=1000"),
		until(`!!document.querySelector("#executions tr.none")`), until(`!document.querySelector("[data-live-status]").hidden`),
		chromedp.Evaluate[chromedp.Void](`window.__same = 1`))
	// Bursts of runs started at once, until one comes to the page as more
	// than a write's rows.
	var wids []string
	for burst := 0; eval[int](t, ctx, `window.__events.many || 0`) == 0; burst++ {
		if burst == 5 {
			t.Fatal("five bursts of 60 runs never came to the page as more than 20 rows in one write")
		}
		wids = append(wids, f.startBurst(burst, 60)...)
		step(t, ctx, "burst heard", until(fmt.Sprintf(`(window.__events.row || 0) + (window.__events.many || 0) >= %d`, len(wids))))
	}
	step(t, ctx, "read again", until(listShows(wids...)))
	if d, s := loads(t, ctx); d != 1 || s != 1 || !eval[bool](t, ctx, `window.__same === 1`) {
		t.Errorf("%d loads and %d live streams, want 1 and 1: the list was reloaded, not read again in place", d, s)
	}

	// News from another node of a run that cannot be read: the page has
	// missed a run (its row taken out here), and reads itself again.
	step(t, ctx, "page misses a run", chromedp.Evaluate[chromedp.Void](`document.querySelector("#executions tbody tr.x").remove()`))
	f.srv.Server.Service.Runs().RemoteChanged([]runs.Change{{Domain: "orders", RunID: "no-such-run", Created: true}})
	step(t, ctx, "read again after remote news", until(listShows(wids...)))
	// Nothing started or closed between the page's read and its stream's
	// opening: it was not read again for that.
	if n := eval[int](t, ctx, `window.__events.stale || 0`); n != 0 {
		t.Errorf("the list was told %d times to read itself again", n)
	}
}
