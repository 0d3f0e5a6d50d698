// Package server assembles a running swfd from its parts: it opens the
// store named by a DSN, builds the service and the HTTP frontend, serves
// /healthz, /readyz and /metrics (the Prometheus metrics, package metrics),
// the web console under /console/ (package console) and swfd's own API
// under /swfd/ (package admin, with the clock the Config asks for), makes
// the invoker of the Lambda endpoint it is given (package lambda/awslambda),
// writes the access log (package accesslog), serves HTTP or HTTPS within
// limits on connections and time, reloads what can be reloaded (Reload), and shuts
// everything down in order. cmd/swfd and the end-to-end tests both start
// servers through it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/admin"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/console"
	"github.com/swfd/swfd/frontend"
	"github.com/swfd/swfd/internal/connlimit"
	"github.com/swfd/swfd/internal/lograte"
	"github.com/swfd/swfd/internal/migrate"
	"github.com/swfd/swfd/internal/tlscert"
	"github.com/swfd/swfd/lambda"
	"github.com/swfd/swfd/lambda/awslambda"
	"github.com/swfd/swfd/postgres"
	"github.com/swfd/swfd/quota"
	"github.com/swfd/swfd/service"
	"github.com/swfd/swfd/sqlite"
)

// Config is a server's configuration.
type Config struct {
	DB          string // sqlite:PATH, sqlite::memory:, postgres://…
	AccountID   string
	Region      string
	PollTimeout time.Duration
	Logger      *slog.Logger
	Clock       swfd.Clock
	Limits      service.Limits
	// AuthFile, if set, turns on authentication and authorization: every
	// request must be signed (SigV4) with a key the file lists, and its
	// principal's policies decide each call and decision. Auth, if set,
	// is used instead of loading AuthFile.
	AuthFile string
	Auth     *auth.Keyring
	// ReadHeaderTimeout bounds how long a client may take to send a
	// request's headers, BodyTimeout how long it may take to send the body
	// (default 10s and 20s): a client that never finishes sending is cut
	// off instead of holding a connection and a goroutine for ever.
	ReadHeaderTimeout time.Duration
	BodyTimeout       time.Duration
	// WriteTimeout bounds how long sending one answer may take once it is
	// ready (default 30s): a client that does not read its answer is cut
	// off instead of holding the answer's memory. Long polls are not cut
	// short: the time spent waiting for work does not count.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection may sit idle
	// between requests (default 60s).
	IdleTimeout time.Duration
	// CallTimeout bounds how long an API call other than a long poll may
	// take once decoded (zero or less: frontend.DefaultCallTimeout): past it a
	// call still waiting on the store is answered ServiceUnavailable,
	// which SDKs retry (frontend.Handler's CallTimeout). Long polls wait
	// PollTimeout instead.
	CallTimeout time.Duration
	// ShutdownTimeout bounds how long Serve, once its context ends, waits
	// for the calls in flight to finish and the Lambda functions in flight
	// to answer (default 15s, or CallTimeout when that is longer); the
	// connections still open then are closed, and the functions still
	// running are recorded as failed (package lambda, Drain).
	ShutdownTimeout time.Duration
	// MaxConnections caps the connections open at once; past it new
	// connections wait, and idle keep-alive connections are closed, or
	// else the long poll waiting longest is answered empty, to make room
	// (package connlimit). Default: connlimit.Default of the process's
	// file limit.
	MaxConnections int
	// TLSCertFile and TLSKeyFile, if set, make Serve speak HTTPS (HTTP/1.1
	// and HTTP/2) with this PEM certificate (chain) and key. Reload reads
	// them again.
	TLSCertFile string
	TLSKeyFile  string
	// ClockMode is how the clock runs: clock.Real (the default), or
	// clock.Manual or clock.Skip, which make a clock of that kind (unless
	// Clock is movable already, and then start at Clock's time) and are
	// refused with a store that keeps its data unless ClockUnsafe is set.
	// Skip is refused with PostgreSQL, and Manual is refused on a
	// PostgreSQL database another node uses (and makes every other node
	// refused on it while it runs): a move reaches only the node it is
	// made on. See package clock and package admin.
	ClockMode   clock.Mode
	ClockUnsafe bool
	// Observability. /metrics serves the Prometheus metrics on the API's
	// address, or on MetricsAddr if it is set (with /healthz and /readyz,
	// out of MaxConnections' reach); MetricsOff turns them off.
	// MetricsMaxConnections caps the connections open at once on
	// MetricsAddr (DefaultMetricsMaxConnections when zero or less), as
	// MaxConnections does the API's, idle and silent ones closed to make
	// room. MetricsTaskLists adds series per task list. AccessLog, if set,
	// is the access log's path ("-": standard output).
	MetricsOff            bool
	MetricsAddr           string
	MetricsMaxConnections int
	MetricsTaskLists      bool
	AccessLog             string
	// OtherConnections is how many connections the process may hold open
	// on addresses of its own beside the server's (cmd/swfd's
	// --pprof-addr, capped), counted with MaxConnections and
	// MetricsMaxConnections against the open-file limit at start.
	OtherConnections int
	// NoConsole turns the web console off (package console, served under
	// /console/; a browser's GET / is sent there).
	NoConsole bool
	// Quotas throttles calls and decisions as the real service does
	// (package quota): "" or "off" not at all, "aws" with the real
	// service's default buckets, anything else is a quota file's path
	// (checked at Open, read again by Reload). The buckets read the time
	// from Clock.
	Quotas string
	// Dev is the mode for tests (swfd --dev): the store is in memory
	// (DB must be empty or MemoryDB), the poll timeout is DevPollTimeout
	// unless set, and Reset drops everything at once.
	Dev bool
	// LambdaEndpoint, if set, is the AWS Lambda API (AWS itself or an
	// emulator) that runs the functions ScheduleLambdaFunction decisions
	// schedule (package lambda/awslambda); without it every such decision
	// fails with LAMBDA_SERVICE_NOT_AVAILABLE_IN_REGION. Every node of a
	// cluster needs the same. LambdaInvoker, if set, is used instead.
	LambdaEndpoint string
	LambdaInvoker  lambda.Invoker
	// RunCacheBytes bounds the memory of the run cache (the runs kept in
	// memory so that a call on one costs no read): runs.DefaultCacheBytes
	// when zero.
	RunCacheBytes int
}

