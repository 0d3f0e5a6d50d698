package cli

import (
	"strings"
	"sync/atomic"
	"testing"
	"unicode"
)

// extraFake answers what history, executions and describe ask: one open
// run with two events.
func extraFake(t *testing.T) *fakeSWF {
	info := `{"execution": {"workflowId": "w1", "runId": "r1"}, "workflowType": {"name": "w", "version": "1"},
		"startTimestamp": 1700000000, "executionStatus": "OPEN", "cancelRequested": false}`
	return newFake(t, func(op string, _ map[string]any) (int, string) {
		switch op {
		case "ListOpenWorkflowExecutions", "ListClosedWorkflowExecutions":
			return 200, `{"executionInfos": [` + info + `]}`
		case "DescribeWorkflowExecution":
			return 200, `{"executionInfo": ` + info + `, "executionConfiguration": {"taskStartToCloseTimeout": "30",
				"executionStartToCloseTimeout": "3600", "taskList": {"name": "t"}, "childPolicy": "TERMINATE"},
				"openCounts": {"openActivityTasks": 0, "openDecisionTasks": 1, "openTimers": 0, "openChildWorkflowExecutions": 0}}`
		case "GetWorkflowExecutionHistory":
			return 200, `{"events": [
				{"eventId": 1, "eventTimestamp": 1700000000, "eventType": "WorkflowExecutionStarted",
				 "workflowExecutionStartedEventAttributes": {"childPolicy": "TERMINATE", "taskList": {"name": "t"}, "workflowType": {"name": "w", "version": "1"}}},
				{"eventId": 2, "eventTimestamp": 1700000000, "eventType": "DecisionTaskScheduled",
				 "decisionTaskScheduledEventAttributes": {"taskList": {"name": "t"}}}]}`
		}
		return 400, `{"__type": "com.amazonaws.swf.base.model#UnknownResourceFault", "message": "no"}`
	})
}

// --query applies to what history, executions and describe print as data,
// as to every other command: before, it was ignored, and they printed all
// of their data (with --output json) or their table.
func TestQueryOnOwnCommands(t *testing.T) {
	setCreds(t)
	f := extraFake(t)
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"describe", "--domain", "d", "--workflow-id", "w1", "--output", "json", "--query", "executionInfo.execution.runId"}, "\"r1\"\n"},
		{[]string{"describe", "--domain", "d", "--workflow-id", "w1", "--query", "openCounts.openDecisionTasks"}, "1\n"},
		{[]string{"describe", "--domain", "d", "--workflow-id", "w1", "--query", "executionConfiguration.taskList.name", "--output", "text"}, "t\n"},
		{[]string{"executions", "--domain", "d", "--query", "[].execution.workflowId", "--output", "text"}, "w1\n"},
		{[]string{"executions", "--domain", "d", "--closed", "--output", "json", "--query", "length(@)"}, "1\n"},
		{[]string{"history", "--domain", "d", "--workflow-id", "w1", "--query", "[].eventType", "--output", "text"}, "WorkflowExecutionStarted\tDecisionTaskScheduled\n"},
		{[]string{"history", "--domain", "d", "--workflow-id", "w1", "--run-id", "r1", "--output", "json", "--query", "[-1].eventId"}, "2\n"},
	}
	for _, c := range cases {
		r := swfRun(env, c.args...)
		if r.RC != 0 || r.Stdout != c.want {
			t.Errorf("swf %s: rc=%d stdout %q, want %q; stderr %q", strings.Join(c.args, " "), r.RC, r.Stdout, c.want, r.Stderr)
		}
	}
	// Without --query or --output json they still print their tables.
	if r := swfRun(env, "describe", "--domain", "d", "--workflow-id", "w1"); r.RC != 0 || !strings.Contains(r.Stdout, "Child policy  TERMINATE") {
		t.Errorf("describe: rc=%d stdout %q stderr %q", r.RC, r.Stdout, r.Stderr)
	}
	// A query that fails is reported as for any other command.
	want := swfRun(env, "list-open-workflow-executions", "--domain", "d", "--start-time-filter", "oldestDate=0", "--query", "[?")
	if r := swfRun(env, "executions", "--domain", "d", "--query", "[?"); r.RC != want.RC || r.Stderr != want.Stderr || r.Stdout != "" {
		t.Errorf("bad query: rc=%d stdout %q stderr %q, want rc=%d stderr %q", r.RC, r.Stdout, r.Stderr, want.RC, want.Stderr)
	}
}

