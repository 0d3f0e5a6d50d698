package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/swfdtest"
)

// fixture is a swfd with a console, and helpers that play decider and
// worker through the service itself.
type fixture struct {
	t   testing.TB
	ctx context.Context
	srv *swfdtest.Server
	svc api.Service
}

// start is when every fixture's clock starts, so that screenshots and
// timestamps are the same on each run.
var start = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func newFixture(t testing.TB, opts ...swfdtest.Option) *fixture {
	t.Helper()
	srv := swfdtest.New(t, append([]swfdtest.Option{swfdtest.StartAt(start)}, opts...)...)
	return &fixture{t: t, ctx: context.Background(), srv: srv, svc: srv.Server.Service}
}

// newRealFixture is newFixture on the real clock, which starts at the real
// time (StartAt is refused with it).
func newRealFixture(t testing.TB, opts ...swfdtest.Option) *fixture {
	t.Helper()
	srv := swfdtest.New(t, append([]swfdtest.Option{swfdtest.WithClock(clock.Real)}, opts...)...)
	return &fixture{t: t, ctx: context.Background(), srv: srv, svc: srv.Server.Service}
}

func withConfig(f func(*server.Config)) swfdtest.Option { return swfdtest.WithConfig(f) }

func (f *fixture) check(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// register makes a domain with the workflow and activity types the
// fixtures use.
func (f *fixture) register(domain string) {
	f.t.Helper()
	f.check(f.svc.RegisterDomain(f.ctx, &api.RegisterDomainInput{Name: domain, WorkflowExecutionRetentionPeriodInDays: "30", Description: api.String("Orders from the web shop")}))
	f.check(f.svc.RegisterWorkflowType(f.ctx, &api.RegisterWorkflowTypeInput{Domain: domain, Name: "process-order", Version: "1",
		DefaultTaskList: &api.TaskList{Name: "deciders"}, DefaultExecutionStartToCloseTimeout: "86400", DefaultTaskStartToCloseTimeout: "300",
		DefaultChildPolicy: api.ChildPolicyTerminate, Description: api.String("Charge, pack and ship an order")}))
	for _, a := range []string{"charge-card", "pack", "ship"} {
		f.check(f.svc.RegisterActivityType(f.ctx, &api.RegisterActivityTypeInput{Domain: domain, Name: a, Version: "1",
			DefaultTaskList: &api.TaskList{Name: "workers"}, DefaultTaskStartToCloseTimeout: "600", DefaultTaskHeartbeatTimeout: "NONE",
			DefaultTaskScheduleToStartTimeout: "NONE", DefaultTaskScheduleToCloseTimeout: "NONE"}))
	}
}

func (f *fixture) startRun(domain, wid, input string, tags ...string) api.WorkflowExecution {
	f.t.Helper()
	run, err := f.svc.StartWorkflowExecution(f.ctx, &api.StartWorkflowExecutionInput{Domain: domain, WorkflowID: wid,
		WorkflowType: api.WorkflowType{Name: "process-order", Version: "1"}, Input: api.String(input), TagList: tags})
	f.check(err)
	return api.WorkflowExecution{WorkflowID: wid, RunID: run.RunID}
}

// decide takes the next decision task of domain and answers it.
func (f *fixture) decide(domain string, ds ...api.Decision) *api.DecisionTask {
	f.t.Helper()
	task, err := f.svc.PollForDecisionTask(f.ctx, &api.PollForDecisionTaskInput{Domain: domain, TaskList: api.TaskList{Name: "deciders"}, Identity: api.String("decider-1")})
	f.check(err)
	if task.TaskToken == "" {
		f.t.Fatal("no decision task")
	}
	f.check(f.svc.RespondDecisionTaskCompleted(f.ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: ds}))
	return task
}

// work takes the next activity task and does what answer says: "done",
// "fail", or "" to keep it running (the token is returned).
func (f *fixture) work(domain, answer string) string {
	f.t.Helper()
	task, err := f.svc.PollForActivityTask(f.ctx, &api.PollForActivityTaskInput{Domain: domain, TaskList: api.TaskList{Name: "workers"}, Identity: api.String("worker-7")})
	f.check(err)
	if task.TaskToken == "" {
		f.t.Fatal("no activity task")
	}
	switch answer {
	case "done":
		f.check(f.svc.RespondActivityTaskCompleted(f.ctx, &api.RespondActivityTaskCompletedInput{TaskToken: task.TaskToken, Result: api.String(`{"ok":true}`)}))
	case "fail":
		f.check(f.svc.RespondActivityTaskFailed(f.ctx, &api.RespondActivityTaskFailedInput{TaskToken: task.TaskToken, Reason: api.String("card declined"), Details: api.String("issuer said no")}))
	}
	return task.TaskToken
}

