package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/internal/pgtest"
)

// notifyUntil sends payload on channel every 20ms until got receives it (a
// listener that has not yet run LISTEN misses earlier notifications).
func notifyUntil(t *testing.T, n *Notifier, channel, payload string, got <-chan string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := n.Notify(context.Background(), channel, payload); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-got:
			if p == payload {
				return
			}
		case <-tick.C:
		case <-deadline:
			t.Fatalf("payload %q on %q not received", payload, channel)
		}
	}
}

func TestListenNotify(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	a, b := open(t, dsn, nil), open(t, dsn, nil) // two nodes
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 100)
	done := make(chan error, 1)
	const channel = "swfd wake-ups" // needs quoting
	go func() { done <- a.Listen(ctx, channel, func(p string) { got <- p }) }()

	// From the other node, then from the listener's own.
	notifyUntil(t, b.Notifier(), channel, "hello", got)
	notifyUntil(t, a.Notifier(), channel, "from self", got)
	// Notifications on other channels are not delivered.
	if err := b.Notify(context.Background(), "other", "nope"); err != nil {
		t.Fatal(err)
	}
	// In order, each once.
	for i := range 20 {
		if err := b.Notify(context.Background(), channel, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 20; {
		select {
		case p := <-got:
			if p == "hello" || p == "from self" {
				continue // repeats of the first round
			}
			if p != fmt.Sprint(i) {
				t.Fatalf("payload %d: got %q", i, p)
			}
			i++
		case <-time.After(10 * time.Second):
			t.Fatalf("payload %d not received", i)
		}
	}

	// The listener's connection dies: it reconnects and listens again.
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var killed int
	if err := conn.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listener connections, want 1", killed)
	}
	notifyUntil(t, b.Notifier(), channel, "after reconnect", got)

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Listen returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not return after its context was canceled")
	}
}

// TestListenClose: closing the store ends its listeners, and Close waits for
// them.
func TestListenClose(t *testing.T) {
	t.Parallel()
	db := open(t, newDatabase(t), nil)
	got := make(chan string, 10)
	done := make(chan error, 1)
	go func() { done <- db.Listen(context.Background(), "c", func(p string) { got <- p }) }()
	notifyUntil(t, db.Notifier(), "c", "up", got)
	if err := db.Listen(context.Background(), "", func(string) {}); err == nil {
		t.Fatal("Listen on an empty channel name succeeded")
	}
	db.Close()
	// Close waits for the listener to stop; Listen's return then reaches
	// this goroutine through the channel, which may take a moment.
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Listen returned %v after Close, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Listen still running 2s after Close returned")
	}
}

// Listening counts the listeners under way and those connected now: one
// whose connection is ended by the server counts as not connected until
// it has reconnected.
func TestListeningCounts(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	db := open(t, dsn, nil)
	n := db.Notifier()
	if l, c := n.Listening(); l != 0 || c != 0 {
		t.Fatalf("before: %d listening, %d connected", l, c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 10)
	done := make(chan error, 1)
	go func() { done <- db.Listen(ctx, "c", func(p string) { got <- p }) }()
	notifyUntil(t, n, "c", "up", got)
	if l, c := n.Listening(); l != 1 || c != 1 {
		t.Fatalf("listening: %d listening, %d connected", l, c)
	}
	// End the listener's connection from another session.
	admin, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	notifyUntil(t, n, "c", "again", got) // heard again: it reconnected
	if l, c := n.Listening(); l != 1 || c != 1 {
		t.Fatalf("reconnected: %d listening, %d connected", l, c)
	}
	cancel()
	<-done
	if l, c := n.Listening(); l != 0 || c != 0 {
		t.Fatalf("after: %d listening, %d connected", l, c)
	}
}

// A listener whose connection was cut, and which is waiting out its
// backoff (1.6 s here), reconnects as soon as the store finds the database
// answering again: when the pool makes a new connection for a call, and
// when a Ping succeeds. It does not try more often while the database is
// down: failing calls and Pings do not wake it.
func TestListenerReconnectsWhenTheDatabaseAnswers(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	proxy := pgtest.NewProxy(t, dsn)
	var logBuf logbuf.Buffer
	db := open(t, proxy.DSN(dsn), slog.New(slog.NewTextHandler(&logBuf, nil)))
	n := db.Notifier()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- db.Listen(ctx, "c", func(string) {}) }()
	within := func(d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return n.WaitConnected(ctx)
	}
	for l, _ := n.Listening(); l == 0; l, _ = n.Listening() {
		runtime.Gosched() // until Listen has begun
	}
	if err := within(30 * time.Second); err != nil {
		t.Fatalf("the listener never connected: %v", err)
	}
	tries := func() int { return strings.Count(logBuf.String(), "listener disconnected; reconnecting") }
	for _, answers := range []struct {
		name string
		call func() error
	}{
		{"a call on a new connection", func() error { _, err := db.ListDomains(context.Background(), swfd.ListQuery{Limit: 1}); return err }},
		{"a Ping", func() error { return db.Ping(context.Background()) }},
	} {
		proxy.Cut()
		backedOff := tries() + 5 // its tries at 100, 200, 400 and 800 ms, then a wait of 1.6 s
		tick := time.NewTicker(5 * time.Millisecond)
		for tries() < backedOff {
			<-tick.C
		}
		tick.Stop()
		if l, c := n.Listening(); l != 1 || c != 0 {
			t.Fatalf("%s: with the database cut off, %d listening, %d connected", answers.name, l, c)
		}
		before := tries()
		for range 10 {
			if answers.call() == nil {
				t.Fatalf("%s: succeeded with the database cut off", answers.name)
			}
		}
		if after := tries(); after > before+1 {
			t.Errorf("%s: the listener tried the database %d times while 10 calls failed", answers.name, after-before)
		}
		proxy.Restore()
		if err := answers.call(); err != nil {
			t.Fatalf("%s once the database is back: %v", answers.name, err)
		}
		if err := within(time.Second); err != nil {
			t.Fatalf("after %s succeeded, the listener did not reconnect within 1 s (its backoff is 1.6 s): %v", answers.name, err)
		}
	}
	cancel()
	<-done
	if err := n.WaitConnected(context.Background()); !errors.Is(err, ErrNotListening) {
		t.Errorf("WaitConnected with no listener: %v", err)
	}
}

