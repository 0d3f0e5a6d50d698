package registry_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/registry"
	"github.com/swfd/swfd/sqlite"
)

const arnPrefix = "arn:aws:swf:us-east-1:123456789012:/domain/"

// nodes returns n registries over one SQLite store, each with its own
// cache as each node of a cluster has, its entries trusted for a minute
// (longer than any test: a node learns of another's writes only when its
// cache is cleared, which these tests never do).
func nodes(t *testing.T, n int) []*registry.Registry {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "swfd.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var out []*registry.Registry
	for range n {
		out = append(out, registry.New(registry.Options{
			Store:     registry.NewCache(db, time.Minute, nil),
			Clock:     swfd.SystemClock{},
			Limits:    registry.Limits{MaxDomains: 100, MaxTypesPerKind: 100, MaxTagsPerDomain: 50},
			AccountID: "123456789012",
			Region:    "us-east-1",
		}))
	}
	return out
}

func register(t *testing.T, r *registry.Registry, name string, tags ...api.ResourceTag) {
	t.Helper()
	if err := r.RegisterDomain(context.Background(), &api.RegisterDomainInput{Name: name, WorkflowExecutionRetentionPeriodInDays: "1", Tags: tags}); err != nil {
		t.Fatal(err)
	}
}

func tagKeys(t *testing.T, r *registry.Registry, domain string) []string {
	t.Helper()
	out, err := r.ListTagsForResource(context.Background(), &api.ListTagsForResourceInput{ResourceArn: arnPrefix + domain})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, tg := range out.Tags {
		keys = append(keys, tg.Key+"="+api.Value(tg.Value))
	}
	slices.Sort(keys)
	return keys
}

func tag(key, value string) api.ResourceTag { return api.ResourceTag{Key: key, Value: &value} }

func wantFault(t *testing.T, err error, code, msg string) {
	t.Helper()
	var f *api.Fault
	if !errors.As(err, &f) || f.Code != code || !strings.Contains(f.Message, msg) {
		t.Fatalf("got %v, want %s %q", err, code, msg)
	}
}

