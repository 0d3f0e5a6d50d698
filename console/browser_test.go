package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	swftypes "github.com/aws/aws-sdk-go-v2/service/swf/types"
	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/server"
)

// TestMain runs the package's tests, then stops the Chromium the browser
// tests shared (if one was started) and removes the swf they shared (if
// one was built).
func TestMain(m *testing.M) {
	code := m.Run()
	chromium.stop()
	swfBinary.remove()
	os.Exit(code)
}

// chromium is the headless Chromium every browser test of the package
// shares, each test in a browser context of its own (see
// fixture.browser). It is package state because a test binary runs one
// browser for all its tests: starting one per test cost each about a
// second of CPU and wall time. TestMain stops it.
var chromium sharedBrowser

// sharedBrowser starts one headless Chromium (Debian's chromium package)
// the first time a test asks for it, and again if it has gone (crashed).
type sharedBrowser struct {
	mu     sync.Mutex
	ctx    context.Context // the browser's first tab, which keeps it running
	cancel func()
	dir    string // its profile
}

// errNoChromium is get's error when no Chromium is installed.
var errNoChromium = errors.New("no chromium on PATH (apt-get install chromium)")

// get returns the context of the running browser, starting it if need be.
func (b *sharedBrowser) get() (context.Context, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx != nil && b.ctx.Err() == nil {
		return b.ctx, nil
	}
	b.stopLocked()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		return nil, errNoChromium
	}
	dir, err := os.MkdirTemp("", "swfd-console-chromium-")
	if err != nil {
		return nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("no-default-browser-check", true), chromedp.Flag("mute-audio", true),
		// Each window (a test's tab has one, its browser context its own)
		// otherwise loads two pages of the address bar's drop-down, the
		// browser's own that no test shows, in a renderer of their own:
		// about a sixth of the CPU the browser spent on ten of the tests.
		chromedp.Flag("disable-features", "WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,PreloadTopChromeWebUI"),
		chromedp.UserDataDir(dir), chromedp.WindowSize(1366, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// Start the browser on a context without a deadline (a deadline would
	// end the browser with it).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		cancelAlloc()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	b.ctx, b.cancel, b.dir = ctx, func() { cancel(); cancelAlloc() }, dir
	return ctx, nil
}

// stop ends the browser, if one runs, and removes its profile.
func (b *sharedBrowser) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopLocked()
}

func (b *sharedBrowser) stopLocked() {
	if b.cancel != nil {
		b.cancel()
		os.RemoveAll(b.dir)
	}
	b.ctx, b.cancel, b.dir = nil, nil, ""
}

