package auth

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything at all", true},
		{"a", "a", true},
		{"a", "A", false},
		{"?", "", false},
		{"?", "x", true},
		{"?", "é", true}, // one character, two bytes
		{"??", "é", false},
		{"a*c", "abc", true},
		{"a*c", "ac", true},
		{"a*c", "abcd", false},
		{"a*c*", "abcd", true},
		{"*c", "abcabc", true},
		{"a?c", "abc", true},
		{"a?c", "abbc", false},
		{"swf:Start*", "swf:StartWorkflowExecution", true},
		{"swf:*Execution", "swf:StartWorkflowExecution", true},
		{"swf:*Execution", "swf:StartWorkflowExecutionX", false},
		{"arn:aws:swf:*:123456789012:/domain/*", "arn:aws:swf:us-east-1:123456789012:/domain/a", true},
		{"arn:aws:swf:*:123456789012:/domain/team-?", "arn:aws:swf:us-east-1:123456789012:/domain/team-1", true},
		{"arn:aws:swf:*:123456789012:/domain/team-?", "arn:aws:swf:us-east-1:123456789012:/domain/team-12", false},
		{"**a**", "bab", true},
		{"*a*b*c*", "xaxbxcx", true},
		{"*a*b*c*", "xaxcxbx", false},
	}
	for _, c := range cases {
		if got := Match(c.p, c.s); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.p, c.s, got, c.want)
		}
	}
}

