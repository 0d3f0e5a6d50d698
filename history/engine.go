package history

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// Timer keys. Every durable wake-up of a run has a stable key naming its
// purpose and the event it guards, so a stale firing can be recognised and
// ignored (FireTimer checks the key still applies).
const (
	// WorkflowTimerKey is the run's START_TO_CLOSE timeout.
	WorkflowTimerKey = "wf"
)

// DecisionScheduleToStartKey is the SCHEDULE_TO_START timer of a decision
// task scheduled on a temporary task-list override.
func DecisionScheduleToStartKey(scheduledID int64) string {
	return "dt:" + strconv.FormatInt(scheduledID, 10) + ":S2S"
}

// DecisionStartToCloseKey is the START_TO_CLOSE timer of a started decision task.
func DecisionStartToCloseKey(startedID int64) string {
	return "dt:" + strconv.FormatInt(startedID, 10) + ":S2C"
}

// Activity timer kinds, used in ActivityTimerKey.
const (
	ActivityScheduleToStart = "S2S"
	ActivityScheduleToClose = "S2C"
	ActivityStartToClose    = "ST2C"
	ActivityHeartbeat       = "HB"
)

// ActivityTimerKey is one of the four timeouts of the activity task
// scheduled by event scheduledID; kind is one of the Activity* constants.
func ActivityTimerKey(scheduledID int64, kind string) string {
	return "at:" + strconv.FormatInt(scheduledID, 10) + ":" + kind
}

// UserTimerKey is the timer started by a StartTimer decision (TimerStarted
// event startedID).
func UserTimerKey(timerID string, startedID int64) string {
	return "ut:" + timerID + ":" + strconv.FormatInt(startedID, 10)
}

