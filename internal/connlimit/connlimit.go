// Package connlimit caps how many connections a server holds open at
// once, so that a flood of connections cannot use up the process's file
// handles: past the cap, new connections wait (in the kernel's backlog,
// holding no handle of ours, but for the one being accepted) while the
// connections already open go on. When a connection comes in at the cap,
// the connections sitting idle between requests are closed to make room,
// as net/http closes them when it shuts down, so that keep-alive
// connections nobody uses cannot lock everyone else out.
//
// A connection held by a request that waits for work it may be answered
// without, such as a long poll, is never idle, yet keeps its connection
// for as long as it waits. Such a request says so (Waiting); when no idle
// connection is left to close, the listener asks the one that has waited
// longest to give its connection up: it answers at once, as if its wait
// had ended empty, and closes the connection.
//
// A request that streams to its client for as long as the client stays (a
// web page's server-sent events) says so too (WaitingStream), and is
// ended the same way: its client connects again. Over HTTP/2, where a
// client's polls and streams share one connection, every wait on the
// connection whose wait is evicted is ended with it, and the connection
// takes no new request (its answers say "Connection: close", a GOAWAY)
// and closes once the requests under way on it end.
//
// A request whose body is still arriving holds its connection too, for as
// long as the client takes to send it: a client that sends it a byte at a
// time, or never finishes it, would keep the connection until the body's
// timeout. Such a request says so (Receiving); when there is neither an
// idle connection to close nor a waiting request to evict, the listener
// cuts the one that has been receiving its body longest, once it has for
// SilentAfter: its read fails, it is answered as at its body's timeout,
// and its connection is closed. Over HTTP/2, where a connection carries
// many requests, every body still arriving on that connection is cut with
// it, and the connection takes no new request (its answers say
// "Connection: close", which HTTP/2 sends as a GOAWAY): it closes once the
// requests under way on it end, so that a client cannot hold it by
// opening a new stalled request before each is cut.
package connlimit

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Default is the cap for a process allowed fileLimit open files: half of
// them (the rest are for the database, its files and the log), at most
// 10,000 (each connection costs tens of KB of memory), at least 32.
func Default(fileLimit uint64) int {
	n := fileLimit / 2
	return int(max(32, min(10_000, n)))
}

// OtherFiles is about how many open files a server needs beside its
// connections: its database's (SQLite's file, write-ahead log and shared
// memory, or PostgreSQL's pool), its listeners and its logs.
const OtherFiles = 64

// Fits reports whether a cap of n connections fits within fileLimit open
// files, OtherFiles kept for the rest. Past that, accepting a connection
// fails with EMFILE ("too many open files"), net/http tries again after
// up to a second, and new connections wait meanwhile.
func Fits(n int, fileLimit uint64) bool {
	return fileLimit == 0 || uint64(n)+OtherFiles <= fileLimit
}

// Listener is a net.Listener that holds at most a fixed number of
// connections open. Wire ConnState and ConnContext into the http.Server
// that serves it, so that it knows which connections are idle and which
// are held by a waiting request.
type Listener struct {
	net.Listener
	// EvictAfter is how long a request must have been waiting before it
	// may be asked to give its connection up (Listen sets
	// DefaultEvictAfter). Set it before Accept is called.
	EvictAfter time.Duration
	// OnEvict, if set, is told of each request asked to give its
	// connection up, with how long it had waited; OnFull, if set, of
	// each connection that comes in at the cap and must wait for a slot.
	// Set them before Accept is called.
	OnEvict func(waited time.Duration)
	OnFull  func()
	// OnEvictStream, if set, is told of each stream (WaitingStream)
	// ended to give its connection up, with how long it had been open.
	// Set it before Accept is called.
	OnEvictStream func(open time.Duration)
	// OnCut, if set, is told of each request whose body was cut off to
	// make room (see Receiving), with how long it had been arriving. Set
	// it before Accept is called.
	OnCut func(receiving time.Duration)

	slots chan struct{}
	done  chan struct{}
	once  sync.Once

	mu       sync.Mutex
	idle     map[net.Conn]quiet
	held     map[net.Conn]map[*hold]struct{} // connections' requests that are Waiting (over HTTP/2, many)
	bodies   map[net.Conn]map[*hold]struct{} // connections' requests that are Receiving (over HTTP/2, many)
	evicting map[net.Conn]time.Time          // asked to give up, not yet closed: when
	waiting  int                             // Accepts waiting for a slot
}

