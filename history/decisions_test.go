package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

func TestValidation(t *testing.T) {
	long := func(ds ...api.Decision) *api.RespondDecisionTaskCompletedInput {
		return &api.RespondDecisionTaskCompletedInput{Decisions: ds}
	}
	cases := []struct {
		name string
		in   *api.RespondDecisionTaskCompletedInput
		msg  string
	}{
		{"missing timerId", long(api.Decision{DecisionType: api.DecisionTypeStartTimer, StartTimerDecisionAttributes: &api.StartTimerDecisionAttributes{StartToFireTimeout: "5"}}),
			"1 validation error detected: Value null at 'decisions.1.member.startTimerDecisionAttributes.timerId' failed to satisfy constraint: Member must not be null"},
		{"missing attributes", long(marker("m", ""), api.Decision{DecisionType: api.DecisionTypeScheduleActivityTask}),
			"1 validation error detected: Value null at 'decisions.2.member.scheduleActivityTaskDecisionAttributes' failed to satisfy constraint: Member must not be null"},
		{"two errors", long(api.Decision{DecisionType: api.DecisionTypeStartTimer, StartTimerDecisionAttributes: &api.StartTimerDecisionAttributes{}}),
			"2 validation errors detected: Value null at 'decisions.1.member.startTimerDecisionAttributes.timerId' failed to satisfy constraint: Member must not be null; Value null at 'decisions.1.member.startTimerDecisionAttributes.startToFireTimeout' failed to satisfy constraint: Member must not be null"},
		{"timer NONE", long(startTimer("t", "NONE")),
			"1 validation error detected: Value 'NONE' at 'decisions.1.member.startTimerDecisionAttributes.startToFireTimeout' failed to satisfy constraint: Member must be a number of seconds"},
		{"bad duration", long(schedActOf("a", "act", func(a *api.ScheduleActivityTaskDecisionAttributes) { a.HeartbeatTimeout = "1m" })),
			"1 validation error detected: Value '1m' at 'decisions.1.member.scheduleActivityTaskDecisionAttributes.heartbeatTimeout' failed to satisfy constraint: Member must be a number of seconds or NONE"},
		{"bad activity id", long(schedAct("a:b")),
			`1 validation error detected: Value 'a:b' at 'decisions.1.member.scheduleActivityTaskDecisionAttributes.activityId' failed to satisfy constraint: Member must not contain ':', '/', '|' or control characters`},
		{"arn timer", long(startTimer("arn", "1")),
			`1 validation error detected: Value 'arn' at 'decisions.1.member.startTimerDecisionAttributes.timerId' failed to satisfy constraint: Member must not be the literal string 'arn'`},
		{"control char child id", long(startChild("c\x01", "child", nil)),
			"1 validation error detected: Value 'c\x01' at 'decisions.1.member.startChildWorkflowExecutionDecisionAttributes.workflowId' failed to satisfy constraint: Member must not contain '|' or control characters"},
		{"pipe in signal target", long(api.Decision{DecisionType: api.DecisionTypeSignalExternalWorkflowExecution, SignalExternalWorkflowExecutionDecisionAttributes: &api.SignalExternalWorkflowExecutionDecisionAttributes{WorkflowID: "a|b", SignalName: "s"}}),
			"1 validation error detected: Value 'a|b' at 'decisions.1.member.signalExternalWorkflowExecutionDecisionAttributes.workflowId' failed to satisfy constraint: Member must not contain '|' or control characters"},
		{"missing activity type", long(schedActOf("a", "", func(a *api.ScheduleActivityTaskDecisionAttributes) { a.ActivityType.Version = "" })),
			"1 validation error detected: Value null at 'decisions.1.member.scheduleActivityTaskDecisionAttributes.activityType' failed to satisfy constraint: Member must not be null"},
		{"missing activity version", long(schedActOf("a", "act", func(a *api.ScheduleActivityTaskDecisionAttributes) { a.ActivityType.Version = "" })),
			"1 validation error detected: Value null at 'decisions.1.member.scheduleActivityTaskDecisionAttributes.activityType.version' failed to satisfy constraint: Member must not be null"},
		{"empty task list", long(schedActOf("a", "act", func(a *api.ScheduleActivityTaskDecisionAttributes) { a.TaskList = &api.TaskList{} })),
			"1 validation error detected: Value null at 'decisions.1.member.scheduleActivityTaskDecisionAttributes.taskList.name' failed to satisfy constraint: Member must not be null"},
		{"bad priority", long(schedActOf("a", "act", func(a *api.ScheduleActivityTaskDecisionAttributes) { a.TaskPriority = "high" })),
			"1 validation error detected: Value 'high' at 'decisions.1.member.scheduleActivityTaskDecisionAttributes.taskPriority' failed to satisfy constraint: Member must be an integer between -2147483648 and 2147483647"},
		{"marker name", long(api.Decision{DecisionType: api.DecisionTypeRecordMarker, RecordMarkerDecisionAttributes: &api.RecordMarkerDecisionAttributes{}}),
			"1 validation error detected: Value null at 'decisions.1.member.recordMarkerDecisionAttributes.markerName' failed to satisfy constraint: Member must not be null"},
		{"cancel activity id", long(api.Decision{DecisionType: api.DecisionTypeRequestCancelActivityTask, RequestCancelActivityTaskDecisionAttributes: &api.RequestCancelActivityTaskDecisionAttributes{}}),
			"1 validation error detected: Value null at 'decisions.1.member.requestCancelActivityTaskDecisionAttributes.activityId' failed to satisfy constraint: Member must not be null"},
		{"cancel timer id", long(api.Decision{DecisionType: api.DecisionTypeCancelTimer}),
			"1 validation error detected: Value null at 'decisions.1.member.cancelTimerDecisionAttributes' failed to satisfy constraint: Member must not be null"},
		{"signal name", long(signalExt("w", "", "")),
			"1 validation error detected: Value null at 'decisions.1.member.signalExternalWorkflowExecutionDecisionAttributes.signalName' failed to satisfy constraint: Member must not be null"},
		{"cancel external id", long(cancelExt("", "")),
			"1 validation error detected: Value null at 'decisions.1.member.requestCancelExternalWorkflowExecutionDecisionAttributes.workflowId' failed to satisfy constraint: Member must not be null"},
		{"child type name", long(startChild("c", "", nil)),
			"1 validation error detected: Value null at 'decisions.1.member.startChildWorkflowExecutionDecisionAttributes.workflowType.name' failed to satisfy constraint: Member must not be null"},
		{"lambda", long(api.Decision{DecisionType: api.DecisionTypeScheduleLambdaFunction, ScheduleLambdaFunctionDecisionAttributes: &api.ScheduleLambdaFunctionDecisionAttributes{ID: "x"}}),
			"1 validation error detected: Value null at 'decisions.1.member.scheduleLambdaFunctionDecisionAttributes.name' failed to satisfy constraint: Member must not be null"},
		{"continue task list", long(continueAsNew(func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) { a.TaskList = &api.TaskList{Name: "a|b"} })),
			`1 validation error detected: Value 'a|b' at 'decisions.1.member.continueAsNewWorkflowExecutionDecisionAttributes.taskList.name' failed to satisfy constraint: Member must not contain ':', '/', '|' or control characters`},
		{"activity task list with white space", long(schedActOf("a", "act", func(a *api.ScheduleActivityTaskDecisionAttributes) { a.TaskList = &api.TaskList{Name: " atl"} })),
			"1 validation error detected: Value ' atl' at 'decisions.1.member.scheduleActivityTaskDecisionAttributes.taskList.name' failed to satisfy constraint: Member must not start or end with white space"},
		{"child task list with white space", long(startChild("c", "child", func(a *api.StartChildWorkflowExecutionDecisionAttributes) { a.TaskList = &api.TaskList{Name: "ctl\t"} })),
			"1 validation error detected: Value 'ctl\t' at 'decisions.1.member.startChildWorkflowExecutionDecisionAttributes.taskList.name' failed to satisfy constraint: Member must not start or end with white space"},
		{"continue task list with white space", long(continueAsNew(func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) {
			a.TaskList = &api.TaskList{Name: "ntl "}
		})),
			"1 validation error detected: Value 'ntl ' at 'decisions.1.member.continueAsNewWorkflowExecutionDecisionAttributes.taskList.name' failed to satisfy constraint: Member must not start or end with white space"},
		{"override task list with white space", &api.RespondDecisionTaskCompletedInput{TaskList: &api.TaskList{Name: " x"}},
			"1 validation error detected: Value ' x' at 'taskList.name' failed to satisfy constraint: Member must not start or end with white space"},
		{"child over a year", long(startChild("c", "child", func(a *api.StartChildWorkflowExecutionDecisionAttributes) {
			a.ExecutionStartToCloseTimeout = "31536001"
		})),
			"1 validation error detected: Value '31536001' at 'decisions.1.member.startChildWorkflowExecutionDecisionAttributes.executionStartToCloseTimeout' failed to satisfy constraint: Member must be a number of seconds no greater than 31536000, or NONE"},
		{"continue over a year", long(continueAsNew(func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) {
			a.ExecutionStartToCloseTimeout = "99999999"
		})),
			"1 validation error detected: Value '99999999' at 'decisions.1.member.continueAsNewWorkflowExecutionDecisionAttributes.executionStartToCloseTimeout' failed to satisfy constraint: Member must be a number of seconds no greater than 31536000, or NONE"},
		{"no decision type", long(api.Decision{}),
			"1 validation error detected: Value null at 'decisions.1.member.decisionType' failed to satisfy constraint: Member must not be null"},
		{"override timeout", &api.RespondDecisionTaskCompletedInput{TaskList: &api.TaskList{Name: "x"}, TaskListScheduleToStartTimeout: "x"},
			"1 validation error detected: Value 'x' at 'taskListScheduleToStartTimeout' failed to satisfy constraint: Member must be a number of seconds or NONE"},
		{"close not last", long(completeWF(""), marker("m", "")), "Close must be last decision in list"},
		{"two closes", long(failWF("", ""), completeWF("")), "Close must be last decision in list"},
		{"continue not last", long(continueAsNew(nil), startTimer("t", "1")), "Close must be last decision in list"},
		{"cancel not last", long(cancelWF(""), cancelWF("")), "Close must be last decision in list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := startDefault(t)
			st := h.pollDecision()
			f := h.mustFault(api.ValidationException, func(s *State) (Result, error) { return s.CompleteDecisionTask(h.env, st, c.in) })
			if f.Message != c.msg {
				t.Fatalf("message\n got: %s\nwant: %s", f.Message, c.msg)
			}
			// The token stays usable.
			h.decide(st)
		})
	}
}

