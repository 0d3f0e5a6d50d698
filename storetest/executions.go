package storetest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

func testExecutionCreateGet(t *testing.T, s swfd.Store) {
	e := swfd.Execution{
		Domain:           "dom",
		WorkflowID:       "order-1",
		RunID:            "run-1",
		TypeName:         "process",
		TypeVersion:      "v2",
		StartTime:        at(1).Add(250 * time.Millisecond),
		Open:             true,
		Tags:             []string{"b", "a", "Mixed Case"},
		ParentWorkflowID: "parent-wf",
		ParentRunID:      "parent-run",
		CancelRequested:  false,
		Version:          1,
		State:            []byte{0, 1, 2, 255},
	}
	create(t, s, e)
	checkExec(t, getExec(t, s, "dom", "run-1"), e)

	_, err := s.GetExecution(ctx(), "other", "run-1")
	wantErr(t, err, swfd.ErrNotFound, "GetExecution in another domain")
	_, err = s.GetExecution(ctx(), "dom", "run-2")
	wantErr(t, err, swfd.ErrNotFound, "GetExecution of a missing run")
	// An empty domain finds the run in any domain.
	checkExec(t, getExec(t, s, "", "run-1"), e)
	_, err = s.GetExecution(ctx(), "", "run-2")
	wantErr(t, err, swfd.ErrNotFound, "GetExecution of a missing run in any domain")

	// A run created with a version other than 1 keeps it.
	e2 := execution("dom", "order-2", "run-2", at(2))
	e2.Version = 7
	create(t, s, e2)
	checkExec(t, getExec(t, s, "dom", "run-2"), e2)
}

func testExecutionDuplicate(t *testing.T, s swfd.Store) {
	first := create(t, s, execution("dom", "wf", "run-1", at(1)))
	err := s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: execution("dom", "wf", "run-2", at(2)), Create: true}}})
	wantErr(t, err, swfd.ErrAlreadyExists, "Create with an open run of the workflowId")
	_, err = s.GetExecution(ctx(), "dom", "run-2")
	wantErr(t, err, swfd.ErrNotFound, "GetExecution of the refused run")

	// Another domain is another namespace.
	create(t, s, execution("dom2", "wf", "run-3", at(2)))

	// A closed run does not block a new one.
	closeRun(t, s, first, "COMPLETED", at(3))
	create(t, s, execution("dom", "wf", "run-2", at(4)))
	open, err := s.OpenRun(ctx(), "dom", "wf")
	noErr(t, err, "OpenRun")
	if open.RunID != "run-2" {
		t.Fatalf("OpenRun = %s, want run-2", open.RunID)
	}

	// A run id is unique whatever its state.
	err = s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: execution("dom", "wf-other", "run-1", at(5)), Create: true}}})
	wantErr(t, err, swfd.ErrAlreadyExists, "Create with the run id of a closed run")
}

func testExecutionUpdate(t *testing.T, s swfd.Store) {
	e := execution("dom", "wf", "run-1", at(1))
	e.Tags = []string{"t1"}
	create(t, s, e)
	e = next(e)
	e.CancelRequested = true
	e.State = bytes.Repeat([]byte("x"), 100_000)
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: e}}})
	checkExec(t, getExec(t, s, "dom", "run-1"), e)

	// Two updates of one run in one batch apply in order.
	e3 := next(e)
	e4 := next(e3)
	e4.State = []byte("four")
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: e3}, {Execution: e4}}})
	checkExec(t, getExec(t, s, "dom", "run-1"), e4)

	c := closeRun(t, s, e4, "TERMINATED", at(2).Add(time.Millisecond))
	checkExec(t, getExec(t, s, "dom", "run-1"), c)
	if _, err := s.OpenRun(ctx(), "dom", "wf"); !errors.Is(err, swfd.ErrNotFound) {
		t.Fatalf("OpenRun of a closed workflow: %v", err)
	}

	// Updating a run that does not exist fails and stores nothing.
	ghost := next(execution("dom", "ghost", "run-ghost", at(1)))
	err := s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: ghost, Events: events("run-ghost", 1, 1)}}})
	if err == nil {
		t.Fatal("Commit of an update of a missing run succeeded")
	}
	if !errors.Is(err, swfd.ErrNotFound) && !errors.Is(err, swfd.ErrConflict) {
		t.Fatalf("Commit of an update of a missing run: %v, want ErrNotFound or ErrConflict", err)
	}
	if evs := history(t, s, swfd.HistoryQuery{RunID: "run-ghost"}); len(evs) != 0 {
		t.Fatalf("events of the refused update were stored: %v", eventIDs(evs))
	}
}

func testVersionConflict(t *testing.T, s swfd.Store) {
	e := create(t, s, execution("dom", "wf", "run-1", at(1)))
	ahead := next(next(e)) // version 3 while 1 is stored
	wantErr(t, s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: ahead}}}), swfd.ErrConflict, "update skipping a version")
	same := e // version 1 again
	same.State = []byte("stale")
	wantErr(t, s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: same}}}), swfd.ErrConflict, "update at the stored version")
	checkExec(t, getExec(t, s, "dom", "run-1"), e)

	e2 := next(e)
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: e2}}})
	stale := next(e) // another writer's version 2
	stale.State = []byte("loser")
	wantErr(t, s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: stale}}}), swfd.ErrConflict, "stale update")
	checkExec(t, getExec(t, s, "dom", "run-1"), e2)

	// A close is held to the version as any update is, and a run closes
	// once: closing it again at the next version is no reopening.
	wantErr(t, s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: closed(e, "COMPLETED", at(2)), Closed: true}}}),
		swfd.ErrConflict, "stale close")
	checkExec(t, getExec(t, s, "dom", "run-1"), e2)
	c := closeRun(t, s, e2, "FAILED", at(3))
	checkExec(t, getExec(t, s, "dom", "run-1"), c)
	again := closed(e2, "COMPLETED", at(4)) // version 3 again
	wantErr(t, s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: again, Closed: true}}}), swfd.ErrConflict, "second close")
	checkExec(t, getExec(t, s, "dom", "run-1"), c)
}

