package postgres

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/internal/pgtest"
)

// A node (its news listener) holds the nodes' lock for as long as it
// listens, so Exclude fails with ErrServed, counting it; once it stops,
// Exclude takes the lock, and until its release Open fails with
// ErrExcluded: no node starts on a database swfd migrate copies. A
// listener of another channel is no node.
func TestExcludeNodes(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	db, err := Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	lctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Listen(lctx, "other", func(string) {})
	}()
	waitListening(t, db)
	_, release, err := db.Exclude(ctx)
	if err != nil {
		t.Fatalf("Exclude with only a listener of another channel: %v", err)
	}
	release()
	stop()
	<-done

	nctx, stopNode := context.WithCancel(ctx)
	nodeDone := make(chan struct{})
	go func() {
		defer close(nodeDone)
		db.Broadcaster().Subscribe(nctx, func([]byte) {})
	}()
	waitListening(t, db)
	if n, err := db.LiveNodes(ctx); n != 1 || err != nil {
		t.Errorf("LiveNodes with one node listening: %d, %v", n, err)
	}
	if _, _, err := db.Exclude(ctx); !errors.Is(err, ErrServed) {
		t.Errorf("Exclude while a node listens: %v, want ErrServed", err)
	}
	stopNode()
	<-nodeDone

	_, release, err = db.Exclude(ctx)
	if err != nil {
		t.Fatalf("Exclude once the node stopped: %v", err)
	}
	if other, err := Open(ctx, dsn, nil); !errors.Is(err, ErrExcluded) {
		if err == nil {
			other.Close()
		}
		t.Errorf("Open while excluded: %v, want ErrExcluded", err)
	}
	release()
	other, err := Open(ctx, dsn, nil)
	if err != nil {
		t.Fatalf("Open once the exclusion is released: %v", err)
	}
	other.Close()
}

// waitListening waits until a Listen call of db has begun and connected.
func waitListening(t *testing.T, db *DB) {
	t.Helper()
	for l, _ := db.Notifier().Listening(); l == 0; l, _ = db.Notifier().Listening() {
		runtime.Gosched() // until Listen has begun
	}
	if err := db.Notifier().WaitConnected(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A node whose listener loses its connection loses the serving nodes' lock
// with it, and swfd migrate may take the lock before the listener takes it
// again: the node then refuses every call (an error wrapping ErrExcluded
// and swfd.ErrStorageUnavailable) from the listener's return until migrate
// releases the lock, rather than write to a database being copied.
func TestNodeRefusesCallsWhileExcludedAfterReconnect(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	db := open(t, dsn, nil)
	migrator := open(t, dsn, nil)
	excluded := make(chan func(), 1)
	var tries atomic.Int32
	db.beforeNodeLock = func() {
		if tries.Add(1) != 2 {
			return
		}
		// The listener reconnects: swfd migrate got in first.
		_, release, err := migrator.Exclude(ctx)
		if err != nil {
			t.Errorf("Exclude while the node's listener was away: %v", err)
			release = func() {}
		}
		excluded <- release
	}
	nctx, stopNode := context.WithCancel(ctx)
	nodeDone := make(chan struct{})
	go func() {
		defer close(nodeDone)
		db.Broadcaster().Subscribe(nctx, func([]byte) {})
	}()
	defer func() { stopNode(); <-nodeDone }()
	waitListening(t, db)
	domain := func(name string) swfd.Domain {
		return swfd.Domain{Name: name, Status: swfd.StatusRegistered, RetentionDays: "1", Created: time.UnixMilli(1_700_000_000_000)}
	}
	if err := db.CreateDomain(ctx, domain("before"), 0); err != nil {
		t.Fatal(err)
	}

	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var killed int
	if err := admin.QueryRow(ctx, terminateNodeListeners, int64(servingLockKey)).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listener connections (%v), want 1", killed, err)
	}
	var release func()
	select {
	case release = <-excluded:
	case <-time.After(30 * time.Second):
		t.Fatal("the listener never reconnected")
	}
	// The listener finds the lock taken and the node refuses calls.
	deadline := time.Now().Add(30 * time.Second)
	for !errors.Is(db.Ping(ctx), ErrExcluded) {
		if time.Now().After(deadline) {
			t.Fatalf("the node still answers while swfd migrate holds the lock: Ping = %v", db.Ping(ctx))
		}
		time.Sleep(10 * time.Millisecond)
	}
	err = db.CreateDomain(ctx, domain("during"), 0)
	if !errors.Is(err, ErrExcluded) || !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Errorf("a write while swfd migrate holds the lock: %v, want an error wrapping ErrExcluded and swfd.ErrStorageUnavailable", err)
	}
	release()
	if err := db.Notifier().WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateDomain(ctx, domain("after"), 0); err != nil {
		t.Fatalf("a write once the node holds the lock again: %v", err)
	}
	if _, err := db.GetDomain(ctx, "during"); !errors.Is(err, swfd.ErrNotFound) {
		t.Errorf("the refused write's domain: %v, want ErrNotFound", err)
	}
}

