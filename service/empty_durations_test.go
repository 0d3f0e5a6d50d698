package service

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/swfd/swfd/api"
)

// TestEmptyDurationsAreNotGiven: a duration or a priority sent as "" (the
// model lets the optional ones be empty) is taken as not given, wherever it
// is sent: a registration keeps no default for it, and a start or a
// decision gets the type's default, as when the member is left out. The
// bodies go through the wire's decoding, where "" and an absent member
// could be told apart.
func TestEmptyDurationsAreNotGiven(t *testing.T) {
	ctx := context.Background()
	s := testService(t, Options{}, nil)
	call := func(op, body string) any {
		t.Helper()
		in, err := api.Operations[op].Decode([]byte(body))
		if err != nil {
			t.Fatalf("%s %s: %v", op, body, err)
		}
		out, err := api.Operations[op].Call(ctx, s, in)
		if err != nil {
			t.Fatalf("%s %s: %v", op, body, err)
		}
		return out
	}
	// A registration given "" for each default keeps none of them.
	call("RegisterActivityType", `{"domain":"d","name":"bare","version":"1","defaultTaskList":{"name":"al"},
		"defaultTaskScheduleToStartTimeout":"","defaultTaskScheduleToCloseTimeout":"","defaultTaskStartToCloseTimeout":"",
		"defaultTaskHeartbeatTimeout":"","defaultTaskPriority":""}`)
	d := call("DescribeActivityType", `{"domain":"d","activityType":{"name":"bare","version":"1"}}`).(*api.ActivityTypeDetail)
	if got, _ := json.Marshal(d.Configuration); string(got) != `{"defaultTaskList":{"name":"al"}}` {
		t.Errorf("activity type registered with empty defaults has configuration %s, want only its task list", got)
	}
	call("RegisterWorkflowType", `{"domain":"d","name":"bare","version":"1","defaultTaskStartToCloseTimeout":"",
		"defaultExecutionStartToCloseTimeout":"","defaultTaskPriority":""}`)
	wd := call("DescribeWorkflowType", `{"domain":"d","workflowType":{"name":"bare","version":"1"}}`).(*api.WorkflowTypeDetail)
	if got, _ := json.Marshal(wd.Configuration); string(got) != `{}` {
		t.Errorf("workflow type registered with empty defaults has configuration %s, want none", got)
	}

	// A start given "" gets the type's defaults (wf/1: 60 and 10 seconds).
	run := call("StartWorkflowExecution", `{"domain":"d","workflowId":"w","workflowType":{"name":"wf","version":"1"},
		"executionStartToCloseTimeout":"","taskStartToCloseTimeout":"","taskPriority":""}`).(*api.Run)
	dt := call("PollForDecisionTask", `{"domain":"d","taskList":{"name":"l"}}`).(*api.DecisionTask)
	started, err := dt.Events[0].Full()
	mustNil(t, err)
	if a := started.WorkflowExecutionStartedEventAttributes; a == nil || a.ExecutionStartToCloseTimeout != "60" || a.TaskStartToCloseTimeout != "10" || a.TaskPriority != "" {
		t.Fatalf("run started with empty timeouts: %+v, want the type's 60 and 10 seconds and no priority", a)
	}

	// A decision given "" gets the activity type's defaults (act/1).
	registerActivity := `{"domain":"d","name":"act","version":"1","defaultTaskList":{"name":"al"},
		"defaultTaskScheduleToStartTimeout":"NONE","defaultTaskScheduleToCloseTimeout":"NONE","defaultTaskStartToCloseTimeout":"60",
		"defaultTaskHeartbeatTimeout":"NONE","defaultTaskPriority":"4"}`
	call("RegisterActivityType", registerActivity)
	// With a task list override, a taskListScheduleToStartTimeout of ""
	// leaves it permanent, as none does.
	body, _ := json.Marshal(map[string]any{"taskToken": dt.TaskToken, "taskList": map[string]string{"name": "l2"}, "taskListScheduleToStartTimeout": "",
		"decisions": []any{map[string]any{"decisionType": "ScheduleActivityTask", "scheduleActivityTaskDecisionAttributes": map[string]any{
			"activityType": map[string]string{"name": "act", "version": "1"}, "activityId": "a",
			"scheduleToStartTimeout": "", "scheduleToCloseTimeout": "", "startToCloseTimeout": "", "heartbeatTimeout": "", "taskPriority": ""}}}})
	call("RespondDecisionTaskCompleted", string(body))
	h := call("GetWorkflowExecutionHistory", `{"domain":"d","execution":{"workflowId":"w","runId":"`+run.RunID+`"}}`).(*api.History)
	var scheduled *api.ActivityTaskScheduledEventAttributes
	var completed *api.DecisionTaskCompletedEventAttributes
	for _, e := range h.Events {
		full, err := e.Full()
		mustNil(t, err)
		if full.ActivityTaskScheduledEventAttributes != nil {
			scheduled = full.ActivityTaskScheduledEventAttributes
		}
		if full.DecisionTaskCompletedEventAttributes != nil {
			completed = full.DecisionTaskCompletedEventAttributes
		}
	}
	if completed == nil || completed.TaskList == nil || completed.TaskList.Name != "l2" || completed.TaskListScheduleToStartTimeout != "" {
		t.Fatalf("decision task completed as %+v, want a permanent override to l2", completed)
	}
	want := api.ActivityTaskScheduledEventAttributes{ActivityID: "a", ActivityType: api.ActivityType{Name: "act", Version: "1"},
		ScheduleToStartTimeout: "NONE", ScheduleToCloseTimeout: "NONE", StartToCloseTimeout: "60", HeartbeatTimeout: "NONE",
		TaskList: api.TaskList{Name: "al"}, TaskPriority: "4", DecisionTaskCompletedEventID: 4}
	if scheduled == nil || !equalJSONValues(*scheduled, want) {
		t.Fatalf("activity scheduled with empty timeouts as %+v, want the type's defaults %+v", scheduled, want)
	}
}

func equalJSONValues(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
