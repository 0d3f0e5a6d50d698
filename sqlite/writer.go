package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/lograte"
	"github.com/swfd/swfd/sqlite/internal/flush"
)

// writeReq is one queued write. fn runs on the writer connection inside the
// group's transaction; its error undoes it alone.
type writeReq struct {
	ctx  context.Context
	fn   func(x *wtx) error
	done chan error
	// state is reqWaiting until either the writer takes the write, to
	// apply it, or its caller gives it up, its context done: whichever
	// comes first decides, once (take, abandon).
	state atomic.Int32
}

// A writeReq's states.
const (
	reqWaiting   = iota // neither taken nor given up
	reqTaken            // the writer applies it: its caller waits for the outcome
	reqAbandoned        // its caller has gone: the writer never applies it
)

// take reports whether the writer may apply r: it was not given up, and
// from now on cannot be. A write applied once may be applied again (a
// group's replay).
func (r *writeReq) take() bool {
	return r.state.CompareAndSwap(reqWaiting, reqTaken) || r.state.Load() == reqTaken
}

// abandon reports whether r's caller may stop waiting for it: the writer
// had not taken it, and now never will.
func (r *writeReq) abandon() bool {
	return r.state.CompareAndSwap(reqWaiting, reqAbandoned)
}

// write queues fn for the writer goroutine and waits for its durable commit.
//
// Until the writer takes the write, to apply it in its open transaction,
// write returns as soon as ctx is done, with ctx's error, and the write is
// never applied: a write waits behind a group being applied or synced, a
// checkpoint, or another program's write lock (SQLite waits for it up to
// the busy timeout, 10 s), and its caller's deadline (a call's
// --call-timeout) bounds that wait. Once the writer has taken the write,
// write waits for the outcome whatever ctx does, so an error means the
// write was not applied (except when the final COMMIT itself fails, which
// is reported to every write of the group), and success that it is
// durable, even if ctx ended meanwhile.
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
		return notTaken(ctx)
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.abandon() {
			return notTaken(ctx)
		}
		return <-r.done
	}
}

// notTaken is write's error when ctx ended before the writer took the
// write: ctx's error, which it wraps.
func notTaken(ctx context.Context) error {
	return fmt.Errorf("sqlite: the write waited for the writer until its call ended and was not applied: %w", ctx.Err())
}

// writer is the one goroutine that writes. It opens a transaction with the
// first queued write and applies every further write that arrives until the
// syncer is free (or maxGroup writes are in), then commits them together and
// hands the group to the syncer, which makes it durable and answers it.
//
// So the disk paces the commits: while one group is being synced the next
// one gathers, already applied, in an open transaction. When the server is
// idle a lone write commits at once; under load a commit carries every write
// that arrived during the previous fsync, and the pages they share (the last
// page of each index, mostly) reach the WAL once per fsync rather than once
// per write.
func (db *DB) writer() {
	defer close(db.writerDone)
	defer close(db.syncq)
	commits := 0
	for {
		var first *writeReq
		select {
		case first = <-db.queue:
		case <-db.stop:
			return
		}
		db.syncq <- db.gather(first)
		if commits++; commits%16 == 0 {
			db.trimWAL()
		}
	}
}

// gather applies first and the writes that follow it in one transaction
// until it holds the syncer's token, then commits (see writer).
func (db *DB) gather(first *writeReq) *committed {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	var c *committed
	err := db.onWriter(func(x *wtx) {
		g := &group{x: x, lines: db.writeLines}
		c = g.gather(first)
	})
	if err != nil {
		// The driver connection could not be had (it never fails while
		// the store is open): nothing was applied. The group still takes
		// the syncer's token, which the syncer gives back after answering.
		<-db.syncIdle
		c = &committed{reqs: []*writeReq{first}, results: []error{fmt.Errorf("sqlite: writer connection: %w", err)}}
	}
	return c
}

