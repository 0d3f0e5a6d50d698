package service

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/cluster"
	"github.com/swfd/swfd/history"
	"github.com/swfd/swfd/internal/token"
	"github.com/swfd/swfd/internal/validate"
	"github.com/swfd/swfd/matching"
	"github.com/swfd/swfd/runs"
)

// pollList waits for a task on a list and starts it with start; tasks that
// turn out stale (timed out, canceled, their run closed) are skipped. It
// returns ok=false when the poll timed out empty, or had its wait ended
// early to free its connection (Options.LongWait): then no task was handed
// to it (one handed in the same instant goes back to the list), and it is
// answered empty, as a poll may be at any time before its timeout.
func (s *Service) pollList(ctx context.Context, k matching.ListKey, start func(t swfd.Task) (bool, error)) (bool, error) {
	pctx, cancel := context.WithTimeout(ctx, s.pollWait)
	defer cancel()
	defer context.AfterFunc(s.stopping, cancel)()
	for {
		waited := s.waiting(ctx, cancel)
		t, err := s.matcher.Poll(pctx, k)
		if ended := waited(); err == nil && (ended || pctx.Err() != nil) {
			// Handed a task as its wait ended (its timeout, swfd
			// stopping, its client gone, or its wait ended to free its
			// connection): the task goes to a later poll, and this one
			// is answered empty at once. Started, its answer would come
			// after the poll's time, when a client whose read timeout is
			// the poll's (botocore's 60 s) may have given up on it.
			s.giveBack(t)
			err = context.Canceled
		}
		if err != nil {
			if errors.Is(err, matching.ErrTooManyPollers) {
				return false, api.NewFault(api.LimitExceededFault, "Too many pollers on task list %s", k.TaskList)
			}
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			if s.hooks.Polled != nil {
				s.hooks.Polled(k.Kind, nil)
			}
			return false, nil
		}
		if ctx.Err() != nil {
			// The client is gone: nobody would receive the task.
			s.giveBack(t)
			return false, ctx.Err()
		}
		// In a cluster the other nodes may hold the task too: tell them
		// it is taken now, not only once its start has committed, or
		// their pollers freed meanwhile race this one for it.
		s.peers.Taken(t)
		ok, err := s.startHeld(pctx, t, start)
		if errors.Is(err, errMoving) {
			// A move of the clock held the start for as long as a call
			// may wait, or for the rest of the poll's time: the task goes
			// back unstarted, for a poll after the move, and this one is
			// answered empty, as a poll that found no task. Every poller
			// polls again on an empty answer, where a fault (a call's
			// ServiceUnavailable) could end a worker's loop; started
			// after the move instead, the task could go to a client that
			// had given up on the poll, and wait for its timeout.
			s.giveBack(t)
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			if s.hooks.Polled != nil {
				s.hooks.Polled(k.Kind, nil)
			}
			return false, nil
		}
		if err != nil {
			// Not started (the store failed): the task is still
			// pending, for the next poller here or anywhere.
			s.giveBack(t)
			return false, err
		}
		// Started, or found no longer pending: the task counted as
		// pending until now (matching.Matcher.Done).
		s.matcher.Done(t)
		if ok {
			if s.hooks.Polled != nil {
				s.hooks.Polled(k.Kind, &t)
			}
			return true, nil
		}
	}
}

// giveBack puts a task a poll took and did not start back on its list,
// and tells the other nodes of a cluster it is pending: a task handed
// straight to a poller waiting here was news to none of them, and one a
// poll took was news that it was taken (Taken).
//
// A task that ended while the poll held it (its run closed, it timed out
// or was canceled) is not put back: the commit that ended it found it off
// the lists, and put back it would stand pending for good, counted by
// CountPending*Tasks, until a poller came to take it and found it gone.
// The run's lock orders the check with such a commit; a run that cannot
// be read (the store failing) gets its task back, which a poller then
// checks as it starts it. So does a run whose lock another call keeps for
// longer than giveBackReadTimeout: a call whose commit waits on the store
// (a PostgreSQL statement waiting for a lock another session holds, up
// to its call's deadline; a database that does not answer, some 35 s).
// Before, the give-back waited for the lock as long as it was kept, and
// the poll's answer with it, past the poll's time and its client's read
// timeout, the task on no list meanwhile, so that no other poller could
// have it.
func (s *Service) giveBack(t swfd.Task) {
	ctx, cancel := context.WithTimeout(context.Background(), giveBackReadTimeout)
	defer cancel()
	if unlock, ok := s.runs.LockWithin(ctx, t.RunID); ok {
		defer unlock()
		if r, err := s.runs.Load(ctx, t.Domain, t.RunID); err == nil && !taskPending(r.State, t) {
			s.matcher.Done(t)
			return
		}
	}
	s.matcher.Return(t)
	s.peers.Returned(t)
}

