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
	"github.com/swfd/swfd/matching"
	"github.com/swfd/swfd/sqlite"
)

// memBroadcaster is an in-process Broadcaster: every message goes to every
// subscriber, and delivered receives a value after each delivery.
type memBroadcaster struct {
	mu        sync.Mutex
	subs      []func([]byte)
	delivered chan []byte
}

func (b *memBroadcaster) Publish(_ context.Context, msg []byte) error {
	b.mu.Lock()
	subs := append([]func([]byte){}, b.subs...)
	b.mu.Unlock()
	for _, fn := range subs {
		fn(msg)
	}
	select {
	case b.delivered <- msg:
	default:
	}
	return nil
}

func (b *memBroadcaster) Subscribe(ctx context.Context, fn func([]byte)) error {
	b.mu.Lock()
	b.subs = append(b.subs, fn)
	b.mu.Unlock()
	<-ctx.Done()
	return ctx.Err()
}

// TestClusterRegistryNews runs two nodes on one store: a type node B has
// cached, deprecated through node A, is refused by B as soon as A's news
// arrives (the cached entries' expiry is set far away, so only the news
// can have told B).
func TestClusterRegistryNews(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := sqlite.Open(ctx, t.TempDir()+"/c.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bc := &memBroadcaster{delivered: make(chan []byte, 64)}
	var nodes []*Service
	for range 2 {
		s, err := New(ctx, Options{Store: db, Broadcaster: bc})
		if err != nil {
			t.Fatal(err)
		}
		s.registry.ttl = time.Hour
		go s.Run(ctx)
		nodes = append(nodes, s)
	}
	a, b := nodes[0], nodes[1]
	for { // both subscribed
		bc.mu.Lock()
		n := len(bc.subs)
		bc.mu.Unlock()
		if n == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
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
	for len(bc.delivered) > 0 {
		<-bc.delivered
	}
	must(a.DeprecateWorkflowType(ctx, &api.DeprecateWorkflowTypeInput{Domain: "d", WorkflowType: wt}))
	// Wait for A's news to be delivered (not for a time).
	deadline := time.After(30 * time.Second)
	for {
		var msg []byte
		select {
		case msg = <-bc.delivered:
		case <-deadline:
			t.Fatal("no news of the deprecation")
		}
		var n news
		if jsonUnmarshal(msg, &n) == nil && n.Registry {
			break
		}
	}
	var f *api.Fault
	if err := start(b, "second"); !errors.As(err, &f) || f.Code != api.TypeDeprecatedFault {
		t.Fatalf("start of a deprecated type through the other node: %v", err)
	}
}

// TestNewsMerged checks that news published while the publisher is busy
// goes out as one message, and that a node's timer loop is woken only by a
// timer due before it means to wake.
func TestNewsMerged(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := memStore(t)
	bc := &memBroadcaster{delivered: make(chan []byte, 64)}
	s, err := New(ctx, Options{Store: db, Broadcaster: bc})
	if err != nil {
		t.Fatal(err)
	}
	// Published before the loop runs: queued, then sent together.
	s.publish(ctx, news{Done: []taskKey{{"r1", 2}}})
	s.publish(ctx, news{Done: []taskKey{{"r2", 5}}, TimerDue: 2000})
	s.publish(ctx, news{Closed: []string{"r3"}, TimerDue: 1000, Transfers: true})
	go s.publishLoop(ctx)
	var n news
	select {
	case msg := <-bc.delivered:
		if err := jsonUnmarshal(msg, &n); err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("nothing published")
	}
	if len(n.Done) != 2 || len(n.Closed) != 1 || n.TimerDue != 1000 || !n.Transfers || n.Node != s.nodeID {
		t.Errorf("merged news: %+v", n)
	}
	// Only news that may wake a poller or changes the registry is sent
	// after the short linger.
	for _, c := range []struct {
		n    news
		want bool
	}{
		{news{Tasks: []swfd.Task{{RunID: "r"}}}, true},
		{news{Registry: true}, true},
		{news{Done: []taskKey{{"r", 1}}, Closed: []string{"r"}, TimerDue: 5, Transfers: true}, false},
	} {
		if got := c.n.urgent(); got != c.want {
			t.Errorf("urgent(%+v) = %v", c.n, got)
		}
	}

	// The timer loop sleeps until an hour from now.
	other := news{Node: "another node"}
	s.nextTimer.Store(time.Now().Add(time.Hour).UnixNano())
	late := other
	late.TimerDue = time.Now().Add(2 * time.Hour).UnixMilli()
	s.receive(mustJSON(t, late))
	if len(s.timerWake) != 0 {
		t.Error("a timer due after the loop's wake-up woke it")
	}
	soon := other
	soon.TimerDue = time.Now().Add(time.Minute).UnixMilli()
	s.receive(mustJSON(t, soon))
	if len(s.timerWake) != 1 {
		t.Error("a timer due before the loop's wake-up did not wake it")
	}
	// The node's own news, echoed back by the database, is skipped.
	<-s.timerWake
	own := soon
	own.Node = s.nodeID
	s.receive(mustJSON(t, own))
	if len(s.timerWake) != 0 {
		t.Error("the node's own news woke its timer loop")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPeersFirstCall checks that for every broadcast task exactly one of the
// live nodes other than its sender has first call on it, that the choice
// spreads over them, and that a node that knows no live peer takes it.
func TestPeersFirstCall(t *testing.T) {
	names := []string{"A", "B", "C"}
	views := map[string]*peers{}
	for _, self := range names {
		p := &peers{}
		for _, other := range names {
			if other != self {
				p.seen(other)
			}
		}
		views[self] = p
	}
	firsts := map[string]int{}
	for i := range 200 {
		task := swfd.Task{RunID: fmt.Sprint("run-", i), ScheduledEventID: int64(i % 7)}
		n := 0
		for _, self := range []string{"B", "C"} { // A sent it
			if views[self].first(self, "A", task) {
				n++
				firsts[self]++
			}
		}
		if n != 1 {
			t.Fatalf("task %d: %d nodes have first call", i, n)
		}
	}
	if firsts["B"] < 50 || firsts["C"] < 50 {
		t.Errorf("first calls not spread: %v", firsts)
	}
	if !(&peers{}).first("B", "A", swfd.Task{RunID: "r"}) {
		t.Error("a node with no live peers did not take the task")
	}
	// A task taken meanwhile is not offered late.
	now := time.Unix(1000, 0)
	p := &peers{now: func() time.Time { return now }}
	p.done(taskKey{"r", 3})
	if !p.isDone(taskKey{"r", 3}) || p.isDone(taskKey{"r", 4}) {
		t.Error("taken tasks misreported")
	}
	// It is remembered for at least takenSpan, and forgotten after two.
	now = now.Add(takenSpan)
	p.done(taskKey{"r", 5})
	if !p.isDone(taskKey{"r", 3}) || !p.isDone(taskKey{"r", 5}) {
		t.Error("a task taken one span ago was forgotten")
	}
	now = now.Add(takenSpan)
	p.done(taskKey{"r", 6})
	if p.isDone(taskKey{"r", 3}) || !p.isDone(taskKey{"r", 5}) {
		t.Error("tasks not forgotten span by span")
	}
}

// silentBroadcaster carries no news: nodes using it never hear of each
// other's commits.
type silentBroadcaster struct{}

func (silentBroadcaster) Publish(context.Context, []byte) error { return nil }
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
		ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{ActivityID: "a1", ActivityType: api.ActivityType{Name: "act", Version: "1"}, Input: "in"}}}}))

	// B's cached run predates the activity: its poll must still start it.
	learn(b)
	at, err := b.PollForActivityTask(ctx, &api.PollForActivityTaskInput{Domain: "d", TaskList: api.TaskList{Name: "al"}})
	must(err)
	if at.TaskToken == "" || at.ActivityID != "a1" || at.Input != "in" {
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
	must(b.RespondActivityTaskCompleted(ctx, &api.RespondActivityTaskCompletedInput{TaskToken: at.TaskToken, Result: "out"}))
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

// TestScheduleSharesLate checks when the other nodes hear of a new task: a
// task a poller here waits for is never news; one of a list nobody here
// polls is news at once; one of a list whose pollers here are busy is news
// only if no poller here has taken it shareDelay later.
func TestScheduleSharesLate(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := New(ctx, Options{Store: memStore(t), Broadcaster: &memBroadcaster{delivered: make(chan []byte, 8)}})
	if err != nil {
		t.Fatal(err)
	}
	var later []func()
	s.afterFunc = func(d time.Duration, f func()) *time.Timer {
		if d != shareDelay {
			t.Errorf("delay %v, want %v", d, shareDelay)
		}
		later = append(later, f)
		return nil
	}
	task := func(sched int64) swfd.Task {
		return swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: "tl", RunID: "run", ScheduledEventID: sched}
	}
	key := matching.KeyOf(task(0))
	published := func() []swfd.Task {
		var out []swfd.Task
		for {
			select {
			case n := <-s.newsq:
				out = append(out, n.Tasks...)
			default:
				return out
			}
		}
	}

	if !s.schedule(task(1)) || len(later) != 0 {
		t.Fatal("a task of a list nobody here polls is not news at once")
	}

	// A poller here takes task 1: the list now has a busy poller.
	if got, err := s.matcher.Poll(ctx, key); err != nil || got.ScheduledEventID != 1 {
		t.Fatalf("poll: %v %v", got, err)
	}
	if s.schedule(task(2)) || len(later) != 1 {
		t.Fatal("a task of a list with busy pollers here is news at once")
	}
	later[0]()
	if got := published(); len(got) != 1 || got[0].ScheduledEventID != 2 {
		t.Fatalf("still queued after shareDelay, task 2 was not shared: %v", got)
	}

	if s.schedule(task(3)) || len(later) != 2 {
		t.Fatal("task 3 is news at once")
	}
	for _, want := range []int64{2, 3} {
		if got, err := s.matcher.Poll(ctx, key); err != nil || got.ScheduledEventID != want {
			t.Fatalf("poll: %v %v, want task %d", got, err, want)
		}
	}
	later[1]()
	if got := published(); len(got) != 0 {
		t.Fatalf("task 3, taken here, was shared: %v", got)
	}

	// A poller waiting here gets the task, and nobody else hears of it.
	pctx, pcancel := context.WithTimeout(ctx, time.Minute)
	defer pcancel()
	got := make(chan swfd.Task, 1)
	go func() {
		tk, _ := s.matcher.Poll(pctx, key)
		got <- tk
	}()
	for s.matcher.Waiting(key) == 0 {
		time.Sleep(time.Millisecond)
	}
	if s.schedule(task(4)) || len(later) != 2 {
		t.Fatal("a task handed to a waiting poller is news")
	}
	if tk := <-got; tk.ScheduledEventID != 4 {
		t.Fatalf("waiting poller got %v", tk)
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
		ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{ActivityID: "a1", ActivityType: api.ActivityType{Name: "act", Version: "1"}, Input: "in"}}}}))

	// B learns of the activity task, as news would tell it.
	tasks, err := db.PendingTasks(ctx)
	must(err)
	for _, tk := range tasks {
		b.matcher.AddRemote(tk)
	}
	at, err := b.PollForActivityTask(ctx, &api.PollForActivityTaskInput{Domain: "d", TaskList: api.TaskList{Name: "al"}})
	must(err)
	if at.Input != "in" {
		t.Fatalf("activity input %q, want %q", at.Input, "in")
	}
	if n := counterB.historyReads(); n != 1 {
		t.Fatalf("B read history %d times to start the activity, want 1", n)
	}
	must(b.RespondActivityTaskCompleted(ctx, &api.RespondActivityTaskCompletedInput{TaskToken: at.TaskToken, Result: "out"}))
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
