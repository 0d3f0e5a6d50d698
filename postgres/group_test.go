package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/pgtest"
)

// queued makes a group entry as committer.commit would.
func queued(u swfd.Update) *queuedCommit {
	st, query, args := updateStatement(&u)
	q := &queuedCommit{u: &u, st: st, query: query, args: args, done: make(chan error, 1)}
	q.key = "1" + u.Execution.RunID
	if u.Create {
		q.key = "0" + u.Execution.Domain + "\x00" + u.Execution.WorkflowID
	}
	return q
}

// TestCommitGroup commits groups by hand: in one transaction, a stale
// update and an update of a missing run get their own errors and the rest
// commit; a statement that fails (here a second open run of a workflowId)
// gets its error and hands the others back, unapplied, to be sent again.
func TestCommitGroup(t *testing.T) {
	t.Parallel()
	db := open(t, newDatabase(t), nil)
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: run("dom", "wf-"+id, "run-"+id), Create: true}}}); err != nil {
			t.Fatal(err)
		}
	}
	step := func(id string, version int64, state string) swfd.Update {
		e := run("dom", "wf-"+id, "run-"+id)
		e.Version, e.State = version, []byte(state)
		return swfd.Update{Execution: e, Events: []swfd.Event{{ID: version, JSON: []byte(state)}},
			AddTimers: []swfd.Timer{{Key: state, Due: time.UnixMilli(1_700_000_000_000)}}}
	}

	// A listener, to see the group's notification.
	listener, err := pgx.Connect(ctx, db.pool.Config().ConnConfig.ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(ctx)
	if _, err := listener.Exec(ctx, "LISTEN grouped"); err != nil {
		t.Fatal(err)
	}

	// Stale and missing runs do not disturb the others; the notification
	// rides along.
	ghost := step("ghost", 2, "ghost")
	note := &queuedCommit{query: "SELECT pg_notify($1, $2)", args: []any{"grouped", "hello"},
		key: "2", done: make(chan error, 1)}
	group := []*queuedCommit{queued(step("c", 2, "c2")), note, queued(step("a", 5, "stale")), queued(ghost),
		queued(step("a", 2, "a2")), queued(step("b", 2, "b2"))}
	if again := db.commitGroup(group); len(again) != 0 {
		t.Fatalf("%d updates handed back", len(again))
	}
	if err := <-note.done; err != nil {
		t.Fatalf("notification: %v", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if n, err := listener.WaitForNotification(wctx); err != nil || n.Payload != "hello" {
		t.Fatalf("the group's notification: %v %v", n, err)
	}
	group = slices.DeleteFunc(group, func(q *queuedCommit) bool { return q == note })
	wantErrs := []error{nil, swfd.ErrConflict, swfd.ErrNotFound, nil, nil}
	for _, q := range group {
		// commitGroup sorts the group: tell the entries apart by state.
		err := <-q.done
		want := wantErrs[map[string]int{"c2": 0, "stale": 1, "ghost": 2, "a2": 3, "b2": 4}[string(q.u.Execution.State)]]
		if (want == nil) != (err == nil) || want != nil && !errors.Is(err, want) {
			t.Fatalf("update %q: %v, want %v", q.u.Execution.State, err, want)
		}
	}
	for _, id := range []string{"a", "b", "c"} {
		e, err := db.GetExecution(ctx, "dom", "run-"+id)
		if err != nil || e.Version != 2 || string(e.State) != id+"2" {
			t.Fatalf("run-%s: version %d state %q (%v), want version 2", id, e.Version, e.State, err)
		}
	}

	// A failing statement: the second open run of wf-a. The others come
	// back unapplied, then commit as a group of their own.
	dup := run("dom", "wf-a", "run-dup")
	group = []*queuedCommit{queued(step("a", 3, "a3")), queued(swfd.Update{Execution: dup, Create: true}), queued(step("b", 3, "b3"))}
	again := db.commitGroup(group)
	if len(again) != 2 {
		t.Fatalf("%d updates handed back, want 2", len(again))
	}
	for _, q := range group {
		if q.u.Create {
			if err := <-q.done; !errors.Is(err, swfd.ErrAlreadyExists) {
				t.Fatalf("second open run: %v, want ErrAlreadyExists", err)
			}
		}
	}
	for _, id := range []string{"a", "b"} {
		if e, _ := db.GetExecution(ctx, "dom", "run-"+id); e.Version != 2 {
			t.Fatalf("run-%s is at version %d before the retry, want 2", id, e.Version)
		}
	}
	if more := db.commitGroup(again); len(more) != 0 {
		t.Fatalf("%d updates handed back again", len(more))
	}
	for _, q := range again {
		if err := <-q.done; err != nil {
			t.Fatalf("retried update %q: %v", q.u.Execution.State, err)
		}
	}
	for _, id := range []string{"a", "b"} {
		evs, err := db.History(ctx, swfd.HistoryQuery{RunID: "run-" + id})
		if e, _ := db.GetExecution(ctx, "dom", "run-"+id); err != nil || e.Version != 3 || len(evs) != 2 {
			t.Fatalf("run-%s: version %d, %d events (%v); want version 3, 2 events", id, e.Version, len(evs), err)
		}
	}
	if _, err := db.GetExecution(ctx, "", "run-dup"); !errors.Is(err, swfd.ErrNotFound) {
		t.Fatalf("the failed run was stored: %v", err)
	}
	timers, err := db.DueTimers(ctx, time.UnixMilli(1_800_000_000_000), 100)
	if err != nil || len(timers) != 5 {
		t.Fatalf("%d timers (%v), want 5: a2 a3 b2 b3 c2", len(timers), err)
	}
}

// TestCommitGroupsForm sends many commits at once and checks that they were
// grouped (fewer transactions than commits) and all applied. The committers
// start one transaction at a time, and a second only with more than
// spillOver commits waiting, so 64 commits arriving together cannot each get
// their own.
func TestCommitGroupsForm(t *testing.T) {
	t.Parallel()
	db := open(t, newDatabase(t), nil)
	ctx := context.Background()
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	before := db.commits.transactions.Load()
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			e := run("dom", fmt.Sprint("wf-", i), fmt.Sprint("run-", i))
			errs[i] = db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: e, Create: true, Events: []swfd.Event{{ID: 1, JSON: []byte("{}")}}}}})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	if got, err := db.CountOpen(ctx, "dom"); err != nil || got != n {
		t.Fatalf("CountOpen = %d (%v), want %d", got, err, n)
	}
	if x := db.commits.transactions.Load() - before; x >= n {
		t.Fatalf("%d transactions for %d commits: no groups formed", x, n)
	} else {
		t.Logf("%d commits in %d transactions", n, x)
	}
}

