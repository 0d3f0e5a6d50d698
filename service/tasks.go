package service

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
	"github.com/swfd/swfd/matching"
)

// pollList waits for a task on a list and starts it with start; tasks that
// turn out stale (timed out, canceled, their run closed) are skipped. It
// returns ok=false when the poll timed out empty.
func (s *Service) pollList(ctx context.Context, k matching.ListKey, start func(t swfd.Task) (bool, error)) (bool, error) {
	pctx, cancel := context.WithTimeout(ctx, s.pollWait)
	defer cancel()
	defer context.AfterFunc(s.stopping, cancel)()
	for {
		t, err := s.matcher.Poll(pctx, k)
		if err != nil {
			if errors.Is(err, matching.ErrTooManyPollers) {
				return false, api.NewFault(api.LimitExceededFault, "Too many pollers on task list %s", k.TaskList)
			}
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return false, nil
		}
		if ctx.Err() != nil {
			// The client is gone: nobody would receive the task.
			s.matcher.Add(t)
			return false, ctx.Err()
		}
		// In a cluster the other nodes may hold the task too: tell them
		// it is taken now, not only once its start has committed, or
		// their pollers freed meanwhile race this one for it.
		s.publish(ctx, news{Done: []taskKey{{t.RunID, t.ScheduledEventID}}})
		ok, err := start(t)
		if err != nil {
			// Not started (the store failed): the task is still
			// pending, for the next poller here or anywhere.
			s.matcher.Add(t)
			s.publish(ctx, news{Tasks: []swfd.Task{t}})
			return false, err
		}
		if ok {
			return true, nil
		}
	}
}

// isStale reports whether err means the task no longer exists.
func isStale(err error) bool {
	if errors.Is(err, swfd.ErrNotFound) || errors.Is(err, swfd.ErrConflict) {
		return true
	}
	f, ok := api.AsFault(err)
	return ok && f.Code == api.UnknownResourceFault
}

func (s *Service) PollForDecisionTask(ctx context.Context, in *api.PollForDecisionTaskInput) (*api.DecisionTask, error) {
	var c checker
	c.trimmedName("taskList.name", in.TaskList.Name)
	if err := c.err(); err != nil {
		return nil, err
	}
	if _, err := s.getDomain(ctx, in.Domain); err != nil {
		return nil, err
	}
	if in.NextPageToken != "" {
		return s.decisionTaskPage(ctx, in)
	}
	var out *api.DecisionTask
	ok, err := s.pollList(ctx, matching.ListKey{Kind: swfd.DecisionTask, Domain: in.Domain, TaskList: in.TaskList.Name}, func(t swfd.Task) (bool, error) {
		unlock := s.lock(t.RunID)
		defer unlock()
		var r *run
		var res history.Result
		err := s.onRun(ctx, t.Domain, t.RunID, func(loaded *run, err error) error {
			if r = loaded; err != nil {
				return err
			}
			if res, err = r.st.StartDecisionTask(s.env(ctx), t.ScheduledEventID, in.Identity); err != nil {
				return err
			}
			return s.commitRun(ctx, r, res)
		})
		if err != nil {
			if isStale(err) {
				return false, nil
			}
			return false, err
		}
		if res.Closed {
			// Starting the task hit the history limit and terminated the run.
			return false, nil
		}
		started := r.st.Decision.StartedID
		p := decisionPage{
			Domain: in.Domain, RunID: r.st.RunID, WorkflowID: r.st.WorkflowID,
			TypeName: r.st.WorkflowType.Name, TypeVersion: r.st.WorkflowType.Version,
			Started: started, Previous: r.st.PreviousStartedEventID,
			Token: s.taskToken(taskRef{Kind: swfd.DecisionTask, Domain: in.Domain, RunID: r.st.RunID, ScheduledID: t.ScheduledEventID, StartedID: started}),
		}
		out, err = s.decisionTaskFrom(ctx, p, in, 0)
		return err == nil, err
	})
	if err != nil || !ok {
		return &api.DecisionTask{Events: []api.HistoryEvent{}}, err
	}
	return out, nil
}

// decisionPage is what a decision task's nextPageToken carries, so that
// further pages neither start a new task nor depend on later state.
type decisionPage struct {
	Domain      string `json:"d"`
	RunID       string `json:"r"`
	WorkflowID  string `json:"w"`
	TypeName    string `json:"n"`
	TypeVersion string `json:"v"`
	Started     int64  `json:"s"`
	Previous    int64  `json:"p"`
	Token       string `json:"t"`
	After       int64  `json:"a"`
}

