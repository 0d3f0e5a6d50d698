package e2e

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/swfdtest"
)

// Timers that come due while swfd is down (killed with SIGKILL) fire
// promptly after restart, exactly once; pending tasks are handed out again.
func TestTimersDueDuringDowntimeFireOnceAfterRestart(t *testing.T) {
	bin := buildSwfd(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")
	p := startSwfd(t, bin, nil, "--addr", anyPort, "--db", db, "--log-level", "warn", "--poll-timeout", "1s")
	h := &wfHarness{t: t, ctx: context.Background(), c: swfdtest.NewClient("http://" + p.addr), domain: "restart",
		wfType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")}}
	h.must(h.c.RegisterDomain(h.ctx, &swf.RegisterDomainInput{Name: aws.String("restart"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}))
	h.must(h.c.RegisterWorkflowType(h.ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String("restart"), Name: h.wfType.Name, Version: h.wfType.Version,
		DefaultTaskList: &types.TaskList{Name: aws.String("deciders")}, DefaultExecutionStartToCloseTimeout: aws.String("3600"),
		DefaultTaskStartToCloseTimeout: aws.String("NONE"), DefaultChildPolicy: types.ChildPolicyTerminate}))
	h.must(h.c.RegisterActivityType(h.ctx, &swf.RegisterActivityTypeInput{Domain: aws.String("restart"), Name: aws.String("charge"), Version: aws.String("1"),
		DefaultTaskList: &types.TaskList{Name: aws.String("nobody")}, DefaultTaskScheduleToStartTimeout: aws.String("2"),
		DefaultTaskScheduleToCloseTimeout: aws.String("NONE"), DefaultTaskStartToCloseTimeout: aws.String("NONE"), DefaultTaskHeartbeatTimeout: aws.String("NONE")}))

	timerRun := h.start("timer")
	d := h.mustDecision("deciders")
	h.decide(d.TaskToken,
		types.Decision{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{TimerId: aws.String("t"), StartToFireTimeout: aws.String("2")}},
		scheduleActivity("a", ""))
	pendingRun := h.start("pending") // its first decision task waits across the crash

	// Both deadlines are 2 s after the decision that set them.
	var due time.Time
	for _, e := range h.history("timer", timerRun) {
		if e.EventType == types.EventTypeTimerStarted || e.EventType == types.EventTypeActivityTaskScheduled {
			if d := e.EventTimestamp.Add(2 * time.Second); d.After(due) {
				due = d
			}
		}
	}
	p.kill9(t)
	// Both deadlines pass while swfd is down: wait until the wall clock
	// (swfd's clock, as it runs with the real one) is past them.
	time.Sleep(time.Until(due.Add(100 * time.Millisecond)))

	p2 := startSwfd(t, bin, nil, "--addr", anyPort, "--db", db, "--log-level", "warn", "--poll-timeout", "1s")
	up := time.Now()
	h.c = swfdtest.NewClient("http://" + p2.addr)
	waitFor(t, "timer and activity timeout after restart", func() bool {
		evs := h.history("timer", timerRun)
		return findEvent(evs, types.EventTypeTimerFired) != nil && findEvent(evs, types.EventTypeActivityTaskTimedOut) != nil
	})
	// How soon is a matter of speed, not of correctness: logged, not
	// asserted (a loaded machine would make any bound flaky).
	t.Logf("overdue timers fired %v after start-up", time.Since(up))
	// The decision tasks that were pending (the new run's, and the one the
	// timer scheduled) are handed out after the restart.
	got := map[string]bool{}
	for i := 0; i < 2; i++ {
		d := h.mustDecision("deciders")
		got[*d.WorkflowExecution.RunId] = true
		h.decide(d.TaskToken, completeWorkflow(""))
	}
	if !got[pendingRun] || !got[timerRun] {
		t.Fatalf("decision tasks after restart went to %v", got)
	}
	// The run is closed, so its history is final: the timer and the
	// timeout fired once each, not again at every look at the store.
	counts := map[types.EventType]int{}
	for _, e := range h.history("timer", timerRun) {
		counts[e.EventType]++
	}
	if counts[types.EventTypeTimerFired] != 1 || counts[types.EventTypeActivityTaskTimedOut] != 1 || counts[types.EventTypeWorkflowExecutionCompleted] != 1 {
		t.Fatalf("fired %d timers and %d activity timeouts (closed: %d), want 1 each", counts[types.EventTypeTimerFired],
			counts[types.EventTypeActivityTaskTimedOut], counts[types.EventTypeWorkflowExecutionCompleted])
	}
}
