package history

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// The commands below are the engine's whole surface. Each appends events to
// the run (ids from s.NextEventID, timestamps env.Now), updates s, and
// returns what follows. On error the caller discards s (it works on a fresh
// copy per call), so a command may leave s half-changed when it fails.
// Errors are *api.Fault values (UnknownResourceFault for stale or unknown
// tasks, ValidationException for malformed decision lists).
//
// Any command that appends events may hit Limits.MaxEvents, in which case
// the run is terminated (EVENT_LIMIT_EXCEEDED) and Result.Closed is set with
// a nil error: callers must check Result.Closed (e.g. a poll must not hand
// out a task whose run closed in the same step). A call made to the run
// from outside — a signal, a cancel request, a worker's answer, a
// decider's batch — is all or nothing: if its events would not all fit,
// none of them is recorded, the run is terminated instead, and
// Result.Refused is set (also with a nil error, since the termination is
// to be committed). Such a caller commits the Result and then answers with
// Result.Refused: work it was told was done must be in the history.
//
// The commands of calls (a poll's hand-out, a worker's or decider's answer,
// a heartbeat, a signal, a cancel request, a termination) and Deliver first
// fire the run's timers that are due by env.Now and have not fired yet
// (catchUp, overdue.go), so that no call finds a run as it was before a
// deadline that has passed. A call whose task or run those timeouts ended
// is refused the same way, with Result.Refused (an UnknownResourceFault;
// for a poll's hand-out, a task not handed out) and the timeouts to
// commit.

// Start begins a new run from resolved parameters: WorkflowExecutionStarted,
// DecisionTaskScheduled, the decision task, and the run's timeout timer
// (at one year for an executionStartToCloseTimeout of NONE: no run lasts
// longer). An empty p.RunID is filled from env.NewRunID.
func Start(env Env, p StartParams) (*State, Result) {
	if p.RunID == "" && env.NewRunID != nil {
		p.RunID = env.NewRunID()
	}
	s := &State{
		Domain:                 p.Domain,
		WorkflowID:             p.WorkflowID,
		RunID:                  p.RunID,
		WorkflowType:           p.WorkflowType,
		Config:                 p.Config,
		TagList:                cloneStrings(p.TagList),
		ParentInitiatedEventID: p.ParentInitiatedEventID,
		StartTime:              env.Now,
		Open:                   true,
		NextEventID:            1,
	}
	if p.Parent != nil {
		parent := *p.Parent
		s.Parent = &parent
	}
	st := newStep(s, env)
	st.expect(2) // WorkflowExecutionStarted, DecisionTaskScheduled
	var parent *api.WorkflowExecution
	if p.Parent != nil {
		parent = &api.WorkflowExecution{WorkflowID: p.Parent.WorkflowID, RunID: p.Parent.RunID}
	}
	st.append(api.HistoryEvent{
		EventType: api.EventTypeWorkflowExecutionStarted,
		WorkflowExecutionStartedEventAttributes: &api.WorkflowExecutionStartedEventAttributes{
			ChildPolicy:                  p.Config.ChildPolicy,
			TaskList:                     api.TaskList{Name: p.Config.TaskList},
			TaskPriority:                 p.Config.TaskPriority,
			ExecutionStartToCloseTimeout: p.Config.ExecutionStartToCloseTimeout,
			TaskStartToCloseTimeout:      p.Config.TaskStartToCloseTimeout,
			WorkflowType:                 p.WorkflowType,
			TagList:                      cloneStrings(p.TagList),
			Input:                        p.Input,
			ContinuedExecutionRunID:      p.ContinuedExecutionRunID,
			ParentWorkflowExecution:      parent,
			ParentInitiatedEventID:       p.ParentInitiatedEventID,
			LambdaRole:                   p.Config.LambdaRole,
		},
	})
	st.addTimerAfter(WorkflowTimerKey, executionTimeout(p.Config.ExecutionStartToCloseTimeout), env.Now)
	st.scheduleDecision()
	return s, st.finish()
}

// executionTimeout is the executionStartToCloseTimeout a run is held to:
// the one it was given, or for NONE, which a StartChildWorkflowExecution
// or ContinueAsNewWorkflowExecution decision may give, the longest any run
// may last (MaxExecutionStartToClose, one year). The run records NONE as it
// was given; it times out at the year as a run given 31536000 does.
func executionTimeout(d string) string {
	if _, none, _ := ParseDuration(d); none {
		return strconv.Itoa(MaxExecutionStartToClose)
	}
	return d
}

