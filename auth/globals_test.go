package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/swfd/swfd/api"
)

// globalsCase is one call by a principal under one policy, through the
// Guard of region us-east-1 and account acct unless region says otherwise.
type globalsCase struct {
	name    string
	user    string
	region  string
	policy  string
	op      string
	in      any
	allowed bool
}

func runGlobalsCases(t *testing.T, cases []globalsCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := ParsePolicy([]byte(c.policy))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			region := c.region
			if region == "" {
				region = "us-east-1"
			}
			g := &Guard{Region: region, Account: acct}
			ctx := NewContext(context.Background(), &Principal{Name: c.user, Policies: []*Policy{p}})
			err = g.Authorize(ctx, c.op, c.in)
			if got := err == nil; got != c.allowed {
				t.Errorf("allowed = %v (%v), want %v", got, err, c.allowed)
			}
		})
	}
}

func describe(name string) *api.DescribeDomainInput { return &api.DescribeDomainInput{Name: name} }

func countActivities(list string) *api.CountPendingActivityTasksInput {
	return &api.CountPendingActivityTasksInput{Domain: "d", TaskList: api.TaskList{Name: list}}
}

// allowAllAnd is a 2012-10-17 policy that allows everything, with more
// statements.
func allowAllAnd(stmts string) string {
	return `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}, ` + stmts + `]}`
}

func allowOnly(stmts string) string {
	return `{"Version": "2012-10-17", "Statement": [` + stmts + `]}`
}

