package history

import (
	"encoding/json"
	"testing"

	"github.com/swfd/swfd/api"
)

// FuzzDecisions feeds arbitrary RespondDecisionTaskCompleted bodies to a
// run with a started decision task. What the frontend would accept goes
// through CompleteDecisionTask, which must never panic and must answer
// success (with a well-formed history, checked by the harness) or a
// ValidationException / UnknownResourceFault. Bodies the frontend would
// reject are applied too, decoded without validation: the engine must not
// panic on them either, whatever it answers. A successful batch is applied
// a second time on the next decision task, to reach the "already in use"
// paths.
func FuzzDecisions(f *testing.F) {
	for _, seed := range []string{
		`{"decisions":[]}`,
		`{"decisions":[{"decisionType":"ScheduleActivityTask","scheduleActivityTaskDecisionAttributes":{"activityId":"a1","activityType":{"name":"act","version":"1"},"input":"x"}}]}`,
		`{"decisions":[{"decisionType":"ScheduleActivityTask","scheduleActivityTaskDecisionAttributes":{"activityId":"a1","activityType":{"name":"bare","version":"1"}}}]}`,
		`{"decisions":[{"decisionType":"StartTimer","startTimerDecisionAttributes":{"timerId":"t1","startToFireTimeout":"5"}},{"decisionType":"CancelTimer","cancelTimerDecisionAttributes":{"timerId":"t1"}}]}`,
		`{"decisions":[{"decisionType":"CompleteWorkflowExecution","completeWorkflowExecutionDecisionAttributes":{"result":"r"}},{"decisionType":"RecordMarker","recordMarkerDecisionAttributes":{"markerName":"m"}}]}`,
		`{"decisions":[{"decisionType":"FailWorkflowExecution","failWorkflowExecutionDecisionAttributes":{"reason":"r","details":"d"}}]}`,
		`{"decisions":[{"decisionType":"CancelWorkflowExecution"}]}`,
		`{"decisions":[{"decisionType":"ContinueAsNewWorkflowExecution","continueAsNewWorkflowExecutionDecisionAttributes":{"input":"i","workflowTypeVersion":"2","tagList":["a"]}}]}`,
		`{"decisions":[{"decisionType":"SignalExternalWorkflowExecution","signalExternalWorkflowExecutionDecisionAttributes":{"workflowId":"w2","signalName":"s"}}]}`,
		`{"decisions":[{"decisionType":"RequestCancelExternalWorkflowExecution","requestCancelExternalWorkflowExecutionDecisionAttributes":{"workflowId":"w2","runId":"r2"}}]}`,
		`{"decisions":[{"decisionType":"StartChildWorkflowExecution","startChildWorkflowExecutionDecisionAttributes":{"workflowId":"c1","workflowType":{"name":"child","version":"1"},"childPolicy":"ABANDON"}}]}`,
		`{"decisions":[{"decisionType":"RequestCancelActivityTask","requestCancelActivityTaskDecisionAttributes":{"activityId":"a1"}}]}`,
		`{"decisions":[{"decisionType":"ScheduleLambdaFunction","scheduleLambdaFunctionDecisionAttributes":{"id":"l1","name":"fn"}}]}`,
		`{"decisions":[{"decisionType":"StartTimer"}]}`,
		`{"decisions":[{"decisionType":"StartTimer","startTimerDecisionAttributes":{"timerId":"t","startToFireTimeout":"99999999"}},{"decisionType":"StartTimer","startTimerDecisionAttributes":{"timerId":"t","startToFireTimeout":"NONE"}}]}`,
		`{"decisions":[{"decisionType":"ScheduleActivityTask","scheduleActivityTaskDecisionAttributes":{"activityId":"a","activityType":{"name":"act","version":"1"},"taskList":{"name":"x"},"taskPriority":"-2147483649","heartbeatTimeout":"-1"}}]}`,
		`{"decisions":[{"decisionType":"CompleteWorkflowExecution"}],"taskList":{"name":"other"},"taskListScheduleToStartTimeout":"5"}`,
		`{"decisions":[{"decisionType":"CompleteWorkflowExecution","scheduleActivityTaskDecisionAttributes":{"activityId":"a"}}]}`,
		`{"decisions":[{"decisionType":"Bogus"}],"executionContext":"c"}`,
		`{"decisions":[null,{}]}`,
		`{"decisions":{"decisionType":"StartTimer"}}`,
	} {
		f.Add([]byte(seed))
	}
	op := api.Operations["RespondDecisionTaskCompleted"]
	f.Fuzz(func(t *testing.T, body []byte) {
		validated := true
		v, err := op.Decode(body)
		var in *api.RespondDecisionTaskCompletedInput
		if err == nil {
			in = v.(*api.RespondDecisionTaskCompletedInput)
		} else {
			validated = false
			in = new(api.RespondDecisionTaskCompletedInput)
			if json.Unmarshal(body, in) != nil {
				return
			}
		}
		h := startDefault(t)
		h.must(func(s *State) (Result, error) { return s.StartDecisionTask(h.env, 2, "d") })
		apply := func(startedID int64) bool {
			_, err := h.try(func(s *State) (Result, error) { return s.CompleteDecisionTask(h.env, startedID, in) })
			if err != nil {
				f, _ := api.AsFault(err)
				if validated && f.Code != api.ValidationException && f.Code != api.UnknownResourceFault {
					t.Fatalf("CompleteDecisionTask: %v", err)
				}
				return false
			}
			return true
		}
		if !apply(3) || !h.s.Open {
			return
		}
		if h.s.Decision.ScheduledID == 0 {
			h.must(func(s *State) (Result, error) { return s.Signal(h.env, "again", "") })
		}
		if h.s.Decision.ScheduledID == 0 || h.s.Decision.StartedID != 0 {
			return
		}
		res := h.must(func(s *State) (Result, error) { return s.StartDecisionTask(h.env, s.Decision.ScheduledID, "d") })
		apply(res.Events[len(res.Events)-1].EventID)
	})
}
