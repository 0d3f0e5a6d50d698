package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// writeReq is one queued write. fn runs on the writer connection inside a
// SAVEPOINT; its error undoes it alone.
type writeReq struct {
	ctx  context.Context
	fn   func(x *wtx) error
	done chan error
}

// write queues fn for the writer goroutine and waits for its durable commit.
// Once the writer has taken the write, write waits for the outcome whatever
// ctx does, so an error means the write was not applied (except when the
// final COMMIT itself fails, which is reported to every write of the group).
func (db *DB) write(ctx context.Context, fn func(x *wtx) error) error {
	if db.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.queue <- r:
	case <-db.writerDone:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.done
}

// writer is the one goroutine that writes. It takes the first queued write,
// then every other write already waiting (up to maxGroup), and commits them
// together.
func (db *DB) writer() {
	defer close(db.writerDone)
	group := make([]*writeReq, 0, maxGroup)
	groups := 0
	for {
		select {
		case r := <-db.queue:
			group = append(group[:0], r)
		case <-db.stop:
			return
		}
	drain:
		for len(group) < maxGroup {
			select {
			case r := <-db.queue:
				group = append(group, r)
			default:
				break drain
			}
		}
		db.commitGroup(group)
		clear(group)
		if groups++; groups%64 == 0 {
			db.trimWAL()
		}
	}
}

// walLimit is the WAL size past which the writer checkpoints and truncates
// it. SQLite's automatic checkpoints copy the WAL back into the database but
// can restart the WAL only at a moment no reader is using it, which under a
// steady load of reads and writes never comes: without this the WAL grows
// for as long as the load lasts.
var walLimit int64 = 64 << 20

// trimWAL checkpoints the whole WAL and truncates it when it has grown past
// walLimit. It waits (up to the busy timeout) for readers still using the
// WAL; new ones read from the database file meanwhile.
func (db *DB) trimWAL() {
	if db.mem {
		return
	}
	fi, err := os.Stat(db.path + "-wal")
	if err != nil || fi.Size() < walLimit {
		return
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.stmts == nil { // closed
		return
	}
	if _, err := db.wconn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		db.logger.Warn("sqlite: WAL checkpoint", "err", err)
	}
}

// commitGroup applies a group of writes in one transaction, each in its own
// savepoint, commits once and answers every writer.
func (db *DB) commitGroup(group []*writeReq) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	x := &wtx{db: db}
	results := make([]error, len(group))
	fail := func(err error) {
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
	}
	answer := func() {
		db.groups.Add(1)
		db.batches.Add(int64(len(group)))
		for i, r := range group {
			r.done <- results[i]
		}
	}
	defer answer()

	if _, err := x.exec("BEGIN IMMEDIATE"); err != nil {
		db.logger.Error("sqlite: begin failed", "err", err)
		fail(fmt.Errorf("sqlite: begin: %w", err))
		return
	}
	applied := 0
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if _, err := x.exec("SAVEPOINT batch"); err != nil {
			results[i] = fmt.Errorf("sqlite: savepoint: %w", err)
			db.abortGroup(x, results, err)
			return
		}
		err := call(r.fn, x)
		if err == nil {
			if _, rerr := x.exec("RELEASE batch"); rerr != nil {
				db.abortGroup(x, results, rerr)
				return
			}
			applied++
			continue
		}
		results[i] = err
		// Undo this write alone. If SQLite already rolled back the whole
		// transaction (it does on some I/O errors), ROLLBACK TO fails and
		// the group's earlier writes are gone too.
		if _, rerr := x.exec("ROLLBACK TO batch"); rerr != nil {
			db.abortGroup(x, results, rerr)
			return
		}
		if _, rerr := x.exec("RELEASE batch"); rerr != nil {
			db.abortGroup(x, results, rerr)
			return
		}
	}
	if applied == 0 {
		if _, err := x.exec("ROLLBACK"); err != nil {
			db.logger.Error("sqlite: rollback failed", "err", err)
		}
		return
	}
	if _, err := x.exec("COMMIT"); err != nil {
		db.logger.Error("sqlite: commit failed", "err", err, "writes", applied)
		fail(fmt.Errorf("sqlite: commit: %w", err))
		if _, rerr := x.exec("ROLLBACK"); rerr != nil {
			db.logger.Debug("sqlite: rollback after failed commit", "err", rerr)
		}
	}
}

// abortGroup rolls the whole transaction back and fails every write of the
// group that has no error yet.
func (db *DB) abortGroup(x *wtx, results []error, cause error) {
	db.logger.Error("sqlite: write transaction aborted", "err", cause)
	err := fmt.Errorf("sqlite: write transaction aborted: %w", cause)
	for i := range results {
		if results[i] == nil {
			results[i] = err
		}
	}
	if _, rerr := x.exec("ROLLBACK"); rerr != nil {
		db.logger.Debug("sqlite: rollback after abort", "err", rerr)
	}
}

// call runs fn, turning a panic into an error so that one bad write cannot
// take the server down.
func call(fn func(*wtx) error, x *wtx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: internal error: panic in write: %v", p)
		}
	}()
	return fn(x)
}

// wtx runs statements on the writer connection, preparing each distinct
// statement once.
type wtx struct{ db *DB }

func (x *wtx) stmt(query string) (*sql.Stmt, error) {
	if x.db.stmts == nil {
		return nil, ErrClosed
	}
	if st, ok := x.db.stmts[query]; ok {
		return st, nil
	}
	st, err := x.db.wconn.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, err
	}
	x.db.stmts[query] = st
	return st, nil
}

func (x *wtx) exec(query string, args ...any) (sql.Result, error) {
	st, err := x.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(context.Background(), args...)
}

// execN runs a statement and returns the number of rows it changed.
func (x *wtx) execN(query string, args ...any) (int64, error) {
	res, err := x.exec(query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (x *wtx) queryRow(query string, args ...any) *sql.Row {
	st, err := x.stmt(query)
	if err != nil {
		// Preparing failed: run it unprepared, so that the *sql.Row
		// carries the error to Scan.
		return x.db.wconn.QueryRowContext(context.Background(), query, args...)
	}
	return st.QueryRowContext(context.Background(), args...)
}

func (x *wtx) query(query string, args ...any) (*sql.Rows, error) {
	st, err := x.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(context.Background(), args...)
}

// exists reports whether a query returns a row.
func (x *wtx) exists(query string, args ...any) (bool, error) {
	var one int
	err := x.queryRow(query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
