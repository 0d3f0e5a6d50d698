package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
)

// updateRecorder keeps every update committed through it.
type updateRecorder struct {
	swfd.Store
	mu      sync.Mutex
	updates []swfd.Update
}

func (r *updateRecorder) Commit(ctx context.Context, b swfd.Batch) error {
	err := r.Store.Commit(ctx, b)
	if err == nil {
		r.mu.Lock()
		r.updates = append(r.updates, b.Updates...)
		r.mu.Unlock()
	}
	return err
}

func (r *updateRecorder) take() []swfd.Update {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.updates
	r.updates = nil
	return u
}

// heartbeatRun starts a run on s with n started activities (heartbeat
// timeout 10 s) and returns its run id and the activities' task tokens.
func heartbeatRun(t *testing.T, s *Service, n int) (string, []string) {
	t.Helper()
	ctx := context.Background()
	mustNil(t, s.RegisterActivityType(ctx, &api.RegisterActivityTypeInput{Domain: "d", Name: "hb", Version: "1", DefaultTaskList: &api.TaskList{Name: "al"},
		DefaultTaskScheduleToStartTimeout: "NONE", DefaultTaskScheduleToCloseTimeout: "NONE", DefaultTaskStartToCloseTimeout: "NONE", DefaultTaskHeartbeatTimeout: "10"}))
	run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
		ExecutionStartToCloseTimeout: "3600"})
	mustNil(t, err)
	dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	mustNil(t, err)
	var ds []api.Decision
	for i := range n {
		ds = append(ds, api.Decision{DecisionType: api.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{
			ActivityID: fmt.Sprint("a", i), ActivityType: api.ActivityType{Name: "hb", Version: "1"}}})
	}
	mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: ds}))
	tokens := make([]string, n)
	for range n {
		at, err := s.PollForActivityTask(ctx, &api.PollForActivityTaskInput{Domain: "d", TaskList: api.TaskList{Name: "al"}})
		mustNil(t, err)
		var i int
		fmt.Sscanf(at.ActivityID, "a%d", &i)
		tokens[i] = at.TaskToken
	}
	return run.RunID, tokens
}

// timedOutDetails advances clk past the heartbeat timeout, fires the
// timers on a fresh Service over store (which loads the run from the
// store) and returns the details of the run's ActivityTaskTimedOut
// events, by activity id.
func timedOutDetails(t *testing.T, store swfd.Store, clk *clock.ManualClock, runID string) map[string]*string {
	t.Helper()
	ctx := context.Background()
	s, err := New(ctx, Options{Store: store, Clock: clk, PollTimeout: 50 * time.Millisecond})
	mustNil(t, err)
	clk.MoveTo(clk.Now().Add(11 * time.Second))
	_, _, _, err = s.Timers().FireDue(ctx, nil)
	mustNil(t, err)
	h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: runID}})
	mustNil(t, err)
	ids := map[int64]string{}
	out := map[string]*string{}
	for _, ev := range h.Events {
		ev, err := ev.Full()
		mustNil(t, err)
		if a := ev.ActivityTaskScheduledEventAttributes; a != nil {
			ids[ev.EventID] = a.ActivityID
		}
		if a := ev.ActivityTaskTimedOutEventAttributes; a != nil {
			if a.TimeoutType != api.ActivityTaskTimeoutTypeHeartbeat {
				t.Fatalf("timeout %s", a.TimeoutType)
			}
			out[ids[a.ScheduledEventID]] = a.Details
		}
	}
	return out
}

func detailsView(m map[string]*string) string {
	var b strings.Builder
	for i := range len(m) + 1 {
		if d, ok := m[fmt.Sprint("a", i)]; ok {
			fmt.Fprintf(&b, "a%d=%.12q ", i, api.Value(d))
		}
	}
	return b.String()
}

