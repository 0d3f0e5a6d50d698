package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/swfd/swfd/api"
)

// A run without an execution timeout (one continued as new, or a child,
// given NONE) shows "execution NONE" among its timeouts, as the decision
// task's NONE is shown: it read "execution NONEs", NONE taken for a number
// of seconds.
func TestBrowserSummaryTimeoutNone(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
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

// A deprecated domain's start page says that the domain is deprecated and
// leads to its page, where it can be undeprecated; it said "This domain has
// no registered workflow types. Register one first" (its types are
// deprecated with it), and its page offered forms to register types,
// each refused (UnknownResourceFault: Domain is deprecated). Undeprecated,
// the start form is back.
func TestBrowserDeprecatedDomainNoDeadEnd(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	f.check(f.svc.DeprecateDomain(f.ctx, &api.DeprecateDomainInput{Name: "orders"}))
	step(t, ctx, "start page", chromedp.Navigate(f.srv.URL+"/console/d/orders/start"), until(`document.readyState === "complete" && !!document.querySelector("main h1")`))
	if txt := eval[string](t, ctx, `document.querySelector("main").innerText`); !strings.Contains(txt, "deprecated") || strings.Contains(txt, "Register one") {
		t.Errorf("the deprecated domain's start page reads %q, want it to say the domain is deprecated", txt)
	}
	step(t, ctx, "to the domain's page", clickShown(`main a[href="/console/d/orders/types"]`), until(`location.pathname === "/console/d/orders/types"`),
		until(`document.readyState === "complete" && !!document.querySelector("main h1")`))
	if n := eval[int](t, ctx, `document.querySelectorAll('form[action="/console/d/orders/types"]').length`); n != 0 {
		t.Errorf("the deprecated domain's page has %d forms to register a type, want none", n)
	}
	if !eval[bool](t, ctx, `!!Array.from(document.querySelectorAll("main button")).find(b => b.textContent === "Undeprecate domain")`) {
		t.Error("the deprecated domain's page has no Undeprecate button")
	}
	f.check(f.svc.UndeprecateDomain(f.ctx, &api.UndeprecateDomainInput{Name: "orders"}))
	f.check(f.svc.RegisterWorkflowType(f.ctx, &api.RegisterWorkflowTypeInput{Domain: "orders", Name: "again", Version: "1"}))
	step(t, ctx, "start page again", chromedp.Navigate(f.srv.URL+"/console/d/orders/start"), until(`!!document.querySelector('form[action="/console/d/orders/start"]')`))
	step(t, ctx, "types page again", chromedp.Navigate(f.srv.URL+"/console/d/orders/types"), until(`document.querySelectorAll('form[action="/console/d/orders/types"]').length === 2`))
}
