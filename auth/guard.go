package auth

// The Guard method of each operation is generated from api.Operations.
//go:generate go run ../internal/apigen/cmd/guardgen -out guard_ops.go

import (
	"context"
	"errors"
	"log/slog"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/lograte"
	"github.com/swfd/swfd/internal/validate"
)

// TaskTokens tells the domain a task token belongs to; the service
// implements it. Task-token operations (RespondDecisionTaskCompleted,
// RespondActivityTask*, RecordActivityTaskHeartbeat) name no domain in
// their input, but are authorized on the domain of the task.
type TaskTokens interface {
	// TaskTokenDomain returns the domain of the task a token names; ok is
	// false for a token the service did not issue (it names no task, and
	// the service answers it UnknownResourceFault), and an error says the
	// domain could not be read (a token may name it by its run, which is
	// then read). A token the service issued whose domain can no longer
	// be told (its run, which named it, is gone) is ok with domain "".
	TaskTokenDomain(ctx context.Context, token string) (domain string, ok bool, err error)
}

// Guard is an api.Service that authorizes every call before passing it to
// Next: the principal in the call's context must be allowed the action
// swf:<Operation> on the domain the call acts on, with the condition keys
// SWF defines for the operation (docs/auth.md lists them). A call that is not
// allowed answers OperationNotPermittedFault and reaches nothing.
//
// Decisions are authorized later, one by one, by the history engine
// through DecisionHook.
//
// The HTTP API does not call through a Guard: its frontend asks Authorize
// and, for a call allowed, throttles it and then calls Next itself, so
// that a denied call takes no token from the quotas. The web console,
// whose reads are not throttled, calls through the Guard.
type Guard struct {
	Next    api.Service
	Tokens  TaskTokens
	Region  string
	Account string
	// Warn, if set, writes a warning for each denied call, bounded so
	// that a storm of denied calls cannot flood the log.
	Warn *lograte.Limiter
}

// check authorizes one call.
func (g *Guard) check(ctx context.Context, op string, in any) error {
	if err := checkTags(in); err != nil {
		return err
	}
	p := FromContext(ctx)
	action := "swf:" + op
	res, keys, ok, err := g.request(ctx, in)
	if err != nil {
		// The task's domain, or the task list a start would get from
		// its type, could not be read (the store failed): the call
		// cannot be authorized, and is refused with the failure.
		return err
	}
	if !ok {
		// A task token that is not one of ours: let the service answer
		// it (UnknownResourceFault) — it names nothing to protect.
		return nil
	}
	if p.usesResourceTags() && res.oneDomain() && op != "RegisterDomain" && g.Next != nil {
		// The tags of the domain the call acts on (RegisterDomain's is
		// not there yet, ListDomains acts on every domain, and a task
		// token's whose run is gone on one that cannot be told).
		if err := addResourceTags(ctx, g.Next, res, &keys); err != nil {
			return err
		}
	}
	d := p.Evaluate(g.Region, g.Account, action, res, keys)
	if d == Allowed {
		return nil
	}
	who := "anonymous"
	if p != nil {
		who = p.ARN(g.Account)
	}
	name := ""
	if p != nil {
		name = p.Name
	}
	g.Warn.Log(ctx, slog.LevelWarn, "request denied", "principal", name, "action", action, "resource", res.ARN(), "decision", d.String())
	return api.NewFault(api.OperationNotPermittedFault, "User: %s is not authorized to perform: %s on resource: %s", who, action, res.ARN())
}

func (g *Guard) domain(name string) Resource { return DomainResource(g.Region, g.Account, name) }

func (g *Guard) token(ctx context.Context, tok string) (Resource, bool, error) {
	if g.Tokens == nil {
		return Resource{}, false, nil
	}
	d, ok, err := g.Tokens.TaskTokenDomain(ctx, tok)
	if err != nil || !ok {
		return Resource{}, false, err
	}
	if d == "" {
		// A token the service issued, which named its domain by its run,
		// and the run is gone. The call is judged before the service
		// says so, as a call with a token that carries its domain is: on
		// a domain that could be any, so that a caller not allowed
		// everywhere is refused whether or not the run still exists,
		// and learns nothing of a domain it may not see.
		return Resource{Region: g.Region, Account: g.Account, AnyDomain: true}, true, nil
	}
	return g.domain(d), true, nil
}

// arnResource is the resource a tagging call names by ARN.
func (g *Guard) arnResource(arn string) Resource {
	if region, account, name, ok := ParseDomainARN(arn); ok {
		return Resource{Region: region, Account: account, Domain: name}
	}
	// Not a domain ARN: the service will answer UnknownResourceFault;
	// only a policy whose Resource matches the ARN as given lets it get
	// that far.
	return Resource{Raw: arn}
}

