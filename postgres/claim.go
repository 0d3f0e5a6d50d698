package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// nodeLockKey is the first half of the advisory lock by which swfd nodes
// claim their place on a database (ClaimNode); the second, as for
// migrations, is a hash of the schema.
const nodeLockKey = 0x73776e64 // "swnd"

// ErrNotAlone is ClaimNode's error when the claim conflicts with another
// swfd node on the database: one claimed it alone while others use it,
// or others use it while one holds it alone.
var ErrNotAlone = errors.New("postgres: another swfd node uses this database")

// ErrClaimLost is the error of every call to a store whose node lost its
// claim on the database (ClaimNode) and could not take it again because
// another node's conflicting claim was taken in between.
var ErrClaimLost = errors.New("postgres: this node lost its claim on the database to another swfd node; it serves no more calls: stop it")

// ClaimNode claims this node's place among the swfd nodes that use the
// database (its schema), until release is called: alone, for a node that
// no other may share the database with (one whose clock moves: each node
// has its own clock, so nodes beside it would date events by theirs), or
// beside other nodes, which is refused while one holds the database alone.
// A claim that conflicts fails at once with ErrNotAlone.
//
// The claim is a session advisory lock (exclusive alone, shared beside
// others) held by a connection of its own, outside the pool: it ends when
// that connection does, so a node killed without a word lets the next one
// in. Should that connection be lost while the node runs (the database
// restarted, or the backend was terminated), the node notices at once,
// or, should the connection go silent, once a probe after a quiet
// interval goes unanswered (see keepClaim), and takes the claim again on a
// new connection, backing off from 100ms
// to 5s while the database does not answer. If another node's claim
// that conflicts was taken in between (a node started in that gap), the
// node cannot take its own back: the store then fails every call with
// ErrClaimLost (so /healthz and /readyz answer 503) and says so in the
// log, since the other node already serves; the node must be stopped.
// Once it has its claim back, a node that has agreed to a region and
// account (AgreeIdentity) checks them again: one that finds the database
// taken over meanwhile by a node of another region or account fails
// every call with ErrIdentityMismatch in the same way, and lets its claim
// go.
func (db *DB) ClaimNode(ctx context.Context, alone bool) (release func(), err error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	conn, start, err := db.claimOnce(ctx, alone, claimSession{})
	if err != nil {
		return nil, err
	}
	kctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var pid atomic.Uint32 // the server process of the claim's connection
	pid.Store(conn.PgConn().PID())
	go func() {
		defer close(done)
		db.keepClaim(kctx, conn, claimSession{conn.PgConn().PID(), start}, alone, &pid)
	}()
	return func() {
		cancel()
		<-done
		db.awaitBackendGone(pid.Load())
	}, nil
}

// releaseWait bounds how long a release waits for the server to end the
// claim's session (awaitBackendGone).
const releaseWait = 2 * time.Second

// awaitBackendGone waits, at most releaseWait, until the server process
// of a closed or lost claim connection has exited. The claim is a session
// lock, which the server drops as that process exits, after the client
// has seen the connection end: a release that returned sooner could leave
// a node started just after it (one of the other kind, swfd migrate) to
// find the claim still held, and refuse to start; a node taking its claim
// again sooner could find its own old claim in its way. Errors end the
// wait (the pool may be closed, or the server down).
func (db *DB) awaitBackendGone(pid uint32) {
	if pid == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseWait)
	defer cancel()
	for {
		var alive bool
		err := db.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)", int32(pid)).Scan(&alive)
		if err != nil || !alive {
			return
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
			return
		}
	}
}

// claimSession names the server session of a claim's connection: its
// process and when it started (a process id alone may be another
// session's once the first has exited).
type claimSession struct {
	pid   uint32
	start time.Time
}

// claimOnce connects and takes the claim's lock on the new connection, and
// returns when the connection's session started. With old, the session of
// a claim's connection that this node gave up on, it first ends that
// session (ours, if the server still keeps it) and waits, at most
// releaseWait, for it to be gone: given up on for its silence (keepClaim),
// a connection whose server had gone silent, or whose network had, may
// well still have a session on the server once it answers again, holding
// the old claim until its TCP keepalives give up on it, a minute or more
// later; an exclusive claim taken again beside it would find its own old
// claim in the way, and fence the store as if another node held the
// database.
func (db *DB) claimOnce(ctx context.Context, alone bool, old claimSession) (*pgx.Conn, time.Time, error) {
	conn, err := db.connectHeld(ctx)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("postgres: claim the database for this node: %w", err)
	}
	fail := func(err error) (*pgx.Conn, time.Time, error) {
		conn.Close(context.Background())
		return nil, time.Time{}, err
	}
	if old.pid != 0 {
		if err := db.endOldSession(ctx, conn, old); err != nil {
			return fail(fmt.Errorf("postgres: claim the database for this node: end the lost claim's session: %w", err))
		}
	}
	fn := "pg_try_advisory_lock_shared"
	if alone {
		fn = "pg_try_advisory_lock"
	}
	var got bool
	var start time.Time
	if err := db.setUp(ctx, func(ctx context.Context) error {
		return conn.QueryRow(ctx, "SELECT "+fn+"($1, hashtext(current_schema())), (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())",
			int32(nodeLockKey)).Scan(&got, &start)
	}); err != nil {
		return fail(fmt.Errorf("postgres: claim the database for this node: %w", err))
	}
	if !got {
		return fail(ErrNotAlone)
	}
	return conn, start, nil
}

