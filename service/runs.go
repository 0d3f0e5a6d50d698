package service

import (
	"context"
	"errors"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
	"github.com/swfd/swfd/internal/token"
	"github.com/swfd/swfd/runs"
)

func unknownExecution(workflowID, runID string) *api.Fault {
	if runID == "" {
		return api.ErrUnknownResource("Unknown execution, workflowId = %s", workflowID)
	}
	return api.ErrUnknownResource("Unknown execution: WorkflowExecution=[workflowId=%s, runId=%s]", workflowID, runID)
}

// withOpenRun resolves (workflowId, runId) — runId empty meaning the open
// run of the workflowId — takes the run's lock, loads it, and calls fn.
// Unknown, mismatched or closed runs are UnknownResourceFault.
//
// Without a runId the call is for whichever run of the workflowId is open
// when it is applied. The run found open may close before the call has its
// lock (it continues as new, above all, in a decider's call that holds the
// lock meanwhile); the workflowId is then looked up again, and the call
// goes to its open run, if it has one now. A run that has closed never
// opens again, so each lookup that finds another run finds a newer one.
func (s *Service) withOpenRun(ctx context.Context, domain, workflowID, runID string, fn func(r *runs.Run) error) error {
	if _, err := s.Domain(ctx, domain); err != nil {
		return err
	}
	if runID != "" {
		return s.withRun(ctx, domain, workflowID, runID, runID, fn)
	}
	closed := ""
	for {
		row, err := s.store.OpenRun(ctx, domain, workflowID)
		if errors.Is(err, swfd.ErrNotFound) || err == nil && row.RunID == closed {
			return unknownExecution(workflowID, runID)
		}
		if err != nil {
			return err
		}
		err = s.withRun(ctx, domain, workflowID, row.RunID, runID, fn)
		if !errors.Is(err, errRunClosed) {
			return err
		}
		closed = row.RunID
	}
}

// errRunClosed is withRun's answer for a closed run named by its
// workflowId alone; withOpenRun looks for the workflow's open run again,
// and never returns it.
var errRunClosed = errors.New("the run closed")

// withRun is withOpenRun on run id, named runID (empty: by its workflowId
// alone) by the caller: a run of another workflowId, or none, is
// UnknownResourceFault; a closed one errRunClosed when named by its
// workflowId alone.
func (s *Service) withRun(ctx context.Context, domain, workflowID, id, runID string, fn func(r *runs.Run) error) error {
	unlock := s.runs.Lock(id)
	defer unlock()
	return s.runs.Step(ctx, domain, id, func(r *runs.Run, err error) error {
		if errors.Is(err, swfd.ErrNotFound) || (err == nil && r.Row.WorkflowID != workflowID) {
			return unknownExecution(workflowID, runID)
		}
		if err != nil {
			return err
		}
		if !r.State.Open {
			if runID == "" {
				return errRunClosed
			}
			return unknownExecution(workflowID, runID)
		}
		return fn(r)
	})
}

// withTask locks and loads the run a task token names. A token whose run
// has closed is UnknownResourceFault naming the execution ("Unknown
// execution: WorkflowExecution=[workflowId=W, runId=R]"), as the real
// service answers; client libraries match that text to learn that the task
// is gone (sclasen/swfsm treats "Unknown execution" that way). A run no
// longer stored (purged after its retention) cannot be named and is
// "Unknown task token". The engine rejects tokens of finished tasks of an
// open run ("Unknown activity, scheduledEventId = N").
//
// A token that leaves its domain out (ref.Domain "") is resolved by this
// load, which finds the run by its id alone and then checks its domain:
// the run is read once, not once to tell its domain and again to act.
// fn takes the domain from r.Row.Domain.
func (s *Service) withTask(ctx context.Context, ref token.Task, fn func(r *runs.Run) error) error {
	unlock := s.runs.Lock(ref.RunID)
	defer unlock()
	return s.runs.Step(ctx, ref.Domain, ref.RunID, func(r *runs.Run, err error) error {
		if errors.Is(err, swfd.ErrNotFound) || err == nil && !ref.InDomain(r.Row.Domain) {
			return token.ErrBadTask
		}
		if err == nil && !r.State.Open {
			return unknownExecution(r.Row.WorkflowID, ref.RunID)
		}
		if err != nil {
			return err
		}
		return fn(r)
	})
}

// commitCall commits the step of a call on a run and answers it. A call
// the engine refused because its events would not fit in the history
// (history.Result.Refused) has terminated the run instead: that
// termination is committed, and then the call is answered with the
// refusal, so that no caller is told its work was done when it was not
// recorded.
func (s *Service) commitCall(ctx context.Context, r *runs.Run, res history.Result) error {
	if err := s.runs.CommitRun(ctx, r, res); err != nil {
		return err
	}
	if res.Refused != nil {
		return res.Refused
	}
	return nil
}