// browser opens a tab for a test in the shared headless Chromium, in a
// browser context of its own (as a private window is: its own cookies,
// storage and cache, nothing shared with other tests' tabs), in a window
// of a laptop's size (1366 × 900). Without Chromium the test is skipped,
// unless SWFD_REQUIRE_BROWSER is set (CI sets it).
//
// The tab is the fixture's so that it closes before the fixture's server
// stops (cleanups run last first): a server shutting down waits up to five
// seconds for a connection the browser opened and has sent nothing on
// yet (one it opens ahead of need), unless the browser has closed it.
func (f *fixture) browser() context.Context {
	t := f.t
	t.Helper()
	parent, err := chromium.get()
	if errors.Is(err, errNoChromium) {
		if os.Getenv("SWFD_REQUIRE_BROWSER") != "" {
			t.Fatal(err)
		}
		t.Skip(err.Error() + "; SWFD_REQUIRE_BROWSER=1 makes this a failure")
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// step runs browser actions, failing the test after a generous bound: the
// machine may be loaded, and every wait is for a condition, not a time.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		var body string
		body, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 2000) : ""`))
		t.Fatalf("%s: %v\npage:\n%s", what, err, body)
	}
}

// until waits for a JavaScript condition to hold, across navigations (an
// expression that fails, as while a page loads, counts as not yet).
func until(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		check := chromedp.Evaluate[bool]("!!(" + expr + ")")
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if ok, err := check(ctx, tg); err == nil && ok {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("waiting for %s: %w", expr, ctx.Err())
			case <-tick.C:
			}
		}
	}
}

// clickShown clicks the first element sel matches once the browser has
// laid it out: Click fails with ErrInvalidDimensions on an element that has
// no box yet (as a link at the foot of a long table can, for a moment,
// after the table is scrolled to it), and a person would click it once it
// shows. A live page may also replace the element between Click finding it
// and clicking it (the browser answers that it cannot find the node); the
// click is then tried again on the element that replaced it. And it waits
// for the page to settle first: an execution page loads its pending work
// after it shows, and the box's new height moves everything below it, so
// a click aimed before that lands beside a link in the history (as a
// person's can, who then clicks again).
func clickShown(sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			settled, err := chromedp.Evaluate[bool](settledJS)(ctx, tg)
			if err == nil && !settled {
				err = errors.New("the page has not settled")
			} else if err == nil {
				_, err = chromedp.Click(sel)(ctx, tg)
				if !errors.Is(err, chromedp.ErrInvalidDimensions) && !nodeReplaced(err) {
					return chromedp.Void{}, err
				}
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("click %s: %w (%w)", sel, err, ctx.Err())
			case <-tick.C:
			}
		}
	}
}

// settledJS is true once the page has loaded and its pending work (on an
// execution's page) has replaced "Loading…".
const settledJS = `document.readyState === "complete" && !document.querySelector("#pending .loading")`

// nodeReplaced reports whether err is the browser's answer about a node
// that is no longer in the document (code -32000, "Could not find node
// with given id"), as when a live update replaced it.
func nodeReplaced(err error) bool {
	var e *cdproto.Error
	return errors.As(err, &e) && e.Code == -32000 && strings.Contains(e.Message, "find node")
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// js quotes a string for a JavaScript expression.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func execPath(domain string, ex api.WorkflowExecution) string {
	return "/console/d/" + url.PathEscape(domain) + "/w/" + url.PathEscape(ex.WorkflowID) + "/" + url.PathEscape(ex.RunID)
}

// The whole scenario of the issue without --auth: workflows started through
// the API appear in the list (live, too); filters narrow it; an execution's
// page shows its pending activity and timeline; a signal shows up on the
// open page without a reload; a terminate from the console closes the run.
func TestBrowserScenario(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	open := f.shop()
	base := f.srv.URL

	// Started through the API (the SDK, over HTTP): in the list.
	c := f.srv.Client()
	_, err := c.StartWorkflowExecution(context.Background(), &swf.StartWorkflowExecutionInput{Domain: aws.String("orders"), WorkflowId: aws.String("from-the-api"),
		WorkflowType: &swftypes.WorkflowType{Name: aws.String("process-order"), Version: aws.String("1")}, TagList: []string{"sdk"}})
	f.check(err)
	step(t, ctx, "register form", chromedp.Navigate(base+"/"), until(`location.pathname === "/console/"`),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details.action").forEach(d => d.open = true)`),
		chromedp.SetValue(`form[action="/console/domains"] input[name=name]`, "billing"),
		chromedp.SetValue(`form[action="/console/domains"] textarea[name=tags]`, "team=ops\nbad line"),
		until(`document.querySelector('form[action="/console/domains"] [data-cli]').textContent === "swf register-domain --name billing --workflow-execution-retention-period-in-days 7 --tags key=team,value=ops"`))
	step(t, ctx, "open list", chromedp.Navigate(base+"/"), until(`location.pathname === "/console/"`),
		clickShown(`a[href="/console/d/orders/executions"]`), until(`!!document.querySelector("#executions")`),
		until(`document.querySelector("#executions").innerText.includes("from-the-api")`),
		until(`document.querySelector("#executions").innerText.includes("order-1001")`))
	if n := eval[int](t, ctx, `document.querySelectorAll("#executions tbody tr.x").length`); n != 4 {
		t.Errorf("open executions listed: %d, want 4 (order-1001, 1004, 1005, from-the-api)", n)
	}

	// Live: one started now appears without a reload.
	step(t, ctx, "live list", chromedp.Evaluate[chromedp.Void](`window.__same = 1`), until(`!document.querySelector("[data-live-status]").hidden`))
	f.startRun("orders", "order-live", `{}`, "web")
	step(t, ctx, "new row", until(`document.querySelector("#executions").innerText.includes("order-live") && window.__same === 1`))

	// Filters narrow the list: by tag, then closed by status.
	step(t, ctx, "filter by tag", chromedp.SetValue(`#filters input[name=tag]`, "vip"), chromedp.Submit(`#filters`),
		until(`location.search.includes("tag=vip")`), until(`document.querySelectorAll("#executions tbody tr.x").length === 1`))
	if txt := eval[string](t, ctx, `document.querySelector("#executions tbody").innerText`); !strings.Contains(txt, "order-1001") {
		t.Errorf("tag filter shows %q, want order-1001 only", txt)
	}
	step(t, ctx, "closed, terminated", chromedp.Navigate(base+"/console/d/orders/executions?status=closed&close=TERMINATED"),
		until(`document.querySelectorAll("#executions tbody tr.x").length === 1`),
		until(`document.querySelector("#executions tbody").innerText.includes("order-1002")`))

	// The open execution: its pending activity (second attempt, running,
	// with its heartbeat) and its timeline.
	step(t, ctx, "execution page", chromedp.Navigate(base+execPath("orders", open)),
		until(`!!document.querySelector("#pending tr.activity")`))
	pending := eval[string](t, ctx, `document.querySelector("#pending").innerText`)
	for _, want := range []string{"charge", "charge-card", "running", "worker-7", "waiting for the bank", "reminder"} {
		if !strings.Contains(pending, want) {
			t.Errorf("pending work lacks %q:\n%s", want, pending)
		}
	}
	if attempt := eval[string](t, ctx, `document.querySelector("#pending tr.activity td.num").innerText`); attempt != "2" {
		t.Errorf("attempt %q, want 2", attempt)
	}
	step(t, ctx, "timeline", clickShown(`a[href$="/timeline"]`), until(`!!document.querySelector("svg.timeline")`))
	if n := eval[int](t, ctx, `document.querySelectorAll("svg.timeline rect.run, svg.timeline rect.wait").length`); n < 4 {
		t.Errorf("timeline bars: %d, want at least 4 (two attempts of charge, decision tasks, the timer)", n)
	}
	if !eval[bool](t, ctx, `document.querySelector("svg.timeline").textContent.includes("charge")`) {
		t.Error("the timeline has no row for activity charge")
	}

	// A signal reaches the open page without a reload.
	step(t, ctx, "back to the execution", chromedp.Navigate(base+execPath("orders", open)),
		until(`!!document.querySelector("#events tbody tr.ev")`), chromedp.Evaluate[chromedp.Void](`window.__same = 1`),
		until(`!document.querySelector("[data-live-status]").hidden`))
	f.check(f.svc.SignalWorkflowExecution(f.ctx, &api.SignalWorkflowExecutionInput{Domain: "orders", WorkflowID: open.WorkflowID, SignalName: "gift-wrap"}))
	step(t, ctx, "live signal", until(`Array.from(document.querySelectorAll("#events tbody tr.ev")).some(r => r.innerText.includes("WorkflowExecutionSignaled") && r.innerText.includes("gift-wrap"))`),
		until(`window.__same === 1`))

	// A signal sent from the console's form.
	step(t, ctx, "signal form", clickShown(`details.action summary`), chromedp.SetValue(`form[action$="/signal"] input[name=signalName]`, "from-console"),
		until(`document.querySelector('form[action$="/signal"] [data-cli]').textContent.includes("--signal-name from-console")`),
		chromedp.Submit(`form[action$="/signal"]`), until(`!!document.querySelector(".notice")`),
		until(`document.querySelector("#events").innerText.includes("from-console")`))

	// Terminate from the console closes the run.
	step(t, ctx, "terminate", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details.action").forEach(d => d.open = true)`),
		chromedp.SetValue(`form[action$="/terminate"] input[name=reason]`, "stuck in test"),
		chromedp.Submit(`form[action$="/terminate"]`), until(`document.querySelector("[data-status]") && document.querySelector("[data-status]").innerText.includes("TERMINATED")`))
	det, err := f.svc.DescribeWorkflowExecution(f.ctx, &api.DescribeWorkflowExecutionInput{Domain: "orders", Execution: open})
	f.check(err)
	if det.ExecutionInfo.CloseStatus != api.CloseStatusTerminated {
		t.Errorf("after terminate: %s %s, want CLOSED TERMINATED", det.ExecutionInfo.ExecutionStatus, det.ExecutionInfo.CloseStatus)
	}
	if !eval[bool](t, ctx, `document.body.innerText.includes("stuck in test")`) {
		t.Error("the closed execution's page does not show the terminate reason")
	}
}