// The global condition keys swfd evaluates have the caller's values: a
// Deny on them applies, an Allow on them grants, and a negated operator
// does not hold when the value is the one named.
func TestGuardGlobalConditionKeys(t *testing.T) {
	runGlobalsCases(t, []globalsCase{
		{"Deny on aws:username applies to that user", "bob", "",
			allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"aws:username": "bob"}}}`),
			"DescribeDomain", describe("d"), false},
		{"Deny on aws:username spares another user", "alice", "",
			allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"aws:username": "bob"}}}`),
			"DescribeDomain", describe("d"), true},
		{"key name in another case", "bob", "",
			allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"AWS:UserName": "bob"}}}`),
			"DescribeDomain", describe("d"), false},
		{"Allow on aws:username", "bob", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"aws:username": "bob"}}}`),
			"DescribeDomain", describe("d"), true},
		{"Deny on aws:PrincipalArn", "bob", "",
			allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::` + acct + `:user/bob"}}}`),
			"DescribeDomain", describe("d"), false},
		{"Allow on aws:PrincipalArn with a wildcard", "bob", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/b*"}}}`),
			"DescribeDomain", describe("d"), true},
		{"Allow on aws:PrincipalAccount", "bob", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": "` + acct + `"}}}`),
			"DescribeDomain", describe("d"), true},
		{"Allow on another aws:PrincipalAccount", "bob", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": "999999999999"}}}`),
			"DescribeDomain", describe("d"), false},
		{"Deny unless aws:PrincipalType is User", "bob", "",
			allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalType": "User"}}}`),
			"DescribeDomain", describe("d"), true},
		{"Deny outside the region, in it", "bob", "",
			allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}}`),
			"DescribeDomain", describe("d"), true},
		{"Deny outside the region, outside it", "bob", "eu-west-1",
			allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}}`),
			"DescribeDomain", describe("d"), false},
		{"a call without a User-Agent has no aws:UserAgent", "bob", "",
			allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"Null": {"aws:UserAgent": "true"}}}`),
			"DescribeDomain", describe("d"), false},
	})
}

// In a Version 2012-10-17 policy the policy variables are replaced by the
// caller's values in Resource, NotResource and condition values; in a
// Version 2008-10-17 policy they are text.
func TestGuardPolicyVariables(t *testing.T) {
	domainOf := func(v string) string { return "arn:aws:swf:us-east-1:" + acct + ":/domain/" + v }
	denyOwn := `{"Effect": "Deny", "Action": "swf:*", "Resource": "` + domainOf("${aws:username}") + `"}`
	runGlobalsCases(t, []globalsCase{
		{"Deny on the user's domain applies", "secret", "", allowAllAnd(denyOwn), "DescribeDomain", describe("secret"), false},
		{"Deny on the user's domain spares others", "secret", "", allowAllAnd(denyOwn), "DescribeDomain", describe("other"), true},
		{"2008-10-17: the variable is text", "secret", "",
			`{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}, ` + denyOwn + `]}`,
			"DescribeDomain", describe("secret"), true},
		{"2008-10-17: the text matches itself", "secret", "",
			`{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}, ` + denyOwn + `]}`,
			"DescribeDomain", describe("${aws:username}"), false},
		{"Allow on the user's domain", "team-a", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:DescribeDomain", "Resource": "` + domainOf("${aws:username}") + `"}`),
			"DescribeDomain", describe("team-a"), true},
		{"Allow on the user's domain, another", "team-a", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:DescribeDomain", "Resource": "` + domainOf("${aws:username}") + `"}`),
			"DescribeDomain", describe("team-b"), false},
		{"variable name in another case, with a default", "team-a", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:DescribeDomain", "Resource": "` + domainOf("${AWS:UserName, 'nobody'}") + `"}`),
			"DescribeDomain", describe("team-a"), true},
		{"NotResource with a variable", "team-a", "",
			allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "NotResource": "` + domainOf("${aws:username}-*") + `"}`),
			"DescribeDomain", describe("team-a-1"), true},
		{"NotResource with a variable, outside it", "team-a", "",
			allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "NotResource": "` + domainOf("${aws:username}-*") + `"}`),
			"DescribeDomain", describe("team-b-1"), false},
		{"region and account variables", "u", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:${aws:RequestedRegion}:${aws:PrincipalAccount}:/domain/d"}`),
			"DescribeDomain", describe("d"), true},
		{"region variable in another region", "u", "eu-west-1",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:${aws:RequestedRegion}:${aws:PrincipalAccount}:/domain/d"}`),
			"DescribeDomain", describe("d"), true},
		{"condition value: the user's task list", "workers", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:CountPendingActivityTasks", "Resource": "*", "Condition": {"StringEquals": {"swf:taskList.name": "${aws:username}"}}}`),
			"CountPendingActivityTasks", countActivities("workers"), true},
		{"condition value: another task list", "workers", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:CountPendingActivityTasks", "Resource": "*", "Condition": {"StringEquals": {"swf:taskList.name": "${aws:username}"}}}`),
			"CountPendingActivityTasks", countActivities("others"), false},
		{"negated condition with a variable, own list", "workers", "",
			allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringNotEquals": {"swf:taskList.name": "${aws:username}"}}}`),
			"CountPendingActivityTasks", countActivities("workers"), true},
		{"StringLike with a variable and a wildcard", "workers", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringLike": {"swf:taskList.name": "${aws:username}-*"}}}`),
			"CountPendingActivityTasks", countActivities("workers-7"), true},
		{"PrincipalArn and PrincipalType variables", "workers", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"swf:taskList.name": "${aws:PrincipalType}:${aws:PrincipalArn}"}}}`),
			"CountPendingActivityTasks", countActivities("User:arn:aws:iam::" + acct + ":user/workers"), true},
		{"${*} is a literal '*'", "u", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringLike": {"swf:taskList.name": "a${*}"}}}`),
			"CountPendingActivityTasks", countActivities("a*"), true},
		{"${*} is not a wildcard", "u", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringLike": {"swf:taskList.name": "a${*}"}}}`),
			"CountPendingActivityTasks", countActivities("ab"), false},
		{"${?} is a literal '?'", "u", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringLike": {"swf:taskList.name": "a${?}"}}}`),
			"CountPendingActivityTasks", countActivities("ab"), false},
		{"${$} is a '$'", "u", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"swf:taskList.name": "a${$}{b}"}}}`),
			"CountPendingActivityTasks", countActivities("a${b}"), true},
		{"${$}{ is the text ${", "bob", "",
			allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": "` + domainOf("${$}{aws:username") + `"}`),
			"DescribeDomain", describe("${aws:username"), false},
		{"a quoted default may hold '}': the variable still applies", "bob", "",
			allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": "` + domainOf("${aws:username, 'a}b'}-x") + `"}`),
			"DescribeDomain", describe("bob-x"), false},
		{"a quoted default may hold '}': another domain", "bob", "",
			allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": "` + domainOf("${aws:username, 'a}b'}-x") + `"}`),
			"DescribeDomain", describe("a}b'}-x"), true},
		{"a quoted default with '}' applies when the name is empty", "", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "` + domainOf("${aws:username, 'a}b'}-x") + `"}`),
			"DescribeDomain", describe("a}b-x"), true},
		{"a quoted default with '}', another domain", "", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "` + domainOf("${aws:username, 'a}b'}-x") + `"}`),
			"DescribeDomain", describe("a-x"), false},
		{"a quoted default of '{}' in a condition value", "", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"swf:taskList.name": "${aws:username,'{}'}${aws:username, '}'}"}}}`),
			"CountPendingActivityTasks", countActivities("{}}"), true},
		{"a '*' in a name is not a wildcard", "a*", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "` + domainOf("${aws:username}") + `"}`),
			"DescribeDomain", describe("abc"), false},
		{"a '*' in a name is itself", "a*", "",
			allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "` + domainOf("${aws:username}") + `"}`),
			"DescribeDomain", describe("a*"), true},
	})
}

// Decisions are judged with the global keys of the call that made them.
func TestDecisionHookGlobalKeys(t *testing.T) {
	p, err := ParsePolicy([]byte(allowAllAnd(`{"Effect": "Deny", "Action": "swf:ScheduleActivityTask", "Resource": "*",
		"Condition": {"StringEquals": {"aws:username": "bob", "swf:taskList.name": "${aws:username}"}}}`)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := NewContext(context.Background(), &Principal{Name: "bob", Policies: []*Policy{p}})
	hook, _ := DecisionHook(ctx, "us-east-1", acct, "d", nil)
	d := &api.Decision{DecisionType: api.DecisionTypeScheduleActivityTask}
	if hook(d, map[string]string{"swf:taskList.name": "bob"}) {
		t.Error("a decision the Deny names was allowed")
	}
	if !hook(d, map[string]string{"swf:taskList.name": "alice"}) {
		t.Error("a decision the Deny does not name was denied")
	}
}

// A decision has no aws:UserAgent, as SWF's pseudo API has none: a
// condition on it judges the key absent (a policy that means to tell
// deciders apart by their User-Agent does so on
// RespondDecisionTaskCompleted, which has it).
func TestDecisionHookHasNoUserAgent(t *testing.T) {
	cases := []struct {
		name, deny string
		allowed    bool
	}{
		{"a Deny on the decider's User-Agent", `{"Effect": "Deny", "Action": "swf:ScheduleActivityTask", "Resource": "*", "Condition": {"StringLike": {"aws:UserAgent": "my-decider*"}}}`, true},
		{"a Deny on a User-Agent other than the decider's", `{"Effect": "Deny", "Action": "swf:ScheduleActivityTask", "Resource": "*", "Condition": {"StringNotLike": {"aws:UserAgent": "my-decider*"}}}`, false},
		{"a Deny on no User-Agent", `{"Effect": "Deny", "Action": "swf:ScheduleActivityTask", "Resource": "*", "Condition": {"Null": {"aws:UserAgent": "true"}}}`, false},
	}
	for _, c := range cases {
		p, err := ParsePolicy([]byte(allowAllAnd(c.deny)))
		if err != nil {
			t.Fatal(err)
		}
		pr := &Principal{Name: "bob", Policies: []*Policy{p}, UserAgent: "my-decider/1.0"}
		hook, _ := DecisionHook(NewContext(context.Background(), pr), "us-east-1", acct, "d", nil)
		if got := hook(&api.Decision{DecisionType: api.DecisionTypeScheduleActivityTask}, nil); got != c.allowed {
			t.Errorf("%s: decision allowed %v, want %v", c.name, got, c.allowed)
		}
		// The call that carries the decisions has it.
		g := &Guard{Region: "us-east-1", Account: acct}
		if d := pr.Evaluate(g.Region, g.Account, "swf:ScheduleActivityTask", dom("d"), Keys{}); (d == Allowed) == c.allowed {
			t.Errorf("%s: as a call with the User-Agent, %v", c.name, d)
		}
	}
}

// A global condition key or policy variable swfd does not evaluate is
// refused when the auth file is loaded, naming the principal, the policy,
// the statement and the key or variable: left in, a Deny on it would
// never apply.
func TestUnevaluatedGlobalsRefused(t *testing.T) {
	file := func(policy string) string {
		return `{"principals": [{"name": "p", "accessKeys": [{"accessKeyId": "AKID", "secretAccessKey": "s"}],
			"policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}, ` + policy + `]}]}`
	}
	stmt := func(s string) string { return `{"Version": "2012-10-17", "Statement": [` + s + `]}` }
	cases := []struct {
		name, policy string
		want         []string // in the error
	}{
		{"aws:SourceIp", stmt(`{"Sid": "Office", "Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringNotLike": {"aws:SourceIp": "10.*"}}}`),
			[]string{`principal "p"`, "policy 2", `statement 1 (Sid "Office")`, "aws:SourceIp", "not supported"}},
		{"aws:SecureTransport with a string operator", stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"aws:SecureTransport": "false"}}}`),
			[]string{"statement 1", "aws:SecureTransport"}},
		{"aws:CurrentTime", stmt(`{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}, {"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringLike": {"aws:CurrentTime": "2026-*"}}}`),
			[]string{"statement 2", "aws:CurrentTime"}},
		{"aws:EpochTime in another case", stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"AWS:epochtime": "1"}}}`),
			[]string{"AWS:epochtime"}},
		{"aws:PrincipalTag", stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "x"}}}`),
			[]string{"aws:PrincipalTag/team"}},
		{"aws:RequestTag/ without a key", stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"aws:RequestTag/": "x"}}}`),
			[]string{"aws:RequestTag/"}},
		{"aws:SourceIp in a 2008-10-17 policy", `{"Version": "2008-10-17", "Statement": [{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"Null": {"aws:SourceIp": "false"}}}]}`,
			[]string{"aws:SourceIp"}},
		{"unknown variable in Resource", stmt(`{"Sid": "Own", "Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/${aws:userid}"}`),
			[]string{`statement 1 (Sid "Own")`, "Resource", "${aws:userid}", "not supported"}},
		{"aws:UserAgent as a variable", stmt(`{"Effect": "Deny", "Action": "swf:*", "NotResource": "arn:aws:swf:*:*:/domain/${aws:UserAgent}"}`),
			[]string{"NotResource", "${aws:UserAgent}"}},
		{"request key as a variable in a condition", stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"swf:taskList.name": "${swf:workflowType.name}"}}}`),
			[]string{"condition StringEquals swf:taskList.name", "${swf:workflowType.name}"}},
		{"a default not in quotes", stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/${aws:username, x}"}`),
			[]string{"${aws:username, x}"}},
		{"a default whose quote is not closed", stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/${aws:username, 'a}b"}`),
			[]string{"${aws:username, 'a}b", "quote is not closed"}},
		{"a default whose quote is not closed, before another variable", stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/${aws:username, 'a}-${aws:username}"}`),
			[]string{"quote is not closed"}},
		{"a quoted default with no '}' after it", stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/${aws:username, 'a}b'"}`),
			[]string{"${aws:username, 'a}b'", "not closed by '}'"}},
		{"text after a quoted default", stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/${aws:username, 'a}b' c}"}`),
			[]string{"${aws:username, 'a}b' c}", "not supported"}},
		{"a quote inside a quoted default", stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/${aws:username, 'a'b'}"}`),
			[]string{"${aws:username, 'a'b'}", "not supported"}},
		{"two defaults", stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/${aws:username, 'a', 'b'}"}`),
			[]string{"${aws:username, 'a', 'b'}", "not supported"}},
		{"unterminated variable in Resource", stmt(`{"Sid": "Own", "Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/${aws:username"}`),
			[]string{`statement 1 (Sid "Own")`, "Resource", "${aws:username", "not closed"}},
		{"unterminated variable after a variable", stmt(`{"Effect": "Allow", "Action": "swf:*", "NotResource": "arn:aws:swf:*:*:/domain/${aws:username}-${aws:username"}`),
			[]string{"NotResource", "not closed"}},
		{"unterminated variable in a condition value", stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"swf:taskList.name": "${aws:username"}}}`),
			[]string{"condition StringEquals swf:taskList.name", "${aws:username", "not closed"}},
		{"a lone ${ at the end", stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/cost${"}`),
			[]string{"${", "not closed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(file(c.policy)))
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	// What swfd evaluates loads; so does "${" in a 2008-10-17 policy,
	// where it is text.
	for _, ok := range []string{
		stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"aws:username": "x", "aws:PrincipalArn": "x", "aws:PrincipalAccount": "x", "aws:PrincipalType": "x", "aws:RequestedRegion": "x", "aws:UserAgent": "x", "aws:TagKeys": "x", "aws:RequestTag/k": "x", "swf:taskList.name": "${aws:username}${*}${?}${$}"}}}`),
		`{"Version": "2008-10-17", "Statement": [{"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/${aws:userid}"}]}`,
		`{"Version": "2008-10-17", "Statement": [{"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/${aws:username"}]}`,
		stmt(`{"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:*:*:/domain/${$}{aws:username"}`),
	} {
		if _, err := ParseConfig([]byte(file(ok))); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}