// TestUpdateTextByShape checks that an update statement's text depends only
// on its shape, so that the text cached per shape is right for every update
// of that shape: for every combination of clauses, two updates that differ
// in everything else get the text built for the second.
func TestUpdateTextByShape(t *testing.T) {
	shapes := map[uint16]bool{}
	for bits := range 1 << 8 {
		has := func(i int) bool { return bits&(1<<i) != 0 }
		make := func(n int) swfd.Update {
			e := run("dom", fmt.Sprint("wf-", n), fmt.Sprint("run-", n))
			e.Version = int64(2 + n)
			if has(1) {
				e.Tags = []string{"a", fmt.Sprint("t", n)}[:1+n%2]
			}
			u := swfd.Update{Execution: e, Create: has(0), Closed: has(2)}
			if u.Closed {
				u.Execution.Open = false
			}
			for i := range 1 + n {
				if has(3) {
					u.Events = append(u.Events, swfd.Event{ID: int64(10 + i), JSON: []byte("{}")})
				}
				if has(4) {
					u.DoneTasks = append(u.DoneTasks, int64(20+i))
				}
				if has(5) {
					u.AddTasks = append(u.AddTasks, swfd.Task{Kind: swfd.ActivityTask, Domain: "dom", TaskList: "tl", ScheduledEventID: int64(30 + i)})
				}
				if has(6) {
					u.DeleteTimers = append(u.DeleteTimers, fmt.Sprint("old-", i))
				}
				if has(7) {
					u.AddTimers = append(u.AddTimers, swfd.Timer{Key: fmt.Sprint("new-", i)})
				}
			}
			return u
		}
		first, second := make(0), make(1)
		_, _, firstArgs := updateStatement(&first)
		_, text, args := updateStatement(&second)
		_, fresh := buildUpdate(&second, true)
		want := "WITH " + strings.Join(fresh.with, ",\n") + "\nSELECT 1 FROM u"
		if text != want {
			t.Fatalf("shape %08b: cached text\n%s\nwant\n%s", bits, text, want)
		}
		// Each placeholder up to the last parameter's, and no further.
		n := len(args)
		if len(firstArgs) != n || !strings.Contains(want, fmt.Sprintf("$%d", n)) || strings.Contains(want, fmt.Sprintf("$%d", n+1)) {
			t.Fatalf("shape %08b: %d and %d parameters for the text\n%s", bits, len(firstArgs), n, want)
		}
		shapes[fresh.shape] = true
	}
	t.Logf("%d shapes", len(shapes))
}

