package console_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/server"
)

// wideElements lists the elements that reach past the window's right edge
// (outside a box that scrolls them), for a failure's message.
const wideElements = `(() => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right <= innerWidth + 0.5 || !r.width) continue;
    let p = el.parentElement, hidden = false;
    for (; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden") { hidden = true; break; }
    }
    if (!hidden) out.push(el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? "." + el.className : "") + " " + Math.round(r.right));
  }
  return out.slice(0, 12).join(", ");
})()`

// Every page fits a phone's width (400 px, and a small phone's 320 px)
// without scrolling sideways:
// wide tables and the domain's tabs scroll in their own boxes, command
// lines wrap, and the breadcrumb stays in view. At a laptop's width (1400
// px) the types table fits whole, its command lines too.
func TestBrowserNarrow(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.trouble()
	open := f.shop()
	f.longHistory("orders", "order-2000", 60)
	base := f.srv.URL
	pages := []string{"/console/", "/console/d/orders/executions", "/console/d/orders/executions?status=closed",
		execPath("orders", open), execPath("orders", open) + "/timeline", "/console/d/orders/types", "/console/d/orders/start",
		"/console/d/orders/tasklists", "/console/d/trouble/attention", "/console/d/nowhere/executions",
		"/console/d/orders/w/no-such-order", "/console/d/orders/w/no-such-order/no-such-run"}
	for _, width := range []int{320, 400, 1400} {
		step(t, ctx, "viewport", chromedp.EmulateViewport(int64(width), 900))
		for _, p := range pages {
			step(t, ctx, p, chromedp.Navigate(base+p), until(`document.readyState === "complete" && !!document.querySelector("main")`),
				until(`!document.querySelector("#pending .loading")`))
			if sw, iw := eval[int](t, ctx, `document.documentElement.scrollWidth`), eval[int](t, ctx, `innerWidth`); sw > iw {
				t.Errorf("%s at %d px: the page is %d px wide; too wide: %s", p, width, sw, eval[string](t, ctx, wideElements))
			}
			if eval[bool](t, ctx, `!!document.querySelector(".tabs")`) && !eval[bool](t, ctx, `(() => { const c = document.querySelector(".crumbs .dom"); if (!c) return false;
				const r = c.getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= innerWidth; })()`) {
				t.Errorf("%s at %d px: the breadcrumb's domain is not in view", p, width)
			}
			if !eval[bool](t, ctx, `(() => { const a = document.querySelector(".tabs a[aria-current]"); return !a || a.getBoundingClientRect().right <= innerWidth; })()`) {
				t.Errorf("%s at %d px: the current tab is out of view", p, width)
			}
			// The task lists' rows at a phone's width: every cell in the
			// window, none cut, as on "Needs attention"
			// (TestBrowserNarrowAttentionLongIDs); side by side, a row's
			// last poll and pollers were out of view to the right.
			if strings.HasSuffix(p, "/tasklists") && width < 640 {
				if eval[int](t, ctx, `document.querySelectorAll("table.tasklists tbody tr").length`) == 0 {
					t.Fatalf("%s: no task list listed", p)
				}
				for _, o := range eval[[]string](t, ctx, cellsOutOfView("table.tasklists")) {
					t.Errorf("%s at %d px, a cell out of view: %s", p, width, o)
				}
			}
		}
	}
	// An unknown execution's page (by its run, or by its workflow id
	// alone) is in its domain, which exists: it keeps the domain's
	// breadcrumb and tabs, as the execution's page would, to go on from.
	// An unknown domain's has none, which would lead to the same fault.
	for _, p := range []string{"/console/d/orders/w/no-such-order", "/console/d/orders/w/no-such-order/no-such-run"} {
		step(t, ctx, p, chromedp.Navigate(base+p), until(`document.readyState === "complete" && !!document.querySelector(".fault")`))
		if got := eval[string](t, ctx, `(document.querySelector(".crumbs .dom") || {}).textContent || ""`); got != "orders" {
			t.Errorf("%s: the breadcrumb's domain is %q, want orders", p, got)
		}
		if got := eval[string](t, ctx, `(document.querySelector(".tabs a[aria-current]") || {}).textContent || ""`); got != "Executions" {
			t.Errorf("%s: the current tab is %q, want Executions", p, got)
		}
	}
	step(t, ctx, "unknown domain", chromedp.Navigate(base+"/console/d/nowhere/executions"), until(`document.readyState === "complete" && !!document.querySelector(".fault")`))
	if eval[bool](t, ctx, `!!document.querySelector(".crumbs, .tabs")`) {
		t.Errorf("an unknown domain's page has a breadcrumb or tabs to it")
	}
	// At 1400 px the types table needs no scrolling of its own.
	step(t, ctx, "types", chromedp.Navigate(base+"/console/d/orders/types"), until(`!!document.querySelector("table.types")`))
	if !eval[bool](t, ctx, `Array.from(document.querySelectorAll("table.types")).every(t => t.getBoundingClientRect().right <= t.parentElement.getBoundingClientRect().right + 0.5)`) {
		t.Errorf("at 1400 px the types table is wider than its box: %s", eval[string](t, ctx, `Array.from(document.querySelectorAll("table.types")).map(t => Math.round(t.getBoundingClientRect().width) + " in " + Math.round(t.parentElement.getBoundingClientRect().width)).join(", ")`))
	}
}

