package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"
	"github.com/aws/smithy-go"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/matching"
	"github.com/swfd/swfd/server"
)

// authTestFile is the auth file of these tests: an operator allowed
// everything and principals each scoped to exercise one policy feature.
const authTestFile = `{
  "principals": [
    {"name": "operator",
     "accessKeys": [{"accessKeyId": "AKIDOPERATOR", "secretAccessKey": "operator-secret"}],
     "policies": [{"Version": "2012-10-17", "Statement": [{"Sid": "All", "Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]},
    {"name": "canceller",
     "accessKeys": [{"accessKeyId": "AKIDCANCELLER", "secretAccessKey": "canceller-secret"}],
     "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "swf:RequestCancelWorkflowExecution", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/a"}]}]},
    {"name": "decider",
     "accessKeys": [{"accessKeyId": "AKIDDECIDER", "secretAccessKey": "decider-secret"}],
     "policies": [{"Version": "2012-10-17", "Statement": [
        {"Sid": "Tasks", "Effect": "Allow", "Action": ["swf:PollForDecisionTask", "swf:RespondDecisionTaskCompleted"],
         "Resource": "arn:aws:swf:*:123456789012:domain/a",
         "Condition": {"StringLikeIfExists": {"swf:taskList.name": "deciders*"}}},
        {"Sid": "Decisions", "Effect": "Allow", "Action": ["swf:Schedule*", "swf:Record*", "swf:Start*", "swf:Complete*", "swf:RequestCancelExternal*"], "Resource": "*",
         "Condition": {"StringEqualsIfExists": {"swf:taskList.name": ["workers", "deciders"]}}},
        {"Sid": "NoCancel", "Effect": "Deny", "Action": "swf:RequestCancelExternalWorkflowExecution", "Resource": "*"},
        {"Sid": "OnlyDecide", "Effect": "Deny",
         "NotAction": ["swf:PollForDecisionTask", "swf:RespondDecisionTaskCompleted", "swf:ScheduleActivityTask", "swf:RecordMarker",
                       "swf:StartTimer", "swf:RequestCancelExternalWorkflowExecution", "swf:StartChildWorkflowExecution",
                       "swf:CompleteWorkflowExecution"],
         "Resource": "*"}]}]},
    {"name": "starter",
     "accessKeys": [{"accessKeyId": "AKIDSTARTER", "secretAccessKey": "starter-secret"}],
     "policies": [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "swf:StartWorkflowExecution", "Resource": "arn:aws:swf:*:*:/domain/*",
         "Condition": {"StringEquals": {"swf:workflowType.name": "order", "swf:taskList.name": "deciders"},
                       "StringLikeIfExists": {"swf:tagList.member.0": "team-*"}}},
        {"Effect": "Allow", "Action": ["swf:List*", "swf:Count*"], "Resource": "*",
         "Condition": {"StringEquals": {"swf:tagFilter.tag": "team-a"}}},
        {"Effect": "Allow", "Action": "swf:ListDomains", "Resource": "arn:aws:swf::123456789012:domain/*"},
        {"Effect": "Allow", "Action": "swf:RegisterDomain", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/team-*"},
        {"Effect": "Allow", "Action": ["swf:Describe*", "swf:RegisterActivityType"], "NotResource": "arn:aws:swf:*:*:/domain/b",
         "Condition": {"StringNotLikeIfExists": {"swf:activityType.name": "secret*", "swf:name": "secret*"}}}]}]},
    {"name": "reqtag",
     "accessKeys": [{"accessKeyId": "AKIDREQTAG", "secretAccessKey": "reqtag-secret"}],
     "policies": [{"Version": "2012-10-17", "Statement": [
        {"Sid": "OwnerMe", "Effect": "Allow", "Action": ["swf:RegisterDomain", "swf:TagResource"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/owner": "me"}}},
        {"Sid": "NeverFrozen", "Effect": "Deny", "Action": ["swf:RegisterDomain", "swf:TagResource"], "Resource": "*",
         "Condition": {"Null": {"aws:RequestTag/frozen": "false"}}}]}]}
  ]
}`

// authStart starts a server with the auth file and an operator-made
// setup: domains a and b, each with the workflow type order/1 (default
// task list "deciders") and the activity type charge/1 (default task
// list "workers").
func authStart(t *testing.T, mods ...func(*server.Config)) (*swfdtest.Server, string) {
	t.Helper()
	srv, path := authServer(t, mods...)
	authSetup(t, srv.ClientWithKey("AKIDOPERATOR", "operator-secret"))
	return srv, path
}

// authServer starts a server with the auth file and nothing in it.
func authServer(t *testing.T, mods ...func(*server.Config)) (*swfdtest.Server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(path, []byte(authTestFile), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 500 * time.Millisecond, Config: func(c *server.Config) {
		c.AuthFile = path
		for _, m := range mods {
			m(c)
		}
	}})
	return srv, path
}

func authSetup(t *testing.T, op *swf.Client) {
	t.Helper()
	authSetupIn(t, op, "a", "b")
}

// authSetupIn registers the workflow and activity types of authSetup in
// each of domains, registering the domains first unless they exist.
func authSetupIn(t *testing.T, op *swf.Client, domains ...string) {
	t.Helper()
	ctx := context.Background()
	for _, d := range domains {
		_, err := op.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(d), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
		var exists *types.DomainAlreadyExistsFault
		if !errors.As(err, &exists) {
			authMust(t)(nil, err)
		}
		authMust(t)(op.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{
			Domain: aws.String(d), Name: aws.String("order"), Version: aws.String("1"),
			DefaultTaskList:                     &types.TaskList{Name: aws.String("deciders")},
			DefaultExecutionStartToCloseTimeout: aws.String("3600"),
			DefaultTaskStartToCloseTimeout:      aws.String("30"),
			DefaultChildPolicy:                  types.ChildPolicyTerminate,
		}))
		authMust(t)(op.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{
			Domain: aws.String(d), Name: aws.String("charge"), Version: aws.String("1"),
			DefaultTaskList:                   &types.TaskList{Name: aws.String("workers")},
			DefaultTaskScheduleToStartTimeout: aws.String("NONE"),
			DefaultTaskScheduleToCloseTimeout: aws.String("NONE"),
			DefaultTaskStartToCloseTimeout:    aws.String("NONE"),
			DefaultTaskHeartbeatTimeout:       aws.String("NONE"),
		}))
	}
}

// authMust fails the test on an error: authMust(t)(client.Call(...)).
func authMust(t *testing.T) func(any, error) {
	t.Helper()
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	}
}