// onWriter runs fn with a wtx on the writer connection's driver connection.
// The caller holds wmu. The driver connection is used only inside fn, as
// database/sql requires of sql.Conn.Raw.
func (db *DB) onWriter(fn func(x *wtx)) error {
	return db.wconn.Raw(func(dc any) error {
		conn, ok := dc.(writerConn)
		if !ok {
			return fmt.Errorf("sqlite: the driver's connection (%T) cannot prepare statements with a context", dc)
		}
		fn(&wtx{db: db, conn: conn})
		return nil
	})
}

// gather applies first and the writes that follow it until it holds the
// syncer's token, then commits (see DB.gather).
func (g *group) gather(first *writeReq) *committed {
	db := g.x.db
	if err := db.failure(); err != nil {
		g.broken = err
	}
	g.add(first)
	for {
		if len(g.reqs) >= maxGroup {
			<-db.syncIdle
			break
		}
		// A write already waiting joins the group before the syncer's
		// token is looked at: when both are ready, select would pick
		// one at random.
		select {
		case r := <-db.queue:
			g.add(r)
			continue
		default:
		}
		select {
		case r := <-db.queue:
			g.add(r)
			continue
		case <-db.syncIdle:
		}
		break
	}
	return g.commit()
}

// group is the writer's open transaction and the writes applied in it.
//
// A write that fails must leave no trace, as if it had run alone. Most
// failures (a version conflict, a run that exists already) are found before
// the write has changed anything, and then the group just goes on. A write
// that fails after changing something makes the group roll the transaction
// back and apply its earlier writes again: they meet the same state again
// and do the same. This costs a replay in the rare case instead of a
// savepoint (and SQLite's copy of every page it touches) around every write.
type group struct {
	x       *wtx
	lines   *lograte.Limiter // the log, a few lines a second (DB.writeLines)
	reqs    []*writeReq
	results []error
	applied []bool // applied in the open transaction
	open    bool   // the transaction is open
	broken  error  // set when the transaction cannot go on: fails every write
}

func (g *group) add(r *writeReq) {
	g.reqs = append(g.reqs, r)
	g.results = append(g.results, nil)
	g.applied = append(g.applied, false)
	i := len(g.reqs) - 1
	if r.state.Load() == reqAbandoned {
		// Its caller has gone: no transaction is begun for it (which
		// could wait out another program's lock for nothing).
		g.results[i] = fmt.Errorf("sqlite: the write's call ended before it was applied: %w", r.ctx.Err())
		return
	}
	if g.broken == nil && !g.open {
		g.begin()
	}
	if g.broken != nil {
		g.results[i] = g.broken
		return
	}
	if ok, undo := g.apply(i); !ok && undo {
		g.replay()
	}
}

// apply runs write i. undo is true when it failed after changing something
// (or for a reason that may have spoilt the transaction).
func (g *group) apply(i int) (ok, undo bool) {
	r := g.reqs[i]
	if err := r.ctx.Err(); err != nil || !r.take() {
		// Its caller's context is done: it has given the write up, or
		// will find it failed.
		g.results[i] = fmt.Errorf("sqlite: the write's call ended before it was applied: %w", r.ctx.Err())
		return false, false
	}
	g.x.dirty = false
	err := call(r.fn, g.x)
	if err == nil {
		g.results[i], g.applied[i] = nil, true
		return true, false
	}
	g.results[i], g.applied[i] = err, false
	return false, g.x.dirty || !isDomainError(err)
}

// replay rolls the transaction back and applies the writes that had
// succeeded again, until one pass goes through without a write needing undo.
func (g *group) replay() {
	for g.broken == nil {
		g.rollback()
		g.begin()
		if g.broken != nil {
			break
		}
		again := false
		for i := range g.reqs {
			if !g.applied[i] {
				continue
			}
			if ok, undo := g.apply(i); !ok && undo {
				again = true
				break
			}
		}
		if !again {
			return
		}
	}
	g.failAll(g.broken)
}

