package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/migrate"
	"github.com/swfd/swfd/postgres"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/sqlite"
)

// migrateMain runs `swfd migrate --from DSN --to DSN`: it copies a whole
// installation into an empty database (e.g. from SQLite to PostgreSQL).
// Stop the swfd using the source first, and any using the target: both are
// refused while a swfd serves them. The source is only read: it must exist
// and hold swfd's schema at this release's version.
func migrateMain(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("swfd migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "source database (read, never changed), e.g. sqlite:./swfd-data/swfd.db")
	to := fs.String("to", "", "target database (must be empty), e.g. postgres://user@host:5432/swfd")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: swfd migrate --from DSN --to DSN")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if err := noArguments("swfd migrate", fs.Args(), false); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		fs.Usage()
		return usageError{errors.New("migrate: both --from and --to are required")}
	}
	// An in-memory target is gone when migrate ends: the copy would be
	// reported done and be nowhere.
	if *to == server.MemoryDB {
		return usageError{fmt.Errorf("migrate: --to %s keeps nothing once migrate ends; give a file (sqlite:PATH) or a PostgreSQL URL", server.MemoryDB)}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The source first: when it is not there, the target is not created.
	src, err := openSource(ctx, *from, log)
	if err != nil {
		return err
	}
	defer src.Close()
	// Nor when it cannot be copied.
	if err := migrate.CheckSource(ctx, src); err != nil {
		return err
	}
	// Nor while nodes serve it: the copy is many reads, and a database
	// that nodes go on changing between them is copied as no one moment
	// (a run copied twice, a run's state behind its copied history).
	// Held for the whole copy, so that no node starts on it meanwhile. A
	// SQLite source in use is refused when it is opened.
	if pg, ok := src.(*postgres.DB); ok {
		excluded, release, err := pg.Exclude(ctx)
		if err != nil {
			return fmt.Errorf("migrate: source %s: %w; stop every swfd node on it before migrating out of it", server.RedactDSN(*from), err)
		}
		defer release()
		ctx = excluded
	}
	dst, err := server.OpenStore(ctx, *to, log)
	if err != nil {
		return fmt.Errorf("migrate: open the target (--to): %w", err)
	}
	defer dst.Close()
	// A node running on the target keeps the task-token key and the
	// clock's time it read at its start: the copy's would not be used
	// until it restarts, and the tokens clients hold would fail.
	if pg, ok := dst.(*postgres.DB); ok {
		excluded, release, err := pg.Exclude(ctx)
		if err != nil {
			return fmt.Errorf("migrate: target %s: %w; stop every swfd node on it, migrate, then start them again", server.RedactDSN(*to), err)
		}
		defer release()
		ctx = excluded
	}
	// On a terminal each count overwrites the last; written to a file or
	// a pipe (a log, CI), where a carriage return overwrites nothing and
	// the counts would run together on one line, each is a line of its own.
	// The copy reports after every page of every domain's open and closed
	// executions, empty pages too: a count that has not moved since the
	// last one written is not written again, so that a log does not repeat
	// one line for each domain with nothing left to copy.
	term := isTerminal(stderr)
	var shown *migrate.Stats
	st, err := migrate.Copy(ctx, src, dst, func(s migrate.Stats) {
		if shown != nil && s.Executions == shown.Executions && s.Events == shown.Events {
			return
		}
		shown = &s
		if term {
			fmt.Fprintf(stderr, "\rcopied %d executions, %d events", s.Executions, s.Events)
		} else {
			fmt.Fprintf(stderr, "copied %d executions, %d events\n", s.Executions, s.Events)
		}
	})
	if term {
		fmt.Fprintln(stderr)
	}
	// A lost exclusion (the session that held it ended, or went silent)
	// lets nodes start on the database mid-copy: the copy is stopped, or,
	// finished, not reported done.
	if cause := context.Cause(ctx); errors.Is(cause, postgres.ErrExclusionLost) {
		return fmt.Errorf("migrate: stopped after %d executions: %w; swfd nodes may have started on the database since, so the copy is not one moment: start over into a fresh database", st.Executions, cause)
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("migrate: interrupted after %d executions: %w", st.Executions, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "done: %d domains, %d types, %d executions, %d events, %d tasks, %d timers, %d heartbeat details, %d messages\n",
		st.Domains, st.Types, st.Executions, st.Events, st.Tasks, st.Timers, st.Heartbeats, st.Transfers)
	return nil
}

// openSource opens the store a DSN names only to read it: it must exist
// and hold an swfd schema of this version, and nothing in it is created or
// changed (not even its schema brought up to date).
func openSource(ctx context.Context, dsn string, log *slog.Logger) (swfd.Store, error) {
	var st swfd.Store
	var err error
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		st, err = sqlite.OpenExisting(ctx, strings.TrimPrefix(dsn, "sqlite:"), log)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		st, err = postgres.OpenExisting(ctx, dsn, log)
	default:
		return nil, fmt.Errorf("migrate: --from %q: unknown database; use sqlite:PATH or postgres://USER@HOST:PORT/DB", server.RedactDSN(dsn))
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("migrate: source database %s does not exist: %w", server.RedactDSN(dsn), err)
	case errors.Is(err, sqlite.ErrNotSwfd), errors.Is(err, postgres.ErrNoSchema):
		return nil, fmt.Errorf("migrate: source database %s holds no swfd data, so there is nothing to copy: %w", server.RedactDSN(dsn), err)
	case err != nil:
		return nil, fmt.Errorf("migrate: open source %s: %w", server.RedactDSN(dsn), err)
	}
	return st, nil
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