// giveBackReadTimeout bounds giveBack's wait for its run's lock and its
// read of a run the run cache does not hold.
const giveBackReadTimeout = time.Second

// taskPending reports whether a task is scheduled and not yet started in
// a run's state.
func taskPending(st *history.State, t swfd.Task) bool {
	if !st.Open {
		return false
	}
	switch t.Kind {
	case swfd.DecisionTask:
		return st.Decision.ScheduledID == t.ScheduledEventID
	case swfd.ActivityTask:
		for _, a := range st.Activities {
			if a.ScheduledID == t.ScheduledEventID {
				return a.StartedID == 0
			}
		}
		return false
	}
	return true
}

// waiting tells Options.LongWait that a poll starts to wait.
func (s *Service) waiting(ctx context.Context, end func()) (done func() (ended bool)) {
	if s.longWait == nil {
		return func() bool { return false }
	}
	return s.longWait(ctx, end)
}

// errMoving is startHeld's error when the clock kept moving for longer
// than the poll could wait (Options.HoldPoll): the task was not started.
var errMoving = errors.New("service: the clock was moving for longer than the poll could wait to start its task")

// startHeld starts a task with the clock held still (Options.HoldPoll, or
// HoldTime), waiting for a move under way no longer than ctx lasts.
func (s *Service) startHeld(ctx context.Context, t swfd.Task, start func(t swfd.Task) (bool, error)) (bool, error) {
	switch {
	case s.holdPoll != nil:
		release, ok := s.holdPoll(ctx)
		if !ok {
			return false, errMoving
		}
		defer release()
	case s.holdTime != nil:
		defer s.holdTime()()
	}
	return start(t)
}

func (s *Service) PollForDecisionTask(ctx context.Context, in *api.PollForDecisionTaskInput) (*api.DecisionTask, error) {
	var c validate.Checker
	c.TrimmedName("taskList.name", in.TaskList.Name)
	if err := c.Err(); err != nil {
		return nil, err
	}
	if _, err := s.Domain(ctx, in.Domain); err != nil {
		return nil, err
	}
	if in.NextPageToken != "" {
		return s.decisionTaskPage(ctx, in)
	}
	var out *api.DecisionTask
	key := matching.ListKey{Kind: swfd.DecisionTask, Domain: in.Domain, TaskList: in.TaskList.Name}
	s.matcher.SawPoller(key, api.Value(in.Identity))
	ok, err := s.pollList(ctx, key, func(t swfd.Task) (bool, error) {
		unlock := s.runs.Lock(t.RunID)
		defer unlock()
		var res history.Result
		err := s.runs.Step(ctx, t.Domain, t.RunID, func(r *runs.Run, err error) error {
			out = nil
			if err != nil {
				return err
			}
			if res, err = r.State.StartDecisionTask(s.runs.Env(ctx), t.ScheduledEventID, in.Identity); err != nil {
				return err
			}
			if !res.Closed && res.Refused == nil {
				// The task's first page is read before its start
				// commits: a read that fails (the store, or the
				// client gone) then leaves the task unstarted, for
				// the next poller, where after the commit it left
				// the task started with no decider to decide it
				// until its START_TO_CLOSE timeout.
				p := decisionPage{
					RunID: r.State.RunID, Scheduled: t.ScheduledEventID, Started: r.State.Decision.StartedID,
					Previous:   r.State.PreviousStartedEventID,
					workflowID: r.State.WorkflowID, typ: r.State.WorkflowType,
				}
				if out, err = s.decisionTaskFrom(ctx, p, in, 0, res.Events); err != nil {
					return err
				}
				if err := ctx.Err(); err != nil {
					// The client is gone: nobody would receive the
					// task, which stays pending (pollList).
					return err
				}
			}
			return s.runs.CommitRun(ctx, r, res)
		})
		if err != nil {
			if runs.IsStale(err) {
				return false, nil
			}
			return false, err
		}
		if res.Closed || res.Refused != nil {
			// Starting the task hit the history limit and terminated the
			// run, or a timeout due before the poll (the run's or the
			// task's) ended it first: the timeout is recorded, and the
			// poll goes on waiting.
			return false, nil
		}
		return true, nil
	})
	if err != nil || !ok {
		return &api.DecisionTask{Events: []api.HistoryEvent{}}, err
	}
	return out, nil
}