// quiet is a connection idle between requests, or new and silent so far.
type quiet struct {
	since time.Time
	isNew bool
	h2    bool // an HTTP/2 connection (see h2IdleGrace)
}

// h2IdleGrace is how long an HTTP/2 connection must have been idle before
// it is closed to make room. The HTTP/2 server counts a connection idle
// once its last stream is done, which may be before the last frames of
// that stream's answer have reached the socket (an answer given while
// the request's body was still arriving ends its stream at once): closed
// then, the answer is lost. An HTTP/1.1 connection is idle only once its
// answer is written.
const h2IdleGrace = 100 * time.Millisecond

// hold is a request waiting (see Waiting).
type hold struct {
	ref    *connRef
	since  time.Time
	evict  func()
	gone   bool // asked to give its connection up
	stream bool // a stream (WaitingStream), not a wait for work
}

// SilentAfter is how long a new connection may stay silent (no request
// yet; a TLS handshake counts as silence) before it counts as idle and is
// closed to make room at the cap. A client sends its request as soon as
// it has connected.
const SilentAfter = 2 * time.Second

// DefaultEvictAfter is how long a waiting request keeps its connection
// at the cap before it may be asked to give it up: pollers answered empty
// come straight back, at the cap too, and must not take turns evicting
// one another many times a second.
const DefaultEvictAfter = time.Second

// checkEvery is how often an Accept waiting at the cap looks again for a
// connection to close or a request to evict.
const checkEvery = 250 * time.Millisecond

// Listen wraps ln so that it holds at most n connections at once (and
// one more, waiting for a slot).
func Listen(ln net.Listener, n int) *Listener {
	return &Listener{Listener: ln, EvictAfter: DefaultEvictAfter, slots: make(chan struct{}, n), done: make(chan struct{}),
		idle: map[net.Conn]quiet{}, held: map[net.Conn]map[*hold]struct{}{}, bodies: map[net.Conn]map[*hold]struct{}{}, evicting: map[net.Conn]time.Time{}}
}

// Accept accepts the next connection and, if the cap's connections are
// already open, makes room (closes the idle ones, or else evicts the
// request that has waited longest) and waits with it until one is done:
// at most one connection past the cap is ever open.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	select {
	case l.slots <- struct{}{}:
		return &conn{Conn: c, l: l}, nil
	default:
	}
	if l.OnFull != nil {
		l.OnFull()
	}
	// At the cap: make room now, and again while this waits (new
	// connections fall silent, and requests wait long enough to be
	// evicted, meanwhile).
	l.mu.Lock()
	l.waiting++
	l.mu.Unlock()
	l.makeRoom()
	tick := time.NewTicker(checkEvery)
	defer tick.Stop()
wait:
	for {
		select {
		case l.slots <- struct{}{}:
			break wait
		case <-l.done:
			err = net.ErrClosed
			break wait
		case <-tick.C:
			l.makeRoom()
		}
	}
	l.mu.Lock()
	l.waiting--
	l.mu.Unlock()
	if err != nil {
		c.Close()
		return nil, err
	}
	return &conn{Conn: c, l: l}, nil
}

// Close closes the listener; an Accept waiting for a slot returns.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// Open is how many connections are open now.
func (l *Listener) Open() int { return len(l.slots) }

// Max is the cap.
func (l *Listener) Max() int { return cap(l.slots) }

// ConnState is for http.Server.ConnState: it keeps track of the
// connections that sit idle between requests, and of new ones that have
// sent nothing yet.
func (l *Listener) ConnState(c net.Conn, st http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case st == http.StateIdle && l.waiting > 0 && !isHTTP2(c):
		go c.Close()
	case st == http.StateIdle, st == http.StateNew:
		l.idle[c] = quiet{since: time.Now(), isNew: st == http.StateNew, h2: st == http.StateIdle && isHTTP2(c)}
	case st == http.StateClosed, st == http.StateHijacked:
		delete(l.idle, c)
		delete(l.held, c)
		delete(l.bodies, c)
		delete(l.evicting, c)
	default:
		delete(l.idle, c)
	}
}

// ConnContext is for http.Server.ConnContext: the requests of each
// connection carry it in their context, for Waiting and Evicted.
func (l *Listener) ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, &connRef{l: l, c: c})
}

type connKey struct{}

// connRef is a connection as its requests' contexts know it.
type connRef struct {
	l       *Listener
	c       net.Conn
	evicted atomic.Bool
}

