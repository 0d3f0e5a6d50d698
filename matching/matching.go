// Package matching owns the task lists: scheduled tasks waiting for a
// poller, and pollers waiting for a task. It is memory only — the store is
// the record of every task, and the service loads pending tasks into the
// matcher at start-up — so handing a task to a waiting poller costs no I/O.
// Each task goes to exactly one poller; higher priority first, then schedule
// order, a task a poller took and gave back (Return) going back to the head.
//
// In a cluster every node holds the tasks of every node: its own, and those
// other nodes told it of (AddRemote). Its pollers take its own first, so
// that the node that scheduled a task, which has the run in memory, usually
// starts it too; another node's task goes first only when it has the higher
// priority or has waited RemoteWait longer than the oldest of this node's
// own. A backlog that every node shares evenly thus stays where it was
// scheduled, however old it grows, while the tasks of a node that falls
// behind (or has no pollers, or died) are taken up by the others once they
// lag by RemoteWait.
package matching

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/recent"
)

// ErrTooManyPollers is returned by Poll when a task list already has
// MaxPollers pollers waiting.
var ErrTooManyPollers = errors.New("matching: too many pollers on the task list")

// ListKey names one task list: decision and activity lists are separate,
// and names are per domain.
type ListKey struct {
	Kind     swfd.TaskKind
	Domain   string
	TaskList string
}

// KeyOf returns the list a task belongs on.
func KeyOf(t swfd.Task) ListKey { return ListKey{t.Kind, t.Domain, t.TaskList} }

type taskID struct {
	runID string
	sched int64
}

// Matcher holds every task list. The zero value is not usable; call New.
type Matcher struct {
	// MaxPollers bounds concurrent pollers per list (SWF: 1,000).
	MaxPollers int

	// RemoteWait is how much longer than this node's oldest own task
	// another node's task may wait before it goes first.
	RemoteWait time.Duration
	// RemoteTaken, if set, is told each time a poller here is handed a
	// task another node scheduled (for metrics). Set it before polls
	// begin.
	RemoteTaken func()
	now         func() time.Time

	mu    sync.Mutex
	lists map[ListKey]*list
	where map[taskID]ListKey
	byRun map[string]map[int64]bool
	// taken holds the tasks handed to pollers here that they have not
	// yet started or given back (see Done): still pending, and counted.
	taken map[taskID]swfd.Task
	seq   uint64
	// polled holds when each list was last polled here (see notePoll).
	polled *recent.Table[ListKey]

	// seen holds the pollers seen lately, and pollers the identities of
	// each list among them (see SawPoller).
	pmu     sync.Mutex
	seen    *recent.Table[pollerKey]
	pollers map[ListKey]map[string]bool
}

// New returns an empty Matcher.
func New(maxPollers int) *Matcher {
	m := &Matcher{MaxPollers: maxPollers, RemoteWait: DefaultRemoteWait, now: time.Now,
		lists: map[ListKey]*list{}, where: map[taskID]ListKey{}, byRun: map[string]map[int64]bool{}, taken: map[taskID]swfd.Task{},
		polled: recent.New[ListKey](maxPollsKept, nil), pollers: map[ListKey]map[string]bool{}}
	m.seen = recent.New(maxPollersTotal, m.forgotPoller)
	return m
}

// DefaultRemoteWait is a new Matcher's RemoteWait: long enough that nodes
// whose backlogs are about as old do not take each other's tasks, short
// enough that the tasks of a node that falls behind are not left waiting
// much longer than the rest.
const DefaultRemoteWait = 5 * time.Second

type item struct {
	task   swfd.Task
	seq    uint64
	index  int
	remote bool // scheduled by another node
	// back is set on a task given back by a poller that took it (Return):
	// it goes before the tasks of its priority that were not taken.
	back  bool
	added time.Time
}

// handoff is a task handed to a waiting poller.
type handoff struct {
	task   swfd.Task
	remote bool
}

type waiter struct {
	ch chan handoff // buffered(1): Add never blocks
}

type list struct {
	queue   taskHeap // this node's tasks
	remote  taskHeap // other nodes' tasks
	byID    map[taskID]*item
	waiters []*waiter
	taken   int // tasks of the list in Matcher.taken
}

