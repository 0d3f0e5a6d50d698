package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

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
