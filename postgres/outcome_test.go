package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd"
)

// cutProxy is a TCP proxy between a store and PostgreSQL that can end a
// connection at a chosen protocol message: the tests' stand-in for a
// connection that dies with a commit in flight. It reads every message of
// both directions (the client's first, the startup message, has no type).
type cutProxy struct {
	ln   net.Listener
	mu   sync.Mutex
	cut  func(toServer bool, typ byte, body []byte) bool
	left int // cuts still to make
	cuts atomic.Int64
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			closeBoth := sync.OnceFunc(func() { c.Close(); s.Close() })
			go p.pipe(c, s, true, closeBoth)
			go p.pipe(s, c, false, closeBoth)
		}
	}()
	return p
}

// arm has the proxy end the connection, before forwarding the message, at
// each of the next n messages for which cut is true.
func (p *cutProxy) arm(n int, cut func(toServer bool, typ byte, body []byte) bool) {
	p.mu.Lock()
	p.cut, p.left = cut, n
	p.mu.Unlock()
}

func (p *cutProxy) cutAt(toServer bool, typ byte, body []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.left == 0 || !p.cut(toServer, typ, body) {
		return false
	}
	p.left--
	p.cuts.Add(1)
	return true
}

func (p *cutProxy) pipe(from, to net.Conn, toServer bool, closeBoth func()) {
	defer closeBoth()
	startup := toServer
	var pending []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := from.Read(buf)
		pending = append(pending, buf[:n]...)
		for {
			if startup && len(pending) >= 4 {
				size := int(binary.BigEndian.Uint32(pending[:4]))
				if len(pending) < size {
					break
				}
				if _, err := to.Write(pending[:size]); err != nil {
					return
				}
				pending, startup = pending[size:], false
				continue
			}
			if startup || len(pending) < 5 {
				break
			}
			size := int(binary.BigEndian.Uint32(pending[1:5])) + 1
			if len(pending) < size {
				break
			}
			if p.cutAt(toServer, pending[0], pending[5:size]) {
				return
			}
			if _, err := to.Write(pending[:size]); err != nil {
				return
			}
			pending = pending[size:]
		}
		pending = append([]byte(nil), pending...)
		if err != nil {
			return
		}
	}
}

// proxied opens a store of one pooled connection on dsn through a
// cutProxy.
func proxied(t *testing.T, dsn string, logger *slog.Logger) (*DB, *cutProxy) {
	t.Helper()
	return proxiedPool(t, dsn, logger, 1)
}

// proxiedPool is proxied with a pool of conns connections.
func proxiedPool(t *testing.T, dsn string, logger *slog.Logger, conns int) (*DB, *cutProxy) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := newCutProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	q := u.Query()
	q.Set("pool_max_conns", strconv.Itoa(conns))
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	return open(t, u.String(), logger), p
}

// commitAnswer is the server's answer that a commit's transaction
// committed: a COMMIT's CommandComplete, or the ReadyForQuery after the
// Sync that commits a one-statement transaction.
func commitAnswer(toServer bool, typ byte, body []byte) bool {
	return !toServer && (typ == 'Z' || typ == 'C' && bytes.HasPrefix(body, []byte("COMMIT\x00")))
}

func createBatch(id string) swfd.Batch {
	return swfd.Batch{Updates: []swfd.Update{{Execution: run("dom", "wf-"+id, id), Create: true}}}
}

// stepUpdate is the update of a run from version v-1 to v, with an event.
func stepUpdate(id string, v int64, state string) swfd.Update {
	e := run("dom", "wf-"+id, id)
	e.Version, e.State = v, []byte(state)
	return swfd.Update{Execution: e, Events: []swfd.Event{{ID: v, JSON: []byte(`{"v":"` + state + `"}`)}}}
}