// At a phone's width the timeline keeps its text legible, scrolling
// sideways in its own box, rather than shrinking the whole drawing to the
// window (labels and ticks 4 px high, bars too small to tap).
func TestBrowserNarrowTimelineLegible(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	open := f.shop()
	step(t, ctx, "viewport", chromedp.EmulateViewport(400, 900))
	step(t, ctx, "timeline", chromedp.Navigate(f.srv.URL+execPath("orders", open)+"/timeline"), until(`!!document.querySelector("svg.timeline text")`))
	if h := eval[float64](t, ctx, `document.querySelector("svg.timeline text").getBoundingClientRect().height`); h < 10 {
		t.Errorf("at 400 px the timeline's text is %.1f px high, want at least 10", h)
	}
	if !eval[bool](t, ctx, `(() => { const w = document.querySelector(".timeline-wrap"); return w.scrollWidth > w.clientWidth && getComputedStyle(w).overflowX === "auto"; })()`) {
		t.Errorf("at 400 px the timeline does not scroll in its box")
	}
	if sw, iw := eval[int](t, ctx, `document.documentElement.scrollWidth`), eval[int](t, ctx, `innerWidth`); sw > iw {
		t.Errorf("at 400 px the timeline's page is %d px wide: %s", sw, eval[string](t, ctx, wideElements))
	}
}

// At a phone's width an event of the history is read whole without
// scrolling sideways: its id, type and time, then its attributes under
// them, within the window (the four columns side by side put the
// attributes out of view, and an event's type cut at the window's edge).
func TestBrowserNarrowHistoryStacked(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	open := f.shop()
	step(t, ctx, "viewport", chromedp.EmulateViewport(400, 900))
	step(t, ctx, "execution", chromedp.Navigate(f.srv.URL+execPath("orders", open)), until(`document.querySelectorAll("#events tr.ev").length > 5`))
	bad := eval[string](t, ctx, `(() => {
	  const out = [];
	  for (const tr of Array.from(document.querySelectorAll("#events tr.ev")).slice(0, 12)) {
	    for (const td of tr.cells) {
	      const r = td.getBoundingClientRect();
	      if (r.right > innerWidth + 0.5 || r.left < -0.5) out.push("#" + tr.dataset.id + " " + td.className + " at " + Math.round(r.left) + ".." + Math.round(r.right));
	      else if (td.scrollWidth > td.clientWidth + 1) out.push("#" + tr.dataset.id + " " + td.className + " cut (" + td.scrollWidth + " in " + td.clientWidth + ")");
	    }
	  }
	  return out.join(", ");
	})()`)
	if bad != "" {
		t.Errorf("at 400 px the history's cells out of view: %s", bad)
	}
	// The times still say they are UTC.
	if !eval[bool](t, ctx, `document.querySelector("#events").innerText.includes("UTC")`) {
		t.Errorf("at 400 px the history does not say its times are UTC")
	}
	// At a laptop's width, the history is the four columns of a table.
	step(t, ctx, "laptop", chromedp.EmulateViewport(1366, 900), until(`getComputedStyle(document.querySelector("#events tr.ev")).display === "table-row"`))
}

