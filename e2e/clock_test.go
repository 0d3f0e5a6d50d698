package e2e

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/promtest"
	"github.com/swfd/swfd/swfdtest"
)

// clockFlow is the workflow of the clock tests, driven through
// aws-sdk-go-v2: its first decision starts a 24-hour timer and schedules an
// activity with a 2-hour start-to-close timeout.
type clockFlow struct {
	t     *testing.T
	ctx   context.Context
	srv   *swfdtest.Server
	c     *swf.Client
	run   *swf.StartWorkflowExecutionOutput
	start time.Time
}

func newClockFlow(t *testing.T, opts ...swfdtest.Option) *clockFlow {
	f := &clockFlow{t: t, ctx: context.Background(), srv: swfdtest.New(t, opts...)}
	f.c = f.srv.Client()
	f.srv.RegisterDomain("clock",
		swfdtest.WorkflowType{Name: "wait", Version: "1", TaskList: "deciders"},
		swfdtest.ActivityType{Name: "charge", Version: "1", TaskList: "workers", StartToClose: 2 * time.Hour})
	run, err := f.c.StartWorkflowExecution(f.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("clock"), WorkflowId: aws.String("w"),
		WorkflowType: &types.WorkflowType{Name: aws.String("wait"), Version: aws.String("1")}})
	if err != nil {
		t.Fatal(err)
	}
	f.run = run
	f.start = f.history()[0].EventTimestamp.UTC()
	return f
}

func (f *clockFlow) decide(ds ...types.Decision) *swf.PollForDecisionTaskOutput {
	f.t.Helper()
	task, err := f.c.PollForDecisionTask(f.ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("clock"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
	if err != nil || task.TaskToken == nil {
		f.t.Fatalf("decision poll: %v (token %v)", err, task.TaskToken)
	}
	if _, err := f.c.RespondDecisionTaskCompleted(f.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: ds}); err != nil {
		f.t.Fatal(err)
	}
	return task
}

func (f *clockFlow) firstDecision() {
	f.t.Helper()
	f.decide(
		types.Decision{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{
			TimerId: aws.String("day"), StartToFireTimeout: aws.String("86400")}},
		types.Decision{DecisionType: types.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
			ActivityId: aws.String("charge-1"), ActivityType: &types.ActivityType{Name: aws.String("charge"), Version: aws.String("1")}}})
}

func (f *clockFlow) activity() *swf.PollForActivityTaskOutput {
	f.t.Helper()
	task, err := f.c.PollForActivityTask(f.ctx, &swf.PollForActivityTaskInput{Domain: aws.String("clock"), TaskList: &types.TaskList{Name: aws.String("workers")}})
	if err != nil || task.TaskToken == nil {
		f.t.Fatalf("activity poll: %v", err)
	}
	return task
}

func (f *clockFlow) history() []types.HistoryEvent {
	f.t.Helper()
	out, err := f.c.GetWorkflowExecutionHistory(f.ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("clock"),
		Execution: &types.WorkflowExecution{WorkflowId: aws.String("w"), RunId: f.run.RunId}})
	if err != nil {
		f.t.Fatal(err)
	}
	return out.Events
}

// at returns when the first event of a type happened, after the start.
func (f *clockFlow) at(evs []types.HistoryEvent, typ types.EventType) time.Duration {
	f.t.Helper()
	for _, e := range evs {
		if e.EventType == typ {
			return e.EventTimestamp.Sub(f.start)
		}
	}
	f.t.Fatalf("no %s in %v", typ, eventTypes(evs))
	return 0
}

