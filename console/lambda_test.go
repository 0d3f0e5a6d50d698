package console_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/lambda"
	"github.com/swfd/swfd/server"
)

// heldInvoker is a Lambda endpoint that holds its callers until the test
// ends: the dry run of "slow-check" (so that function's task stays
// scheduled) and the invocation of every other function (so it stays
// started, and says so on invoked).
type heldInvoker struct {
	invoked chan string
	release chan struct{}
}

func (h *heldInvoker) Check(ctx context.Context, r lambda.Request) error {
	if r.Function != "slow-check" {
		return nil
	}
	select {
	case <-h.release:
	case <-ctx.Done():
	}
	return errors.New("the test ended")
}

func (h *heldInvoker) Invoke(ctx context.Context, r lambda.Request) (lambda.Response, error) {
	h.invoked <- r.Function
	select {
	case <-h.release:
	case <-ctx.Done():
	}
	return lambda.Response{}, errors.New("the test ended")
}

// lambdaRun starts a run that may use Lambda, on a fixture whose endpoint
// is inv, and schedules two functions: "resize-image", which starts and is
// held running, and "slow-check", held at its dry run so it stays scheduled.
// It returns once the first is running.
func lambdaRun(t *testing.T, inv *heldInvoker) (*fixture, api.WorkflowExecution) {
	t.Helper()
	f := newFixture(t, withConfig(func(c *server.Config) { c.LambdaInvoker = inv }))
	t.Cleanup(func() { close(inv.release) })
	f.register("orders")
	run, err := f.svc.StartWorkflowExecution(f.ctx, &api.StartWorkflowExecutionInput{Domain: "orders", WorkflowID: "order-2001",
		WorkflowType: api.WorkflowType{Name: "process-order", Version: "1"}, LambdaRole: "arn:aws:iam::123456789012:role/swf-lambda"})
	f.check(err)
	f.decide("orders",
		api.Decision{DecisionType: api.DecisionTypeScheduleLambdaFunction, ScheduleLambdaFunctionDecisionAttributes: &api.ScheduleLambdaFunctionDecisionAttributes{
			ID: "thumb", Name: "resize-image", Input: api.String(`{"w":200}`), StartToCloseTimeout: "120"}},
		api.Decision{DecisionType: api.DecisionTypeScheduleLambdaFunction, ScheduleLambdaFunctionDecisionAttributes: &api.ScheduleLambdaFunctionDecisionAttributes{
			ID: "audit", Name: "slow-check"}})
	if fn := <-inv.invoked; fn != "resize-image" {
		t.Fatalf("invoked %q", fn)
	}
	return f, api.WorkflowExecution{WorkflowID: "order-2001", RunID: run.RunID}
}

func newHeldInvoker() *heldInvoker {
	return &heldInvoker{invoked: make(chan string, 4), release: make(chan struct{})}
}

// The pending work of a run lists its open Lambda functions: one started
// and running (with when its timeout fires), one scheduled and waiting.
func TestPendingLambdaFunctions(t *testing.T) {
	f, ex := lambdaRun(t, newHeldInvoker())
	w := newWeb(t, f.srv.URL)
	code, body := w.get(execPath("orders", ex) + "/pending")
	if code != 200 {
		t.Fatalf("GET pending: %d\n%s", code, body)
	}
	wantIn(t, "pending work", body, "Lambda functions", ">thumb<", "resize-image", ">audit<", "slow-check", "120s", "fires in 2m")
	rows := regexp.MustCompile(`(?s)<tr class="lambda">.*?</tr>`).FindAllString(body, -1)
	if len(rows) != 2 {
		t.Fatalf("%d Lambda rows, want 2:\n%s", len(rows), body)
	}
	wantIn(t, "the started function's row", rows[0], "resize-image", "running")
	wantIn(t, "the scheduled function's row", rows[1], "slow-check", "waiting")
	wantNotIn(t, "the scheduled function's row", rows[1], "fires in")
}

