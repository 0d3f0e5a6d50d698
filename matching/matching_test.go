package matching

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

func task(run string, sched int64, prio int32) swfd.Task {
	return swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: "l", RunID: run, ScheduledEventID: sched, Priority: prio}
}

var key = ListKey{swfd.ActivityTask, "d", "l"}

func TestPriorityThenScheduleOrder(t *testing.T) {
	m := New(0)
	m.Add(task("a", 1, 0))
	m.Add(task("a", 2, 5))
	m.Add(task("a", 3, 0))
	m.Add(task("a", 4, 5))
	m.Add(task("a", 5, -3))
	want := []int64{2, 4, 1, 3, 5}
	for _, w := range want {
		got, err := m.Poll(context.Background(), key)
		if err != nil || got.ScheduledEventID != w {
			t.Fatalf("got %v %v, want sched %d", got.ScheduledEventID, err, w)
		}
	}
}

func TestListsAreSeparate(t *testing.T) {
	m := New(0)
	m.Add(swfd.Task{Kind: swfd.DecisionTask, Domain: "d", TaskList: "l", RunID: "r", ScheduledEventID: 1})
	if n := m.Count(key); n != 0 {
		t.Fatalf("activity list count = %d, want 0", n)
	}
	if n := m.Count(ListKey{swfd.DecisionTask, "d", "l"}); n != 1 {
		t.Fatalf("decision list count = %d, want 1", n)
	}
}

func TestDuplicateAddIgnored(t *testing.T) {
	m := New(0)
	m.Add(task("a", 1, 0))
	m.Add(task("a", 1, 0))
	if n := m.Count(key); n != 1 {
		t.Fatalf("count = %d, want 1", n)
	}
}

// A Lambda task is not for pollers: the lists never hold one.
func TestLambdaTasksAreNotListed(t *testing.T) {
	m := New(0)
	lt := swfd.Task{Kind: swfd.LambdaTask, Domain: "d", RunID: "r", ScheduledEventID: 5}
	m.Add(lt)
	m.AddRemote(lt)
	if m.Offer(lt) || m.Queued("r", 5) || len(m.Lists("d")) != 0 || m.Count(ListKey{swfd.LambdaTask, "d", ""}) != 0 {
		t.Fatalf("a Lambda task was listed: %+v", m.Lists("d"))
	}
}

func TestRemoveAndRemoveRun(t *testing.T) {
	m := New(0)
	m.Add(task("a", 1, 0))
	m.Add(task("a", 2, 0))
	m.Add(task("b", 1, 0))
	m.Remove("a", 1)
	m.Remove("zzz", 9) // unknown: ignored
	if n := m.Count(key); n != 2 {
		t.Fatalf("count = %d, want 2", n)
	}
	m.RemoveRun("a")
	got, err := m.Poll(context.Background(), key)
	if err != nil || got.RunID != "b" {
		t.Fatalf("got %+v %v, want run b", got, err)
	}
	m.Done(got)
	if n := m.Count(key); n != 0 {
		t.Fatalf("count = %d, want 0", n)
	}
}

func TestWaitingPollerGetsTask(t *testing.T) {
	m := New(0)
	got := make(chan swfd.Task)
	go func() {
		tk, _ := m.Poll(context.Background(), key)
		got <- tk
	}()
	for m.Waiting(key) == 0 {
		time.Sleep(time.Millisecond)
	}
	m.Add(task("a", 7, 0))
	if tk := <-got; tk.ScheduledEventID != 7 {
		t.Fatalf("got %+v", tk)
	}
}

func TestCanceledPollReturnsAndLeavesNoWaiter(t *testing.T) {
	m := New(0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := m.Poll(ctx, key)
		done <- err
	}()
	for m.Waiting(key) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if n := m.Waiting(key); n != 0 {
		t.Fatalf("waiting = %d", n)
	}
	m.Add(task("a", 1, 0))
	if n := m.Count(key); n != 1 {
		t.Fatalf("task not queued after the only poller left: count %d", n)
	}
}

