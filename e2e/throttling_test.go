package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/promtest"
	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/quota"
	"github.com/swfd/swfd/server"
)

// quotaHarness is a workflow harness on a server started with a quota file.
func quotaHarness(t *testing.T, file string) *wfHarness {
	t.Helper()
	path := filepath.Join(t.TempDir(), "quotas.json")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	return newWFHarness(t, swfdtest.Options{Config: func(c *server.Config) { c.Quotas = path }})
}

// defaultRetryClient is an aws-sdk-go-v2 client for url with the SDK's
// default retryer (three attempts, backing off on throttling).
func defaultRetryClient(url string) *swf.Client {
	return swf.New(swf.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient: &http.Client{Timeout: 90 * time.Second},
	})
}

// throttledFirst checks that a call the SDK answered was throttled on its
// first attempt and retried.
func throttledFirst(t *testing.T, what string, md middleware.Metadata) {
	t.Helper()
	res, ok := retry.GetAttemptResults(md)
	if !ok || len(res.Results) < 2 {
		t.Fatalf("%s: %d attempts, want a throttled one and its retry", what, len(res.Results))
	}
	if code := errCode(res.Results[0].Err); code != "ThrottlingException" {
		t.Fatalf("%s: first attempt ended with %v (code %q), want ThrottlingException", what, res.Results[0].Err, code)
	}
}

// aws-sdk-go-v2 with its default retryer meets ThrottlingException on
// every call of a workflow (each call's bucket is emptied just before it)
// and still completes the workflow: the SDK backs off and retries, and a
// bucket of one token refilled 50 times a second has a token again by
// then. The throttled calls are counted by operation.
func TestThrottlingGoSDKDefaultRetryer(t *testing.T) {
	limit := `{"bucketSize": 1, "refillPerSecond": 50}`
	h := quotaHarness(t, `{"base": "off", "operations": {
		"StartWorkflowExecution": `+limit+`, "PollForDecisionTask": `+limit+`, "RespondDecisionTaskCompleted": `+limit+`,
		"PollForActivityTask": `+limit+`, "RespondActivityTaskCompleted": `+limit+`}}`)
	c := defaultRetryClient(h.srv.URL)
	lim := h.srv.Server.Quotas
	drain := func(op string) {
		for lim.Allow(quota.Call{Operation: op, Domain: h.domain}) {
		}
	}
	ctx := h.ctx
	list := func(name string) *types.TaskList { return &types.TaskList{Name: aws.String(name)} }

	drain("StartWorkflowExecution")
	start, err := c.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("throttled"), WorkflowType: h.wfType})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	throttledFirst(t, "StartWorkflowExecution", start.ResultMetadata)

	drain("PollForDecisionTask")
	dt, err := c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(h.domain), TaskList: list("deciders")})
	if err != nil || dt.TaskToken == nil {
		t.Fatalf("poll decision: %v", err)
	}
	throttledFirst(t, "PollForDecisionTask", dt.ResultMetadata)

	drain("RespondDecisionTaskCompleted")
	rd, err := c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []types.Decision{scheduleActivity("a1", "x")}})
	if err != nil {
		t.Fatalf("schedule: %v", err)
	}
	throttledFirst(t, "RespondDecisionTaskCompleted", rd.ResultMetadata)

	drain("PollForActivityTask")
	at, err := c.PollForActivityTask(ctx, &swf.PollForActivityTaskInput{Domain: aws.String(h.domain), TaskList: list("workers")})
	if err != nil || at.TaskToken == nil {
		t.Fatalf("poll activity: %v", err)
	}
	throttledFirst(t, "PollForActivityTask", at.ResultMetadata)

	drain("RespondActivityTaskCompleted")
	ra, err := c.RespondActivityTaskCompleted(ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: at.TaskToken, Result: aws.String("done")})
	if err != nil {
		t.Fatalf("complete activity: %v", err)
	}
	throttledFirst(t, "RespondActivityTaskCompleted", ra.ResultMetadata)

	drain("PollForDecisionTask")
	dt, err = c.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(h.domain), TaskList: list("deciders")})
	if err != nil || dt.TaskToken == nil {
		t.Fatalf("poll decision: %v", err)
	}
	drain("RespondDecisionTaskCompleted")
	if _, err := c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: dt.TaskToken, Decisions: []types.Decision{completeWorkflow("ok")}}); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if d := h.describe("throttled", *start.RunId); d.ExecutionInfo.CloseStatus != types.CloseStatusCompleted {
		t.Fatalf("workflow ended %q, want COMPLETED", d.ExecutionInfo.CloseStatus)
	}
	// Each retried call happened once: one activity, one completion.
	evs := h.history("throttled", *start.RunId)
	counts := map[types.EventType]int{}
	for _, e := range evs {
		counts[e.EventType]++
	}
	if counts[types.EventTypeActivityTaskScheduled] != 1 || counts[types.EventTypeWorkflowExecutionCompleted] != 1 || counts[types.EventTypeDecisionTaskCompleted] != 2 {
		t.Fatalf("history: %v", eventTypes(evs))
	}

	fams, err := promtest.Scrape(nil, h.srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"StartWorkflowExecution", "PollForDecisionTask", "RespondDecisionTaskCompleted", "PollForActivityTask", "RespondActivityTaskCompleted"} {
		if v, _ := fams.Value("swfd_throttled_calls_total", "operation", op); v < 1 {
			t.Errorf("swfd_throttled_calls_total{operation=%q} = %v, want at least 1", op, v)
		}
	}
	if v, found := fams.Value("swfd_throttled_calls_total", "operation", "RegisterDomain"); found && v != 0 {
		t.Errorf("an operation without a bucket was throttled %v times", v)
	}
}

