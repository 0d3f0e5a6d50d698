package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"
	"github.com/aws/smithy-go"
)

// faultLoad drives workflows through one or more swfd endpoints while a
// test does something bad to them (kills a node, restarts the database),
// records what the clients were told, and then checks that against what
// the database holds (check).
//
// Each workflow: a decision schedules an activity; once one has
// completed, the next decision completes the run; if one timed out (its
// worker's answer died with a node), another is scheduled. Starters,
// deciders and workers each go to one endpoint and move to the next when
// theirs cannot be reached.
type faultLoad struct {
	t        *testing.T
	clients  []*swf.Client
	domain   string
	wfType   *types.WorkflowType
	actType  *types.ActivityType
	n        int
	rec      *killRecord
	serverOK func(code string) bool // server faults that are expected meanwhile (beyond transport errors)

	next                    atomic.Int64
	transportErrs, faultErr atomic.Int64
	stop                    chan struct{}
	wg                      sync.WaitGroup
	began                   time.Time
}

// faultLoadOptions size a load.
type faultLoadOptions struct {
	Workflows                   int
	Starters, Deciders, Workers int
	// Retry lists the fault codes that mean "try again" while the fault
	// lasts (e.g. InternalFailure while the database is down). Any other
	// fault fails the test.
	Retry []string
}

// startFaultLoad registers a domain and types through the first client
// and starts the load.
func startFaultLoad(t *testing.T, clients []*swf.Client, domain string, o faultLoadOptions) *faultLoad {
	t.Helper()
	l := &faultLoad{t: t, clients: clients, domain: domain, n: o.Workflows, stop: make(chan struct{}), began: time.Now(),
		wfType:  &types.WorkflowType{Name: aws.String("kwf"), Version: aws.String("1")},
		actType: &types.ActivityType{Name: aws.String("kact"), Version: aws.String("1")},
		rec:     &killRecord{starts: map[string]string{}, handedOut: map[string][]time.Time{}, acked: map[string]time.Time{}},
	}
	retry := map[string]bool{}
	for _, c := range o.Retry {
		retry[c] = true
	}
	l.serverOK = func(code string) bool { return retry[code] }
	ctx := context.Background()
	c := clients[0]
	if _, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(domain), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	// Short task timeouts: a task whose answer died with a node (or with
	// the database's connection) times out and is handed out afresh.
	if _, err := c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String(domain), Name: l.wfType.Name, Version: l.wfType.Version,
		DefaultTaskList: &types.TaskList{Name: aws.String("kill-d")}, DefaultExecutionStartToCloseTimeout: aws.String("3600"),
		DefaultTaskStartToCloseTimeout: aws.String("4"), DefaultChildPolicy: types.ChildPolicyTerminate}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{Domain: aws.String(domain), Name: l.actType.Name, Version: l.actType.Version,
		DefaultTaskList: &types.TaskList{Name: aws.String("kill-a")}, DefaultTaskStartToCloseTimeout: aws.String("4"),
		DefaultTaskScheduleToStartTimeout: aws.String("NONE"), DefaultTaskScheduleToCloseTimeout: aws.String("NONE"), DefaultTaskHeartbeatTimeout: aws.String("NONE")}); err != nil {
		t.Fatal(err)
	}
	for i := range o.Starters {
		l.wg.Go(func() { l.starter(i) })
	}
	for i := range o.Deciders {
		l.wg.Go(func() { l.decider(i) })
	}
	for i := range o.Workers {
		l.wg.Go(func() { l.worker(i) })
	}
	return l
}

// retryable reports whether err means "the outcome is unknown, go on"
// (and moves *node to the next endpoint for a transport error).
func (l *faultLoad) retryable(err error, node *int) bool {
	if err == nil {
		return false
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		l.transportErrs.Add(1)
		*node++
		time.Sleep(50 * time.Millisecond) // back off while the endpoint is down
		return true
	}
	if l.serverOK(ae.ErrorCode()) {
		l.faultErr.Add(1)
		time.Sleep(50 * time.Millisecond)
		return true
	}
	return false
}

func (l *faultLoad) client(node int) *swf.Client { return l.clients[node%len(l.clients)] }

