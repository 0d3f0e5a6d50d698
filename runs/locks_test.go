package runs

import (
	"context"
	"fmt"
	"hash/fnv"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunLocks checks that a run's lock excludes other calls on that run
// only, and that locks are dropped once nobody holds or waits for them.
func TestRunLocks(t *testing.T) {
	l := newRunLocks()
	unlockA := l.lock("a")
	// Another run is not held up by a.
	done := make(chan struct{})
	go func() { l.lock("b")(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("locking run b waited for run a")
	}
	// A second call on a waits until the first lets go.
	var second atomic.Bool
	finished := make(chan struct{})
	go func() {
		unlock := l.lock("a")
		second.Store(true)
		unlock()
		close(finished)
	}()
	for l.refs("a") < 2 { // the second call is waiting
		time.Sleep(time.Millisecond)
	}
	if second.Load() {
		t.Fatal("two calls held run a at once")
	}
	unlockA()
	<-finished
	if n := l.held(); n != 0 {
		t.Errorf("%d locks kept after every call let go", n)
	}
}

// refs returns how many calls hold or wait for runID's lock.
func (l *runLocks) refs(runID string) int {
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		rl := sh.m[runID]
		sh.mu.Unlock()
		if rl != nil {
			sh.mu.Lock()
			n := rl.refs
			sh.mu.Unlock()
			return n
		}
	}
	return 0
}

// stripedLocks is how runs were locked before: one of 256 mutexes chosen by
// hashing the run id, shared by every run that hashes to it. Kept as the
// baseline of BenchmarkRunLocks.
type stripedLocks [256]sync.Mutex

func (s *stripedLocks) lock(runID string) func() {
	h := fnv.New32a()
	h.Write([]byte(runID))
	m := &s[h.Sum32()%uint32(len(s))]
	m.Lock()
	return m.Unlock
}

// BenchmarkRunLocks measures calls on distinct runs that hold their run's
// lock for hold (a commit's I/O): 64 callers at once, each on a run of its
// own, as under load. With one lock per run no caller waits for another;
// with 256 shared stripes, callers whose runs share a stripe wait for each
// other's I/O. It reports the mean time a call waited for its lock.
//
//	go test -run '^$' -bench RunLocks ./runs/
func BenchmarkRunLocks(b *testing.B) {
	const callers = 64
	for _, hold := range []time.Duration{0, 200 * time.Microsecond, 2 * time.Millisecond} {
		for _, impl := range []struct {
			name string
			lock func(string) func()
		}{
			{"per-run", newRunLocks().lock},
			{"striped", new(stripedLocks).lock},
		} {
			b.Run(fmt.Sprintf("%s/hold=%v", impl.name, hold), func(b *testing.B) {
				var waited, next atomic.Int64
				b.SetParallelism((callers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						id := fmt.Sprintf("22run-%d", next.Add(1))
						t0 := time.Now()
						unlock := impl.lock(id)
						waited.Add(int64(time.Since(t0)))
						if hold > 0 {
							time.Sleep(hold)
						}
						unlock()
					}
				})
				b.ReportMetric(float64(waited.Load())/float64(b.N)/1e3, "wait-µs/call")
			})
		}
	}
}

// A wait for a run's lock that gives up (lockWithin, its context ended)
// takes nothing and leaves nothing behind: the holder's release frees the
// run, and the next lock takes it at once.
func TestRunLockWaitGivesUp(t *testing.T) {
	l := newRunLocks()
	unlock := l.lock("r")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if u, ok := l.lockWithin(ctx, "r"); ok || u != nil {
		t.Fatal("a wait for a held run's lock whose context had ended took the lock")
	}
	unlock()
	if n := l.held(); n != 0 {
		t.Fatalf("%d runs locked or waited for once the holder let go, want 0", n)
	}
	u, ok := l.lockWithin(ctx, "r") // free: taken whatever the context
	if !ok {
		t.Fatal("a free run's lock was not taken")
	}
	u()
}
