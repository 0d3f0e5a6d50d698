package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Sources are the owners of the state the gauges describe, asked at each
// scrape. Any may be nil: its metrics are then absent.
type Sources struct {
	// TaskLists returns every task list with tasks pending or pollers
	// waiting.
	TaskLists func() []TaskList
	// OpenExecutions returns the open executions of every domain.
	OpenExecutions func(ctx context.Context) (map[string]int, error)
	// RunCache returns the run cache's counts.
	RunCache func() RunCache
	// LiveNodes returns how many nodes of the cluster are alive, this
	// one included; nil on a single node.
	LiveNodes func() int
	// Pool returns PostgreSQL's connection pool counts; nil with SQLite.
	Pool func() Pool
	// Connections returns how many connections the API's listener holds
	// open, and the most it may (--max-connections).
	Connections func() (open, limit int)
	// TLSExpiry returns when the TLS certificate in use expires; nil
	// without TLS.
	TLSExpiry func() time.Time
}

// TaskList is one task list as the matcher holds it.
type TaskList struct {
	Kind, Domain, Name string
	Pending            int       // tasks waiting for a poller
	Waiting            int       // pollers waiting for a task
	Oldest             time.Time // when the oldest pending task was scheduled; zero if none
}

// RunCache are the run cache's counts.
type RunCache struct {
	Hits, Misses uint64 // lookups since start
	Runs         int    // runs held now
	Bytes        int    // their estimated memory
}

// Pool are a connection pool's counts (pgxpool's Stat).
type Pool struct {
	Max, Total, Acquired, Idle, Constructing  int
	Acquires, EmptyAcquires, CanceledAcquires uint64 // since start
	AcquireWait                               time.Duration

	// HeldRuns are the runs held now by steps that lost their optimistic
	// commit three times (each holds a connection); MaxHeldRuns the most
	// held at once. HoldsGranted and HoldsRefused count, since start, the
	// holds taken and those refused because MaxHeldRuns were held (the
	// step then tries optimistically again).
	HeldRuns, MaxHeldRuns      int
	HoldsGranted, HoldsRefused uint64
}

// Watch sets the sources the next scrapes read.
func (m *Metrics) Watch(s Sources) {
	m.state.mu.Lock()
	m.state.src = s
	m.state.mu.Unlock()
}

// stateCollector reads the sources at each scrape.
type stateCollector struct {
	m   *Metrics
	mu  sync.Mutex
	src Sources
}

