package server

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

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/logbuf"
)

// A web console page's live updates (server-sent events) hold their
// connection for as long as the page is open. At --max-connections they
// must make room as long polls do: the stream that has been open longest
// ends (the page's EventSource connects again by itself), and a new
// client is served. Unbounded, two open pages held both connections of
// --max-connections 2, and no API call was answered while they stayed.
func TestLiveConsoleStreamsAtConnectionLimitMakeRoom(t *testing.T) {
	logBuf := &logbuf.Buffer{}
	s, addr := serving(t, Config{DB: MemoryDB, MaxConnections: 2, Logger: slog.New(slog.NewTextHandler(logBuf, nil))})
	if err := s.Service.RegisterDomain(context.Background(), &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "1"}); err != nil {
		t.Fatal(err)
	}
	type stream struct {
		c net.Conn
		r *bufio.Reader
	}
	var streams []stream
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET /console/d/d/live HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", addr)
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		r := bufio.NewReader(c)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("live stream: status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		streams = append(streams, stream{c, bufio.NewReader(resp.Body)})
	}

	const body = `{"registrationStatus":"REGISTERED"}`
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.ListDomains\r\n"+
		"Content-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("a client after two live console streams at --max-connections 2 was not answered in %v: %v", time.Since(start).Round(time.Millisecond), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the new client's call: status %d", resp.StatusCode)
	}

	// One stream ended, its connection closed; the other goes on.
	ended := 0
	for _, st := range streams {
		st.c.SetReadDeadline(time.Now().Add(time.Second))
		_, err := io.Copy(io.Discard, st.r)
		if err == nil {
			ended++
		} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Errorf("reading a live stream: %v", err)
		}
	}
	if ended != 1 {
		t.Errorf("%d live streams ended, want 1", ended)
	}
	// It is logged as what it was, not as a long poll evicted.
	if log := logBuf.String(); !strings.Contains(log, "live updates ended to free their connection") || strings.Contains(log, "a long poll answered early") {
		t.Errorf("the stream's end is not logged as such:\n%s", log)
	}
}
