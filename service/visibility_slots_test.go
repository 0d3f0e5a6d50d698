package service

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// slowCountStore counts how many CountExecutions run at once.
type slowCountStore struct {
	swfd.Store
	cur, most atomic.Int32
}

func (s *slowCountStore) CountExecutions(ctx context.Context, q swfd.VisibilityQuery, limit int) (int, bool, error) {
	n := s.cur.Add(1)
	defer s.cur.Add(-1)
	for {
		m := s.most.Load()
		if n <= m || s.most.CompareAndSwap(m, n) {
			break
		}
	}
	// Stay a while, so that queries let in beyond the bound would
	// overlap this one. On a slow machine they may overlap less, which can
	// hide a broken bound but never fail a working one.
	time.Sleep(20 * time.Millisecond)
	return s.Store.CountExecutions(ctx, q, limit)
}

func TestVisibilityQueriesBounded(t *testing.T) {
	ctx := context.Background()
	st := &slowCountStore{}
	s := testService(t, Options{VisibilityQueries: 1}, func(db swfd.Store) swfd.Store { st.Store = db; return st })
	in := &api.CountOpenWorkflowExecutionsInput{Domain: "d", StartTimeFilter: api.ExecutionTimeFilter{OldestDate: api.NewTime(time.Unix(0, 0))}}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.CountOpenWorkflowExecutions(ctx, in); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if m := st.most.Load(); m != 1 {
		t.Errorf("%d counts ran at once with VisibilityQueries 1", m)
	}

	// A query waiting for its turn gives up with its caller.
	s.visibilitySlots <- struct{}{} // the only slot, taken
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := s.CountOpenWorkflowExecutions(short, in); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting count: %v, want the context's deadline", err)
	}
	<-s.visibilitySlots
}