// A --query that does not compile fails swf clock advance before the
// clock is moved: before, the clock moved and then the command failed.
func TestBadQueryDoesNotMoveTheClock(t *testing.T) {
	setCreds(t)
	f := newFake(t, nil)
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	for _, args := range [][]string{{"clock", "advance", "1h"}, {"dev", "reset"}, {"describe", "--domain", "d", "--workflow-id", "w"}} {
		r := swfRun(env, append(args, "--query", "[?")...)
		if r.RC != 255 || r.Stderr != "\nBad value for --query [?: Invalid jmespath expression: SyntaxError: Incomplete expression\n" {
			t.Errorf("swf %s: rc=%d stderr %q", strings.Join(args, " "), r.RC, r.Stderr)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) != 0 {
		t.Errorf("%d calls made, the first %s", len(f.requests), f.requests[0].op)
	}
}

// swf history --follow --output json waits for the execution to close and
// prints its whole history: before, it printed the events so far and
// returned at once, as if --follow had not been given.
func TestHistoryFollowAsData(t *testing.T) {
	setCreds(t)
	var looks atomic.Int32
	f := newFake(t, func(op string, _ map[string]any) (int, string) {
		if op != "GetWorkflowExecutionHistory" {
			return 400, `{"__type": "com.amazonaws.swf.base.model#UnknownResourceFault", "message": "no"}`
		}
		events := `{"eventId": 1, "eventTimestamp": 1700000000, "eventType": "WorkflowExecutionStarted"}`
		if looks.Add(1) >= 3 {
			events += `, {"eventId": 2, "eventTimestamp": 1700000001, "eventType": "WorkflowExecutionTerminated"}`
		}
		return 200, `{"events": [` + events + `]}`
	})
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	r := swfRun(env, "history", "--domain", "d", "--workflow-id", "w1", "--run-id", "r1", "--follow", "--interval", "0.01",
		"--output", "json", "--query", "[].eventType")
	want := "[\n    \"WorkflowExecutionStarted\",\n    \"WorkflowExecutionTerminated\"\n]\n"
	if r.RC != 0 || r.Stdout != want || looks.Load() != 3 {
		t.Errorf("rc=%d stdout %q (want %q) after %d looks; stderr %q", r.RC, r.Stdout, want, looks.Load(), r.Stderr)
	}
}

// The bash completion offers every flag of history, executions, describe
// and bench: before, history's list was written by hand and lacked
// --reverse-order.
func TestCompletionHasEveryFlagOfOwnCommands(t *testing.T) {
	r := swfRun(nil, "completion", "bash")
	for name, specs := range extraSpecs {
		var line string
		for _, l := range strings.Split(r.Stdout, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), name+") flags=") {
				line = l
			}
		}
		if line == "" {
			t.Errorf("no completion for %s", name)
			continue
		}
		for f := range specs {
			if !strings.Contains(line+" ", " --"+f+" ") && !strings.Contains(line, "\"--"+f+" ") && !strings.Contains(line, " --"+f+"\"") {
				t.Errorf("completion of %s lacks --%s: %s", name, f, line)
			}
		}
	}
}

