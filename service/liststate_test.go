package service

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// listStates counts the bytes of runs' states ListExecutions returns.
type listStates struct {
	swfd.Store
	mu    sync.Mutex
	bytes int
}

func (l *listStates) ListExecutions(ctx context.Context, q swfd.VisibilityQuery) ([]swfd.Execution, error) {
	rows, err := l.Store.ListExecutions(ctx, q)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range rows {
		l.bytes += len(r.State)
	}
	return rows, err
}

// The List operations read no run's state: they show none of it, and a
// page of 1,000 runs of 1,000 open activities each read 340 MB of them.
func TestListExecutionsReadsNoState(t *testing.T) {
	ctx := context.Background()
	store := &listStates{Store: memStore(t)}
	s := silentNode(t, store)
	registerTestTypes(t, s, true)
	for _, id := range []string{"w1", "w2"} {
		if _, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id, WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := s.ListOpenWorkflowExecutions(ctx, &api.ListOpenWorkflowExecutionsInput{Domain: "d", StartTimeFilter: api.ExecutionTimeFilter{OldestDate: api.NewTime(s.runs.Now().Add(-time.Hour))}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ExecutionInfos) != 2 {
		t.Fatalf("listed %+v, want the 2 runs", out.ExecutionInfos)
	}
	if store.bytes != 0 {
		t.Fatalf("listing read %d bytes of the runs' states, want none", store.bytes)
	}
}
