package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/swfd/swfd/internal/migrate"
	"github.com/swfd/swfd/server"
)

// migrateMain runs `swfd migrate --from DSN --to DSN`: it copies a whole
// installation into an empty database (e.g. from SQLite to PostgreSQL).
// Stop the swfd using the source first.
func migrateMain(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("swfd migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "source database, e.g. sqlite:./swfd-data/swfd.db")
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
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	src, err := server.OpenStore(ctx, *from, log)
	if err != nil {
		return fmt.Errorf("migrate: open the source (--from): %w", err)
	}
	defer src.Close()
	dst, err := server.OpenStore(ctx, *to, log)
	if err != nil {
		return fmt.Errorf("migrate: open the target (--to): %w", err)
	}
	defer dst.Close()
	st, err := migrate.Copy(ctx, src, dst, func(s migrate.Stats) {
		fmt.Fprintf(stderr, "\rcopied %d executions, %d events", s.Executions, s.Events)
	})
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "done: %d domains, %d types, %d executions, %d events, %d tasks, %d timers, %d messages\n",
		st.Domains, st.Types, st.Executions, st.Events, st.Tasks, st.Timers, st.Transfers)
	return nil
}