// TestCommitAnswerLost: the connection dies after the server committed but
// before the store read the answer. The store must find from the data that
// the commit landed and report success: else the service answers a
// retryable 500, and the client's retry fails (WorkflowExecutionAlreadyStarted,
// a stale version) although its first call was applied. All three commit
// paths: one update (group.go, committed at its Sync), a group of updates
// (one of them stale, which must still get its conflict), and a batch
// with transfers (COMMIT sent on its own).
func TestCommitAnswerLost(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	db, p := proxied(t, dsn, nil)
	ctx := context.Background()
	// Warm-up: the statements are prepared on the connection.
	for _, id := range []string{"warm", "a", "b", "c"} {
		if err := db.Commit(ctx, createBatch(id)); err != nil {
			t.Fatal(err)
		}
	}
	p.arm(1, commitAnswer)
	if err := db.Commit(ctx, createBatch("one")); err != nil {
		t.Fatalf("a commit whose answer was lost after it committed: %v", err)
	}
	if p.cuts.Load() != 1 {
		t.Fatalf("the proxy cut %d connections, want 1", p.cuts.Load())
	}
	if _, err := db.GetExecution(ctx, "dom", "one"); err != nil {
		t.Fatalf("the committed run: %v", err)
	}

	// A group: two steps that apply and a stale one.
	stale := stepUpdate("c", 5, "stale")
	group := []*queuedCommit{queued(stepUpdate("a", 2, "a2")), queued(stepUpdate("b", 2, "b2")), queued(stale)}
	p.arm(1, commitAnswer)
	if again := db.commitGroup(group); len(again) != 0 {
		t.Fatalf("%d updates handed back", len(again))
	}
	if p.cuts.Load() != 2 {
		t.Fatalf("the proxy cut %d connections, want 2", p.cuts.Load())
	}
	for i, want := range []error{nil, nil, swfd.ErrConflict} {
		if err := <-group[i].done; !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Fatalf("update %d of the group: %v, want %v", i, err, want)
		}
	}
	for _, id := range []string{"a", "b"} {
		if e, err := db.GetExecution(ctx, "dom", id); err != nil || e.Version != 2 {
			t.Fatalf("run %s: version %d, %v; want 2", id, e.Version, err)
		}
	}

	batch := swfd.Batch{Updates: []swfd.Update{
		{Execution: run("dom", "wf-two", "two"), Create: true},
		{Execution: run("dom", "wf-three", "three"), Create: true},
	}, AddTransfers: []swfd.Transfer{{RunID: "two", Payload: []byte("x")}}}
	warm := swfd.Batch{Updates: []swfd.Update{
		{Execution: run("dom", "wf-w2", "w2"), Create: true},
		{Execution: run("dom", "wf-w3", "w3"), Create: true},
	}, AddTransfers: []swfd.Transfer{{RunID: "w2", Payload: []byte("x")}}}
	if err := db.Commit(ctx, warm); err != nil {
		t.Fatal(err)
	}
	p.arm(1, func(toServer bool, typ byte, body []byte) bool {
		return !toServer && typ == 'C' && bytes.HasPrefix(body, []byte("COMMIT\x00"))
	})
	if err := db.Commit(ctx, batch); err != nil {
		t.Fatalf("a batch whose COMMIT's answer was lost after it committed: %v", err)
	}
	if p.cuts.Load() != 3 {
		t.Fatalf("the proxy cut %d connections, want 3", p.cuts.Load())
	}
	for _, id := range []string{"two", "three"} {
		if _, err := db.GetExecution(ctx, "dom", id); err != nil {
			t.Fatalf("run %s of the committed batch: %v", id, err)
		}
	}
	if trs, err := db.PendingTransfers(ctx, 0); err != nil || len(trs) != 2 {
		t.Fatalf("transfers: %v, %v; want the warm-up's and the batch's", trs, err)
	}
}

// syncOf is true at the client's Sync that ends a pipeline holding a Bind
// of one of marks' bytes (the update's own statement, not a read of it).
func syncOf(marks ...string) func(bool, byte, []byte) bool {
	var bound bool
	return func(toServer bool, typ byte, body []byte) bool {
		switch {
		case !toServer:
		case typ == 'B':
			for _, m := range marks {
				bound = bound || bytes.Contains(body, []byte(m))
			}
		case typ == 'S' && bound:
			bound = false
			return true
		}
		return false
	}
}

