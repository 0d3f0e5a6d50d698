package history

import (
	"github.com/swfd/swfd/api"
)

// Deliver applies a message from another run (or about a child).
//
// Answers to this run's own requests (ChildStarted, ChildStartFailed,
// ChildClosed, SignalResult, CancelResult) are ignored — empty Result, nil
// error — when the run has closed or no longer tracks the request: nothing
// can be recorded and the message is simply consumed.
//
// Requests aimed at this run (Signal, Cancel, Terminate) on a closed run
// return UnknownResourceFault, so the service can answer the sender with a
// failure (SignalResult / CancelResult with Failed) [decision: the target
// decides, since only it knows whether it is open].
//
// A child policy (Cancel or Terminate with a ParentRef) aimed at a run that
// is not the named parent's child returns UnknownResourceFault too: it
// reached a run that merely shares the child's workflowId, and the service
// drops it.
//
// A signal or cancel request is refused as a client's call is when its
// events would not fit in the history (Result.Refused, with the run
// terminated): the service then tells its sender that it failed.
//
// StartChild is not delivered here: the service starts the child with Start.
func (s *State) Deliver(env Env, m Message) (Result, error) {
	switch {
	case m.Signal != nil, m.Cancel != nil, m.Terminate != nil:
		if !s.Open || !s.childOf(m) {
			return Result{}, unknownExecution(s)
		}
	case m.StartChild != nil:
		return Result{}, api.NewFault(api.InternalFailure, "StartChild messages start a run; they are not delivered to one")
	default:
		if !s.Open {
			return Result{}, nil
		}
	}
	// The timers due by now fire first (see catchUp): a request that
	// reaches a run past its timeout is refused, as one that reached it
	// after the timer loop fired would be.
	pre := s.catchUp(env)
	if !s.Open && (m.Signal != nil || m.Cancel != nil || m.Terminate != nil) {
		return s.refuse(pre, unknownExecution(s))
	}
	res, err := s.deliver(env, m)
	if err != nil {
		return s.refuse(pre, err)
	}
	return pre.then(res), nil
}

// deliver is Deliver once the timers due have fired.
func (s *State) deliver(env Env, m Message) (Result, error) {
	if !s.Open {
		return Result{}, nil
	}
	var st *step
	if m.Signal != nil || m.Cancel != nil {
		// The request's event and the decision task it schedules.
		st = newCallStep(s, env, 2)
	} else {
		st = newStep(s, env)
	}
	switch {
	case m.Signal != nil:
		sender := m.Signal.Sender
		st.add(api.HistoryEvent{
			EventType: api.EventTypeWorkflowExecutionSignaled,
			WorkflowExecutionSignaledEventAttributes: &api.WorkflowExecutionSignaledEventAttributes{
				SignalName: m.Signal.SignalName, Input: m.Signal.Input,
				ExternalWorkflowExecution: &sender, ExternalInitiatedEventID: m.Signal.InitiatedID,
			},
		})
		st.scheduleDecision()
	case m.Cancel != nil:
		attrs := &api.WorkflowExecutionCancelRequestedEventAttributes{}
		if m.Cancel.ChildPolicy {
			attrs.Cause = api.WorkflowExecutionCancelRequestedCauseChildPolicyApplied
		} else if m.Cancel.Sender != nil {
			sender := *m.Cancel.Sender
			attrs.ExternalWorkflowExecution = &sender
			attrs.ExternalInitiatedEventID = m.Cancel.InitiatedID
		}
		st.add(api.HistoryEvent{EventType: api.EventTypeWorkflowExecutionCancelRequested, WorkflowExecutionCancelRequestedEventAttributes: attrs})
		s.CancelRequested = true
		st.scheduleDecision()
	case m.Terminate != nil:
		// The child records its own child policy and applies it in turn.
		st.terminate(nil, nil, "", api.WorkflowExecutionTerminatedCauseChildPolicyApplied)
	case m.ChildStarted != nil:
		c := s.Children[m.ChildStarted.InitiatedID]
		if c == nil || c.StartedID != 0 {
			return Result{}, nil
		}
		st.childStarted(c, m.ChildStarted.Child, m.ChildStarted.Type)
		st.scheduleDecision()
	case m.ChildStartFailed != nil:
		c := s.Children[m.ChildStartFailed.InitiatedID]
		if c == nil || c.StartedID != 0 {
			return Result{}, nil
		}
		st.add(api.HistoryEvent{
			EventType: api.EventTypeStartChildWorkflowExecutionFailed,
			StartChildWorkflowExecutionFailedEventAttributes: &api.StartChildWorkflowExecutionFailedEventAttributes{
				Cause: m.ChildStartFailed.Cause, InitiatedEventID: c.InitiatedID, WorkflowID: c.WorkflowID,
				WorkflowType: c.WorkflowType, Control: c.Control, DecisionTaskCompletedEventID: c.DecisionTaskCompletedID,
			},
		})
		delete(s.Children, c.InitiatedID)
		st.scheduleDecision()
	case m.ChildClosed != nil:
		if !st.childClosed(m.ChildClosed) {
			return Result{}, nil
		}
	case m.SignalResult != nil, m.CancelResult != nil:
		r, signal := m.SignalResult, true
		if r == nil {
			r, signal = m.CancelResult, false
		}
		x := s.Externals[r.InitiatedID]
		if x == nil || x.Signal != signal {
			return Result{}, nil
		}
		st.externalResult(x, r)
	default:
		return Result{}, nil
	}
	return st.endCall()
}

