package retention_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/retention"
	"github.com/swfd/swfd/sqlite"
)

// onePerCall is a store that purges at most one run a call, as a store
// bounding what one call deletes does with long histories.
type onePerCall struct{ swfd.Store }

func (s onePerCall) PurgeClosed(ctx context.Context, domain string, cutoff time.Time, limit int) (int, error) {
	return s.Store.PurgeClosed(ctx, domain, cutoff, min(limit, 1))
}

// TestPurgeGoesOnAfterShortBatches: a store may purge fewer runs a call
// than asked while more are due; a pass purges them all the same, rather
// than stopping at the first short batch and leaving the rest for the
// passes of later minutes (which, at one short batch a minute, might
// never catch up).
func TestPurgeGoesOnAfterShortBatches(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, ":memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	if err := db.CreateDomain(ctx, swfd.Domain{Name: "d", Status: swfd.StatusRegistered, RetentionDays: "1", Created: now}, 100); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		id := fmt.Sprint("run-", i)
		e := swfd.Execution{Domain: "d", WorkflowID: id, RunID: id, TypeName: "t", TypeVersion: "1",
			StartTime: now.Add(-72 * time.Hour), Open: true, Version: 1, State: []byte("s")}
		if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: e, Create: true, Events: []swfd.Event{{ID: 1, JSON: []byte(`{}`)}}}}}); err != nil {
			t.Fatal(err)
		}
		e.Version, e.Open, e.CloseStatus, e.CloseTime = 2, false, "COMPLETED", now.Add(-48*time.Hour)
		if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: e, Closed: true}}}); err != nil {
			t.Fatal(err)
		}
	}
	purged := 0
	p := retention.New(onePerCall{db}, fixedClock(now), nil)
	p.Purged = func(n int) { purged += n }
	if err := p.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if purged != 3 {
		t.Fatalf("one pass purged %d of the 3 runs due", purged)
	}
	if n, _, err := db.CountExecutions(ctx, swfd.VisibilityQuery{Domain: "d"}, 0); err != nil || n != 0 {
		t.Fatalf("closed runs left: %d, %v", n, err)
	}
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }
