package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/swfd/swfd"
)

// Commit applies a batch atomically and durably: when it returns nil the
// batch's transaction has committed (and, with PostgreSQL's default
// synchronous_commit, is flushed to the write-ahead log).
//
// Beyond the interface's contract, as the SQLite driver: a non-Create update
// of a run that does not exist fails with ErrNotFound; an event id the run
// already has, and a DoneTransfers id that no longer exists (another writer
// delivered it), fail with ErrConflict. Tasks and timers with an empty RunID
// belong to the update's run; adding an existing task or timer replaces it.
// A transaction the database aborts for a serialization failure or a
// deadlock (possible when concurrent batches update several runs in
// different orders) also fails with ErrConflict: nothing of it was applied.
//
// Once the batch's statements have been sent, ctx's cancellation no longer
// matters: the COMMIT is sent whatever it does (and a batch of one update,
// which may share its transaction with other such batches, see group.go,
// is awaited once sent), so that an error other than a connection failure
// means the batch was not applied. A batch of one update ends at ctx's
// deadline, though, if that comes before the commit timeout: the server is
// asked to cancel its statement, which a live server answers at once
// (cancel.go), so the caller is told then whether it was applied.
//
// A connection failure that the store does not get past by sending the
// commit once more, of which nothing was applied, wraps
// swfd.ErrStorageUnavailable (the database could not be reached, or
// failed again); one after which the store cannot learn whether the
// commit was applied wraps swfd.ErrOutcomeUnknown.
//
// A commit has 10 seconds (defaultCommitTimeout) from taking its
// connection to its answer. Past them before the COMMIT was sent, it fails
// with an error wrapping context.DeadlineExceeded, nothing applied; after,
// the store learns from the data whether it committed, as after a
// connection failure: committed is success, not committed an error
// wrapping context.DeadlineExceeded, and when the data cannot tell (the
// database still does not answer) an error wrapping swfd.ErrOutcomeUnknown
// and not context.DeadlineExceeded.
//
// With swfd.WithLockWait on ctx, each statement waits at most that long
// for a row lock another transaction holds (lock_timeout), and the commit
// then fails with swfd.ErrLocked, nothing applied. Such a commit is a
// transaction of its own, never part of a group (whose other updates
// must not be held to its bound).
func (db *DB) Commit(ctx context.Context, b swfd.Batch) error {
	if len(b.Updates) == 0 && len(b.AddTransfers) == 0 && len(b.DoneTransfers) == 0 {
		return nil
	}
	for i := range b.Updates {
		if b.Updates[i].Execution.RunID == "" {
			return fmt.Errorf("postgres: commit: update %d has no run id", i)
		}
	}
	if err := db.check(ctx); err != nil {
		return err
	}
	if len(b.Updates) == 1 && len(b.AddTransfers) == 0 && len(b.DoneTransfers) == 0 && swfd.LockWait(ctx) <= 0 {
		// The common commit, one step of one run, is one statement,
		// committed alone or with others that arrive meanwhile (group.go).
		return unavailable(db.commits.commit(ctx, &b.Updates[0]))
	}
	for attempt := 0; ; attempt++ {
		err, l := db.commitBatch(ctx, b)
		if l == nil {
			return unavailable(err)
		}
		committed := false
		if l.sent {
			cs := make([]checked, len(b.Updates))
			for i := range b.Updates {
				// Every statement was seen to do its part.
				cs[i] = checked{u: &b.Updates[i], matched: true}
			}
			if committed, err = db.settle(l, cs); err != nil {
				return err
			}
		} else {
			db.prune(context.WithoutCancel(ctx))
		}
		switch {
		case committed:
			return nil
		case l.noAnswer:
			return notApplied(l)
		case attempt == 0 && ctx.Err() == nil:
			db.logger.Info("postgres: a commit's connection failed and nothing of it was applied; trying once more", "err", l.err)
			continue
		}
		return unavailable(fmt.Errorf("postgres: commit: %w", l.err))
	}
}

// commitBatch writes a batch of several updates or with transfers (or one
// with a lock wait) once: BEGIN and its statements in one pipeline, then,
// once their results are checked, COMMIT. If its connection fails it
// returns the failure (l): one before the COMMIT was sent, which nothing
// can have committed, as sent false. The whole commit has the store's
// commit timeout; ctx cancels it until the COMMIT is sent.
func (db *DB) commitBatch(ctx context.Context, b swfd.Batch) (error, *lost) {
	deadline := time.Now().Add(db.commitTimeout)
	sctx, cancel := context.WithDeadline(serverCancel(ctx), deadline)
	defer cancel()
	conn, err := db.pool.Acquire(sctx)
	if err != nil {
		return fmt.Errorf("postgres: commit: %w", err), nil
	}
	// Release destroys a connection left inside a transaction or broken.
	defer conn.Release()

	pb, steps := buildBatch(b, swfd.LockWait(ctx), true)
	return db.finishBatch(ctx, sctx, conn.Conn(), pb, steps, deadline)
}

