package service

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/connlimit"
	"github.com/swfd/swfd/matching"
)

// A long poll whose connection is evicted at the connection limit is
// answered empty at once, and no task is lost on it: one handed to it in
// the same instant goes back to its list for the next poller.
func TestEvictedPollHandsNoTask(t *testing.T) {
	ctx := context.Background()
	s := testService(t, Options{PollTimeout: time.Minute, LongWait: connlimit.Waiting}, nil)
	lim := connlimit.Listen(nil, 1)
	lim.EvictAfter = 0
	onConn := func() context.Context {
		c1, c2 := net.Pipe()
		t.Cleanup(func() { c1.Close(); c2.Close() })
		return lim.ConnContext(ctx, c1)
	}
	in := &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}}
	key := matching.ListKey{Kind: swfd.DecisionTask, Domain: "d", TaskList: "l"}
	m := s.Matcher()
	poll := func(ctx context.Context) <-chan *api.DecisionTask {
		out := make(chan *api.DecisionTask, 1)
		go func() {
			d, err := s.PollForDecisionTask(ctx, in)
			if err != nil {
				t.Error(err)
			}
			out <- d
		}()
		deadline := time.Now().Add(10 * time.Second)
		for m.Waiting(key) != 1 {
			if time.Now().After(deadline) {
				t.Fatal("the poll does not wait")
			}
			time.Sleep(time.Millisecond)
		}
		return out
	}
	answer := func(out <-chan *api.DecisionTask) *api.DecisionTask {
		select {
		case d := <-out:
			return d
		case <-time.After(10 * time.Second):
			t.Fatal("the evicted poll was not answered")
			return nil
		}
	}

	// Evicted while it waits: answered empty.
	ctx1 := onConn()
	out := poll(ctx1)
	if !lim.Evict() {
		t.Fatal("the waiting poll could not be evicted")
	}
	if d := answer(out); d == nil || d.TaskToken != "" {
		t.Fatalf("the evicted poll answered %+v, want empty", d)
	}
	if !connlimit.Evicted(ctx1) {
		t.Fatal("the evicted poll's connection is not marked to close")
	}

	// Evicted just as it is handed a task: the task goes back.
	if _, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}}); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	task, err := m.Poll(pctx, key) // taken out, to be handed to the poll below
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	m.Done(task) // off the list for good, until it is added again below
	// A task another node scheduled tells RemoteTaken once a poller has
	// it and before Poll returns it: the eviction comes then.
	m.RemoteTaken = func() { lim.Evict() }
	defer func() { m.RemoteTaken = nil }()
	out = poll(onConn())
	m.AddRemote(task)
	if d := answer(out); d == nil || d.TaskToken != "" {
		t.Fatalf("the poll evicted as it was handed a task answered %+v, want empty", d)
	}
	if !m.Queued(task.RunID, task.ScheduledEventID) {
		t.Fatal("the task handed to the evicted poll was lost")
	}
	m.RemoteTaken = nil
	d, err := s.PollForDecisionTask(ctx, in)
	if err != nil || d.TaskToken == "" || d.WorkflowExecution.WorkflowID != "w" {
		t.Fatalf("the next poll: %+v %v", d, err)
	}
}
