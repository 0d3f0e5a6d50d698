package service_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/postgres"
	"github.com/swfd/swfd/service"
	"github.com/swfd/swfd/sqlite"
)

// countingStore counts the bytes each commit hands the store: the runs'
// serialized states, the events and the heartbeat details.
type countingStore struct {
	swfd.Store
	state, events, details atomic.Int64
}

func (c *countingStore) Commit(ctx context.Context, b swfd.Batch) error {
	for _, u := range b.Updates {
		c.state.Add(int64(len(u.Execution.State)))
		for _, ev := range u.Events {
			c.events.Add(int64(len(ev.JSON)))
		}
		c.details.Add(updateDetailBytes(u))
	}
	return c.Store.Commit(ctx, b)
}

func (c *countingStore) total() int64 { return c.state.Load() + c.events.Load() + c.details.Load() }

// BenchmarkHeartbeat records heartbeats carrying 2 KB of details on one of
// a run's started activities, for 1, 100 and 1,000 started activities each
// with 2 KB of details, and then as many signals (a step that touches no
// activity), on a SQLite file and on PostgreSQL. It reports the bytes
// each step hands the store (state, events, details) and the steps per
// second.
func BenchmarkHeartbeat(b *testing.B) {
	for _, store := range []string{"sqlite", "postgres"} {
		for _, n := range []int{1, 100, 1000} {
			b.Run(fmt.Sprintf("%s/activities=%d", store, n), func(b *testing.B) {
				var db swfd.Store
				var err error
				switch store {
				case "sqlite":
					db, err = sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "swfd.db"), nil)
				case "postgres":
					db, err = postgres.Open(context.Background(), pgtest.NewDatabase(b), nil)
				}
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { db.Close() })
				benchHeartbeats(b, db, n)
			})
		}
	}
}

func benchHeartbeats(b *testing.B, db swfd.Store, n int) {
	ctx := context.Background()
	cs := &countingStore{Store: db}
	svc, err := service.New(ctx, service.Options{Store: cs})
	if err != nil {
		b.Fatal(err)
	}
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	must(svc.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "1"}))
	must(svc.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "86400", DefaultTaskStartToCloseTimeout: "3600", DefaultChildPolicy: api.ChildPolicyTerminate}))
	must(svc.RegisterActivityType(ctx, &api.RegisterActivityTypeInput{Domain: "d", Name: "a", Version: "1", DefaultTaskList: &api.TaskList{Name: "al"},
		DefaultTaskScheduleToStartTimeout: "NONE", DefaultTaskScheduleToCloseTimeout: "NONE", DefaultTaskStartToCloseTimeout: "86400", DefaultTaskHeartbeatTimeout: "86400"}))
	run, err := svc.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	must(err)
	var tokens []string
	for len(tokens) < n {
		d, err := svc.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
		must(err)
		var ds []api.Decision
		for i := len(tokens); i < n && len(ds) < 100; i++ {
			ds = append(ds, api.Decision{DecisionType: api.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{
				ActivityID: fmt.Sprint("a", i), ActivityType: api.ActivityType{Name: "a", Version: "1"}}})
		}
		must(svc.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: ds}))
		for range ds {
			a, err := svc.PollForActivityTask(ctx, &api.PollForActivityTaskInput{Domain: "d", TaskList: api.TaskList{Name: "al"}})
			must(err)
			tokens = append(tokens, a.TaskToken)
		}
		if len(tokens) < n {
			// Let the next decision task be scheduled.
			must(svc.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: "more"}))
		}
	}
	details := strings.Repeat("x", 2048)
	for _, tok := range tokens {
		_, err := svc.RecordActivityTaskHeartbeat(ctx, &api.RecordActivityTaskHeartbeatInput{TaskToken: tok, Details: &details})
		must(err)
	}
	b.ResetTimer()
	base, baseState := cs.total(), cs.state.Load()
	began := time.Now()
	for i := 0; i < b.N; i++ {
		_, err := svc.RecordActivityTaskHeartbeat(ctx, &api.RecordActivityTaskHeartbeatInput{TaskToken: tokens[i%n], Details: &details})
		must(err)
	}
	hb := time.Since(began)
	b.ReportMetric(float64(cs.total()-base)/float64(b.N), "B/heartbeat")
	b.ReportMetric(float64(cs.state.Load()-baseState)/float64(b.N), "stateB/heartbeat")
	b.ReportMetric(float64(b.N)/hb.Seconds(), "heartbeats/s")
	base = cs.total()
	began = time.Now()
	for i := 0; i < b.N; i++ {
		must(svc.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", RunID: &run.RunID, SignalName: "s"}))
	}
	sig := time.Since(began)
	b.StopTimer()
	b.ReportMetric(float64(cs.total()-base)/float64(b.N), "B/signal")
	b.ReportMetric(float64(b.N)/sig.Seconds(), "signals/s")
}