func (l *faultLoad) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *faultLoad) starter(node int) {
	ctx := context.Background()
	for {
		i := l.next.Add(1)
		if i > int64(l.n) {
			return
		}
		wid := fmt.Sprintf("k-%05d", i)
		for !l.stopped() {
			out, err := l.client(node).StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(l.domain), WorkflowId: aws.String(wid), WorkflowType: l.wfType, Input: aws.String(wid)})
			if l.retryable(err, &node) {
				continue
			}
			if err == nil {
				l.rec.start(wid, *out.RunId)
			} else if errCode(err) != "WorkflowExecutionAlreadyStartedFault" { // an earlier try took
				l.t.Errorf("start %s: %v", wid, err)
			}
			break
		}
	}
}

func (l *faultLoad) decider(node int) {
	ctx := context.Background()
	for !l.stopped() {
		c := l.client(node)
		task, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(l.domain), TaskList: &types.TaskList{Name: aws.String("kill-d")}, Identity: aws.String("kd")})
		if l.retryable(err, &node) {
			continue
		}
		if err != nil {
			l.t.Errorf("poll decision: %v", err)
			continue
		}
		if task.TaskToken == nil {
			continue
		}
		last := task.Events[len(task.Events)-1]
		if last.DecisionTaskStartedEventAttributes == nil || last.EventId != task.StartedEventId || len(task.Events) != int(task.StartedEventId) || task.NextPageToken != nil {
			l.t.Errorf("decision task for %s: started %d, %d events", *task.WorkflowExecution.RunId, task.StartedEventId, len(task.Events))
			continue
		}
		key := fmt.Sprintf("D/%s/%d", *task.WorkflowExecution.RunId, last.DecisionTaskStartedEventAttributes.ScheduledEventId)
		l.rec.handOut(key, *task.TaskToken)
		_, err = c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken,
			Decisions: killDecide(task.Events, l.actType), ExecutionContext: aws.String(fmt.Sprintf("d-%d", task.StartedEventId))})
		if l.retryable(err, &node) {
			continue // unknown outcome: applied, or the task times out
		}
		if err != nil {
			// Nothing in this workload closes a run under a decider:
			// every other fault is a bug.
			l.t.Errorf("respond decision %s: %v", key, err)
			continue
		}
		l.rec.ack(key, *task.WorkflowExecution.RunId, task.StartedEventId, *task.TaskToken)
	}
}

func (l *faultLoad) worker(node int) {
	ctx := context.Background()
	for !l.stopped() {
		c := l.client(node)
		task, err := c.PollForActivityTask(ctx, &swf.PollForActivityTaskInput{Domain: aws.String(l.domain), TaskList: &types.TaskList{Name: aws.String("kill-a")}, Identity: aws.String("kw")})
		if l.retryable(err, &node) {
			continue
		}
		if err != nil {
			l.t.Errorf("poll activity: %v", err)
			continue
		}
		if task.TaskToken == nil {
			continue
		}
		key := fmt.Sprintf("A/%s/%s", *task.WorkflowExecution.RunId, *task.ActivityId)
		l.rec.handOut(key, *task.TaskToken)
		_, err = c.RespondActivityTaskCompleted(ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: task.TaskToken, Result: aws.String("r-" + *task.ActivityId)})
		if l.retryable(err, &node) {
			continue
		}
		if err != nil {
			l.t.Errorf("respond activity %s: %v", key, err)
			continue
		}
		l.rec.ack(key, *task.WorkflowExecution.RunId, task.StartedEventId, *task.TaskToken)
	}
}

// acked is how many task completions have been acknowledged so far.
func (l *faultLoad) acked() int {
	l.rec.mu.Lock()
	defer l.rec.mu.Unlock()
	return len(l.rec.acked)
}

// waitAcked waits until n completions have been acknowledged (or a
// minute has passed: the test's checks then say what went wrong).
func (l *faultLoad) waitAcked(n int) {
	for giveUp := time.Now().Add(time.Minute); time.Now().Before(giveUp) && l.acked() < n; {
		time.Sleep(20 * time.Millisecond)
	}
}

