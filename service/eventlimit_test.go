package service

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/quota"
)

// TestEventLimitRefusesSignal signals a run until its history is full, on
// a single node and through a node of a cluster that has the run cached:
// every signal answered OK is in the history, and the one that no longer
// fits is answered UnknownResourceFault saying why, with the run
// terminated (EVENT_LIMIT_EXCEEDED) and the signal nowhere in its history.
// (On a node of a cluster, a step whose commit passed the version check
// keeps its answer: the refusal is not decided again on the stored run,
// which would answer that the run is simply unknown.)
func TestEventLimitRefusesSignal(t *testing.T) {
	const max = 8
	limits := DefaultLimits
	limits.History.MaxEvents = max
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	single := testService(t, Options{Limits: limits}, nil)
	nodes, _ := clusterNodes(t, ctx, 2, Options{Limits: limits})
	registerTestTypes(t, nodes[0], false)
	for name, s := range map[string]*Service{"single node": single, "cluster": nodes[1]} {
		t.Run(name, func(t *testing.T) {
			run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
			mustNil(t, err)
			var answered []string
			var refused string
			for i := range max {
				input := fmt.Sprintf("signal-input-%d", i)
				err := s.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: "s", Input: api.String(input)})
				if err == nil {
					answered = append(answered, input)
					continue
				}
				f, ok := api.AsFault(err)
				want := fmt.Sprintf("Unknown execution: WorkflowExecution=[workflowId=w, runId=%s]: terminated because its history reached the limit of %d events", run.RunID, max)
				if !ok || f.Code != api.UnknownResourceFault || f.Message != want {
					t.Fatalf("signal %d: %v, want %s %q", i, err, api.UnknownResourceFault, want)
				}
				refused = input
				break
			}
			if refused == "" {
				t.Fatal("no signal was refused")
			}
			h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: run.RunID}})
			mustNil(t, err)
			types := eventTypes(t, h.Events)
			var all strings.Builder
			for _, ev := range h.Events {
				b, err := ev.MarshalJSON()
				mustNil(t, err)
				all.Write(b)
			}
			for _, in := range answered {
				if !strings.Contains(all.String(), `"`+in+`"`) {
					t.Fatalf("signal %s was answered OK and is not in the history %v", in, types)
				}
			}
			if strings.Contains(all.String(), `"`+refused+`"`) {
				t.Fatalf("the refused signal %s is in the history", refused)
			}
			last := h.Events[len(h.Events)-1]
			full, err := last.Full()
			mustNil(t, err)
			if last.EventType != api.EventTypeWorkflowExecutionTerminated || full.WorkflowExecutionTerminatedEventAttributes.Cause != api.WorkflowExecutionTerminatedCauseEventLimitExceeded {
				t.Fatalf("history %v", types)
			}
		})
	}
}