// A throttled call changes nothing; the buckets per execution limit each
// execution apart; a long poll takes one token per call, however long it
// waits.
func TestThrottledCallsChangeNothing(t *testing.T) {
	h := quotaHarness(t, `{"base": "off",
		"operations": {"StartWorkflowExecution": {"bucketSize": 2, "refillPerSecond": 0.001},
		               "PollForActivityTask": {"bucketSize": 2, "refillPerSecond": 0.001}},
		"executions": {"SignalWorkflowExecution": {"bucketSize": 1, "refillPerSecond": 0.001}}}`)
	run1 := h.start("w1")
	h.start("w2")
	_, err := h.c.StartWorkflowExecution(h.ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("w3"), WorkflowType: h.wfType})
	wantCode(t, err, "ThrottlingException")
	n, err := h.c.CountOpenWorkflowExecutions(h.ctx, &swf.CountOpenWorkflowExecutionsInput{Domain: aws.String(h.domain),
		StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}})
	if err != nil || n.Count != 2 {
		t.Fatalf("open executions after a throttled start: %v %v, want 2", n, err)
	}

	signal := func(wf string) error {
		_, err := h.c.SignalWorkflowExecution(h.ctx, &swf.SignalWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String(wf), SignalName: aws.String("s")})
		return err
	}
	if err := signal("w1"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, signal("w1"), "ThrottlingException")
	if err := signal("w2"); err != nil {
		t.Fatalf("w2 has a bucket of its own: %v", err)
	}
	signaled := 0
	for _, e := range h.history("w1", run1) {
		if e.EventType == types.EventTypeWorkflowExecutionSignaled {
			signaled++
		}
	}
	if signaled != 1 {
		t.Fatalf("w1 was signaled %d times, want 1 (the throttled signal must change nothing)", signaled)
	}

	// Two long polls wait their whole time for nothing, each taking one
	// token; the third is refused at once.
	poll := func() error {
		_, err := h.c.PollForActivityTask(h.ctx, &swf.PollForActivityTaskInput{Domain: aws.String(h.domain), TaskList: &types.TaskList{Name: aws.String("empty")}})
		return err
	}
	for i := range 2 {
		if err := poll(); err != nil {
			t.Fatalf("poll %d: %v", i+1, err)
		}
	}
	wantCode(t, poll(), "ThrottlingException")
}