// DefaultMetricsMaxConnections is the cap on the connections open at once
// on --metrics-addr: a scraper or two and health probes need a few, and
// those idle between requests, or silent since they connected, are closed
// to make room for a new one.
const DefaultMetricsMaxConnections = 32

// MaxHeaderBytes bounds a request's headers (with its request line), on the
// API's address and on --metrics-addr: past it the request is answered 431
// Request Header Fields Too Large. A signed SWF call's headers take about a
// kilobyte (a session token a few more); net/http's default, 1 MB, would
// let every connection open hold a megabyte before any check.
const MaxHeaderBytes = 64 << 10

// DevPollTimeout is how long a long poll waits in --dev mode unless the
// poll timeout is set: a test's worker that stops polling should not keep
// the test waiting a minute.
const DevPollTimeout = 5 * time.Second

// Defaults of the Config's limits.
const (
	DefaultWriteTimeout = 30 * time.Second
	DefaultIdleTimeout  = 60 * time.Second
	DefaultShutdown     = 15 * time.Second
	defaultReadHeader   = 10 * time.Second
	defaultBodyTimeout  = 20 * time.Second
)

// How many warnings a second refused requests and denied calls may write
// to the log (each kind on its own), after a burst of authWarnBurst.
const (
	authWarnsPerSecond = 2
	authWarnBurst      = 10
)

// How many lines a second calls that the store refused (a full disk) or
// failed (an internal error) may write to the log (each kind on its own),
// after a burst of storeLineBurst.
const (
	storeLinesPerSecond = 2
	storeLineBurst      = 10
)

// Server is an assembled swfd.
//
// Store, Service and Clock are the parts it serves with. A reset (--dev)
// replaces them with new ones; code that reads them must not run beside a
// Reset (ClockNow, MoveClock and HoldClock may).
type Server struct {
	Store   swfd.Store
	Service *service.Service
	Handler http.Handler
	// Auth is the auth file in force; nil when authentication is off.
	Auth *auth.Keyring
	// Clock moves the clock; nil when it is real.
	Clock *clock.Controller
	log   *slog.Logger

	cfg      Config // with its defaults filled in
	tls      *tlscert.Certificate
	stopping atomic.Bool
	// abort is closed by Abort: Serve's shutdown stops waiting.
	abort     chan struct{}
	abortOnce sync.Once
	// warn writes the server's own warnings (failed health checks,
	// net/http's connection errors), a few a second at most.
	warn *lograte.Limiter
	obs  *observer
	// Quotas are the buckets in force; nil when throttling is off. They
	// outlive a reset (--dev), as the configuration does, with every
	// bucket full again.
	Quotas *quota.Limiter
	// lambda invokes Lambda tasks; nil without an endpoint.
	lambda lambda.Invoker

	mu      sync.Mutex
	engine  *engine        // in use (see build)
	started bool           // Start has run: a new engine runs at once
	closed  bool           // Close has run
	retired sync.WaitGroup // engines replaced by a reset, until they are closed
	reset   sync.RWMutex   // see devSwitch
}

// RedactDSN is dsn fit for a log line or an error: nothing in it is a
// secret. A sqlite: DSN is a path and is shown whole. A URL is shown with
// its password, in the user part or in a password or sslpassword
// parameter, replaced by "xxxxx"; a URL whose parts cannot be told apart
// for certain (it does not parse, or an @ follows its host, as when a
// password holds an unencoded / or ?) is shown as its scheme alone.
// Anything else, such as a key=value connection string ("host=db
// password=…"), is not shown at all: where a password would be in it is
// not known.
func RedactDSN(dsn string) string {
	if strings.HasPrefix(dsn, "sqlite:") {
		return dsn
	}
	scheme, rest, isURL := strings.Cut(dsn, "://")
	if !isURL || !validScheme(scheme) {
		return "(not shown: not a URL)"
	}
	hidden := scheme + "://(not a valid URL; not shown)"
	if end := strings.IndexAny(rest, "/?#"); end >= 0 && strings.Contains(rest[end:], "@") {
		return hidden
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return hidden
	}
	u.RawQuery = redactQuery(u.RawQuery)
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = "xxxxx", ""
	}
	return u.Redacted()
}

// validScheme reports whether s is a URL scheme: a letter, then letters,
// digits, "+", "-" or ".".
func validScheme(s string) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// redactQuery replaces the value of every password parameter of a URL's
// raw query with "xxxxx": a parameter whose name, unescaped, is password
// or sslpassword in any case, and any parameter whose name cannot be
// unescaped or that holds a ";" (a driver may split the query there).
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	params := strings.Split(raw, "&")
	for i, p := range params {
		k, _, hasValue := strings.Cut(p, "=")
		if !hasValue {
			continue
		}
		name, err := url.QueryUnescape(k)
		name = strings.ToLower(strings.TrimSpace(name))
		if err != nil || strings.Contains(p, ";") || name == "password" || name == "sslpassword" {
			params[i] = k + "=xxxxx"
		}
	}
	return strings.Join(params, "&")
}

