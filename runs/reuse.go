package runs

import (
	"context"
	"errors"
	"fmt"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/history"
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
	return s.timeOutOverdue(ctx, domain, row.RunID, workflowID)
}

// timeOutOverdue fires the due timers of a domain's open run (of
// workflowID, unless that is empty) and commits them when they closed it,
// as a step of the run (see FreeWorkflowID). It reports whether the run is
// no longer open: its timers closed it, or it closed or went meanwhile (or
// is now another workflowId's). When they do not close it, nothing is
// committed.
func (s *Store) timeOutOverdue(ctx context.Context, domain, runID, workflowID string) (free bool, err error) {
	unlock := s.Lock(runID)
	defer unlock()
	err = s.Step(ctx, domain, runID, func(r *Run, err error) error {
		free = false
		if errors.Is(err, swfd.ErrNotFound) {
			// Gone since: closed, and purged after its retention.
			free = true
			return nil
		}
		if err != nil {
			return err
		}
		if !r.State.Open || workflowID != "" && r.Row.WorkflowID != workflowID {
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

// MaxTimeOutOverdue bounds how many overdue runs one start times out to
// make room under its domain's limit of open executions (TimeOutOverdue).
const MaxTimeOutOverdue = 100

// maxOverdueFailures is how many overdue runs TimeOutOverdue tries and
// fails to time out before it gives up on the rest: with the store down,
// every one would fail.
const maxOverdueFailures = 3

// TimeOutOverdue makes room in a domain at its limit of open executions:
// an open run past its executionStartToCloseTimeout whose timeout the timer
// loop has not fired yet would not have been counted had the loop been on
// time. Up to n such runs (at most MaxTimeOutOverdue), the earliest due
// first, are timed out as FreeWorkflowID times out the run of a workflowId,
// each as a step of its run. It returns how many of them are no longer
// open.
//
// A run that cannot be timed out (a store error, a state that cannot be
// read) does not keep the others open: the next one due takes its place,
// and the failures are returned (joined, each naming its run) with the
// count of those that are no longer open. The caller decides what they
// mean: a start that has room all the same goes ahead, one that does not
// fails with them, for its domain may well have had room had the timer
// loop been on time. After maxOverdueFailures failures the rest are left.
func (s *Store) TimeOutOverdue(ctx context.Context, domain string, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	n = min(n, MaxTimeOutOverdue)
	// A few more than n are read, to take the place of those that fail.
	due, err := s.store.DueRunTimers(ctx, domain, history.WorkflowTimerKey, s.Now(), n+maxOverdueFailures)
	if err != nil {
		return 0, fmt.Errorf("overdue runs of domain %s: %w", domain, err)
	}
	freed := 0
	var failed []error
	for _, t := range due {
		if freed >= n || len(failed) >= maxOverdueFailures {
			break
		}
		free, err := s.timeOutOverdue(ctx, domain, t.RunID, "")
		if err != nil {
			failed = append(failed, fmt.Errorf("timing out overdue run %s of domain %s: %w", t.RunID, domain, err))
			continue
		}
		if free {
			freed++
		}
	}
	return freed, errors.Join(failed...)
}

// noHeartbeats stands for a run's heartbeat details where they do not
// matter: whether a run's timers would close it does not depend on them.
func noHeartbeats(context.Context) ([]swfd.Heartbeat, error) { return nil, nil }
