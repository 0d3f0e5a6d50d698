package runs

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
)

// overtaken is node A's store in a cluster where another node writes the
// same run just before each of A's next n commits. Unless holds is set,
// a run held (HoldRun) is overtaken all the same, as if the store held
// nothing; with holds set, a held run's commit is not overtaken. held
// counts the holds taken, released the holds that ended without a commit.
type overtaken struct {
	swfd.Store
	n              int
	other          func() error
	holds          bool
	held, released int
	holdErr        error // if set, HoldRun fails with it
}

func (o *overtaken) overtake() error {
	if o.n > 0 {
		o.n--
		return o.other()
	}
	return nil
}

func (o *overtaken) Commit(ctx context.Context, b swfd.Batch) error {
	if err := o.overtake(); err != nil {
		return err
	}
	return o.Store.Commit(ctx, b)
}

func (o *overtaken) HoldRun(ctx context.Context, domain, runID string) (swfd.Execution, swfd.RunHold, error) {
	if o.holdErr != nil {
		return swfd.Execution{}, nil, o.holdErr
	}
	e, h, err := o.Store.HoldRun(ctx, domain, runID)
	if err != nil {
		return e, nil, err
	}
	o.held++
	return e, &overtakenHold{RunHold: h, o: o}, nil
}

type overtakenHold struct {
	swfd.RunHold
	o     *overtaken
	ended bool
}

func (h *overtakenHold) Commit(ctx context.Context, b swfd.Batch) error {
	h.ended = true
	if !h.o.holds {
		if err := h.o.overtake(); err != nil {
			return err
		}
	}
	return h.RunHold.Commit(ctx, b)
}

func (h *overtakenHold) Release() {
	if !h.ended {
		h.ended = true
		h.o.released++
	}
	h.RunHold.Release()
}

// startRun starts run "run" of workflow "w" in domain "d" through s.
func startRun(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	st, res := history.Start(s.Env(ctx), history.StartParams{
		Domain: "d", WorkflowID: "w", RunID: "run", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
		Config: history.Config{TaskList: "l", ExecutionStartToCloseTimeout: "3600", TaskStartToCloseTimeout: "60", ChildPolicy: api.ChildPolicyTerminate},
	})
	var b Batch
	if err := b.Add(st, 0, true, res); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, &b); err != nil {
		t.Fatal(err)
	}
}

// signal signals run "run" through s, as SignalWorkflowExecution does.
func signal(ctx context.Context, s *Store, name string) error {
	unlock := s.Lock("run")
	defer unlock()
	return s.Step(ctx, "d", "run", func(r *Run, err error) error {
		if err != nil {
			return err
		}
		res, err := r.State.Signal(s.Env(ctx), name, nil)
		if err != nil {
			return err
		}
		return s.CommitRun(ctx, r, res)
	})
}

// A step on a run that other nodes keep writing loses the race for every
// commit they make while it decides; as long as its call has time, it is
// decided again, however many times, and gets in. (It gave up after 20
// lost races, with an InternalFailure, while a storm of signals from two
// other nodes went on: a few in every thousand signals failed so, and a
// slower step, a decision task's completion, more often.) Here the store's
// holds hold nothing, so that the step is overtaken every time.
func TestStepOutlastsOtherNodesWrites(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := memStore(t)
	b := New(Options{Store: db, Limits: history.DefaultLimits, Shared: true})
	const lost = 40
	store := &overtaken{Store: db, other: func() error { return signal(ctx, b, "from-b") }}
	a := New(Options{Store: store, Limits: history.DefaultLimits, Shared: true})
	startRun(t, a)
	store.n = lost
	if err := signal(ctx, a, "from-a"); err != nil {
		t.Fatalf("node a's signal, overtaken %d times: %v", lost, err)
	}
	evs, err := db.History(ctx, swfd.HistoryQuery{RunID: "run"})
	if err != nil {
		t.Fatal(err)
	}
	last, err := api.RawHistoryEvent(evs[len(evs)-1].JSON)
	if err != nil {
		t.Fatal(err)
	}
	// Started, DecisionTaskScheduled, b's signals, then a's.
	if len(evs) != 2+lost+1 || last.EventType != api.EventTypeWorkflowExecutionSignaled {
		t.Errorf("history: %d events, the last %s; want %d, a signal", len(evs), last.EventType, 2+lost+1)
	}
}

