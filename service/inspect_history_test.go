package service

import (
	"context"
	"strings"
	"testing"

	"github.com/swfd/swfd/api"
)

// The console reads a run's history through Inspector.History, limit
// events at a time, and takes a read of fewer than its limit for the end of
// the history (its events page, timeline and live updates). A history page
// stops at about 1 MB of events, so a run of large events (100 signals of
// 30,000 characters) came back as its first 35 events, and the console
// showed no more of it.
func TestInspectorHistoryFillsItsLimit(t *testing.T) {
	ctx := context.Background()
	s := testService(t, Options{}, nil)
	start, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	input := strings.Repeat("x", 30000)
	const signals = 100
	for range signals {
		if err := s.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: "s", Input: &input}); err != nil {
			t.Fatal(err)
		}
	}
	ex := api.WorkflowExecution{WorkflowID: "w", RunID: start.RunID}
	const want = signals + 2 // started, decision task scheduled, the signals
	for _, reverse := range []bool{false, true} {
		evs, err := s.History(ctx, "d", ex, 0, reverse, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != want {
			t.Fatalf("reverse=%v: a read of up to 1000 events returned %d of the run's %d", reverse, len(evs), want)
		}
		for i, ev := range evs {
			id := int64(i + 1)
			if reverse {
				id = int64(want - i)
			}
			if ev.EventID != id {
				t.Fatalf("reverse=%v: event %d is %d, want %d", reverse, i, ev.EventID, id)
			}
		}
		// And a limit below the history's length is filled, from after.
		evs, err = s.History(ctx, "d", ex, 10, reverse, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 50 && !(reverse && len(evs) == 9) {
			t.Fatalf("reverse=%v: a read of 50 events after event 10 returned %d", reverse, len(evs))
		}
	}
}
