package runs

import (
	"context"
	"errors"

	"github.com/swfd/swfd"
)

// StartAttempts bounds how many times a start of a run tries to commit
// it: after the first, each try follows a FreeWorkflowID that found the
// workflowId free, and so means that another start took it in between, or
// that its run closed too. A start that keeps losing such races is
// answered as one that found its workflowId taken.
const StartAttempts = 5

// FreeWorkflowID makes way for a new run of workflowID in domain, which
// the store refuses (swfd.ErrAlreadyExists) while another run of it is
// open. An open run past its executionStartToCloseTimeout whose timer the
// timer loop has not fired yet must not hold the workflowId: a start that
// comes after the deadline finds it timed out, as it would had the loop
// been on time. So the open run's timers due by now are fired
// (history.State.CatchUp) and, when they closed it, committed as a step of
// the run (Step: under its lock, checked against the stored version, and
// decided again on the state that won a race, so that its timeout is
// recorded once however many starts, calls and timer loops of however
// many nodes reach it at once).
//
// It reports whether the workflowId has no open run now, as far as it
// knows: none was open, the open run closed meanwhile, or its timers
// closed it. The caller then tries its start again, which may still lose
// to another start. It reports false when the open run is not past its
// deadline; then nothing is committed, not even its other timers due
// (the timer loop fires them), so that a start refused changes nothing.
func (s *Store) FreeWorkflowID(ctx context.Context, domain, workflowID string) (free bool, err error) {
	row, err := s.store.OpenRun(ctx, domain, workflowID)
	if errors.Is(err, swfd.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	// Most starts that find their workflowId taken find its run well within
	// its time (a start retried, a singleton workflow): whether its timers
	// would close it is decided on the row just read, without waiting for
	// the run's lock, which a busy run holds while it decides its steps.
	if probe, err := s.decodeRun(ctx, row, noHeartbeats); err == nil && !probe.State.CatchUp(s.Env(ctx)).Closed {
		return false, nil
	}
	unlock := s.Lock(row.RunID)
	defer unlock()
	err = s.Step(ctx, domain, row.RunID, func(r *Run, err error) error {
		free = false
		if errors.Is(err, swfd.ErrNotFound) {
			// Gone since: closed, and purged after its retention.
			free = true
			return nil
		}
		if err != nil {
			return err
		}
		if !r.State.Open || r.Row.WorkflowID != workflowID {
			free = true
			return nil
		}
		res := r.State.CatchUp(s.Env(ctx))
		if !res.Closed {
			return nil
		}
		if err := s.CommitRun(ctx, r, res); err != nil {
			return err
		}
		free = true
		return nil
	})
	return free, err
}

// noHeartbeats stands for a run's heartbeat details where they do not
// matter: whether a run's timers would close it does not depend on them.
func noHeartbeats(context.Context) ([]swfd.Heartbeat, error) { return nil, nil }
