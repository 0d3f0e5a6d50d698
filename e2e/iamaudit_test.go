package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/server"
)

// This file audits IAM through the HTTP API, one raw signed request at a
// time, so that every one of SWF's operations is reached the same way:
// the resource each action is judged on, the condition keys each
// operation and decision carries, and how a refusal is answered.

const iamAccount = "123456789012"

// iamKey is an access key of the audit's auth files: the principal's
// name, with a fixed suffix, is both its key and its secret.
func iamKey(name string) (string, string) { return "AKID" + strings.ToUpper(name), name + "-secret" }

// iamAuthFile writes an auth file giving each principal its statements
// (one 2012-10-17 policy) and returns its path.
func iamAuthFile(t *testing.T, principals map[string][]map[string]any) string {
	t.Helper()
	type key struct {
		ID     string `json:"accessKeyId"`
		Secret string `json:"secretAccessKey"`
	}
	type principal struct {
		Name     string           `json:"name"`
		Keys     []key            `json:"accessKeys"`
		Policies []map[string]any `json:"policies"`
	}
	var file struct {
		Principals []principal `json:"principals"`
	}
	names := make([]string, 0, len(principals))
	for n := range principals {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		id, secret := iamKey(n)
		file.Principals = append(file.Principals, principal{Name: n, Keys: []key{{id, secret}},
			Policies: []map[string]any{{"Version": "2012-10-17", "Statement": principals[n]}}})
	}
	b, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// iamReply is the answer to one raw call.
type iamReply struct {
	Status int
	Type   string // x-amzn-ErrorType
	Body   string
}

// code is the fault's code: the part of __type after the '#'.
func (r iamReply) code() string {
	if r.Status == 200 {
		return ""
	}
	var f struct {
		Type string `json:"__type"`
	}
	json.Unmarshal([]byte(r.Body), &f)
	_, c, _ := strings.Cut(f.Type, "#")
	return c
}

func (r iamReply) message() string {
	var f struct {
		Message string `json:"message"`
	}
	json.Unmarshal([]byte(r.Body), &f)
	return f.Message
}

func (r iamReply) decode(t *testing.T, v any) {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("call failed: %d %s", r.Status, r.Body)
	}
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("reply %s: %v", r.Body, err)
	}
}

// iamCall sends one SWF call signed with the principal's key, as the SDKs
// sign it.
func iamCall(t *testing.T, url, principal, op string, in any) iamReply {
	t.Helper()
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "SimpleWorkflowService."+op)
	id, secret := iamKey(principal)
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, req,
		hex.EncodeToString(sum[:]), "swf", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return iamReply{Status: resp.StatusCode, Type: resp.Header.Get("x-amzn-ErrorType"), Body: string(b)}
}

// iamMust makes a call that must succeed and decodes its answer into out
// (if not nil).
func iamMust(t *testing.T, url, principal, op string, in any, out any) {
	t.Helper()
	r := iamCall(t, url, principal, op, in)
	if r.Status != 200 {
		t.Fatalf("%s by %s: %d %s", op, principal, r.Status, r.Body)
	}
	if out != nil {
		r.decode(t, out)
	}
}

// iamDenied checks that a call was refused as SWF refuses a call the
// caller's policies do not allow: OperationNotPermittedFault, HTTP 400,
// naming the caller, the action and the resource.
func iamDenied(t *testing.T, what string, r iamReply, principal, action, resource string) {
	t.Helper()
	want := fmt.Sprintf("User: arn:aws:iam::%s:user/%s is not authorized to perform: %s on resource: %s", iamAccount, principal, action, resource)
	if r.Status != 400 || r.Type != "OperationNotPermittedFault" ||
		!strings.Contains(r.Body, `"__type":"com.amazonaws.swf.base.model#OperationNotPermittedFault"`) || r.message() != want {
		t.Errorf("%s: got %d %s %s\nwant 400 OperationNotPermittedFault %q", what, r.Status, r.Type, r.Body, want)
	}
}

// iamNotDenied checks that a call got past authorization: it may fail for
// other reasons (an unknown execution, a task already answered), but not
// be refused, and not with a server error.
func iamNotDenied(t *testing.T, what string, r iamReply) {
	t.Helper()
	if c := r.code(); c == "OperationNotPermittedFault" || r.Status >= 500 {
		t.Errorf("%s: got %d %s", what, r.Status, r.Body)
	}
}

func domainARN(name string) string { return "arn:aws:swf:us-east-1:" + iamAccount + ":/domain/" + name }

// iamSetup registers, as principal, each domain with the workflow type
// order/1 (default task list "deciders") and the activity type charge/1
// (default task list "workers").
func iamSetup(t *testing.T, url, principal string, domains ...string) {
	t.Helper()
	for _, d := range domains {
		iamMust(t, url, principal, "RegisterDomain", map[string]any{"name": d, "workflowExecutionRetentionPeriodInDays": "1"}, nil)
		iamMust(t, url, principal, "RegisterWorkflowType", map[string]any{"domain": d, "name": "order", "version": "1",
			"defaultTaskList": map[string]any{"name": "deciders"}, "defaultExecutionStartToCloseTimeout": "3600",
			"defaultTaskStartToCloseTimeout": "30", "defaultChildPolicy": "TERMINATE"}, nil)
		iamMust(t, url, principal, "RegisterActivityType", map[string]any{"domain": d, "name": "charge", "version": "1",
			"defaultTaskList": map[string]any{"name": "workers"}, "defaultTaskScheduleToStartTimeout": "NONE",
			"defaultTaskScheduleToCloseTimeout": "NONE", "defaultTaskStartToCloseTimeout": "NONE", "defaultTaskHeartbeatTimeout": "NONE"}, nil)
	}
}