// A batch of tens of thousands of decisions, each missing its attributes,
// is answered with a bounded message: the first violations listed and the
// count given as a floor once the check stopped, not one line per decision.
func TestValidationOfManyDecisionsIsBounded(t *testing.T) {
	h := startDefault(t)
	st := h.pollDecision()
	in := &api.RespondDecisionTaskCompletedInput{}
	for i := 0; i < 40_000; i++ {
		in.Decisions = append(in.Decisions, api.Decision{DecisionType: api.DecisionTypeStartTimer})
	}
	f := h.mustFault(api.ValidationException, func(s *State) (Result, error) { return s.CompleteDecisionTask(h.env, st, in) })
	want := fmt.Sprintf("%d or more validation errors detected (the request was checked no further), the first %d listed: "+
		"Value null at 'decisions.1.member.startTimerDecisionAttributes' failed to satisfy constraint: Member must not be null; ",
		api.MaxViolations, api.MaxListedViolations)
	if len(f.Message) < len(want) || f.Message[:len(want)] != want {
		t.Errorf("message begins %.300q\nwant %q", f.Message, want)
	}
	if len(f.Message) > 4<<10 {
		t.Errorf("message is %d bytes, want at most 4 KB", len(f.Message))
	}
	h.decide(st) // the token stays usable
}

// Closing decisions without attributes are accepted (inferred: the documentation is silent).
func TestClosingDecisionWithoutAttributes(t *testing.T) {
	for _, dt := range []api.DecisionType{api.DecisionTypeCompleteWorkflowExecution, api.DecisionTypeFailWorkflowExecution, api.DecisionTypeCancelWorkflowExecution, api.DecisionTypeContinueAsNewWorkflowExecution} {
		h := startDefault(t)
		res := h.pollAndDecide(api.Decision{DecisionType: dt})
		if !res.Closed {
			t.Fatalf("%s did not close: %s", dt, evTypes(res.Events))
		}
	}
}

func TestScheduleActivityFailures(t *testing.T) {
	cases := []struct {
		d     api.Decision
		cause api.ScheduleActivityTaskFailedCause
	}{
		{schedActOf("a", "missing", nil), api.ScheduleActivityTaskFailedCauseActivityTypeDoesNotExist},
		{schedActOf("a", "dep", nil), api.ScheduleActivityTaskFailedCauseActivityTypeDeprecated},
		{schedAct("busy"), api.ScheduleActivityTaskFailedCauseActivityIdAlreadyInUse},
		{schedActOf("a", "bare", func(a *api.ScheduleActivityTaskDecisionAttributes) {
			a.TaskList = &api.TaskList{Name: "l"}
			a.ScheduleToStartTimeout, a.StartToCloseTimeout, a.HeartbeatTimeout = "1", "1", "1"
		}), api.ScheduleActivityTaskFailedCauseDefaultScheduleToCloseTimeoutUndefined},
		{schedActOf("a", "bare", func(a *api.ScheduleActivityTaskDecisionAttributes) {
			a.ScheduleToCloseTimeout, a.ScheduleToStartTimeout, a.StartToCloseTimeout, a.HeartbeatTimeout = "1", "1", "1", "1"
		}), api.ScheduleActivityTaskFailedCauseDefaultTaskListUndefined},
		{schedActOf("a", "bare", func(a *api.ScheduleActivityTaskDecisionAttributes) {
			a.TaskList = &api.TaskList{Name: "l"}
			a.ScheduleToCloseTimeout, a.StartToCloseTimeout, a.HeartbeatTimeout = "1", "1", "1"
		}), api.ScheduleActivityTaskFailedCauseDefaultScheduleToStartTimeoutUndefined},
		{schedActOf("a", "bare", func(a *api.ScheduleActivityTaskDecisionAttributes) {
			a.TaskList = &api.TaskList{Name: "l"}
			a.ScheduleToCloseTimeout, a.ScheduleToStartTimeout, a.HeartbeatTimeout = "1", "1", "1"
		}), api.ScheduleActivityTaskFailedCauseDefaultStartToCloseTimeoutUndefined},
		{schedActOf("a", "bare", func(a *api.ScheduleActivityTaskDecisionAttributes) {
			a.TaskList = &api.TaskList{Name: "l"}
			a.ScheduleToCloseTimeout, a.ScheduleToStartTimeout, a.StartToCloseTimeout = "1", "1", "1"
		}), api.ScheduleActivityTaskFailedCauseDefaultHeartbeatTimeoutUndefined},
	}
	for _, c := range cases {
		t.Run(string(c.cause), func(t *testing.T) {
			h := startDefault(t)
			h.pollAndDecide(schedAct("busy"))
			h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", api.String("")) }) // 6, 7
			res := h.pollAndDecide(c.d)                                                            // 8
			h.expectEvents(res, "9:DecisionTaskCompleted 10:ScheduleActivityTaskFailed 11:DecisionTaskScheduled")
			a := h.event(10).ScheduleActivityTaskFailedEventAttributes
			want := api.ScheduleActivityTaskFailedEventAttributes{ActivityType: c.d.ScheduleActivityTaskDecisionAttributes.ActivityType, ActivityID: c.d.ScheduleActivityTaskDecisionAttributes.ActivityID, Cause: c.cause, DecisionTaskCompletedEventID: 9}
			if !equalJSON(*a, want) {
				t.Fatalf("failed %+v", a)
			}
			if len(res.AddTasks) != 1 || res.AddTasks[0].Kind != swfd.DecisionTask {
				t.Fatalf("tasks %+v", res.AddTasks)
			}
		})
	}
}

func TestScheduleActivityOverridesAndReuse(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(schedActOf("a", "bare", func(a *api.ScheduleActivityTaskDecisionAttributes) {
		a.TaskList = &api.TaskList{Name: "mine"}
		a.TaskPriority = "-7"
		a.ScheduleToCloseTimeout, a.ScheduleToStartTimeout, a.StartToCloseTimeout, a.HeartbeatTimeout = "100", "NONE", "50", "NONE"
		a.Control = api.String("c")
	}))
	a := h.event(5).ActivityTaskScheduledEventAttributes
	if a.TaskList.Name != "mine" || a.TaskPriority != "-7" || a.ScheduleToStartTimeout != "NONE" || a.HeartbeatTimeout != "NONE" || api.Value(a.Control) != "c" {
		t.Fatalf("scheduled %+v", a)
	}
	if res.AddTasks[0].Priority != -7 || res.AddTasks[0].TaskList != "mine" {
		t.Fatalf("task %+v", res.AddTasks[0])
	}
	if _, ok := hasTimer(res, "at:5:S2S"); ok {
		t.Fatal("NONE S2S armed")
	}
	// Reusing an id after the activity closed is fine.
	h.startActivity("a")
	h.must(func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, 5, 6, api.String("")) })
	res = h.pollAndDecide(schedAct("a"))
	h.expectEvents(res, "10:DecisionTaskCompleted 11:ActivityTaskScheduled")
	// No priority anywhere: omitted, task priority 0.
	g := startDefault(t)
	res = g.pollAndDecide(schedActOf("x", "none", nil))
	if g.event(5).ActivityTaskScheduledEventAttributes.TaskPriority != "" || res.AddTasks[0].Priority != 0 {
		t.Fatal("priority")
	}
}

