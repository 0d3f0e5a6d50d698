package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/swfd/swfd/api"
)

// A domain's live stream tells of a run that closes with what a list's
// filters look at: its type, tags and start time, as when it started (the
// close used to come with no tags and no start time, so that a list
// filtered by tag kept the closed run, shown OPEN).
func TestLiveCloseCarriesFilters(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	f.srv.Advance(time.Minute)
	ex := f.startRun("orders", "tagged", `{}`, "lv1", "eu")
	f.srv.Advance(time.Minute)
	w := newWeb(t, f.srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", w.base+"/console/d/orders/live", nil)
	resp, err := w.c.Do(req)
	f.check(err)
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	r.ReadString('\n')
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: ex.WorkflowID}))
	got := readUntil(t, r, "TERMINATED")
	var row struct {
		WorkflowID, RunID, Type, Version, Status, Start, Close string
		Tags                                                   []string
	}
	for _, line := range strings.Split(got, "\n") {
		if d, ok := strings.CutPrefix(line, "data: "); ok && strings.Contains(d, "TERMINATED") {
			f.check(json.Unmarshal([]byte(d), &row))
		}
	}
	if row.RunID != ex.RunID || row.Type != "process-order" || row.Version != "1" || strings.Join(row.Tags, ",") != "lv1,eu" ||
		row.Start != "2026-11-30 09:01:00.000" || row.Close != "2026-11-30 09:02:00.000" {
		t.Errorf("close row %+v, want run %s of process-order 1, tags lv1,eu, started 09:01, closed 09:02", row, ex.RunID)
	}
}

// In the browser: an open list filtered by tag drops a run that closes; a
// closed list filtered by tag gains it. A filter that is not one shows its
// fault, and neither a live stream nor the form to act on what it matches.
func TestBrowserLiveListByTag(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	countLoads(t, ctx)
	f.register("orders")
	a := f.startRun("orders", "tagged-a", `{}`, "lv1")
	f.startRun("orders", "tagged-b", `{}`, "lv1")
	base := f.srv.URL
	step(t, ctx, "open list by tag", chromedp.Navigate(base+"/console/d/orders/executions?tag=lv1"),
		until(`document.querySelectorAll("#executions tbody tr.x").length === 2`), until(`!document.querySelector("[data-live-status]").hidden`),
		chromedp.Evaluate[chromedp.Void](`window.__same = 1`))
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: a.WorkflowID}))
	step(t, ctx, "closed run leaves", until(`document.querySelectorAll("#executions tbody tr.x").length === 1`))
	if !eval[bool](t, ctx, `window.__same === 1 && document.querySelector("#executions tbody").innerText.includes("tagged-b")`) {
		t.Error("the open list lost the wrong row, or reloaded")
	}

	step(t, ctx, "closed list by tag", chromedp.Navigate(base+"/console/d/orders/executions?status=closed&tag=lv1"),
		until(`document.querySelectorAll("#executions tbody tr.x").length === 1`), until(`!document.querySelector("[data-live-status]").hidden`))
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: "tagged-b"}))
	step(t, ctx, "closed run arrives", until(`document.querySelectorAll("#executions tbody tr.x").length === 2`))
	if txt := eval[string](t, ctx, `document.querySelector("#executions tbody tr.x").innerText`); !strings.Contains(txt, "tagged-b") || !strings.Contains(txt, "TERMINATED") || !strings.Contains(txt, "lv1") {
		t.Errorf("new closed row %q, want tagged-b TERMINATED with tag lv1", txt)
	}

	// After a gap in the news of other nodes' commits (the node's listener
	// lost its connection), the list reads itself again and shows what a
	// reload would, in place: the page had missed a run here (its row
	// taken out, its count made wrong), and a person typing in a filter's
	// field keeps what they typed. It used to stay as it was.
	step(t, ctx, "page misses a run", chromedp.Evaluate[chromedp.Void](`
		window.__same = 2;
		document.querySelector("#executions tbody tr.x:last-child").remove();
		document.querySelector("[data-count]").textContent = "1 closed execution matches";
		document.querySelector("input[name=wid]").value = "being typed";`))
	f.srv.Server.Service.Runs().RemoteMissed()
	step(t, ctx, "list read again", until(`document.querySelectorAll("#executions tbody tr.x").length === 2`),
		until(`document.querySelector("[data-count]").textContent.trim() === "2 closed executions match"`))
	if !eval[bool](t, ctx, `window.__same === 2 && document.querySelector("input[name=wid]").value === "being typed"`) {
		t.Error("the list was reloaded after the gap, losing the filter being typed, not read again in place")
	}
	if txt := eval[string](t, ctx, `document.querySelector("#executions tbody").innerText`); !strings.Contains(txt, "tagged-a") || !strings.Contains(txt, "tagged-b") {
		t.Errorf("the list read again shows %q, want tagged-a and tagged-b", txt)
	}

	// A time that is none, a version without a type, a value no form
	// sends: the page says what is wrong. A live stream would add rows,
	// and say "live", for a list the filter does not make; a batch would
	// act on executions no list showed.
	for _, q := range []string{"?tag=lv1&from=garbage", "?status=closed&to=soon", "?version=2", "?status=Closed"} {
		_, s0 := loads(t, ctx)
		step(t, ctx, "invalid filter "+q, chromedp.Navigate(base+"/console/d/orders/executions"+q),
			until(`document.readyState === "complete" && !!document.querySelector(".fault")`))
		if _, s1 := loads(t, ctx); s1 != s0 {
			t.Errorf("%s: the page opened %d live streams, want none", q, s1-s0)
		}
		if eval[bool](t, ctx, `!!document.querySelector("[data-live], [data-live-status]:not([hidden])")`) {
			t.Errorf("%s: the page has a live list or says it is live", q)
		}
		if eval[bool](t, ctx, `!!document.querySelector('details.batch, form[action$="/batch"]')`) {
			t.Errorf("%s: the page offers to act on every execution the filter matches", q)
		}
	}
}

