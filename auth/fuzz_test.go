package auth

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPolicy parses arbitrary documents and evaluates whatever parses
// against a request built from the input: nothing may panic, and the
// decision must not depend on the order of policies (explicit Deny wins
// regardless; Allow is an "any").
func FuzzPolicy(f *testing.F) {
	f.Add([]byte(`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*"}]}`), "swf:StartWorkflowExecution", "a", "swf:taskList.name", "l")
	f.Add([]byte(`{"Statement": {"Effect": "Deny", "NotAction": ["swf:Poll*"], "NotResource": "arn:aws:swf:*:*:/domain/?", "Condition": {"ForAnyValue:StringNotLikeIfExists": {"swf:taskList.name": ["*x", 1, true]}}}}`), "swf:PollForDecisionTask", "b", "swf:taskList.name", "ax")
	f.Add([]byte(`{"Statement": [{"Effect": "Allow", "Action": "swf:*", "Resource": "*", "Condition": {"Null": {"k": "true"}, "StringEqualsIgnoreCase": {"k": "V"}}}]}`), "swf:X", "", "k", "v")
	f.Fuzz(func(t *testing.T, doc []byte, action, domain, key, value string) {
		p, err := ParsePolicy(doc)
		if err != nil {
			return
		}
		allow, _ := ParsePolicy([]byte(`{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}`))
		var k Keys
		k.Set(key, value)
		res := DomainResource("us-east-1", "123456789012", domain)
		d1 := (&Principal{Policies: []*Policy{p, allow}}).Evaluate("us-east-1", acct, action, res, k)
		d2 := (&Principal{Policies: []*Policy{allow, p}}).Evaluate("us-east-1", acct, action, res, k)
		if d1 != d2 {
			t.Fatalf("order matters: %v vs %v", d1, d2)
		}
		if d1 == ImplicitDeny {
			t.Fatalf("allow-all gave implicit deny")
		}
		alone := (&Principal{Policies: []*Policy{p}}).Evaluate("us-east-1", acct, action, res, k)
		if (alone == ExplicitDeny) != (d1 == ExplicitDeny) {
			t.Fatalf("deny not decisive: alone %v, with allow %v", alone, d1)
		}
	})
}

// FuzzMatch checks Match against the same pattern translated to a
// regular expression.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{{"a*c", "abc"}, {"?", "é"}, {"*a*b", "xaxb"}, {"", ""}, {"arn:*:/domain/?x*", "arn:aws:/domain/1xyz"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		if !utf8.ValidString(p) || !utf8.ValidString(s) || len(p) > 64 {
			return
		}
		var re strings.Builder
		re.WriteString(`^(?s)`)
		for _, r := range p {
			switch r {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`$`)
		want := regexp.MustCompile(re.String()).MatchString(s)
		if got := Match(p, s); got != want {
			t.Fatalf("Match(%q, %q) = %v, regexp says %v", p, s, got, want)
		}
	})
}