func (m *Matcher) list(k ListKey) *list {
	l := m.lists[k]
	if l == nil {
		l = &list{byID: map[taskID]*item{}}
		m.lists[k] = l
	}
	return l
}

// Add makes a task available: a waiting poller gets it at once, else it is
// queued. Adding a task that is already queued does nothing, and so does
// adding a task no poller takes (a Lambda task: swfd invokes it itself).
func (m *Matcher) Add(t swfd.Task) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.addLocked(handoff{task: t}, false)
}

// Return gives back a task a poller took and did not start (its client
// went away, or the start failed): a waiting poller gets it at once, else
// it goes back to the head of its list, before every task of its priority
// that no poller took, as it was when it was taken. Tasks given back are
// taken in the order they were scheduled.
func (m *Matcher) Return(t swfd.Task) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.untakeLocked(taskID{t.RunID, t.ScheduledEventID})
	m.addLocked(handoff{task: t}, true)
}

// Done tells the matcher that the poller that took a task is done with
// it: it started it, or found it no longer pending. From Poll until Done
// or Return, the task counts as pending (Count, Stats), as it is until its
// start commits.
func (m *Matcher) Done(t swfd.Task) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.untakeLocked(taskID{t.RunID, t.ScheduledEventID})
}

// takeLocked records a task handed to a poller.
func (m *Matcher) takeLocked(l *list, t swfd.Task) {
	id := taskID{t.RunID, t.ScheduledEventID}
	if _, ok := m.taken[id]; ok {
		return
	}
	m.taken[id] = t
	l.taken++
}

// untakeLocked forgets a task handed to a poller, and reports whether it
// was one.
func (m *Matcher) untakeLocked(id taskID) bool {
	t, ok := m.taken[id]
	if !ok {
		return false
	}
	delete(m.taken, id)
	k := KeyOf(t)
	if l := m.lists[k]; l != nil {
		l.taken--
		m.gc(k, l)
	}
	return true
}

// AddRemote adds a task another node scheduled, like Add, except that this
// node's own tasks go before it (see the package comment).
func (m *Matcher) AddRemote(t swfd.Task) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.addLocked(handoff{task: t, remote: true}, false)
}

// Offer adds a task like Add and reports whether it went straight to a
// waiting poller (rather than into the queue).
func (m *Matcher) Offer(t swfd.Task) (handed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addLocked(handoff{task: t}, false)
}

// Queued reports whether a task is queued here (not taken or removed).
func (m *Matcher) Queued(runID string, scheduledEventID int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.where[taskID{runID, scheduledEventID}]
	return ok
}

// PolledWithin reports whether a poller of list k has polled here within d:
// if so, one may well come back soon for a task queued now. A poll is
// remembered for pollsKept, and only the latest maxPollsKept lists are:
// for a longer d, or a list polled among more lists than that since, it
// reports false.
func (m *Matcher) PolledWithin(k ListKey, d time.Duration) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.polled.Seen(k)
	return ok && m.now().Sub(at) < d
}

// Bounds of the last polls kept (PolledWithin, Lists): how long a list's
// last poll is remembered, and of how many lists at most, the least
// recently polled forgotten first.
const (
	pollsKept    = time.Minute
	maxPollsKept = 10000
)

// notePoll records a poll of list k now. What it keeps is bounded by the
// lists polled within the last pollsKept, and by maxPollsKept, whatever
// names clients poll, at a constant cost per poll (package recent).
func (m *Matcher) notePoll(k ListKey) {
	now := m.now()
	m.polled.Expire(now, pollsKept)
	m.polled.Touch(k, now)
}

