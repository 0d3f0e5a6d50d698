package history

import (
	"reflect"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

func TestStart(t *testing.T) {
	h := newHarness(t)
	res := h.start(rootParams())
	h.expectEvents(res, "1:WorkflowExecutionStarted 2:DecisionTaskScheduled")
	a := h.event(1).WorkflowExecutionStartedEventAttributes
	want := api.WorkflowExecutionStartedEventAttributes{
		ChildPolicy: api.ChildPolicyTerminate, TaskList: api.TaskList{Name: "deciders"}, TaskPriority: "3",
		ExecutionStartToCloseTimeout: "3600", TaskStartToCloseTimeout: "10", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"},
		TagList: []string{"t1"}, Input: api.String("in"), ParentInitiatedEventID: 0,
	}
	if !equalJSON(*a, want) {
		t.Fatalf("started attrs %+v", *a)
	}
	dts := h.event(2).DecisionTaskScheduledEventAttributes
	if dts.TaskList.Name != "deciders" || dts.TaskPriority != "3" || dts.StartToCloseTimeout != "10" || dts.ScheduleToStartTimeout != "NONE" {
		t.Fatalf("dts %+v", dts)
	}
	wantTask := swfd.Task{Kind: swfd.DecisionTask, Domain: "d", TaskList: "deciders", Priority: 3, RunID: "r1", ScheduledEventID: 2, Scheduled: t0}
	if len(res.AddTasks) != 1 || res.AddTasks[0] != wantTask {
		t.Fatalf("tasks %+v", res.AddTasks)
	}
	if len(res.AddTimers) != 1 || res.AddTimers[0] != (swfd.Timer{RunID: "r1", Key: "wf", Due: t0.Add(time.Hour)}) {
		t.Fatalf("timers %+v", res.AddTimers)
	}
	if !h.s.Open || h.s.StartTime != t0 || h.s.Decision.ScheduledID != 2 {
		t.Fatalf("state %+v", h.s)
	}
	if oc := h.s.OpenCounts(); oc != (api.WorkflowExecutionOpenCounts{OpenDecisionTasks: 1}) {
		t.Fatalf("open counts %+v", oc)
	}
}

// A run started with executionStartToCloseTimeout NONE (a child's or a
// continued run's) records NONE and is held to one year.
func TestStartNoneTimeoutAndChildAndDefaults(t *testing.T) {
	h := newHarness(t)
	p := rootParams()
	p.RunID = ""
	p.Config.ExecutionStartToCloseTimeout = "NONE"
	p.Config.TaskPriority = ""
	p.Parent = &api.WorkflowExecution{WorkflowID: "pw", RunID: "pr"}
	p.ParentInitiatedEventID = 7
	p.ContinuedExecutionRunID = "old"
	p.Config.LambdaRole = "arn:role"
	res := h.start(p)
	if h.s.RunID != "run-1" || res.AddTasks[0].RunID != "run-1" || res.AddTasks[0].Priority != 0 {
		t.Fatalf("run id/priority: %+v", res.AddTasks)
	}
	if len(res.AddTimers) != 1 || res.AddTimers[0] != (swfd.Timer{RunID: "run-1", Key: WorkflowTimerKey, Due: t0.Add(365 * 24 * time.Hour)}) {
		t.Fatalf("NONE timeout armed %+v, want the one-year timer", res.AddTimers)
	}
	a := h.event(1).WorkflowExecutionStartedEventAttributes
	if a.ExecutionStartToCloseTimeout != "NONE" || h.s.Config.ExecutionStartToCloseTimeout != "NONE" {
		t.Fatalf("recorded %q, configured %q, want NONE as given", a.ExecutionStartToCloseTimeout, h.s.Config.ExecutionStartToCloseTimeout)
	}
	if a.ParentWorkflowExecution == nil || *a.ParentWorkflowExecution != (api.WorkflowExecution{WorkflowID: "pw", RunID: "pr"}) ||
		a.ParentInitiatedEventID != 7 || a.ContinuedExecutionRunID != "old" || a.LambdaRole != "arn:role" {
		t.Fatalf("started attrs %+v", a)
	}
}

// A child started, or a run continued, with executionStartToCloseTimeout
// NONE records NONE and times out at one year, as a run given 31536000
// does; the child's parent is told.
func TestNoneExecutionTimeoutIsOneYear(t *testing.T) {
	const year = 365 * 24 * time.Hour
	parent := newHarness(t)
	parent.start(rootParams())
	res := parent.pollAndDecide(startChild("kid", "child", func(a *api.StartChildWorkflowExecutionDecisionAttributes) { a.ExecutionStartToCloseTimeout = "NONE" }))
	var child *StartParams
	for _, m := range res.Messages {
		if m.StartChild != nil {
			child = &m.StartChild.Start
		}
	}
	looping := newHarness(t)
	looping.start(rootParams())
	res = looping.pollAndDecide(continueAsNew(func(a *api.ContinueAsNewWorkflowExecutionDecisionAttributes) { a.ExecutionStartToCloseTimeout = "NONE" }))
	if child == nil || res.ContinuedAs == nil {
		t.Fatal("no child, or no continued run")
	}
	if a := looping.last().WorkflowExecutionContinuedAsNewEventAttributes; a.ExecutionStartToCloseTimeout != "NONE" {
		t.Fatalf("continued as new with %q, want NONE", a.ExecutionStartToCloseTimeout)
	}
	for _, tc := range []struct {
		name   string
		p      StartParams
		parent bool
	}{{"child", *child, true}, {"continued", *res.ContinuedAs, false}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.advance(24 * time.Hour) // started a day after the others
			start := h.env.Now
			res := h.start(tc.p)
			if a := h.event(1).WorkflowExecutionStartedEventAttributes; a.ExecutionStartToCloseTimeout != "NONE" {
				t.Fatalf("started with %q, want NONE as given", a.ExecutionStartToCloseTimeout)
			}
			tm, ok := hasTimer(res, WorkflowTimerKey)
			if !ok || !tm.Due.Equal(start.Add(year)) {
				t.Fatalf("timeout %+v (armed %v), want at %v", tm, ok, start.Add(year))
			}
			h.env.Now = tm.Due
			res = h.fire(WorkflowTimerKey)
			h.expectEvents(res, "3:WorkflowExecutionTimedOut")
			if a := h.last().WorkflowExecutionTimedOutEventAttributes; a.TimeoutType != api.WorkflowExecutionTimeoutTypeStartToClose {
				t.Fatalf("timed out %+v", a)
			}
			if h.s.Open || h.s.CloseStatus != api.CloseStatusTimedOut || !h.s.CloseTime.Equal(start.Add(year)) {
				t.Fatalf("closed %v %s at %v, want TIMED_OUT at %v", !h.s.Open, h.s.CloseStatus, h.s.CloseTime, start.Add(year))
			}
			told := len(res.Messages) == 1 && res.Messages[0].ChildClosed != nil && res.Messages[0].ChildClosed.CloseStatus == api.CloseStatusTimedOut
			if told != tc.parent {
				t.Fatalf("parent told: %v, want %v (%+v)", told, tc.parent, res.Messages)
			}
		})
	}
}

