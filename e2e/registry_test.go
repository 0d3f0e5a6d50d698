package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"
	"github.com/aws/smithy-go"

	"github.com/swfd/swfd/internal/swfdtest"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/service"
)

// ---- helpers (prefixed rg so they stay apart from other e2e files) ----

func rgCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rgAPIErr returns err's AWS error code and message.
func rgAPIErr(t *testing.T, err error) (string, string) {
	t.Helper()
	if err == nil {
		t.Fatalf("call succeeded, want an error")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %T %v is not a smithy.APIError", err, err)
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

// rgValidation requires a ValidationException mentioning every string in
// contains.
func rgValidation(t *testing.T, err error, contains ...string) {
	t.Helper()
	code, msg := rgAPIErr(t, err)
	if code != "ValidationException" {
		t.Fatalf("code = %s (%s), want ValidationException", code, msg)
	}
	for _, c := range contains {
		if !strings.Contains(msg, c) {
			t.Errorf("ValidationException message %q lacks %q", msg, c)
		}
	}
}

// rgFault requires err to be the SDK's typed fault T and returns it.
func rgFault[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if err == nil {
		t.Fatalf("call succeeded, want %T", target)
	}
	if !errors.As(err, &target) {
		t.Fatalf("error is %v, want %T", err, target)
	}
	return target
}

type faultMsg interface{ ErrorMessage() string }

func rgFaultMsg[T interface {
	error
	faultMsg
}](t *testing.T, err error, want string) {
	t.Helper()
	f := rgFault[T](t, err)
	if got := f.ErrorMessage(); got != want {
		t.Errorf("%T message = %q, want %q", f, got, want)
	}
}

func rgEnv(t *testing.T) (*swfdtest.Server, *swf.Client) {
	t.Helper()
	srv := swfdtest.Start(t, swfdtest.Options{})
	return srv, srv.Client()
}

func rgDomain(t *testing.T, c *swf.Client, name string) {
	t.Helper()
	_, err := c.RegisterDomain(rgCtx(t), &swf.RegisterDomainInput{Name: aws.String(name), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
	if err != nil {
		t.Fatalf("RegisterDomain %s: %v", name, err)
	}
}

func rgActivity(t *testing.T, c *swf.Client, domain, name, version string) {
	t.Helper()
	_, err := c.RegisterActivityType(rgCtx(t), &swf.RegisterActivityTypeInput{Domain: aws.String(domain), Name: aws.String(name), Version: aws.String(version)})
	if err != nil {
		t.Fatalf("RegisterActivityType %s/%s: %v", name, version, err)
	}
}

func rgWorkflow(t *testing.T, c *swf.Client, domain, name, version string) {
	t.Helper()
	_, err := c.RegisterWorkflowType(rgCtx(t), &swf.RegisterWorkflowTypeInput{Domain: aws.String(domain), Name: aws.String(name), Version: aws.String(version)})
	if err != nil {
		t.Fatalf("RegisterWorkflowType %s/%s: %v", name, version, err)
	}
}

func rgDomainNames(t *testing.T, c *swf.Client, status types.RegistrationStatus) []string {
	t.Helper()
	var names []string
	p := swf.NewListDomainsPaginator(c, &swf.ListDomainsInput{RegistrationStatus: status})
	for p.HasMorePages() {
		out, err := p.NextPage(rgCtx(t))
		if err != nil {
			t.Fatalf("ListDomains: %v", err)
		}
		for _, d := range out.DomainInfos {
			names = append(names, *d.Name)
		}
	}
	return names
}

func rgDescribeDomain(t *testing.T, c *swf.Client, name string) *swf.DescribeDomainOutput {
	t.Helper()
	out, err := c.DescribeDomain(rgCtx(t), &swf.DescribeDomainInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeDomain %s: %v", name, err)
	}
	return out
}

func rgARN(name string) string { return "arn:aws:swf:us-east-1:123456789012:/domain/" + name }

// ---- domains ----

func TestRegistryRegisterDescribeDomain(t *testing.T) {
	_, c := rgEnv(t)
	ctx := rgCtx(t)
	before := time.Now()
	_, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{
		Name: aws.String("orders"), WorkflowExecutionRetentionPeriodInDays: aws.String("30"),
		Description: aws.String("the orders domain"),
		Tags:        []types.ResourceTag{{Key: aws.String("team"), Value: aws.String("billing")}, {Key: aws.String("env")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = before
	out := rgDescribeDomain(t, c, "orders")
	di := out.DomainInfo
	if aws.ToString(di.Name) != "orders" || di.Status != types.RegistrationStatusRegistered ||
		aws.ToString(di.Description) != "the orders domain" || aws.ToString(di.Arn) != rgARN("orders") {
		t.Errorf("domainInfo = name %q status %q description %q arn %q", aws.ToString(di.Name), di.Status, aws.ToString(di.Description), aws.ToString(di.Arn))
	}
	if got := aws.ToString(out.Configuration.WorkflowExecutionRetentionPeriodInDays); got != "30" {
		t.Errorf("retention = %q, want \"30\"", got)
	}
	tags, err := c.ListTagsForResource(ctx, &swf.ListTagsForResourceInput{ResourceArn: aws.String(rgARN("orders"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 2 || aws.ToString(tags.Tags[0].Key) != "team" || aws.ToString(tags.Tags[0].Value) != "billing" || aws.ToString(tags.Tags[1].Key) != "env" {
		t.Errorf("tags = %+v", tags.Tags)
	}

	// A domain without description has none.
	rgDomain(t, c, "bare")
	if d := rgDescribeDomain(t, c, "bare").DomainInfo.Description; d != nil {
		t.Errorf("description = %q, want absent", *d)
	}
	_, err = c.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String("nope")})
	rgFaultMsg[*types.UnknownResourceFault](t, err, "Unknown domain: nope")
}

func TestRegistryRetention(t *testing.T) {
	_, c := rgEnv(t)
	ctx := rgCtx(t)
	for i, r := range []string{"0", "1", "7", "89", "90", "NONE"} {
		name := fmt.Sprintf("ret%d", i)
		if _, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(name), WorkflowExecutionRetentionPeriodInDays: aws.String(r)}); err != nil {
			t.Errorf("retention %q: %v", r, err)
			continue
		}
		if got := aws.ToString(rgDescribeDomain(t, c, name).Configuration.WorkflowExecutionRetentionPeriodInDays); got != r {
			t.Errorf("retention %q described as %q", r, got)
		}
	}
	for _, r := range []string{"91", "100", "-1", "abc", "none", "1.5", " 7", "+5", "0x10", ""} {
		_, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("bad-ret"), WorkflowExecutionRetentionPeriodInDays: aws.String(r)})
		rgValidation(t, err, "workflowExecutionRetentionPeriodInDays")
	}
	if names := rgDomainNames(t, c, types.RegistrationStatusRegistered); len(names) != 6 {
		t.Errorf("domains after rejected registrations: %v", names)
	}
}

func TestRegistryDomainNameRules(t *testing.T) {
	_, c := rgEnv(t)
	ctx := rgCtx(t)
	for _, name := range []string{"a:b", "a/b", "a|b", "a\tb", "a\x00b", "a\x7fb", "a\u0085b", "arn", " lead", "trail ", "\tx", ""} {
		_, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(name), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
		rgValidation(t, err, "'name'")
	}
	for _, name := range []string{"ARN", "arns", "a-b_c.d", "with space", "ünïcödé", strings.Repeat("n", 256)} {
		if _, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(name), WorkflowExecutionRetentionPeriodInDays: aws.String("1")}); err != nil {
			t.Errorf("name %q rejected: %v", name, err)
		}
	}
	_, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String(strings.Repeat("n", 257)), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
	rgValidation(t, err, "'name'", "less than or equal to 256")
	// Two problems at once are both reported.
	_, err = c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("a:b"), WorkflowExecutionRetentionPeriodInDays: aws.String("91")})
	rgValidation(t, err, "2 validation errors detected", "'name'", "'workflowExecutionRetentionPeriodInDays'")
}

func TestRegistryDomainAlreadyExists(t *testing.T) {
	_, c := rgEnv(t)
	ctx := rgCtx(t)
	rgDomain(t, c, "dup")
	_, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("dup"), WorkflowExecutionRetentionPeriodInDays: aws.String("5")})
	rgFaultMsg[*types.DomainAlreadyExistsFault](t, err, "dup")
	// The first registration is untouched.
	if got := aws.ToString(rgDescribeDomain(t, c, "dup").Configuration.WorkflowExecutionRetentionPeriodInDays); got != "1" {
		t.Errorf("retention overwritten: %q", got)
	}
	if _, err := c.DeprecateDomain(ctx, &swf.DeprecateDomainInput{Name: aws.String("dup")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("dup"), WorkflowExecutionRetentionPeriodInDays: aws.String("5")})
	rgFault[*types.DomainAlreadyExistsFault](t, err)
	// Names are case sensitive.
	rgDomain(t, c, "DUP")
}

