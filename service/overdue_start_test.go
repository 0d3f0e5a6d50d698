package service

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
)

// A start of a workflowId whose open run is past its
// executionStartToCloseTimeout, its timer not fired yet (the test fires
// timers itself), finds that run timed out, as it would had the timer loop
// been on time: the run's timeout is recorded, with its child policy and
// its parent's news, and the new run starts.

// countEvents counts the events of type et in a history.
func countEvents(evs []api.HistoryEvent, et api.EventType) int {
	n := 0
	for _, e := range evs {
		if e.EventType == et {
			n++
		}
	}
	return n
}

func wantFault(t *testing.T, err error, code string) {
	t.Helper()
	if f, ok := api.AsFault(err); !ok || f.Code != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

// A run "c", child of "p" with a timeout of 30 s, has a child "g" of its
// own and a timer due after 10 s. Just before its deadline a start of "c"
// is refused and changes nothing (the timer does not fire); at it, the start times the run out, its child policy terminates
// "g", "p" hears that its child timed out, and the timer loop then finds
// nothing left to fire.
func TestStartAfterOverdueRun(t *testing.T) {
	policyWorlds(t, nil, func(t *testing.T, w *policyWorld) {
		began := w.clock.Now()
		run, err := w.calls.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "p",
			WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, ExecutionStartToCloseTimeout: "3600", TaskStartToCloseTimeout: "NONE"})
		mustNil(t, err)
		parent := run.RunID
		w.decide(w.decisionTask("l"), api.Decision{DecisionType: api.DecisionTypeStartChildWorkflowExecution,
			StartChildWorkflowExecutionDecisionAttributes: &api.StartChildWorkflowExecutionDecisionAttributes{
				WorkflowID: "c", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, TaskList: &api.TaskList{Name: "cl"},
				ExecutionStartToCloseTimeout: "30", TaskStartToCloseTimeout: "NONE", ChildPolicy: api.ChildPolicyTerminate}})
		w.settle()
		dt := w.decisionTask("cl")
		child := dt.WorkflowExecution.RunID
		w.decide(dt, api.Decision{DecisionType: api.DecisionTypeStartChildWorkflowExecution,
			StartChildWorkflowExecutionDecisionAttributes: &api.StartChildWorkflowExecutionDecisionAttributes{
				WorkflowID: "g", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, TaskList: &api.TaskList{Name: "gl"},
				ExecutionStartToCloseTimeout: "3600"}},
			api.Decision{DecisionType: api.DecisionTypeStartTimer, StartTimerDecisionAttributes: &api.StartTimerDecisionAttributes{TimerID: "t", StartToFireTimeout: "10"}})
		w.settle()
		grandchild := w.decisionTask("gl").WorkflowExecution.RunID

		start := func() (*api.Run, error) {
			return w.calls.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "c",
				WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, TaskList: &api.TaskList{Name: "cl2"}})
		}
		w.clock.MoveTo(began.Add(30*time.Second - time.Millisecond))
		before := len(w.history("c", child))
		_, err = start()
		wantFault(t, err, api.WorkflowExecutionAlreadyStartedFault)
		if n := len(w.history("c", child)); n != before || w.describe("c", child).ExecutionInfo.ExecutionStatus != api.ExecutionStatusOpen {
			t.Fatalf("a start refused changed the open run: %d events, were %d", n, before)
		}

		w.clock.MoveTo(began.Add(30 * time.Second))
		run, err = start()
		mustNil(t, err)
		if run.RunID == child {
			t.Fatal("the start returned the old run")
		}
		info := w.describe("c", child).ExecutionInfo
		if info.CloseStatus != api.CloseStatusTimedOut || !info.CloseTimestamp.Time.Equal(began.Add(30*time.Second)) {
			t.Fatalf("old run: %+v", info)
		}
		evs := w.history("c", child)
		// Its timer due before fired first, as the timer loop would have
		// fired it.
		if got := evs[len(evs)-2:]; got[0].EventType != api.EventTypeTimerFired || got[1].EventType != api.EventTypeWorkflowExecutionTimedOut {
			t.Fatalf("old run's history %v", eventTypes(t, evs))
		}
		fresh := w.describe("c", run.RunID)
		if fresh.ExecutionInfo.ExecutionStatus != api.ExecutionStatusOpen || fresh.ExecutionInfo.Parent != nil ||
			fresh.ExecutionConfiguration.TaskList.Name != "cl2" || fresh.ExecutionInfo.StartTimestamp.Time.Before(began.Add(30*time.Second)) {
			t.Fatalf("new run: %+v", fresh)
		}

		w.settle()
		expectPolicyApplied(t, w, api.ChildPolicyTerminate, "g", grandchild)
		pevs := w.history("p", parent)
		if countEvents(pevs, api.EventTypeChildWorkflowExecutionTimedOut) != 1 {
			t.Fatalf("parent's history %v", eventTypes(t, pevs))
		}
		if n := countEvents(w.history("c", child), api.EventTypeWorkflowExecutionTimedOut); n != 1 {
			t.Fatalf("the old run timed out %d times", n)
		}
		if w.describe("c", run.RunID).ExecutionInfo.ExecutionStatus != api.ExecutionStatusOpen {
			t.Fatal("the new run closed")
		}
	})
}