// iamTasks starts an execution of order/1 in the domain and returns the
// task token of a decision task that is open (its second: the first
// scheduled charge/1) and of the activity task.
func iamTasks(t *testing.T, url, principal, domain, workflowID string) (decision, activity string) {
	t.Helper()
	iamMust(t, url, principal, "StartWorkflowExecution", map[string]any{"domain": domain, "workflowId": workflowID,
		"workflowType": map[string]any{"name": "order", "version": "1"}}, nil)
	var d struct {
		TaskToken string `json:"taskToken"`
	}
	iamMust(t, url, principal, "PollForDecisionTask", map[string]any{"domain": domain, "taskList": map[string]any{"name": "deciders"}}, &d)
	if d.TaskToken == "" {
		t.Fatal("no decision task")
	}
	iamMust(t, url, principal, "RespondDecisionTaskCompleted", map[string]any{"taskToken": d.TaskToken, "decisions": []any{
		map[string]any{"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": map[string]any{
			"activityId": "a1", "activityType": map[string]any{"name": "charge", "version": "1"}}}}}, nil)
	// A signal makes the next decision task.
	iamMust(t, url, principal, "SignalWorkflowExecution", map[string]any{"domain": domain, "workflowId": workflowID, "signalName": "next"}, nil)
	d.TaskToken = ""
	iamMust(t, url, principal, "PollForDecisionTask", map[string]any{"domain": domain, "taskList": map[string]any{"name": "deciders"}}, &d)
	var a struct {
		TaskToken string `json:"taskToken"`
	}
	iamMust(t, url, principal, "PollForActivityTask", map[string]any{"domain": domain, "taskList": map[string]any{"name": "workers"}}, &a)
	if d.TaskToken == "" || a.TaskToken == "" {
		t.Fatal("no second decision task or no activity task")
	}
	return d.TaskToken, a.TaskToken
}

// iamOps returns an input of every SWF operation acting on the domain,
// with the task tokens given for the task-token operations, in an order
// in which each call leaves the next something to act on.
func iamOps(domain, decisionToken, activityToken string) []struct {
	op string
	in map[string]any
} {
	wt := map[string]any{"name": "order", "version": "1"}
	at := map[string]any{"name": "charge", "version": "1"}
	since := map[string]any{"oldestDate": 0}
	exec := map[string]any{"workflowId": "w", "runId": "00000000000000000000000000000000"}
	return []struct {
		op string
		in map[string]any
	}{
		{"DescribeDomain", map[string]any{"name": domain}},
		{"ListDomains", map[string]any{"registrationStatus": "REGISTERED"}},
		{"RegisterDomain", map[string]any{"name": domain + "-new", "workflowExecutionRetentionPeriodInDays": "1"}},
		{"ListTagsForResource", map[string]any{"resourceArn": domainARN(domain)}},
		{"TagResource", map[string]any{"resourceArn": domainARN(domain), "tags": []any{map[string]any{"key": "k", "value": "v"}}}},
		{"UntagResource", map[string]any{"resourceArn": domainARN(domain), "tagKeys": []any{"k"}}},
		{"RegisterActivityType", map[string]any{"domain": domain, "name": "ship", "version": "1"}},
		{"RegisterWorkflowType", map[string]any{"domain": domain, "name": "refund", "version": "1"}},
		{"DescribeActivityType", map[string]any{"domain": domain, "activityType": at}},
		{"DescribeWorkflowType", map[string]any{"domain": domain, "workflowType": wt}},
		{"ListActivityTypes", map[string]any{"domain": domain, "registrationStatus": "REGISTERED"}},
		{"ListWorkflowTypes", map[string]any{"domain": domain, "registrationStatus": "REGISTERED"}},
		{"DeprecateActivityType", map[string]any{"domain": domain, "activityType": map[string]any{"name": "ship", "version": "1"}}},
		{"UndeprecateActivityType", map[string]any{"domain": domain, "activityType": map[string]any{"name": "ship", "version": "1"}}},
		{"DeprecateWorkflowType", map[string]any{"domain": domain, "workflowType": map[string]any{"name": "refund", "version": "1"}}},
		{"UndeprecateWorkflowType", map[string]any{"domain": domain, "workflowType": map[string]any{"name": "refund", "version": "1"}}},
		{"DeleteActivityType", map[string]any{"domain": domain, "activityType": map[string]any{"name": "ship", "version": "1"}}},
		{"DeleteWorkflowType", map[string]any{"domain": domain, "workflowType": map[string]any{"name": "refund", "version": "1"}}},
		{"StartWorkflowExecution", map[string]any{"domain": domain, "workflowId": "w2", "workflowType": wt}},
		{"SignalWorkflowExecution", map[string]any{"domain": domain, "workflowId": "w2", "signalName": "s"}},
		{"DescribeWorkflowExecution", map[string]any{"domain": domain, "execution": exec}},
		{"GetWorkflowExecutionHistory", map[string]any{"domain": domain, "execution": exec}},
		{"ListOpenWorkflowExecutions", map[string]any{"domain": domain, "startTimeFilter": since}},
		{"ListClosedWorkflowExecutions", map[string]any{"domain": domain, "startTimeFilter": since}},
		{"CountOpenWorkflowExecutions", map[string]any{"domain": domain, "startTimeFilter": since}},
		{"CountClosedWorkflowExecutions", map[string]any{"domain": domain, "startTimeFilter": since}},
		{"CountPendingDecisionTasks", map[string]any{"domain": domain, "taskList": map[string]any{"name": "deciders"}}},
		{"CountPendingActivityTasks", map[string]any{"domain": domain, "taskList": map[string]any{"name": "workers"}}},
		{"PollForDecisionTask", map[string]any{"domain": domain, "taskList": map[string]any{"name": "nobody"}}},
		{"PollForActivityTask", map[string]any{"domain": domain, "taskList": map[string]any{"name": "nobody"}}},
		{"RecordActivityTaskHeartbeat", map[string]any{"taskToken": activityToken}},
		{"RespondActivityTaskCompleted", map[string]any{"taskToken": activityToken}},
		{"RespondActivityTaskFailed", map[string]any{"taskToken": activityToken}},
		{"RespondActivityTaskCanceled", map[string]any{"taskToken": activityToken}},
		{"RespondDecisionTaskCompleted", map[string]any{"taskToken": decisionToken}},
		{"RequestCancelWorkflowExecution", map[string]any{"domain": domain, "workflowId": "w2"}},
		{"TerminateWorkflowExecution", map[string]any{"domain": domain, "workflowId": "w2"}},
		{"DeprecateDomain", map[string]any{"name": domain}},
		{"UndeprecateDomain", map[string]any{"name": domain}},
	}
}

