package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/runs"
	"github.com/swfd/swfd/server"
)

// holdReads has the tab hold, before they reach the server, the requests
// its script makes (fetch) for a domain's executions list, until stop is
// called: a list reading itself again. Each one held is sent on held and
// goes on when release is called with it.
func holdReads(t *testing.T, ctx context.Context, domain string) (held <-chan fetch.RequestID, release func(fetch.RequestID), stop func()) {
	t.Helper()
	return holdRequests(t, ctx, "the list's reads", "*/console/d/"+domain+"/executions*", network.ResourceTypeFetch)
}

// listSeen is what a person sees of an open executions list: its rows
// (workflow id and run id, sorted), the count above them as written, and
// the live note when it shows.
type listSeen struct {
	Rows  []string `json:"rows"`
	Count string   `json:"count"`
	Note  string   `json:"note"`
	Live  bool     `json:"live"`
}

const listSeenJS = `JSON.stringify({
  rows: Array.from(document.querySelectorAll("#executions tbody tr.x")).map((tr) => tr.querySelector("td.wid a").textContent + " " + tr.dataset.run).sort(),
  count: document.querySelector("[data-count]").textContent.trim(),
  note: (() => { const n = document.querySelector("[data-live-note]"); return n && !n.hidden ? n.textContent : ""; })(),
  live: !document.querySelector("[data-live-status]").hidden,
})`

// openTruth is what the API says the open list of a domain is: every open
// execution (workflow id and run id, sorted) and the count, as the page
// words it.
func (f *fixture) openTruth(domain string) listSeen {
	f.t.Helper()
	tf := api.ExecutionTimeFilter{OldestDate: api.Time{Time: time.Unix(0, 0)}}
	out, err := f.svc.ListOpenWorkflowExecutions(f.ctx, &api.ListOpenWorkflowExecutionsInput{Domain: domain, StartTimeFilter: tf, MaximumPageSize: 1000})
	f.check(err)
	if out.NextPageToken != "" {
		f.t.Fatal("more open executions than a page of 1,000")
	}
	c, err := f.svc.CountOpenWorkflowExecutions(f.ctx, &api.CountOpenWorkflowExecutionsInput{Domain: domain, StartTimeFilter: tf})
	f.check(err)
	want := listSeen{Rows: []string{}, Live: true}
	for _, x := range out.ExecutionInfos {
		want.Rows = append(want.Rows, x.Execution.WorkflowID+" "+x.Execution.RunID)
	}
	slices.Sort(want.Rows)
	if len(want.Rows) != c.Count {
		f.t.Fatalf("the API lists %d open executions and counts %d", len(want.Rows), c.Count)
	}
	want.Count = strconv.Itoa(c.Count) + " open execution"
	if c.Count != 1 {
		want.Count += "s"
	}
	return want
}

// seesTheTruth waits until the open list the tab shows is what the API
// says, live and with no note, and fails with the difference if it is not
// within ten seconds (the page reads itself again at most once a second).
func seesTheTruth(t *testing.T, ctx context.Context, f *fixture, what string) {
	t.Helper()
	want := f.openTruth("orders")
	var got listSeen
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.check(json.Unmarshal([]byte(eval[string](t, ctx, listSeenJS)), &got))
		if got.Rows == nil {
			got.Rows = []string{}
		}
		if slices.Equal(got.Rows, want.Rows) && got.Count == want.Count && got.Note == "" && got.Live {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var missing, extra []string
	for _, r := range want.Rows {
		if !slices.Contains(got.Rows, r) {
			missing = append(missing, r)
		}
	}
	for _, r := range got.Rows {
		if !slices.Contains(want.Rows, r) {
			extra = append(extra, r)
		}
	}
	t.Fatalf("%s: the page shows %d rows, %q, note %q, live %v; the API %d rows, %q (rows missing from the page: %q; shown but not open: %q)",
		what, len(got.Rows), got.Count, got.Note, got.Live, len(want.Rows), want.Count, missing, extra)
}

// shot saves a screenshot of the tab as name.png in the test's screenshot
// directory (SWFD_SCREENSHOTS keeps them).
func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// churn starts runs and terminates most of them again soon after, as many
// callers at once, each one run every 20 ms, until stop is called (or each
// caller has started 1,000): starts and closes keep coming while the page
// reads itself again. The pace only bounds the load; nothing waits on it.
// stop returns the first error a call met.
func (f *fixture) churn(prefix string, callers int) (stop func() error) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := range 1000 {
				select {
				case <-done:
					return
				case <-tick.C:
				}
				wid := func(i int) string { return fmt.Sprintf("%s-%d-%03d", prefix, c, i) }
				if _, err := f.svc.StartWorkflowExecution(f.ctx, &api.StartWorkflowExecutionInput{Domain: "orders", WorkflowID: wid(i),
					WorkflowType: api.WorkflowType{Name: "process-order", Version: "1"}}); err != nil {
					fail(err)
					return
				}
				// A run started a few before (so that its row may have
				// reached the page first) closes; one in twenty stays open.
				if j := i - 5; j >= 0 && j%20 != 0 {
					if err := f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: wid(j)}); err != nil {
						fail(err)
						return
					}
				}
			}
		}()
	}
	var once sync.Once
	return func() error {
		once.Do(func() { close(done) })
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return first
	}
}

