// Package transfers delivers messages between runs: a child to start, a
// signal or cancel request to deliver, a child's start or close to report
// to its parent, and the answer to a sender that waits for one. A message is
// a row of the store, written with the step that sent it and removed with
// the step that delivers it, so that a crash in between neither loses nor
// repeats it. The Loop delivers pending messages oldest first, woken by the
// commits that add them.
package transfers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
}

// Loop delivers messages between runs.
type Loop struct {
	store swfd.ExecutionStore
	runs  *runs.Store
	log   *slog.Logger
	// lockedLines logs messages left for later because their target was
	// locked, a few lines a second at most.
	lockedLines *lograte.Limiter
	wake        chan struct{}
}

// New returns a Loop; Run runs it.
func New(opts Options) *Loop {
	l := &Loop{store: opts.Store, runs: opts.Runs, log: opts.Log, wake: make(chan struct{}, 1)}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	l.lockedLines = lograte.New(l.log, 2, 10, nil)
	return l
}

// LockWait is how long delivering a message waits for its target's row
// when another writer holds it locked (swfd.WithLockWait). Every node
// delivers every message, one at a time: without the bound, a run locked
// by a node that stopped in the middle of a commit would hold up every
// message behind it until the database ends that node's session. A live
// writer holds a run's row for the milliseconds of its commit.
const LockWait = time.Second

// errBehind marks a message left for later because an earlier message to
// the same target found it locked in the same round.
var errBehind = fmt.Errorf("an earlier message to its target found it locked: %w", swfd.ErrLocked)

// Run delivers messages until ctx ends: at once when woken, and every
// second in case a message was missed.
func (l *Loop) Run(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := l.Deliver(ctx)
		if err != nil && ctx.Err() == nil {
			l.log.Error("delivering messages", "err", err)
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

// Deliver delivers pending messages, at most a batch, and returns how many
// it handled. A message whose target another writer holds locked for
// longer than LockWait (swfd.ErrLocked) is left for a later call, and so
// are the later messages to that target, which must not overtake it; the
// others are delivered.
func (l *Loop) Deliver(ctx context.Context) (int, error) {
	ctx = swfd.WithLockWait(ctx, LockWait)
	trs, err := l.store.PendingTransfers(ctx, 256)
	if err != nil {
		return 0, err
	}
	// Targets found locked in this round, by targetKey and by run id.
	blocked := map[string]bool{}
	left := 0
	for i, tr := range trs {
		var m history.Message
		if err := json.Unmarshal(tr.Payload, &m); err != nil {
			l.log.Error("dropping undecodable message", "id", tr.ID, "err", err)
			var b runs.Batch
			b.Delivered(tr.ID)
			if err := l.runs.Commit(ctx, &b); err != nil {
				return i, err
			}
			continue
		}
		key := targetKey(tr.ID, m)
		if blocked[key] {
			left++
			continue
		}
		if err := loop.Error(l.log, "delivering a message", func() error { return l.deliver(ctx, tr.ID, m, blocked) }); err != nil {
			if errors.Is(err, swfd.ErrLocked) {
				blocked[key] = true
				left++
				if !errors.Is(err, errBehind) {
					l.lockedLines.Log(ctx, slog.LevelWarn, "a message's target is locked by another writer (a node stopped in the middle of a commit?); delivering it later",
						"id", tr.ID, "waited", LockWait, "err", err)
				}
				continue
			}
			if errors.Is(err, swfd.ErrConflict) {
				// Another node delivered it, or updated the target
				// first: the next round sees which.
				continue
			}
			return i - left, err
		}
	}
	return len(trs) - left, nil
}

// targetKey names the target of message id for Deliver's blocked targets:
// its run, or its workflow; a child to start is a target of its own.
func targetKey(id int64, m history.Message) string {
	switch {
	case m.StartChild != nil:
		return fmt.Sprint("message\x00", id)
	case m.RunID != "":
		return "run\x00" + m.RunID
	}
	return "workflow\x00" + m.Domain + "\x00" + m.WorkflowID
}

func (l *Loop) deliver(ctx context.Context, id int64, m history.Message, blocked map[string]bool) error {
	if m.StartChild != nil {
		return l.startChild(ctx, id, m)
	}
	for {
		again, err := l.deliverOnce(ctx, id, m, blocked)
		if !again {
			return err
		}
	}
}

// deliverOnce delivers a message to its target: a run id, or the open run
// of a workflow id. A run found by its workflow id may continue as new
// between the lookup and its lock; the message is then for the new run
// (a child policy, above all, is for whichever run of the child's chain is
// open), so deliverOnce reports again, and the caller looks the workflow id
// up anew. Each round finds a newer run, since a run that continued as new
// never reopens.
//
// A target run in blocked (found locked earlier in the round) is left
// alone (errBehind); one found locked now is added to it.
func (l *Loop) deliverOnce(ctx context.Context, id int64, m history.Message, blocked map[string]bool) (again bool, err error) {
	runID := m.RunID
	if runID == "" {
		row, err := l.store.OpenRun(ctx, m.Domain, m.WorkflowID)
		if errors.Is(err, swfd.ErrNotFound) {
			return false, l.failed(ctx, id, m)
		}
		if err != nil {
			return false, err
		}
		runID = row.RunID
	}
	if blocked["run\x00"+runID] {
		return false, errBehind
	}
	defer func() {
		if errors.Is(err, swfd.ErrLocked) {
			blocked["run\x00"+runID] = true
		}
	}()
	unlock := l.runs.Lock(runID)
	defer unlock()
	// A delivery that fails commits no update of the target, so it must be
	// decided on the current state.
	r, err := l.runs.LoadCurrent(ctx, m.Domain, runID)
	if errors.Is(err, swfd.ErrNotFound) || (err == nil && m.WorkflowID != "" && r.Row.WorkflowID != m.WorkflowID) {
		return false, l.failed(ctx, id, m)
	}
	if err != nil {
		return false, err
	}
	if m.RunID == "" && !r.State.Open && r.State.CloseStatus == api.CloseStatusContinuedAsNew {
		return true, nil
	}
	res, err := r.State.Deliver(l.runs.Env(ctx), m)
	if err != nil {
		if runs.IsStale(err) {
			return false, l.failed(ctx, id, m)
		}
		return false, err
	}
	target := api.WorkflowExecution{WorkflowID: r.State.WorkflowID, RunID: r.State.RunID}
	// A request the target refused (its events would not fit in its
	// history) terminated the target instead of being recorded: its
	// sender is told that it failed, as for a closed run.
	failed := res.Refused != nil
	return false, l.runs.CommitRun(ctx, r, res, func(b *runs.Batch) error {
		b.Delivered(id)
		if reply := replyTo(m, target, failed); reply != nil {
			return b.Send(*reply)
		}
		return nil
	})
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