// Every one of SWF's 39 operations is the action swf:<Operation> on the
// ARN of the domain it acts on, arn:aws:swf:REGION:ACCOUNT:/domain/NAME:
// the domain named in its input; for RegisterDomain the domain to be;
// for the tagging operations the one resourceArn names (written with or
// without the "/" before "domain"); for the task-token operations the
// task's; and for ListDomains every domain (…:/domain/*). A principal
// allowed everything on domain a, written without the "/", is refused
// each of them on domain b with OperationNotPermittedFault (HTTP 400)
// naming the action and that resource, and none of them on domain a.
func TestIAMResourceOfEveryOperation(t *testing.T) {
	path := iamAuthFile(t, map[string][]map[string]any{
		"operator": {{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}},
		"onlya":    {{"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:us-east-1:" + iamAccount + ":domain/a"}},
	})
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 200 * time.Millisecond, Config: func(c *server.Config) { c.AuthFile = path }})
	iamSetup(t, srv.URL, "operator", "a", "b")
	decB, actB := iamTasks(t, srv.URL, "operator", "b", "w")
	decA, actA := iamTasks(t, srv.URL, "operator", "a", "w")

	ops := iamOps("b", decB, actB)
	var names []string
	for _, o := range ops {
		names = append(names, o.op)
	}
	var all []string
	for op := range api.Operations {
		all = append(all, op)
	}
	slices.Sort(names)
	slices.Sort(all)
	if !slices.Equal(names, all) {
		t.Fatalf("the audit covers\n%v\nthe API has\n%v", names, all)
	}
	for _, o := range ops {
		res := domainARN("b")
		switch o.op {
		case "ListDomains":
			res = domainARN("*")
		case "RegisterDomain":
			res = domainARN("b-new")
		}
		iamDenied(t, o.op+" on b", iamCall(t, srv.URL, "onlya", o.op, o.in), "onlya", "swf:"+o.op, res)
	}
	// A tagging call's resourceArn may leave out the "/": the refusal
	// names the domain's ARN as DescribeDomain gives it.
	iamDenied(t, "ListTagsForResource on b, ARN without the /",
		iamCall(t, srv.URL, "onlya", "ListTagsForResource", map[string]any{"resourceArn": "arn:aws:swf:us-east-1:" + iamAccount + ":domain/b"}),
		"onlya", "swf:ListTagsForResource", domainARN("b"))

	// Nothing the refused calls would have done was done.
	var dom struct {
		DomainInfo struct{ Status string } `json:"domainInfo"`
	}
	iamMust(t, srv.URL, "operator", "DescribeDomain", map[string]any{"name": "b"}, &dom)
	if dom.DomainInfo.Status != "REGISTERED" {
		t.Errorf("domain b is %s", dom.DomainInfo.Status)
	}
	var cnt struct{ Count int }
	iamMust(t, srv.URL, "operator", "CountOpenWorkflowExecutions", map[string]any{"domain": "b", "startTimeFilter": map[string]any{"oldestDate": 0}}, &cnt)
	if cnt.Count != 1 {
		t.Errorf("open executions in b: %d, want 1", cnt.Count)
	}
	if r := iamCall(t, srv.URL, "operator", "DescribeDomain", map[string]any{"name": "b-new"}); r.code() != "UnknownResourceFault" {
		t.Errorf("domain b-new: %d %s", r.Status, r.Body)
	}

	for _, o := range iamOps("a", decA, actA) {
		if o.op == "ListDomains" {
			// Every domain: a grant on domain a is not one.
			iamDenied(t, "ListDomains", iamCall(t, srv.URL, "onlya", o.op, o.in), "onlya", "swf:ListDomains", domainARN("*"))
			continue
		}
		if o.op == "RegisterDomain" {
			// The domain to be is a-new, not a.
			iamDenied(t, "RegisterDomain a-new", iamCall(t, srv.URL, "onlya", o.op, o.in), "onlya", "swf:RegisterDomain", domainARN("a-new"))
			continue
		}
		iamNotDenied(t, o.op+" on a", iamCall(t, srv.URL, "onlya", o.op, o.in))
	}
}

// iamKeyValues are, for each condition key SWF defines (in each of its
// spellings) and the tag keys of the tagging operations, a value that the principal "keyed" is denied: a call or
// decision that carries it under that key, and only there, is refused.
var iamKeyValues = map[string]string{
	"swf:workflowType.name":    "dWTN",
	"swf:workflowType.version": "dWTV",
	"swf:workflowTypeVersion":  "dWTVALT",
	"swf:activityType.name":    "dATN",
	"swf:activityType.version": "dATV",
	"swf:taskList.name":        "dTL",
	"swf:name":                 "dNAME",
	"swf:version":              "dVER",
	"swf:defaultTaskList.name": "dDTL",
	"swf:tagFilter.tag":        "dTF",
	"swf:typeFilter.name":      "dTYN",
	"swf:typeFilter.version":   "dTYV",
	"swf:tagList.member.0":     "dTAG0",
	"swf:tagList.member.1":     "dTAG1",
	"swf:tagList.member.2":     "dTAG2",
	"swf:tagList.member.3":     "dTAG3",
	"swf:tagList.member.4":     "dTAG4",
	"swf:tagList.0":            "dALT0",
	"swf:tagList.1":            "dALT1",
	"swf:tagList.2":            "dALT2",
	"swf:tagList.3":            "dALT3",
	"swf:tagList.4":            "dALT4",
	"aws:TagKeys":              "dTK",
	"aws:RequestTag/dRT":       "dRTV",
}

