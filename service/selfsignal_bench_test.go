package service

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/sqlite"
)

// BenchmarkSignalsToItself has a run signal itself n times in one decision
// (by run id) and times the delivery of the signals, on a SQLite file: the
// time and the process's CPU time (user and system) to settle, the
// commits, and the bytes of run state written. With other set, the run
// signals another run instead.
func BenchmarkSignalsToItself(b *testing.B) {
	for _, other := range []bool{false, true} {
		for _, n := range []int{250, 1000, 4000} {
			name := fmt.Sprintf("self/n=%d", n)
			if other {
				name = fmt.Sprintf("other/n=%d", n)
			}
			b.Run(name, func(b *testing.B) { benchmarkSignals(b, n, other) })
		}
	}
}

func benchmarkSignals(b *testing.B, n int, other bool) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "swfd.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	counter := &commitCounter{Store: db}
	s, err := New(ctx, Options{Store: counter})
	if err != nil {
		b.Fatal(err)
	}
	registerTestTypes(b, s, false)
	wt := api.WorkflowType{Name: "wf", Version: "1"}
	var settle, cpu time.Duration
	var commits, stateBytes int64
	for i := range b.N {
		id := fmt.Sprint("me-", i)
		run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id, WorkflowType: wt, TaskList: &api.TaskList{Name: id}})
		if err != nil {
			b.Fatal(err)
		}
		to, toRun := id, run.RunID
		if other {
			to = fmt.Sprint("other-", i)
			r, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: to, WorkflowType: wt, TaskList: &api.TaskList{Name: to}})
			if err != nil {
				b.Fatal(err)
			}
			toRun = r.RunID
		}
		dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: id}})
		if err != nil || dt.TaskToken == "" {
			b.Fatal("no decision task", err)
		}
		ds := make([]api.Decision, n)
		for k := range ds {
			ds[k] = api.Decision{DecisionType: api.DecisionTypeSignalExternalWorkflowExecution,
				SignalExternalWorkflowExecutionDecisionAttributes: &api.SignalExternalWorkflowExecutionDecisionAttributes{
					WorkflowID: to, RunID: api.String(toRun), SignalName: fmt.Sprint(k)}}
		}
		if err := s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: ds}); err != nil {
			b.Fatal(err)
		}
		counter.reset()
		began, cpuBegan := time.Now(), cpuTime()
		for {
			d, err := s.Transfers().Deliver(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if d == 0 {
				break
			}
		}
		settle += time.Since(began)
		cpu += cpuTime() - cpuBegan
		commits += counter.commits.Load()
		stateBytes += counter.stateBytes.Load()
	}
	b.ReportMetric(float64(settle.Milliseconds())/float64(b.N), "settle-ms/op")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(commits)/float64(b.N), "commits/op")
	b.ReportMetric(float64(stateBytes)/float64(b.N)/(1<<20), "state-MB/op")
}
