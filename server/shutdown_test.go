package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/logbuf"
)

// readListener tells, by closing waiting, when the server waits for more
// of a request than the client sent: its handler is reading the body (the
// first read took the headers and what of the body came with them). From
// then on the request is being served, and shutting down waits for it; a
// request whose headers were read but not yet handed to a handler when
// shutdown began would be dropped unanswered instead.
type readListener struct {
	net.Listener
	waiting chan struct{}
	once    sync.Once
	reads   atomic.Int32
}

func (l *readListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &readConn{Conn: c, l: l}, nil
}

type readConn struct {
	net.Conn
	l *readListener
}

func (c *readConn) Read(p []byte) (int, error) {
	if c.l.reads.Add(1) == 2 {
		c.l.once.Do(func() { close(c.l.waiting) })
	}
	return c.Conn.Read(p)
}

// startLogged opens and starts an in-memory server with the shutdown
// timeout given, logging into the buffer returned; it is closed when the
// test ends.
func startLogged(t *testing.T, shutdownTimeout time.Duration) (*Server, *logbuf.Buffer) {
	t.Helper()
	logBuf := &logbuf.Buffer{}
	s, err := Open(context.Background(), Config{DB: MemoryDB, ShutdownTimeout: shutdownTimeout,
		Logger: slog.New(slog.NewTextHandler(logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Start()
	return s, logBuf
}

// stalledServer serves s until the returned cancel is called, with one
// client that sent a request's headers and never its body.
func stalledServer(t *testing.T, s *Server) (cancel func(), served <-chan error, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &readListener{Listener: ln, waiting: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Write([]byte("POST / HTTP/1.1\r\nHost: swfd\r\nX-Amz-Target: SimpleWorkflowService.ListDomains\r\n" +
		"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n{"))
	<-l.waiting
	return cancel, done, c
}

// A client that never finishes its request does not hold the shutdown up
// past ShutdownTimeout: its connection is closed, the log says how many
// were, and Serve returns nil (the call had no answer: nothing of it was
// acknowledged).
func TestShutdownClosesStalledConnections(t *testing.T) {
	s, logBuf := startLogged(t, 300*time.Millisecond)
	cancel, done, c := stalledServer(t, s)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve still waits for the stalled client")
	}
	if log := logBuf.String(); !strings.Contains(log, `level=WARN msg="shutdown: connections still open after the shutdown timeout; closed them" connections=1 timeout=300ms`) {
		t.Errorf("log:\n%s", log)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Errorf("the stalled connection was not closed: %v", err)
	}
}

// Abort ends the wait at once: the stalled connection is closed and Serve
// returns ErrAborted, long before ShutdownTimeout.
func TestAbortCutsShutdownShort(t *testing.T) {
	s, logBuf := startLogged(t, time.Minute)
	cancel, done, _ := stalledServer(t, s)
	cancel()
	for !strings.Contains(logBuf.String(), "shutting down") {
		time.Sleep(5 * time.Millisecond)
	}
	s.Abort()
	select {
	case err := <-done:
		if !errors.Is(err, ErrAborted) || !strings.Contains(err.Error(), "(connections still open, now closed: 1)") {
			t.Fatalf("Serve: %v, want ErrAborted", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve still waits after Abort")
	}
	if log := logBuf.String(); !strings.Contains(log, `msg="shutdown cut short: closed the connections still open" connections=1`) {
		t.Errorf("log:\n%s", log)
	}
}

// A console page's live updates do not hold the shutdown up: its stream
// ends when shutdown begins, and Serve returns long before ShutdownTimeout.
func TestShutdownEndsConsoleStreams(t *testing.T) {
	s, logBuf := startLogged(t, time.Minute)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	req, _ := http.NewRequest("POST", base+"/", strings.NewReader(`{"name":"d","workflowExecutionRetentionPeriodInDays":"1"}`))
	req.Header.Set("X-Amz-Target", "SimpleWorkflowService.RegisterDomain")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("RegisterDomain: %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/console/d/d/live")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, first); err != nil || resp.StatusCode != 200 || string(first) != "retry" {
		t.Fatalf("live stream: %d %q %v", resp.StatusCode, first, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve still waits for the console's live stream")
	}
	if log := logBuf.String(); strings.Contains(log, "connections still open") {
		t.Errorf("log:\n%s", log)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Errorf("stream did not end cleanly: %v", err)
	}
}

// A call timeout longer than the default shutdown wait lengthens that wait:
// a call in flight when shutdown begins may take its whole call timeout.
func TestShutdownWaitsForTheCallTimeout(t *testing.T) {
	for _, c := range []struct{ call, want time.Duration }{
		{0, DefaultShutdown},
		{5 * time.Second, DefaultShutdown},
		{40 * time.Second, 40 * time.Second},
	} {
		s, err := Open(context.Background(), Config{DB: MemoryDB, CallTimeout: c.call})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.cfg.ShutdownTimeout; got != c.want {
			t.Errorf("call timeout %v: shutdown waits %v, want %v", c.call, got, c.want)
		}
		s.Close()
	}
}