// testCommitAtomic checks that a failing batch leaves no trace.
func testCommitAtomic(t *testing.T, s swfd.Store) {
	a := create(t, s, execution("dom", "wf-a", "run-a", at(1)))
	b := create(t, s, execution("dom", "wf-b", "run-b", at(1)))
	commit(t, s, swfd.Batch{
		Updates: []swfd.Update{{
			Execution: next(a),
			Events:    events("run-a", 1, 2),
			AddTasks:  []swfd.Task{{Kind: swfd.DecisionTask, Domain: "dom", TaskList: "tl", RunID: "run-a", ScheduledEventID: 2, Scheduled: at(1)}},
			AddTimers: []swfd.Timer{{RunID: "run-a", Key: "t1", Due: at(10)}},
		}},
		AddTransfers: []swfd.Transfer{{RunID: "run-b", Payload: []byte("p1")}},
	})
	a = next(a)
	transfers, err := s.PendingTransfers(ctx(), 10)
	noErr(t, err, "PendingTransfers")
	if len(transfers) != 1 {
		t.Fatalf("%d transfers, want 1", len(transfers))
	}

	snapshot := func() string {
		t.Helper()
		var buf bytes.Buffer
		for _, run := range []string{"run-a", "run-b", "run-c", "run-d"} {
			if e, err := s.GetExecution(ctx(), "dom", run); err == nil {
				fmt.Fprintln(&buf, execView(e))
			} else if !errors.Is(err, swfd.ErrNotFound) {
				t.Fatal(err)
			}
			fmt.Fprintln(&buf, run, eventIDs(history(t, s, swfd.HistoryQuery{RunID: run})))
		}
		tasks, err := s.PendingTasks(ctx())
		noErr(t, err, "PendingTasks")
		for _, tk := range sortedTasks(tasks) {
			fmt.Fprintf(&buf, "task %s/%d\n", tk.RunID, tk.ScheduledEventID)
		}
		timers, err := s.DueTimers(ctx(), at(1000), 100)
		noErr(t, err, "DueTimers")
		for _, tm := range sortedTimers(timers) {
			fmt.Fprintf(&buf, "timer %s/%s %s\n", tm.RunID, tm.Key, ms(tm.Due))
		}
		trs, err := s.PendingTransfers(ctx(), 100)
		noErr(t, err, "PendingTransfers")
		for _, tr := range trs {
			fmt.Fprintf(&buf, "transfer %d %s %q\n", tr.ID, tr.RunID, tr.Payload)
		}
		open, err := s.CountOpen(ctx(), "dom")
		noErr(t, err, "CountOpen")
		fmt.Fprintln(&buf, "open", open)
		return buf.String()
	}
	before := snapshot()

	big := func(e swfd.Execution, first int64) swfd.Update {
		return swfd.Update{
			Execution:    next(e),
			Events:       events(e.RunID, first, first+2),
			AddTasks:     []swfd.Task{{Kind: swfd.ActivityTask, Domain: "dom", TaskList: "acts", RunID: e.RunID, ScheduledEventID: first, Scheduled: at(2)}},
			DoneTasks:    []int64{2},
			AddTimers:    []swfd.Timer{{RunID: e.RunID, Key: "t2", Due: at(3)}},
			DeleteTimers: []string{"t1"},
		}
	}
	bad := next(next(next(b))) // version 4: conflicts even after big(b)
	cases := []struct {
		name  string
		batch swfd.Batch
		want  error
	}{
		{"conflict in the last update", swfd.Batch{
			Updates:       []swfd.Update{big(a, 3), big(b, 1), {Execution: bad}},
			AddTransfers:  []swfd.Transfer{{RunID: "run-a", Payload: []byte("p2")}},
			DoneTransfers: []int64{transfers[0].ID},
		}, swfd.ErrConflict},
		{"conflict in the first update", swfd.Batch{
			Updates:      []swfd.Update{{Execution: bad}, big(a, 3)},
			AddTransfers: []swfd.Transfer{{RunID: "run-a", Payload: []byte("p2")}},
		}, swfd.ErrConflict},
		{"create and conflict", swfd.Batch{
			Updates: []swfd.Update{
				{Execution: execution("dom", "wf-c", "run-c", at(5)), Create: true, Events: events("run-c", 1, 1)},
				{Execution: bad},
			},
		}, swfd.ErrConflict},
		{"create and duplicate create", swfd.Batch{
			Updates: []swfd.Update{
				{Execution: execution("dom", "wf-c", "run-c", at(5)), Create: true, Events: events("run-c", 1, 1)},
				big(a, 3),
				{Execution: execution("dom", "wf-b", "run-d", at(5)), Create: true, Events: events("run-d", 1, 1)},
			},
			AddTransfers: []swfd.Transfer{{RunID: "run-c", Payload: []byte("p3")}},
		}, swfd.ErrAlreadyExists},
		// Batches of one update (one statement in the PostgreSQL store).
		{"one update adding an event the run has", swfd.Batch{Updates: []swfd.Update{big(a, 2)}}, swfd.ErrConflict},
		{"one stale update", swfd.Batch{Updates: []swfd.Update{func() swfd.Update {
			u := big(b, 1)
			u.Execution = bad
			return u
		}()}}, swfd.ErrConflict},
		{"one duplicate create", swfd.Batch{Updates: []swfd.Update{{
			Execution: execution("dom", "wf-b", "run-d", at(5)), Create: true, Events: events("run-d", 1, 1),
			AddTasks: []swfd.Task{{Kind: swfd.DecisionTask, Domain: "dom", TaskList: "tl", RunID: "run-d", ScheduledEventID: 1, Scheduled: at(5)}},
		}}}, swfd.ErrAlreadyExists},
		{"closing update and conflict", swfd.Batch{
			Updates: []swfd.Update{
				{Execution: closed(a, "COMPLETED", at(6)), Closed: true, Events: events("run-a", 3, 3)},
				{Execution: bad},
			},
		}, swfd.ErrConflict},
	}
	for _, tc := range cases {
		wantErr(t, s.Commit(ctx(), tc.batch), tc.want, tc.name)
		if after := snapshot(); after != before {
			t.Fatalf("%s: the failed batch changed the store:\nbefore:\n%s\nafter:\n%s", tc.name, before, after)
		}
	}

	// The same batch minus its faulty update applies entirely.
	commit(t, s, swfd.Batch{
		Updates:       []swfd.Update{big(a, 3), big(b, 1)},
		AddTransfers:  []swfd.Transfer{{RunID: "run-a", Payload: []byte("p2")}},
		DoneTransfers: []int64{transfers[0].ID},
	})
	if got := getExec(t, s, "dom", "run-a"); got.Version != 3 {
		t.Fatalf("run-a version %d, want 3", got.Version)
	}
	checkIDs(t, "run-a history", eventIDs(history(t, s, swfd.HistoryQuery{RunID: "run-a"})), []int64{1, 2, 3, 4, 5})
	trs, err := s.PendingTransfers(ctx(), 10)
	noErr(t, err, "PendingTransfers")
	if len(trs) != 1 || string(trs[0].Payload) != "p2" {
		t.Fatalf("transfers after the good batch: %+v", trs)
	}
}