// Sequence A: one activity, happy path, with exact ids.
func TestSequenceA(t *testing.T) {
	h := startDefault(t)
	st := h.pollDecision()
	if st != 3 || h.s.PreviousStartedEventID != 0 {
		t.Fatalf("started %d prev %d", st, h.s.PreviousStartedEventID)
	}
	res := h.decide(st, schedAct("a1"))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:ActivityTaskScheduled")
	dtc := h.event(4).DecisionTaskCompletedEventAttributes
	if dtc.ScheduledEventID != 2 || dtc.StartedEventID != 3 {
		t.Fatalf("dtc %+v", dtc)
	}
	ats := h.event(5).ActivityTaskScheduledEventAttributes
	want := api.ActivityTaskScheduledEventAttributes{
		ActivityID: "a1", ActivityType: api.ActivityType{Name: "act", Version: "1"}, Input: api.String("ai"), DecisionTaskCompletedEventID: 4,
		TaskList: api.TaskList{Name: "acts"}, TaskPriority: "5", ScheduleToStartTimeout: "30", ScheduleToCloseTimeout: "300",
		StartToCloseTimeout: "60", HeartbeatTimeout: "20",
	}
	if !equalJSON(*ats, want) {
		t.Fatalf("ats %+v", *ats)
	}
	if len(res.AddTasks) != 1 || res.AddTasks[0] != (swfd.Task{Kind: swfd.ActivityTask, Domain: "d", TaskList: "acts", Priority: 5, RunID: "r1", ScheduledEventID: 5, Scheduled: t0}) {
		t.Fatalf("tasks %+v", res.AddTasks)
	}
	if _, ok := hasTimer(res, "at:5:S2S"); !ok {
		t.Fatalf("no S2S timer: %+v", res.AddTimers)
	}
	if tm, ok := hasTimer(res, "at:5:S2C"); !ok || tm.Due != t0.Add(300*time.Second) {
		t.Fatalf("no S2C timer: %+v", res.AddTimers)
	}
	if !hasString(res.DeleteTimers, "dt:3:S2C") {
		t.Fatalf("decision timer not deleted: %v", res.DeleteTimers)
	}
	if h.s.LatestActivityTaskTimestamp != t0 || h.s.PreviousStartedEventID != 3 {
		t.Fatalf("state %+v", h.s)
	}
	if oc := h.s.OpenCounts(); oc.OpenActivityTasks != 1 || oc.OpenDecisionTasks != 0 {
		t.Fatalf("open counts %+v", oc)
	}

	h.advance(time.Second)
	a := h.s.Activities["a1"]
	res = h.must(func(s *State) (Result, error) { return s.StartActivityTask(h.env, a.ScheduledID, api.String("worker")) })
	h.expectEvents(res, "6:ActivityTaskStarted")
	if h.event(6).ActivityTaskStartedEventAttributes.ScheduledEventID != 5 || h.event(6).ActivityTaskStartedEventAttributes.Identity == nil || *h.event(6).ActivityTaskStartedEventAttributes.Identity != "worker" {
		t.Fatalf("ats %+v", h.event(6).ActivityTaskStartedEventAttributes)
	}
	if len(res.DoneTasks) != 1 || res.DoneTasks[0] != 5 || !hasString(res.DeleteTimers, "at:5:S2S") {
		t.Fatalf("start res %+v", res)
	}
	if tm, ok := hasTimer(res, "at:5:ST2C"); !ok || tm.Due != h.env.Now.Add(60*time.Second) {
		t.Fatalf("ST2C %+v", res.AddTimers)
	}
	if tm, ok := hasTimer(res, "at:5:HB"); !ok || tm.Due != h.env.Now.Add(20*time.Second) {
		t.Fatalf("HB %+v", res.AddTimers)
	}
	// A second start of the same task fails.
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.StartActivityTask(h.env, 5, api.String("w2")) })

	res = h.must(func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, 5, 6, api.String("out")) })
	h.expectEvents(res, "7:ActivityTaskCompleted 8:DecisionTaskScheduled")
	if c := h.event(7).ActivityTaskCompletedEventAttributes; !equalJSON(*c, api.ActivityTaskCompletedEventAttributes{Result: api.String("out"), ScheduledEventID: 5, StartedEventID: 6}) {
		t.Fatalf("completed %+v", c)
	}
	for _, k := range []string{"at:5:S2C", "at:5:ST2C", "at:5:HB"} {
		if !hasString(res.DeleteTimers, k) {
			t.Fatalf("timer %s not deleted: %v", k, res.DeleteTimers)
		}
	}
	if len(res.AddTasks) != 1 || res.AddTasks[0].ScheduledEventID != 8 || res.AddTasks[0].Kind != swfd.DecisionTask {
		t.Fatalf("tasks %+v", res.AddTasks)
	}
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, 5, 6, api.String("again")) })

	st = h.pollDecision()
	if st != 9 || h.s.PreviousStartedEventID != 3 {
		t.Fatalf("started %d prev %d", st, h.s.PreviousStartedEventID)
	}
	res = h.decide(st, completeWF("done"))
	h.expectEvents(res, "10:DecisionTaskCompleted 11:WorkflowExecutionCompleted")
	if c := h.event(11).WorkflowExecutionCompletedEventAttributes; api.Value(c.Result) != "done" || c.DecisionTaskCompletedEventID != 10 {
		t.Fatalf("completed %+v", c)
	}
	if !res.Closed || h.s.Open || h.s.CloseStatus != api.CloseStatusCompleted || h.s.CloseTime != h.env.Now {
		t.Fatalf("not closed: %+v", h.s)
	}
	if len(res.Messages) != 0 {
		t.Fatalf("root run sent messages %+v", res.Messages)
	}
	if oc := h.s.OpenCounts(); oc != (api.WorkflowExecutionOpenCounts{}) {
		t.Fatalf("open counts after close %+v", oc)
	}
	// Everything on a closed run is unknown.
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.Signal(h.env, "x", api.String("")) })
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.RequestCancel(h.env) })
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.Terminate(h.env, api.String(""), api.String(""), "", "") })
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.CompleteDecisionTask(h.env, 9, nil) })
	if res := h.fire("wf"); !isEmpty(res) {
		t.Fatalf("timer on closed run: %+v", res)
	}
}

// Sequence B: the four activity timeouts.
func TestSequenceBScheduleToStart(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedAct("a1"))
	h.advance(30 * time.Second)
	res := h.fire("at:5:S2S")
	h.expectEvents(res, "6:ActivityTaskTimedOut 7:DecisionTaskScheduled")
	if a := h.event(6).ActivityTaskTimedOutEventAttributes; !equalJSON(*a, api.ActivityTaskTimedOutEventAttributes{TimeoutType: api.ActivityTaskTimeoutTypeScheduleToStart, ScheduledEventID: 5, StartedEventID: 0}) {
		t.Fatalf("timed out %+v", a)
	}
	if len(res.DoneTasks) != 1 || res.DoneTasks[0] != 5 || !hasString(res.DeleteTimers, "at:5:S2C") {
		t.Fatalf("res %+v", res)
	}
	if len(h.s.Activities) != 0 {
		t.Fatal("activity still open")
	}
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.StartActivityTask(h.env, 5, api.String("late")) })
	// Stale timers of the gone activity do nothing.
	for _, k := range []string{"at:5:S2S", "at:5:S2C", "at:5:ST2C", "at:5:HB"} {
		if res := h.fire(k); !isEmpty(res) {
			t.Fatalf("%s fired twice: %+v", k, res)
		}
	}
}

