package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/membus"
	"github.com/swfd/swfd/sqlite"
)

// clusterNodes starts n nodes of a cluster over one store and one bus,
// running until ctx ends, and returns them once each has subscribed.
func clusterNodes(t *testing.T, ctx context.Context, n int, opts Options) ([]*Service, *membus.Bus) {
	t.Helper()
	db, err := sqlite.Open(ctx, t.TempDir()+"/c.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bus := &membus.Bus{Delivered: make(chan []byte, 64)}
	opts.Store, opts.Broadcaster = db, bus
	var nodes []*Service
	for range n {
		s, err := New(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		go s.Run(ctx)
		nodes = append(nodes, s)
	}
	for bus.Subscribers() < n {
		time.Sleep(time.Millisecond)
	}
	return nodes, bus
}

// TestClusterRegistryNews runs two nodes on one store: a type node B has
// cached, deprecated through node A, is refused by B as soon as A's news
// arrives (the cached entries' expiry is set far away, so only the news
// can have told B).
func TestClusterRegistryNews(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nodes, bc := clusterNodes(t, ctx, 2, Options{registryTTL: time.Hour})
	a, b := nodes[0], nodes[1]
	must := func(err error) { t.Helper(); mustNil(t, err) }
	must(a.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "1"}))
	wt := api.WorkflowType{Name: "wf", Version: "1"}
	must(a.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "60", DefaultTaskStartToCloseTimeout: "10", DefaultChildPolicy: api.ChildPolicyTerminate}))
	start := func(s *Service, id string) error {
		_, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id, WorkflowType: wt})
		return err
	}
	must(start(b, "first")) // B now has the domain and the type cached
	for len(bc.Delivered) > 0 {
		<-bc.Delivered
	}
	must(a.DeprecateWorkflowType(ctx, &api.DeprecateWorkflowTypeInput{Domain: "d", WorkflowType: wt}))
	// Wait for A's news to be delivered (not for a time).
	deadline := time.After(30 * time.Second)
	for {
		var msg []byte
		select {
		case msg = <-bc.Delivered:
		case <-deadline:
			t.Fatal("no news of the deprecation")
		}
		var n struct {
			Registry bool `json:"rg"`
		}
		if json.Unmarshal(msg, &n) == nil && n.Registry {
			break
		}
	}
	var f *api.Fault
	if err := start(b, "second"); !errors.As(err, &f) || f.Code != api.TypeDeprecatedFault {
		t.Fatalf("start of a deprecated type through the other node: %v", err)
	}
}

// silentBroadcaster carries no news: nodes using it never hear of each
// other's commits.
type silentBroadcaster struct{}

func (silentBroadcaster) Publish(context.Context, []byte) error { return nil }
func (silentBroadcaster) MaxMessage() int                       { return 7999 }
func (silentBroadcaster) Subscribe(ctx context.Context, _ func([]byte)) error {
	<-ctx.Done()
	return ctx.Err()
}

// readCounter counts the runs a node reads from the store.
type readCounter struct {
	swfd.Store
	mu               sync.Mutex
	reads, histories int
}

func (c *readCounter) GetExecution(ctx context.Context, domain, runID string) (swfd.Execution, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.Store.GetExecution(ctx, domain, runID)
}

func (c *readCounter) History(ctx context.Context, q swfd.HistoryQuery) ([]swfd.Event, error) {
	c.mu.Lock()
	c.histories++
	c.mu.Unlock()
	return c.Store.History(ctx, q)
}

func (c *readCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}

func (c *readCounter) historyReads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.histories
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// eventTypes returns the types of a history's events, which must be
// numbered from 1 without a gap.
func eventTypes(t *testing.T, events []api.HistoryEvent) []api.EventType {
	t.Helper()
	var types []api.EventType
	for i, ev := range events {
		if ev.EventID != int64(i+1) {
			t.Fatalf("event %d has id %d", i+1, ev.EventID)
		}
		types = append(types, ev.EventType)
	}
	return types
}

