package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/pgtest"
)

// stoppedNode is a store (a) and another node (b) that stopped in the
// middle of a commit: b sent BEGIN and its updates of runs r and s, and
// never reads their answers (the proxy holds them back), so it never sends
// COMMIT; its session is idle in transaction, holding both rows' locks.
// done receives b's outcome once the test resumes its answers.
func stoppedNode(t *testing.T) (a *DB, proxy *pgtest.Proxy, done <-chan error) {
	t.Helper()
	dsn := newDatabase(t)
	a = open(t, dsn, nil)
	proxy = pgtest.NewProxy(t, dsn)
	b := open(t, withParam(t, proxy.DSN(dsn), "pool_max_conns", "1"), nil)
	ctx := context.Background()
	for _, id := range []string{"r", "s", "w1", "w2"} {
		if err := a.Commit(ctx, createBatch(id)); err != nil {
			t.Fatal(err)
		}
	}
	// The statements are prepared on b's connection: its pipeline then
	// needs no answer before it runs.
	if err := b.Commit(ctx, swfd.Batch{Updates: []swfd.Update{stepUpdate("w1", 2, "b"), stepUpdate("w2", 2, "b")}}); err != nil {
		t.Fatal(err)
	}
	proxy.Stall()
	bDone := make(chan error, 1)
	go func() {
		bDone <- b.Commit(ctx, swfd.Batch{Updates: []swfd.Update{stepUpdate("r", 2, "b"), stepUpdate("s", 2, "b")}})
	}()
	t.Cleanup(proxy.Resume)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND state = 'idle in transaction'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return a, proxy, bDone
		}
		if time.Now().After(deadline) {
			t.Fatal("the stopped node's session never went idle in its transaction")
		}
		time.Sleep(10 * time.Millisecond) // polling the server's state
	}
}

