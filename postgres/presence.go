package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd"
)

// servingLockKey is the first half of the advisory lock that says a node
// serves the database (not to be confused with ClaimNode's, which says
// whether a node may share the database with others) (the second is a hash of the schema, as for
// migrationLockKey): every node holds it shared on the connection that
// listens for the other nodes' news, for as long as that connection is
// open, and swfd migrate takes it exclusively for the whole copy (Exclude).
const servingLockKey = 0x73776665 // "swfe"

// ErrServed is Exclude's error while a node serves the database.
var ErrServed = errors.New("a swfd node is serving this database")

// ErrExcluded is Open's error while swfd migrate copies out of or into the
// database.
var ErrExcluded = errors.New("swfd migrate is copying this database")

// holdNodeLock takes the node's shared lock on conn, the listening
// connection of a node, and holds it until conn closes. While swfd migrate
// holds the lock exclusively it waits (until ctx is done, or conn is found
// silent: awaitNodeLock), and the store
// refuses every call meanwhile (unserved): a node whose listener lost its
// connection, and with it the lock, may find swfd migrate took the lock in
// between, and must not write to a database being copied. From the loss
// to the listener's return, no call reaches the database either
// (lockLost, serveErr): the node cannot know whether swfd migrate took the
// lock.
func (db *DB) holdNodeLock(ctx context.Context, conn *pgx.Conn) error {
	if db.beforeNodeLock != nil {
		db.beforeNodeLock()
	}
	var got bool
	if err := db.setUp(ctx, func(ctx context.Context) error {
		return conn.QueryRow(ctx, "SELECT pg_try_advisory_lock_shared($1, hashtext(current_schema()))", int32(servingLockKey)).Scan(&got)
	}); err != nil {
		return fmt.Errorf("take the node's lock: %w", err)
	}
	if !got {
		db.unserved.Store(true)
		db.lockChanged()
		db.logger.Warn("postgres: swfd migrate holds the serving nodes' lock: this node refuses every call until it has finished",
			"database", db.where)
		if err := db.awaitNodeLock(ctx, conn); err != nil {
			return fmt.Errorf("take the node's lock: %w", err)
		}
		db.logger.Info("postgres: the serving nodes' lock is taken again; this node serves calls again", "database", db.where)
	}
	db.unserved.Store(false)
	return nil
}

// awaitNodeLock waits on conn, a node listener's, for the serving nodes'
// lock that swfd migrate holds, and takes it. The wait is a statement in
// flight, so the listener cannot probe its connection meanwhile as it does
// while it waits for news (waitNews); and a connection gone silent (its
// server's machine or network gone, a failover that moved the address)
// would keep it waiting until the operating system's keepalives gave up,
// for ever where something between still answers them, the node refusing
// every call all along. So the server ends each wait after the listener's
// quiet interval (the session's lock_timeout, set for the wait alone), and
// the listener asks again: a connection that has not answered a wait
// within the probe timeout after that is given up as lost, and the
// listener reconnects and waits again on a new one, as after any failure.
// This costs one round trip per quiet interval, as a listener's probes do.
func (db *DB) awaitNodeLock(ctx context.Context, conn *pgx.Conn) error {
	const take = "SELECT pg_advisory_lock_shared($1, hashtext(current_schema()))"
	if db.listenQuiet <= 0 {
		_, err := conn.Exec(ctx, take, int32(servingLockKey))
		return err
	}
	// exec runs a statement that the server answers at once.
	exec := func(sql string, args ...any) error {
		return db.setUp(ctx, func(ctx context.Context) error {
			_, err := conn.Exec(ctx, sql, args...)
			return err
		})
	}
	// Whole milliseconds, at least one: a lock_timeout of 0 waits for ever.
	quiet := fmt.Sprintf("%dms", max(1, db.listenQuiet.Milliseconds()))
	if err := exec("SELECT set_config('lock_timeout', $1, false)", quiet); err != nil {
		return err
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, db.listenQuiet+db.listenProbeTimeout)
		_, err := conn.Exec(wctx, take, int32(servingLockKey))
		silent := ctx.Err() == nil && wctx.Err() != nil
		cancel()
		if err == nil {
			break
		}
		if silent {
			return fmt.Errorf("%w (%s after the lock wait's %s): %w", errListenerSilent, db.listenProbeTimeout, db.listenQuiet, err)
		}
		if !isLockTimeout(err) {
			return err
		}
	}
	// Held: the session's waits are unbounded again (connectHeld).
	return exec("SELECT set_config('lock_timeout', '0', false)")
}

// errUnserved is the error of the calls a node refuses while swfd migrate
// holds the serving nodes' lock (see holdNodeLock).
var errUnserved = fmt.Errorf("postgres: swfd migrate holds the serving nodes' lock, which this node lost with its listener's connection: %w", ErrExcluded)