// iamKeyedServer starts a server whose principal "keyed" is allowed
// everything but, through one Deny statement per condition key, any call
// or decision whose key holds that key's value in iamKeyValues; and sets
// up domain a, with order/1, charge/1 and their version 2, whose default
// task list is the denied one.
func iamKeyedServer(t *testing.T) *swfdtest.Server {
	t.Helper()
	keyed := []map[string]any{{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}}
	for k, v := range iamKeyValues {
		keyed = append(keyed, map[string]any{"Effect": "Deny", "Action": "swf:*", "Resource": "*",
			"Condition": map[string]any{"StringEquals": map[string]any{k: v}}})
	}
	path := iamAuthFile(t, map[string][]map[string]any{
		"operator": {{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}},
		"keyed":    keyed,
	})
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 200 * time.Millisecond, Config: func(c *server.Config) { c.AuthFile = path }})
	iamSetup(t, srv.URL, "operator", "a")
	iamMust(t, srv.URL, "operator", "RegisterWorkflowType", map[string]any{"domain": "a", "name": "order", "version": "2",
		"defaultTaskList": map[string]any{"name": "dTL"}, "defaultExecutionStartToCloseTimeout": "3600",
		"defaultTaskStartToCloseTimeout": "30", "defaultChildPolicy": "TERMINATE"}, nil)
	iamMust(t, srv.URL, "operator", "RegisterActivityType", map[string]any{"domain": "a", "name": "charge", "version": "2",
		"defaultTaskList": map[string]any{"name": "dTL"}}, nil)
	return srv
}

// Each API operation carries the condition keys SWF defines for it, with
// the values of its input, and no other: a Deny on a key's value refuses
// the call that carries that value in that member, and a value resolved
// from a type's default (StartWorkflowExecution's task list) counts as
// present. The tagging operations carry aws:TagKeys, and RegisterDomain
// and TagResource aws:RequestTag/KEY.
func TestIAMConditionKeysOfOperations(t *testing.T) {
	srv := iamKeyedServer(t)
	wt := func(name, version string) map[string]any { return map[string]any{"name": name, "version": version} }
	since := map[string]any{"oldestDate": 0}
	list := func(name string) map[string]any { return map[string]any{"name": name} }
	type call struct {
		op  string
		in  map[string]any
		key string // the key whose value the call carries; "" for a call allowed
	}
	calls := []call{
		{"StartWorkflowExecution", map[string]any{"domain": "a", "workflowId": "s0", "workflowType": wt("order", "1")}, ""},
		{"StartWorkflowExecution", map[string]any{"domain": "a", "workflowId": "s1", "workflowType": wt("dWTN", "1")}, "swf:workflowType.name"},
		{"StartWorkflowExecution", map[string]any{"domain": "a", "workflowId": "s2", "workflowType": wt("order", "dWTV")}, "swf:workflowType.version"},
		{"StartWorkflowExecution", map[string]any{"domain": "a", "workflowId": "s3", "workflowType": wt("order", "1"), "taskList": list("dTL")}, "swf:taskList.name"},
		{"StartWorkflowExecution", map[string]any{"domain": "a", "workflowId": "s4", "workflowType": wt("order", "2")}, "swf:taskList.name"},
		// Only ContinueAsNewWorkflowExecution has the other spelling of
		// the version key.
		{"StartWorkflowExecution", map[string]any{"domain": "a", "workflowId": "s5", "workflowType": wt("order", "dWTVALT")}, ""},
		{"StartWorkflowExecution", map[string]any{"domain": "a", "workflowId": "s6", "workflowType": wt("order", "1"), "tagList": []any{"dALT0"}}, ""},
		{"RegisterActivityType", map[string]any{"domain": "a", "name": "dNAME", "version": "1"}, "swf:name"},
		{"RegisterActivityType", map[string]any{"domain": "a", "name": "x", "version": "dVER"}, "swf:version"},
		{"RegisterActivityType", map[string]any{"domain": "a", "name": "x", "version": "1", "defaultTaskList": list("dDTL")}, "swf:defaultTaskList.name"},
		{"RegisterActivityType", map[string]any{"domain": "a", "name": "dATN", "version": "1"}, ""},
		{"RegisterWorkflowType", map[string]any{"domain": "a", "name": "dNAME", "version": "1"}, "swf:name"},
		{"RegisterWorkflowType", map[string]any{"domain": "a", "name": "x", "version": "dVER"}, "swf:version"},
		{"RegisterWorkflowType", map[string]any{"domain": "a", "name": "x", "version": "1", "defaultTaskList": list("dDTL")}, "swf:defaultTaskList.name"},
		{"RegisterWorkflowType", map[string]any{"domain": "a", "name": "dWTN", "version": "1"}, ""},
		{"ListOpenWorkflowExecutions", map[string]any{"domain": "a", "startTimeFilter": since}, ""},
		{"CountPendingDecisionTasks", map[string]any{"domain": "a", "taskList": list("deciders")}, ""},
		{"PollForActivityTask", map[string]any{"domain": "a", "taskList": list("nobody")}, ""},
	}
	tag := func(k, v string) []any {
		return []any{map[string]any{"key": "ok", "value": "ok"}, map[string]any{"key": k, "value": v}}
	}
	calls = append(calls,
		call{"RegisterDomain", map[string]any{"name": "n1", "workflowExecutionRetentionPeriodInDays": "1", "tags": tag("dTK", "v")}, "aws:TagKeys"},
		call{"RegisterDomain", map[string]any{"name": "n2", "workflowExecutionRetentionPeriodInDays": "1", "tags": tag("dRT", "dRTV")}, "aws:RequestTag/dRT"},
		call{"RegisterDomain", map[string]any{"name": "n3", "workflowExecutionRetentionPeriodInDays": "1", "tags": tag("dRT", "dTK")}, ""},
		call{"TagResource", map[string]any{"resourceArn": domainARN("a"), "tags": tag("dTK", "v")}, "aws:TagKeys"},
		call{"TagResource", map[string]any{"resourceArn": domainARN("a"), "tags": tag("dRT", "dRTV")}, "aws:RequestTag/dRT"},
		call{"TagResource", map[string]any{"resourceArn": domainARN("a"), "tags": tag("dRT", "dTK")}, ""},
		call{"UntagResource", map[string]any{"resourceArn": domainARN("a"), "tagKeys": []any{"ok", "dTK"}}, "aws:TagKeys"},
		call{"UntagResource", map[string]any{"resourceArn": domainARN("a"), "tagKeys": []any{"ok", "dRT"}}, ""},
	)
	for i := range 5 {
		tags := []any{"t0", "t1", "t2", "t3", "t4"}
		tags[i] = iamKeyValues[fmt.Sprintf("swf:tagList.member.%d", i)]
		calls = append(calls, call{"StartWorkflowExecution", map[string]any{"domain": "a", "workflowId": fmt.Sprintf("tag%d", i),
			"workflowType": wt("order", "1"), "tagList": tags}, fmt.Sprintf("swf:tagList.member.%d", i)})
	}
	for _, kind := range []string{"Activity", "Workflow"} {
		member, key := "activityType", "swf:activityType"
		if kind == "Workflow" {
			member, key = "workflowType", "swf:workflowType"
		}
		for _, verb := range []string{"Describe", "Deprecate", "Undeprecate", "Delete"} {
			op := verb + kind + "Type"
			calls = append(calls,
				call{op, map[string]any{"domain": "a", member: wt(iamKeyValues[key+".name"], "1")}, key + ".name"},
				call{op, map[string]any{"domain": "a", member: wt("x", iamKeyValues[key+".version"])}, key + ".version"},
				call{op, map[string]any{"domain": "a", member: wt("x", "dNAME")}, ""})
		}
	}
	for _, op := range []string{"ListOpenWorkflowExecutions", "ListClosedWorkflowExecutions", "CountOpenWorkflowExecutions", "CountClosedWorkflowExecutions"} {
		calls = append(calls,
			call{op, map[string]any{"domain": "a", "startTimeFilter": since, "tagFilter": map[string]any{"tag": "dTF"}}, "swf:tagFilter.tag"},
			call{op, map[string]any{"domain": "a", "startTimeFilter": since, "typeFilter": map[string]any{"name": "dTYN"}}, "swf:typeFilter.name"},
			call{op, map[string]any{"domain": "a", "startTimeFilter": since, "typeFilter": map[string]any{"name": "x", "version": "dTYV"}}, "swf:typeFilter.version"},
			call{op, map[string]any{"domain": "a", "startTimeFilter": since, "tagFilter": map[string]any{"tag": "dTAG0"}}, ""})
	}
	for _, op := range []string{"PollForDecisionTask", "PollForActivityTask", "CountPendingDecisionTasks", "CountPendingActivityTasks"} {
		calls = append(calls, call{op, map[string]any{"domain": "a", "taskList": list("dTL")}, "swf:taskList.name"})
	}
	for _, c := range calls {
		r := iamCall(t, srv.URL, "keyed", c.op, c.in)
		what := fmt.Sprintf("%s %v", c.op, c.in)
		if c.key == "" {
			iamNotDenied(t, what, r)
			continue
		}
		res := domainARN("a")
		if c.op == "RegisterDomain" {
			res = domainARN(c.in["name"].(string))
		}
		iamDenied(t, what+" ("+c.key+")", r, "keyed", "swf:"+c.op, res)
	}
}