// OpenStore opens the store a DSN names. Its errors never hold a password
// (see RedactDSN).
func OpenStore(ctx context.Context, dsn string, log *slog.Logger) (swfd.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, errors.New("sqlite: needs a path, e.g. sqlite:./swfd-data/swfd.db or sqlite::memory:")
		}
		if path != ":memory:" {
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return nil, fmt.Errorf("create data directory: %w", err)
			}
		}
		return sqlite.Open(ctx, path, log)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := postgres.Open(ctx, dsn, log)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL database: %w", err)
		}
		return db, nil
	}
	hint := ""
	switch {
	case strings.Contains(dsn, "://"):
	case strings.Contains(dsn, "="):
		hint = " (a PostgreSQL key=value connection string must be written as a URL: postgres://USER:PASSWORD@HOST:PORT/DB?PARAM=VALUE)"
	case dsn != "":
		hint = " (for a SQLite file, put sqlite: before its path)"
	}
	return nil, fmt.Errorf("unknown database %s; use sqlite:PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB%s", RedactDSN(dsn), hint)
}

// Open opens the store and builds the service; call Start to begin the
// background work and Close to stop.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if cfg.Dev {
		if cfg.DB == "" {
			cfg.DB = MemoryDB
		}
		if cfg.DB != MemoryDB {
			return nil, fmt.Errorf("--dev keeps everything in memory (a reset drops it all); it cannot be used with --db %s", RedactDSN(cfg.DB))
		}
		def(&cfg.PollTimeout, DevPollTimeout)
	}
	def(&cfg.ReadHeaderTimeout, defaultReadHeader)
	def(&cfg.BodyTimeout, defaultBodyTimeout)
	def(&cfg.WriteTimeout, DefaultWriteTimeout)
	def(&cfg.IdleTimeout, DefaultIdleTimeout)
	def(&cfg.CallTimeout, frontend.DefaultCallTimeout)
	// A call in flight when shutdown begins may take the whole call
	// timeout: a longer --call-timeout lengthens the wait for it too.
	def(&cfg.ShutdownTimeout, max(DefaultShutdown, cfg.CallTimeout))
	def(&cfg.PollTimeout, 60*time.Second)
	if cfg.MetricsMaxConnections <= 0 {
		cfg.MetricsMaxConnections = DefaultMetricsMaxConnections
	}
	files := connlimit.FileLimit()
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = connlimit.Default(files)
	}
	// MetricsAddr's connections take open files of their own, beside the
	// API's, and so do those of the process's other addresses: the caps
	// must fit in the limit together.
	metricsConns := 0
	if cfg.MetricsAddr != "" && !cfg.MetricsOff {
		metricsConns = cfg.MetricsMaxConnections
	}
	others := max(cfg.OtherConnections, 0)
	switch {
	case connlimit.Fits(cfg.MaxConnections+metricsConns+others, files):
	case metricsConns == 0 && others == 0:
		cfg.Logger.Warn("--max-connections is more than the open-file limit allows: with that many connections open, accepting one fails with \"too many open files\" and new connections wait, and the database may fail to open its files; raise the open-file limit (ulimit -n, systemd's LimitNOFILE=) or lower --max-connections",
			"max_connections", cfg.MaxConnections, "open_file_limit", files, "kept_for_other_files", connlimit.OtherFiles)
	default:
		cfg.Logger.Warn("--max-connections and the caps of the other addresses (--metrics-max-connections, --pprof-addr's) together are more than the open-file limit allows: with that many connections open on the addresses, accepting one fails with \"too many open files\" and new connections wait, and the database may fail to open its files; raise the open-file limit (ulimit -n, systemd's LimitNOFILE=) or lower the caps",
			"max_connections", cfg.MaxConnections, "metrics_max_connections", metricsConns, "other_connections", others, "open_file_limit", files, "kept_for_other_files", connlimit.OtherFiles)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "123456789012"
	}
	// The clock first: the metrics measure ages and lateness on it. Each
	// engine gets its own controller of this clock (build).
	if _, err := openClock(&cfg); err != nil {
		return nil, err
	}
	var cert *tlscert.Certificate
	var err error
	if cfg.TLSCertFile != "" || cfg.TLSKeyFile != "" {
		if cert, err = tlscert.Load(cfg.TLSCertFile, cfg.TLSKeyFile); err != nil {
			return nil, err
		}
	}
	limiter, err := openQuotas(cfg.Quotas, cfg.Clock)
	if err != nil {
		return nil, err
	}
	obs, err := openObserver(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{log: cfg.Logger, cfg: cfg, tls: cert, warn: lograte.New(cfg.Logger, 2, 10, nil), obs: obs, Quotas: limiter,
		abort: make(chan struct{})}
	if cert != nil {
		obs.tls = cert
		s.certLoaded()
	}
	// The Lambda client once (it looks for credentials): every engine
	// invokes through it.
	s.lambda = cfg.LambdaInvoker
	if s.lambda == nil && cfg.LambdaEndpoint != "" {
		if s.lambda, err = awslambda.New(ctx, awslambda.Options{Endpoint: cfg.LambdaEndpoint, Region: cfg.Region, Log: cfg.Logger}); err != nil {
			obs.close()
			return nil, err
		}
	}
	s.Auth = cfg.Auth
	if s.Auth == nil && cfg.AuthFile != "" {
		if s.Auth, err = auth.LoadKeyring(cfg.AuthFile, cfg.Logger); err != nil {
			obs.close()
			return nil, err
		}
	}
	if path := s.quotaFile(); path != "" {
		if err := s.checkQuotaPrincipals(s.Quotas.Config()); err != nil {
			obs.close()
			return nil, fmt.Errorf("--quotas: quota file %s: %w", path, err)
		}
	}
	e, err := s.build(ctx)
	if err != nil {
		obs.close()
		return nil, err
	}
	s.use(e)
	s.Handler = e.handler
	if cfg.Dev {
		s.Handler = &devSwitch{s: s}
	}
	return s, nil
}