const authFile = `{"principals": [
 {"name": "operator", "accessKeys": [{"accessKeyId": "AKIAOPERATOR0000001", "secretAccessKey": "operator-secret"}],
  "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]},
 {"name": "orders-viewer", "accessKeys": [{"accessKeyId": "AKIAVIEWER000000001", "secretAccessKey": "viewer-secret"}],
  "policies": [{"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/orders"},
    {"Effect": "Deny", "Action": "swf:TerminateWorkflowExecution", "Resource": "*"}]}]}
]}`

func authOption(t testing.TB) func(*server.Config) {
	cfg, err := auth.ParseConfig([]byte(authFile))
	if err != nil {
		t.Fatal(err)
	}
	return func(c *server.Config) { c.Auth = auth.NewKeyring(cfg) }
}

// With --auth: sign-in, a scoped key sees only its domain, a denied action
// shows OperationNotPermitted, sign-out ends the session.
func TestBrowserAuth(t *testing.T) {
	f := newFixture(t, withConfig(authOption(t)))
	ctx := f.browser()
	f.shop()
	f.register("payments")
	base := f.srv.URL
	open := api.WorkflowExecution{WorkflowID: "order-1004"}
	infos, err := f.svc.ListOpenWorkflowExecutions(f.ctx, &api.ListOpenWorkflowExecutionsInput{Domain: "orders", StartTimeFilter: api.ExecutionTimeFilter{OldestDate: api.Time{Time: time.Unix(0, 0)}},
		ExecutionFilter: &api.WorkflowExecutionFilter{WorkflowID: open.WorkflowID}})
	f.check(err)
	open.RunID = infos.ExecutionInfos[0].Execution.RunID

	signIn := func(key, secret string) {
		step(t, ctx, "sign in as "+key, chromedp.Navigate(base+"/console/"), until(`location.pathname === "/console/login"`),
			chromedp.SetValue(`input[name=accessKeyId]`, key), chromedp.SetValue(`input[name=secretAccessKey]`, secret),
			chromedp.Submit(`form[action="/console/login"]`), until(`location.pathname !== "/console/login" || !!document.querySelector(".notice, .login p")`))
	}
	// A wrong secret is refused.
	signIn("AKIAVIEWER000000001", "not-the-secret-4711")
	if p := eval[string](t, ctx, `location.pathname`); p != "/console/login" {
		t.Fatalf("a wrong secret signed in (at %s)", p)
	}
	if eval[bool](t, ctx, `document.documentElement.outerHTML.includes("4711")`) {
		t.Error("the sign-in page shows the secret typed")
	}
	step(t, ctx, "cookies", chromedp.Navigate(base+"/console/login"))

	signIn("AKIAVIEWER000000001", "viewer-secret")
	// It may not list domains; it opens its own by name.
	step(t, ctx, "domains", until(`document.body.innerText.includes("may not list domains")`),
		chromedp.SetValue(`#goto`, "orders"), chromedp.Submit(`form.goto`), until(`!!document.querySelector("#executions")`),
		until(`document.querySelector("#executions").innerText.includes("order-1004")`))
	// Another domain: not permitted.
	step(t, ctx, "other domain", chromedp.Navigate(base+"/console/d/payments/executions"), until(`document.body.innerText.includes("OperationNotPermittedFault")`))
	// A denied action shows the fault and changes nothing.
	step(t, ctx, "denied terminate", chromedp.Navigate(base+execPath("orders", open)), until(`!!document.querySelector("form[action$='/terminate']")`),
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true; document.querySelectorAll("details.action").forEach(d => d.open = true)`),
		chromedp.Submit(`form[action$="/terminate"]`), until(`document.body.innerText.includes("OperationNotPermittedFault")`))
	det, err := f.svc.DescribeWorkflowExecution(f.ctx, &api.DescribeWorkflowExecutionInput{Domain: "orders", Execution: open})
	f.check(err)
	if det.ExecutionInfo.ExecutionStatus != api.ExecutionStatusOpen {
		t.Errorf("a denied terminate closed the run: %s", det.ExecutionInfo.CloseStatus)
	}
	// Allowed: a signal.
	step(t, ctx, "allowed signal", chromedp.Navigate(base+execPath("orders", open)), chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details.action").forEach(d => d.open = true)`),
		chromedp.SetValue(`form[action$="/signal"] input[name=signalName]`, "ping"), chromedp.Submit(`form[action$="/signal"]`),
		until(`document.querySelector(".notice") && document.querySelector("#events").innerText.includes("ping")`))
	// Sign out: the session is gone.
	step(t, ctx, "sign out", chromedp.Submit(`form[action="/console/logout"]`), until(`location.pathname === "/console/login"`),
		chromedp.Navigate(base+"/console/d/orders/executions"), until(`location.pathname === "/console/login"`))

	// The operator sees every domain.
	signIn("AKIAOPERATOR0000001", "operator-secret")
	step(t, ctx, "operator domains", until(`!!document.querySelector("table.domains")`),
		until(`document.querySelector("table.domains").innerText.includes("payments") && document.querySelector("table.domains").innerText.includes("orders")`))
}

