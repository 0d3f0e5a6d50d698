package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/internal/promtest"
	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/matching"
	"github.com/swfd/swfd/server"
)

// rawCall sends one SWF call over c (HTTP/1.1, kept alive) without reading
// the answer.
func rawCall(t *testing.T, c net.Conn, op, body string) {
	t.Helper()
	if _, err := fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: swfd\r\nX-Amz-Target: SimpleWorkflowService.%s\r\n"+
		"Content-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n%s", op, len(body), body); err != nil {
		t.Fatal(err)
	}
}

// Long polls that hold every connection --max-connections allows do not
// lock the other calls out until they time out. The issue: with
// --max-connections 10 and 12 idle polls, ListDomains took 58 s, and with
// the default limit and 2,000 pollers /healthz took up to a minute, with
// nothing in the log or the metrics. Now a new connection at the limit
// frees the connection of the poll that has waited longest: that poll is
// answered empty at once (as if it had timed out) with "Connection:
// close", the new connection is served, the other polls wait on, the
// eviction is counted and logged, and the health endpoints and metrics on
// --metrics-addr answer throughout.
func TestLongPollsAtConnectionLimitMakeRoom(t *testing.T) {
	var log logbuf.Buffer
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: time.Minute, Config: func(c *server.Config) {
		c.MaxConnections = 3
		c.MetricsAddr = "127.0.0.1:0"
		c.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}})
	ctx := context.Background()
	if err := srv.Server.Service.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "1"}); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(srv.URL, "http://")
	list := matching.ListKey{Kind: swfd.ActivityTask, Domain: "d", TaskList: "l"}
	type poll struct {
		c net.Conn
		r *bufio.Reader
	}
	var polls []poll
	for i := range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Minute))
		rawCall(t, c, "PollForActivityTask", `{"domain":"d","taskList":{"name":"l"}}`)
		// One at a time, so that which has waited longest is known.
		waitFor(t, fmt.Sprintf("poll %d to wait", i), func() bool { return srv.Server.Service.Matcher().Waiting(list) == i+1 })
		polls = append(polls, poll{c, bufio.NewReader(c)})
	}

	// Every connection is held by a poll. The health endpoints on
	// --metrics-addr answer all the same.
	metricsURL := "http://" + srv.Server.MetricsAddr()
	for _, path := range []string{"/healthz", "/readyz"} {
		hc := &http.Client{Timeout: 10 * time.Second}
		resp, err := hc.Get(metricsURL + path)
		if err != nil {
			t.Fatalf("%s on --metrics-addr at the connection limit: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s on --metrics-addr: %s", path, resp.Status)
		}
	}

	// A new client is served long before the polls' minute is up.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	rawCall(t, c, "ListDomains", `{"registrationStatus":"REGISTERED"}`)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("ListDomains at the connection limit, after %v: %v", time.Since(start).Round(time.Millisecond), err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"name":"d"`) {
		t.Fatalf("ListDomains: %s %s", resp.Status, b)
	}

	// The poll that had waited longest gave its connection up: answered
	// empty, told the connection closes, and closed.
	resp, err = http.ReadResponse(polls[0].r, nil)
	if err != nil {
		t.Fatalf("the oldest poll was not answered: %v", err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"startedEventId":0}` || !resp.Close {
		t.Fatalf("the oldest poll: %s close=%v %s", resp.Status, resp.Close, b)
	}
	if _, err := polls[0].r.ReadByte(); err != io.EOF {
		t.Fatalf("the oldest poll's connection stayed open: %v", err)
	}
	// The others wait on.
	if n := srv.Server.Service.Matcher().Waiting(list); n != 2 {
		t.Fatalf("%d polls waiting after one gave its connection up, want 2", n)
	}
	fams, err := promtest.Scrape(nil, metricsURL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := fams.Value("swfd_long_polls_evicted_total"); n != 1 {
		t.Errorf("swfd_long_polls_evicted_total = %v, want 1", n)
	}
	if n, _ := fams.Value("swfd_connections_max"); n != 3 {
		t.Errorf("swfd_connections_max = %v, want 3", n)
	}
	if n, ok := fams.Value("swfd_connections_open"); !ok || n < 1 || n > 3 {
		t.Errorf("swfd_connections_open = %v (found %v), want 1 to 3", n, ok)
	}
	if !strings.Contains(log.String(), "long poll answered early") {
		t.Errorf("the eviction was not logged:\n%s", log.String())
	}
}