func testOpenAndLatestRun(t *testing.T, s swfd.Store) {
	_, err := s.OpenRun(ctx(), "dom", "wf")
	wantErr(t, err, swfd.ErrNotFound, "OpenRun of an unknown workflow")
	_, err = s.LatestRun(ctx(), "dom", "wf")
	wantErr(t, err, swfd.ErrNotFound, "LatestRun of an unknown workflow")

	r1 := create(t, s, execution("dom", "wf", "run-1", at(1)))
	got, err := s.LatestRun(ctx(), "dom", "wf")
	noErr(t, err, "LatestRun")
	checkExec(t, got, r1)
	got, err = s.OpenRun(ctx(), "dom", "wf")
	noErr(t, err, "OpenRun")
	checkExec(t, got, r1)

	r1 = closeRun(t, s, r1, "CONTINUED_AS_NEW", at(2))
	_, err = s.OpenRun(ctx(), "dom", "wf")
	wantErr(t, err, swfd.ErrNotFound, "OpenRun after close")
	got, err = s.LatestRun(ctx(), "dom", "wf")
	noErr(t, err, "LatestRun")
	checkExec(t, got, r1)

	r2 := create(t, s, execution("dom", "wf", "run-0", at(2))) // sorts before run-1 by id, started later
	got, err = s.OpenRun(ctx(), "dom", "wf")
	noErr(t, err, "OpenRun")
	checkExec(t, got, r2)
	got, err = s.LatestRun(ctx(), "dom", "wf")
	noErr(t, err, "LatestRun")
	checkExec(t, got, r2) // started later, though its id sorts first
	r2 = closeRun(t, s, r2, "COMPLETED", at(4))
	got, err = s.LatestRun(ctx(), "dom", "wf")
	noErr(t, err, "LatestRun")
	checkExec(t, got, r2)
	r3 := create(t, s, execution("dom", "wf", "run-3", at(3)))
	got, err = s.LatestRun(ctx(), "dom", "wf")
	noErr(t, err, "LatestRun")
	checkExec(t, got, r3)
	r3 = closeRun(t, s, r3, "COMPLETED", at(5))
	create(t, s, execution("dom2", "wf", "run-x", at(9))) // another domain
	got, err = s.LatestRun(ctx(), "dom", "wf")
	noErr(t, err, "LatestRun")
	checkExec(t, got, r3) // the latest start, not the latest close
	// A run inserted last but started earlier is not the latest.
	closeRun(t, s, create(t, s, execution("dom", "wf", "run-4", at(2).Add(time.Millisecond))), "COMPLETED", at(6))
	got, err = s.LatestRun(ctx(), "dom", "wf")
	noErr(t, err, "LatestRun")
	checkExec(t, got, r3)
	_, err = s.LatestRun(ctx(), "dom3", "wf")
	wantErr(t, err, swfd.ErrNotFound, "LatestRun in another domain")
}

func testHistory(t *testing.T, s swfd.Store) {
	e := execution("dom", "wf", "run-1", at(1))
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: e, Create: true, Events: events("run-1", 1, 4)}}})
	e = next(e)
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: e, Events: events("run-1", 5, 10)}}})
	other := execution("dom", "wf-2", "run-2", at(1))
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: other, Create: true, Events: events("run-2", 1, 3)}}})

	h := func(q swfd.HistoryQuery) []int64 {
		t.Helper()
		q.RunID = "run-1"
		return eventIDs(history(t, s, q))
	}
	checkIDs(t, "all", h(swfd.HistoryQuery{}), []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	checkIDs(t, "limit", h(swfd.HistoryQuery{Limit: 3}), []int64{1, 2, 3})
	checkIDs(t, "negative limit", h(swfd.HistoryQuery{Limit: -1}), []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	checkIDs(t, "after 3 limit 4", h(swfd.HistoryQuery{AfterID: 3, Limit: 4}), []int64{4, 5, 6, 7})
	checkIDs(t, "after 8", h(swfd.HistoryQuery{AfterID: 8}), []int64{9, 10})
	checkIDs(t, "after 10", h(swfd.HistoryQuery{AfterID: 10}), nil)
	checkIDs(t, "reverse", h(swfd.HistoryQuery{Reverse: true}), []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1})
	checkIDs(t, "reverse limit 3", h(swfd.HistoryQuery{Reverse: true, Limit: 3}), []int64{10, 9, 8})
	checkIDs(t, "reverse before 5", h(swfd.HistoryQuery{Reverse: true, AfterID: 5}), []int64{4, 3, 2, 1})
	checkIDs(t, "reverse before 8 limit 2", h(swfd.HistoryQuery{Reverse: true, AfterID: 8, Limit: 2}), []int64{7, 6})
	checkIDs(t, "reverse before 1", h(swfd.HistoryQuery{Reverse: true, AfterID: 1}), nil)
	checkIDs(t, "other run", eventIDs(history(t, s, swfd.HistoryQuery{RunID: "run-2"})), []int64{1, 2, 3})
	checkIDs(t, "unknown run", eventIDs(history(t, s, swfd.HistoryQuery{RunID: "run-3"})), nil)
	// MaxBytes: the events up to the one that takes their JSON past it
	// (events 1 to 9 take 27 bytes each, event 10 28).
	checkIDs(t, "max bytes 53", h(swfd.HistoryQuery{MaxBytes: 53}), []int64{1, 2})
	checkIDs(t, "max bytes 54", h(swfd.HistoryQuery{MaxBytes: 54}), []int64{1, 2, 3})
	checkIDs(t, "max bytes 1", h(swfd.HistoryQuery{MaxBytes: 1}), []int64{1})
	checkIDs(t, "max bytes 1 after 3", h(swfd.HistoryQuery{AfterID: 3, MaxBytes: 1}), []int64{4})
	checkIDs(t, "max bytes past the limit", h(swfd.HistoryQuery{Limit: 2, MaxBytes: 1000}), []int64{1, 2})
	checkIDs(t, "max bytes past the end", h(swfd.HistoryQuery{AfterID: 8, MaxBytes: 1000}), []int64{9, 10})
	checkIDs(t, "reverse max bytes 30", h(swfd.HistoryQuery{Reverse: true, MaxBytes: 30}), []int64{10, 9})
	checkIDs(t, "reverse before 5 max bytes 54", h(swfd.HistoryQuery{Reverse: true, AfterID: 5, MaxBytes: 54, Limit: 10}), []int64{4, 3, 2})
	checkIDs(t, "reverse before 1 max bytes 1", h(swfd.HistoryQuery{Reverse: true, AfterID: 1, MaxBytes: 1}), nil)

	// Paging visits every event once, both ways.
	for _, rev := range []bool{false, true} {
		var got []int64
		var after int64
		for range 20 {
			page := h(swfd.HistoryQuery{AfterID: after, Reverse: rev, Limit: 3})
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1]
		}
		want := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
		if rev {
			slices.Reverse(want)
		}
		checkIDs(t, fmt.Sprintf("paged reverse=%v", rev), got, want)
	}
}

func sortedTasks(ts []swfd.Task) []swfd.Task {
	ts = slices.Clone(ts)
	slices.SortFunc(ts, func(a, b swfd.Task) int {
		return cmp.Or(cmp.Compare(a.RunID, b.RunID), cmp.Compare(a.ScheduledEventID, b.ScheduledEventID))
	})
	return ts
}

func taskView(tk swfd.Task) string {
	return fmt.Sprintf("%s/%d %s %s/%s p%d %s", tk.RunID, tk.ScheduledEventID, tk.Kind, tk.Domain, tk.TaskList, tk.Priority, ms(tk.Scheduled))
}

func pendingTasks(t *testing.T, s swfd.Store) []string {
	t.Helper()
	ts, err := s.PendingTasks(ctx())
	noErr(t, err, "PendingTasks")
	var out []string
	for _, tk := range sortedTasks(ts) {
		out = append(out, taskView(tk))
	}
	return out
}

