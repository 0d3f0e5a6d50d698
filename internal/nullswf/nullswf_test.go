package nullswf_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/swfd/swfd/bench"
	"github.com/swfd/swfd/internal/nullswf"
)

// The benchmark runs against the null server to the end: every workflow's
// activities are handed out and completed, and the decider sees them in the
// history it is given.
func TestBenchRuns(t *testing.T) {
	srv := httptest.NewServer(&nullswf.Handler{PollTimeout: time.Second})
	defer srv.Close()
	rep, err := bench.Run(context.Background(), bench.Config{Endpoint: srv.URL, Workflows: 40, Activities: 3, Concurrency: 4, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Completed != 40 || rep.Errors != 0 {
		t.Fatalf("completed %d of 40, %d errors %v", rep.Completed, rep.Errors, rep.ErrorSamples)
	}
	if got := rep.Operations["RespondActivityTaskCompleted"].Count; got != 120 {
		t.Errorf("%d activities completed, want 120", got)
	}
	if got := rep.Operations["RespondDecisionTaskCompleted"].Count; got != 160 {
		t.Errorf("%d decisions, want 160 (one per activity and one to complete, per workflow)", got)
	}
}
