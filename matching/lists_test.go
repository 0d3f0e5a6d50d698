package matching

import (
	"context"
	"fmt"
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
