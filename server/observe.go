package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/accesslog"
	"github.com/swfd/swfd/cluster"
	"github.com/swfd/swfd/frontend"
	"github.com/swfd/swfd/internal/connlimit"
	"github.com/swfd/swfd/internal/lograte"
	"github.com/swfd/swfd/internal/tlscert"
	"github.com/swfd/swfd/metrics"
	"github.com/swfd/swfd/postgres"
	"github.com/swfd/swfd/service"
	"github.com/swfd/swfd/sqlite"
)

// observer is what the server measures and logs of itself: the Prometheus
// metrics and the access log, either of which may be off.
type observer struct {
	metrics *metrics.Metrics
	access  *accesslog.Log
	// metricsLn, if set, is the listener of --metrics-addr (else /metrics
	// is served on the API's address).
	metricsLn    net.Listener
	cfgAccessLog string
	// metricsMax caps metricsLn's connections; readHeader is how long a
	// request's headers may take there, as on the API's address.
	metricsMax int
	readHeader time.Duration
	// conns is the API's listener once Serve has made it; maxConns its
	// cap.
	conns    atomic.Pointer[connlimit.Listener]
	maxConns int
	// tls is the certificate served; nil without TLS.
	tls *tlscert.Certificate
}

// openObserver makes the metrics and opens the access log, as cfg says.
func openObserver(cfg Config) (*observer, error) {
	o := &observer{maxConns: cfg.MaxConnections, metricsMax: cfg.MetricsMaxConnections, readHeader: cfg.ReadHeaderTimeout}
	if cfg.MetricsOff && cfg.MetricsAddr != "" {
		return nil, errors.New("--metrics-addr needs the metrics on (it was given with --metrics=false)")
	}
	if !cfg.MetricsOff {
		o.metrics = metrics.New(metrics.Options{Clock: cfg.Clock, TaskLists: cfg.MetricsTaskLists, Runtime: true})
		if cfg.MetricsAddr != "" {
			ln, err := net.Listen("tcp", cfg.MetricsAddr)
			if err != nil {
				return nil, fmt.Errorf("--metrics-addr: %w", err)
			}
			o.metricsLn = ln
		}
	}
	if cfg.AccessLog != "" {
		l, err := accesslog.Open(cfg.AccessLog)
		if err != nil {
			o.close()
			return nil, err
		}
		o.access, o.cfgAccessLog = l, cfg.AccessLog
		// A failed write (a full disk) is kept and tried again; each
		// failure is counted, and logged a few times a minute at most.
		warn := lograte.New(cfg.Logger, accessLogWarnsPerSecond, 1, nil)
		m := o.metrics
		l.OnError(func(err error, dropped int64) {
			if m != nil {
				m.AccessLogWriteFailed()
			}
			warn.Log(context.Background(), slog.LevelError, "access log: write failed; its lines are kept and written once a write succeeds (new ones are dropped while its 64 KiB buffer is full)",
				"err", err, "lines_dropped", dropped)
		})
	}
	return o, nil
}

// accessLogWarnsPerSecond is how often a failing access log may be logged:
// its writes are tried again every accesslog.FlushEvery while they fail.
const accessLogWarnsPerSecond = 1.0 / 30

// hooks are the service's hooks into the metrics.
func (o *observer) hooks() service.Hooks {
	m := o.metrics
	if m == nil {
		return service.Hooks{}
	}
	return service.Hooks{
		Polled: m.Polled, StoreCommit: m.StoreCommit, TimerFired: m.TimerFired, Purged: m.Purged,
		NewsSent: m.NewsSent, NewsReceived: m.NewsReceived, RemoteTaskStarted: m.RemoteTaskStarted,
	}
}

