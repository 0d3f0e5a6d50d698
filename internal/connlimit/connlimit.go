// Package connlimit caps how many connections a server holds open at
// once, so that a flood of connections cannot use up the process's file
// handles: past the cap, new connections wait (in the kernel's backlog,
// holding no handle of ours, but for the one being accepted) while the
// connections already open go on. When a connection comes in at the cap,
// the connections sitting idle between requests are closed to make room,
// as net/http closes them when it shuts down, so that keep-alive
// connections nobody uses cannot lock everyone else out.
package connlimit

import (
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// Default is the cap for a process allowed fileLimit open files: half of
// them (the rest are for the database, its files and the log), at most
// 10,000 (each connection costs tens of KB of memory), at least 32.
func Default(fileLimit uint64) int {
	n := fileLimit / 2
	return int(max(32, min(10_000, n)))
}

// FileLimit is the process's current limit on open files (RLIMIT_NOFILE),
// or 0 if it cannot be read.
func FileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return rl.Cur
}

// Listener is a net.Listener that holds at most a fixed number of
// connections open. Wire ConnState into the http.Server that serves it,
// so that it knows which connections are idle.
type Listener struct {
	net.Listener
	slots chan struct{}
	done  chan struct{}
	once  sync.Once

	mu      sync.Mutex
	idle    map[net.Conn]quiet
	waiting int // Accepts waiting for a slot
}

// quiet is a connection idle between requests, or new and silent so far.
type quiet struct {
	since time.Time
	isNew bool
}

// SilentAfter is how long a new connection may stay silent (no request
// yet; a TLS handshake counts as silence) before it counts as idle and is
// closed to make room at the cap. A client sends its request as soon as
// it has connected.
const SilentAfter = 2 * time.Second

// Listen wraps ln so that it holds at most n connections at once (and
// one more, waiting for a slot).
func Listen(ln net.Listener, n int) *Listener {
	return &Listener{Listener: ln, slots: make(chan struct{}, n), done: make(chan struct{}), idle: map[net.Conn]quiet{}}
}

// Accept accepts the next connection and, if the cap's connections are
// already open, closes the idle ones and waits with it until one is
// done: at most one connection past the cap is ever open.
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
	// At the cap: close the idle connections, and any that falls idle
	// while this waits.
	l.mu.Lock()
	l.waiting++
	l.mu.Unlock()
	l.closeIdle()
	tick := time.NewTicker(SilentAfter / 4) // new connections fall silent meanwhile
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
			l.closeIdle()
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

// ConnState is for http.Server.ConnState: it keeps track of the
// connections that sit idle between requests, and of new ones that have
// sent nothing yet.
func (l *Listener) ConnState(c net.Conn, st http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case st == http.StateIdle && l.waiting > 0:
		go c.Close()
	case st == http.StateIdle, st == http.StateNew:
		l.idle[c] = quiet{since: time.Now(), isNew: st == http.StateNew}
	default:
		delete(l.idle, c)
	}
}

// closeIdle closes every connection idle between requests, and every new
// one silent for SilentAfter. A client sees what it sees when a server's
// keep-alive timeout closes the connection, and opens another.
func (l *Listener) closeIdle() {
	l.mu.Lock()
	idle := make([]net.Conn, 0, len(l.idle))
	silent := time.Now().Add(-SilentAfter)
	for c, q := range l.idle {
		if !q.isNew || q.since.Before(silent) {
			idle = append(idle, c)
		}
	}
	l.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
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