// StartDecisionTask hands out the scheduled decision task scheduledID to a
// poller: DecisionTaskStarted, which records the poller's identity as given
// (nil: none given), and its START_TO_CLOSE timer.
func (s *State) StartDecisionTask(env Env, scheduledID int64, identity *string) (Result, error) {
	if !s.Open || scheduledID == 0 || s.Decision.ScheduledID != scheduledID || s.Decision.StartedID != 0 {
		return Result{}, api.ErrUnknownResource("Unknown decision task, scheduledEventId = %d", scheduledID)
	}
	pre := s.catchUp(env)
	if !s.Open || s.Decision.ScheduledID != scheduledID || s.Decision.StartedID != 0 {
		return s.refuse(pre, api.ErrUnknownResource("Unknown decision task, scheduledEventId = %d", scheduledID))
	}
	st := newStep(s, env)
	id := st.add(api.HistoryEvent{
		EventType: api.EventTypeDecisionTaskStarted,
		DecisionTaskStartedEventAttributes: &api.DecisionTaskStartedEventAttributes{
			Identity: identity, ScheduledEventID: scheduledID,
		},
	})
	st.doneTask(scheduledID)
	if id == 0 {
		return pre.then(st.finish()), nil
	}
	d := &s.Decision
	if d.ScheduleToStart != "" {
		st.deleteTimers(DecisionScheduleToStartKey(scheduledID))
	}
	d.StartedTemporary = d.ScheduleToStart != ""
	d.StartedID = id
	d.StartedSchedID = scheduledID
	d.StartedTime = env.Now
	d.ScheduledID = 0
	d.ScheduledTime = time.Time{}
	d.ScheduledList = ""
	d.ScheduleToStart = ""
	d.Listed = time.Time{}
	st.addTimerAfter(DecisionStartToCloseKey(id), s.Config.TaskStartToCloseTimeout, env.Now)
	return pre.then(st.finish()), nil
}

// CompleteDecisionTask applies RespondDecisionTaskCompleted for the running
// decision task whose DecisionTaskStarted id is startedID.
func (s *State) CompleteDecisionTask(env Env, startedID int64, in *api.RespondDecisionTaskCompletedInput) (Result, error) {
	return s.completeDecisionTask(env, startedID, in)
}

// openActivity finds the activity a worker answers for: open run, task
// scheduled as scheduledID and started as startedID.
func (s *State) openActivity(scheduledID, startedID int64) (*Activity, error) {
	if s.Open {
		if a := s.activityBySchedID(scheduledID); a != nil && a.StartedID != 0 && a.StartedID == startedID {
			return a, nil
		}
	}
	return nil, api.ErrUnknownResource("Unknown activity, scheduledEventId = %d", scheduledID)
}

// StartActivityTask hands out the scheduled activity task scheduledID;
// ActivityTaskStarted records the poller's identity as given (nil: none).
func (s *State) StartActivityTask(env Env, scheduledID int64, identity *string) (Result, error) {
	var a *Activity
	if s.Open {
		a = s.activityBySchedID(scheduledID)
	}
	if a == nil || a.StartedID != 0 {
		return Result{}, api.ErrUnknownResource("Unknown activity, scheduledEventId = %d", scheduledID)
	}
	pre := s.catchUp(env)
	if a = s.activityBySchedID(scheduledID); !s.Open || a == nil {
		return s.refuse(pre, api.ErrUnknownResource("Unknown activity, scheduledEventId = %d", scheduledID))
	}
	st := newStep(s, env)
	id := st.add(api.HistoryEvent{
		EventType: api.EventTypeActivityTaskStarted,
		ActivityTaskStartedEventAttributes: &api.ActivityTaskStartedEventAttributes{
			Identity: identity, ScheduledEventID: scheduledID,
		},
	})
	st.doneTask(scheduledID)
	if id == 0 {
		return pre.then(st.finish()), nil
	}
	a.StartedID = id
	a.StartedTime = env.Now
	a.Identity = api.Value(identity)
	if armed(a.ScheduleToStart) {
		st.deleteTimers(ActivityTimerKey(scheduledID, ActivityScheduleToStart))
	}
	st.addTimerAfter(ActivityTimerKey(scheduledID, ActivityStartToClose), a.StartToClose, env.Now)
	st.addTimerAfter(ActivityTimerKey(scheduledID, ActivityHeartbeat), a.Heartbeat, env.Now)
	return pre.then(st.finish()), nil
}