// A heartbeat writes its own activity's details and no other's, and the
// run's other steps write none: the details stay out of the run's stored
// state, whose size does not grow with them. They are still durable: a
// Service that loads the run afresh from the store reports each in its
// activity's ActivityTaskTimedOut event, and the rows go with the
// activities.
func TestHeartbeatDetailsStayOutOfTheState(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	db := memStore(t)
	rec := &updateRecorder{Store: db}
	s, err := New(ctx, Options{Store: rec, Clock: clk, PollTimeout: 50 * time.Millisecond})
	mustNil(t, err)
	registerTestTypes(t, s, false)
	runID, tokens := heartbeatRun(t, s, 3)
	rec.take()
	want := map[string]*string{}
	for i, tok := range tokens {
		d := fmt.Sprintf("details of a%d:", i) + strings.Repeat("x", 2048)
		want[fmt.Sprint("a", i)] = &d
		_, err := s.RecordActivityTaskHeartbeat(ctx, &api.RecordActivityTaskHeartbeatInput{TaskToken: tok, Details: &d})
		mustNil(t, err)
	}
	mustNil(t, s.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: "s"}))
	ups := rec.take()
	if len(ups) != 4 {
		t.Fatalf("%d updates for 3 heartbeats and a signal", len(ups))
	}
	for i, u := range ups {
		if bytes.Contains(u.Execution.State, []byte("details of")) || len(u.Execution.State) > 2048 {
			t.Fatalf("update %d writes the heartbeat details in the run's state (%d bytes): %.300s", i, len(u.Execution.State), u.Execution.State)
		}
		if i < 3 && (len(u.Heartbeats) != 1 || *u.Heartbeats[0].Details != *want[fmt.Sprint("a", i)]) {
			t.Fatalf("heartbeat %d writes details %+v", i, u.Heartbeats)
		}
		if i == 3 && len(u.Heartbeats) != 0 {
			t.Fatalf("the signal writes heartbeat details %+v", u.Heartbeats)
		}
	}
	got := timedOutDetails(t, db, clk, runID)
	if detailsView(got) != detailsView(want) || len(got) != 3 {
		t.Fatalf("timed out with details %s, want %s", detailsView(got), detailsView(want))
	}
	hbs, err := db.Heartbeats(ctx, runID)
	mustNil(t, err)
	if len(hbs) != 0 {
		t.Fatalf("details of closed activities kept: %+v", hbs)
	}
}

// A run whose stored state holds heartbeat details itself (as swfd kept
// them before they had rows of their own, or a node of that release still
// writes them) reads them from it, over any row of the activity, and its
// next commit moves them to rows and out of the state.
func TestHeartbeatDetailsInAnOlderState(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	db := memStore(t)
	s, err := New(ctx, Options{Store: db, Clock: clk, PollTimeout: 50 * time.Millisecond})
	mustNil(t, err)
	registerTestTypes(t, s, false)
	runID, tokens := heartbeatRun(t, s, 3)
	for i, tok := range tokens[:2] {
		_, err := s.RecordActivityTaskHeartbeat(ctx, &api.RecordActivityTaskHeartbeatInput{TaskToken: tok, Details: api.String(fmt.Sprint("row ", i))})
		mustNil(t, err)
	}
	// Write the details into the stored state, as an older swfd would:
	// a0's over its row, a2's where there is none.
	row, err := db.GetExecution(ctx, "d", runID)
	mustNil(t, err)
	var st map[string]any
	mustNil(t, json.Unmarshal(row.State, &st))
	acts := st["Activities"].(map[string]any)
	acts["a0"].(map[string]any)["HeartbeatDetails"] = "inline 0"
	acts["a2"].(map[string]any)["HeartbeatDetails"] = ""
	row.State, err = json.Marshal(st)
	mustNil(t, err)
	row.Version++
	mustNil(t, db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: row}}}))

	// A step of a Service that loads the run from the store moves them.
	s2, err := New(ctx, Options{Store: db, Clock: clk, PollTimeout: 50 * time.Millisecond})
	mustNil(t, err)
	mustNil(t, s2.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: "s"}))
	row, err = db.GetExecution(ctx, "d", runID)
	mustNil(t, err)
	if bytes.Contains(row.State, []byte("HeartbeatDetails")) {
		t.Fatalf("the step left details in the state: %s", row.State)
	}
	hbs, err := db.Heartbeats(ctx, runID)
	mustNil(t, err)
	if got := fmt.Sprintf("%d %d %q %q %q", len(hbs), hbs[0].ScheduledEventID, *hbs[0].Details, *hbs[1].Details, *hbs[2].Details); got != `3 5 "inline 0" "row 1" ""` {
		t.Fatalf("rows after the step: %s", got)
	}
	got := timedOutDetails(t, db, clk, runID)
	if v := detailsView(got); v != `a0="inline 0" a1="row 1" a2="" ` {
		t.Fatalf("timed out with details %s", v)
	}
}