// A node that stops between its statements and its COMMIT (SIGSTOP, a
// paused VM, a machine gone) must not hold the rows it locked for long:
// the server ends its session (idle_in_transaction_session_timeout), so
// another node's commit of the same run goes through within seconds, and
// the stopped node's update, never committed, is not applied when it
// wakes.
func TestStoppedNodeReleasesItsLocks(t *testing.T) {
	t.Parallel()
	a, proxy, bDone := stoppedNode(t)
	ctx := context.Background()
	aDone := make(chan error, 1)
	go func() { aDone <- a.Commit(ctx, swfd.Batch{Updates: []swfd.Update{stepUpdate("r", 2, "a")}}) }()
	select {
	case err := <-aDone:
		if err != nil {
			t.Fatalf("a commit of the locked run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a commit of a run locked by a stopped node still waits after 30s")
	}
	proxy.Resume()
	select {
	case err := <-bDone:
		if err == nil {
			t.Fatal("the stopped node's commit, rolled back by the server, reported success")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the stopped node's commit never returned once it woke")
	}
	if e, err := a.GetExecution(ctx, "dom", "r"); err != nil || e.Version != 2 || string(e.State) != "a" {
		t.Fatalf("run r: version %d state %q, %v; want a's update", e.Version, e.State, err)
	}
	if e, err := a.GetExecution(ctx, "dom", "s"); err != nil || e.Version != 1 {
		t.Fatalf("run s: version %d, %v; want 1, the stopped node's update rolled back", e.Version, err)
	}
}

// A commit with a lock wait (swfd.WithLockWait) that meets a row another
// transaction holds gives up after that wait with swfd.ErrLocked, having
// applied nothing: a one-update commit and a batch with a message alike.
func TestCommitLockWait(t *testing.T) {
	t.Parallel()
	a, _, _ := stoppedNode(t)
	ctx := swfd.WithLockWait(context.Background(), 200*time.Millisecond)
	for _, b := range []swfd.Batch{
		{Updates: []swfd.Update{stepUpdate("r", 2, "a")}},
		{Updates: []swfd.Update{stepUpdate("s", 2, "a")}, AddTransfers: []swfd.Transfer{{RunID: "r", Payload: []byte("m")}}},
	} {
		began := time.Now()
		err := a.Commit(ctx, b)
		if !errors.Is(err, swfd.ErrLocked) {
			t.Fatalf("a commit of a locked run with a lock wait: %v, want ErrLocked", err)
		}
		if waited := time.Since(began); waited > 4*time.Second {
			t.Fatalf("the commit gave up after %s; its lock wait was 200ms", waited)
		}
	}
	for _, id := range []string{"r", "s"} {
		if e, err := a.GetExecution(ctx, "dom", id); err != nil || e.Version != 1 {
			t.Fatalf("run %s: version %d, %v; want 1, nothing applied", id, e.Version, err)
		}
	}
	if trs, err := a.PendingTransfers(ctx, 0); err != nil || len(trs) != 0 {
		t.Fatalf("transfers: %v, %v; want none", trs, err)
	}
}

// With the database no longer answering (connections open, answers held
// back), a commit does not wait for it without end: past the commit
// timeout the store closes the connection and learns from the data,
// through another connection, whether the commit landed, and answers
// accordingly. The first commit landed (the server committed; only its
// answer was held), so it is success; the second, a batch with a message,
// meets connections that have not prepared its statements and so sends
// no COMMIT, or sends it: either way its answer must say what happened.
func TestCommitBoundedWhenDatabaseStalls(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	proxy := pgtest.NewProxy(t, dsn)
	db := open(t, proxy.DSN(dsn), nil)
	db.commitTimeout = time.Second
	ctx := context.Background()
	// The statements are prepared on the connection first: a commit
	// whose statement is still to be prepared waits for that answer
	// before it sends anything that could commit.
	for _, b := range []swfd.Batch{createBatch("r"), createBatch("w"), {Updates: []swfd.Update{stepUpdate("w", 2, "w")}}} {
		if err := db.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(b swfd.Batch) error {
		t.Helper()
		proxy.Stall()
		defer proxy.Resume()
		done := make(chan error, 1)
		go func() { done <- db.Commit(ctx, b) }()
		select {
		case err := <-done:
			return err
		case <-time.After(40 * time.Second):
			t.Fatal("a commit still waits for a database that does not answer after 40s")
		}
		return nil
	}
	if err := commit(swfd.Batch{Updates: []swfd.Update{stepUpdate("r", 2, "x")}}); err != nil {
		t.Fatalf("a commit applied although its answer never came: %v", err)
	}
	if e, err := db.GetExecution(ctx, "dom", "r"); err != nil || e.Version != 2 {
		t.Fatalf("run r: version %d, %v; want 2", e.Version, err)
	}
	err := commit(swfd.Batch{Updates: []swfd.Update{stepUpdate("r", 3, "y")}, AddTransfers: []swfd.Transfer{{RunID: "r", Payload: []byte("m")}}})
	e, gerr := db.GetExecution(ctx, "dom", "r")
	if gerr != nil {
		t.Fatal(gerr)
	}
	switch {
	case err == nil && e.Version != 3:
		t.Fatalf("the batch was answered as applied, but run r is at version %d", e.Version)
	case err != nil && !errors.Is(err, context.DeadlineExceeded):
		t.Fatalf("the batch: %v; want success or a deadline (not applied)", err)
	case err != nil && e.Version != 2:
		t.Fatalf("the batch was answered as not applied (%v), but run r is at version %d", err, e.Version)
	}
}

// A read made with no deadline of its own (a background loop's: due
// timers, pending messages) on a connection whose server stopped answering
// gives up after the store's read timeout, and the next read goes through
// a connection that answers: before, it waited for as long as the
// connection gave no sign (minutes of TCP keepalives for a server gone
// silent, for ever for one that hangs), holding its loop, so that no timer
// fired and no message was delivered after a failover although calls went
// on.
func TestReadWithoutDeadlineBoundedWhenConnectionStalls(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	proxy := pgtest.NewProxy(t, dsn)
	db := open(t, proxy.DSN(dsn), nil)
	db.readTimeout = 500 * time.Millisecond
	ctx := context.Background()
	if err := db.Commit(ctx, createBatch("r")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DueTimers(ctx, time.Now(), 10); err != nil {
		t.Fatal(err)
	}
	proxy.Stall() // the connections open now answer nothing more; new ones do
	defer proxy.Resume()
	done := make(chan error, 1)
	go func() { _, err := db.DueTimers(ctx, time.Now(), 10); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a read on a connection that stopped answering: %v, want a deadline", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a read with no deadline still waits after 20 s on a connection that stopped answering (read timeout 500ms)")
	}
	// Each idle connection open at the stall fails the same way once; a
	// new one answers.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := db.PendingTransfers(ctx, 10)
		if err == nil {
			break
		}
		if !errors.Is(err, context.DeadlineExceeded) || time.Now().After(deadline) {
			t.Fatalf("reads once the stalled connections gave up: %v", err)
		}
	}
}

// A write made outside a call (the retention loop's purge, a background
// meta upsert: their contexts have no deadline) that meets a table another
// session keeps locked (an operator's BEGIN; LOCK TABLE … in psql, left
// open) gives up after the store's read timeout, nothing applied, and the
// next pass succeeds once the lock is gone. Before, it waited for the lock
// for as long as the other session held it: the retention loop, and with
// it every later purge, hung.
func TestWriteOutsideACallBoundedWhenTableLocked(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	db := open(t, dsn, nil)
	db.readTimeout = 300 * time.Millisecond
	ctx := context.Background()
	closed := run("dom", "wf-closed", "closed")
	closed.Open, closed.CloseStatus, closed.CloseTime = false, "COMPLETED", time.UnixMilli(1_700_000_000_000).UTC()
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: closed, Create: true}}}); err != nil {
		t.Fatal(err)
	}
	locker := lockTables(t, dsn, "executions", "meta")
	for _, w := range []struct {
		name string
		do   func() error
	}{
		{"purge", func() error { _, err := db.PurgeClosed(ctx, "dom", time.Now(), 10); return err }},
		{"set meta", func() error { return db.SetMeta(ctx, "k", []byte("v")) }},
		{"set meta max", func() error { return db.SetMetaMax(ctx, "k", []byte("v")) }},
	} {
		done := make(chan error, 1)
		go func() { done <- w.do() }()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, swfd.ErrOutcomeUnknown) {
				t.Errorf("%s on a locked table: %v, want a deadline, nothing applied", w.name, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s on a locked table still waits after 20 s (read timeout 300ms)", w.name)
		}
	}
	locker.unlock()
	if _, err := db.GetExecution(ctx, "dom", "closed"); err != nil {
		t.Fatalf("the closed run once the purge gave up: %v, want it still there", err)
	}
	if _, err := db.Meta(ctx, "k"); !errors.Is(err, swfd.ErrNotFound) {
		t.Fatalf("meta k: %v, want not found (nothing applied)", err)
	}
	if n, err := db.PurgeClosed(ctx, "dom", time.Now(), 10); err != nil || n != 1 {
		t.Fatalf("purge once the lock is gone: %d, %v; want 1", n, err)
	}
}