// TestCommitRequestLost: the connection dies before the server gets what
// commits the transaction (the Sync of a one-update commit, the COMMIT of a
// batch). The data shows nothing applied: the store tries once more, and
// if that is lost too, answers swfd.ErrStorageUnavailable, nothing
// applied (the API's 503). It must never report success for a commit that
// did not land.
func TestCommitRequestLost(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	db, p := proxied(t, dsn, nil)
	ctx := context.Background()
	if err := db.Commit(ctx, createBatch("warm")); err != nil {
		t.Fatal(err)
	}
	p.arm(2, syncOf("wf-one"))
	if err := db.Commit(ctx, createBatch("one")); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("a commit whose Sync never reached the server, twice: %v, want ErrStorageUnavailable", err)
	}
	if p.cuts.Load() != 2 {
		t.Fatalf("the proxy cut %d connections, want 2 (the commit and its one retry)", p.cuts.Load())
	}
	if _, err := db.GetExecution(ctx, "dom", "one"); !errors.Is(err, swfd.ErrNotFound) {
		t.Fatalf("the run of a commit that never reached the server: %v, want ErrNotFound", err)
	}
	// Lost once: the retry commits it, once.
	p.arm(1, syncOf("wf-one"))
	if err := db.Commit(ctx, createBatch("one")); err != nil {
		t.Fatalf("a commit lost once, then tried again: %v", err)
	}
	if p.cuts.Load() != 3 {
		t.Fatalf("the proxy cut %d connections, want 3", p.cuts.Load())
	}
	if _, err := db.GetExecution(ctx, "dom", "one"); err != nil {
		t.Fatalf("the run of a commit tried again: %v", err)
	}
	// A step whose request is lost (no create: its run's version tells).
	up := stepUpdate("one", 2, "s2")
	p.arm(2, syncOf(`{"v":"s2"}`))
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{up}}); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("a step whose Sync never reached the server, twice: %v, want ErrStorageUnavailable", err)
	}
	if p.cuts.Load() != 5 {
		t.Fatalf("the proxy cut %d connections, want 5", p.cuts.Load())
	}
	if e, err := db.GetExecution(ctx, "dom", "one"); err != nil || e.Version != 1 {
		t.Fatalf("run one: version %d, %v; want 1", e.Version, err)
	}

	batch := swfd.Batch{Updates: []swfd.Update{
		{Execution: run("dom", "wf-two", "two"), Create: true},
		{Execution: run("dom", "wf-three", "three"), Create: true},
	}}
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{
		{Execution: run("dom", "wf-w2", "w2"), Create: true},
		{Execution: run("dom", "wf-w3", "w3"), Create: true},
	}}); err != nil {
		t.Fatal(err)
	}
	// The batch's COMMIT, sent on its own, twice.
	p.arm(2, func(toServer bool, typ byte, body []byte) bool {
		return toServer && (typ == 'Q' || typ == 'P' || typ == 'B') && bytes.Contains(body, []byte("COMMIT"))
	})
	if err := db.Commit(ctx, batch); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("a batch whose COMMIT never reached the server, twice: %v, want ErrStorageUnavailable", err)
	}
	if p.cuts.Load() != 7 {
		t.Fatalf("the proxy cut %d connections, want 7", p.cuts.Load())
	}
	for _, id := range []string{"two", "three"} {
		if _, err := db.GetExecution(ctx, "dom", id); !errors.Is(err, swfd.ErrNotFound) {
			t.Fatalf("run %s of a batch that never committed: %v, want ErrNotFound", id, err)
		}
	}
}