// startFailed is build's error when a step of the start after the store
// opened failed: it names the step, and says what to do. Without it the
// step's own error was all swfd printed, which said neither that the
// database had opened nor what to change.
func startFailed(st swfd.Store, step string, err error) error {
	_, pg := st.(*postgres.DB)
	hint := "nothing was served; start swfd again once the cause above is dealt with"
	switch {
	case !pg:
	case postgres.TooManyConnections(err):
		hint = "PostgreSQL refused a connection for its connection limits: each swfd node holds its pool's connections " +
			"(pool_max_conns in --db; 16 by default, twice the CPUs on a machine of more than 8) and two more (the cluster's news and the node's claim); " +
			"raise the role's or the database's CONNECTION LIMIT (ALTER ROLE … CONNECTION LIMIT n) or the server's max_connections, " +
			"or lower pool_max_conns, then start swfd again"
	case errors.Is(err, swfd.ErrStorageUnavailable), errors.Is(err, swfd.ErrLocked), errors.Is(err, swfd.ErrOutcomeUnknown),
		errors.Is(err, context.DeadlineExceeded):
		hint = "the database failed or did not answer in time after it opened: check that it is up and answers, and that no " +
			"other session holds swfd's tables locked (pg_locks, pg_stat_activity), then start swfd again"
	}
	return fmt.Errorf("the database opened, but %s failed: %w; %s", step, err, hint)
}

// engine is what a server serves with: the store, the service over it and
// the handlers in front. A server has one; a --dev server makes a new one
// at each reset.
type engine struct {
	store   swfd.Store
	svc     *service.Service
	clock   *clock.Controller // nil when the clock is real
	pg      *postgres.DB      // in a cluster
	release func()            // ends the node's claim on the store (claimNode)
	hub     *console.Hub      // nil without the console
	api     *frontend.Handler // the SWF API, within handler
	handler http.Handler

	cancel context.CancelFunc // ends Run, once started
	done   chan struct{}      // closed when Run has returned

	calls calls // the requests being served with it
}

