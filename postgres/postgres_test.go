package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/storetest"
)

// The tests need a PostgreSQL server: package internal/pgtest gives each
// test a fresh database (and says which server, and when the tests skip).

// withParam returns dsn (a URL or key=value string) with a parameter set.
func withParam(t testing.TB, dsn, key, value string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("SWFD_TEST_POSTGRES: %v", err)
		}
		if key == "dbname" {
			u.Path = "/" + value
		} else {
			q := u.Query()
			q.Set(key, value)
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return dsn + " " + key + "='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(value) + "'"
}

// newDatabase creates a fresh database, dropped when the test ends, and
// returns its connection string.
func newDatabase(t testing.TB) string { return pgtest.NewDatabase(t) }

// newSchema creates a schema in the database of dsn and returns dsn with
// search_path set to it: a store of its own, sharing the database.
func newSchema(t testing.TB, dsn, schema string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	return withParam(t, dsn, "search_path", schema)
}

func open(t testing.TB, dsn string, logger *slog.Logger) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) swfd.Store {
		return open(t, newSchema(t, dsn, fmt.Sprintf("store_%d", n.Add(1))), nil)
	})
}

// icuDatabase makes a database whose default collation is not byte order
// (a server whose own default is C or C.UTF-8, as a test server's often
// is, would order by bytes without COLLATE "C").
const icuDatabase = "TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'und' LOCALE 'C.UTF-8'"

// TestStoreUnderICUCollation runs the shared suite in a database whose
// default collation is ICU's root locale, which orders "a" before "B" and
// takes no account of case and accents at first: the stores' order and
// matching must still be those of bytes (every compared column is COLLATE
// "C"), as with SQLite, whatever collation the operator's database has.
func TestStoreUnderICUCollation(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDatabaseWith(t, icuDatabase)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) swfd.Store {
		return open(t, newSchema(t, dsn, fmt.Sprintf("store_%d", n.Add(1))), nil)
	})
}

// logCounter counts the log records with a message.
type logCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func newLogCounter() *logCounter { return &logCounter{counts: map[string]int{}} }

func (c *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCounter) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	c.counts[r.Message]++
	c.mu.Unlock()
	return nil
}
func (c *logCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *logCounter) WithGroup(string) slog.Handler      { return c }
func (c *logCounter) count(msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[msg]
}

const appliedMsg = "postgres schema migration applied"

func schemaVersions(t *testing.T, dsn string) []int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), "SELECT version FROM schema_version ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func allVersions(t *testing.T) []int {
	t.Helper()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var vs []int
	for _, m := range ms {
		vs = append(vs, m.version)
	}
	return vs
}

func TestMigrationsAppliedOnce(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	want := allVersions(t)
	logs := newLogCounter()
	db := open(t, dsn, slog.New(logs))
	if got := logs.count(appliedMsg); got != len(want) {
		t.Fatalf("first open applied %d migrations, want %d", got, len(want))
	}
	db.Close()
	db = open(t, dsn, slog.New(logs))
	db.Close()
	if got := logs.count(appliedMsg); got != len(want) {
		t.Fatalf("reopening applied migrations again: %d in all", got)
	}
	if got := schemaVersions(t, dsn); !slices.Equal(got, want) {
		t.Fatalf("schema_version %v, want %v", got, want)
	}
}

