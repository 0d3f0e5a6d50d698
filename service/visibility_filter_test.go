package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
)

// A time filter's bounds select exactly the runs between them, as sent on
// the wire: a bound between two milliseconds is not rounded onto a run's
// start, and a far-future latestDate (9999-12-31, a common "no bound") is
// taken as such, while one at the beginning of year 1 or before is a bound
// that no run is within.
func TestTimeFilterBoundsAsSent(t *testing.T) {
	ctx := context.Background()
	start := time.UnixMilli(1_700_000_000_123).UTC()
	s := testService(t, Options{Clock: clock.NewManual(start)}, nil)
	if _, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w",
		WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}}); err != nil {
		t.Fatal(err)
	}
	count := func(filter string) int {
		t.Helper()
		body := `{"domain":"d","startTimeFilter":` + filter + `}`
		if err := api.Validate("CountOpenWorkflowExecutionsInput", []byte(body)); err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		in, err := api.Operations["CountOpenWorkflowExecutions"].Decode([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		c, err := s.CountOpenWorkflowExecutions(ctx, in.(*api.CountOpenWorkflowExecutionsInput))
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		return c.Count
	}
	for _, tc := range []struct {
		filter string
		want   int
	}{
		{`{"oldestDate":1700000000.123}`, 1},
		{`{"oldestDate":0,"latestDate":1700000000.123}`, 1},
		{`{"oldestDate":1700000000.1234}`, 0},                // after the start, by 0.4 ms
		{`{"oldestDate":0,"latestDate":1700000000.1226}`, 0}, // before it, by 0.4 ms
		{`{"oldestDate":1700000000.1226,"latestDate":1700000000.1234}`, 1},
		{`{"oldestDate":0,"latestDate":253402300799.999}`, 1}, // 9999-12-31T23:59:59.999Z
		{`{"oldestDate":-62135596800,"latestDate":1e15}`, 1},  // year 1 to the largest bound taken
		{`{"oldestDate":253402300799}`, 0},
		// A latestDate at the start of year 1 (and within its first
		// millisecond) is a bound, before every run, not the absence
		// of one; so are those before it, negative or fractional.
		{`{"oldestDate":-1e15,"latestDate":-62135596800}`, 0},
		{`{"oldestDate":-1e15,"latestDate":-62135596799.9995}`, 0},
		{`{"oldestDate":-1e15,"latestDate":-62135596800.0005}`, 0},
		{`{"oldestDate":-1e15,"latestDate":-1e15}`, 0},
		{`{"oldestDate":-1e15,"latestDate":-0.5}`, 0},
		{`{"oldestDate":-62135596800.0005}`, 1},
		{`{"oldestDate":-1.5,"latestDate":1700000000.5}`, 1},
	} {
		if got := count(tc.filter); got != tc.want {
			t.Errorf("startTimeFilter %s: count %d, want %d", tc.filter, got, tc.want)
		}
	}
}

// The open executions' operations have no closeStatusFilter: their fault
// for two filters at once names only the filters they have.
func TestOpenFiltersExclusiveMessage(t *testing.T) {
	s := testService(t, Options{}, nil)
	_, err := s.CountOpenWorkflowExecutions(context.Background(), &api.CountOpenWorkflowExecutionsInput{Domain: "d",
		StartTimeFilter: api.ExecutionTimeFilter{OldestDate: api.NewTime(time.Unix(0, 0))},
		ExecutionFilter: &api.WorkflowExecutionFilter{WorkflowID: "w"}, TagFilter: &api.TagFilter{Tag: "t"}})
	f, ok := api.AsFault(err)
	if !ok || f.Code != api.ValidationException {
		t.Fatalf("two filters: %v, want ValidationException", err)
	}
	if strings.Contains(f.Message, "closeStatusFilter") || !strings.Contains(f.Message, "tagFilter") {
		t.Errorf("message %q names a filter the operation lacks, or not the ones it has", f.Message)
	}
}

// A time filter whose latestDate is before its oldestDate selects no run:
// the four visibility operations answer an empty list (with no
// nextPageToken) or a count of 0, not a fault. The same filters the right
// way round find the runs, so the empty answers come from the bounds.
func TestTimeFilterLatestBeforeOldest(t *testing.T) {
	ctx := context.Background()
	start := time.UnixMilli(1_700_000_000_000).UTC()
	clk := clock.NewManual(start)
	s := testService(t, Options{Clock: clk}, nil)
	wt := api.WorkflowType{Name: "wf", Version: "1"}
	for _, id := range []string{"open", "closed"} {
		if _, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id, WorkflowType: wt}); err != nil {
			t.Fatal(err)
		}
	}
	clk.MoveTo(start.Add(30 * time.Second))
	if err := s.TerminateWorkflowExecution(ctx, &api.TerminateWorkflowExecutionInput{Domain: "d", WorkflowID: "closed"}); err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) api.Time { return api.NewTime(start.Add(d)) }
	filters := map[string]api.ExecutionTimeFilter{
		"inverted":     {OldestDate: at(time.Hour), LatestDate: at(-time.Hour)},
		"inverted 1ms": {OldestDate: at(time.Millisecond), LatestDate: at(0)},
		"ordered":      {OldestDate: at(-time.Hour), LatestDate: at(time.Hour)},
	}
	for name, f := range filters {
		want := 1
		if name != "ordered" {
			want = 0
		}
		open, err := s.ListOpenWorkflowExecutions(ctx, &api.ListOpenWorkflowExecutionsInput{Domain: "d", StartTimeFilter: f})
		if err != nil || len(open.ExecutionInfos) != want || open.NextPageToken != "" {
			t.Errorf("%s: ListOpenWorkflowExecutions = %+v, %v; want %d runs and no nextPageToken", name, open, err, want)
		}
		n, err := s.CountOpenWorkflowExecutions(ctx, &api.CountOpenWorkflowExecutionsInput{Domain: "d", StartTimeFilter: f})
		if err != nil || n.Count != want || n.Truncated {
			t.Errorf("%s: CountOpenWorkflowExecutions = %+v, %v; want %d", name, n, err, want)
		}
		for _, byClose := range []bool{false, true} {
			in := &api.ListClosedWorkflowExecutionsInput{Domain: "d", StartTimeFilter: &f}
			cin := &api.CountClosedWorkflowExecutionsInput{Domain: "d", StartTimeFilter: &f}
			if byClose {
				g := f
				g.OldestDate, g.LatestDate = api.NewTime(f.OldestDate.Add(30*time.Second)), api.NewTime(f.LatestDate.Add(30*time.Second))
				in.StartTimeFilter, in.CloseTimeFilter = nil, &g
				cin.StartTimeFilter, cin.CloseTimeFilter = nil, &g
			}
			closed, err := s.ListClosedWorkflowExecutions(ctx, in)
			if err != nil || len(closed.ExecutionInfos) != want || closed.NextPageToken != "" {
				t.Errorf("%s (by close time %v): ListClosedWorkflowExecutions = %+v, %v; want %d runs and no nextPageToken", name, byClose, closed, err, want)
			}
			n, err := s.CountClosedWorkflowExecutions(ctx, cin)
			if err != nil || n.Count != want || n.Truncated {
				t.Errorf("%s (by close time %v): CountClosedWorkflowExecutions = %+v, %v; want %d", name, byClose, n, err, want)
			}
		}
	}
}

