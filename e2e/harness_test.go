package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"
	"github.com/aws/smithy-go"

	"github.com/swfd/swfd/internal/swfdtest"
)

// wfHarness is a domain with one workflow type and one activity type, on a
// fresh server, with helpers for deciders and workers.
type wfHarness struct {
	t      testing.TB
	ctx    context.Context
	srv    *swfdtest.Server
	c      *swf.Client
	domain string
	wfType *types.WorkflowType
	acType *types.ActivityType
}

func newWFHarness(t testing.TB, opts swfdtest.Options) *wfHarness {
	t.Helper()
	if opts.PollTimeout == 0 {
		opts.PollTimeout = 500 * time.Millisecond
	}
	srv := swfdtest.Start(t, opts)
	h := &wfHarness{t: t, ctx: context.Background(), srv: srv, c: srv.Client(), domain: "wf-tests",
		wfType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")},
		acType: &types.ActivityType{Name: aws.String("charge"), Version: aws.String("1")},
	}
	h.must(h.c.RegisterDomain(h.ctx, &swf.RegisterDomainInput{Name: aws.String(h.domain), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}))
	h.must(h.c.RegisterWorkflowType(h.ctx, &swf.RegisterWorkflowTypeInput{
		Domain: aws.String(h.domain), Name: h.wfType.Name, Version: h.wfType.Version,
		DefaultTaskList:                     &types.TaskList{Name: aws.String("deciders")},
		DefaultExecutionStartToCloseTimeout: aws.String("3600"),
		DefaultTaskStartToCloseTimeout:      aws.String("30"),
		DefaultChildPolicy:                  types.ChildPolicyTerminate,
	}))
	h.must(h.c.RegisterActivityType(h.ctx, &swf.RegisterActivityTypeInput{
		Domain: aws.String(h.domain), Name: h.acType.Name, Version: h.acType.Version,
		DefaultTaskList:                   &types.TaskList{Name: aws.String("workers")},
		DefaultTaskScheduleToStartTimeout: aws.String("NONE"),
		DefaultTaskScheduleToCloseTimeout: aws.String("NONE"),
		DefaultTaskStartToCloseTimeout:    aws.String("NONE"),
		DefaultTaskHeartbeatTimeout:       aws.String("NONE"),
	}))
	return h
}

func (h *wfHarness) must(_ any, err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatalf("unexpected error: %v", err)
	}
}

func (h *wfHarness) start(workflowID string, mods ...func(*swf.StartWorkflowExecutionInput)) string {
	h.t.Helper()
	in := &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String(workflowID), WorkflowType: h.wfType, Input: aws.String("in-" + workflowID)}
	for _, m := range mods {
		m(in)
	}
	out, err := h.c.StartWorkflowExecution(h.ctx, in)
	if err != nil {
		h.t.Fatalf("start %s: %v", workflowID, err)
	}
	return *out.RunId
}

func (h *wfHarness) pollDecision(list string) *swf.PollForDecisionTaskOutput {
	h.t.Helper()
	out, err := h.c.PollForDecisionTask(h.ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(h.domain), TaskList: &types.TaskList{Name: aws.String(list)}, Identity: aws.String("decider-1")})
	if err != nil {
		h.t.Fatalf("poll decision: %v", err)
	}
	return out
}

// mustDecision polls until it gets a decision task (a few empty polls are
// tolerated: deliveries between runs are asynchronous).
func (h *wfHarness) mustDecision(list string) *swf.PollForDecisionTaskOutput {
	h.t.Helper()
	for i := 0; i < 10; i++ {
		if out := h.pollDecision(list); out.TaskToken != nil {
			return out
		}
	}
	h.t.Fatalf("no decision task on %s", list)
	return nil
}

func (h *wfHarness) mustActivity(list string) *swf.PollForActivityTaskOutput {
	h.t.Helper()
	for i := 0; i < 10; i++ {
		out, err := h.c.PollForActivityTask(h.ctx, &swf.PollForActivityTaskInput{Domain: aws.String(h.domain), TaskList: &types.TaskList{Name: aws.String(list)}, Identity: aws.String("worker-1")})
		if err != nil {
			h.t.Fatalf("poll activity: %v", err)
		}
		if out.TaskToken != nil {
			return out
		}
	}
	h.t.Fatalf("no activity task on %s", list)
	return nil
}

func (h *wfHarness) decide(token *string, ds ...types.Decision) {
	h.t.Helper()
	if _, err := h.c.RespondDecisionTaskCompleted(h.ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: token, Decisions: ds}); err != nil {
		h.t.Fatalf("respond decision: %v", err)
	}
}

func (h *wfHarness) history(workflowID, runID string) []types.HistoryEvent {
	h.t.Helper()
	var all []types.HistoryEvent
	p := swf.NewGetWorkflowExecutionHistoryPaginator(h.c, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String(h.domain), Execution: &types.WorkflowExecution{WorkflowId: aws.String(workflowID), RunId: aws.String(runID)}})
	for p.HasMorePages() {
		page, err := p.NextPage(h.ctx)
		if err != nil {
			h.t.Fatalf("history: %v", err)
		}
		all = append(all, page.Events...)
	}
	for i, e := range all {
		if e.EventId != int64(i+1) {
			h.t.Fatalf("history of %s not contiguous at %d: id %d", workflowID, i, e.EventId)
		}
	}
	return all
}

func eventTypes(evs []types.HistoryEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e.EventType)
	}
	return out
}

func (h *wfHarness) describe(workflowID, runID string) *swf.DescribeWorkflowExecutionOutput {
	h.t.Helper()
	out, err := h.c.DescribeWorkflowExecution(h.ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String(h.domain), Execution: &types.WorkflowExecution{WorkflowId: aws.String(workflowID), RunId: aws.String(runID)}})
	if err != nil {
		h.t.Fatalf("describe: %v", err)
	}
	return out
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := errCode(err); got != code {
		t.Fatalf("err = %v (code %q), want %s", err, got, code)
	}
}

func scheduleActivity(id, input string) types.Decision {
	return types.Decision{DecisionType: types.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
		ActivityId: aws.String(id), ActivityType: &types.ActivityType{Name: aws.String("charge"), Version: aws.String("1")}, Input: aws.String(input)}}
}

func completeWorkflow(result string) types.Decision {
	return types.Decision{DecisionType: types.DecisionTypeCompleteWorkflowExecution, CompleteWorkflowExecutionDecisionAttributes: &types.CompleteWorkflowExecutionDecisionAttributes{Result: aws.String(result)}}
}

// mustOK returns a function that fails t unless the error of the call
// whose results it is given is nil: must(c.RegisterDomain(ctx, in)).
func mustOK(t testing.TB) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}
