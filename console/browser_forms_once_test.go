package console_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/swfd/swfd/api"
)

// A form that acts is sent once: a second click on its button while the
// first is on its way (the server has acted and its answer is still
// coming) does not act again. A double click on "Send signal" sent two
// signals.
func TestBrowserFormSentOnce(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	open := f.shop()
	// The answers to the signal form are held until the second click.
	paused := make(chan fetch.RequestID, 8)

	f.check(chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			select {
			case paused <- e.RequestID:
			default:
			}
		}
	}))
	step(t, ctx, "page", chromedp.Navigate(f.srv.URL+execPath("orders", open)), until(`!!document.querySelector('form[action$="/signal"]')`),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details.action").forEach(d => d.open = true)`),
		chromedp.SetValue(`form[action$="/signal"] input[name=signalName]`, "once"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/signal", RequestStage: fetch.RequestStageResponse}}})
			return err
		}),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action$="/signal"] button.primary').scrollIntoView({block: "center"})`))
	// Clicked as a mouse does, at the button's place: the page is on its
	// way to the next while the answer is held, and chromedp's Click waits
	// for a page that has loaded.
	at := eval[[]float64](t, ctx, `(() => { const r = document.querySelector('form[action$="/signal"] button.primary').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`)
	click := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, typ := range []input.DispatchMouseEventType{input.DispatchMouseEventTypeMousePressed, input.DispatchMouseEventTypeMouseReleased} {
			if _, err := cdp.Call(ctx, tg, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: typ, X: at[0], Y: at[1], Button: input.MouseButtonLeft, ClickCount: 1}); err != nil {
				return err
			}
		}
		return nil
	})
	step(t, ctx, "first click", click)
	var first fetch.RequestID
	select {
	case first = <-paused:
	case <-time.After(30 * time.Second):
		t.Fatal("the form's answer was not held")
	}
	step(t, ctx, "second click", click)
	// Every answer held goes on; the page shows the outcome.
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case id := <-paused:
				chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
					return err
				}))
			case <-done:
				return
			}
		}
	}()
	paused <- first
	step(t, ctx, "outcome", until(`!!document.querySelector(".notice")`))
	h, err := f.svc.GetWorkflowExecutionHistory(f.ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "orders", Execution: open, MaximumPageSize: 1000})
	f.check(err)
	n := 0
	for _, ev := range h.Events {
		full, err := ev.Full()
		f.check(err)
		if a := full.WorkflowExecutionSignaledEventAttributes; a != nil && a.SignalName == "once" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("two clicks on Send signal sent %d signals, want 1", n)
	}
}