// finishBatch sends a batch's statements (pb, judged by steps) on conn,
// whose transaction they begin or continue, and, once their results are
// checked, COMMIT; it returns as commitBatch does. sctx bounds the
// statements; the COMMIT has until deadline, whatever ctx does. When sctx
// is marked by serverCancel, as the COMMIT's context is, a statement whose
// time runs out is cancelled by the server, which answers, nothing applied
// (cancel.go).
func (db *DB) finishBatch(ctx, sctx context.Context, conn *pgx.Conn, pb *pgx.Batch, steps []step, deadline time.Time) (error, *lost) {
	failed := runSteps(sctx, conn, pb, steps)
	if failed != nil {
		if failed.lost != nil {
			// No COMMIT was sent: the server rolls the transaction back.
			l := lostConn(conn, failed.lost)
			l.sent = false
			return nil, l
		}
		return db.abort(conn, failed), nil
	}
	cctx, ccancel := context.WithDeadline(serverCancel(context.WithoutCancel(ctx)), deadline)
	defer ccancel()
	tag, err := conn.Exec(cctx, "COMMIT")
	if cancelledAtDeadline(cctx, err) {
		return cancelledError("COMMIT", err), nil
	}
	if err != nil && cctx.Err() != nil {
		return nil, db.unanswered(conn)
	}
	if connFailed(err) {
		// Even one pgconn calls safe to retry: settle tells.
		l := lostConn(conn, err)
		l.sent = true
		return nil, l
	}
	if err != nil {
		if isRetryable(err) {
			return fmt.Errorf("postgres: commit: %w: %w", swfd.ErrConflict, err), nil
		}
		return fmt.Errorf("postgres: commit: %w", err), nil
	}
	if tag.String() != "COMMIT" {
		// The transaction had failed after all; the server rolled it back.
		return fmt.Errorf("postgres: commit: transaction rolled back (%s)", tag), nil
	}
	return nil, nil
}

// step is one statement of a commit's pipeline: what it is for, and how to
// judge its result.
type step struct {
	what string
	// check judges a statement that ran without error; nil: any result.
	check func(pgconn.CommandTag) *failure
	// onErr maps the statement's error; nil: wrap it.
	onErr func(error) error
}

// failure is why a commit is being undone. notMatched marks an update that
// matched no row: missing run (ErrNotFound) or stale version (ErrConflict),
// which abort tells apart. lost is set when the connection failed.
type failure struct {
	err        error
	notMatched *swfd.Execution
	lost       error
}

// runSteps sends BEGIN and the batch's statements in one pipeline and judges
// their results in order; it returns the first failure, leaving the
// transaction open (or failed) for abort, or nil with the transaction open
// for COMMIT.
func runSteps(ctx context.Context, conn *pgx.Conn, pb *pgx.Batch, steps []step) (f *failure) {
	br := conn.SendBatch(ctx, pb)
	defer func() {
		if err := br.Close(); err != nil && f == nil {
			f = &failure{err: fmt.Errorf("postgres: commit: %w", err)}
			if connFailed(err) {
				f.lost = err
			}
		}
	}()
	for _, s := range steps {
		tag, err := br.Exec()
		if connFailed(err) {
			return &failure{err: fmt.Errorf("postgres: commit: %s: %w", s.what, err), lost: err}
		}
		if f := s.judge(tag, err); f != nil {
			return f
		}
	}
	return nil
}

// judge maps a statement's result to a failure, or nil when it did what it
// had to.
func (s step) judge(tag pgconn.CommandTag, err error) *failure {
	switch {
	case err != nil && isLockTimeout(err):
		return &failure{err: fmt.Errorf("postgres: commit: %s: %w: %w", s.what, swfd.ErrLocked, err)}
	case err != nil && isRetryable(err):
		return &failure{err: fmt.Errorf("postgres: commit: %s: %w: %w", s.what, swfd.ErrConflict, err)}
	case err != nil && s.onErr != nil:
		return &failure{err: s.onErr(err)}
	case err != nil:
		return &failure{err: fmt.Errorf("postgres: commit: %s: %w", s.what, err)}
	case s.check != nil:
		return s.check(tag)
	}
	return nil
}

// abort rolls a failed commit back and returns its error. An update that
// matched no row is told apart here: if the run exists (in the transaction
// when it is still usable, else after the rollback) its version was stale.
func (db *DB) abort(conn *pgx.Conn, f *failure) error {
	bg, cancel := context.WithTimeout(context.Background(), db.settleTimeout)
	defer cancel()
	err := f.err
	if e := f.notMatched; e != nil {
		// On the same connection: taking another from the pool while
		// holding this one could wait forever on a busy pool.
		var exists bool
		q := "SELECT EXISTS (SELECT 1 FROM executions WHERE run_id = $1)"
		inTx := conn.PgConn().TxStatus() == 'T'
		if !inTx {
			if rerr := db.rollback(conn); rerr != nil {
				return rerr
			}
		}
		if qerr := conn.QueryRow(bg, q, e.RunID).Scan(&exists); qerr != nil {
			return errors.Join(db.rollback(conn), fmt.Errorf("postgres: commit: run %s: %w", e.RunID, qerr))
		}
		if inTx {
			if rerr := db.rollback(conn); rerr != nil {
				return rerr
			}
		}
		if !exists {
			return fmt.Errorf("postgres: commit: run %s: %w", e.RunID, swfd.ErrNotFound)
		}
		return fmt.Errorf("postgres: commit: run %s is not at version %d: %w", e.RunID, e.Version-1, swfd.ErrConflict)
	}
	if rerr := db.rollback(conn); rerr != nil {
		db.logger.Debug("postgres: rollback failed", "err", rerr)
	}
	return err
}

// rollback ends the connection's transaction; if it cannot, it closes the
// connection, which the pool then discards (the server rolls back).
func (db *DB) rollback(conn *pgx.Conn) error {
	if conn.IsClosed() || conn.PgConn().TxStatus() == 'I' {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), db.settleTimeout)
	defer cancel()
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		conn.Close(ctx)
		return fmt.Errorf("postgres: commit: rollback: %w", err)
	}
	return nil
}

// lockTimeout is lock_timeout's value for a wait of d: milliseconds, at
// least 1 (0 would mean no bound).
func lockTimeout(d time.Duration) string {
	return strconv.FormatInt(max(1, d.Milliseconds()), 10)
}