// The decision-level buckets surface as the *_RATE_EXCEEDED causes of the
// decisions' *Failed events, and as outcomes in the decisions counter.
func TestDecisionRateCausesInHistory(t *testing.T) {
	h := quotaHarness(t, `{"base": "off",
		"decisions": {"StartTimer": {"bucketSize": 1, "refillPerSecond": 0.001}},
		"activityTaskList": {"bucketSize": 1, "refillPerSecond": 0.001}}`)
	run := h.start("w")
	dt := h.mustDecision("deciders")
	timer := func(id string) types.Decision {
		return types.Decision{DecisionType: types.DecisionTypeStartTimer, StartTimerDecisionAttributes: &types.StartTimerDecisionAttributes{
			TimerId: aws.String(id), StartToFireTimeout: aws.String("600")}}
	}
	h.decide(dt.TaskToken, timer("t1"), timer("t2"), scheduleActivity("a1", "x"), scheduleActivity("a2", "y"))
	evs := h.history("w", run)
	var timerCause types.StartTimerFailedCause
	var actCause types.ScheduleActivityTaskFailedCause
	var timers, activities int
	for _, e := range evs {
		switch e.EventType {
		case types.EventTypeTimerStarted:
			timers++
		case types.EventTypeActivityTaskScheduled:
			activities++
		case types.EventTypeStartTimerFailed:
			if *e.StartTimerFailedEventAttributes.TimerId != "t2" {
				t.Errorf("StartTimerFailed for %s, want t2", *e.StartTimerFailedEventAttributes.TimerId)
			}
			timerCause = e.StartTimerFailedEventAttributes.Cause
		case types.EventTypeScheduleActivityTaskFailed:
			actCause = e.ScheduleActivityTaskFailedEventAttributes.Cause
		}
	}
	if timers != 1 || timerCause != types.StartTimerFailedCauseTimerCreationRateExceeded {
		t.Errorf("timers: %d started, cause %q; history %v", timers, timerCause, eventTypes(evs))
	}
	if activities != 1 || actCause != types.ScheduleActivityTaskFailedCauseActivityCreationRateExceeded {
		t.Errorf("activities: %d scheduled, cause %q; history %v", activities, actCause, eventTypes(evs))
	}
	if evs[len(evs)-1].EventType != types.EventTypeDecisionTaskScheduled {
		t.Errorf("no decision task after the failed decisions: %v", eventTypes(evs))
	}
	fams, err := promtest.Scrape(nil, h.srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := fams.Value("swfd_decisions_total", "type", "StartTimer", "outcome", "TIMER_CREATION_RATE_EXCEEDED"); v != 1 {
		t.Errorf("swfd_decisions_total{StartTimer,TIMER_CREATION_RATE_EXCEEDED} = %v, want 1", v)
	}
	if v, _ := fams.Value("swfd_decisions_total", "type", "ScheduleActivityTask", "outcome", "ACTIVITY_CREATION_RATE_EXCEEDED"); v != 1 {
		t.Errorf("swfd_decisions_total{ScheduleActivityTask,ACTIVITY_CREATION_RATE_EXCEEDED} = %v, want 1", v)
	}
}

// A principal's override gives its calls a bucket of their own: the
// operator (no override) is not throttled by the starter's small bucket,
// and the starter's calls do not draw on the account's bucket. A request
// whose signature is refused takes no token.
func TestThrottlingPerPrincipal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quotas.json")
	os.WriteFile(path, []byte(`{"base": "off",
		"operations": {"DescribeDomain": {"bucketSize": 3, "refillPerSecond": 0.001}},
		"principals": {"starter": {"operations": {"DescribeDomain": {"bucketSize": 1, "refillPerSecond": 0.001}}}}}`), 0o600)
	srv, _ := authStart(t, func(c *server.Config) { c.Quotas = path })
	ctx := context.Background()
	operator, starter := srv.ClientWithKey("AKIDOPERATOR", "operator-secret"), srv.ClientWithKey("AKIDSTARTER", "starter-secret")
	describe := func(c *swf.Client) error {
		_, err := c.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String("a")})
		return err
	}
	// Requests refused for their signature take no token.
	forged := srv.ClientWithKey("AKIDSTARTER", "not-the-secret")
	for range 3 {
		if err := describe(forged); err == nil || errCode(err) == "ThrottlingException" {
			t.Fatalf("a forged signature: %v", err)
		}
	}
	if err := describe(starter); err != nil {
		t.Fatalf("starter's first call: %v", err)
	}
	wantCode(t, describe(starter), "ThrottlingException")
	for i := range 3 {
		if err := describe(operator); err != nil {
			t.Fatalf("operator's call %d: %v (the starter's calls drew on the account's bucket)", i+1, err)
		}
	}
	wantCode(t, describe(operator), "ThrottlingException")
}

