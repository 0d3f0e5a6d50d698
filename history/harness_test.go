package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeTypes is an in-memory TypeLookup.
type fakeTypes struct {
	acts map[string]actType
	wfs  map[string]wfType
}

type actType struct {
	status string
	cfg    api.ActivityTypeConfiguration
}

type wfType struct {
	status string
	cfg    api.WorkflowTypeConfiguration
}

func (f *fakeTypes) ActivityType(domain, name, version string) (swfd.TypeRecord, api.ActivityTypeConfiguration, bool, error) {
	t, ok := f.acts[domain+"/"+name+"/"+version]
	if !ok {
		return swfd.TypeRecord{}, api.ActivityTypeConfiguration{}, false, nil
	}
	return swfd.TypeRecord{Kind: swfd.ActivityKind, Domain: domain, Name: name, Version: version, Status: t.status}, t.cfg, true, nil
}

func (f *fakeTypes) WorkflowType(domain, name, version string) (swfd.TypeRecord, api.WorkflowTypeConfiguration, bool, error) {
	t, ok := f.wfs[domain+"/"+name+"/"+version]
	if !ok {
		return swfd.TypeRecord{}, api.WorkflowTypeConfiguration{}, false, nil
	}
	return swfd.TypeRecord{Kind: swfd.WorkflowKind, Domain: domain, Name: name, Version: version, Status: t.status}, t.cfg, true, nil
}

func newFakeTypes() *fakeTypes {
	full := api.ActivityTypeConfiguration{
		DefaultTaskList:                   &api.TaskList{Name: "acts"},
		DefaultTaskPriority:               "5",
		DefaultTaskScheduleToStartTimeout: "30",
		DefaultTaskScheduleToCloseTimeout: "300",
		DefaultTaskStartToCloseTimeout:    "60",
		DefaultTaskHeartbeatTimeout:       "20",
	}
	wfc := api.WorkflowTypeConfiguration{
		DefaultTaskList:                     &api.TaskList{Name: "deciders"},
		DefaultExecutionStartToCloseTimeout: "3600",
		DefaultTaskStartToCloseTimeout:      "10",
		DefaultChildPolicy:                  api.ChildPolicyTerminate,
	}
	wfc2 := wfc
	wfc2.DefaultTaskList = &api.TaskList{Name: "deciders-v2"}
	wfc2.DefaultChildPolicy = api.ChildPolicyAbandon
	return &fakeTypes{
		acts: map[string]actType{
			"d/act/1":  {swfd.StatusRegistered, full},
			"d/none/1": {swfd.StatusRegistered, api.ActivityTypeConfiguration{DefaultTaskScheduleToStartTimeout: "NONE", DefaultTaskScheduleToCloseTimeout: "NONE", DefaultTaskStartToCloseTimeout: "NONE", DefaultTaskHeartbeatTimeout: "NONE", DefaultTaskList: &api.TaskList{Name: "acts"}}},
			"d/bare/1": {swfd.StatusRegistered, api.ActivityTypeConfiguration{}},
			"d/dep/1":  {swfd.StatusDeprecated, full},
		},
		wfs: map[string]wfType{
			"d/wf/1":     {swfd.StatusRegistered, wfc},
			"d/wf/2":     {swfd.StatusRegistered, wfc2},
			"d/bare/1":   {swfd.StatusRegistered, api.WorkflowTypeConfiguration{}},
			"d/wfdep/1":  {swfd.StatusDeprecated, wfc},
			"d/child/1":  {swfd.StatusRegistered, wfc},
			"d/parent/1": {swfd.StatusRegistered, wfc},
		},
	}
}