// killBackends terminates every other backend of the test's own database:
// the store's pooled connections die while the database stays up.
func killBackends(t *testing.T, dsn string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no backend to terminate")
	}
	// Until they are gone: a backend ends at its next check for
	// interrupts, after pg_terminate_backend returned.
	for {
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestKilledPoolConnections: every pooled connection is killed while the
// database stays up. The next reads and writes, which find dead idle
// connections (the pool is told to hand them out, as it does those killed
// between its look at them and their first statement), must succeed
// (tried once more on a connection that answers) instead of failing with
// "FATAL: terminating connection due to administrator command", and each
// write must be applied once. The registry's writes, which are
// transactions of several statements, were not tried again: they failed,
// and the API answered 500.
func TestKilledPoolConnections(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	db := open(t, withParam(t, dsn, "pool_max_conns", "4"), nil)
	db.handOutDead.Store(true)
	ctx := context.Background()
	if err := db.Commit(ctx, createBatch("run-1")); err != nil {
		t.Fatal(err)
	}
	day := time.UnixMilli(1_700_000_000_000).UTC()
	closed := run("dom", "wf-closed", "closed")
	closed.Open, closed.CloseStatus, closed.CloseTime = false, "COMPLETED", day
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: closed, Create: true}}}); err != nil {
		t.Fatal(err)
	}
	typ := func(name string) swfd.TypeRecord {
		return swfd.TypeRecord{Kind: swfd.ActivityKind, Domain: "dom", Name: name, Version: "1", Status: swfd.StatusRegistered, Created: day}
	}
	// fill leaves 4 idle connections in the pool, each used just now (the
	// pool pings only those idle for more than a second).
	fill := func() {
		t.Helper()
		var conns []interface{ Release() }
		for range 4 {
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
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"commit of one update", func() error {
			return db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{stepUpdate("run-1", 2, "s2")}})
		}},
		{"commit of a create", func() error { return db.Commit(ctx, createBatch("run-2")) }},
		{"commit of a batch", func() error {
			return db.Commit(ctx, swfd.Batch{AddTransfers: []swfd.Transfer{{RunID: "run-1", Payload: []byte("x")}}})
		}},
		{"get", func() error { _, err := db.GetExecution(ctx, "dom", "run-1"); return err }},
		{"count", func() error { _, err := db.CountOpen(ctx, "dom"); return err }},
		{"list", func() error {
			_, err := db.ListExecutions(ctx, swfd.VisibilityQuery{Domain: "dom", Open: true})
			return err
		}},
		{"history", func() error { _, err := db.History(ctx, swfd.HistoryQuery{RunID: "run-1"}); return err }},
		{"transfers", func() error { _, err := db.PendingTransfers(ctx, 0); return err }},
		{"ping", func() error { return db.Ping(ctx) }},
		{"create domain", func() error {
			return db.CreateDomain(ctx, swfd.Domain{Name: "dom", Status: swfd.StatusRegistered, RetentionDays: "1", Created: day}, 10)
		}},
		{"get domain", func() error { _, err := db.GetDomain(ctx, "dom"); return err }},
		{"list domains", func() error { _, err := db.ListDomains(ctx, swfd.ListQuery{}); return err }},
		{"update domain tags", func() error {
			return db.UpdateDomainTags(ctx, "dom", []swfd.Tag{{Key: "k"}}, nil, 50)
		}},
		{"create type", func() error { return db.CreateType(ctx, typ("a"), 100) }},
		{"create another type", func() error { return db.CreateType(ctx, typ("b"), 100) }},
		{"get type", func() error { _, err := db.GetType(ctx, swfd.ActivityKind, "dom", "a", "1"); return err }},
		{"set type status", func() error {
			return db.SetTypeStatus(ctx, swfd.ActivityKind, "dom", "a", "1", swfd.StatusDeprecated, day)
		}},
		{"delete type", func() error { return db.DeleteType(ctx, swfd.ActivityKind, "dom", "b", "1") }},
		{"set meta", func() error { return db.SetMeta(ctx, "k", []byte("1")) }},
		{"set meta if absent", func() error { _, err := db.SetMetaIfAbsent(ctx, "k2", []byte("2")); return err }},
		{"set meta max", func() error { return db.SetMetaMax(ctx, "k", []byte("3")) }},
		{"purge closed", func() error {
			n, err := db.PurgeClosed(ctx, "dom", day.Add(time.Hour), 10)
			if err == nil && n != 1 {
				err = fmt.Errorf("purged %d runs, want 1", n)
			}
			return err
		}},
		{"set domain status", func() error { return db.SetDomainStatus(ctx, "dom", swfd.StatusDeprecated, day) }},
	}
	for _, s := range steps {
		fill()
		killBackends(t, dsn)
		if err := s.do(); err != nil {
			t.Fatalf("%s after the pool's connections were killed: %v", s.name, err)
		}
	}
	e, err := db.GetExecution(ctx, "dom", "run-1")
	if err != nil || e.Version != 2 {
		t.Fatalf("run-1: version %d, %v; want 2", e.Version, err)
	}
	if evs, err := db.History(ctx, swfd.HistoryQuery{RunID: "run-1"}); err != nil || len(evs) != 1 {
		t.Fatalf("run-1's events: %v, %v; want one", evs, err)
	}
	if trs, err := db.PendingTransfers(ctx, 0); err != nil || len(trs) != 1 {
		t.Fatalf("transfers: %v, %v; want one", trs, err)
	}
	if d, err := db.GetDomain(ctx, "dom"); err != nil || d.Status != swfd.StatusDeprecated || len(d.Tags) != 1 {
		t.Fatalf("the domain: %+v, %v; want deprecated, with its tag", d, err)
	}
	if ts, err := db.ListTypes(ctx, swfd.ActivityKind, "dom", swfd.ListQuery{}); err != nil || len(ts) != 1 || ts[0].Status != swfd.StatusDeprecated {
		t.Fatalf("the types: %+v, %v; want a, deprecated", ts, err)
	}
	if v, err := db.Meta(ctx, "k"); err != nil || string(v) != "3" {
		t.Fatalf("meta k: %q, %v; want 3", v, err)
	}
}