func (g *group) begin() {
	if _, err := g.x.exec("BEGIN IMMEDIATE"); err != nil {
		if isBusy(err) {
			// Another program holds the write lock (the sqlite3 shell
			// in a write transaction, say) and kept it past the busy
			// timeout: nothing was applied, and the writes succeed
			// again once it lets go.
			g.lines.Log(context.Background(), slog.LevelError, "sqlite: another program holds the database's write lock; writes wait for it up to the busy timeout, then fail (ServiceUnavailable) until it lets go: end its transaction or stop it",
				"path", g.x.db.path, "busy_timeout", time.Duration(busyTimeoutMS)*time.Millisecond, "err", err)
			g.broken = fmt.Errorf("sqlite: begin: %w: another program holds the database's write lock: %w", swfd.ErrStorageUnavailable, err)
			return
		}
		g.lines.Log(context.Background(), slog.LevelError, "sqlite: begin failed", "err", err)
		g.broken = fmt.Errorf("sqlite: begin: %w", err)
		return
	}
	g.open = true
}

func (g *group) rollback() {
	if !g.open {
		return
	}
	g.open = false
	if _, err := g.x.exec("ROLLBACK"); err != nil && !strings.Contains(err.Error(), "no transaction is active") {
		// (A failed COMMIT may have rolled the transaction back already.)
		g.lines.Log(context.Background(), slog.LevelError, "sqlite: rollback failed", "err", err)
		g.broken = fmt.Errorf("sqlite: write transaction aborted: %w", err)
	}
}

// failAll gives err to every write that has no error yet.
func (g *group) failAll(err error) {
	for i := range g.reqs {
		if g.results[i] == nil {
			g.results[i] = err
		}
		g.applied[i] = false
	}
}

// commit ends the transaction: COMMIT when some write was applied.
func (g *group) commit() *committed {
	c := &committed{reqs: g.reqs, results: g.results}
	if g.broken != nil {
		g.failAll(g.broken)
		g.rollback()
		return c
	}
	n := 0
	for _, ok := range g.applied {
		if ok {
			n++
		}
	}
	if n == 0 {
		g.rollback()
		return c
	}
	if _, err := g.x.exec("COMMIT"); err != nil {
		switch {
		case isShmSize(err):
			g.lines.Log(context.Background(), slog.LevelWarn, "sqlite: commit failed: the WAL index (the -shm file) could not grow; is its file system full?",
				"file", g.x.db.path+"-shm", "err", err, "writes", n)
		case isFull(err):
			g.lines.Log(context.Background(), slog.LevelWarn, "sqlite: commit failed: the disk is full", "err", err, "writes", n)
		default:
			g.lines.Log(context.Background(), slog.LevelError, "sqlite: commit failed", "err", err, "writes", n)
		}
		g.failAll(fmt.Errorf("sqlite: commit: %w", err))
		g.rollback()
		return c
	}
	g.open = false
	c.applied = true
	return c
}

