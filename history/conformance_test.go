package history

import (
	"reflect"
	"strings"
	"testing"

	"github.com/swfd/swfd/api"
)

// Conformance of a whole history, checked by the harness after every step
// of every test (checkConformance), so that each sequence a test drives is
// also held to the rules every SWF history keeps:
//
//   - Each reference to another event of the same history (scheduledEventId,
//     startedEventId, initiatedEventId, decisionTaskCompletedEventId,
//     latestCancelRequestedEventId) names an earlier event of the right type,
//     or is 0 where the event may have none (a task that timed out or was
//     canceled before it started, a decision that failed before anything was
//     initiated), and the events it links agree (an ActivityTaskCompleted's
//     started event is of its scheduled event; a TimerFired names the timer
//     its TimerStarted started).
//   - An event a decision recorded names the DecisionTaskCompleted of its
//     batch, the latest one; a failure reported later (a child that could
//     not start because its workflowId was in use, a signal or cancel
//     request whose target was unknown) names the one its initiated event
//     names.
//   - Each task, timer, child and request ends once at most: one start or
//     timeout per DecisionTaskScheduled, one outcome per started task, one
//     answer per initiated request.
//   - Decision tasks: a DecisionTaskStarted starts the latest
//     DecisionTaskScheduled, which nothing has ended, while no other
//     decision task runs; a DecisionTaskCompleted ends the running one.
//   - Nothing follows a closing event.
//   - A DecisionTaskScheduled follows an event that makes a decision task
//     available (decisionEvent) since the previous decision task was
//     scheduled or started: none is scheduled for nothing.
//   - No such event goes unseen: while the run is open and no decision
//     task is scheduled, every one of them came before the running task
//     started (or, with none running, before the last
//     DecisionTaskCompleted).
//   - The run's open counts (DescribeWorkflowExecution's openCounts) are
//     what its history leaves open: activities scheduled and not ended,
//     timers started and not fired or canceled, children initiated and
//     not failed to start or closed, Lambda functions scheduled and not
//     ended, and a decision task scheduled or started and not ended.
func checkConformance(t *testing.T, hist []api.HistoryEvent, s *State) {
	t.Helper()
	c := conformance{t: t, hist: hist, ended: map[int64]int64{}}
	open := c.check()
	c.liveness(s)
	if s != nil && s.Open {
		if got := s.OpenCounts(); got != open {
			t.Fatalf("open counts %+v, the history has %+v open", got, open)
		}
	}
}

type conformance struct {
	t    *testing.T
	hist []api.HistoryEvent
	// ended maps an event that opened something (a task, a timer, a
	// child, a request) to the event that ended it.
	ended map[int64]int64
}

// decisionEvent reports whether an event makes a decision task available:
// the run started, something outside the decider happened (a signal, a
// cancel request, a task's or a child's outcome, a timer, an answer to a
// request), or a decision failed.
func decisionEvent(t api.EventType) bool {
	switch t {
	case api.EventTypeWorkflowExecutionStarted, api.EventTypeWorkflowExecutionSignaled, api.EventTypeWorkflowExecutionCancelRequested,
		api.EventTypeActivityTaskCompleted, api.EventTypeActivityTaskFailed, api.EventTypeActivityTaskTimedOut, api.EventTypeActivityTaskCanceled,
		api.EventTypeDecisionTaskTimedOut, api.EventTypeTimerFired,
		api.EventTypeChildWorkflowExecutionStarted, api.EventTypeChildWorkflowExecutionCompleted, api.EventTypeChildWorkflowExecutionFailed,
		api.EventTypeChildWorkflowExecutionTimedOut, api.EventTypeChildWorkflowExecutionCanceled, api.EventTypeChildWorkflowExecutionTerminated,
		api.EventTypeExternalWorkflowExecutionSignaled, api.EventTypeExternalWorkflowExecutionCancelRequested,
		api.EventTypeLambdaFunctionCompleted, api.EventTypeLambdaFunctionFailed, api.EventTypeLambdaFunctionTimedOut,
		api.EventTypeStartLambdaFunctionFailed:
		return true
	}
	// Every decision's failure: ScheduleActivityTaskFailed,
	// StartChildWorkflowExecutionFailed, CompleteWorkflowExecutionFailed, …
	return strings.HasSuffix(string(t), "Failed") && t != api.EventTypeActivityTaskFailed &&
		t != api.EventTypeChildWorkflowExecutionFailed && t != api.EventTypeWorkflowExecutionFailed && t != api.EventTypeLambdaFunctionFailed
}