// terminateNodeListeners ends the sessions that hold the serving nodes'
// lock shared, the node listeners' (found by the lock, not by their last
// statement, which may be another once the lock is held), and counts them.
const terminateNodeListeners = `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
	WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND classid = $1 AND objsubid = 2 AND mode = 'ShareLock' AND granted AND pid <> pg_backend_pid()`

// terminateNodeListener ends the session of db's node listener (the one
// that holds the serving nodes' lock), as an administrator or a network
// cut would.
func terminateNodeListener(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var killed int
	if err := admin.QueryRow(ctx, terminateNodeListeners, int64(servingLockKey)).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listener connections (%v), want 1", killed, err)
	}
}

// From the moment a node's listener loses its connection, and with it the
// serving nodes' lock, until it has taken the lock again, swfd migrate may
// take the lock and copy: no call of the node reaches the database
// meanwhile. A call waits for the listener: it is served once the lock is
// taken again; it is refused (an error wrapping ErrExcluded and
// swfd.ErrStorageUnavailable, a 503) if the listener finds swfd migrate
// holding the lock, or after the store's lock wait. Reads too. Ping still
// reaches the database (its success wakes a listener waiting to
// reconnect), and the refused writes are not in the database. The
// listener tries to reconnect at once, not after its backoff's first wait.
// (Before, the node served throughout: a write was accepted while migrate
// held the lock.)
func TestNodeRefusesCallsUntilItRetakesTheLock(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	var logBuf logbuf.Buffer
	db := open(t, dsn, slog.New(slog.NewTextHandler(&logBuf, nil)))
	migrator := open(t, dsn, nil)
	// Each reconnection stops before it takes the lock, until the test
	// lets it go on: the node holds no lock meanwhile.
	inWindow, proceed := make(chan struct{}), make(chan struct{})
	nctx, stopNode := context.WithCancel(ctx)
	var tries atomic.Int32
	db.beforeNodeLock = func() {
		if tries.Add(1) == 1 {
			return
		}
		select {
		case inWindow <- struct{}{}:
		case <-nctx.Done():
			return
		}
		select {
		case <-proceed:
		case <-nctx.Done():
		}
	}
	nodeDone := make(chan struct{})
	go func() {
		defer close(nodeDone)
		db.Broadcaster().Subscribe(nctx, func([]byte) {})
	}()
	defer func() { stopNode(); <-nodeDone }()
	waitListening(t, db)
	domain := func(name string) swfd.Domain {
		return swfd.Domain{Name: name, Status: swfd.StatusRegistered, RetentionDays: "1", Created: time.UnixMilli(1_700_000_000_000)}
	}
	if err := db.CreateDomain(ctx, domain("before"), 0); err != nil {
		t.Fatal(err)
	}
	refused := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrExcluded) || !errors.Is(err, swfd.ErrStorageUnavailable) {
			t.Errorf("%s: %v, want an error wrapping ErrExcluded and swfd.ErrStorageUnavailable", what, err)
		}
	}
	reconnecting := func() {
		t.Helper()
		terminateNodeListener(t, dsn)
		select {
		case <-inWindow:
		case <-time.After(30 * time.Second):
			t.Fatal("the listener never reconnected")
		}
	}
	// waiting makes a write in a goroutine and returns its outcome once
	// the write waits for the lock.
	waiting := func(name string) <-chan error {
		t.Helper()
		out := make(chan error, 1)
		go func() { out <- db.CreateDomain(ctx, domain(name), 0) }()
		for db.lockWaiters.Load() == 0 {
			select {
			case err := <-out:
				t.Fatalf("the write in the window did not wait for the lock: %v", err)
			default:
				runtime.Gosched()
			}
		}
		return out
	}

	// The lock wait passes: refused.
	reconnecting()
	if log := logBuf.String(); !strings.Contains(log, "listener disconnected; reconnecting") || !strings.Contains(log, "retry_in=0s") {
		t.Errorf("the listener did not try to reconnect at once; log:\n%s", log)
	}
	_, release, err := migrator.Exclude(ctx)
	if err != nil {
		t.Fatalf("Exclude while the node's listener was away: %v", err)
	}
	db.lockWait.Store(int64(time.Millisecond))
	refused("a write while the node holds no lock", db.CreateDomain(ctx, domain("during"), 0))
	_, err = db.GetDomain(ctx, "before")
	refused("a read while the node holds no lock", err)
	if err := db.Ping(ctx); err != nil {
		t.Errorf("Ping while the node holds no lock: %v, want nil (the database answers)", err)
	}

	// The listener finds swfd migrate holding the lock: the waiting
	// write is refused.
	db.lockWait.Store(int64(time.Minute))
	out := waiting("found")
	proceed <- struct{}{}
	refused("a write waiting for the lock when the listener finds swfd migrate holding it", <-out)
	release()
	if err := db.Notifier().WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateDomain(ctx, domain("after"), 0); err != nil {
		t.Fatalf("a write once the node holds the lock again: %v", err)
	}

	// The listener takes the lock again: the waiting write is served.
	reconnecting()
	out = waiting("waited")
	proceed <- struct{}{}
	if err := <-out; err != nil {
		t.Errorf("a write waiting for the lock when the listener takes it again: %v", err)
	}
	for _, name := range []string{"during", "found"} {
		if _, err := db.GetDomain(ctx, name); !errors.Is(err, swfd.ErrNotFound) {
			t.Errorf("the refused write's domain %s: %v, want ErrNotFound", name, err)
		}
	}
}

