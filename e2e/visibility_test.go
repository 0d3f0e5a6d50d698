package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"

	"github.com/swfd/swfd/internal/swfdtest"
)

// Visibility: ListOpen/ListClosed/CountOpen/CountClosed through the real
// client: every filter, paging, reverse order, and counts that agree with
// the lists.

// visAll is a start time filter that matches every run.
func visAll() *types.ExecutionTimeFilter {
	return &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Unix(0, 0))}
}

// visStart starts a run of type name/version on its own task list
// ("vis-" + workflowId), so that each run's decision tasks can be polled
// separately.
func (h *wfHarness) visStart(workflowID, name, version string, tags ...string) string {
	h.t.Helper()
	return h.start(workflowID, func(in *swf.StartWorkflowExecutionInput) {
		in.WorkflowType = &types.WorkflowType{Name: aws.String(name), Version: aws.String(version)}
		in.TaskList = &types.TaskList{Name: aws.String("vis-" + workflowID)}
		in.TagList = tags
	})
}

// visDecide answers the next decision task of a run started by visStart.
func (h *wfHarness) visDecide(workflowID string, d types.Decision) {
	h.t.Helper()
	task := h.mustDecision("vis-" + workflowID)
	h.decide(task.TaskToken, d)
}

// visRegisterTypes registers order/2 and audit/1 next to the harness's order/1.
func (h *wfHarness) visRegisterTypes() {
	h.t.Helper()
	for _, t := range [][2]string{{"order", "2"}, {"audit", "1"}} {
		h.must(h.c.RegisterWorkflowType(h.ctx, &swf.RegisterWorkflowTypeInput{
			Domain: aws.String(h.domain), Name: aws.String(t[0]), Version: aws.String(t[1]),
			DefaultTaskList:                     &types.TaskList{Name: aws.String("deciders")},
			DefaultExecutionStartToCloseTimeout: aws.String("3600"),
			DefaultTaskStartToCloseTimeout:      aws.String("30"),
			DefaultChildPolicy:                  types.ChildPolicyTerminate,
		}))
	}
}

func (h *wfHarness) visListOpen(in swf.ListOpenWorkflowExecutionsInput) []types.WorkflowExecutionInfo {
	h.t.Helper()
	in.Domain = aws.String(h.domain)
	if in.StartTimeFilter == nil {
		in.StartTimeFilter = visAll()
	}
	var all []types.WorkflowExecutionInfo
	for {
		out, err := h.c.ListOpenWorkflowExecutions(h.ctx, &in)
		if err != nil {
			h.t.Fatalf("ListOpenWorkflowExecutions: %v", err)
		}
		all = append(all, out.ExecutionInfos...)
		if out.NextPageToken == nil {
			return all
		}
		in.NextPageToken = out.NextPageToken
	}
}

func (h *wfHarness) visListClosed(in swf.ListClosedWorkflowExecutionsInput) []types.WorkflowExecutionInfo {
	h.t.Helper()
	in.Domain = aws.String(h.domain)
	if in.StartTimeFilter == nil && in.CloseTimeFilter == nil {
		in.StartTimeFilter = visAll()
	}
	var all []types.WorkflowExecutionInfo
	for {
		out, err := h.c.ListClosedWorkflowExecutions(h.ctx, &in)
		if err != nil {
			h.t.Fatalf("ListClosedWorkflowExecutions: %v", err)
		}
		all = append(all, out.ExecutionInfos...)
		if out.NextPageToken == nil {
			return all
		}
		in.NextPageToken = out.NextPageToken
	}
}

func (h *wfHarness) visCountOpen(in swf.CountOpenWorkflowExecutionsInput) int {
	h.t.Helper()
	in.Domain = aws.String(h.domain)
	if in.StartTimeFilter == nil {
		in.StartTimeFilter = visAll()
	}
	out, err := h.c.CountOpenWorkflowExecutions(h.ctx, &in)
	if err != nil {
		h.t.Fatalf("CountOpenWorkflowExecutions: %v", err)
	}
	if out.Truncated {
		h.t.Fatalf("CountOpenWorkflowExecutions truncated at %d", out.Count)
	}
	return int(out.Count)
}

func (h *wfHarness) visCountClosed(in swf.CountClosedWorkflowExecutionsInput) int {
	h.t.Helper()
	in.Domain = aws.String(h.domain)
	if in.StartTimeFilter == nil && in.CloseTimeFilter == nil {
		in.StartTimeFilter = visAll()
	}
	out, err := h.c.CountClosedWorkflowExecutions(h.ctx, &in)
	if err != nil {
		h.t.Fatalf("CountClosedWorkflowExecutions: %v", err)
	}
	if out.Truncated {
		h.t.Fatalf("CountClosedWorkflowExecutions truncated at %d", out.Count)
	}
	return int(out.Count)
}

// visIDs are the workflowIds of infos, in order.
func visIDs(infos []types.WorkflowExecutionInfo) []string {
	out := make([]string, len(infos))
	for i, in := range infos {
		out[i] = *in.Execution.WorkflowId
	}
	return out
}

// visSorted reports the workflowIds sorted, for set comparisons.
func visSorted(ids []string) []string {
	s := slices.Clone(ids)
	slices.Sort(s)
	return s
}

func visWantSet(t *testing.T, what string, got []types.WorkflowExecutionInfo, want ...string) {
	t.Helper()
	if g, w := visSorted(visIDs(got)), visSorted(want); !slices.Equal(g, w) {
		t.Fatalf("%s: got %v, want %v", what, g, w)
	}
}

// visCheckOrder checks that infos are ordered by ts (newest first unless
// reverse), ties broken by runId the same way.
func visCheckOrder(t *testing.T, what string, infos []types.WorkflowExecutionInfo, ts func(types.WorkflowExecutionInfo) time.Time, reverse bool) {
	t.Helper()
	for i := 1; i < len(infos); i++ {
		a, b := infos[i-1], infos[i]
		c := ts(a).Compare(ts(b))
		if c == 0 {
			c = strings.Compare(*a.Execution.RunId, *b.Execution.RunId)
		}
		if !reverse && c <= 0 || reverse && c >= 0 {
			t.Fatalf("%s: out of order at %d: %s %v then %s %v", what, i, *a.Execution.WorkflowId, ts(a), *b.Execution.WorkflowId, ts(b))
		}
	}
}

