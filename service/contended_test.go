package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/postgres"
	"github.com/swfd/swfd/runs"
)

// progress numbers the calls other nodes make and tells which have been
// done, for a test to wait on.
type progress struct {
	mu      sync.Mutex
	started int // calls numbered so far
	// done counts the calls done; latest is the greatest number of a
	// call done.
	done, latest int
	next         chan struct{} // closed when the next call is done
}

func newProgress() *progress { return &progress{next: make(chan struct{})} }

// start numbers a call that begins.
func (p *progress) start() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started++
	return p.started
}

// finish records that call n is done.
func (p *progress) finish(n int) {
	p.mu.Lock()
	p.done++
	p.latest = max(p.latest, n)
	close(p.next)
	p.next = make(chan struct{})
	p.mu.Unlock()
}

func (p *progress) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// waitNext waits until a call that begins after this moment is done, or
// until stop is closed.
func (p *progress) waitNext(stop <-chan struct{}) {
	p.mu.Lock()
	after := p.started
	p.mu.Unlock()
	for {
		p.mu.Lock()
		latest, next := p.latest, p.next
		p.mu.Unlock()
		if latest > after {
			return
		}
		select {
		case <-next:
		case <-stop:
			return
		}
	}
}

// overtakenNode is the store of a node whose commits, while armed, are
// slow: each waits until another node has made a step of the run (a signal
// of the storm) that began after it, and so committed after this node read
// the run: decided on the run as it was, the commit loses the race. A run it holds (HoldRun) is committed through the hold,
// without waiting: other nodes' steps then wait for it instead. lost counts
// the commits that lost, held the holds taken.
type overtakenNode struct {
	swfd.Store
	armed     atomic.Bool
	storm     *progress
	done      <-chan struct{}
	lost      atomic.Int64
	held      atomic.Int64
	otherwise atomic.Int64 // commits that failed otherwise
}

func (o *overtakenNode) Commit(ctx context.Context, b swfd.Batch) error {
	if !o.armed.Load() {
		return o.Store.Commit(ctx, b)
	}
	o.storm.waitNext(o.done)
	err := o.Store.Commit(ctx, b)
	switch {
	case errors.Is(err, swfd.ErrConflict):
		o.lost.Add(1)
	case err != nil:
		o.otherwise.Add(1)
	}
	return err
}

func (o *overtakenNode) HoldRun(ctx context.Context, domain, runID string) (swfd.Execution, swfd.RunHold, error) {
	if o.armed.Load() {
		o.held.Add(1)
	}
	return o.Store.HoldRun(ctx, domain, runID)
}

// A decision task's completion with hundreds of decisions, through node A
// of a cluster on PostgreSQL, on a run that nodes B and C keep signalling
// in a tight loop: each time A commits, one of their signals has committed
// since A read the run, so A's step loses the race. It lost until its
// call's time ran out (ServiceUnavailable; a client that tries again loses
// again): hundreds of lost races in the 5 s given here, up to 9 s seen
// with the 15 s of an API call. Now, after runs.HoldAfter lost races, A
// holds the run in the database for its next attempt; B's and C's signals
// wait for it, and it gets in.
func TestClusterSlowStepOnBusyRun(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := postgres.Open(ctx, dsn, nil)
	mustNil(t, err)
	t.Cleanup(func() { db.Close() })
	// done ends the storm; stormOver is closed once it has ended (or
	// failed), so that A's commits no longer wait for it.
	done, stormOver := make(chan struct{}), make(chan struct{})
	storeA := &overtakenNode{Store: db, storm: newProgress(), done: stormOver}
	node := func(store swfd.Store) *Service {
		s, err := New(ctx, Options{Store: store, Broadcaster: silentBroadcaster{}, PollTimeout: 100 * time.Millisecond})
		mustNil(t, err)
		return s
	}
	a, b, c := node(storeA), node(db), node(db)
	registerTestTypes(t, a, false)

	_, err = a.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	mustNil(t, err)
	dt, err := a.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	mustNil(t, err)
	if dt.TaskToken == "" {
		t.Fatal("no decision task")
	}

	// The storm: B and C signal the run, each as fast as it can, until
	// A's step is over.
	var storm sync.WaitGroup
	stormErrs := make([]error, 2)
	for i, n := range []*Service{b, c} {
		storm.Go(func() {
			for k := 0; ; k++ {
				select {
				case <-done:
					return
				default:
				}
				call := storeA.storm.start()
				err := n.SignalWorkflowExecution(ctx, &api.SignalWorkflowExecutionInput{Domain: "d", WorkflowID: "w", SignalName: fmt.Sprintf("storm-%d-%d", i, k)})
				if err != nil {
					stormErrs[i] = err
					return
				}
				storeA.storm.finish(call)
			}
		})
	}
	go func() { storm.Wait(); close(stormOver) }()

	const markers = 300
	decisions := make([]api.Decision, markers)
	for i := range decisions {
		decisions[i] = api.Decision{DecisionType: api.DecisionTypeRecordMarker,
			RecordMarkerDecisionAttributes: &api.RecordMarkerDecisionAttributes{MarkerName: fmt.Sprintf("m%d", i), Details: api.String("some details")}}
	}
	storeA.armed.Store(true)
	callCtx, callCancel := context.WithTimeout(ctx, 5*time.Second)
	err = a.RespondDecisionTaskCompleted(callCtx, &api.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: decisions})
	callCancel()
	storeA.armed.Store(false)
	close(done)
	<-stormOver
	for i, err := range stormErrs {
		if err != nil {
			t.Errorf("node %c's signals: %v", 'B'+i, err)
		}
	}
	lost, held, signals := storeA.lost.Load(), storeA.held.Load(), storeA.storm.count()
	t.Logf("A's step: %v after %d lost races, %d holds; %d signals from B and C", err, lost, held, signals)
	if err != nil || lost > runs.HoldAfter || held != 1 || storeA.otherwise.Load() != 0 {
		t.Fatalf("A's decision task completion: %v after %d lost races and %d holds; want it done after at most %d lost races and one hold",
			err, lost, held, runs.HoldAfter)
	}

	// Every signal and every marker is in the history once, the markers in
	// a row after the decision task's completion.
	h, err := b.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: dt.WorkflowExecution, MaximumPageSize: 1000})
	mustNil(t, err)
	var evs []api.HistoryEvent
	for {
		evs = append(evs, h.Events...)
		if h.NextPageToken == "" {
			break
		}
		h, err = b.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: dt.WorkflowExecution, MaximumPageSize: 1000, NextPageToken: h.NextPageToken})
		mustNil(t, err)
	}
	signalled, marked, completed := 0, 0, -1
	for i, e := range evs {
		switch e.EventType {
		case api.EventTypeWorkflowExecutionSignaled:
			signalled++
		case api.EventTypeMarkerRecorded:
			if marked != i-completed-1 {
				t.Fatalf("marker %d is event %d, not in a row after the completion (event %d)", marked, e.EventID, evs[completed].EventID)
			}
			marked++
		case api.EventTypeDecisionTaskCompleted:
			if completed >= 0 {
				t.Fatal("two DecisionTaskCompleted events")
			}
			completed = i
		}
	}
	if signalled != signals || marked != markers || completed < 0 {
		t.Fatalf("history: %d signals, %d markers, completed %v; want %d, %d, true", signalled, marked, completed >= 0, signals, markers)
	}
}
