package history

import (
	"strconv"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// Lambda tasks.
//
// A ScheduleLambdaFunction decision records LambdaFunctionScheduled and
// puts a task of kind swfd.LambdaTask in the store. Whoever invokes the
// function (package lambda) first records LambdaFunctionStarted with
// StartLambdaFunction, which takes the task off the store and arms the
// START_TO_CLOSE timer in the same commit, and only then invokes it; the
// invocation's outcome comes back as CompleteLambdaFunction or
// FailLambdaFunction. A function that cannot be started (the endpoint
// refuses it) ends with StartLambdaFunctionFailed. So each scheduled
// function is invoked at most once: once started, it either reports an
// outcome or times out.

// DefaultLambdaStartToClose is a Lambda task's startToCloseTimeout when the
// decision gives none (the model documents 900 seconds, Lambda's own
// longest run).
const DefaultLambdaStartToClose = "900"

// MaxLambdaStartToClose is the longest startToCloseTimeout a decision may
// give, in seconds.
const MaxLambdaStartToClose = 900

// Lambda is an open Lambda task (scheduled or started).
type Lambda struct {
	ID            string    `json:",omitzero"`
	Name          string    `json:",omitzero"`
	ScheduledID   int64     `json:",omitzero"`
	ScheduledTime time.Time `json:",omitzero"`
	StartedID     int64     `json:",omitzero"` // 0 until started
	StartedTime   time.Time `json:",omitzero"`
	StartToClose  string    `json:",omitzero"` // seconds, resolved
}

// LambdaTimerKey is the START_TO_CLOSE timer of the Lambda task scheduled
// by event scheduledID.
func LambdaTimerKey(scheduledID int64) string {
	return "lf:" + strconv.FormatInt(scheduledID, 10) + ":S2C"
}

// LambdaBySchedID returns the open Lambda task scheduled by event id, or nil.
func (s *State) LambdaBySchedID(id int64) *Lambda {
	for _, l := range s.Lambdas {
		if l.ScheduledID == id {
			return l
		}
	}
	return nil
}

// scheduleLambda applies a ScheduleLambdaFunction decision. Checks in
// order: Lambda is available at all, the execution has a Lambda role, the
// id is not used by an open Lambda task, the open Lambda tasks limit, then
// the rate (env.RateLimit, per account): LAMBDA_FUNCTION_CREATION_RATE_EXCEEDED.
//
// Without a role: the model's documentation of lambdaRole says that an
// execution without one fails every attempt to schedule a Lambda task with
// ScheduleLambdaFunctionFailed, but names no cause for it, and the cause is
// a required member. Of the four the enum has, LAMBDA_SERVICE_NOT_AVAILABLE_-
// IN_REGION is the one that says what happened — Lambda cannot be used by
// this execution — where the others would name a condition that is false
// (an id in use, a limit or a rate reached; a decider may retry on those).
// It is also what a decider sees from swfd without a Lambda endpoint.
func (b *batch) scheduleLambda(a *api.ScheduleLambdaFunctionDecisionAttributes) {
	st, s := b.st, b.st.s
	failed := func(c api.ScheduleLambdaFunctionFailedCause) {
		b.fail(api.HistoryEvent{
			EventType: api.EventTypeScheduleLambdaFunctionFailed,
			ScheduleLambdaFunctionFailedEventAttributes: &api.ScheduleLambdaFunctionFailedEventAttributes{
				ID: a.ID, Name: a.Name, Cause: c, DecisionTaskCompletedEventID: b.dtc,
			},
		})
	}
	switch {
	case !st.env.Lambda, s.Config.LambdaRole == "":
		// Without a Lambda endpoint swfd answers as a region without
		// Lambda would (Eucalyptus, which has none, does the same); for
		// an execution without a role, see above.
		failed(api.ScheduleLambdaFunctionFailedCauseLambdaServiceNotAvailableInRegion)
		return
	case s.Lambdas[a.ID] != nil:
		failed(api.ScheduleLambdaFunctionFailedCauseIdAlreadyInUse)
		return
	case st.env.Limits.MaxOpenLambdas > 0 && len(s.Lambdas) >= st.env.Limits.MaxOpenLambdas:
		failed(api.ScheduleLambdaFunctionFailedCauseOpenLambdaFunctionsLimitExceeded)
		return
	case !b.rateAllows(api.DecisionTypeScheduleLambdaFunction, ""):
		// Last, as for activities: only a decision that would take
		// effect takes from the rate.
		failed(api.ScheduleLambdaFunctionFailedCauseLambdaFunctionCreationRateExceeded)
		return
	}
	timeout := firstOf(a.StartToCloseTimeout, DefaultLambdaStartToClose)
	id := st.add(api.HistoryEvent{
		EventType: api.EventTypeLambdaFunctionScheduled,
		LambdaFunctionScheduledEventAttributes: &api.LambdaFunctionScheduledEventAttributes{
			ID: a.ID, Name: a.Name, Control: a.Control, Input: a.Input, StartToCloseTimeout: timeout,
			DecisionTaskCompletedEventID: b.dtc,
		},
	})
	if id == 0 {
		return
	}
	now := st.env.Now
	s.Lambdas[a.ID] = &Lambda{ID: a.ID, Name: a.Name, ScheduledID: id, ScheduledTime: now, StartToClose: timeout}
	st.res.AddTasks = append(st.res.AddTasks, swfd.Task{
		Kind: swfd.LambdaTask, Domain: s.Domain, RunID: s.RunID, ScheduledEventID: id, Scheduled: now,
	})
}

func unknownLambda(scheduledID int64) error {
	return api.ErrUnknownResource("Unknown lambda function, scheduledEventId = %d", scheduledID)
}

// scheduledLambda finds a Lambda task scheduled as scheduledID and not yet
// started, on an open run.
func (s *State) scheduledLambda(scheduledID int64) (*Lambda, error) {
	if s.Open {
		if l := s.LambdaBySchedID(scheduledID); l != nil && l.StartedID == 0 {
			return l, nil
		}
	}
	return nil, unknownLambda(scheduledID)
}

// startedLambda finds a Lambda task scheduled as scheduledID and started
// as startedID, on an open run.
func (s *State) startedLambda(scheduledID, startedID int64) (*Lambda, error) {
	if s.Open {
		if l := s.LambdaBySchedID(scheduledID); l != nil && l.StartedID != 0 && l.StartedID == startedID {
			return l, nil
		}
	}
	return nil, unknownLambda(scheduledID)
}

// StartLambdaFunction records LambdaFunctionStarted for the Lambda task
// scheduled as scheduledID: its task leaves the store and its
// START_TO_CLOSE timer is armed, in the step's commit. The function is to
// be invoked only after that commit, so that a crash in between leaves a
// started task that times out rather than one invoked twice. A task that is
// not scheduled and waiting (already started, finished, or the run closed)
// is UnknownResourceFault.
func (s *State) StartLambdaFunction(env Env, scheduledID int64) (Result, error) {
	if _, err := s.scheduledLambda(scheduledID); err != nil {
		return Result{}, err
	}
	pre := s.catchUp(env)
	l, err := s.scheduledLambda(scheduledID)
	if err != nil {
		return s.refuse(pre, err)
	}
	st := newStep(s, env)
	id := st.add(api.HistoryEvent{
		EventType:                            api.EventTypeLambdaFunctionStarted,
		LambdaFunctionStartedEventAttributes: &api.LambdaFunctionStartedEventAttributes{ScheduledEventID: scheduledID},
	})
	st.doneTask(scheduledID)
	if id == 0 {
		return pre.then(st.finish()), nil
	}
	l.StartedID = id
	l.StartedTime = env.Now
	st.addTimerAfter(LambdaTimerKey(scheduledID), l.StartToClose, env.Now)
	return pre.then(st.finish()), nil
}

// StartLambdaFunctionFailed records StartLambdaFunctionFailed for a Lambda
// task scheduled as scheduledID and not started: the function could not be
// invoked. The cause is ASSUME_ROLE_FAILED, the only one the model has (the
// real service invokes the function as the execution's Lambda role, so a
// refusal is a refusal of that role); message says what refused it.
func (s *State) StartLambdaFunctionFailed(env Env, scheduledID int64, message string) (Result, error) {
	if _, err := s.scheduledLambda(scheduledID); err != nil {
		return Result{}, err
	}
	pre := s.catchUp(env)
	l, err := s.scheduledLambda(scheduledID)
	if err != nil {
		return s.refuse(pre, err)
	}
	st := newStep(s, env)
	st.add(api.HistoryEvent{
		EventType: api.EventTypeStartLambdaFunctionFailed,
		StartLambdaFunctionFailedEventAttributes: &api.StartLambdaFunctionFailedEventAttributes{
			ScheduledEventID: scheduledID, Cause: api.StartLambdaFunctionFailedCauseAssumeRoleFailed,
			Message: truncate(message, maxCauseMessage),
		},
	})
	st.removeLambda(l)
	st.scheduleDecision()
	return pre.then(st.finish()), nil
}

// CompleteLambdaFunction records LambdaFunctionCompleted: the function
// returned result. A task no longer open (it timed out, the run closed) is
// UnknownResourceFault, and the result is dropped.
func (s *State) CompleteLambdaFunction(env Env, scheduledID, startedID int64, result *string) (Result, error) {
	if _, err := s.startedLambda(scheduledID, startedID); err != nil {
		return Result{}, err
	}
	pre := s.catchUp(env)
	l, err := s.startedLambda(scheduledID, startedID)
	if err != nil {
		return s.refuse(pre, err)
	}
	st := newStep(s, env)
	st.add(api.HistoryEvent{
		EventType: api.EventTypeLambdaFunctionCompleted,
		LambdaFunctionCompletedEventAttributes: &api.LambdaFunctionCompletedEventAttributes{
			ScheduledEventID: scheduledID, StartedEventID: startedID, Result: result,
		},
	})
	st.removeLambda(l)
	st.scheduleDecision()
	return pre.then(st.finish()), nil
}

// FailLambdaFunction records LambdaFunctionFailed: the function failed
// (reason and details as the invoker read them). A task no longer open is
// UnknownResourceFault.
func (s *State) FailLambdaFunction(env Env, scheduledID, startedID int64, reason, details *string) (Result, error) {
	if _, err := s.startedLambda(scheduledID, startedID); err != nil {
		return Result{}, err
	}
	pre := s.catchUp(env)
	l, err := s.startedLambda(scheduledID, startedID)
	if err != nil {
		return s.refuse(pre, err)
	}
	st := newStep(s, env)
	st.add(api.HistoryEvent{
		EventType: api.EventTypeLambdaFunctionFailed,
		LambdaFunctionFailedEventAttributes: &api.LambdaFunctionFailedEventAttributes{
			ScheduledEventID: scheduledID, StartedEventID: startedID, Reason: reason, Details: details,
		},
	})
	st.removeLambda(l)
	st.scheduleDecision()
	return pre.then(st.finish()), nil
}

// lambdaTimedOut handles the firing of a Lambda task's START_TO_CLOSE timer.
func (st *step) lambdaTimedOut(scheduledID int64, kind string) bool {
	l := st.s.LambdaBySchedID(scheduledID)
	if l == nil || l.StartedID == 0 || kind != "S2C" {
		return false
	}
	st.add(api.HistoryEvent{
		EventType: api.EventTypeLambdaFunctionTimedOut,
		LambdaFunctionTimedOutEventAttributes: &api.LambdaFunctionTimedOutEventAttributes{
			ScheduledEventID: l.ScheduledID, StartedEventID: l.StartedID, TimeoutType: api.LambdaFunctionTimeoutTypeStartToClose,
		},
	})
	st.removeLambda(l)
	st.scheduleDecision()
	return true
}

// removeLambda forgets a Lambda task, its task in the store (if it never
// started) and its timer.
func (st *step) removeLambda(l *Lambda) {
	delete(st.s.Lambdas, l.ID)
	if l.StartedID == 0 {
		st.doneTask(l.ScheduledID)
	} else {
		st.deleteTimers(LambdaTimerKey(l.ScheduledID))
	}
}

// maxCauseMessage is the longest StartLambdaFunctionFailed message the
// model allows.
const maxCauseMessage = 1728

// truncate cuts s to at most n bytes, on a UTF-8 boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
