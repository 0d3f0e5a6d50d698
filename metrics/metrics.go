// Package metrics owns swfd's Prometheus instruments: it keeps the registry,
// serves it in the Prometheus text format (Handler), and has one method per
// thing swfd tells it — a call answered, a commit made, a poll answered, a
// timer fired, a purge, a store commit, cluster news — each of which costs
// an atomic add or two. Gauges that describe state (tasks pending and the
// oldest's age, pollers waiting, open executions, the run cache's size,
// live nodes, PostgreSQL's pool) are not kept up to date as things change:
// they are read from their owners at each scrape (Watch), which costs
// nothing between scrapes.
//
// Every metric is named swfd_… with its unit in its name, and no label
// takes an unbounded value: operations, fault names, decision types and
// causes, task kinds, close statuses and timeout types are closed sets;
// domains are at most the account's 100; task-list names appear only with
// Options.TaskLists, and then of the 5,000 lists used last at most.
// docs/operations.md lists every metric.
//
// The other packages do not import this one: they offer hooks (a commit
// listener, func fields) that the server connects to these methods.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/recent"
	"github.com/swfd/swfd/runs"
)

// Options configure Metrics.
type Options struct {
	// Clock is swfd's clock: the ages of tasks and the lateness of timers
	// are measured on it, as the times they are compared with were
	// stamped with it. Default: the system clock.
	Clock swfd.Clock
	// TaskLists adds series labelled with task-list names: pending tasks
	// and schedule-to-start time per task list. Off by default: a
	// deployment may have thousands of task lists.
	TaskLists bool
	// Runtime adds the Go runtime's and the process's metrics (go_…,
	// process_…).
	Runtime bool
}

// Latency buckets (seconds). Calls: from under a millisecond to a long
// poll's full minute. Waits (schedule to start, timer lateness, news
// delay): from a millisecond to an hour.
var (
	callBuckets   = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	waitBuckets   = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}
	commitBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}
)

// Metrics holds every instrument. Its methods are safe for concurrent use.
type Metrics struct {
	reg   *prometheus.Registry
	clock swfd.Clock
	lists bool

	// The API.
	calls      *prometheus.CounterVec   // operation, outcome
	callTime   *prometheus.HistogramVec // operation
	denied     *prometheus.CounterVec   // operation
	sigFailed  *prometheus.CounterVec   // fault
	throttled  *prometheus.CounterVec   // operation
	accessFail prometheus.Counter       // failed writes of the access log
	connsFull  prometheus.Counter       // connections that came in at the cap
	ops        map[string]*opMetrics    // the instruments of each operation's successful calls
	unknownOps *opMetrics

	// Polls.
	polls        *prometheus.CounterVec   // kind, result
	toStart      *prometheus.HistogramVec // kind
	listToStart  *prometheus.HistogramVec // kind, domain, task_list (Options.TaskLists)
	pollTask     [2]prometheus.Counter    // by kindIndex
	pollEmpty    [2]prometheus.Counter
	toStartKinds [2]prometheus.Observer
	pollsEvicted prometheus.Counter // answered early to free their connection

	// Executions and histories.
	started   *prometheus.CounterVec // domain
	closed    *prometheus.CounterVec // domain, status
	decisions *prometheus.CounterVec // type, outcome
	decidedOK map[api.DecisionType]prometheus.Counter
	events    prometheus.Counter
	timeouts  *prometheus.CounterVec // kind, type

	// Timers and retention.
	timersFired prometheus.Counter
	timerLate   prometheus.Histogram
	purged      prometheus.Counter

	// The store.
	commitTime prometheus.Histogram
	commitFail prometheus.Counter
	conflicts  prometheus.Counter
	groupSize  prometheus.Histogram
	syncTime   prometheus.Histogram

	// The cluster.
	newsSent      prometheus.Counter
	newsReceived  prometheus.Counter
	newsDelay     prometheus.Histogram
	remoteStarted prometheus.Counter

	// listSeen holds when each task list last had tasks pending, pollers
	// waiting or a task handed out (Options.TaskLists): a list's series
	// are dropped listSeriesKept after that, or once maxListSeries lists
	// used since have series (dropList).
	listMu   sync.Mutex
	listSeen *recent.Table[listKey]

	state            *stateCollector
	openScrapeErrors atomic.Uint64
	described        []Description // by the factory, in order of registration
}

// Description is what one metric is: its name, type (counter, gauge or
// histogram) and help text.
type Description struct {
	Name, Type, Help string
	Labels           []string
}

