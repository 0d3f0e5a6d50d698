package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/swfd/swfd"
)

// Holding a run. Commits are optimistic (see Commit): a step reads its run
// without a lock, decides, and its update matches only the version it read.
// A step that decides slowly (a decision task's completion with hundreds of
// decisions) on a run that other nodes keep writing (a storm of signals)
// can lose that race again and again. Its caller then holds the run for
// one attempt (HoldRun): a transaction of its own that reads the run's row
// FOR NO KEY UPDATE, keeps it while the caller decides, and commits the
// step in it. Other writers' updates of the run wait for the row lock
// (however they commit: alone, in a group, with a lock wait), and then find
// its version moved; nobody can overtake the held step.
//
// NO KEY UPDATE is the lock an UPDATE of the row takes when it changes no
// key, which is what every step's update does: it conflicts with the other
// writers' updates, as it must, but not with the KEY SHARE locks of
// inserts that reference the run.
//
// A hold keeps its connection while its caller decides, and the caller
// may need more reads from the pool meanwhile (a type it has not cached,
// a domain's open executions): were every connection held, each of those
// reads would wait for a hold to end, which waits for its own read, until
// the callers' deadlines. So a node holds at most maxHolds runs at once,
// leaving the rest of the pool to everything else. A HoldRun that finds
// them all in use does not wait for one: it reads the run as GetExecution
// does and returns a hold of nothing, whose Commit is an optimistic
// Commit, as its caller's first attempts were; should that lose the race
// too, the caller's next HoldRun tries for a hold again.
//
// A hold waits for the row at most until the caller's deadline (or its
// lock wait): the transaction's lock_timeout, which also bounds the waits
// of its commit's statements. The session's
// idle_in_transaction_session_timeout (5 s unless the connection string
// sets it, see postgres.go) bounds how long a node that stops while it
// holds a run keeps the others waiting.

// holdMargin is how much of the caller's remaining time a hold leaves for
// the database to answer a lock wait that ran out, at most: lock_timeout
// is the remaining time less a tenth of it, up to this much, so that the
// server's answer (55P03, ErrLocked) comes before the caller's context
// ends and pgx abandons the connection.
const holdMargin = 50 * time.Millisecond

// holdReserve is the least number of the pool's connections that holds
// leave to everything else (maxHolds).
const holdReserve = 2

// maxHolds is how many runs a node holds at once with a pool of conns
// connections: all but a quarter of them, and all but holdReserve at
// least, yet one when that leaves none (a pool of two or three) but the
// pool has more than one. A pool of one connection holds nothing: a hold
// would leave no connection for its step's reads.
func maxHolds(conns int) int {
	return max(min(1, conns-1), conns-max(holdReserve, conns/4))
}

// HoldRun reads a run FOR NO KEY UPDATE in a transaction of its own and
// returns the row and the hold, which keeps the transaction (and one of the
// pool's connections) until its Commit or Release. See swfd.ExecutionStore.
// With maxHolds runs held already, it holds nothing: it reads the run, and
// the hold's Commit is a Commit (see above).
func (db *DB) HoldRun(ctx context.Context, domain, runID string) (swfd.Execution, swfd.RunHold, error) {
	select {
	case db.holdSlots <- struct{}{}:
	default:
		db.holdsRefused.Add(1)
		e, err := db.GetExecution(ctx, domain, runID)
		if err != nil {
			return e, nil, err
		}
		return e, swfd.Unheld(db, runID), nil
	}
	e, h, err := db.holdRun(ctx, domain, runID)
	if err != nil {
		<-db.holdSlots
		// A hold writes nothing: a failed connection, or a refusal of
		// the server's own (a statement_timeout), applied nothing.
		return e, h, unavailable(err)
	}
	db.holdsGranted.Add(1)
	return e, h, nil
}

// holdRun is HoldRun with a slot taken, which a hold returned gives back
// as it ends (runHold.end).
func (db *DB) holdRun(ctx context.Context, domain, runID string) (swfd.Execution, swfd.RunHold, error) {
	what := fmt.Sprintf("run %s", runID)
	query, args := "SELECT "+execCols+" FROM executions WHERE run_id = $1 FOR NO KEY UPDATE", []any{runID}
	if domain != "" {
		what = fmt.Sprintf("run %s in domain %q", runID, domain)
		query, args = "SELECT "+execCols+" FROM executions WHERE run_id = $1 AND domain = $2 FOR NO KEY UPDATE", []any{runID, domain}
	}
	wait, bounded := holdWait(ctx)
	if bounded && wait <= 0 {
		return swfd.Execution{}, nil, fmt.Errorf("postgres: hold %s: no time left: %w", what, swfd.ErrLocked)
	}
	// outOfTime wraps an error that came with ctx's end: the wait ran out.
	outOfTime := func(err error) error {
		if bounded && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("postgres: hold %s: %w: %v", what, swfd.ErrLocked, err)
		}
		return fmt.Errorf("postgres: hold %s: %w", what, err)
	}
	if err := db.check(ctx); err != nil {
		return swfd.Execution{}, nil, outOfTime(err)
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return swfd.Execution{}, nil, outOfTime(err)
	}
	pb := &pgx.Batch{}
	pb.Queue("BEGIN")
	if bounded {
		pb.Queue(sqlLockTimeout, lockTimeout(wait-min(wait/10, holdMargin)))
	}
	pb.Queue(query, args...)
	br := conn.SendBatch(ctx, pb)
	e, err := readHold(br, bounded)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if rerr := db.rollback(conn.Conn()); rerr != nil {
			db.logger.Debug("postgres: rollback failed", "err", rerr)
		}
		conn.Release()
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return e, nil, fmt.Errorf("postgres: hold %s: %w", what, swfd.ErrNotFound)
		case isLockTimeout(err):
			return e, nil, fmt.Errorf("postgres: hold %s: waited %s for another writer: %w: %w", what, wait.Round(time.Millisecond), swfd.ErrLocked, err)
		}
		return e, nil, outOfTime(err)
	}
	return e, &runHold{db: db, conn: conn, runID: runID}, nil
}

