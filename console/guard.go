package console

import (
	"context"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/inspect"
)

// guardedInspector authorizes each inspect call as the SWF call nearest to
// what it shows (docs/console.md lists them), with the same policies.
type guardedInspector struct {
	next      inspect.Inspector
	authorize func(ctx context.Context, op string, in any) error
}

func (g guardedInspector) Pending(ctx context.Context, domain string, ex api.WorkflowExecution) (*inspect.Pending, error) {
	if err := g.authorize(ctx, "DescribeWorkflowExecution", &api.DescribeWorkflowExecutionInput{Domain: domain, Execution: ex}); err != nil {
		return nil, err
	}
	return g.next.Pending(ctx, domain, ex)
}

func (g guardedInspector) History(ctx context.Context, domain string, ex api.WorkflowExecution, after int64, reverse bool, limit int) ([]api.HistoryEvent, error) {
	if err := g.authorize(ctx, "GetWorkflowExecutionHistory", &api.GetWorkflowExecutionHistoryInput{Domain: domain, Execution: ex}); err != nil {
		return nil, err
	}
	return g.next.History(ctx, domain, ex, after, reverse, limit)
}

// TaskLists shows only the lists the caller may count the tasks of; if
// it may count none, the answer is the fault of the first denied.
func (g guardedInspector) TaskLists(ctx context.Context, domain string) ([]inspect.TaskList, error) {
	lists, err := g.next.TaskLists(ctx, domain)
	if err != nil {
		return nil, err
	}
	var out []inspect.TaskList
	var denied error
	for _, l := range lists {
		var err error
		if l.Kind == "decision" {
			err = g.authorize(ctx, "CountPendingDecisionTasks", &api.CountPendingDecisionTasksInput{Domain: domain, TaskList: api.TaskList{Name: l.Name}})
		} else {
			err = g.authorize(ctx, "CountPendingActivityTasks", &api.CountPendingActivityTasksInput{Domain: domain, TaskList: api.TaskList{Name: l.Name}})
		}
		if err != nil {
			if denied == nil {
				denied = err
			}
			continue
		}
		out = append(out, l)
	}
	if len(out) == 0 && denied != nil {
		return nil, denied
	}
	return out, nil
}

func (g guardedInspector) Attention(ctx context.Context, domain string) (*inspect.Attention, error) {
	if err := g.authorize(ctx, "ListOpenWorkflowExecutions", &api.ListOpenWorkflowExecutionsInput{Domain: domain}); err != nil {
		return nil, err
	}
	return g.next.Attention(ctx, domain)
}

func (g guardedInspector) Execution(ctx context.Context, domain, runID string) (*api.WorkflowExecutionInfo, error) {
	tf := api.ExecutionTimeFilter{OldestDate: api.Time{Time: epoch}}
	if err := g.authorize(ctx, "ListOpenWorkflowExecutions", &api.ListOpenWorkflowExecutionsInput{Domain: domain, StartTimeFilter: tf}); err != nil {
		return nil, err
	}
	if err := g.authorize(ctx, "ListClosedWorkflowExecutions", &api.ListClosedWorkflowExecutionsInput{Domain: domain, StartTimeFilter: &tf}); err != nil {
		return nil, err
	}
	return g.next.Execution(ctx, domain, runID)
}
