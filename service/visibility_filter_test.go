package service

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
)

// A time filter's bounds select exactly the runs between them, as sent on
// the wire: a bound between two milliseconds is not rounded onto a run's
// start, and a far-future latestDate (9999-12-31, a common "no bound") is
// taken as such.
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
