package history

import (
	"encoding/json"
	"strings"
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
	// Bodies starting with '!' are programs: see fuzzDecisionProgram.
	f.Add([]byte("!\x00\x00\x00\x00\x01\x01\x01\x01\x02\x00\x00\x00"))
	f.Add([]byte("!\x0b\x00\x01\x00\x0b\x00\x02\x00\x05\x00\x00\x00"))
	f.Add([]byte("!\x04\x01\x00\x02\x08\x00\x03\x01\x09\x02\x00\x01\x03\x00\x00\x00"))
	op := api.Operations["RespondDecisionTaskCompleted"]
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 0 && body[0] == '!' {
			body = fuzzDecisionProgram(body[1:])
		}
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
		h.must(func(s *State) (Result, error) { return s.StartDecisionTask(h.env, 2, api.String("d")) })
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
			h.must(func(s *State) (Result, error) { return s.Signal(h.env, "again", api.String("")) })
		}
		if h.s.Decision.ScheduledID == 0 || h.s.Decision.StartedID != 0 {
			return
		}
		res := h.must(func(s *State) (Result, error) {
			return s.StartDecisionTask(h.env, s.Decision.ScheduledID, api.String("d"))
		})
		apply(res.Events[len(res.Events)-1].EventID)
	})
}

// fuzzDecisionProgram turns bytes into a decision list drawn from a small
// vocabulary of ids, types, durations and names that mean something to
// the harness's registry, so the fuzzer reaches the engine's semantic
// checks (ids in use, unknown types, closes not last, …) instead of
// stopping at JSON syntax. Each decision takes four bytes: its type, an
// id, a type or name, and a duration.
func fuzzDecisionProgram(b []byte) []byte {
	ids := []string{"a", "b", "t", "", "x:y", strings.Repeat("z", 300)}
	acts := []string{"act", "none", "bare", "dep", "nope"}
	wfs := []string{"wf", "child", "bare", "wfdep", "nope"}
	durs := []string{"", "1", "0", "NONE", "-1", "x", "99999999", "3600"}
	pick := func(list []string, c byte) string { return list[int(c)%len(list)] }
	var ds []map[string]any
	for len(b) >= 4 && len(ds) < 120 {
		k, id, name, dur := b[0], pick(ids, b[1]), b[2], pick(durs, b[3])
		b = b[4:]
		var d map[string]any
		attrs := func(key string, a map[string]any) map[string]any {
			for k, v := range a {
				if v == "" {
					delete(a, k)
				}
			}
			return map[string]any{key: a}
		}
		switch k % 14 {
		case 0:
			d = attrs("scheduleActivityTaskDecisionAttributes", map[string]any{"activityId": id, "activityType": map[string]any{"name": pick(acts, name), "version": "1"},
				"startToCloseTimeout": dur, "heartbeatTimeout": pick(durs, name), "taskPriority": pick([]string{"", "5", "-2147483648", "2147483648"}, name)})
		case 1:
			d = attrs("requestCancelActivityTaskDecisionAttributes", map[string]any{"activityId": id})
		case 2:
			d = attrs("completeWorkflowExecutionDecisionAttributes", map[string]any{"result": id})
		case 3:
			d = attrs("failWorkflowExecutionDecisionAttributes", map[string]any{"reason": id})
		case 4:
			d = attrs("cancelWorkflowExecutionDecisionAttributes", map[string]any{"details": id})
		case 5:
			d = attrs("continueAsNewWorkflowExecutionDecisionAttributes", map[string]any{"workflowTypeVersion": pick([]string{"", "1", "2", "9"}, name), "executionStartToCloseTimeout": dur})
		case 6:
			d = attrs("recordMarkerDecisionAttributes", map[string]any{"markerName": id})
		case 7:
			d = attrs("startTimerDecisionAttributes", map[string]any{"timerId": id, "startToFireTimeout": dur})
		case 8:
			d = attrs("cancelTimerDecisionAttributes", map[string]any{"timerId": id})
		case 9:
			d = attrs("signalExternalWorkflowExecutionDecisionAttributes", map[string]any{"workflowId": pick([]string{"w1", "other", ""}, name), "signalName": id})
		case 10:
			d = attrs("requestCancelExternalWorkflowExecutionDecisionAttributes", map[string]any{"workflowId": pick([]string{"w1", "other", ""}, name), "runId": id})
		case 11:
			d = attrs("startChildWorkflowExecutionDecisionAttributes", map[string]any{"workflowId": id, "workflowType": map[string]any{"name": pick(wfs, name), "version": "1"},
				"childPolicy": pick([]string{"", "ABANDON", "TERMINATE", "BOGUS"}, name), "executionStartToCloseTimeout": dur})
		case 12:
			d = attrs("scheduleLambdaFunctionDecisionAttributes", map[string]any{"id": id, "name": pick(acts, name)})
		default:
			d = map[string]any{}
		}
		types := []string{"ScheduleActivityTask", "RequestCancelActivityTask", "CompleteWorkflowExecution", "FailWorkflowExecution", "CancelWorkflowExecution",
			"ContinueAsNewWorkflowExecution", "RecordMarker", "StartTimer", "CancelTimer", "SignalExternalWorkflowExecution",
			"RequestCancelExternalWorkflowExecution", "StartChildWorkflowExecution", "ScheduleLambdaFunction", "Bogus"}
		d["decisionType"] = types[k%14]
		if k >= 128 { // a decision whose attributes are another type's
			d["decisionType"] = types[(k+1)%14]
		}
		ds = append(ds, d)
	}
	body, _ := json.Marshal(map[string]any{"decisions": ds})
	return body
}
