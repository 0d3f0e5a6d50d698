package server

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
)

// A request's headers are bounded at MaxHeaderBytes (64 KiB), on the API's
// address and on --metrics-addr alike: past it the request is answered 431
// and its connection closed. net/http's default, 1 MB, let each of
// --max-connections' connections (up to 10,000) hold a megabyte of headers
// before any check: 300 connections sending theirs took swfd from 30 MB to
// 560 MB, unauthenticated.
func TestHeadersAreBounded(t *testing.T) {
	s, apiAddr := serving(t, Config{DB: MemoryDB, MetricsAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	const body = `{"registrationStatus":"REGISTERED"}`
	api := "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SimpleWorkflowService.ListDomains\r\nContent-Type: application/x-amz-json-1.0\r\n" +
		"%s" + fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
	probe := "GET /healthz HTTP/1.1\r\nHost: x\r\n%s\r\n"
	for _, tc := range []struct {
		addr, request string
		size, want    int
	}{
		{apiAddr, api, MaxHeaderBytes - 2048, http.StatusOK},
		{apiAddr, api, MaxHeaderBytes + 8192, http.StatusRequestHeaderFieldsTooLarge},
		{s.MetricsAddr(), probe, MaxHeaderBytes - 2048, http.StatusOK},
		{s.MetricsAddr(), probe, MaxHeaderBytes + 8192, http.StatusRequestHeaderFieldsTooLarge},
	} {
		c, err := net.Dial("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		// A long header, in lines of 8 KB as a proxy would pass them.
		var hdr strings.Builder
		for n := 0; n < tc.size; n += 8000 {
			fmt.Fprintf(&hdr, "X-Pad-%d: %s\r\n", n, strings.Repeat("a", min(8000, tc.size-n)))
		}
		go io.WriteString(c, fmt.Sprintf(tc.request, hdr.String()))
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err != nil {
			t.Fatalf("%s, %d bytes of headers: %v", tc.addr, tc.size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s, %d bytes of headers: status %d, want %d", tc.addr, tc.size, resp.StatusCode, tc.want)
		}
	}
}
