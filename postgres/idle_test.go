package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/pgtest"
)

// failLog counts the log lines that say a statement failed on a
// connection that had failed (debug lines included).
type failLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *failLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *failLog) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "connection failed") {
		l.mu.Lock()
		l.lines = append(l.lines, r.Message)
		l.mu.Unlock()
	}
	return nil
}
func (l *failLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *failLog) WithGroup(string) slog.Handler      { return l }
func (l *failLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// TestDeadIdleConnectionsNotHandedOut: every session of the pool's
// connections is ended while they sit idle (used just now, so pgxpool's
// own ping, for connections idle more than a second, does not run). The
// calls that follow, four at a time, must not send a statement on one of
// them: the pool sees that the server closed them and takes or makes
// others. Before, the first call on each dead connection failed (a read
// or a write was then tried once more, after the idle ones were pinged;
// a commit of one statement first had to look at the data to learn that
// the failure came before it committed). With the look turned off, the
// same run counts those failures, to show what it saves.
func TestDeadIdleConnectionsNotHandedOut(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	measure := func(handOutDead bool) int {
		var log failLog
		db := open(t, withParam(t, dsn, "pool_max_conns", "8"), slog.New(&log))
		db.handOutDead.Store(handOutDead)
		ctx := context.Background()
		prefix := fmt.Sprintf("dead%v-", handOutDead)
		const callers = 4
		for c := range callers {
			if err := db.Commit(ctx, createBatch(fmt.Sprint(prefix, c))); err != nil {
				t.Fatal(err)
			}
		}
		// Eight idle connections, each used just now.
		var conns []interface{ Release() }
		for range 8 {
			c, err := db.pool.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Exec(ctx, "SELECT 1"); err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Release()
		}
		pgtest.TerminateBackends(t, dsn)
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for c := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprint(prefix, c)
				for v := int64(2); v <= 6; v++ {
					if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{stepUpdate(id, v, fmt.Sprint("s", v))}}); err != nil {
						errs <- fmt.Errorf("commit %d of %s: %w", v, id, err)
						return
					}
					if _, err := db.GetExecution(ctx, "dom", id); err != nil {
						errs <- fmt.Errorf("get %s: %w", id, err)
						return
					}
					if err := db.SetMeta(ctx, id, []byte{byte(v)}); err != nil {
						errs <- fmt.Errorf("set meta %s: %w", id, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("after the idle connections' sessions ended (dead ones handed out: %v): %v", handOutDead, err)
		}
		db.Close()
		return log.count()
	}
	if n := measure(false); n != 0 {
		t.Fatalf("%d statements failed on connections whose sessions had ended; want none", n)
	}
	t.Logf("with dead connections handed out: %d statements failed on them, and were tried again", measure(true))
}

// TestCheckoutGivesUpASilentConnection: a connection idle in the pool
// whose server has gone silent (a proxy drops what the client sends and
// holds back what the server sends, as a network gone does) is pinged
// when a call takes it, as every connection idle more than a second is.
// The ping must give up on it soon and the call go on through a new
// connection. Before, the ping waited for as long as the call's context
// allowed (a call's 15 s, a background loop's 30 s), and the call, whose
// checkout had used up its time, failed with it although the database
// answered new connections all along.
func TestCheckoutGivesUpASilentConnection(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	proxy := pgtest.NewProxy(t, dsn)
	db := open(t, withParam(t, proxy.DSN(dsn), "pool_max_conns", "2"), nil)
	t.Cleanup(proxy.Resume)
	ctx := context.Background()
	if err := db.SetMeta(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if idle := db.pool.Stat().IdleConns(); idle == 0 {
		t.Fatal("no idle connection in the pool")
	}
	db.pingAll.Store(true)
	proxy.Silence() // the connections open now; new ones go through
	// A call's time (the frontend's --call-timeout).
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	v, err := db.Meta(cctx, "k")
	if err != nil {
		t.Fatalf("a read whose checkout met a silent idle connection: %v; want it to give that connection up and read through a new one", err)
	}
	if string(v) != "v" {
		t.Errorf("read %q, want %q", v, "v")
	}
}

// The ping of a connection handed out has defaultPingTimeout unless the
// connection string sets pool_ping_timeout.
func TestPoolPingTimeout(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	for _, c := range []struct {
		dsn  string
		want time.Duration
	}{
		{dsn, defaultPingTimeout},
		{withParam(t, dsn, "pool_ping_timeout", "5s"), 5 * time.Second},
	} {
		if got := open(t, c.dsn, nil).pool.Config().PingTimeout; got != c.want {
			t.Errorf("ping timeout %s, want %s (%s)", got, c.want, c.dsn)
		}
	}
}