// In a browser, an execution's page shows its open Lambda functions among
// its pending work. SWFD_SCREENSHOTS=DIR keeps the screenshot
// (execution-lambda.png).
func TestBrowserPendingLambda(t *testing.T) {
	f, ex := lambdaRun(t, newHeldInvoker())
	ctx := f.browser()
	step(t, ctx, "execution page", chromedp.EmulateViewport(1366, 768), chromedp.Navigate(f.srv.URL+execPath("orders", ex)),
		until(`document.querySelectorAll("#pending tr.lambda").length === 2`), until(`document.fonts.status === "loaded"`))
	rows := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#pending tr.lambda")).map(r => r.innerText)`)
	for i, want := range [][]string{{"thumb", "resize-image", "running", "120s", "fires in"}, {"audit", "slow-check", "waiting"}} {
		for _, w := range want {
			if !strings.Contains(rows[i], w) {
				t.Errorf("Lambda row %d lacks %q: %q", i, w, rows[i])
			}
		}
	}
	if h := eval[string](t, ctx, `document.querySelector("#pending .lambdas").closest("section").querySelector("h3").innerText`); !strings.Contains(h, "Lambda functions") || !strings.Contains(h, "2") {
		t.Errorf("section heading %q", h)
	}
	if open := eval[string](t, ctx, `document.body.innerText`); !strings.Contains(open, "Lambda functions 2") {
		t.Errorf("the summary's open counts lack the Lambda functions:\n%s", open)
	}
	step(t, ctx, "scroll to the Lambda functions", chromedp.Evaluate[chromedp.Void](`document.querySelector("#pending .lambdas").scrollIntoView({block: "center"})`))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	f.check(err)
	f.check(os.WriteFile(filepath.Join(screenshotDir(t), "execution-lambda.png"), png, 0o644))
}

// A workflow that uses Lambda needs an IAM role: the start form takes the
// run's (SWF's lambdaRole) and the form that registers a workflow type its
// default (defaultLambdaRole), and their command lines say so. Without
// them, a run started from the console had no role and its decider's
// ScheduleLambdaFunction decisions failed.
func TestBrowserLambdaRoleForms(t *testing.T) {
	f := newFixture(t)
	ctx := f.browser()
	f.register("orders")
	const role = "arn:aws:iam::123456789012:role/swf-lambda"
	start := `form[action$="/start"]`
	step(t, ctx, "start form", chromedp.Navigate(f.srv.URL+"/console/d/orders/start"), until(`!!document.querySelector('`+start+` [data-cli]')`),
		chromedp.SetValue(start+` input[name=workflowId]`, "with-lambda"))
	step(t, ctx, "lambda role", chromedp.SetValue(start+` input[name=lambdaRole]`, role),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('`+start+`').dispatchEvent(new Event("input"))`),
		until(`document.querySelector('`+start+` [data-cli]').textContent.includes("--lambda-role")`))
	if line := eval[string](t, ctx, `document.querySelector('`+start+` [data-cli]').textContent`); !strings.Contains(line, "--lambda-role "+role) {
		t.Errorf("the start form's command line: %s", line)
	}
	step(t, ctx, "start", chromedp.Submit(start), until(`!!document.querySelector(".notice")`))
	det, err := f.svc.DescribeWorkflowExecution(f.ctx, &api.DescribeWorkflowExecutionInput{Domain: "orders", Execution: f.openRun("orders", "with-lambda")})
	f.check(err)
	if got := det.ExecutionConfiguration.LambdaRole; got != role {
		t.Errorf("the run started from the form has Lambda role %q, want %q", got, role)
	}

	reg := `form[action$="/types"]:has(input[name=kind][value=workflow])`
	step(t, ctx, "types", chromedp.Navigate(f.srv.URL+"/console/d/orders/types"), until(`!!document.querySelector('`+reg+`')`),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details.action").forEach(d => d.open = true)`),
		chromedp.SetValue(reg+` input[name=name]`, "resize"), chromedp.SetValue(reg+` input[name=version]`, "1"))
	step(t, ctx, "default lambda role", chromedp.SetValue(reg+` input[name=lambdaRole]`, role),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('`+reg+`').dispatchEvent(new Event("input"))`),
		until(`document.querySelector('`+reg+` [data-cli]').textContent.includes("--default-lambda-role")`))
	step(t, ctx, "register", chromedp.Submit(reg), until(`!!document.querySelector(".notice")`))
	typ, err := f.svc.DescribeWorkflowType(f.ctx, &api.DescribeWorkflowTypeInput{Domain: "orders", WorkflowType: api.WorkflowType{Name: "resize", Version: "1"}})
	f.check(err)
	if got := typ.Configuration.DefaultLambdaRole; got != role {
		t.Errorf("the type registered from the form has default Lambda role %q, want %q", got, role)
	}
}
