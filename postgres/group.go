package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/swfd/swfd"
)

// Group commit. Most commits are one step of one run: one statement (see
// updateStatement) that is its own transaction. What such a transaction
// costs the database is mostly its commit (the commit record, the WAL
// flush and its fsync, the snapshot and lock bookkeeping), not its
// statement. So the driver gathers the one-update commits that arrive while
// others are being written and sends them as one transaction:
//
//	BEGIN; update₁; update₂; …; COMMIT
//
// in one pipeline (one round trip). A few committers (commitGroups) work at
// a time, each taking everything queued when it becomes free: under light
// load a commit goes out at once, alone, as before; under heavy load the
// groups grow with the queue. Measured on the project's machine, a
// transaction of four updates costs PostgreSQL about 40% less CPU per update
// than four transactions of one (docs/postgres.md gives the figures).
//
// Each update's statement changes nothing unless its run is at the expected
// version, and then reports no row instead of failing, so a stale update
// does not disturb the others of its group: its caller gets ErrConflict (or
// ErrNotFound) and the rest commit. A statement that fails (a second open
// run of a workflowId, a deadlock) aborts the group's transaction: its
// caller gets its error, and the other updates, of which nothing was
// applied, are sent again as a new group; but one refused for the state of
// the server (serverRefused: a statement_timeout, a server taking no
// writes, a resource run out) fails every update of the group with its
// error at once, since each would meet it in turn, at a statement (and,
// for a timeout, a wait) per update. A wait for a row another session
// holds is the one update's: under a statement_timeout the group's
// transaction sets a lock_timeout shorter than it and than the group's
// time left, which ends such a wait first (groupLockWait). Updates sent again keep their first group's
// deadline. A COMMIT that fails fails every update of the group. A connection that fails once the group may have
// reached the server is settled as a lone commit's (outcome.go): if the
// group committed, each update is told its own outcome; if not, the group
// is written once more.
//
// Notifications (see Notifier.Notify) go through the same queue: sent with
// a group they cost no transaction of their own, and they are delivered
// when it commits.
//
// Within a group, updates that create runs come first, ordered by workflow,
// then the others, ordered by run id (keeping the arrival order of updates
// of one run), then the notifications. Every group takes its locks in that one order, so that
// groups on different nodes cannot deadlock on each other.

// commitGroups is how many group transactions one DB may have in flight at
// a time. The first committer takes whatever is queued; committer k only
// starts a group while more than k×spillOver updates are waiting, that is
// when the committers before it cannot keep up. One transaction at a time
// makes the largest groups, which is what a database shared by several
// nodes needs most; more let a lone node's commits wait less when it is
// busy. maxGroup bounds the updates in one group. A group, from taking its
// connection to the answer of its COMMIT, has the store's commit timeout
// (see defaultCommitTimeout).
const (
	commitGroups = 3
	spillOver    = 4
	maxGroup     = 32
)

// queuedCommit is one update (or notification) waiting for its group.
type queuedCommit struct {
	u     *swfd.Update // nil for a notification
	st    step
	query string
	args  []any
	key   string     // the group order
	taken bool       // a committer has it (guarded by committer.mu)
	done  chan error // receives the outcome, once
	// deadline is when its time to commit ends: the store's commit
	// timeout from when a group first took it, or its caller's deadline
	// if that comes first (callerDeadline), kept when it is sent again in
	// another group (set by writeGroup).
	deadline, callerDeadline time.Time
}

// committer gathers queued updates into groups.
type committer struct {
	db     *DB
	mu     sync.Mutex
	cond   *sync.Cond
	queue  []*queuedCommit
	closed bool
	wg     sync.WaitGroup
	// transactions counts the groups sent (retries included), for tests.
	transactions atomic.Int64
	// observe, if set, is told how many updates each group carried.
	observe atomic.Pointer[func(updates int)]
}