// isDomainError reports whether a write failed for a reason of the data
// (which leaves the transaction usable) rather than of SQLite.
func isDomainError(err error) bool {
	return errors.Is(err, swfd.ErrConflict) || errors.Is(err, swfd.ErrAlreadyExists) ||
		errors.Is(err, swfd.ErrNotFound) || errors.Is(err, swfd.ErrLimitExceeded)
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
// commit order, then hands the writer its token back. When a sync fails the
// data it covered may be lost whatever a retry says (the kernel may have
// dropped the dirty pages), so the store fails those writes and refuses
// every later one.
func (db *DB) syncer() {
	defer close(db.syncerDone)
	for c := range db.syncq {
		var err error
		if c.applied && !db.mem {
			began := time.Now()
			err = db.syncWAL()
			if fn := db.observeSync.Load(); fn != nil && err == nil {
				(*fn)(time.Since(began))
			}
			if err != nil {
				db.logger.Error("sqlite: fsync of the write-ahead log failed; refusing further writes", "err", err)
				db.failed.Store(&err)
				err = fmt.Errorf("sqlite: commit: sync write-ahead log: %w", err)
			}
		}
		db.groups.Add(1)
		db.batches.Add(int64(len(c.reqs)))
		if fn := db.observeGroup.Load(); fn != nil && c.applied {
			(*fn)(len(c.reqs))
		}
		if c.applied && err == nil {
			db.full.Store(false)
			db.writesFail.Store(nil)
		}
		for i, r := range c.reqs {
			res := c.results[i]
			if res == nil && err != nil {
				res = err
			}
			if res != nil && isFull(res) {
				db.full.Store(true)
				res = fmt.Errorf("%w: %w", swfd.ErrStorageFull, res)
			} else if res != nil && !db.readOnly && failsTheNextWrites(res) {
				db.writesFail.Store(&res)
			}
			r.done <- res
		}
		db.syncIdle <- struct{}{}
	}
}

// walLimit is the WAL size past which the writer checkpoints and truncates
// it. SQLite's automatic checkpoints copy the WAL back into the database but
// can restart the WAL only at a moment no reader is using it, which under a
// steady load of reads and writes never comes: without this the WAL grows
// for as long as the load lasts.
var walLimit int64 = 64 << 20

// trimWAL checkpoints the whole WAL and truncates it when it has grown past
// walLimit, in three steps:
//
//  1. A passive checkpoint copies into the database file every frame no
//     reader still needs, while reads go on: most of the work.
//  2. The read gate is shut: new reads of the pool wait, and the writer
//     waits up to trimWait for those in progress to end. Readers have to
//     be off the WAL for it to be truncated, and SQLite's own wait for them
//     does not get there under a steady stream of reads: it waits for the
//     slot of one reader in the WAL index, and the reads that begin
//     meanwhile take that slot again as soon as it is free, so the wait
//     ends only at its timeout (measured: tries failing for 10 s on end
//     while no read took more than a third of a second).
//  3. With no read of the pool left, a TRUNCATE checkpoint copies the few
//     frames step 1 had to leave and empties the WAL; then the gate opens.
//
// So reads wait once per truncation, for trimWait at most (for the reads in
// progress, which take milliseconds) and for that last checkpoint, whose
// copy is small (and needs two syncs when there is anything to copy).
//
// A reader outside the pool (swfd backup copying a large database keeps one
// snapshot for the whole copy) is not held back: the truncation fails at
// once while it reads, rather than holding every write for the busy
// timeout, and so does one whose reads of the pool did not end within
// trimWait. The writer tries again 16 commits later, as usual, after a
// first failure, and after each further one twice as many commits later as
// the time before, up to 1,024: so a long reader costs the writer and the
// readers at most trimWait in every 1,024 commits. The WAL grows while the
// reader keeps its snapshot, as it must, and is truncated once it is done.
func (db *DB) trimWAL() {
	if db.mem {
		return
	}
	if db.trimDefer > 0 {
		db.trimDefer--
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
	busy, err := db.truncateWAL()
	if err != nil {
		db.logger.Warn("sqlite: WAL checkpoint", "err", err)
		return
	}
	if busy {
		db.trimFailures = min(db.trimFailures+1, 7)
		db.trimDefer = 1<<(db.trimFailures-1) - 1
		return
	}
	db.trimFailures = 0
}

// trimWait is how long trimWAL waits for the reads of the pool in progress
// to end: a query's time, not a long reader's. Tests lengthen it.
var trimWait = 100 * time.Millisecond

// truncateWAL runs trimWAL's checkpoints on the writer connection (the
// caller holds wmu) and reports whether a reader kept the WAL from being
// truncated.
func (db *DB) truncateWAL() (busy bool, err error) {
	if _, err := db.checkpointWAL("PASSIVE"); err != nil {
		return false, err
	}
	if !db.gate.shut(trimWait) {
		db.gate.open()
		return true, nil
	}
	defer db.gate.open()
	return db.checkpointWAL("TRUNCATE")
}

// checkpointWAL runs a checkpoint of the given mode on the writer
// connection (the caller holds wmu) and reports whether readers kept it
// from completing. Readers are not waited for: SQLite's busy timeout is 0
// meanwhile (a passive checkpoint never waits anyway).
func (db *DB) checkpointWAL(mode string) (blocked bool, err error) {
	ctx := context.Background()
	if mode != "PASSIVE" {
		if _, err := db.wconn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
			return false, err
		}
		defer func() {
			if _, rerr := db.wconn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeoutMS)); rerr != nil && err == nil {
				err = fmt.Errorf("restore the busy timeout: %w", rerr)
			}
		}()
	}
	var busy, frames, copied int
	if err := db.wconn.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied); err != nil {
		return false, err
	}
	return busy != 0, nil
}

