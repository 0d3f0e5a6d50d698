package service

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/cluster"
	"github.com/swfd/swfd/matching"
	"github.com/swfd/swfd/runs"
)

// commits records the commits a listener is told of.
type commits struct {
	mu  sync.Mutex
	all []runs.Commit
	new chan struct{}
}

func newCommits() *commits { return &commits{new: make(chan struct{}, 1024)} }

func (c *commits) listen(cm runs.Commit) {
	c.mu.Lock()
	c.all = append(c.all, cm)
	c.mu.Unlock()
	c.new <- struct{}{}
}

func (c *commits) take() []runs.Commit {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.all
	c.all = nil
	return out
}

// TestCommitListener runs a workflow to its end and checks what a commit
// listener is told: every commit's runs, with their workflow, whether the
// commit created or closed them, and their new events with attributes, in
// order and without a gap.
func TestCommitListener(t *testing.T) {
	ctx := context.Background()
	s := testService(t, Options{}, nil)
	rec := newCommits()
	s.Runs().Listen(rec.listen)
	run, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, Input: api.String("in")})
	mustNil(t, err)
	dt, err := s.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	mustNil(t, err)
	mustNil(t, s.RespondDecisionTaskCompleted(ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken,
		Decisions: []api.Decision{{DecisionType: api.DecisionTypeCompleteWorkflowExecution}}}))

	got := rec.take()
	if len(got) != 3 {
		t.Fatalf("%d commits told, want 3 (start, decision task started, completed)", len(got))
	}
	var events []api.HistoryEvent
	for i, c := range got {
		if len(c.Runs) != 1 || c.Remote {
			t.Fatalf("commit %d: %+v", i, c)
		}
		ch := c.Runs[0]
		if ch.Domain != "d" || ch.WorkflowID != "w" || ch.RunID != run.RunID || ch.WorkflowType != (api.WorkflowType{Name: "wf", Version: "1"}) {
			t.Errorf("commit %d names %s/%s/%s %v", i, ch.Domain, ch.WorkflowID, ch.RunID, ch.WorkflowType)
		}
		if ch.Created != (i == 0) || ch.Closed != (i == 2) {
			t.Errorf("commit %d: created %v, closed %v", i, ch.Created, ch.Closed)
		}
		events = append(events, ch.Events...)
	}
	if cs := got[2].Runs[0].CloseStatus; cs != api.CloseStatusCompleted {
		t.Errorf("close status %q", cs)
	}
	want := []api.EventType{api.EventTypeWorkflowExecutionStarted, api.EventTypeDecisionTaskScheduled, api.EventTypeDecisionTaskStarted,
		api.EventTypeDecisionTaskCompleted, api.EventTypeWorkflowExecutionCompleted}
	if types := eventTypes(t, events); !slices.Equal(types, want) {
		t.Fatalf("events told %v, want %v", types, want)
	}
	if a := events[0].WorkflowExecutionStartedEventAttributes; a == nil || api.Value(a.Input) != "in" || len(events[0].Raw) == 0 {
		t.Errorf("started event told without its attributes or JSON: %+v", events[0])
	}
}

// TestClusterChangesReachListeners checks that a commit on one node of a
// cluster reaches the listeners of another as "run R of domain D changed".
func TestClusterChangesReachListeners(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nodes, _ := clusterNodes(t, ctx, 2, Options{})
	a, b := nodes[0], nodes[1]
	registerTestTypes(t, a, false)
	rec := newCommits()
	b.Runs().Listen(rec.listen)
	run, err := a.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	mustNil(t, err)
	deadline := time.After(30 * time.Second)
	for {
		select {
		case <-rec.new:
		case <-deadline:
			t.Fatal("node B's listener never heard of the run node A started")
		}
		for _, c := range rec.take() {
			for _, ch := range c.Runs {
				if c.Remote && ch.Domain == "d" && ch.RunID == run.RunID {
					return
				}
			}
		}
	}
}

// recordingPeers records what the task lists tell the peers.
type recordingPeers struct {
	cluster.Alone
	queued []swfd.Task
	taken  []cluster.TaskKey
}

func (p *recordingPeers) Committed(_ runs.Commit, queued []swfd.Task, taken []cluster.TaskKey) {
	p.queued = append(p.queued, queued...)
	p.taken = append(p.taken, taken...)
}

// TestTaskListsFeed checks what the task lists do with a commit and tell
// the peers: a task a poller here waits for goes to it and is not queued;
// a task nobody waits for is queued; a task done that was queued here is
// taken off the lists; a closed run's tasks all go.
func TestTaskListsFeed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := testService(t, Options{}, nil)
	peers := &recordingPeers{}
	s.peers = peers
	task := func(run string, sched int64) swfd.Task {
		return swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: "tl", RunID: run, ScheduledEventID: sched}
	}
	key := matching.KeyOf(task("", 0))

	got := make(chan swfd.Task, 1)
	go func() {
		tk, _ := s.matcher.Poll(ctx, key)
		got <- tk
	}()
	for s.matcher.Waiting(key) == 0 {
		time.Sleep(time.Millisecond)
	}
	s.feedTaskLists(runs.Commit{Runs: []runs.Change{{RunID: "r1", AddTasks: []swfd.Task{task("r1", 1)}}}})
	tk := <-got
	if tk.ScheduledEventID != 1 || len(peers.queued) != 0 {
		t.Fatalf("waiting poller got %v; queued %v", tk, peers.queued)
	}
	s.matcher.Done(tk) // started, as the poll would have

	s.feedTaskLists(runs.Commit{Runs: []runs.Change{{RunID: "r1", AddTasks: []swfd.Task{task("r1", 2), task("r1", 3)}}, {RunID: "r2", AddTasks: []swfd.Task{task("r2", 1)}}}})
	if len(peers.queued) != 3 || s.matcher.Count(key) != 3 {
		t.Fatalf("queued %v, %d on the list", peers.queued, s.matcher.Count(key))
	}
	s.feedTaskLists(runs.Commit{Runs: []runs.Change{{RunID: "r1", DoneTasks: []int64{2, 9}}, {RunID: "r2", Closed: true, AddTasks: []swfd.Task{task("r2", 4)}}}})
	if !slices.Equal(peers.taken, []cluster.TaskKey{{RunID: "r1", Sched: 2}}) || s.matcher.Count(key) != 1 || !s.matcher.Queued("r1", 3) {
		t.Fatalf("taken %v; %d on the list", peers.taken, s.matcher.Count(key))
	}
}