// screenshotDir is where a test saves its screenshots: SWFD_SCREENSHOTS
// (relative to the module's root) when set, else a temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SWFD_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if !filepath.IsAbs(dir) {
		// go test runs in the package's directory.
		dir = filepath.Join("..", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestScreenshots saves the main views, light and dark, at a laptop's
// size. SWFD_SCREENSHOTS=DIR keeps them (the README's are made with
// SWFD_SCREENSHOTS=docs/console go test ./console/ -run TestScreenshots).
func TestScreenshots(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.trouble()
	open := f.shop()
	f.longHistory("orders", "order-2000", 120)
	dir := screenshotDir(t)
	base := f.srv.URL
	views := []struct {
		name, path, ready string
	}{
		{"domains", "/console/", `!!document.querySelector("table.domains")`},
		{"executions", "/console/d/orders/executions", `!!document.querySelector("#executions tr.x")`},
		{"execution", execPath("orders", open), `!!document.querySelector("#pending tr.activity")`},
		{"timeline", execPath("orders", open) + "/timeline", `!!document.querySelector("svg.timeline")`},
		{"history", execPath("orders", open) + "#history", `!!document.querySelector("#pending tr.activity") && (document.getElementById("history").scrollIntoView(), true)`},
		{"attention", "/console/d/trouble/attention", `!!document.querySelector("h1")`},
		{"tasklists", "/console/d/orders/tasklists", `!!document.querySelector("h1")`},
	}
	step(t, ctx, "laptop viewport", chromedp.EmulateViewport(1366, 768))
	for _, theme := range []string{"light", "dark"} {
		step(t, ctx, "theme", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}}})
			return err
		}))
		for _, v := range views {
			step(t, ctx, v.name, chromedp.Navigate(base+v.path), until(v.ready), until(`document.fonts.status === "loaded"`))
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			if len(png) < 1000 {
				t.Fatalf("%s: screenshot of %d bytes", v.name, len(png))
			}
			f.check(os.WriteFile(filepath.Join(dir, v.name+"-"+theme+".png"), png, 0o644))
		}
	}
}