func TestSequenceBStartToClose(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedAct("a1"))
	h.startActivity("a1")
	h.advance(10 * time.Second)
	// The S2S timer of a started activity is stale.
	if res := h.fire("at:5:S2S"); !isEmpty(res) {
		t.Fatalf("S2S after start: %+v", res)
	}
	h.must(func(s *State) (Result, error) {
		_, r, err := s.RecordHeartbeat(h.env, 5, 6, api.String("half"))
		return r, err
	})
	h.advance(50 * time.Second)
	res := h.fire("at:5:ST2C")
	h.expectEvents(res, "7:ActivityTaskTimedOut 8:DecisionTaskScheduled")
	if a := h.event(7).ActivityTaskTimedOutEventAttributes; !equalJSON(*a, api.ActivityTaskTimedOutEventAttributes{TimeoutType: api.ActivityTaskTimeoutTypeStartToClose, ScheduledEventID: 5, StartedEventID: 6, Details: api.String("half")}) {
		t.Fatalf("timed out %+v", a)
	}
	if len(res.DoneTasks) != 0 {
		t.Fatalf("started task in DoneTasks: %v", res.DoneTasks)
	}
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, 5, 6, api.String("late")) })
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) {
		_, r, err := s.RecordHeartbeat(h.env, 5, 6, api.String(""))
		return r, err
	})
}

func TestSequenceBHeartbeat(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedAct("a1"))
	h.startActivity("a1") // started at t0, HB due t0+20
	h.advance(15 * time.Second)
	var cancel bool
	res := h.must(func(s *State) (Result, error) {
		c, r, err := s.RecordHeartbeat(h.env, 5, 6, api.String("d1"))
		cancel = c
		return r, err
	})
	if cancel || len(res.Events) != 0 {
		t.Fatalf("heartbeat: cancel=%v %+v", cancel, res)
	}
	if tm, ok := hasTimer(res, "at:5:HB"); !ok || tm.Due != t0.Add(35*time.Second) {
		t.Fatalf("heartbeat timer not reset: %+v", res.AddTimers)
	}
	// The old timer (due t0+20) fires late: stale, nothing recorded, and
	// the timer is re-armed at the real deadline.
	h.advance(5 * time.Second)
	res = h.fire("at:5:HB")
	if len(res.Events) != 0 {
		t.Fatalf("stale heartbeat timer timed out: %s", evTypes(res.Events))
	}
	if tm, ok := hasTimer(res, "at:5:HB"); !ok || tm.Due != t0.Add(35*time.Second) {
		t.Fatalf("not re-armed: %+v", res.AddTimers)
	}
	h.advance(15 * time.Second) // t0+35
	res = h.fire("at:5:HB")
	h.expectEvents(res, "7:ActivityTaskTimedOut 8:DecisionTaskScheduled")
	if a := h.event(7).ActivityTaskTimedOutEventAttributes; !equalJSON(*a, api.ActivityTaskTimedOutEventAttributes{TimeoutType: api.ActivityTaskTimeoutTypeHeartbeat, ScheduledEventID: 5, StartedEventID: 6, Details: api.String("d1")}) {
		t.Fatalf("timed out %+v", a)
	}
	if !hasString(res.DeleteTimers, "at:5:ST2C") || !hasString(res.DeleteTimers, "at:5:S2C") {
		t.Fatalf("other timers kept: %v", res.DeleteTimers)
	}
}

func TestSequenceBScheduleToClose(t *testing.T) {
	for _, started := range []bool{false, true} {
		h := startDefault(t)
		h.pollAndDecide(schedAct("a1"))
		want := int64(0)
		if started {
			want = h.startActivity("a1")
		}
		h.advance(300 * time.Second)
		res := h.fire("at:5:S2C")
		want2 := "6:ActivityTaskTimedOut 7:DecisionTaskScheduled"
		if started {
			want2 = "7:ActivityTaskTimedOut 8:DecisionTaskScheduled"
		}
		h.expectEvents(res, want2)
		a := h.hist[len(h.hist)-2]
		if x := a.ActivityTaskTimedOutEventAttributes; x.TimeoutType != api.ActivityTaskTimeoutTypeScheduleToClose || x.StartedEventID != want || x.ScheduledEventID != 5 {
			t.Fatalf("timed out %+v", x)
		}
		if started == (len(res.DoneTasks) == 1) {
			t.Fatalf("DoneTasks %v (started=%v)", res.DoneTasks, started)
		}
	}
}

func TestActivityNoneTimeoutsArmNothing(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(schedActOf("a1", "none", nil))
	for _, tm := range res.AddTimers {
		if tm.Key != "at:5:S2S" && tm.Key != "at:5:S2C" {
			continue
		}
		t.Fatalf("NONE armed %s", tm.Key)
	}
	res = h.must(func(s *State) (Result, error) { return s.StartActivityTask(h.env, 5, api.String("w")) })
	if len(res.AddTimers) != 0 {
		t.Fatalf("timers %+v", res.AddTimers)
	}
	res = h.must(func(s *State) (Result, error) {
		_, r, err := s.RecordHeartbeat(h.env, 5, 6, api.String("x"))
		return r, err
	})
	if len(res.AddTimers) != 0 {
		t.Fatalf("timers %+v", res.AddTimers)
	}
}

// Sequence C: decision task START_TO_CLOSE timeout.
func TestSequenceC(t *testing.T) {
	h := startDefault(t)
	st := h.pollDecision()
	h.advance(10 * time.Second)
	res := h.fire("dt:3:S2C")
	h.expectEvents(res, "4:DecisionTaskTimedOut 5:DecisionTaskScheduled")
	if a := h.event(4).DecisionTaskTimedOutEventAttributes; !equalJSON(*a, api.DecisionTaskTimedOutEventAttributes{TimeoutType: api.DecisionTaskTimeoutTypeStartToClose, ScheduledEventID: 2, StartedEventID: 3}) {
		t.Fatalf("timed out %+v", a)
	}
	if h.event(5).EventTimestamp != h.event(4).EventTimestamp {
		t.Fatal("DTS not at the timeout's timestamp")
	}
	if len(res.AddTasks) != 1 || res.AddTasks[0].ScheduledEventID != 5 {
		t.Fatalf("tasks %+v", res.AddTasks)
	}
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.CompleteDecisionTask(h.env, st, nil) })
	if res := h.fire("dt:3:S2C"); !isEmpty(res) {
		t.Fatalf("fired twice %+v", res)
	}
	st = h.pollDecision()
	if st != 6 || h.s.PreviousStartedEventID != 0 {
		t.Fatalf("started %d prev %d", st, h.s.PreviousStartedEventID)
	}
	// A completed task's timer is stale.
	h.decide(st)
	if res := h.fire("dt:6:S2C"); !isEmpty(res) {
		t.Fatalf("stale decision timer fired %+v", res)
	}
}