// A parent's StartChildWorkflowExecution of a workflowId whose open run is
// past its timeout starts the child, the old run timed out first.
func TestStartChildAfterOverdueRun(t *testing.T) {
	policyWorlds(t, nil, func(t *testing.T, w *policyWorld) {
		began := w.clock.Now()
		old, err := w.calls.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "c",
			WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, TaskList: &api.TaskList{Name: "cl"}, ExecutionStartToCloseTimeout: "60"})
		mustNil(t, err)
		run, err := w.calls.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "p",
			WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, ExecutionStartToCloseTimeout: "3600", TaskStartToCloseTimeout: "NONE"})
		mustNil(t, err)
		w.clock.MoveTo(began.Add(time.Minute))
		w.decide(w.decisionTask("l"), api.Decision{DecisionType: api.DecisionTypeStartChildWorkflowExecution,
			StartChildWorkflowExecutionDecisionAttributes: &api.StartChildWorkflowExecutionDecisionAttributes{
				WorkflowID: "c", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, TaskList: &api.TaskList{Name: "cl"},
				ExecutionStartToCloseTimeout: "3600"}})
		// The start is delivered before the timer loop fires "c"'s timeout.
		_, err = w.loops.Transfers().Deliver(w.ctx)
		mustNil(t, err)
		w.settle()
		if info := w.describe("c", old.RunID).ExecutionInfo; info.CloseStatus != api.CloseStatusTimedOut {
			t.Fatalf("old run: %+v", info)
		}
		if n := countEvents(w.history("c", old.RunID), api.EventTypeWorkflowExecutionTimedOut); n != 1 {
			t.Fatalf("the old run timed out %d times", n)
		}
		pevs := w.history("p", run.RunID)
		var started *api.ChildWorkflowExecutionStartedEventAttributes
		for _, e := range pevs {
			if e.ChildWorkflowExecutionStartedEventAttributes != nil {
				started = e.ChildWorkflowExecutionStartedEventAttributes
			}
		}
		if started == nil || started.WorkflowExecution.RunID == old.RunID || countEvents(pevs, api.EventTypeStartChildWorkflowExecutionFailed) != 0 {
			t.Fatalf("parent's history %v", eventTypes(t, pevs))
		}
		child := w.describe("c", started.WorkflowExecution.RunID).ExecutionInfo
		if child.ExecutionStatus != api.ExecutionStatusOpen || child.Parent == nil || child.Parent.RunID != run.RunID {
			t.Fatalf("child: %+v", child)
		}
	})
}

