package server

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// CloseUnreadBodies wraps next so that a request whose body its handler
// does not read to the end holds no connection while the rest may never
// come. Serve's API address, the --metrics-addr server and swfd's
// --pprof-addr server use it.
//
// Over HTTP/1.1, before it writes an answer's headers, net/http reads what
// is left of the request's body (up to 256 KiB) so that the connection can
// take the next request; that read has no time bound but the server's
// ReadTimeout, which swfd leaves unset on its API's address (long polls).
// A request the handler answers without reading its body (GET /healthz
// sent with "Content-Length: 100" and no body, a form refused for its
// size, a body cut off past its limit) thus held its connection and its
// goroutine for as long as the client stayed, unanswered, and out of the
// connection limit's reach, as it counts as a request under way.
//
// With CloseUnreadBodies, such an answer says "Connection: close" and the
// connection's read deadline is set to now: the answer is written at once,
// what is left of the body is not waited for, and the connection is closed
// after the answer. A body read to its end (every API call's, every form
// the console takes) changes nothing; nor does a request without a body,
// nor one over HTTP/2, whose streams net/http never reads for the handler.
func CloseUnreadBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 1 || r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		body := &eofBody{ReadCloser: r.Body}
		// The handler gets a copy of the request with the body wrapped:
		// net/http looks at its own request's body, after the handler,
		// to see whether it was closed before its end, and if it was it
		// closes the connection gracefully (it stops sending, then waits
		// a moment for the client to read the answer before closing).
		// Given the wrapped body there, it closed at once, and a client
		// still sending its body (a form refused for its size) was reset
		// before it could read the answer.
		r2 := r.WithContext(r.Context())
		r2.Body = body
		g := &unreadGuard{ResponseWriter: w, body: body}
		next.ServeHTTP(g, r2)
		// A handler that wrote nothing is answered 200 by net/http once
		// it returns, after the same read.
		g.check()
	})
}

// eofBody is a request body that knows whether it was read to its end.
type eofBody struct {
	io.ReadCloser
	ended atomic.Bool
}

func (b *eofBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.ended.Store(true)
	}
	return n, err
}

// unreadGuard is the ResponseWriter of a request with a body: the first
// time the answer's headers may go out, it makes sure net/http will not
// wait for a body not read to its end.
type unreadGuard struct {
	http.ResponseWriter
	body    *eofBody
	checked bool
}

// check, before the headers are written, closes the connection after the
// answer if the body was not read to its end, and sets its read deadline
// to now so that net/http's read of the rest fails at once.
func (g *unreadGuard) check() {
	if g.checked {
		return
	}
	g.checked = true
	if g.body.ended.Load() {
		return
	}
	g.ResponseWriter.Header().Set("Connection", "close")
	http.NewResponseController(g.ResponseWriter).SetReadDeadline(time.Now())
}

func (g *unreadGuard) WriteHeader(code int) {
	if code >= 200 {
		g.check()
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *unreadGuard) Write(p []byte) (int, error) {
	g.check()
	return g.ResponseWriter.Write(p)
}

// Flush is for handlers that flush (http.Flusher); FlushError for
// http.ResponseController, which finds the rest (deadlines) by Unwrap.
func (g *unreadGuard) Flush() { g.FlushError() }

func (g *unreadGuard) FlushError() error {
	g.check()
	return http.NewResponseController(g.ResponseWriter).Flush()
}

func (g *unreadGuard) Unwrap() http.ResponseWriter { return g.ResponseWriter }
