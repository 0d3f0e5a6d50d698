package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
	"github.com/swfd/swfd/matching"
)

// run is one loaded execution: its stored row and the engine's state.
type run struct {
	row swfd.Execution
	st  *history.State
	// cached: the run came from the run cache, which in a cluster may be
	// behind the store. committed: a step on it has committed.
	cached, committed bool
}

func decodeRun(row swfd.Execution) (*run, error) {
	st := new(history.State)
	if err := json.Unmarshal(row.State, st); err != nil {
		return nil, fmt.Errorf("decode state of run %s: %w", row.RunID, err)
	}
	return &run{row: row, st: st}, nil
}

// loadRun loads a run by id; it must belong to domain. The caller holds the
// run's lock.
func (s *Service) loadRun(ctx context.Context, domain, runID string) (*run, error) {
	if r, ok := s.runs.get(runID); ok && (domain == "" || r.row.Domain == domain) {
		return r, nil
	}
	return s.loadStoredRun(ctx, domain, runID)
}

// loadStoredRun reads a run from the store, bypassing the cache.
func (s *Service) loadStoredRun(ctx context.Context, domain, runID string) (*run, error) {
	row, err := s.store.GetExecution(ctx, domain, runID)
	if err != nil {
		return nil, err
	}
	return decodeRun(row)
}

func unknownExecution(workflowID, runID string) *api.Fault {
	if runID == "" {
		return api.ErrUnknownResource("Unknown execution, workflowId = %s", workflowID)
	}
	return api.ErrUnknownResource("Unknown execution: WorkflowExecution=[workflowId=%s, runId=%s]", workflowID, runID)
}

// withOpenRun resolves (workflowId, runId) — runId empty meaning the open
// run of the workflowId — takes the run's lock, loads it, and calls fn.
// Unknown, mismatched or closed runs are UnknownResourceFault.
func (s *Service) withOpenRun(ctx context.Context, domain, workflowID, runID string, fn func(r *run) error) error {
	if _, err := s.getDomain(ctx, domain); err != nil {
		return err
	}
	id := runID
	if id == "" {
		row, err := s.store.OpenRun(ctx, domain, workflowID)
		if errors.Is(err, swfd.ErrNotFound) {
			return unknownExecution(workflowID, runID)
		}
		if err != nil {
			return err
		}
		id = row.RunID
	}
	unlock := s.lock(id)
	defer unlock()
	return s.onRun(ctx, domain, id, func(r *run, err error) error {
		if errors.Is(err, swfd.ErrNotFound) || (err == nil && (r.row.WorkflowID != workflowID || !r.st.Open)) {
			return unknownExecution(workflowID, runID)
		}
		if err != nil {
			return err
		}
		return fn(r)
	})
}

// onRun runs a step on a run: fn gets the loaded run (or the error loading
// it), decides, and commits. The caller holds the run's lock. A step whose
// commit lost a race is run again on the state that won (retryConflicts).
//
// In a cluster the run may come from this node's cache while another node
// has changed it since. A commit made from such a state fails its version
// check, and so is never wrong; but a step that ends otherwise — with a
// fault, or with nothing to commit — may have been decided on old news, so
// it is decided again on the stored run, whose answer stands.
func (s *Service) onRun(ctx context.Context, domain, runID string, fn func(r *run, loadErr error) error) error {
	return retryConflicts(ctx, func() error {
		r, err := s.loadRun(ctx, domain, runID)
		err = fn(r, err)
		if r != nil && r.cached && s.runs.guarded && (err != nil || !r.committed) {
			s.runs.evict(runID)
			r, err = s.loadStoredRun(ctx, domain, runID)
			err = fn(r, err)
		}
		return err
	})
}

// retryConflicts runs a load-apply-commit step again when its commit lost
// an optimistic-concurrency race (another writer — another node, or a
// concurrent step of this one — updated the run first). Each attempt
// reloads the run, so the step is decided on the state that won.
func retryConflicts(ctx context.Context, step func() error) error {
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		if err = step(); !errors.Is(err, swfd.ErrConflict) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * time.Millisecond):
		}
	}
	return fmt.Errorf("gave up after repeated conflicts: %w", err)
}