// A decision timeout while a task is already pending releases that task
// instead of scheduling another.
func TestDecisionTimeoutWithPending(t *testing.T) {
	h := startDefault(t)
	h.pollDecision()
	res := h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", api.String("")) })
	h.expectEvents(res, "4:WorkflowExecutionSignaled 5:DecisionTaskScheduled")
	if len(res.AddTasks) != 0 {
		t.Fatalf("task handed out while one runs: %+v", res.AddTasks)
	}
	res = h.fire("dt:3:S2C")
	h.expectEvents(res, "6:DecisionTaskTimedOut")
	if len(res.AddTasks) != 1 || res.AddTasks[0].ScheduledEventID != 5 {
		t.Fatalf("tasks %+v", res.AddTasks)
	}
}

// Sequence D: workflow timeout.
func TestSequenceD(t *testing.T) {
	h := newHarness(t)
	p := rootParams()
	p.Parent = &api.WorkflowExecution{WorkflowID: "pw", RunID: "pr"}
	p.ParentInitiatedEventID = 9
	p.Config.ChildPolicy = api.ChildPolicyRequestCancel
	h.start(p)
	h.pollAndDecide(schedAct("a1"), startTimer("t", "100"), startChild("c1", "child", nil), startChild("c2", "child", nil))
	h.deliver(Message{ChildStarted: &ChildStartedMsg{InitiatedID: 7, Child: api.WorkflowExecution{WorkflowID: "c1", RunID: "cr1"}, Type: api.WorkflowType{Name: "child", Version: "1"}}})
	h.advance(time.Hour)
	res := h.fire("wf")
	h.expectEvents(res, "11:WorkflowExecutionTimedOut")
	if a := h.last().WorkflowExecutionTimedOutEventAttributes; !equalJSON(*a, api.WorkflowExecutionTimedOutEventAttributes{TimeoutType: api.WorkflowExecutionTimeoutTypeStartToClose, ChildPolicy: api.ChildPolicyRequestCancel}) {
		t.Fatalf("timed out %+v", a)
	}
	if !res.Closed || h.s.CloseStatus != api.CloseStatusTimedOut || len(res.AddTasks) != 0 || len(res.AddTimers) != 0 {
		t.Fatalf("res %+v", res)
	}
	if len(res.Messages) != 3 {
		t.Fatalf("messages %+v", res.Messages)
	}
	pm := res.Messages[0]
	if pm.RunID != "pr" || pm.WorkflowID != "pw" || pm.Domain != "d" || pm.ChildClosed == nil ||
		*pm.ChildClosed != (ChildClosedMsg{InitiatedID: 9, Child: api.WorkflowExecution{WorkflowID: "w1", RunID: "r1"}, Type: p.WorkflowType, CloseStatus: api.CloseStatusTimedOut, TimeoutType: api.WorkflowExecutionTimeoutTypeStartToClose}) {
		t.Fatalf("parent message %+v", pm)
	}
	// The started child and the one whose start is in flight alike: by
	// workflowId, named by their parent.
	cm := res.Messages[1]
	if cm.WorkflowID != "c1" || cm.RunID != "" || cm.Cancel == nil || !cm.Cancel.ChildPolicy || cm.Cancel.Sender != nil ||
		cm.Cancel.Parent == nil || *cm.Cancel.Parent != (ParentRef{Run: api.WorkflowExecution{WorkflowID: "w1", RunID: "r1"}, InitiatedID: 7}) {
		t.Fatalf("child message %+v", cm)
	}
	if cm := res.Messages[2]; cm.WorkflowID != "c2" || cm.RunID != "" || cm.Cancel == nil || !cm.Cancel.ChildPolicy ||
		cm.Cancel.Parent == nil || cm.Cancel.Parent.InitiatedID != 8 {
		t.Fatalf("unstarted child message %+v", cm)
	}
	if oc := h.s.OpenCounts(); oc != (api.WorkflowExecutionOpenCounts{}) {
		t.Fatalf("open counts %+v", oc)
	}
	// Everything after is ignored or unknown.
	for _, k := range []string{"at:5:S2S", "ut:t:6", "wf"} {
		if res := h.fire(k); !isEmpty(res) {
			t.Fatalf("%s after close: %+v", k, res)
		}
	}
	if res := h.deliver(Message{ChildClosed: &ChildClosedMsg{InitiatedID: 7, CloseStatus: api.CloseStatusCompleted}}); !isEmpty(res) {
		t.Fatalf("closed parent recorded child close: %+v", res)
	}
}

// Sequence E: cancel via the API, then CancelWorkflowExecution.
func TestSequenceE(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedAct("a1"))
	h.startActivity("a1")
	res := h.must(func(s *State) (Result, error) { return s.RequestCancel(h.env) })
	h.expectEvents(res, "7:WorkflowExecutionCancelRequested 8:DecisionTaskScheduled")
	if a := h.event(7).WorkflowExecutionCancelRequestedEventAttributes; !equalJSON(*a, api.WorkflowExecutionCancelRequestedEventAttributes{}) {
		t.Fatalf("cancel requested attrs %+v", a)
	}
	if !h.s.CancelRequested {
		t.Fatal("cancelRequested not set")
	}
	st := h.pollDecision()
	res = h.decide(st, cancelAct("a1"), cancelWF("bye"))
	h.expectEvents(res, "10:DecisionTaskCompleted 11:ActivityTaskCancelRequested 12:WorkflowExecutionCanceled")
	if a := h.event(11).ActivityTaskCancelRequestedEventAttributes; !equalJSON(*a, api.ActivityTaskCancelRequestedEventAttributes{ActivityID: "a1", DecisionTaskCompletedEventID: 10}) {
		t.Fatalf("cancel requested %+v", a)
	}
	if a := h.event(12).WorkflowExecutionCanceledEventAttributes; !equalJSON(*a, api.WorkflowExecutionCanceledEventAttributes{Details: api.String("bye"), DecisionTaskCompletedEventID: 10}) {
		t.Fatalf("canceled %+v", a)
	}
	if h.s.CloseStatus != api.CloseStatusCanceled || !res.Closed {
		t.Fatal("not canceled")
	}
	// The worker's later answer is unknown.
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.CancelActivityTask(h.env, 5, 6, api.String("")) })
}

// A cancel request while a decision task runs: DTS recorded at once, the
// running task's closing decision fails.
func TestSequenceECancelDuringDecision(t *testing.T) {
	h := startDefault(t)
	st := h.pollDecision()
	res := h.must(func(s *State) (Result, error) { return s.RequestCancel(h.env) })
	h.expectEvents(res, "4:WorkflowExecutionCancelRequested 5:DecisionTaskScheduled")
	if len(res.AddTasks) != 0 {
		t.Fatalf("task handed out during running task")
	}
	// A second request records another event, no second DTS.
	res = h.must(func(s *State) (Result, error) { return s.RequestCancel(h.env) })
	h.expectEvents(res, "6:WorkflowExecutionCancelRequested")
	res = h.decide(st, cancelWF(""))
	h.expectEvents(res, "7:DecisionTaskCompleted 8:CancelWorkflowExecutionFailed")
	if a := h.event(8).CancelWorkflowExecutionFailedEventAttributes; !equalJSON(*a, api.CancelWorkflowExecutionFailedEventAttributes{Cause: api.CancelWorkflowExecutionFailedCauseUnhandledDecision, DecisionTaskCompletedEventID: 7}) {
		t.Fatalf("failed %+v", a)
	}
	if len(res.AddTasks) != 1 || res.AddTasks[0].ScheduledEventID != 5 {
		t.Fatalf("pending task not released: %+v", res.AddTasks)
	}
	st = h.pollDecision()
	if st != 9 || h.s.PreviousStartedEventID != 3 {
		t.Fatalf("started %d prev %d", st, h.s.PreviousStartedEventID)
	}
	res = h.decide(st, cancelWF(""))
	h.expectEvents(res, "10:DecisionTaskCompleted 11:WorkflowExecutionCanceled")
}