// syncWAL flushes the write-ahead log to the disk. The writer connection
// runs with synchronous=NORMAL, which in WAL mode means SQLite itself syncs
// only around checkpoints; this sync after every commit is what makes each
// acknowledged commit durable, as synchronous=FULL would, without holding
// the writer while the disk works.
//
// With GOMAXPROCS=1 (Go's choice in a container of one CPU) the sync goes
// through the kernel's asynchronous I/O on Linux (package flush): the
// syncer then waits for the disk parked, as a goroutine waits for the
// network, and the server runs on. A plain fdatasync holds its thread's
// share of the scheduler until the runtime takes it back, and with only one
// share that stalled every call for each sync. With two or more the other
// shares run on through a plain fdatasync, whose thread goes on at once when
// the disk is done; a completion through the poller waits until a share is
// free to look, which measured slower on a saturated machine. A Flusher
// that cannot sync the log is dropped, for fdatasync.
func (db *DB) syncWAL() error {
	// The file was opened at Open (noteFiles) and is kept: SQLite keeps
	// the WAL file (the same file) while any connection to the database
	// is open, and the writer's always is.
	if db.wal == nil {
		return errors.New("the write-ahead log is not open")
	}
	if db.flusher != nil && runtime.GOMAXPROCS(0) == 1 {
		err := db.flusher.Fdatasync(db.wal)
		if err == nil {
			db.asyncSyncs.Add(1)
		}
		if !errors.Is(err, flush.ErrUnsupported) {
			return err
		}
		// Not synced, or not known to be: sync the other way, now and
		// from now on.
		db.logger.Warn("sqlite: the asynchronous sync of the write-ahead log failed; using fdatasync from now on", "err", err)
		db.flusher.Close()
		db.flusher = nil
	}
	return fdatasync(db.wal)
}

// openFlusher sets up the asynchronous sync of the log, where the kernel
// offers it (see syncWAL).
func (db *DB) openFlusher() {
	f, err := flush.New()
	if err != nil {
		db.logger.Debug("sqlite: no asynchronous fdatasync; the write-ahead log is synced with fdatasync", "err", err)
		return
	}
	db.flusher = f
	db.logger.Debug("sqlite: the write-ahead log is synced through asynchronous I/O")
}

// isFull reports whether err is SQLite's or the system's "no space left",
// or SQLite's failure to grow the WAL index's shared memory (the -shm
// file, isShmSize). A commit that fails so is rolled back whole: SQLite
// keeps nothing of it.
func isFull(err error) bool {
	if errors.Is(err, swfd.ErrStorageFull) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var se interface{ Code() int }
	return errors.As(err, &se) && se.Code()&0xff == sqliteFull || isShmSize(err)
}