// The statements of a commit besides the updates' (see updateStatement).
// Their texts are constant, so each is prepared once per connection.
const (
	sqlDoneTransfers = `DELETE FROM transfers WHERE id = ANY($1::bigint[])`
	// set_config(…, true) is SET LOCAL with a parameter.
	sqlLockTimeout = `SELECT set_config('lock_timeout', $1, true)`
	// WITH ORDINALITY and ORDER BY: ids are taken in the batch's order.
	sqlAddTransfers = `INSERT INTO transfers (run_id, payload)
		SELECT u.run_id, u.payload FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS u(run_id, payload, n) ORDER BY u.n`
)

// buildBatch queues a batch's statements, after a BEGIN (and, with a lock
// wait, the transaction's lock_timeout) when begin is set, and describes
// how to judge each. Without begin they go into a transaction already open
// (a run's hold, see hold.go).
func buildBatch(b swfd.Batch, lockWait time.Duration, begin bool) (*pgx.Batch, []step) {
	pb := &pgx.Batch{}
	steps := make([]step, 0, 4+len(b.Updates))
	queue := func(s step, query string, args ...any) {
		pb.Queue(query, args...)
		steps = append(steps, s)
	}
	if begin {
		queue(step{what: "begin"}, "BEGIN")
		if lockWait > 0 {
			queue(step{what: "set lock_timeout"}, sqlLockTimeout, lockTimeout(lockWait))
		}
	}
	for i := range b.Updates {
		st, query, args := updateStatement(&b.Updates[i])
		queue(st, query, args...)
	}
	if n := len(b.DoneTransfers); n > 0 {
		ids := b.DoneTransfers
		queue(step{what: "deliver transfers", check: func(tag pgconn.CommandTag) *failure {
			if tag.RowsAffected() != int64(n) {
				return &failure{err: fmt.Errorf("postgres: commit: %d of transfers %v are already done: %w",
					int64(n)-tag.RowsAffected(), ids, swfd.ErrConflict)}
			}
			return nil
		}}, sqlDoneTransfers, ids)
	}
	if len(b.AddTransfers) > 0 {
		runs := make([]string, len(b.AddTransfers))
		payloads := make([][]byte, len(b.AddTransfers))
		for i, t := range b.AddTransfers {
			runs[i], payloads[i] = t.RunID, t.Payload
		}
		queue(step{what: "add transfers"}, sqlAddTransfers, runs, payloads)
	}
	return pb, steps
}

// statement builds one SQL statement of data-modifying WITH clauses: its
// parameters always, its text only when asked (text), for the text of a
// statement depends only on which clauses it has (shape), and is put
// together once per shape (updateTexts).
type statement struct {
	text  bool
	with  []string
	args  []any
	shape uint16
}

// placeholders are "$1", "$2", …, made once.
var placeholders = func() (p [64]string) {
	for i := range p {
		p[i] = "$" + strconv.Itoa(i+1)
	}
	return p
}()

// arg adds a parameter and returns its placeholder.
func (s *statement) arg(v any) string {
	s.args = append(s.args, v)
	if n := len(s.args); n <= len(placeholders) {
		return placeholders[n-1]
	}
	return "$" + strconv.Itoa(len(s.args))
}

// add adds a clause, marking the shape with bit; query is called only when
// the text is wanted.
func (s *statement) add(bit uint16, name string, query func() string) {
	s.shape |= bit
	if s.text {
		s.with = append(s.with, name+" AS ("+query()+")")
	}
}

// The clauses an update statement may have: its shape.
const (
	clauseInsert uint16 = 1 << iota
	clauseUpdate
	clauseTag
	clauseEvents
	clauseCloseTasks
	clauseDoneTasks
	clauseAddTasks
	clauseCloseTimers
	clauseDoneTimers
	clauseAddTimers
	clauseCloseHeartbeats
	clauseDoneHeartbeats
	clauseSetHeartbeats
)

// updateTexts holds the text of each shape of update statement built so far.
var updateTexts sync.Map // uint16 → string

// updateStatement is one update of a commit as a single statement: the
// run's row is inserted or updated (at the expected version) in the WITH
// clause u, and every other change of the update happens only if u took a
// row. It returns one row per row of u, so a stale or missing run shows as
// zero rows, having changed nothing. One statement instead of one per kind
// of change saves the database most of a commit's work: each statement
// costs a round of parsing, planning, locking and a snapshot.
//
// All clauses of one statement see the same snapshot and must not touch a
// row twice, so removals and additions of the same task or timer are
// resolved here first, as the sequence "remove, then add, then (if the run
// closed) remove all of the run's" would leave them.
func updateStatement(u *swfd.Update) (step, string, []any) {
	st, q := buildUpdate(u, false)
	if text, ok := updateTexts.Load(q.shape); ok {
		return st, text.(string), q.args
	}
	_, q = buildUpdate(u, true)
	text := "WITH " + strings.Join(q.with, ",\n") + "\nSELECT 1 FROM u"
	updateTexts.Store(q.shape, text)
	return st, text, q.args
}

