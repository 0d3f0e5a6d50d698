// Package transfers delivers messages between runs: a child to start, a
// signal or cancel request to deliver, a child's start or close to report
// to its parent, and the answer to a sender that waits for one. A message is
// a row of the store, written with the step that sent it and removed with
// the step that delivers it, so that a crash in between neither loses nor
// repeats it. The Loop delivers pending messages oldest first, woken by the
// commits that add them.
package transfers

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
	"github.com/swfd/swfd/internal/lograte"
	"github.com/swfd/swfd/internal/loop"
	"github.com/swfd/swfd/runs"
)

// Options configure a Loop.
type Options struct {
	Store swfd.ExecutionStore
	Runs  *runs.Store
	Log   *slog.Logger
	// Wall is the clock of the loop's waits before it tries a target
	// again (real time, whatever time the workflows are at); the system
	// clock when nil. Tests set it to move it themselves.
	Wall swfd.Clock
	// Hold, if set, is called before each delivery the loop's rounds
	// (Run) make, and the function it returns once the delivery has
	// committed (or failed): a clock that tests move (package clock)
	// holds its moves off meanwhile, as it does for a call. A skip
	// clock would otherwise find the server idle between a delivery's
	// commit and what it learns of it (a child started has a decision
	// task), or between its looks at the messages and at the tasks, and
	// jump past the work the delivery made. Deliver, which a move calls
	// with the clock held already, does not call it.
	Hold func() (release func())
}

// Loop delivers messages between runs.
type Loop struct {
	store swfd.ExecutionStore
	runs  *runs.Store
	log   *slog.Logger
	wall  swfd.Clock
	hold  func() (release func())
	// lockedLines logs messages left for later because their target was
	// locked, and failLines the rounds that failed, a few lines a second
	// at most each: every commit that sends a message starts a round.
	lockedLines *lograte.Limiter
	failLines   *lograte.Limiter
	wake        chan struct{}
	// aside holds the targets (by targetKey and runKey) whose delivery
	// failed in the loop's rounds, or that were found locked, each until
	// the time (on the monotonic wall clock) when it is tried again: the
	// loop's rounds go on past them, and hold up the later messages to
	// them, meanwhile. Only Run uses it.
	aside map[string]time.Time
	// failing holds the targets set aside after their delivery failed
	// (by targetKey and runKey, as aside), each with when (on the wall
	// clock) its failures in a row began; Run keeps it, Waiting reads it.
	failingMu sync.Mutex
	failing   map[string]time.Time
}