// On a manual clock, one advance of a day fires the activity's 2-hour
// timeout and the 24-hour timer in order, each at its own time, and the
// workflow completes in far less than a second of real time.
func TestManualClockFiresTimeoutsInOrder(t *testing.T) {
	began := time.Now()
	start := time.Date(2030, 6, 1, 8, 0, 0, 0, time.UTC)
	f := newClockFlow(t, swfdtest.StartAt(start))
	if !f.start.Equal(start) {
		t.Fatalf("the run started at %v, not at the clock's %v", f.start, start)
	}
	f.firstDecision()
	f.activity() // the worker takes the task, then dies

	if now := f.srv.Advance(24 * time.Hour); !now.Equal(start.Add(24 * time.Hour)) {
		t.Fatalf("after advancing a day the clock shows %v", now)
	}
	evs := f.history()
	if got := f.at(evs, types.EventTypeActivityTaskTimedOut); got != 2*time.Hour {
		t.Errorf("the activity timed out after %v, want 2h", got)
	}
	if got := f.at(evs, types.EventTypeTimerFired); got != 24*time.Hour {
		t.Errorf("the timer fired after %v, want 24h", got)
	}
	var timedOut, fired int
	for i, e := range evs {
		switch e.EventType {
		case types.EventTypeActivityTaskTimedOut:
			timedOut = i
			if tt := e.ActivityTaskTimedOutEventAttributes.TimeoutType; tt != types.ActivityTaskTimeoutTypeStartToClose {
				t.Errorf("timeout type %s", tt)
			}
		case types.EventTypeTimerFired:
			fired = i
		}
	}
	if timedOut > fired {
		t.Errorf("the timer fired before the earlier timeout: %v", eventTypes(evs))
	}
	// The decision task the timeout scheduled waits; the decider, back
	// after the day, sees both and completes.
	task := f.decide(types.Decision{DecisionType: types.DecisionTypeCompleteWorkflowExecution})
	if n := len(task.Events); task.Events[n-1].EventTimestamp.Sub(start) != 24*time.Hour {
		t.Errorf("the decision task started after %v, want 24h (no task is handed out while time moves)", task.Events[n-1].EventTimestamp.Sub(start))
	}
	evs = f.history()
	if last := evs[len(evs)-1]; last.EventType != types.EventTypeWorkflowExecutionCompleted || last.EventTimestamp.Sub(start) != 24*time.Hour {
		t.Fatalf("last event %s after %v", last.EventType, last.EventTimestamp.Sub(start))
	}
	t.Logf("a day of workflow time in %v of real time", time.Since(began))
}

