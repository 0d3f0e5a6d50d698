package console_test

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/server"
)

// accessLine is a line of the access log, as package accesslog writes it.
type accessLine struct {
	RequestID string  `json:"request_id"`
	Principal string  `json:"principal"`
	Operation string  `json:"operation"`
	Domain    string  `json:"domain"`
	Status    int     `json:"status"`
	Fault     string  `json:"fault"`
	LatencyMS float64 `json:"latency_ms"`
}

// The console's actions leave the trail the API's calls do: under --auth a
// terminate, a denied terminate and a batch signal each write an
// access-log line with the signed-in principal, the domain and the
// outcome, count in swfd_api_calls_total, and write a log line; the pages
// read on the way (lists, descriptions, histories) write none.
func TestActionsAreAudited(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.log")
	var logBuf logbuf.Buffer
	f := newFixture(t, withConfig(func(c *server.Config) {
		authOption(t)(c)
		c.AccessLog = path
		c.Logger = slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}))
	f.shop()
	open := func(wid string) string {
		t.Helper()
		infos, err := f.svc.ListOpenWorkflowExecutions(f.ctx, &api.ListOpenWorkflowExecutionsInput{Domain: "orders",
			StartTimeFilter: api.ExecutionTimeFilter{OldestDate: api.Time{Time: time.Unix(0, 0)}}, ExecutionFilter: &api.WorkflowExecutionFilter{WorkflowID: wid}})
		f.check(err)
		return "/console/d/orders/w/" + wid + "/" + url.PathEscape(infos.ExecutionInfos[0].Execution.RunID)
	}
	signIn := func(key, secret string) *web {
		w := newWeb(t, f.srv.URL)
		w.get("/console/login")
		if code, _, _ := w.post("/console/login", url.Values{"accessKeyId": {key}, "secretAccessKey": {secret}}); code != http.StatusSeeOther {
			t.Fatalf("sign in as %s: %d", key, code)
		}
		return w
	}

	// The viewer may not terminate; the operator may.
	viewer := signIn("AKIAVIEWER000000001", "viewer-secret")
	p := open("order-1001")
	viewer.get(p)
	if code, _, _ := viewer.post(p+"/terminate", url.Values{"reason": {"r"}}); code != http.StatusForbidden {
		t.Errorf("the viewer's terminate: %d, want 403", code)
	}
	op := signIn("AKIAOPERATOR0000001", "operator-secret")
	op.get(p)
	if code, _, _ := op.post(p+"/terminate", url.Values{"reason": {"r"}}); code != http.StatusSeeOther {
		t.Fatalf("the operator's terminate: %d", code)
	}
	// A batch: signal both open executions tagged web.
	q := url.Values{"tag": {"web"}, "action": {"signal"}, "signalName": {"nudge"}}
	op.post("/console/d/orders/batch", q)
	q.Set("confirm", "2")
	_, body, _ := op.post("/console/d/orders/batch", q)
	wantIn(t, "batch outcome", body, "<strong>2</strong> succeeded")

	metrics := get(t, f.srv.URL+"/metrics")
	wantIn(t, "metrics", metrics,
		`swfd_api_calls_total{operation="TerminateWorkflowExecution",outcome="success"} 1`,
		`swfd_api_calls_total{operation="TerminateWorkflowExecution",outcome="OperationNotPermittedFault"} 1`,
		`swfd_api_calls_total{operation="SignalWorkflowExecution",outcome="success"} 2`)
	wantNotIn(t, "metrics", metrics, `swfd_api_calls_total{operation="DescribeWorkflowExecution",outcome="success"} 1`)

	wantIn(t, "the log", logBuf.String(),
		`msg="console: operation" op=TerminateWorkflowExecution domain=orders principal=operator fault=""`,
		`msg="console: operation" op=TerminateWorkflowExecution domain=orders principal=orders-viewer fault=OperationNotPermittedFault`)

	// Closing the server writes what the access log holds. Each action's
	// line is there; nothing else (the pages' reads).
	if err := f.srv.Server.Close(); err != nil {
		t.Fatal(err)
	}
	want := []accessLine{
		{Principal: "orders-viewer", Operation: "TerminateWorkflowExecution", Domain: "orders", Status: 400, Fault: api.OperationNotPermittedFault},
		{Principal: "operator", Operation: "TerminateWorkflowExecution", Domain: "orders", Status: 200},
		{Principal: "operator", Operation: "SignalWorkflowExecution", Domain: "orders", Status: 200},
		{Principal: "operator", Operation: "SignalWorkflowExecution", Domain: "orders", Status: 200},
	}
	got := readAccessLog(t, path)
	if len(got) != len(want) {
		t.Fatalf("access log: %+v; want %+v", got, want)
	}
	for i, g := range got {
		if g.RequestID == "" || g.LatencyMS < 0 {
			t.Errorf("line %d: no request id or a negative latency: %+v", i, g)
		}
		g.RequestID, g.LatencyMS = "", 0
		if g != want[i] {
			t.Errorf("line %d = %+v; want %+v", i, g, want[i])
		}
	}
}

func readAccessLog(t *testing.T, path string) []accessLine {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []accessLine
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var l accessLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("access log line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
