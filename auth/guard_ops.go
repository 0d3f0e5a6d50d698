// Code written with a one-off script from api.Service: one method per
// operation, each authorizing the call before passing it on.

package auth

import (
	"context"

	"github.com/swfd/swfd/api"
)

var _ api.Service = (*Guard)(nil)

// CountClosedWorkflowExecutions implements api.Service.
func (g *Guard) CountClosedWorkflowExecutions(ctx context.Context, in *api.CountClosedWorkflowExecutionsInput) (*api.WorkflowExecutionCount, error) {
	if err := g.check(ctx, "CountClosedWorkflowExecutions", in); err != nil {
		return nil, err
	}
	return g.Next.CountClosedWorkflowExecutions(ctx, in)
}

// CountOpenWorkflowExecutions implements api.Service.
func (g *Guard) CountOpenWorkflowExecutions(ctx context.Context, in *api.CountOpenWorkflowExecutionsInput) (*api.WorkflowExecutionCount, error) {
	if err := g.check(ctx, "CountOpenWorkflowExecutions", in); err != nil {
		return nil, err
	}
	return g.Next.CountOpenWorkflowExecutions(ctx, in)
}

// CountPendingActivityTasks implements api.Service.
func (g *Guard) CountPendingActivityTasks(ctx context.Context, in *api.CountPendingActivityTasksInput) (*api.PendingTaskCount, error) {
	if err := g.check(ctx, "CountPendingActivityTasks", in); err != nil {
		return nil, err
	}
	return g.Next.CountPendingActivityTasks(ctx, in)
}

// CountPendingDecisionTasks implements api.Service.
func (g *Guard) CountPendingDecisionTasks(ctx context.Context, in *api.CountPendingDecisionTasksInput) (*api.PendingTaskCount, error) {
	if err := g.check(ctx, "CountPendingDecisionTasks", in); err != nil {
		return nil, err
	}
	return g.Next.CountPendingDecisionTasks(ctx, in)
}

// DeleteActivityType implements api.Service.
func (g *Guard) DeleteActivityType(ctx context.Context, in *api.DeleteActivityTypeInput) error {
	if err := g.check(ctx, "DeleteActivityType", in); err != nil {
		return err
	}
	return g.Next.DeleteActivityType(ctx, in)
}

// DeleteWorkflowType implements api.Service.
func (g *Guard) DeleteWorkflowType(ctx context.Context, in *api.DeleteWorkflowTypeInput) error {
	if err := g.check(ctx, "DeleteWorkflowType", in); err != nil {
		return err
	}
	return g.Next.DeleteWorkflowType(ctx, in)
}

// DeprecateActivityType implements api.Service.
func (g *Guard) DeprecateActivityType(ctx context.Context, in *api.DeprecateActivityTypeInput) error {
	if err := g.check(ctx, "DeprecateActivityType", in); err != nil {
		return err
	}
	return g.Next.DeprecateActivityType(ctx, in)
}

// DeprecateDomain implements api.Service.
func (g *Guard) DeprecateDomain(ctx context.Context, in *api.DeprecateDomainInput) error {
	if err := g.check(ctx, "DeprecateDomain", in); err != nil {
		return err
	}
	return g.Next.DeprecateDomain(ctx, in)
}

// DeprecateWorkflowType implements api.Service.
func (g *Guard) DeprecateWorkflowType(ctx context.Context, in *api.DeprecateWorkflowTypeInput) error {
	if err := g.check(ctx, "DeprecateWorkflowType", in); err != nil {
		return err
	}
	return g.Next.DeprecateWorkflowType(ctx, in)
}

// DescribeActivityType implements api.Service.
func (g *Guard) DescribeActivityType(ctx context.Context, in *api.DescribeActivityTypeInput) (*api.ActivityTypeDetail, error) {
	if err := g.check(ctx, "DescribeActivityType", in); err != nil {
		return nil, err
	}
	return g.Next.DescribeActivityType(ctx, in)
}

// DescribeDomain implements api.Service.
func (g *Guard) DescribeDomain(ctx context.Context, in *api.DescribeDomainInput) (*api.DomainDetail, error) {
	if err := g.check(ctx, "DescribeDomain", in); err != nil {
		return nil, err
	}
	return g.Next.DescribeDomain(ctx, in)
}

// DescribeWorkflowExecution implements api.Service.
func (g *Guard) DescribeWorkflowExecution(ctx context.Context, in *api.DescribeWorkflowExecutionInput) (*api.WorkflowExecutionDetail, error) {
	if err := g.check(ctx, "DescribeWorkflowExecution", in); err != nil {
		return nil, err
	}
	return g.Next.DescribeWorkflowExecution(ctx, in)
}