// buildUpdate builds an update's statement: its parameters, its shape and,
// if text, its clauses.
func buildUpdate(u *swfd.Update, text bool) (step, *statement) {
	e := &u.Execution
	run := e.RunID
	tags := e.Tags
	if tags == nil {
		tags = []string{}
	}
	closeTime := nullMillis(e.CloseTime)
	start := e.StartTime.UnixMilli()
	q := &statement{text: text, args: make([]any, 0, 32)}
	r := q.arg(run)
	var ph [14]string
	for i, v := range [14]any{e.Domain, e.WorkflowID, e.TypeName, e.TypeVersion, start, closeTime, e.Open, e.CloseStatus, tags,
		e.ParentWorkflowID, e.ParentRunID, e.CancelRequested, e.Version, e.State} {
		ph[i] = q.arg(v)
	}
	pDomain, pOpen, pStart, pClose, pTags := ph[0], ph[6], ph[4], ph[5], ph[8]
	s := step{what: "update run " + run}
	if u.Create {
		s.what = "insert run " + run
		q.add(clauseInsert, "u", func() string {
			return `INSERT INTO executions (run_id, domain, workflow_id, type_name, type_version, start_time,
			close_time, open, close_status, tags, parent_workflow_id, parent_run_id, cancel_requested, version, state)
			VALUES (` + r + ", " + strings.Join(ph[:], ", ") + `) RETURNING run_id`
		})
	} else {
		pVersion := q.arg(e.Version - 1)
		q.add(clauseUpdate, "u", func() string {
			return `UPDATE executions SET domain = ` + ph[0] + `, workflow_id = ` + ph[1] + `, type_name = ` + ph[2] +
				`, type_version = ` + ph[3] + `, start_time = ` + ph[4] + `, close_time = ` + ph[5] + `, open = ` + ph[6] +
				`, close_status = ` + ph[7] + `, tags = ` + ph[8] + `, parent_workflow_id = ` + ph[9] + `, parent_run_id = ` + ph[10] +
				`, cancel_requested = ` + ph[11] + `, version = ` + ph[12] + `, state = ` + ph[13] +
				` WHERE run_id = ` + r + ` AND version = ` + pVersion + ` RETURNING run_id`
		})
	}
	if len(tags) > 0 && (u.Create || !e.Open) {
		// The tag rows carry the run's domain, open flag and times; a
		// row that already says so is left alone. A run's tags, domain
		// and start time never change (swfd.Execution), so only its
		// creation and its closing change its tag rows.
		q.add(clauseTag, "tag", func() string {
			return `INSERT INTO execution_tags (run_id, tag, domain, open, start_time, close_time)
			SELECT ` + r + `, t.tag, ` + pDomain + `, ` + pOpen + `, ` + pStart + `, ` + pClose + `
			FROM (SELECT DISTINCT unnest(` + pTags + `::text[]) AS tag) t WHERE EXISTS (SELECT 1 FROM u)
			ON CONFLICT (run_id, tag) DO UPDATE SET domain = excluded.domain, open = excluded.open,
				start_time = excluded.start_time, close_time = excluded.close_time
			WHERE (execution_tags.domain, execution_tags.open, execution_tags.start_time, execution_tags.close_time)
				IS DISTINCT FROM (excluded.domain, excluded.open, excluded.start_time, excluded.close_time)`
		})
	}
	var evIDs []int64
	if len(u.Events) > 0 {
		evIDs = make([]int64, len(u.Events))
		js := make([][]byte, len(u.Events))
		for i, ev := range u.Events {
			evIDs[i], js[i] = ev.ID, nonNil(ev.JSON)
		}
		pIDs, pJS := q.arg(evIDs), q.arg(js)
		q.add(clauseEvents, "ev", func() string {
			return `INSERT INTO events (run_id, event_id, json)
			SELECT ` + r + `, x.id, x.js FROM unnest(` + pIDs + `::bigint[], ` + pJS + `::bytea[]) AS x(id, js)
			WHERE EXISTS (SELECT 1 FROM u)`
		})
	}

	// Tasks, then timers: the last addition of each key wins; a closed
	// run keeps none of its own.
	// removeOwn removes the run's rows of table: all of them when it
	// closed, else those whose key column is in keys (n of them).
	removeOwn := func(closeBit, doneBit uint16, table, keyColumn, arrayType string, keys any, n int) {
		switch {
		case u.Closed:
			q.add(closeBit, "close_"+table, func() string {
				return `DELETE FROM ` + table + ` WHERE run_id = ` + r + ` AND EXISTS (SELECT 1 FROM u)`
			})
		case n > 0:
			pKeys := q.arg(keys)
			q.add(doneBit, "done_"+table, func() string {
				return `DELETE FROM ` + table + ` WHERE run_id = ` + r + ` AND ` + keyColumn + ` = ANY(` + pKeys + `::` + arrayType + `)
				AND EXISTS (SELECT 1 FROM u)`
			})
		}
	}
	kept, done := resolveOwn(run, u.Closed, u.AddTasks, u.DoneTasks,
		func(t swfd.Task) string { return t.RunID }, func(t swfd.Task) int64 { return t.ScheduledEventID })
	removeOwn(clauseCloseTasks, clauseDoneTasks, "tasks", "scheduled_event_id", "bigint[]", done, len(done))
	if n := len(kept); n > 0 {
		runs, ids, kinds, domains, lists := make([]string, n), make([]int64, n), make([]string, n), make([]string, n), make([]string, n)
		prios, sched := make([]int32, n), make([]int64, n)
		for i, t := range kept {
			runs[i], ids[i], kinds[i], domains[i], lists[i] = cmpRun(t.RunID, run), t.ScheduledEventID, string(t.Kind), t.Domain, t.TaskList
			prios[i], sched[i] = t.Priority, t.Scheduled.UnixMilli()
		}
		var p [7]string
		for i, v := range [7]any{runs, ids, kinds, domains, lists, prios, sched} {
			p[i] = q.arg(v)
		}
		q.add(clauseAddTasks, "addtasks", func() string {
			return `INSERT INTO tasks (run_id, scheduled_event_id, kind, domain, task_list, priority, scheduled)
			SELECT * FROM unnest(` + p[0] + `::text[], ` + p[1] + `::bigint[], ` + p[2] + `::text[], ` +
				p[3] + `::text[], ` + p[4] + `::text[], ` + p[5] + `::integer[], ` + p[6] + `::bigint[])
			WHERE EXISTS (SELECT 1 FROM u)
			ON CONFLICT (run_id, scheduled_event_id) DO UPDATE SET kind = excluded.kind, domain = excluded.domain,
				task_list = excluded.task_list, priority = excluded.priority, scheduled = excluded.scheduled`
		})
	}

	keptTimers, del := resolveOwn(run, u.Closed, u.AddTimers, u.DeleteTimers,
		func(t swfd.Timer) string { return t.RunID }, func(t swfd.Timer) string { return t.Key })
	removeOwn(clauseCloseTimers, clauseDoneTimers, "timers", "key", "text[]", del, len(del))
	if n := len(keptTimers); n > 0 {
		runs, keys, dues := make([]string, n), make([]string, n), make([]int64, n)
		for i, t := range keptTimers {
			runs[i], keys[i], dues[i] = cmpRun(t.RunID, run), t.Key, t.Due.UnixMilli()
		}
		pRuns, pKeys, pDues := q.arg(runs), q.arg(keys), q.arg(dues)
		q.add(clauseAddTimers, "addtimers", func() string {
			return `INSERT INTO timers (run_id, key, due)
			SELECT * FROM unnest(` + pRuns + `::text[], ` + pKeys + `::text[], ` + pDues + `::bigint[])
			WHERE EXISTS (SELECT 1 FROM u)
			ON CONFLICT (run_id, key) DO UPDATE SET due = excluded.due`
		})
	}

	// Heartbeat details: the last entry of each activity wins; a closed
	// run keeps none.
	if u.Closed {
		removeOwn(clauseCloseHeartbeats, 0, "heartbeats", "", "", nil, 0)
	} else if len(u.Heartbeats) > 0 {
		last := map[int64]int{}
		for i, hb := range u.Heartbeats {
			last[hb.ScheduledEventID] = i
		}
		var setIDs, doneIDs []int64
		var setDetails [][]byte
		for i, hb := range u.Heartbeats {
			switch {
			case last[hb.ScheduledEventID] != i:
			case hb.Details == nil:
				doneIDs = append(doneIDs, hb.ScheduledEventID)
			default:
				setIDs, setDetails = append(setIDs, hb.ScheduledEventID), append(setDetails, []byte(*hb.Details))
			}
		}
		removeOwn(0, clauseDoneHeartbeats, "heartbeats", "scheduled_event_id", "bigint[]", doneIDs, len(doneIDs))
		if len(setIDs) > 0 {
			pIDs, pDetails := q.arg(setIDs), q.arg(setDetails)
			q.add(clauseSetHeartbeats, "setheartbeats", func() string {
				return `INSERT INTO heartbeats (run_id, scheduled_event_id, details)
			SELECT ` + r + `, x.id, x.details FROM unnest(` + pIDs + `::bigint[], ` + pDetails + `::bytea[]) AS x(id, details)
			WHERE EXISTS (SELECT 1 FROM u)
			ON CONFLICT (run_id, scheduled_event_id) DO UPDATE SET details = excluded.details`
			})
		}
	}

	s.check = func(tag pgconn.CommandTag) *failure {
		if tag.RowsAffected() == 0 {
			return &failure{notMatched: e}
		}
		return nil
	}
	s.onErr = func(err error) error {
		_, constraint := pgCode(err)
		switch {
		case isUnique(err) && constraint == "events_pkey":
			return fmt.Errorf("postgres: commit: run %s already has one of events %d-%d: %w", run, evIDs[0], evIDs[len(evIDs)-1], swfd.ErrConflict)
		case isUnique(err) && u.Create:
			return fmt.Errorf("postgres: commit: start run %s of workflow %q: %w", run, e.WorkflowID, swfd.ErrAlreadyExists)
		case isUnique(err) && constraint == "executions_open_workflow":
			return fmt.Errorf("postgres: commit: reopen run %s of workflow %q: %w", run, e.WorkflowID, swfd.ErrAlreadyExists)
		}
		return fmt.Errorf("postgres: commit: %s: %w", s.what, err)
	}
	return s, q
}