// On a manual clock a timer that the first decision starts with the run's
// own length (a day, the type's executionStartToCloseTimeout here) falls due
// at the same instant as the run's timeout, the clock having stood still
// in between. In real time it would be due after the timeout, by as long
// as the decision took, and never fire: a move past it records the run's
// timeout alone, as it does the activity timeouts of the same instant in
// the order the activities were scheduled.
func TestManualClockSameInstantFiresInTheOrderArmed(t *testing.T) {
	start := time.Date(2030, 6, 1, 8, 0, 0, 0, time.UTC)
	f := newClockFlow(t, swfdtest.StartAt(start))
	ds := []types.Decision{{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{
		TimerId: aws.String("as-long-as-the-run"), StartToFireTimeout: aws.String("2592000")}}}
	for i := range 12 {
		ds = append(ds, types.Decision{DecisionType: types.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
			ActivityId: aws.String(fmt.Sprint("charge-", i)), ActivityType: &types.ActivityType{Name: aws.String("charge"), Version: aws.String("1")},
			TaskList: &types.TaskList{Name: aws.String("nobody")}, ScheduleToStartTimeout: aws.String("600")}})
	}
	f.decide(ds...) // the timer is event 5, the activities 6 to 17
	f.srv.Advance(31 * 24 * time.Hour)
	var got []string
	for _, e := range f.history()[5+12:] {
		switch {
		case e.ActivityTaskTimedOutEventAttributes != nil:
			got = append(got, fmt.Sprint(e.EventTimestamp.Sub(start), " timed out ", e.ActivityTaskTimedOutEventAttributes.ScheduledEventId))
		case e.EventType != types.EventTypeDecisionTaskScheduled:
			got = append(got, fmt.Sprint(e.EventTimestamp.Sub(start), " ", e.EventType))
		}
	}
	want := []string{}
	for id := 6; id <= 17; id++ {
		want = append(want, fmt.Sprint(10*time.Minute, " timed out ", id))
	}
	want = append(want, fmt.Sprint(30*24*time.Hour, " ", types.EventTypeWorkflowExecutionTimedOut))
	if !slices.Equal(got, want) {
		t.Fatalf("after the move:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A long poll on a manual clock still ends after the poll timeout of real
// time, although the clock does not move.
func TestManualClockPollsEndInRealTime(t *testing.T) {
	f := newClockFlow(t, swfdtest.WithPollTimeout(200*time.Millisecond))
	out, err := f.c.PollForActivityTask(f.ctx, &swf.PollForActivityTaskInput{Domain: aws.String("clock"), TaskList: &types.TaskList{Name: aws.String("nobody")}})
	if err != nil || out.TaskToken != nil {
		t.Fatalf("poll: %v, %v", out, err)
	}
	if now := f.srv.Now(); !now.Equal(f.start) {
		t.Fatalf("the manual clock moved by itself: %v, started %v", now, f.start)
	}
}

// On a skip clock, time runs while the activity runs, and jumps to the
// 24-hour timer as soon as nothing else could happen: the workflow
// completes in far less than a second of real time, its activity's 2-hour
// timeout never fires, and the timer fires a day after it started.
func TestSkipClockJumpsWhenNothingCouldHappen(t *testing.T) {
	began := time.Now()
	f := newClockFlow(t, swfdtest.WithClock(clock.Skip))
	f.firstDecision()
	act := f.activity()
	// The worker is busy: a call wakes the timer loop, which must not
	// jump while the activity runs.
	if _, err := f.c.RecordActivityTaskHeartbeat(f.ctx, &swf.RecordActivityTaskHeartbeatInput{TaskToken: act.TaskToken}); err != nil {
		t.Fatal(err)
	}
	for {
		if _, asleep := f.srv.Server.Service.Timers().Sleeping(); asleep {
			break
		}
		runtime.Gosched()
	}
	if moved := f.srv.Now().Sub(f.start); moved > time.Minute {
		t.Fatalf("the clock jumped %v while an activity was running", moved)
	}
	if _, err := f.c.RespondActivityTaskCompleted(f.ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: act.TaskToken, Result: aws.String("ok")}); err != nil {
		t.Fatal(err)
	}
	f.decide() // the activity is done; the timer is all that is left
	task := f.decide(types.Decision{DecisionType: types.DecisionTypeCompleteWorkflowExecution})
	if last := task.Events[len(task.Events)-3]; last.EventType != types.EventTypeTimerFired { // then DecisionTaskScheduled, DecisionTaskStarted
		t.Fatalf("the decider was woken by %s, not the timer", last.EventType)
	}
	evs := f.history()
	if got := f.at(evs, types.EventTypeTimerFired) - f.at(evs, types.EventTypeTimerStarted); got < 24*time.Hour || got > 24*time.Hour+time.Second {
		t.Errorf("the timer fired %v after it started, want 24h", got)
	}
	if got := f.at(evs, types.EventTypeActivityTaskCompleted); got > time.Minute {
		t.Errorf("the activity completed %v after the start: the clock jumped while it ran", got)
	}
	for _, e := range evs {
		if e.EventType == types.EventTypeActivityTaskTimedOut {
			t.Errorf("the completed activity timed out: %v", eventTypes(evs))
		}
	}
	if last := evs[len(evs)-1]; last.EventType != types.EventTypeWorkflowExecutionCompleted {
		t.Fatalf("last event %s", last.EventType)
	}
	if real := time.Since(began); real > 5*time.Second {
		t.Errorf("a day of workflow time took %v of real time", real)
	}
	t.Logf("a day of workflow time in %v of real time", time.Since(began))
}

// A child started, and a run continued, with executionStartToCloseTimeout
// NONE record NONE as given and time out at one year, as runs given
// 31536000 do: still open a second before the year, timed out exactly at
// it once the manual clock has moved 366 days.
func TestManualClockNoneExecutionTimeoutIsOneYear(t *testing.T) {
	const year = 365 * 24 * time.Hour
	start := time.Date(2030, 6, 1, 8, 0, 0, 0, time.UTC)
	srv := swfdtest.New(t, swfdtest.StartAt(start))
	ctx, c := context.Background(), srv.Client()
	srv.RegisterDomain("clock", swfdtest.WorkflowType{Name: "wait", Version: "1", Execution: year, ChildPolicy: types.ChildPolicyAbandon})
	wt := &types.WorkflowType{Name: aws.String("wait"), Version: aws.String("1")}
	history := func(workflowID, runID string) []types.HistoryEvent {
		t.Helper()
		out, err := c.GetWorkflowExecutionHistory(ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("clock"),
			Execution: &types.WorkflowExecution{WorkflowId: aws.String(workflowID), RunId: aws.String(runID)}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Events
	}
	decide := func(workflowID, list string, d types.Decision) string {
		t.Helper()
		run, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("clock"), WorkflowId: aws.String(workflowID),
			WorkflowType: wt, TaskList: &types.TaskList{Name: aws.String(list)}})
		if err != nil {
			t.Fatal(err)
		}
		task, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("clock"), TaskList: &types.TaskList{Name: aws.String(list)}})
		if err != nil || task.TaskToken == nil {
			t.Fatalf("decision poll: %v", err)
		}
		if _, err := c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: []types.Decision{d}}); err != nil {
			t.Fatal(err)
		}
		return *run.RunId
	}
	parent := decide("parent", "parents", types.Decision{DecisionType: types.DecisionTypeStartChildWorkflowExecution,
		StartChildWorkflowExecutionDecisionAttributes: &types.StartChildWorkflowExecutionDecisionAttributes{
			WorkflowId: aws.String("kid"), WorkflowType: wt, ExecutionStartToCloseTimeout: aws.String("NONE"), TaskList: &types.TaskList{Name: aws.String("kids")}}})
	looping := decide("looping", "loopers", types.Decision{DecisionType: types.DecisionTypeContinueAsNewWorkflowExecution,
		ContinueAsNewWorkflowExecutionDecisionAttributes: &types.ContinueAsNewWorkflowExecutionDecisionAttributes{
			ExecutionStartToCloseTimeout: aws.String("NONE"), TaskList: &types.TaskList{Name: aws.String("loopers")}}})
	var kid string
	waitFor(t, "the child to start", func() bool {
		for _, e := range history("parent", parent) {
			if a := e.ChildWorkflowExecutionStartedEventAttributes; a != nil {
				kid = *a.WorkflowExecution.RunId
			}
		}
		return kid != ""
	})
	evs := history("looping", looping)
	continued := *evs[len(evs)-1].WorkflowExecutionContinuedAsNewEventAttributes.NewExecutionRunId
	runs := map[string]string{"kid": kid, "looping": continued}

	for id, run := range runs {
		evs := history(id, run)
		if got := aws.ToString(evs[0].WorkflowExecutionStartedEventAttributes.ExecutionStartToCloseTimeout); got != "NONE" {
			t.Fatalf("%s started with executionStartToCloseTimeout %q, want NONE as given", id, got)
		}
	}
	srv.Advance(year - time.Second)
	for id, run := range runs {
		if evs := history(id, run); evs[len(evs)-1].EventType == types.EventTypeWorkflowExecutionTimedOut {
			t.Fatalf("%s timed out before the year: %v", id, eventTypes(evs))
		}
	}
	srv.Advance(24*time.Hour + time.Second) // 366 days in all
	for id, run := range runs {
		evs := history(id, run)
		last := evs[len(evs)-1]
		if last.EventType != types.EventTypeWorkflowExecutionTimedOut || !last.EventTimestamp.Equal(start.Add(year)) {
			t.Fatalf("%s: last event %s at %v, want WorkflowExecutionTimedOut at %v (%v)", id, last.EventType, last.EventTimestamp, start.Add(year), eventTypes(evs))
		}
		out, err := c.DescribeWorkflowExecution(ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String("clock"),
			Execution: &types.WorkflowExecution{WorkflowId: aws.String(id), RunId: aws.String(run)}})
		if err != nil {
			t.Fatal(err)
		}
		if out.ExecutionInfo.CloseStatus != types.CloseStatusTimedOut || aws.ToString(out.ExecutionConfiguration.ExecutionStartToCloseTimeout) != "NONE" {
			t.Fatalf("%s: %s, executionStartToCloseTimeout %q", id, out.ExecutionInfo.CloseStatus, aws.ToString(out.ExecutionConfiguration.ExecutionStartToCloseTimeout))
		}
	}
}