// Starts of an overdue run's workflowId made at once, through both nodes
// of a cluster: one starts a run, the others find it started, and the old
// run times out once. In the second round the timer loop fires the timeout
// at the same time.
func TestConcurrentStartsAfterOverdueRun(t *testing.T) {
	policyWorlds(t, nil, func(t *testing.T, w *policyWorld) {
		old, err := w.calls.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w",
			WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
		mustNil(t, err)
		for round, withLoop := range []bool{false, true} {
			w.clock.MoveTo(w.clock.Now().Add(time.Minute))
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			ids := make([]string, n)
			for i := range n {
				node := w.calls
				if i%2 == 1 {
					node = w.loops
				}
				wg.Go(func() {
					run, err := node.StartWorkflowExecution(w.ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w",
						WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
					errs[i] = err
					if err == nil {
						ids[i] = run.RunID
					}
				})
			}
			if withLoop {
				wg.Go(func() {
					if _, _, _, err := w.loops.Timers().FireDue(w.ctx, nil); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			started := 0
			var fresh string
			for i, err := range errs {
				if err == nil {
					started++
					fresh = ids[i]
					continue
				}
				wantFault(t, err, api.WorkflowExecutionAlreadyStartedFault)
			}
			if started != 1 {
				t.Fatalf("round %d: %d starts succeeded: %v", round, started, errs)
			}
			w.settle()
			if c := countEvents(w.history("w", old.RunID), api.EventTypeWorkflowExecutionTimedOut); c != 1 {
				t.Fatalf("round %d: the old run timed out %d times: %v", round, c, eventTypes(t, w.history("w", old.RunID)))
			}
			if info := w.describe("w", fresh).ExecutionInfo; info.ExecutionStatus != api.ExecutionStatusOpen {
				t.Fatalf("round %d: new run: %+v", round, info)
			}
			old.RunID = fresh
		}
	})
}

// A domain at its limit of open executions takes a start of a workflowId
// whose open run, counted there, is past its timeout: that run times out
// and counts no more.
func TestStartAtOpenLimitAfterOverdueRun(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	limits := DefaultLimits
	limits.MaxOpenExecutions = 1
	s, err := New(ctx, Options{Store: memStore(t), Clock: clk, Limits: limits, PollTimeout: 50 * time.Millisecond})
	mustNil(t, err)
	registerTestTypes(t, s, false)
	start := func(id string) (*api.Run, error) {
		return s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id, WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	}
	old, err := start("w")
	mustNil(t, err)
	clk.MoveTo(clk.Now().Add(time.Minute))
	run, err := start("w")
	mustNil(t, err)
	d, err := s.DescribeWorkflowExecution(ctx, &api.DescribeWorkflowExecutionInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: old.RunID}})
	mustNil(t, err)
	if d.ExecutionInfo.CloseStatus != api.CloseStatusTimedOut {
		t.Fatalf("old run: %+v", d.ExecutionInfo)
	}
	_, err = start("other")
	wantFault(t, err, api.LimitExceededFault)
	if run.RunID == old.RunID {
		t.Fatal("the start returned the old run")
	}
}

// At the domain's limit of open executions, a start of a new workflowId
// first times out the domain's other runs past their timeout, which would
// not have been counted had the timer loop been on time, and then starts.
// Such runs used to count until the loop timed them out, and the start was
// LimitExceededFault. A run within its time still counts.
func TestStartAtOpenLimitTimesOutOtherOverdueRuns(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	limits := DefaultLimits
	limits.MaxOpenExecutions = 2
	s, err := New(ctx, Options{Store: memStore(t), Clock: clk, Limits: limits, PollTimeout: 50 * time.Millisecond})
	mustNil(t, err)
	registerTestTypes(t, s, false) // execution start-to-close 60 s
	start := func(id string) (*api.Run, error) {
		return s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id, WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	}
	a, err := start("a")
	mustNil(t, err)
	clk.MoveTo(clk.Now().Add(30 * time.Second))
	_, err = start("b")
	mustNil(t, err)
	_, err = start("c")
	wantFault(t, err, api.LimitExceededFault)   // a and b within their time
	clk.MoveTo(clk.Now().Add(30 * time.Second)) // a's deadline
	c, err := start("c")
	mustNil(t, err)
	d, err := s.DescribeWorkflowExecution(ctx, &api.DescribeWorkflowExecutionInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "a", RunID: a.RunID}})
	mustNil(t, err)
	if d.ExecutionInfo.CloseStatus != api.CloseStatusTimedOut {
		t.Fatalf("overdue run: %+v", d.ExecutionInfo)
	}
	if c.RunID == "" {
		t.Fatal("no run")
	}
	_, err = start("e")
	wantFault(t, err, api.LimitExceededFault) // b and c within their time
}

// At the domain's limit of open executions, an overdue run that cannot be
// timed out (its commit fails) must not keep the start from timing out the
// others: the next overdue run makes the room, and the start goes ahead.
// The failure used to end the search, and the start failed with it. With
// no other overdue run to take its place, the start fails with the store's
// error, not LimitExceededFault: the domain may well have had room.
func TestStartAtOpenLimitPassesAnOverdueRunThatFails(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	limits := DefaultLimits
	limits.MaxOpenExecutions = 2
	ps := &poisonStore{}
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	s := testService(t, Options{Clock: clk, Limits: limits, PollTimeout: 50 * time.Millisecond, Logger: log}, func(st swfd.Store) swfd.Store { ps.Store = st; return ps })
	start := func(id string) (*api.Run, error) {
		return s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id, WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	}
	status := func(id, runID string) api.CloseStatus {
		t.Helper()
		d, err := s.DescribeWorkflowExecution(ctx, &api.DescribeWorkflowExecutionInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: id, RunID: runID}})
		mustNil(t, err)
		return d.ExecutionInfo.CloseStatus
	}
	a, err := start("a") // execution start-to-close 60 s
	mustNil(t, err)
	clk.MoveTo(clk.Now().Add(time.Second))
	b, err := start("b")
	mustNil(t, err)
	clk.MoveTo(clk.Now().Add(2 * time.Minute)) // both overdue, a first
	ps.poison(a.RunID, true)
	_, err = start("c")
	mustNil(t, err)
	if got := status("b", b.RunID); got != api.CloseStatusTimedOut {
		t.Fatalf("overdue run b closed as %q; want TIMED_OUT", got)
	}
	if got := status("a", a.RunID); got != "" {
		t.Fatalf("run a, which cannot be written, closed as %q", got)
	}
	if line := logged.String(); !strings.Contains(line, a.RunID) || !strings.Contains(line, "cannot be written") {
		t.Fatalf("the run that could not be timed out was not logged with its error: %q", line)
	}
	// Now a, which still fails, is the only overdue run; c counts.
	clk.MoveTo(clk.Now().Add(30 * time.Second))
	_, err = start("e")
	if err == nil {
		t.Fatal("a start with no room but an overdue run that failed to time out succeeded")
	}
	if f, ok := api.AsFault(err); ok {
		t.Fatalf("a start that could not time out an overdue run failed with %s; want the store's error", f.Code)
	}
	ps.poison(a.RunID, false)
	_, err = start("e")
	mustNil(t, err)
	if got := status("a", a.RunID); got != api.CloseStatusTimedOut {
		t.Fatalf("run a, writable again, closed as %q; want TIMED_OUT", got)
	}
}