// DescribeWorkflowType implements api.Service.
func (g *Guard) DescribeWorkflowType(ctx context.Context, in *api.DescribeWorkflowTypeInput) (*api.WorkflowTypeDetail, error) {
	if err := g.check(ctx, "DescribeWorkflowType", in); err != nil {
		return nil, err
	}
	return g.Next.DescribeWorkflowType(ctx, in)
}

// GetWorkflowExecutionHistory implements api.Service.
func (g *Guard) GetWorkflowExecutionHistory(ctx context.Context, in *api.GetWorkflowExecutionHistoryInput) (*api.History, error) {
	if err := g.check(ctx, "GetWorkflowExecutionHistory", in); err != nil {
		return nil, err
	}
	return g.Next.GetWorkflowExecutionHistory(ctx, in)
}

// ListActivityTypes implements api.Service.
func (g *Guard) ListActivityTypes(ctx context.Context, in *api.ListActivityTypesInput) (*api.ActivityTypeInfos, error) {
	if err := g.check(ctx, "ListActivityTypes", in); err != nil {
		return nil, err
	}
	return g.Next.ListActivityTypes(ctx, in)
}

// ListClosedWorkflowExecutions implements api.Service.
func (g *Guard) ListClosedWorkflowExecutions(ctx context.Context, in *api.ListClosedWorkflowExecutionsInput) (*api.WorkflowExecutionInfos, error) {
	if err := g.check(ctx, "ListClosedWorkflowExecutions", in); err != nil {
		return nil, err
	}
	return g.Next.ListClosedWorkflowExecutions(ctx, in)
}

// ListDomains implements api.Service.
func (g *Guard) ListDomains(ctx context.Context, in *api.ListDomainsInput) (*api.DomainInfos, error) {
	if err := g.check(ctx, "ListDomains", in); err != nil {
		return nil, err
	}
	return g.Next.ListDomains(ctx, in)
}

// ListOpenWorkflowExecutions implements api.Service.
func (g *Guard) ListOpenWorkflowExecutions(ctx context.Context, in *api.ListOpenWorkflowExecutionsInput) (*api.WorkflowExecutionInfos, error) {
	if err := g.check(ctx, "ListOpenWorkflowExecutions", in); err != nil {
		return nil, err
	}
	return g.Next.ListOpenWorkflowExecutions(ctx, in)
}

// ListTagsForResource implements api.Service.
func (g *Guard) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceInput) (*api.ListTagsForResourceOutput, error) {
	if err := g.check(ctx, "ListTagsForResource", in); err != nil {
		return nil, err
	}
	return g.Next.ListTagsForResource(ctx, in)
}

// ListWorkflowTypes implements api.Service.
func (g *Guard) ListWorkflowTypes(ctx context.Context, in *api.ListWorkflowTypesInput) (*api.WorkflowTypeInfos, error) {
	if err := g.check(ctx, "ListWorkflowTypes", in); err != nil {
		return nil, err
	}
	return g.Next.ListWorkflowTypes(ctx, in)
}

// PollForActivityTask implements api.Service.
func (g *Guard) PollForActivityTask(ctx context.Context, in *api.PollForActivityTaskInput) (*api.ActivityTask, error) {
	if err := g.check(ctx, "PollForActivityTask", in); err != nil {
		return nil, err
	}
	return g.Next.PollForActivityTask(ctx, in)
}

// PollForDecisionTask implements api.Service.
func (g *Guard) PollForDecisionTask(ctx context.Context, in *api.PollForDecisionTaskInput) (*api.DecisionTask, error) {
	if err := g.check(ctx, "PollForDecisionTask", in); err != nil {
		return nil, err
	}
	return g.Next.PollForDecisionTask(ctx, in)
}

// RecordActivityTaskHeartbeat implements api.Service.
func (g *Guard) RecordActivityTaskHeartbeat(ctx context.Context, in *api.RecordActivityTaskHeartbeatInput) (*api.ActivityTaskStatus, error) {
	if err := g.check(ctx, "RecordActivityTaskHeartbeat", in); err != nil {
		return nil, err
	}
	return g.Next.RecordActivityTaskHeartbeat(ctx, in)
}

// RegisterActivityType implements api.Service.
func (g *Guard) RegisterActivityType(ctx context.Context, in *api.RegisterActivityTypeInput) error {
	if err := g.check(ctx, "RegisterActivityType", in); err != nil {
		return err
	}
	return g.Next.RegisterActivityType(ctx, in)
}

// RegisterDomain implements api.Service.
func (g *Guard) RegisterDomain(ctx context.Context, in *api.RegisterDomainInput) error {
	if err := g.check(ctx, "RegisterDomain", in); err != nil {
		return err
	}
	return g.Next.RegisterDomain(ctx, in)
}