// authCode returns the error code and HTTP status of an SDK error.
func authCode(err error) (string, int) {
	if err == nil {
		return "", 200
	}
	code, status := "", 0
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

func authExpect(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	if c, s := authCode(err); c != code || s != status {
		t.Fatalf("%s: got %s/%d (%v), want %s/%d", what, c, s, err, code, status)
	}
}

// authSkewClock is the system clock shifted.
type authSkewClock struct{ d time.Duration }

func (c authSkewClock) Now() time.Time { return time.Now().Add(c.d) }

// Each authentication failure, from aws-sdk-go-v2 and raw HTTP: the
// fault code and status, and nothing executed.
func TestAuthFailuresGoSDK(t *testing.T) {
	srv, _ := authStart(t)
	ctx := context.Background()
	op := srv.ClientWithKey("AKIDOPERATOR", "operator-secret")

	_, err := srv.ClientWithKey("AKIDNOBODY", "x").RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("c"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
	authExpect(t, "unknown key", err, "UnrecognizedClientException", 400)
	_, err = srv.ClientWithKey("AKIDOPERATOR", "wrong-secret").RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("c"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
	authExpect(t, "wrong secret", err, "InvalidSignatureException", 400)
	// The default test client signs with a key the file does not list.
	_, err = srv.Client().ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered})
	authExpect(t, "default test key", err, "UnrecognizedClientException", 400)

	_, err = op.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String("c")})
	authExpect(t, "nothing registered", err, "UnknownResourceFault", 400)

	// Raw requests: no Authorization at all, and a malformed one.
	post := func(authz string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(`{"name":"c","workflowExecutionRetentionPeriodInDays":"1"}`))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "SimpleWorkflowService.RegisterDomain")
		req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), string(b)
	}
	if st, typ, body := post(""); st != 403 || typ != "MissingAuthenticationTokenException" ||
		body != `{"__type":"com.amazon.coral.service#MissingAuthenticationTokenException","message":"Request is missing Authentication Token"}` {
		t.Fatalf("no auth: %d %s %s", st, typ, body)
	}
	if st, typ, body := post("AWS4-HMAC-SHA256 Credential=AKIDOPERATOR/20240101/us-east-1/swf/aws4_request"); st != 400 || typ != "IncompleteSignatureException" ||
		!strings.Contains(body, "com.amazon.coral.service#IncompleteSignatureException") {
		t.Fatalf("incomplete: %d %s %s", st, typ, body)
	}
	_, err = op.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String("c")})
	authExpect(t, "still nothing registered", err, "UnknownResourceFault", 400)

	// Clock skew: a server 20 minutes ahead sees the SDK's signature as
	// expired, one 20 minutes behind as not yet current.
	for _, c := range []struct {
		d   time.Duration
		msg string
	}{{20 * time.Minute, "Signature expired: "}, {-20 * time.Minute, "Signature not yet current: "}} {
		skewed, _ := authServer(t, func(cfg *server.Config) { cfg.Clock = authSkewClock{c.d} })
		_, err := skewed.ClientWithKey("AKIDOPERATOR", "operator-secret").ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered})
		authExpect(t, "skew", err, "InvalidSignatureException", 400)
		if !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), "5 min.)") {
			t.Fatalf("skew message: %v", err)
		}
	}
}

// The acceptance case: a principal allowed RequestCancelWorkflowExecution
// only on domain a succeeds there and gets OperationNotPermittedFault on
// b, where nothing is recorded.
func TestAuthRequestCancelOnlyOnDomainA(t *testing.T) {
	srv, _ := authStart(t)
	ctx := context.Background()
	op := srv.ClientWithKey("AKIDOPERATOR", "operator-secret")
	canceller := srv.ClientWithKey("AKIDCANCELLER", "canceller-secret")
	runs := map[string]string{}
	for _, d := range []string{"a", "b"} {
		out, err := op.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(d), WorkflowId: aws.String("w"), WorkflowType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")}})
		authMust(t)(out, err)
		runs[d] = *out.RunId
	}
	_, err := canceller.RequestCancelWorkflowExecution(ctx, &swf.RequestCancelWorkflowExecutionInput{Domain: aws.String("a"), WorkflowId: aws.String("w")})
	authExpect(t, "cancel in a", err, "", 200)
	_, err = canceller.RequestCancelWorkflowExecution(ctx, &swf.RequestCancelWorkflowExecutionInput{Domain: aws.String("b"), WorkflowId: aws.String("w")})
	authExpect(t, "cancel in b", err, "OperationNotPermittedFault", 400)
	if !strings.Contains(err.Error(), "arn:aws:iam::123456789012:user/canceller is not authorized to perform: swf:RequestCancelWorkflowExecution on resource: arn:aws:swf:us-east-1:123456789012:/domain/b") {
		t.Fatalf("message: %v", err)
	}
	// Nothing else is allowed, not even on a.
	_, err = canceller.TerminateWorkflowExecution(ctx, &swf.TerminateWorkflowExecutionInput{Domain: aws.String("a"), WorkflowId: aws.String("w")})
	authExpect(t, "terminate in a", err, "OperationNotPermittedFault", 400)
	for d, want := range map[string]bool{"a": true, "b": false} {
		desc, err := op.DescribeWorkflowExecution(ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String(d), Execution: &types.WorkflowExecution{WorkflowId: aws.String("w"), RunId: aws.String(runs[d])}})
		authMust(t)(desc, err)
		if desc.ExecutionInfo.CancelRequested != want || desc.ExecutionInfo.ExecutionStatus != types.ExecutionStatusOpen {
			t.Fatalf("%s: cancelRequested %v status %s", d, desc.ExecutionInfo.CancelRequested, desc.ExecutionInfo.ExecutionStatus)
		}
	}
}