// A step that keeps losing until its time is out applied nothing and says
// so as ErrLocked (ServiceUnavailable: try again), never as a stale
// request, which callers drop as if the run had moved on without them (a
// poll dropped the task it was starting, and no poller got it again).
func TestStepOutOfTimeIsNotStale(t *testing.T) {
	calls := 0
	err := retryConflicts(context.Background(), 50*time.Millisecond, func(context.Context, int) error {
		calls++
		return swfd.ErrConflict
	})
	if !errors.Is(err, swfd.ErrLocked) || IsStale(err) {
		t.Errorf("after %d lost races: %v (stale %v); want ErrLocked, not stale", calls, err, IsStale(err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = RetryConflicts(ctx, func() error { return swfd.ErrConflict })
	if !errors.Is(err, swfd.ErrLocked) || IsStale(err) {
		t.Errorf("out of the call's time: %v; want ErrLocked, not stale", err)
	}
	// Background work with a lock wait (the timer loop) leaves the run
	// after that long, to come back to it later.
	began := time.Now()
	err = RetryConflicts(swfd.WithLockWait(context.Background(), 50*time.Millisecond), func() error { return swfd.ErrConflict })
	if !errors.Is(err, swfd.ErrLocked) || IsStale(err) || time.Since(began) > ConflictWait/2 {
		t.Errorf("with a lock wait: %v after %s; want ErrLocked, not stale, after about the lock wait", err, time.Since(began))
	}
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if err := RetryConflicts(cctx, func() error { return swfd.ErrConflict }); !errors.Is(err, context.Canceled) {
		t.Errorf("caller gone: %v, want context.Canceled", err)
	}
}

// lostRaces counts the commits of a store that lost the race for a run's
// version (Options.StoreCommit).
func lostRaces(n *int) func(time.Duration, error) {
	return func(_ time.Duration, err error) {
		if errors.Is(err, swfd.ErrConflict) {
			*n++
		}
	}
}

// A step that other nodes overtake every time it commits (a slow one, on a
// run that a storm of signals keeps changing) lost until its call ran out
// of time. After HoldAfter lost races it holds the run in the store, which
// other writers' commits then wait for: its next attempt gets in.
func TestStepHoldsRunAfterLostRaces(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	db := memStore(t)
	b := New(Options{Store: db, Limits: history.DefaultLimits, Shared: true})
	store := &overtaken{Store: db, holds: true, other: func() error { return signal(ctx, b, "from-b") }}
	lost := 0
	a := New(Options{Store: store, Limits: history.DefaultLimits, Shared: true, StoreCommit: lostRaces(&lost)})
	startRun(t, a)
	store.n = 1 << 30 // every commit it makes unheld
	err := signal(ctx, a, "from-a")
	if err != nil || lost != HoldAfter || store.held != 1 {
		t.Fatalf("node a's signal, overtaken at every commit: %v after %d lost races and %d holds; want it committed after %d and 1",
			err, lost, store.held, HoldAfter)
	}
	evs, err := db.History(ctx, swfd.HistoryQuery{RunID: "run"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2+HoldAfter+1 {
		t.Errorf("history: %d events; want %d (started, decision scheduled, b's %d signals, a's)", len(evs), 2+HoldAfter+1, HoldAfter)
	}
}

// StepStored, the timer loop's step, holds the run after HoldAfter lost
// races as Step does, and reads it from the store every time.
func TestStepStoredHoldsRunAfterLostRaces(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	db := memStore(t)
	b := New(Options{Store: db, Limits: history.DefaultLimits, Shared: true})
	store := &overtaken{Store: db, holds: true, other: func() error { return signal(ctx, b, "from-b") }}
	lost := 0
	a := New(Options{Store: store, Limits: history.DefaultLimits, Shared: true, StoreCommit: lostRaces(&lost)})
	startRun(t, a)
	store.n = 1 << 30
	hitsBefore, _, _, _ := a.CacheStats()
	attempts := 0
	unlock := a.Lock("run")
	err := a.StepStored(ctx, "", "run", func(r *Run, err error) error {
		if err != nil {
			return err
		}
		attempts++
		res, err := r.State.Signal(a.Env(ctx), "from-a", nil)
		if err != nil {
			return err
		}
		return a.CommitRun(ctx, r, res)
	})
	unlock()
	if hits, _, _, _ := a.CacheStats(); hits != hitsBefore {
		t.Errorf("StepStored read the run from the cache")
	}
	if err != nil || lost != HoldAfter || store.held != 1 || attempts != HoldAfter+1 {
		t.Fatalf("a stored step overtaken at every commit: %v after %d attempts, %d lost races and %d holds; want it committed after %d, %d and 1",
			err, attempts, lost, store.held, HoldAfter+1, HoldAfter)
	}
}

// A hold that cannot be had in the call's time fails the step with
// ErrLocked (ServiceUnavailable), not as a stale request; a held step that
// ends without a commit (a fault) releases its hold, and its fault stands.
func TestHeldStepOutcomes(t *testing.T) {
	ctx := context.Background()
	db := memStore(t)
	b := New(Options{Store: db, Limits: history.DefaultLimits, Shared: true})
	store := &overtaken{Store: db, holds: true, other: func() error { return signal(ctx, b, "from-b") }}
	a := New(Options{Store: store, Limits: history.DefaultLimits, Shared: true})
	startRun(t, a)

	store.n, store.holdErr = HoldAfter, fmt.Errorf("waited for another writer: %w", swfd.ErrLocked)
	err := signal(ctx, a, "from-a")
	if !errors.Is(err, swfd.ErrLocked) || IsStale(err) {
		t.Errorf("a step whose hold timed out: %v (stale %v); want ErrLocked, not stale", err, IsStale(err))
	}

	store.n, store.holdErr = HoldAfter, nil
	fault := api.ErrUnknownResource("no such thing")
	calls := 0
	unlock := a.Lock("run")
	err = a.Step(ctx, "d", "run", func(r *Run, err error) error {
		if err != nil {
			return err
		}
		if calls++; calls <= HoldAfter {
			res, err := r.State.Signal(a.Env(ctx), "lost", nil)
			if err != nil {
				return err
			}
			return a.CommitRun(ctx, r, res)
		}
		return fault
	})
	unlock()
	if err != fault || store.held != 1 || store.released != 1 {
		t.Errorf("a held step that answered a fault: %v, %d holds taken, %d released; want the fault, 1 and 1", err, store.held, store.released)
	}
}