// RegisterWorkflowType implements api.Service.
func (g *Guard) RegisterWorkflowType(ctx context.Context, in *api.RegisterWorkflowTypeInput) error {
	if err := g.check(ctx, "RegisterWorkflowType", in); err != nil {
		return err
	}
	return g.Next.RegisterWorkflowType(ctx, in)
}

// RequestCancelWorkflowExecution implements api.Service.
func (g *Guard) RequestCancelWorkflowExecution(ctx context.Context, in *api.RequestCancelWorkflowExecutionInput) error {
	if err := g.check(ctx, "RequestCancelWorkflowExecution", in); err != nil {
		return err
	}
	return g.Next.RequestCancelWorkflowExecution(ctx, in)
}

// RespondActivityTaskCanceled implements api.Service.
func (g *Guard) RespondActivityTaskCanceled(ctx context.Context, in *api.RespondActivityTaskCanceledInput) error {
	if err := g.check(ctx, "RespondActivityTaskCanceled", in); err != nil {
		return err
	}
	return g.Next.RespondActivityTaskCanceled(ctx, in)
}

// RespondActivityTaskCompleted implements api.Service.
func (g *Guard) RespondActivityTaskCompleted(ctx context.Context, in *api.RespondActivityTaskCompletedInput) error {
	if err := g.check(ctx, "RespondActivityTaskCompleted", in); err != nil {
		return err
	}
	return g.Next.RespondActivityTaskCompleted(ctx, in)
}

// RespondActivityTaskFailed implements api.Service.
func (g *Guard) RespondActivityTaskFailed(ctx context.Context, in *api.RespondActivityTaskFailedInput) error {
	if err := g.check(ctx, "RespondActivityTaskFailed", in); err != nil {
		return err
	}
	return g.Next.RespondActivityTaskFailed(ctx, in)
}

// RespondDecisionTaskCompleted implements api.Service.
func (g *Guard) RespondDecisionTaskCompleted(ctx context.Context, in *api.RespondDecisionTaskCompletedInput) error {
	if err := g.check(ctx, "RespondDecisionTaskCompleted", in); err != nil {
		return err
	}
	return g.Next.RespondDecisionTaskCompleted(ctx, in)
}

// SignalWorkflowExecution implements api.Service.
func (g *Guard) SignalWorkflowExecution(ctx context.Context, in *api.SignalWorkflowExecutionInput) error {
	if err := g.check(ctx, "SignalWorkflowExecution", in); err != nil {
		return err
	}
	return g.Next.SignalWorkflowExecution(ctx, in)
}

// StartWorkflowExecution implements api.Service.
func (g *Guard) StartWorkflowExecution(ctx context.Context, in *api.StartWorkflowExecutionInput) (*api.Run, error) {
	if err := g.check(ctx, "StartWorkflowExecution", in); err != nil {
		return nil, err
	}
	return g.Next.StartWorkflowExecution(ctx, in)
}

// TagResource implements api.Service.
func (g *Guard) TagResource(ctx context.Context, in *api.TagResourceInput) error {
	if err := g.check(ctx, "TagResource", in); err != nil {
		return err
	}
	return g.Next.TagResource(ctx, in)
}

// TerminateWorkflowExecution implements api.Service.
func (g *Guard) TerminateWorkflowExecution(ctx context.Context, in *api.TerminateWorkflowExecutionInput) error {
	if err := g.check(ctx, "TerminateWorkflowExecution", in); err != nil {
		return err
	}
	return g.Next.TerminateWorkflowExecution(ctx, in)
}

// UndeprecateActivityType implements api.Service.
func (g *Guard) UndeprecateActivityType(ctx context.Context, in *api.UndeprecateActivityTypeInput) error {
	if err := g.check(ctx, "UndeprecateActivityType", in); err != nil {
		return err
	}
	return g.Next.UndeprecateActivityType(ctx, in)
}

// UndeprecateDomain implements api.Service.
func (g *Guard) UndeprecateDomain(ctx context.Context, in *api.UndeprecateDomainInput) error {
	if err := g.check(ctx, "UndeprecateDomain", in); err != nil {
		return err
	}
	return g.Next.UndeprecateDomain(ctx, in)
}

// UndeprecateWorkflowType implements api.Service.
func (g *Guard) UndeprecateWorkflowType(ctx context.Context, in *api.UndeprecateWorkflowTypeInput) error {
	if err := g.check(ctx, "UndeprecateWorkflowType", in); err != nil {
		return err
	}
	return g.Next.UndeprecateWorkflowType(ctx, in)
}

// UntagResource implements api.Service.
func (g *Guard) UntagResource(ctx context.Context, in *api.UntagResourceInput) error {
	if err := g.check(ctx, "UntagResource", in); err != nil {
		return err
	}
	return g.Next.UntagResource(ctx, in)
}
