package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/membus"
	"github.com/swfd/swfd/matching"
	"github.com/swfd/swfd/runs"
)

// recorder stands in for the run store, the loops and the registry cache,
// and records what news made the node do to them.
type recorder struct {
	mu       sync.Mutex
	evicted  []string
	changed  []runs.Change
	woken    int
	wokenFor []time.Time
	transfer int
	cleared  int
	missed   int
}

func (r *recorder) Evict(runID string) {
	r.mu.Lock()
	r.evicted = append(r.evicted, runID)
	r.mu.Unlock()
}
func (r *recorder) RemoteChanged(c []runs.Change) {
	r.mu.Lock()
	r.changed = append(r.changed, c...)
	r.mu.Unlock()
}
func (r *recorder) RemoteMissed() { r.mu.Lock(); r.missed++; r.mu.Unlock() }
func (r *recorder) Wake()         { r.mu.Lock(); r.woken++; r.mu.Unlock() }
func (r *recorder) WakeFor(due time.Time) {
	r.mu.Lock()
	r.wokenFor = append(r.wokenFor, due)
	r.mu.Unlock()
}
func (r *recorder) Clear() { r.mu.Lock(); r.cleared++; r.mu.Unlock() }

// transfers records the transfer loop's wake-ups.
type transfers struct{ r *recorder }

func (t transfers) Wake() { t.r.mu.Lock(); t.r.transfer++; t.r.mu.Unlock() }

