package service

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
)

// startAtPreviousStartedEvent gives the events dated at or after the
// previous DecisionTaskStarted: those that share its time too, and in
// either order. Here events 5 and 6 (a signal and its decision task) share
// the time of the previous DecisionTaskStarted, 7, and events 1-4 are a
// second earlier.
func TestStartAtPreviousStartedEvent(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := testService(t, Options{Clock: clk, PollTimeout: 100 * time.Millisecond}, nil)
	st, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	poll := func(in api.PollForDecisionTaskInput) *api.DecisionTask {
		t.Helper()
		in.Domain, in.TaskList = "d", api.TaskList{Name: "l"}
		d, err := s.PollForDecisionTask(ctx, &in)
		if err != nil || d.TaskToken == "" {
			t.Fatalf("poll: %+v %v", d, err)
		}
		return d
	}
	complete := func(d *api.DecisionTask) {
		t.Helper()
		if err := s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken}); err != nil {
			t.Fatal(err)
		}
	}
	signal := func() {
		t.Helper()
		if err := s.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", RunID: &st.RunID, SignalName: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	complete(poll(api.PollForDecisionTaskInput{})) // 1-4
	clk.MoveTo(clk.Now().Add(time.Second))
	signal()                                       // 5, 6
	complete(poll(api.PollForDecisionTaskInput{})) // 7, 8
	clk.MoveTo(clk.Now().Add(time.Second))
	signal() // 9, 10

	ids := func(pages ...*api.DecisionTask) []int64 {
		var out []int64
		for _, p := range pages {
			for _, e := range p.Events {
				out = append(out, e.EventID)
			}
		}
		return out
	}
	// Forward, in pages of two.
	first := poll(api.PollForDecisionTaskInput{StartAtPreviousStartedEvent: true, MaximumPageSize: 2}) // 11
	if first.PreviousStartedEventID != 7 {
		t.Fatalf("previousStartedEventId %d, want 7", first.PreviousStartedEventID)
	}
	pages := []*api.DecisionTask{first}
	for p := first; p.NextPageToken != ""; {
		var err error
		if p, err = s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"},
			StartAtPreviousStartedEvent: true, MaximumPageSize: 2, NextPageToken: p.NextPageToken}); err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
	}
	if got, want := ids(pages...), []int64{5, 6, 7, 8, 9, 10, 11}; !slices.Equal(got, want) {
		t.Errorf("forward: events %v, want %v", got, want)
	}
	// Newest first, in pages of two, after one more signal a second
	// later: the previous DecisionTaskStarted is 11, dated with 9 and 10.
	complete(first) // 12
	clk.MoveTo(clk.Now().Add(time.Second))
	signal()                                                                                                             // 13, 14
	rev := poll(api.PollForDecisionTaskInput{StartAtPreviousStartedEvent: true, ReverseOrder: true, MaximumPageSize: 2}) // 15
	if rev.PreviousStartedEventID != 11 {
		t.Fatalf("previousStartedEventId %d, want 11", rev.PreviousStartedEventID)
	}
	pages = []*api.DecisionTask{rev}
	for p := rev; p.NextPageToken != ""; {
		var err error
		if p, err = s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"},
			StartAtPreviousStartedEvent: true, ReverseOrder: true, MaximumPageSize: 2, NextPageToken: p.NextPageToken}); err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
	}
	want := []int64{15, 14, 13, 12, 11, 10, 9}
	if got := ids(pages...); !slices.Equal(got, want) {
		t.Errorf("newest first: events %v, want %v", got, want)
	}
}
