// Package registry owns SWF's registry: the domain and type operations
// (register, describe, list, deprecate, undeprecate, delete), domain tags,
// and the cache that serves domain and type reads without a query.
//
// Registry reads and writes through a Cache, which every registry write
// through it clears; on a single node the cache is then always exact. In a
// cluster other nodes write the same store: there cached entries expire
// after a TTL, each write here calls the Cache's written function (which
// tells the other nodes), and news of a write elsewhere calls Cache.Clear.
// No write acts on a cached copy: the store applies tag changes to the
// stored list, and checks the domain's status in the transaction that
// registers or undeprecates a type.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/stored"
	"github.com/swfd/swfd/internal/token"
	"github.com/swfd/swfd/internal/validate"
)

// Limits are the registry's quotas.
type Limits struct {
	MaxDomains       int // domains in the account
	MaxTypesPerKind  int // activity types, and workflow types, per domain
	MaxTagsPerDomain int
}

// Options configure a Registry.
type Options struct {
	Store     *Cache
	Clock     swfd.Clock
	Limits    Limits
	AccountID string // for domain ARNs
	Region    string
	Tokens    *token.Keys // for list pages
}

// Registry implements the registry operations of api.Service. Domain and
// Type serve the rest of the service.
type Registry struct {
	store     *Cache
	clock     swfd.Clock
	limits    Limits
	accountID string
	region    string
	tokens    *token.Keys
}

// New returns a Registry over opts.Store.
func New(opts Options) *Registry {
	return &Registry{store: opts.Store, clock: opts.Clock, limits: opts.Limits, accountID: opts.AccountID, region: opts.Region, tokens: opts.Tokens}
}

func (r *Registry) now() time.Time { return r.clock.Now().UTC().Truncate(time.Millisecond) }

func (r *Registry) domainARN(name string) string {
	return fmt.Sprintf("arn:aws:swf:%s:%s:/domain/%s", r.region, r.accountID, name)
}

// UnknownDomain is the fault for a domain that does not exist.
func UnknownDomain(name string) *api.Fault {
	return api.ErrUnknownResource("Unknown domain: %s", name)
}

// ---- domains ----

func (r *Registry) RegisterDomain(ctx context.Context, in *api.RegisterDomainInput) error {
	var c validate.Checker
	c.TrimmedName("name", in.Name)
	ret := in.WorkflowExecutionRetentionPeriodInDays
	if ret != "NONE" {
		// Digits only: Atoi alone would also take "+5" or "-0".
		if n, err := strconv.Atoi(ret); err != nil || !allDigits(ret) || n < 0 || n > 90 {
			c.Add(ret, "workflowExecutionRetentionPeriodInDays", "Member must be a number of days from 0 to 90, or NONE")
		}
	}
	checkResourceTags(&c, in.Tags)
	if err := c.Err(); err != nil {
		return err
	}
	tags := stored.UpdateTags(nil, resourceTags(in.Tags), nil)
	if len(tags) > r.limits.MaxTagsPerDomain {
		return api.NewFault(api.TooManyTagsFault, "A domain can have at most %d tags", r.limits.MaxTagsPerDomain)
	}
	err := r.store.CreateDomain(ctx, swfd.Domain{
		Name:          in.Name,
		Description:   in.Description,
		Status:        swfd.StatusRegistered,
		RetentionDays: ret,
		Tags:          tags,
		Created:       r.now(),
	}, r.limits.MaxDomains)
	switch {
	case errors.Is(err, swfd.ErrAlreadyExists):
		return api.NewFault(api.DomainAlreadyExistsFault, "%s", in.Name)
	case errors.Is(err, swfd.ErrLimitExceeded):
		return api.NewFault(api.LimitExceededFault, "The maximum number of domains (%d) has been reached", r.limits.MaxDomains)
	}
	return err
}

