package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/swfdtest"
)

// swf clock advance past a timer that fails to fire (its run's stored
// state cannot be read) moves the clock, says in its line how many failed
// and names each on standard error; it failed with swfd's internal error.
func TestClockAdvanceReportsTimersThatFailedToFire(t *testing.T) {
	start := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	srv := swfdtest.New(t, swfdtest.StartAt(start))
	srv.RegisterDomain("d", swfdtest.WorkflowType{Name: "wf", Version: "1"})
	release := srv.Hold()
	broken := swfd.Execution{Domain: "d", WorkflowID: "broken", RunID: "broken-run", TypeName: "wf", TypeVersion: "1",
		Open: true, StartTime: start, Version: 1, State: []byte("not the state of a run")}
	err := srv.Server.Store.Commit(context.Background(), swfd.Batch{Updates: []swfd.Update{{Execution: broken, Create: true,
		AddTimers: []swfd.Timer{{RunID: "broken-run", Key: "k", Due: start.Add(time.Hour)}}}}})
	release()
	if err != nil {
		t.Fatal(err)
	}
	r := swfRun(map[string]string{"AWS_ENDPOINT_URL_SWF": srv.URL}, "clock", "advance", "2h")
	if want := "2030-01-01T11:00:00.000Z (manual clock; 0 timers fired; 1 timer failed to fire)\n"; r.RC != 0 || r.Stdout != want {
		t.Fatalf("swf clock advance 2h: rc=%d\n%s%s\nwant %q", r.RC, r.Stdout, r.Stderr, want)
	}
	if want := "warning: the timer of workflow broken (run broken-run) in domain d due at 2030-01-01T10:00:00.000Z failed to fire"; !strings.Contains(r.Stderr, want) {
		t.Fatalf("swf clock advance 2h: standard error %q; want %q", r.Stderr, want)
	}
}
