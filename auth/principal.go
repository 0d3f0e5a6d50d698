package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/swfd/swfd/api"
)

// Principal is an authenticated caller: a name from the auth file and the
// policies attached to it. A Principal is immutable; a reload of the auth
// file makes new ones, so a request keeps the principal it started with.
type Principal struct {
	Name     string
	Policies []*Policy
	// AccessKeyID is the key the request was signed with (set on the
	// copy a verified request carries).
	AccessKeyID string
	// UserAgent is the request's User-Agent header, the value of
	// aws:UserAgent (set on the copy a verified request carries).
	UserAgent string
}

// ARN is the principal's name as an IAM user ARN, for messages.
func (p *Principal) ARN(account string) string {
	return "arn:aws:iam::" + account + ":user/" + p.Name
}

// Allowed reports whether the principal's policies allow action (e.g.
// "swf:StartWorkflowExecution") on res with the given condition keys, in
// a request to the swfd of region and account.
func (p *Principal) Allowed(region, account, action string, res Resource, keys Keys) bool {
	return p.Evaluate(region, account, action, res, keys) == Allowed
}

// Evaluate evaluates the principal's policies for one request to the swfd
// of region and account (which give aws:RequestedRegion,
// aws:PrincipalAccount and aws:PrincipalArn).
func (p *Principal) Evaluate(region, account, action string, res Resource, keys Keys) Decision {
	if p == nil {
		return ImplicitDeny
	}
	req := &Request{Action: action, Keys: keys.m,
		Caller: Caller{Username: p.Name, Account: account, Region: region, UserAgent: p.UserAgent}}
	if res.AnyDomain {
		req.AnyDomainOf = res.domainPrefixes()
	} else {
		req.Resources = res.spellings()
	}
	return Evaluate(p.Policies, req)
}

// Resource is what an SWF action acts on: a domain, or (for ListDomains)
// every domain of the account.
type Resource struct {
	Region, Account string
	Domain          string // "" with AllDomains or AnyDomain
	AllDomains      bool
	// AnyDomain is one domain of the account that cannot be told: the
	// task's of a task token whose run is gone (the token named the
	// domain by the run). A policy allows a call on it only if it would
	// allow the call whatever the domain, and denies it if it would deny
	// it on some domain.
	AnyDomain bool
	// Raw, if set, is a resource that is not a domain (a malformed ARN
	// in a tagging call), matched as given.
	Raw string
	// Own, if set, names a resource of swfd's own API rather than a
	// domain ("clock", "dev"): arn:aws:swf:REGION:ACCOUNT:/swfd/NAME,
	// which a policy may write with or without the "/" before "swfd", as
	// it may a domain's ARN.
	Own string
}

// oneDomain reports whether the resource is one domain whose name is
// known.
func (r Resource) oneDomain() bool {
	return r.Domain != "" && !r.AllDomains && !r.AnyDomain && r.Raw == "" && r.Own == ""
}

// OwnResource names a resource of swfd's own API ("clock", "dev").
func OwnResource(region, account, name string) Resource {
	return Resource{Region: region, Account: account, Own: name}
}

// DomainResource names one domain.
func DomainResource(region, account, domain string) Resource {
	return Resource{Region: region, Account: account, Domain: domain}
}

// ARN is the resource's canonical ARN, the form DescribeDomain returns
// (with the "/" before "domain").
func (r Resource) ARN() string {
	if r.Own != "" {
		return "arn:aws:swf:" + r.Region + ":" + r.Account + ":/swfd/" + r.Own
	}
	if r.Raw != "" || (r.Domain == "" && !r.AllDomains && !r.AnyDomain) {
		return r.Raw
	}
	name := r.Domain
	if r.AllDomains || r.AnyDomain {
		name = "*"
	}
	return "arn:aws:swf:" + r.Region + ":" + r.Account + ":/domain/" + name
}

// spellings are the forms a policy may name the resource by: AWS's docs
// write domain ARNs both with and without the "/" before "domain", and
// ListDomains' doc leaves the region out. swfd's own resources have the
// same two forms.
func (r Resource) spellings() []string {
	if r.Own != "" {
		pre := "arn:aws:swf:" + r.Region + ":" + r.Account + ":"
		return []string{pre + "/swfd/" + r.Own, pre + "swfd/" + r.Own}
	}
	if r.Raw != "" || (r.Domain == "" && !r.AllDomains) {
		return []string{r.Raw}
	}
	name := r.Domain
	if r.AllDomains {
		name = "*"
	}
	pre := "arn:aws:swf:" + r.Region + ":" + r.Account + ":"
	out := []string{pre + "/domain/" + name, pre + "domain/" + name}
	if r.AllDomains {
		pre = "arn:aws:swf::" + r.Account + ":"
		out = append(out, pre+"domain/*", pre+"/domain/*")
	}
	return out
}