// resolveOwn settles an update's additions of tasks (or timers) against
// its removals, as "remove, then add, then remove all of a closed run's"
// would leave them: the last addition of each key wins, a closed run keeps
// none of its own additions, and a removal of a key added again is dropped.
// Additions with an empty run id are the update's run's.
func resolveOwn[T any, K comparable](run string, closed bool, adds []T, removes []K, runOf func(T) string, keyOf func(T) K) (kept []T, removed []K) {
	adds = lastByKey(adds, func(t T) [2]any { return [2]any{cmpRun(runOf(t), run), keyOf(t)} })
	own := map[K]bool{}
	for _, t := range adds {
		if cmpRun(runOf(t), run) == run {
			if closed {
				continue
			}
			own[keyOf(t)] = true
		}
		kept = append(kept, t)
	}
	if closed {
		return kept, nil
	}
	for _, k := range removes {
		if !own[k] {
			removed = append(removed, k)
		}
	}
	return kept, removed
}

// cmpRun is a task's or timer's run: its own, or the update's when empty.
func cmpRun(own, update string) string {
	if own == "" {
		return update
	}
	return own
}

// lastByKey keeps the last of the items sharing a key, in the order of
// their last occurrence: one upsert statement may not touch a row twice,
// and adding an existing task or timer replaces it.
func lastByKey[T any](items []T, key func(T) [2]any) []T {
	if len(items) < 2 {
		return items
	}
	last := make(map[[2]any]int, len(items))
	for i, it := range items {
		last[key(it)] = i
	}
	if len(last) == len(items) {
		return items
	}
	out := make([]T, 0, len(last))
	for i, it := range items {
		if last[key(it)] == i {
			out = append(out, it)
		}
	}
	return out
}