func testTasks(t *testing.T, s swfd.Store) {
	checkIDs(t, "no tasks", pendingTasks(t, s), nil)
	a := execution("dom", "wf-a", "run-a", at(1))
	b := execution("dom", "wf-b", "run-b", at(1))
	ta := []swfd.Task{
		{Kind: swfd.DecisionTask, Domain: "dom", TaskList: "deciders", Priority: 0, RunID: "run-a", ScheduledEventID: 2, Scheduled: at(1)},
		{Kind: swfd.ActivityTask, Domain: "dom", TaskList: "acts", Priority: -5, RunID: "run-a", ScheduledEventID: 5, Scheduled: at(2).Add(3 * time.Millisecond)},
		{Kind: swfd.ActivityTask, Domain: "dom", TaskList: "acts", Priority: 7, RunID: "run-a", ScheduledEventID: 6, Scheduled: at(2)},
	}
	tb := []swfd.Task{
		{Kind: swfd.ActivityTask, Domain: "dom", TaskList: "other", Priority: 1, RunID: "run-b", ScheduledEventID: 5, Scheduled: at(3)},
	}
	commit(t, s, swfd.Batch{Updates: []swfd.Update{
		{Execution: a, Create: true, AddTasks: ta},
		{Execution: b, Create: true, AddTasks: tb},
	}})
	var want []string
	for _, tk := range sortedTasks(append(slices.Clone(ta), tb...)) {
		want = append(want, taskView(tk))
	}
	checkIDs(t, "added", pendingTasks(t, s), want)

	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: next(a), DoneTasks: []int64{5, 99}}}})
	a = next(a)
	checkIDs(t, "after DoneTasks", pendingTasks(t, s), []string{taskView(ta[0]), taskView(ta[2]), taskView(tb[0])})

	// A task removed and added again in one update is there, as added.
	readded := ta[2]
	readded.Priority, readded.Scheduled = 9, at(3)
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: next(a), DoneTasks: []int64{6}, AddTasks: []swfd.Task{readded}}}})
	a = next(a)
	checkIDs(t, "re-added", pendingTasks(t, s), []string{taskView(ta[0]), taskView(readded), taskView(tb[0])})

	// Closed removes every task of the run, those it adds too, and only
	// of that run: a task it adds for another run stays.
	late := swfd.Task{Kind: swfd.ActivityTask, Domain: "dom", TaskList: "acts", RunID: "run-a", ScheduledEventID: 8, Scheduled: at(4)}
	forB := swfd.Task{Kind: swfd.ActivityTask, Domain: "dom", TaskList: "acts", RunID: "run-b", ScheduledEventID: 9, Scheduled: at(4)}
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: closed(a, "COMPLETED", at(4)), Closed: true,
		AddTasks: []swfd.Task{late, forB}, DoneTasks: []int64{5}}}})
	checkIDs(t, "after Closed", pendingTasks(t, s), []string{taskView(tb[0]), taskView(forB)})
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: next(b), DoneTasks: []int64{5, 9}}}})
	checkIDs(t, "all done", pendingTasks(t, s), nil)
}

// A Lambda task is a task with no task list, kept until its function is
// started. Its start takes it off and arms its timeout in one update, so
// after a crash there is either the task (not invoked yet) or the timer
// (invoked, or about to be), never both and never neither.
func testLambdaTasks(t *testing.T, s swfd.Store) {
	a := execution("dom", "wf-a", "run-a", at(1))
	lt := swfd.Task{Kind: swfd.LambdaTask, Domain: "dom", RunID: "run-a", ScheduledEventID: 5, Scheduled: at(1)}
	dt := swfd.Task{Kind: swfd.DecisionTask, Domain: "dom", TaskList: "deciders", RunID: "run-a", ScheduledEventID: 2, Scheduled: at(1)}
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: a, Create: true, AddTasks: []swfd.Task{dt, lt}}}})
	checkIDs(t, "scheduled", pendingTasks(t, s), []string{taskView(dt), taskView(lt)})
	ts, err := s.PendingTasks(ctx())
	noErr(t, err, "PendingTasks")
	for _, tk := range ts {
		if tk.ScheduledEventID == 5 && (tk.Kind != swfd.LambdaTask || tk.TaskList != "" || tk.Kind.Polled()) {
			t.Fatalf("Lambda task read back as %+v", tk)
		}
	}

	// The start: the task goes, the timer comes, at once.
	timer := swfd.Timer{RunID: "run-a", Key: "lf:5:S2C", Due: at(16)}
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: next(a), DoneTasks: []int64{5}, AddTimers: []swfd.Timer{timer}}}})
	a = next(a)
	checkIDs(t, "started", pendingTasks(t, s), []string{taskView(dt)})
	checkIDs(t, "its timeout", dueTimers(t, s, at(16), 10), []string{timerView(timer)})

	// A second Lambda task, then the run closes: its task and the first
	// one's timer go with it.
	lt2 := lt
	lt2.ScheduledEventID = 7
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: next(a), AddTasks: []swfd.Task{lt2}}}})
	a = next(a)
	checkIDs(t, "another", pendingTasks(t, s), []string{taskView(dt), taskView(lt2)})
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: closed(a, "COMPLETED", at(2)), Closed: true}}})
	checkIDs(t, "closed", pendingTasks(t, s), nil)
	checkIDs(t, "closed timers", dueTimers(t, s, at(16), 10), nil)
}

func sortedTimers(ts []swfd.Timer) []swfd.Timer {
	ts = slices.Clone(ts)
	slices.SortFunc(ts, func(a, b swfd.Timer) int {
		return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.RunID, b.RunID), cmp.Compare(a.Key, b.Key))
	})
	return ts
}

func timerView(tm swfd.Timer) string { return fmt.Sprintf("%s/%s@%s", tm.RunID, tm.Key, ms(tm.Due)) }

// dueTimers checks DueTimers' order and bound and returns its timers in a
// canonical order (timers due at the same instant may come in any order).
func dueTimers(t *testing.T, s swfd.Store, now time.Time, limit int) []string {
	t.Helper()
	ts, err := s.DueTimers(ctx(), now, limit)
	noErr(t, err, "DueTimers")
	if len(ts) > limit {
		t.Fatalf("DueTimers(limit %d) returned %d", limit, len(ts))
	}
	var out []string
	for i, tm := range ts {
		if tm.Due.After(now) {
			t.Fatalf("DueTimers(%s) returned %s", ms(now), timerView(tm))
		}
		if i > 0 && tm.Due.Before(ts[i-1].Due) {
			t.Fatalf("DueTimers not earliest first: %s after %s", timerView(tm), timerView(ts[i-1]))
		}
	}
	for _, tm := range sortedTimers(ts) {
		out = append(out, timerView(tm))
	}
	return out
}