func TestRegistryDomainLimit(t *testing.T) {
	_, c := rgEnv(t)
	ctx := rgCtx(t)
	for i := 0; i < 100; i++ {
		rgDomain(t, c, fmt.Sprintf("d%03d", i))
	}
	// Deprecated domains count.
	if _, err := c.DeprecateDomain(ctx, &swf.DeprecateDomainInput{Name: aws.String("d000")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("one-too-many"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
	rgFault[*types.LimitExceededFault](t, err)
	if _, err := c.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String("one-too-many")}); err == nil {
		t.Errorf("domain over the limit was created")
	}
}

func TestRegistryDomainLimitConfigured(t *testing.T) {
	srv := swfdtest.Start(t, swfdtest.Options{Config: func(cfg *server.Config) {
		l := service.DefaultLimits
		l.MaxDomains = 3
		l.MaxTagsPerDomain = 2
		l.MaxTypesPerKind = 2
		cfg.Limits = l
	}})
	c := srv.Client()
	ctx := rgCtx(t)
	for i := 0; i < 3; i++ {
		rgDomain(t, c, fmt.Sprintf("d%d", i))
	}
	_, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("d3"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
	rgFault[*types.LimitExceededFault](t, err)
	// Types: the limit is per kind and per domain, deprecated ones count.
	rgActivity(t, c, "d0", "a", "1")
	rgActivity(t, c, "d0", "a", "2")
	if _, err := c.DeprecateActivityType(ctx, &swf.DeprecateActivityTypeInput{Domain: aws.String("d0"), ActivityType: &types.ActivityType{Name: aws.String("a"), Version: aws.String("1")}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{Domain: aws.String("d0"), Name: aws.String("a"), Version: aws.String("3")})
	rgFault[*types.LimitExceededFault](t, err)
	rgWorkflow(t, c, "d0", "a", "1")
	rgActivity(t, c, "d1", "a", "1")
	_, err = c.TagResource(ctx, &swf.TagResourceInput{ResourceArn: aws.String(rgARN("d0")), Tags: []types.ResourceTag{
		{Key: aws.String("a")}, {Key: aws.String("b")}, {Key: aws.String("c")}}})
	rgFault[*types.TooManyTagsFault](t, err)
}

// A configuration that sets only some limits keeps the defaults for the rest.
func TestRegistryPartialLimits(t *testing.T) {
	srv := swfdtest.Start(t, swfdtest.Options{Config: func(cfg *server.Config) {
		cfg.Limits = service.Limits{MaxDomains: 2}
	}})
	c := srv.Client()
	ctx := rgCtx(t)
	_, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("p0"), WorkflowExecutionRetentionPeriodInDays: aws.String("1"), Tags: manyTags(50, "k")})
	if err != nil {
		t.Fatalf("50 tags with only MaxDomains configured: %v", err)
	}
	rgDomain(t, c, "p1")
	_, err = c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("p2"), WorkflowExecutionRetentionPeriodInDays: aws.String("1")})
	rgFault[*types.LimitExceededFault](t, err)
}

func manyTags(n int, prefix string) []types.ResourceTag {
	var tags []types.ResourceTag
	for i := 0; i < n; i++ {
		tags = append(tags, types.ResourceTag{Key: aws.String(fmt.Sprintf("%s%02d", prefix, i)), Value: aws.String("v")})
	}
	return tags
}

func TestRegistryRegisterDomainTooManyTags(t *testing.T) {
	_, c := rgEnv(t)
	ctx := rgCtx(t)
	_, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("t51"), WorkflowExecutionRetentionPeriodInDays: aws.String("1"), Tags: manyTags(51, "k")})
	rgFault[*types.TooManyTagsFault](t, err)
	if _, err := c.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String("t51")}); err == nil {
		t.Errorf("domain registered despite TooManyTagsFault")
	}
	if _, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("t50"), WorkflowExecutionRetentionPeriodInDays: aws.String("1"), Tags: manyTags(50, "k")}); err != nil {
		t.Fatalf("50 tags: %v", err)
	}
	// Bad tag text.
	_, err = c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("tbad"), WorkflowExecutionRetentionPeriodInDays: aws.String("1"),
		Tags: []types.ResourceTag{{Key: aws.String("ok")}, {Key: aws.String("no*star")}}})
	rgValidation(t, err, "tags.2.member.key")
	_, err = c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("tbad"), WorkflowExecutionRetentionPeriodInDays: aws.String("1"),
		Tags: []types.ResourceTag{{Key: aws.String(strings.Repeat("k", 129))}}})
	rgValidation(t, err, "tags.1.member.key")
}

func TestRegistryDeprecateUndeprecateDomain(t *testing.T) {
	_, c := rgEnv(t)
	ctx := rgCtx(t)
	rgDomain(t, c, "dep")
	rgActivity(t, c, "dep", "act", "1")
	rgActivity(t, c, "dep", "act", "2")
	rgWorkflow(t, c, "dep", "wf", "1")
	if _, err := c.DeprecateDomain(ctx, &swf.DeprecateDomainInput{Name: aws.String("dep")}); err != nil {
		t.Fatal(err)
	}
	if st := rgDescribeDomain(t, c, "dep").DomainInfo.Status; st != types.RegistrationStatusDeprecated {
		t.Errorf("status = %s", st)
	}
	_, err := c.DeprecateDomain(ctx, &swf.DeprecateDomainInput{Name: aws.String("dep")})
	rgFault[*types.DomainDeprecatedFault](t, err)
	_, err = c.DeprecateDomain(ctx, &swf.DeprecateDomainInput{Name: aws.String("nope")})
	rgFault[*types.UnknownResourceFault](t, err)

	// Every type in it is deprecated, with a deprecation date.
	for _, v := range []string{"1", "2"} {
		out, err := c.DescribeActivityType(ctx, &swf.DescribeActivityTypeInput{Domain: aws.String("dep"), ActivityType: &types.ActivityType{Name: aws.String("act"), Version: aws.String(v)}})
		if err != nil {
			t.Fatal(err)
		}
		if out.TypeInfo.Status != types.RegistrationStatusDeprecated || out.TypeInfo.DeprecationDate == nil {
			t.Errorf("activity type %s after domain deprecation: %s %v", v, out.TypeInfo.Status, out.TypeInfo.DeprecationDate)
		}
	}
	wf, err := c.DescribeWorkflowType(ctx, &swf.DescribeWorkflowTypeInput{Domain: aws.String("dep"), WorkflowType: &types.WorkflowType{Name: aws.String("wf"), Version: aws.String("1")}})
	if err != nil {
		t.Fatal(err)
	}
	if wf.TypeInfo.Status != types.RegistrationStatusDeprecated || wf.TypeInfo.DeprecationDate == nil {
		t.Errorf("workflow type after domain deprecation: %s", wf.TypeInfo.Status)
	}
	// Registering in a deprecated domain: UnknownResourceFault.
	_, err = c.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{Domain: aws.String("dep"), Name: aws.String("act"), Version: aws.String("3")})
	rgFault[*types.UnknownResourceFault](t, err)
	_, err = c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String("dep"), Name: aws.String("wf"), Version: aws.String("2")})
	rgFault[*types.UnknownResourceFault](t, err)
	// Listing by status.
	if got := rgDomainNames(t, c, types.RegistrationStatusDeprecated); !reflect.DeepEqual(got, []string{"dep"}) {
		t.Errorf("deprecated domains = %v", got)
	}
	if got := rgDomainNames(t, c, types.RegistrationStatusRegistered); len(got) != 0 {
		t.Errorf("registered domains = %v", got)
	}

	if _, err := c.UndeprecateDomain(ctx, &swf.UndeprecateDomainInput{Name: aws.String("dep")}); err != nil {
		t.Fatal(err)
	}
	if st := rgDescribeDomain(t, c, "dep").DomainInfo.Status; st != types.RegistrationStatusRegistered {
		t.Errorf("status after undeprecate = %s", st)
	}
	_, err = c.UndeprecateDomain(ctx, &swf.UndeprecateDomainInput{Name: aws.String("dep")})
	rgFault[*types.DomainAlreadyExistsFault](t, err)
	_, err = c.UndeprecateDomain(ctx, &swf.UndeprecateDomainInput{Name: aws.String("nope")})
	rgFault[*types.UnknownResourceFault](t, err)
	// Registration works again.
	rgActivity(t, c, "dep", "act", "3")
}

