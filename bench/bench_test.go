package bench_test

import (
	"context"
	"math"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/swfd/swfd/bench"
	"github.com/swfd/swfd/internal/swfdtest"
)

// A small run completes every workflow without errors and reports each
// operation it used.
func TestSmallRun(t *testing.T) {
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: time.Second})
	rep, err := bench.Run(context.Background(), bench.Config{Endpoint: srv.URL, Workflows: 20, Activities: 2, Concurrency: 3, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Completed != 20 || rep.Errors != 0 {
		t.Fatalf("completed %d, errors %d %v", rep.Completed, rep.Errors, rep.ErrorSamples)
	}
	for _, op := range []string{"StartWorkflowExecution", "PollForDecisionTask", "RespondDecisionTaskCompleted", "PollForActivityTask", "RespondActivityTaskCompleted"} {
		if rep.Operations[op].Count == 0 {
			t.Errorf("no %s calls recorded", op)
		}
	}
	if got := rep.Operations["RespondActivityTaskCompleted"].Count; got != 40 {
		t.Errorf("%d activities completed, want 40", got)
	}
	if rep.Operations["StartWorkflowExecution"].Count != 20 {
		t.Errorf("starts: %d", rep.Operations["StartWorkflowExecution"].Count)
	}
}

// With ServerPIDs the report gives the servers' CPU and write system calls
// per workflow (here the test process serves itself), and always the
// client's CPU.
func TestServerCosts(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("server costs are read from /proc")
	}
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: time.Second})
	rep, err := bench.Run(context.Background(), bench.Config{Endpoint: srv.URL, Workflows: 30, Activities: 1, Concurrency: 2,
		Timeout: time.Minute, ServerPIDs: []int{os.Getpid()}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ClientCPUPerWorkflowMS <= 0 || rep.ServerCPUPerWorkflowMS <= 0 {
		t.Errorf("CPU per workflow: client %v ms, server %v ms; want both above 0", rep.ClientCPUPerWorkflowMS, rep.ServerCPUPerWorkflowMS)
	}
	// Each workflow makes several calls, and each answer is at least one
	// write to the socket.
	if rep.ServerWritesPerWorkflow < 5 {
		t.Errorf("%v write system calls per workflow; want at least one per answer", rep.ServerWritesPerWorkflow)
	}
	if _, err := bench.Run(context.Background(), bench.Config{Endpoint: srv.URL, Workflows: 1, Concurrency: 1,
		Timeout: time.Minute, ServerPIDs: []int{1 << 30}}); err == nil {
		t.Error("a server process that does not exist is not reported")
	}
}

// With a rate the starts are paced: 30 workflows at 20 a second take at
// least the 1.45 s between the first start and the last.
func TestRate(t *testing.T) {
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: time.Second})
	began := time.Now()
	rep, err := bench.Run(context.Background(), bench.Config{Endpoint: srv.URL, Workflows: 30, Activities: 1, Concurrency: 2, Rate: 20, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Completed != 30 || rep.Errors != 0 {
		t.Fatalf("completed %d, errors %d %v", rep.Completed, rep.Errors, rep.ErrorSamples)
	}
	if d := time.Since(began); d < 1450*time.Millisecond {
		t.Fatalf("30 workflows at 20/s took %v", d)
	}
}

// A rate that is no number of workflows a second is refused before any
// call, and a rate so small that the next start is due after the run's
// end makes no more starts: before, NaN and the infinities paced nothing,
// and the delay of 1e-300 overflowed a time.Duration to a negative one,
// so every workflow started at once.
func TestRateBounds(t *testing.T) {
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: time.Second})
	for _, r := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1} {
		if _, err := bench.Run(context.Background(), bench.Config{Endpoint: srv.URL, Workflows: 2, Concurrency: 1, Rate: r, Timeout: time.Minute}); err == nil {
			t.Errorf("rate %v taken", r)
		}
	}
	rep, err := bench.Run(context.Background(), bench.Config{Endpoint: srv.URL, Workflows: 3, Activities: 1, Concurrency: 1, Rate: 1e-300, Timeout: 2 * time.Second})
	if err == nil {
		t.Fatal("a run whose second start is due in 1e300 s completed")
	}
	if rep == nil || rep.Operations["StartWorkflowExecution"].Count != 1 {
		t.Fatalf("starts at 1e-300 a second within 2 s: %+v", rep)
	}
}