// ParseDuration parses a wire duration: a decimal number of seconds (at
// most 8 digits), or "NONE" (none is then true and d 0).
func ParseDuration(s string) (d time.Duration, none bool, err error) {
	if s == "NONE" {
		return 0, true, nil
	}
	if s == "" || len(s) > 8 {
		return 0, false, fmt.Errorf("invalid duration %q", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false, fmt.Errorf("invalid duration %q", s)
		}
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.Duration(n) * time.Second, false, nil
}

// parsePriority reads a taskPriority string; empty or malformed is 0.
func parsePriority(s string) int32 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

// Clone returns a deep copy of s.
func (s *State) Clone() *State {
	if s == nil {
		return nil
	}
	c := *s
	c.TagList = cloneStrings(s.TagList)
	if s.Parent != nil {
		p := *s.Parent
		c.Parent = &p
	}
	c.Activities = cloneItems(s.Activities)
	c.Timers = cloneItems(s.Timers)
	c.Children = cloneItems(s.Children)
	c.Externals = cloneItems(s.Externals)
	c.Lambdas = cloneItems(s.Lambdas)
	return &c
}

// cloneItems returns a copy of m (nil for nil) whose values point to
// copies of m's, made in one allocation for all of them: a run's state is
// cloned for every step on it (see runs), and a run that fans out has a
// thousand activities. The copies are shallow, as an item's pointers are
// replaced, never written through.
func cloneItems[K comparable, V any](m map[K]*V) map[K]*V {
	if m == nil {
		return nil
	}
	c := make(map[K]*V, len(m))
	items := make([]V, len(m))
	i := 0
	for k, v := range m {
		items[i] = *v
		c[k] = &items[i]
		i++
	}
	return c
}

func cloneStrings(in []string) []string {
	if in == nil {
		return nil
	}
	return append([]string{}, in...)
}

// OpenCounts reports the run's open tasks, timers, children and Lambda
// tasks, as DescribeWorkflowExecution shows them. openDecisionTasks is 1
// while a decision task is scheduled or started (the model caps it at 1).
func (s *State) OpenCounts() api.WorkflowExecutionOpenCounts {
	oc := api.WorkflowExecutionOpenCounts{
		OpenActivityTasks:           len(s.Activities),
		OpenTimers:                  len(s.Timers),
		OpenChildWorkflowExecutions: len(s.Children),
		OpenLambdaFunctions:         len(s.Lambdas),
	}
	if s.Open && (s.Decision.ScheduledID != 0 || s.Decision.StartedID != 0) {
		oc.OpenDecisionTasks = 1
	}
	return oc
}

func (s *State) execution() api.WorkflowExecution {
	return api.WorkflowExecution{WorkflowID: s.WorkflowID, RunID: s.RunID}
}

func (s *State) ensureMaps() {
	if s.Activities == nil {
		s.Activities = map[string]*Activity{}
	}
	if s.Timers == nil {
		s.Timers = map[string]*UserTimer{}
	}
	if s.Children == nil {
		s.Children = map[int64]*Child{}
	}
	if s.Externals == nil {
		s.Externals = map[int64]*External{}
	}
	if s.Lambdas == nil {
		s.Lambdas = map[string]*Lambda{}
	}
}

// step accumulates the Result of one command.
type step struct {
	s   *State
	env Env
	res Result
	// needDTS defers the DecisionTaskScheduled wanted by decision outcomes
	// to the end of a decision batch (see CompleteDecisionTask).
	needDTS bool
	// lookupErr is the first error of a registry lookup made during the
	// step; the step then fails with it (see lookup.go).
	lookupErr error
	// call marks the step of a call that is refused rather than recorded
	// in part (see newCallStep); overflow is set once one of its events
	// did not fit, and before is the run as it was before the step, when
	// its events could reach the limit at all.
	call     bool
	overflow bool
	before   *State
	// events is how many events the step expects to record (see
	// expect): Result.Events is made that long at its first event, where
	// growing it one append at a time would copy each event (over 500
	// bytes) once more for every doubling.
	events int
}

// expect sizes the step's events for n: the slice is made at the step's
// first event (a step that records none allocates nothing), and grows past
// n as before if the step records more.
func (st *step) expect(n int) { st.events = n }

func newStep(s *State, env Env) *step {
	s.ensureMaps()
	return &step{s: s, env: env}
}

// newCallStep begins the step of a call made to the run from outside it
// (a client's signal or cancel request, a worker's or a decider's answer,
// a signal or cancel request from another run), which appends at most
// most events. Such a call is all or nothing: if its events would not all
// fit under Limits.MaxEvents, none of them is recorded, and the step ends
// (endCall) with the run terminated instead and the call refused. A copy
// of the run to fall back on is taken only when the call's events could
// reach the limit, so a run far from it costs nothing more.
func newCallStep(s *State, env Env, most int) *step {
	st := newStep(s, env)
	st.call = true
	// Most calls record their event and a DecisionTaskScheduled.
	st.expect(min(most, 2))
	if max := env.Limits.MaxEvents; max > 0 && s.NextEventID+int64(most) >= int64(max) {
		st.before = s.Clone()
	}
	return st
}

func isClosingEvent(t api.EventType) bool {
	switch t {
	case api.EventTypeWorkflowExecutionCompleted, api.EventTypeWorkflowExecutionFailed,
		api.EventTypeWorkflowExecutionCanceled, api.EventTypeWorkflowExecutionContinuedAsNew,
		api.EventTypeWorkflowExecutionTimedOut, api.EventTypeWorkflowExecutionTerminated:
		return true
	}
	return false
}

// add appends an event and returns its id. Nothing is appended once the run
// has closed (0 is returned). If appending a non-closing event would reach
// Limits.MaxEvents, the run is terminated with cause EVENT_LIMIT_EXCEEDED
// instead, so a history never holds more than MaxEvents events and the
// last one is always the closing event; in the step of a call
// (newCallStep) nothing more is appended, and endCall terminates the run
// as it was before the call. MaxEvents 0 means no limit.
func (st *step) add(ev api.HistoryEvent) int64 {
	if !st.s.Open || st.overflow {
		return 0
	}
	if max := st.env.Limits.MaxEvents; max > 0 && !isClosingEvent(ev.EventType) && st.s.NextEventID >= int64(max) {
		if st.call {
			st.overflow = true
			return 0
		}
		st.terminate(nil, nil, "", api.WorkflowExecutionTerminatedCauseEventLimitExceeded)
		return 0
	}
	return st.append(ev)
}

func (st *step) append(ev api.HistoryEvent) int64 {
	if st.s.NextEventID == 0 {
		st.s.NextEventID = 1
	}
	ev.EventID = st.s.NextEventID
	ev.EventTimestamp = api.NewTime(st.env.Now)
	st.s.NextEventID++
	st.s.Trouble.note(&ev)
	if st.res.Events == nil && st.events > 1 {
		st.res.Events = make([]api.HistoryEvent, 0, st.events)
	}
	st.res.Events = append(st.res.Events, ev)
	return ev.EventID
}

// send queues a message to another run, unless the run closed in this
// step before the event that caused it could be recorded.
func (st *step) send(m Message) {
	if st.s.Open {
		st.res.Messages = append(st.res.Messages, m)
	}
}

func (st *step) addTimer(key string, due time.Time) {
	st.res.AddTimers = append(st.res.AddTimers, swfd.Timer{RunID: st.s.RunID, Key: key, Due: due})
}

// addTimerAfter arms key after the wire duration d, unless d is NONE (or
// malformed, which validation rules out earlier).
func (st *step) addTimerAfter(key, d string, from time.Time) {
	dur, none, err := ParseDuration(d)
	if err != nil || none {
		return
	}
	st.addTimer(key, from.Add(dur))
}

// armed reports whether addTimerAfter arms a timer for the wire duration d.
func armed(d string) bool {
	_, none, err := ParseDuration(d)
	return err == nil && !none
}

// deleteTimers deletes timers, including any this step armed: the store
// applies an update's deletions before its additions, so those are dropped
// from the step's additions here.
func (st *step) deleteTimers(keys ...string) {
	st.res.AddTimers = slices.DeleteFunc(st.res.AddTimers, func(t swfd.Timer) bool {
		return t.RunID == st.s.RunID && slices.Contains(keys, t.Key)
	})
	st.res.DeleteTimers = append(st.res.DeleteTimers, keys...)
}

// doneTask takes the task scheduled as id off its task list. A task the
// step itself listed is dropped from the step's additions instead: the
// store and the task lists apply an update's removals of tasks before its
// additions, so a task listed and taken off in one update would stay
// listed, pending until a poller came to find it gone (and in the store
// until its run closed). An activity scheduled and canceled by one
// decision batch is such a task: SWF cancels it at once, and it is never
// pending.
func (st *step) doneTask(id int64) {
	if i := slices.IndexFunc(st.res.AddTasks, func(t swfd.Task) bool { return t.ScheduledEventID == id }); i >= 0 {
		st.res.AddTasks = slices.Delete(st.res.AddTasks, i, i+1)
		return
	}
	st.res.DoneTasks = append(st.res.DoneTasks, id)
}

// currentTaskList is the list new decision tasks go to: the override from
// RespondDecisionTaskCompleted if any, else the execution's.
func (s *State) currentTaskList() string {
	if s.Decision.Override != "" {
		return s.Decision.Override
	}
	return s.Config.TaskList
}

// temporaryOverride reports the SCHEDULE_TO_START timeout of a temporary
// task-list override in force ("" when there is none).
func (s *State) temporaryOverride() string {
	d := s.Decision
	if d.Override == "" || d.OverrideTimeout == "" || d.OverrideTimeout == "NONE" {
		return ""
	}
	return d.OverrideTimeout
}

// scheduleDecision makes a decision task available: DecisionTaskScheduled
// unless one is already scheduled and not started (events coalesce into
// it). If a decision task is running, the new one is recorded now but only
// put on its task list when the running one completes or times out.
func (st *step) scheduleDecision() {
	s := st.s
	if !s.Open || s.Decision.ScheduledID != 0 {
		return
	}
	list := s.currentTaskList()
	s2s := s.temporaryOverride()
	attrs := &api.DecisionTaskScheduledEventAttributes{
		TaskList:            api.TaskList{Name: list},
		TaskPriority:        s.Config.TaskPriority,
		StartToCloseTimeout: s.Config.TaskStartToCloseTimeout,
		// Without a temporary task-list override there is no
		// schedule-to-start limit, and the real service says so with
		// "NONE" rather than leaving the member out.
		ScheduleToStartTimeout: firstOf(s2s, "NONE"),
	}
	id := st.add(api.HistoryEvent{EventType: api.EventTypeDecisionTaskScheduled, DecisionTaskScheduledEventAttributes: attrs})
	if id == 0 {
		return
	}
	s.Decision.ScheduledID = id
	s.Decision.ScheduledTime = st.env.Now
	s.Decision.ScheduledList = list
	s.Decision.ScheduleToStart = s2s
	if s.Decision.StartedID == 0 {
		st.releaseDecision()
	}
}

// releaseDecision puts the scheduled decision task on its task list (and
// arms its SCHEDULE_TO_START timer on a temporary override).
func (st *step) releaseDecision() {
	s := st.s
	if !s.Open || s.Decision.ScheduledID == 0 || s.Decision.StartedID != 0 {
		return
	}
	st.res.AddTasks = append(st.res.AddTasks, swfd.Task{
		Kind:             swfd.DecisionTask,
		Domain:           s.Domain,
		TaskList:         s.Decision.ScheduledList,
		Priority:         parsePriority(s.Config.TaskPriority),
		RunID:            s.RunID,
		ScheduledEventID: s.Decision.ScheduledID,
		Scheduled:        s.Decision.ScheduledTime,
	})
	if s.Decision.ScheduleToStart != "" {
		s.Decision.Listed = st.env.Now
		st.addTimerAfter(DecisionScheduleToStartKey(s.Decision.ScheduledID), s.Decision.ScheduleToStart, st.env.Now)
	}
}

// close ends the run: the closing event has been appended. Open tasks and
// timers vanish (Result.Closed makes the service drop them); the parent, if
// any, is told, except on CONTINUED_AS_NEW, where the new run inherits the
// parent and the parent hears of the chain's final close (inferred: SWF has no
// ChildWorkflowExecutionContinuedAsNew event).
func (st *step) close(status api.CloseStatus, info ChildClosedMsg) {
	s := st.s
	s.Open = false
	s.CloseStatus = status
	s.CloseTime = st.env.Now
	st.res.Closed = true
	if s.Parent != nil && status != api.CloseStatusContinuedAsNew {
		info.InitiatedID = s.ParentInitiatedEventID
		info.Child = s.execution()
		info.Type = s.WorkflowType
		info.CloseStatus = status
		st.res.Messages = append(st.res.Messages, Message{
			Domain:      s.Domain,
			WorkflowID:  s.Parent.WorkflowID,
			RunID:       s.Parent.RunID,
			ChildClosed: &info,
		})
	}
}

// applyChildPolicy acts on the open children of a run that was terminated
// or timed out (inferred: SWF applies the policy to every child it
// started). Each child is addressed by its
// workflowId and named by its parent (ParentRef), never by the run id its
// start reported: that run may have continued as new, and the policy is for
// the chain's open run. A child whose start is still in flight is reached
// the same way: messages are delivered in order, so the child's start is
// delivered first and the policy then reaches its open run.
func (st *step) applyChildPolicy(policy api.ChildPolicy) {
	s := st.s
	if policy == api.ChildPolicyAbandon || policy == "" {
		return
	}
	for _, id := range sortedChildIDs(s.Children) {
		c := s.Children[id]
		m := Message{Domain: s.Domain, WorkflowID: c.WorkflowID}
		parent := &ParentRef{Run: s.execution(), InitiatedID: c.InitiatedID}
		switch policy {
		case api.ChildPolicyTerminate:
			m.Terminate = &TerminateMsg{Parent: parent}
		case api.ChildPolicyRequestCancel:
			m.Cancel = &CancelMsg{ChildPolicy: true, Parent: parent}
		default:
			continue
		}
		st.res.Messages = append(st.res.Messages, m)
	}
}

// terminate records WorkflowExecutionTerminated and closes the run, applying
// the child policy (policy "" means the run's own).
func (st *step) terminate(reason, details *string, policy api.ChildPolicy, cause api.WorkflowExecutionTerminatedCause) {
	s := st.s
	if policy == "" {
		policy = s.Config.ChildPolicy
	}
	st.append(api.HistoryEvent{
		EventType: api.EventTypeWorkflowExecutionTerminated,
		WorkflowExecutionTerminatedEventAttributes: &api.WorkflowExecutionTerminatedEventAttributes{
			Reason: reason, Details: details, ChildPolicy: policy, Cause: cause,
		},
	})
	st.close(api.CloseStatusTerminated, ChildClosedMsg{})
	st.applyChildPolicy(policy)
}

// finish completes a step. When the run closed, every task, timer, and
// open item of the run is gone: the service drops the run's stored tasks
// and timers, so the Result carries no new ones.
func (st *step) finish() Result {
	if st.res.Closed {
		s := st.s
		st.res.AddTasks = nil
		st.res.AddTimers = nil
		st.res.Heartbeats = nil
		s.Decision = DecisionState{Override: s.Decision.Override, OverrideTimeout: s.Decision.OverrideTimeout}
		s.Activities = map[string]*Activity{}
		s.Timers = map[string]*UserTimer{}
		s.Children = map[int64]*Child{}
		s.Externals = map[int64]*External{}
		s.Lambdas = map[string]*Lambda{}
	}
	return st.res
}

// endCall completes the step of a call (newCallStep). A call whose events
// all fitted ends as any step. One whose events did not is undone: the run
// is put back as it was before the call, terminated (EVENT_LIMIT_EXCEEDED,
// with its child policy, its parent told), and the Result carries the
// fault the call is answered with (Result.Refused).
func (st *step) endCall() (Result, error) {
	if !st.overflow {
		return st.finish(), nil
	}
	if st.before == nil {
		// The call appended more events than newCallStep was told it
		// might: nothing to fall back on, so the call fails and changes
		// nothing.
		return Result{}, api.NewFault(api.InternalFailure, "the call's events outgrew their bound")
	}
	s := st.s
	*s = *st.before
	t := newStep(s, st.env)
	t.terminate(nil, nil, "", api.WorkflowExecutionTerminatedCauseEventLimitExceeded)
	res := t.finish()
	res.Refused = api.ErrUnknownResource("Unknown execution: WorkflowExecution=[workflowId=%s, runId=%s]: terminated because its history reached the limit of %d events",
		s.WorkflowID, s.RunID, st.env.Limits.MaxEvents)
	return res, nil
}

func sortedChildIDs(m map[int64]*Child) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sortInt64s(ids)
	return ids
}

