package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
	"github.com/swfd/swfd/inspect"
	"github.com/swfd/swfd/matching"
)

var _ inspect.Inspector = (*Service)(nil)

// attemptScan bounds how many of a run's latest events Pending reads to
// count each open activity's attempts.
const attemptScan = 10000

// Pending implements inspect.Inspector: the run's pending work, from its
// stored state.
func (s *Service) Pending(ctx context.Context, domain string, ex api.WorkflowExecution) (*inspect.Pending, error) {
	r, err := s.describeRun(ctx, domain, ex)
	if err != nil {
		return nil, err
	}
	st := r.State
	p := &inspect.Pending{Now: s.runs.Now(), Open: st.Open, NextEventID: st.NextEventID, DecisionTimeouts: st.Trouble.DecisionTimeouts}
	if fd := st.Trouble.FailedDecision; fd.EventID != 0 {
		p.FailedDecision = &inspect.FailedDecision{EventID: fd.EventID, EventType: fd.EventType, Cause: fd.Cause, Time: fd.Time}
	}
	if !st.Open {
		return p, nil
	}
	p.Deadline = deadline(st)
	if d := st.Decision; d.ScheduledID != 0 || d.StartedID != 0 {
		p.Decision = &inspect.DecisionTask{ScheduledID: d.ScheduledID, Scheduled: d.ScheduledTime, TaskList: d.ScheduledList,
			StartedID: d.StartedID, Started: d.StartedTime}
	}
	for _, a := range st.Activities {
		p.Activities = append(p.Activities, inspect.Activity{
			ActivityID: a.ActivityID, Type: a.ActivityType, ScheduledID: a.ScheduledID, Scheduled: a.ScheduledTime,
			StartedID: a.StartedID, Started: a.StartedTime, Identity: a.Identity, TaskList: a.TaskList, Attempt: 1,
			LastHeartbeat: a.LastHeartbeat, HeartbeatDetails: api.Value(a.HeartbeatDetails), CancelRequested: a.CancelRequested,
			ScheduleToStart: a.ScheduleToStart, ScheduleToClose: a.ScheduleToClose, StartToClose: a.StartToClose, Heartbeat: a.Heartbeat,
		})
	}
	sort.Slice(p.Activities, func(i, j int) bool { return p.Activities[i].ScheduledID < p.Activities[j].ScheduledID })
	for _, l := range st.Lambdas {
		pl := inspect.Lambda{ID: l.ID, Name: l.Name, ScheduledID: l.ScheduledID, Scheduled: l.ScheduledTime,
			StartedID: l.StartedID, Started: l.StartedTime, StartToClose: l.StartToClose}
		if d, none, err := history.ParseDuration(l.StartToClose); l.StartedID != 0 && err == nil && !none {
			pl.Deadline = l.StartedTime.Add(d)
		}
		p.Lambdas = append(p.Lambdas, pl)
	}
	sort.Slice(p.Lambdas, func(i, j int) bool { return p.Lambdas[i].ScheduledID < p.Lambdas[j].ScheduledID })
	for _, t := range st.Timers {
		p.Timers = append(p.Timers, inspect.Timer{TimerID: t.TimerID, StartedID: t.StartedID, Due: t.Due})
	}
	sort.Slice(p.Timers, func(i, j int) bool { return p.Timers[i].Due.Before(p.Timers[j].Due) })
	for _, c := range st.Children {
		p.Children = append(p.Children, inspect.Child{InitiatedID: c.InitiatedID, WorkflowID: c.WorkflowID, RunID: c.RunID, Type: c.WorkflowType})
	}
	sort.Slice(p.Children, func(i, j int) bool { return p.Children[i].InitiatedID < p.Children[j].InitiatedID })
	for _, e := range st.Externals {
		x := inspect.External{InitiatedID: e.InitiatedID, WorkflowID: e.WorkflowID, RunID: api.Value(e.RunID)}
		if e.Signal {
			p.Signals = append(p.Signals, x)
		} else {
			p.Cancels = append(p.Cancels, x)
		}
	}
	sort.Slice(p.Signals, func(i, j int) bool { return p.Signals[i].InitiatedID < p.Signals[j].InitiatedID })
	sort.Slice(p.Cancels, func(i, j int) bool { return p.Cancels[i].InitiatedID < p.Cancels[j].InitiatedID })
	if len(p.Activities) > 0 {
		if err := s.countAttempts(ctx, st, p.Activities); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// countAttempts sets each open activity's attempt: how many times its
// activity id was scheduled in the run, among the run's latest attemptScan
// events.
func (s *Service) countAttempts(ctx context.Context, st *history.State, acts []inspect.Activity) error {
	idx := map[string]int{}
	for i, a := range acts {
		idx[a.ActivityID] = i
		acts[i].Attempt = 0
	}
	var after int64
	read := 0
	for read < attemptScan {
		events, next, err := s.runs.HistoryPage(ctx, st.RunID, after, 0, true, 1000, true)
		if err != nil {
			return err
		}
		for _, ev := range events {
			if ev.EventType != api.EventTypeActivityTaskScheduled {
				continue
			}
			var e struct {
				A struct {
					ActivityID string `json:"activityId"`
				} `json:"activityTaskScheduledEventAttributes"`
			}
			if len(ev.Raw) > 0 {
				if err := json.Unmarshal(ev.Raw, &e); err != nil {
					return fmt.Errorf("event %d: %w", ev.EventID, err)
				}
			} else if ev.ActivityTaskScheduledEventAttributes != nil {
				e.A.ActivityID = ev.ActivityTaskScheduledEventAttributes.ActivityID
			}
			if i, ok := idx[e.A.ActivityID]; ok {
				acts[i].Attempt++
			}
		}
		read += len(events)
		if next == 0 || len(events) == 0 {
			break
		}
		after = next
	}
	for i := range acts {
		acts[i].Attempt = max(acts[i].Attempt, 1)
	}
	return nil
}

// deadline is when a run's start-to-close timeout fires. A run given NONE
// (a child's or a continued run's may be) has one all the same: the engine
// holds every run to history.MaxExecutionStartToClose, one year.
func deadline(st *history.State) time.Time {
	d, none, err := history.ParseDuration(st.Config.ExecutionStartToCloseTimeout)
	if err != nil {
		return time.Time{}
	}
	if none {
		d = history.MaxExecutionStartToClose * time.Second
	}
	return st.StartTime.Add(d)
}

// History implements inspect.Inspector.
func (s *Service) History(ctx context.Context, domain string, ex api.WorkflowExecution, after int64, reverse bool, limit int) ([]api.HistoryEvent, error) {
	r, err := s.describeRun(ctx, domain, ex)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	// A page stops at about runs.HistoryPageBytes of events, while the
	// console takes fewer than limit events for the end of the history:
	// pages are read until limit events or the end.
	events := []api.HistoryEvent{}
	for len(events) < limit {
		page, next, err := s.runs.HistoryPage(ctx, r.Row.RunID, after, 0, reverse, limit-len(events), true)
		if err != nil {
			return nil, err
		}
		events = append(events, page...)
		if next == 0 || len(page) == 0 {
			break
		}
		after = next
	}
	return events, nil
}

// Execution implements inspect.Inspector.
func (s *Service) Execution(ctx context.Context, domain, runID string) (*api.WorkflowExecutionInfo, error) {
	if _, err := s.Domain(ctx, domain); err != nil {
		return nil, err
	}
	r, err := s.runs.LoadStored(ctx, domain, runID)
	if errors.Is(err, swfd.ErrNotFound) {
		return nil, api.ErrUnknownResource("Unknown execution: runId = %s", runID)
	}
	if err != nil {
		return nil, err
	}
	info := executionInfo(r.Row)
	return &info, nil
}

// TaskLists implements inspect.Inspector, from this node's task lists.
func (s *Service) TaskLists(ctx context.Context, domain string) ([]inspect.TaskList, error) {
	if _, err := s.Domain(ctx, domain); err != nil {
		return nil, err
	}
	var out []inspect.TaskList
	for _, l := range s.matcher.Lists(domain) {
		tl := inspect.TaskList{Kind: string(l.Key.Kind), Name: l.Key.TaskList, Pending: l.Queued, Waiting: l.Waiting, Oldest: l.Oldest, LastPoll: l.LastPoll}
		for _, p := range l.Pollers {
			tl.Pollers = append(tl.Pollers, inspect.Poller{Identity: p.Identity, LastPoll: p.LastPoll})
		}
		out = append(out, tl)
	}
	return out, nil
}

// Attention thresholds.
const (
	// attentionScan bounds the open executions Attention reads (oldest
	// first: those stuck longest).
	attentionScan = 5000
	// starvedAfter is how long a task must wait, on a list not polled for
	// as long, to count as starved.
	starvedAfter = time.Minute
	// failedDecisionRecent is how recent a failed decision must be.
	failedDecisionRecent = time.Hour
)

// Attention implements inspect.Inspector. It reads the domain's open
// executions, oldest first, at most attentionScan of them.
func (s *Service) Attention(ctx context.Context, domain string) (*inspect.Attention, error) {
	if _, err := s.Domain(ctx, domain); err != nil {
		return nil, err
	}
	release, err := s.visibilitySlot(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.store.ListExecutions(ctx, swfd.VisibilityQuery{Domain: domain, Open: true, Reverse: true, Limit: attentionScan + 1})
	release()
	if err != nil {
		return nil, fmt.Errorf("list open executions: %w", err)
	}
	now := s.runs.Now()
	out := &inspect.Attention{Now: now}
	if len(rows) > attentionScan {
		rows, out.Truncated = rows[:attentionScan], true
	}
	out.Scanned = len(rows)
	polled := map[matching.ListKey]bool{}
	unpolled := func(kind swfd.TaskKind, list string) bool {
		k := matching.ListKey{Kind: kind, Domain: domain, TaskList: list}
		p, ok := polled[k]
		if !ok {
			p = s.matcher.PolledWithin(k, starvedAfter)
			polled[k] = p
		}
		return !p
	}
	for _, row := range rows {
		st := new(history.State)
		if err := json.Unmarshal(row.State, st); err != nil {
			return nil, fmt.Errorf("run %s: decode state: %w", row.RunID, err)
		}
		base := inspect.Item{Execution: api.WorkflowExecution{WorkflowID: row.WorkflowID, RunID: row.RunID},
			Type: api.WorkflowType{Name: row.TypeName, Version: row.TypeVersion}, Started: row.StartTime}
		if n := st.Trouble.DecisionTimeouts; n >= 2 {
			it := base
			it.Count, it.Since = n, st.Trouble.LastTimeout
			out.DecisionTimeouts = append(out.DecisionTimeouts, it)
		}
		if d := st.Decision; d.ScheduledID != 0 && now.Sub(d.ScheduledTime) >= starvedAfter && unpolled(swfd.DecisionTask, d.ScheduledList) {
			it := base
			it.Kind, it.TaskList, it.Since = string(swfd.DecisionTask), d.ScheduledList, d.ScheduledTime
			out.Starved = append(out.Starved, it)
		}
		acts := make([]*history.Activity, 0, len(st.Activities))
		for _, a := range st.Activities {
			acts = append(acts, a)
		}
		sort.Slice(acts, func(i, j int) bool { return acts[i].ScheduledID < acts[j].ScheduledID })
		for _, a := range acts {
			if a.StartedID == 0 && now.Sub(a.ScheduledTime) >= starvedAfter && unpolled(swfd.ActivityTask, a.TaskList) {
				it := base
				it.Kind, it.TaskList, it.ActivityID, it.Since = string(swfd.ActivityTask), a.TaskList, a.ActivityID, a.ScheduledTime
				out.Starved = append(out.Starved, it)
			}
		}
		if dl := deadline(st); !dl.IsZero() {
			total := dl.Sub(st.StartTime)
			if left := dl.Sub(now); left <= max(total/10, time.Minute) {
				it := base
				it.Deadline = dl
				out.NearTimeout = append(out.NearTimeout, it)
			}
		}
		if fd := st.Trouble.FailedDecision; fd.EventID != 0 && now.Sub(fd.Time) <= failedDecisionRecent {
			it := base
			it.EventID, it.EventType, it.Cause, it.Since = fd.EventID, fd.EventType, fd.Cause, fd.Time
			out.FailedDecisions = append(out.FailedDecisions, it)
		}
	}
	return out, nil
}