// A commit whose connection fails after it may have committed learns from
// the data whether it did (settle), by reads the store makes even while it
// refuses calls for want of the serving nodes' lock: the failure that cut
// the commit's connection may have cut the node's listener too. (Refused,
// the commit that landed would be answered as one whose outcome is
// unknown.)
func TestCommitOutcomeLearntWhileTheLockIsLost(t *testing.T) {
	dsn := newDatabase(t)
	db, p := proxied(t, dsn, nil)
	ctx := context.Background()
	for _, id := range []string{"warm", "a"} {
		if err := db.Commit(ctx, createBatch(id)); err != nil {
			t.Fatal(err)
		}
	}
	p.arm(1, func(toServer bool, typ byte, body []byte) bool {
		if !commitAnswer(toServer, typ, body) {
			return false
		}
		// The node's listener lost its connection as the commit's
		// answer was lost.
		db.nodeLost.Add(1)
		return true
	})
	err := db.Commit(ctx, createBatch("one"))
	lost := db.lockLost()
	db.nodeLost.Add(-1)
	if p.cuts.Load() != 1 || !lost {
		t.Fatalf("the proxy cut %d connections (want 1); the lock lost: %v", p.cuts.Load(), lost)
	}
	if err != nil {
		t.Fatalf("a commit whose answer was lost after it committed, while the node had lost its lock: %v", err)
	}
	if _, err := db.GetExecution(ctx, "dom", "one"); err != nil {
		t.Fatalf("the committed run: %v", err)
	}
}