// iamHistory returns the whole history of the execution.
func iamHistory(t *testing.T, url, domain, workflowID string) []map[string]any {
	t.Helper()
	var info struct {
		ExecutionInfos []struct {
			Execution map[string]any `json:"execution"`
		} `json:"executionInfos"`
	}
	iamMust(t, url, "operator", "ListOpenWorkflowExecutions", map[string]any{"domain": domain, "startTimeFilter": map[string]any{"oldestDate": 0},
		"executionFilter": map[string]any{"workflowId": workflowID}}, &info)
	if len(info.ExecutionInfos) != 1 {
		t.Fatalf("open executions %s: %d", workflowID, len(info.ExecutionInfos))
	}
	var h struct {
		Events []map[string]any `json:"events"`
	}
	iamMust(t, url, "operator", "GetWorkflowExecutionHistory", map[string]any{"domain": domain, "execution": info.ExecutionInfos[0].Execution}, &h)
	return h.Events
}

// iamDecide polls the decision task of workflowID on "deciders" in
// domain as principal and answers it with decisions; it returns how many events the history
// had then (up to DecisionTaskStarted).
func iamDecide(t *testing.T, url, principal, domain, workflowID string, decisions []any) int {
	t.Helper()
	for range 20 {
		var task struct {
			TaskToken         string         `json:"taskToken"`
			WorkflowExecution map[string]any `json:"workflowExecution"`
			Events            []any          `json:"events"`
		}
		iamMust(t, url, principal, "PollForDecisionTask", map[string]any{"domain": domain, "taskList": map[string]any{"name": "deciders"}, "maximumPageSize": 1000}, &task)
		if task.TaskToken == "" {
			continue
		}
		if task.WorkflowExecution["workflowId"] != workflowID {
			t.Fatalf("decision task of %v", task.WorkflowExecution)
		}
		iamMust(t, url, principal, "RespondDecisionTaskCompleted", map[string]any{"taskToken": task.TaskToken, "decisions": decisions}, nil)
		return len(task.Events)
	}
	t.Fatal("no decision task")
	return 0
}

