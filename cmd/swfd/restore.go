package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/swfd/swfd/sqlite"
)

// restoreMain runs `swfd restore --from BACKUP --db sqlite:PATH`: it puts a
// backup in place as a SQLite database no swfd is running on, removing
// the write-ahead log a killed server left beside it (see sqlite.Restore).
func restoreMain(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("swfd restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the backup to restore (a file swfd backup wrote): FILE or sqlite:FILE")
	db := fs.String("db", "", "the database to replace with it: sqlite:PATH (swfd, and any other program that has it open, must be stopped)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: swfd restore --from BACKUP --db sqlite:PATH")
		fmt.Fprintln(stderr, "Replaces a stopped server's SQLite database with a backup, and removes the -wal and -shm files beside it.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if err := noArguments("swfd restore", fs.Args(), false); err != nil {
		return err
	}
	if *from == "" || *db == "" {
		fs.Usage()
		return usageError{errors.New("restore: both --from and --db are required")}
	}
	if !strings.HasPrefix(*db, "sqlite:") {
		return errors.New("restore: only SQLite databases (--db sqlite:PATH); restore PostgreSQL with its own tools (pg_restore or psql into an empty database — see the README's Backups)")
	}
	path, err := fileFlag("--db", *db)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	backup, err := fileFlag("--from", *from)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	version, err := sqlite.Restore(ctx, backup, path, log)
	if errors.Is(err, sqlite.ErrInUse) {
		return fmt.Errorf("%w; stop it first", err)
	}
	if errors.Is(err, sqlite.ErrOpenElsewhere) {
		return fmt.Errorf("%w; close it first", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "restore: %s is now the backup %s (schema version %d); start swfd with --db sqlite:%s\n", path, backup, version, path)
	return nil
}
