package history

import (
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// startLambdaRun starts a run that may use Lambda: the server has an
// endpoint and the run has a role.
func startLambdaRun(t *testing.T) *harness {
	h := newHarness(t)
	h.env.Lambda = true
	p := rootParams()
	p.Config.LambdaRole = "arn:aws:iam::123456789012:role/swf-lambda"
	h.start(p)
	return h
}

func lambdaWith(id string, mod func(*api.ScheduleLambdaFunctionDecisionAttributes)) api.Decision {
	d := lambda(id)
	d.ScheduleLambdaFunctionDecisionAttributes.Input = api.String(`{"n":1}`)
	d.ScheduleLambdaFunctionDecisionAttributes.Control = api.String("ctl")
	if mod != nil {
		mod(d.ScheduleLambdaFunctionDecisionAttributes)
	}
	return d
}

func (h *harness) startLambda(sched int64) Result {
	h.t.Helper()
	return h.must(func(s *State) (Result, error) { return s.StartLambdaFunction(h.env, sched) })
}

func TestLambdaCompletes(t *testing.T) {
	h := startLambdaRun(t)
	res := h.pollAndDecide(lambdaWith("l1", nil))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:LambdaFunctionScheduled")
	want := api.LambdaFunctionScheduledEventAttributes{ID: "l1", Name: "fn", Input: api.String(`{"n":1}`), Control: api.String("ctl"), StartToCloseTimeout: "900", DecisionTaskCompletedEventID: 4}
	if a := h.event(5).LambdaFunctionScheduledEventAttributes; !equalJSON(*a, want) {
		t.Fatalf("scheduled %+v", a)
	}
	if len(res.AddTasks) != 1 || res.AddTasks[0] != (swfd.Task{Kind: swfd.LambdaTask, Domain: "d", RunID: "r1", ScheduledEventID: 5, Scheduled: t0}) {
		t.Fatalf("tasks %+v", res.AddTasks)
	}
	if len(res.AddTimers) != 0 || h.s.Decision.ScheduledID != 0 {
		t.Fatalf("a scheduled Lambda task has no timer and wakes no decider: %+v", res)
	}
	if oc := h.s.OpenCounts(); oc.OpenLambdaFunctions != 1 {
		t.Fatalf("open counts %+v", oc)
	}

	h.advance(2 * time.Second)
	res = h.startLambda(5)
	h.expectEvents(res, "6:LambdaFunctionStarted")
	if a := h.event(6).LambdaFunctionStartedEventAttributes; a.ScheduledEventID != 5 {
		t.Fatalf("started %+v", a)
	}
	if len(res.DoneTasks) != 1 || res.DoneTasks[0] != 5 {
		t.Fatalf("the start takes the task off the store: %+v", res.DoneTasks)
	}
	if tm, ok := hasTimer(res, LambdaTimerKey(5)); !ok || !tm.Due.Equal(t0.Add(902*time.Second)) {
		t.Fatalf("timer %+v", res.AddTimers)
	}
	// Started once only.
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.StartLambdaFunction(h.env, 5) })
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.StartLambdaFunctionFailed(h.env, 5, "late") })
	// Only the started task answers.
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.CompleteLambdaFunction(h.env, 5, 7, nil) })

	res = h.must(func(s *State) (Result, error) { return s.CompleteLambdaFunction(h.env, 5, 6, api.String(`"done"`)) })
	h.expectEvents(res, "7:LambdaFunctionCompleted 8:DecisionTaskScheduled")
	if a := h.event(7).LambdaFunctionCompletedEventAttributes; !equalJSON(*a, api.LambdaFunctionCompletedEventAttributes{ScheduledEventID: 5, StartedEventID: 6, Result: api.String(`"done"`)}) {
		t.Fatalf("completed %+v", a)
	}
	if !hasString(res.DeleteTimers, LambdaTimerKey(5)) || h.s.OpenCounts().OpenLambdaFunctions != 0 {
		t.Fatalf("not cleaned up: %+v", res)
	}
	// A late timer does nothing; a second answer is refused.
	if res := h.fire(LambdaTimerKey(5)); !isEmpty(res) {
		t.Fatal("stale timer fired")
	}
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) {
		return s.FailLambdaFunction(h.env, 5, 6, api.String("x"), nil)
	})
	// The id may be used again once the task has closed.
	res = h.pollAndDecide(lambdaWith("l1", func(a *api.ScheduleLambdaFunctionDecisionAttributes) { a.StartToCloseTimeout = "1" }))
	h.expectEvents(res, "10:DecisionTaskCompleted 11:LambdaFunctionScheduled")
	if h.event(11).LambdaFunctionScheduledEventAttributes.StartToCloseTimeout != "1" {
		t.Fatal("timeout given")
	}
}