func (s *Service) decisionTaskFrom(ctx context.Context, p decisionPage, in *api.PollForDecisionTaskInput, after int64) (*api.DecisionTask, error) {
	if after == 0 && in.StartAtPreviousStartedEvent && p.Previous > 0 && !in.ReverseOrder {
		after = p.Previous - 1
	}
	events, next, err := s.historyPage(ctx, p.RunID, after, p.Started, in.ReverseOrder, in.MaximumPageSize, false)
	if err != nil {
		return nil, err
	}
	out := &api.DecisionTask{
		TaskToken:              p.Token,
		StartedEventID:         p.Started,
		PreviousStartedEventID: p.Previous,
		WorkflowExecution:      api.WorkflowExecution{WorkflowID: p.WorkflowID, RunID: p.RunID},
		WorkflowType:           api.WorkflowType{Name: p.TypeName, Version: p.TypeVersion},
		Events:                 events,
	}
	if next != 0 {
		p.After = next
		b, _ := json.Marshal(p)
		out.NextPageToken = s.pageToken(decisionScope(in), string(b))
	}
	return out, nil
}

func decisionScope(in *api.PollForDecisionTaskInput) string {
	return "dtask|" + in.Domain + "|" + in.TaskList.Name + "|" + strconv.FormatBool(in.ReverseOrder)
}

func (s *Service) decisionTaskPage(ctx context.Context, in *api.PollForDecisionTaskInput) (*api.DecisionTask, error) {
	raw, err := s.openPageToken(in.NextPageToken, decisionScope(in))
	if err != nil {
		return nil, err
	}
	var p decisionPage
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, errBadPageToken
	}
	return s.decisionTaskFrom(ctx, p, in, p.After)
}

func (s *Service) RespondDecisionTaskCompleted(ctx context.Context, in *api.RespondDecisionTaskCompletedInput) error {
	ref, err := s.openTaskToken(in.TaskToken, swfd.DecisionTask)
	if err != nil {
		return err
	}
	if in.TaskList != nil {
		var c checker
		c.taskList("taskList", in.TaskList)
		c.duration("taskListScheduleToStartTimeout", in.TaskListScheduleToStartTimeout, true)
		if err := c.err(); err != nil {
			return err
		}
	}
	return s.withTask(ctx, ref, func(r *run) error {
		res, err := r.st.CompleteDecisionTask(s.decisionEnv(ctx, ref.Domain), ref.StartedID, in)
		if err != nil {
			return err
		}
		return s.commitRun(ctx, r, res)
	})
}

// withTask locks and loads the run a task token names. A run that is gone
// is UnknownResourceFault; the engine rejects tokens of finished tasks.
func (s *Service) withTask(ctx context.Context, ref taskRef, fn func(r *run) error) error {
	unlock := s.lock(ref.RunID)
	defer unlock()
	return s.onRun(ctx, ref.Domain, ref.RunID, func(r *run, err error) error {
		if errors.Is(err, swfd.ErrNotFound) || (err == nil && !r.st.Open) {
			return errBadToken
		}
		if err != nil {
			return err
		}
		return fn(r)
	})
}

func (s *Service) PollForActivityTask(ctx context.Context, in *api.PollForActivityTaskInput) (*api.ActivityTask, error) {
	var c checker
	c.trimmedName("taskList.name", in.TaskList.Name)
	if err := c.err(); err != nil {
		return nil, err
	}
	if _, err := s.getDomain(ctx, in.Domain); err != nil {
		return nil, err
	}
	var out *api.ActivityTask
	ok, err := s.pollList(ctx, matching.ListKey{Kind: swfd.ActivityTask, Domain: in.Domain, TaskList: in.TaskList.Name}, func(t swfd.Task) (bool, error) {
		unlock := s.lock(t.RunID)
		defer unlock()
		var r *run
		var res history.Result
		err := s.onRun(ctx, t.Domain, t.RunID, func(loaded *run, err error) error {
			if r = loaded; err != nil {
				return err
			}
			if res, err = r.st.StartActivityTask(s.env(ctx), t.ScheduledEventID, in.Identity); err != nil {
				return err
			}
			return s.commitRun(ctx, r, res)
		})
		if err != nil {
			if isStale(err) {
				return false, nil
			}
			return false, err
		}
		if res.Closed {
			return false, nil
		}
		var startedID int64
		var activityID string
		var activityType api.ActivityType
		for _, a := range r.st.Activities {
			if a.ScheduledID == t.ScheduledEventID {
				startedID, activityID, activityType = a.StartedID, a.ActivityID, a.ActivityType
			}
		}
		input, err := s.activityInput(ctx, r.st.RunID, t.ScheduledEventID)
		if err != nil {
			return false, err
		}
		out = &api.ActivityTask{
			TaskToken:         s.taskToken(taskRef{Kind: swfd.ActivityTask, Domain: in.Domain, RunID: r.st.RunID, ScheduledID: t.ScheduledEventID, StartedID: startedID}),
			ActivityID:        activityID,
			ActivityType:      activityType,
			StartedEventID:    startedID,
			WorkflowExecution: api.WorkflowExecution{WorkflowID: r.st.WorkflowID, RunID: r.st.RunID},
			Input:             input,
		}
		return true, nil
	})
	if err != nil || !ok {
		return &api.ActivityTask{}, err
	}
	return out, nil
}

