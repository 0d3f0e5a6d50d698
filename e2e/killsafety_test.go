package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"
	"github.com/aws/smithy-go"

	"github.com/swfd/swfd/internal/swfdtest"
)

// TestKillSafety drives a few thousand workflows through a swfd subprocess
// with concurrent starters, deciders and workers, SIGKILLs it at random
// moments several times, restarts it on the same database each time, lets
// everything finish, and then checks what the clients were told against
// what the database holds:
//
//   - every acknowledged StartWorkflowExecution exists;
//   - every acknowledged RespondDecisionTaskCompleted and
//     RespondActivityTaskCompleted is in its run's history;
//   - every history's event ids are 1..n, and every run is closed;
//   - no task was handed out again after its completion was acknowledged;
//   - no task token works twice.
//
// It runs only with SWFD_KILL_TEST=1 (.ci/run sets it). SWFD_KILL_WORKFLOWS
// and SWFD_KILL_KILLS change its size.
func TestKillSafety(t *testing.T) {
	if os.Getenv("SWFD_KILL_TEST") != "1" {
		t.Skip("set SWFD_KILL_TEST=1 to run the SIGKILL safety test")
	}
	nWorkflows := killEnvInt("SWFD_KILL_WORKFLOWS", 3000)
	nKills := killEnvInt("SWFD_KILL_KILLS", 6)
	began := time.Now()

	bin := buildSwfd(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")
	addr := freeAddr(t)
	args := []string{"--addr", addr, "--db", db, "--log-level", "warn", "--poll-timeout", "1s"}
	proc := startSwfd(t, bin, addr, nil, args...)
	c := swfdtest.NewClient("http://" + addr)
	ctx := context.Background()

	const domain = "kill"
	wfType := &types.WorkflowType{Name: aws.String("kwf"), Version: aws.String("1")}
	actType := &types.ActivityType{Name: aws.String("kact"), Version: aws.String("1")}
	if _, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(domain), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	// Short task timeouts: a task whose answer died with the server times
	// out and is handed out afresh.
	if _, err := c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String(domain), Name: wfType.Name, Version: wfType.Version,
		DefaultTaskList: &types.TaskList{Name: aws.String("kill-d")}, DefaultExecutionStartToCloseTimeout: aws.String("3600"),
		DefaultTaskStartToCloseTimeout: aws.String("4"), DefaultChildPolicy: types.ChildPolicyTerminate}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{Domain: aws.String(domain), Name: actType.Name, Version: actType.Version,
		DefaultTaskList: &types.TaskList{Name: aws.String("kill-a")}, DefaultTaskStartToCloseTimeout: aws.String("4"),
		DefaultTaskScheduleToStartTimeout: aws.String("NONE"), DefaultTaskScheduleToCloseTimeout: aws.String("NONE"), DefaultTaskHeartbeatTimeout: aws.String("NONE")}); err != nil {
		t.Fatal(err)
	}

	rec := &killRecord{starts: map[string]string{}, handedOut: map[string][]time.Time{}, acked: map[string]time.Time{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var transportErrs atomic.Int64
	retryable := func(err error) bool {
		var ae smithy.APIError
		if err != nil && !errors.As(err, &ae) {
			transportErrs.Add(1)
			time.Sleep(50 * time.Millisecond)
			return true
		}
		return false
	}

	// Starters.
	next := atomic.Int64{}
	for range 8 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(nWorkflows) {
					return
				}
				wid := fmt.Sprintf("k-%05d", i)
				for {
					out, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(domain), WorkflowId: aws.String(wid), WorkflowType: wfType, Input: aws.String(wid)})
					if retryable(err) {
						continue
					}
					if err == nil {
						rec.start(wid, *out.RunId)
					} else if errCode(err) != "WorkflowExecutionAlreadyStartedFault" { // an earlier try took
						t.Errorf("start %s: %v", wid, err)
					}
					break
				}
			}
		})
	}

	// Deciders: schedule an activity; once one has completed, complete the
	// run; while one is open, wait; if it failed or timed out, schedule
	// another.
	for range 12 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				task, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(domain), TaskList: &types.TaskList{Name: aws.String("kill-d")}, Identity: aws.String("kd")})
				if retryable(err) {
					continue
				}
				if err != nil {
					t.Errorf("poll decision: %v", err)
					continue
				}
				if task.TaskToken == nil {
					continue
				}
				last := task.Events[len(task.Events)-1]
				if last.DecisionTaskStartedEventAttributes == nil || last.EventId != task.StartedEventId || len(task.Events) != int(task.StartedEventId) || task.NextPageToken != nil {
					t.Errorf("decision task for %s: started %d, %d events", *task.WorkflowExecution.RunId, task.StartedEventId, len(task.Events))
					continue
				}
				key := fmt.Sprintf("D/%s/%d", *task.WorkflowExecution.RunId, last.DecisionTaskStartedEventAttributes.ScheduledEventId)
				rec.handOut(key, *task.TaskToken)
				_, err = c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken,
					Decisions: killDecide(task.Events, actType), ExecutionContext: aws.String(fmt.Sprintf("d-%d", task.StartedEventId))})
				if retryable(err) {
					continue // unknown outcome: applied, or the task times out
				}
				if err != nil {
					// The run may have been closed by a concurrent decision's
					// timeout? Not in this workload: every fault is a bug.
					t.Errorf("respond decision %s: %v", key, err)
					continue
				}
				rec.ack(key, *task.WorkflowExecution.RunId, task.StartedEventId, *task.TaskToken)
			}
		})
	}

	// Workers.
	for range 12 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				task, err := c.PollForActivityTask(ctx, &swf.PollForActivityTaskInput{Domain: aws.String(domain), TaskList: &types.TaskList{Name: aws.String("kill-a")}, Identity: aws.String("kw")})
				if retryable(err) {
					continue
				}
				if err != nil {
					t.Errorf("poll activity: %v", err)
					continue
				}
				if task.TaskToken == nil {
					continue
				}
				key := fmt.Sprintf("A/%s/%s", *task.WorkflowExecution.RunId, *task.ActivityId)
				rec.handOut(key, *task.TaskToken)
				_, err = c.RespondActivityTaskCompleted(ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: task.TaskToken, Result: aws.String("r-" + *task.ActivityId)})
				if retryable(err) {
					continue
				}
				if err != nil {
					t.Errorf("respond activity %s: %v", key, err)
					continue
				}
				rec.ack(key, *task.WorkflowExecution.RunId, task.StartedEventId, *task.TaskToken)
			}
		})
	}

	// The killer: SIGKILL at random moments while the work is under way
	// (at random points between 5% and 90% of the ~3 completions each
	// workflow needs, plus a random few hundred milliseconds, at least a
	// second apart), and restart on the same database.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	marks := make([]int, nKills)
	for k := range marks {
		marks[k] = 3 * nWorkflows * (5 + rng.IntN(85)) / 100
	}
	slices.Sort(marks)
	for k := range nKills {
		time.Sleep(time.Second + time.Duration(rng.IntN(400))*time.Millisecond)
		for giveUp := time.Now().Add(time.Minute); time.Now().Before(giveUp); time.Sleep(20 * time.Millisecond) {
			rec.mu.Lock()
			n := len(rec.acked)
			rec.mu.Unlock()
			if n >= marks[k] {
				break
			}
		}
		rec.mu.Lock()
		t.Logf("kill %d at %v: %d starts, %d completions acknowledged", k+1, time.Since(began).Round(time.Millisecond), len(rec.starts), len(rec.acked))
		rec.mu.Unlock()
		if err := proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-proc.exited
		proc = startSwfd(t, bin, addr, nil, args...)
	}

	// Let everything finish: all starts made, no run open.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if next.Load() > int64(nWorkflows) {
			out, err := c.CountOpenWorkflowExecutions(ctx, &swf.CountOpenWorkflowExecutionsInput{Domain: aws.String(domain), StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(began.Add(-time.Hour))}})
			if err == nil && out.Count == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			close(stop)
			t.Fatalf("runs still open after 3 minutes")
		}
		time.Sleep(500 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	runPhase := time.Since(began)

	// Check the database against the acknowledgements.
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.starts) < nWorkflows*9/10 {
		t.Errorf("only %d of %d starts acknowledged", len(rec.starts), nWorkflows)
	}
	ackedByRun := map[string][]killAck{}
	for _, a := range rec.acks {
		ackedByRun[a.runID] = append(ackedByRun[a.runID], a)
	}
	var events, closed int
	for wid, runID := range rec.starts {
		evs, err := killHistory(ctx, c, domain, wid, runID)
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
	// Handed out again after its completion was acknowledged?
	for key, ackAt := range rec.acked {
		for _, at := range rec.handedOut[key] {
			if at.After(ackAt) {
				t.Errorf("task %s handed out at %v, after its completion was acknowledged at %v", key, at, ackAt)
			}
		}
	}
	// Every token: acknowledged ones must not work a second time, and
	// after everything closed no token handed out may work at all.
	var replayed int
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
		replayed++
	}
	t.Logf("kill safety: %d workflows (%d acknowledged starts, %d closed, %d events), %d kills, %d completions acknowledged, %d tokens replayed, %d transport errors; run %v, total %v",
		nWorkflows, len(rec.starts), closed, events, nKills, len(rec.acks), replayed, transportErrs.Load(), runPhase.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

type killAck struct {
	key       string
	runID     string
	startedID int64
}

// killRecord is what the clients were told, in the test process.
type killRecord struct {
	mu        sync.Mutex
	starts    map[string]string      // workflowId → acknowledged runId
	handedOut map[string][]time.Time // task key → when polls returned it
	acked     map[string]time.Time   // task key → when its completion was acknowledged
	acks      []killAck
	tokens    map[string]string // every token handed out → task key
	dupAcks   []string          // tasks whose completion was acknowledged twice
}

func (r *killRecord) start(wid, runID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.starts[wid] = runID
}

func (r *killRecord) handOut(key, token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handedOut[key] = append(r.handedOut[key], time.Now())
	if r.tokens == nil {
		r.tokens = map[string]string{}
	}
	r.tokens[token] = key
}

func (r *killRecord) ack(key, runID string, startedID int64, token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.acked[key]; dup {
		r.dupAcks = append(r.dupAcks, key)
		return
	}
	r.acked[key] = time.Now()
	r.acks = append(r.acks, killAck{key: key, runID: runID, startedID: startedID})
}

// killDecide is the deciders' logic, from the whole history.
func killDecide(evs []types.HistoryEvent, act *types.ActivityType) []types.Decision {
	open := map[int64]bool{}
	scheduled := 0
	for _, e := range evs {
		switch {
		case e.ActivityTaskScheduledEventAttributes != nil:
			open[e.EventId] = true
			scheduled++
		case e.ActivityTaskCompletedEventAttributes != nil:
			return []types.Decision{completeWorkflow("done")}
		case e.ActivityTaskTimedOutEventAttributes != nil:
			delete(open, e.ActivityTaskTimedOutEventAttributes.ScheduledEventId)
		case e.ActivityTaskFailedEventAttributes != nil:
			delete(open, e.ActivityTaskFailedEventAttributes.ScheduledEventId)
		}
	}
	if len(open) > 0 {
		return nil
	}
	return []types.Decision{{DecisionType: types.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
		ActivityId: aws.String(fmt.Sprintf("a%d", scheduled+1)), ActivityType: act, Input: aws.String("x")}}}
}

func killHistory(ctx context.Context, c *swf.Client, domain, wid, runID string) ([]types.HistoryEvent, error) {
	var evs []types.HistoryEvent
	p := swf.NewGetWorkflowExecutionHistoryPaginator(c, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String(domain),
		Execution: &types.WorkflowExecution{WorkflowId: aws.String(wid), RunId: aws.String(runID)}})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		evs = append(evs, out.Events...)
	}
	return evs, nil
}

func killEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
