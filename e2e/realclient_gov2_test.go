package e2e

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/swfdtest"
)

// The real-client scenario (clients/README.md), shared by every client:
// register → start → decide → activity with heartbeat → 1 s timer →
// signal → RequestCancelWorkflowExecution → CancelWorkflowExecution, then
// the history read back and checked. These Go versions run against
// SWFD_ENDPOINT when it is set (clients/run-all.sh), else against a test
// server of their own.

// rcWantHistory is the scenario's whole history.
var rcWantHistory = []string{
	"WorkflowExecutionStarted", "DecisionTaskScheduled", "DecisionTaskStarted", "DecisionTaskCompleted",
	"ActivityTaskScheduled", "ActivityTaskStarted", "ActivityTaskCompleted",
	"DecisionTaskScheduled", "DecisionTaskStarted", "DecisionTaskCompleted",
	"TimerStarted", "TimerFired",
	"DecisionTaskScheduled", "DecisionTaskStarted", "DecisionTaskCompleted",
	"WorkflowExecutionSignaled",
	"DecisionTaskScheduled", "DecisionTaskStarted", "DecisionTaskCompleted",
	"WorkflowExecutionCancelRequested",
	"DecisionTaskScheduled", "DecisionTaskStarted", "DecisionTaskCompleted",
	"WorkflowExecutionCanceled",
}

// rcEndpoint is SWFD_ENDPOINT, or a fresh test server's URL.
func rcEndpoint(t *testing.T) string {
	if ep := os.Getenv("SWFD_ENDPOINT"); ep != "" {
		return ep
	}
	return swfdtest.Start(t, swfdtest.Options{PollTimeout: 2 * time.Second}).URL
}

func rcDomain(client string) string {
	return fmt.Sprintf("rc-%s-%d", client, time.Now().UnixNano())
}

