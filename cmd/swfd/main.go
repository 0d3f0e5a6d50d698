// Command swfd is the swfd server: an Amazon SWF-compatible workflow
// service. Run it with no arguments to serve on 127.0.0.1:7733 with an
// embedded SQLite database under ./swfd-data/. Every flag can also be set
// with an environment variable SWFD_<NAME> (e.g. SWFD_ADDR, SWFD_POLL_TIMEOUT),
// read as the flag is: a value either way that does not parse, or that
// means nothing (a poll timeout of zero), is an error.
//
// With --auth FILE every request must be signed (AWS Signature Version 4)
// with an access key the file lists, and IAM policies in the file decide
// what each principal may do; SIGHUP reloads the file. Without --auth any
// credentials are accepted, so swfd refuses to listen on an address other
// hosts can reach unless --insecure says that is intended.
//
// With --tls-cert and --tls-key (PEM files) swfd serves HTTPS, HTTP/1.1
// and HTTP/2. SIGHUP reloads the auth file, the certificate and the quota
// file, whichever are in use, and reopens the access log, without dropping
// a connection; with none of them it is logged and ignored. --max-connections
// caps the connections open at once; at the cap, idle connections are
// closed, or the long poll waiting longest is answered empty, to make room.
//
// Prometheus metrics are served at /metrics (--metrics-addr: on an address
// of their own, with /healthz and /readyz, not subject to the cap but to
// --metrics-max-connections; --metrics=false: not at all); --access-log writes a JSON line per call.
//
// --addr-file PATH writes the addresses swfd listens on to PATH once it
// serves (addr=HOST:PORT, url=…), for a script or a test that starts it
// on port 0.
//
// --call-timeout (15 s by default) bounds how long a call other than a long
// poll may take: one still waiting on the database then is answered
// ServiceUnavailable, which SDKs retry.
//
// SIGINT and SIGTERM stop it gracefully, waiting up to 15 s (or
// --call-timeout, when longer) for calls and Lambda functions in flight (a
// function still running then is recorded as failed, reason Interrupted);
// a second one stops it at once. One while it starts (waiting for a
// PostgreSQL slow to answer, for another node's migration) stops the start,
// and swfd exits with status 2 saying so and what it was doing.
//
// swfd migrate, swfd backup and swfd restore are its other commands; the
// server itself takes flags only, and any other word on the command line
// is an error.
//
// --quotas aws throttles calls and decisions with the real service's
// default token buckets, --quotas FILE with a quota file's (SIGHUP reloads
// it); the default, off, never throttles.
//
// The web console is served under /console/ (--console=false: not at all).
// --lambda-endpoint runs the functions ScheduleLambdaFunction decisions
// schedule; without it those decisions fail. For tests, --clock manual or
// skip gives swfd a clock the test moves, and --dev keeps everything in
// memory with a reset (swf dev reset).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/frontend"
	"github.com/swfd/swfd/internal/connlimit"
	"github.com/swfd/swfd/internal/lograte"
	"github.com/swfd/swfd/runs"
	"github.com/swfd/swfd/server"
)

// defaultGCPercent is swfd's GOGC unless the environment sets one. Its live
// heap is small (tens of MB: run states, task lists, timers) and it
// allocates quickly (a request and its answer per call), so the collector
// at Go's default of 100 runs often for little; at 200 it costs about half
// as much CPU, for a heap of at most three times the live one.
const defaultGCPercent = 200

// maxRunCacheMB is the largest --run-cache-mb: a TiB, past any machine's
// memory (and far from overflowing the bytes it is turned into).
const maxRunCacheMB = 1 << 20

// defaultDB is the database swfd serves without --db.
const defaultDB = "sqlite:./swfd-data/swfd.db"

// maxCallTimeout is the longest --call-timeout. A call held longer holds
// its connection and the client's retry alike; past a few minutes every
// SDK has given up on it and sent it again, and the value is more likely
// a slip of the unit (15m for 15s) than an intent.
const maxCallTimeout = 5 * time.Minute