// On a manual clock moved ahead of the wall clock, a timer of zero seconds
// (due at once, at the clock's time) fires without another move, as any
// timer due now does: the timer loop compares due times with its wake-up on
// the same clock, and looks again after each move.
func TestManualClockZeroTimerFiresAtOnce(t *testing.T) {
	f := newClockFlow(t)
	f.srv.Advance(2 * time.Hour)
	f.decide(types.Decision{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{
		TimerId: aws.String("now"), StartToFireTimeout: aws.String("0")}})
	ctx, cancel := context.WithTimeout(f.ctx, 20*time.Second)
	defer cancel()
	task, err := f.c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("clock"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
	if err != nil || task.TaskToken == nil {
		t.Fatalf("no decision task after a zero-second timer: %v", err)
	}
	var fired *types.HistoryEvent
	for i := range task.Events {
		if task.Events[i].EventType == types.EventTypeTimerFired {
			fired = &task.Events[i]
		}
	}
	if fired == nil || !fired.EventTimestamp.Equal(f.start.Add(2*time.Hour)) {
		t.Fatalf("TimerFired: %+v, want it at the clock's time %v", fired, f.start.Add(2*time.Hour))
	}
}

// A page token lives 24 hours of real time, whatever the clock shows: a
// client part way through a list or a history when a test moves the clock
// (a manual advance, a skip to the next timer) goes on to the next page, as
// it would against the real service, where paging takes a moment. Through
// aws-sdk-go-v2, for a registry list and for a history, each time the
// clock moves past the token's day.
func TestPageTokensOutliveMovedClock(t *testing.T) {
	f := newClockFlow(t)
	f.srv.RegisterDomain("clock-2")
	f.firstDecision()
	domains, err := f.c.ListDomains(f.ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 1})
	if err != nil || domains.NextPageToken == nil {
		t.Fatalf("first page of domains: %v (token %v)", err, domains.NextPageToken)
	}
	exec := &types.WorkflowExecution{WorkflowId: aws.String("w"), RunId: f.run.RunId}
	events, err := f.c.GetWorkflowExecutionHistory(f.ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("clock"), Execution: exec, MaximumPageSize: 2})
	if err != nil || events.NextPageToken == nil {
		t.Fatalf("first page of the history: %v (token %v)", err, events.NextPageToken)
	}
	f.srv.Advance(25 * time.Hour)
	more, err := f.c.ListDomains(f.ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 1, NextPageToken: domains.NextPageToken})
	if err != nil {
		t.Fatalf("second page of domains after the clock moved 25h: %v", err)
	}
	if got := aws.ToString(more.DomainInfos[0].Name); got == aws.ToString(domains.DomainInfos[0].Name) {
		t.Errorf("the second page of domains repeats the first: %s", got)
	}
	rest, err := f.c.GetWorkflowExecutionHistory(f.ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("clock"), Execution: exec, MaximumPageSize: 2,
		NextPageToken: events.NextPageToken})
	if err != nil {
		t.Fatalf("second page of the history after the clock moved 25h: %v", err)
	}
	if len(rest.Events) == 0 || rest.Events[0].EventId != 3 {
		t.Errorf("the history's second page begins %+v, want event 3", rest.Events)
	}
	// A token made after the move works too.
	f.srv.Advance(48 * time.Hour)
	if _, err := f.c.GetWorkflowExecutionHistory(f.ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("clock"), Execution: exec, MaximumPageSize: 2,
		NextPageToken: rest.NextPageToken}); err != nil {
		t.Fatalf("third page of the history after the clock moved 73h in all: %v", err)
	}
}