// TestListenerNoticesASilentServer: a listener whose connection goes
// silent without closing (here a proxy holds back everything the server
// sends on it, as after a machine or network lost without a word) probes
// it once quiet, gives it up when the probe goes unanswered and listens
// on a new connection, hearing the news sent since. Before, it waited on
// the silent connection until the operating system's keepalives gave up,
// which on loopback, where the proxy answers them, is never.
func TestListenerNoticesASilentServer(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	a := open(t, dsn, nil)
	proxy := pgtest.NewProxy(t, dsn)
	b := open(t, proxy.DSN(dsn), nil)
	t.Cleanup(proxy.Resume)
	b.listenQuiet, b.listenProbeTimeout = 200*time.Millisecond, 300*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 100)
	const channel = "news"
	go b.Listen(ctx, channel, func(p string) { got <- p })
	notifyUntil(t, a.Notifier(), channel, "before", got)

	proxy.Stall()
	notifyUntil(t, a.Notifier(), channel, "after", got)
}

// TestListenerWaitingForTheLockNoticesASilentServer: a node's listener
// that waits for the serving nodes' lock while swfd migrate holds it is
// waiting on its connection for an answer, as a listener waits for news;
// when that connection goes silent (a proxy holds back everything the
// server sends on it), the listener gives it up within its quiet interval
// and probe timeout and waits again on a new one, so it holds the lock,
// and the node serves, once migrate is done. Before, it waited on the
// silent connection for as long as the operating system's keepalives
// allowed (on loopback, where the proxy answers them, for ever), the node
// refusing every call and never ready.
func TestListenerWaitingForTheLockNoticesASilentServer(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	migrator := open(t, dsn, nil)
	proxy := pgtest.NewProxy(t, dsn)
	db := open(t, proxy.DSN(dsn), nil)
	t.Cleanup(proxy.Resume)
	db.listenQuiet, db.listenProbeTimeout = 200*time.Millisecond, 300*time.Millisecond
	ctx := context.Background()
	_, release, err := migrator.Exclude(ctx)
	if err != nil {
		t.Fatal(err)
	}
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	var tries atomic.Int32
	db.beforeNodeLock = func() { tries.Add(1) }
	nctx, stopNode := context.WithCancel(ctx)
	nodeDone := make(chan struct{})
	go func() {
		defer close(nodeDone)
		db.Broadcaster().Subscribe(nctx, func([]byte) {})
	}()
	defer func() { stopNode(); <-nodeDone }()
	deadline := time.After(20 * time.Second)
	for {
		changed := db.lockChanges()
		if db.unserved.Load() {
			break
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatal("the node's listener never found swfd migrate holding the lock")
		}
	}

	// The server answers each wait after the quiet interval, and the
	// listener waits again on the same connection: three waits of one
	// session seen, and no reconnection.
	waits := map[time.Time]bool{}
	var pid uint32
	for len(waits) < 3 {
		var p uint32
		var started time.Time
		err := migrator.pool.QueryRow(ctx, `SELECT pid, query_start FROM pg_stat_activity
			WHERE datname = current_database() AND state = 'active' AND query LIKE '%pg_advisory_lock_shared%' AND pid <> pg_backend_pid()`).Scan(&p, &started)
		switch {
		case errors.Is(err, pgx.ErrNoRows): // between two waits
		case err != nil:
			t.Fatal(err)
		case pid != 0 && p != pid:
			t.Fatalf("the listener's wait for the lock moved from session %d to %d, the connection answering", pid, p)
		default:
			pid, waits[started] = p, true
		}
		select {
		case <-deadline:
			t.Fatalf("the listener's wait for the lock: %d waits seen in 20 s; want 3 (quiet interval 200ms)", len(waits))
		case <-time.After(20 * time.Millisecond): // polling the server's state
		}
	}
	if n := tries.Load(); n != 1 {
		t.Fatalf("the listener tried for the lock on %d connections with its connection answering; want 1", n)
	}

	proxy.Stall()
	release()
	released = true
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := db.Notifier().WaitConnected(wctx); err != nil {
		t.Fatalf("the node's listener, waiting for the lock on a connection gone silent, did not hold it 20 s after swfd migrate let it go: %v", err)
	}
	if err := db.fenceErr(); err != nil {
		t.Fatalf("the node once its listener holds the lock: %v", err)
	}
}

