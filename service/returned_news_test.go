package service

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// In a cluster, a task handed straight to a poller waiting on the node that
// scheduled it is news to no other node; when that poll gives it back
// without starting it (its wait ended in the instant it was handed the task,
// to free its connection, or its client went away), the other nodes hear
// of it at once, so that their pollers take it. They heard nothing, and
// found it only at their next reload of the pending tasks from the store
// (every 5 s), while the node that held it had no poller left.
func TestClusterTaskGivenBackIsNews(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var endNext atomic.Bool
	nodes, _ := clusterNodes(t, ctx, 2, Options{PollTimeout: 2 * time.Second, LongWait: func(context.Context, func()) func() bool {
		return func() bool { return endNext.Swap(false) }
	}})
	a, b := nodes[0], nodes[1]
	registerTestTypes(t, a, false)

	endNext.Store(true)
	gaveUp := pollWaiting(ctx, t, a)
	if _, err := a.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}}); err != nil {
		t.Fatal(err)
	}
	if d := <-gaveUp; d == nil || d.TaskToken != "" {
		t.Fatalf("the poll whose wait ended answered %+v, want empty: it was handed the task", d)
	}
	// Well within the reload's 5 s (the nodes started moments ago).
	d, err := b.PollForDecisionTask(ctx, &api.PollForDecisionTaskInput{Domain: "d", TaskList: api.TaskList{Name: "l"}})
	if err != nil {
		t.Fatal(err)
	}
	if d.TaskToken == "" {
		t.Fatal("the other node's poller did not get the task given back within its 2 s poll")
	}
}