// Tag changes made at once on one node all stay: none writes back a list
// read before another's change.
func TestConcurrentTagResourceKeepsEveryTag(t *testing.T) {
	r := nodes(t, 1)[0]
	register(t, r, "d")
	tagKeys(t, r, "d") // the domain is cached
	errs := make(chan error)
	var want []string
	for i := range 8 {
		want = append(want, fmt.Sprintf("k%d=v", i))
		go func() {
			errs <- r.TagResource(context.Background(), &api.TagResourceInput{ResourceArn: arnPrefix + "d", Tags: []api.ResourceTag{tag(fmt.Sprintf("k%d", i), "v")}})
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := tagKeys(t, r, "d"); !slices.Equal(got, want) {
		t.Fatalf("tags %v, want %v", got, want)
	}
}

// A node whose cached copy of the domain is behind another node's tag
// change does not undo that change with its own.
func TestTagChangesOnTwoNodes(t *testing.T) {
	ns := nodes(t, 2)
	a, b := ns[0], ns[1]
	ctx := context.Background()
	register(t, a, "d", tag("access", "restricted"))
	tagKeys(t, b, "d") // b caches the domain

	if err := a.TagResource(ctx, &api.TagResourceInput{ResourceArn: arnPrefix + "d", Tags: []api.ResourceTag{tag("fromA", "1")}}); err != nil {
		t.Fatal(err)
	}
	if err := b.TagResource(ctx, &api.TagResourceInput{ResourceArn: arnPrefix + "d", Tags: []api.ResourceTag{tag("fromB", "2")}}); err != nil {
		t.Fatal(err)
	}
	if got, want := tagKeys(t, a, "d"), []string{"access=restricted", "fromA=1", "fromB=2"}; !slices.Equal(got, want) {
		t.Fatalf("after tagging on both nodes: %v, want %v", got, want)
	}

	tagKeys(t, b, "d")
	if err := a.UntagResource(ctx, &api.UntagResourceInput{ResourceArn: arnPrefix + "d", TagKeys: []string{"access"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.TagResource(ctx, &api.TagResourceInput{ResourceArn: arnPrefix + "d", Tags: []api.ResourceTag{tag("owner", "me")}}); err != nil {
		t.Fatal(err)
	}
	if got, want := tagKeys(t, a, "d"), []string{"fromA=1", "fromB=2", "owner=me"}; !slices.Equal(got, want) {
		t.Fatalf("after untagging on one node and tagging on the other: %v, want %v", got, want)
	}

	// The tag limit counts what is stored, not a node's cached copy.
	var many []api.ResourceTag
	for i := range 47 {
		many = append(many, tag(fmt.Sprintf("m%d", i), ""))
	}
	tagKeys(t, b, "d")
	if err := a.TagResource(ctx, &api.TagResourceInput{ResourceArn: arnPrefix + "d", Tags: many}); err != nil {
		t.Fatal(err)
	}
	err := b.TagResource(ctx, &api.TagResourceInput{ResourceArn: arnPrefix + "d", Tags: []api.ResourceTag{tag("one", "more")}})
	wantFault(t, err, api.TooManyTagsFault, "at most 50 tags")
}

// A registration on a node that has not heard of the domain's deprecation
// is refused: no registered type is left in a deprecated domain.
func TestRegisterTypeAfterDeprecationOnAnotherNode(t *testing.T) {
	ns := nodes(t, 2)
	a, b := ns[0], ns[1]
	ctx := context.Background()
	register(t, a, "d")
	if _, err := b.DescribeDomain(ctx, &api.DescribeDomainInput{Name: "d"}); err != nil { // b caches it registered
		t.Fatal(err)
	}
	if err := a.DeprecateDomain(ctx, &api.DeprecateDomainInput{Name: "d"}); err != nil {
		t.Fatal(err)
	}
	err := b.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1"})
	wantFault(t, err, api.UnknownResourceFault, "Domain is deprecated: d")
	err = b.RegisterActivityType(ctx, &api.RegisterActivityTypeInput{Domain: "d", Name: "act", Version: "1"})
	wantFault(t, err, api.UnknownResourceFault, "Domain is deprecated: d")
	_, err = a.DescribeWorkflowType(ctx, &api.DescribeWorkflowTypeInput{Domain: "d", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	wantFault(t, err, api.UnknownResourceFault, "Unknown type")
}

// A type cannot be undeprecated while its domain is deprecated, on the node
// that deprecated the domain or on one that has not heard of it.
func TestUndeprecateTypeInDeprecatedDomain(t *testing.T) {
	ns := nodes(t, 2)
	a, b := ns[0], ns[1]
	ctx := context.Background()
	register(t, a, "d")
	if err := a.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := a.RegisterActivityType(ctx, &api.RegisterActivityTypeInput{Domain: "d", Name: "act", Version: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := a.DeprecateWorkflowType(ctx, &api.DeprecateWorkflowTypeInput{Domain: "d", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DescribeDomain(ctx, &api.DescribeDomainInput{Name: "d"}); err != nil { // b caches it registered
		t.Fatal(err)
	}
	if err := a.DeprecateDomain(ctx, &api.DeprecateDomainInput{Name: "d"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range ns {
		err := r.UndeprecateWorkflowType(ctx, &api.UndeprecateWorkflowTypeInput{Domain: "d", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
		wantFault(t, err, api.UnknownResourceFault, "Domain is deprecated: d")
		err = r.UndeprecateActivityType(ctx, &api.UndeprecateActivityTypeInput{Domain: "d", ActivityType: api.ActivityType{Name: "act", Version: "1"}})
		wantFault(t, err, api.UnknownResourceFault, "Domain is deprecated: d")
	}
	wf, err := a.DescribeWorkflowType(ctx, &api.DescribeWorkflowTypeInput{Domain: "d", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	act, err := a.DescribeActivityType(ctx, &api.DescribeActivityTypeInput{Domain: "d", ActivityType: api.ActivityType{Name: "act", Version: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if wf.TypeInfo.Status != api.RegistrationStatusDeprecated || act.TypeInfo.Status != api.RegistrationStatusDeprecated {
		t.Fatalf("after refused undeprecations: workflow type %s, activity type %s", wf.TypeInfo.Status, act.TypeInfo.Status)
	}

	// Undeprecating the domain leaves its types deprecated; then they can
	// be undeprecated.
	if err := a.UndeprecateDomain(ctx, &api.UndeprecateDomainInput{Name: "d"}); err != nil {
		t.Fatal(err)
	}
	act, err = a.DescribeActivityType(ctx, &api.DescribeActivityTypeInput{Domain: "d", ActivityType: api.ActivityType{Name: "act", Version: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if act.TypeInfo.Status != api.RegistrationStatusDeprecated {
		t.Fatalf("activity type after UndeprecateDomain: %s, want DEPRECATED", act.TypeInfo.Status)
	}
	if err := a.UndeprecateWorkflowType(ctx, &api.UndeprecateWorkflowTypeInput{Domain: "d", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}}); err != nil {
		t.Fatal(err)
	}
}

// A resource tag's key and value hold letters, digits, separators (Unicode's
// category Z: spaces, and the line and paragraph separators) and
// "_.:/=+-@", the pattern their fault names; any other character, a control
// character among them, is refused in RegisterDomain and TagResource alike,
// naming the member, and nothing is kept.
func TestResourceTagCharacters(t *testing.T) {
	r := nodes(t, 1)[0]
	ctx := context.Background()
	register(t, r, "chars")
	for _, ok := range []string{"a Z 9", "_.:/=+-@", "é日本Ωж", "٣½", "a\u00a0b", "a\u2028b\u2029c", "a\u3000b", ""} {
		if err := r.TagResource(ctx, &api.TagResourceInput{ResourceArn: arnPrefix + "chars", Tags: []api.ResourceTag{tag("k"+ok, ok)}}); err != nil {
			t.Errorf("tag %q: %v", ok, err)
		}
	}
	for i, bad := range []string{"a\u0085b", "a\tb", "a\nb", "a\u0001b", "a\u007fb", "a\u009fb", "a#b", "a*b", "a😀b", "a\u200bb"} {
		for _, member := range []string{"key", "value"} {
			tg := tag("k", "v")
			if member == "key" {
				tg.Key = bad
			} else {
				tg.Value = &bad
			}
			err := r.TagResource(ctx, &api.TagResourceInput{ResourceArn: arnPrefix + "chars", Tags: []api.ResourceTag{tag("fine", "x"), tg}})
			wantFault(t, err, api.ValidationException, "at 'tags.2.member."+member+"' failed to satisfy constraint: Member must satisfy regular expression pattern")
			name := fmt.Sprintf("chars-%d-%s", i, member)
			err = r.RegisterDomain(ctx, &api.RegisterDomainInput{Name: name, WorkflowExecutionRetentionPeriodInDays: "1", Tags: []api.ResourceTag{tg}})
			wantFault(t, err, api.ValidationException, "at 'tags.1.member."+member+"'")
			if _, err := r.DescribeDomain(ctx, &api.DescribeDomainInput{Name: name}); err == nil {
				t.Errorf("%q in a tag's %s: the domain was registered", bad, member)
			}
		}
	}
	if keys := tagKeys(t, r, "chars"); slices.Contains(keys, "fine=x") {
		t.Errorf("a refused TagResource kept a tag: %q", keys)
	}
}

// A resource tag's key that begins with "aws:", in any case, is refused in
// RegisterDomain, TagResource and UntagResource alike, a
// ValidationException naming the member, and nothing is kept or removed:
// AWS keeps the prefix for its own tags, which callers may neither add nor
// remove. Such keys were taken, and shown by ListTagsForResource as the
// caller's. A value may begin with it, and so may a key that holds it
// further on.
func TestReservedTagKeyPrefix(t *testing.T) {
	r := nodes(t, 1)[0]
	ctx := context.Background()
	register(t, r, "res", tag("keep", "1"))
	const rule = "failed to satisfy constraint: Member must not begin with aws: (in any case)"
	for i, key := range []string{"aws:", "aws:cloudformation:stack-name", "AWS:x", "Aws:x", "aWs:owner"} {
		err := r.TagResource(ctx, &api.TagResourceInput{ResourceArn: arnPrefix + "res", Tags: []api.ResourceTag{tag("fine", "x"), tag(key, "v")}})
		wantFault(t, err, api.ValidationException, "Value '"+key+"' at 'tags.2.member.key' "+rule)
		name := fmt.Sprintf("res-%d", i)
		err = r.RegisterDomain(ctx, &api.RegisterDomainInput{Name: name, WorkflowExecutionRetentionPeriodInDays: "1", Tags: []api.ResourceTag{tag(key, "v")}})
		wantFault(t, err, api.ValidationException, "at 'tags.1.member.key' "+rule)
		if _, err := r.DescribeDomain(ctx, &api.DescribeDomainInput{Name: name}); err == nil {
			t.Errorf("key %q: the domain was registered", key)
		}
		err = r.UntagResource(ctx, &api.UntagResourceInput{ResourceArn: arnPrefix + "res", TagKeys: []string{"keep", key}})
		wantFault(t, err, api.ValidationException, "Value '"+key+"' at 'tagKeys.2.member' "+rule)
	}
	if keys := tagKeys(t, r, "res"); !slices.Equal(keys, []string{"keep=1"}) {
		t.Errorf("tags after the refused calls: %q; want only keep=1", keys)
	}
	for _, tg := range []api.ResourceTag{tag("owner", "aws:x"), tag("my:aws:key", "v"), tag("aws", "v"), tag("awsx:y", "v")} {
		if err := r.TagResource(ctx, &api.TagResourceInput{ResourceArn: arnPrefix + "res", Tags: []api.ResourceTag{tg}}); err != nil {
			t.Errorf("tag %s=%s: %v", tg.Key, *tg.Value, err)
		}
	}
	if err := r.UntagResource(ctx, &api.UntagResourceInput{ResourceArn: arnPrefix + "res", TagKeys: []string{"my:aws:key", "aws"}}); err != nil {
		t.Errorf("untag my:aws:key, aws: %v", err)
	}
}