// attrs returns an event's attributes member (checkAttrs has checked there
// is exactly one).
func attrs(e api.HistoryEvent) reflect.Value {
	v := reflect.ValueOf(e)
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			return f.Elem()
		}
	}
	return reflect.Value{}
}

func intField(a reflect.Value, name string) (int64, bool) {
	f := a.FieldByName(name)
	if !f.IsValid() {
		return 0, false
	}
	return f.Int(), true
}

func stringField(a reflect.Value, name string) string {
	f := a.FieldByName(name)
	if !f.IsValid() {
		return ""
	}
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return ""
		}
		f = f.Elem()
	}
	return f.String()
}

// family is the kind of thing an event is about, which tells what its
// scheduled, started and initiated ids point at.
func family(t api.EventType) string {
	s := string(t)
	switch {
	case strings.HasPrefix(s, "DecisionTask"):
		return "decision"
	case strings.Contains(s, "ActivityTask"):
		return "activity"
	case strings.Contains(s, "LambdaFunction"):
		return "lambda"
	case strings.HasPrefix(s, "Timer"), strings.Contains(s, "Timer"):
		return "timer"
	case strings.Contains(s, "ChildWorkflowExecution"):
		return "child"
	case strings.Contains(s, "SignalExternal"), t == api.EventTypeExternalWorkflowExecutionSignaled:
		return "signal"
	case strings.Contains(s, "CancelExternal"), t == api.EventTypeExternalWorkflowExecutionCancelRequested:
		return "cancel"
	}
	return ""
}

var (
	scheduledOf = map[string]api.EventType{
		"decision": api.EventTypeDecisionTaskScheduled,
		"activity": api.EventTypeActivityTaskScheduled,
		"lambda":   api.EventTypeLambdaFunctionScheduled,
	}
	startedOf = map[string]api.EventType{
		"decision": api.EventTypeDecisionTaskStarted,
		"activity": api.EventTypeActivityTaskStarted,
		"lambda":   api.EventTypeLambdaFunctionStarted,
		"timer":    api.EventTypeTimerStarted,
		"child":    api.EventTypeChildWorkflowExecutionStarted,
	}
	initiatedOf = map[string]api.EventType{
		"child":  api.EventTypeStartChildWorkflowExecutionInitiated,
		"signal": api.EventTypeSignalExternalWorkflowExecutionInitiated,
		"cancel": api.EventTypeRequestCancelExternalWorkflowExecutionInitiated,
	}
)

// ref checks that event e's reference id points at an earlier event of type
// want (0 allowed when zeroOK) and returns that event.
func (c *conformance) ref(e api.HistoryEvent, name string, id int64, want api.EventType, zeroOK bool) (api.HistoryEvent, bool) {
	c.t.Helper()
	if id == 0 {
		if !zeroOK {
			c.t.Fatalf("event %d %s: %s is 0", e.EventID, e.EventType, name)
		}
		return api.HistoryEvent{}, false
	}
	if id < 1 || id >= e.EventID {
		c.t.Fatalf("event %d %s: %s %d does not name an earlier event", e.EventID, e.EventType, name, id)
	}
	to := c.hist[id-1]
	if to.EventType != want {
		c.t.Fatalf("event %d %s: %s %d is a %s, want a %s", e.EventID, e.EventType, name, id, to.EventType, want)
	}
	return to, true
}

// end records that e ended what event id opened, once.
func (c *conformance) end(e api.HistoryEvent, id int64) {
	c.t.Helper()
	if by, ok := c.ended[id]; ok {
		c.t.Fatalf("event %d %s ends event %d, already ended by event %d (%s)", e.EventID, e.EventType, id, by, c.hist[by-1].EventType)
	}
	c.ended[id] = e.EventID
}

// zeroStartedOK reports whether an event may name no started event: an
// activity that timed out or was canceled before it started, a decision
// task that timed out before it started, a Lambda function that could not
// start.
func zeroStartedOK(e api.HistoryEvent) bool {
	switch e.EventType {
	case api.EventTypeActivityTaskTimedOut:
		tt := e.ActivityTaskTimedOutEventAttributes.TimeoutType
		return tt == api.ActivityTaskTimeoutTypeScheduleToStart || tt == api.ActivityTaskTimeoutTypeScheduleToClose
	case api.EventTypeActivityTaskCanceled:
		return true
	case api.EventTypeDecisionTaskTimedOut:
		return e.DecisionTaskTimedOutEventAttributes.TimeoutType == api.DecisionTaskTimeoutTypeScheduleToStart
	}
	return false
}

