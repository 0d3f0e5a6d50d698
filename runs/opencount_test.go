package runs

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
)

// pausingStore lets a test stand between a commit's write and the run
// store's handling of it: a commit that creates run pauseRun is written,
// then waits for release (written is closed first). counted is closed at
// the first CountOpen. With failAfter set, a commit is written and then
// reported failed, as when the database goes away before it answers.
type pausingStore struct {
	swfd.Store
	pauseRun    string
	written     chan struct{}
	release     chan struct{}
	counted     chan struct{}
	countedOnce atomic.Bool
	failAfter   atomic.Bool
}

func (p *pausingStore) Commit(ctx context.Context, b swfd.Batch) error {
	if err := p.Store.Commit(ctx, b); err != nil {
		return err
	}
	for _, u := range b.Updates {
		if u.Create && u.Execution.RunID == p.pauseRun {
			close(p.written)
			<-p.release
		}
	}
	if p.failAfter.Load() {
		return fmt.Errorf("connection lost before the answer: %w", swfd.ErrStorageUnavailable)
	}
	return nil
}

func (p *pausingStore) CountOpen(ctx context.Context, domain string) (int, error) {
	if p.countedOnce.CompareAndSwap(false, true) {
		close(p.counted)
	}
	return p.Store.CountOpen(ctx, domain)
}

// startRunID starts run id of workflow id in domain "d" through s.
func startRunID(ctx context.Context, s *Store, id string) error {
	st, res := history.Start(s.Env(ctx), history.StartParams{
		Domain: "d", WorkflowID: id, RunID: id, WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
		Config: history.Config{TaskList: "l", ExecutionStartToCloseTimeout: "3600", TaskStartToCloseTimeout: "60", ChildPolicy: api.ChildPolicyTerminate},
	})
	var b Batch
	if err := b.Add(st, 0, true, res); err != nil {
		return err
	}
	return s.Commit(ctx, &b)
}

// firstCountWaiting reports whether a first count of domain waits for the
// commits in flight.
func firstCountWaiting(s *Store, domain string) bool {
	s.openMu.Lock()
	defer s.openMu.Unlock()
	return s.openFirst[domain]
}

// A single node's first count of a domain's open executions, taken while a
// start of one of them was being committed, counted that execution twice:
// once in the store, where the commit had written it, and once more when
// the commit, done, added it to the count. From then on the node refused
// starts one execution early (at --max-open-executions) and reported one
// too many. The count must be exact whenever it is taken.
func TestFirstOpenCountDuringACommit(t *testing.T) {
	ctx := context.Background()
	db := &pausingStore{Store: memStore(t), pauseRun: "late",
		written: make(chan struct{}), release: make(chan struct{}), counted: make(chan struct{})}
	s := New(Options{Store: db, Limits: history.DefaultLimits})
	committed := make(chan error, 1)
	go func() { committed <- startRunID(ctx, s, "late") }()
	<-db.written
	counted := make(chan int, 1)
	go func() {
		n, err := s.OpenExecutions(ctx, "d")
		if err != nil {
			t.Error(err)
		}
		counted <- n
	}()
	// The count is taken now (as the old code did, the commit written
	// but not yet done), or waits for the commit to be done.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if db.countedOnce.Load() || firstCountWaiting(s, "d") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the count neither taken nor waiting")
		}
	}
	close(db.release)
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	if n := <-counted; n != 1 {
		t.Errorf("first count %d, want 1", n)
	}
	if n, err := s.OpenExecutions(ctx, "d"); n != 1 || err != nil {
		t.Errorf("after the commit: %d open, %v; want 1", n, err)
	}
	// Commits go on being counted.
	if err := startRunID(ctx, s, "next"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.OpenExecutions(ctx, "d"); n != 2 || err != nil {
		t.Errorf("after another start: %d open, %v; want 2", n, err)
	}
}

// A commit that failed may have been written all the same (the database
// went away before it answered): a start so committed left the node's
// count of open executions one short of the store's for good, as only
// commits that succeed changed it. Such a commit drops the count, which is
// taken again from the store when next needed.
func TestOpenCountAfterACommitOfUnknownOutcome(t *testing.T) {
	ctx := context.Background()
	db := &pausingStore{Store: memStore(t), counted: make(chan struct{})}
	s := New(Options{Store: db, Limits: history.DefaultLimits})
	if n, err := s.OpenExecutions(ctx, "d"); n != 0 || err != nil {
		t.Fatalf("%d open, %v", n, err)
	}
	db.failAfter.Store(true)
	if err := startRunID(ctx, s, "lost"); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("commit: %v", err)
	}
	db.failAfter.Store(false)
	if got, err := db.Store.CountOpen(ctx, "d"); got != 1 || err != nil {
		t.Fatalf("the store holds %d open, %v; want the start written", got, err)
	}
	if n, err := s.OpenExecutions(ctx, "d"); n != 1 || err != nil {
		t.Errorf("%d open, %v; want 1, as the store holds", n, err)
	}
}