// Describe returns every swfd metric m exports (not the Go runtime's and
// the process's), by name: what docs/operations.md and a dashboard may
// refer to. A metric with no series yet (no call of that kind so far) is
// described all the same.
func (m *Metrics) Describe() []Description {
	out := append([]Description(nil), m.described...)
	for _, d := range stateDescriptions {
		if d.Name == listPendingName && !m.lists {
			continue
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Description) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// opMetrics are the instruments of one operation's successful calls,
// resolved once (a label lookup per call would cost more than the rest).
type opMetrics struct {
	ok   prometheus.Counter
	time prometheus.Observer
}

// unknownOperation is the operation label of a request that names no
// operation: the target is the client's to choose, and must not become a
// label value.
const unknownOperation = "unknown"

// New returns Metrics with every instrument registered.
func New(opts Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), clock: opts.Clock, lists: opts.TaskLists}
	m.listSeen = recent.New(maxListSeries, m.dropList)
	if m.clock == nil {
		m.clock = swfd.SystemClock{}
	}
	f := factory{m}

	m.calls = f.counterVec("swfd_api_calls_total", "SWF API calls answered, by operation and outcome: success, the fault's name, or ClientClosed (the client went away before its answer: not a fault).", "operation", "outcome")
	m.callTime = f.histogramVec("swfd_api_call_duration_seconds", "Time from a call's arrival to its answer, by operation (long polls include the time they waited).", callBuckets, "operation")
	m.denied = f.counterVec("swfd_auth_denied_calls_total", "Calls refused by the caller's IAM policies (OperationNotPermittedFault), by operation.", "operation")
	m.sigFailed = f.counterVec("swfd_auth_signature_failures_total", "Requests refused for their credentials or signature, by fault.", "fault")
	m.throttled = f.counterVec("swfd_throttled_calls_total", "Calls refused by a throttling quota (ThrottlingException), by operation.", "operation")
	m.accessFail = f.counter("swfd_access_log_write_errors_total", "Writes of the access log (--access-log) that failed, each try counted: the lines are kept and tried again every 200 ms, new ones dropped while the 64 KiB buffer is full.")
	m.connsFull = f.counter("swfd_connections_at_limit_total", "Connections that came in with --max-connections open and waited for one to close (idle ones are closed, or a long poll evicted, to make room).")
	m.ops = map[string]*opMetrics{}
	for name := range api.Operations {
		m.ops[name] = &opMetrics{ok: m.calls.WithLabelValues(name, "success"), time: m.callTime.WithLabelValues(name)}
	}
	m.unknownOps = &opMetrics{ok: m.calls.WithLabelValues(unknownOperation, "success"), time: m.callTime.WithLabelValues(unknownOperation)}

	m.polls = f.counterVec("swfd_polls_total", "Long polls answered, by task kind and result: task, or empty (the poll timed out, or was evicted at --max-connections).", "kind", "result")
	m.pollsEvicted = f.counter("swfd_long_polls_evicted_total", "Long polls answered empty before their timeout to give their connection up to a new one at --max-connections (counted in swfd_polls_total as empty too).")
	m.toStart = f.histogramVec("swfd_task_schedule_to_start_seconds", "Time from a task being scheduled to its being handed to a poller, by task kind.", waitBuckets, "kind")
	for i, k := range kinds {
		m.pollTask[i] = m.polls.WithLabelValues(string(k), "task")
		m.pollEmpty[i] = m.polls.WithLabelValues(string(k), "empty")
		m.toStartKinds[i] = m.toStart.WithLabelValues(string(k))
	}
	if m.lists {
		// Collected by the state collector, right after it drops the
		// series of the lists no longer in use (listsInUse): collected on
		// its own, concurrently, a dropped list's series could still be
		// read in that scrape.
		name, help := "swfd_task_list_schedule_to_start_seconds", "Time from a task being scheduled to its being handed to a poller, by task list (--metrics-task-lists)."
		labels := []string{"kind", "domain", "task_list"}
		m.listToStart = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: waitBuckets}, labels)
		m.described = append(m.described, Description{Name: name, Type: "histogram", Help: help, Labels: labels})
	}

	m.started = f.counterVec("swfd_executions_started_total", "Workflow executions started (children and continued runs included), by domain.", "domain")
	m.closed = f.counterVec("swfd_executions_closed_total", "Workflow executions closed, by domain and close status.", "domain", "status")
	m.decisions = f.counterVec("swfd_decisions_total", "Decisions applied, by decision type and outcome: ok, or the cause of the decision's *Failed event.", "type", "outcome")
	m.decidedOK = map[api.DecisionType]prometheus.Counter{}
	for _, d := range decisionTypes {
		m.decidedOK[d] = m.decisions.WithLabelValues(string(d), outcomeOK)
	}
	m.events = f.counter("swfd_history_events_total", "History events appended.")
	m.timeouts = f.counterVec("swfd_timeouts_total", "Timeouts recorded, by what timed out (activity, decision, workflow, lambda) and the timeout's type.", "kind", "type")

	m.timersFired = f.counter("swfd_timers_fired_total", "Durable timers fired: user timers and every activity, decision and workflow timeout, each counted once, by the node that recorded it (not by a node that found it fired already, nor for one that another timer of its instant made moot: a run it closed, a task it ended).")
	m.timerLate = f.histogram("swfd_timer_fire_delay_seconds", "How late each durable timer fired: from its due time to its firing.", waitBuckets)
	m.purged = f.counter("swfd_retention_purged_executions_total", "Closed executions deleted, with their histories, past their domain's retention period.")

	m.commitTime = f.histogram("swfd_store_commit_duration_seconds", "Time one call's changes take to commit durably to the store (with group commit: the wait for the group's transaction).", commitBuckets)
	m.commitFail = f.counter("swfd_store_commit_errors_total", "Commits that failed in the store (its disk, its connection); not those refused for their data: version conflicts (counted apart), a workflow id already open, a count limit reached.")
	m.conflicts = f.counter("swfd_store_version_conflicts_total", "Commits that lost an optimistic-concurrency race on a run's version and were decided again.")
	m.groupSize = f.histogram("swfd_store_commit_group_size", "Calls whose changes shared one store transaction (group commit).", []float64{1, 2, 4, 8, 16, 32, 64, 128, 256})
	m.syncTime = f.histogram("swfd_sqlite_sync_duration_seconds", "Time SQLite's write-ahead log takes to reach the disk (fdatasync) per group commit.", commitBuckets)

	m.newsSent = f.counter("swfd_cluster_news_sent_total", "News messages this node published to the other nodes, heartbeats included.")
	m.newsReceived = f.counter("swfd_cluster_news_received_total", "News messages received from the other nodes, heartbeats included.")
	m.newsDelay = f.histogram("swfd_cluster_news_delay_seconds", "Time from another node publishing news to this node receiving it (by the two nodes' wall clocks).", waitBuckets)
	m.remoteStarted = f.counter("swfd_cluster_remote_tasks_started_total", "Tasks another node scheduled that a poller of this node was handed.")

	m.state = &stateCollector{m: m}
	m.reg.MustRegister(m.state)
	if opts.Runtime {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Handler serves the metrics in Prometheus's text format (or OpenMetrics,
// when the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true, ErrorHandling: promhttp.ContinueOnError})
}