// The acceptance case for decisions: a decider denied
// RequestCancelExternalWorkflowExecution gets
// RequestCancelExternalWorkflowExecutionFailed with OPERATION_NOT_PERMITTED
// while its other decisions apply, and a new decision task.
func TestAuthDecisionDenied(t *testing.T) {
	srv, _ := authStart(t)
	ctx := context.Background()
	op := srv.ClientWithKey("AKIDOPERATOR", "operator-secret")
	decider := srv.ClientWithKey("AKIDDECIDER", "decider-secret")
	wt := &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")}
	start, err := op.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("a"), WorkflowId: aws.String("w"), WorkflowType: wt})
	authMust(t)(start, err)
	other, err := op.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("a"), WorkflowId: aws.String("other"), WorkflowType: wt})
	authMust(t)(other, err)

	// The decider may poll its own list only, and only in domain a.
	_, err = decider.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("a"), TaskList: &types.TaskList{Name: aws.String("elsewhere")}})
	authExpect(t, "poll other list", err, "OperationNotPermittedFault", 400)
	_, err = decider.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("b"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
	authExpect(t, "poll in b", err, "OperationNotPermittedFault", 400)
	// And it may not call anything else (the NotAction Deny).
	_, err = decider.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("a"), WorkflowId: aws.String("x"), WorkflowType: wt})
	authExpect(t, "decider start", err, "OperationNotPermittedFault", 400)

	poll := func() *swf.PollForDecisionTaskOutput {
		t.Helper()
		for i := 0; i < 10; i++ {
			out, err := decider.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("a"), TaskList: &types.TaskList{Name: aws.String("deciders")}})
			authMust(t)(out, err)
			if out.TaskToken != nil && *out.WorkflowExecution.WorkflowId == "w" {
				return out
			}
			if out.TaskToken != nil {
				authMust(t)(decider.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: out.TaskToken}))
			}
		}
		t.Fatal("no decision task for w")
		return nil
	}
	task := poll()
	_, err = decider.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: []types.Decision{
		{DecisionType: types.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
			ActivityId: aws.String("a1"), ActivityType: &types.ActivityType{Name: aws.String("charge"), Version: aws.String("1")}}},
		{DecisionType: types.DecisionTypeRequestCancelExternalWorkflowExecution, RequestCancelExternalWorkflowExecutionDecisionAttributes: &types.RequestCancelExternalWorkflowExecutionDecisionAttributes{
			WorkflowId: aws.String("other")}},
		// The activity's own task list is not one the policy allows.
		{DecisionType: types.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
			ActivityId: aws.String("a2"), ActivityType: &types.ActivityType{Name: aws.String("charge"), Version: aws.String("1")}, TaskList: &types.TaskList{Name: aws.String("vip")}}},
		// SignalExternal is not in the NotAction list: denied.
		{DecisionType: types.DecisionTypeSignalExternalWorkflowExecution, SignalExternalWorkflowExecutionDecisionAttributes: &types.SignalExternalWorkflowExecutionDecisionAttributes{
			WorkflowId: aws.String("other"), SignalName: aws.String("s")}},
		{DecisionType: types.DecisionTypeRecordMarker, RecordMarkerDecisionAttributes: &types.RecordMarkerDecisionAttributes{MarkerName: aws.String("m")}},
	}})
	authExpect(t, "respond", err, "", 200)

	hist, err := op.GetWorkflowExecutionHistory(ctx, &swf.GetWorkflowExecutionHistoryInput{Domain: aws.String("a"), Execution: task.WorkflowExecution})
	authMust(t)(hist, err)
	var got []string
	for _, e := range hist.Events[4:] {
		got = append(got, string(e.EventType))
	}
	want := "ActivityTaskScheduled RequestCancelExternalWorkflowExecutionFailed ScheduleActivityTaskFailed SignalExternalWorkflowExecutionFailed MarkerRecorded DecisionTaskScheduled"
	if strings.Join(got, " ") != want {
		t.Fatalf("events after DecisionTaskCompleted:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	f := hist.Events[5].RequestCancelExternalWorkflowExecutionFailedEventAttributes
	if f.Cause != types.RequestCancelExternalWorkflowExecutionFailedCauseOperationNotPermitted || *f.WorkflowId != "other" || f.InitiatedEventId != 0 || f.DecisionTaskCompletedEventId != 4 {
		t.Fatalf("failed event %+v", f)
	}
	if c := hist.Events[6].ScheduleActivityTaskFailedEventAttributes.Cause; c != types.ScheduleActivityTaskFailedCauseOperationNotPermitted {
		t.Fatalf("schedule cause %s", c)
	}
	if c := hist.Events[7].SignalExternalWorkflowExecutionFailedEventAttributes.Cause; c != types.SignalExternalWorkflowExecutionFailedCauseOperationNotPermitted {
		t.Fatalf("signal cause %s", c)
	}
	if s := hist.Events[4].ActivityTaskScheduledEventAttributes.TaskList.Name; *s != "workers" {
		t.Fatalf("activity list %s", *s)
	}
	// The other execution heard of no cancel request.
	oth, err := op.DescribeWorkflowExecution(ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String("a"), Execution: &types.WorkflowExecution{WorkflowId: aws.String("other"), RunId: other.RunId}})
	authMust(t)(oth, err)
	if oth.ExecutionInfo.CancelRequested {
		t.Fatal("other was asked to cancel")
	}

	// The next task carries the failures; the decider completes the run.
	task = poll()
	authMust(t)(decider.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: []types.Decision{
		{DecisionType: types.DecisionTypeCompleteWorkflowExecution, CompleteWorkflowExecutionDecisionAttributes: &types.CompleteWorkflowExecutionDecisionAttributes{Result: aws.String("ok")}},
	}}))
	desc, err := op.DescribeWorkflowExecution(ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String("a"), Execution: &types.WorkflowExecution{WorkflowId: aws.String("w"), RunId: start.RunId}})
	authMust(t)(desc, err)
	if desc.ExecutionInfo.CloseStatus != types.CloseStatusCompleted {
		t.Fatalf("close status %s", desc.ExecutionInfo.CloseStatus)
	}
}