func newCommitter(db *DB) *committer {
	c := &committer{db: db}
	c.cond = sync.NewCond(&c.mu)
	for k := range commitGroups {
		c.wg.Add(1)
		go c.loop(k * spillOver)
	}
	return c
}

// close lets the committers finish what is queued and waits for them.
func (c *committer) close() {
	c.mu.Lock()
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	c.wg.Wait()
}

// commit queues one update and waits for its outcome.
func (c *committer) commit(ctx context.Context, u *swfd.Update) error {
	st, query, args := updateStatement(u)
	q := &queuedCommit{u: u, st: st, query: query, args: args}
	if u.Create {
		q.key = "0" + u.Execution.Domain + "\x00" + u.Execution.WorkflowID
	} else {
		q.key = "1" + u.Execution.RunID
	}
	return c.send(ctx, q)
}

// notify queues a notification: it rides along with the next group, if
// one is going out anyway, instead of costing a transaction of its own.
func (c *committer) notify(ctx context.Context, channel, payload string) error {
	return c.send(ctx, &queuedCommit{st: step{what: "notify " + channel}, query: "SELECT pg_notify($1, $2)",
		args: []any{channel, payload}, key: "2"})
}

// send queues q and waits for its outcome. If ctx ends while q is still
// queued it is withdrawn (nothing was sent); once a committer has taken
// it, its outcome is awaited whatever ctx does; ctx's deadline, though,
// bounds q's time to commit (writeGroup), and past it the server cancels
// q's statement (cancel.go).
func (c *committer) send(ctx context.Context, q *queuedCommit) error {
	q.done = make(chan error, 1)
	q.callerDeadline, _ = ctx.Deadline()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.queue = append(c.queue, q)
	if len(c.queue) == 1 || len(c.queue)%spillOver == 1 {
		// Wake them all: which ones may take the queue depends on its
		// length.
		c.cond.Broadcast()
	}
	c.mu.Unlock()
	select {
	case err := <-q.done:
		return err
	case <-ctx.Done():
	}
	c.mu.Lock()
	if !q.taken {
		if i := slices.Index(c.queue, q); i >= 0 {
			c.queue = slices.Delete(c.queue, i, i+1)
		}
		c.mu.Unlock()
		return fmt.Errorf("postgres: %s: %w", q.st.what, ctx.Err())
	}
	c.mu.Unlock()
	return <-q.done
}

// loop is one committer: it takes the queue whenever more than waiting
// updates are queued (or any, once the store is closing).
func (c *committer) loop(waiting int) {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		for (len(c.queue) <= waiting || len(c.queue) == 0) && !c.closed {
			c.cond.Wait()
		}
		if len(c.queue) == 0 {
			c.mu.Unlock()
			return
		}
		n := min(len(c.queue), maxGroup)
		group := slices.Clone(c.queue[:n])
		c.queue = slices.Delete(c.queue, 0, n)
		for _, q := range group {
			q.taken = true
		}
		c.mu.Unlock()
		for len(group) > 0 {
			c.transactions.Add(1)
			if fn := c.observe.Load(); fn != nil {
				updates := 0
				for _, q := range group {
					if q.u != nil {
						updates++
					}
				}
				if updates > 0 {
					(*fn)(updates)
				}
			}
			group = c.db.commitGroup(group)
		}
	}
}

