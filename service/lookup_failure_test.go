package service

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// registryFailStore fails, while failing is set, the reads of the types
// named in failTypes ("kind/name/version") and CountOpen; a type read with
// a context that has ended fails with the context's error, as a store
// waiting on the database would.
type registryFailStore struct {
	swfd.Store
	mu        sync.Mutex
	failing   bool
	failTypes map[string]bool
	failCount bool
}

var errStoreDown = errors.New("store unavailable")

func (f *registryFailStore) set(failing bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing = failing
}

func (f *registryFailStore) GetType(ctx context.Context, kind swfd.TypeKind, domain, name, version string) (swfd.TypeRecord, error) {
	if err := ctx.Err(); err != nil {
		return swfd.TypeRecord{}, err
	}
	f.mu.Lock()
	fail := f.failing && f.failTypes[string(kind)+"/"+name+"/"+version]
	f.mu.Unlock()
	if fail {
		return swfd.TypeRecord{}, errStoreDown
	}
	return f.Store.GetType(ctx, kind, domain, name, version)
}

func (f *registryFailStore) CountOpen(ctx context.Context, domain string) (int, error) {
	f.mu.Lock()
	fail := f.failing && f.failCount
	f.mu.Unlock()
	if fail {
		return 0, errStoreDown
	}
	return f.Store.CountOpen(ctx, domain)
}

// isServerFault reports whether err is what the frontend answers with
// InternalFailure: an error that is not an SWF fault.
func isServerFault(err error) bool {
	_, fault := api.AsFault(err)
	return err != nil && !fault
}

// TestRegistryErrorsFailDecisions checks that a decision whose type cannot
// be read (the store fails, or the caller's context ends before it
// answers) fails the call with a server fault and changes nothing: no
// event, no new version of the run, the decision task still started, so
// that the decider's retry succeeds once the store is back.
func TestRegistryErrorsFailDecisions(t *testing.T) {
	wf := api.WorkflowType{Name: "wf", Version: "1"}
	for _, c := range []struct {
		name     string
		failType string
		cancel   bool // the call's context has ended instead
		decision api.Decision
		want     api.EventType // recorded by the retry
	}{
		{"schedule activity", "activity/act/1", false, api.Decision{DecisionType: api.DecisionTypeScheduleActivityTask,
			ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{ActivityID: "a1", ActivityType: api.ActivityType{Name: "act", Version: "1"}}},
			api.EventTypeActivityTaskScheduled},
		{"schedule activity, caller gone", "", true, api.Decision{DecisionType: api.DecisionTypeScheduleActivityTask,
			ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{ActivityID: "a1", ActivityType: api.ActivityType{Name: "act", Version: "1"}}},
			api.EventTypeActivityTaskScheduled},
		{"start child", "workflow/child/1", false, api.Decision{DecisionType: api.DecisionTypeStartChildWorkflowExecution,
			StartChildWorkflowExecutionDecisionAttributes: &api.StartChildWorkflowExecutionDecisionAttributes{WorkflowID: "c1", WorkflowType: api.WorkflowType{Name: "child", Version: "1"}}},
			api.EventTypeStartChildWorkflowExecutionInitiated},
		{"continue as new", "workflow/wf/2", false, api.Decision{DecisionType: api.DecisionTypeContinueAsNewWorkflowExecution,
			ContinueAsNewWorkflowExecutionDecisionAttributes: &api.ContinueAsNewWorkflowExecutionDecisionAttributes{WorkflowTypeVersion: "2"}},
			api.EventTypeWorkflowExecutionContinuedAsNew},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			st := &registryFailStore{failTypes: map[string]bool{c.failType: true}}
			s := testService(t, Options{}, func(db swfd.Store) swfd.Store { st.Store = db; return st })
			mustNil(t, s.RegisterActivityType(ctx, &api.RegisterActivityTypeInput{Domain: "d", Name: "act", Version: "1", DefaultTaskList: &api.TaskList{Name: "al"},
				DefaultTaskScheduleToStartTimeout: "NONE", DefaultTaskScheduleToCloseTimeout: "NONE", DefaultTaskStartToCloseTimeout: "60", DefaultTaskHeartbeatTimeout: "NONE"}))
			for _, v := range []string{"child/1", "wf/2"} {
				name, version := v[:len(v)-2], v[len(v)-1:]
				mustNil(t, s.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: name, Version: version, DefaultTaskList: &api.TaskList{Name: "l"},
					DefaultExecutionStartToCloseTimeout: "60", DefaultTaskStartToCloseTimeout: "10", DefaultChildPolicy: api.ChildPolicyTerminate}))
			}
			run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: wf})
			mustNil(t, err)
			dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
			mustNil(t, err)
			before, err := st.GetExecution(ctx, "d", run.RunID)
			mustNil(t, err)
			events := func() int {
				t.Helper()
				evs, err := st.History(ctx, swfd.HistoryQuery{RunID: run.RunID})
				mustNil(t, err)
				return len(evs)
			}
			nEvents := events()

			in := &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []api.Decision{c.decision}}
			callCtx := ctx
			if c.cancel {
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				callCtx = cctx
			}
			st.set(true)
			err = s.RespondDecisionTaskCompleted(callCtx, in)
			st.set(false)
			if !isServerFault(err) {
				t.Fatalf("RespondDecisionTaskCompleted with the registry unreadable: %v, want a server fault", err)
			}
			if c.cancel && !errors.Is(err, context.Canceled) {
				t.Errorf("error %v does not say the call was canceled", err)
			}
			after, err := st.GetExecution(ctx, "d", run.RunID)
			mustNil(t, err)
			if after.Version != before.Version || string(after.State) != string(before.State) {
				t.Errorf("run changed: version %d -> %d", before.Version, after.Version)
			}
			if n := events(); n != nEvents {
				t.Errorf("history grew from %d to %d events", nEvents, n)
			}

			// The decider retries, the store answers: the decision is
			// recorded as it should have been.
			mustNil(t, s.RespondDecisionTaskCompleted(ctx, in))
			evs, err := st.History(ctx, swfd.HistoryQuery{RunID: run.RunID, AfterID: int64(nEvents)})
			mustNil(t, err)
			var types []api.EventType
			for _, e := range evs {
				ev, err := api.RawHistoryEvent(e.JSON)
				mustNil(t, err)
				types = append(types, ev.EventType)
			}
			if len(types) < 2 || types[0] != api.EventTypeDecisionTaskCompleted || types[1] != c.want {
				t.Errorf("after the retry: %v, want DecisionTaskCompleted then %s", types, c.want)
			}
		})
	}
}

// TestOpenCountErrorFailsStart checks that a start whose count of open
// executions cannot be read fails with a server fault and starts nothing.
func TestOpenCountErrorFailsStart(t *testing.T) {
	ctx := context.Background()
	st := &registryFailStore{failCount: true}
	s := testService(t, Options{}, func(db swfd.Store) swfd.Store { st.Store = db; return st })
	in := &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}}
	st.set(true)
	_, err := s.StartWorkflowExecution(ctx, in)
	st.set(false)
	if !isServerFault(err) {
		t.Fatalf("start with the open count unreadable: %v, want a server fault", err)
	}
	if _, err := st.OpenRun(ctx, "d", "w"); !errors.Is(err, swfd.ErrNotFound) {
		t.Fatalf("a run was started: %v", err)
	}
	if _, err := s.StartWorkflowExecution(ctx, in); err != nil {
		t.Fatalf("start once the store is back: %v", err)
	}
}