// At a desktop's width the closed list's filter fields stand in one line:
// the field whose label is the Started/Closed selector has its box, and
// its input, level with its neighbours' (the selector, taller than a
// label's text, used to push its input below the others').
func TestBrowserClosedFiltersInLine(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	step(t, ctx, "desktop", chromedp.EmulateViewport(1366, 768), chromedp.Navigate(f.srv.URL+"/console/d/orders/executions?status=closed"),
		until(`!!document.querySelector("select[name=by]")`), until(`document.fonts.status === "loaded"`))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	f.check(os.WriteFile(filepath.Join(screenshotDir(t), "closed-filters.png"), png, 0o644))
	// Each field's label and input, top and bottom; a native select is a
	// pixel or two shorter than an input, whatever its label.
	boxes := eval[map[string][]float64](t, ctx, `(() => {
  const out = {};
  for (const name of ["tag", "close", "from", "to", "order"]) {
    const input = document.querySelector("#filters [name=" + name + "]");
    const l = input.closest("label").getBoundingClientRect(), r = input.getBoundingClientRect();
    out[name] = [l.top, l.bottom, r.top, r.bottom];
  }
  return out;
})()`)
	want := boxes["tag"]
	for name, got := range boxes {
		for i := range got {
			if math.Abs(got[i]-want[i]) > 2.5 {
				t.Errorf("the %q field's label and input span %v, the tag field's %v", name, got, want)
				break
			}
		}
	}
}

// In a filter bar every field's box is as high as the others': a select
// beside text inputs, and the buttons that end the bar (the browser gives
// a select and a text input of the same font and padding heights a pixel or
// more apart, and a button more). Measured in the executions' filters, the
// closed list's and a history's, at a laptop's width and a phone's.
func TestBrowserFilterControlsOneHeight(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	open := f.shop()
	for _, width := range []int64{1366, 400} {
		step(t, ctx, "viewport", chromedp.EmulateViewport(width, 900))
		for _, p := range []string{"/console/d/orders/executions", "/console/d/orders/executions?status=closed", execPath("orders", open)} {
			step(t, ctx, p, chromedp.Navigate(f.srv.URL+p), until(`!!document.querySelector("form.filters select") && document.fonts.status === "loaded"`))
			heights := eval[map[string]float64](t, ctx, `(() => {
  const out = {};
  for (const el of document.querySelectorAll("form.filters input:not([type=hidden]), form.filters select:not(.bare), form.filters button, form.filters a.button")) {
    out[el.tagName.toLowerCase() + " " + (el.name || el.textContent.trim())] = el.getBoundingClientRect().height;
  }
  return out;
})()`)
			want := heights["input wid"]
			if want == 0 {
				want = heights["input types"]
			}
			for name, h := range heights {
				if math.Abs(h-want) > 0.5 {
					t.Errorf("%s at %d px: %s is %.2f px high, the text inputs %.2f", p, width, name, h, want)
				}
			}
		}
	}
}

// At a phone's width a long workflow id takes at most two lines of its
// row, cut short with an ellipsis, rather than a line for every dozen of
// its characters; the link still holds the whole id (its text, copied, and
// its title, shown on hover), as do the rows the live list adds.
func TestBrowserNarrowLongIDs(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	long := "order-" + strings.Repeat("0123456789abcdef-", 5) + "end"
	f.startRun("orders", long, `{}`)
	f.startRun("orders", "short-1", `{}`)
	step(t, ctx, "phone", chromedp.EmulateViewport(400, 900))
	step(t, ctx, "list", chromedp.Navigate(f.srv.URL+"/console/d/orders/executions"), until(`document.querySelectorAll("#executions tr.x").length === 2`),
		until(`!document.querySelector("[data-live-status]").hidden`))
	check := func(what, row string) {
		t.Helper()
		sel := `#executions ` + row + ` td.wid a`
		lines := eval[float64](t, ctx, `(() => { const a = document.querySelector(`+js(sel)+`); return a.getBoundingClientRect().height / parseFloat(getComputedStyle(a).lineHeight); })()`)
		if lines > 2.2 {
			t.Errorf("%s: the long workflow id takes %.1f lines, want at most 2", what, lines)
		}
		if got := eval[string](t, ctx, `document.querySelector(`+js(sel)+`).textContent`); got != long {
			t.Errorf("%s: the link's text is %q, want the whole id", what, got)
		}
		if got := eval[string](t, ctx, `document.querySelector(`+js(sel)+`).title`); got != long {
			t.Errorf("%s: the link's title is %q, want the whole id", what, got)
		}
	}
	check("a row of the page", `tr.x:has(a[href*="/w/order-"])`)
	f.startRun("orders", long+"-live", `{}`)
	step(t, ctx, "live row", until(`!!document.querySelector("#executions tr.x.fresh")`))
	long += "-live"
	check("a row the live list added", `tr.x.fresh`)
}