func TestLimits(t *testing.T) {
	h := startDefault(t)
	h.env.Limits = Limits{MaxOpenActivities: 1, MaxOpenTimers: 1, MaxOpenChildren: 1}
	h.env.OpenExecutions = func(domain string) (int, int, error) { return 5, 7, nil }
	res := h.pollAndDecide(
		schedAct("a1"), schedAct("a2"),
		startTimer("t1", "10"), startTimer("t2", "10"),
		startChild("c1", "child", nil), startChild("c2", "child", nil),
	)
	h.expectEvents(res, "4:DecisionTaskCompleted 5:ActivityTaskScheduled 6:ScheduleActivityTaskFailed 7:TimerStarted 8:StartTimerFailed 9:StartChildWorkflowExecutionInitiated 10:StartChildWorkflowExecutionFailed 11:DecisionTaskScheduled")
	if h.event(6).ScheduleActivityTaskFailedEventAttributes.Cause != api.ScheduleActivityTaskFailedCauseOpenActivitiesLimitExceeded {
		t.Fatal("activities limit")
	}
	if h.event(8).StartTimerFailedEventAttributes.Cause != api.StartTimerFailedCauseOpenTimersLimitExceeded {
		t.Fatal("timers limit")
	}
	if h.event(10).StartChildWorkflowExecutionFailedEventAttributes.Cause != api.StartChildWorkflowExecutionFailedCauseOpenChildrenLimitExceeded {
		t.Fatal("children limit")
	}
	g := startDefault(t)
	g.env.OpenExecutions = func(domain string) (int, int, error) { return 6, 7, nil }
	res = g.pollAndDecide(startChild("c1", "child", nil), startChild("c2", "child", nil))
	g.expectEvents(res, "4:DecisionTaskCompleted 5:StartChildWorkflowExecutionInitiated 6:StartChildWorkflowExecutionFailed 7:DecisionTaskScheduled")
	if a := g.event(6).StartChildWorkflowExecutionFailedEventAttributes; a.Cause != api.StartChildWorkflowExecutionFailedCauseOpenWorkflowsLimitExceeded || a.InitiatedEventID != 0 {
		t.Fatalf("workflows limit %+v", a)
	}
}

func TestScheduleLambda(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(lambda("l1"))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:ScheduleLambdaFunctionFailed 6:DecisionTaskScheduled")
	if a := h.event(5).ScheduleLambdaFunctionFailedEventAttributes; !equalJSON(*a, api.ScheduleLambdaFunctionFailedEventAttributes{ID: "l1", Name: "fn", Cause: api.ScheduleLambdaFunctionFailedCauseLambdaServiceNotAvailableInRegion, DecisionTaskCompletedEventID: 4}) {
		t.Fatalf("failed %+v", a)
	}
}

// Decisions before a failing one take effect; a failure earlier in the
// batch does not make a later close fail (inferred: the documentation is silent).
func TestBatchOrderAndCloseAfterFailure(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(schedAct("a1"), cancelTimer("none"), completeWF("x"))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:ActivityTaskScheduled 6:CancelTimerFailed 7:WorkflowExecutionCompleted")
	if !res.Closed || len(res.AddTasks) != 0 || len(res.AddTimers) != 0 {
		t.Fatalf("res %+v", res)
	}
}

func TestFailWorkflow(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(failWF("r", "d"))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:WorkflowExecutionFailed")
	if a := h.event(5).WorkflowExecutionFailedEventAttributes; !equalJSON(*a, api.WorkflowExecutionFailedEventAttributes{Reason: api.String("r"), Details: api.String("d"), DecisionTaskCompletedEventID: 4}) {
		t.Fatalf("failed %+v", a)
	}
	if h.s.CloseStatus != api.CloseStatusFailed {
		t.Fatal("status")
	}
}

// Sequence I: continue as new.
func TestSequenceI(t *testing.T) {
	h := newHarness(t)
	p := rootParams()
	p.Parent = &api.WorkflowExecution{WorkflowID: "pw", RunID: "pr"}
	p.ParentInitiatedEventID = 4
	h.start(p)
	h.pollAndDecide(startTimer("t", "100"))
	h.fire("ut:t:5") // 6, 7
	res := h.pollAndDecide(continueAsNew(func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) {
		a.TagList = []string{"n1"}
		a.TaskPriority = "9"
	}))
	h.expectEvents(res, "9:DecisionTaskCompleted 10:WorkflowExecutionContinuedAsNew")
	a := h.event(10).WorkflowExecutionContinuedAsNewEventAttributes
	want := api.WorkflowExecutionContinuedAsNewEventAttributes{
		Input: api.String("next"), DecisionTaskCompletedEventID: 9, NewExecutionRunID: "run-1", ExecutionStartToCloseTimeout: "3600",
		TaskList: api.TaskList{Name: "deciders"}, TaskPriority: "9", TaskStartToCloseTimeout: "10", ChildPolicy: api.ChildPolicyTerminate,
		TagList: []string{"n1"}, WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
	}
	if !reflect.DeepEqual(*a, want) {
		t.Fatalf("continued %+v", *a)
	}
	if !res.Closed || h.s.CloseStatus != api.CloseStatusContinuedAsNew || len(res.Messages) != 0 {
		t.Fatalf("res %+v", res)
	}
	wantP := StartParams{
		Domain: "d", WorkflowID: "w1", RunID: "run-1", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
		Config: Config{TaskList: "deciders", TaskPriority: "9", ExecutionStartToCloseTimeout: "3600", TaskStartToCloseTimeout: "10", ChildPolicy: api.ChildPolicyTerminate},
		Input:  api.String("next"), TagList: []string{"n1"}, Parent: &api.WorkflowExecution{WorkflowID: "pw", RunID: "pr"}, ParentInitiatedEventID: 4,
		ContinuedExecutionRunID: "r1",
	}
	if !reflect.DeepEqual(*res.ContinuedAs, wantP) {
		t.Fatalf("continued as %+v", *res.ContinuedAs)
	}
	// The new run starts from those parameters.
	n := newHarness(t)
	res = n.start(*res.ContinuedAs)
	if a := n.event(1).WorkflowExecutionStartedEventAttributes; a.ContinuedExecutionRunID != "r1" || api.Value(a.Input) != "next" {
		t.Fatalf("new run %+v", a)
	}
}

func TestContinueAsNewVersionAndOverrides(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(continueAsNew(func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) {
		a.WorkflowTypeVersion = "2"
		a.ExecutionStartToCloseTimeout = "99"
		a.LambdaRole = "role"
	}))
	a := h.event(5).WorkflowExecutionContinuedAsNewEventAttributes
	if a.WorkflowType.Version != "2" || a.TaskList.Name != "deciders-v2" || a.ChildPolicy != api.ChildPolicyAbandon || a.ExecutionStartToCloseTimeout != "99" || a.LambdaRole != "role" {
		t.Fatalf("continued %+v", a)
	}
	if res.ContinuedAs.WorkflowType.Version != "2" || res.ContinuedAs.TagList != nil || res.ContinuedAs.Parent != nil {
		t.Fatalf("params %+v", res.ContinuedAs)
	}
}

func TestContinueAsNewFailures(t *testing.T) {
	setType := func(name string) func(h *harness) {
		return func(h *harness) { h.s.WorkflowType.Name = name }
	}
	full := func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) {
		a.ExecutionStartToCloseTimeout, a.TaskStartToCloseTimeout, a.ChildPolicy = "1", "1", api.ChildPolicyAbandon
		a.TaskList = &api.TaskList{Name: "l"}
	}
	cases := []struct {
		cause api.ContinueAsNewWorkflowExecutionFailedCause
		prep  func(h *harness)
		mod   func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes)
	}{
		{api.ContinueAsNewWorkflowExecutionFailedCauseWorkflowTypeDoesNotExist, nil, func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) { a.WorkflowTypeVersion = "9" }},
		{api.ContinueAsNewWorkflowExecutionFailedCauseWorkflowTypeDeprecated, setType("wfdep"), nil},
		{api.ContinueAsNewWorkflowExecutionFailedCauseDefaultExecutionStartToCloseTimeoutUndefined, setType("bare"), func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) {
			full(a)
			a.ExecutionStartToCloseTimeout = ""
		}},
		{api.ContinueAsNewWorkflowExecutionFailedCauseDefaultTaskListUndefined, setType("bare"), func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) {
			full(a)
			a.TaskList = nil
		}},
		{api.ContinueAsNewWorkflowExecutionFailedCauseDefaultTaskStartToCloseTimeoutUndefined, setType("bare"), func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) {
			full(a)
			a.TaskStartToCloseTimeout = ""
		}},
		{api.ContinueAsNewWorkflowExecutionFailedCauseDefaultChildPolicyUndefined, setType("bare"), func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) {
			full(a)
			a.ChildPolicy = ""
		}},
	}
	for _, c := range cases {
		t.Run(string(c.cause), func(t *testing.T) {
			h := startDefault(t)
			if c.prep != nil {
				c.prep(h)
			}
			res := h.pollAndDecide(continueAsNew(c.mod))
			h.expectEvents(res, "4:DecisionTaskCompleted 5:ContinueAsNewWorkflowExecutionFailed 6:DecisionTaskScheduled")
			if a := h.event(5).ContinueAsNewWorkflowExecutionFailedEventAttributes; !equalJSON(*a, api.ContinueAsNewWorkflowExecutionFailedEventAttributes{Cause: c.cause, DecisionTaskCompletedEventID: 4}) {
				t.Fatalf("failed %+v", a)
			}
			if res.ContinuedAs != nil || !h.s.Open {
				t.Fatal("continued")
			}
		})
	}
	// With everything given, the bare type continues.
	h := startDefault(t)
	h.s.WorkflowType.Name = "bare"
	if res := h.pollAndDecide(continueAsNew(full)); !res.Closed {
		t.Fatalf("not continued: %s", evTypes(res.Events))
	}
}

