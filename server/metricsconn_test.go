package server

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/logbuf"
)

// --metrics-addr has a cap on its connections of its own: a client that
// opens connections and sends nothing, or its headers a byte at a time,
// holds no more than the cap, and past it the silent ones are closed to
// make room for a scrape. Without a cap every such connection held a
// goroutine and its buffers for as long as the header timeout allowed, as
// many as the client opened.
func TestMetricsAddrConnectionsCapped(t *testing.T) {
	logBuf := &logbuf.Buffer{}
	s, _ := serving(t, Config{DB: MemoryDB, MetricsAddr: "127.0.0.1:0", MetricsMaxConnections: 2,
		ReadHeaderTimeout: time.Minute, Logger: slog.New(slog.NewTextHandler(logBuf, nil))})
	addr := s.MetricsAddr()
	// Two connections whose headers have begun and never end.
	var slow []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n")
		slow = append(slow, c)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	// The third waits for room: the cap is reached, and said so.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logBuf.String(), "--metrics-addr connection limit reached"); {
		if time.Now().After(deadline) {
			t.Fatalf("a third connection to --metrics-addr with --metrics-max-connections 2 was not held at the cap:\n%s", logBuf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Then a slow one is closed to make room, and the third answered.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("the probe after two slow connections at the cap was not answered: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the probe: status %d", resp.StatusCode)
	}
	closed := 0
	for _, sc := range slow {
		sc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := sc.Read(make([]byte, 1)); err == io.EOF || err != nil && !isTimeout(err) {
			closed++
		}
	}
	if closed == 0 {
		t.Error("no slow connection was closed to make room")
	}

	// A scrape that announces a body it never sends is answered, not held
	// waiting for it.
	b, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	io.WriteString(b, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
	b.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err = http.ReadResponse(bufio.NewReader(b), nil)
	if err != nil {
		t.Fatalf("a scrape with a body never sent was not answered: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Errorf("a scrape with a body never sent: status %d, close %v", resp.StatusCode, resp.Close)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