// build opens the store and makes an engine over it with the server's
// configuration. s.cfg.Clock is set to the clock the engine runs on, so
// that the next engine (after a reset) keeps its time.
func (s *Server) build(ctx context.Context) (*engine, error) {
	ctl, err := openClock(&s.cfg)
	if err != nil {
		return nil, err
	}
	cfg := s.cfg
	st, err := OpenStore(ctx, cfg.DB, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	// A copy swfd migrate did not finish lacks part of its source:
	// served, it would look like a whole installation that lost work.
	if err := migrate.CheckFinished(ctx, st); err != nil {
		st.Close()
		if errors.Is(err, migrate.ErrUnfinishedCopy) {
			return nil, fmt.Errorf("refusing to serve this database: %w", err)
		}
		return nil, startFailed(st, "reading whether swfd migrate left a copy in it unfinished", err)
	}
	release, err := claimNode(ctx, st, ctl)
	if err != nil {
		st.Close()
		return nil, startFailed(st, "taking this node's claim on it", err)
	}
	if err := agreeIdentity(ctx, st, cfg.Region, cfg.AccountID, s.log); err != nil {
		release()
		st.Close()
		return nil, startFailed(st, "checking the region and account it is served as", err)
	}
	if ctl != nil {
		// A clock that moves starts no earlier than the latest time it
		// reached on this database, and keeps there each time it reaches.
		if err := ctl.Keep(ctx, st); err != nil {
			release()
			st.Close()
			return nil, startFailed(st, "reading the time the clock keeps in it", err)
		}
	} else {
		// The real clock does not resume from such a time: say so.
		warnKeptClock(ctx, st, cfg.Clock, s.log)
	}
	s.obs.observeStore(st)
	e := &engine{store: st, clock: ctl, release: release, done: make(chan struct{})}
	var bcast swfd.Broadcaster
	if e.pg, _ = st.(*postgres.DB); e.pg != nil {
		// Any number of nodes may share a PostgreSQL database: they
		// tell each other of new work through LISTEN/NOTIFY.
		bcast = e.pg.Broadcaster()
	}
	region, account := cfg.Region, cfg.AccountID
	var authorize service.DecisionAuthorizer
	if s.Auth != nil {
		// Each decision is authorized against the policies of the
		// principal that sent the call.
		authorize = func(ctx context.Context, domain string, tags service.DomainTagLister) (func(*api.Decision, map[string]string) bool, error) {
			return auth.DecisionHook(ctx, region, account, domain, tags)
		}
	}
	sopts := service.Options{
		Store: st, Clock: cfg.Clock, Logger: cfg.Logger,
		AccountID: account, Region: region,
		PollTimeout: cfg.PollTimeout, Limits: limitsWithDefaults(cfg.Limits),
		Broadcaster: bcast, AuthorizeDecisions: authorize, Hooks: s.obs.hooks(),
		Lambda: s.lambda, RunCacheBytes: cfg.RunCacheBytes,
		// Long polls give their connections up when every connection
		// the listener may hold is taken (limitConnections).
		LongWait: connlimit.Waiting,
	}
	if ctl != nil {
		sopts.SkipTime, sopts.HoldTime, sopts.HoldPoll = ctl.SkipTo, ctl.Hold, ctl.HoldWait
		// A page token's day is one of real time, as a long poll's minute
		// is: a jump of the clock must not end the paging of a client
		// that is part way through a list.
		sopts.PageClock = swfd.SystemClock{}
	}
	if s.Quotas != nil {
		sopts.DecisionRates = decisionRates(s.Quotas)
	}
	svc, err := service.New(ctx, sopts)
	if err == nil {
		e.svc = svc
		if err = wireClock(ctx, e); err != nil {
			err = startFailed(st, "loading the clock's timers from it", err)
		}
	} else {
		err = startFailed(st, "starting the service on it (its token key, its pending tasks)", err)
	}
	if err != nil {
		st.Close()
		release()
		return nil, err
	}
	// Calls the store refused or failed are logged a few lines a second at
	// most, each kind on its own, with a count of those left out: a full
	// disk fails every call that writes.
	fe := &frontend.Handler{Service: svc, Logger: cfg.Logger, BodyTimeout: cfg.BodyTimeout, WriteTimeout: cfg.WriteTimeout, CallTimeout: cfg.CallTimeout,
		Refused: lograte.New(cfg.Logger, storeLinesPerSecond, storeLineBurst, nil),
		Failed:  lograte.New(cfg.Logger, storeLinesPerSecond, storeLineBurst, nil)}
	var guard *auth.Guard
	if s.Auth != nil {
		now := swfd.Clock(swfd.SystemClock{})
		if cfg.Clock != nil && ctl == nil {
			now = cfg.Clock // a test's skewed clock
		}
		// Signatures are dated in real time, whatever swfd's clock shows.
		// Refused signatures and denied calls are warnings, at most a
		// few lines a second each, with a count of those left out.
		v := &auth.Verifier{Keys: s.Auth, Region: region, Now: now.Now, Log: cfg.Logger,
			Warn: lograte.New(cfg.Logger, authWarnsPerSecond, authWarnBurst, nil)}
		fe.Auth = v.Verify
		// A call is authenticated, then authorized, then throttled
		// (fe.Admit), then served: the frontend asks the guard before the
		// quotas, so that denied calls take no token, and the calls it
		// allows go straight to the service. The console makes its
		// operations through the guard itself.
		guard = &auth.Guard{Next: svc, Tokens: svc, Region: region, Account: account,
			Warn: lograte.New(cfg.Logger, authWarnsPerSecond, authWarnBurst, nil)}
		fe.Authorize = guard.Authorize
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { s.healthz(w, r, e) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { s.readyz(w, r, e) })
	s.obs.watch(svc, st, fe, mux)
	if s.Quotas != nil {
		fe.Admit = s.admit
	}
	if !cfg.NoConsole {
		e.hub = mountConsole(mux, e, fe, guard, s.Auth, cfg, s.log)
	}
	s.mountClock(mux, e, fe)
	var root http.Handler = fe
	if !cfg.NoConsole {
		root = console.RedirectBrowsers(root)
	}
	mux.Handle("/", root)
	e.api, e.handler = fe, apiForUncleanPaths(mux, root, console.Prefix, admin.Prefix)
	return e, nil
}

// apiForUncleanPaths serves with api, the handler of the SWF API's own
// path, every request whose path as sent is not clean (a "." or ".."
// segment, or "//": /a/../b, //x, /a/./b; escaped, %2F%2F and %2E are
// not segments, as for mux), and every other request with mux. The
// SWF endpoint answers a call the same whatever its path: swfd serves a
// POST to /anything as a POST to /, and so it serves /a/../b, which
// mux would have answered with a 307 redirect to the cleaned path
// (which SDKs do not follow for a POST, or follow to a path that may be
// swfd's own: /a/../swfd/dev/reset). A request never reaches the web
// console or swfd's own API through such a path: a proxy in front that
// allows /swfd/ or /console/ to no one may not clean paths first.
//
// So is a call (a request with an X-Amz-Target) to the path of one of
// mux's subtrees (/console/, /swfd/) without its trailing slash, which mux
// would have redirected to the subtree: a browser's GET of /console is
// still redirected there.
func apiForUncleanPaths(mux *http.ServeMux, api http.Handler, subtrees ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The path as sent, escapes kept, as mux cleans it: an escaped
		// slash or dot (a workflow id "a/b" or a run id holding "//" in
		// a console page's path, %2F%2F) is part of a segment, not a
		// segment's end.
		p := r.URL.EscapedPath()
		call := r.Header.Get("X-Amz-Target") != "" && slices.Contains(subtrees, p+"/")
		if r.Method != http.MethodConnect && (call || !cleanPath(p)) {
			api.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// cleanPath reports whether p is a path ServeMux serves as it is, rather
// than redirecting to its cleaned form: rooted, with no "." or ".."
// segment and no empty one but a trailing slash's.
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// use makes e the engine the server's fields name.
func (s *Server) use(e *engine) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.engine = e
	s.Store, s.Service, s.Clock = e.store, e.svc, e.clock
}

// current returns the engine in use.
func (s *Server) current() *engine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.engine
}

// ReloadAuth reloads the auth file (on SIGHUP). Requests in flight finish
// with the principals they started with; new ones see the new file. If the
// file is invalid the old one stays in force and the error is returned.
func (s *Server) ReloadAuth() error {
	if s.Auth == nil {
		return errors.New("authentication is off (no --auth file)")
	}
	return s.Auth.Reload()
}

// Reload reads again whatever the server was configured with that can
// change while it runs (on SIGHUP): the auth file, the TLS certificate
// and key, and the quota file; and it reopens the access log (after a log rotator moved it). It says what it reloaded, none if there is nothing to reload.
// What fails to load stays as it was, and the error says why. No
// connection is dropped: new TLS handshakes use the new certificate.
func (s *Server) Reload() (reloaded []string, err error) {
	var errs []error
	if s.Auth != nil {
		if err := s.Auth.Reload(); err != nil {
			errs = append(errs, fmt.Errorf("auth file not reloaded; the previous one stays in force: %w", err))
		} else {
			reloaded = append(reloaded, "auth file")
		}
	}
	if s.tls != nil {
		if err := s.tls.Reload(); err != nil {
			errs = append(errs, fmt.Errorf("TLS certificate not reloaded; the previous one stays in use: %w", err))
		} else {
			reloaded = append(reloaded, "TLS certificate")
			s.certLoaded()
		}
	}
	if s.quotaFile() != "" {
		if err := s.reloadQuotas(); err != nil {
			errs = append(errs, fmt.Errorf("quota file not reloaded; the previous quotas stay in force: %w", err))
		} else {
			reloaded = append(reloaded, "quota file")
		}
	}
	r, err := s.obs.reload()
	reloaded = append(reloaded, r...)
	if err != nil {
		errs = append(errs, err)
	}
	return reloaded, errors.Join(errs...)
}

// certLoaded logs the TLS certificate just taken into use, with a warning
// if it expires within tlscert.ExpiresSoon. (One outside its validity
// period is refused when it is read: swfd does not start with it, and a
// reload keeps the one in use.)
func (s *Server) certLoaded() {
	notAfter := s.tls.NotAfter().UTC()
	s.log.Info("TLS certificate loaded", "cert", s.tls.File(), "not_after", notAfter)
	if left := s.tls.ExpiresIn(); left < tlscert.ExpiresSoon {
		s.log.Warn("TLS certificate expires soon: renew it and send SIGHUP, or every client will refuse it from then on",
			"cert", s.tls.File(), "not_after", notAfter, "expires_in", left.Round(time.Minute))
	}
}

// TLS reports whether Serve speaks HTTPS.
func (s *Server) TLS() bool { return s.tls != nil }

// MaxConnections is the cap on open connections in force.
func (s *Server) MaxConnections() int { return s.cfg.MaxConnections }

// PollTimeout is how long a long poll waits for a task, in force.
func (s *Server) PollTimeout() time.Duration { return s.cfg.PollTimeout }

// CallTimeout is how long a call other than a long poll may take, in
// force.
func (s *Server) CallTimeout() time.Duration { return s.cfg.CallTimeout }

// limitsWithDefaults fills every zero field of l from the real service's
// quotas, so a configuration may set only the limits it cares about (the
// service itself only defaults an entirely zero Limits, and a zero
// MaxTagsPerDomain would refuse every tag).
func limitsWithDefaults(l service.Limits) service.Limits {
	d := service.DefaultLimits
	def := func(v *int, dv int) {
		if *v <= 0 {
			*v = dv
		}
	}
	def(&l.MaxDomains, d.MaxDomains)
	def(&l.MaxTypesPerKind, d.MaxTypesPerKind)
	def(&l.MaxOpenExecutions, d.MaxOpenExecutions)
	def(&l.MaxPollersPerList, d.MaxPollersPerList)
	def(&l.MaxTagsPerDomain, d.MaxTagsPerDomain)
	def(&l.History.MaxEvents, d.History.MaxEvents)
	def(&l.History.MaxOpenActivities, d.History.MaxOpenActivities)
	def(&l.History.MaxOpenTimers, d.History.MaxOpenTimers)
	def(&l.History.MaxOpenChildren, d.History.MaxOpenChildren)
	def(&l.History.MaxOpenLambdas, d.History.MaxOpenLambdas)
	return l
}

// healthz answers whether the store is usable, that is it answers and
// still holds swfd's schema (store.Ping): "ok" (200) or "unavailable"
// (503), nothing more (a probe's answer must not tell who or where the
// database is). Why it is unavailable goes to the log. It does not turn
// 503 at shutdown: the process is still alive.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request, e *engine) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := e.store.Ping(ctx); err != nil {
		s.warn.Log(ctx, slog.LevelWarn, "health check: store unavailable", "err", err)
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}

// readyz answers whether this node should be sent calls: "ready" (200)
// once the store's schema is migrated (Open has done that before anything
// is served) and still there (a database dropped and created again has
// none), the store answers, it can write (a store that knows it
// cannot, such as SQLite on a full disk, on a file system gone
// read-only or while another program holds its write lock, says so), and,
// in a cluster, the
// node hears the other nodes' news (once the database answers after an
// outage, the check waits up to listenerWait for the node's listener to
// reconnect); "not ready" (503) otherwise. Why goes to the log, not to
// the answer. Once Serve has begun to shut down it answers "not ready"
// too, but only a request read before then can be answered at all:
// Serve refuses new connections and net/http answers no request it reads
// after that, so a probe sees a refused or closed connection instead.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request, e *engine) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.ready(ctx, e); err != nil {
		s.warn.Log(ctx, slog.LevelWarn, "readiness check: not ready", "err", err)
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

// writeHealth is what a store that can tell whether its writes work
// implements (SQLite: not while its disk is full, nor while its writes
// fail with I/O errors or on another program's write lock, until one
// succeeds; PostgreSQL: not while the server takes no writes, a standby).
type writeHealth interface {
	WriteHealth(ctx context.Context) error
}

func (s *Server) ready(ctx context.Context, e *engine) error {
	if s.stopping.Load() {
		return errors.New("shutting down")
	}
	if err := e.store.Ping(ctx); err != nil {
		return err
	}
	if wh, ok := e.store.(writeHealth); ok {
		if err := wh.WriteHealth(ctx); err != nil {
			return err
		}
	}
	if e.pg != nil {
		// After an outage the listener reconnects as soon as the
		// database answers (the Ping above tells it to): wait for that,
		// a few milliseconds, rather than answer not ready until its
		// backoff ends.
		wctx, cancel := context.WithTimeout(ctx, listenerWait)
		defer cancel()
		if err := e.pg.Notifier().WaitConnected(wctx); err != nil {
			return errors.New("not listening for the other nodes' news yet")
		}
	}
	return nil
}

// listenerWait bounds how long a readiness check waits for the listener of
// the other nodes' news to reconnect once the database answers.
const listenerWait = time.Second

// Start begins the service's background work (timers, messages, retention).
func (s *Server) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return
	}
	s.started = true
	s.engine.start()
}

