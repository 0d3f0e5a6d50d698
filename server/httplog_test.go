package server

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/internal/lograte"
)

// net/http's lines are warnings in swfd's log; a failed TLS handshake says
// who failed it and why in an operator's words, with the client's address
// and Go's reason beside; other lines go through as they are.
func TestHTTPErrorLogWording(t *testing.T) {
	for line, want := range map[string]string{
		"http: TLS handshake error from 10.0.0.7:51234: remote error: tls: bad certificate\n":               `msg="TLS handshake refused by the client: it likely does not trust swfd's certificate`,
		"http: TLS handshake error from [::1]:5000: local error: tls: bad record MAC\n":                     `msg="TLS handshake refused by the client: it likely does not trust swfd's certificate`,
		"http: TLS handshake error from 10.0.0.7:51234: remote error: tls: unknown certificate authority\n": `reason="remote error: tls: unknown certificate authority"`,
		"http: TLS handshake error from 10.0.0.7:51234: client sent an HTTP request to an HTTPS server\n":   `msg="TLS handshake failed: the client spoke plain HTTP`,
		"http: TLS handshake error from 10.0.0.7:51234: EOF\n":                                              `msg="TLS handshake failed" client=10.0.0.7:51234 reason=EOF`,
		"http: Accept error: accept tcp: too many open files; retrying in 5ms\n":                            `msg="http: Accept error: accept tcp: too many open files; retrying in 5ms"`,
	} {
		var buf logbuf.Buffer
		l := httpErrorLog(lograte.New(slog.New(slog.NewTextHandler(&buf, nil)), 1, 10, nil))
		l.Print(line)
		got := buf.String()
		if !strings.Contains(got, "level=WARN ") || !strings.Contains(got, want) {
			t.Errorf("%q logged as\n%s\nwant %s", line, got, want)
		}
		if client := strings.Fields(strings.TrimPrefix(line, handshakeErrorPrefix))[0]; strings.HasPrefix(line, handshakeErrorPrefix) &&
			!strings.Contains(got, "client="+strings.TrimSuffix(client, ":")) {
			t.Errorf("%q: the client's address is not logged:\n%s", line, got)
		}
	}
}

// A storm of failed handshakes writes the limiter's burst, and the next
// line allowed says how many were left out.
func TestHandshakeFailuresStayRateLimited(t *testing.T) {
	var buf logbuf.Buffer
	now := time.Unix(1_700_000_000, 0)
	l := httpErrorLog(lograte.New(slog.New(slog.NewTextHandler(&buf, nil)), 1, 5, func() time.Time { return now }))
	for range 100 {
		l.Print("http: TLS handshake error from 10.0.0.7:51234: local error: tls: bad record MAC\n")
	}
	if n := strings.Count(buf.String(), "TLS handshake refused by the client"); n != 5 {
		t.Fatalf("%d lines for 100 failed handshakes, want the burst of 5:\n%s", n, buf.String())
	}
	now = now.Add(time.Second)
	l.Print("http: TLS handshake error from 10.0.0.7:51234: local error: tls: bad record MAC\n")
	if !strings.Contains(buf.String(), "suppressed=95") {
		t.Fatalf("the next line does not count the 95 left out:\n%s", buf.String())
	}
}
