package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/internal/swfdtest"
)

// swf history --follow prints events as they come, in batches, and its
// columns stay where the first batch put them: every row's type and
// details begin at the same column. Before, each batch was a table of its
// own, sized to its own longest type, so a later batch with a longer one
// (WorkflowExecutionTerminated after WorkflowExecutionStarted) shifted its
// details to the right of the earlier rows'.
func TestHistoryFollowKeepsColumns(t *testing.T) {
	setCreds(t)
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 500 * time.Millisecond})
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": srv.URL, "AWS_DEFAULT_REGION": "us-east-1"}
	for _, args := range [][]string{
		{"register-domain", "--name", "f", "--workflow-execution-retention-period-in-days", "1"},
		{"register-workflow-type", "--domain", "f", "--name", "w", "--workflow-version", "1",
			"--default-task-list", "name=d", "--default-task-start-to-close-timeout", "60",
			"--default-execution-start-to-close-timeout", "3600", "--default-child-policy", "TERMINATE"},
		{"start-workflow-execution", "--domain", "f", "--workflow-id", "w1", "--workflow-type", "name=w,version=1"},
	} {
		if r := swfRun(env, args...); r.RC != 0 {
			t.Fatalf("%v: %d %s", args, r.RC, r.Stderr)
		}
	}

	var out logbuf.Buffer
	done := make(chan int)
	go func() {
		var errs bytes.Buffer
		done <- Main([]string{"history", "--domain", "f", "--workflow-id", "w1", "--follow", "--interval", "0.05"},
			strings.NewReader(""), &out, &errs, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "DecisionTaskScheduled") {
		if time.Now().After(deadline) {
			t.Fatalf("no first batch after 30 s:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r := swfRun(env, "terminate-workflow-execution", "--domain", "f", "--workflow-id", "w1", "--reason", "done"); r.RC != 0 {
		t.Fatalf("terminate: %d %s", r.RC, r.Stderr)
	}
	select {
	case rc := <-done:
		if rc != 0 {
			t.Fatalf("history --follow: exit status %d\n%s", rc, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("history --follow did not end with the run:\n%s", out.String())
	}

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")[1:] // after the execution's line
	if len(lines) < 4 || !strings.Contains(lines[len(lines)-1], "WorkflowExecutionTerminated") {
		t.Fatalf("output:\n%s", out.String())
	}
	typeAt, detailsAt := strings.Index(lines[0], "TYPE"), strings.Index(lines[0], "DETAILS")
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 5 {
			t.Fatalf("row %q lacks a column", l)
		}
		if i := strings.Index(l, f[3]); i != typeAt {
			t.Errorf("row %q: type at column %d, header's at %d", l, i, typeAt)
		}
		if i := strings.Index(l, f[4]); i != detailsAt {
			t.Errorf("row %q: details at column %d, header's at %d\n%s", l, i, detailsAt, out.String())
		}
	}
}

// The fixed width of a followed history's type column holds every event
// type of the model.
func TestFollowTypeWidthHoldsEveryEventType(t *testing.T) {
	for _, v := range api.EventTypeValues {
		if len(v) > followTypeWidth {
			t.Errorf("event type %s is %d characters, wider than followTypeWidth (%d)", v, len(v), followTypeWidth)
		}
	}
}