func TestLambdaFailsAndTimesOut(t *testing.T) {
	h := startLambdaRun(t)
	h.pollAndDecide(lambdaWith("f", nil), lambdaWith("slow", func(a *api.ScheduleLambdaFunctionDecisionAttributes) { a.StartToCloseTimeout = "30" }))
	h.startLambda(5)
	h.startLambda(6)
	res := h.must(func(s *State) (Result, error) {
		return s.FailLambdaFunction(h.env, 5, 7, api.String("Error"), api.String(`{"errorMessage":"boom"}`))
	})
	h.expectEvents(res, "9:LambdaFunctionFailed 10:DecisionTaskScheduled")
	if a := h.event(9).LambdaFunctionFailedEventAttributes; !equalJSON(*a, api.LambdaFunctionFailedEventAttributes{ScheduledEventID: 5, StartedEventID: 7, Reason: api.String("Error"), Details: api.String(`{"errorMessage":"boom"}`)}) {
		t.Fatalf("failed %+v", a)
	}
	h.advance(30 * time.Second)
	res = h.fire(LambdaTimerKey(6))
	h.expectEvents(res, "11:LambdaFunctionTimedOut")
	if a := h.event(11).LambdaFunctionTimedOutEventAttributes; !equalJSON(*a, api.LambdaFunctionTimedOutEventAttributes{ScheduledEventID: 6, StartedEventID: 8, TimeoutType: api.LambdaFunctionTimeoutTypeStartToClose}) {
		t.Fatalf("timed out %+v", a)
	}
	// The timeout won: the function's late answer is dropped.
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.CompleteLambdaFunction(h.env, 6, 8, api.String("late")) })
	if h.s.OpenCounts().OpenLambdaFunctions != 0 {
		t.Fatal("open")
	}
}

func TestLambdaStartFails(t *testing.T) {
	h := startLambdaRun(t)
	h.pollAndDecide(lambdaWith("l", nil))
	// A scheduled task has no timer to fire.
	if res := h.fire(LambdaTimerKey(5)); !isEmpty(res) {
		t.Fatal("timer of an unstarted task fired")
	}
	msg := strings.Repeat("é", 1000) // 2,000 bytes
	res := h.must(func(s *State) (Result, error) { return s.StartLambdaFunctionFailed(h.env, 5, msg) })
	h.expectEvents(res, "6:StartLambdaFunctionFailed 7:DecisionTaskScheduled")
	a := h.event(6).StartLambdaFunctionFailedEventAttributes
	if a.ScheduledEventID != 5 || a.Cause != api.StartLambdaFunctionFailedCauseAssumeRoleFailed || len(a.Message) != 1728 || !strings.HasPrefix(msg, a.Message) {
		t.Fatalf("start failed %+v", a)
	}
	if len(res.DoneTasks) != 1 || res.DoneTasks[0] != 5 || h.s.OpenCounts().OpenLambdaFunctions != 0 {
		t.Fatalf("task left: %+v", res)
	}
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.StartLambdaFunction(h.env, 5) })
}

