package console_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The style sheet, script and icon a page names are cached by the browser
// only under a URL that names their content, so that a browser that opened
// the console before swfd was upgraded gets the new files with the new
// pages: they were served at fixed URLs cached for an hour, and the pages
// of an upgraded swfd were laid out with the old style sheet and run with
// the old script (whose live updates and forms expect the old pages) until
// the hour was up. A URL that does not name the current content is
// served as it is, to be checked again each time.
func TestBrowserStaticFilesFollowAnUpgrade(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	step(t, ctx, "page", chromedp.Navigate(f.srv.URL+"/console/d/orders/executions"), until(`document.readyState === "complete"`))
	refs := eval[[]string](t, ctx, `[document.querySelector("link[rel=stylesheet]").getAttribute("href"), document.querySelector("script[src]").getAttribute("src"),
	  document.querySelector("link[rel=icon]").getAttribute("href")]`)
	if !eval[bool](t, ctx, `getComputedStyle(document.querySelector("header.top")).position === "sticky" && !!window.fetch`) {
		t.Error("the page's style sheet was not applied")
	}
	for _, ref := range refs {
		u, err := url.Parse(ref)
		f.check(err)
		resp, err := http.Get(f.srv.URL + ref)
		f.check(err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		f.check(err)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", ref, resp.StatusCode)
			continue
		}
		sum := sha256.Sum256(body)
		if v := u.Query().Get("v"); len(v) < 8 || !strings.HasPrefix(hex.EncodeToString(sum[:]), v) {
			t.Errorf("the page names %s, whose URL does not name its content (its SHA-256 is %s…)", ref, hex.EncodeToString(sum[:6]))
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q, want it kept (its URL changes with its content)", ref, cc)
		}
		// The same file at its plain URL (a page of an older swfd still
		// open names it so) is checked again each time.
		resp, err = http.Get(f.srv.URL + u.Path)
		f.check(err)
		resp.Body.Close()
		if cc := resp.Header.Get("Cache-Control"); resp.StatusCode != http.StatusOK || cc != "no-cache" {
			t.Errorf("%s: %d, Cache-Control %q, want 200 and no-cache", u.Path, resp.StatusCode, cc)
		}
	}
}
