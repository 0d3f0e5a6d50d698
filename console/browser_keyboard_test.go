package console_test

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// pressSlash presses the "/" key as a keyboard does: one key-down that
// carries its text (a page that cancels it types nothing), then key-up.
// chromedp's KeyEvent sends the text as an event of its own, which the
// page cannot cancel.
func pressSlash(mods chromedp.Modifier) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: "/", Code: "Slash", Text: "/", UnmodifiedText: "/",
			WindowsVirtualKeyCode: 191, NativeVirtualKeyCode: 191, Modifiers: int64(mods)}
		if mods != 0 {
			down.Text, down.UnmodifiedText = "", ""
		}
		if _, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, down); err != nil {
			return err
		}
		up := down
		up.Type, up.Text, up.UnmodifiedText = input.DispatchKeyEventTypeKeyUp, "", ""
		_, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, up)
		return err
	})
}

// "/" goes to the first filter of each page that has one (the domains'
// "Open a domain by name" among them), a "/" typed in a field is text, a
// "/" with Ctrl, Alt or Meta is the browser's, not the page's, and Escape
// leaves the field.
func TestBrowserSlashGoesToTheFilter(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	open := f.shop()
	focused := `(document.activeElement && document.activeElement !== document.body ? document.activeElement.tagName.toLowerCase() + "#" + (document.activeElement.id || document.activeElement.name) : "")`
	for _, c := range []struct{ path, field string }{
		{"/console/", "input#goto"},
		{"/console/d/orders/executions", "input#wid"},
		{execPath("orders", open), "input#types"},
	} {
		step(t, ctx, c.path, chromedp.Navigate(f.srv.URL+c.path), until(`document.readyState === "complete" && !!document.querySelector("main")`),
			chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
		step(t, ctx, "ctrl+/", pressSlash(chromedp.ModifierCtrl))
		if got := eval[string](t, ctx, focused); got != "" {
			t.Errorf("%s: Ctrl+/ moved the focus to %s", c.path, got)
		}
		step(t, ctx, "/", pressSlash(0))
		if got := eval[string](t, ctx, focused); got != c.field {
			t.Errorf("%s: / went to %q, want %s", c.path, got, c.field)
			continue
		}
		step(t, ctx, "type", chromedp.KeyEvent("a"), pressSlash(0), chromedp.KeyEvent("b"))
		if got := eval[string](t, ctx, `document.activeElement.value`); got != "a/b" {
			t.Errorf("%s: typed a/b into the filter, it holds %q", c.path, got)
		}
		step(t, ctx, "escape", chromedp.KeyEvent(kb.Escape))
		if got := eval[string](t, ctx, focused); got != "" {
			t.Errorf("%s: after Escape the focus is on %s", c.path, got)
		}
	}
}
