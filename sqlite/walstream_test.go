package sqlite

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// readStream is a stream of reads that overlap one another without a
// pause, as the reads of a busy server do: in each of its lanes the next
// read begins before the last one ends, and every read spans commits. A read
// ends once two commits have completed since it began and the next read of
// its lane has begun, or once the store holds new reads back: reads always
// end, but only when something lets them.
type readStream struct {
	mu   sync.Mutex
	cond *sync.Cond
	// commits completed, times the store held new reads back.
	commits, held int
	stop          bool
}

// streamRead is one read of a stream: a query whose rows are open.
type streamRead struct {
	began, end bool
	c0, h0     int // commits and holds when it began (holds: when asked for)
	done       chan struct{}
}

func (s *readStream) wait(cond func() bool) {
	s.mu.Lock()
	for !cond() && !s.stop {
		s.cond.Wait()
	}
	s.mu.Unlock()
}

func (s *readStream) note(f func()) {
	s.mu.Lock()
	f()
	s.cond.Broadcast()
	s.mu.Unlock()
}

// start begins a read of run's events on the store's read pool.
func (s *readStream) start(t *testing.T, db *DB, runID string) *streamRead {
	r := &streamRead{done: make(chan struct{})}
	s.note(func() { r.h0 = s.held })
	go func() {
		defer close(r.done)
		err := db.read(context.Background(), func(q querier) error {
			rows, err := q.QueryContext(context.Background(), "SELECT event_id FROM events WHERE run_id = ?", runID)
			if err != nil {
				return err
			}
			defer rows.Close()
			if !rows.Next() { // the read transaction is open from here
				return fmt.Errorf("no events: %v", rows.Err())
			}
			s.note(func() { r.began, r.c0 = true, s.commits })
			s.wait(func() bool { return r.end })
			return nil
		})
		if err != nil {
			t.Errorf("read: %v", err)
			s.note(func() { s.stop = true })
		}
	}()
	return r
}

// lane runs reads one after another from the first-th commit on, each
// beginning before the one before it ends.
func (s *readStream) lane(t *testing.T, db *DB, runID string, first int) {
	s.wait(func() bool { return s.commits >= first })
	cur := s.start(t, db, runID)
	s.wait(func() bool { return cur.began })
	for {
		s.wait(func() bool { return s.commits >= cur.c0+2 || s.held > cur.h0 })
		next := (*streamRead)(nil)
		if !s.stopped() {
			next = s.start(t, db, runID)
			s.wait(func() bool { return next.began || s.held > cur.h0 })
		}
		s.note(func() { cur.end = true })
		<-cur.done
		if next == nil {
			return
		}
		cur = next
		s.wait(func() bool { return cur.began })
		if s.stopped() {
			s.note(func() { cur.end = true })
			<-cur.done
			return
		}
	}
}

func (s *readStream) stopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stop
}

// A stream of reads that keeps one read open at every moment, each begun
// before a commit and still open after it, must not keep the WAL from being
// truncated: the writer holds new reads back while it truncates, the reads
// in progress end, and the truncation finds no reader in its way.
func TestWALTruncatedUnderAStreamOfReads(t *testing.T) {
	oldLimit, oldWait := walLimit, trimWait
	walLimit = 64 << 10
	// How long the writer waits for reads in progress: this stream's reads
	// end as soon as the store holds new ones back, so the wait is never
	// used up; it is long so that a slow machine cannot fail the test.
	trimWait = 10 * time.Second
	defer func() { walLimit, trimWait = oldLimit, oldWait }()
	path := t.TempDir() + "/wal.db"
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run := newBenchRun(t, db, 0)

	s := &readStream{}
	s.cond = sync.NewCond(&s.mu)
	db.gate.onShut = func() { s.note(func() { s.held++ }) }
	var lanes sync.WaitGroup
	for l := range 2 { // two lanes, one commit apart: some read always spans the latest commit
		lanes.Add(1)
		go func() {
			defer lanes.Done()
			s.lane(t, db, run.e.RunID, l)
		}()
	}
	defer func() {
		s.note(func() { s.stop = true })
		lanes.Wait()
	}()

	// 100 commits: a try to truncate after every 16, each with the WAL past
	// walLimit (a commit writes tens of KB).
	var largest, last int64
	shrank := 0
	for i := 0; i < 100; i++ {
		if err := db.Commit(context.Background(), run.update()); err != nil {
			t.Fatal(err)
		}
		s.note(func() { s.commits++ })
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() < last {
			shrank++
		}
		last, largest = fi.Size(), max(largest, fi.Size())
	}
	s.note(func() {
		t.Logf("reads held back %d times; the WAL shrank %d times, largest %d bytes", s.held, shrank, largest)
	})
	// Tried after commits 16, 32, 48, 64, 80 and 96 of the writer (the
	// run's creation was its first): each try must truncate.
	if shrank < 6 {
		t.Fatalf("the WAL was truncated %d times in 100 commits under a stream of reads, want 6 (one every 16 commits); it grew to %d bytes", shrank, largest)
	}
}
