package service

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
)

// Run does the service's background work until ctx ends: it fires timers
// as they come due, delivers messages between runs, and purges closed
// executions past their domain's retention.
func (s *Service) Run(ctx context.Context) error {
	loops := []func(context.Context){s.timerLoop, s.transferLoop, s.retentionLoop}
	if s.bcast != nil {
		loops = append(loops, s.subscribeLoop, s.resyncLoop, s.publishLoop)
	}
	done := make(chan struct{}, len(loops))
	for _, loop := range loops {
		go func() { loop(ctx); done <- struct{}{} }()
	}
	for range loops {
		<-done
	}
	return ctx.Err()
}

// timerLoop sleeps until the earliest stored timer is due (or a commit adds
// an earlier one), then fires every due timer. An idle server with many
// pending timers costs one sleeping goroutine.
func (s *Service) timerLoop(ctx context.Context) {
	skip := map[string]time.Time{} // timers that failed to fire, retried later
	for ctx.Err() == nil {
		n, next, err := s.FireDueTimers(ctx, skip)
		if err != nil && ctx.Err() == nil {
			s.log.Error("firing timers", "err", err)
			next = time.Second
		}
		if n > 0 {
			continue
		}
		if s.bcast != nil && next > clusterTimerCheck {
			// Another node may add an earlier timer and die before it
			// fires: look at the store again soon.
			next = clusterTimerCheck
		}
		s.nextTimer.Store(time.Now().Add(next).UnixNano())
		wait := time.NewTimer(next)
		select {
		case <-ctx.Done():
		case <-s.timerWake:
		case <-wait.C:
		}
		wait.Stop()
		s.nextTimer.Store(0)
	}
}

// timerDueBefore reports whether a timer due at due must wake the timer
// loop: it sleeps past due, or is awake (0) and may have read the store
// before this timer was committed — then the poke makes it look again.
func (s *Service) timerDueBefore(due time.Time) bool {
	next := s.nextTimer.Load()
	return next == 0 || due.UnixNano() < next
}

// FireDueTimers fires the timers due now, at most a batch, and returns how
// many it fired and how long until the next one is due. Tests with an
// injected clock call it directly.
func (s *Service) FireDueTimers(ctx context.Context, skip map[string]time.Time) (int, time.Duration, error) {
	now := s.clock.Now()
	due, err := s.store.DueTimers(ctx, now, 256)
	if err != nil {
		return 0, time.Second, err
	}
	fired := 0
	for _, t := range due {
		id := t.RunID + "\x00" + t.Key
		if until, ok := skip[id]; ok && now.Before(until) {
			continue
		}
		if err := s.fireTimer(ctx, t); err != nil {
			s.log.Error("timer failed to fire; retrying in 5s", "run_id", t.RunID, "key", t.Key, "err", err)
			if skip != nil {
				skip[id] = now.Add(5 * time.Second)
			}
			continue
		}
		delete(skip, id)
		fired++
	}
	if fired > 0 {
		return fired, 0, nil
	}
	next, err := s.store.NextTimer(ctx)
	if errors.Is(err, swfd.ErrNotFound) {
		return 0, time.Hour, nil
	}
	if err != nil {
		return 0, time.Second, err
	}
	d := next.Due.Sub(s.clock.Now())
	if d < time.Millisecond {
		d = 50 * time.Millisecond // due but skipped after a failure
	}
	return 0, d, nil
}

func (s *Service) fireTimer(ctx context.Context, t swfd.Timer) error {
	unlock := s.lock(t.RunID)
	defer unlock()
	return retryConflicts(ctx, func() error {
		row, err := s.store.GetExecution(ctx, "", t.RunID)
		if err != nil {
			return err
		}
		r, err := decodeRun(row)
		if err != nil {
			return err
		}
		res, err := r.st.FireTimer(s.env(ctx), t.Key)
		if err != nil {
			return err
		}
		rearmed := false
		for _, a := range res.AddTimers {
			if a.Key == t.Key {
				rearmed = true
			}
		}
		if !rearmed {
			res.DeleteTimers = append(res.DeleteTimers, t.Key)
		}
		return s.commitRun(ctx, r, res)
	})
}