func TestRegistryListDomainsPaging(t *testing.T) {
	_, c := rgEnv(t)
	ctx := rgCtx(t)
	var want []string
	for i := 0; i < 7; i++ {
		name := fmt.Sprintf("p%d", i)
		want = append(want, name)
	}
	// Register out of order; listing is by name.
	for _, i := range []int{3, 0, 6, 1, 5, 2, 4} {
		rgDomain(t, c, want[i])
	}
	rgDomain(t, c, "zz-deprecated")
	if _, err := c.DeprecateDomain(ctx, &swf.DeprecateDomainInput{Name: aws.String("zz-deprecated")}); err != nil {
		t.Fatal(err)
	}
	for _, reverse := range []bool{false, true} {
		var got []string
		var token *string
		pages := 0
		for {
			out, err := c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 3, ReverseOrder: reverse, NextPageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(out.DomainInfos) > 3 {
				t.Errorf("page of %d > maximumPageSize 3", len(out.DomainInfos))
			}
			for _, d := range out.DomainInfos {
				got = append(got, *d.Name)
				if d.Status != types.RegistrationStatusRegistered || aws.ToString(d.Arn) != rgARN(*d.Name) {
					t.Errorf("domain info %s: %s %s", *d.Name, d.Status, aws.ToString(d.Arn))
				}
			}
			if out.NextPageToken == nil {
				break
			}
			if *out.NextPageToken == "" {
				t.Fatalf("empty nextPageToken present")
			}
			token = out.NextPageToken
		}
		exp := append([]string(nil), want...)
		if reverse {
			sort.Sort(sort.Reverse(sort.StringSlice(exp)))
		}
		if !reflect.DeepEqual(got, exp) {
			t.Errorf("reverse=%v: listed %v, want %v", reverse, got, exp)
		}
		if pages != 3 {
			t.Errorf("reverse=%v: %d pages, want 3", reverse, pages)
		}
	}
	// Exactly one full page: no token.
	out, err := c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.DomainInfos) != 7 || out.NextPageToken != nil {
		t.Errorf("page of exactly all: %d items, token %v", len(out.DomainInfos), out.NextPageToken)
	}
	// maximumPageSize 0 means the default (1000).
	out, err = c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 0})
	if err != nil || len(out.DomainInfos) != 7 || out.NextPageToken != nil {
		t.Errorf("page size 0: %v %v", out, err)
	}
	_, err = c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 1001})
	rgValidation(t, err, "maximumPageSize")
	_, err = c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: "BOGUS"})
	rgValidation(t, err, "Member must satisfy enum value set: [REGISTERED, DEPRECATED]")
	// An empty list is an empty array.
	out, err = c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusDeprecated, MaximumPageSize: 1, NextPageToken: nil})
	if err != nil || len(out.DomainInfos) != 1 || out.NextPageToken != nil {
		t.Errorf("deprecated list: %+v %v", out, err)
	}
}

// Registering names between page requests neither skips nor repeats
// a name that existed all along, and never repeats any name.
func TestRegistryListDomainsConcurrentInserts(t *testing.T) {
	srv := swfdtest.Start(t, swfdtest.Options{Config: func(cfg *server.Config) {
		l := service.DefaultLimits
		l.MaxDomains = 1000
		cfg.Limits = l
	}})
	c := srv.Client()
	ctx := rgCtx(t)
	var initial []string
	for i := 0; i < 10; i++ {
		n := fmt.Sprintf("m%02d", i*10)
		initial = append(initial, n)
		rgDomain(t, c, n)
	}
	for _, reverse := range []bool{false, true} {
		seen := map[string]int{}
		var order []string
		var token *string
		step := 0
		for {
			out, err := c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 3, ReverseOrder: reverse, NextPageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range out.DomainInfos {
				seen[*d.Name]++
				order = append(order, *d.Name)
			}
			if out.NextPageToken == nil {
				break
			}
			token = out.NextPageToken
			// Insert names before, between and after the cursor.
			step++
			if step > 100 {
				t.Fatalf("reverse=%v: listing does not end", reverse)
			}
			for _, n := range []string{fmt.Sprintf("a-%v-%d", reverse, step), fmt.Sprintf("m%02d-%v", step*10+5, reverse), fmt.Sprintf("z-%v-%d", reverse, step)} {
				rgDomain(t, c, n)
			}
		}
		for n, k := range seen {
			if k > 1 {
				t.Errorf("reverse=%v: %s listed %d times", reverse, n, k)
			}
		}
		for _, n := range initial {
			if seen[n] != 1 {
				t.Errorf("reverse=%v: %s skipped", reverse, n)
			}
		}
		for i := 1; i < len(order); i++ {
			if (order[i-1] >= order[i]) != reverse {
				t.Errorf("reverse=%v: out of order: %q then %q", reverse, order[i-1], order[i])
			}
		}
	}
}

func TestRegistryPageTokens(t *testing.T) {
	_, c := rgEnv(t)
	ctx := rgCtx(t)
	for i := 0; i < 4; i++ {
		rgDomain(t, c, fmt.Sprintf("tok%d", i))
	}
	out, err := c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 2})
	if err != nil || out.NextPageToken == nil {
		t.Fatalf("first page: %v %v", out, err)
	}
	tok := *out.NextPageToken
	// Tampered tokens.
	for _, bad := range []string{
		tok[:len(tok)-2] + flip(tok[len(tok)-2]) + tok[len(tok)-1:],
		flip(tok[0]) + tok[1:],
		tok[:len(tok)/2],
		"not a token",
		"AAAA",
		"%%%",
	} {
		_, err := c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 2, NextPageToken: aws.String(bad)})
		rgValidation(t, err)
	}
	// Reused with other arguments.
	_, err = c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusDeprecated, MaximumPageSize: 2, NextPageToken: aws.String(tok)})
	rgValidation(t, err)
	_, err = c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 2, ReverseOrder: true, NextPageToken: aws.String(tok)})
	rgValidation(t, err)
	// A domain token is no good for types.
	rgDomain(t, c, "types-here")
	_, err = c.ListActivityTypes(ctx, &swf.ListActivityTypesInput{Domain: aws.String("types-here"), RegistrationStatus: types.RegistrationStatusRegistered, NextPageToken: aws.String(tok)})
	rgValidation(t, err)
	// The genuine token still works, and twice.
	for i := 0; i < 2; i++ {
		out, err := c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 2, NextPageToken: aws.String(tok)})
		if err != nil || len(out.DomainInfos) != 2 || *out.DomainInfos[0].Name != "tok2" {
			t.Fatalf("genuine token: %+v %v", out, err)
		}
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

// ---- types ----