// testNode returns a node over a fresh matcher, with rec standing in for
// the rest.
func testNode(bc swfd.Broadcaster) (*Node, *matching.Matcher, *recorder) {
	rec := &recorder{}
	m := matching.New(10)
	n := New(Options{Broadcaster: bc, Tasks: m, Runs: rec, Timers: rec, Transfers: transfers{rec}, Registry: rec})
	return n, m, rec
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// queuedNews drains the news waiting for publishLoop.
func queuedNews(n *Node) news {
	var all news
	for {
		select {
		case nw := <-n.newsq:
			all.merge(nw)
		default:
			return all
		}
	}
}

// TestNewsMerged checks that news published while the publisher is busy
// goes out as one message, and which news is urgent.
func TestNewsMerged(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bc := &membus.Bus{Delivered: make(chan []byte, 64)}
	n, _, _ := testNode(bc)
	// Published before the loop runs: queued, then sent together.
	n.publish(news{Done: []TaskKey{{"r1", 2}}})
	n.publish(news{Done: []TaskKey{{"r2", 5}}, TimerDue: 2000})
	n.publish(news{Closed: []string{"r3"}, TimerDue: 1000, Transfers: true, Changed: map[string][]string{"d": {"r3"}}})
	n.publish(news{}) // nothing to tell: not sent
	go n.publishLoop(ctx)
	var got news
	select {
	case msg := <-bc.Delivered:
		if err := json.Unmarshal(msg, &got); err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("nothing published")
	}
	if len(got.Done) != 2 || len(got.Closed) != 1 || got.TimerDue != 1000 || !got.Transfers || len(got.Changed["d"]) != 1 || got.Node != n.id {
		t.Errorf("merged news: %+v", got)
	}
	// Only news that may wake a poller or changes the registry is sent
	// after the short linger.
	for _, c := range []struct {
		n    news
		want bool
	}{
		{news{Tasks: []swfd.Task{{RunID: "r"}}}, true},
		{news{Registry: true}, true},
		{news{Done: []TaskKey{{"r", 1}}, Closed: []string{"r"}, TimerDue: 5, Transfers: true, Changed: map[string][]string{"d": {"r"}}}, false},
	} {
		if got := c.n.urgent(); got != c.want {
			t.Errorf("urgent(%+v) = %v", c.n, got)
		}
	}
}

// TestNewsSentInParts checks that news too large for one message goes out
// in parts that each fit, and that together carry all of it.
func TestNewsSentInParts(t *testing.T) {
	bc := &membus.Bus{Delivered: make(chan []byte, 256)}
	n, _, _ := testNode(bc)
	domain := fmt.Sprintf("%0256d", 0)
	var big news
	for i := range 100 {
		run := fmt.Sprintf("run-%040d", i)
		big.Tasks = append(big.Tasks, swfd.Task{Domain: domain, TaskList: domain, RunID: run, ScheduledEventID: int64(i)})
		big.Done = append(big.Done, TaskKey{run, int64(1000 + i)}) // another task: merge keeps one word per task
		big.Closed = append(big.Closed, run)
		big.Started = append(big.Started, run)
		big.changed(domain, run)
	}
	big.TimerDue = 77
	n.send(big)
	var all news
	for len(bc.Delivered) > 0 {
		msg := <-bc.Delivered
		if len(msg) > bc.MaxMessage() {
			t.Errorf("a part of %d bytes", len(msg))
		}
		var part news
		if err := json.Unmarshal(msg, &part); err != nil {
			t.Fatal(err)
		}
		// A run started or closed comes with its domain.
		for _, id := range append(slices.Clone(part.Started), part.Closed...) {
			if !slices.Contains(part.Changed[domain], id) {
				t.Errorf("a part says %s started or closed, without its domain", id)
			}
		}
		all.merge(part)
	}
	if len(all.Tasks) != 100 || len(all.Done) != 100 || len(all.Closed) != 100 || len(all.Started) != 100 || all.entries() != 500 || all.TimerDue != 77 {
		t.Errorf("parts carried %d tasks, %d done, %d closed, %d started, %d entries, timer %d", len(all.Tasks), len(all.Done), len(all.Closed), len(all.Started), all.entries(), all.TimerDue)
	}
}

// TestReceive checks what news from another node does here, and that the
// node's own news, echoed back, does nothing.
func TestReceive(t *testing.T) {
	n, m, rec := testNode(&membus.Bus{})
	task := swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: "tl", RunID: "r1", ScheduledEventID: 5}
	m.Add(swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: "tl", RunID: "r2", ScheduledEventID: 7})
	due := time.UnixMilli(time.Now().Add(time.Minute).UnixMilli())
	other := news{Node: "another node", Tasks: []swfd.Task{task}, Done: []TaskKey{{"r2", 7}}, TimerDue: due.UnixMilli(),
		Transfers: true, Registry: true, Changed: map[string][]string{"d": {"r1", "r9", "r8"}}, Started: []string{"r9"}, Closed: []string{"r8"}}
	n.receive(mustJSON(t, other))
	key := matching.KeyOf(task)
	if c := m.Count(key); c != 1 || !m.Queued("r1", 5) {
		t.Errorf("task lists after the news: %d tasks, r1/5 queued %v", c, m.Queued("r1", 5))
	}
	rec.mu.Lock()
	if !slices.Contains(rec.evicted, "r1") || !slices.Contains(rec.evicted, "r2") {
		t.Errorf("evicted %v, want r1 and r2", rec.evicted)
	}
	if len(rec.wokenFor) != 1 || !rec.wokenFor[0].Equal(due) || rec.transfer != 1 || rec.cleared != 1 {
		t.Errorf("timer woken for %v, transfers woken %d, registry cleared %d", rec.wokenFor, rec.transfer, rec.cleared)
	}
	if len(rec.changed) != 3 || rec.changed[1].Domain != "d" || rec.changed[1].RunID != "r9" || !rec.changed[1].Created || rec.changed[1].Closed ||
		rec.changed[2].RunID != "r8" || !rec.changed[2].Closed || rec.changed[2].Created || rec.changed[0].Created || rec.changed[0].Closed {
		t.Errorf("listeners told of %+v, want r1 changed, r9 started, r8 closed", rec.changed)
	}
	rec.mu.Unlock()

	// The node's own news, echoed back by the database, is skipped.
	own := other
	own.Node = n.id
	wokenFor, changed, cleared := len(rec.wokenFor), len(rec.changed), rec.cleared
	n.receive(mustJSON(t, own))
	if len(rec.wokenFor) != wokenFor || len(rec.changed) != changed || rec.cleared != cleared {
		t.Error("the node's own news was applied")
	}
}

