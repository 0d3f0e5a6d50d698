package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/swfd/swfd"
)

// Connection failures under a commit. Nothing here runs unless a commit's
// connection failed: the commit path itself is unchanged, so a commit costs
// what it did.
//
// A commit's connection may fail (the server terminated the backend, a
// pooler or the server restarted, the network failed) once its COMMIT, or
// the Sync that commits a one-statement transaction, may have reached the
// server. The store then learns from the data whether it committed
// (settle): every update leaves a mark that only its own transaction can
// have written. A created run has a new run id; an update of a run sets
// version N (the statement matches only version N-1) with its state; its
// events (run_id, event_id) hold its JSON, and events are never rewritten.
// A group of updates is one transaction, so one update that tells decides
// for the group. Before looking, settle waits until the failed
// connection's backend has left its transaction, so that it cannot commit
// after the look.

// connFailed reports whether err is the failure of the connection rather
// than an error of the statement: a FATAL or PANIC from the server (which
// then closes the connection), or an error of the connection itself. A
// canceled context is not one.
func connFailed(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Severity == "FATAL" || pe.Severity == "PANIC"
	}
	var ne net.Error
	return pgconn.SafeToRetry(err) || errors.As(err, &ne) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// lost is a commit whose connection failed.
type lost struct {
	err error
	// sent: part of the commit may have reached the server (else
	// nothing did; see lostConn).
	sent bool
	// noAnswer: the database did not answer within the commit timeout
	// (the connection was then closed). Such a commit is not sent again:
	// its call has waited long enough.
	noAnswer bool
	pid      uint32    // the failed connection's backend
	at       time.Time // when the failure was seen
}

// lostConn describes err, a connection failure on conn once a commit was
// handed to it, for settle. Nothing was sent only when pgconn says so
// (pgconn.SafeToRetry: a write that wrote nothing), and never for its
// "conn closed" (pgconn.ErrConnClosed): that is also what it reports when
// it could not read the answer of a simple query or of a batch read as one
// (the simple protocol, or default_query_exec_mode=exec), whose request,
// COMMIT and all, may have reached the server and committed. A batch that
// failed while pgx prepared its new statements (pgx.ErrPreprocessingBatch,
// as on a connection's first batch when PostgreSQL ends the session) sent
// nothing to run: pgx sends a batch's statements only once they are all
// prepared.
func lostConn(conn *pgx.Conn, err error) *lost {
	var pre pgx.ErrPreprocessingBatch
	sent := (!pgconn.SafeToRetry(err) || errors.Is(err, pgconn.ErrConnClosed)) && !errors.As(err, &pre)
	return &lost{err: err, sent: sent, pid: conn.PgConn().PID(), at: time.Now()}
}

// unanswered describes a commit on conn that got no answer within the
// commit timeout, once part of it was sent. Its error does not wrap
// context.DeadlineExceeded: that would say "not applied" to the callers
// (notApplied), and only settle can tell.
func (db *DB) unanswered(conn *pgx.Conn) *lost {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	conn.Close(ctx) // the server rolls back what has not committed
	cancel()
	return &lost{err: fmt.Errorf("no answer from PostgreSQL within %s", db.commitTimeout), sent: true, noAnswer: true,
		pid: conn.PgConn().PID(), at: time.Now()}
}

// notApplied is the error of a commit that got no answer in time and, its
// data shows, did not commit: it wraps context.DeadlineExceeded, which the
// API answers as a call not applied, to be tried again.
func notApplied(l *lost) error {
	return fmt.Errorf("postgres: commit: %w, and it did not commit: %w", l.err, context.DeadlineExceeded)
}

// defaultSettleTimeout bounds how long settle waits for the failed
// connection's backend to leave its transaction and for the database to
// answer.
const defaultSettleTimeout = 10 * time.Second

// errOutcomeUnknown marks the error of a commit of which the store could
// not learn whether it committed (the API answers ServiceUnavailable,
// saying that the outcome is unknown).
var errOutcomeUnknown = swfd.ErrOutcomeUnknown

