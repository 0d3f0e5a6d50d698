package migrate_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/migrate"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/postgres"
	"github.com/swfd/swfd/sqlite"
)

// batchBytes records the largest commit a store is given, in bytes of
// events.
type batchBytes struct {
	swfd.Store
	mu      sync.Mutex
	largest int
}

func (b *batchBytes) Commit(ctx context.Context, batch swfd.Batch) error {
	n := 0
	for _, u := range batch.Updates {
		for _, e := range u.Events {
			n += len(e.JSON)
		}
	}
	b.mu.Lock()
	b.largest = max(b.largest, n)
	b.mu.Unlock()
	return b.Store.Commit(ctx, batch)
}

// The copy writes runs in commits of about copyBatchBytes, not 200 runs at
// a time whatever their histories: a batch of 200 runs of long histories
// held them all in memory at once (a store of 850 MB took the copy to
// 2.5 GB), and every run still arrives whole.
func TestCopyBatchesAreBoundedByBytes(t *testing.T) {
	defer migrate.SetCopyBatchBytes(100 << 10)()
	ctx := context.Background()
	dir := t.TempDir()
	src, err := sqlite.Open(ctx, filepath.Join(dir, "src.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dstDB, err := sqlite.Open(ctx, filepath.Join(dir, "dst.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dstDB.Close()
	if err := src.CreateDomain(ctx, swfd.Domain{Name: "d", Status: swfd.StatusRegistered, RetentionDays: "1", Created: time.UnixMilli(1_700_000_000_000)}, 0); err != nil {
		t.Fatal(err)
	}
	const runs, events, size = 40, 10, 4 << 10 // 40 KB of events a run
	pad := strings.Repeat("x", size)
	for r := range runs {
		id := fmt.Sprintf("run-%02d", r)
		row := swfd.Execution{Domain: "d", WorkflowID: id, RunID: id, TypeName: "wf", TypeVersion: "1",
			StartTime: time.UnixMilli(1_700_000_000_000 + int64(r)), Open: r%2 == 0, Version: 1, State: []byte(`{}`)}
		if !row.Open {
			row.CloseTime = row.StartTime.Add(time.Second)
			row.CloseStatus = "COMPLETED"
		}
		var evs []swfd.Event
		for e := int64(1); e <= events; e++ {
			evs = append(evs, swfd.Event{ID: e, JSON: fmt.Appendf(nil, `{"eventId":%d,"x":"%s"}`, e, pad)})
		}
		if err := src.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: row, Create: true, Events: evs}}}); err != nil {
			t.Fatal(err)
		}
	}
	dst := &batchBytes{Store: dstDB}
	st, err := migrate.Copy(ctx, src, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Executions != runs || st.Events != runs*events {
		t.Fatalf("copied %+v, want %d runs of %d events", st, runs, events)
	}
	const run = events * (size + 30)
	if dst.largest > 100<<10+run {
		t.Fatalf("a commit of the copy held %d bytes of events, want at most %d", dst.largest, 100<<10+run)
	}
	for r := range runs {
		id := fmt.Sprintf("run-%02d", r)
		evs, err := dstDB.History(ctx, swfd.HistoryQuery{RunID: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != events {
			t.Fatalf("%s: %d events copied, want %d", id, len(evs), events)
		}
	}
}

// commitRun commits a run with events of 4 KB into a store.
func commitRun(t *testing.T, s swfd.Store, id string, open bool, version int64, events int, u swfd.Update) {
	t.Helper()
	row := swfd.Execution{Domain: "d", WorkflowID: id, RunID: id, TypeName: "wf", TypeVersion: "1",
		StartTime: time.UnixMilli(1_700_000_000_000), Open: open, Version: version, State: []byte(`{"run":"` + id + `"}`),
		Tags: []string{"t1"}}
	if !open {
		row.CloseTime = row.StartTime.Add(time.Second)
		row.CloseStatus = "COMPLETED"
	}
	pad := strings.Repeat("x", 4<<10)
	for e := int64(1); e <= int64(events); e++ {
		u.Events = append(u.Events, swfd.Event{ID: e, JSON: fmt.Appendf(nil, `{"eventId":%d,"x":"%s"}`, e, pad)})
	}
	u.Execution, u.Create = row, true
	if err := s.Commit(context.Background(), swfd.Batch{Updates: []swfd.Update{u}}); err != nil {
		t.Fatal(err)
	}
}

// perRun records the largest commit a store is given, in bytes of events,
// by the runs in it.
type perRun struct {
	swfd.Store
	mu      sync.Mutex
	largest map[string]int
}

func (p *perRun) Commit(ctx context.Context, batch swfd.Batch) error {
	n := 0
	for _, u := range batch.Updates {
		for _, e := range u.Events {
			n += len(e.JSON)
		}
	}
	p.mu.Lock()
	for _, u := range batch.Updates {
		p.largest[u.Execution.RunID] = max(p.largest[u.Execution.RunID], n)
	}
	p.mu.Unlock()
	return p.Store.Commit(ctx, batch)
}

// A run whose history alone is longer than a commit's bytes is written in
// several commits, its row taken up a version each time to the version it
// has, and arrives whole, with its tasks, timers and heartbeat details: the
// copy of a run of 25,000 events of 32 KB held its 800 MB at once (2.5 GB).
// One whose version is too low for that still arrives, in one commit.
func TestCopyWritesLongHistoriesInParts(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dst, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "dst.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		copyLongHistories(t, dst)
	})
	t.Run("postgres", func(t *testing.T) {
		dst, err := postgres.Open(context.Background(), pgtest.NewDatabase(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer dst.Close()
		copyLongHistories(t, dst)
	})
}

func copyLongHistories(t *testing.T, dstDB swfd.Store) {
	const bound = 100 << 10
	defer migrate.SetCopyBatchBytes(bound)()
	ctx := context.Background()
	src, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "src.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := src.CreateDomain(ctx, swfd.Domain{Name: "d", Status: swfd.StatusRegistered, RetentionDays: "1", Created: time.UnixMilli(1_700_000_000_000)}, 0); err != nil {
		t.Fatal(err)
	}
	details := "beat"
	commitRun(t, src, "long-open", true, 40, 200, swfd.Update{
		AddTasks:   []swfd.Task{{Kind: swfd.ActivityTask, Domain: "d", TaskList: "tl", RunID: "long-open", ScheduledEventID: 200, Scheduled: time.UnixMilli(1_700_000_000_000)}},
		AddTimers:  []swfd.Timer{{RunID: "long-open", Key: "k", Due: time.UnixMilli(1_800_000_000_000)}},
		Heartbeats: []swfd.Heartbeat{{ScheduledEventID: 200, Details: &details}},
	})
	commitRun(t, src, "long-closed", false, 40, 200, swfd.Update{})
	commitRun(t, src, "long-v1", false, 1, 200, swfd.Update{})
	commitRun(t, src, "short", true, 3, 5, swfd.Update{})
	dst := &perRun{Store: dstDB, largest: map[string]int{}}
	st, err := migrate.Copy(ctx, src, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Executions != 4 || st.Events != 605 || st.Tasks != 1 || st.Timers != 1 || st.Heartbeats != 1 {
		t.Fatalf("copied %+v", st)
	}
	for _, id := range []string{"long-open", "long-closed", "short"} {
		if n := dst.largest[id]; n > bound+8<<10 {
			t.Errorf("%s: a commit held %d bytes of events, want at most about %d", id, n, bound)
		}
	}
	for _, id := range []string{"long-open", "long-closed", "long-v1", "short"} {
		want, err := src.GetExecution(ctx, "d", id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := dstDB.GetExecution(ctx, "d", id)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: copied row %+v, want %+v", id, got, want)
		}
		wantEvs, err := src.History(ctx, swfd.HistoryQuery{RunID: id})
		if err != nil {
			t.Fatal(err)
		}
		gotEvs, err := dstDB.History(ctx, swfd.HistoryQuery{RunID: id})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(gotEvs) != fmt.Sprint(wantEvs) {
			t.Errorf("%s: %d events copied, want %d", id, len(gotEvs), len(wantEvs))
		}
	}
	tasks, err := dstDB.PendingTasks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	timers, err := dstDB.DueTimers(ctx, time.UnixMilli(1_900_000_000_000), 0)
	if err != nil {
		t.Fatal(err)
	}
	hbs, err := dstDB.Heartbeats(ctx, "long-open")
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].RunID != "long-open" || len(timers) != 1 || timers[0].RunID != "long-open" || len(hbs) != 1 || *hbs[0].Details != details {
		t.Fatalf("copied tasks %+v, timers %+v, heartbeat details %+v", tasks, timers, hbs)
	}
}
