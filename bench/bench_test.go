package bench_test

import (
	"context"
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