// TestMigrationsConcurrent opens one fresh database from many stores at once,
// as a cluster's nodes starting together do: exactly one migrates.
func TestMigrationsConcurrent(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	want := allVersions(t)
	logs := newLogCounter()
	const n = 8
	errs := make([]error, n)
	dbs := make([]*DB, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			dbs[i], errs[i] = Open(context.Background(), dsn, slog.New(logs))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	if got := logs.count(appliedMsg); got != len(want) {
		t.Fatalf("%d stores opening at once applied %d migrations, want %d (once each)", n, got, len(want))
	}
	if got := schemaVersions(t, dsn); !slices.Equal(got, want) {
		t.Fatalf("schema_version %v, want %v", got, want)
	}
	// Every store works.
	for i, db := range dbs {
		if err := db.CreateDomain(context.Background(), swfd.Domain{Name: fmt.Sprintf("d%d", i), Status: swfd.StatusRegistered}, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrationsIncremental applies a made-up migration set in two steps.
func TestMigrationsIncremental(t *testing.T) {
	t.Parallel()
	dsn := newSchema(t, newDatabase(t), "incr")
	fsys := fstest.MapFS{
		"m/0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);")},
		"m/0002_b.sql": {Data: []byte("CREATE TABLE b (y TEXT);\nALTER TABLE a ADD COLUMN z TEXT;")},
		"m/0003_c.sql": {Data: []byte("CREATE TABLE c (broken")},
	}
	all, err := loadMigrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := &DB{pool: pool, logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	if from, to, err := db.applyMigrations(ctx, all[:1]); err != nil || from != 0 || to != 1 {
		t.Fatalf("first step: %d→%d %v", from, to, err)
	}
	if from, to, err := db.applyMigrations(ctx, all[:2]); err != nil || from != 1 || to != 2 {
		t.Fatalf("second step: %d→%d %v", from, to, err)
	}
	// A failing migration leaves the schema as it was.
	if _, _, err := db.applyMigrations(ctx, all); err == nil || !strings.Contains(err.Error(), "0003_c.sql") {
		t.Fatalf("broken migration: %v", err)
	}
	if got := schemaVersions(t, dsn); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("schema_version %v, want [1 2]", got)
	}
	var z *string
	if err := pool.QueryRow(ctx, "SELECT z FROM a WHERE x = 1").Scan(&z); err != nil {
		t.Fatal(err)
	}
	// Gaps and bad names are refused.
	for name, m := range map[string]fstest.MapFS{
		"gap":      {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"bad name": {"m/first.sql": {}},
		"empty":    {"m/README": {}},
	} {
		if _, err := loadMigrations(m, "m"); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	db := open(t, dsn, nil)
	db.Close()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "INSERT INTO schema_version (version, applied) VALUES (999, 0)"); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), dsn, nil)
	if err == nil {
		t.Fatal("Open of a newer schema succeeded")
	}
	want := fmt.Sprintf("database schema version 999 is newer than this swfd supports (%d); upgrade swfd", len(allVersions(t)))
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("Open of a newer schema: %v, want %q", err, want)
	}
}

// Ping fails while the database no longer holds swfd's schema: dropped and
// created again under its name (the store's connections cut, then made
// anew to an empty database), or its schema version below the one opened.
// A later version, from a node of the next release, is fine.
func TestPingChecksTheSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newDatabase(t)
	db := open(t, dsn, nil)
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping of a fresh store: %v", err)
	}
	exec := func(dsn, query string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	exec(dsn, fmt.Sprintf("INSERT INTO schema_version (version, applied) VALUES (%d, 0)", db.version+1))
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping with a newer schema: %v", err)
	}
	exec(dsn, fmt.Sprintf("DELETE FROM schema_version WHERE version >= %d", db.version))
	if err := db.Ping(ctx); err == nil || !strings.Contains(err.Error(), "below the") {
		t.Fatalf("Ping with the schema version lowered: %v", err)
	}
	// The test's own database, dropped and created again from the
	// server's maintenance database (which is only connected to).
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if !strings.HasPrefix(name, "swfd_test_") {
		t.Fatalf("database %q is not the test's own", name)
	}
	admin := withParam(t, dsn, "dbname", "postgres")
	exec(admin, "DROP DATABASE "+name+" WITH (FORCE)")
	exec(admin, "CREATE DATABASE "+name)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.Ping(ctx)
		if errors.Is(err, ErrNoSchema) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ping of the database created again: %v, want ErrNoSchema", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	if _, err := Open(context.Background(), "", nil); err == nil {
		t.Error("empty DSN opened")
	}
	if _, err := Open(context.Background(), "postgres://%zz", nil); err == nil {
		t.Error("bad DSN opened")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A port where nothing listens.
	if _, err := Open(ctx, "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2", nil); err == nil {
		t.Error("unreachable server opened")
	}
}

// A connection string that does not parse is never quoted in the error:
// pgconn masks the passwords it recognises in its own errors, but not one
// after "password =", in capitals, or after a ";" in a URL's query.
func TestOpenNeverPrintsPassword(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"host=x port=abc password = topsecret",
		"host=x port=abc PASSWORD=topsecret",
		"postgres://u@h:1/db?x=1;password=topsecret",
		"postgres://u:top secret@h:abc/db",
		"postgres://u:topsecret@h:abc/db",
	} {
		_, err := Open(context.Background(), dsn, nil)
		if err == nil || !strings.Contains(err.Error(), "parse connection string") {
			t.Fatalf("Open(%q): %v, want a parse error", dsn, err)
		}
		if strings.Contains(err.Error(), "topsecret") || strings.Contains(err.Error(), "top secret") {
			t.Errorf("Open(%q): the error shows the password: %v", dsn, err)
		}
	}
}