// isBusy reports whether err is SQLITE_BUSY (of any extended code): a lock
// another connection holds, here another program's, was not let go within
// the busy timeout.
func isBusy(err error) bool {
	var se interface{ Code() int }
	return errors.As(err, &se) && se.Code()&0xff == sqliteBusy
}

// isShmSize reports whether err is SQLITE_IOERR_SHMSIZE: the -shm file,
// which grows with the WAL (a region every few thousand pages), could not
// be made larger. SQLite reports that, rather than SQLITE_FULL, when the
// file system has no room for it; the commit that needed it fails before
// it is published in the index, so nothing of it is kept, and a later one
// tries again. It is answered as a full disk is: retry once there is room.
func isShmSize(err error) bool {
	var se interface{ Code() int }
	return errors.As(err, &se) && se.Code() == sqliteIOErrShmSize
}

// isIOFailure reports whether err is a failure to write the disk other
// than a full one: an I/O error (SQLITE_IOERR, EIO), or a file system that
// refuses writes (SQLITE_READONLY, EROFS: ext4 remounts itself read-only
// after an I/O error), or a file SQLite could not open (SQLITE_CANTOPEN).
// Unlike a version conflict, such a failure meets the next writes too, so
// the store is not ready for writes until one succeeds (failsTheNextWrites,
// WriteHealth).
// SQLITE_IOERR_NOMEM is no failure of the disk.
func isIOFailure(err error) bool {
	if errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EROFS) {
		return true
	}
	var se interface{ Code() int }
	if !errors.As(err, &se) {
		return false
	}
	switch code := se.Code(); code & 0xff {
	case sqliteIOErr:
		return code != sqliteIOErrNoMem
	case sqliteReadOnly, sqliteCantOpen:
		return true
	}
	return false
}

// SQLite's primary result codes SQLITE_BUSY, SQLITE_READONLY, SQLITE_IOERR,
// SQLITE_FULL and SQLITE_CANTOPEN, and the extended SQLITE_IOERR_NOMEM and
// SQLITE_IOERR_SHMSIZE.
const (
	sqliteBusy       = 5
	sqliteReadOnly   = 8
	sqliteIOErr      = 10
	sqliteFull       = 13
	sqliteCantOpen   = 14
	sqliteIOErrNoMem = sqliteIOErr | 12<<8
	// SQLITE_IOERR_SHMSIZE: the -shm file could not grow.
	sqliteIOErrShmSize = sqliteIOErr | 19<<8
)

// roomToWrite is the free space at which a store that found its disk full
// reports itself writable again (WriteHealth). A write that still finds no
// room marks it full again.
const roomToWrite = 1 << 20

// WriteHealth reports whether writes can be expected to succeed: not once
// the store refuses them (its files gone from its path, a failed sync of
// the WAL), not while the disk is full, and not while writes fail for
// another reason that meets the next ones too (failsTheNextWrites): they
// do not reach the disk (an I/O error, a file system gone read-only), or
// another program holds the database's write lock.
//
// After a write found the disk full, the store is full until a write
// succeeds or the file system has roomToWrite bytes free again (or cannot
// tell). After a write failed otherwise so, the store is not writable
// until a write succeeds: WriteHealth then makes one itself (tryWrite), at
// most once every probeEvery. Either way a readiness probe sees the store
// writable again even while no one is sent writes.
func (db *DB) WriteHealth(ctx context.Context) error {
	if err := db.failure(); err != nil {
		return err
	}
	if db.writesFail.Load() != nil {
		if err := db.tryWrite(ctx); err != nil {
			return fmt.Errorf("sqlite: writes fail: %w", err)
		}
	}
	if !db.full.Load() {
		return nil
	}
	if n, ok := freeBytes(filepath.Dir(db.path)); !ok || n >= roomToWrite {
		db.full.Store(false)
		return nil
	}
	return fmt.Errorf("sqlite: %w", swfd.ErrStorageFull)
}