// commitGroup writes a group and tells each of its updates the outcome,
// except those to be sent again (returned) because another update's
// failure aborted the transaction. If the connection fails, the group is
// written once more when nothing of it was applied (nothing was sent, or
// settle finds that it did not commit); if it committed, each update is
// told its own outcome.
func (db *DB) commitGroup(group []*queuedCommit) (again []*queuedCommit) {
	for attempt := 0; ; attempt++ {
		again, l, seen := db.writeGroup(group)
		if l == nil {
			return again
		}
		// writeGroup sorted a group of several: seen is in its order.
		cs := make([]checked, 0, len(group))
		for i, q := range group {
			if q.u != nil {
				cs = append(cs, checked{u: q.u, matched: i < len(seen) && seen[i] == seenMatched})
			}
		}
		committed, err := false, error(nil)
		switch {
		case !l.sent:
			db.logger.Debug("postgres: a commit's connection failed before anything was sent", "err", l.err)
			db.prune(context.Background())
		case len(cs) == 0:
			// Notifications alone: a second wake-up does no harm.
			db.prune(context.Background())
		default:
			committed, err = db.settle(l, cs)
		}
		switch {
		case err != nil:
			for _, q := range group {
				q.done <- err
			}
			return nil
		case committed:
			db.tellCommitted(group, seen, cs)
			return nil
		case l.noAnswer:
			for _, q := range group {
				q.done <- notApplied(l)
			}
			return nil
		case attempt == 0:
			db.logger.Info("postgres: a commit's connection failed and nothing of it was applied; trying once more", "err", l.err)
			continue
		}
		for _, q := range group {
			q.done <- fmt.Errorf("postgres: commit: %w", l.err)
		}
		return nil
	}
}

// What a group's statement was seen to do before its connection failed.
const (
	seenNothing = iota
	seenMatched
	seenNotMatched
)

// tellCommitted tells the updates of a group that committed although its
// connection failed their outcomes: applied if seen to match or if their
// data is there, else (stale or missing run) what missingRuns says, or the
// outcome unknown when their data cannot tell.
func (db *DB) tellCommitted(group []*queuedCommit, seen []int, cs []checked) {
	ctx, cancel := context.WithTimeout(context.Background(), db.settleTimeout)
	defer cancel()
	var notMatched []*queuedCommit
	unknown := map[*queuedCommit]error{}
	k := 0
	for i, q := range group {
		if q.u == nil {
			continue
		}
		c := &cs[k]
		k++
		switch {
		case i < len(seen) && seen[i] == seenMatched:
			continue
		case i < len(seen) && seen[i] == seenNotMatched:
			notMatched = append(notMatched, q)
			continue
		}
		if c.mark == markUnknown {
			// settle stopped before this one.
			if err := db.look(ctx, c); err != nil {
				// %v: a deadline of the look must not read as the
				// commit's (see notApplied).
				unknown[q] = fmt.Errorf("postgres: commit: run %s: %w: %v", q.u.Execution.RunID, errOutcomeUnknown, err)
				continue
			}
		}
		switch c.mark {
		case markApplied:
		case markUnknown:
			db.logger.Error("postgres: commit outcome unknown: its group committed after its connection failed, and whether this update matched its run cannot be told",
				"run", q.u.Execution.RunID, "version", q.u.Execution.Version)
			unknown[q] = fmt.Errorf("postgres: commit: run %s: %w", q.u.Execution.RunID, errOutcomeUnknown)
		default:
			notMatched = append(notMatched, q)
		}
	}
	missing := db.missingRuns(ctx, db.pool, notMatched)
	for _, q := range group {
		switch {
		case unknown[q] != nil:
			q.done <- unknown[q]
		case !slices.Contains(notMatched, q):
			q.done <- nil
		default:
			q.done <- missing.tell(q)
		}
	}
}