// start begins e's background work.
func (e *engine) start() {
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() {
		defer close(e.done)
		e.svc.Run(ctx)
	}()
}

// stopWork tells e's background work to stop, without waiting for it to
// end (close waits).
func (e *engine) stopWork() {
	if e.cancel != nil {
		e.cancel()
	}
}

// close stops e's background work and its polls, saves the time of a
// clock that moves (a skip clock runs between its moves), and closes its
// store.
func (e *engine) close() error {
	if e.cancel != nil {
		e.cancel()
		<-e.done
	}
	if e.hub != nil {
		e.hub.Close()
	}
	e.svc.StopPolls()
	var err error
	if e.clock != nil {
		err = e.clock.Save(context.Background())
	}
	err = errors.Join(err, e.store.Close())
	if e.release != nil {
		e.release()
	}
	return err
}

// ErrAborted is Serve's error when Abort cut its shutdown short.
var ErrAborted = errors.New("shutdown cut short")

// Serve serves HTTP (HTTPS with a TLS certificate) on ln until ctx ends,
// then shuts down gracefully. At once it closes ln, so new connections
// are refused (a readiness probe fails from then on: /readyz is not
// answered with 503, it cannot be reached), closes idle keep-alive
// connections, answers waiting polls empty, ends the console's live
// updates and closes the --metrics-addr server; a request not yet read when shutdown began is not answered (its
// connection is closed). In-flight calls finish and are answered, each
// connection closed after its answer. Connections still open after
// ShutdownTimeout (a client that never sends the rest of its request, a
// call that does not end) are closed, with
// a warning that says how many, and Serve returns nil: a call cut off so
// had no answer, so nothing it did was acknowledged. Meanwhile no Lambda
// function is started, and those already invoked are waited for until
// ShutdownTimeout and their outcomes recorded; one still running then is
// recorded as failed (reason Interrupted; package lambda). Abort cuts the
// wait short, and Serve returns ErrAborted. The caller closes the store
// after Serve returns (Close).
//
// At most MaxConnections connections are open at once; at the cap, idle
// connections are closed, or else the long poll waiting longest is
// evicted (answered empty, its connection closed), to make room. A client
// has ReadHeaderTimeout to send a request's headers, BodyTimeout its
// body, and WriteTimeout to take the answer once it is ready; a
// keep-alive connection is closed after IdleTimeout idle. A request whose
// body its handler does not read to the end is answered at once and its
// connection closed, the rest of the body not waited for
// (CloseUnreadBodies). As a backstop
// for handlers other than the API's, a request's whole exchange must end
// within the poll timeout (or the call timeout, if longer) plus those
// three.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	lim := s.limitConnections(ln)
	hs := &http.Server{
		Handler:           CloseUnreadBodies(s.Handler),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		WriteTimeout:      max(s.cfg.PollTimeout, s.cfg.CallTimeout) + s.cfg.BodyTimeout + s.cfg.WriteTimeout + 30*time.Second,
		IdleTimeout:       s.cfg.IdleTimeout,
		ConnState:         lim.ConnState,
		ConnContext:       lim.ConnContext,
		// net/http's own complaints (TLS handshakes that fail, accept
		// errors) are warnings, rate-limited: a port scanner must not
		// flood the log.
		ErrorLog: httpErrorLog(s.warn),
	}
	s.obs.serveMetrics(ctx, s.log, s.mountHealth)
	errc := make(chan error, 1)
	if s.tls != nil {
		hs.TLSConfig = s.tls.Config()
		go func() { errc <- hs.ServeTLS(lim, "", "") }()
	} else {
		go func() { errc <- hs.Serve(lim) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.stopping.Store(true)
	s.log.Info("shutting down")
	e := s.current()
	e.svc.StopPolls()
	if e.hub != nil {
		// Console pages' live updates end now, rather than hold the
		// shutdown for its whole timeout.
		e.hub.Close()
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	go func() {
		select {
		case <-s.abort:
			cancel()
		case <-sctx.Done():
		}
	}()
	// Lambda functions in flight are waited for, as calls are, and their
	// outcomes recorded while the store is still open; none is started
	// from now on (lambda.Loop.Drain).
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		e.svc.Lambda().Drain(sctx)
	}()
	defer func() { <-drained }()
	if err := hs.Shutdown(sctx); err == nil || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return err
	}
	open := lim.Open()
	hs.Close()
	select {
	case <-s.abort:
		s.log.Warn("shutdown cut short: closed the connections still open", "connections", open)
		return fmt.Errorf("%w (connections still open, now closed: %d)", ErrAborted, open)
	default:
	}
	s.log.Warn("shutdown: connections still open after the shutdown timeout; closed them", "connections", open, "timeout", s.cfg.ShutdownTimeout)
	return nil
}

