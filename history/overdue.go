package history

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// Timers that are due but not yet fired.
//
// The timer loop fires each timer some time after it is due: milliseconds
// on an idle server, seconds when it is busy, longer when the server was
// down. A call that reaches a run in that gap must not see the run as if the
// deadline had not passed: a worker's answer after its task's
// START_TO_CLOSE would be recorded as ActivityTaskCompleted, a heartbeat
// after its HEARTBEAT deadline would revive the task, a decider's
// CompleteWorkflowExecution after the run's own timeout would close it
// COMPLETED rather than TIMED_OUT, a signal would land in a run that has
// timed out. So every call on a run first fires, as the timer loop would and
// in the same order (dueBy's: due time, then the order armed), each timer of the run that is due by
// the call's time (catchUp), and is then decided on the run as that leaves
// it. A call whose task or run those timeouts ended is refused with the
// UnknownResourceFault it would have met had the timer loop been on time;
// what the timers recorded is committed all the same (Result.Refused). The
// outcome of a call thus depends on its time only, never on how late the
// timer loop runs. A start of a new run of the workflowId likewise first
// fires the timers of the open run it would be refused for (CatchUp,
// through runs.Store.FreeWorkflowID), and goes ahead when they timed it
// out. Reads do not catch up: they show the run as recorded.
//
// The Lambda loop's steps (a function's start and outcome) catch up as a
// worker's calls do: an outcome at or after the function's START_TO_CLOSE
// deadline finds it timed out, and a start in a run past its own timeout
// finds the run timed out (the function is then not invoked). The
// SCHEDULE_TO_START timer of a decision task on a temporary task-list
// override runs from when the task was put on its list (DecisionState.Listed),
// which for a task scheduled while another ran is later than its
// DecisionTaskScheduled; a run stored before that time was kept leaves
// that timer to the loop.

// overdue is a timer of the run, when it is due, and the event that armed
// it (armedBy), which tells the order the run's timers were armed in.
type overdue struct {
	key     string
	due     time.Time
	armedBy int64
}

// armedByHeartbeat is the armedBy of a heartbeat timer that a heartbeat
// armed again: a heartbeat is no event, and comes after the events of the
// activity's start; among the others of its instant it is put last.
const armedByHeartbeat = math.MaxInt64

