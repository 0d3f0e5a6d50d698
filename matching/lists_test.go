package matching

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// Lists shows a domain's lists with their pending tasks (the oldest's
// schedule time), waiting pollers, last poll and the pollers seen, and
// forgets pollers after a while.
func TestLists(t *testing.T) {
	m := New(10)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	sched := now.Add(-time.Minute)
	m.Add(swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: "workers", RunID: "r1", ScheduledEventID: 5, Scheduled: sched})
	m.Add(swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: "workers", RunID: "r2", ScheduledEventID: 5, Scheduled: sched.Add(time.Second)})
	m.Add(swfd.Task{Kind: swfd.ActivityTask, Domain: "other", TaskList: "workers", RunID: "r3", ScheduledEventID: 5})
	dk := ListKey{Kind: swfd.DecisionTask, Domain: "d", TaskList: "deciders"}
	m.SawPoller(dk, "decider-1")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Poll(ctx, dk) }()
	for m.Waiting(dk) == 0 {
		time.Sleep(time.Millisecond)
	}
	lists := m.Lists("d")
	cancel()
	<-done
	if len(lists) != 2 {
		t.Fatalf("lists of d: %+v, want deciders and workers", lists)
	}
	dec, act := lists[1], lists[0] // activity < decision
	if act.Key.TaskList != "workers" || act.Queued != 2 || !act.Oldest.Equal(sched) || act.Waiting != 0 {
		t.Errorf("workers: %+v, want 2 queued, oldest scheduled %v", act, sched)
	}
	if dec.Key.TaskList != "deciders" || dec.Waiting != 1 || !dec.LastPoll.Equal(now) || len(dec.Pollers) != 1 || dec.Pollers[0].Identity != "decider-1" {
		t.Errorf("deciders: %+v, want a waiting poller decider-1 seen now", dec)
	}
	// Ten minutes later the poller is forgotten; the queued tasks stay.
	now = now.Add(pollerKept)
	for _, l := range m.Lists("d") {
		if len(l.Pollers) > 0 {
			t.Errorf("%s: pollers %+v kept past %v", l.Key.TaskList, l.Pollers, pollerKept)
		}
	}
	// At most maxPollersKept identities a list: the least recent go.
	for i := range maxPollersKept + 5 {
		now = now.Add(time.Second)
		m.SawPoller(dk, fmt.Sprint("p", i))
	}
	var got []Poller
	for _, l := range m.Lists("d") {
		if l.Key == dk {
			got = l.Pollers
		}
	}
	if len(got) != maxPollersKept || got[0].Identity != fmt.Sprint("p", maxPollersKept+4) {
		t.Errorf("%d pollers kept, most recent %v; want %d, p%d first", len(got), got[0], maxPollersKept, maxPollersKept+4)
	}
}

// Pollers are forgotten as they go stale whether or not anyone reads the
// lists: a client polling a new task list (or identity) each time holds at
// most maxPollersTotal entries, and none a few minutes later. Before, every
// list and identity ever polled was kept until its domain's lists were
// read (the console's task-list page).
func TestPollersBounded(t *testing.T) {
	m := New(10)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	identity := strings.Repeat("i", 256)
	kept := func() int {
		m.pmu.Lock()
		defer m.pmu.Unlock()
		n := 0
		for _, ids := range m.pollers {
			n += len(ids)
		}
		return n
	}
	const lists = 2*maxPollersTotal + 100
	for i := range lists {
		now = now.Add(time.Millisecond)
		m.SawPoller(ListKey{Kind: swfd.ActivityTask, Domain: "d", TaskList: fmt.Sprint("host-", i)}, identity)
	}
	if n := kept(); n > maxPollersTotal {
		t.Errorf("%d pollers kept after %d lists polled once each; want at most %d", n, lists, maxPollersTotal)
	}
	// The most recent are the ones kept.
	last := ListKey{Kind: swfd.ActivityTask, Domain: "d", TaskList: fmt.Sprint("host-", lists-1)}
	found := false
	for _, l := range m.Lists("d") {
		if l.Key == last && len(l.Pollers) == 1 && l.Pollers[0].Identity == identity {
			found = true
		}
	}
	if !found {
		t.Error("the list polled last is not shown with its poller")
	}
	// Past the window, a poll elsewhere is all that is kept.
	now = now.Add(pollerKept)
	m.SawPoller(ListKey{Kind: swfd.DecisionTask, Domain: "other", TaskList: "deciders"}, "decider")
	m.pmu.Lock()
	left := len(m.pollers)
	m.pmu.Unlock()
	if left != 1 || kept() != 1 {
		t.Errorf("%d lists, %d pollers kept %v after the rest were last seen; want 1 and 1", left, kept(), pollerKept)
	}
}

// A client that polls a new task list each time, its polls ending at once
// (a short timeout, or a client gone), leaves nothing behind: no list, and
// at most maxPollsKept last polls, the latest, none once they are stale.
// Before, every list polled within a minute had its last poll kept, however
// many, until a new list was polled a minute later.
func TestPollsBounded(t *testing.T) {
	m := New(10)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	name := strings.Repeat("l", 250)
	keyOf := func(i int) ListKey {
		return ListKey{Kind: swfd.ActivityTask, Domain: "d", TaskList: fmt.Sprint(name, i)}
	}
	sizes := func() (lists, polled int) {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.lists), m.polled.Len()
	}
	const n = 2*maxPollsKept + 100
	for i := range n {
		now = now.Add(time.Millisecond)
		if _, err := m.Poll(ctx, keyOf(i)); !errors.Is(err, context.Canceled) {
			t.Fatalf("poll of list %d: %v, want context.Canceled", i, err)
		}
	}
	if lists, polled := sizes(); lists != 0 || polled > maxPollsKept {
		t.Errorf("after %d lists polled once each: %d lists and %d last polls kept; want 0 and at most %d", n, lists, polled, maxPollsKept)
	}
	if !m.PolledWithin(keyOf(n-1), time.Second) {
		t.Error("the list polled last does not count as polled")
	}
	if m.PolledWithin(keyOf(0), time.Hour) {
		t.Error("the list polled first still counts as polled, past the bound")
	}
	// Past the time they are kept, one poll elsewhere is all that is left.
	now = now.Add(pollsKept)
	if _, err := m.Poll(ctx, ListKey{Kind: swfd.DecisionTask, Domain: "other", TaskList: "deciders"}); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if lists, polled := sizes(); lists != 0 || polled != 1 {
		t.Errorf("%d lists and %d last polls kept after the rest went stale; want 0 and 1", lists, polled)
	}
}