// watch connects the metrics to the service and the frontend: commits,
// the state read at each scrape, and every call answered.
func (o *observer) watch(svc *service.Service, st swfd.Store, fe *frontend.Handler, mux *http.ServeMux) {
	if m := o.metrics; m != nil {
		svc.Runs().Listen(m.Committed)
		// In a cluster the counts are the store's, a query per domain: a
		// flood of scrapes (/metrics needs no signature) shares one count
		// every openCountsKept.
		counts := &openCounts{now: time.Now}
		src := metrics.Sources{
			TaskLists: func() []metrics.TaskList { return taskLists(svc) },
			OpenExecutions: func(ctx context.Context) (map[string]int, error) {
				if !svc.Runs().Shared() {
					return openExecutions(ctx, svc, st)
				}
				return counts.get(ctx, func(ctx context.Context) (map[string]int, error) { return openExecutions(ctx, svc, st) })
			},
			RunCache: func() metrics.RunCache {
				hits, misses, n, bytes := svc.Runs().CacheStats()
				return metrics.RunCache{Hits: hits, Misses: misses, Runs: n, Bytes: bytes}
			},
		}
		if node, ok := svc.Peers().(*cluster.Node); ok {
			src.LiveNodes = node.LiveNodes
		}
		if pool := poolStats(st); pool != nil {
			src.Pool = pool
		}
		if o.tls != nil {
			src.TLSExpiry = o.tls.NotAfter
		}
		src.Connections = func() (open, limit int) {
			if l := o.conns.Load(); l != nil {
				open = l.Open()
			}
			return open, o.maxConns
		}
		m.Watch(src)
		if o.metricsLn == nil {
			mux.Handle("GET /metrics", m.Handler())
		}
	}
	fe.TaskDomain = svc.TaskTokenDomain
	fe.CallDomains = o.access != nil
	switch m, l := o.metrics, o.access; {
	case m != nil && l != nil:
		fe.Observe = func(c *frontend.Call) {
			m.Call(c.Operation, c.Fault, c.Duration)
			l.Call(c)
		}
	case m != nil:
		fe.Observe = func(c *frontend.Call) { m.Call(c.Operation, c.Fault, c.Duration) }
	case l != nil:
		fe.Observe = l.Call
	}
}

