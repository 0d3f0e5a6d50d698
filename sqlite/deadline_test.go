package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// endable is a context the test ends when it chooses, with the error it
// chooses (context.DeadlineExceeded for a call's --call-timeout, which a
// real deadline would give only after real time had passed).
type endable struct {
	context.Context
	once sync.Once
	done chan struct{}
	mu   sync.Mutex
	err  error
}

func newEndable() *endable {
	return &endable{Context: context.Background(), done: make(chan struct{})}
}

func (c *endable) Done() <-chan struct{} { return c.done }

func (c *endable) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *endable) end(err error) {
	c.once.Do(func() {
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
		close(c.done)
	})
}

// outcome waits for a write's result, failing the test when it has not
// come within a bound far beyond what a write that is not held takes.
func outcome(t *testing.T, what string, res <-chan error) error {
	t.Helper()
	select {
	case err := <-res:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no answer 10s after its context ended", what)
		return nil
	}
}

// A write the writer holds in hand but has not begun to apply (here the
// writer is held before its transaction, as a long checkpoint holds it)
// fails as soon as its caller's context ends, with the context's error
// (answered ServiceUnavailable, "did not answer in time", for a call's
// --call-timeout), instead of waiting for the writer; and it is never
// applied once the writer goes on. Before, its caller waited for as long
// as the writer was held.
func TestWriteInHandFailsAtItsDeadline(t *testing.T) {
	for _, cause := range []error{context.DeadlineExceeded, context.Canceled} {
		t.Run(cause.Error(), func(t *testing.T) {
			db, _ := openTemp(t)
			ctx, res, release := writeHeldByTheWriter(t, db)
			ctx.end(cause)
			if err := outcome(t, "a write held by the writer", res); !errors.Is(err, cause) {
				t.Fatalf("the held write, its context ended: %v, want %v", err, cause)
			}
			release()
			// The next write goes through the writer after the first.
			if err := db.Commit(context.Background(), sampleBatch(1)); err != nil {
				t.Fatal(err)
			}
			if _, err := db.GetExecution(context.Background(), "d", "run-0000"); !errors.Is(err, swfd.ErrNotFound) {
				t.Fatalf("the write that failed at its deadline was applied: %v", err)
			}
			checkSampleRun(t, db, 1)
		})
	}
}

// While another program holds the database's write lock, the writer waits
// for it in its BEGIN (up to the busy timeout, 10 s); a write waiting so
// fails as soon as its caller's context ends, rather than up to 10 s past
// --call-timeout, and is not applied once the lock is let go.
func TestWriteWaitingForTheLockFailsAtItsDeadline(t *testing.T) {
	setBusyTimeout(t, 60_000)
	db, path := openTemp(t)
	bg := context.Background()
	unlock := holdWriteLock(t, path)
	ctx := newEndable()
	res := make(chan error, 1)
	go func() { res <- db.Commit(ctx, sampleBatch(0)) }()
	waitFor(t, "the writer to wait for the lock", func() bool { return goroutinesIn("sqlite.(*group).begin") == 1 })
	ctx.end(context.DeadlineExceeded)
	if err := outcome(t, "a write waiting for another program's lock", res); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the waiting write, its deadline passed: %v, want %v", err, context.DeadlineExceeded)
	}
	unlock()
	if err := db.Commit(bg, sampleBatch(1)); err != nil {
		t.Fatalf("a write once the lock was let go: %v", err)
	}
	if _, err := db.GetExecution(bg, "d", "run-0000"); !errors.Is(err, swfd.ErrNotFound) {
		t.Fatalf("the write that failed at its deadline was applied once the lock was let go: %v", err)
	}
	checkSampleRun(t, db, 1)
}

// A write the writer has applied in its open transaction runs to its end
// even when its caller's context ends meanwhile (here while the group waits
// for the syncer): its caller is answered with the outcome, success, and the
// write is kept. Were it answered with its context's error, a call would
// be told it failed while its write is committed.
func TestWriteAppliedOutlivesItsContext(t *testing.T) {
	db, _ := openTemp(t)
	<-db.syncIdle // the syncer is busy: the group waits with its writes applied
	given := false
	defer func() {
		if !given {
			db.syncIdle <- struct{}{}
		}
	}()
	ctx := newEndable()
	res := make(chan error, 1)
	go func() { res <- db.Commit(ctx, sampleBatch(0)) }()
	waitFor(t, "the writer to apply the write and wait for the syncer", func() bool {
		return goroutinesIn("sqlite.(*group).gather", "[select") == 1
	})
	ctx.end(context.DeadlineExceeded)
	select {
	case err := <-res:
		t.Fatalf("a write applied, not yet committed, answered %v before its outcome", err)
	default:
	}
	given = true
	db.syncIdle <- struct{}{}
	if err := outcome(t, "an applied write", res); err != nil {
		t.Fatalf("the applied write, its context ended meanwhile: %v, want its outcome (nil)", err)
	}
	checkSampleRun(t, db, 0)
}

// checkSampleRun checks that sampleBatch(i)'s run is stored.
func checkSampleRun(t *testing.T, db *DB, i int) {
	t.Helper()
	e, err := db.GetExecution(context.Background(), "d", fmt.Sprintf("run-%04d", i))
	if err != nil {
		t.Fatalf("run %d: %v", i, err)
	}
	if string(e.State) != fmt.Sprintf("run-%04d", i) {
		t.Fatalf("run %d state %q", i, e.State)
	}
}

// A write given up before the writer came to it begins no transaction: the
// writer does not wait out another program's write lock (the busy
// timeout, here a minute) for a write nobody waits for, holding up the
// writes behind it.
func TestAbandonedWriteBeginsNoTransaction(t *testing.T) {
	setBusyTimeout(t, 60_000)
	db, path := openTemp(t)
	holdWriteLock(t, path)
	ctx, res, release := writeHeldByTheWriter(t, db)
	ctx.end(context.DeadlineExceeded)
	if err := outcome(t, "a write held by the writer", res); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the held write, its deadline passed: %v", err)
	}
	groups := db.groups.Load()
	release()
	waitFor(t, "the writer to be done with the write given up, the lock still held elsewhere", func() bool { return db.groups.Load() > groups })
}

// writeHeldByTheWriter holds the writer before its transaction (as a long
// checkpoint holds it) and sends it a write, sampleBatch(0), under a
// context the test ends: it returns once the writer has the write in hand,
// with the channel the write's outcome comes on, and release, which lets
// the writer go on (at the test's end, if not called before).
func writeHeldByTheWriter(t *testing.T, db *DB) (ctx *endable, res <-chan error, release func()) {
	t.Helper()
	db.wmu.Lock()
	var once sync.Once
	release = func() { once.Do(db.wmu.Unlock) }
	t.Cleanup(release)
	ctx = newEndable()
	out := make(chan error, 1)
	go func() { out <- db.Commit(ctx, sampleBatch(0)) }()
	waitFor(t, "the writer to hold the write", func() bool { return goroutinesIn("sqlite.(*DB).gather", "sync.(*Mutex).Lock") == 1 })
	return ctx, out, release
}