// Sequence F: cancelling a running activity, and an unstarted one.
func TestSequenceF(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedAct("a1"), schedAct("a2"))                                           // 4 DTC, 5, 6
	h.startActivity("a1")                                                                     // 7
	h.must(func(s *State) (Result, error) { return s.Signal(h.env, "stop", api.String("")) }) // 8, 9 DTS
	res := h.pollAndDecide(cancelAct("a1"), cancelAct("a2"))                                  // 10 DTSt
	h.expectEvents(res, "11:DecisionTaskCompleted 12:ActivityTaskCancelRequested 13:ActivityTaskCancelRequested 14:ActivityTaskCanceled 15:DecisionTaskScheduled")
	if a := h.event(14).ActivityTaskCanceledEventAttributes; !equalJSON(*a, api.ActivityTaskCanceledEventAttributes{ScheduledEventID: 6, StartedEventID: 0, LatestCancelRequestedEventID: 13}) {
		t.Fatalf("canceled %+v", a)
	}
	if len(res.DoneTasks) != 1 || res.DoneTasks[0] != 6 || !hasString(res.DeleteTimers, "at:6:S2S") {
		t.Fatalf("queued task not removed: %+v", res)
	}
	if len(res.AddTasks) != 1 || res.AddTasks[0].ScheduledEventID != 15 {
		t.Fatalf("decision task %+v", res.AddTasks)
	}
	var cancel bool
	h.must(func(s *State) (Result, error) {
		c, r, err := s.RecordHeartbeat(h.env, 5, 7, api.String(""))
		cancel = c
		return r, err
	})
	if !cancel {
		t.Fatal("heartbeat did not report cancelRequested")
	}
	res = h.must(func(s *State) (Result, error) { return s.CancelActivityTask(h.env, 5, 7, api.String("stopped")) })
	// DTS 15 is still pending: no new one.
	h.expectEvents(res, "16:ActivityTaskCanceled")
	if a := h.event(16).ActivityTaskCanceledEventAttributes; !equalJSON(*a, api.ActivityTaskCanceledEventAttributes{Details: api.String("stopped"), ScheduledEventID: 5, StartedEventID: 7, LatestCancelRequestedEventID: 12}) {
		t.Fatalf("canceled %+v", a)
	}
	// Cancel of an unknown activity.
	res = h.pollAndDecide(cancelAct("a1")) // 17 DTSt
	h.expectEvents(res, "18:DecisionTaskCompleted 19:RequestCancelActivityTaskFailed 20:DecisionTaskScheduled")
	if a := h.event(19).RequestCancelActivityTaskFailedEventAttributes; !equalJSON(*a, api.RequestCancelActivityTaskFailedEventAttributes{ActivityID: "a1", Cause: api.RequestCancelActivityTaskFailedCauseActivityIdUnknown, DecisionTaskCompletedEventID: 18}) {
		t.Fatalf("failed %+v", a)
	}
}

// A worker may ignore the cancel request and complete normally; a started
// activity's cancel request schedules no decision task by itself.
func TestSequenceFWorkerIgnoresCancel(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedAct("a1"))
	h.startActivity("a1")                                                                  // 6
	h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", api.String("")) }) // 7, 8
	res := h.pollAndDecide(cancelAct("a1"))                                                // 9
	h.expectEvents(res, "10:DecisionTaskCompleted 11:ActivityTaskCancelRequested")
	res = h.must(func(s *State) (Result, error) {
		return s.FailActivityTask(h.env, 5, 6, api.String("why"), api.String("how"))
	})
	h.expectEvents(res, "12:ActivityTaskFailed 13:DecisionTaskScheduled")
	if a := h.event(12).ActivityTaskFailedEventAttributes; !equalJSON(*a, api.ActivityTaskFailedEventAttributes{Reason: api.String("why"), Details: api.String("how"), ScheduledEventID: 5, StartedEventID: 6}) {
		t.Fatalf("failed %+v", a)
	}
}

// A worker may report its task canceled though no cancellation was asked
// for: the task ends ActivityTaskCanceled with latestCancelRequestedEventId
// 0, and a decision task is scheduled, as for any outcome.
func TestCancelActivityTaskWithoutRequest(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedAct("a1")) // 4 DTC, 5
	h.startActivity("a1")           // 6
	res := h.must(func(s *State) (Result, error) { return s.CancelActivityTask(h.env, 5, 6, api.String("gave up")) })
	h.expectEvents(res, "7:ActivityTaskCanceled 8:DecisionTaskScheduled")
	if a := h.event(7).ActivityTaskCanceledEventAttributes; !equalJSON(*a, api.ActivityTaskCanceledEventAttributes{Details: api.String("gave up"), ScheduledEventID: 5, StartedEventID: 6, LatestCancelRequestedEventID: 0}) {
		t.Fatalf("canceled %+v", a)
	}
}

// Sequence H: signals.
func TestSequenceHSignalAPI(t *testing.T) {
	h := startDefault(t)
	res := h.must(func(s *State) (Result, error) { return s.Signal(h.env, "go", api.String("payload")) })
	// DTS 2 is pending: the signal coalesces.
	h.expectEvents(res, "3:WorkflowExecutionSignaled")
	if a := h.event(3).WorkflowExecutionSignaledEventAttributes; !equalJSON(*a, api.WorkflowExecutionSignaledEventAttributes{SignalName: "go", Input: api.String("payload")}) {
		t.Fatalf("signaled %+v", a)
	}
	h.pollAndDecide()
	res = h.must(func(s *State) (Result, error) { return s.Signal(h.env, "again", api.String("")) })
	h.expectEvents(res, "6:WorkflowExecutionSignaled 7:DecisionTaskScheduled")
	if len(res.AddTasks) != 1 {
		t.Fatal("no task")
	}
}