func TestParsePolicyErrors(t *testing.T) {
	cases := []struct {
		name, doc, err string
	}{
		{"not json", `{`, "not a JSON object"},
		{"array", `[]`, "not a JSON object"},
		{"trailing", `{"Statement": []} {}`, "trailing"},
		{"no statement", `{"Version": "2012-10-17"}`, "no Statement"},
		{"bad version", `{"Version": "2020-01-01", "Statement": []}`, "Version"},
		{"unknown element", `{"Statment": []}`, `unknown policy element "Statment"`},
		{"no effect", `{"Statement": {"Action": "swf:*", "Resource": "*"}}`, "missing Effect"},
		{"bad effect", `{"Statement": {"Effect": "allow", "Action": "swf:*", "Resource": "*"}}`, "Effect must be"},
		{"no action", `{"Statement": {"Effect": "Allow", "Resource": "*"}}`, "Action and NotAction"},
		{"both actions", `{"Statement": {"Effect": "Allow", "Action": "swf:*", "NotAction": "swf:X", "Resource": "*"}}`, "Action and NotAction"},
		{"no resource", `{"Statement": {"Effect": "Allow", "Action": "swf:*"}}`, "Resource and NotResource"},
		{"both resources", `{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*", "NotResource": "x"}}`, "Resource and NotResource"},
		{"empty action list", `{"Statement": {"Effect": "Allow", "Action": [], "Resource": "*"}}`, "non-empty array"},
		{"action not string", `{"Statement": {"Effect": "Allow", "Action": 3, "Resource": "*"}}`, "Action must be"},
		{"action without service", `{"Statement": {"Effect": "Allow", "Action": "StartWorkflowExecution", "Resource": "*"}}`, "service:Action"},
		{"principal", `{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "swf:*", "Resource": "*"}}`, "Principal is not allowed"},
		{"unknown statement element", `{"Statement": {"Sid": "x", "Effect": "Allow", "Action": "swf:*", "Resource": "*", "Conditions": {}}}`, `Sid "x"`},
		{"unknown operator", `{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"NumericEquals": {"swf:name": "1"}}}}`, "not supported"},
		{"unknown qualifier", `{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"ForSomeValues:StringEquals": {"swf:name": "1"}}}}`, "unknown qualifier"},
		{"bad condition value", `{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"swf:name": {"b": 1}}}}}`, "condition value"},
		{"empty condition list", `{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"swf:name": []}}}}`, "condition value"},
		{"bad null", `{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"Null": {"swf:name": "maybe"}}}}`, "true or false"},
		{"condition not object", `{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": "x"}}`, "Condition must be"},
		// A swf: key SWF does not have would be missing from every call:
		// a Deny on it would never apply, and an Allow with a negated
		// operator or ForAllValues on it would always apply.
		// A resource that is not an ARN names nothing a call acts on: a
		// Deny on it would never apply, an Allow's NotResource naming it
		// would allow everything.
		{"resource not an ARN", `{"Statement": {"Effect": "Deny", "Action": "swf:*", "Resource": "orders"}}`, `Resource "orders" must be an ARN or "*"`},
		{"resource in a list not an ARN", `{"Statement": {"Effect": "Deny", "Action": "swf:*", "Resource": ["arn:aws:swf:*:123456789012:/domain/a", "domain/orders"]}}`, `Resource "domain/orders" must be an ARN or "*"`},
		{"not-resource not an ARN", `{"Statement": {"Effect": "Allow", "Action": "swf:*", "NotResource": "orders"}}`, `NotResource "orders" must be an ARN or "*"`},
		{"resource too short for an ARN", `{"Statement": {"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:us-east-1:orders"}}`, `must be an ARN`},
		{"resource a variable alone", `{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "swf:*", "Resource": "${aws:username}"}}`, `must be an ARN`},
		// A key without a service prefix is in no call: a Deny on it
		// would never apply.
		{"key without a prefix", `{"Statement": {"Effect": "Deny", "Action": "swf:PollForActivityTask", "Resource": "*", "Condition": {"StringEquals": {"taskList.name": "admin"}}}}`,
			"condition StringEquals taskList.name: a condition key names its service (swf:taskList.name, aws:username); taskList.name names none and would find it missing in every call; write swf:taskList.name"},
		{"key without a prefix, no hint", `{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringNotEquals": {"username": "bob"}}}}`, "username names none and would find it missing in every call"},
		{"unknown swf key", `{"Statement": {"Effect": "Allow", "Action": "swf:PollForActivityTask", "Resource": "*", "Condition": {"StringNotEquals": {"swf:taskList": "admin"}}}}`, "SWF has no condition key swf:taskList"},
		{"unknown swf key in a deny", `{"Statement": {"Effect": "Deny", "Action": "swf:RequestCancelWorkflowExecution", "Resource": "*", "Condition": {"StringEquals": {"swf:workflowId": "w1"}}}}`, "SWF has no condition key swf:workflowId"},
		{"tag key past the fifth tag", `{"Statement": {"Effect": "Deny", "Action": "swf:StartWorkflowExecution", "Resource": "*", "Condition": {"StringEquals": {"swf:tagList.member.5": "x"}}}}`, "SWF has no condition key swf:tagList.member.5"},
		// An swf: action SWF does not have matches no call: a Deny on
		// it would never apply, and an Allow's NotAction naming it would
		// allow the very call it was meant to leave out.
		{"unknown swf action", `{"Statement": {"Effect": "Allow", "NotAction": "swf:TerminateWorkflowExecutions", "Resource": "*"}}`, `NotAction "swf:TerminateWorkflowExecutions" names no SWF action`},
		// So for swfd's own actions: a Deny on a misspelled one would
		// never apply.
		{"unknown swfd action", `{"Statement": {"Effect": "Deny", "Action": "swfd:AdvanceClocks", "Resource": "*"}}`, `Action "swfd:AdvanceClocks" names no action of swfd's (swfd:AdvanceClock, swfd:Reset)`},
		{"unknown swfd action in NotAction", `{"Statement": {"Effect": "Allow", "NotAction": ["swfd:ResetDev", "swf:*"], "Resource": "*"}}`, `NotAction "swfd:ResetDev" names no action of swfd's`},
		{"unknown swf action pattern", `{"Statement": {"Effect": "Deny", "Action": ["swf:List*", "swf:Delete*Domain"], "Resource": "*"}}`, `Action "swf:Delete*Domain" names no SWF action`},
		// A member given twice in one object: decoding would keep the
		// last and drop the first without a word.
		{"operator twice", `{"Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"swf:taskList.name": "a"}, "StringEquals": {"swf:workflowType.name": "b"}}}]}`, `Statement[1].Condition gives the member "StringEquals" twice`},
		{"key twice", `{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"swf:taskList.name": "a", "swf:taskList.name": "b"}}}}`, `Statement.Condition.StringEquals gives the member "swf:taskList.name" twice`},
		{"effect twice", `{"Statement": {"Effect": "Deny", "Effect": "Allow", "Action": "swf:*", "Resource": "*"}}`, `Statement gives the member "Effect" twice`},
		{"statement twice", `{"Statement": [{"Effect": "Deny", "Action": "swf:*", "Resource": "*"}], "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}`, `the document gives the member "Statement" twice`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err = %v, want one containing %q", err, c.err)
			}
		})
	}
}