// errLockLost is the error of the calls a node refuses when its listener's
// connection, which held the serving nodes' lock, failed, and the listener
// has not taken the lock again within the store's lock wait (serveErr).
var errLockLost = fmt.Errorf("postgres: this node lost the serving nodes' lock with its listener's connection and refuses calls until it has taken it again, in case %w", ErrExcluded)

// lockLost reports whether the node holds the serving nodes' lock no more:
// a node listener's connection failed, that listener has not taken the
// lock again, and no other node listener of the store holds it. swfd
// migrate may have taken the lock then, and a write would go to a
// database being copied, missing from the copy or half in it; a read
// could see a copy into the database half done. So no call reaches the
// database meanwhile (serveErr). A store that is not a node (no listener
// ever held the lock) is never held up for it, nor one whose listeners
// were stopped.
//
// The node learns of the loss when its listener's connection reports the
// failure; a commit sent before then may still reach the database after
// swfd migrate took the lock, which is why migrate still asks for every
// node to be stopped.
func (db *DB) lockLost() bool {
	return db.nodeLost.Load() > 0 && db.nodeLocks.Load() == 0
}

// defaultLockWait bounds how long a call waits for the node's listener to
// take the serving nodes' lock again (serveErr). Once the database
// answers, the listener reconnects at once, in a few milliseconds; a
// second covers a busy database, and a call refused after it gets a 503,
// which SDKs retry.
const defaultLockWait = time.Second

// serveErr is fenceErr, and while the node does not hold the serving
// nodes' lock (lockLost), it waits until the listener has taken it again
// (nil), swfd migrate is found holding it (errUnserved) or db.lockWait
// has passed (errLockLost, wrapping ErrExcluded and
// swfd.ErrStorageUnavailable): nothing of the call is done until the node
// holds the lock. Ping and the reads that learn a lost commit's outcome
// (probe) do not wait. While the node holds the lock it costs three
// atomic loads.
func (db *DB) serveErr(ctx context.Context) error {
	if err := db.fenceErr(); err != nil || !db.lockLost() || probing(ctx) {
		return err
	}
	db.lockWaiters.Add(1)
	defer db.lockWaiters.Add(-1)
	timer := time.NewTimer(time.Duration(db.lockWait.Load()))
	defer timer.Stop()
	for {
		changed := db.lockChanges()
		if err := db.fenceErr(); err != nil {
			return err
		}
		if !db.lockLost() {
			return nil
		}
		db.probeForLock()
		select {
		case <-changed:
		case <-timer.C:
			return fmt.Errorf("%w: %w", errLockLost, swfd.ErrStorageUnavailable)
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", errLockLost, swfd.ErrStorageUnavailable)
		case <-db.done:
			return ErrClosed
		}
	}
}

// lockChanged wakes the calls waiting in serveErr.
func (db *DB) lockChanged() {
	db.lockMu.Lock()
	defer db.lockMu.Unlock()
	close(db.lockCh)
	db.lockCh = make(chan struct{})
}

// lockChanges returns the channel lockChanged closes next.
func (db *DB) lockChanges() <-chan struct{} {
	db.lockMu.Lock()
	defer db.lockMu.Unlock()
	return db.lockCh
}

// probeForLock has the database looked at (a Ping, which wakes the
// listener waiting to reconnect if it answers: see Listen), at most once
// every listenRetryMin while calls wait for the lock: no call touches the
// database meanwhile, so none would otherwise tell the listener that the
// database answers again after an outage.
func (db *DB) probeForLock() {
	now := time.Now().UnixNano()
	last := db.lastProbe.Load()
	if now-last < int64(listenRetryMin) || !db.lastProbe.CompareAndSwap(last, now) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		db.Ping(ctx)
	}()
}

// connectHeld connects a session of its own, outside the pool, that the
// store holds open for as long as it needs it: a node's listener (and the
// serving nodes' lock it holds, which it waits for while swfd migrate
// holds it), a node's claim, swfd migrate's exclusion. The session turns
// off the time limits that would end it or its wait, whatever the server,
// the role, the database or the connection string set (heldSettings):
// with idle_session_timeout the server ended such a session every time it
// sat idle that long (a listener waits for notifications as an idle
// session), and with it the lock it held, so that an idle node lost its
// lock and its news every few seconds (and a migrate its exclusion), each
// loss logged, the node's calls held up until it was taken again, and the
// news sent meanwhile lost; with statement_timeout, lock_timeout or
// transaction_timeout, a listener waiting for a migrate to finish had its
// wait cancelled, and reconnected and logged again, over and over. A
// setting the server does not have (older releases) is left alone.
func (db *DB) connectHeld(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `SELECT set_config(name, '0', false) FROM pg_settings WHERE name = ANY($1)`, heldSettings); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// heldSettings are the time limits connectHeld turns off.
var heldSettings = []string{"idle_session_timeout", "statement_timeout", "lock_timeout", "transaction_timeout"}