func TestSequenceHExternalSignal(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(signalExt("other", "orun", "ping"), signalExt("gone", "", "ping"))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:SignalExternalWorkflowExecutionInitiated 6:SignalExternalWorkflowExecutionInitiated")
	if a := h.event(5).SignalExternalWorkflowExecutionInitiatedEventAttributes; !equalJSON(*a, api.SignalExternalWorkflowExecutionInitiatedEventAttributes{WorkflowID: "other", RunID: api.String("orun"), SignalName: "ping", Input: api.String("sig-in"), Control: api.String("sc"), DecisionTaskCompletedEventID: 4}) {
		t.Fatalf("initiated %+v", a)
	}
	if len(res.Messages) != 2 {
		t.Fatalf("messages %+v", res.Messages)
	}
	m := res.Messages[0]
	if m.Domain != "d" || m.WorkflowID != "other" || m.RunID != "orun" || m.Signal == nil ||
		!equalJSON(*m.Signal, SignalMsg{Sender: api.WorkflowExecution{WorkflowID: "w1", RunID: "r1"}, InitiatedID: 5, SignalName: "ping", Input: api.String("sig-in")}) {
		t.Fatalf("message %+v", m)
	}
	if res.Messages[1].RunID != "" || res.Messages[1].WorkflowID != "gone" {
		t.Fatalf("message %+v", res.Messages[1])
	}
	res = h.deliver(Message{SignalResult: &ExternalResultMsg{InitiatedID: 5, Target: api.WorkflowExecution{WorkflowID: "other", RunID: "orun"}}})
	h.expectEvents(res, "7:ExternalWorkflowExecutionSignaled 8:DecisionTaskScheduled")
	if a := h.event(7).ExternalWorkflowExecutionSignaledEventAttributes; !equalJSON(*a, api.ExternalWorkflowExecutionSignaledEventAttributes{WorkflowExecution: api.WorkflowExecution{WorkflowID: "other", RunID: "orun"}, InitiatedEventID: 5}) {
		t.Fatalf("signaled %+v", a)
	}
	res = h.deliver(Message{SignalResult: &ExternalResultMsg{InitiatedID: 6, Failed: true}})
	h.expectEvents(res, "9:SignalExternalWorkflowExecutionFailed")
	if a := h.event(9).SignalExternalWorkflowExecutionFailedEventAttributes; !equalJSON(*a, api.SignalExternalWorkflowExecutionFailedEventAttributes{WorkflowID: "gone", Cause: api.SignalExternalWorkflowExecutionFailedCauseUnknownExternalWorkflowExecution, InitiatedEventID: 6, DecisionTaskCompletedEventID: 4, Control: api.String("sc")}) {
		t.Fatalf("failed %+v", a)
	}
	// Duplicate or mismatched answers are ignored.
	if res := h.deliver(Message{SignalResult: &ExternalResultMsg{InitiatedID: 5}}); !isEmpty(res) {
		t.Fatalf("duplicate answer recorded %+v", res)
	}
	if len(h.s.Externals) != 0 {
		t.Fatal("externals left")
	}
}

func TestSequenceHSignalTarget(t *testing.T) {
	h := startDefault(t)
	sender := api.WorkflowExecution{WorkflowID: "s", RunID: "sr"}
	res := h.deliver(Message{Signal: &SignalMsg{Sender: sender, InitiatedID: 12, SignalName: "ping", Input: api.String("x")}})
	h.expectEvents(res, "3:WorkflowExecutionSignaled")
	a := h.event(3).WorkflowExecutionSignaledEventAttributes
	if a.SignalName != "ping" || api.Value(a.Input) != "x" || *a.ExternalWorkflowExecution != sender || a.ExternalInitiatedEventID != 12 {
		t.Fatalf("signaled %+v", a)
	}
	h.must(func(s *State) (Result, error) { return s.Terminate(h.env, api.String(""), api.String(""), "", "") })
	_, err := h.try(func(s *State) (Result, error) {
		return s.Deliver(h.env, Message{Signal: &SignalMsg{SignalName: "late"}})
	})
	if faultCode(err) != api.UnknownResourceFault {
		t.Fatalf("signal to closed run: %v", err)
	}
	_, err = h.try(func(s *State) (Result, error) { return s.Deliver(h.env, Message{Cancel: &CancelMsg{Sender: &sender}}) })
	if faultCode(err) != api.UnknownResourceFault {
		t.Fatalf("cancel to closed run: %v", err)
	}
}

// External cancel requests, from sender and target side.
func TestExternalCancel(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(cancelExt("other", ""), cancelExt("gone", "gr"))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:RequestCancelExternalWorkflowExecutionInitiated 6:RequestCancelExternalWorkflowExecutionInitiated")
	if a := h.event(5).RequestCancelExternalWorkflowExecutionInitiatedEventAttributes; !equalJSON(*a, api.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes{WorkflowID: "other", Control: api.String("cc"), DecisionTaskCompletedEventID: 4}) {
		t.Fatalf("initiated %+v", a)
	}
	m := res.Messages[0]
	if m.Cancel == nil || *m.Cancel.Sender != (api.WorkflowExecution{WorkflowID: "w1", RunID: "r1"}) || m.Cancel.InitiatedID != 5 || m.Cancel.ChildPolicy || m.WorkflowID != "other" {
		t.Fatalf("message %+v", m)
	}
	res = h.deliver(Message{CancelResult: &ExternalResultMsg{InitiatedID: 5, Target: api.WorkflowExecution{WorkflowID: "other", RunID: "or"}}})
	h.expectEvents(res, "7:ExternalWorkflowExecutionCancelRequested 8:DecisionTaskScheduled")
	if a := h.event(7).ExternalWorkflowExecutionCancelRequestedEventAttributes; !equalJSON(*a, api.ExternalWorkflowExecutionCancelRequestedEventAttributes{WorkflowExecution: api.WorkflowExecution{WorkflowID: "other", RunID: "or"}, InitiatedEventID: 5}) {
		t.Fatalf("cancel requested %+v", a)
	}
	// A SignalResult for a cancel request is not its answer.
	if res := h.deliver(Message{SignalResult: &ExternalResultMsg{InitiatedID: 6}}); !isEmpty(res) {
		t.Fatalf("mismatched answer %+v", res)
	}
	res = h.deliver(Message{CancelResult: &ExternalResultMsg{InitiatedID: 6, Failed: true}})
	h.expectEvents(res, "9:RequestCancelExternalWorkflowExecutionFailed")
	if a := h.event(9).RequestCancelExternalWorkflowExecutionFailedEventAttributes; !equalJSON(*a, api.RequestCancelExternalWorkflowExecutionFailedEventAttributes{WorkflowID: "gone", RunID: api.String("gr"), Cause: api.RequestCancelExternalWorkflowExecutionFailedCauseUnknownExternalWorkflowExecution, InitiatedEventID: 6, DecisionTaskCompletedEventID: 4, Control: api.String("cc")}) {
		t.Fatalf("failed %+v", a)
	}

	// Target side.
	g := startDefault(t)
	sender := api.WorkflowExecution{WorkflowID: "s", RunID: "sr"}
	g.pollDecision()
	res = g.deliver(Message{Cancel: &CancelMsg{Sender: &sender, InitiatedID: 5}})
	g.expectEvents(res, "4:WorkflowExecutionCancelRequested 5:DecisionTaskScheduled")
	if a := g.event(4).WorkflowExecutionCancelRequestedEventAttributes; *a.ExternalWorkflowExecution != sender || a.ExternalInitiatedEventID != 5 || a.Cause != "" {
		t.Fatalf("cancel requested %+v", a)
	}
	res = g.deliver(Message{Cancel: &CancelMsg{ChildPolicy: true}})
	g.expectEvents(res, "6:WorkflowExecutionCancelRequested")
	if a := g.event(6).WorkflowExecutionCancelRequestedEventAttributes; a.Cause != api.WorkflowExecutionCancelRequestedCauseChildPolicyApplied || a.ExternalWorkflowExecution != nil {
		t.Fatalf("cancel requested %+v", a)
	}
	if !g.s.CancelRequested {
		t.Fatal("cancelRequested not set")
	}
}

