package server

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/matching"
)

// Long polls over HTTP/2 hold their connections at --max-connections as
// those over HTTP/1.1 do: when a new connection needs a place and none is
// idle, the connection whose poll has waited longest gives its polls up
// (answered empty, as at their timeout) and takes no new request (GOAWAY),
// so that it closes and the new client is served. Before, a wait over
// HTTP/2 was never evicted, and two pollers' connections at
// --max-connections 2 kept every new client waiting for as long as they
// polled.
func TestHTTP2LongPollsAtConnectionLimitMakeRoom(t *testing.T) {
	certFile, keyFile := selfSigned(t, t.TempDir())
	s, apiAddr := serving(t, Config{DB: MemoryDB, MaxConnections: 2, PollTimeout: time.Minute,
		TLSCertFile: certFile, TLSKeyFile: keyFile, Logger: slog.New(slog.DiscardHandler)})
	if err := s.Service.RegisterDomain(context.Background(), &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "1"}); err != nil {
		t.Fatal(err)
	}
	url := "https://" + apiAddr + "/"
	client := func() *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	}
	call := func(c *http.Client, op, body string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "SimpleWorkflowService."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		return c.Do(req)
	}
	list := matching.ListKey{Kind: swfd.ActivityTask, Domain: "d", TaskList: "l"}
	answered := make(chan string, 2)
	for i := range 2 {
		c := client()
		go func() {
			resp, err := call(c, "PollForActivityTask", `{"domain":"d","taskList":{"name":"l"}}`)
			if err != nil {
				answered <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			answered <- resp.Proto + " " + resp.Status + " " + string(b)
		}()
		deadline := time.Now().Add(10 * time.Second)
		for s.Service.Matcher().Waiting(list) < i+1 {
			if time.Now().After(deadline) {
				t.Fatalf("poll %d does not wait", i)
			}
			time.Sleep(time.Millisecond)
		}
	}

	start := time.Now()
	c := client()
	c.Timeout = 20 * time.Second
	resp, err := call(c, "ListDomains", `{"registrationStatus":"REGISTERED"}`)
	if err != nil {
		t.Fatalf("a client after two HTTP/2 pollers at --max-connections 2 was not answered in %v: %v", time.Since(start).Round(time.Millisecond), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Fatalf("the new client's call: status %d over %s", resp.StatusCode, resp.Proto)
	}
	select {
	case got := <-answered:
		if !strings.HasPrefix(got, "HTTP/2.0 200 OK") || strings.Contains(got, "taskToken") {
			t.Errorf("the evicted poll's answer: %s; want an empty task over HTTP/2", got)
		}
	case <-time.After(10 * time.Second):
		t.Error("no poll was answered to make room")
	}
}