func TestScheduleLambdaFailures(t *testing.T) {
	cause := func(h *harness, id int64) api.ScheduleLambdaFunctionFailedCause {
		return h.event(id).ScheduleLambdaFunctionFailedEventAttributes.Cause
	}
	h := startLambdaRun(t)
	h.env.Limits.MaxOpenLambdas = 2
	res := h.pollAndDecide(lambdaWith("a", nil), lambdaWith("a", nil), lambdaWith("b", nil), lambdaWith("c", nil))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:LambdaFunctionScheduled 6:ScheduleLambdaFunctionFailed 7:LambdaFunctionScheduled 8:ScheduleLambdaFunctionFailed 9:DecisionTaskScheduled")
	if c := cause(h, 6); c != api.ScheduleLambdaFunctionFailedCauseIdAlreadyInUse {
		t.Fatal(c)
	}
	if c := cause(h, 8); c != api.ScheduleLambdaFunctionFailedCauseOpenLambdaFunctionsLimitExceeded {
		t.Fatal(c)
	}
	if a := h.event(8).ScheduleLambdaFunctionFailedEventAttributes; !equalJSON(*a, api.ScheduleLambdaFunctionFailedEventAttributes{ID: "c", Name: "fn", Cause: api.ScheduleLambdaFunctionFailedCauseOpenLambdaFunctionsLimitExceeded, DecisionTaskCompletedEventID: 4}) {
		t.Fatalf("%+v", a)
	}
	// A started task still holds its id.
	h.startLambda(5)
	res = h.pollAndDecide(lambdaWith("a", nil))
	if c := cause(h, res.Events[1].EventID); c != api.ScheduleLambdaFunctionFailedCauseIdAlreadyInUse {
		t.Fatal(c)
	}

	// No Lambda role on the execution.
	g := newHarness(t)
	g.env.Lambda = true
	g.start(rootParams())
	res = g.pollAndDecide(lambdaWith("a", nil))
	g.expectEvents(res, "4:DecisionTaskCompleted 5:ScheduleLambdaFunctionFailed 6:DecisionTaskScheduled")
	if c := cause(g, 5); c != api.ScheduleLambdaFunctionFailedCauseLambdaServiceNotAvailableInRegion || len(res.AddTasks) != 1 || res.AddTasks[0].Kind != swfd.DecisionTask {
		t.Fatalf("%s %+v", c, res.AddTasks)
	}
}

// Closing the run forgets its Lambda tasks: the store drops their tasks
// and timers with the run, and late answers are refused.
func TestLambdaRunCloses(t *testing.T) {
	h := startLambdaRun(t)
	h.pollAndDecide(lambdaWith("a", nil), lambdaWith("b", nil))
	h.startLambda(5)
	h.must(func(s *State) (Result, error) { return s.Signal(h.env, "wake", nil) })
	res := h.pollAndDecide(completeWF("r"))
	if !res.Closed || len(h.s.Lambdas) != 0 || h.s.OpenCounts().OpenLambdaFunctions != 0 {
		t.Fatalf("closed %+v %+v", res, h.s.Lambdas)
	}
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.StartLambdaFunction(h.env, 6) })
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.CompleteLambdaFunction(h.env, 5, 7, nil) })
	if res := h.fire(LambdaTimerKey(5)); !isEmpty(res) {
		t.Fatal("timer on a closed run")
	}
}

func TestLambdaTimeoutValidation(t *testing.T) {
	for _, c := range []struct {
		val string
		ok  bool
	}{{"1", true}, {"900", true}, {"0", false}, {"901", false}, {"NONE", false}, {"x", false}} {
		h := startLambdaRun(t)
		started := h.pollDecision()
		_, err := h.try(func(s *State) (Result, error) {
			return s.CompleteDecisionTask(h.env, started, &api.RespondDecisionTaskCompletedInput{Decisions: []api.Decision{
				lambdaWith("a", func(a *api.ScheduleLambdaFunctionDecisionAttributes) { a.StartToCloseTimeout = c.val }),
			}})
		})
		if c.ok != (err == nil) {
			t.Fatalf("%q: %v", c.val, err)
		}
		if err != nil && (faultCode(err) != api.ValidationException || !strings.Contains(err.Error(), "scheduleLambdaFunctionDecisionAttributes.startToCloseTimeout")) {
			t.Fatalf("%q: %v", c.val, err)
		}
	}
}

