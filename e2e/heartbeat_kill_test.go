package e2e

import (
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/swfdtest"
)

// An acknowledged heartbeat's details, kept in rows of their own beside the
// run, survive a SIGKILL of swfd: the restarted server reports them in the
// activity's ActivityTaskTimedOut event.
func TestHeartbeatDetailsSurviveKill9(t *testing.T) {
	bin := buildSwfd(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")
	p := startSwfd(t, bin, nil, "--addr", anyPort, "--db", db, "--log-level", "warn")
	c := swfdtest.NewClient("http://" + p.addr)
	ctx := rgCtx(t)
	rgDomain(t, c, "hb")
	rgWorkflow(t, c, "hb", "wf", "1")
	rgActivity(t, c, "hb", "act", "1")
	run, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("hb"), WorkflowId: aws.String("w"),
		WorkflowType: &types.WorkflowType{Name: aws.String("wf"), Version: aws.String("1")}, TaskList: &types.TaskList{Name: aws.String("deciders")},
		ExecutionStartToCloseTimeout: aws.String("600"), TaskStartToCloseTimeout: aws.String("60"), ChildPolicy: types.ChildPolicyTerminate})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("hb"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
	if err != nil || aws.ToString(d.TaskToken) == "" {
		t.Fatalf("decision task: %v", err)
	}
	var ds []types.Decision
	for _, id := range []string{"a", "b"} {
		ds = append(ds, types.Decision{DecisionType: types.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
			ActivityId: aws.String(id), ActivityType: &types.ActivityType{Name: aws.String("act"), Version: aws.String("1")},
			TaskList: &types.TaskList{Name: aws.String("workers")}, HeartbeatTimeout: aws.String("2"),
			ScheduleToStartTimeout: aws.String("NONE"), ScheduleToCloseTimeout: aws.String("NONE"), StartToCloseTimeout: aws.String("600")}})
	}
	if _, err := c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: ds}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "details of a", "b": "details of b"}
	for range 2 {
		at, err := c.PollForActivityTask(ctx, &swf.PollForActivityTaskInput{Domain: aws.String("hb"), TaskList: &types.TaskList{Name: aws.String("workers")}})
		if err != nil || aws.ToString(at.TaskToken) == "" {
			t.Fatalf("activity task: %v", err)
		}
		if _, err := c.RecordActivityTaskHeartbeat(ctx, &swf.RecordActivityTaskHeartbeatInput{TaskToken: at.TaskToken, Details: aws.String(want[aws.ToString(at.ActivityId)])}); err != nil {
			t.Fatal(err)
		}
	}
	p.kill9(t)

	p2 := startSwfd(t, bin, nil, "--addr", anyPort, "--db", db, "--log-level", "warn")
	c2 := swfdtest.NewClient("http://" + p2.addr)
	got := map[string]string{}
	waitFor(t, "both activities timed out after the restart", func() bool {
		h, err := c2.GetWorkflowExecutionHistory(ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("hb"),
			Execution: &types.WorkflowExecution{WorkflowId: aws.String("w"), RunId: run.RunId}})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[int64]string{}
		for _, ev := range h.Events {
			if a := ev.ActivityTaskScheduledEventAttributes; a != nil {
				ids[ev.EventId] = aws.ToString(a.ActivityId)
			}
			if a := ev.ActivityTaskTimedOutEventAttributes; a != nil {
				got[ids[a.ScheduledEventId]] = aws.ToString(a.Details)
			}
		}
		return len(got) == 2
	})
	if got["a"] != want["a"] || got["b"] != want["b"] {
		t.Fatalf("timed out with details %q, want %q", got, want)
	}
}
