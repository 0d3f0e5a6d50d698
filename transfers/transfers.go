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
	"log/slog"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
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
	wake  chan struct{}
}

// New returns a Loop; Run runs it.
func New(opts Options) *Loop {
	l := &Loop{store: opts.Store, runs: opts.Runs, log: opts.Log, wake: make(chan struct{}, 1)}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	return l
}

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
// it handled.
func (l *Loop) Deliver(ctx context.Context) (int, error) {
	trs, err := l.store.PendingTransfers(ctx, 256)
	if err != nil {
		return 0, err
	}
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
		if err := loop.Error(l.log, "delivering a message", func() error { return l.deliver(ctx, tr.ID, m) }); err != nil {
			if errors.Is(err, swfd.ErrConflict) {
				// Another node delivered it, or updated the target
				// first: the next round sees which.
				continue
			}
			return i, err
		}
	}
	return len(trs), nil
}

func (l *Loop) deliver(ctx context.Context, id int64, m history.Message) error {
	if m.StartChild != nil {
		return l.startChild(ctx, id, m)
	}
	for {
		again, err := l.deliverOnce(ctx, id, m)
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
func (l *Loop) deliverOnce(ctx context.Context, id int64, m history.Message) (again bool, err error) {
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
// workflowId already open in the domain makes the start fail, which the
// parent is told instead.
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
	if _, err := l.store.OpenRun(ctx, m.Domain, p.WorkflowID); err == nil {
		return failed()
	} else if !errors.Is(err, swfd.ErrNotFound) {
		return err
	}
	st, res := history.Start(l.runs.Env(ctx), p)
	b, err := tell(history.Message{ChildStarted: &history.ChildStartedMsg{InitiatedID: sc.InitiatedID, Child: api.WorkflowExecution{WorkflowID: p.WorkflowID, RunID: p.RunID}, Type: p.WorkflowType}})
	if err != nil {
		return err
	}
	if err := b.Add(st, 0, true, res); err != nil {
		return err
	}
	err = l.runs.Commit(ctx, b)
	if errors.Is(err, swfd.ErrAlreadyExists) {
		return failed()
	}
	return err
}
