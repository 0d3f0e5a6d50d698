// Command swfd is the swfd server: an Amazon SWF-compatible workflow
// service. Run it with no arguments to serve on 127.0.0.1:7733 with an
// embedded SQLite database under ./swfd-data/. Every flag can also be set
// with an environment variable SWFD_<NAME> (e.g. SWFD_ADDR, SWFD_POLL_TIMEOUT).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/swfd/swfd/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "migrate" {
		if err := migrateMain(ctx, os.Args[2:], os.Stderr); err != nil {
			if !errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(os.Stderr, "swfd:", err)
			}
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "swfd:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("swfd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:7733", "address to listen on")
	db := fs.String("db", "sqlite:./swfd-data/swfd.db", "database: sqlite:PATH, sqlite::memory: (throwaway)")
	account := fs.String("account-id", "123456789012", "AWS account id used in ARNs")
	region := fs.String("region", "us-east-1", "AWS region used in ARNs")
	pollTimeout := fs.Duration("poll-timeout", 60*time.Second, "how long PollForDecisionTask/PollForActivityTask wait for work")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	// Environment variables fill in flags not given on the command line.
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv("SWFD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))); v != "" {
			f.Value.Set(v)
		}
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: %w", *logLevel, err)
	}
	var handler slog.Handler
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		return fmt.Errorf("--log-format %q: use text or json", *logFormat)
	}
	log := slog.New(handler)

	srv, err := server.Open(ctx, server.Config{DB: *db, AccountID: *account, Region: *region, PollTimeout: *pollTimeout, Logger: log})
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv.Start()
	log.Info("swfd listening", "addr", ln.Addr().String(), "db", *db, "region", *region, "account_id", *account)
	return srv.Serve(ctx, ln)
}