// domainPrefixes are the spellings of a domain's ARN up to its name.
func (r Resource) domainPrefixes() []string {
	pre := "arn:aws:swf:" + r.Region + ":" + r.Account + ":"
	return []string{pre + "/domain/", pre + "domain/"}
}

// ParseDomainARN returns the domain an SWF domain ARN names, accepting the
// ARN with or without the "/" before "domain".
func ParseDomainARN(arn string) (region, account, domain string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "swf" {
		return "", "", "", false
	}
	res := strings.TrimPrefix(parts[5], "/")
	name, found := strings.CutPrefix(res, "domain/")
	if !found || name == "" {
		return "", "", "", false
	}
	return parts[3], parts[4], name, true
}

// Keys are the condition keys of one request. The zero value has none.
type Keys struct{ m map[string][]string }

// Set sets a single-valued key; an empty value leaves the key absent.
func (k *Keys) Set(name, value string) {
	if value == "" {
		return
	}
	k.Add(name, value)
}

// Add adds a value to a (possibly multi-valued) key.
func (k *Keys) Add(name, value string) {
	if k.m == nil {
		k.m = map[string][]string{}
	}
	name = strings.ToLower(name)
	k.m[name] = append(k.m[name], value)
}

// Get returns a key's values.
func (k Keys) Get(name string) []string { return k.m[strings.ToLower(name)] }

// setTags sets swf:tagList.member.0 … for an execution's tags. An empty
// tag is present with the value "": the execution keeps it in its tag
// list, at that position.
func (k *Keys) setTags(tags []string) {
	for i, t := range tags {
		k.Add("swf:tagList.member."+strconv.Itoa(i), t)
	}
}

type ctxKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal ctx carries, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// TagLister lists the tags of a domain named by its ARN: the service's
// ListTagsForResource, whose answer gives aws:ResourceTag/KEY its values.
type TagLister interface {
	ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceInput) (*api.ListTagsForResourceOutput, error)
}

// usesResourceTags reports whether a policy of the principal has a
// condition on aws:ResourceTag/KEY: only then are a domain's tags read to
// judge a request.
func (p *Principal) usesResourceTags() bool {
	if p == nil {
		return false
	}
	for _, pol := range p.Policies {
		if pol.resourceTags {
			return true
		}
	}
	return false
}

// addResourceTags sets aws:ResourceTag/KEY for each tag of the domain res
// names, as tags lists them. A domain the service does not know (a fault
// of the caller's, which the service answers the call itself) has no
// tags; a failure to read them (the store failed) is returned: the
// request cannot be judged. Tag keys are case-sensitive and condition key
// names are not, so tags whose keys differ only in case give the one
// condition key a value each (Condition.holds says how they are judged).
func addResourceTags(ctx context.Context, tags TagLister, res Resource, k *Keys) error {
	out, err := tags.ListTagsForResource(ctx, &api.ListTagsForResourceInput{ResourceArn: res.ARN()})
	var f *api.Fault
	switch {
	case errors.As(err, &f) && f.HTTPStatus() < 500:
		return nil
	case err != nil:
		return fmt.Errorf("reading the tags of %s: %w", res.ARN(), err)
	case out == nil:
		return nil
	}
	for _, t := range out.Tags {
		k.Add("aws:ResourceTag/"+t.Key, api.Value(t.Value))
	}
	return nil
}

// DecisionHook returns the function history.Env.AuthorizeDecision wants
// for decisions made in a domain by the principal in ctx, or nil (allow
// every decision) when ctx carries no principal, i.e. authentication is
// off. Each decision is the pseudo-action swf:<DecisionType> on the domain.
// keys holds the keys the decision has, each present even if its value is
// empty (an execution's empty tag). A decision has no aws:UserAgent, as
// SWF's pseudo API has none (the RespondDecisionTaskCompleted that carries
// it has): a condition on it finds it absent. When the principal's
// policies have conditions on aws:ResourceTag/KEY, the domain's tags are
// read once, here, from tags (nil: the domain has none); the error says
// they could not be read, and the decisions cannot then be judged.
func DecisionHook(ctx context.Context, region, account, domain string, tags TagLister) (func(d *api.Decision, keys map[string]string) bool, error) {
	p := FromContext(ctx)
	if p == nil {
		return nil, nil
	}
	if p.UserAgent != "" {
		cp := *p
		cp.UserAgent = ""
		p = &cp
	}
	res := DomainResource(region, account, domain)
	var domainKeys Keys
	if tags != nil && p.usesResourceTags() {
		if err := addResourceTags(ctx, tags, res, &domainKeys); err != nil {
			return nil, err
		}
	}
	return func(d *api.Decision, keys map[string]string) bool {
		var k Keys
		for name, vals := range domainKeys.m {
			for _, v := range vals {
				k.Add(name, v)
			}
		}
		for name, v := range keys {
			k.Add(name, v)
		}
		return p.Allowed(region, account, "swf:"+string(d.DecisionType), res, k)
	}, nil
}
