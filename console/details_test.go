package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// A browser's GET /favicon.ico gets the console's icon and never reaches
// the SWF API (it was a 400 UnknownOperationException, counted as a call);
// every page names the icon. A POST / is still the API's.
func TestFavicon(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	resp, err := http.Get(f.srv.URL + "/favicon.ico")
	f.check(err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/console/static/favicon.svg" || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("GET /favicon.ico: %d %s at %s, want the console's SVG icon", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Request.URL.Path)
	}
	if m := get(t, f.srv.URL+"/metrics"); strings.Contains(m, `operation="unknown",outcome="UnknownOperationException"`) {
		t.Error("GET /favicon.ico was counted as an API call")
	}
	w := newWeb(t, f.srv.URL)
	for _, p := range []string{"/console/", "/console/d/orders/executions", "/console/d/orders/types"} {
		_, body := w.get(p)
		wantIn(t, p, body, `<link rel="icon" href="/console/static/favicon.svg?v=`)
	}
	req, _ := http.NewRequest("POST", f.srv.URL+"/", strings.NewReader(`{"name":"orders"}`))
	req.Header.Set("X-Amz-Target", "SimpleWorkflowService.DescribeDomain")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err = http.DefaultClient.Do(req)
	f.check(err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the API's DescribeDomain after the icon: %d", resp.StatusCode)
	}
}

// Times in lists say they are UTC, as the history's do.
func TestTimesSayUTC(t *testing.T) {
	f := newFixture(t)
	f.trouble()
	open := f.shop()
	w := newWeb(t, f.srv.URL)
	for p, wants := range map[string][]string{
		"/console/d/orders/executions":               {"<th>Started (UTC)</th>"},
		"/console/d/orders/executions?status=closed": {"<th>Started (UTC)</th><th>Closed (UTC)</th>"},
		"/console/d/orders/types":                    {"<th>Registered (UTC)</th>"},
		"/console/d/trouble/attention":               {" UTC.</p>", "(UTC)</th>"},
		execPath("orders", open):                     {`</time> <span class="muted">UTC</span>`, "<th>Time (UTC)</th>"},
		execPath("orders", open) + "/pending":        {"<th>Fires at (UTC)</th>"},
	} {
		_, body := w.get(p)
		wantIn(t, p, body, wants...)
	}
}

// A workflow id with a right-to-left override shows the override as its
// escape in the lists, the page's title and heading and the command lines
// (as $'…', which a shell reads back), instead of reordering the id
// ("rtl-\u202Etxt.exe" read "rtl-exe.txt"); the forms keep the id as it is.
func TestBidiControlsShown(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	wid := "rtl-\u202Etxt.exe"
	ex := f.startRun("orders", wid, `{}`, "t\u2066ag")
	w := newWeb(t, f.srv.URL)
	_, list := w.get("/console/d/orders/executions")
	wantIn(t, "list", list, `>rtl-\u202Etxt.exe</a>`, `>t\u2066ag</a>`)
	wantNotIn(t, "list", list, "\u202E", "\u2066")
	_, page := w.get(execPath("orders", ex))
	page = html.UnescapeString(page)
	wantIn(t, "execution page", page, `data-confirm="Terminate rtl-\u202Etxt.exe now?`, `<title>rtl-\u202Etxt.exe · orders · swfd</title>`, `</span> rtl-\u202Etxt.exe</h1>`,
		`swf describe --domain orders --workflow-id $'rtl-\xe2\x80\xaetxt.exe' --run-id`)
	// Outside tags, no control character is left.
	text := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, "")
	if strings.ContainsRune(text, '\u202E') {
		t.Errorf("the page's text holds U+202E")
	}
	// A filter's box keeps what was typed.
	_, filtered := w.get("/console/d/orders/executions?wid=" + url.QueryEscape(wid))
	wantIn(t, "filtered list", filtered, `name="wid" value="rtl-`+"\u202E"+`txt.exe"`, `>rtl-\u202Etxt.exe</a>`)
}

// Two workflow ids that differ by a zero-width space, "order-1" and
// "order\u200B-1", look different: the lists, the page's title and
// heading show the invisible character as its escape, and the command
// lines as the escapes of its bytes, as for a bidirectional control.
func TestInvisibleCharactersShown(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	f.startRun("orders", "order-1", `{}`)
	ex := f.startRun("orders", "order\u200B-1", `{}`, "t\uFEFFag")
	w := newWeb(t, f.srv.URL)
	_, list := w.get("/console/d/orders/executions")
	wantIn(t, "list", list, `>order-1</a>`, `>order\u200B-1</a>`, `>t\uFEFFag</a>`)
	_, page := w.get(execPath("orders", ex))
	page = html.UnescapeString(page)
	wantIn(t, "execution page", page, `<title>order\u200B-1 · orders · swfd</title>`, `</span> order\u200B-1</h1>`,
		`swf describe --domain orders --workflow-id $'order\xe2\x80\x8b-1' --run-id`)
	for what, body := range map[string]string{"list": list, "execution page": page} {
		text := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body, "")
		if i := strings.IndexAny(text, "\u200B\uFEFF"); i >= 0 {
			t.Errorf("%s: the text holds an invisible character: %q", what, text[max(0, i-40):min(len(text), i+40)])
		}
	}
}