// harness drives one run through commands, checking the invariants of every
// step: contiguous event ids, exactly one attributes member matching the
// event type, timestamps at env.Now, that the state survives a JSON
// round trip and a Clone unchanged, and that AppendJSON encodes it as
// json.Marshal does. A failing command must leave the run as
// it was, with no effects: try checks the copy it gave the command.
type harness struct {
	t    *testing.T
	env  Env
	s    *State
	hist []api.HistoryEvent
	runs int
	// armed holds the activity timers ("at:…") the run has armed and not
	// yet deleted, as the store would (see checkActivityTimers).
	armed map[string]bool
	// details holds the heartbeat details the run's Results stored, by
	// scheduled id, as the store keeps them (Result.Heartbeats).
	details map[int64]*string
	// memo encodes every state the run reaches, its maps however small
	// (see check).
	memo *JSONMemo
	// listed holds the tasks the run has put on task lists (by scheduled
	// id) and not taken off, as the store would (see checkListed).
	listed map[int64]bool
	// timers holds every timer the run has armed and not deleted, as the
	// store would (see checkTimers).
	timers map[string]bool
	// firing is the timer fire is firing, which the timer loop deletes
	// with the step unless the step armed it again.
	firing string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, memo: &JSONMemo{minItems: 1}}
	h.env = Env{Now: t0, Types: newFakeTypes(), Limits: DefaultLimits}
	h.env.NewRunID = func() string { h.runs++; return fmt.Sprintf("run-%d", h.runs) }
	return h
}

func defaultConfig() Config {
	return Config{TaskList: "deciders", TaskPriority: "3", ExecutionStartToCloseTimeout: "3600", TaskStartToCloseTimeout: "10", ChildPolicy: api.ChildPolicyTerminate}
}

func rootParams() StartParams {
	return StartParams{Domain: "d", WorkflowID: "w1", RunID: "r1", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, Config: defaultConfig(), Input: api.String("in"), TagList: []string{"t1"}}
}

func (h *harness) start(p StartParams) Result {
	h.t.Helper()
	s, res := Start(h.env, p)
	h.s = s
	h.armed = nil
	h.listed = nil
	h.timers = nil
	h.check(res)
	return res
}

// startDefault starts the root run and returns the harness.
func startDefault(t *testing.T) *harness {
	h := newHarness(t)
	h.start(rootParams())
	return h
}

func (h *harness) advance(d time.Duration) { h.env.Now = h.env.Now.Add(d) }

func (h *harness) try(f func(s *State) (Result, error)) (Result, error) {
	h.t.Helper()
	c := h.s.Clone()
	res, err := f(c)
	if err != nil {
		if _, ok := api.AsFault(err); !ok {
			h.t.Fatalf("error is not a fault: %v", err)
		}
		// A command that fails changes nothing, not even the copy it
		// was given (the service drops that copy too, but the engine
		// must not rely on it).
		if !reflect.DeepEqual(c, h.s) {
			h.t.Fatalf("a failing command changed the state:\n%+v\n%+v", *c, *h.s)
		}
		if len(res.Events) != 0 || len(res.AddTasks) != 0 || len(res.Messages) != 0 {
			h.t.Fatalf("a failing command returned effects: %+v", res)
		}
		return res, err
	}
	h.s = c
	h.check(res)
	return res, nil
}

func (h *harness) must(f func(s *State) (Result, error)) Result {
	h.t.Helper()
	res, err := h.try(f)
	if err != nil {
		h.t.Fatalf("unexpected error: %v", err)
	}
	return res
}

func (h *harness) mustFault(code string, f func(s *State) (Result, error)) *api.Fault {
	h.t.Helper()
	before := h.s.NextEventID
	_, err := h.try(f)
	if err == nil {
		h.t.Fatalf("expected %s, got success", code)
	}
	flt, _ := api.AsFault(err)
	if flt.Code != code {
		h.t.Fatalf("expected %s, got %v", code, err)
	}
	if h.s.NextEventID != before {
		h.t.Fatalf("state changed on error")
	}
	return flt
}