// sdkCallTimeout is the longest --call-timeout that has every call
// answered within 60 s, botocore's default read timeout: a call may wait
// the call timeout, then 10 s for a commit's answer and 10 s to read back
// whether it landed (docs/postgres.md). Past it swfd warns: an SDK may
// send a call again while its first attempt still waits.
const sdkCallTimeout = 40 * time.Second

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	os.Exit(command(context.Background(), os.Args[1:], os.Getenv, os.Stderr))
}

// commands names swfd's commands other than the server, for the errors
// that list them.
const commands = "migrate (copy a whole installation into an empty database), backup (copy a running server's SQLite database) and restore (put a backup in place of a stopped server's SQLite database)"

// command runs what args say: the command args[0] names, or else the
// server. It returns the exit status: 0; 1 when migrate, backup or restore
// failed; 2 when the server failed or was stopped at once (run), or when
// args are wrong (usageError). SIGINT and SIGTERM stop migrate and backup,
// and restore until it begins to put the backup in place (its copy and
// check included); the server handles them itself.
func command(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	if len(args) > 0 {
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		switch args[0] {
		case "migrate":
			return exitStatus(stderr, migrateMain(ctx, args[1:], stderr), 1)
		case "backup":
			return exitStatus(stderr, backupMain(ctx, args[1:], stderr), 1)
		case "restore":
			return exitStatus(stderr, restoreMain(ctx, args[1:], stderr), 1)
		}
	}
	return exitStatus(stderr, run(ctx, args, getenv, stderr), 2)
}

// exitStatus reports err and returns the exit status for it: 0 for none
// and for the flag package's -h (which has printed the usage), 2 for a
// usageError, failed otherwise.
func exitStatus(stderr io.Writer, err error, failed int) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0 // -h printed the usage it asked for
	}
	fmt.Fprintln(stderr, "swfd:", err)
	if _, ok := errors.AsType[usageError](err); ok {
		return 2
	}
	return failed
}

// usageError is an error in how a command was called (its arguments or
// environment), found before it opened anything.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// noArguments is a usageError if args, what the flags of the command name
// left over, is not empty: no swfd command takes arguments other than
// flags. first says that args are the whole command line (its first word
// was not a flag, so it was meant as a command).
func noArguments(name string, args []string, first bool) error {
	if len(args) == 0 {
		return nil
	}
	arg := showArg(args[0])
	if first {
		return usageError{fmt.Errorf("unknown command %s: the commands are %s; the server itself takes only flags (%s -h)", arg, commands, name)}
	}
	err := fmt.Errorf("unexpected argument %s: %s takes only flags (%s -h)", arg, name, name)
	if name == "swfd" {
		err = fmt.Errorf("%w; the commands migrate, backup and restore come first, before their flags", err)
	}
	return usageError{err}
}