// Sequence J: markers.
func TestSequenceJ(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(marker("m", "d1"), marker("m", "d2"))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:MarkerRecorded 6:MarkerRecorded")
	if a := h.event(6).MarkerRecordedEventAttributes; !equalJSON(*a, api.MarkerRecordedEventAttributes{MarkerName: "m", Details: api.String("d2"), DecisionTaskCompletedEventID: 4}) {
		t.Fatalf("marker %+v", a)
	}
	if len(res.AddTasks) != 0 || h.s.Decision.ScheduledID != 0 {
		t.Fatal("marker scheduled a decision task")
	}
}

// Sequence K: timers.
func TestSequenceK(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(startTimer("t", "30"), startTimer("u", "60"))
	h.expectEvents(res, "4:DecisionTaskCompleted 5:TimerStarted 6:TimerStarted")
	if a := h.event(5).TimerStartedEventAttributes; !equalJSON(*a, api.TimerStartedEventAttributes{TimerID: "t", Control: api.String("tc"), StartToFireTimeout: "30", DecisionTaskCompletedEventID: 4}) {
		t.Fatalf("started %+v", a)
	}
	if tm, ok := hasTimer(res, "ut:t:5"); !ok || tm.Due != t0.Add(30*time.Second) {
		t.Fatalf("timers %+v", res.AddTimers)
	}
	if oc := h.s.OpenCounts(); oc.OpenTimers != 2 {
		t.Fatalf("open counts %+v", oc)
	}
	h.advance(30 * time.Second)
	res = h.fire("ut:t:5")
	h.expectEvents(res, "7:TimerFired 8:DecisionTaskScheduled")
	if a := h.event(7).TimerFiredEventAttributes; !equalJSON(*a, api.TimerFiredEventAttributes{TimerID: "t", StartedEventID: 5}) {
		t.Fatalf("fired %+v", a)
	}
	if res := h.fire("ut:t:5"); !isEmpty(res) {
		t.Fatal("fired twice")
	}
	// Cancel u, reuse t, fail on unknown and in-use ids.
	res = h.pollAndDecide(cancelTimer("u"), startTimer("t", "0"), cancelTimer("nope"), startTimer("t", "5"))
	h.expectEvents(res, "10:DecisionTaskCompleted 11:TimerCanceled 12:TimerStarted 13:CancelTimerFailed 14:StartTimerFailed 15:DecisionTaskScheduled")
	if a := h.event(11).TimerCanceledEventAttributes; !equalJSON(*a, api.TimerCanceledEventAttributes{TimerID: "u", StartedEventID: 6, DecisionTaskCompletedEventID: 10}) {
		t.Fatalf("canceled %+v", a)
	}
	if !hasString(res.DeleteTimers, "ut:u:6") {
		t.Fatalf("timer not deleted %v", res.DeleteTimers)
	}
	if a := h.event(13).CancelTimerFailedEventAttributes; !equalJSON(*a, api.CancelTimerFailedEventAttributes{TimerID: "nope", Cause: api.CancelTimerFailedCauseTimerIdUnknown, DecisionTaskCompletedEventID: 10}) {
		t.Fatalf("cancel failed %+v", a)
	}
	if a := h.event(14).StartTimerFailedEventAttributes; !equalJSON(*a, api.StartTimerFailedEventAttributes{TimerID: "t", Cause: api.StartTimerFailedCauseTimerIdAlreadyInUse, DecisionTaskCompletedEventID: 10}) {
		t.Fatalf("start failed %+v", a)
	}
	// The canceled timer's wake-up is stale; the old key of a reused id too.
	if res := h.fire("ut:u:6"); !isEmpty(res) {
		t.Fatal("canceled timer fired")
	}
	if res := h.fire("ut:t:5"); !isEmpty(res) {
		t.Fatal("old timer of reused id fired")
	}
	res = h.fire("ut:t:12")
	h.expectEvents(res, "16:TimerFired")
}

// Sequence L: termination.
func TestSequenceL(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedAct("a1"), startTimer("t", "10"))
	res := h.must(func(s *State) (Result, error) {
		return s.Terminate(h.env, api.String("because"), api.String("details"), "", "")
	})
	h.expectEvents(res, "7:WorkflowExecutionTerminated")
	if a := h.last().WorkflowExecutionTerminatedEventAttributes; !equalJSON(*a, api.WorkflowExecutionTerminatedEventAttributes{Reason: api.String("because"), Details: api.String("details"), ChildPolicy: api.ChildPolicyTerminate}) {
		t.Fatalf("terminated %+v", a)
	}
	if !res.Closed || h.s.CloseStatus != api.CloseStatusTerminated || len(res.Messages) != 0 {
		t.Fatalf("res %+v", res)
	}
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.StartActivityTask(h.env, 5, api.String("w")) })
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.StartDecisionTask(h.env, 2, api.String("w")) })
	// Explicit policy and cause are recorded as given.
	g := startDefault(t)
	g.must(func(s *State) (Result, error) {
		return s.Terminate(g.env, api.String(""), api.String(""), api.ChildPolicyAbandon, api.WorkflowExecutionTerminatedCauseOperatorInitiated)
	})
	if a := g.last().WorkflowExecutionTerminatedEventAttributes; a.ChildPolicy != api.ChildPolicyAbandon || a.Cause != api.WorkflowExecutionTerminatedCauseOperatorInitiated {
		t.Fatalf("terminated %+v", a)
	}
}

