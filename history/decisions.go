package history

import (
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// completeDecisionTask implements CompleteDecisionTask.
//
// Order of a batch: DecisionTaskCompleted, then each decision's events in
// order, then — if the run is still open and some outcome needs the
// decider (a *Failed decision event, an unstarted activity canceled at
// once) — one DecisionTaskScheduled at the end, unless a task is already
// pending. The new task is made available after the whole batch, so a
// decision failing earlier in the same batch does not by itself make a
// later closing decision fail with UNHANDLED_DECISION — only events
// recorded while the task ran do.
//
// The batch is recorded whole or not at all: if its events would pass
// Limits.MaxEvents, none of them is, not even DecisionTaskCompleted, and
// the run is terminated instead (see newCallStep). Recorded in part, the
// batch would be answered as applied while its decisions past the limit,
// a closing one among them, were skipped.
func (s *State) completeDecisionTask(env Env, startedID int64, in *api.RespondDecisionTaskCompletedInput) (Result, error) {
	if !s.Open || startedID == 0 || s.Decision.StartedID != startedID {
		return Result{}, api.ErrUnknownResource("Unknown decision task, startedEventId = %d", startedID)
	}
	if in == nil {
		in = &api.RespondDecisionTaskCompletedInput{}
	}
	if err := validateDecisions(in); err != nil {
		return Result{}, err
	}
	// Everything the batch will ask the registry is asked now, before the
	// state changes: a lookup that fails leaves the run as it was.
	env, err := s.resolveBatch(env, in.Decisions)
	if err != nil {
		return Result{}, err
	}
	// The timers due by now fire first (see catchUp): a task past its
	// START_TO_CLOSE is answered as a timed-out one is, and an event they
	// record makes a closing decision fail with UNHANDLED_DECISION.
	pre := s.catchUp(env)
	if !s.Open || s.Decision.StartedID != startedID {
		return s.refuse(pre, api.ErrUnknownResource("Unknown decision task, startedEventId = %d", startedID))
	}
	// DecisionTaskCompleted, at most two events per decision, and a
	// DecisionTaskScheduled at the end.
	st := newCallStep(s, env, 2+2*len(in.Decisions))
	// Most decisions record one event each.
	st.expect(1 + len(in.Decisions))
	d := &s.Decision
	// A decision task scheduled since this one started (the run's events
	// kept coming) makes any closing decision fail with UNHANDLED_DECISION:
	// the decider has not seen those events.
	pending := d.ScheduledID
	attrs := &api.DecisionTaskCompletedEventAttributes{
		ScheduledEventID: d.StartedSchedID,
		StartedEventID:   startedID,
		ExecutionContext: in.ExecutionContext,
	}
	if in.TaskList != nil && in.TaskList.Name != "" {
		attrs.TaskList = &api.TaskList{Name: in.TaskList.Name}
		attrs.TaskListScheduleToStartTimeout = in.TaskListScheduleToStartTimeout
	}
	dtc := st.add(api.HistoryEvent{EventType: api.EventTypeDecisionTaskCompleted, DecisionTaskCompletedEventAttributes: attrs})
	st.deleteTimers(DecisionStartToCloseKey(startedID))
	if dtc == 0 {
		return pre.thenCall(st.endCall())
	}
	d.StartedID, d.StartedSchedID, d.StartedTime, d.StartedTemporary = 0, 0, time.Time{}, false
	s.PreviousStartedEventID = startedID
	// latestExecutionContext is the latest executionContext provided: one
	// given empty replaces it with "" (the real service answers so, in
	// responses frameworks keep as fixtures); one not given keeps it.
	if in.ExecutionContext != nil {
		s.LatestExecutionContext = in.ExecutionContext
	}
	// Task-list override (RespondDecisionTaskCompleted's taskList): later
	// decision tasks go to the given
	// list; with taskListScheduleToStartTimeout the override is temporary
	// and a SCHEDULE_TO_START or START_TO_CLOSE timeout of a task on it
	// reverts to the execution's list. Simplification: a decision task that
	// was already scheduled (recorded) before this completion stays on the
	// list its DecisionTaskScheduled names.
	if attrs.TaskList != nil {
		d.Override = attrs.TaskList.Name
		d.OverrideTimeout = in.TaskListScheduleToStartTimeout
		if d.Override == s.Config.TaskList && s.temporaryOverride() == "" {
			d.Override, d.OverrideTimeout = "", ""
		}
	}

	b := &batch{st: st, dtc: dtc, unhandled: pending != 0}
	for i := range in.Decisions {
		if !s.Open || st.overflow {
			break
		}
		b.apply(&in.Decisions[i])
	}
	if s.Open && st.needDTS {
		st.scheduleDecision()
	}
	if s.Open && pending != 0 && d.ScheduledID == pending {
		st.releaseDecision()
	}
	if st.lookupErr != nil {
		return Result{}, st.lookupErr
	}
	return pre.thenCall(st.endCall())
}

// batch applies the decisions of one RespondDecisionTaskCompleted.
type batch struct {
	st        *step
	dtc       int64 // DecisionTaskCompleted id
	unhandled bool  // a decision task was scheduled while this one ran
	children  int   // children initiated in this batch
}

func (b *batch) fail(ev api.HistoryEvent) {
	b.st.add(ev)
	b.st.needDTS = true
}

func (b *batch) apply(d *api.Decision) {
	if !b.authorized(d) {
		b.notPermitted(d)
		return
	}
	switch d.DecisionType {
	case api.DecisionTypeScheduleActivityTask:
		b.scheduleActivity(d.ScheduleActivityTaskDecisionAttributes)
	case api.DecisionTypeRequestCancelActivityTask:
		b.requestCancelActivity(d.RequestCancelActivityTaskDecisionAttributes)
	case api.DecisionTypeCompleteWorkflowExecution:
		b.complete(d.CompleteWorkflowExecutionDecisionAttributes)
	case api.DecisionTypeFailWorkflowExecution:
		b.failWorkflow(d.FailWorkflowExecutionDecisionAttributes)
	case api.DecisionTypeCancelWorkflowExecution:
		b.cancelWorkflow(d.CancelWorkflowExecutionDecisionAttributes)
	case api.DecisionTypeContinueAsNewWorkflowExecution:
		b.continueAsNew(d.ContinueAsNewWorkflowExecutionDecisionAttributes)
	case api.DecisionTypeRecordMarker:
		a := d.RecordMarkerDecisionAttributes
		b.st.add(api.HistoryEvent{
			EventType: api.EventTypeMarkerRecorded,
			MarkerRecordedEventAttributes: &api.MarkerRecordedEventAttributes{
				MarkerName: a.MarkerName, Details: a.Details, DecisionTaskCompletedEventID: b.dtc,
			},
		})
	case api.DecisionTypeStartTimer:
		b.startTimer(d.StartTimerDecisionAttributes)
	case api.DecisionTypeCancelTimer:
		b.cancelTimer(d.CancelTimerDecisionAttributes)
	case api.DecisionTypeSignalExternalWorkflowExecution:
		b.signalExternal(d.SignalExternalWorkflowExecutionDecisionAttributes)
	case api.DecisionTypeRequestCancelExternalWorkflowExecution:
		b.cancelExternal(d.RequestCancelExternalWorkflowExecutionDecisionAttributes)
	case api.DecisionTypeStartChildWorkflowExecution:
		b.startChild(d.StartChildWorkflowExecutionDecisionAttributes)
	case api.DecisionTypeScheduleLambdaFunction:
		b.scheduleLambda(d.ScheduleLambdaFunctionDecisionAttributes)
	}
}

// rateAllows asks env.RateLimit about a decision that passed every other
// check (see Env.RateLimit).
func (b *batch) rateAllows(d api.DecisionType, taskList string) bool {
	return b.st.env.RateLimit == nil || b.st.env.RateLimit(d, taskList)
}

// firstOf returns the first non-empty value.
func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func taskListName(tl *api.TaskList) string {
	if tl == nil {
		return ""
	}
	return tl.Name
}

// scheduleActivity resolves the activity's type and defaults and schedules
// it. Checks, in order : type exists, type not deprecated, activity
// id not in use by an open activity, open-activities limit, then the five
// defaults in the model's enum order (scheduleToClose, taskList,
// scheduleToStart, startToClose, heartbeat). All five must resolve
// ("NONE" counts as a value); the first that does not fails the decision
// with its *_UNDEFINED cause. Last, the rate (env.RateLimit, per account and
// per task list): ACTIVITY_CREATION_RATE_EXCEEDED.
func (b *batch) scheduleActivity(a *api.ScheduleActivityTaskDecisionAttributes) {
	st, s := b.st, b.st.s
	failed := func(c api.ScheduleActivityTaskFailedCause) {
		b.fail(api.HistoryEvent{
			EventType: api.EventTypeScheduleActivityTaskFailed,
			ScheduleActivityTaskFailedEventAttributes: &api.ScheduleActivityTaskFailedEventAttributes{
				ActivityType: a.ActivityType, ActivityID: a.ActivityID, Cause: c, DecisionTaskCompletedEventID: b.dtc,
			},
		})
	}
	rec, cfg, found := st.activityType(s.Domain, a.ActivityType.Name, a.ActivityType.Version)
	switch {
	case !found:
		failed(api.ScheduleActivityTaskFailedCauseActivityTypeDoesNotExist)
		return
	case rec.Status == swfd.StatusDeprecated:
		failed(api.ScheduleActivityTaskFailedCauseActivityTypeDeprecated)
		return
	case s.Activities[a.ActivityID] != nil:
		failed(api.ScheduleActivityTaskFailedCauseActivityIdAlreadyInUse)
		return
	case st.env.Limits.MaxOpenActivities > 0 && len(s.Activities) >= st.env.Limits.MaxOpenActivities:
		failed(api.ScheduleActivityTaskFailedCauseOpenActivitiesLimitExceeded)
		return
	}
	s2c := firstOf(a.ScheduleToCloseTimeout, cfg.DefaultTaskScheduleToCloseTimeout)
	list := firstOf(taskListName(a.TaskList), taskListName(cfg.DefaultTaskList))
	s2s := firstOf(a.ScheduleToStartTimeout, cfg.DefaultTaskScheduleToStartTimeout)
	st2c := firstOf(a.StartToCloseTimeout, cfg.DefaultTaskStartToCloseTimeout)
	hb := firstOf(a.HeartbeatTimeout, cfg.DefaultTaskHeartbeatTimeout)
	switch {
	case s2c == "":
		failed(api.ScheduleActivityTaskFailedCauseDefaultScheduleToCloseTimeoutUndefined)
		return
	case list == "":
		failed(api.ScheduleActivityTaskFailedCauseDefaultTaskListUndefined)
		return
	case s2s == "":
		failed(api.ScheduleActivityTaskFailedCauseDefaultScheduleToStartTimeoutUndefined)
		return
	case st2c == "":
		failed(api.ScheduleActivityTaskFailedCauseDefaultStartToCloseTimeoutUndefined)
		return
	case hb == "":
		failed(api.ScheduleActivityTaskFailedCauseDefaultHeartbeatTimeoutUndefined)
		return
	case !b.rateAllows(api.DecisionTypeScheduleActivityTask, list):
		failed(api.ScheduleActivityTaskFailedCauseActivityCreationRateExceeded)
		return
	}
	// (inferred) With no priority given anywhere, taskPriority is left out of
	// the event (the task is queued with priority 0). One given is recorded
	// as the integer it stands for (api.CanonicalPriority).
	prio := api.CanonicalPriority(firstOf(a.TaskPriority, cfg.DefaultTaskPriority))
	id := st.add(api.HistoryEvent{
		EventType: api.EventTypeActivityTaskScheduled,
		ActivityTaskScheduledEventAttributes: &api.ActivityTaskScheduledEventAttributes{
			ActivityID: a.ActivityID, ActivityType: a.ActivityType, Control: a.Control, Input: a.Input,
			DecisionTaskCompletedEventID: b.dtc, TaskList: api.TaskList{Name: list}, TaskPriority: prio,
			ScheduleToCloseTimeout: s2c, ScheduleToStartTimeout: s2s, StartToCloseTimeout: st2c, HeartbeatTimeout: hb,
		},
	})
	if id == 0 {
		return
	}
	now := st.env.Now
	s.Activities[a.ActivityID] = &Activity{
		ActivityID: a.ActivityID, ActivityType: a.ActivityType, ScheduledID: id, ScheduledTime: now,
		TaskList: list, TaskPriority: prio,
		ScheduleToStart: s2s, ScheduleToClose: s2c, StartToClose: st2c, Heartbeat: hb,
	}
	s.LatestActivityTaskTimestamp = now
	st.res.AddTasks = append(st.res.AddTasks, swfd.Task{
		Kind: swfd.ActivityTask, Domain: s.Domain, TaskList: list, Priority: parsePriority(prio),
		RunID: s.RunID, ScheduledEventID: id, Scheduled: now,
	})
	st.addTimerAfter(ActivityTimerKey(id, ActivityScheduleToStart), s2s, now)
	st.addTimerAfter(ActivityTimerKey(id, ActivityScheduleToClose), s2c, now)
}

// requestCancelActivity records ActivityTaskCancelRequested. An activity
// not yet started is canceled at once; a started one learns of it through
// its heartbeat and no decision task is scheduled until the worker answers
// or the task times out (the documentation names no event that would wake
// the decider earlier).
func (b *batch) requestCancelActivity(a *api.RequestCancelActivityTaskDecisionAttributes) {
	st, s := b.st, b.st.s
	act := s.Activities[a.ActivityID]
	if act == nil {
		b.fail(api.HistoryEvent{
			EventType: api.EventTypeRequestCancelActivityTaskFailed,
			RequestCancelActivityTaskFailedEventAttributes: &api.RequestCancelActivityTaskFailedEventAttributes{
				ActivityID: a.ActivityID, Cause: api.RequestCancelActivityTaskFailedCauseActivityIdUnknown,
				DecisionTaskCompletedEventID: b.dtc,
			},
		})
		return
	}
	id := st.add(api.HistoryEvent{
		EventType: api.EventTypeActivityTaskCancelRequested,
		ActivityTaskCancelRequestedEventAttributes: &api.ActivityTaskCancelRequestedEventAttributes{
			ActivityID: a.ActivityID, DecisionTaskCompletedEventID: b.dtc,
		},
	})
	if id == 0 {
		return
	}
	act.CancelRequested = true
	act.LatestCancelRequestID = id
	if act.StartedID != 0 {
		return
	}
	st.add(api.HistoryEvent{
		EventType: api.EventTypeActivityTaskCanceled,
		ActivityTaskCanceledEventAttributes: &api.ActivityTaskCanceledEventAttributes{
			ScheduledEventID: act.ScheduledID, StartedEventID: 0, LatestCancelRequestedEventID: id,
		},
	})
	st.removeActivity(act)
	st.needDTS = true
}

func (b *batch) complete(a *api.CompleteWorkflowExecutionDecisionAttributes) {
	if a == nil {
		a = &api.CompleteWorkflowExecutionDecisionAttributes{}
	}
	if b.unhandled {
		b.fail(api.HistoryEvent{
			EventType: api.EventTypeCompleteWorkflowExecutionFailed,
			CompleteWorkflowExecutionFailedEventAttributes: &api.CompleteWorkflowExecutionFailedEventAttributes{
				Cause: api.CompleteWorkflowExecutionFailedCauseUnhandledDecision, DecisionTaskCompletedEventID: b.dtc,
			},
		})
		return
	}
	if b.st.add(api.HistoryEvent{
		EventType: api.EventTypeWorkflowExecutionCompleted,
		WorkflowExecutionCompletedEventAttributes: &api.WorkflowExecutionCompletedEventAttributes{
			Result: a.Result, DecisionTaskCompletedEventID: b.dtc,
		},
	}) != 0 {
		b.st.close(api.CloseStatusCompleted, ChildClosedMsg{Result: a.Result})
	}
}

func (b *batch) failWorkflow(a *api.FailWorkflowExecutionDecisionAttributes) {
	if a == nil {
		a = &api.FailWorkflowExecutionDecisionAttributes{}
	}
	if b.unhandled {
		b.fail(api.HistoryEvent{
			EventType: api.EventTypeFailWorkflowExecutionFailed,
			FailWorkflowExecutionFailedEventAttributes: &api.FailWorkflowExecutionFailedEventAttributes{
				Cause: api.FailWorkflowExecutionFailedCauseUnhandledDecision, DecisionTaskCompletedEventID: b.dtc,
			},
		})
		return
	}
	if b.st.add(api.HistoryEvent{
		EventType: api.EventTypeWorkflowExecutionFailed,
		WorkflowExecutionFailedEventAttributes: &api.WorkflowExecutionFailedEventAttributes{
			Reason: a.Reason, Details: a.Details, DecisionTaskCompletedEventID: b.dtc,
		},
	}) != 0 {
		b.st.close(api.CloseStatusFailed, ChildClosedMsg{Reason: a.Reason, Details: a.Details})
	}
}

// cancelWorkflow closes the run as CANCELED; no prior cancel request is
// required (the documentation lists none among the decision's failure
// causes).
func (b *batch) cancelWorkflow(a *api.CancelWorkflowExecutionDecisionAttributes) {
	if a == nil {
		a = &api.CancelWorkflowExecutionDecisionAttributes{}
	}
	if b.unhandled {
		b.fail(api.HistoryEvent{
			EventType: api.EventTypeCancelWorkflowExecutionFailed,
			CancelWorkflowExecutionFailedEventAttributes: &api.CancelWorkflowExecutionFailedEventAttributes{
				Cause: api.CancelWorkflowExecutionFailedCauseUnhandledDecision, DecisionTaskCompletedEventID: b.dtc,
			},
		})
		return
	}
	if b.st.add(api.HistoryEvent{
		EventType: api.EventTypeWorkflowExecutionCanceled,
		WorkflowExecutionCanceledEventAttributes: &api.WorkflowExecutionCanceledEventAttributes{
			Details: a.Details, DecisionTaskCompletedEventID: b.dtc,
		},
	}) != 0 {
		b.st.close(api.CloseStatusCanceled, ChildClosedMsg{Details: a.Details})
	}
}

// resolveWorkflow resolves a workflow type and the four start defaults
// (decision value, else the type's registered default). cause is "" on
// success. Checks in order: type exists, not deprecated, then
// executionStartToCloseTimeout, taskList, taskStartToCloseTimeout,
// childPolicy (the order moto reports for StartWorkflowExecution) (inferred: the documentation is silent).
type workflowResolution struct {
	cfg   Config
	cause string
}

func (st *step) resolveWorkflow(domain string, wt api.WorkflowType, cfg Config) workflowResolution {
	rec, tc, found := st.workflowType(domain, wt.Name, wt.Version)
	if !found {
		return workflowResolution{cause: "WORKFLOW_TYPE_DOES_NOT_EXIST"}
	}
	if rec.Status == swfd.StatusDeprecated {
		return workflowResolution{cause: "WORKFLOW_TYPE_DEPRECATED"}
	}
	out := Config{
		ExecutionStartToCloseTimeout: firstOf(cfg.ExecutionStartToCloseTimeout, tc.DefaultExecutionStartToCloseTimeout),
		TaskList:                     firstOf(cfg.TaskList, taskListName(tc.DefaultTaskList)),
		TaskStartToCloseTimeout:      firstOf(cfg.TaskStartToCloseTimeout, tc.DefaultTaskStartToCloseTimeout),
		ChildPolicy:                  api.ChildPolicy(firstOf(string(cfg.ChildPolicy), string(tc.DefaultChildPolicy))),
		TaskPriority:                 api.CanonicalPriority(firstOf(cfg.TaskPriority, tc.DefaultTaskPriority)),
		LambdaRole:                   firstOf(cfg.LambdaRole, tc.DefaultLambdaRole),
	}
	switch {
	case out.ExecutionStartToCloseTimeout == "":
		return workflowResolution{cause: "DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED"}
	case out.TaskList == "":
		return workflowResolution{cause: "DEFAULT_TASK_LIST_UNDEFINED"}
	case out.TaskStartToCloseTimeout == "":
		return workflowResolution{cause: "DEFAULT_TASK_START_TO_CLOSE_TIMEOUT_UNDEFINED"}
	case out.ChildPolicy == "":
		return workflowResolution{cause: "DEFAULT_CHILD_POLICY_UNDEFINED"}
	}
	return workflowResolution{cfg: out}
}

// continueAsNew closes the run as CONTINUED_AS_NEW and returns the new
// run's parameters in Result.ContinuedAs. Missing parameters come from the
// workflow type's registration (version = workflowTypeVersion, else the
// run's), never from the old run; tags and input are not inherited. The
// new run keeps the old run's parent (inferred: otherwise a parent would lose
// track of a child that continues as new).
func (b *batch) continueAsNew(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) {
	st, s := b.st, b.st.s
	if a == nil {
		a = &api.ContinueAsNewWorkflowExecutionDecisionAttributes{}
	}
	failed := func(c api.ContinueAsNewWorkflowExecutionFailedCause) {
		b.fail(api.HistoryEvent{
			EventType: api.EventTypeContinueAsNewWorkflowExecutionFailed,
			ContinueAsNewWorkflowExecutionFailedEventAttributes: &api.ContinueAsNewWorkflowExecutionFailedEventAttributes{
				Cause: c, DecisionTaskCompletedEventID: b.dtc,
			},
		})
	}
	if b.unhandled {
		failed(api.ContinueAsNewWorkflowExecutionFailedCauseUnhandledDecision)
		return
	}
	wt := api.WorkflowType{Name: s.WorkflowType.Name, Version: firstOf(a.WorkflowTypeVersion, s.WorkflowType.Version)}
	r := st.resolveWorkflow(s.Domain, wt, Config{
		ExecutionStartToCloseTimeout: a.ExecutionStartToCloseTimeout,
		TaskList:                     taskListName(a.TaskList),
		TaskStartToCloseTimeout:      a.TaskStartToCloseTimeout,
		ChildPolicy:                  a.ChildPolicy,
		TaskPriority:                 a.TaskPriority,
		LambdaRole:                   a.LambdaRole,
	})
	if r.cause != "" {
		failed(api.ContinueAsNewWorkflowExecutionFailedCause(r.cause))
		return
	}
	if !b.rateAllows(api.DecisionTypeContinueAsNewWorkflowExecution, "") {
		failed(api.ContinueAsNewWorkflowExecutionFailedCauseContinueAsNewWorkflowExecutionRateExceeded)
		return
	}
	newRun := ""
	if st.env.NewRunID != nil {
		newRun = st.env.NewRunID()
	}
	id := st.add(api.HistoryEvent{
		EventType: api.EventTypeWorkflowExecutionContinuedAsNew,
		WorkflowExecutionContinuedAsNewEventAttributes: &api.WorkflowExecutionContinuedAsNewEventAttributes{
			Input: a.Input, DecisionTaskCompletedEventID: b.dtc, NewExecutionRunID: newRun,
			ExecutionStartToCloseTimeout: r.cfg.ExecutionStartToCloseTimeout, TaskList: api.TaskList{Name: r.cfg.TaskList},
			TaskPriority: r.cfg.TaskPriority, TaskStartToCloseTimeout: r.cfg.TaskStartToCloseTimeout,
			ChildPolicy: r.cfg.ChildPolicy, TagList: cloneStrings(a.TagList), WorkflowType: wt, LambdaRole: r.cfg.LambdaRole,
		},
	})
	if id == 0 {
		return
	}
	st.close(api.CloseStatusContinuedAsNew, ChildClosedMsg{})
	p := &StartParams{
		Domain: s.Domain, WorkflowID: s.WorkflowID, RunID: newRun, WorkflowType: wt, Config: r.cfg,
		Input: a.Input, TagList: cloneStrings(a.TagList),
		ParentInitiatedEventID: s.ParentInitiatedEventID, ContinuedExecutionRunID: s.RunID,
	}
	if s.Parent != nil {
		parent := *s.Parent
		p.Parent = &parent
	}
	st.res.ContinuedAs = p
}

func (b *batch) startTimer(a *api.StartTimerDecisionAttributes) {
	st, s := b.st, b.st.s
	failed := func(c api.StartTimerFailedCause) {
		b.fail(api.HistoryEvent{
			EventType: api.EventTypeStartTimerFailed,
			StartTimerFailedEventAttributes: &api.StartTimerFailedEventAttributes{
				TimerID: a.TimerID, Cause: c, DecisionTaskCompletedEventID: b.dtc,
			},
		})
	}
	if s.Timers[a.TimerID] != nil {
		failed(api.StartTimerFailedCauseTimerIdAlreadyInUse)
		return
	}
	if max := st.env.Limits.MaxOpenTimers; max > 0 && len(s.Timers) >= max {
		failed(api.StartTimerFailedCauseOpenTimersLimitExceeded)
		return
	}
	if !b.rateAllows(api.DecisionTypeStartTimer, "") {
		failed(api.StartTimerFailedCauseTimerCreationRateExceeded)
		return
	}
	id := st.add(api.HistoryEvent{
		EventType: api.EventTypeTimerStarted,
		TimerStartedEventAttributes: &api.TimerStartedEventAttributes{
			TimerID: a.TimerID, Control: a.Control, StartToFireTimeout: a.StartToFireTimeout,
			DecisionTaskCompletedEventID: b.dtc,
		},
	})
	if id == 0 {
		return
	}
	d, _, _ := ParseDuration(a.StartToFireTimeout)
	due := st.env.Now.Add(d)
	s.Timers[a.TimerID] = &UserTimer{TimerID: a.TimerID, StartedID: id, Due: due}
	st.addTimer(UserTimerKey(a.TimerID, id), due)
}

func (b *batch) cancelTimer(a *api.CancelTimerDecisionAttributes) {
	st, s := b.st, b.st.s
	t := s.Timers[a.TimerID]
	if t == nil {
		b.fail(api.HistoryEvent{
			EventType: api.EventTypeCancelTimerFailed,
			CancelTimerFailedEventAttributes: &api.CancelTimerFailedEventAttributes{
				TimerID: a.TimerID, Cause: api.CancelTimerFailedCauseTimerIdUnknown, DecisionTaskCompletedEventID: b.dtc,
			},
		})
		return
	}
	if st.add(api.HistoryEvent{
		EventType: api.EventTypeTimerCanceled,
		TimerCanceledEventAttributes: &api.TimerCanceledEventAttributes{
			TimerID: a.TimerID, StartedEventID: t.StartedID, DecisionTaskCompletedEventID: b.dtc,
		},
	}) == 0 {
		return
	}
	delete(s.Timers, a.TimerID)
	st.deleteTimers(UserTimerKey(a.TimerID, t.StartedID))
}

func (b *batch) signalExternal(a *api.SignalExternalWorkflowExecutionDecisionAttributes) {
	st, s := b.st, b.st.s
	if !b.rateAllows(api.DecisionTypeSignalExternalWorkflowExecution, "") {
		b.fail(api.HistoryEvent{
			EventType: api.EventTypeSignalExternalWorkflowExecutionFailed,
			SignalExternalWorkflowExecutionFailedEventAttributes: &api.SignalExternalWorkflowExecutionFailedEventAttributes{
				WorkflowID: a.WorkflowID, RunID: a.RunID, Control: a.Control, InitiatedEventID: 0,
				Cause:                        api.SignalExternalWorkflowExecutionFailedCauseSignalExternalWorkflowExecutionRateExceeded,
				DecisionTaskCompletedEventID: b.dtc,
			},
		})
		return
	}
	id := st.add(api.HistoryEvent{
		EventType: api.EventTypeSignalExternalWorkflowExecutionInitiated,
		SignalExternalWorkflowExecutionInitiatedEventAttributes: &api.SignalExternalWorkflowExecutionInitiatedEventAttributes{
			WorkflowID: a.WorkflowID, RunID: a.RunID, SignalName: a.SignalName, Input: a.Input, Control: a.Control,
			DecisionTaskCompletedEventID: b.dtc,
		},
	})
	if id == 0 {
		return
	}
	s.Externals[id] = &External{InitiatedID: id, WorkflowID: a.WorkflowID, RunID: a.RunID, Control: a.Control, Signal: true, DecisionTaskCompletedID: b.dtc}
	st.send(Message{
		Domain: s.Domain, WorkflowID: a.WorkflowID, RunID: api.Value(a.RunID),
		Signal: &SignalMsg{Sender: s.execution(), InitiatedID: id, SignalName: a.SignalName, Input: a.Input},
	})
}

func (b *batch) cancelExternal(a *api.RequestCancelExternalWorkflowExecutionDecisionAttributes) {
	st, s := b.st, b.st.s
	if !b.rateAllows(api.DecisionTypeRequestCancelExternalWorkflowExecution, "") {
		b.fail(api.HistoryEvent{
			EventType: api.EventTypeRequestCancelExternalWorkflowExecutionFailed,
			RequestCancelExternalWorkflowExecutionFailedEventAttributes: &api.RequestCancelExternalWorkflowExecutionFailedEventAttributes{
				WorkflowID: a.WorkflowID, RunID: a.RunID, Control: a.Control, InitiatedEventID: 0,
				Cause:                        api.RequestCancelExternalWorkflowExecutionFailedCauseRequestCancelExternalWorkflowExecutionRateExceeded,
				DecisionTaskCompletedEventID: b.dtc,
			},
		})
		return
	}
	id := st.add(api.HistoryEvent{
		EventType: api.EventTypeRequestCancelExternalWorkflowExecutionInitiated,
		RequestCancelExternalWorkflowExecutionInitiatedEventAttributes: &api.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes{
			WorkflowID: a.WorkflowID, RunID: a.RunID, Control: a.Control, DecisionTaskCompletedEventID: b.dtc,
		},
	})
	if id == 0 {
		return
	}
	s.Externals[id] = &External{InitiatedID: id, WorkflowID: a.WorkflowID, RunID: a.RunID, Control: a.Control, DecisionTaskCompletedID: b.dtc}
	// A request naming this run's own workflowId is sent as any other:
	// the run asks itself to cancel (or, by workflowId, the run open when
	// it is delivered, the new one if this batch continues as new).
	sender := s.execution()
	st.send(Message{
		Domain: s.Domain, WorkflowID: a.WorkflowID, RunID: api.Value(a.RunID),
		Cancel: &CancelMsg{Sender: &sender, InitiatedID: id},
	})
}

// startChild resolves the child's type and defaults and asks the service
// to start it. Checks in order : type exists, not deprecated, open
// children limit, open workflows limit (env.OpenExecutions plus children
// initiated earlier in this batch), then the four defaults, then the rate
// (CHILD_CREATION_RATE_EXCEEDED). Failures
// record StartChildWorkflowExecutionFailed with initiatedEventId 0 and no
// Initiated event.
func (b *batch) startChild(a *api.StartChildWorkflowExecutionDecisionAttributes) {
	st, s := b.st, b.st.s
	failed := func(c api.StartChildWorkflowExecutionFailedCause) {
		b.fail(api.HistoryEvent{
			EventType: api.EventTypeStartChildWorkflowExecutionFailed,
			StartChildWorkflowExecutionFailedEventAttributes: &api.StartChildWorkflowExecutionFailedEventAttributes{
				WorkflowType: a.WorkflowType, WorkflowID: a.WorkflowID, Cause: c, InitiatedEventID: 0,
				DecisionTaskCompletedEventID: b.dtc, Control: a.Control,
			},
		})
	}
	r := st.resolveWorkflow(s.Domain, a.WorkflowType, Config{
		ExecutionStartToCloseTimeout: a.ExecutionStartToCloseTimeout,
		TaskList:                     taskListName(a.TaskList),
		TaskStartToCloseTimeout:      a.TaskStartToCloseTimeout,
		ChildPolicy:                  a.ChildPolicy,
		TaskPriority:                 a.TaskPriority,
		LambdaRole:                   a.LambdaRole,
	})
	if r.cause == "WORKFLOW_TYPE_DOES_NOT_EXIST" || r.cause == "WORKFLOW_TYPE_DEPRECATED" {
		failed(api.StartChildWorkflowExecutionFailedCause(r.cause))
		return
	}
	if max := st.env.Limits.MaxOpenChildren; max > 0 && len(s.Children) >= max {
		failed(api.StartChildWorkflowExecutionFailedCauseOpenChildrenLimitExceeded)
		return
	}
	if open, limit := st.openExecutions(s.Domain); limit > 0 && open+b.children >= limit {
		failed(api.StartChildWorkflowExecutionFailedCauseOpenWorkflowsLimitExceeded)
		return
	}
	if r.cause != "" {
		failed(api.StartChildWorkflowExecutionFailedCause(r.cause))
		return
	}
	if !b.rateAllows(api.DecisionTypeStartChildWorkflowExecution, "") {
		failed(api.StartChildWorkflowExecutionFailedCauseChildCreationRateExceeded)
		return
	}
	id := st.add(api.HistoryEvent{
		EventType: api.EventTypeStartChildWorkflowExecutionInitiated,
		StartChildWorkflowExecutionInitiatedEventAttributes: &api.StartChildWorkflowExecutionInitiatedEventAttributes{
			WorkflowID: a.WorkflowID, WorkflowType: a.WorkflowType, Control: a.Control, Input: a.Input,
			ExecutionStartToCloseTimeout: r.cfg.ExecutionStartToCloseTimeout, TaskList: api.TaskList{Name: r.cfg.TaskList},
			TaskPriority: r.cfg.TaskPriority, DecisionTaskCompletedEventID: b.dtc, ChildPolicy: r.cfg.ChildPolicy,
			TaskStartToCloseTimeout: r.cfg.TaskStartToCloseTimeout, TagList: cloneStrings(a.TagList), LambdaRole: r.cfg.LambdaRole,
		},
	})
	if id == 0 {
		return
	}
	b.children++
	s.Children[id] = &Child{InitiatedID: id, WorkflowID: a.WorkflowID, WorkflowType: a.WorkflowType, Control: a.Control, DecisionTaskCompletedID: b.dtc}
	parent := s.execution()
	st.send(Message{
		Domain: s.Domain, WorkflowID: a.WorkflowID,
		StartChild: &StartChildMsg{
			Parent: parent, InitiatedID: id,
			Start: StartParams{
				Domain: s.Domain, WorkflowID: a.WorkflowID, WorkflowType: a.WorkflowType, Config: r.cfg,
				Input: a.Input, TagList: cloneStrings(a.TagList), Parent: &api.WorkflowExecution{WorkflowID: parent.WorkflowID, RunID: parent.RunID},
				ParentInitiatedEventID: id,
			},
		},
	})
}