// A typeFilter whose version is "" (the model lets it be empty) filters by
// the name alone, as one without a version does: no type has the version
// "", so an exact match would list nothing.
func TestTypeFilterEmptyVersionIsAnyVersion(t *testing.T) {
	ctx := context.Background()
	s := testService(t, Options{}, nil)
	if err := s.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "2", DefaultTaskList: &api.TaskList{Name: "l"},
		DefaultExecutionStartToCloseTimeout: "60", DefaultTaskStartToCloseTimeout: "10", DefaultChildPolicy: api.ChildPolicyTerminate}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1", "2"} {
		if _, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w" + v, WorkflowType: api.WorkflowType{Name: "wf", Version: v}}); err != nil {
			t.Fatal(err)
		}
	}
	for filter, want := range map[string]int{
		`{"name":"wf","version":""}`:  2,
		`{"name":"wf"}`:               2,
		`{"name":"wf","version":"2"}`: 1,
	} {
		in, err := api.Operations["ListOpenWorkflowExecutions"].Decode([]byte(`{"domain":"d","startTimeFilter":{"oldestDate":0},"typeFilter":` + filter + `}`))
		if err != nil {
			t.Fatalf("%s: %v", filter, err)
		}
		out, err := s.ListOpenWorkflowExecutions(ctx, in.(*api.ListOpenWorkflowExecutionsInput))
		if err != nil || len(out.ExecutionInfos) != want {
			t.Errorf("typeFilter %s: %+v, %v; want %d runs", filter, out, err, want)
		}
	}
}