// checkTags refuses a RegisterDomain or TagResource whose tags repeat a
// key, with the ValidationException the service would answer, before any
// policy is asked: the domain keeps one value per key, and a condition on
// aws:RequestTag/KEY must judge the value that is kept, not one of
// several.
func checkTags(in any) error {
	var c validate.Checker
	switch in := in.(type) {
	case *api.RegisterDomainInput:
		c.UniqueTagKeys(in.Tags)
	case *api.TagResourceInput:
		c.UniqueTagKeys(in.Tags)
	}
	return c.Err()
}

// tagKeys sets the condition keys of the tags a request would store (their
// keys are unique: checkTags saw to it). Every tag counts: an empty value
// is present as "", and so is a missing one (the domain keeps that tag
// without a value, but IAM reads an omitted value as ""). Condition key
// names are case-insensitive while tag keys are not, so tags whose keys
// differ only in case ("Owner", "owner": two tags of the domain) give
// aws:RequestTag/owner a value each, and a condition on it judges them
// all (Condition.holds says how).
func tagKeys(k *Keys, tags []api.ResourceTag) {
	for _, t := range tags {
		k.Add("aws:TagKeys", t.Key)
		k.Add("aws:RequestTag/"+t.Key, api.Value(t.Value))
	}
}

// request returns the resource and condition keys of an operation's input;
// false for a task token the service did not issue (which protects
// nothing), an error if the domain of a task token's task, or the default
// task list of the type a start names none for, could not be read.
func (g *Guard) request(ctx context.Context, in any) (Resource, Keys, bool, error) {
	var k Keys
	switch in := in.(type) {
	// Domains.
	case *api.RegisterDomainInput:
		// The new domain's name is the resource: there is no domain yet.
		tagKeys(&k, in.Tags)
		return g.domain(in.Name), k, true, nil
	case *api.ListDomainsInput:
		return Resource{Region: g.Region, Account: g.Account, AllDomains: true}, k, true, nil
	case *api.DescribeDomainInput:
		return g.domain(in.Name), k, true, nil
	case *api.DeprecateDomainInput:
		return g.domain(in.Name), k, true, nil
	case *api.UndeprecateDomainInput:
		return g.domain(in.Name), k, true, nil
	case *api.TagResourceInput:
		tagKeys(&k, in.Tags)
		return g.arnResource(in.ResourceArn), k, true, nil
	case *api.UntagResourceInput:
		for _, t := range in.TagKeys {
			k.Add("aws:TagKeys", t)
		}
		return g.arnResource(in.ResourceArn), k, true, nil
	case *api.ListTagsForResourceInput:
		return g.arnResource(in.ResourceArn), k, true, nil

	// Types.
	case *api.RegisterActivityTypeInput:
		k.Set("swf:name", in.Name)
		k.Set("swf:version", in.Version)
		if in.DefaultTaskList != nil {
			k.Set("swf:defaultTaskList.name", in.DefaultTaskList.Name)
		}
		return g.domain(in.Domain), k, true, nil
	case *api.RegisterWorkflowTypeInput:
		k.Set("swf:name", in.Name)
		k.Set("swf:version", in.Version)
		if in.DefaultTaskList != nil {
			k.Set("swf:defaultTaskList.name", in.DefaultTaskList.Name)
		}
		return g.domain(in.Domain), k, true, nil
	case *api.DescribeActivityTypeInput:
		return g.domain(in.Domain), activityKeys(in.ActivityType), true, nil
	case *api.DeprecateActivityTypeInput:
		return g.domain(in.Domain), activityKeys(in.ActivityType), true, nil
	case *api.UndeprecateActivityTypeInput:
		return g.domain(in.Domain), activityKeys(in.ActivityType), true, nil
	case *api.DeleteActivityTypeInput:
		return g.domain(in.Domain), activityKeys(in.ActivityType), true, nil
	case *api.DescribeWorkflowTypeInput:
		return g.domain(in.Domain), workflowKeys(in.WorkflowType), true, nil
	case *api.DeprecateWorkflowTypeInput:
		return g.domain(in.Domain), workflowKeys(in.WorkflowType), true, nil
	case *api.UndeprecateWorkflowTypeInput:
		return g.domain(in.Domain), workflowKeys(in.WorkflowType), true, nil
	case *api.DeleteWorkflowTypeInput:
		return g.domain(in.Domain), workflowKeys(in.WorkflowType), true, nil
	case *api.ListActivityTypesInput:
		return g.domain(in.Domain), k, true, nil
	case *api.ListWorkflowTypesInput:
		return g.domain(in.Domain), k, true, nil

	// Executions.
	case *api.StartWorkflowExecutionInput:
		k = workflowKeys(in.WorkflowType)
		list := ""
		if in.TaskList != nil {
			list = in.TaskList.Name
		}
		if list == "" {
			// The task list the execution will get is a condition value
			// too: a value resolved from the type's default counts as
			// present, so a policy on task lists cannot be dodged by
			// leaving the task list out.
			var err error
			if list, err = g.defaultTaskList(ctx, in.Domain, in.WorkflowType); err != nil {
				return Resource{}, k, false, err
			}
		}
		k.Set("swf:taskList.name", list)
		k.setTags(in.TagList)
		return g.domain(in.Domain), k, true, nil
	case *api.SignalWorkflowExecutionInput:
		return g.domain(in.Domain), k, true, nil
	case *api.RequestCancelWorkflowExecutionInput:
		return g.domain(in.Domain), k, true, nil
	case *api.TerminateWorkflowExecutionInput:
		return g.domain(in.Domain), k, true, nil
	case *api.DescribeWorkflowExecutionInput:
		return g.domain(in.Domain), k, true, nil
	case *api.GetWorkflowExecutionHistoryInput:
		return g.domain(in.Domain), k, true, nil

	// Visibility.
	case *api.ListOpenWorkflowExecutionsInput:
		return g.domain(in.Domain), filterKeys(in.TagFilter, in.TypeFilter), true, nil
	case *api.ListClosedWorkflowExecutionsInput:
		return g.domain(in.Domain), filterKeys(in.TagFilter, in.TypeFilter), true, nil
	case *api.CountOpenWorkflowExecutionsInput:
		return g.domain(in.Domain), filterKeys(in.TagFilter, in.TypeFilter), true, nil
	case *api.CountClosedWorkflowExecutionsInput:
		return g.domain(in.Domain), filterKeys(in.TagFilter, in.TypeFilter), true, nil

	// Tasks.
	case *api.PollForDecisionTaskInput:
		k.Set("swf:taskList.name", in.TaskList.Name)
		return g.domain(in.Domain), k, true, nil
	case *api.PollForActivityTaskInput:
		k.Set("swf:taskList.name", in.TaskList.Name)
		return g.domain(in.Domain), k, true, nil
	case *api.CountPendingDecisionTasksInput:
		k.Set("swf:taskList.name", in.TaskList.Name)
		return g.domain(in.Domain), k, true, nil
	case *api.CountPendingActivityTasksInput:
		k.Set("swf:taskList.name", in.TaskList.Name)
		return g.domain(in.Domain), k, true, nil
	case *api.RespondDecisionTaskCompletedInput:
		res, ok, err := g.token(ctx, in.TaskToken)
		return res, k, ok, err
	case *api.RespondActivityTaskCompletedInput:
		res, ok, err := g.token(ctx, in.TaskToken)
		return res, k, ok, err
	case *api.RespondActivityTaskFailedInput:
		res, ok, err := g.token(ctx, in.TaskToken)
		return res, k, ok, err
	case *api.RespondActivityTaskCanceledInput:
		res, ok, err := g.token(ctx, in.TaskToken)
		return res, k, ok, err
	case *api.RecordActivityTaskHeartbeatInput:
		res, ok, err := g.token(ctx, in.TaskToken)
		return res, k, ok, err
	}
	// An operation this guard does not know: no resource a domain
	// policy could name, so only "Resource": "*" allows it.
	return Resource{}, k, true, nil
}