// holdWait is how long HoldRun may wait for a run: until ctx's deadline,
// or its lock wait when that is shorter; bounded is false when ctx has
// neither.
func holdWait(ctx context.Context) (wait time.Duration, bounded bool) {
	wait = swfd.LockWait(ctx)
	bounded = wait > 0
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); !bounded || left < wait {
			wait, bounded = left, true
		}
	}
	return wait, bounded
}

// readHold reads the results of HoldRun's pipeline: BEGIN, the lock
// timeout if bounded, and the run's row.
func readHold(br pgx.BatchResults, bounded bool) (swfd.Execution, error) {
	if _, err := br.Exec(); err != nil {
		return swfd.Execution{}, err
	}
	if bounded {
		if _, err := br.Exec(); err != nil {
			return swfd.Execution{}, err
		}
	}
	return scanExecution(br.QueryRow())
}

// runHold is a run held by HoldRun: the connection whose transaction holds
// the run's row, nil once the hold has ended.
type runHold struct {
	db    *DB
	conn  *pgxpool.Conn
	runID string
}

// giveBack returns a hold's connection to the pool (which destroys one left
// in its transaction) and its slot (HoldRun).
func (h *runHold) giveBack(conn *pgxpool.Conn) {
	conn.Release()
	<-h.db.holdSlots
}

// Heartbeats reads the run's heartbeat details in the hold's transaction.
func (h *runHold) Heartbeats(ctx context.Context) ([]swfd.Heartbeat, error) {
	if h.conn == nil {
		return nil, fmt.Errorf("postgres: heartbeat details of run %s: the hold has ended", h.runID)
	}
	rows, err := h.conn.Query(ctx, sqlHeartbeats, h.runID)
	if err == nil {
		var out []swfd.Heartbeat
		if out, err = pgx.CollectRows(rows, scanHeartbeat); err == nil {
			return out, nil
		}
	}
	return nil, fmt.Errorf("postgres: heartbeat details of run %s: %w", h.runID, unavailable(err))
}

// Commit sends the batch's statements into the hold's transaction and
// commits it, as commitBatch does a transaction of its own. A connection
// that failed before the COMMIT was sent took the hold with it and applied
// nothing: ErrConflict, to decide the step again. One that failed after is
// settled as any commit's, and a commit that then turns out not to have
// been applied is ErrConflict too (or, when the database did not answer in
// time, context.DeadlineExceeded, as Commit answers).
func (h *runHold) Commit(ctx context.Context, b swfd.Batch) error {
	db, conn := h.db, h.conn
	if conn == nil {
		return fmt.Errorf("postgres: commit: the hold of run %s has ended", h.runID)
	}
	h.conn = nil
	release := func() {
		if conn != nil {
			h.giveBack(conn) // destroyed if left in its transaction
			conn = nil
		}
	}
	defer release()
	for i := range b.Updates {
		if b.Updates[i].Execution.RunID == "" {
			return errors.Join(fmt.Errorf("postgres: commit: update %d has no run id", i), db.rollback(conn.Conn()))
		}
	}
	if err := db.check(ctx); err != nil {
		return errors.Join(err, db.rollback(conn.Conn()))
	}
	if len(b.Updates) == 0 && len(b.AddTransfers) == 0 && len(b.DoneTransfers) == 0 {
		return db.rollback(conn.Conn())
	}
	deadline := time.Now().Add(db.commitTimeout)
	sctx, cancel := context.WithDeadline(serverCancel(ctx), deadline)
	defer cancel()
	pb, steps := buildBatch(b, 0, false)
	err, l := db.finishBatch(ctx, sctx, conn.Conn(), pb, steps, deadline)
	if l == nil {
		return unavailable(err)
	}
	release() // settle wants the failed connection back in the pool
	if !l.sent {
		db.prune(context.WithoutCancel(ctx))
		return fmt.Errorf("postgres: commit: run %s: the hold's connection failed before its COMMIT was sent, nothing applied (%v): %w",
			h.runID, l.err, swfd.ErrConflict)
	}
	cs := make([]checked, len(b.Updates))
	for i := range b.Updates {
		cs[i] = checked{u: &b.Updates[i], matched: true}
	}
	committed, err := db.settle(l, cs)
	switch {
	case err != nil:
		return err
	case committed:
		return nil
	case l.noAnswer:
		return notApplied(l)
	}
	return fmt.Errorf("postgres: commit: run %s: the hold's connection failed and its commit was not applied (%v): %w",
		h.runID, l.err, swfd.ErrConflict)
}

// Release rolls the hold's transaction back and gives its connection back.
func (h *runHold) Release() {
	conn := h.conn
	if conn == nil {
		return
	}
	h.conn = nil
	if err := h.db.rollback(conn.Conn()); err != nil {
		h.db.logger.Debug("postgres: rollback failed", "err", err)
	}
	h.giveBack(conn)
}
