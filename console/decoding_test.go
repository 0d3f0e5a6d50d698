package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/console"
	"github.com/swfd/swfd/frontend"
)

// The request bytes the console decodes count in the API's bound on bytes
// decoded at once (frontend.Handler.MaxDecoding, through HoldDecoding):
// with the bound taken, a form is answered ServiceUnavailable (503) and
// nothing is done, and so is a page whose operation's input would go past
// it; once the bytes are let go both are served, and the console holds
// none of the bound after them.
func TestDecodingCountsInTheAPIBound(t *testing.T) {
	f := newFixture(t)
	f.register("orders")
	fe := &frontend.Handler{MaxDecoding: 2 * frontend.MaxBodyBytes}
	var mu sync.Mutex
	var asked []string // the operations bytes were asked for, "" for a form
	hold := func(ctx context.Context, op string, n int64) (func(), error) {
		mu.Lock()
		asked = append(asked, op)
		mu.Unlock()
		return fe.HoldDecoding(ctx, op, n)
	}
	wantAsked := func(what string, ops ...string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if strings.Join(asked, ",") != strings.Join(ops, ",") {
			t.Errorf("%s: bytes asked for %q, want %q", what, asked, ops)
		}
		asked = nil
	}
	srv := httptest.NewServer(console.New(console.Config{API: f.svc, Inspect: f.srv.Server.Service, HoldDecoding: hold}))
	defer srv.Close()
	w := newWeb(t, srv.URL)
	if code, body := w.get("/console/d/orders/start"); code != http.StatusOK {
		t.Fatalf("the start page: %d %s", code, trunc(body))
	}
	mu.Lock()
	asked = nil
	mu.Unlock()

	release, err := fe.HoldDecoding(context.Background(), "", 2*frontend.MaxBodyBytes)
	if err != nil {
		t.Fatal(err)
	}
	start := url.Values{"workflowId": {"held"}, "type": {"process-order|1"}}
	code, body, _ := w.post("/console/d/orders/start", start)
	if code != http.StatusServiceUnavailable {
		t.Errorf("a form at the bound: %d, want 503\n%s", code, trunc(body))
	}
	wantIn(t, "a form at the bound", body, "ServiceUnavailable", "decoding as many request bytes as it may at once")
	wantAsked("a form at the bound", "") // refused as it is parsed, before any operation
	if _, err := f.svc.DescribeWorkflowExecution(f.ctx, &api.DescribeWorkflowExecutionInput{Domain: "orders",
		Execution: api.WorkflowExecution{WorkflowID: "held"}}); err == nil {
		t.Error("a form refused at the bound started its run")
	}
	code, body = w.get("/console/d/orders/types")
	if code != http.StatusServiceUnavailable {
		t.Errorf("a page whose operation's input is past the bound: %d, want 503\n%s", code, trunc(body))
	}
	wantIn(t, "a page at the bound", body, "ServiceUnavailable")
	wantAsked("a page at the bound", "DescribeDomain")
	if n := fe.Decoding(); n != 2*frontend.MaxBodyBytes {
		t.Errorf("Decoding = %d after refusals, want the %d held before them", n, 2*frontend.MaxBodyBytes)
	}

	release()
	if code, body, hdr := w.post("/console/d/orders/start", start); code != http.StatusSeeOther {
		t.Errorf("the form once the bytes are let go: %d to %q\n%s", code, hdr.Get("Location"), trunc(body))
	}
	wantAsked("the form once the bytes are let go", "", "StartWorkflowExecution")
	if code, body := w.get("/console/d/orders/types"); code != http.StatusOK {
		t.Errorf("the page once the bytes are let go: %d\n%s", code, trunc(body))
	}
	if n := fe.Decoding(); n != 0 {
		t.Errorf("Decoding = %d once every request is answered, want 0", n)
	}
}
