package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/swfdtest"
)

// A move of a manual clock goes on past a timer that fails to fire: the
// run "broken", whose stored state cannot be read, has a timer due in an
// hour, and another run times out in two. The move used to fail at the
// broken run's timer ("a timer due at … failed to fire"), and so did
// every move after it, so the other run never timed out; now the move
// fires the other run's timeout at its instant and answers the stuck
// timer in timersStuck, and the next move does too. Each stuck timer is
// named by its run's domain and workflowId as well as its runId, which
// alone an operator could not look up with the SWF API.
func TestClockAdvanceGoesOnPastATimerThatFailsToFire(t *testing.T) {
	start := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	srv := swfdtest.New(t, swfdtest.StartAt(start))
	ctx := context.Background()
	srv.RegisterDomain("d", swfdtest.WorkflowType{Name: "wf", Version: "1", TaskList: "l"})
	c := srv.Client()
	run, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{
		Domain: aws.String("d"), WorkflowId: aws.String("good"),
		WorkflowType:                 &types.WorkflowType{Name: aws.String("wf"), Version: aws.String("1")},
		ExecutionStartToCloseTimeout: aws.String("7200"),
	})
	if err != nil {
		t.Fatal(err)
	}
	release := srv.Hold()
	broken := swfd.Execution{Domain: "d", WorkflowID: "broken", RunID: "broken-run", TypeName: "wf", TypeVersion: "1",
		Open: true, StartTime: start, Version: 1, State: []byte("not the state of a run")}
	err = srv.Server.Store.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: broken, Create: true,
		AddTimers: []swfd.Timer{{RunID: "broken-run", Key: "k", Due: start.Add(time.Hour)}}}}})
	release()
	if err != nil {
		t.Fatal(err)
	}

	advance := func(d string) map[string]any {
		t.Helper()
		resp, err := http.Post(srv.URL+"/swfd/clock/advance", "application/json", strings.NewReader(`{"duration":"`+d+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("advance %s: %d %v", d, resp.StatusCode, out)
		}
		return out
	}
	wantStuck := `[{"domain":"d","due":"2030-01-01T10:00:00.000Z","runId":"broken-run","workflowId":"broken"}]`
	out := advance("3h")
	if stuck, _ := json.Marshal(out["timersStuck"]); string(stuck) != wantStuck || out["timersFired"] != 1.0 || out["now"] != "2030-01-01T12:00:00.000Z" {
		t.Fatalf("advance 3h answered %v; want now 12:00, 1 timer fired, timersStuck %s", out, wantStuck)
	}
	ex, err := c.DescribeWorkflowExecution(ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String("d"),
		Execution: &types.WorkflowExecution{WorkflowId: aws.String("good"), RunId: run.RunId}})
	if err != nil {
		t.Fatal(err)
	}
	if ex.ExecutionInfo.CloseStatus != types.CloseStatusTimedOut || !ex.ExecutionInfo.CloseTimestamp.Equal(start.Add(2*time.Hour)) {
		t.Fatalf("the other run: %v at %v; want TIMED_OUT at %v", ex.ExecutionInfo.CloseStatus, ex.ExecutionInfo.CloseTimestamp, start.Add(2*time.Hour))
	}
	out = advance("1m")
	if stuck, _ := json.Marshal(out["timersStuck"]); string(stuck) != wantStuck || out["timersFired"] != 0.0 {
		t.Fatalf("the next advance answered %v; want 0 fired, timersStuck %s", out, wantStuck)
	}
}