const execCols = `run_id, domain, workflow_id, type_name, type_version, start_time, close_time, open,
	close_status, tags, parent_workflow_id, parent_run_id, cancel_requested, version, state`

func scanExecution(s pgx.Row) (swfd.Execution, error) {
	var e swfd.Execution
	var start int64
	var closeTime *int64
	if err := s.Scan(&e.RunID, &e.Domain, &e.WorkflowID, &e.TypeName, &e.TypeVersion, &start, &closeTime, &e.Open,
		&e.CloseStatus, &e.Tags, &e.ParentWorkflowID, &e.ParentRunID, &e.CancelRequested, &e.Version, &e.State); err != nil {
		return e, err
	}
	e.StartTime = fromMillis(start)
	e.CloseTime = fromNullMillis(closeTime)
	if len(e.Tags) == 0 {
		e.Tags = nil
	}
	return e, nil
}

func (db *DB) getExecution(ctx context.Context, what, query string, args ...any) (swfd.Execution, error) {
	if err := db.check(ctx); err != nil {
		return swfd.Execution{}, err
	}
	once := func() (swfd.Execution, error) {
		rctx, cancel := db.readCtx(ctx)
		defer cancel()
		return scanExecution(db.pool.QueryRow(rctx, query, args...))
	}
	e, err := once()
	if db.again(ctx, err) {
		e, err = once()
	}
	err = unavailable(err)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, fmt.Errorf("postgres: %s: %w", what, swfd.ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return e, nil
}

// GetExecution returns a run of a domain (of any domain when domain is
// empty) or ErrNotFound.
func (db *DB) GetExecution(ctx context.Context, domain, runID string) (swfd.Execution, error) {
	if domain == "" {
		return db.getExecution(ctx, fmt.Sprintf("run %s", runID),
			"SELECT "+execCols+" FROM executions WHERE run_id = $1", runID)
	}
	return db.getExecution(ctx, fmt.Sprintf("run %s in domain %q", runID, domain),
		"SELECT "+execCols+" FROM executions WHERE run_id = $1 AND domain = $2", runID, domain)
}

// OpenRun returns the open run of a workflowId, or ErrNotFound.
func (db *DB) OpenRun(ctx context.Context, domain, workflowID string) (swfd.Execution, error) {
	return db.getExecution(ctx, fmt.Sprintf("open run of workflow %q in domain %q", workflowID, domain),
		"SELECT "+execCols+" FROM executions WHERE domain = $1 AND workflow_id = $2 AND open", domain, workflowID)
}

// LatestRun returns the most recently started run of a workflowId, or
// ErrNotFound.
func (db *DB) LatestRun(ctx context.Context, domain, workflowID string) (swfd.Execution, error) {
	return db.getExecution(ctx, fmt.Sprintf("latest run of workflow %q in domain %q", workflowID, domain),
		"SELECT "+execCols+` FROM executions WHERE domain = $1 AND workflow_id = $2
		ORDER BY start_time DESC, open DESC, run_id DESC LIMIT 1`, domain, workflowID)
}

// History returns a range of a run's events. A Limit of 0 or less means no
// limit.
func (db *DB) History(ctx context.Context, q swfd.HistoryQuery) ([]swfd.Event, error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	var sb strings.Builder
	a := args{q.RunID}
	order := " ORDER BY event_id"
	if q.Reverse {
		order += " DESC"
	}
	cols := "event_id, json"
	if q.MaxBytes > 0 {
		// The bytes of the events before each one, from the lengths the
		// rows keep beside their (possibly compressed or out-of-line)
		// values: the events past MaxBytes are never fetched.
		cols += ", sum(octet_length(json)) OVER (" + order + " ROWS UNBOUNDED PRECEDING) - octet_length(json) AS before"
	}
	sb.WriteString("SELECT " + cols + " FROM events WHERE run_id = $1")
	switch {
	case !q.Reverse:
		sb.WriteString(" AND event_id > " + a.add(q.AfterID))
	case q.AfterID > 0:
		sb.WriteString(" AND event_id < " + a.add(q.AfterID))
	}
	sb.WriteString(order)
	if q.Limit > 0 {
		sb.WriteString(" LIMIT " + a.add(q.Limit))
	}
	if q.MaxBytes > 0 {
		query := sb.String()
		sb.Reset()
		sb.WriteString("SELECT event_id, json FROM (" + query + ") e WHERE before <= " + a.add(int64(q.MaxBytes)) + order)
	}
	out, err := collect(ctx, db, func(r pgx.CollectableRow) (swfd.Event, error) {
		var ev swfd.Event
		err := r.Scan(&ev.ID, &ev.JSON)
		return ev, err
	}, sb.String(), a...)
	if err != nil {
		return nil, fmt.Errorf("postgres: history of run %s: %w", q.RunID, err)
	}
	return out, nil
}

// Heartbeats returns the heartbeat details stored for a run's activities,
// in scheduled event id order.
func (db *DB) Heartbeats(ctx context.Context, runID string) ([]swfd.Heartbeat, error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	out, err := collect(ctx, db, scanHeartbeat, sqlHeartbeats, runID)
	if err != nil {
		return nil, fmt.Errorf("postgres: heartbeat details of run %s: %w", runID, err)
	}
	return out, nil
}

// sqlHeartbeats reads a run's heartbeat details (scanHeartbeat).
const sqlHeartbeats = "SELECT scheduled_event_id, details FROM heartbeats WHERE run_id = $1 ORDER BY scheduled_event_id"

func scanHeartbeat(r pgx.CollectableRow) (swfd.Heartbeat, error) {
	var hb swfd.Heartbeat
	var d []byte
	err := r.Scan(&hb.ScheduledEventID, &d)
	s := string(d)
	hb.Details = &s
	return hb, err
}

// PendingTasks returns every stored task, in scheduled order.
func (db *DB) PendingTasks(ctx context.Context) ([]swfd.Task, error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	out, err := collect(ctx, db, func(r pgx.CollectableRow) (swfd.Task, error) {
		var t swfd.Task
		var kind string
		var scheduled int64
		err := r.Scan(&t.RunID, &t.ScheduledEventID, &kind, &t.Domain, &t.TaskList, &t.Priority, &scheduled)
		t.Kind = swfd.TaskKind(kind)
		t.Scheduled = fromMillis(scheduled)
		return t, err
	}, `SELECT run_id, scheduled_event_id, kind, domain, task_list, priority, scheduled
		FROM tasks ORDER BY scheduled, run_id, scheduled_event_id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: pending tasks: %w", err)
	}
	return out, nil
}

func (db *DB) timers(ctx context.Context, query string, args ...any) ([]swfd.Timer, error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	return collect(ctx, db, func(r pgx.CollectableRow) (swfd.Timer, error) {
		var t swfd.Timer
		var due int64
		err := r.Scan(&t.RunID, &t.Key, &due)
		t.Due = fromMillis(due)
		return t, err
	}, query, args...)
}

// DueTimers returns up to limit timers due at or before now, earliest first.
// A limit of 0 or less means no limit.
func (db *DB) DueTimers(ctx context.Context, now time.Time, limit int) ([]swfd.Timer, error) {
	query := "SELECT run_id, key, due FROM timers WHERE due <= $1 ORDER BY due, run_id, key"
	a := args{now.UnixMilli()}
	if limit > 0 {
		query += " LIMIT " + a.add(limit)
	}
	out, err := db.timers(ctx, query, a...)
	if err != nil {
		return nil, fmt.Errorf("postgres: due timers: %w", err)
	}
	return out, nil
}

// DueRunTimers returns up to limit timers with key of domain's runs due at
// or before now, earliest first. A limit of 0 or less means no limit.
func (db *DB) DueRunTimers(ctx context.Context, domain, key string, now time.Time, limit int) ([]swfd.Timer, error) {
	a := args{now.UnixMilli(), key, domain}
	query := "SELECT t.run_id, t.key, t.due FROM timers t JOIN executions e ON e.run_id = t.run_id " +
		"WHERE t.due <= $1 AND t.key = $2 AND e.domain = $3 ORDER BY t.due, t.run_id"
	if limit > 0 {
		query += " LIMIT " + a.add(limit)
	}
	out, err := db.timers(ctx, query, a...)
	if err != nil {
		return nil, fmt.Errorf("postgres: due timers of domain %s: %w", domain, err)
	}
	return out, nil
}

// NextTimer returns the earliest timer, or ErrNotFound.
func (db *DB) NextTimer(ctx context.Context) (swfd.Timer, error) {
	out, err := db.timers(ctx, "SELECT run_id, key, due FROM timers ORDER BY due, run_id, key LIMIT 1")
	if err != nil {
		return swfd.Timer{}, fmt.Errorf("postgres: next timer: %w", err)
	}
	if len(out) == 0 {
		return swfd.Timer{}, fmt.Errorf("postgres: next timer: %w", swfd.ErrNotFound)
	}
	return out[0], nil
}

// PendingTransfers returns up to limit undelivered transfers, oldest (lowest
// id) first. A limit of 0 or less means no limit.
func (db *DB) PendingTransfers(ctx context.Context, limit int) ([]swfd.Transfer, error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	query := "SELECT id, run_id, payload FROM transfers ORDER BY id"
	var a args
	if limit > 0 {
		query += " LIMIT " + a.add(limit)
	}
	out, err := collect(ctx, db, func(r pgx.CollectableRow) (swfd.Transfer, error) {
		var t swfd.Transfer
		err := r.Scan(&t.ID, &t.RunID, &t.Payload)
		return t, err
	}, query, a...)
	if err != nil {
		return nil, fmt.Errorf("postgres: pending transfers: %w", err)
	}
	return out, nil
}

// visibilitySQL builds the FROM ... WHERE of a visibility query, adding its
// arguments to a, and returns it with the columns it orders by (time, run
// id). rows says whether the query returns executions (else it only counts
// them).
//
// Every query is one index range read in (time, run_id) order (see
// migrations/0001_initial.sql): a tag filter reads execution_tags, joining
// executions only when it must; every other query reads an index of
// executions. The open flag is written literally so that the planner may
// use the partial indexes on closed runs.
func visibilitySQL(q swfd.VisibilityQuery, rows bool, a *args) (string, string, string) {
	var sb strings.Builder
	col := "start_time"
	if !q.Open && q.ByCloseTime {
		col = "close_time"
	}
	// p qualifies the columns that drive the query.
	p := "e."
	if tag, ok := q.TagFilter(); ok {
		p = "t."
		if rows || q.WorkflowID != "" || q.TypeName != "" || q.CloseStatus != "" {
			sb.WriteString(" FROM execution_tags t JOIN executions e ON e.run_id = t.run_id")
		} else {
			sb.WriteString(" FROM execution_tags t")
		}
		sb.WriteString(" WHERE t.domain = " + a.add(q.Domain) + " AND t.tag = " + a.add(tag))
	} else {
		sb.WriteString(" FROM executions e WHERE e.domain = " + a.add(q.Domain))
	}
	if q.Open {
		sb.WriteString(" AND " + p + "open")
	} else {
		sb.WriteString(" AND NOT " + p + "open")
	}
	if !q.Oldest.IsZero() {
		sb.WriteString(" AND " + p + col + " >= " + a.add(q.Oldest.UnixMilli()))
	}
	if !q.Latest.IsZero() {
		sb.WriteString(" AND " + p + col + " <= " + a.add(q.Latest.UnixMilli()))
	}
	if q.WorkflowID != "" {
		sb.WriteString(" AND e.workflow_id = " + a.add(q.WorkflowID))
	}
	if q.TypeName != "" {
		sb.WriteString(" AND e.type_name = " + a.add(q.TypeName))
		if q.TypeVersion != "" {
			sb.WriteString(" AND e.type_version = " + a.add(q.TypeVersion))
		}
	}
	if q.CloseStatus != "" {
		sb.WriteString(" AND e.close_status = " + a.add(q.CloseStatus))
	}
	if !q.AfterTime.IsZero() || q.AfterRunID != "" {
		op := " < "
		if q.Reverse {
			op = " > "
		}
		sb.WriteString(" AND (" + p + col + ", " + p + "run_id)" + op + "(" + a.add(q.AfterTime.UnixMilli()) + "::bigint, " + a.add(q.AfterRunID) + "::text)")
	}
	return sb.String(), p + col, p + "run_id"
}

// qualifiedExecCols is execCols of the table aliased e.
var qualifiedExecCols = func() string {
	cols := strings.Split(execCols, ",")
	for i, c := range cols {
		cols[i] = "e." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

// listSQL is the query of ListExecutions.
func listSQL(q swfd.VisibilityQuery) (string, []any) {
	var a args
	where, timeCol, runCol := visibilitySQL(q, true, &a)
	dir := " DESC"
	if q.Reverse {
		dir = ""
	}
	cols := qualifiedExecCols
	if q.NoState {
		cols = strings.TrimSuffix(cols, "e.state") + "NULL::bytea"
	}
	query := "SELECT " + cols + where + " ORDER BY " + timeCol + dir + ", " + runCol + dir
	if q.Limit > 0 {
		query += " LIMIT " + a.add(q.Limit)
	}
	return query, a
}

// countSQL is the query of CountExecutions: it stops reading after lim
// rows (0 or less: no limit).
func countSQL(q swfd.VisibilityQuery, lim int) (string, []any) {
	q.AfterTime, q.AfterRunID = time.Time{}, ""
	var a args
	where, _, _ := visibilitySQL(q, false, &a)
	if lim <= 0 {
		return "SELECT count(*)" + where, a
	}
	return "SELECT count(*) FROM (SELECT 1" + where + " LIMIT " + a.add(lim) + ") s", a
}

// ListExecutions returns executions matching q, newest first unless
// q.Reverse. A Limit of 0 or less means no limit.
func (db *DB) ListExecutions(ctx context.Context, q swfd.VisibilityQuery) ([]swfd.Execution, error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	query, a := listSQL(q)
	out, err := collect(ctx, db, func(r pgx.CollectableRow) (swfd.Execution, error) { return scanExecution(r) }, query, a...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list executions: %w", err)
	}
	return out, nil
}

// CountExecutions counts executions matching q (ignoring its paging and
// Limit) up to limit; truncated is true when more than limit match. A limit
// of 0 or less means no limit.
func (db *DB) CountExecutions(ctx context.Context, q swfd.VisibilityQuery, limit int) (int, bool, error) {
	if err := db.check(ctx); err != nil {
		return 0, false, err
	}
	lim := 0
	if limit > 0 {
		lim = limit + 1
	}
	query, a := countSQL(q, lim)
	var n int
	if err := db.scanRow(ctx, []any{&n}, query, a...); err != nil {
		return 0, false, fmt.Errorf("postgres: count executions: %w", err)
	}
	if limit > 0 && n > limit {
		return limit, true, nil
	}
	return n, false, nil
}

// CountOpen counts a domain's open executions.
func (db *DB) CountOpen(ctx context.Context, domain string) (int, error) {
	if err := db.check(ctx); err != nil {
		return 0, err
	}
	var n int
	if err := db.scanRow(ctx, []any{&n}, "SELECT count(*) FROM executions WHERE domain = $1 AND open", domain); err != nil {
		return 0, fmt.Errorf("postgres: count open executions: %w", err)
	}
	return n, nil
}

// PurgeClosed deletes up to limit runs of a domain closed before cutoff
// (oldest first), with their histories, tags, tasks, timers and heartbeat
// details, in one transaction; messages to them stay (see
// swfd.ExecutionStore.PurgeClosed). A limit of 0 or less deletes nothing.
// Of nodes purging at once, each counts only the runs it deleted.
func (db *DB) PurgeClosed(ctx context.Context, domain string, cutoff time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	if err := db.check(ctx); err != nil {
		return 0, err
	}
	// The retention loop's purge has no deadline of its own: bounded as a
	// read outside a call is, a purge that meets a locked table or run
	// gives up, nothing applied, and the next pass tries again.
	ctx, cancel := db.readCtx(ctx)
	defer cancel()
	var n int
	err := db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `DELETE FROM executions WHERE run_id IN (
				SELECT run_id FROM executions WHERE domain = $1 AND NOT open AND close_time < $2
				ORDER BY close_time, run_id LIMIT $3)
			AND NOT open RETURNING run_id`, domain, cutoff.UnixMilli(), limit)
		if err != nil {
			return err
		}
		runs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		n = len(runs)
		if n == 0 {
			return nil
		}
		pb := &pgx.Batch{}
		for _, table := range []string{"events", "tasks", "timers", "heartbeats", "execution_tags"} {
			pb.Queue("DELETE FROM "+table+" WHERE run_id = ANY($1::text[])", runs)
		}
		return tx.SendBatch(ctx, pb).Close()
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: purge closed runs of %q: %w", domain, err)
	}
	return n, nil
}