// A list filtered by a time ago ("24h") pages on: the next page is the
// rest of the same window, though the clock has moved since the first page
// was read (the API refuses a page token whose filter has changed). Its
// command line and a batch's confirmation carry the time the window
// starts at, and "now" is a time.
func TestBrowserPagingWithTimeAgo(t *testing.T) {
	f := newRealFixture(t)
	ctx := f.browser()
	f.register("orders")
	for i := range 60 {
		f.startRun("orders", fmt.Sprintf("order-%03d", i), `{}`)
	}
	base := f.srv.URL
	step(t, ctx, "first page", chromedp.Navigate(base+"/console/d/orders/executions?from=24h"), until(`document.querySelectorAll("#executions tr.x").length === 50`))
	// The command line says the time the window starts at: swf (as the AWS
	// CLI) reads no "24h".
	if line := eval[string](t, ctx, `document.querySelector("[data-cli]").textContent`); !regexp.MustCompile(`--start-time-filter oldestDate=20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ( |$)`).MatchString(line) {
		t.Errorf("the list's command line is %q, want the window's start as a time", line)
	}
	// A batch's confirmation acts on the window it counted.
	step(t, ctx, "batch review", chromedp.Evaluate[chromedp.Void](`document.querySelector("details.batch").open = true`),
		chromedp.SetValue(`details.batch input[name=signalName]`, "poke"), chromedp.Submit(`details.batch form`),
		until(`!!document.querySelector("input[name=confirm]")`))
	if from := eval[string](t, ctx, `document.querySelector("input[type=hidden][name=from]").value`); !regexp.MustCompile(`^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(from) {
		t.Errorf("the batch's confirmation carries from=%q, want the time counted from", from)
	}
	// "now", the "to" field's placeholder, may be typed too.
	step(t, ctx, "back to the list", chromedp.Navigate(base+"/console/d/orders/executions?from=24h&to=now"),
		until(`document.querySelectorAll("#executions tr.x").length === 50 || !!document.querySelector(".fault")`))
	if fault := eval[string](t, ctx, `(document.querySelector(".fault") || {}).innerText || ""`); fault != "" {
		t.Fatalf("the last 24h up to now: %s", fault)
	}
	step(t, ctx, "next page", clickShown(`a[rel=next]`), until(`location.search.includes("page=")`),
		until(`document.querySelectorAll("#executions tr.x").length > 0 || !!document.querySelector(".fault")`))
	if fault := eval[string](t, ctx, `(document.querySelector(".fault") || {}).innerText || ""`); fault != "" {
		t.Fatalf("the next page of the last 24h: %s", fault)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#executions tr.x").length`); n != 10 {
		t.Errorf("the next page shows %d executions, want the other 10", n)
	}
	if !eval[bool](t, ctx, `document.querySelector("[data-count]").innerText.startsWith("60 ")`) {
		t.Errorf("the next page counts %q, want 60", eval[string](t, ctx, `document.querySelector("[data-count]").innerText`))
	}
}

