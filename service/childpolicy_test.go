package service

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/postgres"
)

// policyWorld is a service whose loops do not run: the test fires timers
// and delivers messages between runs itself (settle), so it decides what
// happens before each message arrives. On PostgreSQL it is two nodes of a
// cluster: calls go to one, and the other fires the timers and delivers the
// messages, so every delivery reads runs the first node committed.
type policyWorld struct {
	t     *testing.T
	ctx   context.Context
	calls *Service // takes the API calls
	loops *Service // fires timers and delivers messages
	store swfd.Store
	clock *clock.ManualClock
}

// policyWorlds runs f on a single node over SQLite and on a cluster over
// PostgreSQL (skipped when no PostgreSQL server is reachable). wrap, if
// not nil, wraps the store of the node that delivers messages.
func policyWorlds(t *testing.T, wrap func(swfd.Store) swfd.Store, f func(t *testing.T, w *policyWorld)) {
	if wrap == nil {
		wrap = func(s swfd.Store) swfd.Store { return s }
	}
	t.Run("SQLite", func(t *testing.T) {
		w := &policyWorld{t: t, ctx: context.Background(), clock: clock.NewManual(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))}
		w.store = memStore(t)
		s, err := New(w.ctx, Options{Store: wrap(w.store), Clock: w.clock, PollTimeout: 100 * time.Millisecond})
		mustNil(t, err)
		w.calls, w.loops = s, s
		registerTestTypes(t, s, false)
		f(t, w)
	})
	t.Run("PostgreSQL cluster", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		w := &policyWorld{t: t, ctx: context.Background(), clock: clock.NewManual(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))}
		db, err := postgres.Open(w.ctx, dsn, nil)
		mustNil(t, err)
		t.Cleanup(func() { db.Close() })
		w.store = db
		node := func(store swfd.Store) *Service {
			s, err := New(w.ctx, Options{Store: store, Broadcaster: silentBroadcaster{}, Clock: w.clock, PollTimeout: 100 * time.Millisecond})
			mustNil(t, err)
			return s
		}
		w.calls, w.loops = node(db), node(wrap(db))
		registerTestTypes(t, w.calls, false)
		f(t, w)
	})
}

// settle fires the timers due and delivers the messages pending until
// there are none.
func (w *policyWorld) settle() {
	w.t.Helper()
	for range 100 {
		fired, _, _, err := w.loops.Timers().FireDue(w.ctx, nil)
		mustNil(w.t, err)
		delivered, err := w.loops.Transfers().Deliver(w.ctx)
		mustNil(w.t, err)
		if fired == 0 && delivered == 0 {
			return
		}
	}
	w.t.Fatal("timers and messages never settled")
}

// decisionTask polls a task list through the calling node, which first
// learns the tasks the other node scheduled (as its news would tell it).
func (w *policyWorld) decisionTask(list string) *api.DecisionTask {
	w.t.Helper()
	if w.calls != w.loops {
		tasks, err := w.store.PendingTasks(w.ctx)
		mustNil(w.t, err)
		for _, tk := range tasks {
			w.calls.matcher.AddRemote(tk)
		}
	}
	dt, err := w.calls.PollForDecisionTask(w.ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: list}})
	mustNil(w.t, err)
	if dt.TaskToken == "" {
		w.t.Fatalf("no decision task on %s", list)
	}
	return dt
}

func (w *policyWorld) decide(dt *api.DecisionTask, ds ...api.Decision) {
	w.t.Helper()
	mustNil(w.t, w.calls.RespondDecisionTaskCompleted(w.ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: ds}))
}

func (w *policyWorld) history(workflowID, runID string) []api.HistoryEvent {
	w.t.Helper()
	h, err := w.calls.GetWorkflowExecutionHistory(w.ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: workflowID, RunID: runID}})
	mustNil(w.t, err)
	eventTypes(w.t, h.Events)
	evs := make([]api.HistoryEvent, len(h.Events))
	for i, e := range h.Events {
		evs[i], err = e.Full()
		mustNil(w.t, err)
	}
	return evs
}

func (w *policyWorld) describe(workflowID, runID string) *api.WorkflowExecutionDetail {
	w.t.Helper()
	d, err := w.calls.DescribeWorkflowExecution(w.ctx, &api.DescribeWorkflowExecutionInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: workflowID, RunID: runID}})
	mustNil(w.t, err)
	return d
}

// startParent starts workflow "p" with a child policy and a timeout of 30
// seconds (the children's are an hour).
func (w *policyWorld) startParent(policy api.ChildPolicy) string {
	w.t.Helper()
	run, err := w.calls.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "p",
		WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, ChildPolicy: policy, ExecutionStartToCloseTimeout: "30"})
	mustNil(w.t, err)
	return run.RunID
}

// startChildOfParent has p's decider start child "c" on task list "cl".
func (w *policyWorld) startChildOfParent() {
	w.t.Helper()
	w.decide(w.decisionTask("l"), api.Decision{DecisionType: api.DecisionTypeStartChildWorkflowExecution,
		StartChildWorkflowExecutionDecisionAttributes: &api.StartChildWorkflowExecutionDecisionAttributes{
			WorkflowID: "c", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, TaskList: &api.TaskList{Name: "cl"},
			ExecutionStartToCloseTimeout: "3600"}})
}