// The fields of a filter bar are written in the page's size of text, as
// the rest of the page is (their labels are smaller, the fields were too),
// and each shows its whole placeholder at a laptop's width: the hint in
// "from" ("24h, 7d, 2026-12-01"), and the history's, were cut short.
func TestBrowserFilterFieldsReadable(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	open := f.shop()
	step(t, ctx, "laptop", chromedp.EmulateViewport(1366, 900))
	for _, p := range []string{"/console/d/orders/executions", "/console/d/orders/executions?status=closed", execPath("orders", open)} {
		step(t, ctx, p, chromedp.Navigate(f.srv.URL+p), until(`!!document.querySelector("form.filters select") && document.fonts.status === "loaded"`))
		bad := eval[[]string](t, ctx, `(() => {
  const out = [], page = getComputedStyle(document.body).fontSize;
  for (const el of document.querySelectorAll("form.filters input:not([type=hidden]), form.filters select:not(.bare)")) {
    const s = getComputedStyle(el);
    if (s.fontSize !== page) out.push(el.name + ": text " + s.fontSize + ", the page's " + page);
    if (!el.placeholder) continue;
    // The placeholder typed in as a value scrolls the field if it does
    // not fit (room taken by a datalist's arrow included).
    const was = el.value;
    el.value = el.placeholder;
    const need = el.scrollWidth, room = el.clientWidth;
    el.value = was;
    if (need > room) out.push(el.name + ": placeholder " + JSON.stringify(el.placeholder) + " needs " + need + " px, has " + room);
  }
  return out;
})()`)
		for _, b := range bad {
			t.Errorf("%s: %s", p, b)
		}
	}
}

// On "Needs attention" at a phone's width a long workflow id takes at most
// two lines of its row, as in the executions list, rather than a line for
// every few of its characters; the link holds the whole id, its title too.
// And every cell of a row is in the window, read whole where it is: the
// times of a row, side by side with its other cells, were out of view to the
// right, in a box that scrolled with nothing to say there was more.
func TestBrowserNarrowAttentionLongIDs(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	long := strings.Repeat("0123456789abcdef-", 5) + "end-"
	f.troubleNamed(func(wid string) string { return long + wid })
	for _, width := range []int64{390, 400} {
		step(t, ctx, "phone", chromedp.EmulateViewport(width, 900))
		step(t, ctx, "attention", chromedp.Navigate(f.srv.URL+"/console/d/trouble/attention"), until(`document.querySelectorAll("main section tbody tr").length === 4`))
		links := eval[[][]string](t, ctx, `Array.from(document.querySelectorAll("main section tbody tr td:first-child a")).map(a =>
	  [a.textContent, a.title, String(a.getBoundingClientRect().height / parseFloat(getComputedStyle(a).lineHeight))])`)
		if len(links) != 4 {
			t.Fatalf("at %d px: %d execution links, want 4", width, len(links))
		}
		for _, l := range links {
			if !strings.HasPrefix(l[0], long) {
				t.Errorf("at %d px: a link's text is %q, want the whole id", width, l[0])
			}
			if l[1] != l[0] {
				t.Errorf("at %d px: the link to %q has the title %q, want the whole id", width, l[0], l[1])
			}
			if lines, _ := strconv.ParseFloat(l[2], 64); lines > 2.2 {
				t.Errorf("at %d px: %q takes %.1f lines, want at most 2", width, l[0], lines)
			}
		}
		if sw, iw := eval[int](t, ctx, `document.documentElement.scrollWidth`), eval[int](t, ctx, `innerWidth`); sw > iw {
			t.Errorf("the page is %d px wide at %d: %s", sw, iw, eval[string](t, ctx, wideElements))
		}
		out := eval[[]string](t, ctx, cellsOutOfView("main section"))
		for _, o := range out {
			t.Errorf("at %d px (the window %d px wide), a cell out of view: %s", width, width, o)
		}
	}
}