// TestGroupFailsAtOnceWhenTheServerRefuses: a group's update that the
// server refuses for its own state (here it takes no writes; then a
// statement_timeout met by a statement that is slow, not waiting for a
// lock: a trigger sleeps) fails the whole
// group in that one transaction, each update with the refusal, which the
// store marks ErrStorageUnavailable. Sent again one update fewer each time,
// a group of n cost n transactions and n(n+1)/2 statements, and, under a
// statement_timeout, n timeouts of waiting. (A statement that waits for a
// held row fails alone: TestGroupFailsOnlyTheUpdateThatWaitedForAHeldRow.)
func TestGroupFailsAtOnceWhenTheServerRefuses(t *testing.T) {
	t.Parallel()
	const n = 8
	for _, refusal := range []string{"read-only", "statement_timeout"} {
		t.Run(refusal, func(t *testing.T) {
			t.Parallel()
			dsn := newDatabase(t)
			ctx := context.Background()
			setup := open(t, dsn, nil)
			for i := range n {
				if err := setup.Commit(ctx, createBatch(fmt.Sprint("r", i))); err != nil {
					t.Fatal(err)
				}
			}
			setup.Close()
			var db *DB
			switch refusal {
			case "read-only":
				db = open(t, dsn, nil)
				pgtest.SetReadOnly(t, dsn, true)
			case "statement_timeout":
				slow, err := pgx.Connect(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				defer slow.Close(ctx)
				if _, err := slow.Exec(ctx, `CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS
					$$BEGIN PERFORM pg_sleep(2); RETURN NEW; END$$;
					CREATE TRIGGER slow BEFORE UPDATE ON executions FOR EACH ROW EXECUTE FUNCTION slow()`); err != nil {
					t.Fatal(err)
				}
				db = open(t, withParam(t, dsn, "statement_timeout", "200"), nil)
			}
			var group []*queuedCommit
			for i := range n {
				group = append(group, queued(stepUpdate(fmt.Sprint("r", i), 2, "s2")))
			}
			if again := db.commitGroup(group); len(again) != 0 {
				for _, q := range group {
					select {
					case err := <-q.done:
						t.Logf("%s: %v", q.u.Execution.RunID, err)
					default:
					}
				}
				t.Fatalf("%d of %d updates handed back to be sent again, want none: the refusal fails the group", len(again), n)
			}
			for _, q := range group {
				select {
				case err := <-q.done:
					if !errors.Is(unavailable(err), swfd.ErrStorageUnavailable) {
						t.Errorf("%s: %v, want ErrStorageUnavailable", q.u.Execution.RunID, err)
					}
				default:
					t.Errorf("%s: no answer", q.u.Execution.RunID)
				}
			}
		})
	}
}

// TestGroupFailsOnlyTheUpdateThatWaitedForAHeldRow: under a
// statement_timeout (here the connection string's), a group whose update
// waits for a run's row that another session holds longer than the timeout
// fails that update alone, with ErrLocked; the other updates of the group,
// of runs no one holds, commit. Before, the timeout failed the whole group,
// so calls that touched only other runs were answered ServiceUnavailable
// too. So it must be under a statement_timeout longer than the group's
// commit timeout (the 10 s of defaultCommitTimeout against, say, 30 s;
// here 3 s against 5 s): the group's deadline, which came before the lock
// wait derived from the statement timeout ran out, failed the whole group
// (as a connection that did not answer) until the lock wait was bounded by
// the group's time left as well.
func TestGroupFailsOnlyTheUpdateThatWaitedForAHeldRow(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, statementTimeout string
		commitTimeout          time.Duration
	}{
		{"statement timeout within the commit timeout", "300", defaultCommitTimeout},
		{"statement timeout past the commit timeout", "5000", 3 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			const n, heldRun = 8, "r3"
			dsn := newDatabase(t)
			ctx := context.Background()
			setup := open(t, dsn, nil)
			for i := range n {
				if err := setup.Commit(ctx, createBatch(fmt.Sprint("r", i))); err != nil {
					t.Fatal(err)
				}
			}
			setup.Close()
			db := open(t, withParam(t, dsn, "statement_timeout", c.statementTimeout), nil)
			db.commitTimeout = c.commitTimeout
			locker, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer locker.Close(ctx)
			if _, err := locker.Exec(ctx, "BEGIN; SELECT run_id FROM executions WHERE run_id = '"+heldRun+"' FOR UPDATE"); err != nil {
				t.Fatal(err)
			}
			var group []*queuedCommit
			for i := range n {
				group = append(group, queued(stepUpdate(fmt.Sprint("r", i), 2, "s2")))
			}
			for g := group; len(g) > 0; {
				g = db.commitGroup(g)
			}
			for _, q := range group {
				err := <-q.done
				id := q.u.Execution.RunID
				switch {
				case id == heldRun && !errors.Is(err, swfd.ErrLocked):
					t.Errorf("%s, whose row was held: %v, want ErrLocked", id, err)
				case id != heldRun && err != nil:
					t.Errorf("%s, whose row no one held: %v, want it committed", id, err)
				}
			}
			if _, err := locker.Exec(ctx, "ROLLBACK"); err != nil {
				t.Fatal(err)
			}
			for i := range n {
				id := fmt.Sprint("r", i)
				e, err := db.GetExecution(ctx, "dom", id)
				want := int64(2)
				if id == heldRun {
					want = 1
				}
				if err != nil || e.Version != want {
					t.Errorf("%s: version %d (%v), want %d", id, e.Version, err, want)
				}
			}
		})
	}
}