func schedule(id, typ string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &api.ScheduleActivityTaskDecisionAttributes{
		ActivityID: id, ActivityType: api.ActivityType{Name: typ, Version: "1"}, Input: api.String(`{"order":"` + id + `"}`)}}
}

func timer(id, secs string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeStartTimer, StartTimerDecisionAttributes: &api.StartTimerDecisionAttributes{TimerID: id, StartToFireTimeout: secs}}
}

func complete(result string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeCompleteWorkflowExecution, CompleteWorkflowExecutionDecisionAttributes: &api.CompleteWorkflowExecutionDecisionAttributes{Result: api.String(result)}}
}

func marker(name string) api.Decision {
	return api.Decision{DecisionType: api.DecisionTypeRecordMarker, RecordMarkerDecisionAttributes: &api.RecordMarkerDecisionAttributes{MarkerName: name, Details: api.String("checkpoint")}}
}

// shop fills domain "orders" with executions in every state: returns the
// open one with a retried, running activity, a timer and a signal.
func (f *fixture) shop() api.WorkflowExecution {
	f.t.Helper()
	f.register("orders")
	adv := func(d time.Duration) { f.srv.Advance(d) }

	// A completed order: three activities in turn.
	f.startRun("orders", "order-1000", `{"amount": 12}`, "web")
	f.decide("orders", schedule("charge", "charge-card"))
	adv(2 * time.Second)
	f.work("orders", "done")
	f.decide("orders", schedule("pack", "pack"), marker("charged"))
	adv(5 * time.Second)
	f.work("orders", "done")
	f.decide("orders", schedule("ship", "ship"))
	adv(3 * time.Second)
	f.work("orders", "done")
	f.decide("orders", complete(`{"shipped":true}`))

	// The open one: charge fails, is retried and runs with a heartbeat;
	// a reminder timer; a signal.
	ex := f.startRun("orders", "order-1001", `{"amount": 42, "items": ["mug", "tea"]}`, "vip", "eu")
	adv(time.Second)
	f.decide("orders", schedule("charge", "charge-card"), timer("reminder", "3600"))
	adv(4 * time.Second)
	f.work("orders", "fail")
	adv(2 * time.Second)
	f.decide("orders", schedule("charge", "charge-card"))
	adv(3 * time.Second)
	tok := f.work("orders", "")
	adv(2 * time.Second)
	_, err := f.svc.RecordActivityTaskHeartbeat(f.ctx, &api.RecordActivityTaskHeartbeatInput{TaskToken: tok, Details: api.String("waiting for the bank")})
	f.check(err)
	f.check(f.svc.SignalWorkflowExecution(f.ctx, &api.SignalWorkflowExecutionInput{Domain: "orders", WorkflowID: ex.WorkflowID, SignalName: "address-changed", Input: api.String(`{"city":"Lyon"}`)}))
	f.decide("orders")
	adv(3 * time.Second)

	// A terminated one and a failed one, and two waiting for a decider.
	t := f.startRun("orders", "order-1002", `{"amount": 7}`, "web")
	f.check(f.svc.TerminateWorkflowExecution(f.ctx, &api.TerminateWorkflowExecutionInput{Domain: "orders", WorkflowID: t.WorkflowID, Reason: api.String("duplicate order")}))
	f.startRun("orders", "order-1003", `{"amount": 99}`)
	f.decide("orders", api.Decision{DecisionType: api.DecisionTypeFailWorkflowExecution,
		FailWorkflowExecutionDecisionAttributes: &api.FailWorkflowExecutionDecisionAttributes{Reason: api.String("out of stock")}})
	for i := 4; i <= 5; i++ {
		f.startRun("orders", fmt.Sprintf("order-100%d", i), `{"amount": 3}`, "web")
		adv(time.Second)
	}
	return ex
}

// longHistory gives an open run n signals, for a long history.
func (f *fixture) longHistory(domain, wid string, n int) api.WorkflowExecution {
	f.t.Helper()
	ex := f.startRun(domain, wid, `{}`)
	for i := range n {
		f.check(f.svc.SignalWorkflowExecution(f.ctx, &api.SignalWorkflowExecutionInput{Domain: domain, WorkflowID: wid,
			SignalName: fmt.Sprintf("tick-%d", i), Input: api.String(strings.Repeat("x", i%7))}))
	}
	return ex
}
