package service

import (
	"context"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/quota"
)

// TestDecisionRatesReleasedWhenTheCallFails checks that a
// RespondDecisionTaskCompleted whose commit fails takes nothing from the
// decision rates (the decider's retry gets the token the failed call
// took), while one that commits spends its tokens.
func TestDecisionRatesReleasedWhenTheCallFails(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cfg, err := quota.Parse([]byte(`{"base": "off", "decisions": {"StartTimer": {"bucketSize": 1, "refillPerSecond": 0.001}}}`))
	mustNil(t, err)
	lim := quota.New(cfg, clk)
	st := &failingStore{}
	s := testService(t, Options{Clock: clk, PollTimeout: 50 * time.Millisecond,
		DecisionRates: func(ctx context.Context, domain string) RateBatch { return lim.Batch(domain, "") },
	}, func(db swfd.Store) swfd.Store { st.Store = db; return st })
	run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	mustNil(t, err)
	poll := &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}}
	timer := func(id string) []api.Decision {
		return []api.Decision{{DecisionType: api.DecisionTypeStartTimer,
			StartTimerDecisionAttributes: &api.StartTimerDecisionAttributes{TimerID: id, StartToFireTimeout: "60"}}}
	}
	dt, err := s.PollForDecisionTask(ctx, poll)
	mustNil(t, err)
	in := &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: timer("t1")}
	st.fail.Store(true)
	if err := s.RespondDecisionTaskCompleted(ctx, in); err == nil {
		t.Fatal("RespondDecisionTaskCompleted with a failing store succeeded")
	}
	st.fail.Store(false)
	mustNil(t, s.RespondDecisionTaskCompleted(ctx, in))
	last := func() api.HistoryEvent {
		t.Helper()
		h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: run.RunID}, ReverseOrder: true, MaximumPageSize: 3})
		mustNil(t, err)
		for _, e := range h.Events {
			if e.EventType != api.EventTypeDecisionTaskScheduled {
				full, err := e.Full()
				mustNil(t, err)
				return full
			}
		}
		t.Fatal("no event but DecisionTaskScheduled")
		return api.HistoryEvent{}
	}
	if e := last(); e.EventType != api.EventTypeTimerStarted {
		t.Fatalf("the retry recorded %s, want TimerStarted: the failed call kept its token", e.EventType)
	}

	// The committed call spent the only token: the next timer is refused,
	// and the run goes on with a new decision task.
	mustNil(t, s.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: "go"}))
	dt, err = s.PollForDecisionTask(ctx, poll)
	mustNil(t, err)
	mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: timer("t2")}))
	e := last()
	if e.EventType != api.EventTypeStartTimerFailed || e.StartTimerFailedEventAttributes.Cause != api.StartTimerFailedCauseTimerCreationRateExceeded {
		t.Fatalf("second timer: %s %+v, want StartTimerFailed TIMER_CREATION_RATE_EXCEEDED", e.EventType, e.StartTimerFailedEventAttributes)
	}
	dt, err = s.PollForDecisionTask(ctx, poll)
	mustNil(t, err)
	if dt.TaskToken == "" {
		t.Fatal("no decision task after a decision failed on its rate")
	}
}