// run returns a new open run at version 1.
func run(domain, wf, id string) swfd.Execution {
	return swfd.Execution{Domain: domain, WorkflowID: wf, RunID: id, TypeName: "t", TypeVersion: "1",
		StartTime: time.UnixMilli(1_700_000_000_123).UTC(), Open: true, Version: 1, State: []byte("s1")}
}

// TestConflictBetweenNodes races two stores on one database, as two swfd
// nodes: in every round both update one run from the same version, and
// exactly one wins; both deliver one transfer, and exactly one does.
func TestConflictBetweenNodes(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	a, b := open(t, dsn, nil), open(t, dsn, nil)
	ctx := context.Background()
	e := run("dom", "wf", "run-1")
	if err := a.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: e, Create: true}}}); err != nil {
		t.Fatal(err)
	}
	nodes := []*DB{a, b}
	const rounds = 40
	for r := range rounds {
		cur, err := b.GetExecution(ctx, "dom", "run-1")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Commit(ctx, swfd.Batch{AddTransfers: []swfd.Transfer{{RunID: "run-1", Payload: []byte{byte(r)}}}}); err != nil {
			t.Fatal(err)
		}
		trs, err := a.PendingTransfers(ctx, 1)
		if err != nil || len(trs) != 1 {
			t.Fatalf("PendingTransfers: %v %v", trs, err)
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, db := range nodes {
			wg.Go(func() {
				u := cur
				u.Version++
				u.State = fmt.Appendf(nil, "node-%d-round-%d", i, r)
				<-start
				errs[i] = db.Commit(ctx, swfd.Batch{
					Updates:       []swfd.Update{{Execution: u, Events: []swfd.Event{{ID: u.Version, JSON: u.State}}}},
					DoneTransfers: []int64{trs[0].ID},
				})
			})
		}
		close(start)
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if won >= 0 {
					t.Fatalf("round %d: both nodes committed", r)
				}
				won = i
			case !errors.Is(err, swfd.ErrConflict):
				t.Fatalf("round %d: node %d: %v, want ErrConflict", r, i, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: no node committed: %v", r, errs)
		}
		got, err := a.GetExecution(ctx, "dom", "run-1")
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("node-%d-round-%d", won, r); got.Version != cur.Version+1 || string(got.State) != want {
			t.Fatalf("round %d: version %d state %q, want %d %q", r, got.Version, got.State, cur.Version+1, want)
		}
		if trs, err := a.PendingTransfers(ctx, 10); err != nil || len(trs) != 0 {
			t.Fatalf("round %d: transfers left %v %v", r, trs, err)
		}
	}
	evs, err := a.History(ctx, swfd.HistoryQuery{RunID: "run-1"})
	if err != nil || len(evs) != rounds {
		t.Fatalf("history: %d events, %v; want %d", len(evs), err, rounds)
	}

	// A missing run is ErrNotFound, not a conflict.
	ghost := run("dom", "ghost", "run-ghost")
	ghost.Version = 2
	if err := a.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: ghost}}}); !errors.Is(err, swfd.ErrNotFound) {
		t.Fatalf("update of a missing run: %v, want ErrNotFound", err)
	}
	// Neither is a run created earlier in the same batch.
	fresh := run("dom", "fresh", "run-fresh")
	stale := fresh
	stale.Version = 5
	err = a.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: fresh, Create: true}, {Execution: stale}}})
	if !errors.Is(err, swfd.ErrConflict) {
		t.Fatalf("stale update of a run created in the batch: %v, want ErrConflict", err)
	}
	if _, err := a.GetExecution(ctx, "", "run-fresh"); !errors.Is(err, swfd.ErrNotFound) {
		t.Fatalf("the failed batch's run was stored: %v", err)
	}
}