func TestTooManyPollers(t *testing.T) {
	m := New(1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Poll(ctx, key)
	for m.Waiting(key) == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, err := m.Poll(ctx, key); !errors.Is(err, ErrTooManyPollers) {
		t.Fatalf("err = %v, want ErrTooManyPollers", err)
	}
}

// Many pollers, many tasks, pollers canceling at random: every task is
// handed out exactly once.
func TestExactlyOnceUnderConcurrency(t *testing.T) {
	m := New(0)
	const tasks = 2000
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for p := 0; p < 64; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+(p+i)%3)*time.Millisecond)
				tk, err := m.Poll(ctx, key)
				cancel()
				if err == nil {
					mu.Lock()
					seen[tk.ScheduledEventID]++
					mu.Unlock()
				}
			}
		}(p)
	}
	for i := int64(1); i <= tasks; i++ {
		m.Add(task("r", i, int32(i%3)))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == tasks || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if len(seen) != tasks {
		t.Fatalf("delivered %d distinct tasks, want %d (queued %d)", len(seen), tasks, m.Count(key))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("task %d delivered %d times", id, n)
		}
	}
}

// TestOfferReportsHandOff checks that Offer tells a task given straight to a
// waiting poller from one left in the queue.
func TestOfferReportsHandOff(t *testing.T) {
	m := New(0)
	if m.Offer(task("a", 1, 0)) {
		t.Fatal("Offer with no poller waiting reported a hand-off")
	}
	got := make(chan swfd.Task)
	go func() {
		tk, _ := m.Poll(context.Background(), key) // the queued task
		got <- tk
		tk, _ = m.Poll(context.Background(), key) // then waits
		got <- tk
	}()
	if tk := <-got; tk.ScheduledEventID != 1 {
		t.Fatalf("first poll got %d", tk.ScheduledEventID)
	}
	for m.Waiting(key) == 0 {
		time.Sleep(time.Millisecond)
	}
	if !m.Offer(task("a", 2, 0)) {
		t.Fatal("Offer to a waiting poller reported no hand-off")
	}
	if tk := <-got; tk.ScheduledEventID != 2 {
		t.Fatalf("waiting poll got %d", tk.ScheduledEventID)
	}
	if m.Queued("a", 2) || m.Count(key) != 2 {
		t.Error("a handed-off task is also queued")
	}
}