// answerAfter is true at the server's answer that commits a transaction
// (a COMMIT's CommandComplete, and with atSync also the ReadyForQuery that
// ends a one-statement transaction) once the client has sent a statement
// (Bind or simple Query) carrying mark: the connection dies after the
// whole commit reached the server and before the store reads its answer.
// The mark must be text (a run or workflow id): under the simple protocol
// byte arguments are sent as hex.
func answerAfter(mark string, atSync bool) func(bool, byte, []byte) bool {
	var sent bool
	return func(toServer bool, typ byte, body []byte) bool {
		switch {
		case toServer:
			sent = sent || (typ == 'B' || typ == 'Q') && bytes.Contains(body, []byte(mark))
		case !sent:
		case typ == 'C' && bytes.HasPrefix(body, []byte("COMMIT\x00")), atSync && typ == 'Z':
			sent = false
			return true
		}
		return false
	}
}

// execModes are the values of default_query_exec_mode, which a connection
// string may set: how pgx sends statements and batches, and how it reads
// their answers.
var execModes = []string{"cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"}

// signalUpdate is stepUpdate for a run with event JSON of its own.
func signalUpdate(id string, v int64, name string) swfd.Update {
	u := stepUpdate(id, v, name)
	u.Events[0].JSON = []byte(`{"signal":"` + name + `"}`)
	return u
}

