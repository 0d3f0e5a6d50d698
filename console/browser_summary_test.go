package console_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/swfd/swfd/api"
)

// A run without an execution timeout (one continued as new, or a child,
// given NONE) shows "execution NONE" among its timeouts, as the decision
// task's NONE is shown: it read "execution NONEs", NONE taken for a number
// of seconds.
func TestBrowserSummaryTimeoutNone(t *testing.T) {
	ctx := browser(t)
	f := newFixture(t)
	f.register("orders")
	first := f.startRun("orders", "forever", `{}`)
	f.decide("orders", api.Decision{DecisionType: api.DecisionTypeContinueAsNewWorkflowExecution,
		ContinueAsNewWorkflowExecutionDecisionAttributes: &api.ContinueAsNewWorkflowExecutionDecisionAttributes{
			ExecutionStartToCloseTimeout: "NONE", TaskStartToCloseTimeout: "NONE", Input: api.String(`{"gen":1}`)}})
	timeouts := func(path string) string {
		t.Helper()
		step(t, ctx, path, chromedp.Navigate(f.srv.URL+path), until(`document.readyState === "complete" && !!document.querySelector(".summary")`))
		return eval[string](t, ctx, `Array.from(document.querySelectorAll(".summary .kvt tr")).find(tr => tr.querySelector("th").textContent === "Timeouts").querySelector("td").textContent`)
	}
	if got := timeouts("/console/d/orders/w/forever"); got != "execution NONE · decision task NONE" {
		t.Errorf("the continued run's timeouts read %q, want %q", got, "execution NONE · decision task NONE")
	}
	if got := timeouts(execPath("orders", first)); got != "execution 86400s · decision task 300s" {
		t.Errorf("the first run's timeouts read %q, want %q", got, "execution 86400s · decision task 300s")
	}
}