// The readable tables of history, executions and describe show control
// characters of the data (an input, a tag, an execution context) as
// text: before, a line break in an execution context broke describe's
// table, and ESC or CR went to the terminal as they were (an input could
// recolour or rewrite what the operator saw).
func TestTablesShowControlCharacters(t *testing.T) {
	setCreds(t)
	nasty := `a\u001b[31mb\r\nc\rd\te\u0085f`
	info := `{"execution": {"workflowId": "w1", "runId": "r1"}, "workflowType": {"name": "w", "version": "1"},
		"startTimestamp": 1700000000, "executionStatus": "OPEN", "cancelRequested": false, "tagList": ["` + nasty + `"]}`
	f := newFake(t, func(op string, _ map[string]any) (int, string) {
		switch op {
		case "ListOpenWorkflowExecutions":
			return 200, `{"executionInfos": [` + info + `]}`
		case "DescribeWorkflowExecution":
			return 200, `{"executionInfo": ` + info + `, "executionConfiguration": {"taskList": {"name": "t"}, "childPolicy": "TERMINATE"},
				"openCounts": {"openActivityTasks": 0, "openDecisionTasks": 0, "openTimers": 0, "openChildWorkflowExecutions": 0},
				"latestExecutionContext": "{\n  \"step\": 1\n}"}`
		case "GetWorkflowExecutionHistory":
			return 200, `{"events": [{"eventId": 1, "eventTimestamp": 1700000000, "eventType": "WorkflowExecutionStarted",
				"workflowExecutionStartedEventAttributes": {"input": "` + nasty + `"}}]}`
		}
		return 400, `{"__type": "com.amazonaws.swf.base.model#UnknownResourceFault", "message": "no"}`
	})
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	shown := `a\x1b[31mb c\x0dd e\x85f`
	for _, c := range []struct {
		args  []string
		lines int
		want  []string
	}{
		{[]string{"history", "--domain", "d", "--workflow-id", "w1"}, 3, []string{"input=" + shown}},
		{[]string{"executions", "--domain", "d"}, 2, []string{"OPEN    " + shown}},
		{[]string{"describe", "--domain", "d", "--workflow-id", "w1"}, 12, []string{"Tags               " + shown, `Execution context  {   "step": 1 }`}},
	} {
		r := swfRun(env, c.args...)
		if r.RC != 0 {
			t.Errorf("%s: rc=%d %s", c.args[0], r.RC, r.Stderr)
			continue
		}
		if strings.IndexFunc(strings.ReplaceAll(r.Stdout, "\n", ""), unicode.IsControl) >= 0 {
			t.Errorf("%s: a control character in %q", c.args[0], r.Stdout)
		}
		if n := strings.Count(r.Stdout, "\n"); n != c.lines {
			t.Errorf("%s: %d lines, want %d:\n%s", c.args[0], n, c.lines, r.Stdout)
		}
		for _, w := range c.want {
			if !strings.Contains(r.Stdout, w) {
				t.Errorf("%s: no %q in\n%s", c.args[0], w, r.Stdout)
			}
		}
	}
}

// swf history --interval refuses what would make --follow look again
// without waiting: NaN, infinities and numbers too large for a duration
// (which overflowed to a negative one) or too small to be one. Before,
// they were taken and --follow called the server thousands of times a
// second.
func TestFollowIntervalBounds(t *testing.T) {
	setCreds(t)
	// A closed run, so that a value taken ends the command at once.
	f := newFake(t, func(string, map[string]any) (int, string) {
		return 200, `{"events": [{"eventId": 1, "eventTimestamp": 1700000000, "eventType": "WorkflowExecutionTerminated"}]}`
	})
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": f.URL}
	for _, v := range []string{"NaN", "Inf", "+Inf", "1e300", "1e-300", "0", "-1", "abc", "86401"} {
		r := swfRun(env, "history", "--domain", "d", "--workflow-id", "w1", "--run-id", "r1", "--follow", "--interval", v)
		want := "\n--interval: a number of seconds from 0.001 to 86400, not \"" + v + "\"\n"
		if r.RC != 255 || r.Stderr != want {
			t.Errorf("--interval %s: rc=%d stderr %q", v, r.RC, r.Stderr)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) != 0 {
		t.Errorf("%d calls made", len(f.requests))
	}
}