// Sequence G: child workflows.
func TestSequenceG(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(startChild("c", "child", func(a *api.StartChildWorkflowExecutionDecisionAttributes) {
		a.TagList = []string{"ct"}
		a.TaskPriority = "2"
	}))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:StartChildWorkflowExecutionInitiated")
	a := h.event(5).StartChildWorkflowExecutionInitiatedEventAttributes
	want := api.StartChildWorkflowExecutionInitiatedEventAttributes{
		WorkflowID: "c", WorkflowType: api.WorkflowType{Name: "child", Version: "1"}, Control: api.String("ctl"), Input: api.String("child-in"),
		ExecutionStartToCloseTimeout: "3600", TaskList: api.TaskList{Name: "deciders"}, TaskPriority: "2", DecisionTaskCompletedEventID: 4,
		ChildPolicy: api.ChildPolicyTerminate, TaskStartToCloseTimeout: "10", TagList: []string{"ct"},
	}
	if !reflect.DeepEqual(*a, want) {
		t.Fatalf("initiated %+v", *a)
	}
	if len(res.Messages) != 1 {
		t.Fatalf("messages %+v", res.Messages)
	}
	m := res.Messages[0]
	parent := api.WorkflowExecution{WorkflowID: "w1", RunID: "r1"}
	wantStart := StartParams{Domain: "d", WorkflowID: "c", WorkflowType: want.WorkflowType,
		Config: Config{TaskList: "deciders", TaskPriority: "2", ExecutionStartToCloseTimeout: "3600", TaskStartToCloseTimeout: "10", ChildPolicy: api.ChildPolicyTerminate},
		Input:  api.String("child-in"), TagList: []string{"ct"}, Parent: &parent, ParentInitiatedEventID: 5}
	if m.Domain != "d" || m.WorkflowID != "c" || m.RunID != "" || m.StartChild == nil || m.StartChild.Parent != parent || m.StartChild.InitiatedID != 5 || !reflect.DeepEqual(m.StartChild.Start, wantStart) {
		t.Fatalf("start message %+v", m.StartChild)
	}
	if oc := h.s.OpenCounts(); oc.OpenChildWorkflowExecutions != 1 {
		t.Fatalf("open counts %+v", oc)
	}
	// The child run begins from the message.
	c := newHarness(t)
	cp := m.StartChild.Start
	cp.RunID = "cr"
	c.start(cp)
	if a := c.event(1).WorkflowExecutionStartedEventAttributes; *a.ParentWorkflowExecution != parent || a.ParentInitiatedEventID != 5 {
		t.Fatalf("child started %+v", a)
	}
	childRun := api.WorkflowExecution{WorkflowID: "c", RunID: "cr"}
	res = h.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: 5, Child: childRun, Type: want.WorkflowType}})
	h.expectEvents(res, "6:ChildWorkflowExecutionStarted 7:DecisionTaskScheduled")
	if a := h.event(6).ChildWorkflowExecutionStartedEventAttributes; !equalJSON(*a, api.ChildWorkflowExecutionStartedEventAttributes{WorkflowExecution: childRun, WorkflowType: want.WorkflowType, InitiatedEventID: 5}) {
		t.Fatalf("child started %+v", a)
	}
	// A duplicate start message is ignored.
	if res := h.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: 5, Child: childRun}}); !isEmpty(res) {
		t.Fatal("duplicate start recorded")
	}
	// The child completes: its close message reaches the parent.
	cst := c.pollDecision()
	cres := c.decide(cst, completeWF("child-out"))
	if len(cres.Messages) != 1 || cres.Messages[0].RunID != "r1" || cres.Messages[0].ChildClosed == nil {
		t.Fatalf("child close message %+v", cres.Messages)
	}
	res = h.deliver(cres.Messages[0])
	h.expectEvents(res, "8:ChildWorkflowExecutionCompleted")
	if a := h.event(8).ChildWorkflowExecutionCompletedEventAttributes; !equalJSON(*a, api.ChildWorkflowExecutionCompletedEventAttributes{WorkflowExecution: childRun, WorkflowType: want.WorkflowType, Result: api.String("child-out"), InitiatedEventID: 5, StartedEventID: 6}) {
		t.Fatalf("child completed %+v", a)
	}
	if len(h.s.Children) != 0 {
		t.Fatal("child still open")
	}
}

func TestChildClosedKinds(t *testing.T) {
	run := api.WorkflowExecution{WorkflowID: "c", RunID: "cr"}
	wt := api.WorkflowType{Name: "child", Version: "1"}
	cases := []struct {
		msg  ChildClosedMsg
		want string
		chk  func(e api.HistoryEvent) bool
	}{
		{ChildClosedMsg{CloseStatus: api.CloseStatusFailed, Reason: api.String("r"), Details: api.String("d")}, "ChildWorkflowExecutionFailed", func(e api.HistoryEvent) bool {
			return equalJSON(*e.ChildWorkflowExecutionFailedEventAttributes, api.ChildWorkflowExecutionFailedEventAttributes{WorkflowExecution: run, WorkflowType: wt, Reason: api.String("r"), Details: api.String("d"), InitiatedEventID: 5, StartedEventID: 6})
		}},
		{ChildClosedMsg{CloseStatus: api.CloseStatusCanceled, Details: api.String("d")}, "ChildWorkflowExecutionCanceled", func(e api.HistoryEvent) bool {
			return equalJSON(*e.ChildWorkflowExecutionCanceledEventAttributes, api.ChildWorkflowExecutionCanceledEventAttributes{WorkflowExecution: run, WorkflowType: wt, Details: api.String("d"), InitiatedEventID: 5, StartedEventID: 6})
		}},
		{ChildClosedMsg{CloseStatus: api.CloseStatusTimedOut, TimeoutType: api.WorkflowExecutionTimeoutTypeStartToClose}, "ChildWorkflowExecutionTimedOut", func(e api.HistoryEvent) bool {
			return equalJSON(*e.ChildWorkflowExecutionTimedOutEventAttributes, api.ChildWorkflowExecutionTimedOutEventAttributes{WorkflowExecution: run, WorkflowType: wt, TimeoutType: api.WorkflowExecutionTimeoutTypeStartToClose, InitiatedEventID: 5, StartedEventID: 6})
		}},
		{ChildClosedMsg{CloseStatus: api.CloseStatusTerminated}, "ChildWorkflowExecutionTerminated", func(e api.HistoryEvent) bool {
			return equalJSON(*e.ChildWorkflowExecutionTerminatedEventAttributes, api.ChildWorkflowExecutionTerminatedEventAttributes{WorkflowExecution: run, WorkflowType: wt, InitiatedEventID: 5, StartedEventID: 6})
		}},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			h := startDefault(t)
			h.pollAndDecide(startChild("c", "child", nil))
			h.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: 5, Child: run, Type: wt}})
			st := h.pollDecision() // 8: the close arrives while a decision runs
			m := c.msg
			m.InitiatedID, m.Child, m.Type = 5, run, wt
			res := h.deliver(Message{ChildClosed: &m})
			h.expectEvents(res, "9:"+c.want+" 10:DecisionTaskScheduled")
			if !c.chk(h.event(9)) {
				t.Fatalf("event %+v", h.event(9))
			}
			h.decide(st)
		})
	}
	// CONTINUED_AS_NEW is not reported; a close that overtakes the start
	// records the start first.
	h := startDefault(t)
	h.pollAndDecide(startChild("c", "child", nil))
	if res := h.deliver(Message{ChildClosed: &ChildClosedMsg{InitiatedID: 5, CloseStatus: api.CloseStatusContinuedAsNew, Child: run}}); !isEmpty(res) {
		t.Fatal("continued-as-new child reported")
	}
	res := h.deliver(Message{ChildClosed: &ChildClosedMsg{InitiatedID: 5, CloseStatus: api.CloseStatusCompleted, Child: run, Type: wt}})
	h.expectEvents(res, "6:ChildWorkflowExecutionStarted 7:ChildWorkflowExecutionCompleted 8:DecisionTaskScheduled")
	if a := h.event(7).ChildWorkflowExecutionCompletedEventAttributes; a.StartedEventID != 6 || a.InitiatedEventID != 5 {
		t.Fatalf("completed %+v", a)
	}
	if res := h.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: 5, Child: run}}); !isEmpty(res) {
		t.Fatal("late start recorded")
	}
}