// Domain returns a domain, or UnknownResourceFault if it does not exist.
func (r *Registry) Domain(ctx context.Context, name string) (swfd.Domain, error) {
	d, err := r.store.GetDomain(ctx, name)
	if errors.Is(err, swfd.ErrNotFound) {
		return d, UnknownDomain(name)
	}
	return d, err
}

// registeredDomain returns a domain that is not deprecated; a deprecated
// domain answers UnknownResourceFault as if it did not exist, which is what
// the service does for registrations and new work in it.
func (r *Registry) registeredDomain(ctx context.Context, name string) (swfd.Domain, error) {
	d, err := r.Domain(ctx, name)
	if err == nil && d.Status != swfd.StatusRegistered {
		return d, domainDeprecated(name)
	}
	return d, err
}

func domainDeprecated(name string) *api.Fault {
	return api.ErrUnknownResource("Domain is deprecated: %s", name)
}

func (r *Registry) DescribeDomain(ctx context.Context, in *api.DescribeDomainInput) (*api.DomainDetail, error) {
	d, err := r.Domain(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	return &api.DomainDetail{
		DomainInfo:    r.domainInfo(d),
		Configuration: api.DomainConfiguration{WorkflowExecutionRetentionPeriodInDays: d.RetentionDays},
	}, nil
}

func (r *Registry) domainInfo(d swfd.Domain) api.DomainInfo {
	return api.DomainInfo{Name: d.Name, Status: api.RegistrationStatus(d.Status), Description: d.Description, Arn: r.domainARN(d.Name)}
}

func (r *Registry) DeprecateDomain(ctx context.Context, in *api.DeprecateDomainInput) error {
	d, err := r.Domain(ctx, in.Name)
	if err != nil {
		return err
	}
	if d.Status == swfd.StatusDeprecated {
		return api.NewFault(api.DomainDeprecatedFault, "%s", in.Name)
	}
	return r.store.SetDomainStatus(ctx, in.Name, swfd.StatusDeprecated, r.now())
}

func (r *Registry) UndeprecateDomain(ctx context.Context, in *api.UndeprecateDomainInput) error {
	d, err := r.Domain(ctx, in.Name)
	if err != nil {
		return err
	}
	if d.Status == swfd.StatusRegistered {
		return api.NewFault(api.DomainAlreadyExistsFault, "%s", in.Name)
	}
	// Types deprecated along with the domain stay deprecated: the API has
	// no way to tell which were deprecated on their own, and SWF's
	// documentation does not say (this is swfd's choice, listed in
	// docs/behaviour.md).
	return r.store.SetDomainStatus(ctx, in.Name, swfd.StatusRegistered, r.now())
}

func (r *Registry) ListDomains(ctx context.Context, in *api.ListDomainsInput) (*api.DomainInfos, error) {
	q := swfd.ListQuery{Status: string(in.RegistrationStatus), Reverse: in.ReverseOrder, Limit: token.PageSize(in.MaximumPageSize)}
	scope := fmt.Sprintf("domains|%s|%v", in.RegistrationStatus, in.ReverseOrder)
	if in.NextPageToken != "" {
		after, err := r.tokens.OpenPage(in.NextPageToken, scope)
		if err != nil {
			return nil, err
		}
		q.After = after
	}
	q.Limit++
	ds, err := r.store.ListDomains(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &api.DomainInfos{DomainInfos: []api.DomainInfo{}}
	for i, d := range ds {
		if i == q.Limit-1 {
			out.NextPageToken = r.tokens.PageToken(scope, ds[i-1].Name)
			break
		}
		out.DomainInfos = append(out.DomainInfos, r.domainInfo(d))
	}
	return out, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// ---- domain tags ----

// checkResourceTags checks the tags of RegisterDomain and TagResource: the
// characters of keys and values, and no key given twice (which the guard
// of an authenticated server has refused already, before authorizing).
// An empty value is a value: the model makes it optional with no minimum
// length, and the domain keeps it.
func checkResourceTags(c *validate.Checker, tags []api.ResourceTag) {
	for i, t := range tags {
		checkTagKey(c, fmt.Sprintf("tags.%d.member.key", i+1), t.Key)
		if v := api.Value(t.Value); !validTagText(v) {
			c.Add(v, fmt.Sprintf("tags.%d.member.value", i+1), tagTextRule)
		}
	}
	c.UniqueTagKeys(tags)
}

// checkTagKey checks a resource tag's key, one to add or to remove: its
// characters, and that it does not begin with "aws:", in any case. AWS
// keeps that prefix for the tags its services put on resources; across
// its tagging APIs a caller may neither add a key that has it nor remove
// one, and the services whose models say so refuse it with a
// ValidationException on the member. SWF's model does not say, so the
// case is refused as the services that refuse it most widely do: "AWS:"
// and "Aws:" too. swfd puts no tags of its own on a domain.
func checkTagKey(c *validate.Checker, path, key string) {
	switch {
	case !validTagText(key):
		c.Add(key, path, tagTextRule)
	case reservedTagKey(key):
		c.Add(key, path, reservedTagKeyRule)
	}
}

// reservedTagKey reports whether key begins with AWS's reserved prefix,
// "aws:" in any case.
func reservedTagKey(key string) bool {
	return len(key) >= 4 && strings.EqualFold(key[:4], "aws:")
}

// reservedTagKeyRule is the constraint a key that begins with "aws:"
// breaks.
const reservedTagKeyRule = "Member must not begin with aws: (in any case), the prefix reserved for AWS's own tags"

// tagTextRule is the constraint a resource tag's key or value breaks when
// validTagText refuses it, worded as the service's validation messages are.
const tagTextRule = `Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`

func validTagText(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("_.:/=+-@ ", r):
		case r > 0x7f && (isLetterOrDigitOrSpace(r)):
		default:
			return false
		}
	}
	return true
}

// resourceTags converts a request's tags. A tag's value is kept as given:
// nil when it has none, "" when it was given empty.
func resourceTags(in []api.ResourceTag) []swfd.Tag {
	out := make([]swfd.Tag, len(in))
	for i, t := range in {
		out[i] = swfd.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

// domainNameFromARN returns the domain an ARN names,
// arn:aws:swf:REGION:ACCOUNT:/domain/NAME, in the "aws" partition, swfd's
// own (the slash before "domain" is optional, as IAM documents both forms).
// It does not look the domain up.
func (r *Registry) domainNameFromARN(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "swf" || parts[3] != r.region || parts[4] != r.accountID {
		return "", unknownARN(arn)
	}
	res := strings.TrimPrefix(parts[5], "/")
	name, ok := strings.CutPrefix(res, "domain/")
	if !ok || name == "" {
		return "", unknownARN(arn)
	}
	return name, nil
}

func unknownARN(arn string) *api.Fault { return api.ErrUnknownResource("Unknown resource: %s", arn) }

// updateTags applies a TagResource or UntagResource to the domain arn
// names. The store reads the stored list, changes it and writes it back in
// one transaction, and checks the tag limit against that list: merging
// into a copy read here (from the cache, which may be behind another node
// or a concurrent call) would write back a list that drops their changes.
func (r *Registry) updateTags(ctx context.Context, arn string, add []swfd.Tag, remove []string) error {
	name, err := r.domainNameFromARN(arn)
	if err != nil {
		return err
	}
	err = r.store.UpdateDomainTags(ctx, name, add, remove, r.limits.MaxTagsPerDomain)
	switch {
	case errors.Is(err, swfd.ErrNotFound):
		return unknownARN(arn)
	case errors.Is(err, swfd.ErrLimitExceeded):
		return api.NewFault(api.TooManyTagsFault, "A domain can have at most %d tags", r.limits.MaxTagsPerDomain)
	}
	return err
}

func (r *Registry) TagResource(ctx context.Context, in *api.TagResourceInput) error {
	var c validate.Checker
	checkResourceTags(&c, in.Tags)
	if err := c.Err(); err != nil {
		return err
	}
	return r.updateTags(ctx, in.ResourceArn, resourceTags(in.Tags), nil)
}

// UntagResource removes tags by key. A key is held to the rules a key to
// add is (its characters, and no "aws:" prefix): a key that breaks them is
// refused (and nothing removed), not taken as one the domain happens not
// to have.
func (r *Registry) UntagResource(ctx context.Context, in *api.UntagResourceInput) error {
	var c validate.Checker
	for i, k := range in.TagKeys {
		checkTagKey(&c, fmt.Sprintf("tagKeys.%d.member", i+1), k)
	}
	if err := c.Err(); err != nil {
		return err
	}
	return r.updateTags(ctx, in.ResourceArn, nil, in.TagKeys)
}

func (r *Registry) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceInput) (*api.ListTagsForResourceOutput, error) {
	name, err := r.domainNameFromARN(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	d, err := r.store.GetDomain(ctx, name)
	if errors.Is(err, swfd.ErrNotFound) {
		return nil, unknownARN(in.ResourceArn)
	}
	if err != nil {
		return nil, err
	}
	out := &api.ListTagsForResourceOutput{Tags: []api.ResourceTag{}}
	for _, t := range d.Tags {
		out.Tags = append(out.Tags, api.ResourceTag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}

// ---- types ----

// TypeString names a type as the real service's fault messages do.
func TypeString(kind swfd.TypeKind, name, version string) string {
	if kind == swfd.ActivityKind {
		return fmt.Sprintf("ActivityType=[name=%s, version=%s]", name, version)
	}
	return fmt.Sprintf("WorkflowType=[name=%s, version=%s]", name, version)
}

func unknownType(kind swfd.TypeKind, name, version string) *api.Fault {
	return api.ErrUnknownResource("Unknown type: %s", TypeString(kind, name, version))
}

func (r *Registry) registerType(ctx context.Context, t swfd.TypeRecord, cfg any) error {
	if _, err := r.registeredDomain(ctx, t.Domain); err != nil {
		return err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	t.Config = b
	t.Status = swfd.StatusRegistered
	t.Created = r.now()
	err = r.store.CreateType(ctx, t, r.limits.MaxTypesPerKind)
	switch {
	case errors.Is(err, swfd.ErrDeprecated):
		// Deprecated after the check above (on another node, or by a
		// call that ran at the same time): the store refused the type.
		return domainDeprecated(t.Domain)
	case errors.Is(err, swfd.ErrNotFound):
		return UnknownDomain(t.Domain)
	case errors.Is(err, swfd.ErrAlreadyExists):
		return api.NewFault(api.TypeAlreadyExistsFault, "%s", TypeString(t.Kind, t.Name, t.Version))
	case errors.Is(err, swfd.ErrLimitExceeded):
		return api.NewFault(api.LimitExceededFault, "The maximum number of %s types (%d) in domain %s has been reached", t.Kind, r.limits.MaxTypesPerKind, t.Domain)
	}
	return err
}

func (r *Registry) RegisterActivityType(ctx context.Context, in *api.RegisterActivityTypeInput) error {
	var c validate.Checker
	c.Name("name", in.Name)
	c.Name("version", in.Version)
	c.TaskList("defaultTaskList", in.DefaultTaskList)
	c.Priority("defaultTaskPriority", in.DefaultTaskPriority)
	c.Duration("defaultTaskStartToCloseTimeout", in.DefaultTaskStartToCloseTimeout, true)
	c.Duration("defaultTaskHeartbeatTimeout", in.DefaultTaskHeartbeatTimeout, true)
	c.Duration("defaultTaskScheduleToStartTimeout", in.DefaultTaskScheduleToStartTimeout, true)
	c.Duration("defaultTaskScheduleToCloseTimeout", in.DefaultTaskScheduleToCloseTimeout, true)
	if err := c.Err(); err != nil {
		return err
	}
	return r.registerType(ctx, swfd.TypeRecord{Kind: swfd.ActivityKind, Domain: in.Domain, Name: in.Name, Version: in.Version, Description: in.Description},
		api.ActivityTypeConfiguration{
			DefaultTaskList:                   in.DefaultTaskList,
			DefaultTaskPriority:               api.CanonicalPriority(in.DefaultTaskPriority),
			DefaultTaskStartToCloseTimeout:    in.DefaultTaskStartToCloseTimeout,
			DefaultTaskHeartbeatTimeout:       in.DefaultTaskHeartbeatTimeout,
			DefaultTaskScheduleToStartTimeout: in.DefaultTaskScheduleToStartTimeout,
			DefaultTaskScheduleToCloseTimeout: in.DefaultTaskScheduleToCloseTimeout,
		})
}

func (r *Registry) RegisterWorkflowType(ctx context.Context, in *api.RegisterWorkflowTypeInput) error {
	var c validate.Checker
	c.Name("name", in.Name)
	c.Name("version", in.Version)
	c.TaskList("defaultTaskList", in.DefaultTaskList)
	c.Priority("defaultTaskPriority", in.DefaultTaskPriority)
	c.Duration("defaultTaskStartToCloseTimeout", in.DefaultTaskStartToCloseTimeout, true)
	c.ExecutionTimeout("defaultExecutionStartToCloseTimeout", in.DefaultExecutionStartToCloseTimeout)
	if err := c.Err(); err != nil {
		return err
	}
	return r.registerType(ctx, swfd.TypeRecord{Kind: swfd.WorkflowKind, Domain: in.Domain, Name: in.Name, Version: in.Version, Description: in.Description},
		api.WorkflowTypeConfiguration{
			DefaultTaskList:                     in.DefaultTaskList,
			DefaultTaskPriority:                 api.CanonicalPriority(in.DefaultTaskPriority),
			DefaultTaskStartToCloseTimeout:      in.DefaultTaskStartToCloseTimeout,
			DefaultExecutionStartToCloseTimeout: in.DefaultExecutionStartToCloseTimeout,
			DefaultChildPolicy:                  in.DefaultChildPolicy,
			DefaultLambdaRole:                   in.DefaultLambdaRole,
		})
}

// Type returns a type of a domain, or UnknownResourceFault if the domain or
// the type does not exist.
func (r *Registry) Type(ctx context.Context, kind swfd.TypeKind, domain, name, version string) (swfd.TypeRecord, error) {
	if _, err := r.Domain(ctx, domain); err != nil {
		return swfd.TypeRecord{}, err
	}
	t, err := r.store.GetType(ctx, kind, domain, name, version)
	if errors.Is(err, swfd.ErrNotFound) {
		return t, unknownType(kind, name, version)
	}
	return t, err
}

func typeInfo(t swfd.TypeRecord) (status api.RegistrationStatus, created api.Time, deprecated api.Time) {
	status = api.RegistrationStatus(t.Status)
	created = api.NewTime(t.Created)
	if !t.Deprecated.IsZero() {
		deprecated = api.NewTime(t.Deprecated)
	}
	return
}

func activityTypeInfo(t swfd.TypeRecord) api.ActivityTypeInfo {
	st, cr, dep := typeInfo(t)
	return api.ActivityTypeInfo{ActivityType: api.ActivityType{Name: t.Name, Version: t.Version}, Status: st, Description: t.Description, CreationDate: cr, DeprecationDate: dep}
}

func workflowTypeInfo(t swfd.TypeRecord) api.WorkflowTypeInfo {
	st, cr, dep := typeInfo(t)
	return api.WorkflowTypeInfo{WorkflowType: api.WorkflowType{Name: t.Name, Version: t.Version}, Status: st, Description: t.Description, CreationDate: cr, DeprecationDate: dep}
}

func (r *Registry) DescribeActivityType(ctx context.Context, in *api.DescribeActivityTypeInput) (*api.ActivityTypeDetail, error) {
	t, err := r.Type(ctx, swfd.ActivityKind, in.Domain, in.ActivityType.Name, in.ActivityType.Version)
	if err != nil {
		return nil, err
	}
	out := &api.ActivityTypeDetail{TypeInfo: activityTypeInfo(t)}
	if err := json.Unmarshal(t.Config, &out.Configuration); err != nil {
		return nil, fmt.Errorf("decode activity type config: %w", err)
	}
	return out, nil
}

func (r *Registry) DescribeWorkflowType(ctx context.Context, in *api.DescribeWorkflowTypeInput) (*api.WorkflowTypeDetail, error) {
	t, err := r.Type(ctx, swfd.WorkflowKind, in.Domain, in.WorkflowType.Name, in.WorkflowType.Version)
	if err != nil {
		return nil, err
	}
	out := &api.WorkflowTypeDetail{TypeInfo: workflowTypeInfo(t)}
	if err := json.Unmarshal(t.Config, &out.Configuration); err != nil {
		return nil, fmt.Errorf("decode workflow type config: %w", err)
	}
	return out, nil
}

// setTypeStatus deprecates or undeprecates a type. A type cannot be
// undeprecated while its domain is deprecated: a deprecated domain may not
// be used for new executions, nor for new registrations, and a registered
// type would allow both. The model lists only UnknownResourceFault,
// TypeAlreadyExistsFault and OperationNotPermittedFault for
// Undeprecate*Type, not DomainDeprecatedFault, so the answer is the
// UnknownResourceFault that Register*Type gives in a deprecated domain.
// The store checks the domain again in the transaction that changes the
// type, as the domain may be deprecated in between.
func (r *Registry) setTypeStatus(ctx context.Context, kind swfd.TypeKind, domain, name, version, status string) error {
	if status == swfd.StatusRegistered {
		if _, err := r.registeredDomain(ctx, domain); err != nil {
			return err
		}
	}
	t, err := r.Type(ctx, kind, domain, name, version)
	if err != nil {
		return err
	}
	if t.Status == status {
		if status == swfd.StatusDeprecated {
			return api.NewFault(api.TypeDeprecatedFault, "%s", TypeString(kind, name, version))
		}
		return api.NewFault(api.TypeAlreadyExistsFault, "%s", TypeString(kind, name, version))
	}
	var at time.Time
	if status == swfd.StatusDeprecated {
		at = r.now()
	}
	err = r.store.SetTypeStatus(ctx, kind, domain, name, version, status, at)
	switch {
	case errors.Is(err, swfd.ErrDeprecated):
		return domainDeprecated(domain)
	case errors.Is(err, swfd.ErrNotFound):
		return unknownType(kind, name, version)
	}
	return err
}

func (r *Registry) deleteType(ctx context.Context, kind swfd.TypeKind, domain, name, version string) error {
	t, err := r.Type(ctx, kind, domain, name, version)
	if err != nil {
		return err
	}
	if t.Status != swfd.StatusDeprecated {
		return api.NewFault(api.TypeNotDeprecatedFault, "The type is currently registered and cannot be deleted in its current state")
	}
	err = r.store.DeleteType(ctx, kind, domain, name, version)
	if errors.Is(err, swfd.ErrNotFound) {
		return unknownType(kind, name, version)
	}
	return err
}

func (r *Registry) DeprecateActivityType(ctx context.Context, in *api.DeprecateActivityTypeInput) error {
	return r.setTypeStatus(ctx, swfd.ActivityKind, in.Domain, in.ActivityType.Name, in.ActivityType.Version, swfd.StatusDeprecated)
}

func (r *Registry) UndeprecateActivityType(ctx context.Context, in *api.UndeprecateActivityTypeInput) error {
	return r.setTypeStatus(ctx, swfd.ActivityKind, in.Domain, in.ActivityType.Name, in.ActivityType.Version, swfd.StatusRegistered)
}

func (r *Registry) DeleteActivityType(ctx context.Context, in *api.DeleteActivityTypeInput) error {
	return r.deleteType(ctx, swfd.ActivityKind, in.Domain, in.ActivityType.Name, in.ActivityType.Version)
}

func (r *Registry) DeprecateWorkflowType(ctx context.Context, in *api.DeprecateWorkflowTypeInput) error {
	return r.setTypeStatus(ctx, swfd.WorkflowKind, in.Domain, in.WorkflowType.Name, in.WorkflowType.Version, swfd.StatusDeprecated)
}

func (r *Registry) UndeprecateWorkflowType(ctx context.Context, in *api.UndeprecateWorkflowTypeInput) error {
	return r.setTypeStatus(ctx, swfd.WorkflowKind, in.Domain, in.WorkflowType.Name, in.WorkflowType.Version, swfd.StatusRegistered)
}

func (r *Registry) DeleteWorkflowType(ctx context.Context, in *api.DeleteWorkflowTypeInput) error {
	return r.deleteType(ctx, swfd.WorkflowKind, in.Domain, in.WorkflowType.Name, in.WorkflowType.Version)
}

func (r *Registry) listTypes(ctx context.Context, kind swfd.TypeKind, domain, name string, status api.RegistrationStatus, size int, reverse bool, pageToken string) ([]swfd.TypeRecord, string, error) {
	if _, err := r.Domain(ctx, domain); err != nil {
		return nil, "", err
	}
	q := swfd.ListQuery{Status: string(status), Name: name, Reverse: reverse, Limit: token.PageSize(size) + 1}
	scope := fmt.Sprintf("types|%s|%s|%s|%s|%v", kind, domain, name, status, reverse)
	if pageToken != "" {
		after, err := r.tokens.OpenPage(pageToken, scope)
		if err != nil {
			return nil, "", err
		}
		q.After = after
	}
	ts, err := r.store.ListTypes(ctx, kind, domain, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ts) == q.Limit {
		ts = ts[:len(ts)-1]
		last := ts[len(ts)-1]
		next = r.tokens.PageToken(scope, swfd.TypeListKey(last.Name, last.Version))
	}
	return ts, next, nil
}

func (r *Registry) ListActivityTypes(ctx context.Context, in *api.ListActivityTypesInput) (*api.ActivityTypeInfos, error) {
	ts, next, err := r.listTypes(ctx, swfd.ActivityKind, in.Domain, in.Name, in.RegistrationStatus, in.MaximumPageSize, in.ReverseOrder, in.NextPageToken)
	if err != nil {
		return nil, err
	}
	out := &api.ActivityTypeInfos{TypeInfos: []api.ActivityTypeInfo{}, NextPageToken: next}
	for _, t := range ts {
		out.TypeInfos = append(out.TypeInfos, activityTypeInfo(t))
	}
	return out, nil
}

func (r *Registry) ListWorkflowTypes(ctx context.Context, in *api.ListWorkflowTypesInput) (*api.WorkflowTypeInfos, error) {
	ts, next, err := r.listTypes(ctx, swfd.WorkflowKind, in.Domain, in.Name, in.RegistrationStatus, in.MaximumPageSize, in.ReverseOrder, in.NextPageToken)
	if err != nil {
		return nil, err
	}
	out := &api.WorkflowTypeInfos{TypeInfos: []api.WorkflowTypeInfo{}, NextPageToken: next}
	for _, t := range ts {
		out.TypeInfos = append(out.TypeInfos, workflowTypeInfo(t))
	}
	return out, nil
}

// isLetterOrDigitOrSpace reports whether r is in one of the pattern's
// classes \p{L}, \p{N} and \p{Z}. Z is the separators (spaces, and the
// line and paragraph separators), not every character unicode.IsSpace
// takes: that one takes U+0085 (NEXT LINE) too, a control character, which
// the pattern refuses.
func isLetterOrDigitOrSpace(r rune) bool {
	return unicode.In(r, unicode.L, unicode.N, unicode.Z)
}