func testTimers(t *testing.T, s swfd.Store) {
	_, err := s.NextTimer(ctx())
	wantErr(t, err, swfd.ErrNotFound, "NextTimer of an empty store")
	a := execution("dom", "wf-a", "run-a", at(0))
	b := execution("dom", "wf-b", "run-b", at(0))
	ta := []swfd.Timer{{RunID: "run-a", Key: "x", Due: at(5)}, {RunID: "run-a", Key: "y", Due: at(1).Add(1 * time.Millisecond)}}
	tb := []swfd.Timer{{RunID: "run-b", Key: "x", Due: at(3)}, {RunID: "run-b", Key: "z", Due: at(3)}}
	commit(t, s, swfd.Batch{Updates: []swfd.Update{
		{Execution: a, Create: true, AddTimers: ta},
		{Execution: b, Create: true, AddTimers: tb},
	}})

	checkIDs(t, "none due", dueTimers(t, s, at(1), 10), nil)
	checkIDs(t, "one due", dueTimers(t, s, at(1).Add(time.Millisecond), 10), []string{timerView(ta[1])})
	checkIDs(t, "due at the bound", dueTimers(t, s, at(3), 10), []string{timerView(ta[1]), timerView(tb[0]), timerView(tb[1])})
	checkIDs(t, "limit 1", dueTimers(t, s, at(10), 1), []string{timerView(ta[1])})
	if got := dueTimers(t, s, at(10), 2); len(got) != 2 || got[0] != timerView(ta[1]) {
		t.Fatalf("DueTimers limit 2: %v", got)
	}
	checkIDs(t, "all", dueTimers(t, s, at(10), 10), []string{timerView(ta[1]), timerView(tb[0]), timerView(tb[1]), timerView(ta[0])})
	next1, err := s.NextTimer(ctx())
	noErr(t, err, "NextTimer")
	checkIDs(t, "next", []string{timerView(next1)}, []string{timerView(ta[1])})

	// Adding an existing key replaces the timer; deleting removes one.
	moved := swfd.Timer{RunID: "run-a", Key: "y", Due: at(20)}
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: next(a), AddTimers: []swfd.Timer{moved}, DeleteTimers: []string{"nope"}}}})
	a = next(a)
	checkIDs(t, "after replace", dueTimers(t, s, at(30), 10), []string{timerView(tb[0]), timerView(tb[1]), timerView(ta[0]), timerView(moved)})
	next1, err = s.NextTimer(ctx())
	noErr(t, err, "NextTimer")
	if !next1.Due.Equal(at(3)) || next1.RunID != "run-b" {
		t.Fatalf("NextTimer = %s, want a run-b timer at %s", timerView(next1), ms(at(3)))
	}
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: next(b), DeleteTimers: []string{"x"}}}})
	b = next(b)
	next1, err = s.NextTimer(ctx())
	noErr(t, err, "NextTimer")
	checkIDs(t, "next after delete", []string{timerView(next1)}, []string{timerView(tb[1])})

	// A timer deleted and re-added in one update is there.
	again := swfd.Timer{RunID: "run-b", Key: "z", Due: at(4)}
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: next(b), DeleteTimers: []string{"z"}, AddTimers: []swfd.Timer{again}}}})
	b = next(b)
	checkIDs(t, "re-added", dueTimers(t, s, at(30), 10), []string{timerView(again), timerView(ta[0]), timerView(moved)})

	// Closed removes every timer of the run, those it adds too, and only
	// of that run: a timer it adds for another run stays, and its
	// DeleteTimers are of its own run.
	fromA := swfd.Timer{RunID: "run-b", Key: "from-a", Due: at(8)}
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: closed(a, "FAILED", at(6)), Closed: true,
		AddTimers: []swfd.Timer{{RunID: "run-a", Key: "late", Due: at(7)}, fromA}, DeleteTimers: []string{"z"}}}})
	checkIDs(t, "after Closed", dueTimers(t, s, at(30), 10), []string{timerView(again), timerView(fromA)})
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: closed(b, "FAILED", at(6)), Closed: true}}})
	_, err = s.NextTimer(ctx())
	wantErr(t, err, swfd.ErrNotFound, "NextTimer after every run closed")
}

func testTransfers(t *testing.T, s swfd.Store) {
	trs, err := s.PendingTransfers(ctx(), 10)
	noErr(t, err, "PendingTransfers")
	if len(trs) != 0 {
		t.Fatalf("transfers in an empty store: %+v", trs)
	}
	a := execution("dom", "wf-a", "run-a", at(0))
	commit(t, s, swfd.Batch{
		Updates:      []swfd.Update{{Execution: a, Create: true}},
		AddTransfers: []swfd.Transfer{{RunID: "run-x", Payload: []byte("one")}, {RunID: "run-y", Payload: []byte("two")}},
	})
	commit(t, s, swfd.Batch{AddTransfers: []swfd.Transfer{{RunID: "run-x", Payload: []byte("three")}}})
	commit(t, s, swfd.Batch{AddTransfers: []swfd.Transfer{{RunID: "run-z", Payload: []byte{0, 255}}}})

	pending := func(limit int) []swfd.Transfer {
		t.Helper()
		trs, err := s.PendingTransfers(ctx(), limit)
		noErr(t, err, "PendingTransfers")
		if len(trs) > limit {
			t.Fatalf("PendingTransfers(%d) returned %d", limit, len(trs))
		}
		return trs
	}
	view := func(trs []swfd.Transfer) []string {
		var out []string
		for _, tr := range trs {
			out = append(out, tr.RunID+":"+string(tr.Payload))
		}
		return out
	}
	all := pending(10)
	checkIDs(t, "pending", view(all), []string{"run-x:one", "run-y:two", "run-x:three", "run-z:\x00\xff"})
	seen := map[int64]bool{}
	for i, tr := range all {
		if tr.ID == 0 || seen[tr.ID] {
			t.Fatalf("transfer ids not assigned or not unique: %+v", all)
		}
		seen[tr.ID] = true
		if i > 0 && tr.ID <= all[i-1].ID {
			t.Fatalf("transfer ids not increasing in commit order: %+v", all)
		}
	}
	checkIDs(t, "limit 2", view(pending(2)), []string{"run-x:one", "run-y:two"})

	// Done with the update that delivers them.
	commit(t, s, swfd.Batch{
		Updates:       []swfd.Update{{Execution: next(a), Events: events("run-a", 1, 1)}},
		DoneTransfers: []int64{all[0].ID, all[2].ID},
	})
	checkIDs(t, "after done", view(pending(10)), []string{"run-y:two", "run-z:\x00\xff"})
	commit(t, s, swfd.Batch{DoneTransfers: []int64{all[1].ID}, AddTransfers: []swfd.Transfer{{RunID: "run-a", Payload: []byte("five")}}})
	rest := pending(10)
	checkIDs(t, "after done and add", view(rest), []string{"run-z:\x00\xff", "run-a:five"})
	if rest[1].ID <= all[3].ID {
		t.Fatalf("a new transfer's id %d is not after the older %d", rest[1].ID, all[3].ID)
	}
}