// liveOpenList opens, in a new tab, the open executions list of domain
// "orders" with n runs started, once it shows them and is live; the tab
// counts its loads and the events its stream receives.
func liveOpenList(t *testing.T, f *fixture, n int) context.Context {
	t.Helper()
	ctx := f.browser()
	countLoads(t, ctx)
	countStreamEvents(t, ctx, "row", "many", "stale", "resync", "remote")
	f.register("orders")
	var wids []string
	for i := range n {
		wids = append(wids, fmt.Sprintf("order-%02d", i))
		f.startRun("orders", wids[i], `{}`)
	}
	step(t, ctx, "list", chromedp.Navigate(f.srv.URL+"/console/d/orders/executions?size=1000"),
		until(listShows(wids...)), until(`!document.querySelector("[data-live-status]").hidden`),
		chromedp.Evaluate[chromedp.Void](`window.__same = 1`))
	return ctx
}

// readInPlace fails the test if the tab loaded more than one document or
// opened more than one live stream: the list was reloaded, not read again
// in place.
func readInPlace(t *testing.T, ctx context.Context) {
	t.Helper()
	if d, s := loads(t, ctx); d != 1 || s != 1 || !eval[bool](t, ctx, `window.__same === 1`) {
		t.Errorf("%d loads and %d live streams, want 1 and 1: the list was reloaded, not read again in place", d, s)
	}
}