// Each decision of RespondDecisionTaskCompleted is authorized as
// swf:<DecisionType> with the condition keys SWF defines for it, the
// values resolved from a type's default counting as present. A decision
// refused does not fail the call: its *Failed event is recorded with
// cause OPERATION_NOT_PERMITTED, the batch's other decisions apply, and
// a new decision task follows.
func TestIAMConditionKeysOfDecisions(t *testing.T) {
	srv := iamKeyedServer(t)
	iamMust(t, srv.URL, "operator", "StartWorkflowExecution", map[string]any{"domain": "a", "workflowId": "wd",
		"workflowType": map[string]any{"name": "order", "version": "1"}}, nil)
	type want struct {
		id, key string // activityId or child workflowId; "" key: applied
	}
	var wants []want
	var batch []any
	schedule := func(id, key string, name, version string, list any) {
		a := map[string]any{"activityId": id, "activityType": map[string]any{"name": name, "version": version}}
		if list != nil {
			a["taskList"] = map[string]any{"name": list}
		}
		batch = append(batch, map[string]any{"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": a})
		wants = append(wants, want{id, key})
	}
	child := func(id, key string, name, version string, list any, tags []any) {
		a := map[string]any{"workflowId": id, "workflowType": map[string]any{"name": name, "version": version}}
		if list != nil {
			a["taskList"] = map[string]any{"name": list}
		}
		if tags != nil {
			a["tagList"] = tags
		}
		batch = append(batch, map[string]any{"decisionType": "StartChildWorkflowExecution", "startChildWorkflowExecutionDecisionAttributes": a})
		wants = append(wants, want{id, key})
	}
	schedule("ok", "", "charge", "1", nil)
	schedule("atn", "swf:activityType.name", "dATN", "1", nil)
	schedule("atv", "swf:activityType.version", "charge", "dATV", nil)
	schedule("tl", "swf:taskList.name", "charge", "1", "dTL")
	schedule("default-tl", "swf:taskList.name", "charge", "2", nil)
	schedule("wtn", "", "dWTN", "1", nil) // not a key of this decision: the type is unknown
	child("kid", "", "order", "1", "kids", []any{"dTF"})
	child("kid-wtn", "swf:workflowType.name", "dWTN", "1", "kids", nil)
	child("kid-wtv", "swf:workflowType.version", "order", "dWTV", "kids", nil)
	child("kid-tl", "swf:taskList.name", "order", "1", "dTL", nil)
	child("kid-default-tl", "swf:taskList.name", "order", "2", nil, nil)
	for i := range 5 {
		tags := []any{"t0", "t1", "t2", "t3", "t4"}
		tags[i] = iamKeyValues[fmt.Sprintf("swf:tagList.member.%d", i)]
		child(fmt.Sprintf("kid-tag%d", i), fmt.Sprintf("swf:tagList.member.%d", i), "order", "1", "kids", tags)
		tags[i] = iamKeyValues[fmt.Sprintf("swf:tagList.%d", i)]
		child(fmt.Sprintf("kid-alt%d", i), fmt.Sprintf("swf:tagList.%d", i), "order", "1", "kids", tags)
	}
	before := iamDecide(t, srv.URL, "keyed", "a", "wd", batch)
	events := iamHistory(t, srv.URL, "a", "wd")[before+1:] // past DecisionTaskCompleted
	if len(events) < len(wants) {
		t.Fatalf("%d events after the batch, want at least %d", len(events), len(wants))
	}
	for i, w := range wants {
		e := events[i]
		typ := e["eventType"].(string)
		var attrs map[string]any
		for k, v := range e {
			if strings.HasSuffix(k, "EventAttributes") {
				attrs = v.(map[string]any)
			}
		}
		id := attrs["activityId"]
		if id == nil {
			id = attrs["workflowId"]
		}
		if id != w.id {
			t.Fatalf("event %d is %s of %v, want one of %s", i, typ, id, w.id)
		}
		switch {
		case w.key == "" && typ != "ActivityTaskScheduled" && typ != "StartChildWorkflowExecutionInitiated" && attrs["cause"] == "OPERATION_NOT_PERMITTED":
			t.Errorf("%s: refused (%s %v)", w.id, typ, attrs)
		case w.key != "" && attrs["cause"] != "OPERATION_NOT_PERMITTED":
			t.Errorf("%s (%s): %s %v, want its failure with cause OPERATION_NOT_PERMITTED", w.id, w.key, typ, attrs)
		}
	}
	if len(events) == len(wants) || events[len(wants)]["eventType"] != "DecisionTaskScheduled" {
		t.Errorf("after the batch: %v, want DecisionTaskScheduled", events[len(wants):])
	}

	// ContinueAsNewWorkflowExecution closes the run: one decision a task.
	continues := []struct {
		key   string
		attrs map[string]any
	}{
		{"swf:workflowType.version", map[string]any{"workflowTypeVersion": "dWTV"}},
		{"swf:workflowTypeVersion", map[string]any{"workflowTypeVersion": "dWTVALT"}},
		{"swf:taskList.name", map[string]any{"taskList": map[string]any{"name": "dTL"}}},
		{"swf:taskList.name", map[string]any{"workflowTypeVersion": "2"}},
	}
	for i := range 5 {
		tags := []any{"t0", "t1", "t2", "t3", "t4"}
		tags[i] = iamKeyValues[fmt.Sprintf("swf:tagList.member.%d", i)]
		continues = append(continues, struct {
			key   string
			attrs map[string]any
		}{fmt.Sprintf("swf:tagList.member.%d", i), map[string]any{"tagList": tags}})
	}
	for _, c := range continues {
		before := iamDecide(t, srv.URL, "keyed", "a", "wd", []any{map[string]any{"decisionType": "ContinueAsNewWorkflowExecution",
			"continueAsNewWorkflowExecutionDecisionAttributes": c.attrs}})
		// The decision's failure follows its DecisionTaskCompleted
		// (a child's start may come between the task's start and it);
		// the next poll finds the decision task that follows.
		var failure map[string]any
		for _, e := range iamHistory(t, srv.URL, "a", "wd")[before:] {
			if e["eventType"] == "ContinueAsNewWorkflowExecutionFailed" {
				failure = e["continueAsNewWorkflowExecutionFailedEventAttributes"].(map[string]any)
			}
		}
		if failure == nil || failure["cause"] != "OPERATION_NOT_PERMITTED" {
			t.Errorf("continue as new (%s) %v: failure %v", c.key, c.attrs, failure)
		}
	}
	// Allowed, it continues the run.
	iamDecide(t, srv.URL, "keyed", "a", "wd", []any{map[string]any{"decisionType": "ContinueAsNewWorkflowExecution",
		"continueAsNewWorkflowExecutionDecisionAttributes": map[string]any{"tagList": []any{"dTF"}}}})
	if h := iamHistory(t, srv.URL, "a", "wd"); h[0]["eventType"] != "WorkflowExecutionStarted" || len(h) != 2 {
		t.Errorf("the continued run: %v", h)
	}
}

// iamThrottled checks that a call was refused as SWF refuses a call whose
// bucket is empty: ThrottlingException, HTTP 400, "Rate exceeded".
func iamThrottled(t *testing.T, what string, r iamReply) {
	t.Helper()
	if r.Status != 400 || !strings.HasPrefix(r.Type, "ThrottlingException") || r.code() != "ThrottlingException" ||
		!strings.Contains(r.Body, `"__type":"com.amazon.coral.availability#ThrottlingException"`) || r.message() != "Rate exceeded" {
		t.Fatalf("%s: got %d %s %s, want 400 ThrottlingException", what, r.Status, r.Type, r.Body)
	}
}