// TestCommitAnswerLostEveryExecMode: on every commit path (one update,
// committed at its Sync; a group of updates with a create and a stale
// update; a batch with transfers; a held run's commit) and under every
// query mode pgx may be given in the connection string, the connection
// dies once the whole commit has reached the server and before the store
// reads the answer. The commit landed, so the caller must hear success
// (the stale update its conflict), and nothing may be applied twice. Under
// "exec" (which docs/postgres.md gives for PgBouncer) and
// "simple_protocol", pgconn reads these answers with a reader that, after
// the read fails, reports "conn closed", which it calls safe to retry: the
// store took the commit for unsent and wrote it again, answering a landed
// create ErrAlreadyExists and a landed step ErrConflict, which the engine
// answers by deciding the step again on the state that won (here as it
// does: the signal recorded a second time).
func TestCommitAnswerLostEveryExecMode(t *testing.T) {
	t.Parallel()
	for _, mode := range execModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			dsn := withParam(t, newDatabase(t), "default_query_exec_mode", mode)
			// Two connections: a store holds runs only while it keeps one
			// free for the reads of the steps that hold them (maxHolds).
			db, p := proxiedPool(t, dsn, nil, 2)
			ctx := context.Background()
			cuts := int64(0)
			cut := func(what string, mark string, atSync bool, commit func() error) {
				t.Helper()
				p.arm(1, answerAfter(mark, atSync))
				if err := commit(); err != nil {
					t.Fatalf("%s whose answer was lost after it committed: %v", what, err)
				}
				if cuts++; p.cuts.Load() != cuts {
					t.Fatalf("%s: the proxy cut %d connections, want %d", what, p.cuts.Load(), cuts)
				}
				p.arm(0, nil)
			}
			// signal commits a signal as the engine does: on a conflict it
			// reads the run again and applies the signal to what won.
			signal := func(id string, name string) error {
				e, err := db.GetExecution(ctx, "dom", id)
				if err != nil {
					return err
				}
				for range 3 {
					err = db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{signalUpdate(id, e.Version+1, name)}})
					if !errors.Is(err, swfd.ErrConflict) {
						return err
					}
					if e, err = db.GetExecution(ctx, "dom", id); err != nil {
						return err
					}
				}
				return err
			}
			// Warm-up: the statements are prepared on the connection.
			for _, id := range []string{"warm", "a", "b", "c"} {
				if err := db.Commit(ctx, createBatch(id)); err != nil {
					t.Fatal(err)
				}
			}
			if err := signal("warm", "warm"); err != nil {
				t.Fatal(err)
			}

			cut("a create", "wf-one", true, func() error { return db.Commit(ctx, createBatch("one")) })
			cut("a step", "wf-one", true, func() error { return signal("one", "s2") })

			group := []*queuedCommit{
				queued(swfd.Update{Execution: run("dom", "wf-g", "g"), Create: true}),
				queued(signalUpdate("a", 2, "a2")),
				queued(signalUpdate("b", 2, "b2")),
				queued(signalUpdate("c", 5, "stale")),
			}
			cut("a group", "wf-a", false, func() error {
				if again := db.commitGroup(group); len(again) != 0 {
					return fmt.Errorf("%d updates handed back", len(again))
				}
				for i, want := range []error{nil, nil, nil, swfd.ErrConflict} {
					if err := <-group[i].done; !errors.Is(err, want) || (want == nil) != (err == nil) {
						return fmt.Errorf("update %d of the group: %v, want %v", i, err, want)
					}
				}
				return nil
			})

			batch := swfd.Batch{Updates: []swfd.Update{signalUpdate("a", 3, "a3"), signalUpdate("b", 3, "b3")},
				AddTransfers: []swfd.Transfer{{RunID: "a", Payload: []byte("x")}}}
			if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{signalUpdate("warm", 3, "w3")},
				AddTransfers: []swfd.Transfer{{RunID: "warm", Payload: []byte("x")}}}); err != nil {
				t.Fatal(err)
			}
			cut("a batch", "wf-a", false, func() error { return db.Commit(ctx, batch) })

			cut("a held run's commit", "wf-b", false, func() error {
				_, h, err := db.HoldRun(ctx, "dom", "b")
				if err != nil {
					return err
				}
				defer h.Release()
				return h.Commit(ctx, swfd.Batch{Updates: []swfd.Update{signalUpdate("b", 4, "b4")}})
			})

			for id, want := range map[string][]string{
				"one": {"s2"}, "g": nil, "a": {"a2", "a3"}, "b": {"b2", "b3", "b4"}, "c": nil,
			} {
				e, err := db.GetExecution(ctx, "dom", id)
				if err != nil || e.Version != int64(len(want))+1 {
					t.Fatalf("run %s: version %d, %v; want %d", id, e.Version, err, len(want)+1)
				}
				evs, err := db.History(ctx, swfd.HistoryQuery{RunID: id})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, ev := range evs {
					got = append(got, string(ev.JSON))
				}
				var wantJSON []string
				for _, s := range want {
					wantJSON = append(wantJSON, `{"signal":"`+s+`"}`)
				}
				if fmt.Sprint(got) != fmt.Sprint(wantJSON) {
					t.Fatalf("run %s's history: %v, want %v (each signal once)", id, got, wantJSON)
				}
			}
			if trs, err := db.PendingTransfers(ctx, 0); err != nil || len(trs) != 2 {
				t.Fatalf("transfers: %v, %v; want the warm-up's and the batch's", trs, err)
			}
		})
	}
}

// requestWith is true at the client's statement (Bind or simple Query)
// carrying mark, or, with mark "COMMIT", at a COMMIT sent on its own.
func requestWith(mark string) func(bool, byte, []byte) bool {
	return func(toServer bool, typ byte, body []byte) bool {
		if mark == "COMMIT" {
			return toServer && typ == 'Q' && bytes.HasPrefix(body, []byte("COMMIT"))
		}
		return toServer && (typ == 'B' || typ == 'Q') && bytes.Contains(body, []byte(mark))
	}
}

