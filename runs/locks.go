package runs

import (
	"context"
	"hash/maphash"
	"sync"
)

// runLocks hands out one mutex per run, created when a call first locks
// the run and dropped when the last holder or waiter lets go, so that calls
// on one run are serialized while calls on different runs never wait for
// each other, however long one holds its run (a commit waiting for the
// disk, a history read, a retry's back-off). The table is split in shards,
// each with its own mutex, so that taking a run's lock is rarely delayed by
// others being taken.
type runLocks struct {
	seed   maphash.Seed
	shards [64]lockShard
}

type lockShard struct {
	mu sync.Mutex
	m  map[string]*runLock
}

// runLock is one run's mutex (a channel of one slot, so that a wait for
// it can end: lockWithin) and how many calls hold or wait for it.
type runLock struct {
	mu   chan struct{}
	refs int
}

func newRunLocks() *runLocks {
	l := &runLocks{seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].m = map[string]*runLock{}
	}
	return l
}

// lock takes runID's mutex and returns its release.
func (l *runLocks) lock(runID string) (unlock func()) {
	unlock, _ = l.lockWithin(context.Background(), runID)
	return unlock
}

// lockWithin takes runID's mutex and returns its release, or, should ctx
// end first, gives up the wait and returns ok false (and no release).
func (l *runLocks) lockWithin(ctx context.Context, runID string) (unlock func(), ok bool) {
	sh := &l.shards[maphash.String(l.seed, runID)%uint64(len(l.shards))]
	sh.mu.Lock()
	rl := sh.m[runID]
	if rl == nil {
		rl = &runLock{mu: make(chan struct{}, 1)}
		sh.m[runID] = rl
	}
	rl.refs++
	sh.mu.Unlock()
	drop := func() {
		sh.mu.Lock()
		if rl.refs--; rl.refs == 0 {
			delete(sh.m, runID)
		}
		sh.mu.Unlock()
	}
	select {
	case rl.mu <- struct{}{}:
	default:
		select {
		case rl.mu <- struct{}{}:
		case <-ctx.Done():
			drop()
			return nil, false
		}
	}
	return func() {
		<-rl.mu
		drop()
	}, true
}

// held counts the runs locked or waited for (for tests).
func (l *runLocks) held() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
