package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/swfdtest"
)

// A priority given with a sign or leading zeros (the model sets it no
// length) comes back through aws-sdk-go-v2 as the integer it stands for,
// wherever it shows: not half a megabyte copied into every event.
func TestPriorityShownAsInteger(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	long := strings.Repeat("0", 500_000) + "8"
	run := h.start("prio", func(in *swf.StartWorkflowExecutionInput) { in.TaskPriority = aws.String(long) })
	if p := aws.ToString(h.describe("prio", run).ExecutionConfiguration.TaskPriority); p != "8" {
		t.Fatalf("described priority of %d bytes, want 8", len(p))
	}
	d := h.mustDecision("deciders")
	if p := aws.ToString(d.Events[1].DecisionTaskScheduledEventAttributes.TaskPriority); p != "8" {
		t.Fatalf("DecisionTaskScheduled priority of %d bytes, want 8", len(p))
	}
	h.decide(d.TaskToken, types.Decision{
		DecisionType: types.DecisionTypeScheduleActivityTask,
		ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
			ActivityId: aws.String("a"), ActivityType: h.acType, TaskPriority: aws.String("+0003"),
		},
	})
	evs := h.history("prio", run)
	if p := aws.ToString(evs[0].WorkflowExecutionStartedEventAttributes.TaskPriority); p != "8" {
		t.Fatalf("WorkflowExecutionStarted priority of %d bytes, want 8", len(p))
	}
	last := evs[len(evs)-1]
	if last.EventType != types.EventTypeActivityTaskScheduled || aws.ToString(last.ActivityTaskScheduledEventAttributes.TaskPriority) != "3" {
		t.Fatalf("last event %s %+v, want ActivityTaskScheduled with priority 3", last.EventType, last.ActivityTaskScheduledEventAttributes)
	}
}
