package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/promtest"
	"github.com/swfd/swfd/metrics"
	"github.com/swfd/swfd/runs"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func scrape(t *testing.T, m *metrics.Metrics) promtest.Families {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	fams, err := promtest.Parse(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

func want(t *testing.T, fams promtest.Families, want float64, name string, labels ...string) {
	t.Helper()
	if got, _ := fams.Value(name, labels...); got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

// Calls are counted by operation and outcome; a target that names no
// operation is "unknown", and auth, throttling faults have their own
// counts.
func TestCalls(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.Call("StartWorkflowExecution", "", time.Millisecond)
	m.Call("StartWorkflowExecution", api.ThrottlingException, time.Millisecond)
	m.Call("PollForActivityTask", api.OperationNotPermittedFault, time.Millisecond)
	m.Call("", "InvalidSignatureException", time.Millisecond)
	m.Call("NotAnOperation", api.UnknownOperationException, time.Millisecond)
	f := scrape(t, m)
	want(t, f, 1, "swfd_api_calls_total", "operation", "StartWorkflowExecution", "outcome", "success")
	want(t, f, 1, "swfd_api_calls_total", "operation", "StartWorkflowExecution", "outcome", "ThrottlingException")
	want(t, f, 1, "swfd_throttled_calls_total", "operation", "StartWorkflowExecution")
	want(t, f, 1, "swfd_auth_denied_calls_total", "operation", "PollForActivityTask")
	want(t, f, 1, "swfd_auth_signature_failures_total", "fault", "InvalidSignatureException")
	want(t, f, 2, "swfd_api_calls_total", "operation", "unknown")
	want(t, f, 5, "swfd_api_call_duration_seconds_count")
	if _, ok := f.Value("swfd_api_calls_total", "operation", "NotAnOperation"); ok {
		t.Error("an unknown operation's name became a label")
	}
}

// Commits are counted: executions, decisions by outcome, timeouts, events;
// other nodes' commits are not (each node counts its own).
func TestCommitted(t *testing.T) {
	m := metrics.New(metrics.Options{})
	ev := func(e api.HistoryEvent) api.HistoryEvent { return e }
	m.Committed(runs.Commit{Runs: []runs.Change{{
		Domain: "d", Created: true,
		Events: []api.HistoryEvent{
			{EventType: api.EventTypeWorkflowExecutionStarted},
			ev(api.HistoryEvent{EventType: api.EventTypeActivityTaskScheduled}),
			ev(api.HistoryEvent{EventType: api.EventTypeScheduleActivityTaskFailed, ScheduleActivityTaskFailedEventAttributes: &api.ScheduleActivityTaskFailedEventAttributes{
				Cause: api.ScheduleActivityTaskFailedCauseActivityCreationRateExceeded}}),
			// A signal that failed after it was initiated is no decision.
			ev(api.HistoryEvent{EventType: api.EventTypeSignalExternalWorkflowExecutionFailed, SignalExternalWorkflowExecutionFailedEventAttributes: &api.SignalExternalWorkflowExecutionFailedEventAttributes{
				Cause: api.SignalExternalWorkflowExecutionFailedCauseUnknownExternalWorkflowExecution, InitiatedEventID: 7}}),
			ev(api.HistoryEvent{EventType: api.EventTypeActivityTaskTimedOut, ActivityTaskTimedOutEventAttributes: &api.ActivityTaskTimedOutEventAttributes{
				TimeoutType: api.ActivityTaskTimeoutTypeHeartbeat}}),
			ev(api.HistoryEvent{EventType: api.EventTypeLambdaFunctionTimedOut, LambdaFunctionTimedOutEventAttributes: &api.LambdaFunctionTimedOutEventAttributes{
				TimeoutType: api.LambdaFunctionTimeoutTypeStartToClose}}),
		},
	}, {Domain: "d", Closed: true, CloseStatus: api.CloseStatusTimedOut, Events: []api.HistoryEvent{
		ev(api.HistoryEvent{EventType: api.EventTypeWorkflowExecutionTimedOut, WorkflowExecutionTimedOutEventAttributes: &api.WorkflowExecutionTimedOutEventAttributes{
			TimeoutType: api.WorkflowExecutionTimeoutTypeStartToClose}}),
	}}}})
	m.Committed(runs.Commit{Remote: true, Runs: []runs.Change{{Domain: "d", Created: true}}})
	f := scrape(t, m)
	want(t, f, 1, "swfd_executions_started_total", "domain", "d")
	want(t, f, 1, "swfd_executions_closed_total", "domain", "d", "status", "TIMED_OUT")
	want(t, f, 7, "swfd_history_events_total")
	want(t, f, 1, "swfd_decisions_total", "type", "ScheduleActivityTask", "outcome", "ok")
	want(t, f, 1, "swfd_decisions_total", "type", "ScheduleActivityTask", "outcome", "ACTIVITY_CREATION_RATE_EXCEEDED")
	want(t, f, 2, "swfd_decisions_total")
	want(t, f, 1, "swfd_timeouts_total", "kind", "activity", "type", "HEARTBEAT")
	want(t, f, 1, "swfd_timeouts_total", "kind", "workflow", "type", "START_TO_CLOSE")
	want(t, f, 1, "swfd_timeouts_total", "kind", "lambda", "type", "START_TO_CLOSE")
}

// The state gauges are read from their sources at the scrape.
func TestSources(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := metrics.New(metrics.Options{Clock: fixedClock{now}})
	m.Watch(metrics.Sources{
		TaskLists: func() []metrics.TaskList {
			return []metrics.TaskList{
				{Kind: "decision", Domain: "d", Name: "a", Pending: 2, Oldest: now.Add(-3 * time.Second)},
				{Kind: "decision", Domain: "d", Name: "b", Pending: 1, Oldest: now.Add(-7 * time.Second), Waiting: 0},
				{Kind: "activity", Domain: "d", Name: "c", Waiting: 4},
			}
		},
		RunCache:  func() metrics.RunCache { return metrics.RunCache{Hits: 5, Misses: 2, Runs: 3, Bytes: 4096} },
		LiveNodes: func() int { return 3 },
		Pool: func() metrics.Pool {
			return metrics.Pool{Max: 20, Acquired: 4, Idle: 6, Acquires: 100, EmptyAcquires: 7,
				HeldRuns: 2, MaxHeldRuns: 15, HoldsGranted: 9, HoldsRefused: 1}
		},
	})
	f := scrape(t, m)
	want(t, f, 4, "swfd_postgres_pool_connections", "state", "acquired")
	want(t, f, 93, "swfd_postgres_pool_acquires_total", "result", "immediate")
	want(t, f, 7, "swfd_postgres_pool_acquires_total", "result", "waited")
	want(t, f, 2, "swfd_postgres_held_runs", "state", "held")
	want(t, f, 15, "swfd_postgres_held_runs", "state", "max")
	want(t, f, 9, "swfd_postgres_run_holds_total", "result", "held")
	want(t, f, 1, "swfd_postgres_run_holds_total", "result", "refused")
	want(t, f, 3, "swfd_pending_tasks", "kind", "decision", "domain", "d")
	want(t, f, 7, "swfd_pending_task_oldest_age_seconds", "kind", "decision", "domain", "d")
	want(t, f, 4, "swfd_pollers_waiting", "kind", "activity")
	want(t, f, 0, "swfd_pollers_waiting", "kind", "decision")
	want(t, f, 5, "swfd_run_cache_hits_total")
	want(t, f, 3, "swfd_run_cache_runs")
	want(t, f, 4096, "swfd_run_cache_bytes")
	want(t, f, 3, "swfd_cluster_live_nodes")
	if _, ok := f["swfd_task_list_pending_tasks"]; ok {
		t.Error("per-task-list series without Options.TaskLists")
	}
	// Polls, timers and commits.
	m.Polled(swfd.ActivityTask, &swfd.Task{Kind: swfd.ActivityTask, Scheduled: now.Add(-2 * time.Second)})
	m.Polled(swfd.ActivityTask, nil)
	m.TimerFired(now.Add(-time.Second))
	f = scrape(t, m)
	want(t, f, 1, "swfd_polls_total", "kind", "activity", "result", "task")
	want(t, f, 1, "swfd_polls_total", "kind", "activity", "result", "empty")
	want(t, f, 2, "swfd_task_schedule_to_start_seconds_sum", "kind", "activity")
	want(t, f, 1, "swfd_timer_fire_delay_seconds_sum")
}

// Only failures of the store count as commit errors: a commit refused for
// its data (a workflow id already open, as every retried start meets; a
// record gone; a count limit) is the caller's fault answered, not a sign
// of a broken store, and a version conflict has its own count.
func TestStoreCommitErrorsAreTheStores(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.StoreCommit(time.Millisecond, nil)
	m.StoreCommit(time.Millisecond, fmt.Errorf("commit: %w", swfd.ErrConflict))
	for _, err := range []error{swfd.ErrAlreadyExists, swfd.ErrNotFound, swfd.ErrLimitExceeded} {
		m.StoreCommit(time.Millisecond, fmt.Errorf("commit: %w", err))
	}
	m.StoreCommit(time.Millisecond, fmt.Errorf("commit: %w", swfd.ErrStorageFull))
	m.StoreCommit(time.Millisecond, errors.New("disk I/O error"))
	f := scrape(t, m)
	want(t, f, 2, "swfd_store_commit_errors_total")
	want(t, f, 1, "swfd_store_version_conflicts_total")
	want(t, f, 1, "swfd_store_commit_duration_seconds_count")
}

// movingClock is a clock a test moves.
type movingClock struct{ t *time.Time }

func (c movingClock) Now() time.Time { return *c.t }

// has fails unless the scrape holds the series, with the value v.
func has(t *testing.T, fams promtest.Families, v float64, name string, labels ...string) {
	t.Helper()
	if got, ok := fams.Value(name, labels...); !ok || got != v {
		t.Errorf("%s%v = %v (present: %v), want %v", name, labels, got, ok, v)
	}
}

// The pending tasks of a domain read 0 once its backlog drains, for every
// kind of every domain that exists, as its open executions do; they went
// away before, so a graph of them had gaps and min or avg_over_time lied.
func TestPendingTasksReadZeroWhenDrained(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := metrics.New(metrics.Options{Clock: fixedClock{now}})
	lists := []metrics.TaskList{{Kind: "decision", Domain: "d", Name: "a", Pending: 3, Oldest: now.Add(-time.Second)}}
	m.Watch(metrics.Sources{
		TaskLists:      func() []metrics.TaskList { return lists },
		OpenExecutions: func(context.Context) (map[string]int, error) { return map[string]int{"d": 3, "idle": 0}, nil },
	})
	f := scrape(t, m)
	has(t, f, 3, "swfd_pending_tasks", "kind", "decision", "domain", "d")
	has(t, f, 0, "swfd_pending_tasks", "kind", "activity", "domain", "d")
	has(t, f, 0, "swfd_pending_tasks", "kind", "decision", "domain", "idle")
	lists = nil // drained
	f = scrape(t, m)
	for _, d := range []string{"d", "idle"} {
		for _, k := range []string{"decision", "activity"} {
			has(t, f, 0, "swfd_pending_tasks", "kind", k, "domain", d)
			has(t, f, 0, "swfd_pending_task_oldest_age_seconds", "kind", k, "domain", d)
		}
	}
}

// With Options.TaskLists, a task list's series read 0 once it drains, and
// go (its schedule-to-start histogram too) once it has had no task pending,
// no poller waiting and no task handed out for a while: a deployment that
// names lists per host makes new ones at every deploy, and the old ones'
// series stayed for good before.
func TestTaskListSeriesDropped(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := metrics.New(metrics.Options{Clock: movingClock{&now}, TaskLists: true})
	lists := []metrics.TaskList{
		{Kind: "activity", Domain: "d", Name: "host-1", Pending: 1, Oldest: now},
		{Kind: "activity", Domain: "d", Name: "busy", Waiting: 1},
	}
	m.Watch(metrics.Sources{TaskLists: func() []metrics.TaskList { return lists }})
	f := scrape(t, m)
	has(t, f, 1, "swfd_task_list_pending_tasks", "task_list", "host-1")
	has(t, f, 0, "swfd_task_list_pending_tasks", "task_list", "busy")
	now = now.Add(time.Second)
	m.Polled(swfd.ActivityTask, &swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: "host-1", Scheduled: now.Add(-time.Second)})
	lists = lists[1:] // host-1 drained; busy still has its poller
	f = scrape(t, m)
	has(t, f, 0, "swfd_task_list_pending_tasks", "task_list", "host-1")
	has(t, f, 1, "swfd_task_list_schedule_to_start_seconds_count", "task_list", "host-1")
	now = now.Add(time.Hour)
	f = scrape(t, m)
	for _, n := range []string{"swfd_task_list_pending_tasks", "swfd_task_list_schedule_to_start_seconds_count"} {
		if _, ok := f.Value(n, "task_list", "host-1"); ok {
			t.Errorf("%s of task list host-1 kept an hour after its last use", n)
		}
	}
	has(t, f, 0, "swfd_task_list_pending_tasks", "task_list", "busy")
}

// With Options.TaskLists, at most 5,000 task lists have series at once,
// the most recently used: a client that names a new task list for each
// poll (with a task handed out, or waiting as a scrape comes) made as many
// series as names within the 10 minutes they are kept, without bound.
func TestTaskListSeriesBounded(t *testing.T) {
	const maxLists, n = 5000, 12000
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := metrics.New(metrics.Options{Clock: movingClock{&now}, TaskLists: true})
	var lists []metrics.TaskList
	m.Watch(metrics.Sources{TaskLists: func() []metrics.TaskList { return lists }})
	name := func(i int) string { return fmt.Sprint("host-", i) }
	series := func(f promtest.Families, metric string) int {
		if fam := f[metric]; fam != nil {
			return len(fam.GetMetric())
		}
		return 0
	}
	check := func(f promtest.Families, last string) {
		t.Helper()
		for _, metric := range []string{"swfd_task_list_pending_tasks", "swfd_task_list_schedule_to_start_seconds"} {
			if got := series(f, metric); got > maxLists {
				t.Errorf("%s: %d task lists have series after %d were used; want at most %d", metric, got, n, maxLists)
			}
		}
		has(t, f, 0, "swfd_task_list_pending_tasks", "task_list", last)
	}
	// Tasks handed out on n lists, one each.
	for i := range n {
		now = now.Add(time.Millisecond)
		m.Polled(swfd.ActivityTask, &swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: name(i), Scheduled: now.Add(-time.Second)})
	}
	f := scrape(t, m)
	check(f, name(n-1))
	has(t, f, 1, "swfd_task_list_schedule_to_start_seconds_count", "task_list", name(n-1))
	if _, ok := f.Value("swfd_task_list_schedule_to_start_seconds_count", "task_list", name(0)); ok {
		t.Error("the list used first kept its series past the bound")
	}
	// Pollers waiting on n other lists as a scrape comes.
	for i := range n {
		lists = append(lists, metrics.TaskList{Kind: "activity", Domain: "d", Name: name(n + i), Waiting: 1})
	}
	now = now.Add(time.Second)
	check(scrape(t, m), name(2*n-1))
}