// activityInput reads the input of an activity from its Scheduled event.
func (s *Service) activityInput(ctx context.Context, runID string, scheduledID int64) (string, error) {
	q := swfd.HistoryQuery{RunID: runID, AfterID: scheduledID - 1, Limit: 1}
	var raw []byte
	if evs, ok := cachedHistory(s.runs, q, scheduledID); ok {
		if len(evs) == 0 {
			return "", nil
		}
		raw = evs[0].Raw
	} else if s.runs.wantsHistory(runID) {
		// The run was read from the store (another node scheduled the
		// activity): read its whole history, short as it is, and keep it,
		// so that the run's next decision task here needs no read.
		evs, err := s.storedHistory(ctx, swfd.HistoryQuery{RunID: runID})
		if err != nil {
			return "", err
		}
		s.runs.adopt(runID, evs)
		if int(scheduledID) > len(evs) || scheduledID < 1 {
			return "", nil
		}
		raw = evs[scheduledID-1].Raw
	} else {
		evs, err := s.store.History(ctx, q)
		if err != nil || len(evs) == 0 {
			return "", err
		}
		raw = evs[0].JSON
	}
	var ev api.HistoryEvent
	if err := jsonUnmarshal(raw, &ev); err != nil {
		return "", err
	}
	if a := ev.ActivityTaskScheduledEventAttributes; a != nil {
		return a.Input, nil
	}
	return "", nil
}

func (s *Service) RecordActivityTaskHeartbeat(ctx context.Context, in *api.RecordActivityTaskHeartbeatInput) (*api.ActivityTaskStatus, error) {
	ref, err := s.openTaskToken(in.TaskToken, swfd.ActivityTask)
	if err != nil {
		return nil, err
	}
	var out api.ActivityTaskStatus
	err = s.withTask(ctx, ref, func(r *run) error {
		cancel, res, err := r.st.RecordHeartbeat(s.env(ctx), ref.ScheduledID, ref.StartedID, in.Details)
		if err != nil {
			return err
		}
		out.CancelRequested = cancel
		return s.commitRun(ctx, r, res)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Service) RespondActivityTaskCompleted(ctx context.Context, in *api.RespondActivityTaskCompletedInput) error {
	ref, err := s.openTaskToken(in.TaskToken, swfd.ActivityTask)
	if err != nil {
		return err
	}
	return s.withTask(ctx, ref, func(r *run) error {
		res, err := r.st.CompleteActivityTask(s.env(ctx), ref.ScheduledID, ref.StartedID, in.Result)
		if err != nil {
			return err
		}
		return s.commitRun(ctx, r, res)
	})
}

func (s *Service) RespondActivityTaskFailed(ctx context.Context, in *api.RespondActivityTaskFailedInput) error {
	ref, err := s.openTaskToken(in.TaskToken, swfd.ActivityTask)
	if err != nil {
		return err
	}
	return s.withTask(ctx, ref, func(r *run) error {
		res, err := r.st.FailActivityTask(s.env(ctx), ref.ScheduledID, ref.StartedID, in.Reason, in.Details)
		if err != nil {
			return err
		}
		return s.commitRun(ctx, r, res)
	})
}

func (s *Service) RespondActivityTaskCanceled(ctx context.Context, in *api.RespondActivityTaskCanceledInput) error {
	ref, err := s.openTaskToken(in.TaskToken, swfd.ActivityTask)
	if err != nil {
		return err
	}
	return s.withTask(ctx, ref, func(r *run) error {
		res, err := r.st.CancelActivityTask(s.env(ctx), ref.ScheduledID, ref.StartedID, in.Details)
		if err != nil {
			return err
		}
		return s.commitRun(ctx, r, res)
	})
}

func (s *Service) countPending(ctx context.Context, kind swfd.TaskKind, domain, list string) (*api.PendingTaskCount, error) {
	if _, err := s.getDomain(ctx, domain); err != nil {
		return nil, err
	}
	return &api.PendingTaskCount{Count: s.matcher.Count(matching.ListKey{Kind: kind, Domain: domain, TaskList: list})}, nil
}

func (s *Service) CountPendingDecisionTasks(ctx context.Context, in *api.CountPendingDecisionTasksInput) (*api.PendingTaskCount, error) {
	return s.countPending(ctx, swfd.DecisionTask, in.Domain, in.TaskList.Name)
}

func (s *Service) CountPendingActivityTasks(ctx context.Context, in *api.CountPendingActivityTasksInput) (*api.PendingTaskCount, error) {
	return s.countPending(ctx, swfd.ActivityTask, in.Domain, in.TaskList.Name)
}