// An execution's input and latest execution context (up to 32 KB each)
// are shown whole when opened, each in a box of bounded height that
// scrolls, rather than as a page tens of thousands of pixels long (a 32 KB
// input opened made the summary 9,000 px high at a laptop's width, 19,000
// at a phone's); the context was cut at 120 characters with no way to read
// the rest.
func TestBrowserHugeInputBounded(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	input := strings.Repeat("y", 32000) + "-end-of-input"
	context := strings.Repeat("c", 5000) + "-end-of-context"
	ex := f.startRun("orders", "huge", input)
	task, err := f.svc.PollForDecisionTask(f.ctx, &api.PollForDecisionTaskInput{Domain: "orders", TaskList: api.TaskList{Name: "deciders"}})
	f.check(err)
	f.check(f.svc.RespondDecisionTaskCompleted(f.ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, ExecutionContext: api.String(context)}))
	for _, width := range []int64{1366, 400} {
		step(t, ctx, "viewport", chromedp.EmulateViewport(width, 900), chromedp.Navigate(f.srv.URL+execPath("orders", ex)),
			until(`!!document.querySelector(".summary details")`),
			chromedp.Evaluate[chromedp.Void](`document.querySelectorAll(".summary details").forEach(d => d.open = true)`))
		boxes := eval[[][]float64](t, ctx, `Array.from(document.querySelectorAll(".summary details pre")).map(p => [p.getBoundingClientRect().height, p.scrollHeight, p.clientHeight])`)
		text := eval[string](t, ctx, `Array.from(document.querySelectorAll(".summary details pre")).map(p => p.textContent).join("\n")`)
		if len(boxes) != 2 {
			t.Fatalf("at %d px: %d boxes for the input and the context, want 2", width, len(boxes))
		}
		for i, b := range boxes {
			if b[0] > 500 || b[1] <= b[2] {
				t.Errorf("at %d px: box %d is %.0f px high, %.0f of content in %.0f: want a box that scrolls, at most 500 px high", width, i, b[0], b[1], b[2])
			}
		}
		if !strings.Contains(text, input) || !strings.Contains(text, context) {
			t.Errorf("at %d px the input and the context are not shown whole", width)
		}
		if h := eval[float64](t, ctx, `document.querySelector(".summary").getBoundingClientRect().height`); h > 1500 {
			t.Errorf("at %d px the summary is %.0f px high", width, h)
		}
	}
}

// A link to a place in a page (an event, ?at=N#eN, the "History" heading,
// #history) shows that place below the bar at the top, which stays in
// view as the page scrolls: the bar used to cover the event jumped to, and
// the heading with the history's filters.
func TestBrowserAnchorsClearTheTopBar(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	ex := f.longHistory("orders", "long", 150)
	for _, width := range []int64{1366, 400} {
		for _, c := range []struct{ query, target string }{{"?at=100#e100", "#e100"}, {"?before=120#history", "#history"}} {
			step(t, ctx, "page", chromedp.EmulateViewport(width, 900), chromedp.Navigate(f.srv.URL+execPath("orders", ex)+c.query),
				until(`document.readyState === "complete" && !document.querySelector("#pending .loading") && scrollY > 0`))
			// The target's box, and the bar's bottom.
			got := eval[[]float64](t, ctx, `[document.querySelector(`+js(c.target)+`).getBoundingClientRect().top, document.querySelector("header.top").getBoundingClientRect().bottom]`)
			if got[0] < got[1]-0.5 {
				t.Errorf("at %d px, %s: %s's top is at %.0f px, under the bar (down to %.0f px)", width, c.query, c.target, got[0], got[1])
			}
		}
	}
}