// How many lines a second the connection limit may write to the log, each
// kind (a connection waits for a slot, a long poll is evicted, a body is
// cut off) on its own,
// after a burst of connLimitWarnBurst: at the limit they come by the
// hundred a second, and a line every few seconds with the count left out
// says as much.
const (
	connLimitWarnsPerSecond = 0.2
	connLimitWarnBurst      = 2
)

// limitConnections wraps ln in the connection limit (MaxConnections), its
// waits and evictions counted and logged.
func (s *Server) limitConnections(ln net.Listener) *connlimit.Listener {
	lim := connlimit.Listen(ln, s.cfg.MaxConnections)
	m := s.obs.metrics
	full := lograte.New(s.log, connLimitWarnsPerSecond, connLimitWarnBurst, nil)
	evicted := lograte.New(s.log, connLimitWarnsPerSecond, connLimitWarnBurst, nil)
	lim.OnFull = func() {
		if m != nil {
			m.ConnectionAtLimit()
		}
		full.Log(context.Background(), slog.LevelWarn, "connection limit reached: a new connection waits until one closes (idle ones are closed, or a long poll evicted, to make room); raise --max-connections, and the open-file limit with it",
			"max_connections", lim.Max())
	}
	lim.OnEvict = func(waited time.Duration) {
		if m != nil {
			m.PollEvicted()
		}
		evicted.Log(context.Background(), slog.LevelWarn, "connection limit reached: a long poll answered early (empty, as at its timeout) to free its connection for a new one; raise --max-connections, and the open-file limit with it",
			"max_connections", lim.Max(), "waited", waited.Round(time.Millisecond))
	}
	streams := lograte.New(s.log, connLimitWarnsPerSecond, connLimitWarnBurst, nil)
	lim.OnEvictStream = func(open time.Duration) {
		streams.Log(context.Background(), slog.LevelWarn, "connection limit reached: a web console page's live updates ended to free their connection for a new one (the page connects again); raise --max-connections, and the open-file limit with it",
			"max_connections", lim.Max(), "open", open.Round(time.Millisecond))
	}
	cut := lograte.New(s.log, connLimitWarnsPerSecond, connLimitWarnBurst, nil)
	lim.OnCut = func(receiving time.Duration) {
		cut.Log(context.Background(), slog.LevelWarn, "connection limit reached: a request whose body was still arriving was answered RequestTimeoutException to free its connection for a new one (a client sending very slowly, or never finishing its body); raise --max-connections if clients are that slow",
			"max_connections", lim.Max(), "receiving", receiving.Round(time.Millisecond))
	}
	s.obs.conns.Store(lim)
	return lim
}