func (c *conformance) check() (open api.WorkflowExecutionOpenCounts) {
	t := c.t
	t.Helper()
	acts, timers, children, lambdas := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
	var (
		lastDTC       int64 // the latest DecisionTaskCompleted
		openScheduled int64 // a DecisionTaskScheduled not yet started or timed out
		running       int64 // a DecisionTaskStarted not yet completed or timed out
		prevDecision  int64 // the latest DecisionTaskScheduled or DecisionTaskStarted
		closedAt      int64
	)
	for _, e := range c.hist {
		if closedAt != 0 {
			t.Fatalf("event %d %s follows the closing event %d", e.EventID, e.EventType, closedAt)
		}
		if isClosingEvent(e.EventType) {
			closedAt = e.EventID
		}
		a := attrs(e)
		fam := family(e.EventType)

		// decisionTaskCompletedEventId: the batch's, or for a failure
		// reported later, the initiating decision's.
		if dtc, ok := intField(a, "DecisionTaskCompletedEventID"); ok {
			c.ref(e, "decisionTaskCompletedEventId", dtc, api.EventTypeDecisionTaskCompleted, false)
			ini, hasIni := intField(a, "InitiatedEventID")
			if hasIni && ini != 0 {
				if from, ok := c.ref(e, "initiatedEventId", ini, initiatedOf[fam], false); ok {
					if d, _ := intField(attrs(from), "DecisionTaskCompletedEventID"); d != dtc {
						t.Fatalf("event %d %s: decisionTaskCompletedEventId %d, its initiated event %d names %d", e.EventID, e.EventType, dtc, ini, d)
					}
					if w := stringField(attrs(from), "WorkflowID"); w != stringField(a, "WorkflowID") {
						t.Fatalf("event %d %s: workflowId %q, its initiated event names %q", e.EventID, e.EventType, stringField(a, "WorkflowID"), w)
					}
					c.end(e, ini)
				}
			} else if dtc != lastDTC {
				t.Fatalf("event %d %s: decisionTaskCompletedEventId %d, the batch's is %d", e.EventID, e.EventType, dtc, lastDTC)
			}
		} else if ini, ok := intField(a, "InitiatedEventID"); ok {
			// An answer or an outcome of an initiated child or request.
			c.ref(e, "initiatedEventId", ini, initiatedOf[fam], false)
			switch e.EventType {
			case api.EventTypeChildWorkflowExecutionStarted, api.EventTypeExternalWorkflowExecutionSignaled,
				api.EventTypeExternalWorkflowExecutionCancelRequested:
				c.end(e, ini)
			}
		}

		sched, hasSched := intField(a, "ScheduledEventID")
		if hasSched && scheduledOf[fam] != "" {
			zero := e.EventType == api.EventTypeStartLambdaFunctionFailed
			c.ref(e, "scheduledEventId", sched, scheduledOf[fam], zero)
		}
		if started, ok := intField(a, "StartedEventID"); ok && startedOf[fam] != "" {
			from, found := c.ref(e, "startedEventId", started, startedOf[fam], zeroStartedOK(e))
			switch {
			case !found:
				if hasSched && e.EventType != api.EventTypeDecisionTaskCompleted {
					c.end(e, sched)
				}
			case fam == "timer":
				if id := from.TimerStartedEventAttributes.TimerID; id != stringField(a, "TimerID") {
					t.Fatalf("event %d %s: timerId %q, its TimerStarted %d started %q", e.EventID, e.EventType, stringField(a, "TimerID"), started, id)
				}
				c.end(e, started)
			case fam == "child":
				ini, _ := intField(a, "InitiatedEventID")
				if i := from.ChildWorkflowExecutionStartedEventAttributes.InitiatedEventID; i != ini {
					t.Fatalf("event %d %s: initiatedEventId %d, its started event %d is of %d", e.EventID, e.EventType, ini, started, i)
				}
				c.end(e, started)
			default:
				if s, _ := intField(attrs(from), "ScheduledEventID"); s != sched {
					t.Fatalf("event %d %s: scheduledEventId %d, its started event %d was scheduled by %d", e.EventID, e.EventType, sched, started, s)
				}
				c.end(e, started)
			}
		} else if hasSched && scheduledOf[fam] != "" && sched != 0 {
			// A start (or a Lambda function that could not start) ends
			// what was scheduled.
			c.end(e, sched)
		}
		if l := e.ActivityTaskCanceledEventAttributes; l != nil && l.LatestCancelRequestedEventID != 0 {
			req, _ := c.ref(e, "latestCancelRequestedEventId", l.LatestCancelRequestedEventID, api.EventTypeActivityTaskCancelRequested, false)
			sch := c.hist[l.ScheduledEventID-1]
			if req.ActivityTaskCancelRequestedEventAttributes.ActivityID != sch.ActivityTaskScheduledEventAttributes.ActivityID {
				t.Fatalf("event %d: latestCancelRequestedEventId %d asks to cancel another activity", e.EventID, l.LatestCancelRequestedEventID)
			}
		}

		// What is open.
		switch e.EventType {
		case api.EventTypeActivityTaskScheduled:
			acts[e.EventID] = true
		case api.EventTypeActivityTaskCompleted, api.EventTypeActivityTaskFailed, api.EventTypeActivityTaskTimedOut, api.EventTypeActivityTaskCanceled:
			delete(acts, sched)
		case api.EventTypeTimerStarted:
			timers[e.EventID] = true
		case api.EventTypeTimerFired:
			delete(timers, e.TimerFiredEventAttributes.StartedEventID)
		case api.EventTypeTimerCanceled:
			delete(timers, e.TimerCanceledEventAttributes.StartedEventID)
		case api.EventTypeStartChildWorkflowExecutionInitiated:
			children[e.EventID] = true
		case api.EventTypeLambdaFunctionScheduled:
			lambdas[e.EventID] = true
		case api.EventTypeLambdaFunctionCompleted, api.EventTypeLambdaFunctionFailed, api.EventTypeLambdaFunctionTimedOut, api.EventTypeStartLambdaFunctionFailed:
			delete(lambdas, sched)
		default:
			if fam == "child" && e.EventType != api.EventTypeChildWorkflowExecutionStarted {
				ini, _ := intField(a, "InitiatedEventID")
				delete(children, ini)
			}
		}

		// The decision task protocol.
		switch e.EventType {
		case api.EventTypeDecisionTaskScheduled:
			if openScheduled != 0 {
				t.Fatalf("event %d DecisionTaskScheduled while %d is scheduled and not started", e.EventID, openScheduled)
			}
			cause := false
			for _, x := range c.hist[prevDecision : e.EventID-1] {
				cause = cause || decisionEvent(x.EventType)
			}
			if !cause {
				t.Fatalf("event %d DecisionTaskScheduled: nothing since event %d makes a decision task available", e.EventID, prevDecision)
			}
			openScheduled, prevDecision = e.EventID, e.EventID
		case api.EventTypeDecisionTaskStarted:
			if sched != openScheduled || running != 0 {
				t.Fatalf("event %d DecisionTaskStarted of %d: the scheduled task is %d, the running one %d", e.EventID, sched, openScheduled, running)
			}
			openScheduled, running, prevDecision = 0, e.EventID, e.EventID
		case api.EventTypeDecisionTaskCompleted:
			started := e.DecisionTaskCompletedEventAttributes.StartedEventID
			if started != running {
				t.Fatalf("event %d DecisionTaskCompleted of %d: the running task is %d", e.EventID, started, running)
			}
			running, lastDTC = 0, e.EventID
		case api.EventTypeDecisionTaskTimedOut:
			x := e.DecisionTaskTimedOutEventAttributes
			if x.StartedEventID != 0 {
				if x.StartedEventID != running {
					t.Fatalf("event %d DecisionTaskTimedOut of %d: the running task is %d", e.EventID, x.StartedEventID, running)
				}
				running = 0
			} else {
				if x.ScheduledEventID != openScheduled {
					t.Fatalf("event %d DecisionTaskTimedOut of %d: the scheduled task is %d", e.EventID, x.ScheduledEventID, openScheduled)
				}
				openScheduled = 0
			}
		}
	}
	open = api.WorkflowExecutionOpenCounts{OpenActivityTasks: len(acts), OpenTimers: len(timers), OpenChildWorkflowExecutions: len(children), OpenLambdaFunctions: len(lambdas)}
	if closedAt == 0 && (openScheduled != 0 || running != 0) {
		open.OpenDecisionTasks = 1
	}
	return open
}

// liveness checks that an open run with no decision task scheduled has
// shown its decider every event that asks for one.
func (c *conformance) liveness(s *State) {
	c.t.Helper()
	if s == nil || !s.Open || s.Decision.ScheduledID != 0 {
		return
	}
	seen := s.Decision.StartedID
	if seen == 0 {
		for i := len(c.hist) - 1; i >= 0; i-- {
			if c.hist[i].EventType == api.EventTypeDecisionTaskCompleted {
				seen = c.hist[i].EventID
				break
			}
		}
	}
	for _, e := range c.hist[seen:] {
		if decisionEvent(e.EventType) {
			c.t.Fatalf("event %d %s asks for a decision task, and none is scheduled (the decider saw events up to %d)", e.EventID, e.EventType, seen)
		}
	}
}
