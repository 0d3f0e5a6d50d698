package service

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// registeredTypes reports every type as registered, as a database holds a
// type that a version of swfd which allowed it left registered in a
// deprecated domain.
type registeredTypes struct{ swfd.Store }

func (r registeredTypes) GetType(ctx context.Context, kind swfd.TypeKind, domain, name, version string) (swfd.TypeRecord, error) {
	t, err := r.Store.GetType(ctx, kind, domain, name, version)
	t.Status, t.Deprecated = swfd.StatusRegistered, time.Time{}
	return t, err
}

// TestNoNewWorkInDeprecatedDomain: in a deprecated domain nothing new
// starts, whatever status its types hold: StartWorkflowExecution answers
// TypeDeprecatedFault, and a running execution's ScheduleActivityTask,
// StartChildWorkflowExecution and ContinueAsNewWorkflowExecution fail
// with their *_TYPE_DEPRECATED causes.
func TestNoNewWorkInDeprecatedDomain(t *testing.T) {
	ctx := context.Background()
	var store swfd.Store
	s := testService(t, Options{}, func(db swfd.Store) swfd.Store { store = registeredTypes{db}; return store })
	mustNil(t, s.RegisterActivityType(ctx, &api.RegisterActivityTypeInput{Domain: "d", Name: "act", Version: "1", DefaultTaskList: &api.TaskList{Name: "al"},
		DefaultTaskScheduleToStartTimeout: "NONE", DefaultTaskScheduleToCloseTimeout: "NONE", DefaultTaskStartToCloseTimeout: "60", DefaultTaskHeartbeatTimeout: "NONE"}))
	wf := api.WorkflowType{Name: "wf", Version: "1"}
	run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: wf})
	mustNil(t, err)
	mustNil(t, s.DeprecateDomain(ctx, &api.DeprecateDomainInput{Name: "d"}))

	_, err = s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w2", WorkflowType: wf})
	if f, ok := api.AsFault(err); !ok || f.Code != api.TypeDeprecatedFault {
		t.Fatalf("StartWorkflowExecution in a deprecated domain: %v, want TypeDeprecatedFault", err)
	}

	exec := api.WorkflowExecution{WorkflowID: "w", RunID: run.RunID}
	decide := func(d api.Decision) api.HistoryEvent {
		t.Helper()
		dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
		mustNil(t, err)
		if dt.TaskToken == "" {
			t.Fatal("no decision task")
		}
		mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []api.Decision{d}}))
		h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: exec, ReverseOrder: true, MaximumPageSize: 2})
		mustNil(t, err)
		// The newest events: the DecisionTaskScheduled the failure makes,
		// then the failure.
		ev, err := h.Events[1].Full()
		mustNil(t, err)
		return ev
	}
	ev := decide(api.Decision{DecisionType: api.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{
		ActivityID: "a1", ActivityType: api.ActivityType{Name: "act", Version: "1"}}})
	if a := ev.ScheduleActivityTaskFailedEventAttributes; a == nil || a.Cause != api.ScheduleActivityTaskFailedCauseActivityTypeDeprecated {
		t.Errorf("ScheduleActivityTask in a deprecated domain: %s %+v, want ScheduleActivityTaskFailed ACTIVITY_TYPE_DEPRECATED", ev.EventType, a)
	}
	ev = decide(api.Decision{DecisionType: api.DecisionTypeStartChildWorkflowExecution, StartChildWorkflowExecutionDecisionAttributes: &api.StartChildWorkflowExecutionDecisionAttributes{
		WorkflowID: "child", WorkflowType: wf}})
	if a := ev.StartChildWorkflowExecutionFailedEventAttributes; a == nil || a.Cause != api.StartChildWorkflowExecutionFailedCauseWorkflowTypeDeprecated {
		t.Errorf("StartChildWorkflowExecution in a deprecated domain: %s %+v, want StartChildWorkflowExecutionFailed WORKFLOW_TYPE_DEPRECATED", ev.EventType, a)
	}
	ev = decide(api.Decision{DecisionType: api.DecisionTypeContinueAsNewWorkflowExecution, ContinueAsNewWorkflowExecutionDecisionAttributes: &api.ContinueAsNewWorkflowExecutionDecisionAttributes{}})
	if a := ev.ContinueAsNewWorkflowExecutionFailedEventAttributes; a == nil || a.Cause != api.ContinueAsNewWorkflowExecutionFailedCauseWorkflowTypeDeprecated {
		t.Errorf("ContinueAsNewWorkflowExecution in a deprecated domain: %s %+v, want ContinueAsNewWorkflowExecutionFailed WORKFLOW_TYPE_DEPRECATED", ev.EventType, a)
	}
	if _, err := store.OpenRun(ctx, "d", "child"); !errors.Is(err, swfd.ErrNotFound) {
		t.Error("a child run was started in the deprecated domain")
	}
}