func testConcurrentCreate(t *testing.T, s swfd.Store) {
	const n = 24
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			e := execution("dom", "same", fmt.Sprintf("run-%02d", i), at(1))
			errs[i] = s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: e, Create: true, Events: events(e.RunID, 1, 2)}}})
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("runs %d and %d both created", winner, i)
			}
			winner = i
		case !errors.Is(err, swfd.ErrAlreadyExists):
			t.Fatalf("run %d: %v, want ErrAlreadyExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no create succeeded")
	}
	open, err := s.OpenRun(ctx(), "dom", "same")
	noErr(t, err, "OpenRun")
	if want := fmt.Sprintf("run-%02d", winner); open.RunID != want {
		t.Fatalf("OpenRun = %s, want %s", open.RunID, want)
	}
	n2, err := s.CountOpen(ctx(), "dom")
	noErr(t, err, "CountOpen")
	if n2 != 1 {
		t.Fatalf("CountOpen = %d", n2)
	}
	for i := range n {
		evs := history(t, s, swfd.HistoryQuery{RunID: fmt.Sprintf("run-%02d", i)})
		if (i == winner) != (len(evs) == 2) {
			t.Fatalf("run %d has %d events", i, len(evs))
		}
	}
}

// testConcurrentUpdate races writers of one run. Each writer's batch first
// updates a run of its own, then the shared run: the losers' batches must
// leave no trace, even when a driver commits them together with the winner's.
func testConcurrentUpdate(t *testing.T, s swfd.Store) {
	const n = 16
	shared := create(t, s, execution("dom", "wf", "run-shared", at(1)))
	own := make([]swfd.Execution, n)
	for i := range n {
		own[i] = create(t, s, execution("dom", fmt.Sprintf("wf-%02d", i), fmt.Sprintf("run-%02d", i), at(1)))
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			u := next(shared)
			u.State = []byte(fmt.Sprintf("writer-%d", i))
			mine := next(own[i])
			errs[i] = s.Commit(ctx(), swfd.Batch{
				Updates: []swfd.Update{
					{Execution: mine, Events: events(mine.RunID, 1, 2),
						AddTimers: []swfd.Timer{{RunID: mine.RunID, Key: "k", Due: at(5)}},
						AddTasks:  []swfd.Task{{Kind: swfd.DecisionTask, Domain: "dom", TaskList: "tl", RunID: mine.RunID, ScheduledEventID: 2, Scheduled: at(1)}}},
					{Execution: u, Events: events("run-shared", 1, 1)},
				},
				AddTransfers: []swfd.Transfer{{RunID: "run-shared", Payload: u.State}},
			})
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("writers %d and %d both committed", winner, i)
			}
			winner = i
		case !errors.Is(err, swfd.ErrConflict):
			t.Fatalf("writer %d: %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer committed")
	}
	got := getExec(t, s, "dom", "run-shared")
	if want := fmt.Sprintf("writer-%d", winner); string(got.State) != want || got.Version != 2 {
		t.Fatalf("state %q version %d, want %q version 2", got.State, got.Version, want)
	}
	checkIDs(t, "shared history", eventIDs(history(t, s, swfd.HistoryQuery{RunID: "run-shared"})), []int64{1})
	for i := range n {
		e := getExec(t, s, "dom", own[i].RunID)
		evs := history(t, s, swfd.HistoryQuery{RunID: own[i].RunID})
		if i == winner {
			if e.Version != 2 || len(evs) != 2 {
				t.Fatalf("winner %d: version %d, %d events", i, e.Version, len(evs))
			}
			continue
		}
		if e.Version != 1 || len(evs) != 0 {
			t.Fatalf("loser %d's batch was partly applied: version %d, %d events", i, e.Version, len(evs))
		}
	}
	tasks, err := s.PendingTasks(ctx())
	noErr(t, err, "PendingTasks")
	timers, err := s.DueTimers(ctx(), at(100), 100)
	noErr(t, err, "DueTimers")
	trs, err := s.PendingTransfers(ctx(), 100)
	noErr(t, err, "PendingTransfers")
	if len(tasks) != 1 || len(timers) != 1 || len(trs) != 1 || string(trs[0].Payload) != string(got.State) {
		t.Fatalf("after the race: %d tasks, %d timers, transfers %+v; want only the winner's", len(tasks), len(timers), trs)
	}
}

// sharedAndOwnRuns creates run-shared and one run per writer, and returns
// the writers' runs.
func sharedAndOwnRuns(t *testing.T, s swfd.Store, writers int) []swfd.Execution {
	create(t, s, execution("dom", "wf", "run-shared", at(1)))
	own := make([]swfd.Execution, writers)
	for i := range writers {
		own[i] = create(t, s, execution("dom", fmt.Sprintf("wf-%02d", i), fmt.Sprintf("run-%02d", i), at(1)))
	}
	return own
}

