package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/promtest"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/swfdtest"
)

// metricsFlow drives one known workflow through aws-sdk-go-v2 on a server
// with a manual clock, scraping /metrics on the way.
type metricsFlow struct {
	t   *testing.T
	ctx context.Context
	srv *swfdtest.Server
	c   *swf.Client
}

func (f *metricsFlow) scrape() promtest.Families {
	f.t.Helper()
	fams, err := promtest.Scrape(nil, f.srv.URL+"/metrics")
	if err != nil {
		f.t.Fatal(err)
	}
	return fams
}

// want checks the sum of a metric's series with the given labels.
func (f *metricsFlow) want(fams promtest.Families, want float64, name string, labels ...string) {
	f.t.Helper()
	got, found := fams.Value(name, labels...)
	if !found && want != 0 {
		f.t.Errorf("%s%v: no series", name, labels)
		return
	}
	if got != want {
		f.t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func (f *metricsFlow) pollDecision() *swf.PollForDecisionTaskOutput {
	f.t.Helper()
	task, err := f.c.PollForDecisionTask(f.ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("metrics"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
	if err != nil || task.TaskToken == nil {
		f.t.Fatalf("decision poll: %v", err)
	}
	return task
}

func (f *metricsFlow) decide(ds ...types.Decision) {
	f.t.Helper()
	task := f.pollDecision()
	if _, err := f.c.RespondDecisionTaskCompleted(f.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: ds}); err != nil {
		f.t.Fatal(err)
	}
}

// TestMetricsAfterAKnownWorkload runs one workflow — an activity, a timer,
// a decision that fails, a fault — and checks what /metrics says of it
// before, during and after.
func TestMetricsAfterAKnownWorkload(t *testing.T) {
	f := &metricsFlow{t: t, ctx: context.Background(), srv: swfdtest.New(t)}
	f.c = f.srv.Client()
	f.srv.RegisterDomain("metrics",
		swfdtest.WorkflowType{Name: "flow", Version: "1", TaskList: "deciders"},
		swfdtest.ActivityType{Name: "work", Version: "1", TaskList: "workers"})

	run, err := f.c.StartWorkflowExecution(f.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("metrics"), WorkflowId: aws.String("w1"),
		WorkflowType: &types.WorkflowType{Name: aws.String("flow"), Version: aws.String("1")}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Advance(5 * time.Second)
	during := f.scrape()
	f.want(during, 1, "swfd_executions_started_total", "domain", "metrics")
	f.want(during, 1, "swfd_open_executions", "domain", "metrics")
	f.want(during, 1, "swfd_pending_tasks", "kind", "decision", "domain", "metrics")
	f.want(during, 5, "swfd_pending_task_oldest_age_seconds", "kind", "decision", "domain", "metrics")
	f.want(during, 0, "swfd_pending_tasks", "kind", "activity")

	f.decide(
		types.Decision{DecisionType: types.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
			ActivityId: aws.String("a1"), ActivityType: &types.ActivityType{Name: aws.String("work"), Version: aws.String("1")}}},
		types.Decision{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{
			TimerId: aws.String("t1"), StartToFireTimeout: aws.String("10")}},
		types.Decision{DecisionType: types.DecisionTypeCancelTimer, CancelTimerDecisionAttributes: &types.CancelTimerDecisionAttributes{
			TimerId: aws.String("no-such-timer")}})
	atask, err := f.c.PollForActivityTask(f.ctx, &swf.PollForActivityTaskInput{Domain: aws.String("metrics"), TaskList: &types.TaskList{Name: aws.String("workers")}})
	if err != nil || atask.TaskToken == nil {
		t.Fatalf("activity poll: %v", err)
	}
	if _, err := f.c.RespondActivityTaskCompleted(f.ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: atask.TaskToken, Result: aws.String("done")}); err != nil {
		t.Fatal(err)
	}
	f.decide() // the activity's completion (and the failed CancelTimer)
	f.srv.Advance(10 * time.Second)
	f.decide(types.Decision{DecisionType: types.DecisionTypeCompleteWorkflowExecution})
	if _, err := f.c.DescribeDomain(f.ctx, &swf.DescribeDomainInput{Name: aws.String("no-such-domain")}); err == nil {
		t.Fatal("DescribeDomain of a missing domain succeeded")
	}
	hist, err := f.c.GetWorkflowExecutionHistory(f.ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("metrics"),
		Execution: &types.WorkflowExecution{WorkflowId: aws.String("w1"), RunId: run.RunId}})
	if err != nil {
		t.Fatal(err)
	}

	after := f.scrape()
	// Calls, by operation and outcome.
	f.want(after, 1, "swfd_api_calls_total", "operation", "StartWorkflowExecution", "outcome", "success")
	f.want(after, 3, "swfd_api_calls_total", "operation", "PollForDecisionTask", "outcome", "success")
	f.want(after, 3, "swfd_api_calls_total", "operation", "RespondDecisionTaskCompleted", "outcome", "success")
	f.want(after, 1, "swfd_api_calls_total", "operation", "DescribeDomain", "outcome", "UnknownResourceFault")
	f.want(after, 3, "swfd_api_call_duration_seconds_count", "operation", "PollForDecisionTask")
	// Polls and the wait from schedule to start: the first decision task
	// waited the 5 s the clock was moved.
	f.want(after, 3, "swfd_polls_total", "kind", "decision", "result", "task")
	f.want(after, 1, "swfd_polls_total", "kind", "activity", "result", "task")
	f.want(after, 3, "swfd_task_schedule_to_start_seconds_count", "kind", "decision")
	f.want(after, 5, "swfd_task_schedule_to_start_seconds_sum", "kind", "decision")
	f.want(after, 1, "swfd_task_schedule_to_start_seconds_count", "kind", "activity")
	// Decisions by type and outcome.
	f.want(after, 1, "swfd_decisions_total", "type", "ScheduleActivityTask", "outcome", "ok")
	f.want(after, 1, "swfd_decisions_total", "type", "StartTimer", "outcome", "ok")
	f.want(after, 1, "swfd_decisions_total", "type", "CancelTimer", "outcome", "TIMER_ID_UNKNOWN")
	f.want(after, 1, "swfd_decisions_total", "type", "CompleteWorkflowExecution", "outcome", "ok")
	f.want(after, 4, "swfd_decisions_total")
	// Executions, events, timers.
	f.want(after, 1, "swfd_executions_closed_total", "domain", "metrics", "status", "COMPLETED")
	f.want(after, 0, "swfd_open_executions", "domain", "metrics")
	f.want(after, 0, "swfd_pending_tasks")
	f.want(after, float64(len(hist.Events)), "swfd_history_events_total")
	f.want(after, 1, "swfd_timers_fired_total")
	f.want(after, 1, "swfd_timer_fire_delay_seconds_count")
	f.want(after, 0, "swfd_timer_fire_delay_seconds_sum")
	f.want(after, 0, "swfd_timeouts_total")
	// Every commit of a step was timed; none conflicted or failed.
	if n, _ := after.Value("swfd_store_commit_duration_seconds_count"); n < 8 {
		t.Errorf("commits timed: %v", n)
	}
	f.want(after, 0, "swfd_store_version_conflicts_total")
	f.want(after, 0, "swfd_store_commit_errors_total")
	if n, _ := after.Value("swfd_run_cache_hits_total"); n == 0 {
		t.Error("no run cache hits")
	}
	// The Go runtime's and the process's own metrics are there too.
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := after[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	// No series is labelled with a workflow id, run id or task list.
	for name, fam := range after {
		for _, m := range fam.Metric {
			for _, l := range m.Label {
				if v := l.GetValue(); v == "w1" || v == *run.RunId || v == "deciders" || v == "workers" || l.GetName() == "task_list" {
					t.Errorf("%s has label %s=%q", name, l.GetName(), v)
				}
			}
		}
	}
}

// With --metrics-task-lists, pending tasks and schedule-to-start are also
// reported per task list; --metrics=false serves no /metrics.
func TestMetricsTaskListsAndOff(t *testing.T) {
	srv := swfdtest.New(t, swfdtest.WithConfig(func(c *server.Config) { c.MetricsTaskLists = true }))
	srv.RegisterDomain("lists", swfdtest.WorkflowType{Name: "flow", Version: "1", TaskList: "deciders"})
	c := srv.Client()
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if _, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("lists"), WorkflowId: aws.String(id),
			WorkflowType: &types.WorkflowType{Name: aws.String("flow"), Version: aws.String("1")}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("lists"), TaskList: &types.TaskList{Name: aws.String("deciders")}}); err != nil {
		t.Fatal(err)
	}
	fams, err := promtest.Scrape(nil, srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	f := &metricsFlow{t: t}
	f.want(fams, 1, "swfd_task_list_pending_tasks", "kind", "decision", "domain", "lists", "task_list", "deciders")
	f.want(fams, 1, "swfd_task_list_schedule_to_start_seconds_count", "kind", "decision", "domain", "lists", "task_list", "deciders")

	off := swfdtest.New(t, swfdtest.WithConfig(func(c *server.Config) { c.MetricsOff = true }))
	// The path is then the API's, which answers only POST.
	if _, err := promtest.Scrape(nil, off.URL+"/metrics"); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("/metrics with metrics off: %v", err)
	}
}

