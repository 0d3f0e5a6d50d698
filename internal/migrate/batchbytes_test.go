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