// With --quotas aws each operation has the real service's bucket for the
// whole account, shared by every principal and apart from every other
// operation's: ListDomains takes a burst of 100 calls, then 6 a second,
// and never holds more than 100 however long it rests. An operation that
// SWF also limits per execution (GetWorkflowExecutionHistory, 400 at
// once) limits each execution apart, within the account's bucket.
// Signed calls through the HTTP API on a manual clock.
func TestIAMThrottlingBucketShapes(t *testing.T) {
	path := iamAuthFile(t, map[string][]map[string]any{
		"operator": {{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}},
		"other":    {{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}},
	})
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 200 * time.Millisecond, Config: func(c *server.Config) {
		c.AuthFile = path
		c.Quotas = server.QuotasAWS
		c.ClockMode = clock.Manual
		c.ClockUnsafe = true
	}})
	ctx := context.Background()
	advance := func(d time.Duration) {
		t.Helper()
		if _, err := srv.Server.Clock.Advance(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	list := map[string]any{"registrationStatus": "REGISTERED"}
	burst := func(who string, n int) {
		t.Helper()
		for i := range n {
			if r := iamCall(t, srv.URL, who, "ListDomains", list); r.Status != 200 {
				t.Fatalf("ListDomains %d of %d by %s: %d %s", i+1, n, who, r.Status, r.Body)
			}
		}
	}
	burst("operator", 60)
	burst("other", 40)
	iamThrottled(t, "the 101st ListDomains", iamCall(t, srv.URL, "operator", "ListDomains", list))
	iamThrottled(t, "the 101st ListDomains, by another principal", iamCall(t, srv.URL, "other", "ListDomains", list))
	// Other operations have buckets of their own.
	iamSetup(t, srv.URL, "other", "a")
	iamMust(t, srv.URL, "operator", "DescribeDomain", map[string]any{"name": "a"}, nil)
	advance(time.Second)
	burst("other", 6)
	iamThrottled(t, "the 7th ListDomains a second later", iamCall(t, srv.URL, "operator", "ListDomains", list))
	advance(time.Minute) // 360 tokens earned, 100 kept
	burst("operator", 100)
	iamThrottled(t, "the 101st ListDomains after a rest", iamCall(t, srv.URL, "operator", "ListDomains", list))

	runs := map[string]any{}
	for _, w := range []string{"w1", "w2"} {
		var out struct {
			RunID string `json:"runId"`
		}
		iamMust(t, srv.URL, "operator", "StartWorkflowExecution", map[string]any{"domain": "a", "workflowId": w,
			"workflowType": map[string]any{"name": "order", "version": "1"}}, &out)
		runs[w] = map[string]any{"workflowId": w, "runId": out.RunID}
	}
	history := func(w string) iamReply {
		return iamCall(t, srv.URL, "operator", "GetWorkflowExecutionHistory", map[string]any{"domain": "a", "execution": runs[w]})
	}
	for i := range 400 {
		if r := history("w1"); r.Status != 200 {
			t.Fatalf("history %d of w1: %d %s", i+1, r.Status, r.Body)
		}
	}
	iamThrottled(t, "the 401st history of w1", history("w1"))
	if r := history("w2"); r.Status != 200 {
		t.Fatalf("history of w2: %d %s", r.Status, r.Body)
	}
}

// Decisions are denied by default, as calls are: a decider allowed only
// to poll and answer decision tasks has each of its decisions refused,
// every one with its *Failed event and cause OPERATION_NOT_PERMITTED,
// while RespondDecisionTaskCompleted itself succeeds and a new decision
// task follows; the run stays open.
func TestIAMDecisionsDeniedByDefault(t *testing.T) {
	path := iamAuthFile(t, map[string][]map[string]any{
		"operator": {{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}},
		"bare": {{"Effect": "Allow", "Action": []string{"swf:PollForDecisionTask", "swf:RespondDecisionTaskCompleted"},
			"Resource": domainARN("a")}},
	})
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 200 * time.Millisecond, Config: func(c *server.Config) { c.AuthFile = path }})
	iamSetup(t, srv.URL, "operator", "a")
	iamMust(t, srv.URL, "operator", "StartWorkflowExecution", map[string]any{"domain": "a", "workflowId": "w",
		"workflowType": map[string]any{"name": "order", "version": "1"}}, nil)
	decision := func(typ string, attrs map[string]any) map[string]any {
		return map[string]any{"decisionType": typ, strings.ToLower(typ[:1]) + typ[1:] + "DecisionAttributes": attrs}
	}
	batch := []any{
		decision("ScheduleActivityTask", map[string]any{"activityId": "a1", "activityType": map[string]any{"name": "charge", "version": "1"}}),
		decision("RequestCancelActivityTask", map[string]any{"activityId": "a1"}),
		decision("RecordMarker", map[string]any{"markerName": "m"}),
		decision("StartTimer", map[string]any{"timerId": "t1", "startToFireTimeout": "60"}),
		decision("CancelTimer", map[string]any{"timerId": "t1"}),
		decision("SignalExternalWorkflowExecution", map[string]any{"workflowId": "w", "signalName": "s"}),
		decision("RequestCancelExternalWorkflowExecution", map[string]any{"workflowId": "w"}),
		decision("StartChildWorkflowExecution", map[string]any{"workflowId": "kid", "workflowType": map[string]any{"name": "order", "version": "1"}}),
	}
	closing := []any{
		decision("CompleteWorkflowExecution", map[string]any{}),
		decision("FailWorkflowExecution", map[string]any{}),
		decision("CancelWorkflowExecution", map[string]any{}),
		decision("ContinueAsNewWorkflowExecution", map[string]any{}),
	}
	failures := map[string]bool{}
	check := func(before int, want int) {
		t.Helper()
		events := iamHistory(t, srv.URL, "a", "w")[before+1:]
		if len(events) != want+1 || events[want]["eventType"] != "DecisionTaskScheduled" {
			t.Fatalf("after the decisions: %v, want %d failures and DecisionTaskScheduled", events, want)
		}
		for _, e := range events[:want] {
			typ := e["eventType"].(string)
			attrs, _ := e[strings.ToLower(typ[:1])+typ[1:]+"EventAttributes"].(map[string]any)
			if !strings.HasSuffix(typ, "Failed") || attrs["cause"] != "OPERATION_NOT_PERMITTED" {
				t.Errorf("%s %v, want a failure with cause OPERATION_NOT_PERMITTED", typ, attrs)
			}
			failures[typ] = true
		}
	}
	check(iamDecide(t, srv.URL, "bare", "a", "w", batch), len(batch))
	for _, d := range closing {
		check(iamDecide(t, srv.URL, "bare", "a", "w", []any{d}), 1)
	}
	if len(failures) != len(batch)+len(closing) {
		t.Errorf("failure events %v, want one of each of the %d decisions", failures, len(batch)+len(closing))
	}
}

