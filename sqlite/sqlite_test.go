package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/storetest"
)

func openTemp(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "swfd.db")
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db, path
}

func TestStoreFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) swfd.Store {
		db, _ := openTemp(t)
		return db
	})
}

func TestStoreMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) swfd.Store {
		db, err := Open(context.Background(), ":memory:", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func schemaVersions(t *testing.T, path string) []int {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query("SELECT version FROM schema_version ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

func TestMigrationsAppliedOnce(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "swfd.db")
	for i := range 3 {
		db, err := Open(context.Background(), path, nil)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if i == 0 {
			// Data written after the first open survives the later ones.
			if err := db.CreateDomain(context.Background(), swfd.Domain{Name: "d", Status: swfd.StatusRegistered}, 10); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.GetDomain(context.Background(), "d"); err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		vs := schemaVersions(t, path)
		if len(vs) != len(ms) || vs[len(vs)-1] != ms[len(ms)-1].version {
			t.Fatalf("open %d: schema versions %v, want 1..%d", i, vs, len(ms))
		}
	}
}

func TestMigrationsIncremental(t *testing.T) {
	// A database at version 1 of a two-step history gets step 2 only.
	v1 := fstest.MapFS{"m/0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);")}}
	v2 := fstest.MapFS{
		"m/0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);")},
		"m/0002_b.sql": {Data: []byte("CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (42);")},
	}
	raw, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn, err := raw.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	run := func(fsys fstest.MapFS) (int, int, error) {
		ms, err := loadMigrations(fsys, "m")
		if err != nil {
			t.Fatal(err)
		}
		return applyMigrations(context.Background(), conn, nilLogger(), ms)
	}
	if from, to, err := run(v1); err != nil || from != 0 || to != 1 {
		t.Fatalf("v1: %d→%d %v", from, to, err)
	}
	if from, to, err := run(v2); err != nil || from != 1 || to != 2 {
		t.Fatalf("v2: %d→%d %v", from, to, err)
	}
	if from, to, err := run(v2); err != nil || from != 2 || to != 2 {
		t.Fatalf("v2 again: %d→%d %v", from, to, err)
	}
	var n int
	if err := conn.QueryRowContext(context.Background(), "SELECT count(*) FROM a").Scan(&n); err != nil || n != 1 {
		t.Fatalf("migration 2 ran %d times (%v)", n, err)
	}
	// A failing migration leaves nothing behind.
	bad := fstest.MapFS{
		"m/0001_a.sql": v2["m/0001_a.sql"], "m/0002_b.sql": v2["m/0002_b.sql"],
		"m/0003_c.sql": {Data: []byte("CREATE TABLE c (z INTEGER); SELECT * FROM no_such_table;")},
	}
	if _, _, err := run(bad); err == nil {
		t.Fatal("failing migration succeeded")
	}
	if err := conn.QueryRowContext(context.Background(), "SELECT count(*) FROM sqlite_schema WHERE name = 'c'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("failed migration left table c (%d, %v)", n, err)
	}
	if _, to, err := run(v2); err != nil || to != 2 {
		t.Fatalf("after the failed migration: %d %v", to, err)
	}
	// Gaps in numbering are refused.
	if _, err := loadMigrations(fstest.MapFS{"m/0002_x.sql": {Data: []byte("")}}, "m"); err == nil {
		t.Fatal("gap in migration numbers accepted")
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	first, path := openTemp(t)
	first.Close() // one store per file
	ms, _ := migrations()
	latest := ms[len(ms)-1].version
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("INSERT INTO schema_version (version, applied) VALUES (?, 0)", latest+7); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	db, err := Open(context.Background(), path, nil)
	if err == nil {
		db.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	want := fmt.Sprintf("database schema version %d is newer than this swfd supports (%d); upgrade swfd", latest+7, latest)
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
	// Nothing was changed.
	if vs := schemaVersions(t, path); vs[len(vs)-1] != latest+7 {
		t.Fatalf("schema versions now %v", vs)
	}
}

// Ping fails once the database no longer holds the schema the store
// opened: its version lowered, or its schema_version table gone.
func TestPingChecksTheSchema(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping of a fresh store: %v", err)
	}
	exec := func(query string) {
		t.Helper()
		db.wmu.Lock()
		defer db.wmu.Unlock()
		if _, err := db.wconn.ExecContext(ctx, query); err != nil {
			t.Fatal(err)
		}
	}
	exec("DELETE FROM schema_version WHERE version = (SELECT max(version) FROM schema_version)")
	if err := db.Ping(ctx); err == nil || !strings.Contains(err.Error(), "below the") {
		t.Fatalf("Ping with the schema version lowered: %v", err)
	}
	exec("DROP TABLE schema_version")
	if err := db.Ping(ctx); !errors.Is(err, ErrNotSwfd) {
		t.Fatalf("Ping without schema_version: %v, want ErrNotSwfd", err)
	}
}

func TestPragmas(t *testing.T) {
	db, _ := openTemp(t)
	db.wmu.Lock()
	defer db.wmu.Unlock()
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "1", "busy_timeout": strconv.Itoa(busyTimeoutMS), "wal_autocheckpoint": strconv.Itoa(checkpointPages)} {
		var got string
		if err := db.wconn.QueryRowContext(context.Background(), "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	// The writer's page cache is small (see writerPragmas); readers' are
	// not.
	var cache int
	if err := db.wconn.QueryRowContext(context.Background(), "PRAGMA cache_size").Scan(&cache); err != nil || cache != -2048 {
		t.Errorf("writer: PRAGMA cache_size = %d (%v), want -2048", cache, err)
	}
	if err := db.rdb.QueryRow("PRAGMA cache_size").Scan(&cache); err != nil || cache != -16384 {
		t.Errorf("reader: PRAGMA cache_size = %d (%v), want -16384", cache, err)
	}
	// Readers cannot write.
	if _, err := db.rdb.Exec("INSERT INTO meta (key, value) VALUES ('x', 'y')"); err == nil {
		t.Error("a read connection wrote")
	}
}

// TestMemoryPragmas: the in-memory store is kept through memvfs (not
// SQLite's ":memory:", whose page cache holds the whole database), with its
// journal in memory and a small page cache.
func TestMemoryPragmas(t *testing.T) {
	db, err := Open(context.Background(), ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.wmu.Lock()
	defer db.wmu.Unlock()
	ctx := context.Background()
	var mode string
	var cache int
	if err := db.wconn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "memory" {
		t.Errorf("PRAGMA journal_mode = %q (%v), want memory", mode, err)
	}
	if err := db.wconn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil || cache != -2048 {
		t.Errorf("PRAGMA cache_size = %d (%v), want -2048", cache, err)
	}
	var seq int
	var name, file string
	if err := db.wconn.QueryRowContext(ctx, "PRAGMA database_list").Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	if file != "swfd" { // ":memory:" lists an empty file name
		t.Errorf("the main database's file is %q, want the memvfs file swfd", file)
	}
}

// sampleBatch is one run's creation with history, a task, a timer and a transfer.
func sampleBatch(i int) swfd.Batch {
	run := fmt.Sprintf("run-%04d", i)
	e := swfd.Execution{Domain: "d", WorkflowID: "wf-" + run, RunID: run, TypeName: "t", TypeVersion: "1",
		StartTime: time.UnixMilli(1_700_000_000_000 + int64(i)), Open: true, Tags: []string{"tag"}, Version: 1, State: []byte(run)}
	return swfd.Batch{
		Updates: []swfd.Update{{
			Execution: e, Create: true,
			Events:    []swfd.Event{{ID: 1, JSON: []byte(`{"eventId":1}`)}, {ID: 2, JSON: []byte(`{"eventId":2}`)}},
			AddTasks:  []swfd.Task{{Kind: swfd.DecisionTask, Domain: "d", TaskList: "tl", RunID: run, ScheduledEventID: 2, Scheduled: e.StartTime}},
			AddTimers: []swfd.Timer{{RunID: run, Key: "start-to-close", Due: e.StartTime.Add(time.Hour)}},
		}},
		AddTransfers: []swfd.Transfer{{RunID: run, Payload: []byte(run)}},
	}
}

func checkSample(t *testing.T, db *DB, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		run := fmt.Sprintf("run-%04d", i)
		e, err := db.GetExecution(ctx, "d", run)
		if err != nil {
			t.Fatalf("run %d of %d: %v", i, n, err)
		}
		if string(e.State) != run {
			t.Fatalf("run %d state %q", i, e.State)
		}
		evs, err := db.History(ctx, swfd.HistoryQuery{RunID: run})
		if err != nil || len(evs) != 2 {
			t.Fatalf("run %d history: %d events, %v", i, len(evs), err)
		}
	}
	tasks, err := db.PendingTasks(ctx)
	if err != nil || len(tasks) < n {
		t.Fatalf("%d tasks, want at least %d: %v", len(tasks), n, err)
	}
	trs, err := db.PendingTransfers(ctx, 0)
	if err != nil || len(trs) < n {
		t.Fatalf("%d transfers, want at least %d: %v", len(trs), n, err)
	}
	if c, err := db.CountOpen(ctx, "d"); err != nil || c < n {
		t.Fatalf("CountOpen = %d, want at least %d: %v", c, n, err)
	}
}

func TestDurableAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "swfd.db")
	ctx := context.Background()
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := db.Commit(ctx, sampleBatch(i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := db.CreateDomain(ctx, swfd.Domain{Name: "d", Status: swfd.StatusRegistered, Created: time.UnixMilli(5)}, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetMetaIfAbsent(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(ctx, sampleBatch(n)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Commit after Close: %v", err)
	}
	if _, err := db.GetDomain(ctx, "d"); !errors.Is(err, ErrClosed) {
		t.Fatalf("GetDomain after Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	db, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkSample(t, db, n)
	if d, err := db.GetDomain(ctx, "d"); err != nil || !d.Created.Equal(time.UnixMilli(5)) {
		t.Fatalf("domain after reopen: %+v %v", d, err)
	}
	if v, err := db.Meta(ctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("meta after reopen: %q %v", v, err)
	}
}

// TestDurableAfterKill commits from a child process that reports each
// acknowledged commit and then dies by SIGKILL without closing the store;
// every acknowledged commit must be in the database afterwards.
func TestDurableAfterKill(t *testing.T) {
	if path := os.Getenv("SWFD_SQLITE_CRASH_CHILD"); path != "" {
		crashChild(path)
		return
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("needs SIGKILL")
	}
	path := filepath.Join(t.TempDir(), "swfd.db")
	cmd, sc := startChild(t, "TestDurableAfterKill", "SWFD_SQLITE_CRASH_CHILD="+path)
	acked := 0
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
			acked, _ = strconv.Atoi(n)
		}
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v", err)
	}
	if acked < 20 {
		t.Fatalf("child acknowledged only %d commits", acked)
	}
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkSample(t, db, acked)
}

func crashChild(path string) {
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Commit in parallel so that groups are in flight when the kill comes.
	var mu sync.Mutex
	acked := 0
	done := map[int]bool{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i += 4 {
				if err := db.Commit(context.Background(), sampleBatch(i)); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				done[i] = true
				for done[acked] {
					acked++
				}
				fmt.Printf("acked %d\n", acked) // every run below acked is committed
				if acked >= 40 {
					killSelf()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestGroupCommit(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := db.Commit(ctx, sampleBatch(i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	checkSample(t, db, n)
	t.Logf("%d batches in %d transactions", db.batches.Load(), db.groups.Load())
	if db.groups.Load() >= db.batches.Load() {
		t.Logf("no grouping happened (possible on an idle machine)")
	}
}

// goroutinesIn counts the goroutines whose stack holds every one of marks.
func goroutinesIn(marks ...string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		all := true
		for _, m := range marks {
			all = all && strings.Contains(g, m)
		}
		if all {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

// Writes that are already waiting when the writer has a write in hand join
// its group, though the syncer is free: the writer takes them before it
// looks at the syncer (when both were ready, a select chose at random, and
// a waiting write was left for the next group, and the next sync, about half
// the time).
func TestWaitingWritesJoinTheGroup(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	var groups []int
	var mu sync.Mutex
	db.ObserveGroups(func(writes int) { mu.Lock(); groups = append(groups, writes); mu.Unlock() })

	// Hold the writer with its first write in hand, then queue more.
	db.wmu.Lock()
	held := true
	defer func() {
		if held { // a failed wait: let the writer go, so that Close can
			db.wmu.Unlock()
		}
	}()
	const n = 8
	var wg sync.WaitGroup
	commit := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := db.Commit(ctx, sampleBatch(i)); err != nil {
				t.Error(err)
			}
		}()
	}
	commit(0)
	waitFor(t, "the writer to hold the first write", func() bool { return goroutinesIn("sqlite.(*DB).gather", "sync.(*Mutex).Lock") == 1 })
	for i := 1; i <= n; i++ {
		commit(i)
	}
	// Their callers wait in a select, and so does the first's, for its
	// outcome or its context's end.
	waitFor(t, "the other writes to wait", func() bool { return goroutinesIn("[select", "sqlite.(*DB).write(") == n+1 })
	held = false
	db.wmu.Unlock()
	wg.Wait()
	checkSample(t, db, n+1)
	mu.Lock()
	defer mu.Unlock()
	if len(groups) != 1 || groups[0] != n+1 {
		t.Errorf("groups of %v writes, want one of %d", groups, n+1)
	}
}

func TestCanceledContext(t *testing.T) {
	db, _ := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.Commit(ctx, sampleBatch(0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit with a canceled context: %v", err)
	}
	if _, err := db.GetExecution(context.Background(), "d", "run-0000"); !errors.Is(err, swfd.ErrNotFound) {
		t.Fatalf("the canceled commit was applied: %v", err)
	}
}

func TestPanicInWrite(t *testing.T) {
	db, _ := openTemp(t)
	err := db.write(context.Background(), func(x *wtx) error {
		if _, err := x.exec("INSERT INTO meta (key, value) VALUES ('p', 'q')"); err != nil {
			return err
		}
		var m map[string]int
		m["boom"]++ // nil map write panics
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "panic") {
		t.Fatalf("panicking write: %v", err)
	}
	if _, err := db.Meta(context.Background(), "p"); !errors.Is(err, swfd.ErrNotFound) {
		t.Fatalf("the panicking write was applied: %v", err)
	}
	if err := db.Commit(context.Background(), sampleBatch(0)); err != nil {
		t.Fatalf("writer dead after a panic: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(context.Background(), "", nil); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"), nil); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
	// Odd characters in the path.
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "a?b#c%20d.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

func nilLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestGroupFailuresLeaveNoTrace commits one group mixing good and failing
// writes: the failing ones, whether they wrote before failing (which makes
// the writer roll back and replay the group) or not, leave nothing; the
// others commit, all in one transaction.
func TestGroupFailuresLeaveNoTrace(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	if err := db.Commit(ctx, sampleBatch(0)); err != nil {
		t.Fatal(err)
	}
	e, err := db.GetExecution(ctx, "d", "run-0000")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(b swfd.Batch) *writeReq {
		tags, err := encodeTags(b)
		if err != nil {
			t.Fatal(err)
		}
		return &writeReq{ctx: ctx, done: make(chan error, 1), fn: func(x *wtx) error {
			return applyBatch(x, b, tags)
		}}
	}
	conflicting := sampleBatch(2) // creates run 2, then fails on run 0's version
	stale := e
	stale.Version = 5
	conflicting.Updates = append(conflicting.Updates, swfd.Update{Execution: stale})
	dup := sampleBatch(3) // creates run 3, then run 0's workflowId again
	dupRun := sampleBatch(0).Updates[0]
	dupRun.Execution.RunID = "run-dup"
	dup.Updates = append(dup.Updates, dupRun)
	staleOnly := swfd.Batch{Updates: []swfd.Update{{Execution: stale}}} // fails before writing
	writes := []*writeReq{mk(sampleBatch(1)), mk(conflicting), mk(sampleBatch(4)), mk(dup), mk(staleOnly), mk(sampleBatch(5))}
	// Apply them as the writer would, in one transaction.
	db.wmu.Lock()
	var g *group
	var c *committed
	if err := db.onWriter(func(x *wtx) {
		g = &group{x: x, lines: db.writeLines}
		for _, r := range writes {
			g.add(r)
		}
		c = g.commit()
	}); err != nil {
		t.Fatal(err)
	}
	db.wmu.Unlock()
	<-db.syncIdle
	db.syncq <- c
	want := []error{nil, swfd.ErrConflict, nil, swfd.ErrAlreadyExists, swfd.ErrConflict, nil}
	for i, r := range writes {
		if err := <-r.done; !errors.Is(err, want[i]) || (want[i] == nil) != (err == nil) {
			t.Errorf("write %d: %v, want %v", i, err, want[i])
		}
	}
	for i, wantFound := range []bool{true, true, false, false, true, true} {
		_, err := db.GetExecution(ctx, "d", fmt.Sprintf("run-%04d", i))
		if found := err == nil; found != wantFound {
			t.Errorf("run %d found=%v, want %v (%v)", i, found, wantFound, err)
		}
		evs, _ := db.History(ctx, swfd.HistoryQuery{RunID: fmt.Sprintf("run-%04d", i)})
		if (len(evs) > 0) != wantFound {
			t.Errorf("run %d has %d events", i, len(evs))
		}
	}
	trs, err := db.PendingTransfers(ctx, 0)
	if err != nil || len(trs) != 4 {
		t.Errorf("%d transfers, want 4 (%v)", len(trs), err)
	}
	if g, n := db.groups.Load(), db.batches.Load(); n-g != 5 {
		t.Errorf("%d writes in %d groups: the mixed group was not one transaction", n, g)
	}
}

// A second store on a file that a store has open is refused, and the file
// stays usable by the first; once the first is closed, the file opens.
func TestOneStorePerFile(t *testing.T) {
	if !ownerLocks {
		t.Skip("no owner's lock on " + runtime.GOOS)
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "swfd.db")
	a, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := Open(ctx, path, nil); !errors.Is(err, ErrInUse) {
		if err == nil {
			b.Close()
		}
		a.Close()
		t.Fatalf("second Open of a file in use: %v, want ErrInUse", err)
	} else if !strings.Contains(err.Error(), path) {
		t.Errorf("the error does not name the file: %v", err)
	}
	if err := a.Commit(ctx, sampleBatch(0)); err != nil {
		t.Fatalf("the first store after the refused open: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("Open after the first store closed: %v", err)
	}
	defer b.Close()
	checkSample(t, b, 1)
}

// The lock belongs to the process: while another process has the store
// open, Open is refused; once that process is killed with SIGKILL, the
// file opens at once.
func TestOwnerLockGoesWithTheProcess(t *testing.T) {
	if path := os.Getenv("SWFD_SQLITE_HOLD_CHILD"); path != "" {
		if _, err := Open(context.Background(), path, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println("open")
		select {} // until killed
	}
	if !ownerLocks {
		t.Skip("needs flock and SIGKILL")
	}
	path := filepath.Join(t.TempDir(), "swfd.db")
	cmd, sc := startChild(t, "TestOwnerLockGoesWithTheProcess", "SWFD_SQLITE_HOLD_CHILD="+path)
	defer cmd.Process.Kill()
	if !sc.Scan() || sc.Text() != "open" {
		t.Fatalf("the child did not open the store: %q", sc.Text())
	}
	if db, err := Open(context.Background(), path, nil); !errors.Is(err, ErrInUse) {
		if err == nil {
			db.Close()
		}
		t.Fatalf("Open while another process has the file: %v, want ErrInUse", err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("Open after the owner was killed: %v", err)
	}
	db.Close()
}

// TestMigrationKeepsOldRowsWithoutDescription: before migration 3 a
// description or tag value not given was stored as an empty string, like
// one given empty, and both read as not given. Migrated, such rows still
// read as not given (nil), and every other value and the order of the tags
// are kept.
func TestMigrationKeepsOldRowsWithoutDescription(t *testing.T) {
	ctx := context.Background()
	path := oldDatabase(t, 2,
		`INSERT INTO domains (name, description, status, retention, tags, created) VALUES
			('old', '', 'REGISTERED', '1', '[{"Key":"a","Value":"1"},{"Key":"b","Value":""},{"Key":"c","Value":"3"}]', 1),
			('described', 'd', 'REGISTERED', '1', '[]', 2)`,
		`INSERT INTO types (kind, domain, name, version, status, description, created) VALUES
			('activity', 'old', 'a', '1', 'REGISTERED', '', 3),
			('workflow', 'old', 'w', '1', 'REGISTERED', 'flow', 4)`,
	)

	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	show := func(p *string) string {
		if p == nil {
			return "none"
		}
		return strconv.Quote(*p)
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

// startChild starts the test named run in a child process of this test
// binary, with env (KEY=VALUE) added to its environment, and returns it
// with a scanner of its standard output (the lines it prints to say how far
// it got).
func startChild(t *testing.T, run, env string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(out)
}

// oldDatabase makes a database file at schema version (its first version
// migrations only) holding rows, written by plain SQL as a swfd of that
// version would have stored them, and returns its path.
func oldDatabase(t *testing.T, version int, rows ...string) string {
	t.Helper()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "swfd.db")
	ctx := context.Background()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, _, err := applyMigrations(ctx, conn, nilLogger(), ms[:version]); err != nil {
		t.Fatal(err)
	}
	for _, q := range rows {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// Open adds swfd's schema only to a database with nothing in it: one that
// holds another program's tables (a --db naming the wrong file) is refused
// with ErrNotSwfd, naming a table, and left as it was. swfd used to create
// its tables beside the other program's and serve the file.
func TestOpenRefusesAnotherProgramsDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada')"); err != nil {
		t.Fatal(err)
	}
	other.Close()
	db, err := Open(ctx, path, nil)
	if err == nil {
		db.Close()
	}
	if !errors.Is(err, ErrNotSwfd) || !strings.Contains(err.Error(), "users") || strings.Contains(err.Error(), "--") {
		t.Errorf("Open of another program's database: %v, want ErrNotSwfd naming its table users, and no flag (Open serves swfd's --db and migrate's --to alike)", err)
	}
	other, err = sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var tables []string
	rows, err := other.Query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) != 1 || tables[0] != "users" {
		t.Errorf("the other program's database holds the tables %v after Open, want only users", tables)
	}
}

// killSelf ends this process at once, as kill -9 does (TerminateProcess
// on Windows): nothing is flushed or closed on the way.
func killSelf() {
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		p.Kill()
	}
	select {} // until the kill lands
}
