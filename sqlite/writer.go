package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/swfd/swfd"
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
	if err := db.failure(); err != nil {
		return err
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
// together. It does not wait for the commit to reach the disk: it passes the
// group to the syncer and goes on with the next one, so that applying one
// group overlaps with the fsync of the one before.
func (db *DB) writer() {
	defer close(db.writerDone)
	defer close(db.syncq)
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
		db.syncq <- db.commitGroup(group)
		clear(group)
		if groups++; groups%64 == 0 {
			db.trimWAL()
		}
	}
}

// committed is a group the writer has committed (or failed), on its way to
// its writers through the syncer.
type committed struct {
	reqs    []*writeReq
	results []error
	// applied is true when the group's transaction committed: its frames
	// are in the WAL and must be synced before anyone hears of it.
	applied bool
}

// syncer makes committed groups durable and answers their writers, in
// commit order. One fdatasync of the WAL covers every group committed before
// it started, so while the writer is fast the syncer takes several groups
// per sync. When a sync fails the data it covered may be lost whatever a
// retry says (the kernel may have dropped the dirty pages), so the store
// fails those writes and refuses every later one.
func (db *DB) syncer() {
	defer close(db.syncerDone)
	var batch []*committed
	for c := range db.syncq {
		batch = append(batch[:0], c)
	drain:
		for {
			select {
			case c, ok := <-db.syncq:
				if !ok {
					break drain
				}
				batch = append(batch, c)
			default:
				break drain
			}
		}
		var err error
		for _, c := range batch {
			if c.applied && !db.mem {
				err = db.syncWAL()
				break
			}
		}
		if err != nil {
			db.logger.Error("sqlite: fsync of the write-ahead log failed; refusing further writes", "err", err)
			db.failed.Store(&err)
			err = fmt.Errorf("sqlite: commit: sync write-ahead log: %w", err)
		}
		for _, c := range batch {
			db.groups.Add(1)
			db.batches.Add(int64(len(c.reqs)))
			for i, r := range c.reqs {
				res := c.results[i]
				if res == nil && err != nil {
					res = err
				}
				r.done <- res
			}
		}
		clear(batch)
	}
}

// syncWAL flushes the write-ahead log to the disk. The writer connection
// runs with synchronous=NORMAL, which in WAL mode means SQLite itself syncs
// only around checkpoints; this sync after every commit is what makes each
// acknowledged commit durable, as synchronous=FULL would, without holding
// the writer while the disk works.
func (db *DB) syncWAL() error {
	name := db.path + "-wal"
	if db.wal != nil {
		// SQLite keeps the WAL file while any connection is open, and
		// the writer's always is; should the file still have been
		// replaced, sync the new one.
		fi, err := os.Stat(name)
		if err != nil {
			return err
		}
		if !os.SameFile(fi, db.walInfo) {
			db.wal.Close()
			db.wal = nil
		}
	}
	if db.wal == nil {
		f, err := os.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		// The file may be new: make its directory entry durable too.
		if err := syncDir(filepath.Dir(name)); err != nil {
			f.Close()
			return err
		}
		db.wal, db.walInfo = f, fi
	}
	return fdatasync(db.wal)
}

// syncDir fsyncs a directory, making the entries of files created in it
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
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

// commitGroup applies a group of writes in one transaction and commits
// once, without waiting for the disk. The results go to the writers through
// the syncer.
//
// A write that fails must leave no trace, as if it had run alone. Most
// failures (a version conflict, a run that exists already) are found before
// the write has changed anything, and then the group just goes on. A write
// that fails after changing something makes the writer roll the whole
// transaction back and apply the group again without it: the writes before
// it meet the same state again and do the same. This costs a replay in the
// rare case instead of a savepoint (and SQLite's copy of every page it
// touches) around every write.
func (db *DB) commitGroup(group []*writeReq) (c *committed) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	x := &wtx{db: db}
	results := make([]error, len(group))
	c = &committed{reqs: append([]*writeReq(nil), group...), results: results}
	fail := func(err error) {
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
	}
	if err := db.failure(); err != nil {
		fail(err)
		return c
	}
	excluded := make([]bool, len(group)) // failed, or abandoned by their callers
attempt:
	for {
		if _, err := x.exec("BEGIN IMMEDIATE"); err != nil {
			db.logger.Error("sqlite: begin failed", "err", err)
			fail(fmt.Errorf("sqlite: begin: %w", err))
			return c
		}
		applied := 0
		for i, r := range group {
			if excluded[i] {
				continue
			}
			if err := r.ctx.Err(); err != nil {
				results[i], excluded[i] = err, true
				continue
			}
			x.dirty = false
			err := call(r.fn, x)
			if err == nil {
				applied++
				continue
			}
			results[i], excluded[i] = err, true
			if !x.dirty && isDomainError(err) {
				continue // it changed nothing
			}
			if _, rerr := x.exec("ROLLBACK"); rerr != nil {
				db.logger.Error("sqlite: rollback failed", "err", rerr)
				fail(fmt.Errorf("sqlite: write transaction aborted: %w", rerr))
				return c
			}
			for j := range i {
				if !excluded[j] {
					results[j] = nil
				}
			}
			continue attempt
		}
		if applied == 0 {
			if _, err := x.exec("ROLLBACK"); err != nil {
				db.logger.Error("sqlite: rollback failed", "err", err)
			}
			return c
		}
		break
	}
	if _, err := x.exec("COMMIT"); err != nil {
		db.logger.Error("sqlite: commit failed", "err", err)
		fail(fmt.Errorf("sqlite: commit: %w", err))
		if _, rerr := x.exec("ROLLBACK"); rerr != nil {
			db.logger.Debug("sqlite: rollback after failed commit", "err", rerr)
		}
		return c
	}
	c.applied = true
	return c
}

// isDomainError reports whether a write failed for a reason of the data
// (which leaves the transaction usable) rather than of SQLite.
func isDomainError(err error) bool {
	return errors.Is(err, swfd.ErrConflict) || errors.Is(err, swfd.ErrAlreadyExists) ||
		errors.Is(err, swfd.ErrNotFound) || errors.Is(err, swfd.ErrLimitExceeded)
}

// failure is the error of a failed WAL sync, after which the store takes no
// more writes.
func (db *DB) failure() error {
	if p := db.failed.Load(); p != nil {
		return fmt.Errorf("sqlite: store failed to sync and takes no more writes: %w", *p)
	}
	return nil
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
type wtx struct {
	db    *DB
	dirty bool // a statement changed something since the write began
}

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
	res, err := st.ExecContext(context.Background(), args...)
	if err == nil {
		// A failed statement undoes its own changes; a successful one
		// may have changed something (even a SELECT run through exec
		// is counted: being wrong this way only costs a replay).
		x.dirty = true
	}
	return res, err
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
