package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/server"
)

// --pprof-addr's server holds no connection for a body it never reads, and
// bounds headers as the API's address does: a GET announcing a body it never
// sent was held unanswered for as long as its client stayed, and headers
// could take a megabyte a connection.
func TestPprofServerBoundsRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := servePprof(ln, slog.New(slog.DiscardHandler))
	defer stop()
	for _, tc := range []struct {
		request string
		want    int
	}{
		{"GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", http.StatusOK},
		{fmt.Sprintf("GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n", strings.Repeat("a", server.MaxHeaderBytes+8192)), http.StatusRequestHeaderFieldsTooLarge},
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		go io.WriteString(c, tc.request)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err != nil {
			t.Fatalf("%.40q…: not answered: %v", tc.request, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%.40q…: status %d, want %d", tc.request, resp.StatusCode, tc.want)
		}
	}
}

// --pprof-addr holds at most pprofMaxConnections connections open: past it
// a new one waits, said in the log, and a silent one is closed to make room.
// It had no cap, so a client opening connections by the thousand could
// take every file the process may open.
func TestPprofConnectionsCapped(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logBuf logbuf.Buffer
	stop := servePprof(ln, slog.New(slog.NewTextHandler(&logBuf, nil)))
	defer stop()
	var slow []net.Conn
	for range pprofMaxConnections {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\n") // headers never ended
		slow = append(slow, c)
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /debug/pprof/ HTTP/1.1\r\nHost: x\r\n\r\n")
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logBuf.String(), "--pprof-addr connection limit reached"); {
		if time.Now().After(deadline) {
			t.Fatalf("connection %d to --pprof-addr was not held at the cap of %d:\n%s", pprofMaxConnections+1, pprofMaxConnections, logBuf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("the request after %d silent connections was not answered: %v", pprofMaxConnections, err)
	}
	resp.Body.Close()
	closed := 0
	for _, sc := range slow {
		sc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := sc.Read(make([]byte, 1)); err != nil && !isTimeoutErr(err) {
			closed++
		}
	}
	if closed == 0 {
		t.Error("no silent connection was closed to make room")
	}
}

func isTimeoutErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