// failsTheNextWrites reports whether a write failed for a reason that meets
// the writes after it too, unlike a version conflict: it could not reach
// the disk (isIOFailure), or another program held the database's write
// lock past the busy timeout (isBusy), which it may hold for as long as it
// likes (the sqlite3 shell left in a transaction).
func failsTheNextWrites(err error) bool {
	return isIOFailure(err) || isBusy(err)
}

// probeEvery is how often at most WriteHealth tries a write while writes
// fail (failsTheNextWrites).
const probeEvery = time.Second

// tryWrite, while writes fail (failsTheNextWrites), makes a write that
// changes nothing (the schema's latest version row rewritten as it is,
// which SQLite still writes to the WAL and syncs) and returns its error,
// or nil once writes succeed again. It makes one at most every probeEvery
// and one at a time, and returns the last write's error meanwhile; it
// waits for its write until ctx is done (a write that waits for another
// program's lock may take the busy timeout, longer than a probe waits).
func (db *DB) tryWrite(ctx context.Context) error {
	db.probeMu.Lock()
	if db.probing || time.Since(db.probed) < probeEvery {
		db.probeMu.Unlock()
		return db.writesFailure()
	}
	db.probing, db.probed = true, time.Now()
	db.probeMu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.write(context.Background(), func(x *wtx) error {
			_, err := x.exec("UPDATE schema_version SET version = version WHERE version = (SELECT max(version) FROM schema_version)")
			return err
		})
		db.probeMu.Lock()
		db.probing = false
		db.probeMu.Unlock()
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return db.writesFailure()
}

// writesFailure is the error of the last write, when it failed for a
// reason that meets the next writes too (failsTheNextWrites).
func (db *DB) writesFailure() error {
	if p := db.writesFail.Load(); p != nil {
		return *p
	}
	return nil
}