// silentNode is a cluster node over store that hears no news of others.
func silentNode(t *testing.T, store swfd.Store) *Service {
	t.Helper()
	s, err := New(context.Background(), Options{Store: store, Broadcaster: silentBroadcaster{}, PollTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestClusterStaleRunCache runs one workflow through two nodes that hear
// no news of each other, so that the runs each has cached fall behind what
// the other commits. Every call must act on the stored run all the same:
// no task token refused, no task dropped, no event lost or written twice,
// and the history and state read through either node are the latest. A
// node whose cached run is current must not read it again.
func TestClusterStaleRunCache(t *testing.T) {
	ctx := context.Background()
	db := memStore(t)
	counterA := &readCounter{Store: db}
	a, b := silentNode(t, counterA), silentNode(t, db)
	// learn gives a node the stored tasks, as news would, but leaves its
	// cached runs as they are.
	learn := func(s *Service) {
		tasks, err := db.PendingTasks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range tasks {
			s.matcher.Add(tk)
		}
	}
	must := func(err error) { t.Helper(); mustNil(t, err) }
	registerTestTypes(t, a, true)

	started, err := a.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	must(err)
	exec := api.WorkflowExecution{WorkflowID: "w", RunID: started.RunID}

	// A has the run's history cached; B adds to it.
	must(b.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: "s0"}))
	h, err := a.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: exec})
	must(err)
	if n := len(h.Events); n != 3 {
		t.Fatalf("A's history has %d events, want 3", n)
	}

	// B starts the decision task; A, whose cached run does not know,
	// completes it.
	learn(b)
	dt, err := b.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	must(err)
	if dt.TaskToken == "" {
		t.Fatal("B got no decision task")
	}
	must(a.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []api.Decision{{
		DecisionType:                           api.DecisionTypeScheduleActivityTask,
		ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{ActivityID: "a1", ActivityType: api.ActivityType{Name: "act", Version: "1"}, Input: api.String("in")}}}}))

	// B's cached run predates the activity: its poll must still start it.
	learn(b)
	at, err := b.PollForActivityTask(ctx, &api.PollForActivityTaskInput{Domain: "d", TaskList: api.TaskList{Name: "al"}})
	must(err)
	if at.TaskToken == "" || at.ActivityID != "a1" || api.Value(at.Input) != "in" {
		t.Fatalf("B's activity task: %+v", at)
	}

	// A reads what B did: state and history from the store.
	desc, err := a.DescribeWorkflowExecution(ctx, &api.DescribeWorkflowExecutionInput{Domain: "d", Execution: exec})
	must(err)
	if desc.OpenCounts.OpenActivityTasks != 1 {
		t.Errorf("A describes %d open activities, want 1", desc.OpenCounts.OpenActivityTasks)
	}
	h, err = a.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: exec})
	must(err)
	if last := h.Events[len(h.Events)-1].EventType; last != api.EventTypeActivityTaskStarted {
		t.Errorf("A's history ends with %s, want ActivityTaskStarted", last)
	}

	// B completes the activity; A, behind again, signals the run.
	must(b.RespondActivityTaskCompleted(ctx, &api.RespondActivityTaskCompletedInput{TaskToken: at.TaskToken, Result: api.String("out")}))
	must(a.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: "s1"}))

	// A's cached run is now the stored one: a signal costs no read.
	before := counterA.count()
	must(a.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: "s2"}))
	if n := counterA.count() - before; n != 0 {
		t.Errorf("a step on a current cached run read it %d times", n)
	}

	// A's stale decision task (still in its lists, started by B) is
	// skipped; the new one is handed out with the whole history.
	learn(a)
	dt, err = a.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	must(err)
	types := eventTypes(t, dt.Events)
	want := []api.EventType{api.EventTypeWorkflowExecutionStarted, api.EventTypeDecisionTaskScheduled,
		api.EventTypeWorkflowExecutionSignaled, api.EventTypeDecisionTaskStarted,
		api.EventTypeDecisionTaskCompleted, api.EventTypeActivityTaskScheduled, api.EventTypeActivityTaskStarted,
		api.EventTypeActivityTaskCompleted, api.EventTypeDecisionTaskScheduled, api.EventTypeWorkflowExecutionSignaled,
		api.EventTypeWorkflowExecutionSignaled, api.EventTypeDecisionTaskStarted}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Fatalf("decision task history:\n got %v\nwant %v", types, want)
	}
}

// TestClusterAdoptsHistory checks that a node that starts an activity of a
// run another node scheduled reads the run's short history once, keeps it,
// and hands out the run's next decision task without reading it again.
func TestClusterAdoptsHistory(t *testing.T) {
	ctx := context.Background()
	db := memStore(t)
	counterB := &readCounter{Store: db}
	a, b := silentNode(t, db), silentNode(t, counterB)
	must := func(err error) { t.Helper(); mustNil(t, err) }
	registerTestTypes(t, a, true)
	_, err := a.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	must(err)
	dt, err := a.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	must(err)
	must(a.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []api.Decision{{
		DecisionType:                           api.DecisionTypeScheduleActivityTask,
		ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{ActivityID: "a1", ActivityType: api.ActivityType{Name: "act", Version: "1"}, Input: api.String("in")}}}}))

	// B learns of the activity task, as news would tell it.
	tasks, err := db.PendingTasks(ctx)
	must(err)
	for _, tk := range tasks {
		b.matcher.AddRemote(tk)
	}
	at, err := b.PollForActivityTask(ctx, &api.PollForActivityTaskInput{Domain: "d", TaskList: api.TaskList{Name: "al"}})
	must(err)
	if api.Value(at.Input) != "in" {
		t.Fatalf("activity input %q, want %q", api.Value(at.Input), "in")
	}
	if n := counterB.historyReads(); n != 1 {
		t.Fatalf("B read history %d times to start the activity, want 1", n)
	}
	must(b.RespondActivityTaskCompleted(ctx, &api.RespondActivityTaskCompletedInput{TaskToken: at.TaskToken, Result: api.String("out")}))
	dt, err = b.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	must(err)
	if n := counterB.historyReads(); n != 1 {
		t.Errorf("B read history %d times in all, want 1: the decision task's came from its cache", n)
	}
	types := eventTypes(t, dt.Events)
	want := []api.EventType{api.EventTypeWorkflowExecutionStarted, api.EventTypeDecisionTaskScheduled,
		api.EventTypeDecisionTaskStarted, api.EventTypeDecisionTaskCompleted, api.EventTypeActivityTaskScheduled,
		api.EventTypeActivityTaskStarted, api.EventTypeActivityTaskCompleted, api.EventTypeDecisionTaskScheduled,
		api.EventTypeDecisionTaskStarted}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Fatalf("decision task history:\n got %v\nwant %v", types, want)
	}
}