// checkHeartbeats applies res's heartbeat details to those the store
// would hold, and checks that they are then exactly the open activities'
// details: a step that changes an activity's details, or removes an
// activity that has some, says so in Result.Heartbeats.
func (h *harness) checkHeartbeats(res Result) {
	h.t.Helper()
	if h.details == nil {
		h.details = map[int64]*string{}
	}
	if res.Closed {
		if len(res.Heartbeats) != 0 {
			h.t.Fatalf("a step that closed the run lists heartbeats %+v", res.Heartbeats)
		}
		clear(h.details)
	}
	seen := map[int64]bool{}
	for _, hb := range res.Heartbeats {
		if seen[hb.ScheduledEventID] {
			h.t.Fatalf("heartbeat details of %d listed twice in %+v", hb.ScheduledEventID, res.Heartbeats)
		}
		seen[hb.ScheduledEventID] = true
		if hb.Details == nil {
			delete(h.details, hb.ScheduledEventID)
		} else {
			h.details[hb.ScheduledEventID] = hb.Details
		}
	}
	want := map[int64]*string{}
	for _, a := range h.s.Activities {
		if a.HeartbeatDetails != nil {
			want[a.ScheduledID] = a.HeartbeatDetails
		}
	}
	if !reflect.DeepEqual(want, h.details) {
		h.t.Fatalf("stored heartbeat details %v, the activities hold %v", h.details, want)
	}
}

func (h *harness) check(res Result) {
	h.t.Helper()
	for _, e := range res.Events {
		want := int64(len(h.hist) + 1)
		if e.EventID != want {
			h.t.Fatalf("event id %d, want %d (%s)", e.EventID, want, e.EventType)
		}
		if !e.EventTimestamp.Equal(h.env.Now.Truncate(time.Millisecond)) {
			h.t.Fatalf("event %d timestamp %v, want %v", e.EventID, e.EventTimestamp, h.env.Now)
		}
		checkAttrs(h.t, e)
		h.hist = append(h.hist, e)
	}
	checkConformance(h.t, h.hist, h.s)
	if h.s.NextEventID != int64(len(h.hist)+1) {
		h.t.Fatalf("NextEventID %d, history has %d events", h.s.NextEventID, len(h.hist))
	}
	for _, tk := range res.AddTasks {
		if tk.RunID != h.s.RunID || tk.Domain != h.s.Domain || tk.ScheduledEventID == 0 {
			h.t.Fatalf("bad task %+v", tk)
		}
	}
	for _, tm := range res.AddTimers {
		if tm.RunID != h.s.RunID || tm.Key == "" {
			h.t.Fatalf("bad timer %+v", tm)
		}
	}
	h.checkActivityTimers(res)
	h.checkListed(res)
	h.checkTimers(res)
	h.checkMessages(res)
	h.checkHeartbeats(res)
	// JSON round trip (with the details the store keeps apart) and Clone.
	b, err := json.Marshal(h.s)
	if err != nil {
		h.t.Fatal(err)
	}
	if got := h.s.AppendJSON(nil); !bytes.Equal(got, b) {
		h.t.Fatalf("AppendJSON differs from json.Marshal:\n got: %s\nwant: %s", got, b)
	}
	if got := h.memo.AppendJSON(nil, h.s); !bytes.Equal(got, b) {
		h.t.Fatalf("JSONMemo.AppendJSON differs from json.Marshal:\n got: %s\nwant: %s", got, b)
	}
	var back State
	if err := json.Unmarshal(b, &back); err != nil {
		h.t.Fatal(err)
	}
	for _, a := range back.Activities {
		a.HeartbeatDetails = h.details[a.ScheduledID]
	}
	if !reflect.DeepEqual(&back, h.s) {
		h.t.Fatalf("state does not survive JSON:\n%+v\n%+v", back, *h.s)
	}
	if !reflect.DeepEqual(h.s.Clone(), h.s) {
		h.t.Fatalf("clone differs")
	}
	if h.s.Open && res.Closed {
		h.t.Fatalf("Closed result on open run")
	}
}