func visStartTS(i types.WorkflowExecutionInfo) time.Time { return *i.StartTimestamp }
func visCloseTS(i types.WorkflowExecutionInfo) time.Time { return *i.CloseTimestamp }

// visFixture is a domain with runs of every close status and open runs of
// several types and tags.
type visFixture struct {
	h      *wfHarness
	runs   map[string]string // workflowId → runId (latest run)
	closed map[types.CloseStatus][]string
	open   []string
}

func newVisFixture(t *testing.T) *visFixture {
	h := newWFHarness(t, swfdtest.Options{})
	h.visRegisterTypes()
	f := &visFixture{h: h, runs: map[string]string{}, closed: map[types.CloseStatus][]string{}}
	start := func(id, name, version string, tags ...string) {
		f.runs[id] = h.visStart(id, name, version, tags...)
	}
	// Closed runs, one or two per status.
	start("c-completed", "order", "1", "red", "shared")
	h.visDecide("c-completed", completeWorkflow("ok"))
	start("c-completed-2", "order", "2", "Red")
	h.visDecide("c-completed-2", completeWorkflow("ok"))
	start("c-failed", "order", "2", "green")
	h.visDecide("c-failed", types.Decision{DecisionType: types.DecisionTypeFailWorkflowExecution,
		FailWorkflowExecutionDecisionAttributes: &types.FailWorkflowExecutionDecisionAttributes{Reason: aws.String("boom")}})
	start("c-canceled", "audit", "1", "red")
	h.must(h.c.RequestCancelWorkflowExecution(h.ctx, &swf.RequestCancelWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("c-canceled")}))
	h.visDecide("c-canceled", types.Decision{DecisionType: types.DecisionTypeCancelWorkflowExecution,
		CancelWorkflowExecutionDecisionAttributes: &types.CancelWorkflowExecutionDecisionAttributes{}})
	start("c-terminated", "audit", "1")
	h.must(h.c.TerminateWorkflowExecution(h.ctx, &swf.TerminateWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("c-terminated")}))
	start("c-continued", "order", "1", "blue")
	h.visDecide("c-continued", types.Decision{DecisionType: types.DecisionTypeContinueAsNewWorkflowExecution,
		ContinueAsNewWorkflowExecutionDecisionAttributes: &types.ContinueAsNewWorkflowExecutionDecisionAttributes{
			TaskList: &types.TaskList{Name: aws.String("vis-c-continued-next")}, TagList: []string{"next"}}})
	continued := f.runs["c-continued"]
	f.runs["c-timedout"] = h.start("c-timedout", func(in *swf.StartWorkflowExecutionInput) {
		in.ExecutionStartToCloseTimeout = aws.String("1")
		in.TaskList = &types.TaskList{Name: aws.String("vis-c-timedout")}
		in.TagList = []string{"slow"}
	})
	f.closed = map[types.CloseStatus][]string{
		types.CloseStatusCompleted:      {"c-completed", "c-completed-2"},
		types.CloseStatusFailed:         {"c-failed"},
		types.CloseStatusCanceled:       {"c-canceled"},
		types.CloseStatusTerminated:     {"c-terminated"},
		types.CloseStatusContinuedAsNew: {"c-continued"},
		types.CloseStatusTimedOut:       {"c-timedout"},
	}
	// Open runs: the continued run, and a few more.
	start("o-1", "order", "1", "red", "vip")
	start("o-2", "order", "2", "RED")
	start("o-3", "audit", "1", "red")
	start("o-4", "order", "1")
	f.open = []string{"c-continued", "o-1", "o-2", "o-3", "o-4"}
	// The continued run's new run is open under the same workflowId.
	latest := h.visListOpen(swf.ListOpenWorkflowExecutionsInput{ExecutionFilter: &types.WorkflowExecutionFilter{WorkflowId: aws.String("c-continued")}})
	if len(latest) != 1 || *latest[0].Execution.RunId == continued {
		t.Fatalf("continued run: %+v", latest)
	}
	f.runs["c-continued-new"] = *latest[0].Execution.RunId
	f.runs["c-continued"] = continued
	waitFor(t, "c-timedout to time out", func() bool {
		return h.describe("c-timedout", f.runs["c-timedout"]).ExecutionInfo.ExecutionStatus == types.ExecutionStatusClosed
	})
	return f
}