// TestGroupWithEveryRowHeldEndsWithinTheCommitTimeout: a group whose runs'
// rows are all held by another session, under a statement_timeout, has each
// update fail alone for its lock wait in turn (the others sent again each
// time), but within the group's commit timeout all told: the updates still
// waiting their turn when it runs out fail unsent (context.DeadlineExceeded,
// nothing applied), rather than each waiting in its turn, a wait per update.
func TestGroupWithEveryRowHeldEndsWithinTheCommitTimeout(t *testing.T) {
	t.Parallel()
	const n = 8
	dsn := newDatabase(t)
	ctx := context.Background()
	setup := open(t, dsn, nil)
	for i := range n {
		if err := setup.Commit(ctx, createBatch(fmt.Sprint("r", i))); err != nil {
			t.Fatal(err)
		}
	}
	setup.Close()
	// A lock wait of 270 ms: 8 of them are twice the commit timeout.
	db := open(t, withParam(t, dsn, "statement_timeout", "300"), nil)
	db.commitTimeout = time.Second
	locker, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	if _, err := locker.Exec(ctx, "BEGIN; SELECT run_id FROM executions FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	var group []*queuedCommit
	for i := range n {
		group = append(group, queued(stepUpdate(fmt.Sprint("r", i), 2, "s2")))
	}
	for g := group; len(g) > 0; {
		g = db.commitGroup(g)
	}
	var locked, unsent int
	for _, q := range group {
		switch err := <-q.done; {
		case errors.Is(err, swfd.ErrLocked):
			locked++
		case errors.Is(err, context.DeadlineExceeded):
			unsent++
		default:
			t.Errorf("%s: %v, want ErrLocked or DeadlineExceeded", q.u.Execution.RunID, err)
		}
	}
	if locked == 0 || unsent == 0 {
		t.Errorf("%d updates failed for their lock wait and %d unsent at the deadline; want some of each", locked, unsent)
	}
}

// TestGroupLockWait: the lock wait a group transaction sets is a little
// shorter than the session's statement_timeout and than the group's time
// left, and none is set without a statement_timeout or when the session's
// own lock_timeout is as short already.
func TestGroupLockWait(t *testing.T) {
	for _, c := range []struct {
		st, lt int64
		left   time.Duration
		want   int64
		set    bool
	}{
		{st: 0, left: 10 * time.Second},
		{st: 300, left: 10 * time.Second, want: 270, set: true},
		{st: 5000, left: 10 * time.Second, want: 4950, set: true},
		{st: 30000, left: 10 * time.Second, want: 9000, set: true}, // past the commit timeout
		{st: 30000, left: 2 * time.Second, want: 1800, set: true},  // sent again, later
		{st: 30000, lt: 20000, left: 10 * time.Second, want: 9000, set: true},
		{st: 30000, lt: 5000, left: 10 * time.Second},
		{st: 300, lt: 270, left: 10 * time.Second},
		{st: 30000, left: 0, want: 1, set: true},
	} {
		got, set := groupLockWait(sessionTimeouts{statement: c.st, lock: c.lt}, c.left)
		if got != c.want || set != c.set {
			t.Errorf("statement_timeout %d, lock_timeout %d, %s left: %d (%v), want %d (%v)", c.st, c.lt, c.left, got, set, c.want, c.set)
		}
	}
}