// A row that arrives live shows its tags as the server's rows do: each
// apart, a link to the list filtered by it (tags "a b" and "c" used to
// arrive as the text "a b c"), markup as text.
func TestBrowserLiveRowTags(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	f.startRun("orders", "before", `{}`)
	tags := []string{"a b", "c&d=e#f", "<i>x</i>"}
	for _, closed := range []bool{false, true} {
		path := "/console/d/orders/executions"
		if closed {
			path += "?status=closed"
		}
		step(t, ctx, path, chromedp.Navigate(f.srv.URL+path), until(`!document.querySelector("[data-live-status]").hidden`))
		wid := fmt.Sprintf("live-tags-%v", closed)
		ex := f.startRun("orders", wid, `{}`, tags...)
		if closed {
			f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: ex.WorkflowID}))
		}
		step(t, ctx, "live row", until(`(document.querySelector("#executions tbody tr.x") || {}).innerText.includes(`+js(wid)+`)`))
		got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#executions tbody tr.x:first-child a.tag")).map(a => {
			const u = new URL(a.href); return a.textContent + "|" + u.pathname + "|" + u.searchParams.get("tag") + "|" + u.searchParams.get("status"); })`)
		status := "null"
		if closed {
			status = "closed"
		}
		var want []string
		for _, tag := range tags {
			want = append(want, tag+"|/console/d/orders/executions|"+tag+"|"+status)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: live row's tags\n%s\nwant\n%s", path, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if eval[int](t, ctx, `document.querySelectorAll("#executions tbody i").length`) != 0 {
			t.Errorf("%s: a tag's markup was made an element", path)
		}
	}
}

// A row the live closed list gains is as the server writes it: its times
// say the local time in their tooltip, and its duration is the run's.
func TestBrowserLiveRowTimes(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	f.startRun("orders", "order-1", `{}`)
	f.srv.Advance(90 * time.Second)
	step(t, ctx, "closed list", chromedp.Navigate(f.srv.URL+"/console/d/orders/executions?status=closed"),
		until(`!!document.querySelector("#executions tr.none")`), until(`!document.querySelector("[data-live-status]").hidden`))
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: "order-1"}))
	step(t, ctx, "row", until(`!!document.querySelector("#executions tr.x")`))
	live := eval[[]string](t, ctx, `Array.from(document.querySelector("#executions tr.x").cells).slice(4, 7).map(c => c.innerText + "|" + (c.querySelector("time[title]") ? "time" : ""))`)
	step(t, ctx, "reload", chromedp.Reload(), until(`!!document.querySelector("#executions tr.x")`))
	served := eval[[]string](t, ctx, `Array.from(document.querySelector("#executions tr.x").cells).slice(4, 7).map(c => c.innerText + "|" + (c.querySelector("time[title]") ? "time" : ""))`)
	if strings.Join(live, " ") != strings.Join(served, " ") {
		t.Errorf("the live row's started, closed, duration: %q; the served row's: %q", live, served)
	}
}

// A row the live open list gains says how long its run has run, as the
// server's rows do: its duration cell used to be empty.
func TestBrowserLiveOpenRowDuration(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	step(t, ctx, "open list", chromedp.Navigate(f.srv.URL+"/console/d/orders/executions"),
		until(`!!document.querySelector("#executions tr.none")`), until(`!document.querySelector("[data-live-status]").hidden`))
	f.startRun("orders", "order-1", `{}`)
	cells := `Array.from(document.querySelector("#executions tr.x").cells).slice(4, 6).map(c => c.innerText)`
	step(t, ctx, "row", until(`!!document.querySelector("#executions tr.x")`))
	live := eval[[]string](t, ctx, cells)
	step(t, ctx, "reload", chromedp.Reload(), until(`!!document.querySelector("#executions tr.x")`))
	served := eval[[]string](t, ctx, cells)
	if strings.Join(live, " ") != strings.Join(served, " ") || served[1] == "" {
		t.Errorf("the live row's started, duration: %q; the served row's: %q", live, served)
	}
}

var sinceRE = regexp.MustCompile(`data-since="([^"]*)"`)