func TestVisFiltersOpen(t *testing.T) {
	f := newVisFixture(t)
	h := f.h
	type openCase struct {
		name string
		in   swf.ListOpenWorkflowExecutionsInput
		want []string
	}
	cases := []openCase{
		{"no selector", swf.ListOpenWorkflowExecutionsInput{}, f.open},
		{"workflowId", swf.ListOpenWorkflowExecutionsInput{ExecutionFilter: &types.WorkflowExecutionFilter{WorkflowId: aws.String("o-2")}}, []string{"o-2"}},
		{"workflowId of a closed run", swf.ListOpenWorkflowExecutionsInput{ExecutionFilter: &types.WorkflowExecutionFilter{WorkflowId: aws.String("c-failed")}}, nil},
		{"type name, all versions", swf.ListOpenWorkflowExecutionsInput{TypeFilter: &types.WorkflowTypeFilter{Name: aws.String("order")}}, []string{"c-continued", "o-1", "o-2", "o-4"}},
		{"type name and version", swf.ListOpenWorkflowExecutionsInput{TypeFilter: &types.WorkflowTypeFilter{Name: aws.String("order"), Version: aws.String("1")}}, []string{"c-continued", "o-1", "o-4"}},
		{"type name and other version", swf.ListOpenWorkflowExecutionsInput{TypeFilter: &types.WorkflowTypeFilter{Name: aws.String("order"), Version: aws.String("2")}}, []string{"o-2"}},
		{"unknown type", swf.ListOpenWorkflowExecutionsInput{TypeFilter: &types.WorkflowTypeFilter{Name: aws.String("ord")}}, nil},
		{"tag red", swf.ListOpenWorkflowExecutionsInput{TagFilter: &types.TagFilter{Tag: aws.String("red")}}, []string{"o-1", "o-3"}},
		{"tag RED (case-sensitive)", swf.ListOpenWorkflowExecutionsInput{TagFilter: &types.TagFilter{Tag: aws.String("RED")}}, []string{"o-2"}},
		{"tag vip (second tag)", swf.ListOpenWorkflowExecutionsInput{TagFilter: &types.TagFilter{Tag: aws.String("vip")}}, []string{"o-1"}},
		{"tag re (no prefix match)", swf.ListOpenWorkflowExecutionsInput{TagFilter: &types.TagFilter{Tag: aws.String("re")}}, nil},
		{"tag of the continued run", swf.ListOpenWorkflowExecutionsInput{TagFilter: &types.TagFilter{Tag: aws.String("next")}}, []string{"c-continued"}},
	}
	for _, c := range cases {
		got := h.visListOpen(c.in)
		visWantSet(t, "list open, "+c.name, got, c.want...)
		visCheckOrder(t, "list open, "+c.name, got, visStartTS, false)
		n := h.visCountOpen(swf.CountOpenWorkflowExecutionsInput{ExecutionFilter: c.in.ExecutionFilter, TypeFilter: c.in.TypeFilter, TagFilter: c.in.TagFilter})
		if n != len(c.want) {
			t.Fatalf("count open, %s: %d, want %d", c.name, n, len(c.want))
		}
		for _, info := range got {
			if info.ExecutionStatus != types.ExecutionStatusOpen || info.CloseStatus != "" || info.CloseTimestamp != nil {
				t.Fatalf("list open, %s: %+v", c.name, info)
			}
		}
	}
}

func TestVisFiltersClosed(t *testing.T) {
	f := newVisFixture(t)
	h := f.h
	var allClosed []string
	for _, ids := range f.closed {
		allClosed = append(allClosed, ids...)
	}
	type closedCase struct {
		name string
		in   swf.ListClosedWorkflowExecutionsInput
		want []string
	}
	cases := []closedCase{
		{"no selector", swf.ListClosedWorkflowExecutionsInput{}, allClosed},
		{"workflowId", swf.ListClosedWorkflowExecutionsInput{ExecutionFilter: &types.WorkflowExecutionFilter{WorkflowId: aws.String("c-failed")}}, []string{"c-failed"}},
		{"workflowId of an open run", swf.ListClosedWorkflowExecutionsInput{ExecutionFilter: &types.WorkflowExecutionFilter{WorkflowId: aws.String("o-1")}}, nil},
		{"workflowId with an open and a closed run", swf.ListClosedWorkflowExecutionsInput{ExecutionFilter: &types.WorkflowExecutionFilter{WorkflowId: aws.String("c-continued")}}, []string{"c-continued"}},
		{"type name, all versions", swf.ListClosedWorkflowExecutionsInput{TypeFilter: &types.WorkflowTypeFilter{Name: aws.String("order")}}, []string{"c-completed", "c-completed-2", "c-failed", "c-continued", "c-timedout"}},
		{"type name and version", swf.ListClosedWorkflowExecutionsInput{TypeFilter: &types.WorkflowTypeFilter{Name: aws.String("order"), Version: aws.String("2")}}, []string{"c-completed-2", "c-failed"}},
		{"type audit", swf.ListClosedWorkflowExecutionsInput{TypeFilter: &types.WorkflowTypeFilter{Name: aws.String("audit")}}, []string{"c-canceled", "c-terminated"}},
		{"tag red", swf.ListClosedWorkflowExecutionsInput{TagFilter: &types.TagFilter{Tag: aws.String("red")}}, []string{"c-completed", "c-canceled"}},
		{"tag Red (case-sensitive)", swf.ListClosedWorkflowExecutionsInput{TagFilter: &types.TagFilter{Tag: aws.String("Red")}}, []string{"c-completed-2"}},
		{"tag shared (second tag)", swf.ListClosedWorkflowExecutionsInput{TagFilter: &types.TagFilter{Tag: aws.String("shared")}}, []string{"c-completed"}},
		{"tag slow", swf.ListClosedWorkflowExecutionsInput{TagFilter: &types.TagFilter{Tag: aws.String("slow")}}, []string{"c-timedout"}},
	}
	for _, st := range []types.CloseStatus{types.CloseStatusCompleted, types.CloseStatusFailed, types.CloseStatusCanceled,
		types.CloseStatusTerminated, types.CloseStatusContinuedAsNew, types.CloseStatusTimedOut} {
		cases = append(cases, closedCase{"status " + string(st), swf.ListClosedWorkflowExecutionsInput{CloseStatusFilter: &types.CloseStatusFilter{Status: st}}, f.closed[st]})
	}
	for _, c := range cases {
		for _, byClose := range []bool{false, true} {
			in := c.in
			name := "list closed by start time, " + c.name
			ts := visStartTS
			if byClose {
				in.CloseTimeFilter = visAll()
				name = "list closed by close time, " + c.name
				ts = visCloseTS
			}
			got := h.visListClosed(in)
			visWantSet(t, name, got, c.want...)
			visCheckOrder(t, name, got, ts, false)
			n := h.visCountClosed(swf.CountClosedWorkflowExecutionsInput{StartTimeFilter: in.StartTimeFilter, CloseTimeFilter: in.CloseTimeFilter,
				ExecutionFilter: in.ExecutionFilter, TypeFilter: in.TypeFilter, TagFilter: in.TagFilter, CloseStatusFilter: in.CloseStatusFilter})
			if n != len(c.want) {
				t.Fatalf("count: %s: %d, want %d", name, n, len(c.want))
			}
			for _, info := range got {
				if info.ExecutionStatus != types.ExecutionStatusClosed || info.CloseTimestamp == nil || info.CloseTimestamp.Before(*info.StartTimestamp) {
					t.Fatalf("%s: %+v", name, info)
				}
				if !slices.Contains(f.closed[info.CloseStatus], *info.Execution.WorkflowId) {
					t.Fatalf("%s: %s has close status %s", name, *info.Execution.WorkflowId, info.CloseStatus)
				}
			}
		}
	}
}