func TestRealClientGoV2(t *testing.T) {
	c := swfdtest.NewClient(rcEndpoint(t))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	domain, deciders, workers, wid := rcDomain("gov2"), "gov2-deciders", "gov2-workers", "rc-wf-gov2"
	wfType := &types.WorkflowType{Name: aws.String("rc-wf"), Version: aws.String("1")}
	actType := &types.ActivityType{Name: aws.String("rc-act"), Version: aws.String("1")}
	must := mustOK(t)
	must(c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(domain), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}))
	must(c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String(domain), Name: wfType.Name, Version: wfType.Version,
		DefaultTaskList: &types.TaskList{Name: aws.String(deciders)}, DefaultExecutionStartToCloseTimeout: aws.String("600"),
		DefaultTaskStartToCloseTimeout: aws.String("30"), DefaultChildPolicy: types.ChildPolicyTerminate}))
	must(c.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{Domain: aws.String(domain), Name: actType.Name, Version: actType.Version,
		DefaultTaskList: &types.TaskList{Name: aws.String(workers)}, DefaultTaskHeartbeatTimeout: aws.String("30"),
		DefaultTaskScheduleToStartTimeout: aws.String("60"), DefaultTaskScheduleToCloseTimeout: aws.String("120"), DefaultTaskStartToCloseTimeout: aws.String("60")}))
	st, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(domain), WorkflowId: aws.String(wid), WorkflowType: wfType,
		Input: aws.String("hello"), TagList: []string{"rc", "gov2"}})
	if err != nil {
		t.Fatal(err)
	}
	exec := &types.WorkflowExecution{WorkflowId: aws.String(wid), RunId: st.RunId}

	poll := func(started, prev int64, cause string) *string {
		t.Helper()
		for i := 0; i < 15; i++ {
			in := &swf.PollForDecisionTaskInput{Domain: aws.String(domain), TaskList: &types.TaskList{Name: aws.String(deciders)}, Identity: aws.String("gov2-decider")}
			var evs []types.HistoryEvent
			var first *swf.PollForDecisionTaskOutput
			for p := swf.NewPollForDecisionTaskPaginator(c, in); p.HasMorePages(); {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if first == nil {
					first = out
				}
				evs = append(evs, out.Events...)
			}
			if first.TaskToken == nil {
				continue
			}
			got := eventTypes(evs)
			if first.StartedEventId != started || first.PreviousStartedEventId != prev || len(got) != int(started) || got[len(got)-3] != cause {
				t.Errorf("decision task: started %d prev %d events %v; want %d %d …%s", first.StartedEventId, first.PreviousStartedEventId, got, started, prev, cause)
			}
			return first.TaskToken
		}
		t.Fatal("no decision task")
		return nil
	}
	decide := func(tok *string, started int, ds ...types.Decision) {
		t.Helper()
		must(c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: tok, Decisions: ds, ExecutionContext: aws.String(fmt.Sprintf("ctx-%d", started))}))
	}

	decide(poll(3, 0, "WorkflowExecutionStarted"), 3, types.Decision{DecisionType: types.DecisionTypeScheduleActivityTask,
		ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{ActivityId: aws.String("act-1"), ActivityType: actType, Input: aws.String("act-in")}})
	var a *swf.PollForActivityTaskOutput
	for i := 0; i < 15 && (a == nil || a.TaskToken == nil); i++ {
		if a, err = c.PollForActivityTask(ctx, &swf.PollForActivityTaskInput{Domain: aws.String(domain), TaskList: &types.TaskList{Name: aws.String(workers)}, Identity: aws.String("gov2-worker")}); err != nil {
			t.Fatal(err)
		}
	}
	if a.TaskToken == nil || *a.ActivityId != "act-1" || *a.Input != "act-in" || a.StartedEventId != 6 {
		t.Fatalf("activity task %+v", a)
	}
	hb, err := c.RecordActivityTaskHeartbeat(ctx, &swf.RecordActivityTaskHeartbeatInput{TaskToken: a.TaskToken, Details: aws.String("halfway")})
	if err != nil || hb.CancelRequested {
		t.Fatalf("heartbeat: %+v %v", hb, err)
	}
	must(c.RespondActivityTaskCompleted(ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken, Result: aws.String("act-out")}))
	_, err = c.RespondActivityTaskCompleted(ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken, Result: aws.String("again")})
	wantCode(t, err, "UnknownResourceFault")

	decide(poll(9, 3, "ActivityTaskCompleted"), 9, types.Decision{DecisionType: types.DecisionTypeStartTimer,
		StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{TimerId: aws.String("t-1"), StartToFireTimeout: aws.String("1")}})
	decide(poll(14, 9, "TimerFired"), 14)
	must(c.SignalWorkflowExecution(ctx, &swf.SignalWorkflowExecutionInput{Domain: aws.String(domain), WorkflowId: aws.String(wid), RunId: st.RunId, SignalName: aws.String("sig-1"), Input: aws.String("sig-in")}))
	decide(poll(18, 14, "WorkflowExecutionSignaled"), 18)
	must(c.RequestCancelWorkflowExecution(ctx, &swf.RequestCancelWorkflowExecutionInput{Domain: aws.String(domain), WorkflowId: aws.String(wid)}))
	decide(poll(22, 18, "WorkflowExecutionCancelRequested"), 22, types.Decision{DecisionType: types.DecisionTypeCancelWorkflowExecution,
		CancelWorkflowExecutionDecisionAttributes: &types.CancelWorkflowExecutionDecisionAttributes{Details: aws.String("bye")}})

	var evs []types.HistoryEvent
	pages := 0
	for p := swf.NewGetWorkflowExecutionHistoryPaginator(c, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String(domain), Execution: exec, MaximumPageSize: 10}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		evs = append(evs, out.Events...)
	}
	if pages != 3 {
		t.Errorf("history in %d pages of 10", pages)
	}
	if got := eventTypes(evs); !reflect.DeepEqual(got, rcWantHistory) {
		t.Fatalf("history:\n got %v\nwant %v", got, rcWantHistory)
	}
	for i, e := range evs {
		if e.EventId != int64(i+1) || (i > 0 && e.EventTimestamp.Before(*evs[i-1].EventTimestamp)) {
			t.Errorf("event %d: id %d at %v", i, e.EventId, e.EventTimestamp)
		}
	}
	if d := evs[11].EventTimestamp.Sub(*evs[10].EventTimestamp); d < 900*time.Millisecond {
		t.Errorf("timer fired after %v", d)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v want %v", what, got, want)
		}
	}
	s1 := evs[0].WorkflowExecutionStartedEventAttributes
	check("started", []any{*s1.Input, *s1.TaskList.Name, s1.ChildPolicy, *s1.ExecutionStartToCloseTimeout, s1.TagList}, []any{"hello", deciders, types.ChildPolicyTerminate, "600", []string{"rc", "gov2"}})
	s5 := evs[4].ActivityTaskScheduledEventAttributes
	check("scheduled", []any{*s5.ActivityId, *s5.TaskList.Name, *s5.HeartbeatTimeout, s5.DecisionTaskCompletedEventId}, []any{"act-1", workers, "30", int64(4)})
	s6 := evs[5].ActivityTaskStartedEventAttributes
	check("activity started", []any{*s6.Identity, s6.ScheduledEventId}, []any{"gov2-worker", int64(5)})
	s7 := evs[6].ActivityTaskCompletedEventAttributes
	check("completed", []any{*s7.Result, s7.ScheduledEventId, s7.StartedEventId}, []any{"act-out", int64(5), int64(6)})
	s10 := evs[9].DecisionTaskCompletedEventAttributes
	check("decision completed", []any{*s10.ExecutionContext, s10.ScheduledEventId, s10.StartedEventId}, []any{"ctx-9", int64(8), int64(9)})
	s11 := evs[10].TimerStartedEventAttributes
	check("timer started", []any{*s11.TimerId, *s11.StartToFireTimeout, s11.DecisionTaskCompletedEventId}, []any{"t-1", "1", int64(10)})
	s12 := evs[11].TimerFiredEventAttributes
	check("timer fired", []any{*s12.TimerId, s12.StartedEventId}, []any{"t-1", int64(11)})
	s16 := evs[15].WorkflowExecutionSignaledEventAttributes
	check("signaled", []any{*s16.SignalName, *s16.Input}, []any{"sig-1", "sig-in"})
	s24 := evs[23].WorkflowExecutionCanceledEventAttributes
	check("canceled", []any{*s24.Details, s24.DecisionTaskCompletedEventId}, []any{"bye", int64(23)})

	desc, err := c.DescribeWorkflowExecution(ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String(domain), Execution: exec})
	if err != nil {
		t.Fatal(err)
	}
	check("describe", []any{desc.ExecutionInfo.ExecutionStatus, desc.ExecutionInfo.CloseStatus, *desc.LatestExecutionContext},
		[]any{types.ExecutionStatusClosed, types.CloseStatusCanceled, "ctx-22"})
}