// An exclusion released is gone when its release returns: a node started
// right after swfd migrate has finished finds the database free (the
// server drops a session's lock only as its process exits, when it was
// closed with the lock held; TestExcludeNodes's Open found it held so in a
// CI run).
func TestReleasedExclusionIsGone(t *testing.T) {
	dsn := newDatabase(t)
	db := open(t, dsn, nil)
	ctx := context.Background()
	for i := range 40 {
		_, release, err := db.Exclude(ctx)
		if err != nil {
			t.Fatalf("round %d: Exclude: %v", i, err)
		}
		release()
		if servingLocksHeld(t, db) != 0 {
			t.Fatalf("round %d: the exclusion is still held once its release has returned", i)
		}
	}
}

// A node that has stopped listening no longer holds the serving nodes'
// lock once its listener has returned: swfd migrate started right after
// the nodes stop finds the database free (the server drops a session's lock
// only as its process exits, which can be after the client has closed the
// connection).
func TestStoppedListenerLeavesNoServingLock(t *testing.T) {
	dsn := newDatabase(t)
	db := open(t, dsn, nil)
	ctx := context.Background()
	for i := range 40 {
		nctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			db.Broadcaster().Subscribe(nctx, func([]byte) {})
		}()
		waitListening(t, db)
		stop()
		<-done
		if servingLocksHeld(t, db) != 0 {
			t.Fatalf("round %d: a stopped node still holds the serving lock once its listener has returned", i)
		}
	}
}

// servingLocksHeld counts the serving nodes' locks (shared or exclusive)
// granted in db's database.
func servingLocksHeld(t *testing.T, db *DB) int {
	t.Helper()
	var held int
	if err := db.pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND granted"+
		" AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", int64(servingLockKey)).Scan(&held); err != nil {
		t.Fatal(err)
	}
	return held
}

// TestExclusionNoticesItsLoss: swfd migrate's exclusion (Exclude) is a
// lock held by a session; the context Exclude returns ends, its cause
// ErrExclusionLost, when that session is lost (here its backend
// terminated) or its connection goes silent (a proxy holds back what the
// server sends and drops what the client sends, as a network gone without
// a word), so that the copy stops rather than going on while nodes may
// start on the database. Before, nothing watched the connection: a copy
// went on, to its end, after its exclusion was gone.
func TestExclusionNoticesItsLoss(t *testing.T) {
	for _, how := range []string{"terminated", "silent"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			dsn := newDatabase(t)
			proxy := pgtest.NewProxy(t, dsn)
			db := open(t, proxy.DSN(dsn), nil)
			t.Cleanup(proxy.Resume)
			db.listenQuiet, db.listenProbeTimeout = 200*time.Millisecond, 300*time.Millisecond
			ctx := context.Background()
			excluded, release, err := db.Exclude(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			switch how {
			case "terminated":
				admin, err := pgx.Connect(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer admin.Close(ctx)
				var n int
				if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
					WHERE locktype = 'advisory' AND classid = $1 AND mode = 'ExclusiveLock' AND granted
					AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
					int64(servingLockKey)).Scan(&n); err != nil || n != 1 {
					t.Fatalf("terminated %d sessions holding the exclusion (%v), want 1", n, err)
				}
			case "silent":
				proxy.Silence()
			}
			select {
			case <-excluded.Done():
			case <-time.After(20 * time.Second):
				t.Fatal("the exclusion's session was lost and its context did not end")
			}
			if cause := context.Cause(excluded); !errors.Is(cause, ErrExclusionLost) {
				t.Errorf("the context's cause: %v, want ErrExclusionLost", cause)
			}
		})
	}
}