// testConcurrentRounds has writers race for one run over many rounds, each
// batch also updating a run of the writer's own: no update may be lost, and
// no loser's batch may leave a trace, whichever batches a driver commits
// together.
func testConcurrentRounds(t *testing.T, s swfd.Store) {
	const writers, rounds = 8, 12
	own := sharedAndOwnRuns(t, s, writers)
	wins := make([]int, writers)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := own[i]
			for r := range rounds {
				cur, err := s.GetExecution(ctx(), "dom", "run-shared")
				if err != nil {
					errs <- err
					return
				}
				u := next(cur)
				u.State = []byte(fmt.Sprintf("writer-%d-%d", i, r))
				m := next(mine)
				err = s.Commit(ctx(), swfd.Batch{
					Updates: []swfd.Update{
						{Execution: m, Events: events(m.RunID, 2*mine.Version-1, 2*mine.Version),
							AddTimers: []swfd.Timer{{RunID: m.RunID, Key: fmt.Sprint(mine.Version), Due: at(5)}}},
						{Execution: u, Events: events("run-shared", cur.Version, cur.Version)},
					},
					AddTransfers: []swfd.Transfer{{RunID: "run-shared", Payload: u.State}},
				})
				switch {
				case err == nil:
					mine = m
					wins[i]++
				case !errors.Is(err, swfd.ErrConflict):
					errs <- fmt.Errorf("writer %d round %d: %w", i, r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for i, w := range wins {
		total += w
		e := getExec(t, s, "dom", own[i].RunID)
		n := len(history(t, s, swfd.HistoryQuery{RunID: own[i].RunID}))
		if e.Version != int64(1+w) || n != 2*w {
			t.Fatalf("writer %d won %d times: its run is at version %d with %d events", i, w, e.Version, n)
		}
	}
	shared := getExec(t, s, "dom", "run-shared")
	if shared.Version != int64(1+total) {
		t.Fatalf("shared run at version %d after %d winning commits", shared.Version, total)
	}
	if n := len(history(t, s, swfd.HistoryQuery{RunID: "run-shared"})); n != total {
		t.Fatalf("shared run has %d events after %d winning commits", n, total)
	}
	timers, err := s.DueTimers(ctx(), at(100), 10_000)
	noErr(t, err, "DueTimers")
	trs, err := s.PendingTransfers(ctx(), 10_000)
	noErr(t, err, "PendingTransfers")
	if len(timers) != total || len(trs) != total {
		t.Fatalf("%d timers and %d transfers after %d winning commits", len(timers), len(trs), total)
	}
	t.Logf("%d of %d commits won", total, writers*rounds)
}

// testConcurrentSteps has writers commit batches of one update each, all at
// once, as an engine does (a driver may commit such batches together): in
// every round each writer steps a run of its own, races the others to step
// a shared run and to start one workflow, and sends one update that must
// fail (an event id its run already has). Every step of a writer's own run
// must commit, exactly one writer must win each race, and the failing
// updates must leave no trace and cost nobody else their commit.
func testConcurrentSteps(t *testing.T, s swfd.Store) {
	const writers, rounds = 8, 6
	own := sharedAndOwnRuns(t, s, writers)
	type outcome struct {
		shared, started bool
		err             error
	}
	for r := range rounds {
		cur := getExec(t, s, "dom", "run-shared")
		out := make([]outcome, writers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range writers {
			mine := next(own[i])
			wg.Go(func() {
				<-start
				var inner sync.WaitGroup
				var ownErr, badErr, sharedErr, startErr error
				inner.Go(func() {
					ownErr = s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: mine,
						Events:    events(mine.RunID, mine.Version-1, mine.Version-1),
						AddTimers: []swfd.Timer{{Key: fmt.Sprint(mine.Version), Due: at(5)}}}}})
				})
				inner.Go(func() {
					// At the run's current version, but with event 1 again
					// (or, once mine has committed, at a stale version).
					bad := next(own[i])
					bad.State = []byte("bad")
					badErr = s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: bad, Events: events(bad.RunID, 1, 1)}}})
				})
				inner.Go(func() {
					u := next(cur)
					u.State = []byte(fmt.Sprintf("writer-%d-%d", i, r))
					sharedErr = s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: u, Events: events(u.RunID, u.Version-1, u.Version-1)}}})
				})
				inner.Go(func() {
					e := execution("dom", fmt.Sprint("started-", r), fmt.Sprintf("run-started-%d-%d", r, i), at(2))
					startErr = s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: e, Create: true, Events: events(e.RunID, 1, 1)}}})
				})
				inner.Wait()
				switch {
				case ownErr != nil:
					out[i].err = fmt.Errorf("step of its own run: %w", ownErr)
				case !errors.Is(badErr, swfd.ErrConflict):
					out[i].err = fmt.Errorf("update repeating an event: %v, want ErrConflict", badErr)
				case sharedErr != nil && !errors.Is(sharedErr, swfd.ErrConflict):
					out[i].err = fmt.Errorf("step of the shared run: %w", sharedErr)
				case startErr != nil && !errors.Is(startErr, swfd.ErrAlreadyExists):
					out[i].err = fmt.Errorf("start: %w", startErr)
				}
				out[i].shared, out[i].started = sharedErr == nil, startErr == nil
			})
			own[i] = mine
		}
		close(start)
		wg.Wait()
		sharedWins, starts := 0, 0
		for i, o := range out {
			if o.err != nil {
				t.Fatalf("round %d, writer %d: %v", r, i, o.err)
			}
			if o.shared {
				sharedWins++
				if got := getExec(t, s, "dom", "run-shared"); string(got.State) != fmt.Sprintf("writer-%d-%d", i, r) {
					t.Fatalf("round %d: writer %d won the shared run, which holds %q", r, i, got.State)
				}
			}
			if o.started {
				starts++
			}
		}
		if sharedWins != 1 || starts != 1 {
			t.Fatalf("round %d: %d writers stepped the shared run and %d started the workflow, want 1 and 1", r, sharedWins, starts)
		}
	}
	for i := range writers {
		e := getExec(t, s, "dom", own[i].RunID)
		ids := eventIDs(history(t, s, swfd.HistoryQuery{RunID: e.RunID}))
		if e.Version != 1+rounds || len(ids) != rounds || string(e.State) == "bad" {
			t.Fatalf("writer %d's run: version %d, state %q, events %v; want version %d and %d events", i, e.Version, e.State, ids, 1+rounds, rounds)
		}
	}
	shared := getExec(t, s, "dom", "run-shared")
	if n := len(history(t, s, swfd.HistoryQuery{RunID: "run-shared"})); shared.Version != 1+rounds || n != rounds {
		t.Fatalf("shared run at version %d with %d events after %d rounds", shared.Version, n, rounds)
	}
	timers, err := s.DueTimers(ctx(), at(100), 10_000)
	noErr(t, err, "DueTimers")
	if len(timers) != writers*rounds {
		t.Fatalf("%d timers, want %d", len(timers), writers*rounds)
	}
	open, err := s.CountOpen(ctx(), "dom")
	noErr(t, err, "CountOpen")
	if open != 1+writers+rounds {
		t.Fatalf("CountOpen = %d, want %d", open, 1+writers+rounds)
	}
}

// heartbeats reads a run's stored heartbeat details as "id=details" items
// ("id=<nil>" for an entry without details, which a store must not return).
func heartbeats(t *testing.T, s swfd.Store, runID string) []string {
	t.Helper()
	hbs, err := s.Heartbeats(ctx(), runID)
	noErr(t, err, "Heartbeats")
	out := []string{}
	for _, hb := range hbs {
		d := "<nil>"
		if hb.Details != nil {
			d = fmt.Sprintf("%q", *hb.Details)
		}
		out = append(out, fmt.Sprintf("%d=%s", hb.ScheduledEventID, d))
	}
	return out
}

// testHeartbeats: an update stores and removes its run's heartbeat details
// by scheduled event id, and only if it applies; Heartbeats reads them back
// in id order, byte for byte; closing a run removes them all, and touches
// no other run's.
func testHeartbeats(t *testing.T, s swfd.Store) {
	a := create(t, s, execution("dom", "wf-a", "run-a", at(1)))
	// A run's creation may store some (swfd migrate copies them so).
	b := execution("dom", "wf-b", "run-b", at(2))
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: b, Create: true, Heartbeats: []swfd.Heartbeat{{ScheduledEventID: 3, Details: str("at creation")}}}}})
	checkIDs(t, "details of a new run", heartbeats(t, s, "run-a"), []string{})
	checkIDs(t, "details of an unknown run", heartbeats(t, s, "no-such-run"), []string{})

	odd := "nul\x00, line separator\u2028, \xff and ünïcödé"
	big := strings.Repeat("0123456789abcdef", 2048) // 32 KB, the most SWF takes
	a = next(a)
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: a, Heartbeats: []swfd.Heartbeat{
		{ScheduledEventID: 9, Details: str(odd)}, {ScheduledEventID: 5, Details: str("first")}, {ScheduledEventID: 7, Details: str("")},
		{ScheduledEventID: 12, Details: str(big)},
	}}}})
	b = next(b)
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: b, Heartbeats: []swfd.Heartbeat{{ScheduledEventID: 5, Details: str("of b")}}}}})
	want := []string{`5="first"`, `7=""`, fmt.Sprintf("9=%q", odd), fmt.Sprintf("12=%q", big)}
	checkIDs(t, "details stored", heartbeats(t, s, "run-a"), want)
	checkIDs(t, "details of the other run", heartbeats(t, s, "run-b"), []string{`3="at creation"`, `5="of b"`})

	// Replace one, remove one, remove one that is not there.
	a = next(a)
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: a, Heartbeats: []swfd.Heartbeat{
		{ScheduledEventID: 5, Details: str("second")}, {ScheduledEventID: 7}, {ScheduledEventID: 40},
	}}}})
	want = []string{`5="second"`, fmt.Sprintf("9=%q", odd), fmt.Sprintf("12=%q", big)}
	checkIDs(t, "details replaced and removed", heartbeats(t, s, "run-a"), want)

	// An update that loses its version check changes none, nor does the
	// rest of its batch.
	stale := a
	stale.State = []byte("stale")
	err := s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{
		{Execution: next(b), Heartbeats: []swfd.Heartbeat{{ScheduledEventID: 5, Details: str("lost")}}},
		{Execution: stale, Heartbeats: []swfd.Heartbeat{{ScheduledEventID: 5, Details: str("stale")}, {ScheduledEventID: 9}}},
	}})
	wantErr(t, err, swfd.ErrConflict, "Commit at a stale version")
	checkIDs(t, "details after a stale update", heartbeats(t, s, "run-a"), want)
	checkIDs(t, "details of the other run after a stale update", heartbeats(t, s, "run-b"), []string{`3="at creation"`, `5="of b"`})

	// A step that only changes details writes no event and still moves
	// the run's version.
	a = next(a)
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: a, Heartbeats: []swfd.Heartbeat{{ScheduledEventID: 9, Details: str("third")}}}}})
	checkExec(t, getExec(t, s, "dom", "run-a"), a)
	checkIDs(t, "details after a heartbeat", heartbeats(t, s, "run-a"), []string{`5="second"`, `9="third"`, fmt.Sprintf("12=%q", big)})

	// Closing a run removes all its details, even with entries of its own.
	c := closed(a, "COMPLETED", at(3))
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: c, Closed: true, Heartbeats: []swfd.Heartbeat{{ScheduledEventID: 30, Details: str("late")}}}}})
	checkIDs(t, "details of a closed run", heartbeats(t, s, "run-a"), []string{})
	checkIDs(t, "details of the other run after the close", heartbeats(t, s, "run-b"), []string{`3="at creation"`, `5="of b"`})
}

