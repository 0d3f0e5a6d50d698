package history

import (
	"reflect"
	"slices"
	"testing"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
)

// TestAppendIsThen: appending steps' Results one by one to a Result gives
// what then gives for the same steps, and then leaves the Results it joins
// as they were (Append extends its own in place).
func TestAppendIsThen(t *testing.T) {
	ev := func(id int64) api.HistoryEvent {
		return api.HistoryEvent{EventID: id, EventType: api.EventTypeWorkflowExecutionSignaled}
	}
	details := func(s string) *string { return &s }
	steps := []Result{
		{Events: []api.HistoryEvent{ev(5)}, AddTasks: []swfd.Task{{ScheduledEventID: 6}}, AddTimers: []swfd.Timer{{Key: "a"}, {Key: "b"}},
			Heartbeats: []swfd.Heartbeat{{ScheduledEventID: 3, Details: details("x")}}},
		{},
		{Events: []api.HistoryEvent{ev(7), ev(8)}, DeleteTimers: []string{"a"}, AddTimers: []swfd.Timer{{Key: "a"}, {Key: "c"}},
			DoneTasks: []int64{6}, Heartbeats: []swfd.Heartbeat{{ScheduledEventID: 3, Details: details("y")}, {ScheduledEventID: 4}},
			Messages: []Message{{RunID: "r"}}},
		{Events: []api.HistoryEvent{ev(9)}, DeleteTimers: []string{"c", "a"}},
		{Events: []api.HistoryEvent{ev(10)}, Refused: api.ErrUnknownResource("full")},
		{Events: []api.HistoryEvent{ev(11)}, Messages: []Message{{RunID: "s"}}},
	}
	for k := 1; k <= len(steps); k++ {
		before := deepCopy(t, steps[:k])
		var want Result
		for _, s := range steps[:k] {
			want = want.then(s)
		}
		if !reflect.DeepEqual(deepCopy(t, steps[:k]), before) {
			t.Fatalf("then changed the Results it joined")
		}
		var got Result
		for _, s := range deepCopy(t, steps[:k]) {
			got.Append(s)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%d steps: Append gives\n%+v\nthen gives\n%+v", k, got, want)
		}
	}
	// A task one step listed and a later one took off is neither listed
	// nor taken off: the store applies an update's removals of tasks
	// before its additions, so listed it would stay on its list.
	var thenAll, appended Result
	for _, s := range deepCopy(t, steps) {
		thenAll = thenAll.then(s)
	}
	for _, s := range deepCopy(t, steps) {
		appended.Append(s)
	}
	for _, r := range []Result{thenAll, appended} {
		if slices.ContainsFunc(r.AddTasks, func(tk swfd.Task) bool { return tk.ScheduledEventID == 6 }) || slices.Contains(r.DoneTasks, 6) {
			t.Fatalf("task 6, listed then taken off: tasks %+v, done %v", r.AddTasks, r.DoneTasks)
		}
	}
	// A step that closes the run drops what the steps before it added.
	closing := Result{Events: []api.HistoryEvent{ev(12)}, Closed: true}
	var got Result
	for _, s := range append(deepCopy(t, steps), closing) {
		got.Append(s)
	}
	if !got.Closed || got.AddTasks != nil || got.AddTimers != nil || got.Heartbeats != nil || len(got.Events) != 7 {
		t.Fatalf("after a closing step: closed %v, %d events, tasks %v, timers %v, heartbeats %v", got.Closed, len(got.Events), got.AddTasks, got.AddTimers, got.Heartbeats)
	}
}

// deepCopy copies Results so that no slice is shared with the originals.
func deepCopy(t *testing.T, rs []Result) []Result {
	t.Helper()
	out := make([]Result, len(rs))
	for i, r := range rs {
		c := r
		c.Events = append([]api.HistoryEvent(nil), r.Events...)
		c.AddTasks = append([]swfd.Task(nil), r.AddTasks...)
		c.DoneTasks = append([]int64(nil), r.DoneTasks...)
		c.AddTimers = append([]swfd.Timer(nil), r.AddTimers...)
		c.DeleteTimers = append([]string(nil), r.DeleteTimers...)
		c.Messages = append([]Message(nil), r.Messages...)
		c.Heartbeats = append([]swfd.Heartbeat(nil), r.Heartbeats...)
		out[i] = c
	}
	return out
}