// Policy features seen through the Go SDK: condition keys with a value
// resolved from the type's default, tag keys, IfExists, StringEquals on
// filters, ListDomains' and RegisterDomain's resources, NotResource,
// StringNotLike.
func TestAuthPolicyFeatures(t *testing.T) {
	srv, _ := authStart(t)
	ctx := context.Background()
	op := srv.ClientWithKey("AKIDOPERATOR", "operator-secret")
	st := srv.ClientWithKey("AKIDSTARTER", "starter-secret")
	wt := func(name string) *types.WorkflowType {
		return &types.WorkflowType{Name: aws.String(name), Version: aws.String("1")}
	}
	authMust(t)(op.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String("a"), Name: aws.String("refund"), Version: aws.String("1"),
		DefaultTaskList: &types.TaskList{Name: aws.String("deciders")}, DefaultExecutionStartToCloseTimeout: aws.String("60"),
		DefaultTaskStartToCloseTimeout: aws.String("10"), DefaultChildPolicy: types.ChildPolicyTerminate}))

	cases := []struct {
		name string
		call func() error
		code string
	}{
		{"start, task list from the type's default", func() error {
			_, err := st.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("a"), WorkflowId: aws.String("w1"), WorkflowType: wt("order")})
			return err
		}, ""},
		{"start with the allowed list and tag", func() error {
			_, err := st.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("b"), WorkflowId: aws.String("w2"), WorkflowType: wt("order"),
				TaskList: &types.TaskList{Name: aws.String("deciders")}, TagList: []string{"team-a", "x"}})
			return err
		}, ""},
		{"start, other type", func() error {
			_, err := st.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("a"), WorkflowId: aws.String("w3"), WorkflowType: wt("refund")})
			return err
		}, "OperationNotPermittedFault"},
		{"start, other task list", func() error {
			_, err := st.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("a"), WorkflowId: aws.String("w4"), WorkflowType: wt("order"),
				TaskList: &types.TaskList{Name: aws.String("fast")}})
			return err
		}, "OperationNotPermittedFault"},
		{"start, first tag not a team", func() error {
			_, err := st.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("a"), WorkflowId: aws.String("w5"), WorkflowType: wt("order"),
				TagList: []string{"ops"}})
			return err
		}, "OperationNotPermittedFault"},
		{"start, empty first tag (a tag the execution keeps)", func() error {
			_, err := st.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String("a"), WorkflowId: aws.String("w6"), WorkflowType: wt("order"),
				TagList: []string{"", "team-a"}})
			return err
		}, "OperationNotPermittedFault"},
		{"list open with the allowed tag filter", func() error {
			_, err := st.ListOpenWorkflowExecutions(ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: aws.String("b"),
				StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}, TagFilter: &types.TagFilter{Tag: aws.String("team-a")}})
			return err
		}, ""},
		{"list open without a tag filter", func() error {
			_, err := st.ListOpenWorkflowExecutions(ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: aws.String("b"),
				StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}})
			return err
		}, "OperationNotPermittedFault"},
		{"count closed with another tag", func() error {
			_, err := st.CountClosedWorkflowExecutions(ctx, &swf.CountClosedWorkflowExecutionsInput{Domain: aws.String("b"),
				StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}, TagFilter: &types.TagFilter{Tag: aws.String("team-b")}})
			return err
		}, "OperationNotPermittedFault"},
		{"list domains (resource without region or slash)", func() error {
			_, err := st.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered})
			return err
		}, ""},
		{"register a team domain", func() error {
			_, err := st.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("team-x"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
			return err
		}, ""},
		{"register another domain", func() error {
			_, err := st.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("prod"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
			return err
		}, "OperationNotPermittedFault"},
		{"describe a (NotResource)", func() error {
			_, err := st.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String("a")})
			return err
		}, ""},
		{"describe b (NotResource)", func() error {
			_, err := st.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String("b")})
			return err
		}, "OperationNotPermittedFault"},
		{"describe an activity type", func() error {
			_, err := st.DescribeActivityType(ctx, &swf.DescribeActivityTypeInput{Domain: aws.String("a"), ActivityType: &types.ActivityType{Name: aws.String("charge"), Version: aws.String("1")}})
			return err
		}, ""},
		{"describe a secret activity type (StringNotLike)", func() error {
			_, err := st.DescribeActivityType(ctx, &swf.DescribeActivityTypeInput{Domain: aws.String("a"), ActivityType: &types.ActivityType{Name: aws.String("secret-x"), Version: aws.String("1")}})
			return err
		}, "OperationNotPermittedFault"},
		{"register a secret activity type (swf:name)", func() error {
			_, err := st.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{Domain: aws.String("a"), Name: aws.String("secret-y"), Version: aws.String("1")})
			return err
		}, "OperationNotPermittedFault"},
		{"register an activity type", func() error {
			_, err := st.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{Domain: aws.String("a"), Name: aws.String("ship"), Version: aws.String("1")})
			return err
		}, ""},
		{"terminate (default deny)", func() error {
			_, err := st.TerminateWorkflowExecution(ctx, &swf.TerminateWorkflowExecutionInput{Domain: aws.String("a"), WorkflowId: aws.String("w1")})
			return err
		}, "OperationNotPermittedFault"},
	}
	for _, c := range cases {
		code, _ := authCode(c.call())
		if code != c.code {
			t.Errorf("%s: got %q, want %q", c.name, code, c.code)
		}
	}
	// Denied calls recorded nothing.
	cnt, err := op.CountOpenWorkflowExecutions(ctx, &swf.CountOpenWorkflowExecutionsInput{Domain: aws.String("a"), StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}})
	authMust(t)(cnt, err)
	if cnt.Count != 1 {
		t.Errorf("open in a: %d, want 1", cnt.Count)
	}
	if _, err := op.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String("prod")}); err == nil {
		t.Error("domain prod was registered")
	}
}