// childOf reports whether the run is the child a child policy message names
// (see ParentRef); a message that names none is for whichever run it
// reaches.
func (s *State) childOf(m Message) bool {
	var p *ParentRef
	switch {
	case m.Cancel != nil:
		p = m.Cancel.Parent
	case m.Terminate != nil:
		p = m.Terminate.Parent
	}
	if p == nil {
		return true
	}
	return s.Parent != nil && *s.Parent == p.Run && s.ParentInitiatedEventID == p.InitiatedID
}

func (st *step) childStarted(c *Child, run api.WorkflowExecution, wt api.WorkflowType) {
	if wt.Name == "" {
		wt = c.WorkflowType
	}
	id := st.add(api.HistoryEvent{
		EventType: api.EventTypeChildWorkflowExecutionStarted,
		ChildWorkflowExecutionStartedEventAttributes: &api.ChildWorkflowExecutionStartedEventAttributes{
			WorkflowExecution: run, WorkflowType: wt, InitiatedEventID: c.InitiatedID,
		},
	})
	if id != 0 {
		c.StartedID = id
		c.RunID = run.RunID
		// The control is only for StartChildWorkflowExecutionFailed, which
		// cannot follow a start; no event of a started child carries it.
		// Dropped, it is not stored again with every change of the run.
		c.Control = nil
	}
}