// RecordHeartbeat records a heartbeat of a started activity task.
func (s *State) RecordHeartbeat(env Env, scheduledID, startedID int64, details *string) (cancelRequested bool, res Result, err error) {
	if _, err := s.openActivity(scheduledID, startedID); err != nil {
		return false, Result{}, err
	}
	pre := s.catchUp(env)
	a, err := s.openActivity(scheduledID, startedID)
	if err != nil {
		res, err = s.refuse(pre, err)
		return false, res, err
	}
	st := newStep(s, env)
	a.LastHeartbeat = env.Now
	if details != nil || a.HeartbeatDetails != nil {
		st.res.Heartbeats = append(st.res.Heartbeats, swfd.Heartbeat{ScheduledEventID: scheduledID, Details: details})
	}
	a.HeartbeatDetails = details
	st.addTimerAfter(ActivityTimerKey(scheduledID, ActivityHeartbeat), a.Heartbeat, env.Now)
	return a.CancelRequested, pre.then(st.finish()), nil
}

// CompleteActivityTask records ActivityTaskCompleted.
func (s *State) CompleteActivityTask(env Env, scheduledID, startedID int64, result *string) (Result, error) {
	if _, err := s.openActivity(scheduledID, startedID); err != nil {
		return Result{}, err
	}
	pre := s.catchUp(env)
	a, err := s.openActivity(scheduledID, startedID)
	if err != nil {
		return s.refuse(pre, err)
	}
	st := newCallStep(s, env, 2)
	st.add(api.HistoryEvent{
		EventType: api.EventTypeActivityTaskCompleted,
		ActivityTaskCompletedEventAttributes: &api.ActivityTaskCompletedEventAttributes{
			Result: result, ScheduledEventID: scheduledID, StartedEventID: startedID,
		},
	})
	st.removeActivity(a)
	st.scheduleDecision()
	return pre.thenCall(st.endCall())
}

// FailActivityTask records ActivityTaskFailed.
func (s *State) FailActivityTask(env Env, scheduledID, startedID int64, reason, details *string) (Result, error) {
	if _, err := s.openActivity(scheduledID, startedID); err != nil {
		return Result{}, err
	}
	pre := s.catchUp(env)
	a, err := s.openActivity(scheduledID, startedID)
	if err != nil {
		return s.refuse(pre, err)
	}
	st := newCallStep(s, env, 2)
	st.add(api.HistoryEvent{
		EventType: api.EventTypeActivityTaskFailed,
		ActivityTaskFailedEventAttributes: &api.ActivityTaskFailedEventAttributes{
			Reason: reason, Details: details, ScheduledEventID: scheduledID, StartedEventID: startedID,
		},
	})
	st.removeActivity(a)
	st.scheduleDecision()
	return pre.thenCall(st.endCall())
}

// CancelActivityTask records ActivityTaskCanceled (RespondActivityTaskCanceled).
// It is accepted whether or not a cancellation was requested: the API only
// advises workers to call it after a heartbeat answered cancelRequested, and
// refusing it would leave a task its worker has given up open until a
// timeout, which may be NONE. Without a request, latestCancelRequestedEventId
// is 0.
func (s *State) CancelActivityTask(env Env, scheduledID, startedID int64, details *string) (Result, error) {
	if _, err := s.openActivity(scheduledID, startedID); err != nil {
		return Result{}, err
	}
	pre := s.catchUp(env)
	a, err := s.openActivity(scheduledID, startedID)
	if err != nil {
		return s.refuse(pre, err)
	}
	st := newCallStep(s, env, 2)
	st.add(api.HistoryEvent{
		EventType: api.EventTypeActivityTaskCanceled,
		ActivityTaskCanceledEventAttributes: &api.ActivityTaskCanceledEventAttributes{
			Details: details, ScheduledEventID: scheduledID, StartedEventID: startedID,
			LatestCancelRequestedEventID: a.LatestCancelRequestID,
		},
	})
	st.removeActivity(a)
	st.scheduleDecision()
	return pre.thenCall(st.endCall())
}