// endOldSession ends, on conn, the server session old if it is still
// there (it is this node's own), and waits, at most releaseWait, for it
// to be gone. A session the role may not end (pg_terminate_backend is
// refused) is waited for all the same.
func (db *DB) endOldSession(ctx context.Context, conn *pgx.Conn, old claimSession) error {
	wctx, cancel := context.WithTimeout(ctx, releaseWait)
	defer cancel()
	const there = "FROM pg_stat_activity WHERE pid = $1 AND backend_start = $2"
	var ended bool
	err := conn.QueryRow(wctx, "SELECT coalesce((SELECT pg_terminate_backend(pid) "+there+"), false)", int32(old.pid), old.start).Scan(&ended)
	if err != nil && wctx.Err() != nil {
		return err
	}
	if err != nil {
		// Not ours to end after all (a role without the right): wait.
		db.logger.Debug("postgres: could not end the lost claim's session", "pid", old.pid, "err", err)
	}
	if ended {
		db.logger.Warn("postgres: ended the session of this node's lost claim, which the server still kept", "database", db.where, "pid", old.pid)
	}
	for {
		var alive bool
		if err := conn.QueryRow(wctx, "SELECT EXISTS (SELECT 1 "+there+")", int32(old.pid), old.start).Scan(&alive); err != nil {
			if wctx.Err() != nil && ctx.Err() == nil {
				return nil // waited long enough: try the lock
			}
			return err
		}
		if !alive {
			return nil
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return nil
		}
	}
}

// keepClaim holds the claim on conn until ctx is done, and takes it again
// whenever its connection is lost (see ClaimNode); pid is kept the server
// process of the connection that holds it (0 while none does).
//
// Nothing is sent on the connection but the probes of a quiet connection
// that the node's listener makes too (waitNews): the wait ends when the
// server ends the session (a FATAL message or a closed socket), when a
// probe goes unanswered (the server, or the network to it, gone silent
// without closing the connection), or when ctx is done. Before the
// probes, a claim whose server had gone silent was held, as far as the
// node knew, until the operating system's keepalives gave up on it
// (minutes; never, where something between answers them), and the node
// learned nothing of its loss meanwhile.
func (db *DB) keepClaim(ctx context.Context, conn *pgx.Conn, session claimSession, alone bool, pid *atomic.Uint32) {
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		_, err := db.waitNews(ctx, conn)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			continue // a probe answered, or a stray notification
		}
		conn.Close(context.Background())
		conn = nil
		db.logger.Warn("postgres: the connection that holds this node's claim on the database was lost; taking the claim again",
			"database", db.where, "alone", alone, "err", err)
		// The lost connection's server process may not have exited yet,
		// and with it the claim it held: taken again before it has, an
		// exclusive claim would find its own old one in the way, and
		// fence the store as if another node held the database.
		db.awaitBackendGone(pid.Swap(0))
		if conn, session = db.reclaim(ctx, alone, session); conn == nil {
			return
		}
		pid.Store(conn.PgConn().PID())
		db.logger.Info("postgres: this node's claim on the database is taken again", "database", db.where)
		// Every node's claim may have been lost together, and a node of
		// another region or account let in meanwhile: a fenced node lets
		// its claim go (conn is closed on return), since it serves no more.
		if !db.recheckIdentity(ctx) {
			return
		}
	}
}

// reclaim takes the claim again, trying until it gets it, ctx is done or
// the store is closed (nil), or another node's claim stands in the way:
// then the store is fenced (ErrClaimLost) and reclaim returns nil.
func (db *DB) reclaim(ctx context.Context, alone bool, old claimSession) (*pgx.Conn, claimSession) {
	wait := listenRetryMin
	for {
		if db.beforeReclaim != nil {
			db.beforeReclaim()
		}
		conn, start, err := db.claimOnce(ctx, alone, old)
		switch {
		case err == nil:
			return conn, claimSession{conn.PgConn().PID(), start}
		case errors.Is(err, ErrNotAlone):
			db.fence(ErrClaimLost)
			other := "a node whose clock moves (--clock manual) holds it alone"
			if alone {
				other = "another node uses it"
			}
			db.logger.Error("postgres: this node lost its claim on the database and cannot take it again: "+other+
				" (it started while the claim was lost); every call to this node fails from now on: stop it", "database", db.where)
			return nil, claimSession{}
		}
		if ctx.Err() != nil {
			return nil, claimSession{}
		}
		db.logger.Warn("postgres: cannot take this node's claim on the database again yet; retrying",
			"database", db.where, "err", err, "retry_in", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, claimSession{}
		case <-db.done:
			return nil, claimSession{}
		}
		wait = min(2*wait, listenRetryMax)
	}
}
