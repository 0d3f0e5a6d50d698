package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"

	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/sqlite"
)

// backupMain runs `swfd backup --db sqlite:PATH --to FILE`: a consistent
// copy of a SQLite database, taken while the server that uses it runs.
func backupMain(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("swfd backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "sqlite:./swfd-data/swfd.db", "the database to copy: sqlite:PATH")
	to := fs.String("to", "", "the file to write the copy to (must not exist): PATH or sqlite:PATH")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: swfd backup --db sqlite:PATH --to FILE (or sqlite:FILE)")
		fmt.Fprintln(stderr, "Copies a SQLite database consistently while swfd runs on it; start a server on the copy to restore.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if err := noArguments("swfd backup", fs.Args(), false); err != nil {
		return err
	}
	if *to == "" {
		fs.Usage()
		return usageError{errors.New("backup: --to is required")}
	}
	path, ok := strings.CutPrefix(*db, "sqlite:")
	if !ok {
		return errors.New("backup: only SQLite databases (--db sqlite:PATH); back up PostgreSQL with its own tools (pg_dump, or base backups with WAL archiving — see the README's Backups)")
	}
	if path == "" || path == ":memory:" {
		return errors.New("backup: --db needs the path of a SQLite database file")
	}
	toPath, err := fileFlag("--to", *to)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pages, err := sqlite.Backup(ctx, path, toPath, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "backup: copied %s to %s (%d pages); start swfd with --db sqlite:%s to use it\n", path, toPath, pages, toPath)
	return nil
}

// fileFlag reads the value of a flag (name) that names a SQLite database
// file, as PATH or as sqlite:PATH like --db; a PostgreSQL URL or another
// scheme's is refused, with what the flag takes.
func fileFlag(name, value string) (string, error) {
	path := strings.TrimPrefix(value, "sqlite:")
	switch {
	case path == "" || path == ":memory:":
		return "", fmt.Errorf("%s needs the path of a SQLite database file (PATH or sqlite:PATH)", name)
	case schemeURL.MatchString(path), strings.HasPrefix(path, "postgres:"), strings.HasPrefix(path, "postgresql:"):
		return "", fmt.Errorf("%s %s: only a SQLite database file (PATH or sqlite:PATH)", name, server.RedactDSN(value))
	}
	return path, nil
}

// schemeURL matches a URL's scheme and "://".
var schemeURL = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)