// The bar at the top may be taller than usual (a long principal's name
// takes a line of its own at a phone's width): a link to a place in a page
// still shows it below the bar.
func TestBrowserAnchorsClearATallTopBar(t *testing.T) {
	file := `{"principals": [
 {"name": "platform-team-on-call-engineer-eu-west-1", "accessKeys": [{"accessKeyId": "AKIAOPERATOR0000001", "secretAccessKey": "operator-secret"}],
  "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]}]}`
	cfg, err := auth.ParseConfig([]byte(file))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, withConfig(func(c *server.Config) { c.Auth = auth.NewKeyring(cfg) }))
	ctx := f.browser()
	f.register("orders")
	ex := f.longHistory("orders", "long", 150)
	step(t, ctx, "sign in", chromedp.EmulateViewport(400, 900), chromedp.Navigate(f.srv.URL+"/console/login"), until(`!!document.querySelector("input[name=accessKeyId]")`),
		chromedp.SetValue(`input[name=accessKeyId]`, "AKIAOPERATOR0000001"), chromedp.SetValue(`input[name=secretAccessKey]`, "operator-secret"),
		chromedp.Submit(`form[action="/console/login"]`), until(`location.pathname !== "/console/login"`))
	step(t, ctx, "history", chromedp.Navigate(f.srv.URL+execPath("orders", ex)+"?before=120#history"),
		until(`document.readyState === "complete" && !document.querySelector("#pending .loading") && scrollY > 0`))
	got := eval[[]float64](t, ctx, `[document.querySelector("#history").getBoundingClientRect().top, document.querySelector("header.top").getBoundingClientRect().bottom]`)
	if got[1] < 100 {
		t.Fatalf("the bar is %.0f px high, not taller than usual", got[1])
	}
	if got[0] < got[1]-0.5 {
		t.Errorf("#history's top is at %.0f px, under the bar (down to %.0f px)", got[0], got[1])
	}
}

// At a laptop's width (1280 and 1366 px) the executions' filter bar, the
// closed list's as the open list's, is one line of fields and its buttons:
// the closed list's, with its close status (whose select is as wide as
// "CONTINUED_AS_NEW"), took two lines, and at 1280 px the open list's put
// its buttons on a line of their own.
func TestBrowserExecutionFiltersOneLine(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	for _, width := range []int64{1280, 1366} {
		for _, p := range []string{"/console/d/orders/executions", "/console/d/orders/executions?status=closed"} {
			step(t, ctx, p, chromedp.EmulateViewport(width, 900), chromedp.Navigate(f.srv.URL+p),
				until(`!!document.querySelector("#filters select[name=size]") && document.fonts.status === "loaded"`))
			// Each field (its label and box) and the buttons, by the name of
			// what it holds, with its top and bottom: the bar lines them up
			// by their bottoms.
			boxes := eval[[][]string](t, ctx, `Array.from(document.querySelectorAll("#filters > label, #filters > .buttons")).map(el => {
  const r = el.getBoundingClientRect(), f = el.querySelector("input:not([type=hidden]), select:not(.bare), button");
  return [f.name || f.textContent.trim(), String(r.top), String(r.bottom)];
})`)
			if len(boxes) < 9 {
				t.Fatalf("%s at %d px: %d fields in the filter bar", p, width, len(boxes))
			}
			bottom := func(b []string) float64 { v, _ := strconv.ParseFloat(b[2], 64); return v }
			for _, b := range boxes[1:] {
				if math.Abs(bottom(b)-bottom(boxes[0])) > 1 {
					t.Errorf("%s at %d px: %s spans %s..%s, %s %s..%s: the bar takes more than one line", p, width, b[0], b[1], b[2], boxes[0][0], boxes[0][1], boxes[0][2])
				}
			}
		}
	}
}

// A type's name in the types table stays on one line when the table has
// room for it ("charge-card" was broken after its hyphen at a laptop's
// width, the registered defaults beside it taking the room), and wraps
// only when it must: a name longer than the room there is, with hyphens
// or without, wraps within its cell and leaves the table within its box.
func TestBrowserTypeNamesWrapOnlyWhenTheyMust(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	// Each name: its text, its lines, and whether it stays in its cell.
	names := func(width int64, n int) [][]string {
		t.Helper()
		step(t, ctx, "types", chromedp.EmulateViewport(width, 900), chromedp.Navigate(f.srv.URL+"/console/d/orders/types"),
			until(`document.querySelectorAll("table.types tbody tr").length === `+strconv.Itoa(n)+` && document.fonts.status === "loaded"`))
		return eval[[][]string](t, ctx, `Array.from(document.querySelectorAll("table.types tbody td:first-child strong")).map(s => {
  const r = s.getBoundingClientRect(), td = s.closest("td").getBoundingClientRect();
  const line = parseFloat(getComputedStyle(s).lineHeight);
  return [s.textContent, String(Math.round(r.height / line)), String(r.left >= td.left - 0.5 && r.right <= td.right + 0.5)];
})`)
	}
	widths := []int64{1280, 1366, 390}
	for _, width := range widths {
		for _, n := range names(width, 4) {
			if n[1] != "1" {
				t.Errorf("at %d px: %q takes %s lines, want 1", width, n[0], n[1])
			}
		}
	}
	long := strings.Repeat("settle-ledger-", 8) + "end"
	unbroken := strings.Repeat("x", 120)
	for _, name := range []string{long, unbroken} {
		f.check(f.svc.RegisterActivityType(f.ctx, &api.RegisterActivityTypeInput{Domain: "orders", Name: name, Version: "1"}))
	}
	for _, width := range widths {
		for _, n := range names(width, 6) {
			if n[2] != "true" {
				t.Errorf("at %d px: %.20q… reaches out of its cell", width, n[0])
			}
		}
		if width >= 1280 && !eval[bool](t, ctx, `Array.from(document.querySelectorAll("table.types")).every(t => t.getBoundingClientRect().right <= t.parentElement.getBoundingClientRect().right + 0.5)`) {
			t.Errorf("at %d px the types table is wider than its box: %s", width, eval[string](t, ctx, `Array.from(document.querySelectorAll("table.types")).map(t => Math.round(t.getBoundingClientRect().width) + " in " + Math.round(t.parentElement.getBoundingClientRect().width)).join(", ")`))
		}
	}
}