// Signal records WorkflowExecutionSignaled from SignalWorkflowExecution.
func (s *State) Signal(env Env, name string, input *string) (Result, error) {
	if !s.Open {
		return Result{}, unknownExecution(s)
	}
	pre := s.catchUp(env)
	if !s.Open {
		return s.refuse(pre, unknownExecution(s))
	}
	st := newCallStep(s, env, 2)
	st.add(api.HistoryEvent{
		EventType: api.EventTypeWorkflowExecutionSignaled,
		WorkflowExecutionSignaledEventAttributes: &api.WorkflowExecutionSignaledEventAttributes{
			SignalName: name, Input: input,
		},
	})
	st.scheduleDecision()
	return pre.thenCall(st.endCall())
}

// RequestCancel records WorkflowExecutionCancelRequested from
// RequestCancelWorkflowExecution: no external execution, no cause. Every
// request records an event, repeated ones included: the documentation
// does not say that a second request is dropped, and recording each keeps
// every acknowledged call visible in the history.
func (s *State) RequestCancel(env Env) (Result, error) {
	if !s.Open {
		return Result{}, unknownExecution(s)
	}
	pre := s.catchUp(env)
	if !s.Open {
		return s.refuse(pre, unknownExecution(s))
	}
	st := newCallStep(s, env, 2)
	st.add(api.HistoryEvent{
		EventType: api.EventTypeWorkflowExecutionCancelRequested,
		WorkflowExecutionCancelRequestedEventAttributes: &api.WorkflowExecutionCancelRequestedEventAttributes{},
	})
	s.CancelRequested = true
	st.scheduleDecision()
	return pre.thenCall(st.endCall())
}

// Terminate closes the run as TERMINATED. An empty childPolicy means the
// run's own. cause is recorded as given: the service passes "" for
// TerminateWorkflowExecution calls, because the model documents the cause
// as set only for automatic terminations (OPERATOR_INITIATED is left out;
// moto always sets it, which is unverified) (inferred: the documentation is silent).
func (s *State) Terminate(env Env, reason, details *string, childPolicy api.ChildPolicy, cause api.WorkflowExecutionTerminatedCause) (Result, error) {
	if !s.Open {
		return Result{}, unknownExecution(s)
	}
	pre := s.catchUp(env)
	if !s.Open {
		return s.refuse(pre, unknownExecution(s))
	}
	st := newStep(s, env)
	st.terminate(reason, details, childPolicy, cause)
	return pre.then(st.finish()), nil
}

// FireTimer handles a durable timer that came due. Timers that no longer
// apply (the task it guarded finished, the run closed) are a no-op with an
// empty Result and a nil error. Result.TimersFired counts the timers that
// recorded something.
//
// The timer loop reads due timers by due time and key, so of a run's
// timers due at one instant it may hand over one armed after another (a
// user timer, "ut:…", before the run's own timeout, "wf"). The run's
// timers due at the same instant as key and armed before it (dueBy's
// order) therefore fire first, in the same step, and are deleted with it,
// as a call's catching up does: the one armed first is the one real time
// would have fired first.
func (s *State) FireTimer(env Env, key string) (Result, error) {
	if !s.Open {
		return Result{}, nil
	}
	st := newStep(s, env)
	changed, fired := false, 0
	// fire fires k and counts it if it recorded an event.
	fire := func(k string) bool {
		events := len(st.res.Events)
		ok := st.fire(k)
		if len(st.res.Events) > events {
			fired++
		}
		return ok
	}
	// Each timer fired ends what it guarded, so the list only shrinks; the
	// bound is a guard, as catchUp's is.
	due := s.dueBy(env.Now)
	for range 2 * len(due) {
		i := slices.IndexFunc(due, func(o overdue) bool { return o.key == key })
		if i <= 0 || !s.Open || !due[0].due.Equal(due[i].due) {
			break
		}
		k := due[0].key
		fire(k)
		if !slices.Contains(st.res.DeleteTimers, k) {
			st.deleteTimers(k)
		}
		changed = true
		due = s.dueBy(env.Now)
	}
	if s.Open && fire(key) {
		changed = true
	}
	if !changed {
		return Result{}, nil
	}
	res := st.finish()
	res.TimersFired = fired
	return res, nil
}

