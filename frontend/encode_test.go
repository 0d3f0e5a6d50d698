package frontend

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// TestEncodeWithEvents checks that splicing stored event JSON into a
// history or decision task gives the same document as encoding it whole,
// for events with and without their stored form.
func TestEncodeWithEvents(t *testing.T) {
	ts := api.NewTime(time.UnixMilli(1_700_000_000_123))
	full := api.HistoryEvent{EventID: 2, EventType: "WorkflowExecutionSignaled", EventTimestamp: ts,
		WorkflowExecutionSignaledEventAttributes: &api.WorkflowExecutionSignaledEventAttributes{SignalName: "<s&>", Input: api.String("x\"y")}}
	raw, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	stored := api.HistoryEvent{EventID: 2, EventType: full.EventType, EventTimestamp: ts, Raw: raw}
	plain := api.HistoryEvent{EventID: 3, EventType: "MarkerRecorded", EventTimestamp: ts,
		MarkerRecordedEventAttributes: &api.MarkerRecordedEventAttributes{MarkerName: "m", DecisionTaskCompletedEventID: 1}}
	outs := []any{
		&api.History{Events: []api.HistoryEvent{stored, plain}, NextPageToken: "tok"},
		&api.History{Events: []api.HistoryEvent{}},
		&api.DecisionTask{TaskToken: "t", StartedEventID: 3, Events: []api.HistoryEvent{plain, stored},
			WorkflowExecution: api.WorkflowExecution{WorkflowID: "w", RunID: "r"}, WorkflowType: api.WorkflowType{Name: "n", Version: "1"}},
	}
	for _, out := range outs {
		got, err := encode(out)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%T: invalid JSON %s: %v", out, got, err)
		}
		json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%T:\n got %s\nwant %s", out, got, want)
		}
	}
	// No events at all: an empty list, never null.
	if got, err := encode(&api.History{}); err != nil || string(got) != `{"events":[]}` {
		t.Errorf("empty history: %s %v", got, err)
	}
	// The caller's value is left as it was.
	h := outs[0].(*api.History)
	if len(h.Events) != 2 || h.Events[0].EventID != 2 {
		t.Errorf("events changed: %+v", h.Events)
	}
}