// Time filters: oldestDate and latestDate are inclusive, on start or close
// time; results are ordered by the filtered timestamp.
func TestVisTimeFilters(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	var ids []string
	for i := range 6 {
		id := fmt.Sprintf("t-%d", i)
		h.visStart(id, "order", "1")
		ids = append(ids, id)
		time.Sleep(5 * time.Millisecond)
	}
	// Close them in a different order than they started: 3, 1, 4, 0.
	for _, i := range []int{3, 1, 4, 0} {
		h.visDecide(ids[i], completeWorkflow("ok"))
		time.Sleep(5 * time.Millisecond)
	}
	open := h.visListOpen(swf.ListOpenWorkflowExecutionsInput{})
	closedByStart := h.visListClosed(swf.ListClosedWorkflowExecutionsInput{})
	closedByClose := h.visListClosed(swf.ListClosedWorkflowExecutionsInput{CloseTimeFilter: visAll()})
	if got := visIDs(open); !slices.Equal(got, []string{"t-5", "t-2"}) {
		t.Fatalf("open newest first: %v", got)
	}
	if got := visIDs(closedByStart); !slices.Equal(got, []string{"t-4", "t-3", "t-1", "t-0"}) {
		t.Fatalf("closed by start time, newest first: %v", got)
	}
	if got := visIDs(closedByClose); !slices.Equal(got, []string{"t-0", "t-4", "t-1", "t-3"}) {
		t.Fatalf("closed by close time, newest first: %v", got)
	}
	if got := visIDs(h.visListClosed(swf.ListClosedWorkflowExecutionsInput{CloseTimeFilter: visAll(), ReverseOrder: true})); !slices.Equal(got, []string{"t-3", "t-1", "t-4", "t-0"}) {
		t.Fatalf("closed by close time, reversed: %v", got)
	}
	if got := visIDs(h.visListOpen(swf.ListOpenWorkflowExecutionsInput{ReverseOrder: true})); !slices.Equal(got, []string{"t-2", "t-5"}) {
		t.Fatalf("open reversed: %v", got)
	}

	// Inclusive bounds: a window [x, x] holds the run at x.
	byID := map[string]types.WorkflowExecutionInfo{}
	for _, in := range append(append(open, closedByStart...), closedByClose...) {
		byID[*in.Execution.WorkflowId] = in
	}
	exact := func(ts time.Time) *types.ExecutionTimeFilter {
		return &types.ExecutionTimeFilter{OldestDate: aws.Time(ts), LatestDate: aws.Time(ts)}
	}
	visWantSet(t, "open start window [t-2, t-2]", h.visListOpen(swf.ListOpenWorkflowExecutionsInput{StartTimeFilter: exact(*byID["t-2"].StartTimestamp)}), "t-2")
	visWantSet(t, "closed start window [t-1, t-1]", h.visListClosed(swf.ListClosedWorkflowExecutionsInput{StartTimeFilter: exact(*byID["t-1"].StartTimestamp)}), "t-1")
	visWantSet(t, "closed close window [t-4, t-4]", h.visListClosed(swf.ListClosedWorkflowExecutionsInput{CloseTimeFilter: exact(*byID["t-4"].CloseTimestamp)}), "t-4")
	// A range from one run's time to another's holds both ends.
	visWantSet(t, "closed start range [t-1, t-4]", h.visListClosed(swf.ListClosedWorkflowExecutionsInput{StartTimeFilter: &types.ExecutionTimeFilter{
		OldestDate: byID["t-1"].StartTimestamp, LatestDate: byID["t-4"].StartTimestamp}}), "t-1", "t-3", "t-4")
	visWantSet(t, "closed close range [t-1, t-0]", h.visListClosed(swf.ListClosedWorkflowExecutionsInput{CloseTimeFilter: &types.ExecutionTimeFilter{
		OldestDate: byID["t-1"].CloseTimestamp, LatestDate: byID["t-0"].CloseTimestamp}}), "t-1", "t-4", "t-0")
	// oldestDate alone: everything from there on.
	visWantSet(t, "open from t-5", h.visListOpen(swf.ListOpenWorkflowExecutionsInput{StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: byID["t-5"].StartTimestamp}}), "t-5")
	visWantSet(t, "closed closing from t-4", h.visListClosed(swf.ListClosedWorkflowExecutionsInput{CloseTimeFilter: &types.ExecutionTimeFilter{OldestDate: byID["t-4"].CloseTimestamp}}), "t-4", "t-0")
	// Just outside: one millisecond after the last run.
	after := byID["t-0"].CloseTimestamp.Add(time.Millisecond)
	visWantSet(t, "closed closing after the last", h.visListClosed(swf.ListClosedWorkflowExecutionsInput{CloseTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(after)}}))
	before := byID["t-0"].StartTimestamp.Add(-time.Millisecond)
	visWantSet(t, "closed started before the first", h.visListClosed(swf.ListClosedWorkflowExecutionsInput{StartTimeFilter: &types.ExecutionTimeFilter{
		OldestDate: aws.Time(time.Unix(0, 0)), LatestDate: aws.Time(before)}}))
	// The start filter on closed runs is on start time, not close time.
	visWantSet(t, "closed by start from t-3", h.visListClosed(swf.ListClosedWorkflowExecutionsInput{StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: byID["t-3"].StartTimestamp}}), "t-3", "t-4")
	if n := h.visCountClosed(swf.CountClosedWorkflowExecutionsInput{CloseTimeFilter: exact(*byID["t-4"].CloseTimestamp)}); n != 1 {
		t.Fatalf("count closed in [t-4, t-4] = %d", n)
	}
	if n := h.visCountOpen(swf.CountOpenWorkflowExecutionsInput{StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: byID["t-2"].StartTimestamp, LatestDate: byID["t-5"].StartTimestamp}}); n != 2 {
		t.Fatalf("count open in [t-2, t-5] = %d", n)
	}
}