// fire applies the timer key to the run, as FireTimer describes, and
// reports whether it changed anything (recorded an event, or re-armed a
// heartbeat timer that fired before its deadline).
func (st *step) fire(key string) bool {
	s, env := st.s, st.env
	switch {
	case key == WorkflowTimerKey:
		st.add(api.HistoryEvent{
			EventType: api.EventTypeWorkflowExecutionTimedOut,
			WorkflowExecutionTimedOutEventAttributes: &api.WorkflowExecutionTimedOutEventAttributes{
				TimeoutType: api.WorkflowExecutionTimeoutTypeStartToClose, ChildPolicy: s.Config.ChildPolicy,
			},
		})
		st.close(api.CloseStatusTimedOut, ChildClosedMsg{TimeoutType: api.WorkflowExecutionTimeoutTypeStartToClose})
		st.applyChildPolicy(s.Config.ChildPolicy)
	case strings.HasPrefix(key, "dt:"):
		id, kind, ok := splitKey(key[3:])
		if !ok {
			return false
		}
		switch kind {
		case "S2C":
			if s.Decision.StartedID != id {
				return false
			}
			st.decisionTimedOut(api.DecisionTaskTimeoutTypeStartToClose)
		case "S2S":
			if s.Decision.ScheduledID != id || s.Decision.StartedID != 0 || s.Decision.ScheduleToStart == "" {
				return false
			}
			st.decisionTimedOut(api.DecisionTaskTimeoutTypeScheduleToStart)
		default:
			return false
		}
	case strings.HasPrefix(key, "at:"):
		id, kind, ok := splitKey(key[3:])
		if !ok {
			return false
		}
		a := s.activityBySchedID(id)
		if a == nil {
			return false
		}
		var tt api.ActivityTaskTimeoutType
		switch kind {
		case ActivityScheduleToStart:
			if a.StartedID != 0 {
				return false
			}
			tt = api.ActivityTaskTimeoutTypeScheduleToStart
		case ActivityScheduleToClose:
			tt = api.ActivityTaskTimeoutTypeScheduleToClose
		case ActivityStartToClose:
			if a.StartedID == 0 {
				return false
			}
			tt = api.ActivityTaskTimeoutTypeStartToClose
		case ActivityHeartbeat:
			if a.StartedID == 0 {
				return false
			}
			d, none, err := ParseDuration(a.Heartbeat)
			if err != nil || none {
				return false
			}
			last := a.StartedTime
			if a.LastHeartbeat.After(last) {
				last = a.LastHeartbeat
			}
			if due := last.Add(d); env.Now.Before(due) {
				// A stale firing after a heartbeat moved the deadline: re-arm
				// the timer at the real deadline (harmless if the service
				// still holds it) and record nothing.
				st.addTimer(key, due)
				return true
			}
			tt = api.ActivityTaskTimeoutTypeHeartbeat
		default:
			return false
		}
		st.add(api.HistoryEvent{
			EventType: api.EventTypeActivityTaskTimedOut,
			ActivityTaskTimedOutEventAttributes: &api.ActivityTaskTimedOutEventAttributes{
				TimeoutType: tt, ScheduledEventID: a.ScheduledID, StartedEventID: a.StartedID,
				Details: a.HeartbeatDetails,
			},
		})
		st.removeActivity(a)
		st.scheduleDecision()
	case strings.HasPrefix(key, "lf:"):
		id, kind, ok := splitKey(key[3:])
		if !ok || !st.lambdaTimedOut(id, kind) {
			return false
		}
	case strings.HasPrefix(key, "ut:"):
		rest := key[3:]
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			return false
		}
		timerID := rest[:i]
		started, err := strconv.ParseInt(rest[i+1:], 10, 64)
		t := s.Timers[timerID]
		if err != nil || t == nil || t.StartedID != started {
			return false
		}
		st.add(api.HistoryEvent{
			EventType: api.EventTypeTimerFired,
			TimerFiredEventAttributes: &api.TimerFiredEventAttributes{
				TimerID: timerID, StartedEventID: started,
			},
		})
		delete(s.Timers, timerID)
		st.scheduleDecision()
	default:
		return false
	}
	return true
}