// A run id is copied whole: a click on it in the list (shown cut short)
// or on the execution's page selects all of it, not the piece between its
// "+" and "/" a double-click would take, nor the shortened text with its
// "…".
func TestBrowserCopyRunID(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	ex := f.startRun("orders", "order-1", `{}`)
	base := f.srv.URL
	selected := func(sel string) string {
		step(t, ctx, "select "+sel, chromedp.Evaluate[chromedp.Void](`getSelection().removeAllRanges()`), clickShown(sel))
		return eval[string](t, ctx, `getSelection().toString()`)
	}
	step(t, ctx, "list", chromedp.Navigate(base+"/console/d/orders/executions"), until(`!!document.querySelector("#executions tr.x")`))
	if got := selected(`#executions tr.x td.rid code`); got != ex.RunID {
		t.Errorf("a click on the list's run id selects %q, want %q", got, ex.RunID)
	}
	// A row the live list adds is the same.
	step(t, ctx, "live", until(`!document.querySelector("[data-live-status]").hidden`))
	ex2 := f.startRun("orders", "order-2", `{}`)
	step(t, ctx, "live row", until(`!!document.querySelector("#executions tr.x.fresh")`))
	if got := selected(`#executions tr.x.fresh td.rid code`); got != ex2.RunID {
		t.Errorf("a click on a live row's run id selects %q, want %q", got, ex2.RunID)
	}
	step(t, ctx, "execution", chromedp.Navigate(base+execPath("orders", ex)), until(`!!document.querySelector("[data-run-id]")`))
	if got := selected(`[data-run-id]`); got != ex.RunID {
		t.Errorf("a click on the execution's run id selects %q, want %q", got, ex.RunID)
	}
}

// Deprecating a workflow or activity type asks first, as deprecating the
// domain does: once deprecated, a workflow type can no longer be started,
// as a child or by continue-as-new either, and an activity type no longer
// scheduled. Declined, nothing changes; confirmed, the type is deprecated.
func TestBrowserDeprecateTypeAsks(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	form := `form[action$="/types/status"]:has(input[name=name][value="process-order"])`
	status := func() api.RegistrationStatus {
		out, err := f.svc.DescribeWorkflowType(f.ctx, &api.DescribeWorkflowTypeInput{Domain: "orders", WorkflowType: api.WorkflowType{Name: "process-order", Version: "1"}})
		f.check(err)
		return out.TypeInfo.Status
	}
	step(t, ctx, "types", chromedp.Navigate(f.srv.URL+"/console/d/orders/types"), until(`!!document.querySelector('`+form+`')`),
		chromedp.Evaluate[chromedp.Void](`window.__asked = ""; window.confirm = (m) => { window.__asked = m; return false; }`),
		clickShown(form+` button`), until(`window.__asked !== ""`))
	if asked := eval[string](t, ctx, `window.__asked || ""`); !strings.Contains(asked, "process-order") {
		t.Errorf("the confirmation says %q", asked)
	}
	if got := status(); got != api.RegistrationStatusRegistered {
		t.Fatalf("declined, the type is %s", got)
	}
	step(t, ctx, "confirmed", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`), clickShown(form+` button`), until(`!!document.querySelector(".notice")`))
	if got := status(); got != api.RegistrationStatusDeprecated {
		t.Errorf("confirmed, the type is %s", got)
	}
}

// A history's events that name another execution link to it: a parent's
// events of its child lead to the child (closed, so that no pending work
// lists it), and the child's first event back to its parent.
func TestBrowserHistoryLinksExecutions(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("family")
	parent := f.startRun("family", "parent-1", `{}`)
	step(t, ctx, "parent", chromedp.Navigate(f.srv.URL+execPath("family", parent)), until(`!document.querySelector("[data-live-status]").hidden`))
	f.decide("family", api.Decision{DecisionType: api.DecisionTypeStartChildWorkflowExecution, StartChildWorkflowExecutionDecisionAttributes: &api.StartChildWorkflowExecutionDecisionAttributes{
		WorkflowID: "child-1", WorkflowType: api.WorkflowType{Name: "process-order", Version: "1"}}})
	// The child's start reaches the parent's open page as it is committed.
	toChild := `#events tr.ev td.attrs a[href^="/console/d/family/w/child-1/"]`
	step(t, ctx, "child started", until(`!!document.querySelector('`+toChild+`')`))
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "family", WorkflowID: "child-1"}))
	// The parent's page takes the child's end live (its rows are added):
	// clicked while they come in, the link moves from under the click.
	step(t, ctx, "child ended", until(`document.querySelector("#events").innerText.includes("ChildWorkflowExecutionTerminated")`))
	step(t, ctx, "to the child", clickShown(toChild), until(`location.pathname.startsWith("/console/d/family/w/child-1/")`),
		until(`document.querySelector("[data-status]").innerText.includes("TERMINATED")`))
	toParent := `#events tr.ev td.attrs a[href="` + execPath("family", parent) + `"]`
	step(t, ctx, "back to the parent", until(`!!document.querySelector('`+toParent+`')`), clickShown(toParent),
		until(`location.pathname === `+js(execPath("family", parent))))
}

