//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package service_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/server"
)

// BenchmarkIdlePendingTimers starts 100,000 executions, each with a
// pending workflow-timeout timer a day away (and a pending decision task),
// then measures what the idle server costs: CPU time used by the process
// over an idle interval, and heap and resident memory.
//
//	go test -run '^$' -bench IdlePendingTimers -benchtime 1x ./service/
func BenchmarkIdlePendingTimers(b *testing.B) {
	const executions = 100_000
	ctx := context.Background()
	srv, err := server.Open(ctx, server.Config{DB: "sqlite:" + filepath.Join(b.TempDir(), "swfd.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	srv.Start()
	svc := srv.Service
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(svc.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "idle", WorkflowExecutionRetentionPeriodInDays: "1"}))
	must(svc.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "idle", Name: "wf", Version: "1",
		DefaultTaskList: &api.TaskList{Name: "deciders"}, DefaultExecutionStartToCloseTimeout: "86400",
		DefaultTaskStartToCloseTimeout: "NONE", DefaultChildPolicy: api.ChildPolicyTerminate}))
	start := time.Now()
	var wg sync.WaitGroup
	const workers = 32
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < executions; i += workers {
				if _, err := svc.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "idle", WorkflowID: fmt.Sprint("wf-", i),
					WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}}); err != nil {
					b.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	startRate := float64(executions) / time.Since(start).Seconds()

	runtime.GC()
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	idle := 10 * time.Second
	time.Sleep(idle)
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(startRate, "starts/s")
	b.ReportMetric(float64(cpu.Microseconds())/1000/idle.Seconds(), "idle-cpu-ms/s")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
	b.ReportMetric(float64(ru1.Maxrss)/1024, "maxrss-MB")
}