// The 2013 trace: 16 DTSt(13), 18 ActivityTaskCompleted, 19 DTS, 20 DTC,
// 21 CompleteWorkflowExecutionFailed, 22 DTSt(19) with previousStartedEventId 16.
func TestUnhandledDecision2013Trace(t *testing.T) {
	h := startDefault(t)
	h.pollAndDecide(schedAct("a1"), schedAct("a2"), schedAct("a3"), schedAct("a4"), schedAct("a5")) // 3 DTSt, 4 DTC, 5..9
	if h.startActivity("a1") != 10 || h.startActivity("a2") != 11 {
		t.Fatal("ids")
	}
	res := h.must(func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, 5, 10, api.String("")) })
	h.expectEvents(res, "12:ActivityTaskCompleted 13:DecisionTaskScheduled")
	res = h.must(func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, 6, 11, api.String("")) })
	h.expectEvents(res, "14:ActivityTaskCompleted")
	h.startActivity("a3") // 15
	st := h.pollDecision()
	if st != 16 {
		t.Fatalf("started %d", st)
	}
	h.startActivity("a4") // 17
	res = h.must(func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, 7, 15, api.String("")) })
	h.expectEvents(res, "18:ActivityTaskCompleted 19:DecisionTaskScheduled")
	if len(res.AddTasks) != 0 {
		t.Fatal("second decision task handed out while one runs")
	}
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.StartDecisionTask(h.env, 19, api.String("x")) })
	if oc := h.s.OpenCounts(); oc.OpenDecisionTasks != 1 {
		t.Fatalf("open decision tasks %d", oc.OpenDecisionTasks)
	}
	res = h.decide(st, completeWF("r"))
	h.expectEvents(res, "20:DecisionTaskCompleted 21:CompleteWorkflowExecutionFailed")
	if a := h.event(20).DecisionTaskCompletedEventAttributes; a.ScheduledEventID != 13 || a.StartedEventID != 16 {
		t.Fatalf("dtc %+v", a)
	}
	if a := h.event(21).CompleteWorkflowExecutionFailedEventAttributes; !equalJSON(*a, api.CompleteWorkflowExecutionFailedEventAttributes{Cause: api.CompleteWorkflowExecutionFailedCauseUnhandledDecision, DecisionTaskCompletedEventID: 20}) {
		t.Fatalf("failed %+v", a)
	}
	if !h.s.Open || len(res.AddTasks) != 1 || res.AddTasks[0].ScheduledEventID != 19 {
		t.Fatalf("pending task not handed out: %+v", res)
	}
	st = h.pollDecision()
	if st != 22 || h.s.PreviousStartedEventID != 16 || h.event(22).DecisionTaskStartedEventAttributes.ScheduledEventID != 19 {
		t.Fatalf("started %d prev %d", st, h.s.PreviousStartedEventID)
	}
	// Fail and ContinueAsNew fail the same way.
	h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", api.String("")) })
	res = h.decide(st, failWF("x", ""))
	h.expectEvents(res, "25:DecisionTaskCompleted 26:FailWorkflowExecutionFailed")
	if h.event(26).FailWorkflowExecutionFailedEventAttributes.Cause != api.FailWorkflowExecutionFailedCauseUnhandledDecision {
		t.Fatal("cause")
	}
	st = h.pollDecision()
	h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", api.String("")) })
	res = h.decide(st, marker("kept", ""), continueAsNew(nil))
	h.expectEvents(res, "30:DecisionTaskCompleted 31:MarkerRecorded 32:ContinueAsNewWorkflowExecutionFailed")
	if a := h.event(32).ContinueAsNewWorkflowExecutionFailedEventAttributes; a.Cause != api.ContinueAsNewWorkflowExecutionFailedCauseUnhandledDecision || a.DecisionTaskCompletedEventID != 30 {
		t.Fatalf("failed %+v", a)
	}
	if res.ContinuedAs != nil || !h.s.Open {
		t.Fatal("continued despite failure")
	}
}

// Coalescing: events while a task is scheduled add no DTS; a decision task
// can only be started when it is the scheduled one and none runs.
func TestDecisionCoalescing(t *testing.T) {
	h := startDefault(t)
	for i := 0; i < 3; i++ {
		res := h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", api.String("")) })
		if len(res.Events) != 1 || len(res.AddTasks) != 0 {
			t.Fatalf("signal %d: %s", i, evTypes(res.Events))
		}
	}
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.StartDecisionTask(h.env, 3, api.String("x")) })
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.StartDecisionTask(h.env, 0, api.String("x")) })
	st := h.pollDecision() // 6
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.StartDecisionTask(h.env, 2, api.String("x")) })
	h.mustFault(api.UnknownResourceFault, func(s *State) (Result, error) { return s.CompleteDecisionTask(h.env, st+1, nil) })
	res := h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", api.String("")) })
	h.expectEvents(res, "7:WorkflowExecutionSignaled 8:DecisionTaskScheduled")
	res = h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", api.String("")) })
	h.expectEvents(res, "9:WorkflowExecutionSignaled")
	// Empty decision list: the pending task is handed out.
	res = h.decide(st)
	h.expectEvents(res, "10:DecisionTaskCompleted")
	if len(res.AddTasks) != 1 || res.AddTasks[0].ScheduledEventID != 8 || res.AddTasks[0].Scheduled != t0 {
		t.Fatalf("tasks %+v", res.AddTasks)
	}
	// A decision failure with a task pending adds no DTS.
	st = h.pollDecision()
	h.must(func(s *State) (Result, error) { return s.Signal(h.env, "s", api.String("")) })
	res = h.decide(st, cancelTimer("x"))
	h.expectEvents(res, "14:DecisionTaskCompleted 15:CancelTimerFailed")
}

// An execution context is kept as latestExecutionContext; an empty one
// leaves the previous.
func TestExecutionContext(t *testing.T) {
	h := startDefault(t)
	st := h.pollDecision()
	h.must(func(s *State) (Result, error) {
		return s.CompleteDecisionTask(h.env, st, &api.RespondDecisionTaskCompletedInput{ExecutionContext: api.String("ctx1"), Decisions: []api.Decision{startTimer("t", "1")}})
	})
	if api.Value(h.event(4).DecisionTaskCompletedEventAttributes.ExecutionContext) != "ctx1" || api.Value(h.s.LatestExecutionContext) != "ctx1" {
		t.Fatal("context not recorded")
	}
	h.fire("ut:t:5")
	h.pollAndDecide()
	if api.Value(h.s.LatestExecutionContext) != "ctx1" {
		t.Fatal("context lost")
	}
}

// TestActivityTimersDeletedOnlyWhenArmed: with schedule-to-start,
// schedule-to-close and heartbeat timeouts of NONE (how most workers run
// activities), starting an activity deletes no timer and completing it
// deletes only its start-to-close timer. Each deletion of a timer that was
// never armed would cost the store a statement of its own.
func TestActivityTimersDeletedOnlyWhenArmed(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(schedActOf("a1", "none", func(a *api.ScheduleActivityTaskDecisionAttributes) {
		a.StartToCloseTimeout = "60"
	}))
	if len(res.AddTimers) != 0 {
		t.Fatalf("scheduling armed %+v", res.AddTimers)
	}
	sched := h.s.Activities["a1"].ScheduledID
	res = h.must(func(s *State) (Result, error) { return s.StartActivityTask(h.env, sched, api.String("worker")) })
	if len(res.DeleteTimers) != 0 || len(res.AddTimers) != 1 || res.AddTimers[0].Key != ActivityTimerKey(sched, ActivityStartToClose) {
		t.Fatalf("start: deletes %v, arms %+v; want no deletion and only the start-to-close timer", res.DeleteTimers, res.AddTimers)
	}
	started := h.s.Activities["a1"].StartedID
	res = h.must(func(s *State) (Result, error) { return s.CompleteActivityTask(h.env, sched, started, nil) })
	if want := []string{ActivityTimerKey(sched, ActivityStartToClose)}; !reflect.DeepEqual(res.DeleteTimers, want) {
		t.Fatalf("completion deletes %v, want %v", res.DeleteTimers, want)
	}
}

// TestActivityScheduledAndCanceledInOneStep: an activity scheduled and
// canceled by the same decision leaves no timer armed and no task on a
// task list (the store, and the task lists, apply an update's deletions
// before its additions, so deleting a timer armed, or taking off a task
// listed, in the same step would not undo it): the step neither lists the
// task nor takes it off.
func TestActivityScheduledAndCanceledInOneStep(t *testing.T) {
	h := startDefault(t)
	res := h.pollAndDecide(schedAct("a1"), cancelAct("a1"))
	if len(h.s.Activities) != 0 {
		t.Fatalf("activities %+v, want none open", h.s.Activities)
	}
	// checkActivityTimers and checkListed (every step) fail if a timer
	// stays armed or a task listed.
	for _, tk := range res.AddTasks {
		if tk.Kind == swfd.ActivityTask {
			t.Fatalf("the canceled activity's task is listed: %+v", res.AddTasks)
		}
	}
	if len(res.DoneTasks) != 0 {
		t.Fatalf("tasks taken off %v, though none was listed before the step", res.DoneTasks)
	}
}
