package runs

import (
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

// runLock is one run's mutex and how many calls hold or wait for it.
type runLock struct {
	mu   sync.Mutex
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
	sh := &l.shards[maphash.String(l.seed, runID)%uint64(len(l.shards))]
	sh.mu.Lock()
	rl := sh.m[runID]
	if rl == nil {
		rl = &runLock{}
		sh.m[runID] = rl
	}
	rl.refs++
	sh.mu.Unlock()
	rl.mu.Lock()
	return func() {
		rl.mu.Unlock()
		sh.mu.Lock()
		if rl.refs--; rl.refs == 0 {
			delete(sh.m, runID)
		}
		sh.mu.Unlock()
	}
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
