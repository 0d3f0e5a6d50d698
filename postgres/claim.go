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
// restarted, or the backend was terminated), the node notices at once
// and takes the claim again on a new connection, backing off from 100ms
// to 5s while the database does not answer. If another node's claim
// that conflicts was taken in between (a node started in that gap), the
// node cannot take its own back: the store then fails every call with
// ErrClaimLost (so /healthz and /readyz answer 503) and says so in the
// log, since the other node already serves; the node must be stopped.
func (db *DB) ClaimNode(ctx context.Context, alone bool) (release func(), err error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	conn, err := db.claimOnce(ctx, alone)
	if err != nil {
		return nil, err
	}
	kctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var pid atomic.Uint32 // the server process of the claim's connection
	pid.Store(conn.PgConn().PID())
	go func() {
		defer close(done)
		db.keepClaim(kctx, conn, alone, &pid)
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

// claimOnce connects and takes the claim's lock on the new connection.
func (db *DB) claimOnce(ctx context.Context, alone bool) (*pgx.Conn, error) {
	conn, err := db.connectHeld(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim the database for this node: %w", err)
	}
	fn := "pg_try_advisory_lock_shared"
	if alone {
		fn = "pg_try_advisory_lock"
	}
	var got bool
	if err := conn.QueryRow(ctx, "SELECT "+fn+"($1, hashtext(current_schema()))", int32(nodeLockKey)).Scan(&got); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("postgres: claim the database for this node: %w", err)
	}
	if !got {
		conn.Close(context.Background())
		return nil, ErrNotAlone
	}
	return conn, nil
}

// keepClaim holds the claim on conn until ctx is done, and takes it again
// whenever its connection is lost (see ClaimNode); pid is kept the server
// process of the connection that holds it (0 while none does).
func (db *DB) keepClaim(ctx context.Context, conn *pgx.Conn, alone bool, pid *atomic.Uint32) {
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		// Nothing is sent on the connection: the wait ends when the
		// server ends it (a FATAL message or a closed socket), or ctx.
		_, err := conn.WaitForNotification(ctx)
		if ctx.Err() != nil {
			return
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
		if conn = db.reclaim(ctx, alone); conn == nil {
			return
		}
		pid.Store(conn.PgConn().PID())
		db.logger.Info("postgres: this node's claim on the database is taken again", "database", db.where)
	}
}

// reclaim takes the claim again, trying until it gets it, ctx is done or
// the store is closed (nil), or another node's claim stands in the way:
// then the store is fenced (ErrClaimLost) and reclaim returns nil.
func (db *DB) reclaim(ctx context.Context, alone bool) *pgx.Conn {
	wait := listenRetryMin
	for {
		if db.beforeReclaim != nil {
			db.beforeReclaim()
		}
		conn, err := db.claimOnce(ctx, alone)
		switch {
		case err == nil:
			return conn
		case errors.Is(err, ErrNotAlone):
			db.fence(ErrClaimLost)
			other := "a node whose clock moves (--clock manual) holds it alone"
			if alone {
				other = "another node uses it"
			}
			db.logger.Error("postgres: this node lost its claim on the database and cannot take it again: "+other+
				" (it started while the claim was lost); every call to this node fails from now on: stop it", "database", db.where)
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		db.logger.Warn("postgres: cannot take this node's claim on the database again yet; retrying",
			"database", db.where, "err", err, "retry_in", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil
		case <-db.done:
			return nil
		}
		wait = min(2*wait, listenRetryMax)
	}
}