// checkAttrs asserts exactly one attributes member is set and it matches
// the event type.
func checkAttrs(t *testing.T, e api.HistoryEvent) {
	t.Helper()
	v := reflect.ValueOf(e)
	var set []string
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			set = append(set, strings.Split(v.Type().Field(i).Tag.Get("json"), ",")[0])
		}
	}
	et := string(e.EventType)
	want := strings.ToLower(et[:1]) + et[1:] + "EventAttributes"
	if len(set) != 1 || set[0] != want {
		t.Fatalf("event %d %s has attributes %v", e.EventID, et, set)
	}
}

// types lists the event types of res, as "id:Type".
func evTypes(evs []api.HistoryEvent) string {
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%d:%s", e.EventID, e.EventType))
	}
	return strings.Join(out, " ")
}

func (h *harness) expectEvents(res Result, want string) {
	h.t.Helper()
	if got := evTypes(res.Events); got != want {
		h.t.Fatalf("events\n got: %s\nwant: %s", got, want)
	}
}

func (h *harness) last() api.HistoryEvent { return h.hist[len(h.hist)-1] }

func (h *harness) event(id int64) api.HistoryEvent { return h.hist[id-1] }

// pollDecision starts the scheduled decision task and returns its started id.
func (h *harness) pollDecision() int64 {
	h.t.Helper()
	sid := h.s.Decision.ScheduledID
	if sid == 0 {
		h.t.Fatalf("no decision task scheduled")
	}
	h.must(func(s *State) (Result, error) { return s.StartDecisionTask(h.env, sid, api.String("decider")) })
	return h.s.Decision.StartedID
}

func (h *harness) decide(started int64, ds ...api.Decision) Result {
	h.t.Helper()
	return h.must(func(s *State) (Result, error) {
		return s.CompleteDecisionTask(h.env, started, &api.RespondDecisionTaskCompletedInput{Decisions: ds})
	})
}

// pollAndDecide runs one decision task with the given decisions.
func (h *harness) pollAndDecide(ds ...api.Decision) Result {
	h.t.Helper()
	return h.decide(h.pollDecision(), ds...)
}

func (h *harness) startActivity(activityID string) int64 {
	h.t.Helper()
	a := h.s.Activities[activityID]
	if a == nil {
		h.t.Fatalf("no activity %s", activityID)
	}
	h.must(func(s *State) (Result, error) { return s.StartActivityTask(h.env, a.ScheduledID, api.String("worker")) })
	return h.s.Activities[activityID].StartedID
}

func (h *harness) fire(key string) Result {
	h.t.Helper()
	h.firing = key
	res := h.must(func(s *State) (Result, error) { return s.FireTimer(h.env, key) })
	h.firing = ""
	delete(h.armed, key) // the timer loop deletes what it fires
	return res
}

// checkActivityTimers keeps h.armed as the store keeps a run's activity
// timers (an update's deletions first, then its additions; a closed run's
// all gone), and checks that a step leaves armed only the timers of
// activities still open: schedule-to-start until the activity starts,
// start-to-close and heartbeat only once it has.
func (h *harness) checkActivityTimers(res Result) {
	h.t.Helper()
	if h.armed == nil {
		h.armed = map[string]bool{}
	}
	for _, k := range res.DeleteTimers {
		delete(h.armed, k)
	}
	for _, tm := range res.AddTimers {
		if strings.HasPrefix(tm.Key, "at:") && tm.RunID == h.s.RunID {
			h.armed[tm.Key] = true
		}
	}
	if res.Closed {
		clear(h.armed)
	}
	for k := range h.armed {
		id, kind, _ := splitKey(k[3:])
		a := h.s.activityBySchedID(id)
		switch {
		case a == nil:
			h.t.Fatalf("timer %s armed for an activity that is not open", k)
		case kind == ActivityScheduleToStart && a.StartedID != 0:
			h.t.Fatalf("timer %s armed for an activity that has started", k)
		case (kind == ActivityStartToClose || kind == ActivityHeartbeat) && a.StartedID == 0:
			h.t.Fatalf("timer %s armed for an activity that has not started", k)
		}
	}
}