func TestStartChildFailures(t *testing.T) {
	full := func(a *api.StartChildWorkflowExecutionDecisionAttributes) {
		a.ExecutionStartToCloseTimeout, a.TaskStartToCloseTimeout, a.ChildPolicy = "1", "1", api.ChildPolicyAbandon
		a.TaskList = &api.TaskList{Name: "l"}
	}
	cases := []struct {
		d     api.Decision
		cause api.StartChildWorkflowExecutionFailedCause
	}{
		{startChild("c", "nope", nil), api.StartChildWorkflowExecutionFailedCauseWorkflowTypeDoesNotExist},
		{startChild("c", "wfdep", nil), api.StartChildWorkflowExecutionFailedCauseWorkflowTypeDeprecated},
		{startChild("c", "bare", func(a *api.StartChildWorkflowExecutionDecisionAttributes) {
			full(a)
			a.ExecutionStartToCloseTimeout = ""
		}), api.StartChildWorkflowExecutionFailedCauseDefaultExecutionStartToCloseTimeoutUndefined},
		{startChild("c", "bare", func(a *api.StartChildWorkflowExecutionDecisionAttributes) {
			full(a)
			a.TaskList = nil
		}), api.StartChildWorkflowExecutionFailedCauseDefaultTaskListUndefined},
		{startChild("c", "bare", func(a *api.StartChildWorkflowExecutionDecisionAttributes) {
			full(a)
			a.TaskStartToCloseTimeout = ""
		}), api.StartChildWorkflowExecutionFailedCauseDefaultTaskStartToCloseTimeoutUndefined},
		{startChild("c", "bare", func(a *api.StartChildWorkflowExecutionDecisionAttributes) {
			full(a)
			a.ChildPolicy = ""
		}), api.StartChildWorkflowExecutionFailedCauseDefaultChildPolicyUndefined},
	}
	for _, c := range cases {
		t.Run(string(c.cause), func(t *testing.T) {
			h := startDefault(t)
			res := h.pollAndDecide(c.d)
			h.expectEvents(res, "4:DecisionTaskCompleted 5:StartChildWorkflowExecutionFailed 6:DecisionTaskScheduled")
			a := h.event(5).StartChildWorkflowExecutionFailedEventAttributes
			if !equalJSON(*a, api.StartChildWorkflowExecutionFailedEventAttributes{WorkflowType: c.d.StartChildWorkflowExecutionDecisionAttributes.WorkflowType, WorkflowID: "c", Cause: c.cause, InitiatedEventID: 0, DecisionTaskCompletedEventID: 4, Control: api.String("ctl")}) {
				t.Fatalf("failed %+v", a)
			}
			if len(res.Messages) != 0 || len(h.s.Children) != 0 {
				t.Fatal("child initiated")
			}
		})
	}
	// WORKFLOW_ALREADY_RUNNING comes back from the service.
	h := startDefault(t)
	h.pollAndDecide(startChild("c", "child", nil))
	res := h.deliver(Message{ChildStartFailed: &ChildStartFailedMsg{InitiatedID: 5, Cause: api.StartChildWorkflowExecutionFailedCauseWorkflowAlreadyRunning}})
	h.expectEvents(res, "6:StartChildWorkflowExecutionFailed 7:DecisionTaskScheduled")
	if a := h.event(6).StartChildWorkflowExecutionFailedEventAttributes; !equalJSON(*a, api.StartChildWorkflowExecutionFailedEventAttributes{WorkflowType: api.WorkflowType{Name: "child", Version: "1"}, WorkflowID: "c", Cause: api.StartChildWorkflowExecutionFailedCauseWorkflowAlreadyRunning, InitiatedEventID: 5, DecisionTaskCompletedEventID: 4, Control: api.String("ctl")}) {
		t.Fatalf("failed %+v", a)
	}
	if len(h.s.Children) != 0 {
		t.Fatal("child kept")
	}
}

// A child's control is kept in the parent's state only until the child
// starts: StartChildWorkflowExecutionFailed, the one event after the
// initiation that carries it, can no longer happen then. A parent of many
// children with large controls would otherwise store them all again with
// every change.
func TestChildControlDroppedOnceStarted(t *testing.T) {
	h := startDefault(t)
	control := strings.Repeat("c", 32_000)
	h.pollAndDecide(startChild("c", "child", func(a *api.StartChildWorkflowExecutionDecisionAttributes) { a.Control = &control }))
	if n := len(h.s.AppendJSON(nil)); n < len(control) {
		t.Fatalf("state before the start is %d bytes: the control, needed if the start fails, is not kept", n)
	}
	run := api.WorkflowExecution{WorkflowID: "c", RunID: "cr"}
	h.expectEvents(h.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: 5, Child: run}}), "6:ChildWorkflowExecutionStarted 7:DecisionTaskScheduled")
	if n := len(h.s.AppendJSON(nil)); n > 4<<10 {
		t.Errorf("state after the start is %d bytes, want the control (%d bytes) gone", n, len(control))
	}
	// The child's close is reported in full without it.
	res := h.deliver(Message{ChildClosed: &ChildClosedMsg{InitiatedID: 5, Child: run, CloseStatus: api.CloseStatusCompleted, Result: api.String("out")}})
	h.expectEvents(res, "8:ChildWorkflowExecutionCompleted")
	if a := h.event(8).ChildWorkflowExecutionCompletedEventAttributes; !equalJSON(*a, api.ChildWorkflowExecutionCompletedEventAttributes{WorkflowExecution: run, WorkflowType: api.WorkflowType{Name: "child", Version: "1"}, Result: api.String("out"), InitiatedEventID: 5, StartedEventID: 6}) {
		t.Fatalf("child completed %+v", a)
	}
}

// Child policies on termination, and the cascade in the child.
func TestChildPolicies(t *testing.T) {
	for _, policy := range []api.ChildPolicy{api.ChildPolicyTerminate, api.ChildPolicyRequestCancel, api.ChildPolicyAbandon} {
		t.Run(string(policy), func(t *testing.T) {
			h := startDefault(t)
			h.pollAndDecide(startChild("c1", "child", nil), startChild("c2", "child", nil), startChild("c3", "child", nil))
			h.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: 5, Child: api.WorkflowExecution{WorkflowID: "c1", RunID: "r-c1"}}})
			h.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: 6, Child: api.WorkflowExecution{WorkflowID: "c2", RunID: "r-c2"}}})
			res := h.must(func(s *State) (Result, error) { return s.Terminate(h.env, api.String("r"), api.String(""), policy, "") })
			if a := h.last().WorkflowExecutionTerminatedEventAttributes; a.ChildPolicy != policy || a.Cause != "" {
				t.Fatalf("terminated %+v", a)
			}
			switch policy {
			case api.ChildPolicyAbandon:
				if len(res.Messages) != 0 {
					t.Fatalf("messages %+v", res.Messages)
				}
			default:
				// Every child, started or not (c3's start is still in
				// flight), is addressed by its workflowId and named by
				// its parent: its chain's open run is the one to act.
				if len(res.Messages) != 3 {
					t.Fatalf("messages %+v", res.Messages)
				}
				for i, m := range res.Messages {
					want := ParentRef{Run: api.WorkflowExecution{WorkflowID: "w1", RunID: "r1"}, InitiatedID: int64(5 + i)}
					if m.WorkflowID != fmt.Sprint("c", i+1) || m.RunID != "" {
						t.Fatalf("message %d addressed to %q/%q", i, m.WorkflowID, m.RunID)
					}
					var got *ParentRef
					switch policy {
					case api.ChildPolicyTerminate:
						if m.Terminate == nil || m.Cancel != nil {
							t.Fatalf("message %+v", m)
						}
						got = m.Terminate.Parent
					case api.ChildPolicyRequestCancel:
						if m.Cancel == nil || !m.Cancel.ChildPolicy || m.Cancel.Sender != nil || m.Terminate != nil {
							t.Fatalf("message %+v", m)
						}
						got = m.Cancel.Parent
					}
					if got == nil || *got != want {
						t.Fatalf("message %d names parent %+v, want %+v", i, got, want)
					}
				}
			}
		})
	}
	// A child terminated by policy records its own policy and cascades, and
	// tells its (closed) parent.
	c := newHarness(t)
	p := rootParams()
	p.Parent = &api.WorkflowExecution{WorkflowID: "pw", RunID: "pr"}
	p.ParentInitiatedEventID = 5
	p.Config.ChildPolicy = api.ChildPolicyRequestCancel
	c.start(p)
	c.pollAndDecide(startChild("gc", "child", nil))
	c.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: 5, Child: api.WorkflowExecution{WorkflowID: "gc", RunID: "gcr"}}})
	res := c.deliver(Message{Terminate: &TerminateMsg{}})
	c.expectEvents(res, "8:WorkflowExecutionTerminated")
	if a := c.last().WorkflowExecutionTerminatedEventAttributes; !equalJSON(*a, api.WorkflowExecutionTerminatedEventAttributes{ChildPolicy: api.ChildPolicyRequestCancel, Cause: api.WorkflowExecutionTerminatedCauseChildPolicyApplied}) {
		t.Fatalf("terminated %+v", a)
	}
	if len(res.Messages) != 2 || res.Messages[0].ChildClosed == nil || res.Messages[0].ChildClosed.CloseStatus != api.CloseStatusTerminated ||
		res.Messages[0].RunID != "pr" || res.Messages[1].Cancel == nil || res.Messages[1].WorkflowID != "gc" || res.Messages[1].RunID != "" {
		t.Fatalf("messages %+v", res.Messages)
	}
	_, err := c.try(func(s *State) (Result, error) { return s.Deliver(c.env, Message{Terminate: &TerminateMsg{}}) })
	if faultCode(err) != api.UnknownResourceFault {
		t.Fatalf("terminate closed run: %v", err)
	}
}

