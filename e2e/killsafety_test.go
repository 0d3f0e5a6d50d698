package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/swfdtest"
)

// TestKillSafety drives a few thousand workflows through a swfd subprocess
// with concurrent starters, deciders and workers, SIGKILLs it at random
// moments several times, restarts it on the same database each time, lets
// everything finish, and then checks what the clients were told against
// what the database holds (faultLoad.finish says what).
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
	args := []string{"--db", db, "--log-level", "warn", "--poll-timeout", "1s"}
	proc := startSwfd(t, bin, nil, append(args, "--addr", anyPort)...)
	addr := proc.addr
	c := swfdtest.NewClient("http://" + addr)
	load := startFaultLoad(t, []*swf.Client{c}, "kill", faultLoadOptions{Workflows: nWorkflows, Starters: 8, Deciders: 12, Workers: 12})

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
		load.waitAcked(marks[k])
		t.Logf("kill %d at %v: %d completions acknowledged", k+1, time.Since(began).Round(time.Millisecond), load.acked())
		if err := proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-proc.exited
		// Back on the address it had, where the load's clients keep
		// calling. The kill freed the port a moment ago; another process
		// could take it first (rarely: the kernel hands out ephemeral
		// ports in turn), and then swfd fails to start and the test with
		// it, saying "address already in use".
		proc = startSwfd(t, bin, nil, append(args, "--addr", addr)...)
	}
	load.finish(c, 3*time.Minute)
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