// defaultTaskList returns the default task list of a workflow type, ""
// when it has none or the service does not know it (a fault of the
// caller's, which the service answers the call itself); an error when
// the type could not be read (the store failed, the call's time ran
// out): the call cannot then be judged, and fails. Judged without the
// key, it would slip past a Deny on the task list it is about to get.
func (g *Guard) defaultTaskList(ctx context.Context, domain string, wt api.WorkflowType) (string, error) {
	d, err := g.Next.DescribeWorkflowType(ctx, &api.DescribeWorkflowTypeInput{Domain: domain, WorkflowType: wt})
	var f *api.Fault
	switch {
	case errors.As(err, &f) && f.HTTPStatus() < 500:
		return "", nil
	case err != nil:
		return "", err
	case d == nil || d.Configuration.DefaultTaskList == nil:
		return "", nil
	}
	return d.Configuration.DefaultTaskList.Name, nil
}

func activityKeys(t api.ActivityType) Keys {
	var k Keys
	k.Set("swf:activityType.name", t.Name)
	k.Set("swf:activityType.version", t.Version)
	return k
}

func workflowKeys(t api.WorkflowType) Keys {
	var k Keys
	k.Set("swf:workflowType.name", t.Name)
	k.Set("swf:workflowType.version", t.Version)
	return k
}

// filterKeys sets the condition keys of a visibility call's filters. A
// tagFilter is present whatever its tag: one whose tag is "" selects the
// executions tagged "" (the service filters on the empty tag), so
// swf:tagFilter.tag is then present with the value "", and a condition on
// it judges that filter, not the absence of one.
func filterKeys(tag *api.TagFilter, typ *api.WorkflowTypeFilter) Keys {
	var k Keys
	if tag != nil {
		k.Add("swf:tagFilter.tag", tag.Tag)
	}
	if typ != nil {
		k.Set("swf:typeFilter.name", typ.Name)
		k.Set("swf:typeFilter.version", typ.Version)
	}
	return k
}