// A parent's child policy reaches a child that continued as new, twice
// here: every run of the chain is the parent's child, and the policy is
// addressed by the child's workflowId, so whichever run is open when it is
// delivered acts on it. The parent closes by termination or by timing out.
func TestChildPolicyFollowsContinueAsNew(t *testing.T) {
	for _, policy := range []api.ChildPolicy{api.ChildPolicyTerminate, api.ChildPolicyRequestCancel} {
		for _, how := range []string{"terminated", "timed out"} {
			t.Run(string(policy)+"/"+how, func(t *testing.T) {
				p := newHarness(t)
				params := rootParams()
				params.Config.ChildPolicy = policy
				p.start(params)
				m := p.pollAndDecide(startChild("c", "child", nil)).Messages[0]
				c := startedChild(t, m.StartChild, "c-0")
				p.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: m.StartChild.InitiatedID, Child: c.s.execution(), Type: c.s.WorkflowType}})
				for i := 1; i <= 2; i++ {
					res := c.pollAndDecide(continueAsNew(nil))
					if res.ContinuedAs == nil {
						t.Fatalf("continue as new %d: %+v", i, res)
					}
					next := *res.ContinuedAs
					next.RunID = fmt.Sprint("c-", i)
					c = newHarness(t)
					c.start(next)
				}
				var res Result
				if how == "terminated" {
					res = p.must(func(s *State) (Result, error) { return s.Terminate(p.env, nil, nil, "", "") })
				} else {
					p.advance(time.Hour)
					res = p.fire(WorkflowTimerKey)
				}
				if len(res.Messages) != 1 || res.Messages[0].WorkflowID != "c" || res.Messages[0].RunID != "" {
					t.Fatalf("the child policy is not addressed to the child's workflowId: %+v", res.Messages)
				}
				res = c.deliver(res.Messages[0])
				switch policy {
				case api.ChildPolicyTerminate:
					c.expectEvents(res, "3:WorkflowExecutionTerminated")
					if a := c.last().WorkflowExecutionTerminatedEventAttributes; a.Cause != api.WorkflowExecutionTerminatedCauseChildPolicyApplied {
						t.Fatalf("terminated %+v", a)
					}
					if c.s.Open || c.s.CloseStatus != api.CloseStatusTerminated {
						t.Fatalf("child's last run: open %v, %s", c.s.Open, c.s.CloseStatus)
					}
				case api.ChildPolicyRequestCancel:
					c.expectEvents(res, "3:WorkflowExecutionCancelRequested")
					if a := c.last().WorkflowExecutionCancelRequestedEventAttributes; a.Cause != api.WorkflowExecutionCancelRequestedCauseChildPolicyApplied || a.ExternalWorkflowExecution != nil {
						t.Fatalf("cancel requested %+v", a)
					}
					if !c.s.CancelRequested {
						t.Fatal("cancelRequested not set")
					}
				}
			})
		}
	}
}

// A child policy reaches whichever run holds the child's workflowId when it
// is delivered, and a run that is not the child the parent started refuses
// it (the service then drops it): one started by someone else after the
// child's chain closed, a child of another run of the parent's workflowId,
// and a later child of the same parent under the same workflowId.
func TestChildPolicySparesUnrelatedRun(t *testing.T) {
	for _, policy := range []api.ChildPolicy{api.ChildPolicyTerminate, api.ChildPolicyRequestCancel} {
		t.Run(string(policy), func(t *testing.T) {
			p := newHarness(t)
			params := rootParams()
			params.Config.ChildPolicy = policy
			p.start(params)
			m := p.pollAndDecide(startChild("c", "child", nil)).Messages[0]
			res := p.must(func(s *State) (Result, error) { return s.Terminate(p.env, nil, nil, "", "") })
			if len(res.Messages) != 1 {
				t.Fatalf("messages %+v", res.Messages)
			}
			msg := res.Messages[0]
			others := map[string]func(*StartParams){
				"no parent": func(sp *StartParams) { sp.Parent, sp.ParentInitiatedEventID = nil, 0 },
				"another parent run": func(sp *StartParams) {
					sp.Parent = &api.WorkflowExecution{WorkflowID: params.WorkflowID, RunID: "r2"}
				},
				"another child of the parent": func(sp *StartParams) { sp.ParentInitiatedEventID += 10 },
			}
			for name, mod := range others {
				sp := m.StartChild.Start
				sp.RunID, sp.Parent, sp.ParentInitiatedEventID = "other", &m.StartChild.Parent, m.StartChild.InitiatedID
				mod(&sp)
				o := newHarness(t)
				o.start(sp)
				o.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.Deliver(o.env, msg) })
				if !o.s.Open || o.s.CancelRequested {
					t.Fatalf("%s: the policy acted on a run that is not the child", name)
				}
			}
			// The child itself takes it.
			c := startedChild(t, m.StartChild, "c-0")
			if res := c.deliver(msg); len(res.Events) == 0 {
				t.Fatal("the child did not act on its parent's policy")
			}
		})
	}
}

// startedChild starts the child a StartChild message asks for, as the
// service does, with the given run id.
func startedChild(t *testing.T, sc *StartChildMsg, runID string) *harness {
	t.Helper()
	if sc == nil {
		t.Fatal("no StartChild message")
	}
	sp := sc.Start
	sp.RunID, sp.Parent, sp.ParentInitiatedEventID = runID, &sc.Parent, sc.InitiatedID
	c := newHarness(t)
	c.start(sp)
	return c
}

// Closing by decision tells the parent; child policy is not applied (inferred: the documentation is silent).
func TestCloseTellsParent(t *testing.T) {
	parent := api.WorkflowExecution{WorkflowID: "pw", RunID: "pr"}
	cases := []struct {
		d    api.Decision
		want ChildClosedMsg
	}{
		{completeWF("out"), ChildClosedMsg{CloseStatus: api.CloseStatusCompleted, Result: api.String("out")}},
		{failWF("r", "d"), ChildClosedMsg{CloseStatus: api.CloseStatusFailed, Reason: api.String("r"), Details: api.String("d")}},
		{cancelWF("d"), ChildClosedMsg{CloseStatus: api.CloseStatusCanceled, Details: api.String("d")}},
	}
	for _, c := range cases {
		h := newHarness(t)
		p := rootParams()
		p.Parent = &parent
		p.ParentInitiatedEventID = 3
		h.start(p)
		h.pollAndDecide(startChild("gc", "child", nil))
		h.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: 5, Child: api.WorkflowExecution{WorkflowID: "gc", RunID: "gcr"}}})
		res := h.pollAndDecide(c.d)
		want := c.want
		want.InitiatedID, want.Child, want.Type = 3, api.WorkflowExecution{WorkflowID: "w1", RunID: "r1"}, p.WorkflowType
		if len(res.Messages) != 1 || res.Messages[0].RunID != "pr" || res.Messages[0].WorkflowID != "pw" || !equalJSON(*res.Messages[0].ChildClosed, want) {
			t.Fatalf("%s messages %+v", c.d.DecisionType, res.Messages)
		}
	}
}

func TestDeliverToClosedRunIsIgnored(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(startChild("c", "child", nil), signalExt("x", "", "s"))
	h.must(func(s *State) (Result, error) {
		return s.Terminate(h.env, api.String(""), api.String(""), api.ChildPolicyAbandon, "")
	})
	for _, m := range []Message{
		{ChildStarted: &ChildStartedMsg{InitiatedID: 5}},
		{ChildStartFailed: &ChildStartFailedMsg{InitiatedID: 5}},
		{ChildClosed: &ChildClosedMsg{InitiatedID: 5, CloseStatus: api.CloseStatusCompleted}},
		{SignalResult: &ExternalResultMsg{InitiatedID: 6}},
		{CancelResult: &ExternalResultMsg{InitiatedID: 6}},
	} {
		if res := h.deliver(m); !isEmpty(res) {
			t.Fatalf("closed run recorded %+v", res)
		}
	}
	_, err := h.try(func(s *State) (Result, error) { return s.Deliver(h.env, Message{StartChild: &StartChildMsg{}}) })
	if err == nil {
		t.Fatal("StartChild delivered")
	}
}

// Event limit: the run is terminated instead of exceeding MaxEvents; a
// call whose events do not fit records none of them and is refused (see
// eventlimit_test.go).
func TestEventLimit(t *testing.T) {
	h := newHarness(t)
	h.env.Limits.MaxEvents = 6
	p := rootParams()
	p.Parent = &api.WorkflowExecution{WorkflowID: "pw", RunID: "pr"}
	p.ParentInitiatedEventID = 2
	h.start(p)                                                                             // 1, 2
	h.must(func(s *State) (Result, error) { return s.Signal(h.env, "a", api.String("")) }) // 3
	st := h.pollDecision()                                                                 // 4
	// DTC (5) would fit, the timer's event (6) not: the batch is refused
	// whole, and the run terminated.
	res := h.decide(st, startTimer("t", "5"), signalExt("x", "", "s"))
	expectRefused(h, res, 5)
	if a := h.last().WorkflowExecutionTerminatedEventAttributes; !equalJSON(*a, api.WorkflowExecutionTerminatedEventAttributes{ChildPolicy: api.ChildPolicyTerminate, Cause: api.WorkflowExecutionTerminatedCauseEventLimitExceeded}) {
		t.Fatalf("terminated %+v", a)
	}
	if len(res.Messages) != 1 || res.Messages[0].ChildClosed == nil || res.Messages[0].ChildClosed.CloseStatus != api.CloseStatusTerminated {
		t.Fatalf("messages %+v", res.Messages)
	}
	if len(h.hist) != 5 {
		t.Fatalf("history has %d events", len(h.hist))
	}

	// Also when a worker's answer would overflow.
	g := newHarness(t)
	g.env.Limits.MaxEvents = 7
	g.start(rootParams())
	g.pollAndDecide(schedAct("a")) // 3, 4, 5
	g.startActivity("a")           // 6
	res = g.must(func(s *State) (Result, error) { return s.CompleteActivityTask(g.env, 5, 6, api.String("")) })
	expectRefused(g, res, 7)
	// A closing decision that fits is recorded as such.
	k := newHarness(t)
	k.env.Limits.MaxEvents = 5
	k.start(rootParams())
	res = k.pollAndDecide(completeWF(""))
	k.expectEvents(res, "4:DecisionTaskCompleted 5:WorkflowExecutionCompleted")
	// A continue-as-new that does not fit is not continued.
	c := newHarness(t)
	c.env.Limits.MaxEvents = 5
	c.start(rootParams())
	res = c.pollAndDecide(marker("m", ""), continueAsNew(nil))
	expectRefused(c, res, 4)
	if res.ContinuedAs != nil {
		t.Fatal("continued past the limit")
	}
}