func continueAsNewDecision() api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeContinueAsNewWorkflowExecution,
		ContinueAsNewWorkflowExecutionDecisionAttributes: &api.ContinueAsNewWorkflowExecutionDecisionAttributes{
			ExecutionStartToCloseTimeout: "3600", TaskList: &api.TaskList{Name: "cl"}}}
}

// continueChild has the open run of "c" continue as new and returns the
// new run's id.
func (w *policyWorld) continueChild() string {
	w.t.Helper()
	dt := w.decisionTask("cl")
	w.decide(dt, continueAsNewDecision())
	evs := w.history("c", dt.WorkflowExecution.RunID)
	a := evs[len(evs)-1].WorkflowExecutionContinuedAsNewEventAttributes
	if a == nil {
		w.t.Fatalf("run %s of c did not continue as new: %v", dt.WorkflowExecution.RunID, eventTypes(w.t, evs))
	}
	return a.NewExecutionRunID
}

// closeParent terminates p, or lets it time out.
func (w *policyWorld) closeParent(parentRun string, timeout bool) {
	w.t.Helper()
	if timeout {
		w.clock.MoveTo(w.clock.Now().Add(31 * time.Second))
	} else {
		mustNil(w.t, w.calls.TerminateWorkflowExecution(w.ctx, &api.TerminateWorkflowExecutionInput{Domain: "d", WorkflowID: "p", Reason: api.String("enough")}))
	}
	w.settle()
	want := api.CloseStatusTerminated
	if timeout {
		want = api.CloseStatusTimedOut
	}
	if got := w.describe("p", parentRun).ExecutionInfo.CloseStatus; got != want {
		w.t.Fatalf("parent closed as %q, want %s", got, want)
	}
}

// expectPolicyApplied checks that a run was terminated, or asked to cancel,
// by its parent's child policy.
func expectPolicyApplied(t *testing.T, w *policyWorld, policy api.ChildPolicy, workflowID, runID string) {
	t.Helper()
	evs := w.history(workflowID, runID)
	info := w.describe(workflowID, runID).ExecutionInfo
	switch policy {
	case api.ChildPolicyTerminate:
		a := evs[len(evs)-1].WorkflowExecutionTerminatedEventAttributes
		if a == nil || a.Cause != api.WorkflowExecutionTerminatedCauseChildPolicyApplied || info.CloseStatus != api.CloseStatusTerminated {
			t.Fatalf("run %s of %s was not terminated by the child policy: %s, events %v", runID, workflowID, info.CloseStatus, eventTypes(t, evs))
		}
	case api.ChildPolicyRequestCancel:
		for _, e := range evs {
			if a := e.WorkflowExecutionCancelRequestedEventAttributes; a != nil && a.Cause == api.WorkflowExecutionCancelRequestedCauseChildPolicyApplied {
				if !info.CancelRequested || info.ExecutionStatus != api.ExecutionStatusOpen {
					t.Fatalf("run %s of %s: %+v", runID, workflowID, info)
				}
				return
			}
		}
		t.Fatalf("run %s of %s was not asked to cancel by the child policy: events %v", runID, workflowID, eventTypes(t, evs))
	}
}

// expectUntouched checks that a run is open and no child policy reached it.
func expectUntouched(t *testing.T, w *policyWorld, workflowID, runID string) {
	t.Helper()
	info := w.describe(workflowID, runID).ExecutionInfo
	if info.ExecutionStatus != api.ExecutionStatusOpen || info.CancelRequested {
		t.Fatalf("a child policy reached run %s of %s, which is not the child: %+v, events %v", runID, workflowID, info, eventTypes(t, w.history(workflowID, runID)))
	}
}

// A parent's child policy, applied when it is terminated or times out,
// reaches its child that has continued as new twice: the child's open run,
// the third of its chain, is terminated or asked to cancel.
func TestChildPolicyReachesContinuedChild(t *testing.T) {
	policyWorlds(t, nil, func(t *testing.T, w *policyWorld) {
		for _, policy := range []api.ChildPolicy{api.ChildPolicyTerminate, api.ChildPolicyRequestCancel} {
			for _, timeout := range []bool{false, true} {
				name := string(policy) + "/terminated"
				if timeout {
					name = string(policy) + "/timed out"
				}
				t.Run(name, func(t *testing.T) {
					w.t = t
					// Each case leaves p closed and c closed or
					// cancel-requested; the next starts them anew.
					if open, _ := w.store.OpenRun(w.ctx, "d", "c"); open.RunID != "" {
						mustNil(t, w.calls.TerminateWorkflowExecution(w.ctx, &api.TerminateWorkflowExecutionInput{Domain: "d", WorkflowID: "c", ChildPolicy: api.ChildPolicyAbandon}))
						w.settle()
					}
					parentRun := w.startParent(policy)
					w.startChildOfParent()
					w.settle()
					w.continueChild()
					last := w.continueChild()
					w.settle()
					if n := w.describe("p", parentRun).OpenCounts.OpenChildWorkflowExecutions; n != 1 {
						t.Fatalf("the parent counts %d open children, want 1", n)
					}
					w.closeParent(parentRun, timeout)
					expectPolicyApplied(t, w, policy, "c", last)
				})
			}
		}
	})
}

