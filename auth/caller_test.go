package auth

import (
	"testing"
)

// aws:UserAgent is the request's User-Agent, and absent without one.
func TestUserAgentKey(t *testing.T) {
	p, err := ParsePolicy([]byte(allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": "*",
		"Condition": {"StringLike": {"aws:UserAgent": "*botocore*"}}}`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ua   string
		want Decision
	}{
		{"Boto3/1.43.11 md/Botocore#1.36.0 ua/2.0 botocore/1.36.0", ExplicitDeny},
		{"aws-sdk-go-v2/1.30.0", Allowed},
		{"", Allowed},
	} {
		pr := &Principal{Name: "u", Policies: []*Policy{p}, UserAgent: c.ua}
		if got := pr.Evaluate("us-east-1", acct, "swf:DescribeDomain", dom("d"), Keys{}); got != c.want {
			t.Errorf("User-Agent %q: %v, want %v", c.ua, got, c.want)
		}
	}
}

// A call on a domain that cannot be told (the task of a purged run) is
// judged with the variables replaced: an Allow on the user's domain does
// not cover every domain, a Deny on it covers one.
func TestPolicyVariablesAnyDomain(t *testing.T) {
	own := `"arn:aws:swf:us-east-1:` + acct + `:/domain/${aws:username}"`
	anyDom := Resource{Region: "us-east-1", Account: acct, AnyDomain: true}
	for _, c := range []struct {
		name, policy string
		want         Decision
	}{
		{"Allow on the user's domain", allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": ` + own + `}`), ImplicitDeny},
		{"Deny on the user's domain", allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": ` + own + `}`), ExplicitDeny},
		{"Allow on every domain but the user's", allowOnly(`{"Effect": "Allow", "Action": "swf:*", "NotResource": ` + own + `}`), ImplicitDeny},
		{"Allow on the user's region", allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:${aws:RequestedRegion}:*"}`), Allowed},
		{"Allow on a literal '*'", allowOnly(`{"Effect": "Allow", "Action": "swf:*", "Resource": "arn:aws:swf:us-east-1:` + acct + `:/domain/${*}"}`), ImplicitDeny},
		{"Deny on a literal '*'", allowAllAnd(`{"Effect": "Deny", "Action": "swf:*", "Resource": "arn:aws:swf:us-east-1:` + acct + `:/domain/${*}"}`), ExplicitDeny},
	} {
		p, err := ParsePolicy([]byte(c.policy))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		pr := &Principal{Name: "u", Policies: []*Policy{p}}
		if got := pr.Evaluate("us-east-1", acct, "swf:RespondActivityTaskCompleted", anyDom, Keys{}); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