// Task-list override: permanent, then temporary with a SCHEDULE_TO_START
// timeout that reverts to the execution's list.
func TestTaskListOverride(t *testing.T) {
	h := startDefault(t)
	st := h.pollDecision()
	res := h.must(func(s *State) (Result, error) {
		return s.CompleteDecisionTask(h.env, st, &api.RespondDecisionTaskCompletedInput{TaskList: &api.TaskList{Name: "other"}, Decisions: []api.Decision{startTimer("t", "1")}})
	})
	if a := h.event(4).DecisionTaskCompletedEventAttributes; a.TaskList == nil || a.TaskList.Name != "other" || a.TaskListScheduleToStartTimeout != "" {
		t.Fatalf("dtc %+v", a)
	}
	res = h.fire("ut:t:5")
	h.expectEvents(res, "6:TimerFired 7:DecisionTaskScheduled")
	if a := h.event(7).DecisionTaskScheduledEventAttributes; a.TaskList.Name != "other" || a.ScheduleToStartTimeout != "NONE" {
		t.Fatalf("dts %+v", a)
	}
	if res.AddTasks[0].TaskList != "other" {
		t.Fatalf("task %+v", res.AddTasks)
	}
	st = h.pollDecision() // 8
	h.must(func(s *State) (Result, error) {
		return s.CompleteDecisionTask(h.env, st, &api.RespondDecisionTaskCompletedInput{TaskList: &api.TaskList{Name: "temp"}, TaskListScheduleToStartTimeout: "15", Decisions: []api.Decision{startTimer("u", "1")}})
	}) // 9, 10
	res = h.fire("ut:u:10")
	h.expectEvents(res, "11:TimerFired 12:DecisionTaskScheduled")
	if a := h.event(12).DecisionTaskScheduledEventAttributes; a.TaskList.Name != "temp" || a.ScheduleToStartTimeout != "15" {
		t.Fatalf("dts %+v", a)
	}
	if tm, ok := hasTimer(res, "dt:12:S2S"); !ok || tm.Due != h.env.Now.Add(15*time.Second) {
		t.Fatalf("timers %+v", res.AddTimers)
	}
	h.advance(15 * time.Second)
	res = h.fire("dt:12:S2S")
	h.expectEvents(res, "13:DecisionTaskTimedOut 14:DecisionTaskScheduled")
	if a := h.event(13).DecisionTaskTimedOutEventAttributes; !equalJSON(*a, api.DecisionTaskTimedOutEventAttributes{TimeoutType: api.DecisionTaskTimeoutTypeScheduleToStart, ScheduledEventID: 12, StartedEventID: 0}) {
		t.Fatalf("timed out %+v", a)
	}
	if len(res.DoneTasks) != 1 || res.DoneTasks[0] != 12 || res.AddTasks[0].TaskList != "deciders" || h.event(14).DecisionTaskScheduledEventAttributes.TaskList.Name != "deciders" {
		t.Fatalf("not reverted: %+v", res)
	}
	// A started task's S2S timer is stale.
	st = h.pollDecision()
	if res := h.fire("dt:14:S2S"); !isEmpty(res) {
		t.Fatal("stale S2S fired")
	}
	// Temporary override with a START_TO_CLOSE timeout also reverts.
	h.must(func(s *State) (Result, error) {
		return s.CompleteDecisionTask(h.env, st, &api.RespondDecisionTaskCompletedInput{TaskList: &api.TaskList{Name: "temp"}, TaskListScheduleToStartTimeout: "15", Decisions: []api.Decision{startTimer("v", "1")}})
	})
	h.fire(UserTimerKey("v", h.s.Timers["v"].StartedID))
	sched := h.s.Decision.ScheduledID
	st = h.pollDecision()
	res = h.fire(DecisionStartToCloseKey(st))
	if len(res.Events) != 2 || res.Events[0].DecisionTaskTimedOutEventAttributes.ScheduledEventID != sched ||
		res.AddTasks[0].TaskList != "deciders" || h.s.Decision.Override != "" {
		t.Fatalf("not reverted: %s %+v", evTypes(res.Events), res.AddTasks)
	}
	// A permanent override survives a START_TO_CLOSE timeout.
	st = h.pollDecision()
	h.must(func(s *State) (Result, error) {
		return s.CompleteDecisionTask(h.env, st, &api.RespondDecisionTaskCompletedInput{TaskList: &api.TaskList{Name: "perm"}, Decisions: []api.Decision{startTimer("w", "1")}})
	})
	h.fire(UserTimerKey("w", h.s.Timers["w"].StartedID))
	st = h.pollDecision()
	res = h.fire(DecisionStartToCloseKey(st))
	if res.AddTasks[0].TaskList != "perm" {
		t.Fatalf("permanent override lost: %+v", res.AddTasks)
	}
}

// A decision task on a temporary task-list override that times out
// START_TO_CLOSE while another decision task waits behind it (scheduled on
// the override when a signal came): the override reverts, the waiting task
// is ended with SCHEDULE_TO_START, and the next decision task is scheduled
// on the execution's list with no schedule-to-start limit, so a decider
// polling that list gets it.
func TestTaskListOverrideRevertsTaskScheduledWhileItRan(t *testing.T) {
	h := startDefault(t)
	st := h.pollDecision() // 3
	h.must(func(s *State) (Result, error) {
		return s.CompleteDecisionTask(h.env, st, &api.RespondDecisionTaskCompletedInput{TaskList: &api.TaskList{Name: "tmp"}, TaskListScheduleToStartTimeout: "100", Decisions: []api.Decision{startTimer("t", "1")}})
	}) // 4, 5
	h.advance(time.Second)
	res := h.fire("ut:t:5")
	h.expectEvents(res, "6:TimerFired 7:DecisionTaskScheduled")
	if len(res.AddTasks) != 1 || res.AddTasks[0].TaskList != "tmp" {
		t.Fatalf("tasks %+v", res.AddTasks)
	}
	st = h.pollDecision() // 8
	res = h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", api.String("")) })
	h.expectEvents(res, "9:WorkflowExecutionSignaled 10:DecisionTaskScheduled")
	if a := h.event(10).DecisionTaskScheduledEventAttributes; a.TaskList.Name != "tmp" || a.ScheduleToStartTimeout != "100" || len(res.AddTasks) != 0 {
		t.Fatalf("dts %+v, tasks %+v", a, res.AddTasks)
	}

	h.advance(10 * time.Second)
	res = h.fire(DecisionStartToCloseKey(st))
	h.expectEvents(res, "11:DecisionTaskTimedOut 12:DecisionTaskTimedOut 13:DecisionTaskScheduled")
	if a := h.event(11).DecisionTaskTimedOutEventAttributes; !equalJSON(*a, api.DecisionTaskTimedOutEventAttributes{TimeoutType: api.DecisionTaskTimeoutTypeStartToClose, ScheduledEventID: 7, StartedEventID: 8}) {
		t.Fatalf("timed out %+v", a)
	}
	if a := h.event(12).DecisionTaskTimedOutEventAttributes; !equalJSON(*a, api.DecisionTaskTimedOutEventAttributes{TimeoutType: api.DecisionTaskTimeoutTypeScheduleToStart, ScheduledEventID: 10}) {
		t.Fatalf("pending task ended %+v", a)
	}
	if a := h.event(13).DecisionTaskScheduledEventAttributes; a.TaskList.Name != "deciders" || a.ScheduleToStartTimeout != "NONE" || a.StartToCloseTimeout != "10" {
		t.Fatalf("dts %+v", a)
	}
	if len(res.AddTasks) != 1 || res.AddTasks[0].TaskList != "deciders" || res.AddTasks[0].ScheduledEventID != 13 {
		t.Fatalf("tasks %+v", res.AddTasks)
	}
	if len(res.AddTimers) != 0 || h.s.Decision.Override != "" || h.s.Decision.OverrideTimeout != "" {
		t.Fatalf("timers %+v, decision %+v", res.AddTimers, h.s.Decision)
	}
	if oc := h.s.OpenCounts(); oc.OpenDecisionTasks != 1 {
		t.Fatalf("open counts %+v", oc)
	}
	// The ended task never had a SCHEDULE_TO_START timer to fire.
	if res := h.fire(DecisionScheduleToStartKey(10)); !isEmpty(res) {
		t.Fatalf("S2S of the ended task: %+v", res)
	}
	res = h.must(func(s *State) (Result, error) { return s.StartDecisionTask(h.env, 13, api.String("decider")) })
	h.expectEvents(res, "14:DecisionTaskStarted")
	if h.s.Decision.StartedTemporary {
		t.Fatal("a task on the execution's list counted as on the override")
	}
	// The started task on the execution's list is processed as any other.
	h.decide(14, completeWF("done"))
	if h.s.Open {
		t.Fatal("still open")
	}
}

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   string
		d    time.Duration
		none bool
		err  bool
	}{
		{"0", 0, false, false}, {"30", 30 * time.Second, false, false}, {"99999999", 99999999 * time.Second, false, false},
		{"NONE", 0, true, false}, {"", 0, false, true}, {"none", 0, false, true}, {"-1", 0, false, true},
		{"1.5", 0, false, true}, {"123456789", 0, false, true}, {" 1", 0, false, true},
	}
	for _, c := range cases {
		d, none, err := ParseDuration(c.in)
		if d != c.d || none != c.none || (err != nil) != c.err {
			t.Errorf("ParseDuration(%q) = %v %v %v", c.in, d, none, err)
		}
	}
}