// On a SQLite file every group the writer commits is counted with its
// size, and every sync of the write-ahead log is timed.
func TestMetricsSQLiteCommitsAndSyncs(t *testing.T) {
	dir := t.TempDir()
	srv := swfdtest.New(t, swfdtest.WithClock("real"), swfdtest.WithConfig(func(c *server.Config) { c.DB = "sqlite:" + dir + "/swfd.db" }))
	f := &metricsFlow{t: t, ctx: context.Background(), srv: srv, c: srv.Client()}
	before := f.scrape()
	groups0, _ := before.Value("swfd_store_commit_group_size_count")
	syncs0, _ := before.Value("swfd_sqlite_sync_duration_seconds_count")
	for i := range 5 {
		if _, err := f.c.RegisterDomain(f.ctx, &swf.RegisterDomainInput{Name: aws.String(fmt.Sprint("d", i)), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}); err != nil {
			t.Fatal(err)
		}
	}
	after := f.scrape()
	groups, _ := after.Value("swfd_store_commit_group_size_count")
	writes, _ := after.Value("swfd_store_commit_group_size_sum")
	syncs, _ := after.Value("swfd_sqlite_sync_duration_seconds_count")
	if groups-groups0 < 1 || groups-groups0 > 5 {
		t.Errorf("%v groups committed for 5 registrations", groups-groups0)
	}
	if writes < 5 {
		t.Errorf("the groups carried %v writes, want at least the 5 registrations", writes)
	}
	// Each committed group is synced once, before its writers hear of it.
	if syncs-syncs0 != groups-groups0 {
		t.Errorf("%v syncs for %v groups", syncs-syncs0, groups-groups0)
	}
}