// New returns a Loop; Run runs it.
func New(opts Options) *Loop {
	l := &Loop{store: opts.Store, runs: opts.Runs, log: opts.Log, wall: opts.Wall, hold: opts.Hold, wake: make(chan struct{}, 1), failing: map[string]time.Time{}}
	if l.wall == nil {
		l.wall = swfd.SystemClock{}
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	l.lockedLines = lograte.New(l.log, failLinesPerSecond, failLineBurst, nil)
	l.failLines = lograte.New(l.log, failLinesPerSecond, failLineBurst, nil)
	return l
}

// LockWait is how long delivering a message waits for its target's row
// when another writer holds it locked (swfd.WithLockWait). Every node
// delivers every message, one at a time: without the bound, a run locked
// by a node that stopped in the middle of a commit would hold up every
// message behind it until the database ends that node's session. A live
// writer holds a run's row for the milliseconds of its commit.
const LockWait = time.Second

// How many lines a second the rounds that failed, and the messages whose
// target was locked, may each write to the log, after a burst of
// failLineBurst.
const (
	failLinesPerSecond = 2
	failLineBurst      = 10
)

// maxFailures is how many groups of messages may fail in one round of
// Deliver (other than on a locked target or a lost race) before the round
// gives up and leaves the rest for the next.
const maxFailures = 4

// How long the loop sets a target aside (see Loop.aside) after its
// delivery failed, and after it was found locked. Without it, messages to
// maxFailures targets that keep failing, sent before the others, would end
// every round before the others were tried, and a locked target would
// cost every round its LockWait.
const (
	failedRetry = 5 * time.Second
	lockedRetry = time.Second
)

// errBehind marks a message left for later because an earlier message to
// the same run is held up in the same round (its run was locked, its
// delivery failed, or it lost a race).
var errBehind = fmt.Errorf("an earlier message to its target is held up: %w", swfd.ErrLocked)

// Run delivers messages until ctx ends: at once when woken, and every
// second in case a message was missed. A target whose delivery failed is
// set aside for failedRetry (one found locked, for lockedRetry), its
// messages held up meanwhile, and the rounds go on past it.
func (l *Loop) Run(ctx context.Context) {
	if l.aside == nil {
		l.aside = map[string]time.Time{}
	}
	for ctx.Err() == nil {
		n, err := l.deliverRound(ctx, l.aside)
		if err != nil && ctx.Err() == nil {
			l.failLines.Log(ctx, slog.LevelError, "delivering messages", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		wait := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
		case <-l.wake:
		case <-wait.C:
		}
		wait.Stop()
	}
}

// Wake makes the loop look for messages now.
func (l *Loop) Wake() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Committed is the loop's runs.Listener: a commit that sent messages wakes
// it.
func (l *Loop) Committed(c runs.Commit) {
	if c.Transfers {
		l.Wake()
	}
}

// Deliver delivers pending messages, a batch of them (more when every
// message of a read is held up, up to maxScan), and returns how many it
// handled. A message whose target another writer holds locked for
// longer than LockWait (swfd.ErrLocked) is left for a later call, and so
// are the later messages to that target, which must not overtake it; the
// others are delivered. So is a message whose delivery fails otherwise (a
// store error): the others are delivered, and the first such error is
// returned; after maxFailures of them the call gives up on the rest. A
// message held up so holds back the later ones to its run however they
// name it: by the run's id, or by its workflowId (the workflow's open run).
//
// The messages of the batch to one target are delivered to it in order,
// in one step and one commit (see deliverOnce), not one commit each: a
// run's state holds every request it has sent and not yet heard back
// about, so a commit per message rewrote, for every message, a state that
// grows with the number sent (a run that signals itself a thousand times
// in one decision).
func (l *Loop) Deliver(ctx context.Context) (int, error) {
	return l.deliverRound(ctx, nil)
}

// deliverRound is Deliver, with the targets set aside in aside (when not
// nil) held up while their time has not come, and the targets that fail
// in this round set aside there.
func (l *Loop) deliverRound(ctx context.Context, aside map[string]time.Time) (int, error) {
	ctx = swfd.WithLockWait(ctx, LockWait)
	rd := &round{blocked: map[string]bool{}, raced: map[string]bool{}, seen: map[int64]bool{}, aside: aside, wall: l.wall.Now()}
	for key, until := range aside {
		if !rd.wall.Before(until) {
			delete(aside, key)
		}
	}
	if aside != nil {
		rd.failed, rd.delivered = map[string]bool{}, map[string]bool{}
		defer l.keepFailing(rd)
	}
	// When every message of a read is held up (more messages to a run that
	// keeps failing than a read holds), the round reads further, or the
	// messages to other runs after them would wait for as long as it
	// fails: up to maxScan messages, the ones already seen left as they
	// were.
	for limit := batchSize; ; limit *= 2 {
		trs, err := l.store.PendingTransfers(ctx, limit)
		if err != nil {
			if len(rd.seen) > 0 {
				return rd.handled, cmp.Or(rd.firstErr, err)
			}
			return 0, err
		}
		if err := l.deliverRead(ctx, rd, trs); err != nil {
			return rd.handled, err
		}
		if rd.failures >= maxFailures || rd.handled > 0 || len(trs) < limit || limit >= maxScan {
			rd.complete = len(trs) < limit && rd.failures < maxFailures
			return rd.handled, rd.firstErr
		}
	}
}

// round is what one call of Deliver knows of the messages it has read.
type round struct {
	// Targets held up in this round (found locked, or their delivery
	// failed), by targetKey and by the run found for them (runKey).
	blocked map[string]bool
	// Targets whose commit lost a race with another writer in this round,
	// named alike: their later messages wait for the next round, which
	// sees who won, so that none overtakes the ones left.
	raced map[string]bool
	// The messages the round has read (by id), delivered or held up.
	seen map[int64]bool
	// The targets set aside by earlier rounds (Loop.aside; nil when
	// none are), and the time on the wall clock the round began.
	aside   map[string]time.Time
	wall    time.Time
	handled int
	// The first failure of the round, returned once the others have
	// been delivered, and how many groups failed.
	firstErr error
	failures int
	// The targets whose delivery failed in this round, and those it
	// delivered to (by targetKey and runKey), for Loop.failing; nil when
	// aside is. complete: the round read every pending message, and gave
	// up on none.
	failed, delivered map[string]bool
	complete          bool
}

// keepFailing updates Loop.failing after a round of Run: a target whose
// delivery failed is failing since it first failed (now, if it had not
// before); one the round delivered to is no longer, nor, after a round
// that went through every message, one that is neither failing in it nor
// still set aside (its messages are gone).
func (l *Loop) keepFailing(rd *round) {
	l.failingMu.Lock()
	defer l.failingMu.Unlock()
	for key := range l.failing {
		_, aside := rd.aside[key]
		if rd.delivered[key] && !rd.failed[key] || rd.complete && !aside && !rd.failed[key] {
			delete(l.failing, key)
		}
	}
	for key := range rd.failed {
		if _, ok := l.failing[key]; !ok {
			l.failing[key] = rd.wall
		}
	}
}

// StuckAfter is how long (of real time) a message whose delivery keeps
// failing counts as waiting to be delivered for a skip clock (Waiting):
// a store error that lasts moments holds the clock until the message is
// delivered, while a message that cannot be (its target's stored state
// cannot be read) does not stop time for every other run of the server.
// It goes on being tried every 5 s.
const StuckAfter = 30 * time.Second

// Waiting reports whether a message waits to be delivered, for a skip
// clock, which does not jump while one does: any pending message but
// those whose target's delivery, in the rounds of Run, has kept failing
// for StuckAfter.
func (l *Loop) Waiting(ctx context.Context) (bool, error) {
	wall := l.wall.Now()
	stuck := func(key string) bool {
		l.failingMu.Lock()
		defer l.failingMu.Unlock()
		since, ok := l.failing[key]
		return ok && wall.Sub(since) >= StuckAfter
	}
	for limit := 1; ; limit = min(limit*16, maxScan) {
		trs, err := l.store.PendingTransfers(ctx, limit)
		if err != nil {
			return false, err
		}
		for _, tr := range trs {
			var m history.Message
			if err := json.Unmarshal(tr.Payload, &m); err != nil || !stuck(targetKey(tr.ID, m)) {
				return true, nil
			}
		}
		if len(trs) < limit {
			return false, nil
		}
		if limit >= maxScan {
			// More stuck ones than a round reads: some past them may
			// not be.
			return true, nil
		}
	}
}

func (rd *round) held(key string) bool {
	if rd.blocked[key] || rd.raced[key] {
		return true
	}
	until, ok := rd.aside[key]
	return ok && rd.wall.Before(until)
}

// deliverRead delivers the messages of one read that the round has not
// seen. It fails only when an undecodable message cannot be dropped; it
// stops after maxFailures failures in the round.
func (l *Loop) deliverRead(ctx context.Context, rd *round, trs []swfd.Transfer) error {
	msgs := make([]pending, len(trs))
	for i, tr := range trs {
		msgs[i].id = tr.ID
		if rd.seen[tr.ID] {
			msgs[i].done = true
			continue
		}
		rd.seen[tr.ID] = true
		if err := json.Unmarshal(tr.Payload, &msgs[i].m); err != nil {
			msgs[i].bad = err
			continue
		}
		msgs[i].key = targetKey(tr.ID, msgs[i].m)
	}
	for i := range msgs {
		p := &msgs[i]
		if p.done {
			continue
		}
		if p.bad != nil {
			l.log.Error("dropping undecodable message", "id", p.id, "err", p.bad)
			var b runs.Batch
			b.Delivered(p.id)
			if err := l.runs.Commit(ctx, &b); err != nil {
				return err
			}
			p.done = true
			rd.handled++
			continue
		}
		if rd.blocked[p.key] {
			p.done = true
			continue
		}
		if rd.raced[p.key] {
			p.done = true
			rd.handled++
			continue
		}
		if rd.held(p.key) {
			// Set aside by an earlier round of the loop.
			p.done = true
			continue
		}
		group := groupFrom(msgs, i, rd.held)
		var (
			n      int
			target string // the run found for the group, if one was
		)
		// hold marks the group's messages as left for the next round,
		// and their targets as held up in this one (in m), under the
		// names the messages give them and as the run found: a later
		// message to that run must not overtake them, whether it names
		// it by its run id or by its workflowId.
		// retry, if not 0, sets the target aside for that long too (in
		// the loop's rounds), under the first message's name and as the
		// run found: the group's later messages may be for other runs.
		hold := func(m map[string]bool, retry time.Duration) {
			for _, q := range group {
				q.done = true
				m[q.key] = true
			}
			if target != "" {
				m[runKey(target)] = true
			}
			if rd.aside != nil && retry > 0 {
				rd.aside[p.key] = rd.wall.Add(retry)
				if target != "" {
					rd.aside[runKey(target)] = rd.wall.Add(retry)
				}
			}
		}
		deliver := func() (err error) {
			// Held before the target's lock, which a move of the
			// clock takes to deliver what is due.
			if rd.aside != nil && l.hold != nil {
				defer l.hold()()
			}
			n, target, err = l.deliver(ctx, group, rd.held)
			return err
		}
		if err := loop.Error(l.log, "delivering a message", deliver); err != nil {
			if errors.Is(err, errBehind) {
				hold(rd.blocked, 0)
				continue
			}
			if errors.Is(err, swfd.ErrLocked) {
				hold(rd.blocked, lockedRetry)
				l.lockedLines.Log(ctx, slog.LevelWarn, "a message's target is locked by another writer (a node stopped in the middle of a commit?); delivering it later",
					"id", p.id, "waited", LockWait, "err", err)
				continue
			}
			if errors.Is(err, swfd.ErrConflict) {
				// Another node delivered them, or updated the target
				// first: the next round sees which.
				hold(rd.raced, 0)
				rd.handled += len(group)
				continue
			}
			// Any other failure (a store error, a target this node
			// cannot step): the group waits for the next round, its
			// target held up in this one as a locked one is, and the
			// messages to other targets go on, so that a message that
			// keeps failing does not hold up every later one. A round
			// gives up after maxFailures of them: with the store down,
			// every message would fail.
			hold(rd.blocked, failedRetry)
			if rd.failed != nil {
				rd.failed[p.key] = true
				if target != "" {
					rd.failed[runKey(target)] = true
				}
			}
			if rd.firstErr == nil {
				rd.firstErr = err
			}
			if rd.failures++; rd.failures >= maxFailures {
				return nil
			}
			continue
		}
		// deliver handles at least one message when it does not fail;
		// the others of the group come round again, as the first of
		// the group of what is left.
		for _, q := range group[:max(n, 1)] {
			q.done = true
			rd.handled++
		}
		if rd.delivered != nil {
			rd.delivered[p.key] = true
			if target != "" {
				rd.delivered[runKey(target)] = true
			}
		}
	}
	return nil
}

// groupFrom returns message i of msgs and the later ones not yet handled
// that may go to the same run (mayShare), in order: up to maxGroup of them,
// up to the first whose target is held up in this round (blocked or
// raced), and only message i when it is a child to start. The messages
// it passes over go to other runs. Which of the group do go to the run is
// known only once it is locked: deliverOnce delivers them up to the first
// that does not.
func groupFrom(msgs []pending, i int, held func(key string) bool) []*pending {
	p := &msgs[i]
	group := []*pending{p}
	if p.m.StartChild != nil {
		return group
	}
	for j := i + 1; j < len(msgs) && len(group) < maxGroup; j++ {
		q := &msgs[j]
		if q.done || q.bad != nil || !mayShare(p.m, q.m) {
			continue
		}
		if held(q.key) {
			break
		}
		group = append(group, q)
	}
	return group
}

// mayShare reports whether messages p and q may go to the same run: each
// names a run by its id or a workflow by its id (the open run), and
// messages to runs of other workflows, or other domains, or to runs named
// by other run ids, go to other runs. A child to start starts a run of its
// own.
func mayShare(p, q history.Message) bool {
	switch {
	case p.StartChild != nil || q.StartChild != nil || p.Domain != q.Domain:
		return false
	case p.RunID != "" && q.RunID != "":
		return p.RunID == q.RunID
	}
	return p.WorkflowID == "" || q.WorkflowID == "" || p.WorkflowID == q.WorkflowID
}

// batchSize is how many pending messages Deliver reads at a time, and
// maxScan how many at most one round reads past messages held up.
const (
	batchSize = 256
	maxScan   = 16 * batchSize
)

// maxGroup is how many messages to one target Deliver delivers in one
// commit at most.
const maxGroup = batchSize

// pending is a message read from the store: its id and the message, or
// why it could not be decoded; its target (targetKey); and whether Deliver
// is done with it in this round.
type pending struct {
	id   int64
	m    history.Message
	bad  error
	key  string
	done bool
}

// targetKey names the target of message id for Deliver's held up targets:
// its run, or its workflow; a child to start is a target of its own.
func targetKey(id int64, m history.Message) string {
	switch {
	case m.StartChild != nil:
		return fmt.Sprint("message\x00", id)
	case m.RunID != "":
		return runKey(m.RunID)
	}
	return workflowKey(m.Domain, m.WorkflowID)
}

// runKey and workflowKey name a run, and a workflow's open run, as
// targetKey does.
func runKey(runID string) string { return "run\x00" + runID }

func workflowKey(domain, workflowID string) string {
	return "workflow\x00" + domain + "\x00" + workflowID
}

// deliver delivers the first messages of group, which all have the same
// target (targetKey), and returns how many it delivered (or dropped), at
// least one unless it fails, and the run it found for them ("" if none).
// held reports the targets held up in this round (by targetKey, runKey).
func (l *Loop) deliver(ctx context.Context, group []*pending, held func(key string) bool) (n int, runID string, err error) {
	if m := group[0].m; m.StartChild != nil {
		return 1, "", l.startChild(ctx, group[0].id, m)
	}
	inline := true
	closed := ""
	for {
		var again retry
		n, again, runID, err = l.deliverOnce(ctx, group, inline, &closed, held)
		switch again {
		case done:
			return n, runID, err
		case fewer:
			group = group[:n]
		case separately:
			inline = false
		}
	}
}

// retry is what deliverOnce asks of its caller.
type retry int

const (
	done       retry = iota // nothing: deliverOnce did what it could
	anew                    // the same again: the run found for the target's workflow id closed
	fewer                   // the same again with only the first n messages
	separately              // the same again, sending answers to the target itself as messages
)

// deliverOnce delivers the messages of group, all to one target, in one
// step of the target and one commit: a run id, or the open run of a
// workflow id. It reports how many it delivered, from the first: the
// target may close on the way (the rest then go their own way, as to a
// closed run), and a message that fails is delivered without the ones
// before it, which deliverOnce then delivers again alone (fewer), on the
// run as it was. The answer to a request the target sent itself is
// delivered in the same step rather than sent, unless that fails
// (separately).
//
// A run found by its workflow id may close between the lookup and its
// lock: it continues as new, or it ends and a new run of the workflow id
// starts at once. The messages are then for the workflow's open run, if it
// has one now (a child policy, above all, is for whichever run of the
// child's chain is open; a signal by workflow id alone, for the run open
// when it is delivered), so deliverOnce reports anew, and the caller looks
// the workflow id up anew. It keeps the run found closed in *closed: a
// lookup that finds no run, or that one again, leaves the workflow with no
// open run, and the messages go as to a closed run. Each round finds a
// newer run, since a run that has closed never reopens.
//
// It also reports the run it found for the group (runID), so that when
// it fails the caller holds up the later messages to that run however
// they name it. A run held up earlier in the round (held, by runKey) is
// left alone (errBehind), and so is an open run whose workflow is: a
// message to the workflowId, held up before it was known which run it
// was for (its lookup failed), is for the open run.
func (l *Loop) deliverOnce(ctx context.Context, group []*pending, inline bool, closed *string, held func(key string) bool) (n int, again retry, runID string, err error) {
	id, m := group[0].id, group[0].m
	runID = m.RunID
	if runID == "" {
		row, err := l.store.OpenRun(ctx, m.Domain, m.WorkflowID)
		if errors.Is(err, swfd.ErrNotFound) || err == nil && *closed != "" && row.RunID == *closed {
			return 1, done, "", l.failed(ctx, id, m)
		}
		if err != nil {
			return 0, done, "", err
		}
		runID = row.RunID
	}
	if held(runKey(runID)) {
		return 0, done, runID, errBehind
	}
	unlock := l.runs.Lock(runID)
	defer unlock()
	// A delivery that fails commits no update of the target, so it must be
	// decided on the current state.
	r, err := l.runs.LoadCurrent(ctx, m.Domain, runID)
	if errors.Is(err, swfd.ErrNotFound) || (err == nil && m.WorkflowID != "" && r.Row.WorkflowID != m.WorkflowID) {
		return 1, done, runID, l.failed(ctx, id, m)
	}
	if err != nil {
		return 0, done, runID, err
	}
	if m.RunID == "" && !r.State.Open {
		*closed = runID
		return 0, anew, runID, nil
	}
	if r.State.Open && held(workflowKey(r.Row.Domain, r.Row.WorkflowID)) {
		return 0, done, runID, errBehind
	}
	env := l.runs.Env(ctx)
	target := api.WorkflowExecution{WorkflowID: r.State.WorkflowID, RunID: r.State.RunID}
	var (
		res     history.Result
		ids     []int64
		replies []history.Message
	)
	for i, p := range group {
		if i > 0 && !joins(r, p.m) {
			// This one, and so the rest, go their own way: to
			// another run, or to a run that closed on the way.
			break
		}
		one, err := r.State.Deliver(env, p.m)
		// The answer to its sender. A request the target refused (its
		// events would not fit in its history) terminated the target
		// instead of being recorded: its sender is told that it failed,
		// as for a closed run.
		var reply *history.Message
		if err == nil {
			reply = replyTo(p.m, target, one.Refused != nil)
		}
		if inline && reply != nil && reply.RunID == target.RunID {
			// A run that sent the request to itself hears back in the
			// same step, as it would on its own a moment later.
			var more history.Result
			if more, err = r.State.Deliver(env, *reply); err == nil {
				one.Append(more)
				reply = nil
			} else if i == 0 {
				return 0, separately, runID, nil
			}
		}
		if err != nil {
			if i > 0 {
				// r has changed on the way to the error: the
				// messages before it are delivered again, alone.
				return i, fewer, runID, nil
			}
			if runs.IsStale(err) {
				return 1, done, runID, l.failed(ctx, id, m)
			}
			return 0, done, runID, err
		}
		ids = append(ids, p.id)
		if reply != nil {
			replies = append(replies, *reply)
		}
		res.Append(one)
	}
	return len(ids), done, runID, l.runs.CommitRun(ctx, r, res, func(b *runs.Batch) error {
		for _, id := range ids {
			b.Delivered(id)
		}
		return b.Send(replies...)
	})
}

// joins reports whether message m, which came after the first of its
// group, is delivered to r as the first was, rather than alone: m names r
// by its run id, or names r's workflow, of which r is then the open run;
// and r is still open (a message to a closed run is refused, or for the
// workflow's next run). A message naming a workflow besides a run id is
// for the run only if it is of that workflow.
func joins(r *runs.Run, m history.Message) bool {
	if !r.State.Open || m.Domain != r.Row.Domain || m.WorkflowID != "" && m.WorkflowID != r.Row.WorkflowID {
		return false
	}
	return m.RunID == "" || m.RunID == r.Row.RunID
}

// replyTo answers a signal or cancel request to its sender.
func replyTo(m history.Message, target api.WorkflowExecution, failed bool) *history.Message {
	switch {
	case m.Signal != nil:
		return &history.Message{Domain: m.Domain, RunID: m.Signal.Sender.RunID,
			SignalResult: &history.ExternalResultMsg{InitiatedID: m.Signal.InitiatedID, Target: target, Failed: failed}}
	case m.Cancel != nil && m.Cancel.Sender != nil:
		return &history.Message{Domain: m.Domain, RunID: m.Cancel.Sender.RunID,
			CancelResult: &history.ExternalResultMsg{InitiatedID: m.Cancel.InitiatedID, Target: target, Failed: failed}}
	}
	return nil
}

// failed drops a message whose target is gone, telling the sender when it
// waits for an answer.
func (l *Loop) failed(ctx context.Context, id int64, m history.Message) error {
	var b runs.Batch
	b.Delivered(id)
	if reply := replyTo(m, api.WorkflowExecution{WorkflowID: m.WorkflowID, RunID: m.RunID}, true); reply != nil {
		if err := b.Send(*reply); err != nil {
			return err
		}
	}
	return l.runs.Commit(ctx, &b)
}

// startChild starts a child run and tells its parent, in one commit; a
// workflowId already open in the domain (by a run not past its timeout)
// makes the start fail, which the parent is told instead.
func (l *Loop) startChild(ctx context.Context, id int64, m history.Message) error {
	sc := m.StartChild
	p := sc.Start
	p.RunID = runs.NewRunID()
	p.Parent = &sc.Parent
	p.ParentInitiatedEventID = sc.InitiatedID
	tell := func(msg history.Message) (*runs.Batch, error) {
		msg.Domain, msg.RunID = m.Domain, sc.Parent.RunID
		b := &runs.Batch{}
		b.Delivered(id)
		return b, b.Send(msg)
	}
	failed := func() error {
		b, err := tell(history.Message{ChildStartFailed: &history.ChildStartFailedMsg{InitiatedID: sc.InitiatedID, Cause: api.StartChildWorkflowExecutionFailedCauseWorkflowAlreadyRunning}})
		if err != nil {
			return err
		}
		return l.runs.Commit(ctx, b)
	}
	// An open run of the workflowId that is past its timeout is timed out
	// first (runs.FreeWorkflowID), as the timer loop would have had it on
	// time, and the child started after it.
	for attempt := 0; attempt < runs.StartAttempts; attempt++ {
		free, err := l.runs.FreeWorkflowID(ctx, m.Domain, p.WorkflowID)
		if err != nil {
			return err
		}
		if !free {
			break
		}
		st, res := history.Start(l.runs.Env(ctx), p)
		b, err := tell(history.Message{ChildStarted: &history.ChildStartedMsg{InitiatedID: sc.InitiatedID, Child: api.WorkflowExecution{WorkflowID: p.WorkflowID, RunID: p.RunID}, Type: p.WorkflowType}})
		if err != nil {
			return err
		}
		if err := b.Add(st, 0, true, res); err != nil {
			return err
		}
		if err := l.runs.Commit(ctx, b); !errors.Is(err, swfd.ErrAlreadyExists) {
			return err
		}
	}
	return failed()
}