// A move counts the timers that recorded something, and so does the
// swfd_timers_fired_total metric: of a run's timers due at one instant,
// one whose step first fires those armed before it counts each of them,
// and one left with nothing to do (what it guarded already ended, its
// run already closed, or fired with an earlier one) counts nothing. Here
// twelve activities time out together (the loop hands over the tenth
// first, which fires the first four with it) and then the run times out
// at the instant of a timer its first decision started, which never fires.
func TestMoveCountsOnlyTimersThatFired(t *testing.T) {
	f := newClockFlow(t)
	ds := []types.Decision{{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{
		TimerId: aws.String("as-long-as-the-run"), StartToFireTimeout: aws.String("2592000")}}}
	for i := range 12 {
		ds = append(ds, types.Decision{DecisionType: types.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
			ActivityId: aws.String(fmt.Sprint("charge-", i)), ActivityType: &types.ActivityType{Name: aws.String("charge"), Version: aws.String("1")},
			TaskList: &types.TaskList{Name: aws.String("nobody")}, ScheduleToStartTimeout: aws.String("600")}})
	}
	f.decide(ds...)
	m, err := f.srv.Server.MoveClock(func(c *clock.Controller) (clock.Moved, error) {
		return c.Advance(context.Background(), 31*24*time.Hour)
	})
	if err != nil {
		t.Fatal(err)
	}
	timedOut := 0
	for _, e := range f.history() {
		if e.EventType == types.EventTypeActivityTaskTimedOut || e.EventType == types.EventTypeWorkflowExecutionTimedOut || e.EventType == types.EventTypeTimerFired {
			timedOut++
		}
	}
	if timedOut != 13 {
		t.Fatalf("%d timeouts and timers recorded; want the 12 activities' and the run's", timedOut)
	}
	if m.Fired != timedOut {
		t.Errorf("the move says %d timers fired; want %d, those recorded", m.Fired, timedOut)
	}
	fams, err := promtest.Scrape(nil, f.srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := fams.Value("swfd_timers_fired_total"); got != float64(timedOut) {
		t.Errorf("swfd_timers_fired_total = %v; want %d", got, timedOut)
	}
}