// MetricFamily is one metric with all its series, as Gather returns it.
type MetricFamily = dto.MetricFamily

// Gather returns every metric's current value (for tests and tools).
func (m *Metrics) Gather() ([]*MetricFamily, error) { return m.reg.Gather() }

// Call records one API call answered: its operation ("" when the request
// named none), the code of the fault answered ("" on success) and how
// long it took.
func (m *Metrics) Call(operation, fault string, d time.Duration) {
	om, known := m.ops[operation]
	if !known {
		om, operation = m.unknownOps, unknownOperation
	}
	om.time.Observe(d.Seconds())
	if fault == "" {
		om.ok.Inc()
		return
	}
	m.calls.WithLabelValues(operation, fault).Inc()
	switch {
	case fault == api.ThrottlingException:
		m.throttled.WithLabelValues(operation).Inc()
	case fault == api.OperationNotPermittedFault:
		m.denied.WithLabelValues(operation).Inc()
	case signatureFaults[fault]:
		m.sigFailed.WithLabelValues(fault).Inc()
	}
}

// AccessLogWriteFailed records a write of the access log that failed.
func (m *Metrics) AccessLogWriteFailed() { m.accessFail.Inc() }

// ConnectionAtLimit records a connection that came in at the connection
// limit and had to wait for a slot.
func (m *Metrics) ConnectionAtLimit() { m.connsFull.Inc() }

// PollEvicted records a long poll answered early to give its connection
// up at the connection limit.
func (m *Metrics) PollEvicted() { m.pollsEvicted.Inc() }

