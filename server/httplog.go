package server

import (
	"context"
	"log"
	"log/slog"
	"strings"

	"github.com/swfd/swfd/internal/lograte"
)

// httpErrorLog is net/http's ErrorLog for the API's server: each of its
// lines (failed TLS handshakes, accept errors) is a warning written
// through warn, a few a second at most, so that a port scanner cannot
// flood the log; a failed TLS handshake is said in words that point the
// operator the right way.
func httpErrorLog(warn *lograte.Limiter) *log.Logger {
	return log.New(httpErrorWriter{warn}, "", 0)
}

type httpErrorWriter struct{ warn *lograte.Limiter }

func (w httpErrorWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	if client, reason, ok := strings.Cut(strings.TrimPrefix(line, handshakeErrorPrefix), ": "); ok && strings.HasPrefix(line, handshakeErrorPrefix) {
		w.warn.Log(context.Background(), slog.LevelWarn, handshakeFailure(reason), "client", client, "reason", reason)
	} else {
		w.warn.Log(context.Background(), slog.LevelWarn, line)
	}
	return len(p), nil
}

// handshakeErrorPrefix begins net/http's line for a failed TLS handshake,
// followed by the client's address, ": " and the error.
const handshakeErrorPrefix = "http: TLS handshake error from "

// handshakeFailure is the message for a TLS handshake that failed with
// reason (Go's error, as net/http writes it).
func handshakeFailure(reason string) string {
	switch {
	case strings.HasPrefix(reason, "remote error: tls: "), strings.HasSuffix(reason, "tls: bad record MAC"):
		// The client sent an alert: it refused the handshake. A TLS 1.3
		// client built on OpenSSL (curl, Python, the AWS CLI) that
		// refuses the certificate sends its alert before it has the
		// handshake's keys, and Go reads that as a bad record MAC.
		return "TLS handshake refused by the client: it likely does not trust swfd's certificate (the authority that signed it is not in the client's CA bundle, the client's clock is outside its validity period, or the client connects by a host name the certificate does not name)"
	case strings.Contains(reason, "client sent an HTTP request to an HTTPS server"):
		return "TLS handshake failed: the client spoke plain HTTP to swfd's HTTPS address (its endpoint URL must begin https://)"
	}
	return "TLS handshake failed"
}