// A nextPageToken of ListOpenWorkflowExecutions or
// ListClosedWorkflowExecutions belongs to the arguments it was given with,
// whatever its time filter holds: one given with a bound past year 9999
// (or before year 0), which a time's JSON cannot write, is refused with
// other arguments as any other is, and still resumes its own list.
func TestPageTokenOfFarTimeFilterKeepsItsScope(t *testing.T) {
	ctx := context.Background()
	start := time.UnixMilli(1_700_000_000_000).UTC()
	clk := clock.NewManual(start)
	s := testService(t, Options{Clock: clk}, nil)
	for _, id := range []string{"a", "b", "c"} {
		if _, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id,
			WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, TagList: []string{"t"}}); err != nil {
			t.Fatal(err)
		}
		clk.MoveTo(clk.Now().Add(time.Second))
	}
	far := api.Time{Time: time.Unix(1e12, 0).UTC()}     // year 33658
	before := api.Time{Time: time.Unix(-1e12, 0).UTC()} // before year 0
	near := api.NewTime(start.Add(time.Hour))           // an ordinary bound
	for _, f := range []api.ExecutionTimeFilter{
		{OldestDate: api.NewTime(time.Unix(0, 0)), LatestDate: far},
		{OldestDate: before, LatestDate: far},
		{OldestDate: before},
	} {
		first, err := s.ListOpenWorkflowExecutions(ctx, &api.ListOpenWorkflowExecutionsInput{Domain: "d", StartTimeFilter: f, MaximumPageSize: 1})
		if err != nil || first.NextPageToken == "" {
			t.Fatalf("%+v: first page %+v, %v", f, first, err)
		}
		others := map[string]*api.ListOpenWorkflowExecutionsInput{
			"another latestDate": {Domain: "d", StartTimeFilter: api.ExecutionTimeFilter{OldestDate: f.OldestDate, LatestDate: near}},
			"another oldestDate": {Domain: "d", StartTimeFilter: api.ExecutionTimeFilter{OldestDate: api.NewTime(start), LatestDate: f.LatestDate}},
			"a tag filter":       {Domain: "d", StartTimeFilter: f, TagFilter: &api.TagFilter{Tag: "t"}},
			"reversed":           {Domain: "d", StartTimeFilter: f, ReverseOrder: true},
		}
		for name, in := range others {
			in.MaximumPageSize, in.NextPageToken = 1, first.NextPageToken
			_, err := s.ListOpenWorkflowExecutions(ctx, in)
			if fault, ok := api.AsFault(err); !ok || fault.Code != api.ValidationException || !strings.Contains(fault.Message, "does not belong") {
				t.Errorf("the token of %+v taken with %s: %v, want a ValidationException that it does not belong", f, name, err)
			}
		}
		next, err := s.ListOpenWorkflowExecutions(ctx, &api.ListOpenWorkflowExecutionsInput{Domain: "d", StartTimeFilter: f, MaximumPageSize: 1, NextPageToken: first.NextPageToken})
		if err != nil || len(next.ExecutionInfos) != 1 || next.ExecutionInfos[0].Execution.WorkflowID == first.ExecutionInfos[0].Execution.WorkflowID {
			t.Errorf("%+v: second page %+v, %v; want the next run", f, next, err)
		}
	}
}