// signatureFaults are the faults of a request refused for its credentials
// or signature.
var signatureFaults = map[string]bool{
	"MissingAuthenticationTokenException": true,
	"UnrecognizedClientException":         true,
	"InvalidSignatureException":           true,
	"IncompleteSignatureException":        true,
}

// kinds are the kinds of task pollers are handed; kindIndex their index.
// Lambda tasks are never polled (swfd invokes them): their outcomes are
// counted from their events (timeouts of kind "lambda").
var kinds = [2]swfd.TaskKind{swfd.DecisionTask, swfd.ActivityTask}

func kindIndex(k swfd.TaskKind) int {
	if k == swfd.ActivityTask {
		return 1
	}
	return 0
}

// Polled records a long poll answered: t is the task it was handed, nil
// when it timed out empty.
func (m *Metrics) Polled(kind swfd.TaskKind, t *swfd.Task) {
	i := kindIndex(kind)
	if t == nil {
		m.pollEmpty[i].Inc()
		return
	}
	m.pollTask[i].Inc()
	if t.Scheduled.IsZero() {
		return
	}
	now := m.clock.Now()
	wait := max(now.Sub(t.Scheduled), 0).Seconds()
	m.toStartKinds[i].Observe(wait)
	if m.listToStart != nil {
		// Under listMu, so that a list has series only while it is kept
		// (a list dropped meanwhile would keep its histogram for good).
		m.listMu.Lock()
		m.listUsedLocked(listKey{string(kind), t.Domain, t.TaskList}, now)
		m.listToStart.WithLabelValues(string(kind), t.Domain, t.TaskList).Observe(wait)
		m.listMu.Unlock()
	}
}

// ForgetDomains drops every series labelled with a domain: the domains
// are gone, all of them (a --dev reset). Without it, the counters of
// domains that no longer exist would pile up reset after reset.
func (m *Metrics) ForgetDomains() {
	m.started.Reset()
	m.closed.Reset()
	if m.listToStart != nil {
		m.listMu.Lock()
		defer m.listMu.Unlock()
		m.listSeen.Clear()
		m.listToStart.Reset()
	}
}

// listKey names a task list in the series of Options.TaskLists.
type listKey struct{ kind, domain, name string }

// Bounds of the series of Options.TaskLists. listSeriesKept is how long a
// task list's series stay after it last had tasks pending, pollers waiting
// or a task handed out: a deployment that names task lists per host or per
// process makes new ones at each deploy, and the series of the old ones
// would otherwise stay for good. maxListSeries is how many task lists have
// series at most: past it, the list used least recently loses its series
// to the new one, so that a client naming new task lists all the time (each
// polled once, say) cannot grow them without bound within listSeriesKept.
const (
	listSeriesKept = 10 * time.Minute
	maxListSeries  = 5000
)

// listUsedLocked records that list k is in use now; listSeen drops the
// series of the least recently used list if that makes more than
// maxListSeries. The caller holds listMu.
func (m *Metrics) listUsedLocked(k listKey, now time.Time) {
	m.listSeen.Touch(k, now)
}

// dropList drops the series of a task list listSeen forgot. The caller
// holds listMu.
func (m *Metrics) dropList(k listKey) {
	m.listToStart.DeleteLabelValues(k.kind, k.domain, k.name)
}

// listsInUse returns the pending tasks of each task list whose series are
// kept (0 for one with none now), given the lists the matcher holds now,
// and drops the series of the lists unused for listSeriesKept.
func (m *Metrics) listsInUse(lists []TaskList, now time.Time) map[listKey]int {
	m.listMu.Lock()
	defer m.listMu.Unlock()
	pending := map[listKey]int{}
	for _, l := range lists {
		if l.Pending > 0 || l.Waiting > 0 {
			k := listKey{l.Kind, l.Domain, l.Name}
			m.listUsedLocked(k, now)
			pending[k] = l.Pending
		}
	}
	m.listSeen.Expire(now, listSeriesKept)
	out := make(map[listKey]int, m.listSeen.Len())
	for k := range m.listSeen.All() {
		out[k] = pending[k]
	}
	return out
}

