package service

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/runs"
)

// TestDecisionTaskPagesRandom polls decision tasks of random histories
// (signals small and large, so that pages are cut by their bytes too;
// histories in and out of the run cache; a single node and a node of a
// cluster) with random page sizes, in either order, with and without
// startAtPreviousStartedEvent, and follows each task's nextPageToken to
// the end: every page must be the one the API defines of the history as
// GetWorkflowExecutionHistory reads it up to the task's
// DecisionTaskStarted, byte for byte.
func TestDecisionTaskPagesRandom(t *testing.T) {
	n := uint64(40)
	if testing.Short() || underRace {
		n = 10
	}
	for seed := range n {
		checkDecisionTaskPages(t, seed)
	}
}

func checkDecisionTaskPages(t *testing.T, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	opts := Options{Clock: clk, PollTimeout: 100 * time.Millisecond}
	cluster := rng.IntN(2) == 0
	if cluster {
		opts.Broadcaster = silentBroadcaster{}
	}
	s := testService(t, opts, nil)
	st, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: fmt.Sprint("w", seed), WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
		ExecutionStartToCloseTimeout: "31536000"})
	if err != nil {
		t.Fatal(err)
	}
	exec := api.WorkflowExecution{WorkflowID: fmt.Sprint("w", seed), RunID: st.RunID}
	target := 2 + rng.IntN(600)
	big := rng.IntN(3) == 0
	var events int // about how many the history has
	tasks := 0
	for {
		if rng.IntN(3) == 0 {
			clk.MoveTo(clk.Now().Add(time.Second))
		}
		for range 1 + rng.IntN(1+min(max(target-events, 0), 40)) {
			size := rng.IntN(64)
			if big && rng.IntN(4) != 0 || rng.IntN(20) == 0 {
				size = rng.IntN(32<<10 + 1)
			}
			input := strings.Repeat("x", size)
			if err := s.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: exec.WorkflowID, RunID: &st.RunID, SignalName: "s", Input: &input}); err != nil {
				t.Fatal(err)
			}
			events++
		}
		if rng.IntN(3) == 0 {
			clk.MoveTo(clk.Now().Add(time.Second))
		}
		events += 3
		if events >= target && tasks > 0 {
			break
		}
		d, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}, MaximumPageSize: 1000})
		if err != nil || d.TaskToken == "" {
			t.Fatalf("seed %d: poll: %v", seed, err)
		}
		if err := s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken}); err != nil {
			t.Fatal(err)
		}
		tasks++
	}
	in := api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"},
		MaximumPageSize:             []int{0, 1, 2, 100, 1000, 1 + rng.IntN(50)}[rng.IntN(6)],
		ReverseOrder:                rng.IntN(2) == 0,
		StartAtPreviousStartedEvent: rng.IntN(2) == 0}
	what := fmt.Sprintf("seed %d (cluster %v, big %v): poll %+v", seed, cluster, big, in)
	var pages [][]api.HistoryEvent
	var nexts []bool
	d, err := s.PollForDecisionTask(ctx, &in)
	if err != nil || d.TaskToken == "" {
		t.Fatalf("%s: poll: %v", what, err)
	}
	started, previous := d.StartedEventID, d.PreviousStartedEventID
	for {
		pages, nexts = append(pages, d.Events), append(nexts, d.NextPageToken != "")
		if d.NextPageToken == "" {
			break
		}
		next := in
		next.NextPageToken = d.NextPageToken
		if d, err = s.PollForDecisionTask(ctx, &next); err != nil {
			t.Fatalf("%s: page %d: %v", what, len(pages), err)
		}
	}

	// The whole history as GetWorkflowExecutionHistory reads it.
	var all []api.HistoryEvent
	for tok := ""; ; {
		h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: exec, MaximumPageSize: 1000, NextPageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, h.Events...)
		if tok = h.NextPageToken; tok == "" {
			break
		}
	}
	if int64(len(all)) != started {
		t.Fatalf("%s: the history has %d events, the task started at %d", what, len(all), started)
	}
	// The task's events: from the first dated at the previous
	// DecisionTaskStarted's time when asked.
	from := int64(1)
	if in.StartAtPreviousStartedEvent && previous > 0 {
		from = previous
		for from > 1 && all[from-2].EventTimestamp.Equal(all[previous-1].EventTimestamp.Time) {
			from--
		}
	}
	want := slices.Clone(all[from-1:])
	if in.ReverseOrder {
		slices.Reverse(want)
	}
	wantPages := pageModel(want, in.MaximumPageSize)
	got := func(p []api.HistoryEvent) string {
		var b strings.Builder
		for _, e := range p {
			raw, _ := e.MarshalJSON()
			fmt.Fprintf(&b, "%d:%d ", e.EventID, len(raw))
		}
		return b.String()
	}
	if len(pages) != len(wantPages) {
		t.Fatalf("%s: %d pages, want %d", what, len(pages), len(wantPages))
	}
	for i := range pages {
		if got(pages[i]) != got(wantPages[i]) || nexts[i] != (i < len(wantPages)-1) {
			t.Fatalf("%s: page %d is [%s] (next %v), want [%s]", what, i, got(pages[i]), nexts[i], got(wantPages[i]))
		}
		for j := range pages[i] {
			a, _ := pages[i][j].MarshalJSON()
			b, _ := wantPages[i][j].MarshalJSON()
			if string(a) != string(b) {
				t.Fatalf("%s: page %d: event %d is %s, GetWorkflowExecutionHistory's %s", what, i, pages[i][j].EventID, a, b)
			}
		}
	}
	// Without startAtPreviousStartedEvent, the pages are those of
	// GetWorkflowExecutionHistory itself.
	if !in.StartAtPreviousStartedEvent {
		tok := ""
		for i := range pages {
			h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: exec,
				MaximumPageSize: in.MaximumPageSize, ReverseOrder: in.ReverseOrder, NextPageToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			if got(h.Events) != got(pages[i]) || (h.NextPageToken != "") != nexts[i] {
				t.Fatalf("%s: page %d is [%s] (next %v), GetWorkflowExecutionHistory's [%s] (next %v)", what, i, got(pages[i]), nexts[i], got(h.Events), h.NextPageToken != "")
			}
			tok = h.NextPageToken
		}
	}
}

// pageModel cuts events into the pages the API defines: each as many as
// fit the page size and runs.HistoryPageBytes, at least one.
func pageModel(events []api.HistoryEvent, size int) [][]api.HistoryEvent {
	n := runs.HistoryPageSize(size)
	var pages [][]api.HistoryEvent
	for len(events) > 0 || len(pages) == 0 {
		var page []api.HistoryEvent
		bytes := 0
		for len(events) > 0 && len(page) < n {
			raw, _ := events[0].MarshalJSON()
			if len(page) > 0 && bytes+len(raw) > runs.HistoryPageBytes {
				break
			}
			bytes += len(raw)
			page, events = append(page, events[0]), events[1:]
		}
		pages = append(pages, page)
	}
	return pages
}
