package history

import (
	"errors"
	"testing"

	"github.com/swfd/swfd"

	"github.com/swfd/swfd/api"
)

// rateOf is an Env.RateLimit that allows each decision type `left` times
// (per task list for activities) and records what it was asked.
type rateOf struct {
	left  map[string]int
	asked []string
}

func (r *rateOf) limit(d api.DecisionType, taskList string) bool {
	key := string(d)
	if taskList != "" {
		key += "/" + taskList
	}
	r.asked = append(r.asked, key)
	n, limited := r.left[key]
	if !limited {
		return true
	}
	if n == 0 {
		return false
	}
	r.left[key] = n - 1
	return true
}

// Each rate-limited decision past its rate fails with its *_RATE_EXCEEDED
// cause and schedules a decision task; the decisions allowed take effect.
func TestRateExceededCauses(t *testing.T) {
	h := startDefault(t)
	r := &rateOf{left: map[string]int{
		"ScheduleActivityTask/acts":              1,
		"StartTimer":                             1,
		"StartChildWorkflowExecution":            0,
		"SignalExternalWorkflowExecution":        0,
		"RequestCancelExternalWorkflowExecution": 0,
	}}
	h.env.RateLimit = r.limit
	res := h.pollAndDecide(
		schedAct("a1"), schedAct("a2"),
		startTimer("t1", "10"), startTimer("t2", "10"),
		startChild("c1", "child", nil),
		signalExt("w9", "", "sig"),
		cancelExt("w9", ""),
	)
	h.expectEvents(res, "4:DecisionTaskCompleted 5:ActivityTaskScheduled 6:ScheduleActivityTaskFailed 7:TimerStarted 8:StartTimerFailed "+
		"9:StartChildWorkflowExecutionFailed 10:SignalExternalWorkflowExecutionFailed 11:RequestCancelExternalWorkflowExecutionFailed 12:DecisionTaskScheduled")
	if a := h.event(6).ScheduleActivityTaskFailedEventAttributes; a.Cause != api.ScheduleActivityTaskFailedCauseActivityCreationRateExceeded || a.ActivityID != "a2" {
		t.Fatalf("activity: %+v", a)
	}
	if a := h.event(8).StartTimerFailedEventAttributes; a.Cause != api.StartTimerFailedCauseTimerCreationRateExceeded || a.TimerID != "t2" {
		t.Fatalf("timer: %+v", a)
	}
	if a := h.event(9).StartChildWorkflowExecutionFailedEventAttributes; a.Cause != api.StartChildWorkflowExecutionFailedCauseChildCreationRateExceeded || a.InitiatedEventID != 0 || a.WorkflowID != "c1" {
		t.Fatalf("child: %+v", a)
	}
	if a := h.event(10).SignalExternalWorkflowExecutionFailedEventAttributes; a.Cause != api.SignalExternalWorkflowExecutionFailedCauseSignalExternalWorkflowExecutionRateExceeded || a.InitiatedEventID != 0 || a.WorkflowID != "w9" || a.DecisionTaskCompletedEventID != 4 {
		t.Fatalf("signal: %+v", a)
	}
	if a := h.event(11).RequestCancelExternalWorkflowExecutionFailedEventAttributes; a.Cause != api.RequestCancelExternalWorkflowExecutionFailedCauseRequestCancelExternalWorkflowExecutionRateExceeded || a.InitiatedEventID != 0 {
		t.Fatalf("cancel: %+v", a)
	}
	acts := 0
	for _, tk := range res.AddTasks {
		if tk.Kind == swfd.ActivityTask {
			acts++
		}
	}
	if acts != 1 || len(res.Messages) != 0 || len(h.s.Timers) != 1 || len(h.s.Activities) != 1 {
		t.Fatalf("throttled decisions had effects: tasks %d, messages %d, timers %d, activities %d", acts, len(res.Messages), len(h.s.Timers), len(h.s.Activities))
	}

	// ContinueAsNew's rate: the run stays open.
	r.left["ContinueAsNewWorkflowExecution"] = 0
	res = h.pollAndDecide(continueAsNew(nil))
	if a := h.last(); a.EventType != api.EventTypeDecisionTaskScheduled || !h.s.Open {
		t.Fatalf("continue-as-new past its rate: %s, open %v", evTypes(res.Events), h.s.Open)
	}
	if c := h.event(int64(len(h.hist) - 1)).ContinueAsNewWorkflowExecutionFailedEventAttributes; c == nil || c.Cause != api.ContinueAsNewWorkflowExecutionFailedCauseContinueAsNewWorkflowExecutionRateExceeded {
		t.Fatalf("continue-as-new: %s", evTypes(res.Events))
	}
}