// DueRunTimers lists the timers of one key of a domain's runs due by now,
// earliest first (then by run id), up to its limit: not other keys, not
// other domains' runs, not those due later, nor those of a closed run.
func testDueRunTimers(t *testing.T, s swfd.Store) {
	a := execution("dom", "wf-a", "run-a", at(0))
	b := execution("dom", "wf-b", "run-b", at(0))
	c := execution("dom", "wf-c", "run-c", at(0))
	other := execution("other", "wf-a", "run-o", at(0))
	commit(t, s, swfd.Batch{Updates: []swfd.Update{
		{Execution: a, Create: true, AddTimers: []swfd.Timer{{RunID: "run-a", Key: "wf", Due: at(3)}, {RunID: "run-a", Key: "x", Due: at(1)}}},
		{Execution: b, Create: true, AddTimers: []swfd.Timer{{RunID: "run-b", Key: "wf", Due: at(2)}}},
		{Execution: c, Create: true, AddTimers: []swfd.Timer{{RunID: "run-c", Key: "wf", Due: at(9)}}},
		{Execution: other, Create: true, AddTimers: []swfd.Timer{{RunID: "run-o", Key: "wf", Due: at(1)}}},
	}})
	due := func(now time.Time, limit int) []string {
		t.Helper()
		ts, err := s.DueRunTimers(ctx(), "dom", "wf", now, limit)
		noErr(t, err, "DueRunTimers")
		var out []string
		for _, tm := range ts {
			out = append(out, timerView(tm))
		}
		return out
	}
	b2, a3 := "run-b/wf@"+ms(at(2)), "run-a/wf@"+ms(at(3))
	checkIDs(t, "none due", due(at(1), 10), nil)
	checkIDs(t, "due at the bound, earliest first", due(at(3), 10), []string{b2, a3})
	checkIDs(t, "limit 1", due(at(5), 1), []string{b2})
	checkIDs(t, "no limit", due(at(5), 0), []string{b2, a3})
	if ts, err := s.DueRunTimers(ctx(), "none", "wf", at(10), 10); err != nil || len(ts) != 0 {
		t.Fatalf("DueRunTimers of a domain with no runs: %v, %v", ts, err)
	}
	// Two due at once come by run id.
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: next(c), AddTimers: []swfd.Timer{{RunID: "run-c", Key: "wf", Due: at(2)}}}}})
	c = next(c)
	checkIDs(t, "same due time", due(at(2), 10), []string{b2, "run-c/wf@" + ms(at(2))})
	// A closed run has no timers.
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: closed(b, "TIMED_OUT", at(2)), Closed: true}}})
	checkIDs(t, "after a close", due(at(3), 10), []string{"run-c/wf@" + ms(at(2)), a3})
}

// testHistoryBytes reads a history of events of random sizes with random
// queries, MaxBytes among them, and wants what HistoryQuery promises: the
// events the query's range and limit select, cut after the one that takes
// their JSON past MaxBytes, each as written.
func testHistoryBytes(t *testing.T, s swfd.Store) {
	rng := rand.New(rand.NewPCG(7, 11))
	const n = 300
	written := make([][]byte, n)
	e := execution("dom", "wf", "run-1", at(1))
	for from := 0; from < n; {
		to := min(n, from+1+rng.IntN(40))
		var evs []swfd.Event
		for i := from; i < to; i++ {
			size := rng.IntN(100)
			if rng.IntN(5) == 0 {
				size = rng.IntN(8 << 10)
			}
			written[i] = fmt.Appendf(nil, `{"eventId":%d,"pad":%q}`, i+1, strings.Repeat("p", size))
			evs = append(evs, swfd.Event{ID: int64(i + 1), JSON: written[i]})
		}
		commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: e, Create: from == 0, Events: evs}}})
		e = next(e)
		from = to
	}
	for range 300 {
		q := swfd.HistoryQuery{RunID: "run-1", Reverse: rng.IntN(2) == 0, AfterID: int64(rng.IntN(n + 2))}
		if rng.IntN(4) == 0 {
			q.AfterID = 0
		}
		if rng.IntN(3) != 0 {
			q.Limit = rng.IntN(n + 1)
		}
		if rng.IntN(4) != 0 {
			q.MaxBytes = 1 + rng.IntN(64<<10)
		}
		var want []int64
		for i := range int64(n) {
			id := i + 1
			if q.Reverse {
				id = n - i
			}
			if q.Reverse && q.AfterID > 0 && id >= q.AfterID || !q.Reverse && id <= q.AfterID {
				continue
			}
			want = append(want, id)
		}
		if q.Limit > 0 && len(want) > q.Limit {
			want = want[:q.Limit]
		}
		if q.MaxBytes > 0 {
			bytes := 0
			for k, id := range want {
				if bytes += len(written[id-1]); bytes > q.MaxBytes {
					want = want[:k+1]
					break
				}
			}
		}
		got, err := s.History(ctx(), q)
		noErr(t, err, "History")
		checkIDs(t, fmt.Sprintf("%+v", q), eventIDs(got), want)
		for _, ev := range got {
			if !bytes.Equal(ev.JSON, written[ev.ID-1]) {
				t.Fatalf("%+v: event %d is not as written", q, ev.ID)
			}
		}
	}
}