// Tag-based policies: aws:ResourceTag/KEY holds the value of the tag KEY
// of the domain a call or decision acts on (SWF's documented example:
// deny everything on domains tagged environment=production). A domain
// without the tag leaves the key absent; RegisterDomain (the domain is
// not there yet) and ListDomains (every domain) have no resource tags. A
// tag changed takes effect at the next call.
func TestIAMResourceTags(t *testing.T) {
	path := iamAuthFile(t, map[string][]map[string]any{
		"operator": {{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}},
		"dev": {
			{"Effect": "Allow", "Action": "swf:*", "Resource": "*"},
			{"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/*",
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/environment": "production"}}},
		},
		"team": {
			{"Effect": "Allow", "Action": "swf:*", "Resource": "*",
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/team": "${aws:username}"}}},
			{"Effect": "Allow", "Action": []string{"swf:ListDomains", "swf:RegisterDomain"}, "Resource": "*"},
		},
		"marker": {
			{"Effect": "Allow", "Action": []string{"swf:PollForDecisionTask", "swf:RespondDecisionTaskCompleted"}, "Resource": "*"},
			{"Effect": "Allow", "Action": "swf:RecordMarker", "Resource": "*",
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/environment": "test"}}},
		},
	})
	srv := swfdtest.Start(t, swfdtest.Options{PollTimeout: 200 * time.Millisecond, Config: func(c *server.Config) { c.AuthFile = path }})
	iamSetup(t, srv.URL, "operator", "prod", "test")
	tag := func(domain, k, v string) {
		iamMust(t, srv.URL, "operator", "TagResource", map[string]any{"resourceArn": domainARN(domain),
			"tags": []any{map[string]any{"key": k, "value": v}}}, nil)
	}
	tag("prod", "environment", "production")
	tag("prod", "team", "team")
	tag("test", "environment", "test")

	describe := func(who, domain string) iamReply {
		return iamCall(t, srv.URL, who, "DescribeDomain", map[string]any{"name": domain})
	}
	iamDenied(t, "dev on prod", describe("dev", "prod"), "dev", "swf:DescribeDomain", domainARN("prod"))
	iamNotDenied(t, "dev on test", describe("dev", "test"))
	iamNotDenied(t, "dev lists domains", iamCall(t, srv.URL, "dev", "ListDomains", map[string]any{"registrationStatus": "REGISTERED"}))
	iamNotDenied(t, "team on prod", describe("team", "prod"))
	iamDenied(t, "team on test (no team tag)", describe("team", "test"), "team", "swf:DescribeDomain", domainARN("test"))
	iamNotDenied(t, "dev on a domain that does not exist (no tags: the service answers)", describe("dev", "nowhere"))
	iamDenied(t, "team on a domain that does not exist (no team tag)", describe("team", "nowhere"), "team", "swf:DescribeDomain", domainARN("nowhere"))
	// A tagging call's resource is the domain its ARN names.
	iamDenied(t, "dev tags prod", iamCall(t, srv.URL, "dev", "TagResource", map[string]any{"resourceArn": domainARN("prod"),
		"tags": []any{map[string]any{"key": "environment", "value": "test"}}}), "dev", "swf:TagResource", domainARN("prod"))
	// A task token's domain is the task's.
	dec, act := iamTasks(t, srv.URL, "operator", "prod", "w")
	iamDenied(t, "dev heartbeats in prod", iamCall(t, srv.URL, "dev", "RecordActivityTaskHeartbeat", map[string]any{"taskToken": act}),
		"dev", "swf:RecordActivityTaskHeartbeat", domainARN("prod"))
	iamNotDenied(t, "team heartbeats in prod", iamCall(t, srv.URL, "team", "RecordActivityTaskHeartbeat", map[string]any{"taskToken": act}))

	// Decisions are judged with the tags of the run's domain: team may
	// decide in prod, and its decisions apply, until prod is no longer
	// its team's.
	iamMust(t, srv.URL, "team", "RespondDecisionTaskCompleted", map[string]any{"taskToken": dec, "decisions": []any{
		map[string]any{"decisionType": "RecordMarker", "recordMarkerDecisionAttributes": map[string]any{"markerName": "m"}}}}, nil)
	events := iamHistory(t, srv.URL, "prod", "w")
	if typ := events[len(events)-1]["eventType"]; typ != "MarkerRecorded" {
		t.Errorf("team's decision in prod: %v", events[len(events)-1])
	}
	// marker may make markers only in domains tagged environment=test.
	iamMust(t, srv.URL, "operator", "RespondActivityTaskCompleted", map[string]any{"taskToken": act}, nil)
	before := iamDecide(t, srv.URL, "marker", "prod", "w", []any{
		map[string]any{"decisionType": "RecordMarker", "recordMarkerDecisionAttributes": map[string]any{"markerName": "m2"}}})
	events = iamHistory(t, srv.URL, "prod", "w")[before+1:]
	if f, _ := events[0]["recordMarkerFailedEventAttributes"].(map[string]any); f == nil || f["cause"] != "OPERATION_NOT_PERMITTED" {
		t.Errorf("marker's decision in prod: %v", events[0])
	}

	tag("prod", "team", "other")
	iamDenied(t, "team on prod, retagged", describe("team", "prod"), "team", "swf:DescribeDomain", domainARN("prod"))
	tag("test", "environment", "production")
	iamDenied(t, "dev on test, retagged", describe("dev", "test"), "dev", "swf:DescribeDomain", domainARN("test"))
}
