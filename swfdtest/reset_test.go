package swfdtest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"
	"github.com/aws/smithy-go"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/matching"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/swfdtest"
)

func startOrder(t *testing.T, c *swf.Client, id string) *swf.StartWorkflowExecutionOutput {
	t.Helper()
	out, err := c.StartWorkflowExecution(context.Background(), &swf.StartWorkflowExecutionInput{
		Domain: aws.String("shop"), WorkflowId: aws.String(id),
		WorkflowType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")},
	})
	if err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
	return out
}

func faultCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// A reset drops every domain, execution and task; the server then serves
// the same names again from nothing, and its clock keeps its time.
func TestResetDropsEverything(t *testing.T) {
	ctx := context.Background()
	srv := swfdtest.New(t)
	c := srv.Client()
	srv.RegisterDomain("shop", swfdtest.WorkflowType{Name: "order", Version: "1"}, swfdtest.ActivityType{Name: "ship", Version: "1"})
	run := startOrder(t, c, "order-1")
	later := srv.Advance(time.Hour)

	old := srv.Server.Store
	srv.Reset()

	if got := srv.Now(); !got.Equal(later) {
		t.Errorf("after the reset the clock shows %v, want %v (it keeps its time)", got, later)
	}
	doms, err := c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered})
	if err != nil || len(doms.DomainInfos) != 0 {
		t.Fatalf("ListDomains after reset = %+v, %v; want none", doms, err)
	}
	_, err = c.DescribeWorkflowExecution(ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String("shop"),
		Execution: &types.WorkflowExecution{WorkflowId: aws.String("order-1"), RunId: run.RunId}})
	if faultCode(err) != "UnknownResourceFault" {
		t.Fatalf("DescribeWorkflowExecution after reset: %v; want UnknownResourceFault", err)
	}
	// The same names work again, from nothing.
	srv.RegisterDomain("shop", swfdtest.WorkflowType{Name: "order", Version: "1"})
	startOrder(t, c, "order-1")
	n, err := c.CountPendingDecisionTasks(ctx, &swf.CountPendingDecisionTasksInput{Domain: aws.String("shop"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
	if err != nil || aws.ToInt32(&n.Count) != 1 {
		t.Fatalf("pending decision tasks after reset and a new start = %+v, %v; want 1 (the old run's task is gone)", n, err)
	}
	// The old store is closed once its calls are over.
	waitFor(t, "the old store to close", func() bool { return old.Ping(ctx) != nil })
}

// A poll waiting when the server resets is answered empty at once, not
// after its poll timeout.
func TestResetAnswersWaitingPolls(t *testing.T) {
	ctx := context.Background()
	srv := swfdtest.New(t, swfdtest.WithPollTimeout(time.Minute))
	c := srv.Client()
	srv.RegisterDomain("shop", swfdtest.WorkflowType{Name: "order", Version: "1"})
	polled := make(chan *swf.PollForDecisionTaskOutput, 1)
	errc := make(chan error, 1)
	go func() {
		out, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("shop"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
		errc <- err
		polled <- out
	}()
	key := matching.ListKey{Kind: swfd.DecisionTask, Domain: "shop", TaskList: "deciders"}
	m := srv.Server.Service.Matcher()
	waitFor(t, "the poll to wait", func() bool { return m.Waiting(key) == 1 })
	srv.Reset()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if out := <-polled; aws.ToString(out.TaskToken) != "" {
			t.Fatalf("poll answered with a task: %+v", out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting poll was not answered by the reset")
	}
}

// Calls that run while the server resets each finish whole, on the old
// engine or the new one: never an internal error, never a half-made run.
func TestResetBesideCalls(t *testing.T) {
	ctx := context.Background()
	srv := swfdtest.New(t)
	c := srv.Client()
	register := func() {
		_, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("shop"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
		if err != nil && faultCode(err) != "DomainAlreadyExistsFault" {
			t.Errorf("RegisterDomain: %v", err)
		}
		_, err = c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String("shop"), Name: aws.String("order"), Version: aws.String("1"),
			DefaultTaskList: &types.TaskList{Name: aws.String("deciders")}, DefaultExecutionStartToCloseTimeout: aws.String("3600"),
			DefaultTaskStartToCloseTimeout: aws.String("60"), DefaultChildPolicy: types.ChildPolicyTerminate})
		if err != nil && faultCode(err) != "TypeAlreadyExistsFault" && faultCode(err) != "UnknownResourceFault" {
			t.Errorf("RegisterWorkflowType: %v", err)
		}
	}
	register()
	var started, refused atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{
					Domain: aws.String("shop"), WorkflowId: aws.String("w" + string(rune('a'+w)) + "-" + time.Now().Format("150405.000000000")),
					WorkflowType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")},
				})
				switch code := faultCode(err); {
				case err == nil:
					started.Add(1)
				case code == "UnknownResourceFault":
					// The domain or type is gone: a reset came first.
					refused.Add(1)
					register()
				default:
					t.Errorf("StartWorkflowExecution beside a reset: %v", err)
					return
				}
			}
		}()
	}
	for range 20 {
		before := started.Load()
		waitFor(t, "a start between resets", func() bool { return started.Load() > before })
		srv.Reset()
	}
	close(stop)
	wg.Wait()
	t.Logf("%d executions started, %d refused after a reset", started.Load(), refused.Load())
	// Whatever the last reset left is whole: every open execution has its
	// decision task.
	open, err := c.CountOpenWorkflowExecutions(ctx, &swf.CountOpenWorkflowExecutionsInput{Domain: aws.String("shop"),
		StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}})
	if err != nil && faultCode(err) != "UnknownResourceFault" {
		t.Fatal(err)
	}
	if err == nil {
		n, err := c.CountPendingDecisionTasks(ctx, &swf.CountPendingDecisionTasksInput{Domain: aws.String("shop"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
		if err != nil || n.Count != open.Count {
			t.Fatalf("%d open executions but %+v pending decision tasks (%v)", open.Count, n, err)
		}
	}
}

// Reset exists only on a --dev server: anywhere else it is refused, over
// HTTP with SWF's fault, and nothing changes.
func TestResetOnlyInDevMode(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv := swfdtest.New(t, swfdtest.WithClock("real"), swfdtest.WithConfig(func(c *server.Config) { c.DB = "sqlite:" + dir + "/swfd.db" }))
	srv.RegisterDomain("shop", swfdtest.WorkflowType{Name: "order", Version: "1"})
	if err := srv.Server.Reset(ctx); !errors.Is(err, server.ErrNotDev) {
		t.Fatalf("Reset on a server that keeps its data: %v; want ErrNotDev", err)
	}
	resp, err := http.Post(srv.URL+"/swfd/dev/reset", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(resp.Header.Get("X-Amzn-Errortype"), "OperationNotPermittedFault") {
		t.Fatalf("POST /swfd/dev/reset: %d %s; want 400 OperationNotPermittedFault", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
	}
	doms, err := srv.Client().ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered})
	if err != nil || len(doms.DomainInfos) != 1 {
		t.Fatalf("after a refused reset ListDomains = %+v, %v; want the domain still there", doms, err)
	}
}

// waitFor waits until cond holds, failing the test after a long while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// A reset gives the next test the throttling buckets full, as a new server
// would: the tokens one test spent are not taken from the next. With a
// manual clock the buckets never refill while the clock stands still, so a
// suite whose every test registers its domain was refused
// ThrottlingException from the 101st test on (RegisterDomain's bucket
// holds 100 tokens).
func TestResetRefillsQuotaBuckets(t *testing.T) {
	ctx := context.Background()
	srv := swfdtest.New(t, swfdtest.WithConfig(func(c *server.Config) { c.Quotas = server.QuotasAWS }))
	c := srv.Client()
	for i := range 150 {
		_, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("shop"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
		if err != nil {
			t.Fatalf("test %d: RegisterDomain after a reset: %v", i+1, err)
		}
		srv.Reset()
	}
	// Within one test the buckets still hold: the 101st call in a row is
	// throttled.
	for i := range 101 {
		_, err := c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered})
		switch {
		case i < 100 && err != nil:
			t.Fatalf("ListDomains %d: %v", i+1, err)
		case i == 100 && faultCode(err) != "ThrottlingException":
			t.Fatalf("ListDomains 101 in a row, the clock standing still: %v; want ThrottlingException", err)
		}
	}
}