// nextEvent reads a live stream's next message: its event name (empty for
// the stream's opening, a keep-alive or an id alone) and the id it sets.
func nextEvent(t *testing.T, r *bufio.Reader) (event, id string) {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v", err)
		}
		switch {
		case line == "\n":
			return event, id
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event: "))
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimSpace(strings.TrimPrefix(line, "id: "))
		}
	}
}

// A list page is served with where its domain's lists stand (data-since),
// and its stream starts from there: if a run of the domain started or
// closed since, its first message tells the page to read itself again
// ("stale"); if not, nothing does. The stream gives where it starts as its
// event id, which an EventSource that connects again sends back
// (Last-Event-ID) in place of the page's. A position that is none is the
// request's fault, naming the field.
func TestLiveListStartsWhereThePageStood(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	f.register("other")
	w := newWeb(t, f.srv.URL)
	code, body := w.get("/console/d/orders/executions")
	m := sinceRE.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil || m[1] == "" {
		t.Fatalf("list page: %d, no data-since", code)
	}
	served := m[1]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	open := func(path, lastID string) *bufio.Reader {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", w.base+path, nil)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := w.c.Do(req)
		f.check(err)
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return bufio.NewReader(resp.Body)
	}
	// first is the event a stream sends first after its opening (whose id
	// is returned), once a run is started to be sure something comes.
	first := func(r *bufio.Reader, wid string) (event, id string) {
		t.Helper()
		if _, id = nextEvent(t, r); id == "" {
			t.Fatal("the stream's opening gives no id")
		}
		f.startRun("orders", wid, `{}`)
		event, _ = nextEvent(t, r)
		return event, id
	}

	// Nothing changed since the page was served (a run of another domain
	// is no news to it).
	f.startRun("other", "elsewhere", `{}`)
	ev, id := first(open("/console/d/orders/live?since="+url.QueryEscape(served), ""), "a")
	if ev != "row" || id != served {
		t.Errorf("stream from the page's position: first %q, id %q; want a row, id %q", ev, id, served)
	}
	// Run "a" started since: the page may lack it.
	ev, latest := first(open("/console/d/orders/live?since="+url.QueryEscape(served), ""), "b")
	if ev != "stale" || latest == served {
		t.Errorf("stream from a position before a run started: first %q, id %q; want stale and a new id", ev, latest)
	}
	// An EventSource connecting again sends the id its stream started at.
	_, now := nextEvent(t, open("/console/d/orders/live", ""))
	for _, c := range []struct {
		name, since, lastID, want string
	}{
		{"reconnection with nothing since", served, now, "row"},
		{"reconnection after a run started", now, served, "stale"},
		{"no position", "", "", "stale"},
		{"another process's position", "AAAAAAAAAAAAAAAA.0", "", "stale"},
	} {
		path := "/console/d/orders/live"
		if c.since != "" {
			path += "?since=" + url.QueryEscape(c.since)
		}
		if ev, _ := first(open(path, c.lastID), c.name); ev != c.want {
			t.Errorf("%s: first event %q, want %q", c.name, ev, c.want)
		}
		_, now = nextEvent(t, open("/console/d/orders/live", ""))
	}

	for _, c := range []struct{ since, lastID, field string }{
		{"garbage", "", "since"},
		{"AAAA.-1", "", "since"},
		{strings.Repeat("A", 1000) + ".1", "", "since"},
		{served, "<script>", "Last-Event-ID"},
	} {
		req, _ := http.NewRequest("GET", w.base+"/console/d/orders/live?since="+url.QueryEscape(c.since), nil)
		if c.lastID != "" {
			req.Header.Set("Last-Event-ID", c.lastID)
		}
		code, body, _ := w.do(req)
		if code != http.StatusBadRequest || !strings.HasPrefix(body, "ValidationException: "+c.field+": ") || len(body) > 200 {
			t.Errorf("since %.20q, Last-Event-ID %q: %d %q; want 400, a ValidationException naming %s", c.since, c.lastID, code, body, c.field)
		}
	}
}