// TestCommittedNews checks what a commit here tells the other nodes, and
// that a commit learnt from another node's news is not told again.
func TestCommittedNews(t *testing.T) {
	n, _, _ := testNode(&membus.Bus{})
	due := time.Now().Add(time.Minute)
	c := runs.Commit{Transfers: true, Runs: []runs.Change{
		{Domain: "d", RunID: "r1", Closed: true},
		{Domain: "d", RunID: "r3", Created: true},
		{Domain: "d", RunID: "r2", AddTimers: []swfd.Timer{{RunID: "r2", Key: "k", Due: due.Add(time.Hour)}, {RunID: "r2", Key: "j", Due: due}}},
	}}
	n.Committed(c, nil, []TaskKey{{"r2", 3}})
	got := queuedNews(n)
	if !slices.Equal(got.Closed, []string{"r1"}) || !slices.Equal(got.Started, []string{"r3"}) || !slices.Equal(got.Changed["d"], []string{"r1", "r3", "r2"}) ||
		!slices.Equal(got.Done, []TaskKey{{"r2", 3}}) || got.TimerDue != due.UnixMilli() || !got.Transfers {
		t.Errorf("news of a commit: %+v", got)
	}
	c.Remote = true
	n.Committed(c, nil, []TaskKey{{"r2", 3}})
	if got := queuedNews(n); !got.empty() {
		t.Errorf("a remote commit was told again: %+v", got)
	}
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
				p.seen(other, true)
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
	p.done(TaskKey{"r", 3})
	if !p.isDone(TaskKey{"r", 3}) || p.isDone(TaskKey{"r", 4}) {
		t.Error("taken tasks misreported")
	}
	// It is remembered for at least takenSpan, and forgotten after two.
	now = now.Add(takenSpan)
	p.done(TaskKey{"r", 5})
	if !p.isDone(TaskKey{"r", 3}) || !p.isDone(TaskKey{"r", 5}) {
		t.Error("a task taken one span ago was forgotten")
	}
	now = now.Add(takenSpan)
	p.done(TaskKey{"r", 6})
	if p.isDone(TaskKey{"r", 3}) || !p.isDone(TaskKey{"r", 5}) {
		t.Error("tasks not forgotten span by span")
	}
}