// mountHealth serves /healthz and /readyz on mux (the --metrics-addr
// listener's) for the engine in use.
func (s *Server) mountHealth(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		s.inEngine(func(e *engine) { s.healthz(w, r, e) })
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		s.inEngine(func(e *engine) { s.readyz(w, r, e) })
	})
}

// inEngine runs serve with the engine in use, counted among its calls so
// that a reset (which replaces the engine) waits for it to end.
func (s *Server) inEngine(serve func(e *engine)) {
	for {
		e := s.current()
		if e.calls.enter() {
			defer e.calls.leave()
			serve(e)
			return
		}
		// e was replaced by a reset just now: the next one is in use
		// already.
	}
}

// Abort cuts a graceful shutdown short, the one under way or the next:
// Serve closes the connections still open at once and returns ErrAborted.
func (s *Server) Abort() {
	s.abortOnce.Do(func() { close(s.abort) })
}

// Close stops background work and closes the store.
func (s *Server) Close() error {
	s.reset.Lock() // not during a reset
	defer s.reset.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	e := s.engine
	s.mu.Unlock()
	err := e.close()
	s.retired.Wait()
	return errors.Join(err, s.obs.close())
}

// mountConsole serves the web console of e under /console/, through the
// same guard as the API's calls (guard; nil without authentication), its
// actions authorized before they are admitted as the API's calls are
// (fe.Admit: the quotas, nil without) and told to what
// the API's calls are (fe.Observe: the metrics and the access log), the
// request bytes it decodes counted in the API's bound (fe.HoldDecoding),
// its forms' bodies read as the API's are (fe.ReadBody: the body timeout,
// the connection limit's cut, the bound on bytes still arriving),
// and each operation it makes held against moves of a clock that tests
// move, as the API's calls are (the clock controller's HoldWait: waiting
// for a move at most --call-timeout); it returns
// the hub that feeds its live pages.
func mountConsole(mux *http.ServeMux, e *engine, fe *frontend.Handler, guard *auth.Guard, keys *auth.Keyring, cfg Config, log *slog.Logger) *console.Hub {
	var authorize func(ctx context.Context, op string, in any) error
	var svc api.Service = e.svc
	if guard != nil {
		authorize, svc = guard.Authorize, guard
	}
	hub := console.NewHub(e.svc, log)
	e.svc.Runs().Listen(hub.Committed)
	ccfg := console.Config{API: svc, Inspect: e.svc, Authorize: authorize, Keys: keys,
		Hub: hub, Region: cfg.Region, Account: cfg.AccountID, Logger: log, Clock: cfg.Clock, Observe: fe.Observe, Admit: fe.Admit,
		HoldDecoding: fe.HoldDecoding, ReadBody: fe.ReadBody}
	if e.clock != nil {
		ccfg.HoldTime = e.clock.HoldWait
	}
	mux.Handle(console.Prefix, console.New(ccfg))
	return hub
}
