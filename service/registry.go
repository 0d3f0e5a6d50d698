package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// ---- domains ----

func (s *Service) RegisterDomain(ctx context.Context, in *api.RegisterDomainInput) error {
	var c checker
	c.trimmedName("name", in.Name)
	ret := in.WorkflowExecutionRetentionPeriodInDays
	if ret != "NONE" {
		// Digits only: Atoi alone would also take "+5" or "-0".
		if n, err := strconv.Atoi(ret); err != nil || !allDigits(ret) || n < 0 || n > 90 {
			c.add(ret, "workflowExecutionRetentionPeriodInDays", "Member must be a number of days from 0 to 90, or NONE")
		}
	}
	checkResourceTags(&c, in.Tags)
	if err := c.err(); err != nil {
		return err
	}
	tags := mergeTags(nil, in.Tags)
	if len(tags) > s.limits.MaxTagsPerDomain {
		return api.NewFault(api.TooManyTagsFault, "A domain can have at most %d tags", s.limits.MaxTagsPerDomain)
	}
	err := s.store.CreateDomain(ctx, swfd.Domain{
		Name:          in.Name,
		Description:   in.Description,
		Status:        swfd.StatusRegistered,
		RetentionDays: ret,
		Tags:          tags,
		Created:       s.now(),
	}, s.limits.MaxDomains)
	switch {
	case errors.Is(err, swfd.ErrAlreadyExists):
		return api.NewFault(api.DomainAlreadyExistsFault, "%s", in.Name)
	case errors.Is(err, swfd.ErrLimitExceeded):
		return api.NewFault(api.LimitExceededFault, "The maximum number of domains (%d) has been reached", s.limits.MaxDomains)
	}
	return err
}

// getDomain returns a domain or UnknownResourceFault.
func (s *Service) getDomain(ctx context.Context, name string) (swfd.Domain, error) {
	d, err := s.store.GetDomain(ctx, name)
	if errors.Is(err, swfd.ErrNotFound) {
		return d, unknownDomain(name)
	}
	return d, err
}

// registeredDomain returns a domain that is not deprecated; a deprecated
// domain answers UnknownResourceFault as if it did not exist, which is what
// the service does for registrations and new work in it.
func (s *Service) registeredDomain(ctx context.Context, name string) (swfd.Domain, error) {
	d, err := s.getDomain(ctx, name)
	if err == nil && d.Status != swfd.StatusRegistered {
		return d, api.ErrUnknownResource("Domain is deprecated: %s", name)
	}
	return d, err
}

