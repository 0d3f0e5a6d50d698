package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// failingReads fails reads of history while fail is set.
type failingReads struct {
	swfd.Store
	fail atomic.Bool
}

func (f *failingReads) History(ctx context.Context, q swfd.HistoryQuery) ([]swfd.Event, error) {
	if f.fail.Load() {
		return nil, errors.New("connection reset by peer")
	}
	return f.Store.History(ctx, q)
}

// An activity task whose input could not be read (the store failed the
// read, as it can for a run the run cache does not hold) is not started:
// the poll fails, and the task stays pending for the next poller. It was
// started first and the read made after, so the failed poll left it
// recorded ActivityTaskStarted with no worker to run it, until its
// START_TO_CLOSE timeout (never, for one of "NONE").
func TestPollInputReadFailureKeepsActivityTask(t *testing.T) {
	ctx := context.Background()
	st := &failingReads{}
	// A cache too small to hold any run: every step reads its run, and
	// every poll the activity's input, from the store.
	s := testService(t, Options{PollTimeout: 200 * time.Millisecond, RunCacheBytes: 1}, func(db swfd.Store) swfd.Store { st.Store = db; return st })
	if err := s.RegisterActivityType(ctx, &api.RegisterActivityTypeInput{Domain: "d", Name: "act", Version: "1", DefaultTaskList: &api.TaskList{Name: "al"},
		DefaultTaskScheduleToStartTimeout: "NONE", DefaultTaskScheduleToCloseTimeout: "NONE", DefaultTaskStartToCloseTimeout: "NONE", DefaultTaskHeartbeatTimeout: "NONE"}); err != nil {
		t.Fatal(err)
	}
	run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	if err != nil || d.TaskToken == "" {
		t.Fatalf("decision task %+v, %v", d, err)
	}
	if err := s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []api.Decision{{
		DecisionType: api.DecisionTypeScheduleActivityTask,
		ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{
			ActivityID: "a", ActivityType: api.ActivityType{Name: "act", Version: "1"}, Input: api.String("the input")},
	}}}); err != nil {
		t.Fatal(err)
	}
	poll := &api.PollForActivityTaskInput{Domain: "d", TaskList: api.TaskList{Name: "al"}}
	st.fail.Store(true)
	if a, err := s.PollForActivityTask(ctx, poll); err == nil {
		t.Fatalf("a poll whose read of the input failed succeeded: %+v", a)
	}
	st.fail.Store(false)
	h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: run.RunID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range h.Events {
		if e.EventType == api.EventTypeActivityTaskStarted {
			t.Fatalf("the failed poll recorded ActivityTaskStarted (event %d)", e.EventID)
		}
	}
	if n, err := s.CountPendingActivityTasks(ctx, &api.CountPendingActivityTasksInput{Domain: "d", TaskList: api.TaskList{Name: "al"}}); err != nil || n.Count != 1 {
		t.Fatalf("pending activity tasks %+v, %v; want 1", n, err)
	}
	a, err := s.PollForActivityTask(ctx, poll)
	if err != nil {
		t.Fatal(err)
	}
	if a.TaskToken == "" || api.Value(a.Input) != "the input" {
		t.Fatalf("the activity task was lost with the failed poll: %+v", a)
	}
}

// A decision task whose first page could not be read (the store failed
// the read, as it can for a run the run cache does not hold, or whose
// history is long) is not started: the poll fails, and the task stays
// pending for the next poller, which gets the whole page. It was started
// first and the page read after, so the failed poll left the run with a
// DecisionTaskStarted no decider had been given, until the task's
// START_TO_CLOSE timeout (never, for one of "NONE").
func TestPollPageReadFailureKeepsDecisionTask(t *testing.T) {
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse %v", reverse), func(t *testing.T) {
			ctx := context.Background()
			st := &failingReads{}
			s := testService(t, Options{PollTimeout: 200 * time.Millisecond, RunCacheBytes: 1}, func(db swfd.Store) swfd.Store { st.Store = db; return st })
			run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w",
				WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, TaskStartToCloseTimeout: "NONE"})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := s.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: fmt.Sprint("s", i)}); err != nil {
					t.Fatal(err)
				}
			}
			poll := &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}, ReverseOrder: reverse, MaximumPageSize: 2}
			st.fail.Store(true)
			if d, err := s.PollForDecisionTask(ctx, poll); err == nil {
				t.Fatalf("a poll whose read of the history failed succeeded: %+v", d)
			}
			st.fail.Store(false)
			h, err := s.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: run.RunID}})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(h.Events); n != 5 {
				t.Fatalf("the failed poll left %d events (last %s), want 5", n, h.Events[n-1].EventType)
			}
			var ids []int64
			var types []api.EventType
			d, err := s.PollForDecisionTask(ctx, poll)
			for {
				if err != nil {
					t.Fatal(err)
				}
				if d.TaskToken == "" || d.StartedEventID != 6 {
					t.Fatalf("the decision task was lost with the failed poll: %+v", d)
				}
				for _, e := range d.Events {
					ids = append(ids, e.EventID)
					types = append(types, e.EventType)
				}
				if d.NextPageToken == "" {
					break
				}
				next := *poll
				next.NextPageToken = d.NextPageToken
				d, err = s.PollForDecisionTask(ctx, &next)
			}
			want := []int64{1, 2, 3, 4, 5, 6}
			if reverse {
				want = []int64{6, 5, 4, 3, 2, 1}
			}
			if fmt.Sprint(ids) != fmt.Sprint(want) || types[slices.Index(ids, 6)] != api.EventTypeDecisionTaskStarted {
				t.Fatalf("decision task events %v %v, want ids %v", ids, types, want)
			}
		})
	}
}