// decisionPage is what a decision task's nextPageToken carries, so that
// further pages neither start a new task nor depend on later state. It
// holds only what is short: the run's workflowId and type are read from the
// run again (they never change), the domain is the request's (the token's
// scope binds it), and the task token is made again from the task's ids.
// That keeps the page token within the model's 2048 characters however long
// the names are. Token is set only in tokens made before it was left out.
type decisionPage struct {
	RunID     string `json:"r"`
	Scheduled int64  `json:"c,omitempty"`
	Started   int64  `json:"s"`
	Previous  int64  `json:"p"`
	After     int64  `json:"a"`
	// From is the first event of a task polled with
	// startAtPreviousStartedEvent: its pages, in either order, hold no
	// event before it.
	From  int64  `json:"f,omitempty"`
	Token string `json:"t,omitempty"`

	workflowID string
	typ        api.WorkflowType
}

// decisionTaskFrom builds a page of a decision task. pending, when set, are
// the events of the step that starts the task, which has yet to commit
// (runs.StepHistoryPage).
func (s *Service) decisionTaskFrom(ctx context.Context, p decisionPage, in *api.PollForDecisionTaskInput, after int64, pending []api.HistoryEvent) (*api.DecisionTask, error) {
	if after == 0 && in.StartAtPreviousStartedEvent && p.Previous > 0 {
		// The events dated at or after the previous DecisionTaskStarted:
		// from the first of those that share its time, in either order.
		from, err := s.firstEventAtTimeOf(ctx, p.RunID, p.Previous)
		if err != nil {
			return nil, err
		}
		p.From = from
		if !in.ReverseOrder {
			after = from - 1
		}
	}
	events, next, err := s.runs.StepHistoryPage(ctx, p.RunID, pending, after, p.Started, in.ReverseOrder, in.MaximumPageSize)
	if err != nil {
		return nil, err
	}
	if in.ReverseOrder && p.From > 0 {
		// Newest first: the page ends at From, and is the last one once
		// it reaches it.
		k := len(events)
		for k > 0 && events[k-1].EventID < p.From {
			k--
		}
		if k < len(events) || next != 0 && next <= p.From {
			next = 0
		}
		events = events[:k]
	}
	tok := p.Token
	if tok == "" {
		tok = s.tokens.TaskToken(token.Task{Kind: swfd.DecisionTask, Domain: in.Domain, RunID: p.RunID, ScheduledID: p.Scheduled, StartedID: p.Started})
	}
	out := &api.DecisionTask{
		TaskToken:              tok,
		StartedEventID:         p.Started,
		PreviousStartedEventID: p.Previous,
		WorkflowExecution:      api.WorkflowExecution{WorkflowID: p.workflowID, RunID: p.RunID},
		WorkflowType:           p.typ,
		Events:                 events,
	}
	if next != 0 {
		p.After = next
		b, _ := json.Marshal(p)
		out.NextPageToken = s.tokens.PageToken(decisionScope(in), string(b))
	}
	return out, nil
}

// firstEventAtTimeOf is the id of the first event of the run dated at the
// time of event id (events are dated in the order of their ids, and several
// may share a time).
func (s *Service) firstEventAtTimeOf(ctx context.Context, runID string, id int64) (int64, error) {
	first := id
	var at time.Time
	for upTo := id; ; {
		// Newest first, from id down, a page at a time.
		evs, next, err := s.runs.HistoryPage(ctx, runID, upTo+1, 0, true, 0, false)
		if err != nil {
			return 0, err
		}
		for _, e := range evs {
			if at.IsZero() {
				at = e.EventTimestamp.Time
			}
			if !e.EventTimestamp.Time.Equal(at) {
				return first, nil
			}
			first = e.EventID
		}
		if next == 0 || len(evs) == 0 {
			return first, nil
		}
		upTo = first - 1
	}
}

func decisionScope(in *api.PollForDecisionTaskInput) string {
	return "dtask|" + in.Domain + "|" + in.TaskList.Name + "|" + strconv.FormatBool(in.ReverseOrder)
}