// The combination rules and the faults.
func TestVisValidation(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	h.visStart("v-1", "order", "1", "x")
	dom := aws.String(h.domain)
	ex := &types.WorkflowExecutionFilter{WorkflowId: aws.String("v-1")}
	ty := &types.WorkflowTypeFilter{Name: aws.String("order")}
	tag := &types.TagFilter{Tag: aws.String("x")}
	cs := &types.CloseStatusFilter{Status: types.CloseStatusCompleted}

	openPairs := []swf.ListOpenWorkflowExecutionsInput{
		{ExecutionFilter: ex, TypeFilter: ty}, {ExecutionFilter: ex, TagFilter: tag}, {TypeFilter: ty, TagFilter: tag},
		{ExecutionFilter: ex, TypeFilter: ty, TagFilter: tag},
	}
	for _, in := range openPairs {
		in.Domain, in.StartTimeFilter = dom, visAll()
		_, err := h.c.ListOpenWorkflowExecutions(h.ctx, &in)
		wantCode(t, err, "ValidationException")
		_, err = h.c.CountOpenWorkflowExecutions(h.ctx, &swf.CountOpenWorkflowExecutionsInput{Domain: dom, StartTimeFilter: visAll(),
			ExecutionFilter: in.ExecutionFilter, TypeFilter: in.TypeFilter, TagFilter: in.TagFilter})
		wantCode(t, err, "ValidationException")
	}
	closedPairs := []swf.ListClosedWorkflowExecutionsInput{
		{ExecutionFilter: ex, TypeFilter: ty}, {ExecutionFilter: ex, TagFilter: tag}, {ExecutionFilter: ex, CloseStatusFilter: cs},
		{TypeFilter: ty, TagFilter: tag}, {TypeFilter: ty, CloseStatusFilter: cs}, {TagFilter: tag, CloseStatusFilter: cs},
	}
	for _, in := range closedPairs {
		in.Domain, in.StartTimeFilter = dom, visAll()
		_, err := h.c.ListClosedWorkflowExecutions(h.ctx, &in)
		wantCode(t, err, "ValidationException")
		_, err = h.c.CountClosedWorkflowExecutions(h.ctx, &swf.CountClosedWorkflowExecutionsInput{Domain: dom, StartTimeFilter: visAll(),
			ExecutionFilter: in.ExecutionFilter, TypeFilter: in.TypeFilter, TagFilter: in.TagFilter, CloseStatusFilter: in.CloseStatusFilter})
		wantCode(t, err, "ValidationException")
	}
	// Closed: both time filters, or neither.
	_, err := h.c.ListClosedWorkflowExecutions(h.ctx, &swf.ListClosedWorkflowExecutionsInput{Domain: dom, StartTimeFilter: visAll(), CloseTimeFilter: visAll()})
	wantCode(t, err, "ValidationException")
	_, err = h.c.CountClosedWorkflowExecutions(h.ctx, &swf.CountClosedWorkflowExecutionsInput{Domain: dom, StartTimeFilter: visAll(), CloseTimeFilter: visAll()})
	wantCode(t, err, "ValidationException")
	_, err = h.c.ListClosedWorkflowExecutions(h.ctx, &swf.ListClosedWorkflowExecutionsInput{Domain: dom})
	wantCode(t, err, "ValidationException")
	_, err = h.c.CountClosedWorkflowExecutions(h.ctx, &swf.CountClosedWorkflowExecutionsInput{Domain: dom})
	wantCode(t, err, "ValidationException")
	// Open without startTimeFilter: the SDK refuses it before sending.
	if _, err := h.c.ListOpenWorkflowExecutions(h.ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: dom}); err == nil {
		t.Fatal("ListOpen without startTimeFilter succeeded")
	}
	// One selector with either time filter is fine.
	if _, err := h.c.ListClosedWorkflowExecutions(h.ctx, &swf.ListClosedWorkflowExecutionsInput{Domain: dom, CloseTimeFilter: visAll(), CloseStatusFilter: cs}); err != nil {
		t.Fatal(err)
	}
	// Page sizes beyond 1000 are refused.
	_, err = h.c.ListOpenWorkflowExecutions(h.ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: dom, StartTimeFilter: visAll(), MaximumPageSize: 1001})
	wantCode(t, err, "ValidationException")
	// A token from another query, and a forged token, are refused.
	h.visStart("v-2", "order", "1", "x")
	out, err := h.c.ListOpenWorkflowExecutions(h.ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: dom, StartTimeFilter: visAll(), MaximumPageSize: 1})
	if err != nil || out.NextPageToken == nil {
		t.Fatalf("first page: %v %+v", err, out)
	}
	_, err = h.c.ListOpenWorkflowExecutions(h.ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: dom, StartTimeFilter: visAll(), MaximumPageSize: 1, TagFilter: tag, NextPageToken: out.NextPageToken})
	wantCode(t, err, "ValidationException")
	_, err = h.c.ListOpenWorkflowExecutions(h.ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: dom, StartTimeFilter: visAll(), NextPageToken: aws.String("bm90IGEgdG9rZW4=")})
	wantCode(t, err, "ValidationException")

	// Unknown domain.
	nope := aws.String("no-such-domain")
	_, err = h.c.ListOpenWorkflowExecutions(h.ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: nope, StartTimeFilter: visAll()})
	wantCode(t, err, "UnknownResourceFault")
	_, err = h.c.ListClosedWorkflowExecutions(h.ctx, &swf.ListClosedWorkflowExecutionsInput{Domain: nope, StartTimeFilter: visAll()})
	wantCode(t, err, "UnknownResourceFault")
	_, err = h.c.CountOpenWorkflowExecutions(h.ctx, &swf.CountOpenWorkflowExecutionsInput{Domain: nope, StartTimeFilter: visAll()})
	wantCode(t, err, "UnknownResourceFault")
	_, err = h.c.CountClosedWorkflowExecutions(h.ctx, &swf.CountClosedWorkflowExecutionsInput{Domain: nope, StartTimeFilter: visAll()})
	wantCode(t, err, "UnknownResourceFault")
}