// mark is what an update's data says of it after its connection failed.
type mark int

const (
	// markUnknown: the data cannot tell (the run moved past the
	// update's version, and the update wrote no event).
	markUnknown mark = iota
	// markApplied: the update's own data is there: its transaction
	// committed.
	markApplied
	// markAbsent: the update's data is not there, which proves nothing
	// of its transaction unless the update matched its row (a stale
	// update writes nothing).
	markAbsent
	// markNotApplied: its transaction did not commit (a created run is
	// missing, or the run is still below the update's version).
	markNotApplied
)

// checked is one update of a lost commit and whether its statement was
// seen to match its row before the connection failed.
type checked struct {
	u       *swfd.Update
	matched bool
	mark    mark
}

// sqlMark reads what settle compares with an update.
const sqlMark = `SELECT version, state, (SELECT json FROM events WHERE run_id = $1 AND event_id = $2)
	FROM executions WHERE run_id = $1`

// look reads the update's mark.
func (db *DB) look(ctx context.Context, c *checked) error {
	e := &c.u.Execution
	var event *int64
	if len(c.u.Events) > 0 {
		event = &c.u.Events[0].ID
	}
	var version int64
	var state, js []byte
	err := db.pool.QueryRow(ctx, sqlMark, e.RunID, event).Scan(&version, &state, &js)
	switch {
	case errors.Is(err, pgx.ErrNoRows) && c.u.Create:
		// A create either inserts its row or fails the transaction.
		c.mark = markNotApplied
	case errors.Is(err, pgx.ErrNoRows):
		c.mark = markAbsent
	case err != nil:
		return err
	case c.u.Create:
		// Run ids are new with each create.
		c.mark = markApplied
	case version < e.Version:
		// Had the transaction committed, this update, which expected
		// version e.Version-1, would have moved the run to e.Version.
		c.mark = markNotApplied
	case event != nil && js != nil && bytes.Equal(js, nonNil(c.u.Events[0].JSON)):
		c.mark = markApplied
	case event != nil:
		c.mark = markAbsent
	case version == e.Version && bytes.Equal(state, e.State):
		c.mark = markApplied
	case version == e.Version:
		c.mark = markAbsent
	default:
		c.mark = markUnknown
	}
	return nil
}

// settle learns whether a commit whose connection failed (l) committed,
// from the marks of its updates (cs, whose mark it sets). It returns true
// if it committed, false if it did not, or an error wrapping l.err and
// errOutcomeUnknown (logged) if that could not be learnt within
// the store's settle timeout. The failed connection must have been
// released.
func (db *DB) settle(l *lost, cs []checked) (bool, error) {
	// Only reads, which the store makes while it refuses calls for want
	// of the serving nodes' lock (probe): the connection failure that
	// lost the commit may have cut the node's listener as well.
	ctx, cancel := context.WithTimeout(probe(context.Background()), db.settleTimeout)
	defer cancel()
	db.prune(ctx)
	committed, why := db.decide(ctx, l, cs)
	switch {
	case why != "":
		db.logger.Error("postgres: commit outcome unknown: its connection failed once it may have committed, and the data cannot tell",
			"err", l.err, "why", why, "waited", time.Since(l.at))
		return false, fmt.Errorf("postgres: commit: %w (%s): %w", errOutcomeUnknown, why, l.err)
	case committed:
		db.logger.Warn("postgres: a commit's connection failed once it may have committed; its data shows that it committed",
			"err", l.err)
	default:
		db.logger.Info("postgres: a commit's connection failed once it may have committed; its data shows that it did not commit",
			"err", l.err)
	}
	return committed, nil
}

