package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/internal/swfdtest"
)

// Three swfd nodes on one PostgreSQL database serve as one: work started
// through any node is decided and done through the others, one node is
// killed with SIGKILL mid-run, and afterwards every workflow has completed,
// every history is contiguous, and no task or timer was delivered twice.
func TestClusterOfThreeSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	db := pgtest.NewDatabase(t)
	bin := buildSwfd(t)
	const nodes = 3
	addrs := make([]string, nodes)
	procs := make([]*swfdProc, nodes)
	clients := make([]*swf.Client, nodes)
	for i := range addrs {
		procs[i] = startSwfd(t, bin, nil, "--addr", anyPort, "--db", db, "--log-level", "warn", "--poll-timeout", "1s")
		addrs[i] = procs[i].addr
		clients[i] = swfdtest.NewClient("http://" + addrs[i])
	}
	var dead atomic.Int32 // index+1 of the killed node
	// client picks node i, or the next live one once i is dead.
	client := func(i int) *swf.Client {
		if int(dead.Load()) == i%nodes+1 {
			i++
		}
		return clients[i%nodes]
	}
	ctx := context.Background()
	c0 := clients[0]
	domain := "cluster"
	mustOK := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustOK(c0.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(domain), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}))
	mustOK(c0.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String(domain), Name: aws.String("wf"), Version: aws.String("1"),
		DefaultTaskList: &types.TaskList{Name: aws.String("deciders")}, DefaultExecutionStartToCloseTimeout: aws.String("600"),
		DefaultTaskStartToCloseTimeout: aws.String("5"), DefaultChildPolicy: types.ChildPolicyTerminate}))
	mustOK(c0.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{Domain: aws.String(domain), Name: aws.String("act"), Version: aws.String("1"),
		DefaultTaskList: &types.TaskList{Name: aws.String("workers")}, DefaultTaskScheduleToStartTimeout: aws.String("NONE"),
		DefaultTaskScheduleToCloseTimeout: aws.String("NONE"), DefaultTaskStartToCloseTimeout: aws.String("5"), DefaultTaskHeartbeatTimeout: aws.String("NONE")}))

	const workflows = 150
	runs := make([]string, workflows)
	for i := range runs {
		out, err := client(i).StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(domain), WorkflowId: aws.String(fmt.Sprint("w", i)),
			WorkflowType: &types.WorkflowType{Name: aws.String("wf"), Version: aws.String("1")}})
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = *out.RunId
	}

	var mu sync.Mutex
	handed := map[string]int{} // each decision and activity task handed out
	var completed atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for p := 0; p < 4*nodes; p++ {
		wg.Add(2)
		go func(p int) { // decider: timer, then an activity, then complete
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c := client(p)
				d, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(domain), TaskList: &types.TaskList{Name: aws.String("deciders")}})
				if err != nil || d.TaskToken == nil {
					continue // a dead node's connection, or an empty poll
				}
				mu.Lock()
				handed[fmt.Sprint("D/", *d.WorkflowExecution.RunId, "/", d.StartedEventId)]++
				mu.Unlock()
				events := d.Events
				for tok := d.NextPageToken; tok != nil; {
					pg, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(domain), TaskList: &types.TaskList{Name: aws.String("deciders")}, NextPageToken: tok})
					if err != nil {
						break
					}
					events, tok = append(events, pg.Events...), pg.NextPageToken
				}
				var timerStarted, timerFired, done bool
				open := 0
				for _, e := range events {
					switch e.EventType {
					case types.EventTypeTimerStarted:
						timerStarted = true
					case types.EventTypeTimerFired:
						timerFired = true
					case types.EventTypeActivityTaskScheduled:
						open++
					case types.EventTypeActivityTaskTimedOut, types.EventTypeActivityTaskFailed:
						open--
					case types.EventTypeActivityTaskCompleted:
						done = true
					}
				}
				var ds []types.Decision
				switch {
				case done:
					ds = []types.Decision{completeWorkflow("ok")}
				case !timerStarted:
					ds = []types.Decision{{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{TimerId: aws.String("t"), StartToFireTimeout: aws.String("1")}}}
				case timerFired && open == 0:
					ds = []types.Decision{{DecisionType: types.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
						ActivityId: aws.String(fmt.Sprint("a", d.StartedEventId)), ActivityType: &types.ActivityType{Name: aws.String("act"), Version: aws.String("1")}}}}
				}
				if _, err := c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: ds}); err == nil && done {
					completed.Add(1)
				}
			}
		}(p)
		go func(p int) { // worker
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c := client(p + 1)
				a, err := c.PollForActivityTask(ctx, &swf.PollForActivityTaskInput{Domain: aws.String(domain), TaskList: &types.TaskList{Name: aws.String("workers")}})
				if err != nil || a.TaskToken == nil {
					continue
				}
				mu.Lock()
				handed["A/"+*a.WorkflowExecution.RunId+"/"+*a.ActivityId]++
				mu.Unlock()
				c.RespondActivityTaskCompleted(ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken})
			}
		}(p)
	}

	// Kill node 2 once a third of the work is done.
	deadline := time.Now().Add(3 * time.Minute)
	for completed.Load() < workflows/3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if err := procs[2].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-procs[2].exited
	dead.Store(3)

	// Let everything finish on the other two nodes, then check the record.
	var closed int
	for time.Now().Before(deadline) {
		n, err := c0.CountClosedWorkflowExecutions(ctx, &swf.CountClosedWorkflowExecutionsInput{Domain: aws.String(domain), StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}})
		if err == nil {
			closed = int(n.Count)
		}
		if closed == workflows {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if closed != workflows {
		t.Fatalf("%d of %d workflows closed", closed, workflows)
	}
	for k, n := range handed {
		if n > 1 {
			t.Errorf("task %s handed out %d times", k, n)
		}
	}
	for i, r := range runs {
		var all []types.HistoryEvent
		p := swf.NewGetWorkflowExecutionHistoryPaginator(clients[i%2], &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String(domain), Execution: &types.WorkflowExecution{WorkflowId: aws.String(fmt.Sprint("w", i)), RunId: aws.String(r)}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page.Events...)
		}
		fired := 0
		for j, e := range all {
			if e.EventId != int64(j+1) {
				t.Fatalf("w%d: history not contiguous at %d", i, j)
			}
			if e.EventType == types.EventTypeTimerFired {
				fired++
			}
		}
		if last := all[len(all)-1].EventType; last != types.EventTypeWorkflowExecutionCompleted {
			t.Errorf("w%d ended with %s", i, last)
		}
		if fired != 1 {
			t.Errorf("w%d: timer fired %d times", i, fired)
		}
	}
}