func (s *Service) DescribeDomain(ctx context.Context, in *api.DescribeDomainInput) (*api.DomainDetail, error) {
	d, err := s.getDomain(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	return &api.DomainDetail{
		DomainInfo:    s.domainInfo(d),
		Configuration: api.DomainConfiguration{WorkflowExecutionRetentionPeriodInDays: d.RetentionDays},
	}, nil
}

func (s *Service) domainInfo(d swfd.Domain) api.DomainInfo {
	return api.DomainInfo{Name: d.Name, Status: api.RegistrationStatus(d.Status), Description: d.Description, Arn: s.domainARN(d.Name)}
}

func (s *Service) DeprecateDomain(ctx context.Context, in *api.DeprecateDomainInput) error {
	d, err := s.getDomain(ctx, in.Name)
	if err != nil {
		return err
	}
	if d.Status == swfd.StatusDeprecated {
		return api.NewFault(api.DomainDeprecatedFault, "%s", in.Name)
	}
	return s.store.SetDomainStatus(ctx, in.Name, swfd.StatusDeprecated, s.now())
}

func (s *Service) UndeprecateDomain(ctx context.Context, in *api.UndeprecateDomainInput) error {
	d, err := s.getDomain(ctx, in.Name)
	if err != nil {
		return err
	}
	if d.Status == swfd.StatusRegistered {
		return api.NewFault(api.DomainAlreadyExistsFault, "%s", in.Name)
	}
	// Types deprecated along with the domain stay deprecated [infer]: the
	// API has no way to tell which were deprecated on their own.
	return s.store.SetDomainStatus(ctx, in.Name, swfd.StatusRegistered, s.now())
}

func (s *Service) ListDomains(ctx context.Context, in *api.ListDomainsInput) (*api.DomainInfos, error) {
	q := swfd.ListQuery{Status: string(in.RegistrationStatus), Reverse: in.ReverseOrder, Limit: pageSize(in.MaximumPageSize)}
	scope := fmt.Sprintf("domains|%s|%v", in.RegistrationStatus, in.ReverseOrder)
	if in.NextPageToken != "" {
		after, err := s.openPageToken(in.NextPageToken, scope)
		if err != nil {
			return nil, err
		}
		q.After = after
	}
	q.Limit++
	ds, err := s.store.ListDomains(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &api.DomainInfos{DomainInfos: []api.DomainInfo{}}
	for i, d := range ds {
		if i == q.Limit-1 {
			out.NextPageToken = s.pageToken(scope, ds[i-1].Name)
			break
		}
		out.DomainInfos = append(out.DomainInfos, s.domainInfo(d))
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

func pageSize(n int) int {
	if n <= 0 || n > 1000 {
		return 1000
	}
	return n
}

// ---- domain tags ----

func checkResourceTags(c *checker, tags []api.ResourceTag) {
	for i, t := range tags {
		if !validTagText(t.Key) {
			c.add(t.Key, fmt.Sprintf("tags.%d.member.key", i+1), `Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
		}
		if !validTagText(t.Value) {
			c.add(t.Value, fmt.Sprintf("tags.%d.member.value", i+1), `Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
		}
	}
}

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

// mergeTags upserts tags into existing, keeping first-set order.
func mergeTags(existing []swfd.Tag, add []api.ResourceTag) []swfd.Tag {
	out := append([]swfd.Tag(nil), existing...)
	for _, t := range add {
		found := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value = t.Value
				found = true
				break
			}
		}
		if !found {
			out = append(out, swfd.Tag{Key: t.Key, Value: t.Value})
		}
	}
	return out
}

// domainFromARN resolves arn:aws:swf:REGION:ACCOUNT:/domain/NAME (the slash
// before "domain" is optional, as IAM documents both forms).
func (s *Service) domainFromARN(ctx context.Context, arn string) (swfd.Domain, error) {
	parts := strings.SplitN(arn, ":", 6)
	unknown := api.ErrUnknownResource("Unknown resource: %s", arn)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "swf" || parts[3] != s.region || parts[4] != s.accountID {
		return swfd.Domain{}, unknown
	}
	res := strings.TrimPrefix(parts[5], "/")
	name, ok := strings.CutPrefix(res, "domain/")
	if !ok || name == "" {
		return swfd.Domain{}, unknown
	}
	d, err := s.store.GetDomain(ctx, name)
	if errors.Is(err, swfd.ErrNotFound) {
		return d, unknown
	}
	return d, err
}

func (s *Service) TagResource(ctx context.Context, in *api.TagResourceInput) error {
	var c checker
	checkResourceTags(&c, in.Tags)
	if err := c.err(); err != nil {
		return err
	}
	d, err := s.domainFromARN(ctx, in.ResourceArn)
	if err != nil {
		return err
	}
	tags := mergeTags(d.Tags, in.Tags)
	if len(tags) > s.limits.MaxTagsPerDomain {
		return api.NewFault(api.TooManyTagsFault, "A domain can have at most %d tags", s.limits.MaxTagsPerDomain)
	}
	return s.store.SetDomainTags(ctx, d.Name, tags)
}

func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceInput) error {
	d, err := s.domainFromARN(ctx, in.ResourceArn)
	if err != nil {
		return err
	}
	drop := map[string]bool{}
	for _, k := range in.TagKeys {
		drop[k] = true
	}
	var tags []swfd.Tag
	for _, t := range d.Tags {
		if !drop[t.Key] {
			tags = append(tags, t)
		}
	}
	return s.store.SetDomainTags(ctx, d.Name, tags)
}

func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceInput) (*api.ListTagsForResourceOutput, error) {
	d, err := s.domainFromARN(ctx, in.ResourceArn)
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

func typeString(kind swfd.TypeKind, name, version string) string {
	if kind == swfd.ActivityKind {
		return fmt.Sprintf("ActivityType=[name=%s, version=%s]", name, version)
	}
	return fmt.Sprintf("WorkflowType=[name=%s, version=%s]", name, version)
}

func unknownType(kind swfd.TypeKind, name, version string) *api.Fault {
	return api.ErrUnknownResource("Unknown type: %s", typeString(kind, name, version))
}

func (s *Service) registerType(ctx context.Context, t swfd.TypeRecord, cfg any) error {
	if _, err := s.registeredDomain(ctx, t.Domain); err != nil {
		return err
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	t.Config = b
	t.Status = swfd.StatusRegistered
	t.Created = s.now()
	err = s.store.CreateType(ctx, t, s.limits.MaxTypesPerKind)
	switch {
	case errors.Is(err, swfd.ErrAlreadyExists):
		return api.NewFault(api.TypeAlreadyExistsFault, "%s", typeString(t.Kind, t.Name, t.Version))
	case errors.Is(err, swfd.ErrLimitExceeded):
		return api.NewFault(api.LimitExceededFault, "The maximum number of %s types (%d) in domain %s has been reached", t.Kind, s.limits.MaxTypesPerKind, t.Domain)
	}
	return err
}

func (s *Service) RegisterActivityType(ctx context.Context, in *api.RegisterActivityTypeInput) error {
	var c checker
	c.name("name", in.Name)
	c.name("version", in.Version)
	c.taskList("defaultTaskList", in.DefaultTaskList)
	c.priority("defaultTaskPriority", in.DefaultTaskPriority)
	c.duration("defaultTaskStartToCloseTimeout", in.DefaultTaskStartToCloseTimeout, true)
	c.duration("defaultTaskHeartbeatTimeout", in.DefaultTaskHeartbeatTimeout, true)
	c.duration("defaultTaskScheduleToStartTimeout", in.DefaultTaskScheduleToStartTimeout, true)
	c.duration("defaultTaskScheduleToCloseTimeout", in.DefaultTaskScheduleToCloseTimeout, true)
	if err := c.err(); err != nil {
		return err
	}
	return s.registerType(ctx, swfd.TypeRecord{Kind: swfd.ActivityKind, Domain: in.Domain, Name: in.Name, Version: in.Version, Description: in.Description},
		api.ActivityTypeConfiguration{
			DefaultTaskList:                   in.DefaultTaskList,
			DefaultTaskPriority:               in.DefaultTaskPriority,
			DefaultTaskStartToCloseTimeout:    in.DefaultTaskStartToCloseTimeout,
			DefaultTaskHeartbeatTimeout:       in.DefaultTaskHeartbeatTimeout,
			DefaultTaskScheduleToStartTimeout: in.DefaultTaskScheduleToStartTimeout,
			DefaultTaskScheduleToCloseTimeout: in.DefaultTaskScheduleToCloseTimeout,
		})
}

func (s *Service) RegisterWorkflowType(ctx context.Context, in *api.RegisterWorkflowTypeInput) error {
	var c checker
	c.name("name", in.Name)
	c.name("version", in.Version)
	c.taskList("defaultTaskList", in.DefaultTaskList)
	c.priority("defaultTaskPriority", in.DefaultTaskPriority)
	c.duration("defaultTaskStartToCloseTimeout", in.DefaultTaskStartToCloseTimeout, true)
	c.executionTimeout("defaultExecutionStartToCloseTimeout", in.DefaultExecutionStartToCloseTimeout)
	if err := c.err(); err != nil {
		return err
	}
	return s.registerType(ctx, swfd.TypeRecord{Kind: swfd.WorkflowKind, Domain: in.Domain, Name: in.Name, Version: in.Version, Description: in.Description},
		api.WorkflowTypeConfiguration{
			DefaultTaskList:                     in.DefaultTaskList,
			DefaultTaskPriority:                 in.DefaultTaskPriority,
			DefaultTaskStartToCloseTimeout:      in.DefaultTaskStartToCloseTimeout,
			DefaultExecutionStartToCloseTimeout: in.DefaultExecutionStartToCloseTimeout,
			DefaultChildPolicy:                  in.DefaultChildPolicy,
			DefaultLambdaRole:                   in.DefaultLambdaRole,
		})
}

// getType returns a type of a known domain, or UnknownResourceFault.
func (s *Service) getType(ctx context.Context, kind swfd.TypeKind, domain, name, version string) (swfd.TypeRecord, error) {
	if _, err := s.getDomain(ctx, domain); err != nil {
		return swfd.TypeRecord{}, err
	}
	t, err := s.store.GetType(ctx, kind, domain, name, version)
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

func (s *Service) DescribeActivityType(ctx context.Context, in *api.DescribeActivityTypeInput) (*api.ActivityTypeDetail, error) {
	t, err := s.getType(ctx, swfd.ActivityKind, in.Domain, in.ActivityType.Name, in.ActivityType.Version)
	if err != nil {
		return nil, err
	}
	out := &api.ActivityTypeDetail{TypeInfo: activityTypeInfo(t)}
	if err := json.Unmarshal(t.Config, &out.Configuration); err != nil {
		return nil, fmt.Errorf("decode activity type config: %w", err)
	}
	return out, nil
}

func (s *Service) DescribeWorkflowType(ctx context.Context, in *api.DescribeWorkflowTypeInput) (*api.WorkflowTypeDetail, error) {
	t, err := s.getType(ctx, swfd.WorkflowKind, in.Domain, in.WorkflowType.Name, in.WorkflowType.Version)
	if err != nil {
		return nil, err
	}
	out := &api.WorkflowTypeDetail{TypeInfo: workflowTypeInfo(t)}
	if err := json.Unmarshal(t.Config, &out.Configuration); err != nil {
		return nil, fmt.Errorf("decode workflow type config: %w", err)
	}
	return out, nil
}

func (s *Service) setTypeStatus(ctx context.Context, kind swfd.TypeKind, domain, name, version, status string) error {
	t, err := s.getType(ctx, kind, domain, name, version)
	if err != nil {
		return err
	}
	if t.Status == status {
		if status == swfd.StatusDeprecated {
			return api.NewFault(api.TypeDeprecatedFault, "%s", typeString(kind, name, version))
		}
		return api.NewFault(api.TypeAlreadyExistsFault, "%s", typeString(kind, name, version))
	}
	var at time.Time
	if status == swfd.StatusDeprecated {
		at = s.now()
	}
	return s.store.SetTypeStatus(ctx, kind, domain, name, version, status, at)
}

func (s *Service) deleteType(ctx context.Context, kind swfd.TypeKind, domain, name, version string) error {
	t, err := s.getType(ctx, kind, domain, name, version)
	if err != nil {
		return err
	}
	if t.Status != swfd.StatusDeprecated {
		return api.NewFault(api.TypeNotDeprecatedFault, "The type is currently registered and cannot be deleted in its current state")
	}
	err = s.store.DeleteType(ctx, kind, domain, name, version)
	if errors.Is(err, swfd.ErrNotFound) {
		return unknownType(kind, name, version)
	}
	return err
}

func (s *Service) DeprecateActivityType(ctx context.Context, in *api.DeprecateActivityTypeInput) error {
	return s.setTypeStatus(ctx, swfd.ActivityKind, in.Domain, in.ActivityType.Name, in.ActivityType.Version, swfd.StatusDeprecated)
}

func (s *Service) UndeprecateActivityType(ctx context.Context, in *api.UndeprecateActivityTypeInput) error {
	return s.setTypeStatus(ctx, swfd.ActivityKind, in.Domain, in.ActivityType.Name, in.ActivityType.Version, swfd.StatusRegistered)
}

func (s *Service) DeleteActivityType(ctx context.Context, in *api.DeleteActivityTypeInput) error {
	return s.deleteType(ctx, swfd.ActivityKind, in.Domain, in.ActivityType.Name, in.ActivityType.Version)
}

func (s *Service) DeprecateWorkflowType(ctx context.Context, in *api.DeprecateWorkflowTypeInput) error {
	return s.setTypeStatus(ctx, swfd.WorkflowKind, in.Domain, in.WorkflowType.Name, in.WorkflowType.Version, swfd.StatusDeprecated)
}

func (s *Service) UndeprecateWorkflowType(ctx context.Context, in *api.UndeprecateWorkflowTypeInput) error {
	return s.setTypeStatus(ctx, swfd.WorkflowKind, in.Domain, in.WorkflowType.Name, in.WorkflowType.Version, swfd.StatusRegistered)
}

func (s *Service) DeleteWorkflowType(ctx context.Context, in *api.DeleteWorkflowTypeInput) error {
	return s.deleteType(ctx, swfd.WorkflowKind, in.Domain, in.WorkflowType.Name, in.WorkflowType.Version)
}

func (s *Service) listTypes(ctx context.Context, kind swfd.TypeKind, domain, name string, status api.RegistrationStatus, size int, reverse bool, token string) ([]swfd.TypeRecord, string, error) {
	if _, err := s.getDomain(ctx, domain); err != nil {
		return nil, "", err
	}
	q := swfd.ListQuery{Status: string(status), Name: name, Reverse: reverse, Limit: pageSize(size) + 1}
	scope := fmt.Sprintf("types|%s|%s|%s|%s|%v", kind, domain, name, status, reverse)
	if token != "" {
		after, err := s.openPageToken(token, scope)
		if err != nil {
			return nil, "", err
		}
		q.After = after
	}
	ts, err := s.store.ListTypes(ctx, kind, domain, q)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ts) == q.Limit {
		ts = ts[:len(ts)-1]
		last := ts[len(ts)-1]
		next = s.pageToken(scope, swfd.TypeListKey(last.Name, last.Version))
	}
	return ts, next, nil
}

func (s *Service) ListActivityTypes(ctx context.Context, in *api.ListActivityTypesInput) (*api.ActivityTypeInfos, error) {
	ts, next, err := s.listTypes(ctx, swfd.ActivityKind, in.Domain, in.Name, in.RegistrationStatus, in.MaximumPageSize, in.ReverseOrder, in.NextPageToken)
	if err != nil {
		return nil, err
	}
	out := &api.ActivityTypeInfos{TypeInfos: []api.ActivityTypeInfo{}, NextPageToken: next}
	for _, t := range ts {
		out.TypeInfos = append(out.TypeInfos, activityTypeInfo(t))
	}
	return out, nil
}

func (s *Service) ListWorkflowTypes(ctx context.Context, in *api.ListWorkflowTypesInput) (*api.WorkflowTypeInfos, error) {
	ts, next, err := s.listTypes(ctx, swfd.WorkflowKind, in.Domain, in.Name, in.RegistrationStatus, in.MaximumPageSize, in.ReverseOrder, in.NextPageToken)
	if err != nil {
		return nil, err
	}
	out := &api.WorkflowTypeInfos{TypeInfos: []api.WorkflowTypeInfo{}, NextPageToken: next}
	for _, t := range ts {
		out.TypeInfos = append(out.TypeInfos, workflowTypeInfo(t))
	}
	return out, nil
}
