package service

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
	"github.com/swfd/swfd/internal/token"
	"github.com/swfd/swfd/internal/validate"
	"github.com/swfd/swfd/registry"
	"github.com/swfd/swfd/runs"
)

func (s *Service) StartWorkflowExecution(ctx context.Context, in *api.StartWorkflowExecutionInput) (*api.Run, error) {
	var c validate.Checker
	c.Name("workflowId", in.WorkflowID)
	c.TaskList("taskList", in.TaskList)
	c.Priority("taskPriority", in.TaskPriority)
	c.ExecutionTimeout("executionStartToCloseTimeout", in.ExecutionStartToCloseTimeout)
	c.Duration("taskStartToCloseTimeout", in.TaskStartToCloseTimeout, true)
	if err := c.Err(); err != nil {
		return nil, err
	}
	d, err := s.Domain(ctx, in.Domain)
	if err != nil {
		return nil, err
	}
	t, err := s.Type(ctx, swfd.WorkflowKind, in.Domain, in.WorkflowType.Name, in.WorkflowType.Version)
	if err != nil {
		return nil, err
	}
	// A deprecated domain cannot be used for new executions. Deprecating
	// it deprecated its types, and none can be registered or undeprecated
	// in it since, so its types answer TypeDeprecatedFault as they do
	// here whatever status a type of it still holds (one left registered
	// by a version of swfd that allowed it).
	if t.Status != swfd.StatusRegistered || d.Status != swfd.StatusRegistered {
		return nil, api.NewFault(api.TypeDeprecatedFault, "%s", registry.TypeString(swfd.WorkflowKind, t.Name, t.Version))
	}
	var def api.WorkflowTypeConfiguration
	if err := runs.Decode(t.Config, &def); err != nil {
		return nil, err
	}
	cfg := history.Config{
		ExecutionStartToCloseTimeout: first(in.ExecutionStartToCloseTimeout, def.DefaultExecutionStartToCloseTimeout),
		TaskStartToCloseTimeout:      first(in.TaskStartToCloseTimeout, def.DefaultTaskStartToCloseTimeout),
		ChildPolicy:                  api.ChildPolicy(first(string(in.ChildPolicy), string(def.DefaultChildPolicy))),
		TaskPriority:                 api.CanonicalPriority(first(in.TaskPriority, def.DefaultTaskPriority)),
		LambdaRole:                   first(in.LambdaRole, def.DefaultLambdaRole),
	}
	if in.TaskList != nil {
		cfg.TaskList = in.TaskList.Name
	} else if def.DefaultTaskList != nil {
		cfg.TaskList = def.DefaultTaskList.Name
	}
	// The order in which missing defaults are reported follows the
	// parameters' order in the API reference.
	switch {
	case cfg.ExecutionStartToCloseTimeout == "":
		return nil, api.NewFault(api.DefaultUndefinedFault, "executionStartToCloseTimeout")
	case cfg.TaskList == "":
		return nil, api.NewFault(api.DefaultUndefinedFault, "taskList")
	case cfg.TaskStartToCloseTimeout == "":
		return nil, api.NewFault(api.DefaultUndefinedFault, "taskStartToCloseTimeout")
	case cfg.ChildPolicy == "":
		return nil, api.NewFault(api.DefaultUndefinedFault, "childPolicy")
	}
	open, err := s.runs.OpenExecutions(ctx, in.Domain)
	if err != nil {
		return nil, err
	}
	if open >= s.limits.MaxOpenExecutions {
		// An open run past its timeout would not have been counted had the
		// timer loop been on time: the one of this workflowId
		// (runs.FreeWorkflowID), then as many of the domain's others as
		// it takes (runs.TimeOutOverdue), are timed out first, and count
		// no more.
		free, err := s.runs.FreeWorkflowID(ctx, in.Domain, in.WorkflowID)
		if err != nil {
			return nil, err
		}
		if free {
			if open, err = s.runs.OpenExecutions(ctx, in.Domain); err != nil {
				return nil, err
			}
		}
		if open >= s.limits.MaxOpenExecutions {
			// A run that could not be timed out leaves the others to
			// make room: with room, the start goes ahead and the failure
			// is logged; without, the start fails with it (not
			// LimitExceededFault: there might have been room).
			freed, overdueErr := s.runs.TimeOutOverdue(ctx, in.Domain, open-s.limits.MaxOpenExecutions+1)
			if freed > 0 {
				if open, err = s.runs.OpenExecutions(ctx, in.Domain); err != nil {
					return nil, err
				}
			}
			if overdueErr != nil {
				if open >= s.limits.MaxOpenExecutions {
					return nil, overdueErr
				}
				s.overdueLines.Log(ctx, slog.LevelError, "an overdue run could not be timed out; the start had room without it", "domain", in.Domain, "err", overdueErr)
			}
		}
	}
	if open >= s.limits.MaxOpenExecutions {
		return nil, api.NewFault(api.LimitExceededFault, "The maximum number of open workflow executions (%d) in domain %s has been reached", s.limits.MaxOpenExecutions, in.Domain)
	}
	p := history.StartParams{
		Domain:       in.Domain,
		WorkflowID:   in.WorkflowID,
		RunID:        runs.NewRunID(),
		WorkflowType: in.WorkflowType,
		Config:       cfg,
		Input:        in.Input,
		TagList:      in.TagList,
	}
	// The store refuses the run while another of its workflowId is open.
	// One past its timeout is timed out first (runs.FreeWorkflowID), and
	// the run started after it, at a time not before its timeout's.
	for attempt := 0; ; attempt++ {
		st, res := history.Start(s.runs.Env(ctx), p)
		var b runs.Batch
		if err := b.Add(st, 0, true, res); err != nil {
			return nil, err
		}
		err := s.runs.Commit(ctx, &b)
		if err == nil {
			return &api.Run{RunID: p.RunID}, nil
		}
		if !errors.Is(err, swfd.ErrAlreadyExists) {
			return nil, err
		}
		if attempt+1 >= runs.StartAttempts {
			return nil, api.NewFault(api.WorkflowExecutionAlreadyStartedFault, "")
		}
		free, err := s.runs.FreeWorkflowID(ctx, in.Domain, in.WorkflowID)
		if err != nil {
			return nil, err
		}
		if !free {
			return nil, api.NewFault(api.WorkflowExecutionAlreadyStartedFault, "")
		}
	}
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func (s *Service) SignalWorkflowExecution(ctx context.Context, in *api.SignalWorkflowExecutionInput) error {
	return s.withOpenRun(ctx, in.Domain, in.WorkflowID, api.Value(in.RunID), func(r *runs.Run) error {
		res, err := r.State.Signal(s.runs.Env(ctx), in.SignalName, in.Input)
		if err != nil {
			return err
		}
		return s.commitCall(ctx, r, res)
	})
}

func (s *Service) RequestCancelWorkflowExecution(ctx context.Context, in *api.RequestCancelWorkflowExecutionInput) error {
	return s.withOpenRun(ctx, in.Domain, in.WorkflowID, api.Value(in.RunID), func(r *runs.Run) error {
		res, err := r.State.RequestCancel(s.runs.Env(ctx))
		if err != nil {
			return err
		}
		return s.commitCall(ctx, r, res)
	})
}

func (s *Service) TerminateWorkflowExecution(ctx context.Context, in *api.TerminateWorkflowExecutionInput) error {
	return s.withOpenRun(ctx, in.Domain, in.WorkflowID, api.Value(in.RunID), func(r *runs.Run) error {
		res, err := r.State.Terminate(s.runs.Env(ctx), in.Reason, in.Details, in.ChildPolicy, "")
		if err != nil {
			return err
		}
		// A run whose timeout was due before the call times out instead
		// (history.Result.Refused).
		return s.commitCall(ctx, r, res)
	})
}

// describeRun loads a run for Describe/GetHistory: any status, within
// retention; the workflowId must match.
func (s *Service) describeRun(ctx context.Context, domain string, ex api.WorkflowExecution) (*runs.Run, error) {
	if _, err := s.Domain(ctx, domain); err != nil {
		return nil, err
	}
	r, err := s.runs.LoadStored(ctx, domain, ex.RunID)
	if errors.Is(err, swfd.ErrNotFound) || (err == nil && r.Row.WorkflowID != ex.WorkflowID) {
		return nil, unknownExecution(ex.WorkflowID, ex.RunID)
	}
	return r, err
}

func executionInfo(row swfd.Execution) api.WorkflowExecutionInfo {
	info := api.WorkflowExecutionInfo{
		Execution:       api.WorkflowExecution{WorkflowID: row.WorkflowID, RunID: row.RunID},
		WorkflowType:    api.WorkflowType{Name: row.TypeName, Version: row.TypeVersion},
		StartTimestamp:  api.NewTime(row.StartTime),
		ExecutionStatus: api.ExecutionStatusOpen,
		TagList:         row.Tags,
		CancelRequested: row.CancelRequested,
	}
	if !row.Open {
		info.ExecutionStatus = api.ExecutionStatusClosed
		info.CloseStatus = api.CloseStatus(row.CloseStatus)
		info.CloseTimestamp = api.NewTime(row.CloseTime)
	}
	if row.ParentRunID != "" {
		info.Parent = &api.WorkflowExecution{WorkflowID: row.ParentWorkflowID, RunID: row.ParentRunID}
	}
	return info
}

func (s *Service) DescribeWorkflowExecution(ctx context.Context, in *api.DescribeWorkflowExecutionInput) (*api.WorkflowExecutionDetail, error) {
	r, err := s.describeRun(ctx, in.Domain, in.Execution)
	if err != nil {
		return nil, err
	}
	cfg := r.State.Config
	out := &api.WorkflowExecutionDetail{
		ExecutionInfo: executionInfo(r.Row),
		ExecutionConfiguration: api.WorkflowExecutionConfiguration{
			TaskStartToCloseTimeout:      cfg.TaskStartToCloseTimeout,
			ExecutionStartToCloseTimeout: cfg.ExecutionStartToCloseTimeout,
			TaskList:                     api.TaskList{Name: cfg.TaskList},
			TaskPriority:                 cfg.TaskPriority,
			ChildPolicy:                  cfg.ChildPolicy,
			LambdaRole:                   cfg.LambdaRole,
		},
		OpenCounts:             r.State.OpenCounts(),
		LatestExecutionContext: r.State.LatestExecutionContext,
	}
	if !r.State.LatestActivityTaskTimestamp.IsZero() {
		out.LatestActivityTaskTimestamp = api.NewTime(r.State.LatestActivityTaskTimestamp)
	}
	return out, nil
}

func (s *Service) GetWorkflowExecutionHistory(ctx context.Context, in *api.GetWorkflowExecutionHistoryInput) (*api.History, error) {
	r, err := s.describeRun(ctx, in.Domain, in.Execution)
	if err != nil {
		return nil, err
	}
	scope := "history|" + r.Row.RunID + "|" + strconv.FormatBool(in.ReverseOrder)
	var after int64
	if in.NextPageToken != "" {
		a, err := s.tokens.OpenPage(in.NextPageToken, scope)
		if err != nil {
			return nil, err
		}
		if after, err = strconv.ParseInt(a, 10, 64); err != nil {
			return nil, token.ErrBadPage
		}
	}
	events, next, err := s.runs.HistoryPage(ctx, r.Row.RunID, after, 0, in.ReverseOrder, in.MaximumPageSize, true)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		// Every page holds an event (a history begins with
		// WorkflowExecutionStarted, and a token is made only when more
		// events follow): the run was purged since it was read above.
		return nil, unknownExecution(in.Execution.WorkflowID, in.Execution.RunID)
	}
	out := &api.History{Events: events}
	if next != 0 {
		out.NextPageToken = s.tokens.PageToken(scope, strconv.FormatInt(next, 10))
	}
	return out, nil
}