// rowOf builds the stored row of a state.
func rowOf(st *history.State, version int64) (swfd.Execution, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return swfd.Execution{}, fmt.Errorf("encode state: %w", err)
	}
	row := swfd.Execution{
		Domain:          st.Domain,
		WorkflowID:      st.WorkflowID,
		RunID:           st.RunID,
		TypeName:        st.WorkflowType.Name,
		TypeVersion:     st.WorkflowType.Version,
		StartTime:       st.StartTime,
		CloseTime:       st.CloseTime,
		Open:            st.Open,
		CloseStatus:     string(st.CloseStatus),
		Tags:            st.TagList,
		CancelRequested: st.CancelRequested,
		Version:         version,
		State:           b,
	}
	if st.Parent != nil {
		row.ParentWorkflowID, row.ParentRunID = st.Parent.WorkflowID, st.Parent.RunID
	}
	return row, nil
}

// stepUpdate turns a history step into a store update of the run.
func stepUpdate(st *history.State, prevVersion int64, create bool, res history.Result) (swfd.Update, error) {
	row, err := rowOf(st, prevVersion+1)
	if err != nil {
		return swfd.Update{}, err
	}
	u := swfd.Update{
		Execution:    row,
		Create:       create,
		AddTasks:     res.AddTasks,
		DoneTasks:    res.DoneTasks,
		AddTimers:    res.AddTimers,
		DeleteTimers: res.DeleteTimers,
		Closed:       res.Closed,
	}
	for _, ev := range res.Events {
		// MarshalJSON itself: json.Marshal would check and compact its
		// output again, which is already compact, checked JSON.
		b, err := ev.MarshalJSON()
		if err != nil {
			return swfd.Update{}, fmt.Errorf("encode event: %w", err)
		}
		u.Events = append(u.Events, swfd.Event{ID: ev.EventID, JSON: b})
	}
	return u, nil
}

func messageTransfers(msgs []history.Message) ([]swfd.Transfer, error) {
	var out []swfd.Transfer
	for _, m := range msgs {
		b, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encode message: %w", err)
		}
		out = append(out, swfd.Transfer{RunID: m.RunID, Payload: b})
	}
	return out, nil
}

// step is one commit in the making: updates of runs and transfers.
type step struct {
	batch   swfd.Batch
	results []history.Result
	states  []*history.State
}

// add appends a run's step result (create: the run is new).
func (b *step) add(st *history.State, prevVersion int64, create bool, res history.Result) error {
	u, err := stepUpdate(st, prevVersion, create, res)
	if err != nil {
		return err
	}
	tr, err := messageTransfers(res.Messages)
	if err != nil {
		return err
	}
	b.batch.Updates = append(b.batch.Updates, u)
	b.batch.AddTransfers = append(b.batch.AddTransfers, tr...)
	b.results = append(b.results, res)
	b.states = append(b.states, st)
	return nil
}

// commitRun commits one step of r, with the new run of a continue-as-new,
// and then updates the task lists and wakes the timer and transfer loops.
func (s *Service) commitRun(ctx context.Context, r *run, res history.Result, extra ...func(*step) error) error {
	var b step
	if err := b.add(r.st, r.row.Version, false, res); err != nil {
		return err
	}
	if res.ContinuedAs != nil {
		nst, nres := history.Start(s.env(ctx), *res.ContinuedAs)
		if err := b.add(nst, 0, true, nres); err != nil {
			return err
		}
	}
	for _, fn := range extra {
		if err := fn(&b); err != nil {
			return err
		}
	}
	if err := s.commit(ctx, &b); err != nil {
		return err
	}
	r.committed = true
	return nil
}

// commit writes a step and, once it is durable, publishes its effects.
func (s *Service) commit(ctx context.Context, b *step) error {
	// The commit must not be abandoned half-way because a client went
	// away: its outcome is what the next call sees.
	if err := s.store.Commit(context.WithoutCancel(ctx), b.batch); err != nil {
		for _, u := range b.batch.Updates {
			s.runs.evict(u.Execution.RunID)
		}
		return err
	}
	for i, u := range b.batch.Updates {
		var evs []api.HistoryEvent
		if s.runs != nil {
			evs = make([]api.HistoryEvent, len(u.Events))
			for j, ev := range b.results[i].Events {
				evs[j] = api.HistoryEvent{EventID: ev.EventID, EventType: ev.EventType, EventTimestamp: ev.EventTimestamp, Raw: u.Events[j].JSON}
			}
		}
		s.runs.put(u.Execution, b.states[i], evs, u.Create)
	}
	var timerDue time.Time // the earliest timer added
	transfers := len(b.batch.AddTransfers) > 0
	var n news
	for i, res := range b.results {
		u := b.batch.Updates[i]
		runID := u.Execution.RunID
		if u.Create && u.Execution.Open {
			s.countOpenDelta(u.Execution.Domain, +1)
		}
		if res.Closed {
			s.countOpenDelta(u.Execution.Domain, -1)
		}
		for _, id := range res.DoneTasks {
			// A task a poller here took is news already (pollList).
			if s.matcher.Remove(runID, id) {
				n.Done = append(n.Done, taskKey{runID, id})
			}
		}
		if res.Closed {
			s.matcher.RemoveRun(runID)
			n.Closed = append(n.Closed, runID)
		} else {
			for _, t := range res.AddTasks {
				if s.schedule(t) {
					n.Tasks = append(n.Tasks, t)
				}
			}
		}
		for _, t := range res.AddTimers {
			if timerDue.IsZero() || t.Due.Before(timerDue) {
				timerDue = t.Due
			}
			if s.timerDueBefore(t.Due) {
				poke(s.timerWake)
			}
		}
	}
	if transfers {
		poke(s.transferWake)
	}
	if s.bcast != nil && (len(n.Tasks) > 0 || len(n.Done) > 0 || len(n.Closed) > 0 || !timerDue.IsZero() || transfers) {
		if !timerDue.IsZero() {
			n.TimerDue = max(timerDue.UnixMilli(), 1)
		}
		n.Transfers = transfers
		s.publish(ctx, n)
	}
	return nil
}

