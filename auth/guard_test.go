package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// tagPolicy lets its principal register and tag domains only with owner
// "me", never set the tag "frozen" (whatever its value), and start
// executions whose first tag, if there is one, is a team's.
const tagPolicy = `{"Statement": [
	{"Effect": "Allow", "Action": ["swf:RegisterDomain", "swf:TagResource"], "Resource": "*",
	 "Condition": {"StringEquals": {"aws:RequestTag/owner": "me"}}},
	{"Effect": "Deny", "Action": ["swf:RegisterDomain", "swf:TagResource"], "Resource": "*",
	 "Condition": {"Null": {"aws:RequestTag/frozen": "false"}}},
	{"Effect": "Allow", "Action": "swf:StartWorkflowExecution", "Resource": "*",
	 "Condition": {"StringLikeIfExists": {"swf:tagList.member.0": "team-*"}}}]}`

func tagGuard(t *testing.T) (*Guard, context.Context) {
	t.Helper()
	p, err := ParsePolicy([]byte(tagPolicy))
	if err != nil {
		t.Fatal(err)
	}
	ctx := NewContext(context.Background(), &Principal{Name: "reqtag", Policies: []*Policy{p}})
	return &Guard{Region: "us-east-1", Account: acct}, ctx
}

func rtags(kv ...string) []api.ResourceTag {
	var out []api.ResourceTag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, api.ResourceTag{Key: kv[i], Value: api.String(kv[i+1])})
	}
	return out
}

// The value an aws:RequestTag condition checks is the value the domain
// would keep: a request that repeats a key is refused before any policy
// is asked, keys that differ only in case are both seen by the one
// case-insensitive condition key, and an empty value is a value, as is a
// missing one.
func TestGuardRequestTags(t *testing.T) {
	g, ctx := tagGuard(t)
	arn := "arn:aws:swf:us-east-1:" + acct + ":/domain/d"
	cases := []struct {
		name string
		tags []api.ResourceTag
		code string // "" when allowed
		path string // the member a ValidationException names
	}{
		{"owner me", rtags("owner", "me"), "", ""},
		{"owner you", rtags("owner", "you"), api.OperationNotPermittedFault, ""},
		{"no tags", nil, api.OperationNotPermittedFault, ""},
		{"owner repeated, last one wins in the store", rtags("owner", "me", "owner", "you"), api.ValidationException, "tags.2.member.key"},
		{"owner repeated, first one differs", rtags("owner", "you", "owner", "me"), api.ValidationException, "tags.2.member.key"},
		{"owner repeated with the same value", rtags("owner", "me", "x", "1", "owner", "me"), api.ValidationException, "tags.3.member.key"},
		{"key spelled in another case", rtags("Owner", "me"), "", ""},
		{"two spellings, one not me", rtags("owner", "me", "Owner", "you"), api.OperationNotPermittedFault, ""},
		{"two spellings, the other not me", rtags("OWNER", "you", "owner", "me"), api.OperationNotPermittedFault, ""},
		{"two spellings, both me", rtags("owner", "me", "Owner", "me"), "", ""},
		{"empty owner", rtags("owner", ""), api.OperationNotPermittedFault, ""},
		{"empty owner beside me", rtags("owner", "me", "OWNER", ""), api.OperationNotPermittedFault, ""},
		{"frozen with a value", rtags("owner", "me", "frozen", "yes"), api.OperationNotPermittedFault, ""},
		{"frozen with an empty value", rtags("owner", "me", "frozen", ""), api.OperationNotPermittedFault, ""},
		// A tag given with no value is kept without one, but IAM reads
		// the omitted value as "": present, and "" for owner.
		{"owner with no value", []api.ResourceTag{{Key: "owner"}}, api.OperationNotPermittedFault, ""},
		{"frozen with no value", append(rtags("owner", "me"), api.ResourceTag{Key: "frozen"}), api.OperationNotPermittedFault, ""},
	}
	for _, c := range cases {
		for _, op := range []struct {
			name string
			in   any
		}{
			{"RegisterDomain", &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "1", Tags: c.tags}},
			{"TagResource", &api.TagResourceInput{ResourceArn: arn, Tags: c.tags}},
		} {
			err := g.check(ctx, op.name, op.in)
			code := ""
			var f *api.Fault
			if errors.As(err, &f) {
				code = f.Code
			} else if err != nil {
				t.Errorf("%s, %s: %v is not a fault", op.name, c.name, err)
				continue
			}
			if code != c.code {
				t.Errorf("%s, %s: %v, want %q", op.name, c.name, err, c.code)
				continue
			}
			if c.path != "" && !strings.Contains(f.Message, "'"+c.path+"'") {
				t.Errorf("%s, %s: %q does not name %s", op.name, c.name, f.Message, c.path)
			}
		}
	}
}