// stateDescriptions are the metrics read from their owners at each
// scrape; the descs below are made from them.
var stateDescriptions = []Description{
	{Name: "swfd_pending_tasks", Type: "gauge", Help: "Tasks scheduled and not yet started (waiting for a poller, or handed to one whose start of it has not yet been recorded), by task kind and domain (0 for every kind of every domain with none).", Labels: []string{"kind", "domain"}},
	{Name: "swfd_pending_task_oldest_age_seconds", Type: "gauge", Help: "Age of the oldest pending task, by task kind and domain (0 when none is pending).", Labels: []string{"kind", "domain"}},
	{Name: "swfd_pollers_waiting", Type: "gauge", Help: "Long polls waiting for a task now, by task kind.", Labels: []string{"kind"}},
	{Name: listPendingName, Type: "gauge", Help: "Tasks pending, by task list (--metrics-task-lists): 0 once it drains, and gone, with its schedule-to-start series, 10 minutes after it last had a task pending, a poller waiting or a task handed out, or once 5,000 task lists used since have series.", Labels: []string{"kind", "domain", "task_list"}},
	{Name: "swfd_open_executions", Type: "gauge", Help: "Workflow executions open now, by domain (in a cluster counted in the store, at most once every 2 s: scrapes closer together share a count).", Labels: []string{"domain"}},
	{Name: "swfd_open_executions_scrape_errors_total", Type: "counter", Help: "Scrapes that could not count the open executions (the store did not answer)."},
	{Name: "swfd_run_cache_hits_total", Type: "counter", Help: "Lookups of a run that found it in the run cache."},
	{Name: "swfd_run_cache_misses_total", Type: "counter", Help: "Lookups of a run that had to read it from the store."},
	{Name: "swfd_run_cache_runs", Type: "gauge", Help: "Runs held in the run cache."},
	{Name: "swfd_run_cache_bytes", Type: "gauge", Help: "Estimated memory the run cache holds (the runs' states and histories), bounded by --run-cache-mb."},
	{Name: "swfd_cluster_live_nodes", Type: "gauge", Help: "Nodes of the cluster heard from within the last 10 s, this one included: each node sends a heartbeat when it has sent no news for 3 s, so an idle node counts."},
	{Name: "swfd_connections_open", Type: "gauge", Help: "Connections open on the API's address (not --metrics-addr's)."},
	{Name: "swfd_connections_max", Type: "gauge", Help: "The most connections the API's address holds open at once (--max-connections); past it new ones wait."},
	{Name: "swfd_tls_certificate_expiry_timestamp_seconds", Type: "gauge", Help: "When the TLS certificate in use (--tls-cert) expires, in seconds since the Unix epoch; absent without TLS."},
	{Name: "swfd_postgres_pool_connections", Type: "gauge", Help: "PostgreSQL connections of the pool, by state: acquired, idle, constructing, and max (the pool's size).", Labels: []string{"state"}},
	{Name: "swfd_postgres_pool_acquires_total", Type: "counter", Help: "Connections acquired from the pool, by whether one was idle (immediate), had to be waited for (waited) or the wait was canceled.", Labels: []string{"result"}},
	{Name: "swfd_postgres_pool_acquire_wait_seconds_total", Type: "counter", Help: "Time spent acquiring connections from the pool."},
	{Name: "swfd_postgres_held_runs", Type: "gauge", Help: "Runs whose row a step holds locked now (a step that lost its commit to other writers three times holds its run for its next attempt, keeping a pool connection), and max: the most held at once (all but a quarter of the pool, all but two at least, yet one with a pool of two or three: 12 of 16).", Labels: []string{"state"}},
	{Name: "swfd_postgres_run_holds_total", Type: "counter", Help: "Steps that asked to hold their run, by whether they held it (held) or found the most runs held already and tried without (refused).", Labels: []string{"result"}},
}

const listPendingName = "swfd_task_list_pending_tasks"

func desc(name string) *prometheus.Desc {
	for _, d := range stateDescriptions {
		if d.Name == name {
			return prometheus.NewDesc(d.Name, d.Help, d.Labels, nil)
		}
	}
	panic("metrics: no description of " + name)
}