// A tagFilter takes every tag a tagList takes, and refuses the same ones
// with the same violation: a tag is the model's Tag in both (at most 256
// UTF-16 code units, no U+0000), with no rule on its characters, so an
// execution tagged with any tag it could be started with can be listed
// and counted by that tag. (The model's documentation of tagFilter names
// the characters of resource tags, letters, digits, white space and
// _ . : / = + - @, but a tagList is documented with no such rule; a
// filter refusing other characters would leave such executions unlistable
// by their tags.)
func TestTagFilterTakesWhatTagListTakes(t *testing.T) {
	ctx := context.Background()
	s := testService(t, Options{}, nil)
	call := func(op, body string) (any, error) {
		t.Helper()
		if err := api.Validate(api.Operations[op].Input, []byte(body)); err != nil {
			return nil, err
		}
		in, err := api.Operations[op].Decode([]byte(body))
		if err != nil {
			t.Fatalf("%s %s: %v", op, body, err)
		}
		return api.Operations[op].Call(ctx, s, in)
	}
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	taken := []string{"a<b>", "x|y", "#hash, comma; semi", "tab\there", "new\nline", "😀", "é" + "\u0301",
		strings.Repeat("𝄞", 128), strings.Repeat("域", 256), "   ", "\u200b", `quote"back\slash`}
	for i, tag := range taken {
		start := fmt.Sprintf(`{"domain":"d","workflowId":"w%d","workflowType":{"name":"wf","version":"1"},"tagList":[%s]}`, i, quote(tag))
		if _, err := call("StartWorkflowExecution", start); err != nil {
			t.Fatalf("tagList [%q]: %v", tag, err)
		}
	}
	for _, tag := range taken {
		for _, op := range []string{"CountOpenWorkflowExecutions", "ListOpenWorkflowExecutions"} {
			out, err := call(op, `{"domain":"d","startTimeFilter":{"oldestDate":0},"tagFilter":{"tag":`+quote(tag)+`}}`)
			if err != nil {
				t.Errorf("%s tagFilter %q: %v", op, tag, err)
				continue
			}
			n := 0
			switch o := out.(type) {
			case *api.WorkflowExecutionCount:
				n = o.Count
			case *api.WorkflowExecutionInfos:
				n = len(o.ExecutionInfos)
			}
			if n != 1 {
				t.Errorf("%s tagFilter %q: %d executions, want 1", op, tag, n)
			}
		}
	}
	for _, tag := range []string{strings.Repeat("𝄞", 128) + "a", strings.Repeat("a", 257), "a\x00b"} {
		_, startErr := call("StartWorkflowExecution", `{"domain":"d","workflowId":"refused","workflowType":{"name":"wf","version":"1"},"tagList":[`+quote(tag)+`]}`)
		_, filterErr := call("CountOpenWorkflowExecutions", `{"domain":"d","startTimeFilter":{"oldestDate":0},"tagFilter":{"tag":`+quote(tag)+`}}`)
		sf, ok1 := api.AsFault(startErr)
		ff, ok2 := api.AsFault(filterErr)
		if !ok1 || !ok2 || sf.Code != api.ValidationException || ff.Code != api.ValidationException {
			t.Errorf("tag %.20q: tagList %v, tagFilter %v; want a ValidationException from both", tag, startErr, filterErr)
			continue
		}
		constraint := func(m string) string { _, c, _ := strings.Cut(m, "failed to satisfy constraint: "); return c }
		if constraint(sf.Message) == "" || constraint(sf.Message) != constraint(ff.Message) {
			t.Errorf("tag %.20q: tagList refused with %q, tagFilter with %q", tag, sf.Message, ff.Message)
		}
	}
}
