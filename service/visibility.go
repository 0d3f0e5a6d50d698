package service

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/token"
)

// countLimit is where Count*WorkflowExecutions stops counting and answers
// truncated=true with count = countLimit, a lower bound: the API's
// truncated flag says the count stopped at a limit of the service's own.
//
// The embedded store counts by reading index entries, about 0.5 µs each on
// one core, so counting a million runs would take half a second; 100,000
// keeps every count under 100 ms (see BENCHMARKS.md, "Visibility") while
// still counting exactly any filter that matches fewer runs, which covers
// every filter a caller can act on (a tag, a workflowId, a week of runs).
const countLimit = 100_000

// visibilityFilters are the filters of the four visibility operations.
type visibilityFilters struct {
	domain      string
	open        bool
	start       *api.ExecutionTimeFilter
	close       *api.ExecutionTimeFilter
	execution   *api.WorkflowExecutionFilter
	typ         *api.WorkflowTypeFilter
	tag         *api.TagFilter
	closeStatus *api.CloseStatusFilter
	reverse     bool
}

func (f visibilityFilters) query() (swfd.VisibilityQuery, error) {
	q := swfd.VisibilityQuery{Domain: f.domain, Open: f.open, Reverse: f.reverse}
	switch {
	case f.start != nil && f.close != nil:
		return q, api.ErrValidation("startTimeFilter and closeTimeFilter are mutually exclusive")
	case f.start == nil && f.close == nil:
		return q, api.ErrValidation("Either startTimeFilter or closeTimeFilter must be specified")
	}
	tf := f.start
	if f.close != nil {
		tf, q.ByCloseTime = f.close, true
	}
	// Stored times are whole milliseconds: a bound between two of them
	// rounds inward, so that a run between the bound and the next whole
	// millisecond is left out, as the bound says.
	q.Oldest = ceilMilli(tf.OldestDate.Time)
	if !tf.LatestDate.IsZero() {
		q.Latest = tf.LatestDate.Truncate(time.Millisecond)
		if q.Latest.IsZero() {
			// A latestDate within the first millisecond of year 1 is
			// a bound, but a store reads the zero time as none: it is
			// taken a millisecond earlier, which leaves out no run (no
			// run starts or closes at the zero time, swfd's "unset").
			q.Latest = q.Latest.Add(-time.Millisecond)
		}
	}
	// A latestDate before the oldestDate is an empty range, not a fault:
	// the model orders the bounds in no way, and it matches no run.
	selectors := 0
	if f.execution != nil {
		selectors++
		q.WorkflowID = f.execution.WorkflowID
	}
	if f.typ != nil {
		selectors++
		// A version given "" is no version: no type has that version, so
		// the filter is by name alone, as without one.
		q.TypeName, q.TypeVersion = f.typ.Name, f.typ.Version
	}
	if f.tag != nil {
		selectors++
		// A tag given empty is a filter on the empty tag, not no filter.
		q.Tag, q.EmptyTag = f.tag.Tag, f.tag.Tag == ""
	}
	if f.closeStatus != nil {
		selectors++
		q.CloseStatus = string(f.closeStatus.Status)
	}
	if selectors > 1 {
		if f.open {
			// The open executions' operations have no closeStatusFilter.
			return q, api.ErrValidation("executionFilter, typeFilter and tagFilter are mutually exclusive: specify at most one")
		}
		return q, api.ErrValidation("executionFilter, typeFilter, tagFilter and closeStatusFilter are mutually exclusive: specify at most one")
	}
	return q, nil
}

// ceilMilli rounds t up to a whole millisecond.
func ceilMilli(t time.Time) time.Time {
	if r := t.Truncate(time.Millisecond); !r.Equal(t) {
		return r.Add(time.Millisecond)
	}
	return t
}

// visibilityScope is the scope of a list's page tokens: the query's JSON,
// so that a token is refused with other arguments. A time's JSON holds
// years 0 to 9999 only, and a bound may be far outside them (a latestDate
// of 10¹² says "no bound" as well as 9999-12-31 does): such a query is
// written with its bounds left out of the JSON and appended as Unix
// milliseconds instead. (Every other query keeps the scope of earlier
// releases, so that a client paging across an upgrade is not refused.)
func visibilityScope(q swfd.VisibilityQuery) (string, error) {
	b, err := json.Marshal(q)
	if err == nil {
		return "executions|" + string(b), nil
	}
	oldest, latest := q.Oldest, q.Latest
	q.Oldest, q.Latest = time.Time{}, time.Time{}
	if b, err = json.Marshal(q); err != nil {
		return "", fmt.Errorf("service: the scope of a visibility query: %w", err)
	}
	return fmt.Sprintf("executions|%s|oldest=%d|latest=%d", b, oldest.UnixMilli(), latest.UnixMilli()), nil
}