var (
	pendingDesc     = desc("swfd_pending_tasks")
	oldestDesc      = desc("swfd_pending_task_oldest_age_seconds")
	pollersDesc     = desc("swfd_pollers_waiting")
	listPendingDesc = desc(listPendingName)
	openDesc        = desc("swfd_open_executions")
	openErrDesc     = desc("swfd_open_executions_scrape_errors_total")
	cacheHitsDesc   = desc("swfd_run_cache_hits_total")
	cacheMissDesc   = desc("swfd_run_cache_misses_total")
	cacheRunsDesc   = desc("swfd_run_cache_runs")
	cacheBytesDesc  = desc("swfd_run_cache_bytes")
	liveNodesDesc   = desc("swfd_cluster_live_nodes")
	connsOpenDesc   = desc("swfd_connections_open")
	connsMaxDesc    = desc("swfd_connections_max")
	tlsExpiryDesc   = desc("swfd_tls_certificate_expiry_timestamp_seconds")
	poolConnsDesc   = desc("swfd_postgres_pool_connections")
	poolAcqDesc     = desc("swfd_postgres_pool_acquires_total")
	poolWaitDesc    = desc("swfd_postgres_pool_acquire_wait_seconds_total")
	heldRunsDesc    = desc("swfd_postgres_held_runs")
	runHoldsDesc    = desc("swfd_postgres_run_holds_total")
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{pendingDesc, oldestDesc, pollersDesc, openDesc, openErrDesc,
		cacheHitsDesc, cacheMissDesc, cacheRunsDesc, liveNodesDesc, connsOpenDesc, connsMaxDesc, tlsExpiryDesc, poolConnsDesc, poolAcqDesc, poolWaitDesc, heldRunsDesc, runHoldsDesc} {
		ch <- d
	}
	if c.m.lists {
		ch <- listPendingDesc
		c.m.listToStart.Describe(ch)
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	src := c.src
	c.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	var open map[string]int
	if src.OpenExecutions != nil {
		ctx, cancel := ctxScrape()
		var err error
		open, err = src.OpenExecutions(ctx)
		cancel()
		if err != nil {
			c.m.openScrapeErrors.Add(1)
		}
		for domain, n := range open {
			gauge(openDesc, float64(n), domain)
		}
		counter(openErrDesc, float64(c.m.openScrapeErrors.Load()))
	}
	if src.TaskLists != nil {
		c.collectTaskLists(src.TaskLists(), open, gauge)
	}
	if c.m.listToStart != nil {
		// After collectTaskLists has dropped the lists no longer in use.
		c.m.listToStart.Collect(ch)
	}
	if src.RunCache != nil {
		rc := src.RunCache()
		counter(cacheHitsDesc, float64(rc.Hits))
		counter(cacheMissDesc, float64(rc.Misses))
		gauge(cacheRunsDesc, float64(rc.Runs))
		gauge(cacheBytesDesc, float64(rc.Bytes))
	}
	if src.LiveNodes != nil {
		gauge(liveNodesDesc, float64(src.LiveNodes()))
	}
	if src.Connections != nil {
		open, limit := src.Connections()
		gauge(connsOpenDesc, float64(open))
		gauge(connsMaxDesc, float64(limit))
	}
	if src.TLSExpiry != nil {
		gauge(tlsExpiryDesc, float64(src.TLSExpiry().Unix()))
	}
	if src.Pool != nil {
		p := src.Pool()
		gauge(poolConnsDesc, float64(p.Acquired), "acquired")
		gauge(poolConnsDesc, float64(p.Idle), "idle")
		gauge(poolConnsDesc, float64(p.Constructing), "constructing")
		gauge(poolConnsDesc, float64(p.Max), "max")
		counter(poolAcqDesc, float64(p.Acquires-p.EmptyAcquires), "immediate")
		counter(poolAcqDesc, float64(p.EmptyAcquires), "waited")
		counter(poolAcqDesc, float64(p.CanceledAcquires), "canceled")
		counter(poolWaitDesc, p.AcquireWait.Seconds())
		gauge(heldRunsDesc, float64(p.HeldRuns), "held")
		gauge(heldRunsDesc, float64(p.MaxHeldRuns), "max")
		counter(runHoldsDesc, float64(p.HoldsGranted), "held")
		counter(runHoldsDesc, float64(p.HoldsRefused), "refused")
	}
}

// collectTaskLists sums the task lists by kind and domain (and, with
// Options.TaskLists, reports each list). Every kind of every domain of
// domains (the domains that exist) is reported, 0 when nothing is pending,
// as are the lists of Options.TaskLists still kept (see listsInUse).
func (c *stateCollector) collectTaskLists(lists []TaskList, domains map[string]int, gauge func(*prometheus.Desc, float64, ...string)) {
	type key struct{ kind, domain string }
	pending := map[key]int{}
	oldest := map[key]time.Time{}
	waiting := map[string]int{}
	for _, k := range kinds {
		waiting[string(k)] = 0
		for d := range domains {
			pending[key{string(k), d}] = 0
		}
	}
	now := c.m.clock.Now()
	for _, l := range lists {
		waiting[l.Kind] += l.Waiting
		if l.Pending == 0 {
			continue
		}
		k := key{l.Kind, l.Domain}
		pending[k] += l.Pending
		if o, ok := oldest[k]; !l.Oldest.IsZero() && (!ok || l.Oldest.Before(o)) {
			oldest[k] = l.Oldest
		}
	}
	if c.m.lists {
		for l, n := range c.m.listsInUse(lists, now) {
			gauge(listPendingDesc, float64(n), l.kind, l.domain, l.name)
		}
	}
	for k, n := range pending {
		gauge(pendingDesc, float64(n), k.kind, k.domain)
		age := 0.0
		if o, ok := oldest[k]; ok {
			age = max(now.Sub(o), 0).Seconds()
		}
		gauge(oldestDesc, age, k.kind, k.domain)
	}
	for kind, n := range waiting {
		gauge(pollersDesc, float64(n), kind)
	}
}