// TestListenerSettingUpNoticesASilentServer: a node's listener whose new
// connection goes silent while it sets it up (here as it asks for the
// serving nodes' lock) gives it up within its probe timeout and sets up a
// new one. Before, it waited for that answer without end.
func TestListenerSettingUpNoticesASilentServer(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	proxy := pgtest.NewProxy(t, dsn)
	db := open(t, proxy.DSN(dsn), nil)
	t.Cleanup(proxy.Resume)
	db.listenQuiet, db.listenProbeTimeout = 200*time.Millisecond, 300*time.Millisecond
	var tries atomic.Int32
	db.beforeNodeLock = func() {
		if tries.Add(1) == 1 {
			proxy.Stall()
		}
	}
	ctx, stopNode := context.WithCancel(context.Background())
	nodeDone := make(chan struct{})
	go func() {
		defer close(nodeDone)
		db.Broadcaster().Subscribe(ctx, func([]byte) {})
	}()
	defer func() { stopNode(); <-nodeDone }()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for l, _ := db.Notifier().Listening(); l == 0; l, _ = db.Notifier().Listening() {
		runtime.Gosched() // until Subscribe has begun
	}
	if err := db.Notifier().WaitConnected(wctx); err != nil {
		t.Fatalf("the node's listener, whose connection went silent as it asked for the serving nodes' lock, was not listening 20 s later: %v", err)
	}
	if n := tries.Load(); n != 2 {
		t.Errorf("the listener asked for the lock on %d connections; want 2", n)
	}
}

// TestSilentServerEmptiesThePool: once a listener gives its connection up
// for silence (a proxy holds back what the server sends and drops what the
// client sends, on every connection open at the time), the pool's idle
// connections, which went silent with it, are pinged and closed at once,
// and the next read opens a new connection. Before, each stayed in the
// pool until a caller took it and waited out its whole deadline on it (a
// call its 15 s, then ServiceUnavailable; a background loop its 30 s).
func TestSilentServerEmptiesThePool(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	proxy := pgtest.NewProxy(t, dsn)
	logs := newLogCounter()
	db := open(t, withParam(t, proxy.DSN(dsn), "pool_max_conns", "4"), slog.New(logs))
	t.Cleanup(proxy.Resume)
	db.listenQuiet, db.listenProbeTimeout = 200*time.Millisecond, 300*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var conns []*pgxpool.Conn
	for range 4 {
		c, err := db.pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}
	go db.Listen(ctx, "news", func(string) {})
	waitListening(t, db)
	proxy.Silence()
	deadline := time.Now().Add(20 * time.Second)
	for logs.count("postgres: listener disconnected; reconnecting") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the listener did not give its silent connection up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for db.pool.Stat().TotalConns() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d silent connections are still in the pool", db.pool.Stat().TotalConns())
		}
		time.Sleep(10 * time.Millisecond)
	}
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	if _, err := db.pool.Exec(rctx, "SELECT 1"); err != nil {
		t.Fatalf("a read once the silent connections were gone: %v", err)
	}
}
