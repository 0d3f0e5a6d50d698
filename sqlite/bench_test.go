package sqlite

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// benchRun keeps one run's state for update benchmarks.
type benchRun struct {
	e      swfd.Execution
	nextID int64
}

func newBenchRun(b testing.TB, db *DB, i int64) *benchRun {
	run := fmt.Sprintf("bench-run-%d", i)
	e := swfd.Execution{Domain: "bench", WorkflowID: "wf-" + run, RunID: run, TypeName: "t", TypeVersion: "1",
		StartTime: time.UnixMilli(1_700_000_000_000), Open: true, Tags: []string{"bench"}, Version: 1,
		State: make([]byte, 512)}
	if err := db.Commit(context.Background(), swfd.Batch{Updates: []swfd.Update{{Execution: e, Create: true,
		Events: []swfd.Event{{ID: 1, JSON: make([]byte, 300)}}}}}); err != nil {
		b.Fatal(err)
	}
	return &benchRun{e: e, nextID: 2}
}

// update is a typical engine step: three events, a task scheduled and the
// previous one done, a timer (re)set.
func (r *benchRun) update() swfd.Batch {
	r.e.Version++
	id := r.nextID
	r.nextID += 3
	ev := func(id int64) swfd.Event {
		return swfd.Event{ID: id, JSON: fmt.Appendf(nil, `{"eventId":%d,"eventType":"ActivityTaskScheduled","eventTimestamp":1700000000.123,"activityTaskScheduledEventAttributes":{"activityId":"a-%d","activityType":{"name":"charge","version":"1"},"taskList":{"name":"acts"},"decisionTaskCompletedEventId":%d}}`, id, id, id-1)}
	}
	return swfd.Batch{Updates: []swfd.Update{{
		Execution: r.e,
		Events:    []swfd.Event{ev(id), ev(id + 1), ev(id + 2)},
		AddTasks: []swfd.Task{{Kind: swfd.ActivityTask, Domain: "bench", TaskList: "acts", RunID: r.e.RunID,
			ScheduledEventID: id + 2, Scheduled: time.UnixMilli(1_700_000_000_000 + id)}},
		DoneTasks: []int64{id - 1},
		AddTimers: []swfd.Timer{{RunID: r.e.RunID, Key: "activity-timeout", Due: time.UnixMilli(1_700_000_060_000 + id)}},
	}}}
}

func benchOpen(b *testing.B, dsn string) *DB {
	if dsn == "" {
		dsn = b.TempDir() + "/bench.db"
	}
	db, err := Open(context.Background(), dsn, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

func benchCommit(b *testing.B, dsn string) {
	db := benchOpen(b, dsn)
	r := newBenchRun(b, db, 0)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := db.Commit(ctx, r.update()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommit is one writer committing one run's updates back to back:
// every commit is its own transaction and fsync.
func BenchmarkCommit(b *testing.B) { benchCommit(b, "") }

// BenchmarkCommitMemory is BenchmarkCommit without the file system.
func BenchmarkCommitMemory(b *testing.B) { benchCommit(b, ":memory:") }

// BenchmarkCommitParallel has many writers, each updating its own run:
// group commit shares each transaction and fsync among the waiting writers.
func BenchmarkCommitParallel(b *testing.B) {
	db := benchOpen(b, "")
	var next atomic.Int64
	ctx := context.Background()
	b.SetParallelism(16) // writers per GOMAXPROCS: an engine has many runs in flight
	b.ReportAllocs()
	g0, n0 := db.groups.Load(), db.batches.Load()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := newBenchRun(b, db, next.Add(1))
		for pb.Next() {
			if err := db.Commit(ctx, r.update()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if g := db.groups.Load() - g0; g > 0 {
		b.ReportMetric(float64(db.batches.Load()-n0)/float64(g), "batches/txn")
	}
}

// benchHistoryRun opens a store holding one run of 200 events for the read
// benchmarks, with enough of them left in the write-ahead log that reads
// look there as they do under load.
func benchHistoryRun(b *testing.B) *DB {
	db := benchOpen(b, "")
	r := newBenchRun(b, db, 0)
	for range 66 {
		if err := db.Commit(context.Background(), r.update()); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

// BenchmarkHistory is one reader reading a page of a run's history back to
// back, each read on the read pool.
func BenchmarkHistory(b *testing.B) {
	db := benchHistoryRun(b)
	ctx := context.Background()
	q := swfd.HistoryQuery{RunID: "bench-run-0", Limit: 50}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := db.History(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHistoryParallel is BenchmarkHistory with as many readers as the
// pool has connections, all at once.
func BenchmarkHistoryParallel(b *testing.B) {
	db := benchHistoryRun(b)
	ctx := context.Background()
	q := swfd.HistoryQuery{RunID: "bench-run-0", Limit: 50}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.History(ctx, q); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