// Only a decision that passed every other check is asked about: one that
// fails for another reason takes nothing from a rate, and the activity's
// resolved task list (its type's default here) is the one asked about.
func TestRateAskedOnlyForDecisionsThatWouldTakeEffect(t *testing.T) {
	h := startDefault(t)
	r := &rateOf{left: map[string]int{}}
	h.env.RateLimit = r.limit
	h.pollAndDecide(
		schedActOf("x1", "missing", nil), // ACTIVITY_TYPE_DOES_NOT_EXIST
		schedAct("a1"),
		schedAct("a1"), // ACTIVITY_ID_ALREADY_IN_USE
		schedActOf("a2", "act", func(a *api.ScheduleActivityTaskDecisionAttributes) { a.TaskList = &api.TaskList{Name: "other"} }),
		startTimer("t1", "10"), startTimer("t1", "10"), // TIMER_ID_ALREADY_IN_USE
		startChild("c1", "missing", nil), // WORKFLOW_TYPE_DOES_NOT_EXIST
		marker("m", ""),
	)
	want := []string{"ScheduleActivityTask/acts", "ScheduleActivityTask/other", "StartTimer"}
	if len(r.asked) != len(want) {
		t.Fatalf("asked %v, want %v", r.asked, want)
	}
	for i := range want {
		if r.asked[i] != want[i] {
			t.Fatalf("asked %v, want %v", r.asked, want)
		}
	}
}

// A batch whose lookup fails asks nothing of the rates: the call fails
// before any decision is decided.
func TestRateNotAskedWhenTheBatchFails(t *testing.T) {
	h := startDefault(t)
	r := &rateOf{left: map[string]int{}}
	h.env.RateLimit = r.limit
	started := h.pollDecision()
	h.env.Types = &failingTypes{fakeTypes: newFakeTypes(), fail: "activity/d/act/1", asked: map[string]int{}}
	_, err := h.s.Clone().CompleteDecisionTask(h.env, started, &api.RespondDecisionTaskCompletedInput{Decisions: []api.Decision{startTimer("t1", "5"), schedAct("a1")}})
	if !errors.Is(err, errRegistryDown) {
		t.Fatalf("a failed lookup did not fail the batch: %v", err)
	}
	if len(r.asked) != 0 {
		t.Fatalf("a failed batch asked the rates about %v", r.asked)
	}
}

// ScheduleLambdaFunction past its rate fails with LAMBDA_FUNCTION_CREATION_RATE_EXCEEDED
// and schedules nothing; the rate is asked only for a function that passed
// every other check (here, not for the one whose id is in use).
func TestLambdaCreationRateExceeded(t *testing.T) {
	h := startLambdaRun(t)
	r := &rateOf{left: map[string]int{"ScheduleLambdaFunction": 1}}
	h.env.RateLimit = r.limit
	res := h.pollAndDecide(lambda("l1"), lambda("l1"), lambda("l2"))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:LambdaFunctionScheduled 6:ScheduleLambdaFunctionFailed 7:ScheduleLambdaFunctionFailed 8:DecisionTaskScheduled")
	if a := h.event(6).ScheduleLambdaFunctionFailedEventAttributes; a.Cause != api.ScheduleLambdaFunctionFailedCauseIdAlreadyInUse || a.ID != "l1" {
		t.Fatalf("the id in use: %+v", a)
	}
	if a := h.event(7).ScheduleLambdaFunctionFailedEventAttributes; a.Cause != api.ScheduleLambdaFunctionFailedCauseLambdaFunctionCreationRateExceeded || a.ID != "l2" || a.Name != "fn" || a.DecisionTaskCompletedEventID != 4 {
		t.Fatalf("past the rate: %+v", a)
	}
	if len(h.s.Lambdas) != 1 || h.s.Lambdas["l2"] != nil {
		t.Fatalf("open Lambda tasks %+v, want l1 only", h.s.Lambdas)
	}
	if want := []string{"ScheduleLambdaFunction", "ScheduleLambdaFunction"}; len(r.asked) != 2 || r.asked[0] != want[0] || r.asked[1] != want[1] {
		t.Fatalf("rate asked %v, want %v", r.asked, want)
	}
}
