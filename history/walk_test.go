package history

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// TestRandomWalksConform drives runs through random sequences of every
// command a run takes — decision tasks with random batches, workers'
// answers and heartbeats, signals, cancel requests, the answers of other
// runs, Lambda functions, and the clock moving past timeouts — and the
// harness checks after every step that the history conforms
// (checkConformance): references, one end per task, the decision task
// protocol, and that no event asking for a decision task goes unseen.
// The seeds are fixed, so a failure is reproduced by its seed.
func TestRandomWalksConform(t *testing.T) {
	for seed := range uint64(400) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := &walk{rng: rand.New(rand.NewPCG(seed, 7))}
			w.h = newHarness(t)
			if seed%4 == 3 {
				// Runs that reach the history's limit.
				w.h.env.Limits.MaxEvents = 40
			}
			w.h.env.Lambda = true
			w.h.env.Limits.MaxOpenActivities = 3
			w.h.env.Limits.MaxOpenTimers = 3
			p := rootParams()
			p.Config.LambdaRole = "arn:aws:iam::123456789012:role/r"
			p.Config.TaskStartToCloseTimeout = "20"
			if seed%3 == 1 {
				// A child, which tells its parent when it closes.
				p.Parent, p.ParentInitiatedEventID = &api.WorkflowExecution{WorkflowID: "pw", RunID: "pr"}, 5
				p.Config.ChildPolicy = api.ChildPolicy(w.oneOf(string(api.ChildPolicyTerminate), string(api.ChildPolicyRequestCancel), string(api.ChildPolicyAbandon)))
			}
			w.h.start(p)
			for step := 0; step < 60 && w.h.s.Open; step++ {
				w.step()
			}
		})
	}
}

type walk struct {
	rng *rand.Rand
	h   *harness
}

func (w *walk) pick(n int) int { return w.rng.IntN(n) }

func (w *walk) oneOf(list ...string) string { return list[w.pick(len(list))] }

// decision is a random decision, rarely a closing one.
func (w *walk) decision() api.Decision {
	act := func() string { return w.oneOf("a", "b", "c") }
	switch w.pick(13) {
	case 0, 1:
		return schedActOf(act(), w.oneOf("act", "act", "act", "none", "bare", "dep", "nope"), func(a *api.ScheduleActivityTaskDecisionAttributes) {
			if w.pick(3) == 0 {
				a.ScheduleToStartTimeout = w.oneOf("5", "NONE")
				a.HeartbeatTimeout = w.oneOf("5", "NONE")
			}
		})
	case 2:
		return cancelAct(act())
	case 3:
		return startTimer(w.oneOf("t", "u"), w.oneOf("0", "5", "30"))
	case 4:
		return cancelTimer(w.oneOf("t", "u"))
	case 5:
		return marker("m", "")
	case 6:
		return signalExt(w.oneOf("other", "w1"), "", "s")
	case 7:
		return cancelExt(w.oneOf("other", "gone"), "")
	case 8:
		return startChild(w.oneOf("c1", "c2"), w.oneOf("child", "child", "nope", "wfdep"), nil)
	case 9:
		return lambda(w.oneOf("l1", "l2"))
	default:
		return marker("n", "")
	}
}

func (w *walk) closing() api.Decision {
	switch w.pick(4) {
	case 0:
		return completeWF("done")
	case 1:
		return failWF("r", "d")
	case 2:
		return cancelWF("d")
	default:
		return continueAsNew(nil)
	}
}

