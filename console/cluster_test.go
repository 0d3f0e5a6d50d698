package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/cluster"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/server"
)

// In a cluster, an event committed through one node reaches a page open on
// another: the other node hears the run changed and reads its new events.
func TestLiveAcrossNodes(t *testing.T) {
	db := pgtest.NewDatabase(t)
	node := func() *fixture {
		return newRealFixture(t, withConfig(func(c *server.Config) { c.DB = db }))
	}
	a, b := node(), node()
	hearEachOther(t, a, b)
	a.register("orders")
	ex := a.startRun("orders", "across", `{}`)
	hist, err := b.svc.GetWorkflowExecutionHistory(b.ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "orders", Execution: ex, ReverseOrder: true, MaximumPageSize: 1})
	b.check(err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", b.srv.URL+execPath("orders", ex)+"/live?after="+itoa(hist.Events[0].EventID), nil)
	resp, err := http.DefaultClient.Do(req)
	b.check(err)
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	readUntil(t, r, "event: pending") // subscribed
	a.check(a.svc.SignalWorkflowExecution(a.ctx, &api.SignalWorkflowExecutionInput{Domain: "orders", WorkflowID: "across", SignalName: "through-node-a"}))
	got := readUntil(t, r, "through-node-a")
	wantIn(t, "node b's stream", got, "event: events", "WorkflowExecutionSignaled")
}

// In a cluster, a run started or closed through one node reaches a list
// open on another as its row, as a run started or closed on that node does,
// with what the list's filters look at (it used to reach it only as
// "changes elsewhere — refresh"); a run that changes otherwise there is
// news to no list, as here.
func TestLiveListAcrossNodes(t *testing.T) {
	db := pgtest.NewDatabase(t)
	node := func() *fixture {
		return newRealFixture(t, withConfig(func(c *server.Config) { c.DB = db }))
	}
	a, b := node(), node()
	hearEachOther(t, a, b)
	a.register("orders")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", b.srv.URL+"/console/d/orders/live", nil)
	resp, err := http.DefaultClient.Do(req)
	b.check(err)
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	r.ReadString('\n') // subscribed

	type row struct {
		WorkflowID, RunID, Type, Version, Status, Start, Close string
		Tags                                                   []string
	}
	rowIn := func(got, status string) row {
		t.Helper()
		if strings.Contains(got, "event: remote") {
			t.Errorf("node b's list was told of a change elsewhere, not given its row:\n%s", got)
		}
		for _, line := range strings.Split(got, "\n") {
			if d, ok := strings.CutPrefix(line, "data: "); ok && strings.Contains(d, `"status":"`+status+`"`) {
				var r row
				b.check(json.Unmarshal([]byte(d), &r))
				return r
			}
		}
		t.Fatalf("no %s row in node b's stream:\n%s", status, got)
		return row{}
	}
	ex := a.startRun("orders", "across", `{}`, "eu")
	got := readUntil(t, r, `"workflowId":"across"`)
	if o := rowIn(got, "OPEN"); o.RunID != ex.RunID || o.Type != "process-order" || o.Version != "1" || strings.Join(o.Tags, ",") != "eu" || o.Start == "" {
		t.Errorf("the start's row %+v, want run %s of process-order 1 tagged eu, with its start time", o, ex.RunID)
	}
	a.check(a.svc.SignalWorkflowExecution(a.ctx, &api.SignalWorkflowExecutionInput{Domain: "orders", WorkflowID: "across", SignalName: "s"}))
	a.check(a.svc.TerminateWorkflowExecution(a.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: "across"}))
	got = readUntil(t, r, "TERMINATED")
	if c := rowIn(got, "TERMINATED"); c.RunID != ex.RunID || c.WorkflowID != "across" || strings.Join(c.Tags, ",") != "eu" || c.Start == "" || c.Close == "" {
		t.Errorf("the close's row %+v, want run %s tagged eu, with its start and close times", c, ex.RunID)
	}
}

// hearEachOther waits until every node has heard each other's news (a node
// announces itself as it starts, then sends a heartbeat every few seconds
// while idle): until a node listens, what another publishes reaches it not
// at all, as at any node's start.
func hearEachOther(t *testing.T, nodes ...*fixture) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, f := range nodes {
		node, ok := f.srv.Server.Service.Peers().(*cluster.Node)
		if !ok {
			t.Fatalf("%T is no cluster node", f.srv.Server.Service.Peers())
		}
		for node.LiveNodes() < len(nodes) {
			if time.Now().After(deadline) {
				t.Fatalf("a node hears %d nodes of %d after 30s", node.LiveNodes(), len(nodes))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// A node whose news listener lost its connection (a network cut, its
// backend terminated) hears nothing of the commits other nodes make until
// it listens again. The pages it serves used to stay as they were, missing
// the events and executions of that gap until the person reloaded; once
// the listener listens again, an execution's page now gets the events it
// missed, and a list is told to read itself again.
func TestLiveAcrossNodesAfterAGap(t *testing.T) {
	db := pgtest.NewDatabase(t)
	proxy := pgtest.NewProxy(t, db)
	a := newRealFixture(t, withConfig(func(c *server.Config) { c.DB = db }))
	b := newRealFixture(t, withConfig(func(c *server.Config) { c.DB = proxy.DSN(db) }))
	hearEachOther(t, a, b)
	a.register("orders")
	ex := a.startRun("orders", "gap", `{}`)
	hist, err := b.svc.GetWorkflowExecutionHistory(b.ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "orders", Execution: ex, ReverseOrder: true, MaximumPageSize: 1})
	b.check(err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	open := func(path string) (*bufio.Reader, *http.Response) {
		req, _ := http.NewRequestWithContext(ctx, "GET", b.srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		b.check(err)
		t.Cleanup(func() { resp.Body.Close() })
		return bufio.NewReader(resp.Body), resp
	}
	run, runResp := open(execPath("orders", ex) + "/live?after=" + itoa(hist.Events[0].EventID))
	readUntil(t, run, "event: pending") // subscribed
	// A list's stream opened without the position of a page first tells
	// it to read itself again: the gap's must come after that.
	list, listResp := open("/console/d/orders/live")
	readUntil(t, list, "event: stale") // subscribed

	// Node b's connections to the database are cut; node a signals the run
	// and starts another while they are.
	proxy.Cut()
	a.check(a.svc.SignalWorkflowExecution(a.ctx, &api.SignalWorkflowExecutionInput{Domain: "orders", WorkflowID: "gap", SignalName: "in-the-gap"}))
	a.startRun("orders", "started-in-the-gap", `{}`)
	proxy.Restore()
	waitReady(t, b)

	// Without the fix neither stream hears of anything more: each is given
	// a bound, past which it is closed and readUntil fails.
	for _, r := range []*http.Response{runResp, listResp} {
		time.AfterFunc(15*time.Second, func() { r.Body.Close() })
	}
	got := readUntil(t, run, "in-the-gap")
	wantIn(t, "node b's execution stream after the gap", got, "event: events", "WorkflowExecutionSignaled")
	readUntil(t, list, "event: stale")
}

// waitReady waits until the node answers /readyz with 200: its database
// answers and its news listener is connected.
func waitReady(t *testing.T, f *fixture) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(f.srv.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node is not ready 30s after its database came back (%v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