func TestParsePolicyForms(t *testing.T) {
	// A single statement object, string or list values, Id, 2008 version,
	// numbers and booleans as condition values.
	p, err := ParsePolicy([]byte(`{"Version": "2008-10-17", "Id": "x", "Statement": {"Sid": "one", "Effect": "Deny",
		"NotAction": ["swf:SignalWorkflowExecution", "swf:TerminateWorkflowExecution"], "NotResource": "arn:aws:swf:*:123456789012:/domain/r",
		"Condition": {"StringEquals": {"swf:name": [1, true, "s"]}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	s := p.Statements[0]
	if p.ID != "x" || s.Sid != "one" || s.Effect != Deny || len(s.NotActions) != 2 || s.NotResources[0] != "arn:aws:swf:*:123456789012:/domain/r" ||
		strings.Join(s.Conditions[0].Values, ",") != "1,true,s" {
		t.Fatalf("%+v", p)
	}
}

// Resources in the forms IAM takes load: "*", ARNs with wildcards in
// any part, a "*" standing for several parts, the ARN form ListDomains'
// documentation gives, and another service's ARN (it names nothing of
// SWF's, as in IAM).
// swfd's own actions load, in any case and with wildcards.
func TestParsePolicySwfdActions(t *testing.T) {
	for _, a := range []string{"swfd:AdvanceClock", "swfd:Reset", "SWFD:reset", "swfd:*", "swfd:Advance*", "swfd:?eset"} {
		doc := `{"Statement": {"Effect": "Deny", "Action": "` + a + `", "Resource": "*"}}`
		if _, err := ParsePolicy([]byte(doc)); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
}

func TestParsePolicyResourceForms(t *testing.T) {
	for _, r := range []string{"*", "arn:aws:swf:*:123456789012:/domain/*", "arn:aws:swf::123456789012:domain/*",
		"arn:*:swf:*:*:*", "arn:aws:swf:*", "arn:*", "arn:aws:s3:::bucket", "arn:aws:swf:us-east-1:123456789012:/domain/${aws:username}"} {
		for _, elem := range []string{"Resource", "NotResource"} {
			doc := `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "swf:*", "` + elem + `": "` + r + `"}}`
			if _, err := ParsePolicy([]byte(doc)); err != nil {
				t.Errorf("%s %q: %v", elem, r, err)
			}
		}
	}
}

const acct = "123456789012"

func dom(name string) Resource { return DomainResource("us-east-1", acct, name) }

func keys(kv ...string) Keys {
	var k Keys
	for i := 0; i+1 < len(kv); i += 2 {
		k.Add(kv[i], kv[i+1])
	}
	return k
}

func TestEvaluate(t *testing.T) {
	type req struct {
		action string
		res    Resource
		keys   Keys
		want   Decision
	}
	cases := []struct {
		name     string
		policies []string
		reqs     []req
	}{
		{"default deny", []string{`{"Statement": []}`}, []req{
			{"swf:ListDomains", Resource{Region: "us-east-1", Account: acct, AllDomains: true}, Keys{}, ImplicitDeny},
		}},
		{"allow one action on one domain", []string{`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
			"Action": "swf:RequestCancelWorkflowExecution", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/a"}]}`}, []req{
			{"swf:RequestCancelWorkflowExecution", dom("a"), Keys{}, Allowed},
			{"swf:RequestCancelWorkflowExecution", dom("b"), Keys{}, ImplicitDeny},
			{"swf:TerminateWorkflowExecution", dom("a"), Keys{}, ImplicitDeny},
			{"swf:RequestCancelWorkflowExecution", DomainResource("us-west-2", acct, "a"), Keys{}, ImplicitDeny},
		}},
		{"actions are case-insensitive, resources are not", []string{`{"Statement": {"Effect": "Allow",
			"Action": "SWF:requestcancelworkflowexecution", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/A"}}`}, []req{
			{"swf:RequestCancelWorkflowExecution", dom("A"), Keys{}, Allowed},
			{"swf:RequestCancelWorkflowExecution", dom("a"), Keys{}, ImplicitDeny},
		}},
		{"ARN without the slash", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:*:123456789012:domain/a"}}`}, []req{
			{"swf:DescribeDomain", dom("a"), Keys{}, Allowed},
			{"swf:DescribeDomain", dom("ab"), Keys{}, ImplicitDeny},
		}},
		{"ListDomains resource forms", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:ListDomains", "Resource": "arn:aws:swf::123456789012:domain/*"}}`}, []req{
			{"swf:ListDomains", Resource{Region: "us-east-1", Account: acct, AllDomains: true}, Keys{}, Allowed},
		}},
		{"ListDomains needs every domain", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:ListDomains", "Resource": "arn:aws:swf:us-east-1:123456789012:/domain/a"}}`}, []req{
			{"swf:ListDomains", Resource{Region: "us-east-1", Account: acct, AllDomains: true}, Keys{}, ImplicitDeny},
		}},
		{"wildcards", []string{`{"Statement": [
			{"Effect": "Allow", "Action": ["swf:Describe*", "swf:List?penWorkflowExecutions"], "Resource": "arn:aws:swf:*:123456789012:/domain/team-*"}]}`}, []req{
			{"swf:DescribeDomain", dom("team-x"), Keys{}, Allowed},
			{"swf:DescribeWorkflowType", dom("team-"), Keys{}, Allowed},
			{"swf:ListOpenWorkflowExecutions", dom("team-x"), Keys{}, Allowed},
			{"swf:ListClosedWorkflowExecutions", dom("team-x"), Keys{}, ImplicitDeny},
			{"swf:DescribeDomain", dom("other"), Keys{}, ImplicitDeny},
		}},
		{"explicit deny wins", []string{
			`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*"}}`,
			`{"Statement": {"Effect": "Deny", "Action": "swf:Terminate*", "Resource": "arn:aws:swf:*:*:/domain/prod"}}`}, []req{
			{"swf:TerminateWorkflowExecution", dom("prod"), Keys{}, ExplicitDeny},
			{"swf:TerminateWorkflowExecution", dom("dev"), Keys{}, Allowed},
			{"swf:StartWorkflowExecution", dom("prod"), Keys{}, Allowed},
		}},
		{"NotAction", []string{`{"Statement": {"Effect": "Allow", "NotAction": ["swf:Delete*", "swf:Deprecate*"], "Resource": "*"}}`}, []req{
			{"swf:DeleteActivityType", dom("a"), Keys{}, ImplicitDeny},
			{"swf:DeprecateDomain", dom("a"), Keys{}, ImplicitDeny},
			{"swf:StartWorkflowExecution", dom("a"), Keys{}, Allowed},
		}},
		{"NotResource with Deny", []string{
			`{"Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"},
			{"Effect": "Deny", "Action": "swf:*", "NotResource": "arn:aws:swf:*:*:/domain/sandbox-*"}]}`}, []req{
			{"swf:StartWorkflowExecution", dom("sandbox-1"), Keys{}, Allowed},
			{"swf:StartWorkflowExecution", dom("prod"), Keys{}, ExplicitDeny},
		}},
		{"StringEquals and absent keys", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:PollForDecisionTask", "Resource": "*",
			"Condition": {"StringEquals": {"swf:taskList.name": ["a", "b"]}}}}`}, []req{
			{"swf:PollForDecisionTask", dom("d"), keys("swf:taskList.name", "a"), Allowed},
			{"swf:PollForDecisionTask", dom("d"), keys("swf:taskList.name", "b"), Allowed},
			{"swf:PollForDecisionTask", dom("d"), keys("swf:taskList.name", "c"), ImplicitDeny},
			{"swf:PollForDecisionTask", dom("d"), keys("swf:TASKLIST.NAME", "a"), Allowed}, // key names fold
			{"swf:PollForDecisionTask", dom("d"), keys("swf:taskList.name", "A"), ImplicitDeny},
			{"swf:PollForDecisionTask", dom("d"), Keys{}, ImplicitDeny},
		}},
		{"StringNotEquals holds when absent", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*",
			"Condition": {"StringNotEquals": {"swf:taskList.name": "secret"}}}}`}, []req{
			{"swf:PollForActivityTask", dom("d"), keys("swf:taskList.name", "open"), Allowed},
			{"swf:PollForActivityTask", dom("d"), keys("swf:taskList.name", "secret"), ImplicitDeny},
			{"swf:PollForActivityTask", dom("d"), Keys{}, Allowed},
		}},
		{"StringLike and StringNotLike", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:StartWorkflowExecution", "Resource": "*",
			"Condition": {"StringLike": {"swf:workflowType.name": "order-*"}, "StringNotLike": {"swf:workflowType.version": "0.?"}}}}`}, []req{
			{"swf:StartWorkflowExecution", dom("d"), keys("swf:workflowType.name", "order-x", "swf:workflowType.version", "1.0"), Allowed},
			{"swf:StartWorkflowExecution", dom("d"), keys("swf:workflowType.name", "order-x", "swf:workflowType.version", "0.9"), ImplicitDeny},
			{"swf:StartWorkflowExecution", dom("d"), keys("swf:workflowType.name", "refund", "swf:workflowType.version", "1.0"), ImplicitDeny},
		}},
		{"IgnoreCase", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*",
			"Condition": {"StringEqualsIgnoreCase": {"swf:name": "Order"}}}}`}, []req{
			{"swf:RegisterWorkflowType", dom("d"), keys("swf:name", "ORDER"), Allowed},
			{"swf:RegisterWorkflowType", dom("d"), keys("swf:name", "orders"), ImplicitDeny},
		}},
		{"IfExists", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*",
			"Condition": {"StringEqualsIfExists": {"swf:tagFilter.tag": "team-a"}, "StringNotLikeIfExists": {"swf:typeFilter.name": "secret*"}}}}`}, []req{
			{"swf:ListOpenWorkflowExecutions", dom("d"), Keys{}, Allowed},
			{"swf:ListOpenWorkflowExecutions", dom("d"), keys("swf:tagFilter.tag", "team-a"), Allowed},
			{"swf:ListOpenWorkflowExecutions", dom("d"), keys("swf:tagFilter.tag", "team-b"), ImplicitDeny},
			{"swf:ListOpenWorkflowExecutions", dom("d"), keys("swf:typeFilter.name", "secret-x"), ImplicitDeny},
			{"swf:ListOpenWorkflowExecutions", dom("d"), keys("swf:typeFilter.name", "public"), Allowed},
		}},
		{"conditions are ANDed across keys and operators", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*",
			"Condition": {"StringEquals": {"swf:name": "a", "swf:version": "1"}, "StringLike": {"swf:defaultTaskList.name": "l-*"}}}}`}, []req{
			{"swf:RegisterActivityType", dom("d"), keys("swf:name", "a", "swf:version", "1", "swf:defaultTaskList.name", "l-1"), Allowed},
			{"swf:RegisterActivityType", dom("d"), keys("swf:name", "a", "swf:version", "2", "swf:defaultTaskList.name", "l-1"), ImplicitDeny},
			{"swf:RegisterActivityType", dom("d"), keys("swf:name", "a", "swf:version", "1"), ImplicitDeny},
		}},
		{"ForAnyValue and ForAllValues", []string{
			`{"Statement": {"Effect": "Allow", "Action": "swf:TagResource", "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}}}`,
			`{"Statement": {"Effect": "Deny", "Action": "swf:TagResource", "Resource": "*", "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": "sys:*"}}}}`}, []req{
			{"swf:TagResource", dom("d"), keys("aws:TagKeys", "team", "aws:TagKeys", "env"), Allowed},
			{"swf:TagResource", dom("d"), keys("aws:TagKeys", "team", "aws:TagKeys", "owner"), ImplicitDeny},
			{"swf:TagResource", dom("d"), keys("aws:TagKeys", "team", "aws:TagKeys", "sys:x"), ExplicitDeny},
			{"swf:TagResource", dom("d"), Keys{}, Allowed}, // ForAllValues holds for no values; ForAnyValue does not
		}},
		{"negated set operators", []string{
			`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"ForAllValues:StringNotEquals": {"aws:TagKeys": "root"}}}}`,
			`{"Statement": {"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"ForAnyValue:StringNotLike": {"aws:TagKeys": "t-*"}}}}`}, []req{
			{"swf:TagResource", dom("d"), keys("aws:TagKeys", "t-1"), Allowed},
			{"swf:TagResource", dom("d"), keys("aws:TagKeys", "t-1", "aws:TagKeys", "x"), ExplicitDeny},
			{"swf:TagResource", dom("d"), keys("aws:TagKeys", "root"), ExplicitDeny},
		}},
		{"Null", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"Null": {"swf:tagFilter.tag": "false"}}}}`}, []req{
			{"swf:ListOpenWorkflowExecutions", dom("d"), keys("swf:tagFilter.tag", "x"), Allowed},
			{"swf:ListOpenWorkflowExecutions", dom("d"), Keys{}, ImplicitDeny},
		}},
		{"keys a request does not have cannot constrain it", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:RequestCancelWorkflowExecution", "Resource": "*",
			"Condition": {"StringEquals": {"swf:taskList.name": "w1"}}}}`}, []req{
			{"swf:RequestCancelWorkflowExecution", dom("d"), Keys{}, ImplicitDeny},
		}},
		{"decision pseudo-actions", []string{`{"Statement": [
			{"Effect": "Allow", "Action": ["swf:RespondDecisionTaskCompleted", "swf:ScheduleActivityTask", "swf:CompleteWorkflowExecution"], "Resource": "*"},
			{"Effect": "Deny", "Action": "swf:ScheduleActivityTask", "Resource": "*", "Condition": {"StringNotEquals": {"swf:taskList.name": "workers"}}}]}`}, []req{
			{"swf:ScheduleActivityTask", dom("d"), keys("swf:taskList.name", "workers"), Allowed},
			{"swf:ScheduleActivityTask", dom("d"), keys("swf:taskList.name", "other"), ExplicitDeny},
			{"swf:RequestCancelExternalWorkflowExecution", dom("d"), Keys{}, ImplicitDeny},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ps []*Policy
			for _, doc := range c.policies {
				p, err := ParsePolicy([]byte(doc))
				if err != nil {
					t.Fatalf("parse %s: %v", doc, err)
				}
				ps = append(ps, p)
			}
			pr := &Principal{Name: "p", Policies: ps}
			for _, r := range c.reqs {
				if got := pr.Evaluate("us-east-1", acct, r.action, r.res, r.keys); got != r.want {
					t.Errorf("%s on %s with %v: %v, want %v", r.action, r.res.ARN(), r.keys.m, got, r.want)
				}
			}
		})
	}
}

func TestNilPrincipalIsDenied(t *testing.T) {
	var p *Principal
	if p.Allowed("us-east-1", acct, "swf:ListDomains", dom("a"), Keys{}) {
		t.Fatal("nil principal allowed")
	}
}

func TestParseDomainARN(t *testing.T) {
	for _, c := range []struct {
		arn, domain string
		ok          bool
	}{
		{"arn:aws:swf:us-east-1:123456789012:/domain/a", "a", true},
		{"arn:aws:swf:us-east-1:123456789012:domain/a:b", "a:b", true},
		{"arn:aws:swf:us-east-1:123456789012:/domain/", "", false},
		{"arn:aws:sqs:us-east-1:123456789012:/domain/a", "", false},
		{"nonsense", "", false},
	} {
		_, _, d, ok := ParseDomainARN(c.arn)
		if d != c.domain || ok != c.ok {
			t.Errorf("%s: %q %v", c.arn, d, ok)
		}
	}
}
