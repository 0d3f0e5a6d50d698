package e2e

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"
	_ "modernc.org/sqlite"

	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/swfdtest"
)

// testdata/sqlite-schema2.sql is a SQLite database as an swfd of
// 2026-12-05 (schema version 2, before the type counts and the heartbeat
// rows) left it, dumped with sqlite3's .dump. Its domain "uh" holds open runs:
//
//   - A: activity a1 scheduled on "atl", timer t1 due 24 s after the
//     fixture's last event, a signal waiting for a decision;
//   - B: activity b1 started on "btl" (heartbeat timeout 3000 s) whose last
//     heartbeat carried "hb-details-B", kept inside the run's state;
//   - C: a parent whose child C-child started (on "ktl") and was signalled;
//   - Dn: the run a continue-as-new started (on "ctl3");
//   - E: a decision task on a temporary task-list override;
//
// and closed runs of every kind: Dc completed, Df failed, Dx canceled, Dn's
// first run continued as new, Dt terminated, Dto timed out.
const earlierLastEvent = 1796623771775 // Unix ms of the fixture's last event

// Today's swfd opens a SQLite file an earlier release wrote (migrating its
// schema), reads its runs as they were, and carries every open one on:
// its tasks are handed out, its timers fire, and
// heartbeat details the old release kept inside the state reach the
// timeout's event.
func TestSQLiteFileOfAnEarlierRelease(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "swfd.db")
	dump, err := os.ReadFile("testdata/sqlite-schema2.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(dump)); err != nil {
		t.Fatalf("loading the fixture: %v", err)
	}
	db.Close()

	srv := swfdtest.New(t, swfdtest.StartAt(time.UnixMilli(earlierLastEvent).Add(time.Second)),
		swfdtest.WithConfig(func(c *server.Config) { c.DB, c.ClockUnsafe = "sqlite:"+path, true }))
	c := srv.Client()
	dom := aws.String("uh")
	since := &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}

	open, err := c.CountOpenWorkflowExecutions(ctx, &swf.CountOpenWorkflowExecutionsInput{Domain: dom, StartTimeFilter: since})
	if err != nil {
		t.Fatal(err)
	}
	closed, err := c.CountClosedWorkflowExecutions(ctx, &swf.CountClosedWorkflowExecutionsInput{Domain: dom, StartTimeFilter: since})
	if err != nil {
		t.Fatal(err)
	}
	if open.Count != 6 || closed.Count != 6 {
		t.Fatalf("%d open and %d closed runs, want 6 and 6", open.Count, closed.Count)
	}
	runOf := func(wid string) *types.WorkflowExecution {
		t.Helper()
		out, err := c.ListOpenWorkflowExecutions(ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: dom, StartTimeFilter: since,
			ExecutionFilter: &types.WorkflowExecutionFilter{WorkflowId: aws.String(wid)}})
		if err != nil || len(out.ExecutionInfos) != 1 {
			t.Fatalf("open run of %s: %v, %v", wid, out, err)
		}
		return out.ExecutionInfos[0].Execution
	}
	history := func(wid string) []types.HistoryEvent {
		t.Helper()
		out, err := c.GetWorkflowExecutionHistory(ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: dom, Execution: runOf(wid)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Events
	}
	if evs := history("B"); len(evs) != 6 || evs[5].EventType != types.EventTypeActivityTaskStarted {
		t.Fatalf("B's history has %d events, the last %v", len(evs), evs[len(evs)-1].EventType)
	}

	has := func(evs []types.HistoryEvent, typ types.EventType) *types.HistoryEvent {
		for i := range evs {
			if evs[i].EventType == typ {
				return &evs[i]
			}
		}
		return nil
	}

	// A's activity, scheduled by the earlier release, is handed out.
	at, err := c.PollForActivityTask(ctx, &swf.PollForActivityTaskInput{Domain: dom, TaskList: &types.TaskList{Name: aws.String("atl")}})
	if err != nil || aws.ToString(at.ActivityId) != "a1" || aws.ToString(at.Input) != "ai" {
		t.Fatalf("A's activity: %+v, %v", at, err)
	}
	mustOK(t)(c.RespondActivityTaskCompleted(ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: at.TaskToken, Result: aws.String("ares")}))

	// C-child completes, and its parent hears of it.
	dt, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: dom, TaskList: &types.TaskList{Name: aws.String("ktl")}})
	if err != nil || aws.ToString(dt.WorkflowExecution.WorkflowId) != "C-child" {
		t.Fatalf("C-child's decision task: %+v, %v", dt, err)
	}
	mustOK(t)(c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []types.Decision{completeWorkflow("child done")}}))
	// The child's outcome reaches its parent as a message the transfers
	// loop delivers after the child's close has been answered.
	waitFor(t, "C to hear that its child completed", func() bool {
		return has(history("C"), types.EventTypeChildWorkflowExecutionCompleted) != nil
	})

	// Dn's decision task, scheduled by the continue-as-new, is handed out.
	dt, err = c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: dom, TaskList: &types.TaskList{Name: aws.String("ctl3")}})
	if err != nil || aws.ToString(dt.WorkflowExecution.WorkflowId) != "Dn" {
		t.Fatalf("Dn's decision task: %+v, %v", dt, err)
	}
	mustOK(t)(c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []types.Decision{completeWorkflow("dn done")}}))

	// A's timer fires, E's temporary override times out, and B's activity
	// times out without a further heartbeat, with the details the earlier
	// release kept in its state.
	srv.Advance(3001 * time.Second)
	if has(history("A"), types.EventTypeTimerFired) == nil {
		t.Error("A's timer did not fire")
	}
	if ev := has(history("E"), types.EventTypeDecisionTaskTimedOut); ev == nil || ev.DecisionTaskTimedOutEventAttributes.TimeoutType != types.DecisionTaskTimeoutTypeScheduleToStart {
		t.Errorf("E's decision task on its temporary override: %+v", ev)
	}
	ev := has(history("B"), types.EventTypeActivityTaskTimedOut)
	if ev == nil {
		t.Fatal("B's activity did not time out")
	}
	if a := ev.ActivityTaskTimedOutEventAttributes; a.TimeoutType != types.ActivityTaskTimeoutTypeHeartbeat || aws.ToString(a.Details) != "hb-details-B" {
		t.Errorf("B's ActivityTaskTimedOut: %s, details %q, want HEARTBEAT with hb-details-B", a.TimeoutType, aws.ToString(a.Details))
	}
}