// decide is settle's verdict, or why there is none.
func (db *DB) decide(ctx context.Context, l *lost, cs []checked) (committed bool, why string) {
	if err := db.waitBackend(ctx, l); err != nil {
		return false, err.Error()
	}
	undecided := "no update of the commit tells"
	for i := range cs {
		c := &cs[i]
		if err := db.look(ctx, c); err != nil {
			return false, fmt.Sprintf("reading run %s: %v", c.u.Execution.RunID, err)
		}
		switch {
		case c.mark == markApplied:
			return true, ""
		case c.mark == markNotApplied, c.mark == markAbsent && c.matched:
			return false, ""
		case c.mark == markUnknown:
			undecided = fmt.Sprintf("run %s is past version %d and the update wrote no event", c.u.Execution.RunID, c.u.Execution.Version)
		}
	}
	return false, undecided
}

// waitBackend waits until the failed connection's backend is out of its
// transaction (gone, or idle), after which that transaction can no longer
// commit. A backend started after the failure has the pid by reuse and is
// not waited for. Behind a pooler the pid is the pooler's, which the
// server does not know: settle then does not wait.
func (db *DB) waitBackend(ctx context.Context, l *lost) error {
	wait := 10 * time.Millisecond
	for {
		var busy bool
		err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND backend_start <= $2
			AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)', 'fastpath function call'))`,
			int64(l.pid), l.at).Scan(&busy)
		switch {
		case err != nil:
			return fmt.Errorf("waiting for backend %d: %w", l.pid, err)
		case !busy:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("backend %d is still in its transaction", l.pid)
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// prune pings the pool's idle connections and closes those that fail:
// after one connection failed, the others may be dead too (killed
// together while the database stayed up), and a call tried again must
// not take one of them.
func (db *DB) prune(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range db.pool.AcquireAllIdle(ctx) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Ping(ctx); err != nil {
				// Released closed, it leaves the pool.
				c.Conn().Close(ctx)
			}
			c.Release()
		}()
	}
	wg.Wait()
}

// unavailable marks err, when it is a connection failure (the database
// could not be reached, or the connection failed) that the store did not
// or could not get past by trying once more, as
// swfd.ErrStorageUnavailable: the API answers ServiceUnavailable, which
// SDKs retry. Only errors of calls of which nothing was applied are
// marked: those of writes that may have been are errOutcomeUnknown. So
// is a refusal of the database's that says nothing of the call itself
// (refused): swfd.ErrStorageFull for a full disk, swfd.ErrStorageUnavailable
// for the others. Other errors are returned as they are.
func unavailable(err error) error {
	if err == nil || errors.Is(err, swfd.ErrStorageUnavailable) || errors.Is(err, swfd.ErrOutcomeUnknown) ||
		errors.Is(err, swfd.ErrStorageFull) || errors.Is(err, swfd.ErrLocked) {
		return err
	}
	if connFailed(err) {
		return fmt.Errorf("%w: %w", err, swfd.ErrStorageUnavailable)
	}
	return refused(err)
}

// refused marks err when it is an ERROR with which the database refused a
// statement for a reason of the server's, not of the call: the statement
// ran past a statement_timeout (one set on the role, the database or the
// connection string) or was cancelled by an operator (57014); the server
// takes no writes (25006: a standby, after a failover the connection
// string still points at, or default_transaction_read_only); it ran out
// of a resource (class 53: disk, memory, connections, locks); a lock_timeout
// set for the connection ran out on a read (55P03; a write's is ErrLocked
// where it is met); or the server failed to read or write its files
// (58030). Such an ERROR ends its transaction without committing it, so
// nothing of the call was applied, and the next call may well succeed:
// without the mark the API answered InternalFailure (500), which says the
// fault is swfd's. A full disk is swfd.ErrStorageFull, as on SQLite; the
// others are swfd.ErrStorageUnavailable. Any other error is returned as it
// is.
func refused(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Severity != "ERROR" {
		return err
	}
	switch {
	case pe.Code == codeDiskFull:
		return fmt.Errorf("%w: %w", err, swfd.ErrStorageFull)
	case pe.Code == codeLockNotAvailable, serverRefused(err):
		return fmt.Errorf("%w: %w", err, swfd.ErrStorageUnavailable)
	}
	return err
}