// writeGroup writes a group as commitGroup, once. If its connection fails
// it tells no update and returns the failure (l) and what each statement,
// in the group's order, was seen to do before it.
func (db *DB) writeGroup(group []*queuedCommit) (again []*queuedCommit, l *lost, seen []int) {
	// The group's one deadline: a database that does not answer fails
	// it, not applied if nothing was sent yet, else as a lost connection.
	// Updates sent again (another's statement failed, or the connection
	// did before anything was applied) keep the deadline of their first
	// group: a group whose updates meet held rows one after another (each
	// failing alone for its lock wait, see groupLockWait) ends within the
	// commit timeout, not after a wait per update.
	//
	// An update's deadline is its caller's too, when that comes first:
	// the group's statements are cancelled on the server then (cancel.go),
	// nothing of them applied, and the updates whose time is left go
	// again (cancelledGroup).
	deadline := time.Now().Add(db.commitTimeout)
	first := deadline
	for _, q := range group {
		if q.deadline.IsZero() {
			q.deadline = first
			if !q.callerDeadline.IsZero() && q.callerDeadline.Before(first) {
				q.deadline = q.callerDeadline
			}
		}
		if q.deadline.Before(deadline) {
			deadline = q.deadline
		}
	}
	if !time.Now().Before(deadline) {
		for _, q := range group {
			q.done <- fmt.Errorf("postgres: commit: nothing sent: %w", context.DeadlineExceeded)
		}
		return nil, nil, nil
	}
	gctx, cancel := context.WithDeadline(serverCancel(context.Background()), deadline)
	defer cancel()
	conn, err := db.pool.Acquire(gctx)
	if err != nil {
		for _, q := range group {
			q.done <- fmt.Errorf("postgres: commit: %w", err)
		}
		return nil, nil, nil
	}
	// Release destroys a connection left inside a transaction or broken.
	defer conn.Release()
	// failed reports whether err is the connection's failure, or the
	// deadline without an answer of the server's, once something may have
	// been sent; lose describes it.
	failed := func(err error) bool { return connFailed(err) || err != nil && gctx.Err() != nil && !answered(err) }
	lose := func(err error) *lost {
		if gctx.Err() != nil {
			return db.unanswered(conn.Conn())
		}
		return lostConn(conn.Conn(), err)
	}

	if len(group) == 1 {
		q := group[0]
		tag, err := conn.Exec(gctx, q.query, q.args...)
		if failed(err) {
			return nil, lose(err), nil
		}
		if cancelledAtDeadline(gctx, err) {
			q.done <- cancelledError(q.st.what, err)
			return nil, nil, nil
		}
		if f := q.st.judge(tag, err); f != nil {
			q.done <- db.abort(conn.Conn(), f)
			return nil, nil, nil
		}
		q.done <- nil
		return nil, nil, nil
	}

	slices.SortStableFunc(group, func(a, b *queuedCommit) int { return cmp.Compare(a.key, b.key) })
	pb := &pgx.Batch{}
	pb.Queue("BEGIN")
	timeouts, _ := conn.Conn().PgConn().CustomData()[groupLockKey].(sessionTimeouts)
	lockWait, waitSet := groupLockWait(timeouts, time.Until(deadline))
	if waitSet {
		pb.Queue("SELECT set_config('lock_timeout', $1, true)", strconv.FormatInt(lockWait, 10))
	}
	for _, q := range group {
		pb.Queue(q.query, q.args...)
	}
	pb.Queue("COMMIT")
	br := conn.SendBatch(gctx, pb)
	var notMatched []*queuedCommit
	// fail handles a failure of the connection once the results of the
	// first n statements were read: the whole pipeline, its COMMIT too,
	// may have reached the server.
	fail := func(err error, n int) ([]*queuedCommit, *lost, []int) {
		br.Close()
		seen := make([]int, n)
		for i, q := range group[:n] {
			seen[i] = seenMatched
			if slices.Contains(notMatched, q) {
				seen[i] = seenNotMatched
			}
		}
		return nil, lose(err), seen
	}
	// tell fails every update of the group with err.
	tell := func(err error) ([]*queuedCommit, *lost, []int) {
		br.Close()
		for _, q := range group {
			q.done <- fmt.Errorf("postgres: commit: %w", err)
		}
		return nil, nil, nil
	}
	setup := 1 // BEGIN, and the lock wait's statement if queued
	if waitSet {
		setup++
	}
	// cancelled ends a group whose statement the server cancelled at the
	// group's deadline: nothing of it committed.
	cancelled := func(err error) ([]*queuedCommit, *lost, []int) {
		br.Close()
		if conn.Conn().PgConn().TxStatus() != 'I' {
			if rerr := db.rollback(conn.Conn()); rerr != nil {
				db.logger.Debug("postgres: rollback failed", "err", rerr)
			}
		}
		return db.cancelledGroup(group, err), nil, nil
	}
	for range setup {
		if _, err := br.Exec(); failed(err) {
			return fail(err, 0)
		} else if cancelledAtDeadline(gctx, err) {
			return cancelled(err)
		} else if err != nil {
			return tell(err)
		}
	}
	for i, q := range group {
		tag, err := br.Exec()
		var pe *pgconn.PgError
		if failed(err) {
			return fail(err, i) // the connection, not the statement
		}
		if err != nil && !errors.As(err, &pe) {
			return tell(err)
		}
		if cancelledAtDeadline(gctx, err) {
			return cancelled(err)
		}
		if serverRefused(err) {
			// The server's state, not this update's: every other
			// update would meet it in turn.
			br.Close()
			if conn.Conn().PgConn().TxStatus() != 'I' {
				if rerr := db.rollback(conn.Conn()); rerr != nil {
					db.logger.Debug("postgres: rollback failed", "err", rerr)
				}
			}
			return tell(err)
		}
		f := q.st.judge(tag, err)
		switch {
		case f == nil:
		case f.notMatched != nil:
			notMatched = append(notMatched, q)
		default:
			// The statement failed and the transaction with it: this
			// update has its answer, the others go again.
			br.Close()
			if conn.Conn().PgConn().TxStatus() != 'I' {
				if rerr := db.rollback(conn.Conn()); rerr != nil {
					db.logger.Debug("postgres: rollback failed", "err", rerr)
				}
			}
			q.done <- f.err
			return append(slices.Clone(group[:i]), group[i+1:]...), nil, nil
		}
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	switch {
	case failed(err):
		return fail(err, len(group))
	case cancelledAtDeadline(gctx, err):
		// An ERROR answered to COMMIT: it rolled back.
		return db.cancelledGroup(group, err), nil, nil
	case err != nil && isRetryable(err):
		err = fmt.Errorf("postgres: commit: %w: %w", swfd.ErrConflict, err)
	case err != nil:
		err = fmt.Errorf("postgres: commit: %w", err)
	case tag.String() != "COMMIT":
		err = fmt.Errorf("postgres: commit: transaction rolled back (%s)", tag)
	}
	if err != nil {
		for _, q := range group {
			q.done <- err
		}
		return nil, nil, nil
	}
	missing := db.missingRuns(gctx, conn.Conn(), notMatched)
	for _, q := range group {
		if !slices.Contains(notMatched, q) {
			q.done <- nil
		} else {
			q.done <- missing.tell(q)
		}
	}
	return nil, nil, nil
}

// cancelledGroup answers the updates of a group whose statements the
// server cancelled at the group's deadline (nothing of it committed): those
// whose own deadline has come fail with cancelledError, and the others,
// whose callers have time left, are returned to go again.
func (db *DB) cancelledGroup(group []*queuedCommit, err error) (again []*queuedCommit) {
	now := time.Now()
	for _, q := range group {
		if now.Before(q.deadline) {
			again = append(again, q)
			continue
		}
		q.done <- cancelledError(q.st.what, err)
	}
	return again
}

// missing is which runs of updates that matched no row do not exist.
type missing struct {
	runs map[string]bool
	err  error
}

// querier is a connection or the pool.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func (db *DB) missingRuns(ctx context.Context, conn querier, qs []*queuedCommit) missing {
	if len(qs) == 0 {
		return missing{}
	}
	m := missing{runs: map[string]bool{}}
	ids := make([]string, len(qs))
	for i, q := range qs {
		ids[i] = q.u.Execution.RunID
		m.runs[ids[i]] = true
	}
	rows, err := conn.Query(ctx, "SELECT run_id FROM executions WHERE run_id = ANY($1::text[])", ids)
	if err == nil {
		var found []string
		found, err = pgx.CollectRows(rows, pgx.RowTo[string])
		for _, id := range found {
			delete(m.runs, id)
		}
	}
	if err != nil {
		m.err = fmt.Errorf("postgres: commit: %w", err)
	}
	return m
}