// tableLock is a session of its own holding tables locked, as an operator's
// psql does after BEGIN; LOCK TABLE ….
type tableLock struct {
	t    *testing.T
	conn *pgx.Conn
	done bool
}

// lockTables locks tables of the database of dsn in ACCESS EXCLUSIVE mode
// (which every read and write of them waits for) from a session of its
// own, until unlock or the test's end.
func lockTables(t *testing.T, dsn string, tables ...string) *tableLock {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	l := &tableLock{t: t, conn: conn}
	t.Cleanup(l.unlock)
	if _, err := conn.Exec(ctx, "BEGIN; LOCK TABLE "+strings.Join(tables, ", ")+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	return l
}

// unlock ends the locking session's transaction, and the session.
func (l *tableLock) unlock() {
	if l.done {
		return
	}
	l.done = true
	ctx := context.Background()
	if _, err := l.conn.Exec(ctx, "ROLLBACK"); err != nil {
		l.t.Error(err)
	}
	l.conn.Close(ctx)
}

// A commit whose statement waits for a table another session keeps locked
// (an operator's BEGIN; LOCK TABLE … left open in psql) ends at its call's
// deadline: the store has the server cancel the statement and reads its
// answer, so the call fails then, with an error that says nothing was
// applied (ServiceUnavailable), and nothing is applied once the lock goes;
// the pool serves at once after, and no session of the store is left
// waiting. Before, a commit of one update (nearly every call) waited for
// the commit timeout (10 s) whatever its call's deadline, closed its
// connection, then waited 10 s more to read back whether it had committed,
// which the lock hid too: 20 s, answered "whether the call was applied is
// unknown". A commit of several updates at once (a group) ends as one.
func TestCommitOnALockedTableEndsAtItsDeadline(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	db := open(t, dsn, nil)
	ctx := context.Background()
	for _, id := range []string{"r", "s", "u"} {
		if err := db.Commit(ctx, createBatch(id)); err != nil {
			t.Fatal(err)
		}
	}
	locker := lockTables(t, dsn, "executions")
	commits := []struct {
		name string
		b    swfd.Batch
	}{
		{"one update", swfd.Batch{Updates: []swfd.Update{stepUpdate("r", 2, "x")}}},
		{"a new run", createBatch("new")},
		{"a batch with a message", swfd.Batch{Updates: []swfd.Update{stepUpdate("s", 2, "x")},
			AddTransfers: []swfd.Transfer{{RunID: "r", Payload: []byte("m")}}}},
	}
	// Two updates at once, the second queued behind the first: a group,
	// or the second sent once the first has failed.
	type result struct {
		name string
		err  error
		took time.Duration
	}
	results := make(chan result, len(commits)+2)
	began := time.Now()
	var cctx context.Context
	var cancel context.CancelFunc
	cctx, cancel = context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancel()
	for _, c := range commits {
		go func() { err := db.Commit(cctx, c.b); results <- result{c.name, err, time.Since(began)} }()
	}
	for _, id := range []string{"s", "u"} {
		go func() {
			err := db.Commit(cctx, swfd.Batch{Updates: []swfd.Update{stepUpdate(id, 2, "y")}})
			results <- result{"update of " + id + " beside others", err, time.Since(began)}
		}()
	}
	for range len(commits) + 2 {
		select {
		case r := <-results:
			if !errors.Is(r.err, swfd.ErrStorageUnavailable) && !errors.Is(r.err, context.DeadlineExceeded) || errors.Is(r.err, swfd.ErrOutcomeUnknown) {
				t.Errorf("%s on a locked table: %v, want nothing applied at its deadline", r.name, r.err)
			}
			if r.took > 5*time.Second {
				t.Errorf("%s on a locked table ended after %s; its deadline was 700ms", r.name, r.took.Round(time.Millisecond))
			}
		case <-time.After(40 * time.Second):
			t.Fatal("a commit on a locked table still waits after 40 s")
		}
	}
	locker.unlock()
	for _, id := range []string{"r", "s", "u"} {
		if e, err := db.GetExecution(ctx, "dom", id); err != nil || e.Version != 1 {
			t.Fatalf("run %s once the lock is gone: version %d, %v; want 1, nothing applied", id, e.Version, err)
		}
	}
	if _, err := db.GetExecution(ctx, "dom", "new"); !errors.Is(err, swfd.ErrNotFound) {
		t.Fatalf("the new run once the lock is gone: %v, want not found", err)
	}
	if trs, err := db.PendingTransfers(ctx, 0); err != nil || len(trs) != 0 {
		t.Fatalf("messages once the lock is gone: %v, %v; want none", trs, err)
	}
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{stepUpdate("r", 2, "z")}}); err != nil {
		t.Fatalf("a commit once the lock is gone: %v", err)
	}
	var waiting int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`).Scan(&waiting); err != nil {
		t.Fatal(err)
	}
	if waiting != 0 {
		t.Fatalf("%d sessions of the database still busy once the lock is gone, want none", waiting)
	}
}