// A call is authenticated, then authorized, then throttled: a request whose
// signature is refused and a call the IAM policy denies take no token, so
// callers refused either way cannot spend the quota of the account, of a
// principal or of an execution and throttle the callers who are allowed.
// Signed calls through aws-sdk-go-v2, on a manual clock: no bucket refills
// unless the test moves it.
func TestDeniedCallsTakeNoToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quotas.json")
	os.WriteFile(path, []byte(`{"base": "off",
		"operations": {"DescribeDomain": {"bucketSize": 2, "refillPerSecond": 1}},
		"executions": {"RequestCancelWorkflowExecution": {"bucketSize": 1, "refillPerSecond": 1}},
		"principals": {"canceller": {"operations": {"RequestCancelWorkflowExecution": {"bucketSize": 1, "refillPerSecond": 1}}}}}`), 0o600)
	srv, _ := authStart(t, func(c *server.Config) { c.Quotas = path; c.ClockMode = clock.Manual; c.ClockUnsafe = true })
	ctx := context.Background()
	operator := srv.ClientWithKey("AKIDOPERATOR", "operator-secret")
	starter := srv.ClientWithKey("AKIDSTARTER", "starter-secret")
	canceller := srv.ClientWithKey("AKIDCANCELLER", "canceller-secret")
	describe := func(c *swf.Client, domain string) error {
		_, err := c.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String(domain)})
		return err
	}
	// The account's bucket of DescribeDomain: the starter is denied
	// domain b (far more calls than the bucket holds), others are refused
	// their signatures.
	for i := range 5 {
		if err := describe(starter, "b"); errCode(err) != "OperationNotPermittedFault" {
			t.Fatalf("the starter's denied call %d: %v (code %q), want OperationNotPermittedFault", i+1, err, errCode(err))
		}
		wantCode(t, describe(srv.ClientWithKey("AKIDNOBODY", "x"), "a"), "UnrecognizedClientException")
		wantCode(t, describe(srv.ClientWithKey("AKIDOPERATOR", "not-the-secret"), "a"), "InvalidSignatureException")
	}
	for i := range 2 {
		if err := describe(operator, "a"); err != nil {
			t.Fatalf("the operator's call %d: %v (refused or denied calls took the account's tokens)", i+1, err)
		}
	}
	wantCode(t, describe(operator, "a"), "ThrottlingException")

	// A principal's own bucket, and an execution's: the canceller may
	// cancel only in domain a, the starter nowhere.
	if _, err := srv.Server.Clock.Advance(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	authMust(t)(operator.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("a"), WorkflowId: aws.String("w1"),
		WorkflowType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")}}))
	cancel := func(c *swf.Client, domain string) error {
		_, err := c.RequestCancelWorkflowExecution(ctx, &swf.RequestCancelWorkflowExecutionInput{Domain: aws.String(domain), WorkflowId: aws.String("w1")})
		return err
	}
	for i := range 3 {
		if err := cancel(canceller, "b"); errCode(err) != "OperationNotPermittedFault" {
			t.Fatalf("the canceller's denied call %d in b: %v (code %q)", i+1, err, errCode(err))
		}
		if err := cancel(starter, "a"); errCode(err) != "OperationNotPermittedFault" {
			t.Fatalf("the starter's denied cancel %d of w1 in a: %v (code %q)", i+1, err, errCode(err))
		}
	}
	if err := cancel(canceller, "a"); err != nil {
		t.Fatalf("the canceller's cancel of w1 in a: %v (denied calls took its tokens, or w1's)", err)
	}
	wantCode(t, cancel(canceller, "a"), "ThrottlingException")
}
