package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/internal/swfdtest"
)

// volatile masks values that differ between two servers (ids, tokens,
// times), keeping the layout around them.
var volatile = regexp.MustCompile(`"(runId|taskToken|creationDate|deprecationDate|eventTimestamp|startTimestamp|closeTimestamp|latestActivityTaskTimestamp)": ("[^"]*"|[0-9.eE+]+)`)

func mask(s string) string { return volatile.ReplaceAllString(s, `"$1": "<masked>"`) }

// TestEndToEnd runs the same swf and aws swf command lines against two
// fresh swfd servers and compares what they print (stdout, exit status,
// and stderr for errors), stage by stage: later stages need task tokens
// and run ids from earlier ones. The servers keep real time, and each aws
// command starts a Python, which takes seconds on a loaded machine: the
// timeouts are an hour or more, so that no task times out between the
// stages and changes what later commands see.
func TestEndToEnd(t *testing.T) {
	setCreds(t)
	mine := swfdtest.Start(t, swfdtest.Options{PollTimeout: 500 * time.Millisecond})
	theirs := swfdtest.Start(t, swfdtest.Options{PollTimeout: 500 * time.Millisecond})
	haveAWS := awsPython() != ""

	dir := t.TempDir()
	decisions := filepath.Join(dir, "decisions.json")
	os.WriteFile(decisions, []byte(`[
  {"decisionType": "ScheduleActivityTask",
   "scheduleActivityTaskDecisionAttributes": {
     "activityType": {"name": "act", "version": "2"}, "activityId": "a1", "input": "work",
     "scheduleToCloseTimeout": "7200"}}
]`), 0o644)
	arn := "arn:aws:swf:us-east-1:123456789012:/domain/e2e"

	type side struct {
		name string
		run  func(argss [][]string) []awsRun
	}
	swfSide := side{"swf", func(argss [][]string) []awsRun {
		env := map[string]string{"AWS_ENDPOINT_URL_SWF": mine.URL, "AWS_DEFAULT_REGION": "us-east-1"}
		var out []awsRun
		for _, a := range argss {
			out = append(out, swfRun(env, a[1:]...))
		}
		return out
	}}
	awsSide := side{"aws", func(argss [][]string) []awsRun {
		return awsBatch(t, map[string]string{
			"AWS_ENDPOINT_URL_SWF": theirs.URL, "AWS_DEFAULT_REGION": "us-east-1",
			"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
		}, argss)
	}}

	// stage runs one list of command lines on both sides and compares.
	stage := func(argss func(s string) [][]string) (swfOut, awsOut []awsRun) {
		t.Helper()
		swfOut = swfSide.run(argss("swf"))
		for i, r := range swfOut {
			if r.RC != 0 && !strings.Contains(strings.Join(argss("swf")[i], " "), "nope") {
				t.Errorf("swf %v: rc=%d %s", argss("swf")[i][1:], r.RC, r.Stderr)
			}
		}
		if !haveAWS {
			return swfOut, nil
		}
		awsOut = awsSide.run(argss("aws"))
		for i := range swfOut {
			a, m := awsOut[i], swfOut[i]
			args := argss("swf")[i][1:]
			if a.RC != m.RC || mask(a.Stdout) != mask(m.Stdout) {
				t.Errorf("%v: rc aws=%d swf=%d\naws:\n%s\nswf:\n%s\naws stderr: %s", args, a.RC, m.RC, a.Stdout, m.Stdout, a.Stderr)
			}
			if a.RC != 0 && a.Stderr != m.Stderr {
				t.Errorf("%v: stderr\naws: %q\nswf: %q", args, a.Stderr, m.Stderr)
			}
		}
		return swfOut, awsOut
	}
	cmd := func(args ...string) []string { return append([]string{"swf"}, args...) }

	// Registry: domains, types, tags.
	stage(func(string) [][]string {
		return [][]string{
			cmd("register-domain", "--name", "e2e", "--workflow-execution-retention-period-in-days", "3", "--description", "end to end", "--tags", "key=team,value=core"),
			cmd("describe-domain", "--name", "e2e"),
			cmd("describe-domain", "--name", "e2e", "--output", "table"),
			cmd("describe-domain", "--name", "e2e", "--output", "text"),
			cmd("list-domains", "--registration-status", "REGISTERED"),
			cmd("register-activity-type", "--domain", "e2e", "--name", "act", "--activity-version", "1", "--default-task-list", "name=acts",
				"--default-task-start-to-close-timeout", "60", "--default-task-heartbeat-timeout", "30",
				"--default-task-schedule-to-start-timeout", "NONE", "--default-task-schedule-to-close-timeout", "NONE"),
			cmd("register-activity-type", "--domain", "e2e", "--name", "act", "--activity-version", "2", "--default-task-list", "name=acts",
				"--default-task-start-to-close-timeout", "3600", "--default-task-heartbeat-timeout", "3600",
				"--default-task-schedule-to-start-timeout", "3600", "--default-task-schedule-to-close-timeout", "7200"),
			cmd("register-workflow-type", "--domain", "e2e", "--name", "wf", "--workflow-version", "1", "--default-task-list", "name=decisions",
				"--default-execution-start-to-close-timeout", "7200", "--default-task-start-to-close-timeout", "3600", "--default-child-policy", "TERMINATE"),
			cmd("list-activity-types", "--domain", "e2e", "--registration-status", "REGISTERED"),
			cmd("deprecate-activity-type", "--domain", "e2e", "--activity-type", "name=act,version=1"),
			cmd("list-activity-types", "--domain", "e2e", "--registration-status", "DEPRECATED"),
			cmd("list-activity-types", "--domain", "e2e", "--registration-status", "REGISTERED", "--query", "typeInfos[].activityType", "--output", "text"),
			cmd("describe-activity-type", "--domain", "e2e", "--activity-type", "name=act,version=1"),
			cmd("describe-workflow-type", "--domain", "e2e", "--workflow-type", "name=wf,version=1"),
			cmd("tag-resource", "--resource-arn", arn, "--tags", "key=env,value=test"),
			cmd("list-tags-for-resource", "--resource-arn", arn),
			cmd("list-tags-for-resource", "--resource-arn", arn, "--output", "table"),
			cmd("describe-domain", "--name", "nope"),
			cmd("deprecate-activity-type", "--domain", "nope", "--activity-type", "name=act,version=1"),
		}
	})

	// Executions: start, decide, work, cancel, read the history.
	s1, a1 := stage(func(string) [][]string {
		return [][]string{
			cmd("start-workflow-execution", "--domain", "e2e", "--workflow-id", "w1", "--workflow-type", "name=wf,version=1", "--input", "hi", "--tag-list", "t1", "t2"),
			cmd("poll-for-decision-task", "--domain", "e2e", "--task-list", "name=decisions", "--identity", "decider"),
			cmd("poll-for-decision-task", "--domain", "e2e", "--task-list", "name=decisions", "--identity", "decider", "--no-paginate", "--query", "startedEventId"),
		}
	})
	tokenOf := func(out []awsRun, i int) string {
		v, err := decodeJSON([]byte(out[i].Stdout))
		if err != nil {
			t.Fatalf("output %d: %v\n%s", i, err, out[i].Stdout)
		}
		return str(v, "taskToken")
	}
	runOf := func(out []awsRun) string {
		v, _ := decodeJSON([]byte(out[0].Stdout))
		return str(v, "runId")
	}
	pick := func(s string, swf, aws []awsRun) []awsRun {
		if s == "swf" {
			return swf
		}
		return aws
	}
	s2, a2 := stage(func(s string) [][]string {
		dt := tokenOf(pick(s, s1, a1), 1)
		return [][]string{
			cmd("respond-decision-task-completed", "--task-token", dt, "--decisions", "file://"+decisions, "--execution-context", "ctx1"),
			cmd("poll-for-activity-task", "--domain", "e2e", "--task-list", "name=acts", "--identity", "worker"),
		}
	})
	stage(func(s string) [][]string {
		at := tokenOf(pick(s, s2, a2), 1)
		run := runOf(pick(s, s1, a1))
		return [][]string{
			cmd("record-activity-task-heartbeat", "--task-token", at, "--details", "half"),
			cmd("request-cancel-workflow-execution", "--domain", "e2e", "--workflow-id", "w1"),
			cmd("record-activity-task-heartbeat", "--task-token", at),
			cmd("get-workflow-execution-history", "--domain", "e2e", "--execution", "workflowId=w1,runId="+run),
			cmd("get-workflow-execution-history", "--domain", "e2e", "--execution", `{"workflowId":"w1","runId":"`+run+`"}`, "--reverse-order", "--max-items", "2", "--query", "events[].eventType"),
			cmd("describe-workflow-execution", "--domain", "e2e", "--execution", "workflowId=w1,runId="+run),
			cmd("list-open-workflow-executions", "--domain", "e2e", "--start-time-filter", "oldestDate=2000-01-01T00:00:00Z", "--tag-filter", "tag=t2"),
			cmd("count-open-workflow-executions", "--domain", "e2e", "--start-time-filter", "oldestDate=0"),
			cmd("count-pending-activity-tasks", "--domain", "e2e", "--task-list", "name=acts"),
		}
	})

	// The swf commands of its own, on the same execution.
	env := map[string]string{"AWS_ENDPOINT_URL_SWF": mine.URL}
	r := swfRun(env, "history", "--domain", "e2e", "--workflow-id", "w1")
	for _, want := range []string{"WorkflowExecutionStarted", "ActivityTaskScheduled", "activityType=act/2", "WorkflowExecutionCancelRequested", "ID  TIME"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("history lacks %q (rc=%d %s):\n%s", want, r.RC, r.Stderr, r.Stdout)
		}
	}
	r = swfRun(env, "executions", "--domain", "e2e")
	if !strings.Contains(r.Stdout, "w1") || !strings.Contains(r.Stdout, "OPEN (cancel requested)") || !strings.Contains(r.Stdout, "t1,t2") {
		t.Errorf("executions: rc=%d %s\n%s", r.RC, r.Stderr, r.Stdout)
	}
	r = swfRun(env, "describe", "--domain", "e2e", "--workflow-id", "w1")
	for _, want := range []string{"OPEN, cancel requested", "Pending activities:", "a1", "act/2", "worker", "activities 1"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("describe lacks %q (rc=%d %s):\n%s", want, r.RC, r.Stderr, r.Stdout)
		}
	}
	if r := swfRun(env, "executions", "--domain", "e2e", "--closed"); r.RC != 0 || !strings.Contains(r.Stdout, "No closed executions") {
		t.Errorf("executions --closed: %d %s %s", r.RC, r.Stdout, r.Stderr)
	}
	// Close it, then history finds the closed run and --follow ends.
	swfRun(env, "terminate-workflow-execution", "--domain", "e2e", "--workflow-id", "w1", "--reason", "done")
	r = swfRun(env, "history", "--domain", "e2e", "--workflow-id", "w1", "--follow", "--interval", "0.1")
	if r.RC != 0 || !strings.Contains(r.Stdout, "WorkflowExecutionTerminated") {
		t.Errorf("history of the closed run: %d %s\n%s", r.RC, r.Stderr, r.Stdout)
	}
	r = swfRun(env, "executions", "--domain", "e2e", "--closed", "--status", "TERMINATED")
	if !strings.Contains(r.Stdout, "TERMINATED") {
		t.Errorf("executions --closed --status: %s %s", r.Stdout, r.Stderr)
	}
}