func (m *Matcher) addLocked(h handoff, back bool) (handed bool) {
	t := h.task
	id := taskID{t.RunID, t.ScheduledEventID}
	if _, dup := m.where[id]; dup || !t.Kind.Polled() {
		return false
	}
	if _, taken := m.taken[id]; taken {
		// A poller here is starting it, or gives it back (Return).
		return false
	}
	k := KeyOf(t)
	l := m.list(k)
	if len(l.waiters) > 0 {
		w := l.waiters[0]
		l.waiters = l.waiters[1:]
		m.takeLocked(l, t)
		w.ch <- h
		return true
	}
	m.seq++
	it := &item{task: t, seq: m.seq, remote: h.remote, back: back, added: m.now()}
	if h.remote {
		heap.Push(&l.remote, it)
	} else {
		heap.Push(&l.queue, it)
	}
	l.byID[id] = it
	m.where[id] = k
	if m.byRun[t.RunID] == nil {
		m.byRun[t.RunID] = map[int64]bool{}
	}
	m.byRun[t.RunID][t.ScheduledEventID] = true
	return false
}

// forget drops the indexes of a task that left its queue.
func (m *Matcher) forget(id taskID) {
	delete(m.where, id)
	if r := m.byRun[id.runID]; r != nil {
		delete(r, id.sched)
		if len(r) == 0 {
			delete(m.byRun, id.runID)
		}
	}
}

// Remove drops a queued task (it started, timed out, was canceled, or its
// run closed) and reports whether it was queued. A task a poller here took
// is no longer pending either (false). Unknown tasks are ignored.
func (m *Matcher) Remove(runID string, scheduledEventID int64) (queued bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := taskID{runID, scheduledEventID}
	k, ok := m.where[id]
	if !ok {
		m.untakeLocked(id)
		return false
	}
	l := m.lists[k]
	it := l.byID[id]
	heap.Remove(l.heapOf(it), it.index)
	delete(l.byID, id)
	m.forget(id)
	m.gc(k, l)
	return true
}

// RemoveRun drops every queued task of a run, and those of its tasks
// pollers here took.
func (m *Matcher) RemoveRun(runID string) {
	m.mu.Lock()
	var scheds []int64
	for s := range m.byRun[runID] {
		scheds = append(scheds, s)
	}
	for id := range m.taken {
		if id.runID == runID {
			m.untakeLocked(id)
		}
	}
	m.mu.Unlock()
	for _, s := range scheds {
		m.Remove(runID, s)
	}
}

func (l *list) heapOf(it *item) *taskHeap {
	if it.remote {
		return &l.remote
	}
	return &l.queue
}

// next picks the heap to take from: this node's, unless another node's
// task has the higher priority or was queued RemoteWait before this node's
// next one.
func (m *Matcher) next(l *list) *taskHeap {
	if len(l.remote) == 0 {
		return &l.queue
	}
	if len(l.queue) == 0 {
		return &l.remote
	}
	own, other := l.queue[0], l.remote[0]
	if other.task.Priority > own.task.Priority || other.task.Priority == own.task.Priority && own.added.Sub(other.added) >= m.RemoteWait {
		return &l.remote
	}
	return &l.queue
}

func (m *Matcher) gc(k ListKey, l *list) {
	if len(l.queue) == 0 && len(l.remote) == 0 && len(l.waiters) == 0 && l.taken == 0 {
		delete(m.lists, k)
	}
}

// Poll returns the next task of a list, waiting until one is added or ctx
// is done (then it returns ctx.Err()). A task handed to a poller whose ctx
// ended in the same instant is returned all the same: the caller, which
// knows why its wait ended, starts it or gives it back (Return). Every task
// Poll returns stays pending until the caller calls Done or Return.
func (m *Matcher) Poll(ctx context.Context, k ListKey) (swfd.Task, error) {
	m.mu.Lock()
	m.notePoll(k)
	l := m.list(k)
	if len(l.queue)+len(l.remote) > 0 {
		it := heap.Pop(m.next(l)).(*item)
		id := taskID{it.task.RunID, it.task.ScheduledEventID}
		delete(l.byID, id)
		m.forget(id)
		m.takeLocked(l, it.task)
		m.mu.Unlock()
		if it.remote && m.RemoteTaken != nil {
			m.RemoteTaken()
		}
		return it.task, nil
	}
	if m.MaxPollers > 0 && len(l.waiters) >= m.MaxPollers {
		m.gc(k, l)
		m.mu.Unlock()
		return swfd.Task{}, ErrTooManyPollers
	}
	w := &waiter{ch: make(chan handoff, 1)}
	l.waiters = append(l.waiters, w)
	m.mu.Unlock()

	select {
	case h := <-w.ch:
		if h.remote && m.RemoteTaken != nil {
			m.RemoteTaken()
		}
		return h.task, nil
	case <-ctx.Done():
	}
	m.mu.Lock()
	if l := m.lists[k]; l != nil {
		for i, x := range l.waiters {
			if x == w {
				l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
				m.gc(k, l)
				m.mu.Unlock()
				return swfd.Task{}, ctx.Err()
			}
		}
	}
	m.mu.Unlock()
	// No longer waiting: a task was handed over (under the lock) as ctx
	// ended, and is this poller's.
	h := <-w.ch
	if h.remote && m.RemoteTaken != nil {
		m.RemoteTaken()
	}
	return h.task, nil
}