func TestLambdaTimerKey(t *testing.T) {
	if LambdaTimerKey(12) != "lf:12:S2C" {
		t.Fatal(LambdaTimerKey(12))
	}
	h := startLambdaRun(t)
	for _, k := range []string{"lf:", "lf:x:S2C", "lf:5:ZZ", "lf:99:S2C"} {
		if res := h.fire(k); !isEmpty(res) {
			t.Fatalf("key %q did something", k)
		}
	}
}

// A function's outcome that comes at or after its START_TO_CLOSE deadline,
// before the timer loop fired that timer, finds the task timed out, as an
// activity worker's late answer does: the timeout is recorded and the
// outcome refused. It used to be recorded as the function's completion or
// failure, so the outcome depended on how late the timer loop ran.
func TestLateLambdaOutcomesTimeOut(t *testing.T) {
	outcomes := map[string]func(h *harness, s *State) (Result, error){
		"completed": func(h *harness, s *State) (Result, error) {
			return s.CompleteLambdaFunction(h.env, 5, 6, api.String(`"late"`))
		},
		"failed": func(h *harness, s *State) (Result, error) {
			return s.FailLambdaFunction(h.env, 5, 6, api.String("Error"), nil)
		},
	}
	for name, outcome := range outcomes {
		t.Run(name, func(t *testing.T) {
			h := startLambdaRun(t)
			h.pollAndDecide(lambdaWith("l1", func(a *api.ScheduleLambdaFunctionDecisionAttributes) { a.StartToCloseTimeout = "30" }))
			h.startLambda(5)
			h.advance(30 * time.Second) // the deadline; the timer has not fired
			res := h.must(func(s *State) (Result, error) { return outcome(h, s) })
			h.refused(res, "7:LambdaFunctionTimedOut 8:DecisionTaskScheduled")
			if !hasString(res.DeleteTimers, LambdaTimerKey(5)) || h.s.OpenCounts().OpenLambdaFunctions != 0 {
				t.Fatalf("timer or task kept: %+v", res)
			}
		})
	}
	// Short of the deadline the outcome is taken.
	h := startLambdaRun(t)
	h.pollAndDecide(lambdaWith("l1", func(a *api.ScheduleLambdaFunctionDecisionAttributes) { a.StartToCloseTimeout = "30" }))
	h.startLambda(5)
	h.advance(30*time.Second - time.Millisecond)
	res := h.must(func(s *State) (Result, error) { return s.CompleteLambdaFunction(h.env, 5, 6, api.String(`"done"`)) })
	h.expectEvents(res, "7:LambdaFunctionCompleted 8:DecisionTaskScheduled")
	if res.Refused != nil {
		t.Fatal(res.Refused)
	}
}

// A function that would start after its run's executionStartToCloseTimeout
// finds the run timed out: the timeout is recorded, and neither
// LambdaFunctionStarted (so the function is not invoked) nor
// StartLambdaFunctionFailed. Both used to be recorded in a run past its
// deadline, the function invoked.
func TestLateLambdaStartFindsRunTimedOut(t *testing.T) {
	starts := map[string]func(h *harness, s *State) (Result, error){
		"started": func(h *harness, s *State) (Result, error) { return s.StartLambdaFunction(h.env, 5) },
		"failed":  func(h *harness, s *State) (Result, error) { return s.StartLambdaFunctionFailed(h.env, 5, "refused") },
	}
	for name, start := range starts {
		t.Run(name, func(t *testing.T) {
			h := startLambdaRun(t)
			h.pollAndDecide(lambdaWith("l1", nil))
			h.advance(time.Hour) // the run's timeout (3600 s)
			res := h.must(func(s *State) (Result, error) { return start(h, s) })
			h.refused(res, "6:WorkflowExecutionTimedOut")
			if h.s.Open || !res.Closed {
				t.Fatal("the run is still open")
			}
		})
	}
}
