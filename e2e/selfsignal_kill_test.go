package e2e

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/swfdtest"
)

// TestSelfSignalsSurviveKill9: a run signals itself 3,000 times in one
// decision, and swfd is killed (SIGKILL) as soon as the decision is
// acknowledged, and again as soon as it serves after the restart, while
// it delivers them. Once it has settled, the run holds each signal
// exactly once, in the order sent, and has heard back about each exactly
// once: messages delivered together in one commit are neither lost nor
// repeated by a crash.
func TestSelfSignalsSurviveKill9(t *testing.T) {
	const n = 3000
	bin := buildSwfd(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")
	args := []string{"--db", db, "--log-level", "warn", "--poll-timeout", "1s"}
	p := startSwfd(t, bin, nil, append(args, "--addr", anyPort)...)
	c := swfdtest.NewClient("http://" + p.addr)
	ctx := rgCtx(t)
	rgDomain(t, c, "selfish")
	wt := &types.WorkflowType{Name: aws.String("wf"), Version: aws.String("1")}
	if _, err := c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String("selfish"), Name: wt.Name, Version: wt.Version,
		DefaultTaskList: &types.TaskList{Name: aws.String("me")}, DefaultExecutionStartToCloseTimeout: aws.String("3600"),
		DefaultTaskStartToCloseTimeout: aws.String("600"), DefaultChildPolicy: types.ChildPolicyTerminate}); err != nil {
		t.Fatal(err)
	}
	run, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("selfish"), WorkflowId: aws.String("me"), WorkflowType: wt})
	if err != nil {
		t.Fatal(err)
	}
	dt, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("selfish"), TaskList: &types.TaskList{Name: aws.String("me")}})
	if err != nil || aws.ToString(dt.TaskToken) == "" {
		t.Fatalf("no decision task: %v", err)
	}
	ds := make([]types.Decision, n)
	for i := range ds {
		ds[i] = types.Decision{DecisionType: types.DecisionTypeSignalExternalWorkflowExecution,
			SignalExternalWorkflowExecutionDecisionAttributes: &types.SignalExternalWorkflowExecutionDecisionAttributes{
				WorkflowId: aws.String("me"), RunId: run.RunId, SignalName: aws.String(strconv.Itoa(i))}}
	}
	if _, err := c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: ds}); err != nil {
		t.Fatal(err)
	}
	p.kill9(t)
	p = startSwfd(t, bin, nil, append(args, "--addr", anyPort)...)
	p.kill9(t)
	p = startSwfd(t, bin, nil, append(args, "--addr", anyPort)...)
	c = swfdtest.NewClient("http://" + p.addr)

	history := func() []types.HistoryEvent {
		var all []types.HistoryEvent
		pages := swf.NewGetWorkflowExecutionHistoryPaginator(c, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("selfish"),
			Execution: &types.WorkflowExecution{WorkflowId: aws.String("me"), RunId: run.RunId}, MaximumPageSize: 1000})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				t.Fatalf("history: %v", err)
			}
			all = append(all, page.Events...)
		}
		return all
	}
	var evs []types.HistoryEvent
	deadline := time.Now().Add(60 * time.Second)
	for {
		evs = history()
		answered := 0
		for _, e := range evs {
			if e.ExternalWorkflowExecutionSignaledEventAttributes != nil || e.SignalExternalWorkflowExecutionFailedEventAttributes != nil {
				answered++
			}
		}
		if answered >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a minute, %d of %d signals answered", answered, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var names []string
	initiated, answers := map[int64]bool{}, map[int64]int{}
	for i, e := range evs {
		if e.EventId != int64(i+1) {
			t.Fatalf("history not contiguous at %d: id %d", i, e.EventId)
		}
		switch {
		case e.WorkflowExecutionSignaledEventAttributes != nil:
			names = append(names, aws.ToString(e.WorkflowExecutionSignaledEventAttributes.SignalName))
		case e.SignalExternalWorkflowExecutionInitiatedEventAttributes != nil:
			initiated[e.EventId] = true
		case e.ExternalWorkflowExecutionSignaledEventAttributes != nil:
			answers[e.ExternalWorkflowExecutionSignaledEventAttributes.InitiatedEventId]++
		case e.SignalExternalWorkflowExecutionFailedEventAttributes != nil:
			t.Fatalf("a signal failed: %+v", e.SignalExternalWorkflowExecutionFailedEventAttributes)
		}
	}
	if len(names) != n {
		t.Fatalf("the run got %d signals, want %d", len(names), n)
	}
	for i, name := range names {
		if name != strconv.Itoa(i) {
			t.Fatalf("signal %d is %q: out of order", i, name)
		}
	}
	if len(initiated) != n || len(answers) != n {
		t.Fatalf("%d signals initiated, %d answered", len(initiated), len(answers))
	}
	for id, k := range answers {
		if !initiated[id] || k != 1 {
			t.Fatalf("initiated event %d answered %d times", id, k)
		}
	}
	t.Logf("%d signals delivered and answered once each across two kills", n)
}