// Every field of WorkflowExecutionInfo: parent of a child run, tags,
// cancelRequested, close timestamp and status.
func TestVisExecutionInfo(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	parentRun := h.visStart("parent", "order", "1", "fam", "Parent")
	task := h.mustDecision("vis-parent")
	h.decide(task.TaskToken, types.Decision{DecisionType: types.DecisionTypeStartChildWorkflowExecution,
		StartChildWorkflowExecutionDecisionAttributes: &types.StartChildWorkflowExecutionDecisionAttributes{
			WorkflowId: aws.String("child"), WorkflowType: h.wfType, TaskList: &types.TaskList{Name: aws.String("vis-child")},
			TagList: []string{"fam", "kid"}}})
	var child []types.WorkflowExecutionInfo
	waitFor(t, "the child run", func() bool {
		child = h.visListOpen(swf.ListOpenWorkflowExecutionsInput{ExecutionFilter: &types.WorkflowExecutionFilter{WorkflowId: aws.String("child")}})
		return len(child) == 1
	})
	c := child[0]
	if c.Parent == nil || *c.Parent.WorkflowId != "parent" || *c.Parent.RunId != parentRun {
		t.Fatalf("child's parent: %+v", c.Parent)
	}
	if !slices.Equal(c.TagList, []string{"fam", "kid"}) || *c.WorkflowType.Name != "order" || *c.WorkflowType.Version != "1" ||
		c.ExecutionStatus != types.ExecutionStatusOpen || c.CancelRequested || c.StartTimestamp == nil || c.CloseTimestamp != nil {
		t.Fatalf("child info: %+v", c)
	}
	p := h.visListOpen(swf.ListOpenWorkflowExecutionsInput{ExecutionFilter: &types.WorkflowExecutionFilter{WorkflowId: aws.String("parent")}})
	if len(p) != 1 || p[0].Parent != nil || !slices.Equal(p[0].TagList, []string{"fam", "Parent"}) || *p[0].Execution.RunId != parentRun {
		t.Fatalf("parent info: %+v", p)
	}

	// cancelRequested shows while open and stays once closed.
	h.must(h.c.RequestCancelWorkflowExecution(h.ctx, &swf.RequestCancelWorkflowExecutionInput{Domain: aws.String(h.domain), WorkflowId: aws.String("child")}))
	child = h.visListOpen(swf.ListOpenWorkflowExecutionsInput{TagFilter: &types.TagFilter{Tag: aws.String("kid")}})
	if len(child) != 1 || !child[0].CancelRequested {
		t.Fatalf("child after cancel request: %+v", child)
	}
	h.visDecide("child", types.Decision{DecisionType: types.DecisionTypeCancelWorkflowExecution,
		CancelWorkflowExecutionDecisionAttributes: &types.CancelWorkflowExecutionDecisionAttributes{}})
	closed := h.visListClosed(swf.ListClosedWorkflowExecutionsInput{CloseTimeFilter: visAll(), TagFilter: &types.TagFilter{Tag: aws.String("kid")}})
	if len(closed) != 1 {
		t.Fatalf("closed child: %+v", closed)
	}
	cc := closed[0]
	desc := h.describe("child", *cc.Execution.RunId).ExecutionInfo
	if !cc.CancelRequested || cc.CloseStatus != types.CloseStatusCanceled || cc.ExecutionStatus != types.ExecutionStatusClosed ||
		cc.CloseTimestamp == nil || !cc.CloseTimestamp.Equal(*desc.CloseTimestamp) || !cc.StartTimestamp.Equal(*c.StartTimestamp) ||
		cc.Parent == nil || *cc.Parent.RunId != parentRun || !slices.Equal(cc.TagList, []string{"fam", "kid"}) {
		t.Fatalf("closed child info: %+v (describe %+v)", cc, desc)
	}
	// The closed child left the open list, the parent stays.
	visWantSet(t, "open with tag fam", h.visListOpen(swf.ListOpenWorkflowExecutionsInput{TagFilter: &types.TagFilter{Tag: aws.String("fam")}}), "parent")
	visWantSet(t, "closed with tag fam", h.visListClosed(swf.ListClosedWorkflowExecutionsInput{TagFilter: &types.TagFilter{Tag: aws.String("fam")}}), "child")
	// A run without tags has no tag list.
	h.visStart("plain", "order", "1")
	plain := h.visListOpen(swf.ListOpenWorkflowExecutionsInput{ExecutionFilter: &types.WorkflowExecutionFilter{WorkflowId: aws.String("plain")}})
	if len(plain) != 1 || len(plain[0].TagList) != 0 || plain[0].Parent != nil {
		t.Fatalf("plain run: %+v", plain)
	}
}