// serverRefused reports whether err is an ERROR that refused a statement
// for the state of the server rather than for what the statement did:
// a statement_timeout or an operator's cancel, a server taking no writes,
// a resource run out (a full disk among them), or an I/O error. Unlike a
// lock_timeout, a unique violation or a deadlock, which are of the rows
// one statement touched, such a refusal would meet any other statement
// sent in its place, so a group commit that meets one fails every update
// of the group at once instead of sending the others again.
func serverRefused(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Severity != "ERROR" {
		return false
	}
	return pe.Code == codeQueryCanceled || pe.Code == codeReadOnlyTransaction || pe.Code == codeIOError ||
		strings.HasPrefix(pe.Code, classInsufficientResources)
}

// again reports whether a read that failed with err is tried once more:
// when its connection failed. A read changes nothing, so trying it again is
// always safe; the pool's idle connections are pruned first. So is a
// statement that, applied twice, does what it does once (execAgain).
func (db *DB) again(ctx context.Context, err error) bool {
	if !connFailed(err) || ctx.Err() != nil || db.closed.Load() {
		return false
	}
	db.logger.Debug("postgres: a statement's connection failed; trying once more", "err", err)
	db.prune(ctx)
	return true
}

// execAgain executes a statement, committed on its own, that does the
// same applied twice as once (an upsert of one value), once more if its
// connection failed (see again).
//
// Outside a call (ctx without a deadline) it has the read timeout, as a
// read has (readCtx): a background write that met a row or table another
// session keeps locked waited for as long as that session held it.
func (db *DB) execAgain(ctx context.Context, query string, args ...any) error {
	ctx, cancel := db.readCtx(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, query, args...)
	if db.again(ctx, err) {
		_, err = db.pool.Exec(ctx, query, args...)
	}
	return unavailable(err)
}

// collect runs a query through the pool and collects its rows with fn,
// once more if its connection failed (see again).
func collect[T any](ctx context.Context, db *DB, fn pgx.RowToFunc[T], query string, args ...any) ([]T, error) {
	out, err := collectOnce(ctx, db, fn, query, args)
	if db.again(ctx, err) {
		out, err = collectOnce(ctx, db, fn, query, args)
	}
	return out, unavailable(err)
}

func collectOnce[T any](ctx context.Context, db *DB, fn pgx.RowToFunc[T], query string, args []any) ([]T, error) {
	ctx, cancel := db.readCtx(ctx)
	defer cancel()
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, fn)
}

// scanRow is the pool's QueryRow(…).Scan, once more if its connection
// failed (see again).
func (db *DB) scanRow(ctx context.Context, dest []any, query string, args ...any) error {
	once := func() error {
		rctx, cancel := db.readCtx(ctx)
		defer cancel()
		return db.pool.QueryRow(rctx, query, args...).Scan(dest...)
	}
	err := once()
	if db.again(ctx, err) {
		err = once()
	}
	return unavailable(err)
}

// defaultReadTimeout bounds a read whose context has no deadline of its
// own (readCtx), as a call's has: twice a call's bound, far above what any
// of those reads takes on a database that answers.
const defaultReadTimeout = 30 * time.Second

// readCtx bounds a read by db.readTimeout when ctx has no deadline: the
// reads of the background loops (due timers, pending messages and tasks,
// retention) and others made outside a call; and so the writes made
// outside a call that are not commits of runs (retention's purge, the meta
// upserts), which would otherwise wait without end for a row or a table
// another session holds locked (an operator's BEGIN; LOCK TABLE … left
// open in psql, a stuck client of the database). A connection whose server
// went away without a word (a failover that moved the database, a machine
// or network gone) answers nothing, and the operating system tells only
// once TCP keepalives have gone unanswered, minutes later: meanwhile a
// read on it would hold its loop, and with every node's loop reading the
// same way no node would fire a timer or deliver a message, though the
// calls, bounded by their own deadlines, had moved on to the database's
// new home. Past the bound the read fails (context.DeadlineExceeded), its
// connection is closed, and the loop tries again on another.
func (db *DB) readCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || db.readTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, db.readTimeout)
}
