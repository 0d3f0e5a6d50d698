package bench_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd/bench"
)

// stallingSWF answers a one-workflow, one-activity run far enough for
// each kind of call to be made once, and holds the call named stall until
// the caller gives up on it, saying on stalled that it has it.
func stallingSWF(t *testing.T, stall string) (*httptest.Server, <-chan struct{}) {
	stalled := make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	served := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		var in map[string]any
		json.Unmarshal(data, &in)
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "SimpleWorkflowService.")
		if op == "PollForDecisionTask" && in["nextPageToken"] != nil {
			op = "PollForDecisionTask(page)"
		}
		mu.Lock()
		served[op]++
		n := served[op]
		mu.Unlock()
		hold := func() {
			if op == stall {
				once.Do(func() { close(stalled) })
			}
			<-r.Context().Done()
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		switch {
		case op == stall:
			hold()
			return
		case op == "StartWorkflowExecution":
			io.WriteString(w, `{"runId": "r1"}`)
		case op == "PollForDecisionTask" && n == 1:
			page := ""
			if stall == "PollForDecisionTask(page)" {
				page = `, "nextPageToken": "p2"`
			}
			io.WriteString(w, `{"taskToken": "dt1", "startedEventId": 3, "workflowExecution": {"workflowId": "w", "runId": "r1"},
				"workflowType": {"name": "bench-workflow", "version": "1"}, "events": [{"eventId": 1, "eventTimestamp": 1700000000,
				"eventType": "WorkflowExecutionStarted"}]`+page+`}`)
		case op == "PollForActivityTask" && n == 1:
			io.WriteString(w, `{"taskToken": "at1", "activityId": "a0", "startedEventId": 6, "workflowExecution": {"workflowId": "w", "runId": "r1"},
				"activityType": {"name": "bench-activity", "version": "1"}}`)
		case strings.HasPrefix(op, "Poll"):
			<-r.Context().Done() // nothing more to hand out
			return
		}
	}))
	t.Cleanup(srv.Close)
	return srv, stalled
}

// A call the run's own end cuts short (Ctrl-C, the run's timeout) is no
// error of the endpoint: before, each one in flight as the run stopped
// was counted as an error ("context canceled").
func TestStopIsNoError(t *testing.T) {
	for _, op := range []string{"StartWorkflowExecution", "RespondDecisionTaskCompleted", "PollForDecisionTask(page)", "RespondActivityTaskCompleted"} {
		for _, how := range []string{"interrupt", "timeout"} {
			t.Run(op+"/"+how, func(t *testing.T) {
				srv, stalled := stallingSWF(t, op)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				cfg := bench.Config{Endpoint: srv.URL, Workflows: 1, Activities: 1, Concurrency: 1, Starters: 1, Timeout: time.Minute}
				if how == "timeout" {
					cfg.Timeout = 2 * time.Second
				} else {
					go func() {
						<-stalled
						cancel()
					}()
				}
				rep, err := bench.Run(ctx, cfg)
				if err == nil {
					t.Fatal("a run that was stopped reports no error")
				}
				select {
				case <-stalled:
				default:
					t.Fatalf("the run ended (%v) before %s was made", err, op)
				}
				if rep.Errors != 0 || len(rep.ErrorSamples) != 0 {
					t.Errorf("%d errors: %v", rep.Errors, rep.ErrorSamples)
				}
				if n := rep.Operations[op].Count; n != 0 {
					t.Errorf("%d %s calls timed; the one cut short is no call", n, op)
				}
			})
		}
	}
}
