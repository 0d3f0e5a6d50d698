package console_test

import (
	"bufio"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/swfdtest"
)

// In a cluster, an event committed through one node reaches a page open on
// another: the other node hears the run changed and reads its new events.
func TestLiveAcrossNodes(t *testing.T) {
	db := pgtest.NewDatabase(t)
	node := func() *fixture {
		return newFixture(t, swfdtest.WithClock(clock.Real), withConfig(func(c *server.Config) { c.DB = db }))
	}
	a, b := node(), node()
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