// An empty tag of an execution is a tag: swf:tagList.member.N is present
// with the value "" that the execution keeps.
func TestGuardExecutionTagList(t *testing.T) {
	g, ctx := tagGuard(t)
	start := func(tags ...string) error {
		return g.check(ctx, "StartWorkflowExecution", &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w",
			WorkflowType: api.WorkflowType{Name: "t", Version: "1"}, TaskList: &api.TaskList{Name: "l"}, TagList: tags})
	}
	for _, c := range []struct {
		tags []string
		ok   bool
	}{
		{nil, true},
		{[]string{"team-a", ""}, true},
		{[]string{"ops"}, false},
		{[]string{""}, false},
		{[]string{"", "team-a"}, false},
	} {
		if err := start(c.tags...); (err == nil) != c.ok {
			t.Errorf("tagList %q: %v, want allowed %v", c.tags, err, c.ok)
		}
	}
}

// A condition operator without ForAnyValue:/ForAllValues: given several
// values of one key resolves toward refusal: an Allow needs every value to
// satisfy it, a Deny applies when any value does.
func TestEvaluateSeveralValues(t *testing.T) {
	parse := func(doc string) *Policy {
		p, err := ParsePolicy([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	allowAll := `{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*"}}`
	cases := []struct {
		name     string
		policies []string
		keys     Keys
		want     Decision
	}{
		{"Allow StringEquals, one value differs", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*",
			"Condition": {"StringEquals": {"aws:RequestTag/owner": "me"}}}}`}, keys("aws:RequestTag/owner", "me", "aws:RequestTag/Owner", "you"), ImplicitDeny},
		{"Allow StringEquals, every value matches", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*",
			"Condition": {"StringEquals": {"aws:RequestTag/owner": ["me", "us"]}}}}`}, keys("aws:RequestTag/owner", "me", "aws:RequestTag/Owner", "us"), Allowed},
		{"Allow StringLike, one value differs", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*",
			"Condition": {"StringLike": {"aws:TagKeys": "team*"}}}}`}, keys("aws:TagKeys", "team", "aws:TagKeys", "sys"), ImplicitDeny},
		{"Allow StringNotEquals, one value is the forbidden one", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*",
			"Condition": {"StringNotEquals": {"aws:RequestTag/owner": "root"}}}}`}, keys("aws:RequestTag/owner", "me", "aws:RequestTag/OWNER", "root"), ImplicitDeny},
		{"Deny StringEquals, one value matches", []string{allowAll, `{"Statement": {"Effect": "Deny", "Action": "swf:*", "Resource": "*",
			"Condition": {"StringEquals": {"aws:RequestTag/env": "prod"}}}}`}, keys("aws:RequestTag/env", "dev", "aws:RequestTag/Env", "prod"), ExplicitDeny},
		{"Deny StringNotEquals, one value differs", []string{allowAll, `{"Statement": {"Effect": "Deny", "Action": "swf:*", "Resource": "*",
			"Condition": {"StringNotEquals": {"aws:RequestTag/owner": "me"}}}}`}, keys("aws:RequestTag/owner", "me", "aws:RequestTag/Owner", "you"), ExplicitDeny},
		{"Deny StringNotEquals, every value is me", []string{allowAll, `{"Statement": {"Effect": "Deny", "Action": "swf:*", "Resource": "*",
			"Condition": {"StringNotEquals": {"aws:RequestTag/owner": "me"}}}}`}, keys("aws:RequestTag/owner", "me", "aws:RequestTag/Owner", "me"), Allowed},
		{"Deny StringNotLike on tag keys, one key outside", []string{allowAll, `{"Statement": {"Effect": "Deny", "Action": "swf:*", "Resource": "*",
			"Condition": {"StringNotLike": {"aws:TagKeys": "team*"}}}}`}, keys("aws:TagKeys", "team", "aws:TagKeys", "sys"), ExplicitDeny},
		{"empty value is present", []string{`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*",
			"Condition": {"Null": {"aws:RequestTag/owner": "false"}, "StringEquals": {"aws:RequestTag/owner": ""}}}}`}, keys("aws:RequestTag/owner", ""), Allowed},
	}
	for _, c := range cases {
		var ps []*Policy
		for _, d := range c.policies {
			ps = append(ps, parse(d))
		}
		pr := &Principal{Name: "p", Policies: ps}
		if got := pr.Evaluate("us-east-1", acct, "swf:TagResource", dom("d"), c.keys); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// domainTags is a service that answers only ListTagsForResource, with
// the tags of the domains it holds (UnknownResourceFault for others), or
// with err; it counts the calls.
type domainTags struct {
	api.Service
	tags  map[string][]api.ResourceTag // by domain ARN
	err   error
	calls int
}

func (s *domainTags) ListTagsForResource(_ context.Context, in *api.ListTagsForResourceInput) (*api.ListTagsForResourceOutput, error) {
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	tags, ok := s.tags[in.ResourceArn]
	if !ok {
		return nil, api.ErrUnknownResource("Unknown resource: %s", in.ResourceArn)
	}
	return &api.ListTagsForResourceOutput{Tags: tags}, nil
}

// aws:ResourceTag/KEY holds the tags of the domain a call acts on, read
// from the service only for a principal whose policies name the key. A
// domain the service does not know has none; a failure to read them
// fails the call; RegisterDomain (no domain yet) and ListDomains (every
// domain) have none; a domain that cannot be told (a task token whose run
// is gone) is one an Allow on its tags does not cover and a Deny does.
func TestGuardResourceTags(t *testing.T) {
	svc := &domainTags{tags: map[string][]api.ResourceTag{
		"arn:aws:swf:us-east-1:" + acct + ":/domain/prod": rtags("env", "prod", "team", "a"),
		"arn:aws:swf:us-east-1:" + acct + ":/domain/test": rtags("env", "test", "Team", "a", "team", "b"),
	}}
	tokens := &fakeTokens{domains: map[string]string{"prod-task": "prod", "gone": ""}}
	g := &Guard{Region: "us-east-1", Account: acct, Next: svc, Tokens: tokens}
	principal := func(doc string) context.Context {
		p, err := ParsePolicy([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return NewContext(context.Background(), &Principal{Name: "p", Policies: []*Policy{p}})
	}
	notProd := principal(`{"Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"},
		{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/env": "prod"}}}]}`)
	teamA := principal(`{"Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"StringEquals": {"AWS:resourcetag/TEAM": "a"}}}]}`)
	untagged := principal(`{"Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"Null": {"aws:ResourceTag/env": "true"}}}]}`)
	plain := principal(`{"Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}`)
	describe := func(d string) any { return &api.DescribeDomainInput{Name: d} }
	cases := []struct {
		name string
		ctx  context.Context
		op   string
		in   any
		ok   bool
	}{
		{"deny on prod's tag", notProd, "DescribeDomain", describe("prod"), false},
		{"deny on prod's tag, another domain", notProd, "DescribeDomain", describe("test"), true},
		{"a domain that does not exist has no tags", notProd, "DescribeDomain", describe("nowhere"), true},
		{"a tagging call acts on its ARN's domain", notProd, "UntagResource", &api.UntagResourceInput{ResourceArn: "arn:aws:swf:us-east-1:" + acct + ":domain/prod", TagKeys: []string{"env"}}, false},
		{"a task token's domain", notProd, "RecordActivityTaskHeartbeat", &api.RecordActivityTaskHeartbeatInput{TaskToken: "prod-task"}, false},
		{"a domain that cannot be told: a Deny on a tag applies", notProd, "RecordActivityTaskHeartbeat", &api.RecordActivityTaskHeartbeatInput{TaskToken: "gone"}, false},
		{"ListDomains has no resource tags", notProd, "ListDomains", &api.ListDomainsInput{RegistrationStatus: "REGISTERED"}, true},
		{"RegisterDomain has no resource tags", notProd, "RegisterDomain", &api.RegisterDomainInput{Name: "prod", WorkflowExecutionRetentionPeriodInDays: "1"}, true},
		{"allow on a tag", teamA, "DescribeDomain", describe("prod"), true},
		{"allow on a tag, keys that differ in case (one not a)", teamA, "DescribeDomain", describe("test"), false},
		{"allow on a tag, a domain without it", teamA, "DescribeDomain", describe("nowhere"), false},
		{"a domain that cannot be told: an Allow on a tag does not apply", teamA, "RecordActivityTaskHeartbeat", &api.RecordActivityTaskHeartbeatInput{TaskToken: "gone"}, false},
		{"Null on a tag the domain lacks", untagged, "DescribeDomain", describe("nowhere"), true},
		{"Null on a tag the domain has", untagged, "DescribeDomain", describe("prod"), false},
	}
	for _, c := range cases {
		err := g.check(c.ctx, c.op, c.in)
		var f *api.Fault
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: %v, want allowed", c.name, err)
		case !c.ok && (!errors.As(err, &f) || f.Code != api.OperationNotPermittedFault):
			t.Errorf("%s: %v, want OperationNotPermittedFault", c.name, err)
		}
	}
	// Only a principal whose policies name the key has the tags read.
	svc.calls = 0
	if err := g.check(plain, "DescribeDomain", describe("prod")); err != nil || svc.calls != 0 {
		t.Errorf("a principal without tag conditions: %v, %d reads of tags", err, svc.calls)
	}
	broken := errors.New("store down")
	svc.err = broken
	if err := g.check(notProd, "DescribeDomain", describe("prod")); !errors.Is(err, broken) {
		t.Errorf("tags that cannot be read: %v, want the failure", err)
	}
	if err := g.check(plain, "DescribeDomain", describe("prod")); err != nil {
		t.Errorf("tags that cannot be read, a principal that needs none: %v", err)
	}

	// Decisions: the tags are read once for the batch, and a failure to
	// read them is the hook's error.
	svc.err, svc.calls = nil, 0
	hook, err := DecisionHook(notProd, "us-east-1", acct, "prod", svc)
	if err != nil {
		t.Fatal(err)
	}
	marker := &api.Decision{DecisionType: api.DecisionTypeRecordMarker}
	if hook(marker, nil) || hook(marker, nil) || svc.calls != 1 {
		t.Errorf("a decision in prod: allowed, or the tags read %d times", svc.calls)
	}
	if hook, err := DecisionHook(notProd, "us-east-1", acct, "test", svc); err != nil || !hook(marker, nil) {
		t.Errorf("a decision in test: denied (%v)", err)
	}
	svc.err = broken
	if _, err := DecisionHook(notProd, "us-east-1", acct, "prod", svc); !errors.Is(err, broken) {
		t.Errorf("decisions whose domain's tags cannot be read: %v, want the failure", err)
	}
	if hook, err := DecisionHook(plain, "us-east-1", acct, "prod", svc); err != nil || !hook(marker, nil) {
		t.Errorf("decisions by a principal that needs no tags: %v", err)
	}
}

// A decision's empty tag reaches the policy as a present, empty value.
func TestDecisionHookEmptyTag(t *testing.T) {
	_, ctx := tagGuard(t)
	p, err := ParsePolicy([]byte(`{"Statement": {"Effect": "Allow", "Action": "swf:StartChildWorkflowExecution", "Resource": "*",
		"Condition": {"StringLikeIfExists": {"swf:tagList.member.0": "team-*"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx = NewContext(ctx, &Principal{Name: "decider", Policies: []*Policy{p}})
	hook, _ := DecisionHook(ctx, "us-east-1", acct, "d", nil)
	d := &api.Decision{DecisionType: api.DecisionTypeStartChildWorkflowExecution}
	for _, c := range []struct {
		keys map[string]string
		ok   bool
	}{
		{map[string]string{}, true},
		{map[string]string{"swf:tagList.member.0": "team-a"}, true},
		{map[string]string{"swf:tagList.member.0": ""}, false},
		{map[string]string{"swf:tagList.member.0": "ops"}, false},
	} {
		if got := hook(d, c.keys); got != c.ok {
			t.Errorf("keys %v: allowed %v, want %v", c.keys, got, c.ok)
		}
	}
}

// fakeTokens tells the domain of the tokens it knows: a token it does not
// know names no task, one it knows with domain "" is one whose run is gone,
// and err, if set, is every answer.
type fakeTokens struct {
	domains map[string]string
	err     error
	ctx     context.Context // the context it was last asked with
}

func (f *fakeTokens) TaskTokenDomain(ctx context.Context, token string) (string, bool, error) {
	f.ctx = ctx
	if f.err != nil {
		return "", false, f.err
	}
	d, ok := f.domains[token]
	return d, ok, nil
}

// A task-token operation is authorized on the domain its task is in, told
// with the call's context (finding it may read the store); a token that
// names no task passes, for the service to answer; a domain that could not
// be told refuses the call with the failure, rather than letting it pass
// unjudged.
func TestGuardTaskTokens(t *testing.T) {
	long := strings.Repeat("域", 256)
	p, err := ParsePolicy([]byte(`{"Statement": [{"Effect": "Allow", "Action": "swf:*",
		"Resource": "arn:aws:swf:us-east-1:` + acct + `:/domain/` + long + `"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := NewContext(context.Background(), &Principal{Name: "owner", Policies: []*Policy{p}})
	tokens := &fakeTokens{domains: map[string]string{"mine": long, "theirs": "a"}}
	g := &Guard{Region: "us-east-1", Account: acct, Tokens: tokens}
	ops := []struct {
		name string
		in   func(tok string) any
	}{
		{"RespondDecisionTaskCompleted", func(tok string) any { return &api.RespondDecisionTaskCompletedInput{TaskToken: tok} }},
		{"RespondActivityTaskCompleted", func(tok string) any { return &api.RespondActivityTaskCompletedInput{TaskToken: tok} }},
		{"RespondActivityTaskFailed", func(tok string) any { return &api.RespondActivityTaskFailedInput{TaskToken: tok} }},
		{"RespondActivityTaskCanceled", func(tok string) any { return &api.RespondActivityTaskCanceledInput{TaskToken: tok} }},
		{"RecordActivityTaskHeartbeat", func(tok string) any { return &api.RecordActivityTaskHeartbeatInput{TaskToken: tok} }},
	}
	broken := errors.New("store down")
	for _, op := range ops {
		tokens.err = nil
		if err := g.check(ctx, op.name, op.in("mine")); err != nil {
			t.Errorf("%s in the allowed domain: %v", op.name, err)
		}
		if tokens.ctx != ctx {
			t.Errorf("%s: the domain was not asked with the call's context", op.name)
		}
		var f *api.Fault
		if err := g.check(ctx, op.name, op.in("theirs")); !errors.As(err, &f) || f.Code != api.OperationNotPermittedFault {
			t.Errorf("%s in another domain: %v, want OperationNotPermittedFault", op.name, err)
		}
		if err := g.check(ctx, op.name, op.in("unknown")); err != nil {
			t.Errorf("%s with a token naming no task: %v, want it passed to the service", op.name, err)
		}
		tokens.err = broken
		if err := g.check(ctx, op.name, op.in("mine")); !errors.Is(err, broken) {
			t.Errorf("%s when the domain cannot be told: %v, want the failure", op.name, err)
		}
	}
}

// A tagFilter whose tag is "" lists the executions tagged "": the
// condition key swf:tagFilter.tag is present with the value "", as an
// empty tag of tagList is, not absent as it is when no tagFilter is given.
func TestGuardEmptyTagFilter(t *testing.T) {
	parse := func(doc string) *Policy {
		t.Helper()
		p, err := ParsePolicy([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	onlyX := parse(`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*",
		"Condition": {"StringEquals": {"swf:tagFilter.tag": "x"}}}}`)
	xIfAny := parse(`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*",
		"Condition": {"StringEqualsIfExists": {"swf:tagFilter.tag": "x"}}}}`)
	noTagFilter := parse(`{"Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"},
		{"Effect": "Deny", "Action": "swf:*", "Resource": "*", "Condition": {"Null": {"swf:tagFilter.tag": "false"}}}]}`)
	onlyEmpty := parse(`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*",
		"Condition": {"StringEquals": {"swf:tagFilter.tag": ""}}}}`)
	notX := parse(`{"Statement": {"Effect": "Allow", "Action": "swf:*", "Resource": "*",
		"Condition": {"StringNotEquals": {"swf:tagFilter.tag": "x"}}}}`)
	tag := func(s string) *api.TagFilter { return &api.TagFilter{Tag: s} }
	window := &api.ExecutionTimeFilter{OldestDate: api.Time{Time: time.Unix(0, 0)}}
	ops := []struct {
		name string
		in   func(f *api.TagFilter) any
	}{
		{"ListOpenWorkflowExecutions", func(f *api.TagFilter) any {
			return &api.ListOpenWorkflowExecutionsInput{Domain: "d", StartTimeFilter: *window, TagFilter: f}
		}},
		{"ListClosedWorkflowExecutions", func(f *api.TagFilter) any {
			return &api.ListClosedWorkflowExecutionsInput{Domain: "d", StartTimeFilter: window, TagFilter: f}
		}},
		{"CountOpenWorkflowExecutions", func(f *api.TagFilter) any {
			return &api.CountOpenWorkflowExecutionsInput{Domain: "d", StartTimeFilter: *window, TagFilter: f}
		}},
		{"CountClosedWorkflowExecutions", func(f *api.TagFilter) any {
			return &api.CountClosedWorkflowExecutionsInput{Domain: "d", StartTimeFilter: window, TagFilter: f}
		}},
	}
	cases := []struct {
		name   string
		policy *Policy
		filter *api.TagFilter
		ok     bool
	}{
		{"StringEquals x, tag x", onlyX, tag("x"), true},
		{"StringEquals x, tag empty", onlyX, tag(""), false},
		{"StringEquals x, no tagFilter", onlyX, nil, false},
		{"StringEqualsIfExists x, tag empty", xIfAny, tag(""), false},
		{"StringEqualsIfExists x, no tagFilter", xIfAny, nil, true},
		{"deny when present, tag empty", noTagFilter, tag(""), false},
		{"deny when present, no tagFilter", noTagFilter, nil, true},
		{"StringEquals empty, tag empty", onlyEmpty, tag(""), true},
		{"StringEquals empty, no tagFilter", onlyEmpty, nil, false},
		{"StringNotEquals x, tag empty", notX, tag(""), true},
	}
	g := &Guard{Region: "us-east-1", Account: acct}
	for _, c := range cases {
		ctx := NewContext(context.Background(), &Principal{Name: "lister", Policies: []*Policy{c.policy}})
		for _, op := range ops {
			err := g.check(ctx, op.name, op.in(c.filter))
			if c.ok && err != nil {
				t.Errorf("%s, %s: %v, want allowed", op.name, c.name, err)
			}
			var f *api.Fault
			if !c.ok && (!errors.As(err, &f) || f.Code != api.OperationNotPermittedFault) {
				t.Errorf("%s, %s: %v, want OperationNotPermittedFault", op.name, c.name, err)
			}
		}
	}
}

// A task token the service issued whose run is gone names a domain that
// can no longer be told. It is judged all the same, before the service
// could answer that the task is unknown: as a call on a domain that could
// be any, which a policy allows only if it allows the call on every domain
// and denies if it denies it on some. A caller refused while the run
// existed is refused once it is gone, and learns nothing of it.
func TestGuardTaskTokenOfRunGone(t *testing.T) {
	long := strings.Repeat("域", 256)
	arn := "arn:aws:swf:us-east-1:" + acct + ":/domain/"
	tokens := &fakeTokens{domains: map[string]string{"live": long, "gone": ""}}
	g := &Guard{Region: "us-east-1", Account: acct, Tokens: tokens}
	allow := func(resource string) string {
		return `{"Effect": "Allow", "Action": "swf:RespondActivityTaskCompleted", "Resource": "` + resource + `"}`
	}
	cases := []struct {
		name       string
		statements []string
		live, gone bool // allowed with the token of the run, and once it is gone
	}{
		{"allowed in the task's domain only", []string{allow(arn + long)}, true, false},
		{"allowed in another domain only", []string{allow(arn + "a")}, false, false},
		{"allowed in every domain", []string{allow("*")}, true, true},
		{"allowed in every domain of the account", []string{allow("arn:aws:swf:*:" + acct + ":/domain/*")}, true, true},
		{"allowed in every domain but one", []string{`{"Effect": "Allow", "Action": "swf:*", "NotResource": "` + arn + `a"}`}, true, false},
		{"allowed in every domain, denied in the task's", []string{allow("*"),
			`{"Effect": "Deny", "Action": "swf:*", "Resource": "` + arn + long + `"}`}, false, false},
		{"allowed in every domain, denied in another", []string{allow("*"),
			`{"Effect": "Deny", "Action": "swf:*", "Resource": "` + arn + `a"}`}, true, false},
		{"allowed in every domain, denied outside every domain", []string{allow("*"),
			`{"Effect": "Deny", "Action": "swf:*", "NotResource": "arn:aws:swf:*:*:domain/*"}`}, true, true},
		{"allowed in every domain, denied outside one", []string{allow("*"),
			`{"Effect": "Deny", "Action": "swf:*", "NotResource": "` + arn + long + `"}`}, true, false},
		{"allowed in another region", []string{allow("arn:aws:swf:eu-west-1:" + acct + ":/domain/*")}, false, false},
	}
	for _, c := range cases {
		p, err := ParsePolicy([]byte(`{"Statement": [` + strings.Join(c.statements, ", ") + `]}`))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ctx := NewContext(context.Background(), &Principal{Name: "worker", Policies: []*Policy{p}})
		for _, tok := range []struct {
			name string
			ok   bool
		}{{"live", c.live}, {"gone", c.gone}} {
			err := g.check(ctx, "RespondActivityTaskCompleted", &api.RespondActivityTaskCompletedInput{TaskToken: tok.name})
			var f *api.Fault
			switch {
			case tok.ok && err != nil:
				t.Errorf("%s, run %s: %v, want allowed", c.name, tok.name, err)
			case !tok.ok && (!errors.As(err, &f) || f.Code != api.OperationNotPermittedFault):
				t.Errorf("%s, run %s: %v, want OperationNotPermittedFault", c.name, tok.name, err)
			case !tok.ok && tok.name == "gone" && !strings.HasSuffix(f.Message, "on resource: "+arn+"*"):
				t.Errorf("%s, run gone: %q does not name every domain as the resource", c.name, f.Message)
			}
		}
	}
}

// Every swf: key a call has is one a policy may name (ParsePolicy refuses
// the others).
func TestGuardKeysAreKnown(t *testing.T) {
	g := &Guard{Region: "us-east-1", Account: acct}
	tl := &api.TaskList{Name: "l"}
	wt := api.WorkflowType{Name: "w", Version: "1"}
	at := api.ActivityType{Name: "a", Version: "1"}
	tags := &api.TagFilter{Tag: "t"}
	typ := &api.WorkflowTypeFilter{Name: "w", Version: "1"}
	for _, in := range []any{
		&api.RegisterActivityTypeInput{Domain: "d", Name: "a", Version: "1", DefaultTaskList: tl},
		&api.RegisterWorkflowTypeInput{Domain: "d", Name: "w", Version: "1", DefaultTaskList: tl},
		&api.DescribeActivityTypeInput{Domain: "d", ActivityType: at},
		&api.DescribeWorkflowTypeInput{Domain: "d", WorkflowType: wt},
		&api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "x", WorkflowType: wt, TaskList: tl, TagList: []string{"1", "2", "3", "4", "5"}},
		&api.ListOpenWorkflowExecutionsInput{Domain: "d", TagFilter: tags, TypeFilter: typ},
		&api.PollForDecisionTaskInput{Domain: "d", TaskList: *tl},
		&api.PollForActivityTaskInput{Domain: "d", TaskList: *tl},
	} {
		_, k, _, err := g.request(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(k.m) == 0 {
			t.Errorf("%T: no keys", in)
		}
		for name := range k.m {
			if strings.HasPrefix(name, "swf:") && !swfKeys[name] {
				t.Errorf("%T has the key %s, which a policy may not name", in, name)
			}
		}
	}
}

// typeDefaults is a service that answers only DescribeWorkflowType: with
// the default task list it holds, or with err.
type typeDefaults struct {
	api.Service
	list string
	err  error
}

func (s *typeDefaults) DescribeWorkflowType(_ context.Context, in *api.DescribeWorkflowTypeInput) (*api.WorkflowTypeDetail, error) {
	if s.err != nil {
		return nil, s.err
	}
	return &api.WorkflowTypeDetail{Configuration: api.WorkflowTypeConfiguration{DefaultTaskList: &api.TaskList{Name: s.list}}}, nil
}

// A StartWorkflowExecution that names no task list is judged with the
// type's default one, which the guard reads from the service. When that
// read fails (the store is down, the call's time is up) the call fails
// with the failure: judged as if the key were absent, it would slip past
// a Deny on the task list, and start on that very list once the store
// answers the service. A type the service does not know has no default:
// the key is absent, and the service then answers the start itself.
func TestGuardStartTaskListDefaultUnreadable(t *testing.T) {
	p, err := ParsePolicy([]byte(`{"Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"},
		{"Effect": "Deny", "Action": "swf:StartWorkflowExecution", "Resource": "*", "Condition": {"StringEquals": {"swf:taskList.name": "secret"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := NewContext(context.Background(), &Principal{Name: "p", Policies: []*Policy{p}})
	svc := &typeDefaults{list: "secret"}
	g := &Guard{Region: "us-east-1", Account: acct, Next: svc}
	start := func() error {
		return g.check(ctx, "StartWorkflowExecution", &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w",
			WorkflowType: api.WorkflowType{Name: "t", Version: "1"}})
	}
	var f *api.Fault
	if err := start(); !errors.As(err, &f) || f.Code != api.OperationNotPermittedFault {
		t.Errorf("the default list is denied: %v, want OperationNotPermittedFault", err)
	}
	svc.list = "open"
	if err := start(); err != nil {
		t.Errorf("the default list is allowed: %v", err)
	}
	broken := errors.New("store down")
	svc.err = broken
	if err := start(); !errors.Is(err, broken) {
		t.Errorf("the default list cannot be read: %v, want the failure", err)
	}
	svc.err = context.DeadlineExceeded
	if err := start(); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the default list cannot be read in time: %v, want the failure", err)
	}
	svc.err = api.ErrUnknownResource("Unknown type: WorkflowType=[name=t, version=1]")
	if err := start(); err != nil {
		t.Errorf("an unknown type: %v, want the call passed to the service", err)
	}
}