// showArg is arg fit for an error: quoted, unless it may hold a password
// (a key=value pair, or a URL, which is shown masked).
func showArg(arg string) string {
	switch {
	case strings.Contains(arg, "://"):
		return fmt.Sprintf("%q", server.RedactDSN(arg))
	case strings.Contains(arg, "="):
		return "(a key=value argument, not shown: it may hold a password)"
	}
	return fmt.Sprintf("%q", arg)
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("swfd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: swfd [flags]                                 serve the SWF API
       swfd migrate --from DSN --to DSN             copy a whole installation into an empty database
       swfd backup --db sqlite:PATH --to FILE       copy a running server's SQLite database
       swfd restore --from BACKUP --db sqlite:PATH  put a backup in place of a stopped server's database
Each flag may also be set with SWFD_<NAME> (SWFD_ADDR, SWFD_POLL_TIMEOUT, ...). swfd COMMAND -h: a command's flags.
The server's flags:
`)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:7733", "address to listen on")
	db := fs.String("db", defaultDB, "database: sqlite:PATH, sqlite::memory: (throwaway), or a PostgreSQL URL, postgres://USER@HOST:PORT/DB?sslmode=… (a cluster's nodes share one)")
	account := fs.String("account-id", "123456789012", "AWS account id used in ARNs (12 digits)")
	region := fs.String("region", "us-east-1", "AWS region used in ARNs")
	pollTimeout := fs.Duration("poll-timeout", 60*time.Second, "how long PollForDecisionTask/PollForActivityTask wait for work (above zero)")
	callTimeout := fs.Duration("call-timeout", frontend.DefaultCallTimeout, "how long a call other than a long poll may take: one still waiting on the database then is answered ServiceUnavailable, which SDKs retry (above zero, at most 5m; above 40s an answer may come after botocore's 60 s read timeout)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	authFile := fs.String("auth", "", "auth file: principals, their access keys and IAM policies (JSON); every request must then be signed with one of the keys. SIGHUP reloads it")
	pprofAddr := fs.String("pprof-addr", "", "if set, serve Go's /debug/pprof profiles on this address (e.g. 127.0.0.1:6060; a loopback address unless --insecure), at most 8 connections at once")
	tlsCert := fs.String("tls-cert", "", "serve HTTPS (HTTP/1.1 and HTTP/2) with this PEM certificate (chain); needs --tls-key. SIGHUP reloads it")
	tlsKey := fs.String("tls-key", "", "the PEM private key of --tls-cert")
	maxConns := fs.Int("max-connections", 0, "most connections open at once, at least 1; past it new ones wait, and idle keep-alive connections are closed, or the longest-waiting long poll answered empty, to make room (default: half the open-file limit, at least 32 and at most 10000; 10000 on Windows)")
	insecure := fs.Bool("insecure", false, "allow listening on a non-loopback address without --auth (anyone who can reach it can do anything)")
	clockMode := fs.String("clock", "real", "clock: real; for tests manual (stands still until moved: swf clock advance) or skip (jumps to the next timer whenever nothing else could happen)")
	clockUnsafe := fs.Bool("clock-unsafe", false, "allow --clock manual or skip with a database that keeps its data")
	metricsOn := fs.Bool("metrics", true, "serve Prometheus metrics at /metrics (--metrics=false: off)")
	metricsAddr := fs.String("metrics-addr", "", "serve /metrics on this address instead of --addr (e.g. a scraper's network), with /healthz and /readyz; its connections are not capped by --max-connections but by --metrics-max-connections")
	metricsMaxConns := fs.Int("metrics-max-connections", server.DefaultMetricsMaxConnections, "most connections open at once on --metrics-addr, at least 1; past it new ones wait, and idle or silent ones are closed to make room")
	metricsLists := fs.Bool("metrics-task-lists", false, "add metrics per task list (pending tasks, schedule-to-start); off by default as there may be thousands")
	accessLog := fs.String("access-log", "", "write one JSON line per API call to this file (- for standard output); SIGHUP reopens it")
	quotas := fs.String("quotas", "off", "throttling as SWF does it: off, aws (the real service's default token buckets) or a quota file (JSON; SIGHUP reloads it)")
	webConsole := fs.Bool("console", true, "serve the web console under /console/ (a browser's GET / goes there); --console=false turns it off")
	dev := fs.Bool("dev", false, "the mode for tests: everything in memory, a 5 s poll timeout unless --poll-timeout is given, and swf dev reset (POST /swfd/dev/reset) drops everything at once")
	runCacheMB := fs.Int("run-cache-mb", runs.DefaultCacheBytes>>20, "memory, in MiB, that the run cache may hold (runs' states and short histories kept so that a call on one costs no read); runs past it are read from the database when next used")
	addrFile := fs.String("addr-file", "", "once serving, write the addresses listened on to this file (addr=HOST:PORT, url=…, and metrics_addr=, pprof_addr= when set), renamed into place whole; for --addr 127.0.0.1:0 (a port the kernel picks) and scripts. Removed at start and when swfd stops")
	lambdaEndpoint := fs.String("lambda-endpoint", "", "AWS Lambda API URL (AWS or an emulator) that runs ScheduleLambdaFunction decisions' functions, with credentials from the AWS configuration chain (unsigned when it has none); without it those decisions fail (LAMBDA_SERVICE_NOT_AVAILABLE_IN_REGION). Give every node of a cluster the same")
	// Environment variables fill in flags not given on the command line,
	// each parsed as its flag is. One that does not parse is an error even
	// when the flag overrides it: the configuration is wrong either way.
	given := map[string]bool{}
	fromEnv := map[string]string{} // flag name → the variable that set it
	var envErrs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		v := getenv(name)
		if v == "" {
			return
		}
		if err := f.Value.Set(v); err != nil {
			envErrs = append(envErrs, fmt.Errorf("%s=%q: invalid value for --%s, want %s: %w", name, v, f.Name, valueKind(f), err))
			return
		}
		given[f.Name] = true
		fromEnv[f.Name] = name
	})
	if err := errors.Join(envErrs...); err != nil {
		return usageError{err}
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if err := noArguments("swfd", fs.Args(), len(fs.Args()) == len(args)); err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) {
		given[f.Name] = true
		delete(fromEnv, f.Name)
	})
	// setting is how the operator gave flag name the value v, for errors.
	setting := func(name string, v any) string {
		if env, ok := fromEnv[name]; ok {
			return fmt.Sprintf("%s=%v", env, v)
		}
		return fmt.Sprintf("--%s %v", name, v)
	}
	if *dev {
		if !given["db"] {
			*db = server.MemoryDB
		}
		if *db != server.MemoryDB {
			// Refused before the address is taken, as the other values
			// that cannot be served are.
			return usageError{fmt.Errorf("--dev keeps everything in memory (a reset drops it all); it cannot be used with %s",
				setting("db", server.RedactDSN(*db)))}
		}
		if !given["poll-timeout"] {
			*pollTimeout = server.DevPollTimeout
		}
	}
	// Values that mean nothing are refused, never replaced by a default.
	if *pollTimeout <= 0 {
		return usageError{fmt.Errorf("%s: a poll must be able to wait; give a duration above zero, such as 60s (the default) or 5s",
			setting("poll-timeout", *pollTimeout))}
	}
	if *callTimeout <= 0 || *callTimeout > maxCallTimeout {
		return usageError{fmt.Errorf("%s: give a duration above zero and at most %v, such as %v (the default) or 30s",
			setting("call-timeout", *callTimeout), maxCallTimeout, frontend.DefaultCallTimeout)}
	}
	if given["max-connections"] && *maxConns < 1 {
		return usageError{fmt.Errorf("%s: at least 1 connection must be allowed; leave the flag out for the default, half the open-file limit (at least 32, at most 10000)",
			setting("max-connections", *maxConns))}
	}
	// boolSetting is how the operator gave the boolean flag name the
	// value v: --name, --name=false or SWFD_NAME=v.
	boolSetting := func(name string, v bool) string {
		switch env, ok := fromEnv[name]; {
		case ok:
			return fmt.Sprintf("%s=%v", env, v)
		case v:
			return "--" + name
		}
		return fmt.Sprintf("--%s=%v", name, v)
	}
	if *metricsLists && !*metricsOn {
		return usageError{fmt.Errorf("%s adds series to the metrics, which %s turns off; leave one of them out",
			boolSetting("metrics-task-lists", true), boolSetting("metrics", false))}
	}
	if *clockUnsafe && clock.Mode(*clockMode) == clock.Real {
		return usageError{fmt.Errorf("%s allows --clock manual or skip on a database that keeps its data; the clock is real (%s), so it would change nothing: leave it out",
			boolSetting("clock-unsafe", true), setting("clock", *clockMode))}
	}
	if *metricsMaxConns < 1 {
		return usageError{fmt.Errorf("%s: at least 1 connection must be allowed on --metrics-addr; leave the flag out for the default, %d",
			setting("metrics-max-connections", *metricsMaxConns), server.DefaultMetricsMaxConnections)}
	}
	if given["metrics-max-connections"] && *metricsAddr == "" {
		return usageError{fmt.Errorf("%s caps the connections of --metrics-addr, which is not given: /metrics is served on --addr, under --max-connections", setting("metrics-max-connections", *metricsMaxConns))}
	}
	if *db == "" {
		// As for --quotas: only a flag given empty gets here.
		return usageError{fmt.Errorf("%s: give the database: sqlite:PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB (the default is %s)",
			setting("db", `""`), defaultDB)}
	}
	if given["auth"] && *authFile == "" {
		// Only a flag given empty gets here (an empty SWFD_AUTH is not
		// set). Without --auth swfd takes any credentials: an empty
		// value is far more likely a file's path gone missing than a
		// wish for that, so it is not read as no --auth.
		return usageError{fmt.Errorf("%s: give the path of the auth file (docs/auth.md), or leave --auth out to accept any credentials", setting("auth", `""`))}
	}
	if *quotas == "" {
		// Only a flag given empty gets here (an empty SWFD_QUOTAS is not
		// set): off is written "off", and an empty value is more likely
		// a file's path or "aws" gone missing than a wish for none.
		return usageError{fmt.Errorf("%s: use off, aws or the path of a quota file", setting("quotas", `""`))}
	}
	if *runCacheMB < 1 || *runCacheMB > maxRunCacheMB {
		return usageError{fmt.Errorf("%s: give the run cache between 1 and %d MiB (the default is %d)",
			setting("run-cache-mb", *runCacheMB), maxRunCacheMB, runs.DefaultCacheBytes>>20)}
	}
	if !isAccountID(*account) {
		return usageError{fmt.Errorf("%s: an account id is 12 digits, such as 123456789012", setting("account-id", fmt.Sprintf("%q", *account)))}
	}
	if *lambdaEndpoint != "" && !isHTTPURL(*lambdaEndpoint) {
		return usageError{fmt.Errorf("%s: give the Lambda API's URL, with its scheme: https://lambda.REGION.amazonaws.com, or http://HOST:PORT for an emulator (no user name or password, query or fragment; a port from 1 to 65535)",
			setting("lambda-endpoint", fmt.Sprintf("%q", redactURL(*lambdaEndpoint))))}
	}
	if !isRegion(*region) {
		return usageError{fmt.Errorf("%s: a region is letters, digits and hyphens, such as us-east-1", setting("region", fmt.Sprintf("%q", *region)))}
	}
	if _, err := clock.ParseMode(*clockMode); err != nil {
		return usageError{fmt.Errorf("%s: use real, manual or skip", setting("clock", fmt.Sprintf("%q", *clockMode)))}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{fmt.Errorf("%s: use debug, info, warn or error", setting("log-level", fmt.Sprintf("%q", *logLevel)))}
	}
	var handler slog.Handler
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		return usageError{fmt.Errorf("%s: use text or json", setting("log-format", fmt.Sprintf("%q", *logFormat)))}
	}
	log := slog.New(handler)
	if *callTimeout > sdkCallTimeout {
		log.Warn("--call-timeout is above 40s: a call whose database stops answering may be answered after 60 s, when SDKs with botocore's default read timeout have sent it again (a signal could be recorded twice); raise the clients' read timeouts to match",
			"call_timeout", *callTimeout)
	}
	// SIGHUP reloads what there is to reload; it never stops swfd, not
	// even while it starts (a signal then waits until it has started).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// SIGINT and SIGTERM stop swfd gracefully, as the end of ctx does:
	// calls in flight may finish (server.Serve). Another one while it
	// stops closes the connections still open at once (server.Abort).
	term := make(chan os.Signal, 2)
	signal.Notify(term, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(term)
	// The signal is ctx's cause: a start it stops says so (stoppedStarting).
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	returned := make(chan struct{})
	defer close(returned)
	forced := make(chan struct{})
	go func() {
		select {
		case sig := <-term:
			log.Info("stopping; another SIGINT or SIGTERM stops at once", "signal", sig)
			stop(stopSignal{sig})
		case <-ctx.Done():
		case <-returned:
			return
		}
		select {
		case sig := <-term:
			log.Warn("stopping at once", "signal", sig)
			close(forced)
		case <-returned:
		}
	}()

	if *authFile == "" {
		loopback, err := isLoopback("--addr", *addr)
		if err != nil {
			return err
		}
		if !loopback {
			if !*insecure {
				return fmt.Errorf("refusing to listen on %s without --auth: swfd would accept any credentials from anyone who can reach it. "+
					"Give --auth FILE (see docs/auth.md), listen on a loopback address (e.g. --addr 127.0.0.1:7733), or pass --insecure if that is really intended", *addr)
			}
			log.Warn("listening on a non-loopback address without --auth: anyone who can reach it can do anything (--insecure)", "addr", *addr)
		}
	}
	if *pprofAddr != "" {
		loopback, err := isLoopback("--pprof-addr", *pprofAddr)
		if err != nil {
			return err
		}
		if !loopback && !*insecure {
			return fmt.Errorf("refusing to serve profiles on %s: they show the server's goroutines, allocations and code paths to anyone who can reach it. "+
				"Use a loopback address (e.g. --pprof-addr 127.0.0.1:6060), or pass --insecure if that is really intended", *pprofAddr)
		}
	}

	// A file swfd writes must not be one of the SQLite database's: the
	// address file would be renamed onto the database, the access log
	// appended to it.
	for _, f := range []struct{ flag, path string }{{"addr-file", *addrFile}, {"access-log", *accessLog}} {
		if f.path == "" || f.flag == "access-log" && f.path == "-" {
			continue
		}
		if which := databaseFile(*db, f.path); which != "" {
			return usageError{fmt.Errorf("--%s %s is the database's %s (--db %s): give it a path of its own", f.flag, f.path, which, server.RedactDSN(*db))}
		}
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usageError{errors.New("TLS needs both a certificate (--tls-cert) and its key (--tls-key)")}
	}
	if *addrFile != "" {
		if err := prepareAddrFile(*addrFile); err != nil {
			return err
		}
	}

	// The addresses are taken before anything is opened: one in use stops
	// swfd before it creates or migrates a database. Until Serve, after
	// the store is open and migrated, connections to --addr wait in the
	// kernel's backlog, so no call (and no /readyz) is answered before
	// swfd is ready. (--metrics-addr is taken by server.Open, also before
	// the store.)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	defer ln.Close()
	pprofBound := "" // the address --pprof-addr got
	if *pprofAddr != "" {
		pln, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			return fmt.Errorf("--pprof-addr: %w", err)
		}
		pprofBound = pln.Addr().String()
		// Profiles are served at once: they may show why a start is slow.
		stop := servePprof(pln, log)
		defer stop()
	}
	if *addrFile != "" {
		if err := removeStaleAddrFile(*addrFile); err != nil {
			return err
		}
	}
	// Said before the store opens, which may take long (a database slow to
	// answer, migrations): the address is taken and calls will wait.
	log.Info("address taken; opening the store", "addr", ln.Addr().String(), "db", server.RedactDSN(*db))

	pprofConns := 0 // the connections --pprof-addr may hold, for the open-file limit's warning
	if *pprofAddr != "" {
		pprofConns = pprofMaxConnections
	}
	// The first signal cancels ctx, which the open heeds; a second one
	// stops swfd at once even if the open does not end (something in it
	// that waits without heeding ctx), as it does once swfd serves.
	type openResult struct {
		srv *server.Server
		err error
	}
	openDone := make(chan openResult, 1)
	go func() {
		srv, err := openServer(ctx, server.Config{DB: *db, AccountID: *account, Region: *region, PollTimeout: *pollTimeout, CallTimeout: *callTimeout, Logger: log, AuthFile: *authFile,
			TLSCertFile: *tlsCert, TLSKeyFile: *tlsKey, MaxConnections: *maxConns,
			ClockMode: clock.Mode(*clockMode), ClockUnsafe: *clockUnsafe,
			MetricsOff: !*metricsOn, MetricsAddr: *metricsAddr, MetricsMaxConnections: *metricsMaxConns, MetricsTaskLists: *metricsLists, AccessLog: *accessLog, OtherConnections: pprofConns, NoConsole: !*webConsole,
			Quotas: *quotas, Dev: *dev, LambdaEndpoint: *lambdaEndpoint, RunCacheBytes: *runCacheMB << 20})
		openDone <- openResult{srv, err}
	}()
	var srv *server.Server
	select {
	case o := <-openDone:
		srv, err = o.srv, o.err
	case <-forced:
		go func() {
			// Should the open end after all, close what it opened.
			if o := <-openDone; o.srv != nil {
				o.srv.Close()
			}
		}()
		return errors.New("stopped at once by a second signal while starting: the store had not opened")
	}
	if err != nil {
		return stoppedStarting(ctx, err)
	}
	closing := false // the store's Close has begun: not again
	defer func() {
		if !closing {
			closeServer(srv)
		}
	}()
	go func() {
		select {
		case <-forced:
			srv.Abort()
		case <-returned:
		}
	}()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				reloaded, err := srv.Reload()
				if err != nil {
					log.Error("reload on SIGHUP", "err", err)
				}
				if len(reloaded) > 0 {
					log.Info("reloaded on SIGHUP", "what", strings.Join(reloaded, ", "))
				}
				if len(reloaded) == 0 && err == nil {
					log.Info("SIGHUP: nothing to reload (no --auth, --tls-cert, --access-log or --quotas file)")
				}
			}
		}
	}()
	srv.Start()
	if *addrFile != "" {
		metricsBound := ""
		if *metricsAddr != "" {
			metricsBound = srv.MetricsAddr()
		}
		content := addrFileContent(ln.Addr().String(), srv.TLS(), metricsBound, pprofBound)
		written, err := writeAddrFile(*addrFile, content)
		if err != nil {
			return err
		}
		defer written.remove()
	}
	listening := []any{"addr", ln.Addr().String(), "tls", srv.TLS(), "db", server.RedactDSN(*db), "region", *region, "account_id", *account,
		"auth", srv.Auth != nil, "quotas", *quotas, "max_connections", srv.MaxConnections(), "call_timeout", srv.CallTimeout(), "run_cache_mb", *runCacheMB, "clock", *clockMode, "metrics", srv.MetricsAddr(), "console", *webConsole, "dev", *dev}
	if pprofBound != "" {
		// As bound, like the others: with --pprof-addr HOST:0 the log is
		// the only place, beside --addr-file, that says where it is.
		listening = append(listening, "pprof", pprofBound)
	}
	log.Info("swfd listening", listening...)
	err = srv.Serve(ctx, ln)
	// The calls have ended: close the store (its commits under way, the
	// cluster's news of the tasks left, the clock's time). That may take
	// long, some 20 s while a PostgreSQL does not answer (a commit waits
	// 10 s for its answer and 10 s more to read back whether it landed),
	// so a second signal cuts it short, as it does the wait for the calls:
	// swfd then waits at most storeCloseWait for the store. A call stuck
	// in it could hold it open for ever, and every write acknowledged is
	// on disk already.
	closing = true
	closed := make(chan error, 1)
	go func() { closed <- closeServer(srv) }()
	aborted := errors.Is(err, server.ErrAborted)
	if !aborted {
		select {
		case cerr := <-closed:
			if cerr != nil {
				log.Error("close the store", "err", cerr)
			}
			return err
		case <-forced:
			log.Warn("the calls had ended and the store was closing; waiting for it no longer than this", "wait", storeCloseWait)
		}
	}
	select {
	case cerr := <-closed:
		if cerr != nil {
			log.Error("close the store", "err", cerr)
		}
	case <-time.After(storeCloseWait):
		log.Warn("the store did not close in time; stopping without waiting for it", "waited", storeCloseWait)
	}
	if aborted {
		return fmt.Errorf("stopped at once by a second signal: %w", err)
	}
	if err != nil {
		return fmt.Errorf("stopped at once by a second signal while closing the store (serving had ended with: %w)", err)
	}
	return errors.New("stopped at once by a second signal while closing the store")
}

// stopSignal is the cause of run's context when a signal stopped swfd.
type stopSignal struct{ sig os.Signal }

func (s stopSignal) Error() string { return signalName(s.sig) + " received" }

// signalName is a stopping signal's usual name, SIGTERM rather than Go's
// "terminated".
func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// stoppedStarting is run's error when opening the server failed with err:
// when a signal ended the open (ctx's cause), it says so before err, which
// says what the open was doing (waiting for PostgreSQL to answer, for
// another node's migration, ...): err alone ends in "context canceled",
// which reads as a failure of swfd's own.
func stoppedStarting(ctx context.Context, err error) error {
	sig, ok := errors.AsType[stopSignal](context.Cause(ctx))
	if !ok || !errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("stopped by %s while starting, before serving any call: %w", signalName(sig.sig), err)
}

// openServer is server.Open; a test of a start that does not end puts
// something slower in its place.
var openServer = server.Open

// closeServer is (*server.Server).Close; a test of a close that does not
// end puts something slower in its place.
var closeServer = (*server.Server).Close

// storeCloseWait is how long swfd, stopped at once by a second signal,
// waits for its store to close.
const storeCloseWait = 5 * time.Second

// pprofMaxConnections caps the connections open at once on --pprof-addr:
// a few people or tools looking at profiles, each holding one for as long
// as a profile takes.
const pprofMaxConnections = 8

// servePprof serves Go's /debug/pprof profiles on ln until the function it
// returns is called.
func servePprof(ln net.Listener, log *slog.Logger) (stop func()) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// Bounded as the API's address is: headers within 10 s and 64 KiB, a
	// body no handler reads never waited for, and at most
	// pprofMaxConnections connections, idle and silent ones closed to make
	// room.
	lim := connlimit.Listen(ln, pprofMaxConnections)
	full := lograte.New(log, 1, 1, nil)
	lim.OnFull = func() {
		full.Log(context.Background(), slog.LevelWarn, "--pprof-addr connection limit reached: a new connection waits until one closes (idle and silent ones are closed to make room)",
			"pprof_max_connections", lim.Max())
	}
	hs := &http.Server{Handler: server.CloseUnreadBodies(mux), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: server.MaxHeaderBytes,
		ConnState: lim.ConnState, ConnContext: lim.ConnContext}
	go func() {
		if err := hs.Serve(lim); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof server", "err", err)
		}
	}()
	return func() { hs.Close() }
}

// databaseFile says which of the SQLite database's files path is ("file",
// "write-ahead log", …) when dsn names a SQLite file, and "" otherwise. The
// paths are compared absolute, their directories' links resolved.
func databaseFile(dsn, path string) string {
	db, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok || db == "" || db == ":memory:" {
		return ""
	}
	canon := func(p string) string {
		abs, err := filepath.Abs(p)
		if err != nil {
			return filepath.Clean(p)
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			return real
		}
		if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
			return filepath.Join(dir, filepath.Base(abs))
		}
		return abs
	}
	target := canon(path)
	for _, f := range []struct{ suffix, what string }{{"", "file"}, {"-wal", "write-ahead log"}, {"-shm", "WAL index (-shm)"}, {"-journal", "journal"}} {
		if canon(db+f.suffix) == target {
			return f.what
		}
	}
	return ""
}

// envName is the environment variable of the flag name: SWFD_, then the
// name in capitals with "_" for "-".
func envName(name string) string {
	return "SWFD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// valueKind says what values the flag f takes, for an error about a value
// it does not.
func valueKind(f *flag.Flag) string {
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case bool:
			return "true or false"
		case time.Duration:
			return "a duration with its unit, such as 30s or 2m"
		case int:
			return "a whole number"
		}
	}
	return "a value " + f.Name + " takes"
}

// isAccountID reports whether s is an AWS account id: 12 digits.
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isRegion reports whether s can be the region of swfd's ARNs: letters,
// digits and hyphens, not at either end. A ':' would split the ARNs swfd
// hands out where no call can read them back.
func isRegion(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// isHTTPURL reports whether s is an absolute http or https URL with a
// host, and if it names a port, one from 1 to 65535: the SDK would take
// another value as an endpoint, and fail each request sent to it. It has no
// query or fragment, which the Invoke API's requests never carry, and no
// user name or password: the Lambda client ignores them (an endpoint that
// wants them would refuse every call), and swfd logs the endpoint at start.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	return strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")
}

// redactURL is s with the password of a URL's user hidden, for messages.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

// isLoopback reports whether addr (host:port, the value of flag name) only
// listens on loopback interfaces. An empty or unspecified host listens on
// every interface.
func isLoopback(name, addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("%s %q: %w", name, addr, err)
	}
	if host == "" {
		return false, nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback(), nil
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return false, fmt.Errorf("%s %q: %w", name, addr, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false, nil
		}
	}
	return len(ips) > 0, nil
}
