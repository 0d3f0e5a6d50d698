package postgres

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Dead idle connections. When the server ends a session (pg_terminate_backend,
// a restart, a failover, idle_session_timeout) it sends a FATAL error and
// closes the connection; a pooled connection that sits idle meanwhile
// still looks usable, and the next statement sent on it fails with the
// error that was waiting. For a read that is a retry; for a commit of one
// statement it is worse: the store cannot tell the waiting error from an
// answer to its statement, so it treats the statement as possibly
// committed and looks at the data before sending it again (outcome.go).
//
// So on every acquire the pool looks, without a round trip, whether the
// connection has something to read: an idle connection to a live session
// has nothing (the server sends nothing unasked to a session that does not
// LISTEN), and one whose session ended has the error, or the end of the
// stream. Such a connection is pinged (pgxpool's ShouldPing), which reads
// what is waiting and fails, and the pool discards it and takes another;
// one that has something else waiting (under TLS, a record the server
// sent unasked) answers the ping and is kept. The look is one
// non-blocking recv with MSG_PEEK on the socket (under TLS, on the TCP
// connection beneath it). It cannot see a server that went away
// without closing (a machine gone, a network cut): the commit timeout and
// settle cover those. pgxpool's own rule, a ping for a connection idle more
// than a second, stays. Every such ping has the pool's ping timeout
// (defaultPingTimeout): a connection whose server went silent is given up
// then, not waited on for the caller's whole time.

// shouldPing is the pool's ShouldPing: pgxpool's rule, or a connection
// that has something waiting to be read.
func (db *DB) shouldPing(_ context.Context, p pgxpool.ShouldPingParams) bool {
	return p.IdleDuration > time.Second || db.pingAll.Load() || !db.handOutDead.Load() && pending(p.Conn.PgConn().Conn())
}

// pending reports whether c, an idle connection, has bytes to read or has
// been closed by the other end, without waiting. False when the platform
// or the connection's type does not let it look.
func pending(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	return peek(c)
}