func TestRegistryActivityTypeLifecycle(t *testing.T) {
	_, c := rgEnv(t)
	ctx := rgCtx(t)
	rgDomain(t, c, "acts")
	before := time.Now().Add(-time.Second)
	full := &swf.RegisterActivityTypeInput{
		Domain: aws.String("acts"), Name: aws.String("resize"), Version: aws.String("1.0"),
		Description:                       aws.String("resizes images"),
		DefaultTaskList:                   &types.TaskList{Name: aws.String("images")},
		DefaultTaskPriority:               aws.String("-5"),
		DefaultTaskStartToCloseTimeout:    aws.String("300"),
		DefaultTaskHeartbeatTimeout:       aws.String("NONE"),
		DefaultTaskScheduleToStartTimeout: aws.String("60"),
		DefaultTaskScheduleToCloseTimeout: aws.String("0"),
	}
	if _, err := c.RegisterActivityType(ctx, full); err != nil {
		t.Fatal(err)
	}
	at := &types.ActivityType{Name: aws.String("resize"), Version: aws.String("1.0")}
	out, err := c.DescribeActivityType(ctx, &swf.DescribeActivityTypeInput{Domain: aws.String("acts"), ActivityType: at})
	if err != nil {
		t.Fatal(err)
	}
	ti, cfg := out.TypeInfo, out.Configuration
	if aws.ToString(ti.ActivityType.Name) != "resize" || aws.ToString(ti.ActivityType.Version) != "1.0" || ti.Status != types.RegistrationStatusRegistered ||
		aws.ToString(ti.Description) != "resizes images" {
		t.Errorf("typeInfo = %+v", ti)
	}
	if ti.CreationDate == nil || ti.CreationDate.Before(before) || ti.CreationDate.After(time.Now().Add(time.Second)) {
		t.Errorf("creationDate = %v", ti.CreationDate)
	}
	if ti.DeprecationDate != nil {
		t.Errorf("deprecationDate present while registered: %v", ti.DeprecationDate)
	}
	if cfg.DefaultTaskList == nil || aws.ToString(cfg.DefaultTaskList.Name) != "images" || aws.ToString(cfg.DefaultTaskPriority) != "-5" ||
		aws.ToString(cfg.DefaultTaskStartToCloseTimeout) != "300" || aws.ToString(cfg.DefaultTaskHeartbeatTimeout) != "NONE" ||
		aws.ToString(cfg.DefaultTaskScheduleToStartTimeout) != "60" || aws.ToString(cfg.DefaultTaskScheduleToCloseTimeout) != "0" {
		t.Errorf("configuration = %+v", cfg)
	}

	// A type registered with nothing optional describes with nothing optional.
	rgActivity(t, c, "acts", "plain", "1")
	out, err = c.DescribeActivityType(ctx, &swf.DescribeActivityTypeInput{Domain: aws.String("acts"), ActivityType: &types.ActivityType{Name: aws.String("plain"), Version: aws.String("1")}})
	if err != nil {
		t.Fatal(err)
	}
	if c := out.Configuration; c == nil || c.DefaultTaskList != nil || c.DefaultTaskPriority != nil || c.DefaultTaskStartToCloseTimeout != nil ||
		c.DefaultTaskHeartbeatTimeout != nil || c.DefaultTaskScheduleToStartTimeout != nil || c.DefaultTaskScheduleToCloseTimeout != nil {
		t.Errorf("bare configuration = %+v", c)
	}
	if out.TypeInfo.Description != nil {
		t.Errorf("bare description = %q", *out.TypeInfo.Description)
	}

	// Already exists, in any status.
	_, err = c.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{Domain: aws.String("acts"), Name: aws.String("resize"), Version: aws.String("1.0")})
	rgFaultMsg[*types.TypeAlreadyExistsFault](t, err, "ActivityType=[name=resize, version=1.0]")

	// Undeprecate while registered.
	_, err = c.UndeprecateActivityType(ctx, &swf.UndeprecateActivityTypeInput{Domain: aws.String("acts"), ActivityType: at})
	rgFault[*types.TypeAlreadyExistsFault](t, err)
	// Delete while registered.
	_, err = c.DeleteActivityType(ctx, &swf.DeleteActivityTypeInput{Domain: aws.String("acts"), ActivityType: at})
	rgFaultMsg[*types.TypeNotDeprecatedFault](t, err, "The type is currently registered and cannot be deleted in its current state")

	if _, err := c.DeprecateActivityType(ctx, &swf.DeprecateActivityTypeInput{Domain: aws.String("acts"), ActivityType: at}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeprecateActivityType(ctx, &swf.DeprecateActivityTypeInput{Domain: aws.String("acts"), ActivityType: at})
	rgFaultMsg[*types.TypeDeprecatedFault](t, err, "ActivityType=[name=resize, version=1.0]")
	out, err = c.DescribeActivityType(ctx, &swf.DescribeActivityTypeInput{Domain: aws.String("acts"), ActivityType: at})
	if err != nil {
		t.Fatal(err)
	}
	if out.TypeInfo.Status != types.RegistrationStatusDeprecated || out.TypeInfo.DeprecationDate == nil || out.TypeInfo.DeprecationDate.Before(*out.TypeInfo.CreationDate) {
		t.Errorf("after deprecate: %s %v", out.TypeInfo.Status, out.TypeInfo.DeprecationDate)
	}
	// Configuration unchanged by deprecation.
	if aws.ToString(out.Configuration.DefaultTaskHeartbeatTimeout) != "NONE" {
		t.Errorf("configuration changed: %+v", out.Configuration)
	}
	_, err = c.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{Domain: aws.String("acts"), Name: aws.String("resize"), Version: aws.String("1.0")})
	rgFault[*types.TypeAlreadyExistsFault](t, err)

	if _, err := c.UndeprecateActivityType(ctx, &swf.UndeprecateActivityTypeInput{Domain: aws.String("acts"), ActivityType: at}); err != nil {
		t.Fatal(err)
	}
	out, err = c.DescribeActivityType(ctx, &swf.DescribeActivityTypeInput{Domain: aws.String("acts"), ActivityType: at})
	if err != nil {
		t.Fatal(err)
	}
	if out.TypeInfo.Status != types.RegistrationStatusRegistered || out.TypeInfo.DeprecationDate != nil {
		t.Errorf("after undeprecate: %s %v", out.TypeInfo.Status, out.TypeInfo.DeprecationDate)
	}

	// Deprecate then delete.
	if _, err := c.DeprecateActivityType(ctx, &swf.DeprecateActivityTypeInput{Domain: aws.String("acts"), ActivityType: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteActivityType(ctx, &swf.DeleteActivityTypeInput{Domain: aws.String("acts"), ActivityType: at}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeActivityType(ctx, &swf.DescribeActivityTypeInput{Domain: aws.String("acts"), ActivityType: at})
	rgFaultMsg[*types.UnknownResourceFault](t, err, "Unknown type: ActivityType=[name=resize, version=1.0]")
	_, err = c.DeleteActivityType(ctx, &swf.DeleteActivityTypeInput{Domain: aws.String("acts"), ActivityType: at})
	rgFault[*types.UnknownResourceFault](t, err)
	for _, call := range []func() error{
		func() error {
			_, err := c.DeprecateActivityType(ctx, &swf.DeprecateActivityTypeInput{Domain: aws.String("acts"), ActivityType: at})
			return err
		},
		func() error {
			_, err := c.UndeprecateActivityType(ctx, &swf.UndeprecateActivityTypeInput{Domain: aws.String("acts"), ActivityType: at})
			return err
		},
	} {
		rgFault[*types.UnknownResourceFault](t, call())
	}
	// After deletion the name/version can be registered anew.
	rgActivity(t, c, "acts", "resize", "1.0")

	// Unknown domain.
	_, err = c.DescribeActivityType(ctx, &swf.DescribeActivityTypeInput{Domain: aws.String("nope"), ActivityType: at})
	rgFaultMsg[*types.UnknownResourceFault](t, err, "Unknown domain: nope")
	_, err = c.RegisterActivityType(ctx, &swf.RegisterActivityTypeInput{Domain: aws.String("nope"), Name: aws.String("x"), Version: aws.String("1")})
	rgFault[*types.UnknownResourceFault](t, err)
	_, err = c.ListActivityTypes(ctx, &swf.ListActivityTypesInput{Domain: aws.String("nope"), RegistrationStatus: types.RegistrationStatusRegistered})
	rgFault[*types.UnknownResourceFault](t, err)
	// Same name in another kind is a different type.
	_, err = c.DescribeWorkflowType(ctx, &swf.DescribeWorkflowTypeInput{Domain: aws.String("acts"), WorkflowType: &types.WorkflowType{Name: aws.String("resize"), Version: aws.String("1.0")}})
	rgFaultMsg[*types.UnknownResourceFault](t, err, "Unknown type: WorkflowType=[name=resize, version=1.0]")
}

func TestRegistryWorkflowTypeLifecycle(t *testing.T) {
	_, c := rgEnv(t)
	ctx := rgCtx(t)
	rgDomain(t, c, "wfs")
	in := &swf.RegisterWorkflowTypeInput{
		Domain: aws.String("wfs"), Name: aws.String("order"), Version: aws.String("v1"),
		Description:                         aws.String("order flow"),
		DefaultTaskList:                     &types.TaskList{Name: aws.String("deciders")},
		DefaultTaskPriority:                 aws.String("10"),
		DefaultTaskStartToCloseTimeout:      aws.String("NONE"),
		DefaultExecutionStartToCloseTimeout: aws.String("3600"),
		DefaultChildPolicy:                  types.ChildPolicyRequestCancel,
		DefaultLambdaRole:                   aws.String("arn:aws:iam::123456789012:role/lambda"),
	}
	if _, err := c.RegisterWorkflowType(ctx, in); err != nil {
		t.Fatal(err)
	}
	wt := &types.WorkflowType{Name: aws.String("order"), Version: aws.String("v1")}
	out, err := c.DescribeWorkflowType(ctx, &swf.DescribeWorkflowTypeInput{Domain: aws.String("wfs"), WorkflowType: wt})
	if err != nil {
		t.Fatal(err)
	}
	cfg := out.Configuration
	if cfg.DefaultTaskList == nil || aws.ToString(cfg.DefaultTaskList.Name) != "deciders" || aws.ToString(cfg.DefaultTaskPriority) != "10" ||
		aws.ToString(cfg.DefaultTaskStartToCloseTimeout) != "NONE" || aws.ToString(cfg.DefaultExecutionStartToCloseTimeout) != "3600" ||
		cfg.DefaultChildPolicy != types.ChildPolicyRequestCancel || aws.ToString(cfg.DefaultLambdaRole) != "arn:aws:iam::123456789012:role/lambda" {
		t.Errorf("configuration = %+v", cfg)
	}
	if out.TypeInfo.CreationDate == nil || out.TypeInfo.DeprecationDate != nil || aws.ToString(out.TypeInfo.Description) != "order flow" {
		t.Errorf("typeInfo = %+v", out.TypeInfo)
	}
	rgWorkflow(t, c, "wfs", "bare", "1")
	out, err = c.DescribeWorkflowType(ctx, &swf.DescribeWorkflowTypeInput{Domain: aws.String("wfs"), WorkflowType: &types.WorkflowType{Name: aws.String("bare"), Version: aws.String("1")}})
	if err != nil {
		t.Fatal(err)
	}
	if c := out.Configuration; c.DefaultTaskList != nil || c.DefaultTaskPriority != nil || c.DefaultTaskStartToCloseTimeout != nil ||
		c.DefaultExecutionStartToCloseTimeout != nil || c.DefaultChildPolicy != "" || c.DefaultLambdaRole != nil {
		t.Errorf("bare configuration = %+v", c)
	}

	_, err = c.RegisterWorkflowType(ctx, &swf.RegisterWorkflowTypeInput{Domain: aws.String("wfs"), Name: aws.String("order"), Version: aws.String("v1")})
	rgFaultMsg[*types.TypeAlreadyExistsFault](t, err, "WorkflowType=[name=order, version=v1]")
	_, err = c.UndeprecateWorkflowType(ctx, &swf.UndeprecateWorkflowTypeInput{Domain: aws.String("wfs"), WorkflowType: wt})
	rgFault[*types.TypeAlreadyExistsFault](t, err)
	_, err = c.DeleteWorkflowType(ctx, &swf.DeleteWorkflowTypeInput{Domain: aws.String("wfs"), WorkflowType: wt})
	rgFault[*types.TypeNotDeprecatedFault](t, err)
	if _, err := c.DeprecateWorkflowType(ctx, &swf.DeprecateWorkflowTypeInput{Domain: aws.String("wfs"), WorkflowType: wt}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeprecateWorkflowType(ctx, &swf.DeprecateWorkflowTypeInput{Domain: aws.String("wfs"), WorkflowType: wt})
	rgFaultMsg[*types.TypeDeprecatedFault](t, err, "WorkflowType=[name=order, version=v1]")
	out, err = c.DescribeWorkflowType(ctx, &swf.DescribeWorkflowTypeInput{Domain: aws.String("wfs"), WorkflowType: wt})
	if err != nil || out.TypeInfo.Status != types.RegistrationStatusDeprecated || out.TypeInfo.DeprecationDate == nil {
		t.Fatalf("after deprecate: %+v %v", out, err)
	}
	if _, err := c.UndeprecateWorkflowType(ctx, &swf.UndeprecateWorkflowTypeInput{Domain: aws.String("wfs"), WorkflowType: wt}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeprecateWorkflowType(ctx, &swf.DeprecateWorkflowTypeInput{Domain: aws.String("wfs"), WorkflowType: wt}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteWorkflowType(ctx, &swf.DeleteWorkflowTypeInput{Domain: aws.String("wfs"), WorkflowType: wt}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeWorkflowType(ctx, &swf.DescribeWorkflowTypeInput{Domain: aws.String("wfs"), WorkflowType: wt})
	rgFaultMsg[*types.UnknownResourceFault](t, err, "Unknown type: WorkflowType=[name=order, version=v1]")
	_, err = c.DescribeWorkflowType(ctx, &swf.DescribeWorkflowTypeInput{Domain: aws.String("nope"), WorkflowType: wt})
	rgFault[*types.UnknownResourceFault](t, err)
	// After deletion the name/version can be registered anew.
	rgWorkflow(t, c, "wfs", "order", "v1")
}

func TestRegistryTypeValidation(t *testing.T) {
	_, c := rgEnv(t)
	ctx := rgCtx(t)
	rgDomain(t, c, "val")
	reg := func(mod func(*swf.RegisterActivityTypeInput)) error {
		in := &swf.RegisterActivityTypeInput{Domain: aws.String("val"), Name: aws.String("a"), Version: aws.String("1")}
		mod(in)
		_, err := c.RegisterActivityType(ctx, in)
		return err
	}
	for _, name := range []string{"a:b", "a/b", "a|b", "a\nb", "arn"} {
		rgValidation(t, reg(func(in *swf.RegisterActivityTypeInput) { in.Name = aws.String(name) }), "'name'")
		rgValidation(t, reg(func(in *swf.RegisterActivityTypeInput) { in.Version = aws.String(name) }), "'version'")
	}
	rgValidation(t, reg(func(in *swf.RegisterActivityTypeInput) { in.Version = aws.String(strings.Repeat("v", 65)) }), "'version'")
	rgValidation(t, reg(func(in *swf.RegisterActivityTypeInput) { in.DefaultTaskList = &types.TaskList{Name: aws.String("a:b")} }), "defaultTaskList.name")
	rgValidation(t, reg(func(in *swf.RegisterActivityTypeInput) { in.DefaultTaskPriority = aws.String("high") }), "defaultTaskPriority")
	rgValidation(t, reg(func(in *swf.RegisterActivityTypeInput) { in.DefaultTaskPriority = aws.String("2147483648") }), "defaultTaskPriority")
	for _, d := range []string{"abc", "-1", "1.5", "none", " 5"} {
		rgValidation(t, reg(func(in *swf.RegisterActivityTypeInput) { in.DefaultTaskStartToCloseTimeout = aws.String(d) }), "defaultTaskStartToCloseTimeout")
		rgValidation(t, reg(func(in *swf.RegisterActivityTypeInput) { in.DefaultTaskHeartbeatTimeout = aws.String(d) }), "defaultTaskHeartbeatTimeout")
		rgValidation(t, reg(func(in *swf.RegisterActivityTypeInput) { in.DefaultTaskScheduleToStartTimeout = aws.String(d) }), "defaultTaskScheduleToStartTimeout")
		rgValidation(t, reg(func(in *swf.RegisterActivityTypeInput) { in.DefaultTaskScheduleToCloseTimeout = aws.String(d) }), "defaultTaskScheduleToCloseTimeout")
	}
	rgValidation(t, reg(func(in *swf.RegisterActivityTypeInput) { in.DefaultTaskStartToCloseTimeout = aws.String("123456789") }), "defaultTaskStartToCloseTimeout")
	// Nothing above was registered.
	lt, err := c.ListActivityTypes(ctx, &swf.ListActivityTypesInput{Domain: aws.String("val"), RegistrationStatus: types.RegistrationStatusRegistered})
	if err != nil || len(lt.TypeInfos) != 0 {
		t.Fatalf("types after rejected registrations: %+v %v", lt, err)
	}

	regW := func(mod func(*swf.RegisterWorkflowTypeInput)) error {
		in := &swf.RegisterWorkflowTypeInput{Domain: aws.String("val"), Name: aws.String("w"), Version: aws.String("1")}
		mod(in)
		_, err := c.RegisterWorkflowType(ctx, in)
		return err
	}
	rgValidation(t, regW(func(in *swf.RegisterWorkflowTypeInput) { in.DefaultExecutionStartToCloseTimeout = aws.String("NONE") }), "defaultExecutionStartToCloseTimeout")
	rgValidation(t, regW(func(in *swf.RegisterWorkflowTypeInput) { in.DefaultExecutionStartToCloseTimeout = aws.String("abc") }), "defaultExecutionStartToCloseTimeout")
	rgValidation(t, regW(func(in *swf.RegisterWorkflowTypeInput) {
		in.DefaultExecutionStartToCloseTimeout = aws.String("31536001")
	}), "defaultExecutionStartToCloseTimeout")
	rgValidation(t, regW(func(in *swf.RegisterWorkflowTypeInput) { in.DefaultTaskStartToCloseTimeout = aws.String("-1") }), "defaultTaskStartToCloseTimeout")
	rgValidation(t, regW(func(in *swf.RegisterWorkflowTypeInput) { in.DefaultChildPolicy = "KILL" }), "defaultChildPolicy", "enum value set")
	if err := regW(func(in *swf.RegisterWorkflowTypeInput) {
		in.DefaultExecutionStartToCloseTimeout = aws.String("31536000")
		in.DefaultTaskStartToCloseTimeout = aws.String("NONE")
	}); err != nil {
		t.Errorf("one-year execution timeout rejected: %v", err)
	}
}

func TestRegistryListTypes(t *testing.T) {
	_, c := rgEnv(t)
	ctx := rgCtx(t)
	rgDomain(t, c, "lt")
	type nv struct{ n, v string }
	all := []nv{{"b", "1"}, {"a", "2"}, {"c", "1"}, {"a", "1"}, {"b", "0"}, {"a", "10"}}
	for _, x := range all {
		rgActivity(t, c, "lt", x.n, x.v)
		rgWorkflow(t, c, "lt", x.n, x.v)
	}
	if _, err := c.DeprecateActivityType(ctx, &swf.DeprecateActivityTypeInput{Domain: aws.String("lt"), ActivityType: &types.ActivityType{Name: aws.String("c"), Version: aws.String("1")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeprecateWorkflowType(ctx, &swf.DeprecateWorkflowTypeInput{Domain: aws.String("lt"), WorkflowType: &types.WorkflowType{Name: aws.String("c"), Version: aws.String("1")}}); err != nil {
		t.Fatal(err)
	}
	wantRegistered := []string{"a/1", "a/10", "a/2", "b/0", "b/1"}

	listA := func(name string, reverse bool, size int32) []string {
		var got []string
		var tok *string
		for {
			in := &swf.ListActivityTypesInput{Domain: aws.String("lt"), RegistrationStatus: types.RegistrationStatusRegistered, ReverseOrder: reverse, MaximumPageSize: size, NextPageToken: tok}
			if name != "" {
				in.Name = aws.String(name)
			}
			out, err := c.ListActivityTypes(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if size > 0 && int32(len(out.TypeInfos)) > size {
				t.Errorf("page of %d > %d", len(out.TypeInfos), size)
			}
			for _, ti := range out.TypeInfos {
				got = append(got, *ti.ActivityType.Name+"/"+*ti.ActivityType.Version)
				if ti.CreationDate == nil || ti.Status != types.RegistrationStatusRegistered || ti.DeprecationDate != nil {
					t.Errorf("type info %+v", ti)
				}
			}
			if out.NextPageToken == nil {
				return got
			}
			tok = out.NextPageToken
		}
	}
	listW := func(name string, reverse bool, size int32) []string {
		var got []string
		var tok *string
		for {
			in := &swf.ListWorkflowTypesInput{Domain: aws.String("lt"), RegistrationStatus: types.RegistrationStatusRegistered, ReverseOrder: reverse, MaximumPageSize: size, NextPageToken: tok}
			if name != "" {
				in.Name = aws.String(name)
			}
			out, err := c.ListWorkflowTypes(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if size > 0 && int32(len(out.TypeInfos)) > size {
				t.Errorf("page of %d > %d", len(out.TypeInfos), size)
			}
			for _, ti := range out.TypeInfos {
				got = append(got, *ti.WorkflowType.Name+"/"+*ti.WorkflowType.Version)
			}
			if out.NextPageToken == nil {
				return got
			}
			tok = out.NextPageToken
		}
	}
	rev := func(in []string) []string {
		out := append([]string(nil), in...)
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		return out
	}
	for _, list := range map[string]func(string, bool, int32) []string{"activity": listA, "workflow": listW} {
		for _, size := range []int32{0, 1, 2, 5} {
			if got := list("", false, size); !reflect.DeepEqual(got, wantRegistered) {
				t.Errorf("size %d: %v, want %v", size, got, wantRegistered)
			}
			if got := list("", true, size); !reflect.DeepEqual(got, rev(wantRegistered)) {
				t.Errorf("size %d reverse: %v", size, got)
			}
			if got := list("a", false, size); !reflect.DeepEqual(got, []string{"a/1", "a/10", "a/2"}) {
				t.Errorf("size %d name a: %v", size, got)
			}
			if got := list("a", true, size); !reflect.DeepEqual(got, []string{"a/2", "a/10", "a/1"}) {
				t.Errorf("size %d name a reverse: %v", size, got)
			}
		}
		if got := list("c", false, 0); len(got) != 0 {
			t.Errorf("deprecated c listed as registered: %v", got)
		}
		if got := list("zzz", false, 0); len(got) != 0 {
			t.Errorf("unknown name: %v", got)
		}
	}
	dep, err := c.ListActivityTypes(ctx, &swf.ListActivityTypesInput{Domain: aws.String("lt"), RegistrationStatus: types.RegistrationStatusDeprecated})
	if err != nil || len(dep.TypeInfos) != 1 || *dep.TypeInfos[0].ActivityType.Name != "c" || dep.TypeInfos[0].DeprecationDate == nil {
		t.Errorf("deprecated activity types: %+v %v", dep, err)
	}
	// A token from a name-filtered listing is not valid without the filter.
	out, err := c.ListActivityTypes(ctx, &swf.ListActivityTypesInput{Domain: aws.String("lt"), RegistrationStatus: types.RegistrationStatusRegistered, Name: aws.String("a"), MaximumPageSize: 1})
	if err != nil || out.NextPageToken == nil {
		t.Fatalf("first page: %v", err)
	}
	_, err = c.ListActivityTypes(ctx, &swf.ListActivityTypesInput{Domain: aws.String("lt"), RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 1, NextPageToken: out.NextPageToken})
	rgValidation(t, err)
	_, err = c.ListWorkflowTypes(ctx, &swf.ListWorkflowTypesInput{Domain: aws.String("lt"), RegistrationStatus: types.RegistrationStatusRegistered, Name: aws.String("a"), MaximumPageSize: 1, NextPageToken: out.NextPageToken})
	rgValidation(t, err)
	_, err = c.ListWorkflowTypes(ctx, &swf.ListWorkflowTypesInput{Domain: aws.String("nope"), RegistrationStatus: types.RegistrationStatusRegistered})
	rgFault[*types.UnknownResourceFault](t, err)
}

// ---- tags ----

func TestRegistryTagging(t *testing.T) {
	_, c := rgEnv(t)
	ctx := rgCtx(t)
	rgDomain(t, c, "tg")
	arn := rgARN("tg")
	noSlash := "arn:aws:swf:us-east-1:123456789012:domain/tg"
	list := func(a string) []string {
		t.Helper()
		out, err := c.ListTagsForResource(ctx, &swf.ListTagsForResourceInput{ResourceArn: aws.String(a)})
		if err != nil {
			t.Fatalf("ListTagsForResource %s: %v", a, err)
		}
		var got []string
		for _, tg := range out.Tags {
			got = append(got, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		return got
	}
	if got := list(arn); len(got) != 0 {
		t.Errorf("fresh domain tags = %v", got)
	}
	if _, err := c.TagResource(ctx, &swf.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.ResourceTag{
		{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}); err != nil {
		t.Fatal(err)
	}
	// Upsert through the slash-less form of the ARN.
	if _, err := c.TagResource(ctx, &swf.TagResourceInput{ResourceArn: aws.String(noSlash), Tags: []types.ResourceTag{
		{Key: aws.String("b"), Value: aws.String("two")}, {Key: aws.String("c"), Value: aws.String("3 :/=+-@_.")}}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a=1", "b=two", "c=3 :/=+-@_."}
	if got := list(arn); !reflect.DeepEqual(got, want) {
		t.Errorf("tags = %v, want %v", got, want)
	}
	if got := list(noSlash); !reflect.DeepEqual(got, want) {
		t.Errorf("tags via slash-less ARN = %v", got)
	}
	if _, err := c.UntagResource(ctx, &swf.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a", "not-there"}}); err != nil {
		t.Fatal(err)
	}
	if got := list(arn); !reflect.DeepEqual(got, []string{"b=two", "c=3 :/=+-@_."}) {
		t.Errorf("after untag = %v", got)
	}
	if _, err := c.UntagResource(ctx, &swf.UntagResourceInput{ResourceArn: aws.String(noSlash), TagKeys: []string{"b", "c"}}); err != nil {
		t.Fatal(err)
	}
	if got := list(arn); len(got) != 0 {
		t.Errorf("after untag all = %v", got)
	}

	// 50 tags fit; the 51st key does not; re-setting existing keys does.
	if _, err := c.TagResource(ctx, &swf.TagResourceInput{ResourceArn: aws.String(arn), Tags: manyTags(50, "k")}); err != nil {
		t.Fatalf("50 tags: %v", err)
	}
	_, err := c.TagResource(ctx, &swf.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.ResourceTag{{Key: aws.String("one-more")}}})
	rgFault[*types.TooManyTagsFault](t, err)
	if _, err := c.TagResource(ctx, &swf.TagResourceInput{ResourceArn: aws.String(arn), Tags: manyTags(10, "k")}); err != nil {
		t.Errorf("upserting existing keys at the limit: %v", err)
	}
	if got := list(arn); len(got) != 50 {
		t.Errorf("%d tags after rejected TagResource, want 50", len(got))
	}

	// Unknown resources.
	for _, bad := range []string{
		rgARN("nope"),
		"arn:aws:swf:us-west-2:123456789012:/domain/tg",
		"arn:aws:swf:us-east-1:999999999999:/domain/tg",
		"arn:aws:sqs:us-east-1:123456789012:/domain/tg",
		"arn:aws-cn:swf:us-east-1:123456789012:/domain/tg",
		"arn:foo:swf:us-east-1:123456789012:/domain/tg",
		"arn:aws:swf:us-east-1:123456789012:/workflow/tg",
		"arn:aws:swf:us-east-1:123456789012:/domain/",
		"arn:aws:swf:us-east-1:123456789012:/domain/tg/extra",
		"tg",
		"arn",
	} {
		_, err := c.ListTagsForResource(ctx, &swf.ListTagsForResourceInput{ResourceArn: aws.String(bad)})
		rgFault[*types.UnknownResourceFault](t, err)
		_, err = c.TagResource(ctx, &swf.TagResourceInput{ResourceArn: aws.String(bad), Tags: []types.ResourceTag{{Key: aws.String("x")}}})
		rgFault[*types.UnknownResourceFault](t, err)
		_, err = c.UntagResource(ctx, &swf.UntagResourceInput{ResourceArn: aws.String(bad), TagKeys: []string{"x"}})
		rgFault[*types.UnknownResourceFault](t, err)
	}
	// Invalid tag text.
	_, err = c.TagResource(ctx, &swf.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.ResourceTag{{Key: aws.String("bad#key")}}})
	rgValidation(t, err, "tags.1.member.key")
	_, err = c.TagResource(ctx, &swf.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.ResourceTag{{Key: aws.String("")}}})
	rgValidation(t, err, "tags.1.member.key")
	// A key to remove is held to the rule a key to add is: refused, not
	// taken as a key the domain does not have.
	_, err = c.UntagResource(ctx, &swf.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"k00", "bad#key"}})
	rgValidation(t, err, "'bad#key' at 'tagKeys.2.member'")
	if got := list(arn); len(got) == 0 || got[0] != "k00=v" {
		t.Errorf("tags after a refused untag: %v", got)
	}
	// A key given twice in one request: refused, nothing stored (the domain
	// could keep only one of the values). Keys that differ in case are
	// different keys.
	_, err = c.TagResource(ctx, &swf.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.ResourceTag{
		{Key: aws.String("k00"), Value: aws.String("x")}, {Key: aws.String("k01"), Value: aws.String("y")}, {Key: aws.String("k00"), Value: aws.String("z")}}})
	rgValidation(t, err, "'k00' at 'tags.3.member.key'", "tags.1.member.key")
	_, err = c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("tg-dup"), WorkflowExecutionRetentionPeriodInDays: aws.String("1"),
		Tags: []types.ResourceTag{{Key: aws.String("a")}, {Key: aws.String("a"), Value: aws.String("1")}}})
	rgValidation(t, err, "tags.2.member.key")
	_, err = c.DescribeDomain(ctx, &swf.DescribeDomainInput{Name: aws.String("tg-dup")})
	rgFault[*types.UnknownResourceFault](t, err)
	if got := list(arn); len(got) != 50 || got[0] != "k00=v" || got[1] != "k01=v" {
		t.Errorf("tags after a refused repeated key: %v", got)
	}
	if _, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("tg-case"), WorkflowExecutionRetentionPeriodInDays: aws.String("1"),
		Tags: []types.ResourceTag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("A"), Value: aws.String("2")}, {Key: aws.String("b")}}}); err != nil {
		t.Fatalf("keys that differ in case: %v", err)
	}
	if got := list(rgARN("tg-case")); !reflect.DeepEqual(got, []string{"a=1", "A=2", "b="}) {
		t.Errorf("tg-case tags = %v", got)
	}

	// Tags of a deprecated domain still work.
	if _, err := c.DeprecateDomain(ctx, &swf.DeprecateDomainInput{Name: aws.String("tg")}); err != nil {
		t.Fatal(err)
	}
	if got := list(arn); len(got) != 50 {
		t.Errorf("deprecated domain tags: %d", len(got))
	}
}

// ---- durability ----

func TestRegistryDurableAcrossRestart(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")
	srv := swfdtest.Start(t, swfdtest.Options{DB: db})
	c := srv.Client()
	ctx := rgCtx(t)
	if _, err := c.RegisterDomain(ctx, &swf.RegisterDomainInput{Name: aws.String("durable"), WorkflowExecutionRetentionPeriodInDays: aws.String("NONE"),
		Description: aws.String("survives"), Tags: []types.ResourceTag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	rgActivity(t, c, "durable", "act", "1")
	rgWorkflow(t, c, "durable", "wf", "1")
	if _, err := c.DeprecateWorkflowType(ctx, &swf.DeprecateWorkflowTypeInput{Domain: aws.String("durable"), WorkflowType: &types.WorkflowType{Name: aws.String("wf"), Version: aws.String("1")}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		rgDomain(t, c, fmt.Sprintf("pg%d", i))
	}
	page, err := c.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 2})
	if err != nil || page.NextPageToken == nil {
		t.Fatalf("ListDomains: %v", err)
	}
	srv.Stop()

	srv2 := swfdtest.Start(t, swfdtest.Options{DB: db})
	c2 := srv2.Client()
	d := rgDescribeDomain(t, c2, "durable")
	if aws.ToString(d.DomainInfo.Description) != "survives" || aws.ToString(d.Configuration.WorkflowExecutionRetentionPeriodInDays) != "NONE" {
		t.Errorf("after restart: %+v %+v", d.DomainInfo, d.Configuration)
	}
	tags, err := c2.ListTagsForResource(ctx, &swf.ListTagsForResourceInput{ResourceArn: aws.String(rgARN("durable"))})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "v" {
		t.Errorf("tags after restart: %+v %v", tags, err)
	}
	wf, err := c2.DescribeWorkflowType(ctx, &swf.DescribeWorkflowTypeInput{Domain: aws.String("durable"), WorkflowType: &types.WorkflowType{Name: aws.String("wf"), Version: aws.String("1")}})
	if err != nil || wf.TypeInfo.Status != types.RegistrationStatusDeprecated || wf.TypeInfo.DeprecationDate == nil {
		t.Errorf("workflow type after restart: %+v %v", wf, err)
	}
	if _, err := c2.DescribeActivityType(ctx, &swf.DescribeActivityTypeInput{Domain: aws.String("durable"), ActivityType: &types.ActivityType{Name: aws.String("act"), Version: aws.String("1")}}); err != nil {
		t.Errorf("activity type after restart: %v", err)
	}
	// Page tokens survive a restart.
	next, err := c2.ListDomains(ctx, &swf.ListDomainsInput{RegistrationStatus: types.RegistrationStatusRegistered, MaximumPageSize: 2, NextPageToken: page.NextPageToken})
	if err != nil || len(next.DomainInfos) != 2 || *next.DomainInfos[0].Name != "pg1" {
		t.Errorf("token after restart: %+v %v", next, err)
	}
}

// ---- raw wire shapes (what the SDK would hide) ----

func rgRaw(t *testing.T, url, op, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "SimpleWorkflowService."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestRegistryWireShapes(t *testing.T) {
	srv, _ := rgEnv(t)
	st, h, body := rgRaw(t, srv.URL, "RegisterDomain", `{"name":"w","workflowExecutionRetentionPeriodInDays":"2"}`)
	if st != 200 || body != "" || h.Get("Content-Length") != "0" {
		t.Errorf("RegisterDomain: %d %q Content-Length %q", st, body, h.Get("Content-Length"))
	}
	if _, _, body = rgRaw(t, srv.URL, "ListDomains", `{"registrationStatus":"DEPRECATED"}`); body != `{"domainInfos":[]}` {
		t.Errorf("empty ListDomains = %s", body)
	}
	if _, _, body = rgRaw(t, srv.URL, "ListTagsForResource", `{"resourceArn":"`+rgARN("w")+`"}`); body != `{"tags":[]}` {
		t.Errorf("empty ListTagsForResource = %s", body)
	}
	if _, _, body = rgRaw(t, srv.URL, "DescribeDomain", `{"name":"w"}`); body != `{"configuration":{"workflowExecutionRetentionPeriodInDays":"2"},"domainInfo":{"arn":"`+rgARN("w")+`","name":"w","status":"REGISTERED"}}` {
		t.Errorf("DescribeDomain = %s", body)
	}
	rgRaw(t, srv.URL, "RegisterActivityType", `{"domain":"w","name":"a","version":"1"}`)
	_, _, body = rgRaw(t, srv.URL, "DescribeActivityType", `{"domain":"w","activityType":{"name":"a","version":"1"}}`)
	re := regexp.MustCompile(`^\{"configuration":\{\},"typeInfo":\{"activityType":\{"name":"a","version":"1"\},"creationDate":\d{10}(\.\d{1,3})?,"status":"REGISTERED"\}\}$`)
	if !re.MatchString(body) {
		t.Errorf("DescribeActivityType = %s", body)
	}
	if _, _, body = rgRaw(t, srv.URL, "ListActivityTypes", `{"domain":"w","registrationStatus":"DEPRECATED"}`); body != `{"typeInfos":[]}` {
		t.Errorf("empty ListActivityTypes = %s", body)
	}
	// Unknown members are ignored; a case-variant of a member does not
	// override it.
	st, _, body = rgRaw(t, srv.URL, "DescribeDomain", `{"name":"w","NAME":"other","extra":[1,{"x":2}]}`)
	if st != 200 || !strings.Contains(body, `"name":"w"`) {
		t.Errorf("DescribeDomain with extra members: %d %s", st, body)
	}
}

// TestRegistryEmptyStringsEchoed: a description or a tag value given empty
// is shown as "" wherever SWF shows it, and one not given is left out.
func TestRegistryEmptyStringsEchoed(t *testing.T) {
	srv, _ := rgEnv(t)
	raw := func(op, body string) string {
		t.Helper()
		st, _, out := rgRaw(t, srv.URL, op, body)
		if st != 200 {
			t.Fatalf("%s %s: %d %s", op, body, st, out)
		}
		return out
	}
	raw("RegisterDomain", `{"name":"e","workflowExecutionRetentionPeriodInDays":"1","description":"","tags":[{"key":"empty","value":""},{"key":"none"}]}`)
	raw("RegisterDomain", `{"name":"n","workflowExecutionRetentionPeriodInDays":"1"}`)
	emptyInfo := `{"arn":"` + rgARN("e") + `","description":"","name":"e","status":"REGISTERED"}`
	bareInfo := `{"arn":"` + rgARN("n") + `","name":"n","status":"REGISTERED"}`
	if got, want := raw("DescribeDomain", `{"name":"e"}`), `{"configuration":{"workflowExecutionRetentionPeriodInDays":"1"},"domainInfo":`+emptyInfo+`}`; got != want {
		t.Errorf("DescribeDomain = %s\nwant %s", got, want)
	}
	if got, want := raw("ListDomains", `{"registrationStatus":"REGISTERED"}`), `{"domainInfos":[`+emptyInfo+`,`+bareInfo+`]}`; got != want {
		t.Errorf("ListDomains = %s\nwant %s", got, want)
	}
	if got, want := raw("ListTagsForResource", `{"resourceArn":"`+rgARN("e")+`"}`), `{"tags":[{"key":"empty","value":""},{"key":"none"}]}`; got != want {
		t.Errorf("ListTagsForResource = %s\nwant %s", got, want)
	}
	raw("TagResource", `{"resourceArn":"`+rgARN("n")+`","tags":[{"key":"none"},{"key":"later","value":""}]}`)
	if got, want := raw("ListTagsForResource", `{"resourceArn":"`+rgARN("n")+`"}`), `{"tags":[{"key":"none"},{"key":"later","value":""}]}`; got != want {
		t.Errorf("ListTagsForResource after TagResource = %s\nwant %s", got, want)
	}

	// A type's info as sent, member by member: "description" is there
	// (as `""`) or not.
	type infos struct {
		TypeInfo  map[string]json.RawMessage   `json:"typeInfo"`
		TypeInfos []map[string]json.RawMessage `json:"typeInfos"`
	}
	decode := func(body string) infos {
		t.Helper()
		var out infos
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		return out
	}
	for _, kind := range []string{"Activity", "Workflow"} {
		lower := strings.ToLower(kind)
		raw("Register"+kind+"Type", `{"domain":"e","name":"empty","version":"1","description":""}`)
		raw("Register"+kind+"Type", `{"domain":"e","name":"none","version":"1"}`)
		described := raw("Describe"+kind+"Type", `{"domain":"e","`+lower+`Type":{"name":"empty","version":"1"}}`)
		if d := decode(described).TypeInfo["description"]; string(d) != `""` || !strings.Contains(described, `"description":""`) {
			t.Errorf("Describe%sType of a type described \"\" = %s", kind, described)
		}
		described = raw("Describe"+kind+"Type", `{"domain":"e","`+lower+`Type":{"name":"none","version":"1"}}`)
		if d, ok := decode(described).TypeInfo["description"]; ok {
			t.Errorf("Describe%sType of a type without description has description %s", kind, d)
		}
		// Listed by name: "empty", then "none".
		listed := raw("List"+kind+"Types", `{"domain":"e","registrationStatus":"REGISTERED"}`)
		got := decode(listed).TypeInfos
		if len(got) != 2 || string(got[0]["description"]) != `""` || got[1]["description"] != nil || !strings.Contains(listed, `"description":""`) {
			t.Errorf("List%sTypes = %s", kind, listed)
		}
	}
}