// An aws:RequestTag condition checks the values the domain keeps: a
// request that repeats a tag key is refused with a ValidationException
// before any policy decides (the store would keep only the last value),
// keys that differ only in case are both seen by the condition key (which
// is case-insensitive, while the domain keeps both tags), and an empty
// value is a value. Nothing refused is stored.
func TestAuthRequestTags(t *testing.T) {
	srv, _ := authStart(t)
	ctx := context.Background()
	op := srv.ClientWithKey("AKIDOPERATOR", "operator-secret")
	rt := srv.ClientWithKey("AKIDREQTAG", "reqtag-secret")
	arn := func(d string) *string { return aws.String("arn:aws:swf:us-east-1:123456789012:/domain/" + d) }
	tags := func(kv ...string) []types.ResourceTag {
		var out []types.ResourceTag
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, types.ResourceTag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		return out
	}
	stored := func(d string) string {
		t.Helper()
		out, err := op.ListTagsForResource(ctx, &swf.ListTagsForResourceInput{ResourceArn: arn(d)})
		authMust(t)(out, err)
		var got []string
		for _, tg := range out.Tags {
			got = append(got, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		return strings.Join(got, ",")
	}
	register := func(name string, kv ...string) error {
		_, err := rt.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(name), WorkflowExecutionRetentionPeriodInDays: aws.String("1"), Tags: tags(kv...)})
		return err
	}
	tag := func(d string, kv ...string) error {
		_, err := rt.TagResource(ctx, &swf.TagResourceInput{ResourceArn: arn(d), Tags: tags(kv...)})
		return err
	}

	authExpect(t, "register with owner me", register("rt1", "owner", "me"), "", 200)
	if got := stored("rt1"); got != "owner=me" {
		t.Fatalf("rt1 tags %q", got)
	}

	// A repeated key: refused whatever the policy, nothing stored.
	for _, c := range []struct {
		name string
		err  error
	}{
		{"register, owner me then you", register("rt6", "owner", "me", "owner", "you")},
		{"register, owner you then me", register("rt6", "owner", "you", "owner", "me")},
		{"tag, owner me then you", tag("rt1", "owner", "me", "owner", "you")},
		{"tag, owner you then me", tag("rt1", "owner", "you", "owner", "me")},
	} {
		authExpect(t, c.name, c.err, "ValidationException", 400)
		if !strings.Contains(c.err.Error(), "tags.2.member.key") {
			t.Errorf("%s: %v does not name tags.2.member.key", c.name, c.err)
		}
	}
	_, err := op.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String("rt6")})
	authExpect(t, "rt6 after the refused registrations", err, "UnknownResourceFault", 400)
	// The operator, whom every policy allows, is refused the same way.
	_, err = op.TagResource(ctx, &swf.TagResourceInput{ResourceArn: arn("rt1"), Tags: tags("owner", "me", "owner", "you")})
	authExpect(t, "operator, repeated key", err, "ValidationException", 400)

	// Keys that differ only in case: aws:RequestTag/owner sees both values.
	authExpect(t, "tag, Owner you beside owner me", tag("rt1", "owner", "me", "Owner", "you"), "OperationNotPermittedFault", 400)
	authExpect(t, "register, OWNER you beside owner me", register("rt7", "OWNER", "you", "owner", "me"), "OperationNotPermittedFault", 400)
	authExpect(t, "tag, owner you alone", tag("rt1", "owner", "you"), "OperationNotPermittedFault", 400)

	// An empty value is a value: it is what the domain keeps.
	authExpect(t, "tag, empty owner", tag("rt1", "owner", ""), "OperationNotPermittedFault", 400)
	authExpect(t, "tag, empty frozen", tag("rt1", "owner", "me", "frozen", ""), "OperationNotPermittedFault", 400)
	authExpect(t, "register, empty frozen", register("rt8", "owner", "me", "frozen", ""), "OperationNotPermittedFault", 400)
	if got := stored("rt1"); got != "owner=me" {
		t.Fatalf("rt1 tags after refused calls %q, want owner=me", got)
	}
	authExpect(t, "tag, owner me and an empty team", tag("rt1", "owner", "me", "team", ""), "", 200)
	authExpect(t, "tag, two spellings both me", tag("rt1", "owner", "me", "Owner", "me"), "", 200)
	if got := stored("rt1"); got != "owner=me,team=,Owner=me" {
		t.Fatalf("rt1 tags %q, want owner=me,team=,Owner=me", got)
	}
	for _, d := range []string{"rt7", "rt8"} {
		_, err := op.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String(d)})
		authExpect(t, d+" after its refused registration", err, "UnknownResourceFault", 400)
	}
}