// childClosed records the close of a child. If its start was never
// recorded (the close overtook the start message), ChildWorkflowExecution-
// Started is recorded first so startedEventId always points at it. A
// child closing as CONTINUED_AS_NEW is not an event: the chain goes on and
// its last run reports the final close. Reports whether anything happened.
func (st *step) childClosed(m *ChildClosedMsg) bool {
	s := st.s
	c := s.Children[m.InitiatedID]
	if c == nil || m.CloseStatus == api.CloseStatusContinuedAsNew {
		return false
	}
	if c.StartedID == 0 {
		st.childStarted(c, m.Child, m.Type)
	}
	wt := m.Type
	if wt.Name == "" {
		wt = c.WorkflowType
	}
	ini, started, run := c.InitiatedID, c.StartedID, m.Child
	ev := api.HistoryEvent{}
	switch m.CloseStatus {
	case api.CloseStatusCompleted:
		ev.EventType = api.EventTypeChildWorkflowExecutionCompleted
		ev.ChildWorkflowExecutionCompletedEventAttributes = &api.ChildWorkflowExecutionCompletedEventAttributes{
			WorkflowExecution: run, WorkflowType: wt, Result: m.Result, InitiatedEventID: ini, StartedEventID: started,
		}
	case api.CloseStatusFailed:
		ev.EventType = api.EventTypeChildWorkflowExecutionFailed
		ev.ChildWorkflowExecutionFailedEventAttributes = &api.ChildWorkflowExecutionFailedEventAttributes{
			WorkflowExecution: run, WorkflowType: wt, Reason: m.Reason, Details: m.Details, InitiatedEventID: ini, StartedEventID: started,
		}
	case api.CloseStatusCanceled:
		ev.EventType = api.EventTypeChildWorkflowExecutionCanceled
		ev.ChildWorkflowExecutionCanceledEventAttributes = &api.ChildWorkflowExecutionCanceledEventAttributes{
			WorkflowExecution: run, WorkflowType: wt, Details: m.Details, InitiatedEventID: ini, StartedEventID: started,
		}
	case api.CloseStatusTimedOut:
		tt := m.TimeoutType
		if tt == "" {
			tt = api.WorkflowExecutionTimeoutTypeStartToClose
		}
		ev.EventType = api.EventTypeChildWorkflowExecutionTimedOut
		ev.ChildWorkflowExecutionTimedOutEventAttributes = &api.ChildWorkflowExecutionTimedOutEventAttributes{
			WorkflowExecution: run, WorkflowType: wt, TimeoutType: tt, InitiatedEventID: ini, StartedEventID: started,
		}
	case api.CloseStatusTerminated:
		ev.EventType = api.EventTypeChildWorkflowExecutionTerminated
		ev.ChildWorkflowExecutionTerminatedEventAttributes = &api.ChildWorkflowExecutionTerminatedEventAttributes{
			WorkflowExecution: run, WorkflowType: wt, InitiatedEventID: ini, StartedEventID: started,
		}
	default:
		return len(st.res.Events) > 0
	}
	st.add(ev)
	delete(s.Children, c.InitiatedID)
	st.scheduleDecision()
	return true
}

func (st *step) externalResult(x *External, r *ExternalResultMsg) {
	s := st.s
	var ev api.HistoryEvent
	switch {
	case x.Signal && !r.Failed:
		ev = api.HistoryEvent{
			EventType: api.EventTypeExternalWorkflowExecutionSignaled,
			ExternalWorkflowExecutionSignaledEventAttributes: &api.ExternalWorkflowExecutionSignaledEventAttributes{
				WorkflowExecution: r.Target, InitiatedEventID: x.InitiatedID,
			},
		}
	case x.Signal:
		ev = api.HistoryEvent{
			EventType: api.EventTypeSignalExternalWorkflowExecutionFailed,
			SignalExternalWorkflowExecutionFailedEventAttributes: &api.SignalExternalWorkflowExecutionFailedEventAttributes{
				WorkflowID: x.WorkflowID, RunID: x.RunID, Cause: api.SignalExternalWorkflowExecutionFailedCauseUnknownExternalWorkflowExecution,
				InitiatedEventID: x.InitiatedID, DecisionTaskCompletedEventID: x.DecisionTaskCompletedID, Control: x.Control,
			},
		}
	case !r.Failed:
		ev = api.HistoryEvent{
			EventType: api.EventTypeExternalWorkflowExecutionCancelRequested,
			ExternalWorkflowExecutionCancelRequestedEventAttributes: &api.ExternalWorkflowExecutionCancelRequestedEventAttributes{
				WorkflowExecution: r.Target, InitiatedEventID: x.InitiatedID,
			},
		}
	default:
		ev = api.HistoryEvent{
			EventType: api.EventTypeRequestCancelExternalWorkflowExecutionFailed,
			RequestCancelExternalWorkflowExecutionFailedEventAttributes: &api.RequestCancelExternalWorkflowExecutionFailedEventAttributes{
				WorkflowID: x.WorkflowID, RunID: x.RunID, Cause: api.RequestCancelExternalWorkflowExecutionFailedCauseUnknownExternalWorkflowExecution,
				InitiatedEventID: x.InitiatedID, DecisionTaskCompletedEventID: x.DecisionTaskCompletedID, Control: x.Control,
			},
		}
	}
	st.add(ev)
	delete(s.Externals, x.InitiatedID)
	st.scheduleDecision()
}
