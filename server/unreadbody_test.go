package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// A request answered without its body being read to the end (a GET
// /healthz that announces a body, an API call whose chunked body passes
// the limit) is answered at once and its connection closed, rather
// than held, unanswered, while net/http waits for the rest of the body: two
// such requests held both connections of --max-connections 2 for as long
// as their clients stayed, and no call was answered meanwhile.
func TestUnreadBodiesDoNotHoldConnections(t *testing.T) {
	_, addr := serving(t, Config{DB: MemoryDB, MaxConnections: 2, Logger: slog.New(slog.DiscardHandler)})
	stalled := []string{
		"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
		"GET /readyz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
		// An API call whose chunked body passed 1 MiB: refused for its
		// size without the rest being read.
		"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.ListDomains\r\nTransfer-Encoding: chunked\r\n\r\n" +
			fmt.Sprintf("%x\r\n%s\r\n", 1<<20+1, strings.Repeat(" ", 1<<20+1)) + "10\r\nabc",
		"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab",
	}
	for _, req := range stalled {
		first, _, _ := strings.Cut(req, "\r\n")
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, req)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s with its body never sent: not answered: %v", first, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if !resp.Close {
			t.Errorf("%s with its body never sent: answered %d without Connection: close", first, resp.StatusCode)
		}
		// Closed (with the unread bytes still on their way, the peer may
		// reset it rather than end it), not left open.
		if _, err := br.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s with its body never sent: the connection was not closed after the answer: %v", first, err)
		}
	}

	// Two stalled bodies at --max-connections 2 leave room for a call.
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, stalled[0])
	}
	const body = `{"registrationStatus":"REGISTERED"}`
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.ListDomains\r\n"+
		"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 35\r\n\r\n"+body)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("a call after two GETs with bodies never sent, at --max-connections 2: not answered: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Errorf("the call: status %d, close %v", resp.StatusCode, resp.Close)
	}
}

// A client still sending a body swfd refuses for its size reads the
// answer, each time: the connection is closed gracefully (net/http stops
// sending and waits a moment before closing), not reset while the client
// writes, which lost the answer about one time in two ("connection reset
// by peer" instead of the refusal).
func TestOversizedBodyIsAnsweredNotReset(t *testing.T) {
	_, addr := serving(t, Config{DB: MemoryDB, Logger: slog.New(slog.DiscardHandler)})
	body := `{"registrationStatus":"REGISTERED","nextPageToken":"` + strings.Repeat("x", 2<<20) + `"}`
	for i := range 20 {
		req, err := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "SimpleWorkflowService.ListDomains")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Fatalf("request %d: %s %s; want a refusal of the body", i, resp.Status, b)
		}
	}
}