// dueBy lists the run's timers due at or before now, in the order they
// fire: by due time, then, for those due at one instant, in the order they
// were armed (by the event that armed them), then by key. In real time a
// timer armed after another with the same due time would be due after it,
// by as long as came between: the run's executionStartToCloseTimeout
// before a timer of the same length started by its first decision. With a
// clock that stands still between moves, ties are common, and the key
// (by which the timer loop reads them, "ut:" before "wf") would fire them
// in another order. The due times are those the run armed its timers with,
// worked out from the run's state.
func (s *State) dueBy(now time.Time) []overdue {
	if !s.Open {
		return nil
	}
	var out []overdue
	// due reports when a timer armed at from for d is due, if it is by
	// now. Each timer's key is made only once it is found due: a run of a
	// thousand open activities is looked over with every step on it.
	due := func(from time.Time, d string) (time.Time, bool) {
		dur, none, err := ParseDuration(d)
		if err != nil || none || from.IsZero() {
			return time.Time{}, false
		}
		t := from.Add(dur)
		return t, !t.After(now)
	}
	if t, ok := due(s.StartTime, executionTimeout(s.Config.ExecutionStartToCloseTimeout)); ok {
		out = append(out, overdue{WorkflowTimerKey, t, 1})
	}
	if d := s.Decision; d.StartedID != 0 {
		if t, ok := due(d.StartedTime, s.Config.TaskStartToCloseTimeout); ok {
			out = append(out, overdue{DecisionStartToCloseKey(d.StartedID), t, d.StartedID})
		}
	}
	if d := s.Decision; d.ScheduledID != 0 && d.StartedID == 0 && d.ScheduleToStart != "" {
		if t, ok := due(d.Listed, d.ScheduleToStart); ok {
			out = append(out, overdue{DecisionScheduleToStartKey(d.ScheduledID), t, d.ScheduledID})
		}
	}
	activity := func(a *Activity, kind string, from time.Time, d string, by int64) {
		if t, ok := due(from, d); ok {
			out = append(out, overdue{ActivityTimerKey(a.ScheduledID, kind), t, by})
		}
	}
	for _, a := range s.Activities {
		activity(a, ActivityScheduleToClose, a.ScheduledTime, a.ScheduleToClose, a.ScheduledID)
		if a.StartedID == 0 {
			activity(a, ActivityScheduleToStart, a.ScheduledTime, a.ScheduleToStart, a.ScheduledID)
			continue
		}
		activity(a, ActivityStartToClose, a.StartedTime, a.StartToClose, a.StartedID)
		last, by := a.StartedTime, a.StartedID
		if a.LastHeartbeat.After(last) {
			last, by = a.LastHeartbeat, armedByHeartbeat
		}
		activity(a, ActivityHeartbeat, last, a.Heartbeat, by)
	}
	for _, t := range s.Timers {
		if !t.Due.IsZero() && !t.Due.After(now) {
			out = append(out, overdue{UserTimerKey(t.TimerID, t.StartedID), t.Due, t.StartedID})
		}
	}
	for _, l := range s.Lambdas {
		if l.StartedID != 0 {
			if t, ok := due(l.StartedTime, l.StartToClose); ok {
				out = append(out, overdue{LambdaTimerKey(l.ScheduledID), t, l.StartedID})
			}
		}
	}
	slices.SortFunc(out, func(a, b overdue) int {
		if c := a.due.Compare(b.due); c != 0 {
			return c
		}
		if c := cmp.Compare(a.armedBy, b.armedBy); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
	return out
}

// catchUp fires every timer of the run due by env.Now (see dueBy), each
// as the timer loop would, and deletes it: the loop would have removed it
// with the step that fired it. It returns what they recorded; an empty
// Result when none was due, the run left untouched.
func (s *State) catchUp(env Env) Result {
	due := s.dueBy(env.Now)
	if len(due) == 0 {
		return Result{}
	}
	st := newStep(s, env)
	// Each timer fired ends what it guarded (the run, a task, a timer), so
	// the list only shrinks; the bound is a guard, never reached.
	for range 2 * len(due) {
		if len(due) == 0 || !s.Open {
			break
		}
		k := due[0].key
		st.fire(k)
		if !slices.Contains(st.res.DeleteTimers, k) {
			st.deleteTimers(k)
		}
		due = s.dueBy(env.Now)
	}
	return st.finish()
}

// CatchUp fires every timer of the run due by env.Now, as each call on the
// run does before it is decided (see catchUp), and returns what they
// recorded: an empty Result when none was due. A start of a new run uses it
// on the open run of the workflowId it asks for, which, when it is past its
// executionStartToCloseTimeout, times out (Result.Closed), its child policy
// applied and its parent told, as the timer loop would have had it on time.
func (s *State) CatchUp(env Env) Result {
	return s.catchUp(env)
}

// refuse ends a call that the timers caught up before it (pre) left
// nothing to act on: pre is committed and the call answered with fault,
// or, when the run closed on the way, with the fault a call on a closed
// run gets. Without anything caught up the call simply fails with fault,
// and so it does with an error that is no fault (a store's): that fails
// the call, and nothing of it, the timers' events included, is recorded.
func (s *State) refuse(pre Result, fault error) (Result, error) {
	f, ok := api.AsFault(fault)
	if !ok || len(pre.Events) == 0 && len(pre.DeleteTimers) == 0 {
		return Result{}, fault
	}
	if !s.Open {
		f, _ = api.AsFault(unknownExecution(s))
	}
	pre.Refused = f
	return pre, nil
}

// then is r followed by the Result of a later step on the same run, as
// one Result (see Append); r and next are left as they were.
func (r Result) then(next Result) Result {
	// Append extends and edits r's slices in place: r gets its own.
	r.Events = slices.Clip(r.Events)
	r.DoneTasks = slices.Clip(r.DoneTasks)
	r.Messages = slices.Clip(r.Messages)
	r.DeleteTimers = slices.Clip(r.DeleteTimers)
	r.AddTasks = slices.Clone(r.AddTasks)
	r.AddTimers = slices.Clone(r.AddTimers)
	r.Heartbeats = slices.Clone(r.Heartbeats)
	r.Append(next)
	return r
}

// Append makes r the Result of its step followed by next, the Result of a
// later step on the same run, so that both are committed as one: the store
// applies an update's timer deletions before its additions, so a timer r
// armed that next deletes is dropped from the additions, and so is a task r
// listed that next takes off (which is then not taken off: it never was on
// a list); a run that next closed lists no tasks, timers or heartbeat
// details (see finish). The other members are next's.
//
// r takes over next's slices and extends its own in place, so that
// appending many steps one by one (the messages a run is delivered in one
// commit) costs time in proportion to their size, not to the size of
// what r holds already. Neither r's old slices nor next's may be used
// apart from r afterwards.
func (r *Result) Append(next Result) {
	if len(r.Events) == 0 && len(r.DeleteTimers) == 0 && len(r.AddTimers) == 0 && len(r.AddTasks) == 0 && len(r.DoneTasks) == 0 {
		*r = next
		return
	}
	out := next
	out.Events = append(r.Events, next.Events...)
	out.DoneTasks = r.DoneTasks
	for _, id := range next.DoneTasks {
		if i := slices.IndexFunc(r.AddTasks, func(t swfd.Task) bool { return t.ScheduledEventID == id }); i >= 0 {
			r.AddTasks = slices.Delete(r.AddTasks, i, i+1)
		} else {
			out.DoneTasks = append(out.DoneTasks, id)
		}
	}
	out.Messages = append(r.Messages, next.Messages...)
	out.Closed = r.Closed || next.Closed
	if out.Refused == nil {
		out.Refused = r.Refused
	}
	out.DeleteTimers = r.DeleteTimers
	for _, k := range next.DeleteTimers {
		if !slices.Contains(out.DeleteTimers, k) {
			out.DeleteTimers = append(out.DeleteTimers, k)
		}
	}
	if next.Closed {
		out.AddTasks, out.AddTimers, out.Heartbeats = nil, nil, nil
		*r = out
		return
	}
	out.AddTasks = append(r.AddTasks, next.AddTasks...)
	out.AddTimers = r.AddTimers
	if len(next.DeleteTimers) > 0 {
		out.AddTimers = slices.DeleteFunc(out.AddTimers, func(t swfd.Timer) bool {
			return slices.Contains(next.DeleteTimers, t.Key)
		})
	}
	out.AddTimers = append(out.AddTimers, next.AddTimers...)
	out.Heartbeats = r.Heartbeats
	for _, hb := range next.Heartbeats {
		if i := slices.IndexFunc(out.Heartbeats, func(x swfd.Heartbeat) bool { return x.ScheduledEventID == hb.ScheduledEventID }); i >= 0 {
			out.Heartbeats[i] = hb
		} else {
			out.Heartbeats = append(out.Heartbeats, hb)
		}
	}
	*r = out
}

// thenCall is then for the outcome of a call's step (endCall): an error
// leaves nothing to commit.
func (r Result) thenCall(next Result, err error) (Result, error) {
	if err != nil {
		return Result{}, err
	}
	return r.then(next), nil
}
