package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/history"
)

func (s *Service) StartWorkflowExecution(ctx context.Context, in *api.StartWorkflowExecutionInput) (*api.Run, error) {
	var c checker
	c.name("workflowId", in.WorkflowID)
	c.taskList("taskList", in.TaskList)
	c.priority("taskPriority", in.TaskPriority)
	c.executionTimeout("executionStartToCloseTimeout", in.ExecutionStartToCloseTimeout)
	c.duration("taskStartToCloseTimeout", in.TaskStartToCloseTimeout, true)
	if err := c.err(); err != nil {
		return nil, err
	}
	if _, err := s.getDomain(ctx, in.Domain); err != nil {
		return nil, err
	}
	t, err := s.getType(ctx, swfd.WorkflowKind, in.Domain, in.WorkflowType.Name, in.WorkflowType.Version)
	if err != nil {
		return nil, err
	}
	if t.Status != swfd.StatusRegistered {
		return nil, api.NewFault(api.TypeDeprecatedFault, "%s", typeString(swfd.WorkflowKind, t.Name, t.Version))
	}
	var def api.WorkflowTypeConfiguration
	if err := jsonUnmarshal(t.Config, &def); err != nil {
		return nil, err
	}
	cfg := history.Config{
		ExecutionStartToCloseTimeout: first(in.ExecutionStartToCloseTimeout, def.DefaultExecutionStartToCloseTimeout),
		TaskStartToCloseTimeout:      first(in.TaskStartToCloseTimeout, def.DefaultTaskStartToCloseTimeout),
		ChildPolicy:                  api.ChildPolicy(first(string(in.ChildPolicy), string(def.DefaultChildPolicy))),
		TaskPriority:                 first(in.TaskPriority, def.DefaultTaskPriority, "0"),
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
	open, err := s.openExecutions(ctx, in.Domain)
	if err != nil {
		return nil, err
	}
	if open >= s.limits.MaxOpenExecutions {
		return nil, api.NewFault(api.LimitExceededFault, "The maximum number of open workflow executions (%d) in domain %s has been reached", s.limits.MaxOpenExecutions, in.Domain)
	}
	p := history.StartParams{
		Domain:       in.Domain,
		WorkflowID:   in.WorkflowID,
		RunID:        newRunID(),
		WorkflowType: in.WorkflowType,
		Config:       cfg,
		Input:        in.Input,
		TagList:      in.TagList,
	}
	st, res := history.Start(s.env(ctx), p)
	var b step
	if err := b.add(st, 0, true, res); err != nil {
		return nil, err
	}
	if err := s.commit(ctx, &b); err != nil {
		if errors.Is(err, swfd.ErrAlreadyExists) {
			return nil, api.NewFault(api.WorkflowExecutionAlreadyStartedFault, "")
		}
		return nil, err
	}
	return &api.Run{RunID: p.RunID}, nil
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
	return s.withOpenRun(ctx, in.Domain, in.WorkflowID, in.RunID, func(r *run) error {
		res, err := r.st.Signal(s.env(ctx), in.SignalName, in.Input)
		if err != nil {
			return err
		}
		return s.commitRun(ctx, r, res)
	})
}

func (s *Service) RequestCancelWorkflowExecution(ctx context.Context, in *api.RequestCancelWorkflowExecutionInput) error {
	return s.withOpenRun(ctx, in.Domain, in.WorkflowID, in.RunID, func(r *run) error {
		res, err := r.st.RequestCancel(s.env(ctx))
		if err != nil {
			return err
		}
		return s.commitRun(ctx, r, res)
	})
}

func (s *Service) TerminateWorkflowExecution(ctx context.Context, in *api.TerminateWorkflowExecutionInput) error {
	return s.withOpenRun(ctx, in.Domain, in.WorkflowID, in.RunID, func(r *run) error {
		res, err := r.st.Terminate(s.env(ctx), in.Reason, in.Details, in.ChildPolicy, "")
		if err != nil {
			return err
		}
		return s.commitRun(ctx, r, res)
	})
}

// describeRun loads a run for Describe/GetHistory: any status, within
// retention; the workflowId must match.
func (s *Service) describeRun(ctx context.Context, domain string, ex api.WorkflowExecution) (*run, error) {
	if _, err := s.getDomain(ctx, domain); err != nil {
		return nil, err
	}
	r, err := s.loadStoredRun(ctx, domain, ex.RunID)
	if errors.Is(err, swfd.ErrNotFound) || (err == nil && r.row.WorkflowID != ex.WorkflowID) {
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
	cfg := r.st.Config
	out := &api.WorkflowExecutionDetail{
		ExecutionInfo: executionInfo(r.row),
		ExecutionConfiguration: api.WorkflowExecutionConfiguration{
			TaskStartToCloseTimeout:      cfg.TaskStartToCloseTimeout,
			ExecutionStartToCloseTimeout: cfg.ExecutionStartToCloseTimeout,
			TaskList:                     api.TaskList{Name: cfg.TaskList},
			TaskPriority:                 cfg.TaskPriority,
			ChildPolicy:                  cfg.ChildPolicy,
			LambdaRole:                   cfg.LambdaRole,
		},
		OpenCounts:             r.st.OpenCounts(),
		LatestExecutionContext: r.st.LatestExecutionContext,
	}
	if !r.st.LatestActivityTaskTimestamp.IsZero() {
		out.LatestActivityTaskTimestamp = api.NewTime(r.st.LatestActivityTaskTimestamp)
	}
	return out, nil
}

func (s *Service) GetWorkflowExecutionHistory(ctx context.Context, in *api.GetWorkflowExecutionHistoryInput) (*api.History, error) {
	r, err := s.describeRun(ctx, in.Domain, in.Execution)
	if err != nil {
		return nil, err
	}
	scope := "history|" + r.row.RunID + "|" + strconv.FormatBool(in.ReverseOrder)
	var after int64
	if in.NextPageToken != "" {
		a, err := s.openPageToken(in.NextPageToken, scope)
		if err != nil {
			return nil, err
		}
		if after, err = strconv.ParseInt(a, 10, 64); err != nil {
			return nil, errBadPageToken
		}
	}
	events, next, err := s.historyPage(ctx, r.row.RunID, after, 0, in.ReverseOrder, in.MaximumPageSize, true)
	if err != nil {
		return nil, err
	}
	out := &api.History{Events: events}
	if next != 0 {
		out.NextPageToken = s.pageToken(scope, strconv.FormatInt(next, 10))
	}
	return out, nil
}

// historyPage reads one page of a run's events: ascending after id
// `after`, or descending before `after` (0: from the end). upTo, if not 0,
// hides events with larger ids. next is the position to resume from, 0 at
// the end.
//
// A step's events are in the store a moment before they are in the run
// cache. A caller that must see every event the store has (the history
// API: the caller may just have seen the run's new state elsewhere) sets
// waitCommits, and the cache is read under the run's lock, which a step
// holds until the cache has its events. Task pages need not: their events
// up to the task's start are in the cache once the task is handed out.
func (s *Service) historyPage(ctx context.Context, runID string, after, upTo int64, reverse bool, size int, waitCommits bool) ([]api.HistoryEvent, int64, error) {
	n := pageSize(size)
	q := swfd.HistoryQuery{RunID: runID, AfterID: after, Reverse: reverse, Limit: n + 1}
	if reverse && after == 0 && upTo != 0 {
		q.AfterID = upTo + 1
	}
	var evs []api.HistoryEvent
	var ok bool
	if waitCommits && s.runs != nil {
		unlock := s.lock(runID)
		evs, ok = cachedHistory(s.runs, q, upTo)
		unlock()
	} else {
		evs, ok = cachedHistory(s.runs, q, upTo)
	}
	if !ok {
		var err error
		if evs, err = s.storedHistory(ctx, q); err != nil {
			return nil, 0, err
		}
		if !reverse && after == 0 && len(evs) < q.Limit {
			// The whole history: the cache may keep it (adopt).
			s.runs.adopt(runID, evs)
		}
	}
	out := make([]api.HistoryEvent, 0, min(len(evs), n))
	var next int64
	for i, e := range evs {
		if upTo != 0 && e.EventID > upTo {
			break
		}
		if i == n {
			next = evs[i-1].EventID
			break
		}
		out = append(out, e)
	}
	return out, next, nil
}

// storedHistory reads events from the store. Stored events go back on the
// wire as they were written; only their id, type and time are decoded.
func (s *Service) storedHistory(ctx context.Context, q swfd.HistoryQuery) ([]api.HistoryEvent, error) {
	stored, err := s.store.History(ctx, q)
	if err != nil {
		return nil, err
	}
	evs := make([]api.HistoryEvent, 0, len(stored))
	for _, e := range stored {
		ev, err := api.RawHistoryEvent(e.JSON)
		if err != nil {
			return nil, fmt.Errorf("decode stored event %d of run %s: %w", e.ID, q.RunID, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// cachedHistory answers a history query from the run cache, as the store
// would; false when the cache does not hold the run's history.
//
// upTo is the last event the caller will use (0: the latest). A cluster
// node's cache may lack the events other nodes added since, so there it
// answers only for a known last event that it holds: events never change.
func cachedHistory(c *runCache, q swfd.HistoryQuery, upTo int64) ([]api.HistoryEvent, bool) {
	all, ok := c.history(q.RunID)
	if !ok || c.guarded && (upTo == 0 || int64(len(all)) < upTo) {
		return nil, false
	}
	// Event i (from 1) is all[i-1].
	limit := q.Limit
	if limit <= 0 {
		limit = len(all)
	}
	if !q.Reverse {
		from := int(min(max(q.AfterID, 0), int64(len(all))))
		to := min(from+limit, len(all))
		return all[from:to], true
	}
	end := len(all) // events before all[end]
	if q.AfterID > 0 {
		end = int(min(q.AfterID-1, int64(len(all))))
	}
	out := make([]api.HistoryEvent, 0, min(limit, end))
	for i := end - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, all[i])
	}
	return out, true
}