// Count returns how many tasks are pending on a list: those waiting for a
// poller, and those pollers here took and are starting.
func (m *Matcher) Count(k ListKey) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.lists[k]; l != nil {
		return len(l.queue) + len(l.remote) + l.taken
	}
	return 0
}

// Waiting returns how many pollers wait on a list.
func (m *Matcher) Waiting(k ListKey) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.lists[k]; l != nil {
		return len(l.waiters)
	}
	return 0
}

// Own returns up to limit of the tasks this node scheduled (added with Add,
// not AddRemote) that wait on its lists, the latest added first: a node
// that stops tells the other nodes of them, as the latest may be news to
// nobody (a task handed to a poller here at once is not shared).
func (m *Matcher) Own(limit int) []swfd.Task {
	type own struct {
		seq  uint64
		task swfd.Task
	}
	var items []own
	m.mu.Lock()
	for _, l := range m.lists {
		for _, it := range l.queue {
			items = append(items, own{it.seq, it.task})
		}
	}
	m.mu.Unlock()
	slices.SortFunc(items, func(a, b own) int { return cmp.Compare(b.seq, a.seq) })
	n := min(limit, len(items))
	out := make([]swfd.Task, 0, n)
	for _, it := range items[:n] {
		out = append(out, it.task)
	}
	return out
}

// ListStats is what one task list holds.
type ListStats struct {
	Key     ListKey
	Pending int // tasks queued (this node's and other nodes'), and those pollers here are starting
	Waiting int // pollers waiting here
	// Oldest is when the earliest scheduled of the pending tasks was
	// scheduled; zero when none is pending.
	Oldest time.Time
}

// Stats returns every task list that has tasks pending or pollers
// waiting. It reads every queued task: meant for a metrics scrape, not for
// every call.
func (m *Matcher) Stats() []ListStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ListStats, 0, len(m.lists))
	for k, l := range m.lists {
		st := ListStats{Key: k, Pending: len(l.queue) + len(l.remote) + l.taken, Waiting: len(l.waiters)}
		for _, h := range []taskHeap{l.queue, l.remote} {
			for _, it := range h {
				st.oldest(it.task)
			}
		}
		out = append(out, st)
	}
	if len(m.taken) > 0 {
		at := make(map[ListKey]int, len(out))
		for i, st := range out {
			at[st.Key] = i
		}
		for _, t := range m.taken {
			if i, ok := at[KeyOf(t)]; ok {
				out[i].oldest(t)
			}
		}
	}
	return out
}

// oldest takes t's schedule time as Oldest if it is earlier.
func (st *ListStats) oldest(t swfd.Task) {
	if at := t.Scheduled; !at.IsZero() && (st.Oldest.IsZero() || at.Before(st.Oldest)) {
		st.Oldest = at
	}
}

type taskHeap []*item

func (h taskHeap) Len() int { return len(h) }
func (h taskHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.task.Priority != b.task.Priority {
		return a.task.Priority > b.task.Priority
	}
	if a.back != b.back {
		return a.back
	}
	if a.back && !a.task.Scheduled.Equal(b.task.Scheduled) {
		return a.task.Scheduled.Before(b.task.Scheduled)
	}
	return a.seq < b.seq
}
func (h taskHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *taskHeap) Push(x any) {
	it := x.(*item)
	it.index = len(*h)
	*h = append(*h, it)
}
func (h *taskHeap) Pop() any {
	old := *h
	n := len(old)
	it := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return it
}