// serveMetrics serves /metrics on the --metrics-addr listener until ctx
// ends, beside /healthz and /readyz (health): that listener is not under
// the API's connection limit, so probes and scrapes are answered there
// while the API's connections are all taken. It has a cap of its own
// (metricsMax): a client that opens connection after connection, or sends
// its headers slowly, must not hold memory and goroutines without bound.
// At the cap a new connection waits while those idle between requests, or
// silent since they connected (2 s), are closed to make room; a request's
// headers must arrive within readHeader, as on the API's address, and a
// body these handlers never read is not waited for (CloseUnreadBodies).
func (o *observer) serveMetrics(ctx context.Context, log *slog.Logger, health func(*http.ServeMux)) {
	if o.metricsLn == nil {
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", o.metrics.Handler())
	health(mux)
	lim := connlimit.Listen(o.metricsLn, o.metricsMax)
	full := lograte.New(log, connLimitWarnsPerSecond, connLimitWarnBurst, nil)
	lim.OnFull = func() {
		full.Log(context.Background(), slog.LevelWarn, "--metrics-addr connection limit reached: a new connection waits until one closes (idle and silent ones are closed to make room); raise --metrics-max-connections if that many scrapers and probes are expected",
			"metrics_max_connections", lim.Max())
	}
	hs := &http.Server{Handler: CloseUnreadBodies(mux), ReadHeaderTimeout: o.readHeader, MaxHeaderBytes: MaxHeaderBytes, WriteTimeout: time.Minute, IdleTimeout: DefaultIdleTimeout,
		ConnState: lim.ConnState, ConnContext: lim.ConnContext,
		ErrorLog: httpErrorLog(lograte.New(log, connLimitWarnsPerSecond, connLimitWarnBurst, nil))}
	go func() {
		if err := hs.Serve(lim); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	context.AfterFunc(ctx, func() { hs.Close() })
}

// MetricsAddr says where /metrics is served: the --metrics-addr listener's
// address, "api" on the API's address, or "off".
func (s *Server) MetricsAddr() string {
	switch {
	case s.obs.metrics == nil:
		return "off"
	case s.obs.metricsLn != nil:
		return s.obs.metricsLn.Addr().String()
	}
	return "api"
}

// reload reopens the access log file (on SIGHUP).
func (o *observer) reload() (reloaded []string, err error) {
	if o.access != nil && o.cfgAccessLog != "-" {
		if err := o.access.Reopen(); err != nil {
			return nil, fmt.Errorf("access log not reopened; lines go on to the file it had: %w", err)
		}
		reloaded = append(reloaded, "access log")
	}
	return reloaded, nil
}

// close closes the access log (writing what it holds) and an unserved
// metrics listener.
func (o *observer) close() error {
	var err error
	if o.access != nil {
		err = o.access.Close()
	}
	if o.metricsLn != nil {
		o.metricsLn.Close()
	}
	return err
}

// taskLists reads the task lists for a scrape.
func taskLists(svc *service.Service) []metrics.TaskList {
	stats := svc.Matcher().Stats()
	out := make([]metrics.TaskList, len(stats))
	for i, st := range stats {
		out[i] = metrics.TaskList{Kind: string(st.Key.Kind), Domain: st.Key.Domain, Name: st.Key.TaskList,
			Pending: st.Pending, Waiting: st.Waiting, Oldest: st.Oldest}
	}
	return out
}

// openExecutions counts each domain's open executions for a scrape: from
// the run store's counts, kept by its commits, on a single node; from the
// store in a cluster, where the other nodes' commits change them too.
func openExecutions(ctx context.Context, svc *service.Service, st swfd.Store) (map[string]int, error) {
	out := map[string]int{}
	for _, status := range []string{swfd.StatusRegistered, swfd.StatusDeprecated} {
		after := ""
		for {
			ds, err := st.ListDomains(ctx, swfd.ListQuery{Status: status, After: after, Limit: 100})
			if err != nil {
				return out, err
			}
			for _, d := range ds {
				var n int
				if svc.Runs().Shared() {
					n, err = st.CountOpen(ctx, d.Name)
				} else {
					n, err = svc.Runs().OpenExecutions(ctx, d.Name)
				}
				if err != nil {
					return out, err
				}
				out[d.Name] = n
			}
			if len(ds) < 100 {
				break
			}
			after = ds[len(ds)-1].Name
		}
	}
	return out, nil
}

// openCountsKept is how long a cluster's open-execution counts serve the
// scrapes that follow the one that counted them.
const openCountsKept = 2 * time.Second

// openCounts keeps the last open-execution counts (or the error counting
// them) for openCountsKept. Scrapes that arrive while one counts wait for
// its answer rather than count again.
type openCounts struct {
	now    func() time.Time
	mu     sync.Mutex
	at     time.Time
	counts map[string]int
	err    error
}

// get returns the counts kept, or those count returns once they are older
// than openCountsKept. The map returned is shared: read it only.
func (c *openCounts) get(ctx context.Context, count func(context.Context) (map[string]int, error)) (map[string]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); c.at.IsZero() || now.Sub(c.at) >= openCountsKept || now.Before(c.at) {
		c.counts, c.err = count(ctx)
		c.at = c.now()
	}
	return c.counts, c.err
}

// poolStats returns PostgreSQL's pool counts for a scrape; nil for other
// stores.
func poolStats(st swfd.Store) func() metrics.Pool {
	pg, ok := st.(*postgres.DB)
	if !ok {
		return nil
	}
	return func() metrics.Pool {
		s, h := pg.PoolStat(), pg.HoldStat()
		return metrics.Pool{
			HeldRuns: h.Held, MaxHeldRuns: h.Max, HoldsGranted: h.Granted, HoldsRefused: h.Refused,
			Max: int(s.MaxConns()), Total: int(s.TotalConns()), Acquired: int(s.AcquiredConns()), Idle: int(s.IdleConns()),
			Constructing: int(s.ConstructingConns()), Acquires: uint64(s.AcquireCount()), EmptyAcquires: uint64(s.EmptyAcquireCount()),
			CanceledAcquires: uint64(s.CanceledAcquireCount()), AcquireWait: s.AcquireDuration(),
		}
	}
}

// observeStore has the store tell the metrics how many calls share each of
// its transactions.
func (o *observer) observeStore(st swfd.Store) {
	if o.metrics == nil {
		return
	}
	switch db := st.(type) {
	case *postgres.DB:
		db.ObserveGroups(o.metrics.CommitGroup)
	case *sqlite.DB:
		db.ObserveGroups(o.metrics.CommitGroup)
		db.ObserveSyncs(o.metrics.Synced)
	}
}
