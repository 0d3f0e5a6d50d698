package console_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/server"
)

// quotaFile writes a quota file for a test and returns its path.
func quotaFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "quotas.json")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// isOpen reports whether a run is open.
func (f *fixture) isOpen(domain string, ex api.WorkflowExecution) bool {
	f.t.Helper()
	det, err := f.svc.DescribeWorkflowExecution(f.ctx, &api.DescribeWorkflowExecutionInput{Domain: domain, Execution: ex})
	f.check(err)
	return det.ExecutionInfo.ExecutionStatus == api.ExecutionStatusOpen
}

// signals counts the signals a run has received.
func (f *fixture) signals(domain string, ex api.WorkflowExecution) int {
	f.t.Helper()
	n := 0
	for _, e := range f.events(domain, ex) {
		if e.WorkflowExecutionSignaledEventAttributes != nil {
			n++
		}
	}
	return n
}

// The console's actions take their tokens from the buckets of --quotas, the
// same ones as the same calls through the API: a terminate through the API
// empties the bucket, and the console's terminate is then refused with a
// page that says what throttling means (429, not a failure of the server)
// and changes nothing, until swfd's clock refills the bucket. A start, and a
// batch, the same; a batch stops at its first throttled call and says so.
func TestActionsThrottled(t *testing.T) {
	f := newFixture(t, withConfig(func(c *server.Config) {
		c.Quotas = quotaFile(t, `{"base": "off", "operations": {
			"TerminateWorkflowExecution": {"bucketSize": 1, "refillPerSecond": 0.1},
			"StartWorkflowExecution": {"bucketSize": 1, "refillPerSecond": 0.1},
			"SignalWorkflowExecution": {"bucketSize": 2, "refillPerSecond": 0.1}}}`)
	}))
	f.register("orders")
	a, b := f.startRun("orders", "a", `{}`), f.startRun("orders", "b", `{}`)
	w := newWeb(t, f.srv.URL)
	w.get(execPath("orders", b))

	// Through the API: the one token.
	if _, err := f.srv.Client().TerminateWorkflowExecution(context.Background(), &swf.TerminateWorkflowExecutionInput{Domain: aws.String("orders"), WorkflowId: aws.String(a.WorkflowID)}); err != nil {
		t.Fatalf("terminate through the API: %v", err)
	}
	throttled := func(what string, code int, body string, op string) {
		t.Helper()
		if code != http.StatusTooManyRequests {
			t.Errorf("%s: %d, want 429 (throttled)\n%s", what, code, trunc(body))
		}
		wantIn(t, what, body, "Too many requests", "ThrottlingException", "Rate exceeded", "allow no more "+op+" calls just now", "Nothing was done")
	}
	code, body, _ := w.post(execPath("orders", b)+"/terminate", url.Values{"reason": {"r"}})
	throttled("the console's terminate after the API's", code, body, "TerminateWorkflowExecution")
	if !f.isOpen("orders", b) {
		t.Fatal("a throttled terminate closed the run")
	}
	f.srv.Advance(10 * time.Second)
	if code, body, _ := w.post(execPath("orders", b)+"/terminate", nil); code != http.StatusSeeOther {
		t.Fatalf("terminate once the bucket refilled: %d %s", code, trunc(body))
	}

	// Start: the first takes the token, the second is refused.
	w.get("/console/d/orders/start")
	if code, body, _ := w.post("/console/d/orders/start", url.Values{"workflowId": {"s1"}, "type": {"process-order|1"}}); code != http.StatusSeeOther {
		t.Fatalf("first start: %d %s", code, trunc(body))
	}
	code, body, _ = w.post("/console/d/orders/start", url.Values{"workflowId": {"s2"}, "type": {"process-order|1"}})
	throttled("the second start", code, body, "StartWorkflowExecution")

	// A batch signal of four runs with two tokens: two signaled, then it
	// stops.
	var batch []api.WorkflowExecution
	for _, wid := range []string{"b1", "b2", "b3", "b4"} {
		batch = append(batch, f.startRun("orders", wid, `{}`, "batch"))
	}
	w.get("/console/d/orders/executions?tag=batch")
	code, body, _ = w.post("/console/d/orders/batch", url.Values{"tag": {"batch"}, "action": {"signal"}, "signalName": {"poke"}, "confirm": {"4"}})
	if code != http.StatusOK {
		t.Fatalf("batch: %d %s", code, trunc(body))
	}
	wantIn(t, "the batch's outcome", body, "Signal — stopped", "<strong>2</strong> succeeded", "<strong class=\"bad\">1</strong> failed",
		"ThrottlingException: Rate exceeded", "allow no more SignalWorkflowExecution calls just now", "run the batch again")
	n := 0
	for _, ex := range batch {
		n += f.signals("orders", ex)
	}
	if n != 2 {
		t.Errorf("the batch signaled %d runs, want 2 (the bucket's tokens)", n)
	}
}