func (s *Service) decisionTaskPage(ctx context.Context, in *api.PollForDecisionTaskInput) (*api.DecisionTask, error) {
	raw, err := s.tokens.OpenPage(in.NextPageToken, decisionScope(in))
	if err != nil {
		return nil, err
	}
	var p decisionPage
	if err := json.Unmarshal([]byte(raw), &p); err != nil || p.RunID == "" {
		return nil, token.ErrBadPage
	}
	unlock := s.runs.Lock(p.RunID)
	r, err := s.runs.Load(ctx, in.Domain, p.RunID)
	if err == nil && !r.State.Open {
		// A closed run may have been purged since, and the cache not
		// know it: the store says whether it is still there.
		r, err = s.runs.LoadStored(ctx, in.Domain, p.RunID)
	}
	if err == nil {
		p.workflowID, p.typ = r.State.WorkflowID, r.State.WorkflowType
	}
	unlock()
	if errors.Is(err, swfd.ErrNotFound) {
		// The run is gone since the first page: closed, and purged
		// (a domain that keeps no closed runs purges within a minute).
		return nil, api.ErrUnknownResource("Unknown execution: the run %s of this decision task no longer exists", p.RunID)
	}
	if err != nil {
		return nil, err
	}
	return s.decisionTaskFrom(ctx, p, in, p.After, nil)
}

func (s *Service) RespondDecisionTaskCompleted(ctx context.Context, in *api.RespondDecisionTaskCompletedInput) error {
	ref, err := s.tokens.OpenTask(in.TaskToken, swfd.DecisionTask)
	if err != nil {
		return err
	}
	if in.TaskList != nil {
		var c validate.Checker
		c.TaskList("taskList", in.TaskList)
		c.Duration("taskListScheduleToStartTimeout", in.TaskListScheduleToStartTimeout, true)
		if err := c.Err(); err != nil {
			return err
		}
	}
	return s.withTask(ctx, ref, func(r *runs.Run) error {
		env, err := s.decisionEnv(ctx, r.Row.Domain)
		if err != nil {
			return err
		}
		// Each attempt (a step decided again after a lost race is another)
		// takes its own decision tokens, and gives them back unless it
		// commits: a call that fails consumes no rate.
		var rates RateBatch
		if s.rates != nil {
			if rates = s.rates(ctx, r.Row.Domain); rates != nil {
				env.RateLimit = rates.Allow
			}
		}
		res, err := r.State.CompleteDecisionTask(env, ref.StartedID, in)
		if err == nil {
			// A refused batch (the history limit) commits the run's
			// termination and answers a fault: what it took goes back.
			err = s.commitCall(ctx, r, res)
		}
		if rates != nil {
			if err != nil {
				rates.Release()
			} else {
				rates.Keep()
			}
		}
		return err
	})
}

func (s *Service) PollForActivityTask(ctx context.Context, in *api.PollForActivityTaskInput) (*api.ActivityTask, error) {
	var c validate.Checker
	c.TrimmedName("taskList.name", in.TaskList.Name)
	if err := c.Err(); err != nil {
		return nil, err
	}
	if _, err := s.Domain(ctx, in.Domain); err != nil {
		return nil, err
	}
	var out *api.ActivityTask
	key := matching.ListKey{Kind: swfd.ActivityTask, Domain: in.Domain, TaskList: in.TaskList.Name}
	s.matcher.SawPoller(key, api.Value(in.Identity))
	ok, err := s.pollList(ctx, key, func(t swfd.Task) (bool, error) {
		unlock := s.runs.Lock(t.RunID)
		defer unlock()
		var r *runs.Run
		var res history.Result
		var input *string
		err := s.runs.Step(ctx, t.Domain, t.RunID, func(loaded *runs.Run, err error) error {
			if r = loaded; err != nil {
				return err
			}
			if res, err = r.State.StartActivityTask(s.runs.Env(ctx), t.ScheduledEventID, in.Identity); err != nil {
				return err
			}
			// The input is read before the start commits: a read that
			// fails (the store, or the client gone) then leaves the
			// task unstarted, for the next poller, where after the
			// commit it left the task started with no worker to run it
			// until its START_TO_CLOSE timeout.
			if input, err = s.runs.ActivityInput(ctx, r, t.ScheduledEventID); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				// The client is gone: nobody would receive the task,
				// which stays pending (pollList).
				return err
			}
			return s.runs.CommitRun(ctx, r, res)
		})
		if err != nil {
			if runs.IsStale(err) {
				return false, nil
			}
			return false, err
		}
		if res.Closed || res.Refused != nil {
			return false, nil
		}
		var startedID int64
		var activityID string
		var activityType api.ActivityType
		for _, a := range r.State.Activities {
			if a.ScheduledID == t.ScheduledEventID {
				startedID, activityID, activityType = a.StartedID, a.ActivityID, a.ActivityType
			}
		}
		out = &api.ActivityTask{
			TaskToken:         s.tokens.TaskToken(token.Task{Kind: swfd.ActivityTask, Domain: in.Domain, RunID: r.State.RunID, ScheduledID: t.ScheduledEventID, StartedID: startedID}),
			ActivityID:        activityID,
			ActivityType:      activityType,
			StartedEventID:    startedID,
			WorkflowExecution: api.WorkflowExecution{WorkflowID: r.State.WorkflowID, RunID: r.State.RunID},
			Input:             input,
		}
		return true, nil
	})
	if err != nil || !ok {
		return &api.ActivityTask{}, err
	}
	return out, nil
}