// brokenNames lists, in the tables of the page, each timestamp (with its
// "UTC" where one follows it), each age ("479ms ago", "10m29s ago") and each
// hyphenated name (a type's, a task list's, a worker's: not a workflow id,
// which is cut short in two lines on purpose, nor an event's attributes or a
// command line, which wrap) that the
// browser laid out in more than one line, as "text (N lines, in TABLE)".
const brokenNames = `(() => {
  const out = [];
  const re = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}(?: UTC)?|[\d.]+(?:ms|s|m|h|d)(?:\d+(?:s|m|h))? ago|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+/g;
  for (const td of document.querySelectorAll("main table.list tbody td")) {
    if (td.matches(".wid, .attrs") || td.closest("tr.more")) continue;
    const walk = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (n.parentElement.closest("a[href*='/w/'], .tag, .cli-mini")) continue;
      for (const m of n.data.matchAll(re)) {
        const r = document.createRange();
        r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        const tops = new Set(Array.from(r.getClientRects()).filter(c => c.width > 0).map(c => Math.round(c.top)));
        if (tops.size > 1) out.push(m[0] + " (" + tops.size + " lines, in table." + td.closest("table").className.replace(/ /g, ".") + ")");
      }
    }
  }
  return out;
})()`

// In every table of the console (executions, types, task lists, needs
// attention, an execution's history and pending work) a type's or task
// list's name and a timestamp stay on one line where the table has the
// room, which it always has where it scrolls sideways in its own box: a
// phone's width (390 px) and a laptop's (1280 and 1366 px).
func TestBrowserNamesAndTimesOnOneLine(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.trouble()
	open := f.shop()
	// A task list polled by six workers, whose names take the row's room:
	// its last poll's age stays whole.
	f.register("busy")
	for i := range 6 {
		f.startRun("busy", fmt.Sprintf("job-%d", i), `{}`)
		_, err := f.svc.PollForDecisionTask(f.ctx, &api.PollForDecisionTaskInput{Domain: "busy", TaskList: api.TaskList{Name: "deciders"},
			Identity: api.String(fmt.Sprintf("ip-10-0-%d-17.eu-west-1:pool-3:pid-4821%d", i, i))})
		f.check(err)
	}
	f.startRun("busy", "waiting", `{}`)
	// Workflow ids of SWF's greatest length (256), open and closed, with
	// tags: the tags' column keeps the room to show them.
	long := strings.Repeat("0123456789abcdef", 16)
	tags := []string{"web", "region=eu-west-1", "customer=acme-industries-intl", "priority=high"}
	f.startRun("orders", long, `{}`, tags...)
	closed := f.startRun("orders", long[:255]+"x", `{}`, tags...)
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: closed.WorkflowID}))
	pages := []string{"/console/d/orders/executions", "/console/d/orders/executions?status=closed", "/console/d/orders/types",
		"/console/d/orders/tasklists", "/console/d/trouble/tasklists", "/console/d/busy/tasklists", "/console/d/trouble/attention", execPath("orders", open)}
	for _, width := range []int64{390, 1280, 1366} {
		for _, p := range pages {
			if width < 1000 && strings.Contains(p, "/busy/") {
				continue // a poller's name wraps past 30% of a phone's window, on purpose
			}
			step(t, ctx, p, chromedp.EmulateViewport(width, 900), chromedp.Navigate(f.srv.URL+p),
				until(settledJS+` && document.fonts.status === "loaded" && !!document.querySelector("main table.list tbody td")`))
			for _, b := range eval[[]string](t, ctx, brokenNames) {
				t.Errorf("%s at %d px: %s", p, width, b)
			}
			if !strings.Contains(p, "/executions") {
				continue
			}
			// Each tag of the long ids' rows is whole on one line.
			for _, b := range eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#executions tr.x:has(td.wid a[title^='0123456789abcdef0123']) a.tag")).flatMap(a => {
			  const tops = new Set(Array.from(a.getClientRects()).map(r => Math.round(r.top)));
			  const line = parseFloat(getComputedStyle(a).lineHeight) || 16;
			  if (tops.size > 1 || a.getBoundingClientRect().height > 1.5 * line) return [a.textContent + " takes more than a line (" + Math.round(a.getBoundingClientRect().width) + " px wide)"];
			  if (a.scrollWidth > a.clientWidth + 1) return [a.textContent + " is cut (" + a.scrollWidth + " in " + a.clientWidth + ")"];
			  return [];
			})`) {
				t.Errorf("%s at %d px, a long id's row: the tag %s", p, width, b)
			}
		}
	}
}

// On the domains' page a long domain name (SWF allows 256 characters), or a
// long description or tag without a space in it (a URL), wraps in its cell, as a
// type's name does on the types' page: left to the table, a 100-character
// dotted name took the whole width of a laptop's window, and every
// domain's status, open executions, retention and tags were out of view to
// its right.
func TestBrowserDomainsLongNamesWrap(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	long := "com.example.payments.settlement.reconciliation.nightly.batch.production.eu-west-1.tenant.acme.v2"
	url := "https://wiki.example.com/teams/payments/runbooks/settlement/reconciliation/nightly-batch/what-to-do-when-it-fails.html"
	f.check(f.svc.RegisterDomain(f.ctx, &api.RegisterDomainInput{Name: long, WorkflowExecutionRetentionPeriodInDays: "7", Description: api.String(url),
		Tags: []api.ResourceTag{{Key: "runbook", Value: api.String(url)}}}))
	for _, width := range []int64{1280, 1366, 390} {
		step(t, ctx, "domains", chromedp.EmulateViewport(width, 900), chromedp.Navigate(f.srv.URL+"/console/"),
			until(`document.querySelectorAll("table.domains tbody tr").length === 2 && document.fonts.status === "loaded"`))
		name := eval[[]float64](t, ctx, `(() => { const a = document.querySelector("table.domains tbody td:first-child a[href*='payments']"), r = a.getBoundingClientRect();
		  return [r.width, innerWidth]; })()`)
		if name[0] > 0.3*name[1]+1 {
			t.Errorf("at %d px the long domain name is %.0f px wide, more than 30%% of the window", width, name[0])
		}
		if width < 1280 {
			continue
		}
		if !eval[bool](t, ctx, `(() => { const t = document.querySelector("table.domains"); return t.getBoundingClientRect().right <= t.parentElement.getBoundingClientRect().right + 0.5; })()`) {
			t.Errorf("at %d px the domains table is %s px wide in a box of %s: its columns are out of view", width,
				eval[string](t, ctx, `String(Math.round(document.querySelector("table.domains").getBoundingClientRect().width))`),
				eval[string](t, ctx, `String(Math.round(document.querySelector("table.domains").parentElement.getBoundingClientRect().width))`))
		}
	}
}

// cellsOutOfView is a script listing the cells of the tables under
// selector that are not wholly in the window, or whose content is cut,
// each with the start of its text and where it is.
func cellsOutOfView(selector string) string {
	return `Array.from(document.querySelectorAll(` + strconv.Quote(selector+" tbody td") + `)).flatMap(td => {
	  const r = td.getBoundingClientRect(), text = td.innerText.trim().slice(0, 30);
	  if (r.left < -0.5 || r.right > innerWidth + 0.5) return [JSON.stringify(text) + " at " + Math.round(r.left) + ".." + Math.round(r.right)];
	  if (td.scrollWidth > td.clientWidth + 1) return [JSON.stringify(text) + " cut (" + td.scrollWidth + " in " + td.clientWidth + ")"];
	  return [];
	})`
}