func (w *walk) step() {
	h, s := w.h, w.h.s
	switch w.pick(12) {
	case 0, 1, 2: // the decider
		if s.Decision.StartedID != 0 {
			var ds []api.Decision
			for range w.pick(4) {
				ds = append(ds, w.decision())
			}
			if w.pick(8) == 0 {
				ds = append(ds, w.closing())
			}
			in := &api.RespondDecisionTaskCompletedInput{Decisions: ds}
			if w.pick(6) == 0 {
				// A task-list override, temporary half the time.
				in.TaskList = &api.TaskList{Name: w.oneOf("deciders", "other")}
				in.TaskListScheduleToStartTimeout = w.oneOf("", "10", "NONE")
			}
			started := s.Decision.StartedID
			h.must(func(s *State) (Result, error) { return s.CompleteDecisionTask(h.env, started, in) })
		} else if s.Decision.ScheduledID != 0 {
			h.pollDecision()
		}
	case 3, 4: // a worker
		ids := sortedKeys(s.Activities)
		if len(ids) == 0 {
			return
		}
		a := s.Activities[ids[w.pick(len(ids))]]
		if a.StartedID == 0 {
			// (h.startActivity expects the task to start: here a timeout
			// due before the call may end it first.)
			h.must(func(s *State) (Result, error) { return s.StartActivityTask(h.env, a.ScheduledID, api.String("w")) })
			return
		}
		switch w.pick(4) {
		case 0:
			h.must(func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, a.ScheduledID, a.StartedID, nil) })
		case 1:
			h.must(func(s *State) (Result, error) { return s.FailActivityTask(h.env, a.ScheduledID, a.StartedID, nil, nil) })
		case 2:
			h.must(func(s *State) (Result, error) { return s.CancelActivityTask(h.env, a.ScheduledID, a.StartedID, nil) })
		default:
			h.must(func(s *State) (Result, error) {
				_, r, err := s.RecordHeartbeat(h.env, a.ScheduledID, a.StartedID, api.String("hb"))
				return r, err
			})
		}
	case 5: // a client, or another run
		sender := api.WorkflowExecution{WorkflowID: "other", RunID: "or"}
		switch w.pick(12) {
		case 0, 1:
			h.must(func(s *State) (Result, error) { return s.RequestCancel(h.env) })
		case 2:
			h.deliver(Message{Cancel: &CancelMsg{Sender: &sender, InitiatedID: 9}})
		case 3:
			h.deliver(Message{Signal: &SignalMsg{Sender: sender, InitiatedID: 8, SignalName: "x"}})
		case 4:
			switch {
			case s.Parent != nil && w.pick(3) == 0:
				// The parent's child policy.
				ref := &ParentRef{Run: *s.Parent, InitiatedID: s.ParentInitiatedEventID}
				if w.pick(2) == 0 {
					h.deliver(Message{Terminate: &TerminateMsg{Parent: ref}})
				} else {
					h.deliver(Message{Cancel: &CancelMsg{ChildPolicy: true, Parent: ref}})
				}
			case w.pick(4) == 0:
				h.must(func(s *State) (Result, error) { return s.Terminate(h.env, nil, nil, "", "") })
			}
		default:
			h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", nil) })
		}
	case 6, 7: // the other runs answer
		w.answer()
	case 8: // Lambda
		ids := sortedKeys(s.Lambdas)
		if len(ids) == 0 {
			return
		}
		l := s.Lambdas[ids[w.pick(len(ids))]]
		switch {
		case l.StartedID == 0 && w.pick(4) == 0:
			h.must(func(s *State) (Result, error) { return s.StartLambdaFunctionFailed(h.env, l.ScheduledID, "no") })
		case l.StartedID == 0:
			h.startLambda(l.ScheduledID)
		case w.pick(2) == 0:
			h.must(func(s *State) (Result, error) {
				return s.CompleteLambdaFunction(h.env, l.ScheduledID, l.StartedID, nil)
			})
		default:
			h.must(func(s *State) (Result, error) {
				return s.FailLambdaFunction(h.env, l.ScheduledID, l.StartedID, nil, nil)
			})
		}
	default: // time passes, and the timers due fire, or are late
		h.advance(time.Duration(1+w.pick(30)) * time.Second)
		if w.pick(3) == 0 {
			// The timer loop is late: the next call catches up.
			return
		}
		for _, o := range s.dueBy(h.env.Now) {
			if h.s.Open {
				h.fire(o.key)
			}
		}
	}
}

// answer delivers what another run would send back: a child's start, its
// start's failure or its close, or the answer to a signal or cancel request.
func (w *walk) answer() {
	h, s := w.h, w.h.s
	if ids := sortedKeys(s.Children); len(ids) > 0 && w.pick(2) == 0 {
		c := s.Children[ids[w.pick(len(ids))]]
		run := api.WorkflowExecution{WorkflowID: c.WorkflowID, RunID: "r-" + c.WorkflowID}
		switch {
		case c.StartedID == 0 && w.pick(3) == 0:
			h.deliver(Message{ChildStartFailed: &ChildStartFailedMsg{InitiatedID: c.InitiatedID, Cause: api.StartChildWorkflowExecutionFailedCauseWorkflowAlreadyRunning}})
		case c.StartedID == 0 && w.pick(2) == 0:
			h.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: c.InitiatedID, Child: run, Type: c.WorkflowType}})
		default:
			status := []api.CloseStatus{api.CloseStatusCompleted, api.CloseStatusFailed, api.CloseStatusCanceled, api.CloseStatusTimedOut, api.CloseStatusTerminated}[w.pick(5)]
			h.deliver(Message{ChildClosed: &ChildClosedMsg{InitiatedID: c.InitiatedID, Child: run, Type: c.WorkflowType, CloseStatus: status}})
		}
		return
	}
	ids := sortedKeys(s.Externals)
	if len(ids) == 0 {
		return
	}
	x := s.Externals[ids[w.pick(len(ids))]]
	r := &ExternalResultMsg{InitiatedID: x.InitiatedID, Target: api.WorkflowExecution{WorkflowID: x.WorkflowID, RunID: "r-" + x.WorkflowID}, Failed: w.pick(2) == 0}
	if x.Signal {
		h.deliver(Message{SignalResult: r})
	} else {
		h.deliver(Message{CancelResult: r})
	}
}

func sortedKeys[K int64 | string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
