package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/postgres"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/sqlite"
)

// A source that is not there, or not an swfd database, is an error, and
// neither it nor the target is created or changed: a mistyped path must not
// end in "done: 0 domains" and two new empty databases.
func TestMigrateSourceMustBeAnSwfdDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	other := filepath.Join(dir, "other.db") // another program's SQLite database
	raw, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("CREATE TABLE notes (body TEXT)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	otherBytes, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "out", "target.db")
	for _, tc := range []struct{ from, want string }{
		{"sqlite:" + filepath.Join(dir, "x", "typo.db"), "does not exist"},
		{"sqlite:" + other, "not an swfd database"},
		{"sqlite:" + empty, "not an swfd database"},
		{"sqlite::memory:", "not an swfd database"},
	} {
		var out bytes.Buffer
		err := migrateMain(ctx, []string{"--from", tc.from, "--to", "sqlite:" + target}, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("swfd migrate --from %s: %v (output %q), want an error saying %q", tc.from, err, out.String(), tc.want)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "empty.db other.db" {
		t.Errorf("files after the failed migrations: %v, want only the two sources", names)
	}
	if b, _ := os.ReadFile(other); !bytes.Equal(b, otherBytes) {
		t.Error("the other program's database was changed")
	}
	if b, _ := os.ReadFile(empty); len(b) != 0 {
		t.Errorf("the empty file now has %d bytes", len(b))
	}
}

// A PostgreSQL database without swfd's schema is not a source, and stays
// without it; one with the schema and nothing in it copies nothing, and
// that is no error.
func TestMigrateFromPostgresWithoutSchema(t *testing.T) {
	ctx := context.Background()
	src := pgtest.NewDatabase(t)
	dir := t.TempDir()
	var out bytes.Buffer
	err := migrateMain(ctx, []string{"--from", src, "--to", "sqlite:" + filepath.Join(dir, "a.db")}, &out)
	if err == nil || !strings.Contains(err.Error(), "no swfd schema") {
		t.Errorf("swfd migrate from a database without the schema: %v (output %q)", err, out.String())
	}
	conn, err := pgx.Connect(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("the source now has %d tables", tables)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.db")); !os.IsNotExist(err) {
		t.Errorf("the target was created: %v", err)
	}

	db, err := postgres.Open(ctx, src, nil) // swfd's schema, no data
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	out.Reset()
	if err := migrateMain(ctx, []string{"--from", src, "--to", "sqlite:" + filepath.Join(dir, "b.db")}, &out); err != nil {
		t.Fatalf("swfd migrate from an empty swfd database: %v", err)
	}
	if !strings.Contains(out.String(), "done: 0 domains") {
		t.Errorf("output %q", out.String())
	}
}

// A source that holds an unfinished copy (swfd migrate into it was
// interrupted) is refused before the target is opened, so the target is not
// created, and the error tells what to copy instead rather than to drop the
// source, which swfd migrate only reads.
func TestMigrateFromUnfinishedCopyCreatesNoTarget(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	half := filepath.Join(dir, "half.db")
	st, err := sqlite.Open(ctx, half, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetMetaIfAbsent(ctx, "migrate-started", []byte("2026-12-06T08:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "target.db")
	var out bytes.Buffer
	err = migrateMain(ctx, []string{"--from", "sqlite:" + half, "--to", "sqlite:" + target}, &out)
	if err == nil || !strings.Contains(err.Error(), "unfinished copy") || !strings.Contains(err.Error(), "copy the database it was copied from") {
		t.Errorf("swfd migrate from a half copy: %v (output %q), want it refused, saying what to copy instead", err, out.String())
	}
	if err != nil && strings.Contains(err.Error(), "drop it") {
		t.Errorf("the refusal tells the operator to drop the source: %v", err)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Errorf("the refused migrate created its target: %v", err)
	}
}

// swfd migrate is refused while a node serves its PostgreSQL source (the
// copy, many reads, would not be one moment of a database the node goes on
// changing: runs copied twice, states behind their histories) or its
// PostgreSQL target (the node keeps the task-token key and the clock it
// read at its start, so the tokens clients hold from the source would fail
// on it), saying to stop the nodes; nothing is created. Once the nodes are
// stopped, both copies work. (Before, both were accepted; only SQLite's
// were refused.)
func TestMigrateRefusesPostgresServedByNodes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	startNode := func(dsn string) *server.Server {
		t.Helper()
		srv, err := server.Open(ctx, server.Config{DB: dsn})
		if err != nil {
			t.Fatal(err)
		}
		srv.Start()
		// The node is live once it listens for the other nodes' news.
		pg, err := postgres.OpenExisting(ctx, dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer pg.Close()
		deadline := time.Now().Add(10 * time.Second)
		for n, err := pg.LiveNodes(ctx); n < 1; n, err = pg.LiveNodes(ctx) {
			if err != nil || time.Now().After(deadline) {
				t.Fatalf("the node never showed live: %d, %v", n, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return srv
	}

	src := pgtest.NewDatabase(t)
	node := startNode(src)
	if err := node.Service.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "5"}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.db")
	var buf bytes.Buffer
	err := migrateMain(ctx, []string{"--from", src, "--to", "sqlite:" + out}, &buf)
	if !errors.Is(err, postgres.ErrServed) || !strings.Contains(err.Error(), "source") || !strings.Contains(err.Error(), "stop every swfd node on it") {
		t.Errorf("swfd migrate out of a database a node serves: %v (output %q), want it refused, saying to stop the nodes", err, buf.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the refused migrate created its target: %v", err)
	}

	sqliteSrc := filepath.Join(dir, "src.db")
	s, err := server.Open(ctx, server.Config{DB: "sqlite:" + sqliteSrc})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Service.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "e", WorkflowExecutionRetentionPeriodInDays: "5"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	dst := pgtest.NewDatabase(t)
	target := startNode(dst)
	err = migrateMain(ctx, []string{"--from", "sqlite:" + sqliteSrc, "--to", dst}, &buf)
	if !errors.Is(err, postgres.ErrServed) || !strings.Contains(err.Error(), "target") || !strings.Contains(err.Error(), "stop every swfd node on it") {
		t.Errorf("swfd migrate into a database a node serves: %v (output %q), want it refused, saying to stop the nodes", err, buf.String())
	}

	if err := node.Close(); err != nil {
		t.Fatal(err)
	}
	if err := target.Close(); err != nil {
		t.Fatal(err)
	}
	if err := migrateMain(ctx, []string{"--from", src, "--to", "sqlite:" + out}, &buf); err != nil {
		t.Errorf("swfd migrate out of the database once its node stopped: %v (output %q)", err, buf.String())
	}
	if err := migrateMain(ctx, []string{"--from", "sqlite:" + sqliteSrc, "--to", dst}, &buf); err != nil {
		t.Errorf("swfd migrate into the database once its node stopped: %v (output %q)", err, buf.String())
	}
}

// swfd migrate's progress written to a file or a pipe (a log, CI) is a line
// per count; before, each count began with a carriage return and none ended
// with a line break, so they ran together on one line
// ("copied 0 executions, 0 eventscopied 1 executions, …").
func TestMigrateProgressIsLinesOffTerminal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	st, err := sqlite.Open(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"d", "e", "f"} {
		if err := st.CreateDomain(ctx, swfd.Domain{Name: name, Status: swfd.StatusRegistered, RetentionDays: "1", Created: time.UnixMilli(1_800_000_000_000)}, 100); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := migrateMain(ctx, []string{"--from", "sqlite:" + src, "--to", "sqlite:" + filepath.Join(dir, "dst.db")}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "\r") {
		t.Errorf("output off a terminal holds carriage returns: %q", out.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[len(lines)-1], "done: 3 domains") {
		t.Fatalf("output %q, want progress lines and then done", out.String())
	}
	for i, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, "copied ") || strings.Count(l, "copied") != 1 {
			t.Errorf("progress line %q, want one count a line", l)
		}
		// Each domain's empty pages of open and closed executions used to
		// repeat the same count, six lines of "copied 0 executions, 0
		// events" here.
		if i > 0 && l == lines[i-1] {
			t.Errorf("progress line %q written again with nothing copied since: %q", l, out.String())
		}
	}
}

// A copy into sqlite::memory: would be gone when migrate ends, so it is
// refused (exit status 2) before anything is read, rather than reported
// done.
func TestMigrateRefusesInMemoryTarget(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src.db")
	st, err := sqlite.Open(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateDomain(ctx, swfd.Domain{Name: "d", Status: swfd.StatusRegistered, RetentionDays: "1", Created: time.UnixMilli(1_800_000_000_000)}, 100); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code := command(ctx, []string{"migrate", "--from", "sqlite:" + src, "--to", "sqlite::memory:"}, noenv, &out)
	if code != 2 || !strings.Contains(out.String(), "--to sqlite::memory: keeps nothing") || strings.Contains(out.String(), "done:") {
		t.Errorf("exit status %d, want 2 and a refusal; output:\n%s", code, out.String())
	}
}