// failure is why the store takes no more writes: its database file is no
// longer at its path (checkFiles), or a WAL sync failed.
func (db *DB) failure() error {
	if g := db.gone.Load(); g != nil {
		return g.err
	}
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
//
// It talks to the SQLite driver's connection directly rather than through
// database/sql: the writer is the store's bottleneck, and database/sql's
// work around each statement (finding the statement's connection under its
// locks, converting every argument through reflection-based checks, wrapping
// the result) took about 8% of the writer's time, all of it for a
// connection only the writer uses. The writer reaches the driver connection
// through sql.Conn.Raw, for one group at a time (see DB.onWriter).
type wtx struct {
	db    *DB
	conn  writerConn
	dirty bool                // a statement changed something since the write began
	args  []driver.NamedValue // reused for every statement's arguments
}

// writerConn is what the writer needs of the driver's connection.
type writerConn interface {
	driver.Conn
	driver.ConnPrepareContext
}

// writerStmt is what the writer needs of the driver's prepared statements.
type writerStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

func (x *wtx) stmt(query string) (writerStmt, error) {
	if x.db.stmts == nil {
		return nil, ErrClosed
	}
	if st, ok := x.db.stmts[query]; ok {
		return st, nil
	}
	ds, err := x.conn.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(writerStmt)
	if !ok {
		ds.Close()
		return nil, fmt.Errorf("sqlite: the driver's statement (%T) cannot run with a context", ds)
	}
	x.db.stmts[query] = st
	return st, nil
}

// bind converts a statement's arguments as database/sql would (ints of
// every size to int64, driver.Valuer to its value) into x.args.
func (x *wtx) bind(args []any) ([]driver.NamedValue, error) {
	nv := x.args[:0]
	for i, a := range args {
		var v driver.Value
		switch a := a.(type) {
		case nil, int64, float64, bool, []byte, string, time.Time:
			v = a
		case int:
			v = int64(a)
		default:
			var err error
			if v, err = driver.DefaultParameterConverter.ConvertValue(a); err != nil {
				return nil, fmt.Errorf("sqlite: argument %d: %w", i+1, err)
			}
		}
		nv = append(nv, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	x.args = nv
	return nv, nil
}

func (x *wtx) exec(query string, args ...any) (driver.Result, error) {
	st, err := x.stmt(query)
	if err != nil {
		return nil, err
	}
	nv, err := x.bind(args)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(context.Background(), nv)
	clear(nv) // drop references to the arguments
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

// query runs a query on the writer connection. Its rows must be closed
// before the next statement runs.
func (x *wtx) query(query string, args ...any) (*wrows, error) {
	st, err := x.stmt(query)
	if err != nil {
		return nil, err
	}
	nv, err := x.bind(args)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(context.Background(), nv)
	clear(nv)
	if err != nil {
		return nil, err
	}
	return &wrows{rows: rows, vals: make([]driver.Value, len(rows.Columns()))}, nil
}

// queryRow runs a query for its first row; Scan of the result reports
// sql.ErrNoRows when there is none.
func (x *wtx) queryRow(query string, args ...any) *wrow {
	rows, err := x.query(query, args...)
	if err != nil {
		return &wrow{err: err}
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return &wrow{err: err}
		}
		return &wrow{err: sql.ErrNoRows}
	}
	// A TEXT or BLOB value's bytes are SQLite's until the statement is
	// reset (by Close): they are copied first.
	vals := make([]driver.Value, len(rows.vals))
	for i, v := range rows.vals {
		if b, ok := v.([]byte); ok {
			v = bytes.Clone(b)
		}
		vals[i] = v
	}
	return &wrow{vals: vals}
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

// wrows is a query's rows on the writer connection, read like sql.Rows.
type wrows struct {
	rows driver.Rows
	vals []driver.Value
	err  error
	done bool
}

// Next reads the next row, reporting false at the end or on an error
// (Err tells which).
func (r *wrows) Next() bool {
	if r.done {
		return false
	}
	if err := r.rows.Next(r.vals); err != nil {
		r.done = true
		if err != io.EOF {
			r.err = err
		}
		return false
	}
	return true
}

// Scan copies the current row's columns into dest.
func (r *wrows) Scan(dest ...any) error {
	return scanRow(r.vals, dest)
}

func (r *wrows) Err() error { return r.err }

func (r *wrows) Close() error {
	r.done = true
	return r.rows.Close()
}

// wrow is the result of queryRow.
type wrow struct {
	vals []driver.Value
	err  error
}

func (r *wrow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return scanRow(r.vals, dest)
}

func scanRow(vals []driver.Value, dest []any) error {
	if len(dest) != len(vals) {
		return fmt.Errorf("sqlite: scan: %d destinations for %d columns", len(dest), len(vals))
	}
	for i, d := range dest {
		if err := scanValue(d, vals[i]); err != nil {
			return fmt.Errorf("sqlite: scan column %d: %w", i, err)
		}
	}
	return nil
}

// scanValue stores one column's value in dest, for the destinations the
// writer's queries use: what SQLite returns for an INTEGER, TEXT or BLOB
// column into an integer, a string, bytes (copied), or an sql.Scanner.
func scanValue(dest any, v driver.Value) error {
	switch d := dest.(type) {
	case sql.Scanner:
		return d.Scan(v)
	case *int64:
		if n, ok := v.(int64); ok {
			*d = n
			return nil
		}
	case *int:
		if n, ok := v.(int64); ok {
			*d = int(n)
			return nil
		}
	case *string:
		switch s := v.(type) {
		case string:
			*d = s
			return nil
		case []byte:
			*d = string(s)
			return nil
		}
	case *[]byte:
		switch b := v.(type) {
		case nil:
			*d = nil
			return nil
		case []byte:
			*d = bytes.Clone(b)
			return nil
		case string:
			*d = []byte(b)
			return nil
		}
	}
	return fmt.Errorf("cannot store %T in %T", v, dest)
}