// TestCommitRequestLostEveryExecMode is TestCommitAnswerLostEveryExecMode's
// other side: the connection dies before the server gets the commit (the
// update's statement, a group's pipeline, a COMMIT sent on its own). In
// every query mode the store must find that nothing was applied and write
// it once more, once (a held run's commit, whose hold is gone with its
// connection, answers ErrConflict instead, nothing applied): a read that
// fails is never taken as a commit that landed, nor a request lost as an
// outcome unknown.
func TestCommitRequestLostEveryExecMode(t *testing.T) {
	t.Parallel()
	for _, mode := range execModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			dsn := withParam(t, newDatabase(t), "default_query_exec_mode", mode)
			// Two connections: a store holds runs only while it keeps one
			// free for the reads of the steps that hold them (maxHolds).
			db, p := proxiedPool(t, dsn, nil, 2)
			ctx := context.Background()
			cuts := int64(0)
			cut := func(what string, mark string, want error, commit func() error) {
				t.Helper()
				p.arm(1, requestWith(mark))
				if err := commit(); !errors.Is(err, want) || (want == nil) != (err == nil) {
					t.Fatalf("%s whose request was lost once: %v, want %v", what, err, want)
				}
				if cuts++; p.cuts.Load() != cuts {
					t.Fatalf("%s: the proxy cut %d connections, want %d", what, p.cuts.Load(), cuts)
				}
				p.arm(0, nil)
			}
			for _, id := range []string{"warm", "a", "b"} {
				if err := db.Commit(ctx, createBatch(id)); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{signalUpdate("warm", 2, "w2")}}); err != nil {
				t.Fatal(err)
			}
			cut("a create", "wf-one", nil, func() error { return db.Commit(ctx, createBatch("one")) })
			cut("a step", "wf-one", nil, func() error {
				return db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{signalUpdate("one", 2, "s2")}})
			})
			group := []*queuedCommit{
				queued(swfd.Update{Execution: run("dom", "wf-g", "g"), Create: true}),
				queued(signalUpdate("a", 2, "a2")),
				queued(signalUpdate("b", 2, "b2")),
			}
			cut("a group", "wf-a", nil, func() error {
				if again := db.commitGroup(group); len(again) != 0 {
					return fmt.Errorf("%d updates handed back", len(again))
				}
				for i, q := range group {
					if err := <-q.done; err != nil {
						return fmt.Errorf("update %d of the group: %w", i, err)
					}
				}
				return nil
			})
			cut("a batch", "COMMIT", nil, func() error {
				return db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{signalUpdate("a", 3, "a3")},
					AddTransfers: []swfd.Transfer{{RunID: "a", Payload: []byte("x")}}})
			})
			cut("a held run's commit", "COMMIT", swfd.ErrConflict, func() error {
				_, h, err := db.HoldRun(ctx, "dom", "b")
				if err != nil {
					return err
				}
				defer h.Release()
				return h.Commit(ctx, swfd.Batch{Updates: []swfd.Update{signalUpdate("b", 3, "b3")}})
			})
			for id, want := range map[string][]string{"one": {"s2"}, "g": nil, "a": {"a2", "a3"}, "b": {"b2"}} {
				e, err := db.GetExecution(ctx, "dom", id)
				if err != nil || e.Version != int64(len(want))+1 {
					t.Fatalf("run %s: version %d, %v; want %d", id, e.Version, err, len(want)+1)
				}
				evs, err := db.History(ctx, swfd.HistoryQuery{RunID: id})
				if err != nil || len(evs) != len(want) {
					t.Fatalf("run %s's history: %d events, %v; want %d", id, len(evs), err, len(want))
				}
			}
			if trs, err := db.PendingTransfers(ctx, 0); err != nil || len(trs) != 1 {
				t.Fatalf("transfers: %v, %v; want the batch's", trs, err)
			}
		})
	}
}

// TestGroupLostWhilePreparing: the connection dies while a group's
// statements are being prepared (a new connection's first group, after
// pg_terminate_backend or a restart of PostgreSQL), before any of them
// was sent to run. Nothing can have been applied, so the group is sent
// again, and each update gets its own answer. Before, the store took the
// group for one that may have committed, and when the data could not tell
// (here, steps of runs other writers have moved on) every call of the
// group was answered that its outcome was unknown.
func TestGroupLostWhilePreparing(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	db, p := proxied(t, dsn, nil)
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if err := db.Commit(ctx, createBatch(id)); err != nil {
			t.Fatal(err)
		}
		for v := int64(2); v <= 3; v++ {
			if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{stepUpdate(id, v, fmt.Sprint("s", v))}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Two steps decided on version 1 of runs now at version 3: stale.
	group := []*queuedCommit{queued(stepUpdate("a", 2, "late-a")), queued(stepUpdate("b", 2, "late-b"))}
	// The server's ParseComplete of the group's first new statement.
	p.arm(1, func(toServer bool, typ byte, body []byte) bool { return !toServer && typ == '1' })
	if again := db.commitGroup(group); len(again) != 0 {
		t.Fatalf("%d updates handed back", len(again))
	}
	if p.cuts.Load() != 1 {
		t.Fatalf("the proxy cut %d connections, want 1", p.cuts.Load())
	}
	for i, q := range group {
		if err := <-q.done; !errors.Is(err, swfd.ErrConflict) {
			t.Errorf("stale update %d of a group lost while it was prepared: %v, want ErrConflict", i, err)
		}
	}
}
