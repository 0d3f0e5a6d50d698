package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/swfd/swfd/api"
)

var decisionsBody = []byte(`{"taskToken":"` + strings.Repeat("A", 120) + `","decisions":[` +
	`{"decisionType":"ScheduleActivityTask","scheduleActivityTaskDecisionAttributes":{"activityType":{"name":"charge","version":"1"},"activityId":"a1","input":"{\"amount\":42}","taskList":{"name":"workers"}}},` +
	`{"decisionType":"StartTimer","startTimerDecisionAttributes":{"timerId":"t1","startToFireTimeout":"30"}},` +
	`{"decisionType":"RecordMarker","recordMarkerDecisionAttributes":{"markerName":"m","details":"x"}}],"executionContext":"ctx"}`)

// BenchmarkDecodeRespondDecisionTaskCompleted validates and decodes a
// typical decision batch, as the frontend does for every call.
func BenchmarkDecodeRespondDecisionTaskCompleted(b *testing.B) {
	op := api.Operations["RespondDecisionTaskCompleted"]
	b.ReportAllocs()
	b.SetBytes(int64(len(decisionsBody)))
	for i := 0; i < b.N; i++ {
		if _, err := op.Decode(decisionsBody); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeDecisionTask encodes a decision task of 100 events.
func BenchmarkEncodeDecisionTask(b *testing.B) {
	t := &api.DecisionTask{TaskToken: strings.Repeat("A", 120), StartedEventID: 100, WorkflowExecution: api.WorkflowExecution{WorkflowID: "w", RunID: "r"}, WorkflowType: api.WorkflowType{Name: "n", Version: "1"}}
	for i := int64(1); i <= 100; i++ {
		t.Events = append(t.Events, api.HistoryEvent{EventID: i, EventType: api.EventTypeActivityTaskCompleted,
			ActivityTaskCompletedEventAttributes: &api.ActivityTaskCompletedEventAttributes{Result: api.String("done"), ScheduledEventID: i - 2, StartedEventID: i - 1}})
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := json.Marshal(t); err != nil {
			b.Fatal(err)
		}
	}
}