func TestTimerKeys(t *testing.T) {
	if WorkflowTimerKey != "wf" || DecisionScheduleToStartKey(4) != "dt:4:S2S" || DecisionStartToCloseKey(3) != "dt:3:S2C" ||
		ActivityTimerKey(5, ActivityHeartbeat) != "at:5:HB" || ActivityTimerKey(5, ActivityStartToClose) != "at:5:ST2C" || UserTimerKey("t", 9) != "ut:t:9" {
		t.Fatal("keys")
	}
	h := startDefault(t)
	for _, k := range []string{"", "x", "dt:", "dt:x:S2C", "dt:2:ZZ", "at:5", "at:x:HB", "ut:", "ut:t:x", "ut:t:5"} {
		if res := h.fire(k); !isEmpty(res) {
			t.Fatalf("key %q did something", k)
		}
	}
}

// JSON round trip and Clone of a state with every map and pointer in use.
func TestStateJSONAndClone(t *testing.T) {
	h := newHarness(t)
	p := rootParams()
	p.Parent = &api.WorkflowExecution{WorkflowID: "pw", RunID: "pr"}
	h.start(p)
	st := h.pollDecision()
	h.must(func(s *State) (Result, error) {
		return s.CompleteDecisionTask(h.env, st, &api.RespondDecisionTaskCompletedInput{ExecutionContext: api.String("c"), TaskList: &api.TaskList{Name: "o"}, TaskListScheduleToStartTimeout: "5", Decisions: []api.Decision{
			schedAct("a"), startTimer("t", "5"), startChild("c", "child", nil), signalExt("x", "", "s"), cancelExt("y", "r"),
		}})
	})
	h.startActivity("a")
	h.advance(1500 * time.Microsecond)
	h.must(func(s *State) (Result, error) {
		_, r, err := s.RecordHeartbeat(h.env, 5, h.s.Activities["a"].StartedID, api.String("hb"))
		return r, err
	})
	h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", api.String("")) })
	b, err := json.Marshal(h.s)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("HeartbeatDetails")) {
		t.Fatalf("the state's JSON holds heartbeat details, which the store keeps apart: %s", b)
	}
	var back State
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	back.Activities["a"].HeartbeatDetails = h.details[5]
	if !reflect.DeepEqual(&back, h.s) {
		t.Fatalf("round trip differs:\n%s", b)
	}
	c := h.s.Clone()
	c.Activities["a"].HeartbeatDetails = api.String("changed")
	c.Timers["t"].StartedID = 99
	c.Children[7].RunID = "changed"
	c.Externals[8].Control = api.String("changed")
	c.Parent.RunID = "changed"
	c.TagList[0] = "changed"
	if api.Value(h.s.Activities["a"].HeartbeatDetails) != "hb" || h.s.Timers["t"].StartedID != 6 || h.s.Children[7].RunID != "" ||
		api.Value(h.s.Externals[8].Control) != "sc" || h.s.Parent.RunID != "pr" || h.s.TagList[0] != "t1" {
		t.Fatal("clone shares memory")
	}
	if oc := h.s.OpenCounts(); oc != (api.WorkflowExecutionOpenCounts{OpenActivityTasks: 1, OpenDecisionTasks: 1, OpenTimers: 1, OpenChildWorkflowExecutions: 1}) {
		t.Fatalf("open counts %+v", oc)
	}
	var nilState *State
	if nilState.Clone() != nil {
		t.Fatal("nil clone")
	}
}

// A clone of a run of many open items is as deep as ever (each item its
// own copy) and costs a few allocations, not one per item: every step on a
// run clones its state.
func TestCloneOfManyItems(t *testing.T) {
	s := fanOutState(1000)
	for i := range 50 {
		s.Timers[fmt.Sprint("t", i)] = &UserTimer{TimerID: fmt.Sprint("t", i), StartedID: int64(i)}
		s.Children[int64(i)] = &Child{InitiatedID: int64(i), Control: api.String("c")}
		s.Externals[int64(i)] = &External{InitiatedID: int64(i)}
		s.Lambdas[fmt.Sprint("l", i)] = &Lambda{ID: fmt.Sprint("l", i)}
	}
	c := s.Clone()
	if !reflect.DeepEqual(c, s) {
		t.Fatal("clone differs")
	}
	for k, a := range c.Activities {
		if a == s.Activities[k] {
			t.Fatalf("activity %s shared", k)
		}
		a.StartedID = 77
	}
	for k, tm := range c.Timers {
		tm.StartedID = -1
		c.Children[tm.StartedID+1].StartedID = 5
		delete(c.Timers, k)
	}
	for k, a := range s.Activities {
		if a.StartedID != 0 {
			t.Fatalf("activity %s changed with its clone", k)
		}
	}
	if len(s.Timers) != 50 || s.Timers["t3"].StartedID != 3 || s.Children[0].StartedID != 0 {
		t.Fatal("timers or children changed with their clones")
	}
	if n := testing.AllocsPerRun(10, func() { s.Clone() }); n > 100 {
		t.Errorf("a clone of 1200 items takes %.0f allocations", n)
	}
}

// BenchmarkFanOutClone clones the state of a run of 1000 open activities.
func BenchmarkFanOutClone(b *testing.B) {
	s := fanOutState(1000)
	b.ReportAllocs()
	for b.Loop() {
		s.Clone()
	}
}

// A state decoded from JSON with null maps still works.
func TestStateWithNilMaps(t *testing.T) {
	h := startDefault(t)
	s := h.s.Clone()
	s.Activities, s.Timers, s.Children, s.Externals = nil, nil, nil, nil
	h.s = s
	h.pollAndDecide(schedAct("a"), startTimer("t", "1"))
	if len(h.s.Activities) != 1 || len(h.s.Timers) != 1 {
		t.Fatal("maps")
	}
}

// A priority is recorded as the integer it stands for, however it was
// written: a decision's "+0007" or "-0", and a type's default given with a
// million leading zeros (as a database written before registrations
// recorded priorities as integers may hold), which was copied whole into
// each ActivityTaskScheduled of the type, a megabyte each.
func TestPriorityRecordedAsInteger(t *testing.T) {
	h := startDefault(t)
	long := strings.Repeat("0", 1<<20) + "3"
	types := h.env.Types.(*fakeTypes)
	act := types.acts["d/act/1"]
	act.cfg.DefaultTaskPriority = long
	types.acts["d/longprio/1"] = act
	wf := types.wfs["d/child/1"]
	wf.cfg.DefaultTaskPriority = long
	types.wfs["d/longprio/1"] = wf
	res := h.pollAndDecide(
		schedActOf("a", "act", func(a *api.ScheduleActivityTaskDecisionAttributes) { a.TaskPriority = "+0007" }),
		schedActOf("b", "longprio", nil),
		startChild("c1", "longprio", nil),
		startChild("c2", "child", func(a *api.StartChildWorkflowExecutionDecisionAttributes) { a.TaskPriority = "-0" }),
	)
	h.expectEvents(res, "4:DecisionTaskCompleted 5:ActivityTaskScheduled 6:ActivityTaskScheduled 7:StartChildWorkflowExecutionInitiated 8:StartChildWorkflowExecutionInitiated")
	if p := h.event(5).ActivityTaskScheduledEventAttributes.TaskPriority; p != "7" {
		t.Fatalf("decision's +0007 recorded as %q, want 7", p)
	}
	if p := h.event(6).ActivityTaskScheduledEventAttributes.TaskPriority; p != "3" {
		t.Fatalf("type's default recorded as %d bytes, want 3", len(p))
	}
	if len(res.AddTasks) < 2 || res.AddTasks[0].Priority != 7 || res.AddTasks[1].Priority != 3 {
		t.Fatalf("tasks %+v", res.AddTasks)
	}
	if a := h.s.Activities["b"]; a == nil || a.TaskPriority != "3" {
		t.Fatalf("activity state %+v", a)
	}
	if p := h.event(7).StartChildWorkflowExecutionInitiatedEventAttributes.TaskPriority; p != "3" {
		t.Fatalf("child of the type's default recorded as %d bytes, want 3", len(p))
	}
	if p := h.event(8).StartChildWorkflowExecutionInitiatedEventAttributes.TaskPriority; p != "0" {
		t.Fatalf("child's -0 recorded as %q, want 0", p)
	}
	g := startDefault(t)
	res = g.pollAndDecide(continueAsNew(func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) {
		a.TaskPriority = strings.Repeat("0", 1000) + "9"
	}))
	g.expectEvents(res, "4:DecisionTaskCompleted 5:WorkflowExecutionContinuedAsNew")
	if p := g.event(5).WorkflowExecutionContinuedAsNewEventAttributes.TaskPriority; p != "9" {
		t.Fatalf("continued as new with priority of %d bytes, want 9", len(p))
	}
	if p := res.ContinuedAs.Config.TaskPriority; p != "9" {
		t.Fatalf("new run's priority of %d bytes, want 9", len(p))
	}
}