// transferLoop delivers messages between runs, oldest first.
func (s *Service) transferLoop(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := s.DeliverTransfers(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("delivering messages", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		wait := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
		case <-s.transferWake:
		case <-wait.C:
		}
		wait.Stop()
	}
}

// DeliverTransfers delivers pending messages and returns how many.
func (s *Service) DeliverTransfers(ctx context.Context) (int, error) {
	trs, err := s.store.PendingTransfers(ctx, 256)
	if err != nil {
		return 0, err
	}
	for i, tr := range trs {
		var m history.Message
		if err := json.Unmarshal(tr.Payload, &m); err != nil {
			s.log.Error("dropping undecodable message", "id", tr.ID, "err", err)
			if err := s.commit(ctx, &step{batch: swfd.Batch{DoneTransfers: []int64{tr.ID}}}); err != nil {
				return i, err
			}
			continue
		}
		if err := s.deliver(ctx, tr.ID, m); err != nil {
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

func (s *Service) deliver(ctx context.Context, id int64, m history.Message) error {
	if m.StartChild != nil {
		return s.startChild(ctx, id, m)
	}
	// Resolve the target: a run id, or the open run of a workflow id.
	runID := m.RunID
	if runID == "" {
		row, err := s.store.OpenRun(ctx, m.Domain, m.WorkflowID)
		if errors.Is(err, swfd.ErrNotFound) {
			return s.deliverFailed(ctx, id, m)
		}
		if err != nil {
			return err
		}
		runID = row.RunID
	}
	unlock := s.lock(runID)
	defer unlock()
	// In a cluster from the store: a delivery that fails commits no
	// update of the target, so a cached state's version would go unchecked.
	load := s.loadRun
	if s.runs.guarded {
		load = s.loadStoredRun
	}
	r, err := load(ctx, m.Domain, runID)
	if errors.Is(err, swfd.ErrNotFound) || (err == nil && m.WorkflowID != "" && r.row.WorkflowID != m.WorkflowID) {
		return s.deliverFailed(ctx, id, m)
	}
	if err != nil {
		return err
	}
	res, err := r.st.Deliver(s.env(ctx), m)
	if err != nil {
		if isStale(err) {
			return s.deliverFailed(ctx, id, m)
		}
		return err
	}
	target := api.WorkflowExecution{WorkflowID: r.st.WorkflowID, RunID: r.st.RunID}
	return s.commitRun(ctx, r, res, func(b *step) error {
		b.batch.DoneTransfers = append(b.batch.DoneTransfers, id)
		reply := replyTo(m, target, false)
		if reply == nil {
			return nil
		}
		tr, err := messageTransfers([]history.Message{*reply})
		b.batch.AddTransfers = append(b.batch.AddTransfers, tr...)
		return err
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

// deliverFailed drops a message whose target is gone, telling the sender
// when it waits for an answer.
func (s *Service) deliverFailed(ctx context.Context, id int64, m history.Message) error {
	b := &step{batch: swfd.Batch{DoneTransfers: []int64{id}}}
	if reply := replyTo(m, api.WorkflowExecution{WorkflowID: m.WorkflowID, RunID: m.RunID}, true); reply != nil {
		tr, err := messageTransfers([]history.Message{*reply})
		if err != nil {
			return err
		}
		b.batch.AddTransfers = tr
	}
	return s.commit(ctx, b)
}

func (s *Service) startChild(ctx context.Context, id int64, m history.Message) error {
	sc := m.StartChild
	p := sc.Start
	p.RunID = newRunID()
	p.Parent = &sc.Parent
	p.ParentInitiatedEventID = sc.InitiatedID
	tell := func(msg history.Message) (*step, error) {
		msg.Domain, msg.RunID = m.Domain, sc.Parent.RunID
		tr, err := messageTransfers([]history.Message{msg})
		if err != nil {
			return nil, err
		}
		return &step{batch: swfd.Batch{DoneTransfers: []int64{id}, AddTransfers: tr}}, nil
	}
	failed := func() error {
		b, err := tell(history.Message{ChildStartFailed: &history.ChildStartFailedMsg{InitiatedID: sc.InitiatedID, Cause: api.StartChildWorkflowExecutionFailedCauseWorkflowAlreadyRunning}})
		if err != nil {
			return err
		}
		return s.commit(ctx, b)
	}
	if _, err := s.store.OpenRun(ctx, m.Domain, p.WorkflowID); err == nil {
		return failed()
	} else if !errors.Is(err, swfd.ErrNotFound) {
		return err
	}
	st, res := history.Start(s.env(ctx), p)
	b, err := tell(history.Message{ChildStarted: &history.ChildStartedMsg{InitiatedID: sc.InitiatedID, Child: api.WorkflowExecution{WorkflowID: p.WorkflowID, RunID: p.RunID}, Type: p.WorkflowType}})
	if err != nil {
		return err
	}
	if err := b.add(st, 0, true, res); err != nil {
		return err
	}
	err = s.commit(ctx, b)
	if errors.Is(err, swfd.ErrAlreadyExists) {
		return failed()
	}
	return err
}

// retentionLoop purges closed executions past retention, a small batch at
// a time so that it never holds the store for long.
func (s *Service) retentionLoop(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if err := s.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("purging closed executions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// PurgeExpired deletes closed executions whose domain's retention has
// passed since they closed.
func (s *Service) PurgeExpired(ctx context.Context) error {
	for _, status := range []string{swfd.StatusRegistered, swfd.StatusDeprecated} {
		after := ""
		for {
			ds, err := s.store.ListDomains(ctx, swfd.ListQuery{Status: status, After: after, Limit: 100})
			if err != nil {
				return err
			}
			for _, d := range ds {
				days, _ := strconv.Atoi(d.RetentionDays) // NONE and 0: purge at once
				cutoff := s.clock.Now().Add(-time.Duration(days) * 24 * time.Hour)
				for {
					n, err := s.store.PurgeClosed(ctx, d.Name, cutoff, 500)
					if err != nil {
						return err
					}
					if n < 500 {
						break
					}
					select {
					case <-ctx.Done():
						return ctx.Err()
					case <-time.After(10 * time.Millisecond):
					}
				}
			}
			if len(ds) < 100 {
				break
			}
			after = ds[len(ds)-1].Name
		}
	}
	return nil
}

// clusterTimerCheck bounds how long a node of a cluster sleeps between
// looks at the store's earliest timer.
const clusterTimerCheck = 2 * time.Second

// subscribeLoop applies news from the other nodes until ctx ends,
// resubscribing after failures.
func (s *Service) subscribeLoop(ctx context.Context) {
	for ctx.Err() == nil {
		if err := s.bcast.Subscribe(ctx, s.receive); err != nil && ctx.Err() == nil {
			s.log.Warn("cluster subscription failed; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// clusterResync is how often a node of a cluster reloads the pending tasks
// from the store, in case it missed news (it joined late, or a message was
// lost).
const clusterResync = 5 * time.Second

func (s *Service) resyncLoop(ctx context.Context) {
	t := time.NewTicker(clusterResync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tasks, err := s.store.PendingTasks(ctx)
		if err != nil {
			s.log.Warn("reloading pending tasks", "err", err)
			continue
		}
		for _, tk := range tasks {
			// A task this node does not hold already is another node's
			// (adding one it holds does nothing): this node's own tasks
			// keep going first.
			s.matcher.AddRemote(tk)
		}
	}
}
