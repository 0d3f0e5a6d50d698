package service

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// runReadStore counts the reads of runs (GetExecution).
type runReadStore struct {
	swfd.Store
	reads atomic.Int32
}

func (s *runReadStore) GetExecution(ctx context.Context, domain, runID string) (swfd.Execution, error) {
	s.reads.Add(1)
	return s.Store.GetExecution(ctx, domain, runID)
}

// The task token of a domain whose name is too long for it names the run,
// and the domain is the run's: a call with it reads a run the cache does
// not hold (after a restart, on another node) once, to check its domain
// and act on it, not once to tell the domain and again to act.
func TestTaskTokenOfLongDomainReadsTheRunOnce(t *testing.T) {
	ctx := context.Background()
	st := &runReadStore{}
	s := testService(t, Options{}, func(db swfd.Store) swfd.Store { st.Store = db; return st })
	long := strings.Repeat("域", 256)
	mustNil(t, s.RegisterDomain(ctx, &api.RegisterDomainInput{Name: long, WorkflowExecutionRetentionPeriodInDays: "1"}))
	mustNil(t, s.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: long, Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "60", DefaultTaskStartToCloseTimeout: "10", DefaultChildPolicy: api.ChildPolicyTerminate}))
	mustNil(t, s.RegisterActivityType(ctx, &api.RegisterActivityTypeInput{Domain: long, Name: "act", Version: "1", DefaultTaskList: &api.TaskList{Name: "al"},
		DefaultTaskScheduleToStartTimeout: "NONE", DefaultTaskScheduleToCloseTimeout: "NONE", DefaultTaskStartToCloseTimeout: "60", DefaultTaskHeartbeatTimeout: "NONE"}))
	run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: long, WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	mustNil(t, err)
	dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: long, TaskList: api.TaskList{Name: "l"}})
	mustNil(t, err)
	mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []api.Decision{{
		DecisionType: api.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{
			ActivityID: "a1", ActivityType: api.ActivityType{Name: "act", Version: "1"}}}}}))
	at, err := s.PollForActivityTask(ctx, &api.PollForActivityTaskInput{Domain: long, TaskList: api.TaskList{Name: "al"}})
	mustNil(t, err)
	if len(at.TaskToken) >= len(long) {
		t.Fatalf("a token of %d characters: it carries the %d-byte domain", len(at.TaskToken), len(long))
	}

	reads := func(what string, call func() error) {
		t.Helper()
		s.Runs().Evict(run.RunID)
		st.reads.Store(0)
		mustNil(t, call())
		if n := st.reads.Load(); n != 1 {
			t.Errorf("%s on a run not cached: %d reads of the run, want 1", what, n)
		}
	}
	reads("RecordActivityTaskHeartbeat", func() error {
		_, err := s.RecordActivityTaskHeartbeat(ctx, &api.RecordActivityTaskHeartbeatInput{TaskToken: at.TaskToken})
		return err
	})
	reads("RespondActivityTaskCompleted", func() error {
		return s.RespondActivityTaskCompleted(ctx, &api.RespondActivityTaskCompletedInput{TaskToken: at.TaskToken})
	})
	dt, err = s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: long, TaskList: api.TaskList{Name: "l"}})
	mustNil(t, err)
	reads("RespondDecisionTaskCompleted", func() error {
		return s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []api.Decision{{
			DecisionType: api.DecisionTypeCompleteWorkflowExecution, CompleteWorkflowExecutionDecisionAttributes: &api.CompleteWorkflowExecutionDecisionAttributes{}}}})
	})
}