func (h *harness) deliver(m Message) Result {
	h.t.Helper()
	return h.must(func(s *State) (Result, error) { return s.Deliver(h.env, m) })
}

// Decision builders.

func schedAct(id string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{
		ActivityID: id, ActivityType: api.ActivityType{Name: "act", Version: "1"}, Input: api.String("ai"),
	}}
}

func schedActOf(id, typ string, mod func(*api.ScheduleActivityTaskDecisionAttributes)) api.Decision {
	d := schedAct(id)
	d.ScheduleActivityTaskDecisionAttributes.ActivityType.Name = typ
	if mod != nil {
		mod(d.ScheduleActivityTaskDecisionAttributes)
	}
	return d
}

func cancelAct(id string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeRequestCancelActivityTask, RequestCancelActivityTaskDecisionAttributes: &api.RequestCancelActivityTaskDecisionAttributes{ActivityID: id}}
}

func completeWF(result string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeCompleteWorkflowExecution, CompleteWorkflowExecutionDecisionAttributes: &api.CompleteWorkflowExecutionDecisionAttributes{Result: api.String(result)}}
}

func failWF(reason, details string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeFailWorkflowExecution, FailWorkflowExecutionDecisionAttributes: &api.FailWorkflowExecutionDecisionAttributes{Reason: api.String(reason), Details: api.String(details)}}
}

func cancelWF(details string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeCancelWorkflowExecution, CancelWorkflowExecutionDecisionAttributes: &api.CancelWorkflowExecutionDecisionAttributes{Details: api.String(details)}}
}

func continueAsNew(mod func(*api.ContinueAsNewWorkflowExecutionDecisionAttributes)) api.Decision {
	a := &api.ContinueAsNewWorkflowExecutionDecisionAttributes{Input: api.String("next")}
	if mod != nil {
		mod(a)
	}
	return api.Decision{DecisionType: api.DecisionTypeContinueAsNewWorkflowExecution, ContinueAsNewWorkflowExecutionDecisionAttributes: a}
}

func marker(name, details string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeRecordMarker, RecordMarkerDecisionAttributes: &api.RecordMarkerDecisionAttributes{MarkerName: name, Details: api.String(details)}}
}

func startTimer(id, after string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeStartTimer, StartTimerDecisionAttributes: &api.StartTimerDecisionAttributes{TimerID: id, StartToFireTimeout: after, Control: api.String("tc")}}
}

func cancelTimer(id string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeCancelTimer, CancelTimerDecisionAttributes: &api.CancelTimerDecisionAttributes{TimerID: id}}
}

func signalExt(wid, rid, name string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeSignalExternalWorkflowExecution, SignalExternalWorkflowExecutionDecisionAttributes: &api.SignalExternalWorkflowExecutionDecisionAttributes{
		WorkflowID: wid, RunID: api.StringOrNil(rid), SignalName: name, Input: api.String("sig-in"), Control: api.String("sc"),
	}}
}

func cancelExt(wid, rid string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeRequestCancelExternalWorkflowExecution, RequestCancelExternalWorkflowExecutionDecisionAttributes: &api.RequestCancelExternalWorkflowExecutionDecisionAttributes{
		WorkflowID: wid, RunID: api.StringOrNil(rid), Control: api.String("cc"),
	}}
}

func startChild(wid, typ string, mod func(*api.StartChildWorkflowExecutionDecisionAttributes)) api.Decision {
	a := &api.StartChildWorkflowExecutionDecisionAttributes{WorkflowID: wid, WorkflowType: api.WorkflowType{Name: typ, Version: "1"}, Input: api.String("child-in"), Control: api.String("ctl")}
	if mod != nil {
		mod(a)
	}
	return api.Decision{DecisionType: api.DecisionTypeStartChildWorkflowExecution, StartChildWorkflowExecutionDecisionAttributes: a}
}

