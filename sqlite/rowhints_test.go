package sqlite

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// TestRowHints checks the writer's hints of the rows it created
// (rowHints): a run's updates and its close go through its hint alone,
// find the row by rowid (the table's integer key), and the close of a run
// that never stored heartbeat details runs no deletion of them; a hint
// that is wrong (another run's rowid) changes nothing of that run and the
// update still applies; a version conflict through a hint is one still; the
// close of a run that stored heartbeat details removes them.
func TestRowHints(t *testing.T) {
	for _, dsn := range []string{"file", ":memory:"} {
		t.Run(dsn, func(t *testing.T) {
			var db *DB
			if dsn == "file" {
				db, _ = openTemp(t)
			} else {
				var err error
				if db, err = Open(context.Background(), dsn, nil); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
			}
			ctx := context.Background()
			// Runs that differ in their run and workflow ids alone, so
			// that only the run id tells their rows apart.
			exec := func(i int) swfd.Execution {
				e := sampleBatch(i).Updates[0].Execution
				e.StartTime = time.UnixMilli(1_700_000_000_000)
				return e
			}
			for i := range 3 {
				b := sampleBatch(i)
				b.Updates[0].Execution = exec(i)
				if err := db.Commit(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			hint := func(run string) *rowHint {
				db.wmu.Lock()
				defer db.wmu.Unlock()
				return db.rows.m[run]
			}
			prepared := func(prefix string) bool {
				db.wmu.Lock()
				defer db.wmu.Unlock()
				for q := range db.stmts {
					if strings.HasPrefix(q, prefix) {
						return true
					}
				}
				return false
			}
			commit := func(e swfd.Execution, closed bool, hbs ...swfd.Heartbeat) error {
				return db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: e, Closed: closed, Heartbeats: hbs}}})
			}
			closeOf := func(e swfd.Execution) swfd.Execution {
				e.Version++
				e.Open, e.CloseTime, e.CloseStatus = false, e.StartTime.Add(time.Minute), "COMPLETED"
				return e
			}
			h0, h1, h2 := hint("run-0000"), hint("run-0001"), hint("run-0002")
			if h0 == nil || h1 == nil || h2 == nil || h0.id == h1.id {
				t.Fatalf("hints after creation: %+v, %+v, %+v; want three, of different rowids", h0, h1, h2)
			}

			// Run 2 goes through its hint from start to close.
			e2 := exec(2)
			e2.Version, e2.State = 2, []byte("second")
			if err := commit(e2, false); err != nil {
				t.Fatal(err)
			}
			if err := commit(closeOf(e2), true); err != nil {
				t.Fatal(err)
			}
			if hint("run-0002") != nil {
				t.Error("a closed run's hint was kept")
			}
			for _, q := range []string{"DELETE FROM heartbeats WHERE run_id = ?", "SELECT version", "UPDATE executions SET cancel_requested = ?, version = ?, state = ?\n\t\t\t\tWHERE run_id"} {
				if prepared(q) {
					t.Errorf("statement %q ran for a run updated and closed through its hint", q)
				}
			}
			got, err := db.GetExecution(ctx, "d", "run-0002")
			if err != nil || got.Open || got.CloseStatus != "COMPLETED" || got.Version != 3 || string(got.State) != "second" {
				t.Errorf("run closed through its hint: %+v, %v", got, err)
			}
			for q := range db.stmts {
				if strings.Contains(q, "WHERE rowid = ?") {
					var args []any
					for range strings.Count(q, "?") {
						args = append(args, int64(1))
					}
					if plan := explain(t, db, q, args); !strings.Contains(plan, "INTEGER PRIMARY KEY") {
						t.Errorf("%s: plan %q does not search by rowid", q, plan)
					}
				}
			}

			// A wrong hint: run 0's update finds run 1's row.
			db.wmu.Lock()
			h0.id = h1.id
			db.wmu.Unlock()
			e0 := exec(0)
			e0.Version, e0.State = 2, []byte("second")
			if err := commit(e0, false); err != nil {
				t.Fatal(err)
			}
			if hint("run-0000") != nil {
				t.Error("a hint that matched nothing was kept")
			}
			for run, want := range map[string]string{"run-0000": "second", "run-0001": "run-0001"} {
				got, err := db.GetExecution(ctx, "d", run)
				if err != nil {
					t.Fatal(err)
				}
				if string(got.State) != want {
					t.Errorf("%s: state %q, want %q", run, got.State, want)
				}
			}

			// A version conflict through the hint is one still.
			e1 := exec(1)
			e1.Version = 3
			if err := commit(e1, false); !errors.Is(err, swfd.ErrConflict) {
				t.Errorf("update past the stored version: %v, want ErrConflict", err)
			}

			// Heartbeat details stored while the hint is kept are removed
			// at the close through it.
			db.wmu.Lock()
			db.rows.m["run-0001"] = h1
			db.wmu.Unlock()
			d := "working"
			e1.Version = 2
			if err := commit(e1, false, swfd.Heartbeat{ScheduledEventID: 5, Details: &d}); err != nil {
				t.Fatal(err)
			}
			if hint("run-0001") == nil {
				t.Fatal("the hint went with an update of the state")
			}
			if err := commit(closeOf(e1), true); err != nil {
				t.Fatal(err)
			}
			if hbs, err := db.Heartbeats(ctx, "run-0001"); err != nil || len(hbs) != 0 {
				t.Errorf("heartbeat details of the closed run: %v, %v; want none", hbs, err)
			}
		})
	}
}