// A closed run's tag opens the closed list filtered by it, the list the
// run is in; an open run's, the open list.
func TestBrowserClosedRunTagOpensClosedList(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	closed := f.startRun("orders", "tagged-closed", "", "blue")
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: closed.WorkflowID}))
	open := f.startRun("orders", "tagged-open", "", "blue")
	for _, c := range []struct {
		ex   api.WorkflowExecution
		list string
	}{{closed, "closed"}, {open, "open"}} {
		step(t, ctx, c.list+" run", chromedp.Navigate(f.srv.URL+execPath("orders", c.ex)), until(`!!document.querySelector("a.tag")`),
			clickShown(`a.tag`), until(`!!document.querySelector("#executions") && document.readyState === "complete"`))
		if got := eval[string](t, ctx, `document.querySelector("[role=tab].on").innerText`); got != map[string]string{"closed": "Closed", "open": "Open"}[c.list] {
			t.Errorf("the %s run's tag opened the %q list", c.list, got)
		}
		if got := eval[string](t, ctx, `document.querySelector("#executions tbody").innerText`); !strings.Contains(got, c.ex.WorkflowID) {
			t.Errorf("the %s run's tag opened a list without it: %q", c.list, got)
		}
	}
}

// A list of many pages leads back as well as on: each page after the
// first links to the one before it, which shows the rows it showed on the
// way forward (the API's page tokens only lead on, so the page's URL
// carries the tokens of the pages before it), and the first page links to
// none.
func TestBrowserPreviousPage(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	for i := range 120 {
		f.startRun("orders", fmt.Sprintf("order-%03d", i), `{}`)
		f.srv.Advance(time.Second)
	}
	rows := func() string {
		return eval[string](t, ctx, `Array.from(document.querySelectorAll("#executions tr.x td.wid a:first-child")).map(a => a.textContent).join(" ")`)
	}
	onPage := func(what, wantFirst string, n int) string {
		t.Helper()
		step(t, ctx, what, until(`document.readyState === "complete" && document.querySelectorAll("#executions tr.x").length === `+fmt.Sprint(n)+
			` && document.querySelector("#executions tr.x td.wid a").textContent === `+js(wantFirst)))
		return rows()
	}
	step(t, ctx, "first page", chromedp.Navigate(f.srv.URL+"/console/d/orders/executions"))
	first := onPage("first page", "order-119", 50)
	if eval[bool](t, ctx, `!!document.querySelector("a[rel=prev]")`) {
		t.Error("the first page links to a previous one")
	}
	step(t, ctx, "to page 2", clickShown(`a[rel=next]`))
	second := onPage("page 2", "order-069", 50)
	step(t, ctx, "to page 3", clickShown(`a[rel=next]`))
	onPage("page 3", "order-019", 20)
	step(t, ctx, "back to page 2", clickShown(`a[rel=prev]`))
	if got := onPage("page 2 again", "order-069", 50); got != second {
		t.Errorf("back on page 2 the rows are %q, were %q", got, second)
	}
	step(t, ctx, "back to page 1", clickShown(`a[rel=prev]`))
	if got := onPage("page 1 again", "order-119", 50); got != first {
		t.Errorf("back on page 1 the rows are %q, were %q", got, first)
	}
	if eval[bool](t, ctx, `!!document.querySelector("a[rel=prev]")`) {
		t.Error("back on the first page, it links to a previous one")
	}
	// Forward again from the page gone back to.
	step(t, ctx, "page 2 from page 1 again", clickShown(`a[rel=next]`))
	if got := onPage("page 2, once more", "order-069", 50); got != second {
		t.Errorf("page 2 reached again shows %q, was %q", got, second)
	}
}