// TestOwnTasksFirst checks the order between this node's tasks and those
// of other nodes: its own first, unless another node's has the higher
// priority or was queued RemoteWait before this node's next one; each kind
// in its own order; removal, counting and duplicates across both.
func TestOwnTasksFirst(t *testing.T) {
	now := time.Unix(1000, 0)
	m := New(0)
	m.now = func() time.Time { return now }
	m.AddRemote(task("r", 1, 0))
	m.AddRemote(task("r", 2, 0))
	m.AddRemote(task("r", 3, 5))
	m.AddRemote(task("r", 4, 0))
	m.Add(task("o", 1, 0))
	now = now.Add(m.RemoteWait)
	m.Add(task("o", 2, 0)) // queued RemoteWait after r1 and r2
	m.Add(task("r", 1, 0)) // already queued as another node's: ignored
	m.Remove("r", 4)
	if n := m.Count(key); n != 5 {
		t.Fatalf("count = %d, want 5", n)
	}
	poll := func() string {
		t.Helper()
		got, err := m.Poll(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(got.RunID, got.ScheduledEventID)
	}
	var order []string
	// r3 (priority 5); own o1, as old as r1 and r2; then r1 and r2, which
	// have waited RemoteWait longer than o2.
	order = append(order, poll(), poll(), poll(), poll(), poll())
	if want := "[r3 o1 r1 r2 o2]"; fmt.Sprint(order) != want {
		t.Errorf("order %v, want %s", order, want)
	}

	// However long both have waited, own tasks go first while the other
	// node's are not RemoteWait older.
	m.AddRemote(task("r", 7, 0))
	now = now.Add(m.RemoteWait - time.Second)
	m.Add(task("o", 7, 0))
	now = now.Add(time.Hour)
	if got := poll(); got != "o7" {
		t.Errorf("got %s, want o7: the other node's task is not RemoteWait older", got)
	}
	if got := poll(); got != "r7" {
		t.Errorf("got %s, want r7", got)
	}
}

// TestPolledWithinAndQueued checks the two questions the service asks
// before sharing a task: whether a poller of the list polled here lately,
// and whether the task is still queued.
func TestPolledWithinAndQueued(t *testing.T) {
	now := time.Unix(1000, 0)
	m := New(0)
	m.now = func() time.Time { return now }
	if m.PolledWithin(key, time.Second) {
		t.Fatal("a list never polled counts as polled")
	}
	m.Add(task("a", 1, 0))
	if !m.Queued("a", 1) || m.Queued("a", 2) {
		t.Fatal("Queued is wrong before the poll")
	}
	if got, err := m.Poll(context.Background(), key); err != nil || got.RunID != "a" {
		t.Fatalf("poll: %v %v", got, err)
	}
	if m.Queued("a", 1) {
		t.Fatal("a taken task is still queued")
	}
	now = now.Add(999 * time.Millisecond)
	if !m.PolledWithin(key, time.Second) {
		t.Fatal("a poll 999ms ago is not within a second")
	}
	now = now.Add(time.Millisecond)
	if m.PolledWithin(key, time.Second) {
		t.Fatal("a poll a second ago is within a second")
	}
}

// TestHandedAsItsWaitEnds checks that a task handed to a poller whose wait
// ended in the same instant is the poller's: Poll returns it rather than
// an error, and it is no longer queued (the poller's caller starts it, or
// gives it back knowing why its wait ended).
func TestHandedAsItsWaitEnds(t *testing.T) {
	m := New(0)
	var remoteTaken int
	m.RemoteTaken = func() { remoteTaken++ }
	ctx, cancel := context.WithCancel(context.Background())
	type polled struct {
		task swfd.Task
		err  error
	}
	done := make(chan polled, 1)
	go func() {
		tk, err := m.Poll(ctx, key)
		done <- polled{tk, err}
	}()
	for m.Waiting(key) == 0 {
		time.Sleep(time.Millisecond)
	}
	// Cancel the poll, then hand the task to the poller while it waits
	// for the lock to leave: closing ctx's channel has already chosen its
	// select's ctx case, so it finds the task only after giving up.
	m.mu.Lock()
	cancel()
	if !m.addLocked(handoff{task: task("r", 1, 0), remote: true}, false) {
		t.Fatal("the waiting poller was not handed the task")
	}
	m.mu.Unlock()
	p := <-done
	if p.err != nil || p.task.RunID != "r" {
		t.Fatalf("the poll handed a task as its wait ended returned %v, %v; want the task", p.task, p.err)
	}
	if m.Queued("r", 1) || m.Count(key) != 1 {
		t.Fatal("the task handed to the poller is still queued, or no longer counted pending")
	}
	if remoteTaken != 1 {
		t.Errorf("RemoteTaken told %d times, want 1", remoteTaken)
	}
}

// Own lists the tasks this node scheduled that still wait, on every list,
// the latest added first: not those another node scheduled, nor those a
// poller took or that were removed.
func TestOwnListsThisNodesWaitingTasks(t *testing.T) {
	m := New(0)
	m.Add(task("a", 1, 0))
	m.Add(task("a", 2, 0))
	m.Add(swfd.Task{Kind: swfd.DecisionTask, Domain: "d", TaskList: "other", RunID: "b", ScheduledEventID: 3})
	m.Add(task("c", 4, 0))
	m.Add(task("a", 5, 9))
	m.AddRemote(task("r", 9, 0))
	if got, err := m.Poll(context.Background(), key); err != nil || got.ScheduledEventID != 5 {
		t.Fatalf("poll: %v %v", got, err)
	}
	m.Remove("c", 4)
	var got []int64
	for _, tk := range m.Own(10) {
		got = append(got, tk.ScheduledEventID)
	}
	if fmt.Sprint(got) != "[3 2 1]" {
		t.Errorf("Own(10) listed %v, want [3 2 1]", got)
	}
	if got := m.Own(2); len(got) != 2 || got[0].ScheduledEventID != 3 || got[1].ScheduledEventID != 2 {
		t.Errorf("Own(2) listed %v, want tasks 3 and 2", got)
	}
}

// A task given back (Return) goes before the tasks of its priority no
// poller took, those given back in the order they were scheduled, and
// never before a task of a higher priority.
func TestReturnedTaskKeepsItsPlace(t *testing.T) {
	m := New(0)
	at := time.Unix(1000, 0)
	for i, p := range []int32{0, 0, 0, 0, 5} {
		tk := task("a", int64(i+1), p)
		tk.Scheduled = at.Add(time.Duration(i) * time.Second)
		m.Add(tk)
	}
	poll := func() swfd.Task {
		t.Helper()
		got, err := m.Poll(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	high, t1, t2 := poll(), poll(), poll()
	m.Return(t2)
	m.Return(t1)
	m.Return(high)
	var got []int64
	for range 5 {
		got = append(got, poll().ScheduledEventID)
	}
	if fmt.Sprint(got) != "[5 1 2 3 4]" {
		t.Errorf("tasks taken in the order %v, want [5 1 2 3 4]", got)
	}
}

// A task a poller took counts as pending until the poller is done with it
// (Done: it started it) or gives it back (Return), as it is pending until
// its start commits; it is not added again meanwhile (a resync, another
// node's news), and a Remove or RemoveRun (a commit that started or ended
// it) stops counting it.
func TestTakenTaskCountsUntilDone(t *testing.T) {
	m := New(0)
	ctx := context.Background()
	for i := range int64(3) {
		m.Add(task("a", i+1, 0))
	}
	m.Add(task("b", 1, 0))
	var took []swfd.Task
	for range 4 {
		tk, err := m.Poll(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		took = append(took, tk)
	}
	if n := m.Count(key); n != 4 {
		t.Fatalf("count = %d with 4 tasks taken, want 4", n)
	}
	if st := m.Stats(); len(st) != 1 || st[0].Pending != 4 {
		t.Fatalf("stats %+v with 4 tasks taken, want 4 pending", st)
	}
	m.Add(took[0])
	m.AddRemote(took[0])
	if n := m.Count(key); n != 4 || m.Queued(took[0].RunID, took[0].ScheduledEventID) {
		t.Fatalf("count = %d once a taken task was added again, want 4 and not queued", n)
	}
	m.Done(took[0])
	if m.Remove(took[1].RunID, took[1].ScheduledEventID) {
		t.Fatal("Remove of a taken task reported it queued")
	}
	if n := m.Count(key); n != 2 {
		t.Fatalf("count = %d once one was done and one removed, want 2", n)
	}
	m.RemoveRun("a")
	if n := m.Count(key); n != 1 {
		t.Fatalf("count = %d once run a was removed, want 1 (run b's)", n)
	}
	m.Return(took[3])
	if n := m.Count(key); n != 1 || !m.Queued("b", 1) {
		t.Fatalf("count = %d once b's task was given back, want 1, queued", n)
	}
	tk, err := m.Poll(ctx, key)
	if err != nil || tk.RunID != "b" {
		t.Fatalf("poll after the give-back: %+v, %v", tk, err)
	}
	m.Done(tk)
	if n := m.Count(key); n != 0 || len(m.Stats()) != 0 {
		t.Fatalf("count = %d, stats %+v once every task was done, want none", n, m.Stats())
	}
}
