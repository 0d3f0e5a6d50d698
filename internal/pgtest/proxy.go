package pgtest

import (
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy is a TCP proxy on a loopback port to a PostgreSQL server, for a
// test to play an outage of the database without stopping the server
// (which other tests share): Cut closes every connection through it and
// closes each new one as soon as it is accepted, as a server that has gone
// away does; Restore lets connections through again. Stall holds back
// the server's answers on the connections open at the time, as a client
// sees a server (or a network) that has stopped answering, or as the
// server sees a client that has stopped (frozen in the middle of a
// transaction, it never reads the answers and so sends nothing more);
// Resume lets them through.
type Proxy struct {
	ln     net.Listener
	target string // host:port of the server

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{} // both ends of every connection through it
	// stalled holds, for each connection (its client end) whose answers
	// are held back, a channel closed by Resume.
	stalled map[net.Conn]chan struct{}
	// kept holds, for each connection (its client end) that Silence
	// made, a channel closed by Resume: until then its server end stays
	// open once the client has closed its own.
	kept map[net.Conn]chan struct{}
	// server is the server end of each connection, by its client end.
	server map[net.Conn]net.Conn
	// refused counts the connections closed as they were accepted (cut).
	refused int
	changed chan struct{} // closed, and replaced, when refused grows
}

// NewProxy starts a proxy to the server of dsn (a postgres:// URL), closed
// when the test ends.
func NewProxy(t testing.TB, dsn string) *Proxy {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: u.Host, conns: map[net.Conn]struct{}{}, stalled: map[net.Conn]chan struct{}{},
		kept: map[net.Conn]chan struct{}{}, server: map[net.Conn]net.Conn{}, changed: make(chan struct{})}
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
		p.Resume()
	})
	go p.serve()
	return p
}

// DSN is dsn (a postgres:// URL) with the proxy's address in place of the
// server's.
func (p *Proxy) DSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

// Cut closes every connection through the proxy, and the new ones from now
// on as soon as they are accepted.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore lets new connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// Stall holds back everything the server sends on the connections open
// now (what their clients send still reaches the server), until Resume.
// Connections made later are not held.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		if _, ok := p.stalled[c]; !ok {
			p.stalled[c] = make(chan struct{})
		}
	}
}

// Silence is Stall, and more: what the clients of the connections open now
// send is dropped, and the server's end of each stays open when its client
// closes its own, until Resume, as when the network between them is gone:
// the server keeps the session (and its locks) until its own keepalives
// would give up on it, while the client has moved on.
func (p *Proxy) Silence() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		if _, ok := p.stalled[c]; !ok {
			p.stalled[c] = make(chan struct{})
		}
		if _, ok := p.kept[c]; !ok {
			p.kept[c] = make(chan struct{})
		}
	}
}

// Resume lets the answers Stall held back through, and closes both ends of
// the connections Silence made (what their clients sent meanwhile is lost,
// so neither end could go on with the other).
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c, ch := range p.kept {
		close(ch)
		delete(p.kept, c)
		c.Close()
		if s := p.server[c]; s != nil {
			s.Close()
		}
	}
	for c, ch := range p.stalled {
		close(ch)
		delete(p.stalled, c)
	}
}

// held returns the channel to wait on before writing to the client end
// c, or nil when its answers flow.
func (p *Proxy) held(c net.Conn) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stalled[c]
}

// answer copies the server's bytes from s to the client end c, holding
// them while c is stalled.
func (p *Proxy) answer(c, s net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 {
			if ch := p.held(c); ch != nil {
				<-ch
			}
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// forward copies the client's bytes from c to the server end s, dropping
// them while c is silenced (Silence).
func (p *Proxy) forward(s, c net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			p.mu.Lock()
			_, silenced := p.kept[c]
			p.mu.Unlock()
			if !silenced {
				if _, werr := s.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// Refused returns how many connections the proxy has closed as it accepted
// them since it was made, and a channel closed once it closes another.
func (p *Proxy) Refused() (int, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused, p.changed
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.pass(c)
	}
}

// pass forwards the connection c to the server, both ways, until either
// end closes or the proxy is cut.
func (p *Proxy) pass(c net.Conn) {
	p.mu.Lock()
	if p.cut {
		p.refused++
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
		c.Close()
		return
	}
	p.mu.Unlock()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	p.server[c] = s
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { p.forward(s, c); done <- struct{}{} }()
	go func() { p.answer(c, s); done <- struct{}{} }()
	<-done
	c.Close()
	p.mu.Lock()
	kept := p.kept[c]
	p.mu.Unlock()
	if kept != nil {
		<-kept
	}
	s.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, s)
	delete(p.server, c)
	p.mu.Unlock()
}