// Committed is a runs.Listener: it counts what each commit made here
// appended — executions started and closed, decisions and their outcomes,
// events, timeouts. Other nodes' commits, which each node counts itself,
// are not counted.
func (m *Metrics) Committed(c runs.Commit) {
	if c.Remote {
		return
	}
	for i := range c.Runs {
		ch := &c.Runs[i]
		if ch.Created {
			m.started.WithLabelValues(ch.Domain).Inc()
		}
		if ch.Closed {
			m.closed.WithLabelValues(ch.Domain, string(ch.CloseStatus)).Inc()
		}
		m.events.Add(float64(len(ch.Events)))
		for j := range ch.Events {
			ev := &ch.Events[j]
			if d, outcome, ok := decisionOutcome(ev); ok {
				if outcome == outcomeOK {
					m.decidedOK[d].Inc()
				} else {
					m.decisions.WithLabelValues(string(d), outcome).Inc()
				}
				continue
			}
			if kind, typ, ok := timeout(ev); ok {
				m.timeouts.WithLabelValues(kind, typ).Inc()
			}
		}
	}
}

// TimerFired records a durable timer fired; due is when it was due.
func (m *Metrics) TimerFired(due time.Time) {
	m.timersFired.Inc()
	m.timerLate.Observe(max(m.clock.Now().Sub(due), 0).Seconds())
}

// Purged records n closed executions deleted past their retention.
func (m *Metrics) Purged(n int) { m.purged.Add(float64(n)) }

// StoreCommit records one commit of a call's changes: how long it took
// and how it ended. Only a failure of the store counts as a commit error:
// a commit the data refused (a version conflict, counted on its own; a
// workflow id already open, a record not found, a count limit reached)
// found the store working, and its caller gets the fault it deserves.
func (m *Metrics) StoreCommit(d time.Duration, err error) {
	switch {
	case err == nil:
		m.commitTime.Observe(d.Seconds())
	case errors.Is(err, swfd.ErrConflict):
		m.conflicts.Inc()
	case dataOutcome(err):
	default:
		m.commitFail.Inc()
	}
}

// dataOutcome reports whether a commit failed for a reason of the data
// (what the stores return for a key taken, a record missing or a count
// limit reached) rather than of the store.
func dataOutcome(err error) bool {
	return errors.Is(err, swfd.ErrAlreadyExists) || errors.Is(err, swfd.ErrNotFound) || errors.Is(err, swfd.ErrLimitExceeded)
}

// CommitGroup records one store transaction that carried the changes of
// calls calls (group commit).
func (m *Metrics) CommitGroup(calls int) { m.groupSize.Observe(float64(calls)) }

// Synced records one sync of SQLite's write-ahead log to the disk.
func (m *Metrics) Synced(d time.Duration) { m.syncTime.Observe(d.Seconds()) }

// NewsSent records one news message published to the other nodes.
func (m *Metrics) NewsSent() { m.newsSent.Inc() }

// NewsReceived records one news message from another node, published at
// sent by that node's clock (zero when it does not say).
func (m *Metrics) NewsReceived(sent time.Time) {
	m.newsReceived.Inc()
	if !sent.IsZero() {
		m.newsDelay.Observe(max(time.Since(sent), 0).Seconds())
	}
}

// RemoteTaskStarted records a poller here handed a task another node
// scheduled.
func (m *Metrics) RemoteTaskStarted() { m.remoteStarted.Inc() }

// decisionTypes are the thirteen decision types, in the model's order.
var decisionTypes = []api.DecisionType{
	api.DecisionTypeScheduleActivityTask, api.DecisionTypeRequestCancelActivityTask,
	api.DecisionTypeCompleteWorkflowExecution, api.DecisionTypeFailWorkflowExecution,
	api.DecisionTypeCancelWorkflowExecution, api.DecisionTypeContinueAsNewWorkflowExecution,
	api.DecisionTypeRecordMarker, api.DecisionTypeStartTimer, api.DecisionTypeCancelTimer,
	api.DecisionTypeSignalExternalWorkflowExecution, api.DecisionTypeRequestCancelExternalWorkflowExecution,
	api.DecisionTypeStartChildWorkflowExecution, api.DecisionTypeScheduleLambdaFunction,
}

// factory makes instruments and registers them.
// factory makes instruments, registers them and records what they are.
type factory struct{ m *Metrics }

func (f factory) register(c prometheus.Collector, name, typ, help string, labels []string) {
	f.m.reg.MustRegister(c)
	f.m.described = append(f.m.described, Description{Name: name, Type: typ, Help: help, Labels: labels})
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.register(c, name, "counter", help, nil)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.register(c, name, "counter", help, labels)
	return c
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	f.register(h, name, "histogram", help, nil)
	return h
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.register(h, name, "histogram", help, labels)
	return h
}

// scrapeTimeout bounds what a scrape may wait for the store (open
// executions in a cluster).
const scrapeTimeout = 5 * time.Second

// ctxScrape is the context of one scrape's questions to the store.
func ctxScrape() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), scrapeTimeout)
}
