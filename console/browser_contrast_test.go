package console_test

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// lowContrast lists the text of the page whose colour, against the
// background it is drawn on (the element's and its ancestors', blended),
// has a contrast ratio below what WCAG's level AA asks of it: 4.5, or 3
// for large text (24 px, or 18.66 px bold). Each as "element "text" ratio".
const lowContrast = `(() => {
  const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const blend = (c, a, under) => ({r: c.r * a + under.r * (1 - a), g: c.g * a + under.g * (1 - a), b: c.b * a + under.b * (1 - a)});
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let base = parse(getComputedStyle(document.documentElement).backgroundColor) || {r: 255, g: 255, b: 255};
    if (base.a === 0) base = {r: 255, g: 255, b: 255};
    for (let i = layers.length - 1; i >= 0; i--) base = blend(layers[i], layers[i].a, base);
    return base;
  };
  const out = new Set();
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (!n.data.trim()) continue;
    const el = n.parentElement, s = getComputedStyle(el);
    if (!el.getClientRects().length || s.visibility === "hidden" || el.closest("svg, option, [hidden]")) continue;
    const fg = parse(s.color);
    let opacity = fg.a;
    for (let e = el; e; e = e.parentElement) opacity *= parseFloat(getComputedStyle(e).opacity);
    const bg = background(el), text = blend(fg, opacity, bg);
    const a = lum(text), b = lum(bg), ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(s.fontSize), large = size >= 24 || (parseInt(s.fontWeight) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) out.add(el.tagName.toLowerCase() + (el.className ? "." + String(el.className).replace(/ /g, ".") : "") +
      " " + JSON.stringify(n.data.trim().slice(0, 24)) + " " + ratio.toFixed(2));
  }
  return Array.from(out);
})()`

// Every text of the console is readable against what it is drawn on, in
// the light theme and the dark: WCAG's level AA contrast (4.5:1, 3:1 for
// large text). The OPEN badge of every open execution (4.15:1 light,
// 4.40:1 dark), the task lists' kind badges in a row that needs attention,
// a failed decision's cause and, in the dark theme, the muted and red text
// of such a row (3.98:1) were below it.
func TestBrowserTextContrast(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.trouble()
	open := f.shop()
	// A run whose last decision failed, its cause in the pending work.
	f.startRun("orders", "bad-decision", `{}`)
	bad := f.decide("orders", schedule("x", "no-such-activity")).WorkflowExecution
	pages := []string{"/console/", "/console/d/orders/executions", "/console/d/orders/executions?status=closed", "/console/d/orders/types",
		"/console/d/trouble/tasklists", "/console/d/trouble/attention", execPath("orders", open), execPath("orders", bad), "/console/d/orders/start"}
	for _, theme := range []string{"light", "dark"} {
		step(t, ctx, theme, chromedp.EmulateViewport(1366, 900), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}}})
			return err
		}))
		for _, p := range pages {
			step(t, ctx, p, chromedp.Navigate(f.srv.URL+p), until(settledJS+` && !!document.querySelector("main h1")`))
			for _, low := range eval[[]string](t, ctx, lowContrast) {
				t.Errorf("%s, %s theme: %s", p, theme, low)
			}
		}
	}
}
