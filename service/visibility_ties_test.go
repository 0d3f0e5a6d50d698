package service

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
)

// Runs started in one millisecond are paged through by runId: at any page
// size, in either order, each run that stays open while the pages are read
// is listed once and in order, though between pages runs of the same
// millisecond close (some already listed, some not yet) and others start
// in it; none is listed twice.
func TestPagingThroughTiedRuns(t *testing.T) {
	ctx := context.Background()
	start := time.UnixMilli(1_700_000_000_000).UTC()
	wt := api.WorkflowType{Name: "wf", Version: "1"}
	all := api.ExecutionTimeFilter{OldestDate: api.NewTime(time.Unix(0, 0))}
	for _, size := range []int{1, 2, 3} {
		for _, reverse := range []bool{false, true} {
			name := fmt.Sprintf("size %d reverse %v", size, reverse)
			clk := clock.NewManual(start)
			s := testService(t, Options{Clock: clk}, nil)
			n := 0
			startRun := func() string {
				t.Helper()
				id := fmt.Sprintf("w%02d", n)
				n++
				out, err := s.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: id, WorkflowType: wt})
				if err != nil {
					t.Fatal(err)
				}
				return out.RunID
			}
			ids := map[string]string{} // runId → workflowId
			for range 15 {
				ids[startRun()] = fmt.Sprintf("w%02d", n-1)
			}
			// Some close, in the same millisecond.
			for i := 0; i < 15; i += 5 {
				if err := s.TerminateWorkflowExecution(ctx, &api.TerminateWorkflowExecutionInput{Domain: "d", WorkflowID: fmt.Sprintf("w%02d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			var seen []api.WorkflowExecutionInfo
			closedMeanwhile := map[string]bool{}
			token := ""
			for page := 0; ; page++ {
				out, err := s.ListOpenWorkflowExecutions(ctx, &api.ListOpenWorkflowExecutionsInput{Domain: "d", StartTimeFilter: all,
					MaximumPageSize: size, ReverseOrder: reverse, NextPageToken: token})
				if err != nil {
					t.Fatalf("%s: page %d: %v", name, page, err)
				}
				if len(out.ExecutionInfos) > size {
					t.Fatalf("%s: page of %d", name, len(out.ExecutionInfos))
				}
				seen = append(seen, out.ExecutionInfos...)
				if out.NextPageToken == "" {
					break
				}
				token = out.NextPageToken
				// Between pages: the last run listed closes, one not yet
				// listed closes, and a run starts in the same millisecond.
				if page < 4 {
					last := out.ExecutionInfos[len(out.ExecutionInfos)-1].Execution
					for _, wf := range []string{last.WorkflowID, fmt.Sprintf("w%02d", 14-page)} {
						if err := s.TerminateWorkflowExecution(ctx, &api.TerminateWorkflowExecutionInput{Domain: "d", WorkflowID: wf}); err == nil {
							closedMeanwhile[wf] = true
						}
					}
					startRun()
				}
			}
			var runs []string
			for i, e := range seen {
				runs = append(runs, e.Execution.RunID)
				if !e.StartTimestamp.Equal(start) {
					t.Fatalf("%s: %s started at %v", name, e.Execution.WorkflowID, e.StartTimestamp)
				}
				if i > 0 {
					c := cmpString(seen[i-1].Execution.RunID, e.Execution.RunID)
					if !reverse && c <= 0 || reverse && c >= 0 {
						t.Fatalf("%s: out of runId order at %d: %v", name, i, runs)
					}
				}
			}
			throughout := 0
			for run, wf := range ids {
				terminatedBefore := slices.Contains([]string{"w00", "w05", "w10"}, wf)
				if terminatedBefore || closedMeanwhile[wf] {
					continue
				}
				throughout++
				if !slices.Contains(runs, run) {
					t.Fatalf("%s: %s (open throughout) not listed: %v", name, wf, runs)
				}
			}
			if throughout < 4 {
				t.Fatalf("%s: only %d runs stayed open throughout", name, throughout)
			}
			sorted := slices.Clone(runs)
			slices.Sort(sorted)
			if len(slices.Compact(sorted)) != len(runs) {
				t.Fatalf("%s: a run listed twice: %v", name, runs)
			}
		}
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