// An open list's rows and count stay what the API says across what has
// the list read itself again while runs start and close: a read made
// while a run it shows closes, more changes at once than a write's rows,
// and its queue dropped by the server. The count used to drop one too
// many for a run whose close the read had already counted and whose row
// came after it (held while the read ran, or sent just after): "29 open
// executions" above 30 rows.
func TestBrowserLiveListCountStaysTrue(t *testing.T) {
	f := newFixture(t)
	ctx := liveOpenList(t, f, 30)
	dir := screenshotDir(t)

	// A read held while a run the page shows closes and another starts:
	// their rows reach the page before the read does, which was made after
	// both. Then again, the read let go at once: the rows come after it.
	reads, release, stopHolding := holdReads(t, ctx, "orders")
	for i, wait := range []bool{true, false} {
		rows0 := eval[int](t, ctx, `window.__events.row || 0`)
		reads0 := eval[int](t, ctx, `window.__events.remote || 0`)
		f.srv.Server.Service.Runs().RemoteChanged([]runs.Change{{Domain: "orders", RunID: "no-such-run", Created: true}})
		var id fetch.RequestID
		select {
		case id = <-reads:
		case <-time.After(30 * time.Second):
			t.Fatal("the list did not read itself again")
		}
		f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: fmt.Sprintf("order-%02d", i)}))
		f.startRun("orders", fmt.Sprintf("order-%02d", 30+i), `{}`)
		if wait {
			step(t, ctx, "rows while the read is held", until(fmt.Sprintf(`(window.__events.row || 0) >= %d`, rows0+2)))
		}
		release(id)
		step(t, ctx, "rows after the read", until(fmt.Sprintf(`(window.__events.row || 0) >= %d && (window.__events.remote || 0) > %d`, rows0+2, reads0)))
		seesTheTruth(t, ctx, f, fmt.Sprintf("after a read made while a run closed (its rows came first: %v)", wait))
	}
	stopHolding()

	// More starts at once than a write's rows, while runs start and close.
	stop := f.churn("churn", 2)
	defer func() { stop() }()
	for burst := 0; eval[int](t, ctx, `window.__events.many || 0`) == 0; burst++ {
		if burst == 5 {
			t.Fatal("five bursts of 30 runs never came to the page as more than 20 rows in one write")
		}
		heard := eval[int](t, ctx, `(window.__events.row || 0) + (window.__events.many || 0)`)
		f.startBurst(burst, 30)
		step(t, ctx, "burst heard", until(fmt.Sprintf(`(window.__events.row || 0) + (window.__events.many || 0) >= %d`, heard+30)))
	}
	shot(t, ctx, dir, "livelist-overflow")
	f.check(stop())
	seesTheTruth(t, ctx, f, "after more changes at once than a write's rows, while runs started and closed")

	// News from another node of more runs than the hub reads at once:
	// past those it reads, each is a message for the page, more than the
	// server keeps for it, so it drops the page's queue (the rows of a run
	// that starts and one that closes meanwhile with it) and tells it to
	// start again ("resync"): the page reads itself again.
	resyncs := eval[int](t, ctx, `window.__events.resync || 0`)
	for batch := 0; eval[int](t, ctx, `window.__events.resync || 0`) == resyncs; batch++ {
		if batch == 5 {
			t.Fatal("five batches of news of 20,000 runs never had the server drop the page's queue")
		}
		remote := eval[int](t, ctx, `window.__events.remote || 0`)
		news := make([]runs.Change, 20000)
		for i := range news {
			news[i] = runs.Change{Domain: "orders", RunID: fmt.Sprintf("elsewhere-%d-%05d", batch, i), Created: true}
		}
		f.srv.Server.Service.Runs().RemoteChanged(news)
		f.startRun("orders", fmt.Sprintf("after-news-%d", batch), `{}`)
		f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: fmt.Sprintf("order-%02d", 2+batch)}))
		// Told to start again, or (the queue written before it grew
		// too long) sent the news.
		step(t, ctx, "news heard", until(fmt.Sprintf(`(window.__events.resync || 0) > %d || (window.__events.remote || 0) > %d`, resyncs, remote+1000)))
	}
	seesTheTruth(t, ctx, f, "after the server dropped the page's queue")
	shot(t, ctx, dir, "livelist-resync")
	readInPlace(t, ctx)
}

// An open list whose stream the server ended (at --max-connections) while
// runs start and close shows, once its stream is open again, the rows and
// count the API says, in place.
func TestBrowserLiveListTrueAfterReconnectUnderLoad(t *testing.T) {
	f := newFixture(t, withConfig(func(c *server.Config) { c.MaxConnections = 3 }))
	ctx := liveOpenList(t, f, 30)
	dir := screenshotDir(t)
	stop := f.churn("churn", 2)
	defer func() { stop() }()

	// Streams of other pages fill the connections: the page's, open
	// longest, is ended to make room, and opens again by itself.
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	var others []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		f.check(err)
		others = append(others, c)
		fmt.Fprintf(c, "GET /console/d/orders/live HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", addr)
	}
	step(t, ctx, "evicted", until(`document.querySelector("[data-live-status]").hidden`))
	shot(t, ctx, dir, "livelist-evicted")
	for _, c := range others {
		c.Close()
	}
	stale := eval[int](t, ctx, `window.__events.stale || 0`)
	step(t, ctx, "open again", until(`!document.querySelector("[data-live-status]").hidden`),
		until(fmt.Sprintf(`(window.__events.stale || 0) > %d`, stale)))
	shot(t, ctx, dir, "livelist-reconnected")
	f.check(stop())
	seesTheTruth(t, ctx, f, "after runs started and closed across a reconnection")
	readInPlace(t, ctx)
}

// startBurst starts n runs of process-order in orders at once, with
// workflow ids burst-BURST-NN, and returns the ids.
func (f *fixture) startBurst(burst, n int) []string {
	wids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wids[i] = fmt.Sprintf("burst-%d-%02d", burst, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.svc.StartWorkflowExecution(f.ctx, &api.StartWorkflowExecutionInput{Domain: "orders", WorkflowID: wids[i],
				WorkflowType: api.WorkflowType{Name: "process-order", Version: "1"}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		f.check(err)
	}
	return wids
}