// TestDurableAcrossReopen checks that everything committed is there after
// the store is closed and opened again.
func TestDurableAcrossReopen(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	ctx := context.Background()
	v := "v"
	db := open(t, dsn, nil)
	if err := db.CreateDomain(ctx, swfd.Domain{Name: "dom", Status: swfd.StatusRegistered, RetentionDays: "7",
		Tags: []swfd.Tag{{Key: "k", Value: &v}}, Created: time.UnixMilli(1000)}, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateType(ctx, swfd.TypeRecord{Kind: swfd.WorkflowKind, Domain: "dom", Name: "t", Version: "1",
		Status: swfd.StatusRegistered, Created: time.UnixMilli(2000), Config: []byte(`{"a":1}`)}, 0); err != nil {
		t.Fatal(err)
	}
	e := run("dom", "wf", "run-1")
	e.Tags = []string{"x", "y"}
	if err := db.Commit(ctx, swfd.Batch{
		Updates: []swfd.Update{{Execution: e, Create: true,
			Events:    []swfd.Event{{ID: 1, JSON: []byte(`{"eventId":1}`)}},
			AddTasks:  []swfd.Task{{Kind: swfd.DecisionTask, Domain: "dom", TaskList: "tl", ScheduledEventID: 1, Scheduled: time.UnixMilli(3000)}},
			AddTimers: []swfd.Timer{{Key: "k", Due: time.UnixMilli(4000)}}}},
		AddTransfers: []swfd.Transfer{{RunID: "run-1", Payload: []byte("p")}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetMetaIfAbsent(ctx, "key", []byte("secret")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ping after Close: %v", err)
	}

	db = open(t, dsn, nil)
	d, err := db.GetDomain(ctx, "dom")
	if err != nil || d.RetentionDays != "7" || len(d.Tags) != 1 || !d.Created.Equal(time.UnixMilli(1000)) {
		t.Fatalf("domain after reopen: %+v %v", d, err)
	}
	if tr, err := db.GetType(ctx, swfd.WorkflowKind, "dom", "t", "1"); err != nil || string(tr.Config) != `{"a":1}` {
		t.Fatalf("type after reopen: %+v %v", tr, err)
	}
	got, err := db.GetExecution(ctx, "dom", "run-1")
	if err != nil || got.Version != 1 || !slices.Equal(got.Tags, e.Tags) || !got.StartTime.Equal(e.StartTime) ||
		got.StartTime.Location() != time.UTC || string(got.State) != "s1" {
		t.Fatalf("run after reopen: %+v %v", got, err)
	}
	if evs, err := db.History(ctx, swfd.HistoryQuery{RunID: "run-1"}); err != nil || len(evs) != 1 {
		t.Fatalf("history after reopen: %v %v", evs, err)
	}
	if ts, err := db.PendingTasks(ctx); err != nil || len(ts) != 1 || ts[0].RunID != "run-1" {
		t.Fatalf("tasks after reopen: %+v %v", ts, err)
	}
	if tm, err := db.NextTimer(ctx); err != nil || tm.RunID != "run-1" || !tm.Due.Equal(time.UnixMilli(4000)) {
		t.Fatalf("timer after reopen: %+v %v", tm, err)
	}
	if trs, err := db.PendingTransfers(ctx, 0); err != nil || len(trs) != 1 {
		t.Fatalf("transfers after reopen: %+v %v", trs, err)
	}
	if v, err := db.Meta(ctx, "key"); err != nil || string(v) != "secret" {
		t.Fatalf("meta after reopen: %q %v", v, err)
	}
	if es, err := db.ListExecutions(ctx, swfd.VisibilityQuery{Domain: "dom", Open: true, Tag: "y"}); err != nil || len(es) != 1 {
		t.Fatalf("tag list after reopen: %v %v", es, err)
	}
}

// TestByteOrder checks that names sort by bytes (COLLATE "C"), whatever the
// database's collation: upper case before lower case, ASCII before UTF-8.
// Its database's collation is ICU's, which orders otherwise.
func TestByteOrder(t *testing.T) {
	t.Parallel()
	db := open(t, pgtest.NewDatabaseWith(t, icuDatabase), nil)
	ctx := context.Background()
	names := []string{"b", "B", "a", "é", "Z", "a b", "ab"}
	for _, n := range names {
		if err := db.CreateDomain(ctx, swfd.Domain{Name: n, Status: swfd.StatusRegistered}, 0); err != nil {
			t.Fatal(err)
		}
		e := run("dom", "wf-"+n, n)
		if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: e, Create: true}}}); err != nil {
			t.Fatal(err)
		}
	}
	want := slices.Clone(names)
	slices.Sort(want) // Go compares strings by bytes
	ds, err := db.ListDomains(ctx, swfd.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.Name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ListDomains order %q, want %q", got, want)
	}
	es, err := db.ListExecutions(ctx, swfd.VisibilityQuery{Domain: "dom", Open: true, Reverse: true})
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, e := range es {
		got = append(got, e.RunID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ListExecutions order %q, want %q", got, want)
	}
	// Paging after a name in the middle.
	ds, err = db.ListDomains(ctx, swfd.ListQuery{After: "Z", Limit: 2})
	if err != nil || len(ds) != 2 || ds[0].Name != "a" || ds[1].Name != "a b" {
		t.Fatalf("ListDomains after Z: %v %v", ds, err)
	}
}

// TestDuplicatesInOneUpdate: a task or timer added twice in one update is
// stored once, the last one winning, as the SQLite driver does.
func TestDuplicatesInOneUpdate(t *testing.T) {
	t.Parallel()
	db := open(t, newDatabase(t), nil)
	ctx := context.Background()
	e := run("dom", "wf", "run-1")
	e.Tags = []string{"a", "a", "b"}
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: e, Create: true,
		AddTasks: []swfd.Task{
			{Kind: swfd.ActivityTask, Domain: "dom", TaskList: "first", ScheduledEventID: 5},
			{Kind: swfd.ActivityTask, Domain: "dom", TaskList: "second", ScheduledEventID: 5},
		},
		AddTimers: []swfd.Timer{{Key: "k", Due: time.UnixMilli(1)}, {Key: "k", Due: time.UnixMilli(2)}},
	}}}); err != nil {
		t.Fatal(err)
	}
	ts, err := db.PendingTasks(ctx)
	if err != nil || len(ts) != 1 || ts[0].TaskList != "second" {
		t.Fatalf("tasks: %+v %v", ts, err)
	}
	tm, err := db.DueTimers(ctx, time.UnixMilli(10), 0)
	if err != nil || len(tm) != 1 || !tm[0].Due.Equal(time.UnixMilli(2)) {
		t.Fatalf("timers: %+v %v", tm, err)
	}
	got, err := db.GetExecution(ctx, "dom", "run-1")
	if err != nil || !slices.Equal(got.Tags, e.Tags) {
		t.Fatalf("tags: %q %v", got.Tags, err)
	}
	// Duplicate delivery of one transfer in one batch is a conflict.
	if err := db.Commit(ctx, swfd.Batch{AddTransfers: []swfd.Transfer{{RunID: "run-1"}}}); err != nil {
		t.Fatal(err)
	}
	trs, _ := db.PendingTransfers(ctx, 0)
	err = db.Commit(ctx, swfd.Batch{DoneTransfers: []int64{trs[0].ID, trs[0].ID}})
	if !errors.Is(err, swfd.ErrConflict) {
		t.Fatalf("delivering one transfer twice: %v", err)
	}
}