// Waiting says that the request of ctx waits, from now until done is
// called, for work it may be answered without (a long poll, which may
// answer empty at any time before its timeout). While it waits its
// connection may be evicted: when a connection comes in at the cap, no
// idle one is left to close, and this request has waited longest (at
// least EvictAfter), evict is called, once, and done then reports true.
// The request must then give up what it waited for (if it was handed
// work in the same instant, put it back), answer at once, and have its
// connection closed ("Connection: close"; Evicted tells its handler).
// If done reports false, evict was not called and never will be.
//
// Over HTTP/2 the connection carries other requests too, and a client's
// polls often all share one: when its wait is the one evicted, every
// request waiting on that connection is evicted with it, and every
// request of the connection is told (Evicted) so that its answer closes
// the connection (GOAWAY), which then takes no new request and closes
// once the requests under way on it end. A wait that begins on a
// connection so evicted is evicted at once.
//
// A request not served through a Listener's ConnContext is never
// evicted.
func Waiting(ctx context.Context, evict func()) (done func() (evicted bool)) {
	return waiting(ctx, evict, false)
}

// WaitingStream is Waiting for a request that streams to its client for
// as long as the client stays (a web page's server-sent events) rather
// than waiting for work: it holds its connection the same way and is
// evicted the same way, evict ending the stream (the client is expected
// to connect again), but it is told of through OnEvictStream rather than
// OnEvict.
func WaitingStream(ctx context.Context, evict func()) (done func() (evicted bool)) {
	return waiting(ctx, evict, true)
}

func waiting(ctx context.Context, evict func(), stream bool) (done func() (evicted bool)) {
	ref, _ := ctx.Value(connKey{}).(*connRef)
	if ref == nil {
		return func() bool { return false }
	}
	l := ref.l
	h := &hold{ref: ref, since: time.Now(), evict: evict, stream: stream}
	l.mu.Lock()
	if ref.evicted.Load() {
		// Its connection is closing: a wait that begins now on it
		// (another stream of an HTTP/2 connection) gives it up at once,
		// as the others did.
		h.gone = true
		l.mu.Unlock()
		evict()
		return func() bool { return true }
	}
	hs := l.held[ref.c]
	if hs == nil {
		hs = map[*hold]struct{}{}
		l.held[ref.c] = hs
	}
	hs[h] = struct{}{}
	l.mu.Unlock()
	return func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		if hs := l.held[ref.c]; hs != nil {
			delete(hs, h)
			if len(hs) == 0 {
				delete(l.held, ref.c)
			}
		}
		return h.gone
	}
}

// Receiving says that the request of ctx is reading its body, from now
// until done is called. While it does, its connection may be needed: when
// a connection comes in at the cap, no idle one is left to close nor
// waiting request to evict (see Waiting), and this request has been
// receiving its body longest (at least SilentAfter), cut is called, once:
// it must make the body's read fail at once (a read deadline of now), and
// the request be answered as at its body's timeout, with its connection
// closed (Evicted reports true).
//
// Over HTTP/2 the connection carries other requests too: when one of its
// bodies is cut, every body still arriving on it is cut as well, and every
// request of the connection is told (Evicted) so that its answer closes
// the connection (GOAWAY), which then takes no new request.
//
// A request not served through a Listener's ConnContext is never cut.
func Receiving(ctx context.Context, cut func()) (done func()) {
	ref, _ := ctx.Value(connKey{}).(*connRef)
	if ref == nil {
		return func() {}
	}
	l := ref.l
	h := &hold{ref: ref, since: time.Now(), evict: cut}
	l.mu.Lock()
	if ref.evicted.Load() {
		// Its connection is closing: a body that begins now on it is cut
		// at once, as the others were.
		l.mu.Unlock()
		cut()
		return func() {}
	}
	bs := l.bodies[ref.c]
	if bs == nil {
		bs = map[*hold]struct{}{}
		l.bodies[ref.c] = bs
	}
	bs[h] = struct{}{}
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if bs := l.bodies[ref.c]; bs != nil {
			delete(bs, h)
			if len(bs) == 0 {
				delete(l.bodies, ref.c)
			}
		}
	}
}

