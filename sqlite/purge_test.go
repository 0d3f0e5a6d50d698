package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// TestPurgeBoundsItsEvents: one PurgeClosed takes runs only while their
// events fit its budget (the purge is a write, and every other write waits
// for it), but always at least one run, however long its history, so
// that repeated calls purge everything due and then answer 0.
func TestPurgeBoundsItsEvents(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	db.purgeEvents = 10
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// Closed in this order, with these many events: the budget of 10
	// takes run-0 and run-1 (4 + 5), run-2 alone (12, over the budget by
	// itself), then run-3 and run-4 (6 + 3).
	sizes := []int64{4, 5, 12, 6, 3}
	for i, size := range sizes {
		id := fmt.Sprint("run-", i)
		e := swfd.Execution{Domain: "d", WorkflowID: id, RunID: id, TypeName: "t", TypeVersion: "1",
			StartTime: base, Open: true, Version: 1, State: []byte("s"), Tags: []string{"x"}}
		var evs []swfd.Event
		for j := int64(1); j <= size; j++ {
			evs = append(evs, swfd.Event{ID: j, JSON: []byte(`{}`)})
		}
		if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: e, Create: true, Events: evs}}}); err != nil {
			t.Fatal(err)
		}
		e.Version, e.Open, e.CloseStatus, e.CloseTime = 2, false, "COMPLETED", base.Add(time.Duration(i+1)*time.Minute)
		if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: e, Closed: true}}}); err != nil {
			t.Fatal(err)
		}
	}
	var got []int
	for range 10 {
		n, err := db.PurgeClosed(ctx, "d", base.Add(time.Hour), 500)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
		if n == 0 {
			break
		}
	}
	if fmt.Sprint(got) != "[2 1 2 0]" {
		t.Fatalf("runs purged by each call: %v, want [2 1 2 0]", got)
	}
	for i := range sizes {
		if _, err := db.GetExecution(ctx, "d", fmt.Sprint("run-", i)); err == nil {
			t.Fatalf("run-%d left", i)
		}
	}
}
