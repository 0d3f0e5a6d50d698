package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// testHoldRun: HoldRun reads a run (ErrNotFound for none, or in another
// domain) and its heartbeat details; the hold's Commit applies a whole
// batch, checked against the run's version as any commit, and ends the
// hold; Release applies nothing, and lets others commit at once. While a
// run is held, another writer's commit of it is not applied before the
// hold's: in a store that holds runs it waits, and gives up with ErrLocked
// after its lock wait, as a second hold does (after its lock wait or at
// its deadline); in one that holds nothing (written by one process only)
// it goes in, and the hold's commit then loses the race.
func testHoldRun(t *testing.T, s swfd.Store) {
	_, _, err := s.HoldRun(ctx(), "dom", "run-1")
	wantErr(t, err, swfd.ErrNotFound, "HoldRun of a missing run")
	e := execution("dom", "wf", "run-1", at(1))
	commit(t, s, swfd.Batch{Updates: []swfd.Update{{Execution: e, Create: true,
		Heartbeats: []swfd.Heartbeat{{ScheduledEventID: 3, Details: str("three")}, {ScheduledEventID: 5, Details: str("five")}}}}})
	other := create(t, s, execution("dom", "wf-other", "run-other", at(1)))
	_, _, err = s.HoldRun(ctx(), "dom2", "run-1")
	wantErr(t, err, swfd.ErrNotFound, "HoldRun in another domain")

	// A hold reads the run, and commits a step with a new run (a
	// continue-as-new) and a message.
	row, h, err := s.HoldRun(ctx(), "", "run-1")
	noErr(t, err, "HoldRun")
	checkExec(t, row, e)
	hbs, err := h.Heartbeats(ctx())
	noErr(t, err, "Heartbeats of the hold")
	if len(hbs) != 2 || hbs[0].ScheduledEventID != 3 || *hbs[0].Details != "three" || hbs[1].ScheduledEventID != 5 || *hbs[1].Details != "five" {
		t.Fatalf("the hold's heartbeat details: %+v", hbs)
	}
	u := next(row)
	u.Open = false
	u.CloseStatus = "CONTINUED_AS_NEW"
	u.CloseTime = at(2)
	cont := execution("dom", "wf", "run-2", at(2))
	noErr(t, h.Commit(ctx(), swfd.Batch{
		Updates:      []swfd.Update{{Execution: u, Events: events("run-1", 1, 2), Closed: true}, {Execution: cont, Create: true, Events: events("run-2", 1, 1)}},
		AddTransfers: []swfd.Transfer{{RunID: "run-other", Payload: []byte("message")}},
	}), "the hold's Commit")
	checkExec(t, getExec(t, s, "dom", "run-1"), u)
	checkExec(t, getExec(t, s, "dom", "run-2"), cont)
	checkIDs(t, "events of the held run", eventIDs(history(t, s, swfd.HistoryQuery{RunID: "run-1"})), []int64{1, 2})
	checkIDs(t, "heartbeat details of the closed run", heartbeats(t, s, "run-1"), []string{})
	trs, err := s.PendingTransfers(ctx(), 10)
	noErr(t, err, "PendingTransfers")
	if len(trs) != 1 || string(trs[0].Payload) != "message" {
		t.Fatalf("transfers after the hold's commit: %+v", trs)
	}
	h.Release() // after Commit: nothing
	if err := h.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: next(u)}}}); err == nil {
		t.Fatal("a second Commit of a hold succeeded")
	}
	checkExec(t, getExec(t, s, "dom", "run-1"), u)

	// Released, a hold applied nothing, and another writer commits at once.
	cur := cont
	_, h, err = s.HoldRun(ctx(), "dom", "run-2")
	noErr(t, err, "HoldRun")
	h.Release()
	h.Release()
	if err := h.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: next(cur)}}}); err == nil {
		t.Fatal("Commit of a released hold succeeded")
	}
	checkExec(t, getExec(t, s, "dom", "run-2"), cur)
	cur = next(cur)
	noErr(t, s.Commit(swfd.WithLockWait(ctx(), 5*time.Second), swfd.Batch{Updates: []swfd.Update{{Execution: cur}}}), "Commit after a release")

	// A hold's update is held to the run's version.
	_, h, err = s.HoldRun(ctx(), "dom", "run-2")
	noErr(t, err, "HoldRun")
	wantErr(t, h.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: next(next(cur))}}}), swfd.ErrConflict, "the hold's Commit skipping a version")
	checkExec(t, getExec(t, s, "dom", "run-2"), cur)

	// While held, another writer's commit of the run does not go in
	// before the hold's.
	row, h, err = s.HoldRun(ctx(), "dom", "run-2")
	noErr(t, err, "HoldRun")
	defer h.Release()
	checkExec(t, row, cur)
	theirs, mine := next(cur), next(cur)
	theirs.State, mine.State = []byte("theirs"), []byte("mine")
	theirErr := s.Commit(swfd.WithLockWait(ctx(), 100*time.Millisecond), swfd.Batch{Updates: []swfd.Update{{Execution: theirs}}})
	holds := errors.Is(theirErr, swfd.ErrLocked)
	if theirErr != nil && !holds {
		t.Fatalf("another writer's commit of a held run: %v, want nil (a store that holds nothing) or ErrLocked", theirErr)
	}
	if holds {
		_, _, err := s.HoldRun(swfd.WithLockWait(ctx(), 100*time.Millisecond), "dom", "run-2")
		wantErr(t, err, swfd.ErrLocked, "a second hold with a lock wait")
		dctx, cancel := context.WithTimeout(ctx(), 200*time.Millisecond)
		_, _, err = s.HoldRun(dctx, "dom", "run-2")
		cancel()
		wantErr(t, err, swfd.ErrLocked, "a second hold with a deadline")
		// Other runs are not held.
		other = next(other)
		noErr(t, s.Commit(swfd.WithLockWait(ctx(), 5*time.Second), swfd.Batch{Updates: []swfd.Update{{Execution: other}}}), "Commit of another run")
	}
	// A writer that waits as long as it takes goes in after the hold's
	// commit, and finds the version moved.
	waiting := make(chan error, 1)
	go func() { waiting <- s.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: theirs}}}) }()
	err = h.Commit(ctx(), swfd.Batch{Updates: []swfd.Update{{Execution: mine, Events: events("run-2", 2, 2)}}})
	waitErr := <-waiting
	if holds {
		noErr(t, err, "the hold's Commit")
		wantErr(t, waitErr, swfd.ErrConflict, "another writer's commit after the hold's")
		checkExec(t, getExec(t, s, "dom", "run-2"), mine)
		checkIDs(t, "events of the held run", eventIDs(history(t, s, swfd.HistoryQuery{RunID: "run-2"})), []int64{1, 2})
	} else {
		wantErr(t, err, swfd.ErrConflict, "the Commit of a hold that holds nothing, overtaken")
		checkExec(t, getExec(t, s, "dom", "run-2"), theirs)
	}
}
