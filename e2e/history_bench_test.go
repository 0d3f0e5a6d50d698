package e2e

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/swfdtest"
)

// BenchmarkHistoryPages measures, through HTTP and aws-sdk-go-v2, one page
// of 1,000 events from a 10,000-event history: GetWorkflowExecutionHistory
// (first and a middle page), and the first page of a decision task.
//
//	go test -run '^$' -bench HistoryPages -benchtime 1x ./e2e/
func BenchmarkHistoryPages(b *testing.B) {
	srv := swfdtest.Start(b, swfdtest.Options{PollTimeout: time.Second})
	ctx := context.Background()
	svc := srv.Server.Service
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(svc.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "h", WorkflowExecutionRetentionPeriodInDays: "1"}))
	must(svc.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "h", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "3600", DefaultTaskStartToCloseTimeout: "NONE", DefaultChildPolicy: api.ChildPolicyTerminate}))
	run, err := svc.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "h", WorkflowID: "long", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	must(err)
	for i := 0; i < 9998; i++ { // 2 + 9,998 = 10,000 events
		must(svc.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "h", WorkflowID: "long", SignalName: "s", Input: api.String(fmt.Sprint("payload-", i))}))
	}
	c := srv.Client()
	exec := &types.WorkflowExecution{WorkflowId: aws.String("long"), RunId: aws.String(run.RunID)}
	timeIt := func(n int, f func()) (p50, p99 time.Duration) {
		ds := make([]time.Duration, n)
		for i := range ds {
			t := time.Now()
			f()
			ds[i] = time.Since(t)
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[n/2], ds[n*99/100]
	}
	b.ResetTimer()
	p50, p99 := timeIt(200, func() {
		out, err := c.GetWorkflowExecutionHistory(ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("h"), Execution: exec, MaximumPageSize: 1000})
		if err != nil {
			b.Fatal(err)
		}
		if len(out.Events) != 1000 {
			b.Fatalf("%d events, want 1000", len(out.Events))
		}
	})
	b.ReportMetric(float64(p50.Microseconds())/1000, "history-first-page-p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "history-first-page-p99-ms")
	first, err := c.GetWorkflowExecutionHistory(ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("h"), Execution: exec, MaximumPageSize: 1000})
	must(err)
	mid := first.NextPageToken
	for i := 0; i < 4; i++ {
		p, err := c.GetWorkflowExecutionHistory(ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("h"), Execution: exec, MaximumPageSize: 1000, NextPageToken: mid})
		must(err)
		mid = p.NextPageToken
	}
	p50, p99 = timeIt(200, func() {
		out, err := c.GetWorkflowExecutionHistory(ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("h"), Execution: exec, MaximumPageSize: 1000, NextPageToken: mid})
		if err != nil {
			b.Fatal(err)
		}
		if len(out.Events) != 1000 {
			b.Fatalf("%d events, want 1000", len(out.Events))
		}
	})
	b.ReportMetric(float64(p50.Microseconds())/1000, "history-middle-page-p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "history-middle-page-p99-ms")
	// Decision tasks: each poll hands out a task whose first page holds
	// 1,000 events; answering it and signaling makes the next one.
	var polls []time.Duration
	for i := 0; i < 100; i++ {
		t := time.Now()
		d, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("h"), TaskList: &types.TaskList{Name: aws.String("l")}, MaximumPageSize: 1000})
		polls = append(polls, time.Since(t))
		if err != nil || d.TaskToken == nil || len(d.Events) != 1000 {
			b.Fatalf("poll: %v", err)
		}
		must(svc.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: *d.TaskToken}))
		must(svc.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "h", WorkflowID: "long", SignalName: "s"}))
	}
	sort.Slice(polls, func(i, j int) bool { return polls[i] < polls[j] })
	p50, p99 = polls[50], polls[99]
	b.ReportMetric(float64(p50.Microseconds())/1000, "decision-task-page-p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "decision-task-page-p99-ms")
}