// schedule hands a new task to a poller here that waits for one, or queues
// it, and reports whether the other nodes should hear of it now.
//
// A task a poller here was waiting for is not news: offered to every node,
// it would set pollers on each of them racing to start it. A task scheduled
// while every poller of its list here is busy (one polled within
// pollerBusyFor) is kept for them for shareDelay before the other nodes
// hear of it: under load a poller here is back within a few milliseconds,
// and a task started by the node that scheduled it needs no read of its run,
// while another node's poller would read the run (and its history), and
// often race a poller here that came back meanwhile. A task of a list
// nobody here polls is news at once.
func (s *Service) schedule(t swfd.Task) (shareNow bool) {
	switch {
	case s.matcher.Offer(t):
		return false
	case s.bcast != nil && s.matcher.PolledWithin(matching.KeyOf(t), pollerBusyFor):
		s.afterFunc(shareDelay, func() {
			if s.matcher.Queued(t.RunID, t.ScheduledEventID) {
				s.publish(context.Background(), news{Tasks: []swfd.Task{t}})
			}
		})
		return false
	}
	return true
}

// How long a task waits for this node's busy pollers before the others
// hear of it (see schedule).
const (
	shareDelay    = 10 * time.Millisecond
	pollerBusyFor = time.Second
)

// typeLookup reads types from the store for the engine. A store error (or
// the call's context ending first) is returned, not taken for "no such
// type": the engine then fails the step, and the call with it, instead of
// recording that the type does not exist. The lookup lives for one call:
// ctx is that call's.
type typeLookup struct {
	ctx   context.Context
	store swfd.Store
}

func (l typeLookup) ActivityType(domain, name, version string) (swfd.TypeRecord, api.ActivityTypeConfiguration, bool, error) {
	var cfg api.ActivityTypeConfiguration
	t, found, err := l.get(swfd.ActivityKind, domain, name, version, &cfg)
	return t, cfg, found, err
}

func (l typeLookup) WorkflowType(domain, name, version string) (swfd.TypeRecord, api.WorkflowTypeConfiguration, bool, error) {
	var cfg api.WorkflowTypeConfiguration
	t, found, err := l.get(swfd.WorkflowKind, domain, name, version, &cfg)
	return t, cfg, found, err
}

// get reads a type and decodes its configuration into cfg.
func (l typeLookup) get(kind swfd.TypeKind, domain, name, version string, cfg any) (swfd.TypeRecord, bool, error) {
	t, err := l.store.GetType(l.ctx, kind, domain, name, version)
	if errors.Is(err, swfd.ErrNotFound) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("look up %s type %s/%s: %w", kind, name, version, err)
	}
	if err := jsonUnmarshal(t.Config, cfg); err != nil {
		return t, false, err
	}
	return t, true, nil
}

func (s *Service) env(ctx context.Context) history.Env {
	return history.Env{
		Now:      s.now(),
		Types:    typeLookup{ctx, s.store},
		NewRunID: newRunID,
		Limits:   s.limits.History,
		OpenExecutions: func(domain string) (int, int, error) {
			n, err := s.openExecutions(ctx, domain)
			if err != nil {
				return 0, 0, fmt.Errorf("count open executions of domain %s: %w", domain, err)
			}
			return n, s.limits.MaxOpenExecutions, nil
		},
	}
}