func lambda(id string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeScheduleLambdaFunction, ScheduleLambdaFunctionDecisionAttributes: &api.ScheduleLambdaFunctionDecisionAttributes{ID: id, Name: "fn"}}
}

func faultCode(err error) string {
	var f *api.Fault
	if errors.As(err, &f) {
		return f.Code
	}
	return ""
}

func hasTimer(res Result, key string) (swfd.Timer, bool) {
	for _, t := range res.AddTimers {
		if t.Key == key {
			return t, true
		}
	}
	return swfd.Timer{}, false
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isEmpty(res Result) bool {
	return reflect.DeepEqual(res, Result{})
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// checkListed keeps h.listed as the store keeps a run's tasks (a step's
// DoneTasks taken off, its AddTasks put on; a closed run's all gone), and
// checks that every task the run holds scheduled and not started is on a
// list, where a poller can find it: the decision task, unless another one
// is running (it is listed when that one ends), each activity and each
// Lambda function. A task recorded as scheduled and never listed would
// wait for good.
func (h *harness) checkListed(res Result) {
	h.t.Helper()
	if h.listed == nil {
		h.listed = map[int64]bool{}
	}
	for _, id := range res.DoneTasks {
		delete(h.listed, id)
	}
	for _, tk := range res.AddTasks {
		h.listed[tk.ScheduledEventID] = true
	}
	if res.Closed || !h.s.Open {
		clear(h.listed)
		return
	}
	d := h.s.Decision
	if d.ScheduledID != 0 && d.StartedID == 0 && !h.listed[d.ScheduledID] {
		h.t.Fatalf("decision task %d is scheduled, none runs, and it is on no task list", d.ScheduledID)
	}
	for _, a := range h.s.Activities {
		if a.StartedID == 0 && !h.listed[a.ScheduledID] {
			h.t.Fatalf("activity %s (scheduled %d) is on no task list", a.ActivityID, a.ScheduledID)
		}
	}
	for _, l := range h.s.Lambdas {
		if l.StartedID == 0 && !h.listed[l.ScheduledID] {
			h.t.Fatalf("Lambda function %s (scheduled %d) is not waiting to be invoked", l.ID, l.ScheduledID)
		}
	}
	// And nothing else is: a task left on a list after it ended would be
	// counted pending until a poller came to find it gone.
	for id := range h.listed {
		a, l := h.s.activityBySchedID(id), h.s.LambdaBySchedID(id)
		if id != d.ScheduledID && (a == nil || a.StartedID != 0) && (l == nil || l.StartedID != 0) {
			h.t.Fatalf("task %d is on a task list, and the run holds no such task waiting", id)
		}
	}
}

// checkTimers keeps h.timers as the store keeps a run's timers (an
// update's deletions first, then its additions; a closed run's all gone;
// the one the timer loop fires deleted unless the step armed it again),
// and checks that the timers armed are exactly those of the deadlines the
// open run holds:
// the run's own timeout, the running decision task's START_TO_CLOSE, the
// SCHEDULE_TO_START of a decision task listed on a temporary override,
// each open timer, each of an activity's timeouts that is not NONE (the
// schedule-to-start one until it starts, start-to-close and heartbeat
// once it has), and a started Lambda function's. A deadline with no timer
// would pass unnoticed until a call came to catch it up, if one ever did.
func (h *harness) checkTimers(res Result) {
	h.t.Helper()
	if h.timers == nil {
		h.timers = map[string]bool{}
	}
	if h.firing != "" {
		delete(h.timers, h.firing)
	}
	for _, k := range res.DeleteTimers {
		delete(h.timers, k)
	}
	for _, tm := range res.AddTimers {
		if tm.RunID == h.s.RunID {
			h.timers[tm.Key] = true
		}
	}
	if res.Closed || !h.s.Open {
		clear(h.timers)
		return
	}
	s := h.s
	want := []string{WorkflowTimerKey}
	if d := s.Decision; d.StartedID != 0 && armed(s.Config.TaskStartToCloseTimeout) {
		want = append(want, DecisionStartToCloseKey(d.StartedID))
	}
	if d := s.Decision; d.ScheduledID != 0 && d.StartedID == 0 && armed(d.ScheduleToStart) && !d.Listed.IsZero() {
		want = append(want, DecisionScheduleToStartKey(d.ScheduledID))
	}
	for _, t := range s.Timers {
		want = append(want, UserTimerKey(t.TimerID, t.StartedID))
	}
	for _, a := range s.Activities {
		add := func(kind, d string) {
			if armed(d) {
				want = append(want, ActivityTimerKey(a.ScheduledID, kind))
			}
		}
		add(ActivityScheduleToClose, a.ScheduleToClose)
		if a.StartedID == 0 {
			add(ActivityScheduleToStart, a.ScheduleToStart)
		} else {
			add(ActivityStartToClose, a.StartToClose)
			add(ActivityHeartbeat, a.Heartbeat)
		}
	}
	for _, l := range s.Lambdas {
		if l.StartedID != 0 && armed(l.StartToClose) {
			want = append(want, LambdaTimerKey(l.ScheduledID))
		}
	}
	for _, k := range want {
		if !h.timers[k] {
			h.t.Fatalf("timer %s is not armed (armed: %v)", k, sortedKeys(h.timers))
		}
	}
	// And no timer is left armed for what has ended (a timer canceled,
	// a task finished): each would stay in the store until it fired.
	for k := range h.timers {
		if !slices.Contains(want, k) {
			h.t.Fatalf("timer %s is armed for nothing the run holds open (want %v)", k, want)
		}
	}
}

// checkMessages checks that each child the step initiated, and each signal
// or cancel request it initiated, is sent to its target in a message of
// the step, once, and that the step sends no such message it did not
// initiate: a message lost would leave the request unanswered for good, one
// sent twice would start a child or signal a run twice. A run that closed
// tells its parent, if it has one, unless it continued as new.
func (h *harness) checkMessages(res Result) {
	h.t.Helper()
	type req struct {
		kind string
		id   int64
	}
	initiated := map[req]int{}
	for _, e := range res.Events {
		switch {
		case e.StartChildWorkflowExecutionInitiatedEventAttributes != nil:
			initiated[req{"child", e.EventID}]++
		case e.SignalExternalWorkflowExecutionInitiatedEventAttributes != nil:
			initiated[req{"signal", e.EventID}]++
		case e.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes != nil:
			initiated[req{"cancel", e.EventID}]++
		}
	}
	told := 0
	for _, m := range res.Messages {
		var r req
		switch {
		case m.StartChild != nil:
			r = req{"child", m.StartChild.InitiatedID}
		case m.Signal != nil:
			r = req{"signal", m.Signal.InitiatedID}
		case m.Cancel != nil && m.Cancel.Sender != nil:
			r = req{"cancel", m.Cancel.InitiatedID}
		case m.ChildClosed != nil:
			told++
			continue
		default:
			continue
		}
		if initiated[r] != 1 {
			h.t.Fatalf("message %+v: its %s was not initiated in the step, or was sent already", m, r.kind)
		}
		initiated[r]--
	}
	for r, n := range initiated {
		if n != 0 {
			h.t.Fatalf("%s initiated by event %d was not sent", r.kind, r.id)
		}
	}
	wantTold := 0
	if res.Closed && h.s.Parent != nil && h.s.CloseStatus != api.CloseStatusContinuedAsNew {
		wantTold = 1
	}
	if told != wantTold {
		h.t.Fatalf("the step tells a parent of its close %d times, want %d", told, wantTold)
	}
}