// finish waits until every workflow has been started and closed (within
// limit), stops the load and checks the record against the database,
// read through c:
//
//   - every acknowledged StartWorkflowExecution exists;
//   - every acknowledged task completion is in its run's history;
//   - every history's event ids are 1..n, and every run completed;
//   - no task was handed out twice, nor completed twice;
//   - no task token works twice.
func (l *faultLoad) finish(c *swf.Client, limit time.Duration) {
	t := l.t
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(limit)
	for {
		if l.next.Load() > int64(l.n) {
			out, err := c.CountOpenWorkflowExecutions(ctx, &swf.CountOpenWorkflowExecutionsInput{Domain: aws.String(l.domain), StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(l.began.Add(-time.Hour))}})
			if err == nil && out.Count == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			close(l.stop)
			l.wg.Wait()
			t.Fatalf("runs still open after %v", limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
	close(l.stop)
	l.wg.Wait()
	runPhase := time.Since(l.began)

	rec := l.rec
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.starts) < l.n*9/10 {
		t.Errorf("only %d of %d starts acknowledged", len(rec.starts), l.n)
	}
	ackedByRun := map[string][]killAck{}
	for _, a := range rec.acks {
		ackedByRun[a.runID] = append(ackedByRun[a.runID], a)
	}
	var events, closed int
	for wid, runID := range rec.starts {
		evs, err := killHistory(ctx, c, l.domain, wid, runID)
		if err != nil {
			t.Errorf("acknowledged start %s/%s: %v", wid, runID, err)
			continue
		}
		events += len(evs)
		for i, e := range evs {
			if e.EventId != int64(i+1) {
				t.Errorf("%s: event %d has id %d", wid, i+1, e.EventId)
				break
			}
		}
		if len(evs) == 0 || evs[len(evs)-1].EventType != types.EventTypeWorkflowExecutionCompleted {
			t.Errorf("%s: not closed by completion: %v", wid, eventTypes(evs))
		} else {
			closed++
		}
		decisionDone := map[int64]string{}
		activityDone := map[int64]string{}
		for _, e := range evs {
			if a := e.DecisionTaskCompletedEventAttributes; a != nil {
				if _, dup := decisionDone[a.StartedEventId]; dup {
					t.Errorf("%s: decision task started at %d completed twice", wid, a.StartedEventId)
				}
				decisionDone[a.StartedEventId] = aws.ToString(a.ExecutionContext)
			}
			if a := e.ActivityTaskCompletedEventAttributes; a != nil {
				activityDone[a.StartedEventId] = aws.ToString(a.Result)
			}
		}
		for _, a := range ackedByRun[runID] {
			if a.key[0] == 'D' {
				if ctxt, ok := decisionDone[a.startedID]; !ok || ctxt != fmt.Sprintf("d-%d", a.startedID) {
					t.Errorf("%s: acknowledged decision completion (started %d) missing from history", wid, a.startedID)
				}
			} else if _, ok := activityDone[a.startedID]; !ok {
				t.Errorf("%s: acknowledged activity completion %s (started %d) missing from history", wid, a.key, a.startedID)
			}
		}
	}
	for _, key := range rec.dupAcks {
		t.Errorf("task %s: completion acknowledged twice", key)
	}
	// A task (one scheduled event, one activity id) is handed out at most
	// once: one whose answer was lost times out and is scheduled anew.
	for key, at := range rec.handedOut {
		if len(at) > 1 {
			t.Errorf("task %s handed out %d times", key, len(at))
		}
	}
	// Every token: after everything closed, none may work.
	for tok, key := range rec.tokens {
		var err error
		if key[0] == 'D' {
			_, err = c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: aws.String(tok)})
		} else {
			_, err = c.RespondActivityTaskCompleted(ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: aws.String(tok)})
		}
		if code := errCode(err); code != "UnknownResourceFault" {
			t.Errorf("token for %s (acknowledged: %v) answered %v on replay", key, rec.acked[key] != time.Time{}, err)
		}
	}
	t.Logf("%d workflows (%d acknowledged starts, %d closed, %d events), %d completions acknowledged, %d tokens replayed, %d transport errors, %d server faults; run %v, total %v",
		l.n, len(rec.starts), closed, events, len(rec.acks), len(rec.tokens), l.transportErrs.Load(), l.faultErr.Load(), runPhase.Round(time.Millisecond), time.Since(l.began).Round(time.Millisecond))
}