// probeKey marks the context of Ping and of settle's reads, which the
// store makes while lockLost (serveErr).
type probeKey struct{}

func probe(ctx context.Context) context.Context { return context.WithValue(ctx, probeKey{}, true) }

func probing(ctx context.Context) bool { return ctx.Value(probeKey{}) != nil }

// Exclude makes sure no node serves the database while the caller works on
// it (swfd migrate, out of it or into it): it takes the nodes' lock
// exclusively, on a connection of its own, and holds it until release is
// called. It fails with an error wrapping ErrServed, saying how many nodes,
// while a node holds the lock (it is listening for the other nodes' news,
// which every node on PostgreSQL does from its start until it stops or its
// connection to the database is cut). While Exclude's lock is held, Open
// fails with ErrExcluded, and a node that was started before waits to
// listen (its /readyz answers not ready), refusing every call, until
// release.
//
// The lock goes with its session, so the connection is watched as a
// node's listener watches its own: excluded, a context derived from ctx
// for the caller to work under, ends with the cause ErrExclusionLost when
// the connection fails (the backend terminated, the server restarted) or
// goes silent (a probe after a quiet interval unanswered; see waitNews),
// since nodes may then start on the database; the caller should stop.
// Release ends it too.
func (db *DB) Exclude(ctx context.Context) (excluded context.Context, release func(), err error) {
	conn, err := db.connectHeld(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: %s: %w", db.where, err)
	}
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, hashtext(current_schema()))", int32(servingLockKey)).Scan(&got); err != nil {
		conn.Close(context.Background())
		return nil, nil, fmt.Errorf("postgres: %s: take the nodes' lock: %w", db.where, err)
	}
	if !got {
		n, _ := liveNodes(ctx, conn)
		conn.Close(context.Background())
		if n > 0 {
			return nil, nil, fmt.Errorf("postgres: %s: %w (%d node(s) connected)", db.where, ErrServed, n)
		}
		return nil, nil, fmt.Errorf("postgres: %s: %w, or another swfd migrate works on it", db.where, ErrServed)
	}
	excluded, lose := context.WithCancelCause(ctx)
	wctx, stopWatching := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			_, err := db.waitNews(wctx, conn)
			if wctx.Err() != nil {
				return
			}
			if err != nil {
				db.logger.Error("postgres: the connection that holds swfd migrate's exclusion was lost", "database", db.where, "err", err)
				lose(fmt.Errorf("%w (%s): %w", ErrExclusionLost, db.where, err))
				return
			}
		}
	}()
	return excluded, func() {
		stopWatching()
		<-watched
		lose(context.Canceled)
		// The lock is let go of before the connection is closed: closed
		// with it held, the server would drop it only as the session's
		// process exits, and a node started just after the migrate could
		// find the database still excluded.
		pid := conn.PgConn().PID()
		ctx, cancel := context.WithTimeout(context.Background(), releaseWait)
		defer cancel()
		_, err := conn.Exec(ctx, "SELECT pg_advisory_unlock_all()")
		conn.Close(context.Background())
		if err != nil {
			db.awaitBackendGone(pid)
		}
	}, nil
}

// ErrExclusionLost is the cause of the end of the context Exclude returns
// when the session that holds the exclusion was lost.
var ErrExclusionLost = errors.New("postgres: the connection that holds swfd migrate's exclusion of the nodes was lost, and the exclusion with it")

// LiveNodes says how many nodes serve the database (in the store's schema):
// how many hold the nodes' shared lock.
func (db *DB) LiveNodes(ctx context.Context) (int, error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: %s: %w", db.where, err)
	}
	defer conn.Release()
	return liveNodes(ctx, conn.Conn())
}

// liveNodes counts the sessions holding the nodes' lock shared.
func liveNodes(ctx context.Context, conn *pgx.Conn) (int, error) {
	var n int
	// A lock on two int4 keys shows its first in classid, its second in
	// objid (as an oid) and 2 in objsubid.
	err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid = $1 AND objid = hashtext(current_schema())::oid AND objsubid = 2 AND mode = 'ShareLock' AND granted`,
		int64(servingLockKey)).Scan(&n)
	return n, err
}

// checkNotExcluded fails with ErrExcluded while swfd migrate holds the
// nodes' lock exclusively (Exclude): a node must not start on a database
// being copied.
func (db *DB) checkNotExcluded(ctx context.Context) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	var got bool
	if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock_shared($1, hashtext(current_schema()))", int32(servingLockKey)).Scan(&got); err != nil {
		return fmt.Errorf("take the node's lock: %w", err)
	}
	if !got {
		return fmt.Errorf("%w: start swfd once it has finished", ErrExcluded)
	}
	return nil
}