func sortInt64s(a []int64) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// activityBySchedID finds an open activity by its ActivityTaskScheduled id.
func (s *State) activityBySchedID(id int64) *Activity {
	for _, a := range s.Activities {
		if a.ScheduledID == id {
			return a
		}
	}
	return nil
}

// removeActivity forgets an activity and deletes its timers; a task still
// queued (never started) is removed from its task list.
func (st *step) removeActivity(a *Activity) {
	delete(st.s.Activities, a.ActivityID)
	if a.HeartbeatDetails != nil {
		st.res.Heartbeats = append(st.res.Heartbeats, swfd.Heartbeat{ScheduledEventID: a.ScheduledID})
	}
	if a.StartedID == 0 {
		st.doneTask(a.ScheduledID)
	}
	// Only the timers that were armed: a timeout of NONE arms none, and
	// the schedule-to-start timer went when the activity started. (A
	// deletion of a timer that is not there costs the store a statement.)
	if a.StartedID == 0 && armed(a.ScheduleToStart) {
		st.deleteTimers(ActivityTimerKey(a.ScheduledID, ActivityScheduleToStart))
	}
	if armed(a.ScheduleToClose) {
		st.deleteTimers(ActivityTimerKey(a.ScheduledID, ActivityScheduleToClose))
	}
	if a.StartedID != 0 && armed(a.StartToClose) {
		st.deleteTimers(ActivityTimerKey(a.ScheduledID, ActivityStartToClose))
	}
	if a.StartedID != 0 && armed(a.Heartbeat) {
		st.deleteTimers(ActivityTimerKey(a.ScheduledID, ActivityHeartbeat))
	}
}

func unknownExecution(s *State) error {
	return api.ErrUnknownResource("Unknown execution: WorkflowExecution=[workflowId=%s, runId=%s]", s.WorkflowID, s.RunID)
}