// tell is the error of an update that matched no row.
func (m missing) tell(q *queuedCommit) error {
	switch {
	case m.err != nil:
		return m.err
	case m.runs[q.u.Execution.RunID]:
		return fmt.Errorf("postgres: commit: run %s: %w", q.u.Execution.RunID, swfd.ErrNotFound)
	}
	return fmt.Errorf("postgres: commit: run %s is not at version %d: %w",
		q.u.Execution.RunID, q.u.Execution.Version-1, swfd.ErrConflict)
}

// groupLockKey keys, in a pooled connection's CustomData, its session's
// statement_timeout and lock_timeout (sessionTimeouts), when it has a
// statement_timeout; absent, its group transactions set no lock wait (see
// learnGroupLockWait).
const groupLockKey = "swfd.groupLockWait"

// sessionTimeouts are a session's statement_timeout and lock_timeout, in
// milliseconds (0 for none).
type sessionTimeouts struct{ statement, lock int64 }

// learnGroupLockWait reads a new pooled connection's statement_timeout and
// lock_timeout (set on the role, the database or the connection string)
// and, when its session has a statement_timeout, records both for the
// group transactions it will carry, which then set a lock wait of their
// own (groupLockWait). A group's statement that waits for a row another
// session holds (a stopped node's transaction, an operator's, a run held by
// another node) is then ended by the lock wait, which is that one update's
// (swfd.ErrLocked; the group's other updates are sent again), before the
// statement timeout, which says nothing of which update waited and so fails
// the whole group (serverRefused): calls that touched only other runs
// failed with the one whose run was held. A statement timeout met for a
// slow server, not a lock, still fails the group at once. A lone update
// and any other transaction keep the session's settings: their wait is
// theirs alone.
func learnGroupLockWait(ctx context.Context, conn *pgx.Conn) error {
	var st, lt int64
	err := conn.QueryRow(ctx, `SELECT (SELECT setting::int8 FROM pg_settings WHERE name = 'statement_timeout'),
		(SELECT setting::int8 FROM pg_settings WHERE name = 'lock_timeout')`).Scan(&st, &lt)
	if err != nil {
		return fmt.Errorf("postgres: read the session's timeouts: %w", err)
	}
	if st > 0 {
		conn.PgConn().CustomData()[groupLockKey] = sessionTimeouts{statement: st, lock: lt}
	}
	return nil
}

// groupLockWait is the lock wait, in milliseconds, that a group
// transaction sets for itself on a session with timeouts s and left
// before the group's deadline (its commit timeout), and whether it sets
// one. Under a statement_timeout the wait is a little shorter than it (a
// tenth less, at most 50 ms less), so that a wait for a held row ends as
// the lock wait first; and it is a tenth shorter than the time left, so
// that it ends before the group's deadline too, with time for the other
// updates to be sent again and commit. Without that second bound a
// statement_timeout longer than the commit timeout (30 s against 10 s)
// gave a lock wait the deadline cut short, and the deadline, which is the
// group's, failed every update of it. A session without a
// statement_timeout sets nothing, nor one whose own lock_timeout is
// already as short.
func groupLockWait(s sessionTimeouts, left time.Duration) (int64, bool) {
	if s.statement <= 0 {
		return 0, false
	}
	leftMs := left.Milliseconds()
	wait := max(min(s.statement-min(50, s.statement/10), leftMs-leftMs/10), 1)
	if s.lock > 0 && s.lock <= wait {
		return 0, false
	}
	return wait, true
}