// SIGHUP's work: a reload swaps the keys at once for new requests, a long
// poll in flight when it happens finishes normally, and an invalid file
// leaves the last good one in force.
func TestAuthReload(t *testing.T) {
	srv, path := authStart(t)
	ctx := context.Background()
	op := srv.ClientWithKey("AKIDOPERATOR", "operator-secret")
	var wg sync.WaitGroup
	var pollErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, pollErr = op.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String("a"), TaskList: &types.TaskList{Name: aws.String("idle")}})
	}()
	// The poll is waiting on its task list before the reload.
	idle := matching.ListKey{Kind: swfd.DecisionTask, Domain: "a", TaskList: "idle"}
	waitFor(t, "the poll to wait", func() bool { return srv.Server.Service.Matcher().Waiting(idle) == 1 })
	next := strings.Replace(authTestFile, `"AKIDOPERATOR", "secretAccessKey": "operator-secret"`, `"AKIDOPERATOR2", "secretAccessKey": "operator-secret-2"`, 1)
	if err := os.WriteFile(path, []byte(next), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := srv.Server.ReloadAuth(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if pollErr != nil {
		t.Fatalf("poll in flight during reload: %v", pollErr)
	}
	_, err := op.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered})
	authExpect(t, "old key", err, "UnrecognizedClientException", 400)
	op2 := srv.ClientWithKey("AKIDOPERATOR2", "operator-secret-2")
	authMust(t)(op2.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered}))

	if err := os.WriteFile(path, []byte(`{"principals": [{"name": "x"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := srv.Server.ReloadAuth(); err == nil {
		t.Fatal("invalid file accepted")
	}
	authMust(t)(op2.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered}))
}

// Without an auth file any credentials do (the local-development
// default).
func TestAuthOffAcceptsAnything(t *testing.T) {
	srv := swfdtest.Start(t, swfdtest.Options{})
	ctx := context.Background()
	for _, c := range []*swf.Client{srv.Client(), srv.ClientWithKey("whoever", "whatever")} {
		authMust(t)(c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered}))
	}
	if err := srv.Server.ReloadAuth(); err == nil {
		t.Fatal("reload without an auth file succeeded")
	}
}

// authBoto3Script runs calls given as JSON on stdin with boto3 and prints
// each outcome.
const authBoto3Script = `
import json, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
out = []
for c in json.load(sys.stdin):
    client = boto3.client("swf", endpoint_url=c["endpoint"], region_name="us-east-1",
                          aws_access_key_id=c["key"], aws_secret_access_key=c["secret"],
                          config=Config(read_timeout=70, retries={"max_attempts": 1, "mode": "standard"}))
    try:
        resp = getattr(client, c["op"])(**c["args"])
        out.append({"code": "", "status": resp["ResponseMetadata"]["HTTPStatusCode"]})
    except ClientError as e:
        out.append({"code": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                    "message": e.response["Error"].get("Message", "")})
print(json.dumps(out))
`

type authPyCall struct {
	Endpoint string         `json:"endpoint"`
	Key      string         `json:"key"`
	Secret   string         `json:"secret"`
	Op       string         `json:"op"`
	Args     map[string]any `json:"args"`
}

type authPyResult struct {
	Code    string `json:"code"`
	Status  int    `json:"status"`
	Message string `json:"message"`
}

func authRunBoto3(t *testing.T, calls []authPyCall) []authPyResult {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 not installed")
	}
	script := filepath.Join(t.TempDir(), "calls.py")
	if err := os.WriteFile(script, []byte(authBoto3Script), 0o600); err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(calls)
	cmd := exec.Command(py, script)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("boto3: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("boto3: %v", err)
	}
	var res []authPyResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("boto3 output %q: %v", out, err)
	}
	return res
}

// boto3 signs requests its own way (botocore's SigV4); every outcome
// matches what the Go SDK sees.
func TestAuthBoto3(t *testing.T) {
	srv, _ := authStart(t)
	skewed, _ := authServer(t, func(cfg *server.Config) { cfg.Clock = authSkewClock{20 * time.Minute} })
	ctx := context.Background()
	op := srv.ClientWithKey("AKIDOPERATOR", "operator-secret")
	for _, d := range []string{"a", "b"} {
		authMust(t)(op.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(d), WorkflowId: aws.String("w"), WorkflowType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")}}))
	}
	u := srv.URL
	calls := []authPyCall{
		{u, "AKIDOPERATOR", "operator-secret", "list_domains", map[string]any{"registrationStatus": "REGISTERED"}},
		{u, "AKIDNOBODY", "x", "list_domains", map[string]any{"registrationStatus": "REGISTERED"}},
		{u, "AKIDOPERATOR", "wrong", "list_domains", map[string]any{"registrationStatus": "REGISTERED"}},
		{skewed.URL, "AKIDOPERATOR", "operator-secret", "list_domains", map[string]any{"registrationStatus": "REGISTERED"}},
		{u, "AKIDCANCELLER", "canceller-secret", "request_cancel_workflow_execution", map[string]any{"domain": "a", "workflowId": "w"}},
		{u, "AKIDCANCELLER", "canceller-secret", "request_cancel_workflow_execution", map[string]any{"domain": "b", "workflowId": "w"}},
		{u, "AKIDSTARTER", "starter-secret", "start_workflow_execution", map[string]any{"domain": "a", "workflowId": "w2", "workflowType": map[string]any{"name": "order", "version": "1"}, "tagList": []string{"team-a"}}},
		{u, "AKIDSTARTER", "starter-secret", "start_workflow_execution", map[string]any{"domain": "a", "workflowId": "w3", "workflowType": map[string]any{"name": "order", "version": "1"}, "taskList": map[string]any{"name": "other"}}},
		{u, "AKIDSTARTER", "starter-secret", "list_domains", map[string]any{"registrationStatus": "REGISTERED"}},
		{u, "AKIDDECIDER", "decider-secret", "poll_for_decision_task", map[string]any{"domain": "b", "taskList": map[string]any{"name": "deciders"}}},
	}
	want := []authPyResult{
		{"", 200, ""},
		{"UnrecognizedClientException", 400, "The security token included in the request is invalid."},
		{"InvalidSignatureException", 400, "The request signature we calculated does not match"},
		{"InvalidSignatureException", 400, "Signature expired: "},
		{"", 200, ""},
		{"OperationNotPermittedFault", 400, "is not authorized to perform: swf:RequestCancelWorkflowExecution"},
		{"", 200, ""},
		{"OperationNotPermittedFault", 400, ""},
		{"", 200, ""},
		{"OperationNotPermittedFault", 400, ""},
	}
	got := authRunBoto3(t, calls)
	if len(got) != len(want) {
		t.Fatalf("got %d results", len(got))
	}
	for i := range want {
		if got[i].Code != want[i].Code || got[i].Status != want[i].Status || !strings.Contains(got[i].Message, want[i].Message) {
			t.Errorf("%s as %s: got %+v, want %+v", calls[i].Op, calls[i].Key, got[i], want[i])
		}
	}
}

// The AWS CLI (botocore underneath, its own credential chain and
// request building).
func TestAuthAWSCLI(t *testing.T) {
	srv, _ := authStart(t)
	ctx := context.Background()
	op := srv.ClientWithKey("AKIDOPERATOR", "operator-secret")
	for _, d := range []string{"a", "b"} {
		authMust(t)(op.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(d), WorkflowId: aws.String("w"), WorkflowType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")}}))
	}
	as := func(key, secret string) *awsCLI {
		c := newAWSCLI(t, srv.URL)
		c.env = append(c.env, "AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY="+secret)
		return c
	}
	l := as("AKIDOPERATOR", "operator-secret").ok("list-domains", "--registration-status", "REGISTERED")
	if infos, _ := l["domainInfos"].([]any); len(infos) != 2 {
		t.Fatalf("list-domains: %v", l)
	}
	for _, c := range []struct {
		cli  *awsCLI
		args []string
		want string
	}{
		{as("AKIDNOBODY", "x"), []string{"list-domains", "--registration-status", "REGISTERED"}, "(UnrecognizedClientException) when calling the ListDomains operation: The security token included in the request is invalid."},
		{as("AKIDOPERATOR", "wrong"), []string{"list-domains", "--registration-status", "REGISTERED"}, "(InvalidSignatureException) when calling the ListDomains operation"},
		{as("AKIDCANCELLER", "canceller-secret"), []string{"request-cancel-workflow-execution", "--domain", "b", "--workflow-id", "w"}, "(OperationNotPermittedFault) when calling the RequestCancelWorkflowExecution operation"},
		{as("AKIDSTARTER", "starter-secret"), []string{"register-domain", "--name", "prod", "--workflow-execution-retention-period-in-days", "1"}, "(OperationNotPermittedFault) when calling the RegisterDomain operation"},
	} {
		_, stderr, status := c.cli.run(c.args...)
		if status == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("aws swf %s: exit %d, stderr %q, want %q", strings.Join(c.args, " "), status, stderr, c.want)
		}
	}
	if out := as("AKIDCANCELLER", "canceller-secret").ok("request-cancel-workflow-execution", "--domain", "a", "--workflow-id", "w"); out != nil {
		t.Errorf("request-cancel printed %v", out)
	}
	as("AKIDSTARTER", "starter-secret").ok("register-domain", "--name", "team-cli", "--workflow-execution-retention-period-in-days", "1")
}

// boto 2 sends Host without the port and the legacy X-Amz-Target. Told
// the region and service (auth_region_name, auth_service_name) it signs
// for us-east-1/swf; left to derive them from the host name it signs for
// …/0/127/aws4_request, which swfd refuses, as SWF would. boto 2 is not on PyPI for Python 3.11: point
// SWFD_TEST_BOTO2_PATH at an unpacked Debian python3-boto
// (…/usr/lib/python3/dist-packages) to run this test.
func TestAuthBoto2(t *testing.T) {
	path := os.Getenv("SWFD_TEST_BOTO2_PATH")
	if path == "" {
		t.Skip("SWFD_TEST_BOTO2_PATH not set")
	}
	srv, _ := authStart(t)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	script := `
import sys
from boto.regioninfo import RegionInfo
from boto.swf.layer1 import Layer1
from boto.exception import SWFResponseError
for key, secret, scoped in [("AKIDOPERATOR", "operator-secret", True), ("AKIDOPERATOR", "wrong", True), ("AKIDNOBODY", "x", True),
                            ("AKIDCANCELLER", "canceller-secret", True), ("AKIDOPERATOR", "operator-secret", False)]:
    c = Layer1(aws_access_key_id=key, aws_secret_access_key=secret, is_secure=False, port=int(sys.argv[1]),
               region=RegionInfo(name="us-east-1", endpoint="127.0.0.1"))
    if scoped:
        c.auth_region_name, c.auth_service_name = "us-east-1", "swf"
    try:
        print("ok", len(c.list_domains("REGISTERED")["domainInfos"]))
    except SWFResponseError as e:
        print(e.status, e.error_code)
`
	cmd := exec.Command("python3", "-c", script, port)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto 2: %v\n%s", err, out)
	}
	want := "ok 2\n400 InvalidSignatureException\n400 UnrecognizedClientException\n400 OperationNotPermittedFault\n400 InvalidSignatureException\n"
	if string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
}

// The task-token operations are authorized on the task's domain also when
// its name is too long for the token to carry (256 characters of three
// bytes each), and the service has to find it from the run: a principal
// allowed only that domain completes its tasks, one allowed only another
// domain is refused every task-token call.
func TestAuthTaskTokensOfLongestDomainName(t *testing.T) {
	long := strings.Repeat("域", 256)
	principal := func(name, domain string) map[string]any {
		return map[string]any{
			"name":       name,
			"accessKeys": []map[string]string{{"accessKeyId": "AKID" + strings.ToUpper(name), "secretAccessKey": name + "-secret"}},
			"policies": []map[string]any{{"Version": "2012-10-17", "Statement": []map[string]any{{
				"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/" + domain}}}},
		}
	}
	file, err := json.Marshal(map[string]any{"principals": []any{principal("owner", long), principal("stranger", "a")}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 500 * time.Millisecond, Config: func(c *server.Config) { c.AuthFile = path }})
	ctx := context.Background()
	owner := srv.ClientWithKey("AKIDOWNER", "owner-secret")
	stranger := srv.ClientWithKey("AKIDSTRANGER", "stranger-secret")
	must := authMust(t)
	must(owner.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(long), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}))
	must(stranger.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("a"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}))
	authSetupIn(t, owner, long)
	wt := &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")}
	run, err := owner.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(long), WorkflowId: aws.String("w"), WorkflowType: wt})
	must(run, err)
	denied := func(what string, err error) {
		t.Helper()
		authExpect(t, what, err, "OperationNotPermittedFault", 400)
		if !strings.Contains(err.Error(), "on resource: arn:aws:swf:us-east-1:123456789012:/domain/"+long) {
			t.Fatalf("%s: %v, want the task's domain named", what, err)
		}
	}

	d, err := owner.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(long), TaskList: &types.TaskList{Name: aws.String("deciders")}})
	must(d, err)
	if d.TaskToken == nil || len(*d.TaskToken) > 1024 {
		t.Fatal("no decision task, or a token over 1024 characters")
	}
	_, err = stranger.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken})
	denied("stranger completes the decision task", err)
	must(owner.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []types.Decision{
		{DecisionType: types.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
			ActivityId: aws.String("a1"), ActivityType: &types.ActivityType{Name: aws.String("charge"), Version: aws.String("1")}}}}}))

	a, err := owner.PollForActivityTask(ctx, &swf.PollForActivityTaskInput{Domain: aws.String(long), TaskList: &types.TaskList{Name: aws.String("workers")}})
	must(a, err)
	if a.TaskToken == nil || len(*a.TaskToken) > 1024 {
		t.Fatal("no activity task, or a token over 1024 characters")
	}
	_, err = stranger.RecordActivityTaskHeartbeat(ctx, &swf.RecordActivityTaskHeartbeatInput{TaskToken: a.TaskToken})
	denied("stranger heartbeat", err)
	_, err = stranger.RespondActivityTaskCompleted(ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken})
	denied("stranger completes", err)
	_, err = stranger.RespondActivityTaskFailed(ctx, &swf.RespondActivityTaskFailedInput{TaskToken: a.TaskToken})
	denied("stranger fails", err)
	_, err = stranger.RespondActivityTaskCanceled(ctx, &swf.RespondActivityTaskCanceledInput{TaskToken: a.TaskToken})
	denied("stranger cancels", err)
	must(owner.RecordActivityTaskHeartbeat(ctx, &swf.RecordActivityTaskHeartbeatInput{TaskToken: a.TaskToken}))
	must(owner.RespondActivityTaskCompleted(ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken, Result: aws.String("ok")}))

	d, err = owner.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(long), TaskList: &types.TaskList{Name: aws.String("deciders")}})
	must(d, err)
	must(owner.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []types.Decision{
		{DecisionType: types.DecisionTypeCompleteWorkflowExecution, CompleteWorkflowExecutionDecisionAttributes: &types.CompleteWorkflowExecutionDecisionAttributes{}}}}))
	desc, err := owner.DescribeWorkflowExecution(ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String(long), Execution: &types.WorkflowExecution{WorkflowId: aws.String("w"), RunId: run.RunId}})
	must(desc, err)
	if desc.ExecutionInfo.CloseStatus != types.CloseStatusCompleted {
		t.Fatalf("close status %q, want COMPLETED", desc.ExecutionInfo.CloseStatus)
	}
}

// The task token of a domain whose name is too long for it names the run;
// once the run is purged the token's domain can no longer be told. A call
// with it is judged all the same, as one on a domain that could be any: a
// caller not allowed in every domain is refused as it was while the run
// existed (OperationNotPermittedFault, not UnknownResourceFault, which
// would tell a stranger that the run is gone), and only a caller allowed
// everywhere learns that the task is unknown. The run is read from the
// store, as after a restart: the server that purges it never ran it.
func TestAuthTaskTokenOfPurgedRun(t *testing.T) {
	long := strings.Repeat("域", 256)
	arn := "arn:aws:swf:us-east-1:123456789012:/domain/"
	principal := func(name string, statements ...map[string]any) map[string]any {
		return map[string]any{
			"name":       name,
			"accessKeys": []map[string]string{{"accessKeyId": "AKID" + strings.ToUpper(name), "secretAccessKey": name + "-secret"}},
			"policies":   []map[string]any{{"Version": "2012-10-17", "Statement": statements}},
		}
	}
	allow := func(resource string) map[string]any {
		return map[string]any{"Effect": "Allow", "Action": "swf:*", "Resource": resource}
	}
	file, err := json.Marshal(map[string]any{"principals": []any{
		principal("owner", allow(arn+long)),
		principal("stranger", allow(arn+"a")),
		principal("operator", allow("*")),
		principal("barred", allow("*"), map[string]any{"Effect": "Deny", "Action": "swf:*", "Resource": arn + long}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.json")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := swfdtest.Options{DB: "sqlite:" + filepath.Join(dir, "swfd.db"), PollTimeout: 500 * time.Millisecond,
		Config: func(c *server.Config) { c.AuthFile = path }}
	srv := swfdtest.Start(t, opts)
	ctx := context.Background()
	owner := srv.ClientWithKey("AKIDOWNER", "owner-secret")
	must := authMust(t)
	// Retention 0: a closed run is purged at the next pass.
	must(owner.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(long), WorkflowExecutionRetentionPeriodInDays: aws.String("0")}))
	authSetupIn(t, owner, long)
	run, err := owner.StartWorkflowExecution(ctx, &swf.StartWorkflowExecutionInput{Domain: aws.String(long), WorkflowId: aws.String("w"),
		WorkflowType: &types.WorkflowType{Name: aws.String("order"), Version: aws.String("1")}})
	must(run, err)
	d, err := owner.PollForDecisionTask(ctx, &swf.PollForDecisionTaskInput{Domain: aws.String(long), TaskList: &types.TaskList{Name: aws.String("deciders")}})
	must(d, err)
	must(owner.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken, Decisions: []types.Decision{
		{DecisionType: types.DecisionTypeScheduleActivityTask, ScheduleActivityTaskDecisionAttributes: &types.ScheduleActivityTaskDecisionAttributes{
			ActivityId: aws.String("a1"), ActivityType: &types.ActivityType{Name: aws.String("charge"), Version: aws.String("1")}}}}}))
	a, err := owner.PollForActivityTask(ctx, &swf.PollForActivityTaskInput{Domain: aws.String(long), TaskList: &types.TaskList{Name: aws.String("workers")}})
	must(a, err)
	exec := &types.WorkflowExecution{WorkflowId: aws.String("w"), RunId: run.RunId}
	must(owner.TerminateWorkflowExecution(ctx, &swf.TerminateWorkflowExecutionInput{Domain: aws.String(long), WorkflowId: exec.WorkflowId, RunId: exec.RunId}))
	srv.Stop()

	srv = swfdtest.Start(t, opts)
	owner = srv.ClientWithKey("AKIDOWNER", "owner-secret")
	waitFor(t, "the run to be purged", func() bool {
		_, err := owner.DescribeWorkflowExecution(ctx, &swf.DescribeWorkflowExecutionInput{Domain: aws.String(long), Execution: exec})
		var unknown *types.UnknownResourceFault
		return errors.As(err, &unknown)
	})
	calls := []struct {
		name string
		call func(c *swf.Client) error
	}{
		{"RespondDecisionTaskCompleted", func(c *swf.Client) error {
			_, err := c.RespondDecisionTaskCompleted(ctx, &swf.RespondDecisionTaskCompletedInput{TaskToken: d.TaskToken})
			return err
		}},
		{"RecordActivityTaskHeartbeat", func(c *swf.Client) error {
			_, err := c.RecordActivityTaskHeartbeat(ctx, &swf.RecordActivityTaskHeartbeatInput{TaskToken: a.TaskToken})
			return err
		}},
		{"RespondActivityTaskCompleted", func(c *swf.Client) error {
			_, err := c.RespondActivityTaskCompleted(ctx, &swf.RespondActivityTaskCompletedInput{TaskToken: a.TaskToken})
			return err
		}},
		{"RespondActivityTaskFailed", func(c *swf.Client) error {
			_, err := c.RespondActivityTaskFailed(ctx, &swf.RespondActivityTaskFailedInput{TaskToken: a.TaskToken})
			return err
		}},
		{"RespondActivityTaskCanceled", func(c *swf.Client) error {
			_, err := c.RespondActivityTaskCanceled(ctx, &swf.RespondActivityTaskCanceledInput{TaskToken: a.TaskToken})
			return err
		}},
	}
	for _, who := range []struct{ name, code string }{
		{"stranger", "OperationNotPermittedFault"},
		{"barred", "OperationNotPermittedFault"},
		{"owner", "OperationNotPermittedFault"}, // allowed in one domain: it cannot be told to be this one
		{"operator", "UnknownResourceFault"},
	} {
		c := srv.ClientWithKey("AKID"+strings.ToUpper(who.name), who.name+"-secret")
		for _, call := range calls {
			err := call.call(c)
			authExpect(t, who.name+" "+call.name, err, who.code, 400)
			if who.code == "OperationNotPermittedFault" && !strings.Contains(err.Error(), "on resource: "+arn+"*") {
				t.Fatalf("%s %s: %v, want every domain named as the resource", who.name, call.name, err)
			}
		}
	}
}

// A signed call is judged with the global condition keys of its caller:
// its name (as a policy variable too) and its User-Agent.
func TestAuthGlobalKeys(t *testing.T) {
	const file = `{"principals": [
	  {"name": "operator", "accessKeys": [{"accessKeyId": "AKIDOPERATOR", "secretAccessKey": "operator-secret"}],
	   "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}]},
	  {"name": "secret", "accessKeys": [{"accessKeyId": "AKIDSECRET", "secretAccessKey": "secret-secret"}],
	   "policies": [{"Version": "2012-10-17", "Statement": [
	     {"Effect": "Allow", "Action": "swf:*", "Resource": "*"},
	     {"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/${aws:username}"},
	     {"Effect": "Deny", "Action": "swf:ListDomains", "Resource": "*",
	      "Condition": {"StringLike": {"aws:UserAgent": "*aws-sdk-go-v2*"}}}]}]}]}`
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := swfdtest.Start(t, swfdtest.Options{Config: func(c *server.Config) { c.AuthFile = path }})
	ctx := context.Background()
	op := srv.ClientWithKey("AKIDOPERATOR", "operator-secret")
	for _, d := range []string{"secret", "other"} {
		authMust(t)(op.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(d), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}))
	}
	c := srv.ClientWithKey("AKIDSECRET", "secret-secret")
	_, err := c.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String("secret")})
	authExpect(t, "DescribeDomain on the caller's own domain", err, "OperationNotPermittedFault", 400)
	_, err = c.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String("other")})
	authExpect(t, "DescribeDomain on another domain", err, "", 200)
	_, err = c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered})
	authExpect(t, "ListDomains from the Go SDK", err, "OperationNotPermittedFault", 400)
}
