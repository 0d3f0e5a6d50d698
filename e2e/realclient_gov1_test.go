package e2e

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	awsv1 "github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	swfv1 "github.com/aws/aws-sdk-go/service/swf"
)

// TestRealClientGoV1 runs the real-client scenario (clients/README.md)
// with aws-sdk-go v1's service/swf.
func TestRealClientGoV1(t *testing.T) {
	sess, err := session.NewSession(&awsv1.Config{
		Endpoint: awsv1.String(rcEndpoint(t)), Region: awsv1.String("us-east-1"),
		Credentials: credentials.NewStaticCredentials("AKIDEXAMPLE", "secret", ""),
		MaxRetries:  awsv1.Int(0), HTTPClient: &http.Client{Timeout: 90 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := swfv1.New(sess)
	s := awsv1.String
	domain, deciders, workers, wid := rcDomain("gov1"), "gov1-deciders", "gov1-workers", "rc-wf-gov1"
	wfType := &swfv1.WorkflowType{Name: s("rc-wf"), Version: s("1")}
	actType := &swfv1.ActivityType{Name: s("rc-act"), Version: s("1")}
	must := mustOK(t)
	must(c.RegisterDomain(&swfv1.RegisterDomainInput{Name: s(domain), WorkflowExecutionRetentionPeriodInDays: s("1")}))
	must(c.RegisterWorkflowType(&swfv1.RegisterWorkflowTypeInput{Domain: s(domain), Name: wfType.Name, Version: wfType.Version,
		DefaultTaskList: &swfv1.TaskList{Name: s(deciders)}, DefaultExecutionStartToCloseTimeout: s("600"),
		DefaultTaskStartToCloseTimeout: s("30"), DefaultChildPolicy: s(swfv1.ChildPolicyTerminate)}))
	must(c.RegisterActivityType(&swfv1.RegisterActivityTypeInput{Domain: s(domain), Name: actType.Name, Version: actType.Version,
		DefaultTaskList: &swfv1.TaskList{Name: s(workers)}, DefaultTaskHeartbeatTimeout: s("30"),
		DefaultTaskScheduleToStartTimeout: s("60"), DefaultTaskScheduleToCloseTimeout: s("120"), DefaultTaskStartToCloseTimeout: s("60")}))
	st, err := c.StartWorkflowExecution(&swfv1.StartWorkflowExecutionInput{Domain: s(domain), WorkflowId: s(wid), WorkflowType: wfType,
		Input: s("hello"), TagList: []*string{s("rc"), s("gov1")}})
	if err != nil {
		t.Fatal(err)
	}
	exec := &swfv1.WorkflowExecution{WorkflowId: s(wid), RunId: st.RunId}
	types := func(evs []*swfv1.HistoryEvent) []string {
		var out []string
		for _, e := range evs {
			out = append(out, *e.EventType)
		}
		return out
	}

	poll := func(started, prev int64, cause string) *string {
		t.Helper()
		for i := 0; i < 15; i++ {
			var first *swfv1.PollForDecisionTaskOutput
			var evs []*swfv1.HistoryEvent
			err := c.PollForDecisionTaskPages(&swfv1.PollForDecisionTaskInput{Domain: s(domain), TaskList: &swfv1.TaskList{Name: s(deciders)}, Identity: s("gov1-decider")},
				func(out *swfv1.PollForDecisionTaskOutput, last bool) bool {
					if first == nil {
						first = out
					}
					evs = append(evs, out.Events...)
					return true
				})
			if err != nil {
				t.Fatal(err)
			}
			if first.TaskToken == nil {
				continue
			}
			got := types(evs)
			if *first.StartedEventId != started || awsv1.Int64Value(first.PreviousStartedEventId) != prev || len(got) != int(started) || got[len(got)-3] != cause {
				t.Errorf("decision task: started %d prev %d events %v; want %d %d …%s", *first.StartedEventId, awsv1.Int64Value(first.PreviousStartedEventId), got, started, prev, cause)
			}
			return first.TaskToken
		}
		t.Fatal("no decision task")
		return nil
	}
	decide := func(tok *string, started int, ds ...*swfv1.Decision) {
		t.Helper()
		must(c.RespondDecisionTaskCompleted(&swfv1.RespondDecisionTaskCompletedInput{TaskToken: tok, Decisions: ds, ExecutionContext: s(fmt.Sprintf("ctx-%d", started))}))
	}

	decide(poll(3, 0, "WorkflowExecutionStarted"), 3, &swfv1.Decision{DecisionType: s(swfv1.DecisionTypeScheduleActivityTask),
		ScheduleActivityTaskDecisionAttributes: &swfv1.ScheduleActivityTaskDecisionAttributes{ActivityId: s("act-1"), ActivityType: actType, Input: s("act-in")}})
	var a *swfv1.PollForActivityTaskOutput
	for i := 0; i < 15 && (a == nil || a.TaskToken == nil); i++ {
		if a, err = c.PollForActivityTask(&swfv1.PollForActivityTaskInput{Domain: s(domain), TaskList: &swfv1.TaskList{Name: s(workers)}, Identity: s("gov1-worker")}); err != nil {
			t.Fatal(err)
		}
	}
	if a.TaskToken == nil || *a.ActivityId != "act-1" || *a.Input != "act-in" || *a.StartedEventId != 6 {
		t.Fatalf("activity task %+v", a)
	}
	hb, err := c.RecordActivityTaskHeartbeat(&swfv1.RecordActivityTaskHeartbeatInput{TaskToken: a.TaskToken, Details: s("halfway")})
	if err != nil || hb.CancelRequested == nil || *hb.CancelRequested {
		t.Fatalf("heartbeat: %+v %v", hb, err)
	}
	must(c.RespondActivityTaskCompleted(&swfv1.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken, Result: s("act-out")}))
	_, err = c.RespondActivityTaskCompleted(&swfv1.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken, Result: s("again")})
	if ae, ok := err.(awserr.Error); !ok || ae.Code() != swfv1.ErrCodeUnknownResourceFault {
		t.Errorf("second completion: %v", err)
	}

	decide(poll(9, 3, "ActivityTaskCompleted"), 9, &swfv1.Decision{DecisionType: s(swfv1.DecisionTypeStartTimer),
		StartTimerDecisionAttributes: &swfv1.StartTimerDecisionAttributes{TimerId: s("t-1"), StartToFireTimeout: s("1")}})
	decide(poll(14, 9, "TimerFired"), 14)
	must(c.SignalWorkflowExecution(&swfv1.SignalWorkflowExecutionInput{Domain: s(domain), WorkflowId: s(wid), RunId: st.RunId, SignalName: s("sig-1"), Input: s("sig-in")}))
	decide(poll(18, 14, "WorkflowExecutionSignaled"), 18)
	must(c.RequestCancelWorkflowExecution(&swfv1.RequestCancelWorkflowExecutionInput{Domain: s(domain), WorkflowId: s(wid)}))
	decide(poll(22, 18, "WorkflowExecutionCancelRequested"), 22, &swfv1.Decision{DecisionType: s(swfv1.DecisionTypeCancelWorkflowExecution),
		CancelWorkflowExecutionDecisionAttributes: &swfv1.CancelWorkflowExecutionDecisionAttributes{Details: s("bye")}})

	var evs []*swfv1.HistoryEvent
	pages := 0
	if err := c.GetWorkflowExecutionHistoryPages(&swfv1.GetWorkflowExecutionHistoryInput{Domain: s(domain), Execution: exec, MaximumPageSize: awsv1.Int64(10)},
		func(out *swfv1.GetWorkflowExecutionHistoryOutput, last bool) bool {
			pages++
			evs = append(evs, out.Events...)
			return true
		}); err != nil {
		t.Fatal(err)
	}
	if pages != 3 {
		t.Errorf("history in %d pages of 10", pages)
	}
	if got := types(evs); !reflect.DeepEqual(got, rcWantHistory) {
		t.Fatalf("history:\n got %v\nwant %v", got, rcWantHistory)
	}
	for i, e := range evs {
		if *e.EventId != int64(i+1) || (i > 0 && e.EventTimestamp.Before(*evs[i-1].EventTimestamp)) {
			t.Errorf("event %d: id %d at %v", i, *e.EventId, e.EventTimestamp)
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
	check("started", []any{*s1.Input, *s1.TaskList.Name, *s1.ChildPolicy, *s1.ExecutionStartToCloseTimeout, awsv1.StringValueSlice(s1.TagList)}, []any{"hello", deciders, "TERMINATE", "600", []string{"rc", "gov1"}})
	s5 := evs[4].ActivityTaskScheduledEventAttributes
	check("scheduled", []any{*s5.ActivityId, *s5.TaskList.Name, *s5.HeartbeatTimeout, *s5.DecisionTaskCompletedEventId}, []any{"act-1", workers, "30", int64(4)})
	s7 := evs[6].ActivityTaskCompletedEventAttributes
	check("completed", []any{*s7.Result, *s7.ScheduledEventId, *s7.StartedEventId}, []any{"act-out", int64(5), int64(6)})
	s11 := evs[10].TimerStartedEventAttributes
	check("timer started", []any{*s11.TimerId, *s11.StartToFireTimeout, *s11.DecisionTaskCompletedEventId}, []any{"t-1", "1", int64(10)})
	s12 := evs[11].TimerFiredEventAttributes
	check("timer fired", []any{*s12.TimerId, *s12.StartedEventId}, []any{"t-1", int64(11)})
	s16 := evs[15].WorkflowExecutionSignaledEventAttributes
	check("signaled", []any{*s16.SignalName, *s16.Input}, []any{"sig-1", "sig-in"})
	s24 := evs[23].WorkflowExecutionCanceledEventAttributes
	check("canceled", []any{*s24.Details, *s24.DecisionTaskCompletedEventId}, []any{"bye", int64(23)})

	desc, err := c.DescribeWorkflowExecution(&swfv1.DescribeWorkflowExecutionInput{Domain: s(domain), Execution: exec})
	if err != nil {
		t.Fatal(err)
	}
	check("describe", []any{*desc.ExecutionInfo.ExecutionStatus, *desc.ExecutionInfo.CloseStatus, *desc.LatestExecutionContext},
		[]any{"CLOSED", "CANCELED", "ctx-22"})
}