// TestQueuedSharesLate checks when the other nodes hear of a task queued
// here: one of a list nobody here polls is news at once; one of a list
// whose pollers here are busy is news only if no poller here has taken it
// shareDelay later.
func TestQueuedSharesLate(t *testing.T) {
	ctx := context.Background()
	n, m, _ := testNode(&membus.Bus{})
	var later []func()
	n.afterFunc = func(d time.Duration, f func()) *time.Timer {
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
	// queue queues a task here as a commit does, and returns the tasks
	// the other nodes hear of at once.
	queue := func(t swfd.Task) []swfd.Task {
		m.Add(t)
		n.Committed(runs.Commit{}, []swfd.Task{t}, nil)
		return queuedNews(n).Tasks
	}

	if got := queue(task(1)); len(got) != 1 || len(later) != 0 {
		t.Fatal("a task of a list nobody here polls is not news at once")
	}

	// A poller here takes task 1: the list now has a busy poller.
	if got, err := m.Poll(ctx, key); err != nil || got.ScheduledEventID != 1 {
		t.Fatalf("poll: %v %v", got, err)
	}
	if got := queue(task(2)); len(got) != 0 || len(later) != 1 {
		t.Fatal("a task of a list with busy pollers here is news at once")
	}
	later[0]()
	if got := queuedNews(n).Tasks; len(got) != 1 || got[0].ScheduledEventID != 2 {
		t.Fatalf("still queued after shareDelay, task 2 was not shared: %v", got)
	}

	if got := queue(task(3)); len(got) != 0 || len(later) != 2 {
		t.Fatal("task 3 is news at once")
	}
	for _, want := range []int64{2, 3} {
		if got, err := m.Poll(ctx, key); err != nil || got.ScheduledEventID != want {
			t.Fatalf("poll: %v %v, want task %d", got, err, want)
		}
	}
	later[1]()
	if got := queuedNews(n).Tasks; len(got) != 0 {
		t.Fatalf("task 3, taken here, was shared: %v", got)
	}
}

// noTasks is a store with no pending task, for a node's resync.
type noTasks struct{}

func (noTasks) PendingTasks(context.Context) ([]swfd.Task, error) { return nil, nil }

// idleNodes starts n nodes on one bus that commit nothing, until ctx ends,
// each with its heartbeat set by beat (nil: the default).
func idleNodes(ctx context.Context, n int, beat func(*Node)) []*Node {
	bus := &membus.Bus{}
	var nodes []*Node
	for range n {
		node := New(Options{Broadcaster: bus, Store: noTasks{}, Tasks: matching.New(10), Runs: &recorder{}, Timers: &recorder{},
			Transfers: transfers{&recorder{}}, Registry: &recorder{}})
		if beat != nil {
			beat(node)
		}
		nodes = append(nodes, node)
	}
	for _, node := range nodes {
		go node.Run(ctx)
	}
	return nodes
}

// The nodes of an idle cluster count each other alive: each announces
// itself, though it commits nothing (before, a node counted another alive
// only for ten seconds after that one committed, so an idle cluster read
// one live node on every node).
func TestIdleNodesCountEachOtherAlive(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nodes := idleNodes(ctx, 3, nil)
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range nodes {
		for n.LiveNodes() != 3 {
			if time.Now().After(deadline) {
				t.Fatalf("a node of an idle cluster of 3 counts %d live nodes", n.LiveNodes())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// An idle node sends a heartbeat each time it has sent nothing for its
// heartbeat period, so that it stays counted alive; a heartbeat makes it
// no candidate for first call on tasks (it has handed out none lately).
func TestHeartbeats(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	beats := map[string]int{}
	bus := &membus.Bus{}
	a := New(Options{Broadcaster: bus, Store: noTasks{}, Tasks: matching.New(10), Runs: &recorder{}, Timers: &recorder{},
		Transfers: transfers{&recorder{}}, Registry: &recorder{}})
	a.heartbeat = 10 * time.Millisecond
	go bus.Subscribe(ctx, func(msg []byte) {
		var nw news
		if json.Unmarshal(msg, &nw) == nil && nw.empty() {
			mu.Lock()
			beats[nw.Node]++
			mu.Unlock()
		}
	})
	go a.Run(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := beats[a.id]
		mu.Unlock()
		if n >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an idle node sent %d heartbeats", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var p peers
	p.seen("idle", false)
	if p.live() != 1 {
		t.Error("a node heard from by its heartbeat is not counted alive")
	}
	if !p.first("self", "from", swfd.Task{RunID: "r"}) {
		t.Error("a node heard from only by its heartbeat had first call on a task")
	}
}

// A node that stops tells the others of the tasks it leaves on its lists,
// and sends the news it had gathered: before, a task that only it held (one
// handed to a poller waiting here, which is no news, and put back as the
// shutdown ended that poll) waited for the other nodes' next resync, and
// news gathered by the publisher was dropped.
func TestStoppingNodeHandsOverItsTasks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus := &membus.Bus{}
	newNode := func() (*Node, *matching.Matcher) {
		m := matching.New(10)
		return New(Options{Broadcaster: bus, Store: noTasks{}, Tasks: m, Runs: &recorder{}, Timers: &recorder{},
			Transfers: transfers{&recorder{}}, Registry: &recorder{}}), m
	}
	stopping, own := newNode()
	other, lists := newNode()
	go other.Run(ctx)
	for bus.Subscribers() < 1 {
		time.Sleep(time.Millisecond)
	}
	task := func(sched int64) swfd.Task {
		return swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: "tl", RunID: "run", ScheduledEventID: sched}
	}
	// Task 1 waits on the stopping node's list, news to nobody (as a task
	// put back there when its poll was ended).
	own.Add(task(1))
	// A task the stopping node holds from another node is not its to tell.
	own.AddRemote(task(9))
	stopCtx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { stopping.Run(stopCtx); close(stopped) }()
	// Task 2 is returned just before the node stops: its news is gathered
	// but not yet sent when the loops end.
	stopping.Returned(task(2))
	stop()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("the stopping node's Run did not return")
	}
	deadline := time.Now().Add(30 * time.Second)
	for !lists.Queued("run", 1) || !lists.Queued("run", 2) {
		if time.Now().After(deadline) {
			t.Fatalf("the other node holds task 1: %v, task 2: %v, after the node that held them stopped", lists.Queued("run", 1), lists.Queued("run", 2))
		}
		time.Sleep(time.Millisecond)
	}
	if lists.Queued("run", 9) {
		t.Error("the stopping node told of a task it held from another node")
	}
}

// A task another node took and then gave back (its start failed: the
// store, or its poller's client gone) is offered again by every node, as
// a newly queued task is: the first-call node at once, the others a
// moment later. Before, only the node with first call offered it again;
// the others remembered it as taken and left it to their next resync of
// the pending tasks, up to resyncEvery later, though their pollers were
// waiting for it.
func TestReturnedTaskOfferedAgain(t *testing.T) {
	n, m, _ := testNode(&membus.Bus{})
	// B took and gave back the task; C, also at work, has first call on
	// it, so this node offers it only secondOfferDelay later.
	n.receive(mustJSON(t, news{Node: "C", Closed: []string{"elsewhere"}}))
	var task swfd.Task
	for i := int64(1); ; i++ {
		task = swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: "tl", RunID: "r", ScheduledEventID: i}
		if !n.peers.first(n.id, "B", task) {
			break
		}
	}
	n.receive(mustJSON(t, news{Node: "B", Tasks: []swfd.Task{task}}))
	n.receive(mustJSON(t, news{Node: "B", Done: []TaskKey{{task.RunID, task.ScheduledEventID}}}))
	if m.Queued(task.RunID, task.ScheduledEventID) {
		t.Fatal("a task another node took is still queued here")
	}
	n.receive(mustJSON(t, news{Node: "B", Tasks: []swfd.Task{task}}))
	deadline := time.Now().Add(resyncEvery / 2)
	for !m.Queued(task.RunID, task.ScheduledEventID) {
		if time.Now().After(deadline) {
			t.Fatalf("a task given back was not offered here within %s (the second offer comes after %s)", resyncEvery/2, secondOfferDelay)
		}
		time.Sleep(time.Millisecond) // polling the condition
	}
}

// Of a task offered and taken in news merged before it is sent, the later
// word stands: a task taken after it was offered (a poller here took it
// within the linger) is not offered, and a task given back after it was
// taken is offered and not taken; the receivers apply the taken before the
// offered, whatever the order they were published in.
func TestMergeKeepsTheLaterWordOnATask(t *testing.T) {
	a := swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: "tl", RunID: "a", ScheduledEventID: 3}
	b := swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: "tl", RunID: "b", ScheduledEventID: 4}
	c := swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: "tl", RunID: "c", ScheduledEventID: 5}
	var nw news
	nw.merge(news{Tasks: []swfd.Task{a, c}})            // a and c queued
	nw.merge(news{Done: []TaskKey{{"a", 3}, {"b", 4}}}) // a taken here, b taken
	nw.merge(news{Tasks: []swfd.Task{b}})               // b given back
	if !slices.Equal(nw.Tasks, []swfd.Task{c, b}) || !slices.Equal(nw.Done, []TaskKey{{"a", 3}}) {
		t.Errorf("merged news offers %v and says taken %v; want c and b offered, a taken", nw.Tasks, nw.Done)
	}
}

// Nodes not heard from for peerTTL are forgotten: every start of swfd is a
// node of its own, and a node that ran for months beside peers restarted
// again and again kept every one it had heard of, and looked at each for
// every task offered to it.
func TestPeersForgetNodesGone(t *testing.T) {
	now := time.Unix(1000, 0)
	p := &peers{now: func() time.Time { return now }}
	const restarts = 10000
	for i := range restarts {
		now = now.Add(100 * time.Microsecond)
		p.seen(fmt.Sprint("node-", i), i%2 == 0)
	}
	if n := p.live(); n != restarts {
		t.Fatalf("%d live nodes right after each was heard from, want %d", n, restarts)
	}
	now = now.Add(peerTTL)
	p.seen("last", true)
	p.mu.Lock()
	alive, working := len(p.alive), len(p.working)
	p.mu.Unlock()
	if alive != 1 || working != 1 || p.live() != 1 {
		t.Errorf("%d nodes alive and %d working kept (%d live) after the rest were gone for %v; want 1 and 1", alive, working, p.live(), peerTTL)
	}
}