// cutBody cuts off the body of the request that has been receiving it
// longest, at least SilentAfter (see Receiving), with every other body
// arriving on its connection (over HTTP/2), and reports whether there was
// one.
func (l *Listener) cutBody() bool {
	l.mu.Lock()
	now := time.Now()
	var oldest *hold
	for _, bs := range l.bodies {
		for h := range bs {
			if now.Sub(h.since) >= SilentAfter && (oldest == nil || h.since.Before(oldest.since)) {
				oldest = h
			}
		}
	}
	if oldest == nil {
		l.mu.Unlock()
		return false
	}
	c := oldest.ref.c
	var cuts []func()
	for h := range l.bodies[c] {
		h.gone = true
		cuts = append(cuts, h.evict)
	}
	delete(l.bodies, c)
	oldest.ref.evicted.Store(true)
	l.evicting[c] = now
	l.mu.Unlock()
	for _, cut := range cuts {
		cut()
	}
	if l.OnCut != nil {
		l.OnCut(now.Sub(oldest.since))
	}
	return true
}

// isHTTP2 reports whether c has agreed on HTTP/2 (by ALPN; swfd does not
// serve HTTP/2 without TLS).
func isHTTP2(c net.Conn) bool {
	tc, ok := c.(*tls.Conn)
	return ok && tc.ConnectionState().NegotiatedProtocol == "h2"
}

// Evicted reports whether the connection of ctx's request was evicted
// (see Waiting) or its body, or over HTTP/2 any body on it, cut off (see
// Receiving): its answer must close it ("Connection: close", a GOAWAY over
// HTTP/2).
func Evicted(ctx context.Context) bool {
	ref, _ := ctx.Value(connKey{}).(*connRef)
	return ref != nil && ref.evicted.Load()
}

// Evict evicts the connection of the request that has waited longest,
// at least EvictAfter (see Waiting), and reports whether there was one.
func (l *Listener) Evict() bool {
	return l.evictOldest(l.EvictAfter, func(h *hold, d time.Duration) {
		switch {
		case h.stream && l.OnEvictStream != nil:
			l.OnEvictStream(d)
		case !h.stream && l.OnEvict != nil:
			l.OnEvict(d)
		}
	})
}

// evictOldest evicts the connection of the oldest waiting request that
// has waited at least after, with every other request waiting on it (over
// HTTP/2), tells then of each and how long it had waited, and reports
// whether there was one.
func (l *Listener) evictOldest(after time.Duration, then func(*hold, time.Duration)) bool {
	l.mu.Lock()
	now := time.Now()
	var oldest *hold
	for _, hs := range l.held {
		for h := range hs {
			if now.Sub(h.since) >= after && (oldest == nil || h.since.Before(oldest.since)) {
				oldest = h
			}
		}
	}
	if oldest == nil {
		l.mu.Unlock()
		return false
	}
	c := oldest.ref.c
	var gone []*hold
	for h := range l.held[c] {
		h.gone = true
		gone = append(gone, h)
	}
	delete(l.held, c)
	oldest.ref.evicted.Store(true)
	l.evicting[c] = now
	l.mu.Unlock()
	for _, h := range gone {
		h.evict()
		if then != nil {
			then(h, now.Sub(h.since))
		}
	}
	return true
}

// makeRoom closes the idle connections; if there are none, it evicts the
// request that has waited longest, or else cuts off the body that has been
// arriving longest, unless a connection evicted or cut lately is still
// closing (its answer on its way).
func (l *Listener) makeRoom() {
	if l.closeIdle() > 0 {
		return
	}
	l.mu.Lock()
	closing := false
	for _, at := range l.evicting {
		if time.Since(at) < l.EvictAfter {
			closing = true
		}
	}
	l.mu.Unlock()
	if !closing && !l.Evict() {
		l.cutBody()
	}
}

// closeIdle closes every connection idle between requests, and every new
// one silent for SilentAfter, and says how many, counting the HTTP/2
// connections idle for less than h2IdleGrace, which it closes once they
// have been (the next look, a checkEvery later). A client sees what it
// sees when a server's keep-alive timeout closes the connection, and
// opens another.
func (l *Listener) closeIdle() int {
	l.mu.Lock()
	idle := make([]net.Conn, 0, len(l.idle))
	now := time.Now()
	soon := 0
	for c, q := range l.idle {
		switch {
		case q.isNew && now.Sub(q.since) < SilentAfter:
		case q.h2 && now.Sub(q.since) < h2IdleGrace:
			soon++
		default:
			idle = append(idle, c)
		}
	}
	l.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
	return len(idle) + soon
}

type conn struct {
	net.Conn
	l    *Listener
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.l.slots })
	return err
}