func TestClosedAndCanceled(t *testing.T) {
	t.Parallel()
	db := open(t, newDatabase(t), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.Commit(ctx, swfd.Batch{AddTransfers: []swfd.Transfer{{RunID: "r"}}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit with a canceled context: %v", err)
	}
	if trs, err := db.PendingTransfers(context.Background(), 0); err != nil || len(trs) != 0 {
		t.Fatalf("transfers: %v %v", trs, err)
	}
	db.Close()
	bg := context.Background()
	for name, err := range map[string]error{
		"Ping":             db.Ping(bg),
		"Commit":           db.Commit(bg, swfd.Batch{AddTransfers: []swfd.Transfer{{RunID: "r"}}}),
		"CreateDomain":     db.CreateDomain(bg, swfd.Domain{Name: "d"}, 0),
		"Notify":           db.Notify(bg, "c", "p"),
		"Listen":           db.Listen(bg, "c", func(string) {}),
		"UpdateDomainTags": db.UpdateDomainTags(bg, "d", nil, nil, 0),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if _, err := db.GetExecution(bg, "", "r"); !errors.Is(err, ErrClosed) {
		t.Errorf("GetExecution after Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestMigrationKeepsOldRowsWithoutDescription: before migration 3 a
// description or tag value not given was stored as an empty string, like
// one given empty, and both read as not given. Migrated, such rows still
// read as not given (nil), and every other value and the order of the tags
// are kept.
func TestMigrationKeepsOldRowsWithoutDescription(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	ctx := context.Background()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	old := &DB{pool: pool, logger: slog.New(slog.DiscardHandler)}
	if _, _, err := old.applyMigrations(ctx, ms[:2]); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO domains (name, description, status, retention, tags, created) VALUES
			('old', '', 'REGISTERED', '1', '[{"Key":"a","Value":"1"},{"Key":"b","Value":""},{"Key":"c","Value":"3"}]', 1),
			('described', 'd', 'REGISTERED', '1', '[]', 2)`,
		`INSERT INTO types (kind, domain, name, version, status, description, created) VALUES
			('activity', 'old', 'a', '1', 'REGISTERED', '', 3),
			('workflow', 'old', 'w', '1', 'REGISTERED', 'flow', 4)`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	pool.Close()

	db := open(t, dsn, nil)
	show := func(p *string) string {
		if p == nil {
			return "none"
		}
		return fmt.Sprintf("%q", *p)
	}
	d, err := db.GetDomain(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, tg := range d.Tags {
		tags = append(tags, tg.Key+"="+show(tg.Value))
	}
	if got, want := show(d.Description)+" "+strings.Join(tags, ","), `none a="1",b=none,c="3"`; got != want {
		t.Errorf("old domain: %s, want %s", got, want)
	}
	if d, err := db.GetDomain(ctx, "described"); err != nil || show(d.Description) != `"d"` || len(d.Tags) != 0 {
		t.Errorf("described domain: %s %v %v", show(d.Description), d.Tags, err)
	}
	if a, err := db.GetType(ctx, swfd.ActivityKind, "old", "a", "1"); err != nil || a.Description != nil {
		t.Errorf("old activity type: %s %v", show(a.Description), err)
	}
	if w, err := db.GetType(ctx, swfd.WorkflowKind, "old", "w", "1"); err != nil || show(w.Description) != `"flow"` {
		t.Errorf("old workflow type: %s %v", show(w.Description), err)
	}
}

// A database of the schema before type_counts gets the count of the types
// it holds when it is migrated, and a type inserted by plain SQL, as the
// previous release does during a rolling upgrade, is counted too.
func TestMigrationCountsExistingTypes(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	ctx := context.Background()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	old := &DB{pool: pool, logger: slog.New(slog.DiscardHandler)}
	if _, _, err := old.applyMigrations(ctx, ms[:3]); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO domains (name, status, retention, created) VALUES ('old', 'REGISTERED', '1', 1)`,
		`INSERT INTO types (kind, domain, name, version, status, created) VALUES
			('activity', 'old', 'a', '1', 'REGISTERED', 1), ('activity', 'old', 'b', '1', 'DEPRECATED', 1),
			('activity', 'old', 'c', '1', 'REGISTERED', 1), ('workflow', 'old', 'w', '1', 'REGISTERED', 1)`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	db := open(t, dsn, nil)
	tr := func(kind swfd.TypeKind, name string) swfd.TypeRecord {
		return swfd.TypeRecord{Kind: kind, Domain: "old", Name: name, Version: "1", Status: swfd.StatusRegistered, Created: time.UnixMilli(2)}
	}
	if err := db.CreateType(ctx, tr(swfd.ActivityKind, "d"), 3); !errors.Is(err, swfd.ErrLimitExceeded) {
		t.Errorf("CreateType into 3 activity types at a limit of 3: %v, want ErrLimitExceeded", err)
	}
	if err := db.CreateType(ctx, tr(swfd.WorkflowKind, "x"), 1); !errors.Is(err, swfd.ErrLimitExceeded) {
		t.Errorf("CreateType into 1 workflow type at a limit of 1: %v, want ErrLimitExceeded", err)
	}
	if err := db.CreateType(ctx, tr(swfd.ActivityKind, "d"), 4); err != nil {
		t.Errorf("CreateType into 3 activity types at a limit of 4: %v", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO types (kind, domain, name, version, status, created) VALUES ('activity', 'old', 'e', '1', 'REGISTERED', 3)`); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateType(ctx, tr(swfd.ActivityKind, "f"), 5); !errors.Is(err, swfd.ErrLimitExceeded) {
		t.Errorf("CreateType into 5 activity types (one inserted by plain SQL) at a limit of 5: %v, want ErrLimitExceeded", err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM types WHERE kind = 'activity' AND domain = 'old' AND name = 'a'`); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateType(ctx, tr(swfd.ActivityKind, "f"), 5); err != nil {
		t.Errorf("CreateType after a plain SQL DELETE made room: %v", err)
	}
}