// splitKey parses "<id>:<kind>".
func splitKey(rest string) (int64, string, bool) {
	i := strings.IndexByte(rest, ':')
	if i < 0 {
		return 0, "", false
	}
	id, err := strconv.ParseInt(rest[:i], 10, 64)
	if err != nil {
		return 0, "", false
	}
	return id, rest[i+1:], true
}

// decisionTimedOut records DecisionTaskTimedOut for the running task
// (START_TO_CLOSE) or the queued one (SCHEDULE_TO_START), and makes a new
// decision task available at once: the one already scheduled while the
// task ran, else a new DecisionTaskScheduled with the same timestamp.
// A timeout on a temporary task-list override reverts to the execution's
// task list, and the next decision task goes there: a task scheduled on the
// override while the timed-out one ran is withdrawn (see withdrawDecision)
// and a new one is scheduled on the execution's list, so that no decision
// task is handed out on a list whose override has ended (only a
// START_TO_CLOSE timeout can find such a task: a SCHEDULE_TO_START timeout
// fires while no task runs, and one task at most is scheduled). The
// timed-out task does not count as processed:
// previousStartedEventId keeps pointing at the last completed task (the
// documentation leaves this open; a decider replaying from
// previousStartedEventId then sees every event since its last answer).
func (st *step) decisionTimedOut(tt api.DecisionTaskTimeoutType) {
	s := st.s
	d := &s.Decision
	attrs := &api.DecisionTaskTimedOutEventAttributes{TimeoutType: tt}
	revert := false
	if tt == api.DecisionTaskTimeoutTypeStartToClose {
		attrs.ScheduledEventID, attrs.StartedEventID = d.StartedSchedID, d.StartedID
		revert = d.StartedTemporary
	} else {
		attrs.ScheduledEventID = d.ScheduledID
		revert = true
		st.doneTask(d.ScheduledID)
	}
	if st.add(api.HistoryEvent{EventType: api.EventTypeDecisionTaskTimedOut, DecisionTaskTimedOutEventAttributes: attrs}) == 0 {
		return
	}
	if tt == api.DecisionTaskTimeoutTypeStartToClose {
		d.StartedID, d.StartedSchedID, d.StartedTime, d.StartedTemporary = 0, 0, time.Time{}, false
	} else {
		d.ScheduledID, d.ScheduledTime, d.ScheduledList, d.ScheduleToStart, d.Listed = 0, time.Time{}, "", "", time.Time{}
	}
	if revert {
		d.Override, d.OverrideTimeout = "", ""
		if d.ScheduledID != 0 && d.ScheduledList != s.currentTaskList() && !st.withdrawDecision() {
			return
		}
	}
	if d.ScheduledID != 0 {
		st.releaseDecision()
	} else {
		st.scheduleDecision()
	}
}

// withdrawDecision ends the decision task that is scheduled and not yet
// put on its task list (it was recorded while another task ran) with
// DecisionTaskTimedOut SCHEDULE_TO_START, and reports whether that was
// recorded. It is used when the temporary task-list override the task was
// scheduled on reverts: the task can no longer start on the list its
// DecisionTaskScheduled names, and a history has no other way to end a
// decision task that never started. Ending it keeps every
// DecisionTaskScheduled closed by one DecisionTaskStarted or
// DecisionTaskTimedOut, with at most one open at a time, which is what a
// decider or a tool that follows the run's decision tasks in its history
// expects. The task was never on a task list and its SCHEDULE_TO_START
// timer was never armed, so there is nothing to take off a list.
func (st *step) withdrawDecision() bool {
	d := &st.s.Decision
	if st.add(api.HistoryEvent{
		EventType: api.EventTypeDecisionTaskTimedOut,
		DecisionTaskTimedOutEventAttributes: &api.DecisionTaskTimedOutEventAttributes{
			TimeoutType: api.DecisionTaskTimeoutTypeScheduleToStart, ScheduledEventID: d.ScheduledID,
		},
	}) == 0 {
		return false
	}
	d.ScheduledID, d.ScheduledTime, d.ScheduledList, d.ScheduleToStart, d.Listed = 0, time.Time{}, "", "", time.Time{}
	return true
}