// maximumPageSize and tokens: pages neither skip nor repeat a run while
// runs start and close between page requests.
func TestVisPaging(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	const n = 23
	var ids []string
	for i := range n {
		id := fmt.Sprintf("p-%02d", i)
		h.visStart(id, "order", "1", "page")
		ids = append(ids, id)
	}
	// Half of them close now, so that the closed list has runs too.
	for i := 0; i < n; i += 2 {
		h.visDecide(ids[i], completeWorkflow("ok"))
	}
	var openIDs, closedIDs []string
	for i, id := range ids {
		if i%2 == 0 {
			closedIDs = append(closedIDs, id)
		} else {
			openIDs = append(openIDs, id)
		}
	}

	// maximumPageSize: every page but the last is full; a page that
	// exactly exhausts the results has no token.
	out, err := h.c.ListOpenWorkflowExecutions(h.ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: aws.String(h.domain), StartTimeFilter: visAll(), MaximumPageSize: int32(len(openIDs))})
	if err != nil || len(out.ExecutionInfos) != len(openIDs) || out.NextPageToken != nil {
		t.Fatalf("page of exactly all: %v, %d infos, token %v", err, len(out.ExecutionInfos), out.NextPageToken)
	}
	out, err = h.c.ListOpenWorkflowExecutions(h.ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: aws.String(h.domain), StartTimeFilter: visAll(), MaximumPageSize: 5})
	if err != nil || len(out.ExecutionInfos) != 5 || out.NextPageToken == nil {
		t.Fatalf("page of 5: %v, %d infos", err, len(out.ExecutionInfos))
	}
	// maximumPageSize 0 means the default (1000).
	out, err = h.c.ListOpenWorkflowExecutions(h.ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: aws.String(h.domain), StartTimeFilter: visAll()})
	if err != nil || len(out.ExecutionInfos) != len(openIDs) || out.NextPageToken != nil {
		t.Fatalf("default page size: %v, %d infos", err, len(out.ExecutionInfos))
	}

	extra := 0
	churn := func(page int) {
		// Between pages: start two new runs and close one of them.
		for range 2 {
			id := fmt.Sprintf("x-%02d", extra)
			extra++
			h.visStart(id, "order", "1", "page")
			if extra%2 == 0 {
				h.visDecide(id, completeWorkflow("ok"))
			}
		}
	}
	type pager func(token *string, size int32, reverse bool) ([]types.WorkflowExecutionInfo, *string)
	listOpen := func(token *string, size int32, reverse bool) ([]types.WorkflowExecutionInfo, *string) {
		out, err := h.c.ListOpenWorkflowExecutions(h.ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: aws.String(h.domain), StartTimeFilter: visAll(),
			TagFilter: &types.TagFilter{Tag: aws.String("page")}, MaximumPageSize: size, ReverseOrder: reverse, NextPageToken: token})
		if err != nil {
			t.Fatalf("list open page: %v", err)
		}
		return out.ExecutionInfos, out.NextPageToken
	}
	listClosed := func(byClose bool) pager {
		return func(token *string, size int32, reverse bool) ([]types.WorkflowExecutionInfo, *string) {
			in := &swf.ListClosedWorkflowExecutionsInput{Domain: aws.String(h.domain), MaximumPageSize: size, ReverseOrder: reverse, NextPageToken: token}
			if byClose {
				in.CloseTimeFilter = visAll()
			} else {
				in.StartTimeFilter = visAll()
			}
			out, err := h.c.ListClosedWorkflowExecutions(h.ctx, in)
			if err != nil {
				t.Fatalf("list closed page: %v", err)
			}
			return out.ExecutionInfos, out.NextPageToken
		}
	}
	check := func(name string, list pager, size int32, reverse bool, mustSee []string, ts func(types.WorkflowExecutionInfo) time.Time) {
		t.Helper()
		var all []types.WorkflowExecutionInfo
		var token *string
		for page := 0; ; page++ {
			infos, next := list(token, size, reverse)
			if int32(len(infos)) > size {
				t.Fatalf("%s: page of %d over size %d", name, len(infos), size)
			}
			all = append(all, infos...)
			if next == nil {
				break
			}
			token = next
			// Churn between the first pages only: with oldest first,
			// runs started meanwhile join the end of the list, and
			// churning on every page would never let it end.
			if page < 6 {
				churn(page)
			}
		}
		seen := map[string]bool{}
		for _, in := range all {
			if seen[*in.Execution.RunId] {
				t.Fatalf("%s: %s repeated", name, *in.Execution.WorkflowId)
			}
			seen[*in.Execution.RunId] = true
		}
		got := visIDs(all)
		for _, id := range mustSee {
			if !slices.Contains(got, id) {
				t.Fatalf("%s: %s skipped (got %v)", name, id, got)
			}
		}
		visCheckOrder(t, name, all, ts, reverse)
	}
	// Runs that stay open (or closed) through the whole paging must each
	// be seen exactly once, in order; runs started or closed meanwhile
	// may or may not be seen, but never twice.
	for _, size := range []int32{1, 3, 7} {
		for _, reverse := range []bool{false, true} {
			check(fmt.Sprintf("open by %d reverse=%v", size, reverse), listOpen, size, reverse, openIDs, visStartTS)
			check(fmt.Sprintf("closed by start, by %d reverse=%v", size, reverse), listClosed(false), size, reverse, closedIDs, visStartTS)
			check(fmt.Sprintf("closed by close, by %d reverse=%v", size, reverse), listClosed(true), size, reverse, closedIDs, visCloseTS)
		}
	}

	// Closing runs of the set being paged: a run closed after it was
	// listed is not listed again; runs not yet reached that close
	// disappear; the others are all seen once.
	var got []string
	var token *string
	closedNow := map[string]bool{}
	for page := 0; ; page++ {
		infos, next := listOpen(token, 2, false)
		got = append(got, visIDs(infos)...)
		if next == nil {
			break
		}
		token = next
		// Close the last listed run (already seen) if it is one of ours.
		last := *infos[len(infos)-1].Execution.WorkflowId
		if slices.Contains(openIDs, last) && !closedNow[last] {
			h.visDecide(last, completeWorkflow("ok"))
			closedNow[last] = true
		}
	}
	if len(got) != len(visSorted(got)) || len(slices.Compact(visSorted(got))) != len(got) {
		t.Fatalf("open pages while closing: repeats in %v", got)
	}
	for _, id := range openIDs {
		if !slices.Contains(got, id) {
			t.Fatalf("open pages while closing: %s skipped (%v)", id, got)
		}
	}
}