type visibilityCursor struct {
	Time  int64  `json:"t"`
	RunID string `json:"r"`
}

func (s *Service) listExecutions(ctx context.Context, f visibilityFilters, size int, pageToken string) (*api.WorkflowExecutionInfos, error) {
	if _, err := s.Domain(ctx, f.domain); err != nil {
		return nil, err
	}
	q, err := f.query()
	if err != nil {
		return nil, err
	}
	scope, err := visibilityScope(q)
	if err != nil {
		return nil, err
	}
	if pageToken != "" {
		raw, err := s.tokens.OpenPage(pageToken, scope)
		if err != nil {
			return nil, err
		}
		var c visibilityCursor
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return nil, token.ErrBadPage
		}
		q.AfterTime, q.AfterRunID = time.UnixMilli(c.Time).UTC(), c.RunID
	}
	n := token.PageSize(size)
	q.Limit = n + 1
	q.NoState = true // the list shows none of it
	release, err := s.visibilitySlot(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.store.ListExecutions(ctx, q)
	release()
	if err != nil {
		return nil, err
	}
	out := &api.WorkflowExecutionInfos{ExecutionInfos: []api.WorkflowExecutionInfo{}}
	for i, row := range rows {
		if i == n {
			last := rows[i-1]
			t := last.StartTime
			if q.ByCloseTime {
				t = last.CloseTime
			}
			b, _ := json.Marshal(visibilityCursor{Time: t.UnixMilli(), RunID: last.RunID})
			out.NextPageToken = s.tokens.PageToken(scope, string(b))
			break
		}
		out.ExecutionInfos = append(out.ExecutionInfos, executionInfo(row))
	}
	return out, nil
}

func (s *Service) countExecutions(ctx context.Context, f visibilityFilters) (*api.WorkflowExecutionCount, error) {
	if _, err := s.Domain(ctx, f.domain); err != nil {
		return nil, err
	}
	q, err := f.query()
	if err != nil {
		return nil, err
	}
	release, err := s.visibilitySlot(ctx)
	if err != nil {
		return nil, err
	}
	n, truncated, err := s.store.CountExecutions(ctx, q, countLimit)
	release()
	if err != nil {
		return nil, fmt.Errorf("count executions: %w", err)
	}
	return &api.WorkflowExecutionCount{Count: n, Truncated: truncated}, nil
}

// visibilitySlot waits for a free visibility query slot (see
// Options.VisibilityQueries) and returns its release.
func (s *Service) visibilitySlot(ctx context.Context) (func(), error) {
	select {
	case s.visibilitySlots <- struct{}{}:
		return func() { <-s.visibilitySlots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Service) ListOpenWorkflowExecutions(ctx context.Context, in *api.ListOpenWorkflowExecutionsInput) (*api.WorkflowExecutionInfos, error) {
	return s.listExecutions(ctx, visibilityFilters{domain: in.Domain, open: true, start: &in.StartTimeFilter, execution: in.ExecutionFilter, typ: in.TypeFilter, tag: in.TagFilter, reverse: in.ReverseOrder}, in.MaximumPageSize, in.NextPageToken)
}

func (s *Service) ListClosedWorkflowExecutions(ctx context.Context, in *api.ListClosedWorkflowExecutionsInput) (*api.WorkflowExecutionInfos, error) {
	return s.listExecutions(ctx, visibilityFilters{domain: in.Domain, start: in.StartTimeFilter, close: in.CloseTimeFilter, execution: in.ExecutionFilter, typ: in.TypeFilter, tag: in.TagFilter, closeStatus: in.CloseStatusFilter, reverse: in.ReverseOrder}, in.MaximumPageSize, in.NextPageToken)
}

func (s *Service) CountOpenWorkflowExecutions(ctx context.Context, in *api.CountOpenWorkflowExecutionsInput) (*api.WorkflowExecutionCount, error) {
	return s.countExecutions(ctx, visibilityFilters{domain: in.Domain, open: true, start: &in.StartTimeFilter, execution: in.ExecutionFilter, typ: in.TypeFilter, tag: in.TagFilter})
}

func (s *Service) CountClosedWorkflowExecutions(ctx context.Context, in *api.CountClosedWorkflowExecutionsInput) (*api.WorkflowExecutionCount, error) {
	return s.countExecutions(ctx, visibilityFilters{domain: in.Domain, start: in.StartTimeFilter, close: in.CloseTimeFilter, execution: in.ExecutionFilter, typ: in.TypeFilter, tag: in.TagFilter, closeStatus: in.CloseStatusFilter})
}