// TestEventLimitRefusesSignalFromAnotherRun: a signal that another run's
// decision sends to a run whose history has no room for it terminates the
// target as a client's signal does, and its sender is told that the signal
// failed (SignalExternalWorkflowExecutionFailed), not that it was
// delivered.
func TestEventLimitRefusesSignalFromAnotherRun(t *testing.T) {
	const max = 8
	limits := DefaultLimits
	limits.History.MaxEvents = max
	ctx := context.Background()
	s := testService(t, Options{Limits: limits}, nil)
	wt := api.WorkflowType{Name: "wf", Version: "1"}
	target, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "target", WorkflowType: wt})
	mustNil(t, err)
	for range max - 3 { // 3 … 7: the next event would be the last
		mustNil(t, s.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "target", SignalName: "fill"}))
	}
	sender, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "sender", WorkflowType: wt, TaskList: &api.TaskList{Name: "senders"}})
	mustNil(t, err)
	dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "senders"}})
	mustNil(t, err)
	mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []api.Decision{{
		DecisionType: api.DecisionTypeSignalExternalWorkflowExecution,
		SignalExternalWorkflowExecutionDecisionAttributes: &api.SignalExternalWorkflowExecutionDecisionAttributes{
			WorkflowID: "target", SignalName: "late", Input: api.String("refused-input")},
	}}}))
	for range 10 {
		n, err := s.Transfers().Deliver(ctx)
		mustNil(t, err)
		if n == 0 {
			break
		}
	}
	history := func(id, run string) ([]api.EventType, string) {
		h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: id, RunID: run}})
		mustNil(t, err)
		var all strings.Builder
		for _, ev := range h.Events {
			b, err := ev.MarshalJSON()
			mustNil(t, err)
			all.Write(b)
		}
		return eventTypes(t, h.Events), all.String()
	}
	types, all := history("target", target.RunID)
	if len(types) != max || types[max-1] != api.EventTypeWorkflowExecutionTerminated || strings.Contains(all, "refused-input") {
		t.Fatalf("target's history %v", types)
	}
	types, _ = history("sender", sender.RunID)
	want := []api.EventType{api.EventTypeWorkflowExecutionStarted, api.EventTypeDecisionTaskScheduled, api.EventTypeDecisionTaskStarted,
		api.EventTypeDecisionTaskCompleted, api.EventTypeSignalExternalWorkflowExecutionInitiated,
		api.EventTypeSignalExternalWorkflowExecutionFailed, api.EventTypeDecisionTaskScheduled}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Fatalf("sender's history\n got %v\nwant %v", types, want)
	}
}

// TestEventLimitRefusedBatchTakesNoRate: a decision batch refused because
// its events would pass the history limit is answered
// UnknownResourceFault, and gives back the decision rates it took: the
// next run's timer is started, not refused for its rate.
func TestEventLimitRefusedBatchTakesNoRate(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cfg, err := quota.Parse([]byte(`{"base": "off", "decisions": {"StartTimer": {"bucketSize": 1, "refillPerSecond": 0.001}}}`))
	mustNil(t, err)
	lim := quota.New(cfg, clk)
	limits := DefaultLimits
	limits.History.MaxEvents = 6
	s := testService(t, Options{Clock: clk, Limits: limits, PollTimeout: 50 * time.Millisecond,
		DecisionRates: func(ctx context.Context, domain string) RateBatch { return lim.Batch(domain, "") },
	}, nil)
	decide := func(workflowID string, ds ...api.Decision) (string, error) {
		run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: workflowID, WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
		mustNil(t, err)
		dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
		mustNil(t, err)
		if dt.WorkflowExecution.RunID != run.RunID {
			t.Fatalf("decision task of %s", dt.WorkflowExecution.WorkflowID)
		}
		return run.RunID, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: ds})
	}
	timer := api.Decision{DecisionType: api.DecisionTypeStartTimer, StartTimerDecisionAttributes: &api.StartTimerDecisionAttributes{TimerID: "t", StartToFireTimeout: "60"}}
	marker := api.Decision{DecisionType: api.DecisionTypeRecordMarker, RecordMarkerDecisionAttributes: &api.RecordMarkerDecisionAttributes{MarkerName: "m"}}
	// DecisionTaskCompleted (4) and the timer (5) fit; the marker (6)
	// does not.
	runID, err := decide("full", timer, marker)
	if f, ok := api.AsFault(err); !ok || f.Code != api.UnknownResourceFault || !strings.Contains(f.Message, "terminated because its history reached the limit of 6 events") {
		t.Fatalf("refused batch answered %v", err)
	}
	h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "full", RunID: runID}})
	mustNil(t, err)
	if got, want := fmt.Sprint(eventTypes(t, h.Events)), "[WorkflowExecutionStarted DecisionTaskScheduled DecisionTaskStarted WorkflowExecutionTerminated]"; got != want {
		t.Fatalf("history %s, want %s", got, want)
	}
	runID, err = decide("next", timer)
	mustNil(t, err)
	h, err = s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "next", RunID: runID}})
	mustNil(t, err)
	if last := h.Events[len(h.Events)-1]; last.EventType != api.EventTypeTimerStarted {
		t.Fatalf("the next run's timer: %v (the refused batch kept its token)", eventTypes(t, h.Events))
	}
}