func (s *Service) RecordActivityTaskHeartbeat(ctx context.Context, in *api.RecordActivityTaskHeartbeatInput) (*api.ActivityTaskStatus, error) {
	ref, err := s.tokens.OpenTask(in.TaskToken, swfd.ActivityTask)
	if err != nil {
		return nil, err
	}
	var out api.ActivityTaskStatus
	err = s.withTask(ctx, ref, func(r *runs.Run) error {
		cancel, res, err := r.State.RecordHeartbeat(s.runs.Env(ctx), ref.ScheduledID, ref.StartedID, in.Details)
		if err != nil {
			return err
		}
		out.CancelRequested = cancel
		// A heartbeat past the task's deadline records the timeout and is
		// refused (history.Result.Refused).
		return s.commitCall(ctx, r, res)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Service) RespondActivityTaskCompleted(ctx context.Context, in *api.RespondActivityTaskCompletedInput) error {
	ref, err := s.tokens.OpenTask(in.TaskToken, swfd.ActivityTask)
	if err != nil {
		return err
	}
	return s.withTask(ctx, ref, func(r *runs.Run) error {
		res, err := r.State.CompleteActivityTask(s.runs.Env(ctx), ref.ScheduledID, ref.StartedID, in.Result)
		if err != nil {
			return err
		}
		return s.commitCall(ctx, r, res)
	})
}

func (s *Service) RespondActivityTaskFailed(ctx context.Context, in *api.RespondActivityTaskFailedInput) error {
	ref, err := s.tokens.OpenTask(in.TaskToken, swfd.ActivityTask)
	if err != nil {
		return err
	}
	return s.withTask(ctx, ref, func(r *runs.Run) error {
		res, err := r.State.FailActivityTask(s.runs.Env(ctx), ref.ScheduledID, ref.StartedID, in.Reason, in.Details)
		if err != nil {
			return err
		}
		return s.commitCall(ctx, r, res)
	})
}

func (s *Service) RespondActivityTaskCanceled(ctx context.Context, in *api.RespondActivityTaskCanceledInput) error {
	ref, err := s.tokens.OpenTask(in.TaskToken, swfd.ActivityTask)
	if err != nil {
		return err
	}
	return s.withTask(ctx, ref, func(r *runs.Run) error {
		res, err := r.State.CancelActivityTask(s.runs.Env(ctx), ref.ScheduledID, ref.StartedID, in.Details)
		if err != nil {
			return err
		}
		return s.commitCall(ctx, r, res)
	})
}

func (s *Service) countPending(ctx context.Context, kind swfd.TaskKind, domain, list string) (*api.PendingTaskCount, error) {
	if _, err := s.Domain(ctx, domain); err != nil {
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

// feedTaskLists is the task lists' runs.Listener: after a commit here it
// takes the tasks the commit finished (and every task of a run it closed)
// off the lists, hands each new task to a poller waiting here or queues
// it, and tells the peers what it did.
func (s *Service) feedTaskLists(c runs.Commit) {
	var queued []swfd.Task
	var taken []cluster.TaskKey
	for _, ch := range c.Runs {
		for _, id := range ch.DoneTasks {
			// A task a poller here took is off the lists already, and
			// news already (pollList).
			if s.matcher.Remove(ch.RunID, id) {
				taken = append(taken, cluster.TaskKey{RunID: ch.RunID, Sched: id})
			}
		}
		if ch.Closed {
			s.matcher.RemoveRun(ch.RunID)
			continue
		}
		for _, t := range ch.AddTasks {
			if !t.Kind.Polled() {
				continue // a Lambda task: the Lambda loop invokes it
			}
			if !s.matcher.Offer(t) {
				queued = append(queued, t)
			}
		}
	}
	s.peers.Committed(c, queued, taken)
}