// Under --auth a console action counts against the signed-in principal's
// own buckets, as the principal's API calls do: with a bucket for the
// operator alone, the operator's second terminate is throttled.
func TestActionsThrottledPerPrincipal(t *testing.T) {
	f := newFixture(t, withConfig(func(c *server.Config) {
		authOption(t)(c)
		c.Quotas = quotaFile(t, `{"base": "off", "principals": {"operator": {"operations": {
			"TerminateWorkflowExecution": {"bucketSize": 1, "refillPerSecond": 0.1}}}}}`)
	}))
	f.register("orders")
	a, b := f.startRun("orders", "a", `{}`), f.startRun("orders", "b", `{}`)
	w := newWeb(t, f.srv.URL)
	w.signIn("AKIAOPERATOR0000001", "operator-secret")
	if code, body, _ := w.post(execPath("orders", a)+"/terminate", nil); code != http.StatusSeeOther {
		t.Fatalf("first terminate: %d %s", code, trunc(body))
	}
	code, body, _ := w.post(execPath("orders", b)+"/terminate", nil)
	if code != http.StatusTooManyRequests || !strings.Contains(body, "ThrottlingException") {
		t.Errorf("the operator's second terminate: %d, want 429 ThrottlingException\n%s", code, trunc(body))
	}
	if !f.isOpen("orders", b) {
		t.Error("a throttled terminate closed the run")
	}
}

// Under --auth a console action the signed-in principal's policies deny
// takes no token, as a denied API call takes none: the viewer's denied
// terminates leave the account's one token to the operator.
func TestDeniedActionsTakeNoToken(t *testing.T) {
	f := newFixture(t, withConfig(func(c *server.Config) {
		authOption(t)(c)
		c.Quotas = quotaFile(t, `{"base": "off", "operations": {
			"TerminateWorkflowExecution": {"bucketSize": 1, "refillPerSecond": 0.1}}}`)
	}))
	f.register("orders")
	a, b := f.startRun("orders", "a", `{}`), f.startRun("orders", "b", `{}`)
	viewer := newWeb(t, f.srv.URL)
	viewer.signIn("AKIAVIEWER000000001", "viewer-secret")
	for i := range 3 {
		if code, body, _ := viewer.post(execPath("orders", a)+"/terminate", nil); code != http.StatusForbidden {
			t.Fatalf("the viewer's terminate %d: %d, want 403 (denied)\n%s", i+1, code, trunc(body))
		}
	}
	op := newWeb(t, f.srv.URL)
	op.signIn("AKIAOPERATOR0000001", "operator-secret")
	if code, body, _ := op.post(execPath("orders", a)+"/terminate", nil); code != http.StatusSeeOther {
		t.Fatalf("the operator's terminate: %d, want 303 (the viewer's denied terminates took the token)\n%s", code, trunc(body))
	}
	if code, body, _ := op.post(execPath("orders", b)+"/terminate", nil); code != http.StatusTooManyRequests {
		t.Errorf("the operator's second terminate: %d, want 429\n%s", code, trunc(body))
	}
}