// Counts are exact (truncated=false) and agree with the lists.
func TestVisCounts(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	for i := range 30 {
		tags := []string{"all"}
		if i%3 == 0 {
			tags = append(tags, "third")
		}
		id := fmt.Sprintf("n-%02d", i)
		h.visStart(id, "order", "1", tags...)
		if i%2 == 0 {
			h.visDecide(id, completeWorkflow("ok"))
		}
	}
	if n := h.visCountOpen(swf.CountOpenWorkflowExecutionsInput{}); n != 15 {
		t.Fatalf("count open = %d", n)
	}
	if n := h.visCountClosed(swf.CountClosedWorkflowExecutionsInput{}); n != 15 {
		t.Fatalf("count closed = %d", n)
	}
	if n := h.visCountClosed(swf.CountClosedWorkflowExecutionsInput{CloseTimeFilter: visAll(), TagFilter: &types.TagFilter{Tag: aws.String("third")}}); n != 5 {
		t.Fatalf("count closed third = %d", n)
	}
	if n := h.visCountOpen(swf.CountOpenWorkflowExecutionsInput{TagFilter: &types.TagFilter{Tag: aws.String("third")}}); n != 5 {
		t.Fatalf("count open third = %d", n)
	}
	if n := h.visCountClosed(swf.CountClosedWorkflowExecutionsInput{CloseStatusFilter: &types.CloseStatusFilter{Status: types.CloseStatusFailed}}); n != 0 {
		t.Fatalf("count failed = %d", n)
	}
	if n := h.visCountOpen(swf.CountOpenWorkflowExecutionsInput{StartTimeFilter: &types.ExecutionTimeFilter{OldestDate: aws.Time(time.Now().Add(time.Hour))}}); n != 0 {
		t.Fatalf("count open in the future = %d", n)
	}
	out, err := h.c.CountOpenWorkflowExecutions(h.ctx, &swf.CountOpenWorkflowExecutionsInput{Domain: aws.String(h.domain), StartTimeFilter: visAll()})
	if err != nil || out.Truncated || out.Count != 15 {
		t.Fatalf("count open: %v %+v", err, out)
	}
}

// A tag may be given empty, and a tagFilter on the empty tag is an exact
// match like any other: it lists and counts the runs tagged "", open or
// closed, not every run as if no filter were given. A page token of that
// listing does not serve the unfiltered one.
func TestVisEmptyTag(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	h.visStart("e-empty", "order", "1", "")
	h.visStart("e-both", "order", "1", "red", "")
	h.visStart("e-red", "order", "1", "red")
	h.visStart("e-none", "order", "1")
	h.visStart("e-closed-empty", "order", "1", "")
	h.visDecide("e-closed-empty", completeWorkflow("ok"))
	h.visStart("e-closed-none", "order", "1")
	h.visDecide("e-closed-none", completeWorkflow("ok"))
	empty := &types.TagFilter{Tag: aws.String("")}

	open := h.visListOpen(swf.ListOpenWorkflowExecutionsInput{TagFilter: empty})
	visWantSet(t, "list open tagged \"\"", open, "e-empty", "e-both")
	for _, info := range open {
		if !slices.Contains(info.TagList, "") {
			t.Fatalf("list open tagged \"\": %s has tags %q", *info.Execution.WorkflowId, info.TagList)
		}
	}
	if n := h.visCountOpen(swf.CountOpenWorkflowExecutionsInput{TagFilter: empty}); n != 2 {
		t.Fatalf("count open tagged \"\" = %d, want 2", n)
	}
	for _, byClose := range []bool{false, true} {
		in := swf.ListClosedWorkflowExecutionsInput{TagFilter: empty}
		if byClose {
			in.CloseTimeFilter = visAll()
		}
		visWantSet(t, fmt.Sprintf("list closed tagged \"\" (by close time %v)", byClose), h.visListClosed(in), "e-closed-empty")
		if n := h.visCountClosed(swf.CountClosedWorkflowExecutionsInput{CloseTimeFilter: in.CloseTimeFilter, TagFilter: empty}); n != 1 {
			t.Fatalf("count closed tagged \"\" (by close time %v) = %d, want 1", byClose, n)
		}
	}
	// Without a tag filter, every run.
	visWantSet(t, "list open", h.visListOpen(swf.ListOpenWorkflowExecutionsInput{}), "e-empty", "e-both", "e-red", "e-none")
	if n := h.visCountClosed(swf.CountClosedWorkflowExecutionsInput{}); n != 2 {
		t.Fatalf("count closed = %d, want 2", n)
	}

	// Page by page, and the page token is the filtered listing's own.
	dom := aws.String(h.domain)
	out, err := h.c.ListOpenWorkflowExecutions(h.ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: dom, StartTimeFilter: visAll(), TagFilter: empty, MaximumPageSize: 1})
	if err != nil || len(out.ExecutionInfos) != 1 || out.NextPageToken == nil {
		t.Fatalf("first page tagged \"\": %v %+v", err, out)
	}
	_, err = h.c.ListOpenWorkflowExecutions(h.ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: dom, StartTimeFilter: visAll(), MaximumPageSize: 1, NextPageToken: out.NextPageToken})
	wantCode(t, err, "ValidationException")
	next, err := h.c.ListOpenWorkflowExecutions(h.ctx, &swf.ListOpenWorkflowExecutionsInput{Domain: dom, StartTimeFilter: visAll(), TagFilter: empty, MaximumPageSize: 1, NextPageToken: out.NextPageToken})
	if err != nil {
		t.Fatalf("second page tagged \"\": %v", err)
	}
	visWantSet(t, "two pages tagged \"\"", append(out.ExecutionInfos, next.ExecutionInfos...), "e-empty", "e-both")
}

// A deprecated domain stays fully queryable.
func TestVisDeprecatedDomain(t *testing.T) {
	h := newWFHarness(t, swfdtest.Options{})
	h.visStart("d-open", "order", "1", "t")
	h.visStart("d-closed", "order", "1", "t")
	h.visDecide("d-closed", completeWorkflow("ok"))
	h.must(h.c.DeprecateDomain(h.ctx, &swf.DeprecateDomainInput{Name: aws.String(h.domain)}))
	visWantSet(t, "open in a deprecated domain", h.visListOpen(swf.ListOpenWorkflowExecutionsInput{TagFilter: &types.TagFilter{Tag: aws.String("t")}}), "d-open")
	visWantSet(t, "closed in a deprecated domain", h.visListClosed(swf.ListClosedWorkflowExecutionsInput{CloseTimeFilter: visAll()}), "d-closed")
	if n := h.visCountOpen(swf.CountOpenWorkflowExecutionsInput{}); n != 1 {
		t.Fatalf("count open in a deprecated domain = %d", n)
	}
	if n := h.visCountClosed(swf.CountClosedWorkflowExecutionsInput{TypeFilter: &types.WorkflowTypeFilter{Name: aws.String("order")}}); n != 1 {
		t.Fatalf("count closed in a deprecated domain = %d", n)
	}
}