// An open child that has continued as new is reached from its parent's
// pending work at its open run, the one that is the child now, not at the
// run it started as (closed, CONTINUED_AS_NEW).
func TestBrowserOpenChildContinuedAsNew(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("family")
	parent := f.startRun("family", "parent-1", `{}`)
	f.decide("family", api.Decision{DecisionType: api.DecisionTypeStartChildWorkflowExecution, StartChildWorkflowExecutionDecisionAttributes: &api.StartChildWorkflowExecutionDecisionAttributes{
		WorkflowID: "child-1", WorkflowType: api.WorkflowType{Name: "process-order", Version: "1"}}})
	// The child's decision task continues it as new; the parent's (the
	// child's start) is answered with nothing.
	for done := false; !done; {
		task, err := f.svc.PollForDecisionTask(f.ctx, &api.PollForDecisionTaskInput{Domain: "family", TaskList: api.TaskList{Name: "deciders"}})
		f.check(err)
		var ds []api.Decision
		if done = task.WorkflowExecution.WorkflowID == "child-1"; done {
			ds = []api.Decision{{DecisionType: api.DecisionTypeContinueAsNewWorkflowExecution, ContinueAsNewWorkflowExecutionDecisionAttributes: &api.ContinueAsNewWorkflowExecutionDecisionAttributes{}}}
		}
		f.check(f.svc.RespondDecisionTaskCompleted(f.ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: ds}))
	}
	open, err := f.svc.ListOpenWorkflowExecutions(f.ctx, &api.ListOpenWorkflowExecutionsInput{Domain: "family", StartTimeFilter: api.ExecutionTimeFilter{OldestDate: api.Time{Time: time.Unix(0, 0)}},
		ExecutionFilter: &api.WorkflowExecutionFilter{WorkflowID: "child-1"}})
	f.check(err)
	if len(open.ExecutionInfos) != 1 {
		t.Fatalf("open runs of child-1: %d", len(open.ExecutionInfos))
	}
	newRun := open.ExecutionInfos[0].Execution
	child := `#pending a[href^="/console/d/family/w/child-1"]`
	step(t, ctx, "parent", chromedp.Navigate(f.srv.URL+execPath("family", parent)), until(`!!document.querySelector('`+child+`')`),
		clickShown(child), until(`location.pathname === `+js(execPath("family", newRun))+` && !!document.querySelector("[data-status]")`))
	if got := eval[string](t, ctx, `document.querySelector("[data-status]").innerText`); !strings.Contains(got, "OPEN") {
		t.Errorf("the open child's link leads to a run that is %q", got)
	}
}

// A history screen that starts after the history's first event (a jump
// to an event, shown oldest first from just before it) links to the
// events before it, screen by screen back to the first; filtered, to the
// matches before it, newest first, whose screen links to the newer
// matches.
func TestBrowserHistoryEarlierEvents(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	ex := f.longHistory("orders", "long", 120)
	ids := func() []int {
		return eval[[]int](t, ctx, `Array.from(document.querySelectorAll("#events tr.ev")).map(r => +r.dataset.id)`)
	}
	step(t, ctx, "jump", chromedp.Navigate(f.srv.URL+execPath("orders", ex)+"?at=100"), until(`document.readyState === "complete" && !!document.querySelector("#events tr.ev.mark")`))
	first := ids()[0]
	if first <= 1 {
		t.Fatalf("the jump's screen starts at event %d", first)
	}
	for screen := 0; first > 1; screen++ {
		if screen == 5 {
			t.Fatal("five screens back and still no first event")
		}
		step(t, ctx, "earlier", clickShown(`#events a[rel=prev]`), until(`document.readyState === "complete" && !!document.querySelector("#events tr.ev") && +document.querySelector("#events tr.ev").dataset.id < `+fmt.Sprint(first)))
		got := ids()
		if last := got[len(got)-1]; last < first-1 {
			t.Errorf("the screen before the one from event %d ends at %d: events between are skipped", first, last)
		}
		for i := 1; i < len(got); i++ {
			if got[i] != got[i-1]+1 {
				t.Errorf("the earlier screen is not oldest first, one after another: %v", got)
				break
			}
		}
		first = got[0]
	}
	if eval[bool](t, ctx, `!!document.querySelector("#events a[rel=prev]")`) {
		t.Error("the screen from the first event links to earlier events")
	}
	// Filtered: the matches before the screen, newest first.
	step(t, ctx, "filtered jump", chromedp.Navigate(f.srv.URL+execPath("orders", ex)+"?at=100&types=WorkflowExecutionSignaled"),
		until(`document.readyState === "complete" && !!document.querySelector("#events tr.ev")`))
	first = ids()[0]
	step(t, ctx, "earlier matches", clickShown(`#events a[rel=prev]`), until(`document.readyState === "complete" && !!document.querySelector("#events tr.ev") && +document.querySelector("#events tr.ev").dataset.id < `+fmt.Sprint(first)))
	got := ids()
	if got[0] != first-1 || len(got) != 50 {
		t.Errorf("the matches before event %d: %d events from %d, want 50 from %d", first, len(got), got[0], first-1)
	}
	if txt := eval[string](t, ctx, `Array.from(document.querySelectorAll("#events tr.ev td.et")).map(td => td.innerText).filter(s => !s.includes("WorkflowExecutionSignaled")).join(",")`); txt != "" {
		t.Errorf("the earlier matches hold other events: %s", txt)
	}
	// And from them, back to the newer matches, oldest first: the screen
	// jumped to, from its first event.
	step(t, ctx, "newer matches", clickShown(`#events a[rel=prev]`), until(`document.readyState === "complete" && location.search.includes("order=asc") && !!document.querySelector("#events tr.ev")`))
	if got := ids(); got[0] != first {
		t.Errorf("the matches after the earlier ones start at event %d, want %d", got[0], first)
	}
}
