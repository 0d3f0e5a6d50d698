// Package server assembles a running swfd from its parts: it opens the
// store named by a DSN, builds the service and the HTTP frontend, serves
// /healthz, and shuts everything down in order. cmd/swfd and the
// end-to-end tests both start servers through it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/auth"
	"github.com/swfd/swfd/frontend"
	"github.com/swfd/swfd/internal/lograte"
	"github.com/swfd/swfd/postgres"
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
}

// How many warnings a second refused requests and denied calls may write
// to the log (each kind on its own), after a burst of authWarnBurst.
const (
	authWarnsPerSecond = 2
	authWarnBurst      = 10
)

// Server is an assembled swfd.
type Server struct {
	Store   swfd.Store
	Service *service.Service
	Handler http.Handler
	// Auth is the auth file in force; nil when authentication is off.
	Auth   *auth.Keyring
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}

	readHeaderTimeout time.Duration
}

// OpenStore opens the store a DSN names.
func OpenStore(ctx context.Context, dsn string, log *slog.Logger) (swfd.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, errors.New("--db sqlite: needs a path, e.g. sqlite:./swfd-data/swfd.db or sqlite::memory:")
		}
		if path != ":memory:" {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
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
	return nil, fmt.Errorf("--db %q: unknown database; use sqlite:PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB", dsn)
}

// Open opens the store and builds the service; call Start to begin the
// background work and Close to stop.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := OpenStore(ctx, cfg.DB, cfg.Logger)
	if err != nil {
		return nil, err
	}
	var bcast swfd.Broadcaster
	if pg, ok := st.(*postgres.DB); ok {
		// Any number of nodes may share a PostgreSQL database: they
		// tell each other of new work through LISTEN/NOTIFY.
		bcast = pg.Broadcaster()
	}
	s := &Server{Store: st, log: cfg.Logger, done: make(chan struct{}), readHeaderTimeout: cfg.ReadHeaderTimeout}
	s.Auth = cfg.Auth
	if s.Auth == nil && cfg.AuthFile != "" {
		if s.Auth, err = auth.LoadKeyring(cfg.AuthFile, cfg.Logger); err != nil {
			st.Close()
			return nil, err
		}
	}
	region, account := cfg.Region, cfg.AccountID
	if region == "" {
		region = "us-east-1"
	}
	if account == "" {
		account = "123456789012"
	}
	var authorize service.DecisionAuthorizer
	if s.Auth != nil {
		// Each decision is authorized against the policies of the
		// principal that sent the call.
		authorize = func(ctx context.Context, domain string) func(*api.Decision, map[string]string) bool {
			return auth.DecisionHook(ctx, region, account, domain)
		}
	}
	svc, err := service.New(ctx, service.Options{
		Store: st, Clock: cfg.Clock, Logger: cfg.Logger,
		AccountID: account, Region: region,
		PollTimeout: cfg.PollTimeout, Limits: limitsWithDefaults(cfg.Limits),
		Broadcaster: bcast, AuthorizeDecisions: authorize,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	s.Service = svc
	fe := &frontend.Handler{Service: svc, Logger: cfg.Logger, BodyTimeout: cfg.BodyTimeout}
	if s.Auth != nil {
		clock := cfg.Clock
		if clock == nil {
			clock = swfd.SystemClock{}
		}
		// Refused signatures and denied calls are warnings, at most a
		// few lines a second each, with a count of those left out.
		v := &auth.Verifier{Keys: s.Auth, Region: region, Now: clock.Now, Log: cfg.Logger,
			Warn: lograte.New(cfg.Logger, authWarnsPerSecond, authWarnBurst, nil)}
		fe.Auth = v.Verify
		fe.Service = &auth.Guard{Next: svc, Tokens: svc, Region: region, Account: account,
			Warn: lograte.New(cfg.Logger, authWarnsPerSecond, authWarnBurst, nil)}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("/", fe)
	s.Handler = mux
	return s, nil
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
	return l
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		http.Error(w, "store unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ok\n"))
}

// Start begins the service's background work (timers, messages, retention).
func (s *Server) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		defer close(s.done)
		s.Service.Run(ctx)
	}()
}

// Serve serves HTTP on ln until ctx ends, then shuts down gracefully:
// waiting polls are answered empty, in-flight calls finish, the store is
// closed last.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	rht := s.readHeaderTimeout
	if rht <= 0 {
		rht = 10 * time.Second
	}
	hs := &http.Server{Handler: s.Handler, ReadHeaderTimeout: rht, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	s.Service.StopPolls()
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

// Close stops background work and closes the store.
func (s *Server) Close() error {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	s.Service.StopPolls()
	return s.Store.Close()
}