// A child policy reaches only the parent's child, never another run that
// holds the child's workflowId when it is delivered: one started by someone
// else after the child's chain had closed (the parent had not yet heard of
// the close), and one that was already open when the child was to start
// (the start fails, but the parent is terminated before it hears so).
func TestChildPolicySparesUnrelatedRun(t *testing.T) {
	policyWorlds(t, nil, func(t *testing.T, w *policyWorld) {
		for _, policy := range []api.ChildPolicy{api.ChildPolicyTerminate, api.ChildPolicyRequestCancel} {
			startOther := func(t *testing.T) string {
				t.Helper()
				run, err := w.calls.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "c",
					WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, TaskList: &api.TaskList{Name: "other"}, ExecutionStartToCloseTimeout: "3600"})
				mustNil(t, err)
				return run.RunID
			}
			cleanUp := func(t *testing.T) {
				t.Helper()
				mustNil(t, w.calls.TerminateWorkflowExecution(w.ctx, &api.TerminateWorkflowExecutionInput{Domain: "d", WorkflowID: "c", ChildPolicy: api.ChildPolicyAbandon}))
				w.settle()
			}
			t.Run(string(policy)+"/after the chain closed", func(t *testing.T) {
				w.t = t
				parentRun := w.startParent(policy)
				w.startChildOfParent()
				w.settle()
				w.continueChild()
				// The child's chain completes; the parent is terminated
				// before it hears, and someone starts another "c".
				w.decide(w.decisionTask("cl"), api.Decision{DecisionType: api.DecisionTypeCompleteWorkflowExecution,
					CompleteWorkflowExecutionDecisionAttributes: &api.CompleteWorkflowExecutionDecisionAttributes{}})
				other := startOther(t)
				mustNil(t, w.calls.TerminateWorkflowExecution(w.ctx, &api.TerminateWorkflowExecutionInput{Domain: "d", WorkflowID: "p"}))
				w.settle()
				if got := w.describe("p", parentRun).ExecutionInfo.CloseStatus; got != api.CloseStatusTerminated {
					t.Fatalf("parent closed as %q", got)
				}
				expectUntouched(t, w, "c", other)
				cleanUp(t)
			})
			t.Run(string(policy)+"/start failed", func(t *testing.T) {
				w.t = t
				other := startOther(t)
				parentRun := w.startParent(policy)
				w.startChildOfParent()
				mustNil(t, w.calls.TerminateWorkflowExecution(w.ctx, &api.TerminateWorkflowExecutionInput{Domain: "d", WorkflowID: "p"}))
				w.settle()
				if got := w.describe("p", parentRun).ExecutionInfo.CloseStatus; got != api.CloseStatusTerminated {
					t.Fatalf("parent closed as %q", got)
				}
				expectUntouched(t, w, "c", other)
				cleanUp(t)
			})
		}
	})
}

// continueOnLookup is a store whose first lookup of the open run of "c",
// once armed, has that run continue as new before it answers, as its
// decider could between the lookup and the delivery that follows it.
type continueOnLookup struct {
	swfd.Store
	mu    sync.Mutex
	armed func()
}

func (s *continueOnLookup) OpenRun(ctx context.Context, domain, workflowID string) (swfd.Execution, error) {
	row, err := s.Store.OpenRun(ctx, domain, workflowID)
	s.mu.Lock()
	f := s.armed
	if workflowID != "c" {
		f = nil
	}
	if f != nil {
		s.armed = nil
	}
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return row, err
}

// A child that continues as new while its parent's child policy is being
// delivered to it — after the delivery has looked up its open run — still
// gets the policy, in its new run.
func TestChildPolicyFollowsContinueAsNewInFlight(t *testing.T) {
	var hook *continueOnLookup
	wrap := func(s swfd.Store) swfd.Store {
		hook = &continueOnLookup{Store: s}
		return hook
	}
	policyWorlds(t, wrap, func(t *testing.T, w *policyWorld) {
		parentRun := w.startParent(api.ChildPolicyTerminate)
		w.startChildOfParent()
		w.settle()
		dt := w.decisionTask("cl")
		var next string
		hook.mu.Lock()
		hook.armed = func() {
			w.decide(dt, continueAsNewDecision())
			evs := w.history("c", dt.WorkflowExecution.RunID)
			if a := evs[len(evs)-1].WorkflowExecutionContinuedAsNewEventAttributes; a != nil {
				next = a.NewExecutionRunID
			}
		}
		hook.mu.Unlock()
		w.closeParent(parentRun, false)
		if next == "" {
			t.Fatal("the child did not continue as new during the delivery")
		}
		expectPolicyApplied(t, w, api.ChildPolicyTerminate, "c", next)
	})
}
