package console

import (
	"html"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/swfd/swfd/api"
)

// The timeline has a row per activity id with every attempt, per timer and
// per child; bars end as their tasks did, and lead to their events.
func TestBuildTimeline(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	id := int64(0)
	ev := func(sec int, typ api.EventType, set func(*api.HistoryEvent)) api.HistoryEvent {
		id++
		e := api.HistoryEvent{EventID: id, EventType: typ, EventTimestamp: api.NewTime(t0.Add(time.Duration(sec) * time.Second))}
		if set != nil {
			set(&e)
		}
		return e
	}
	sched := func(sec int) api.HistoryEvent {
		return ev(sec, api.EventTypeActivityTaskScheduled, func(e *api.HistoryEvent) {
			e.ActivityTaskScheduledEventAttributes = &api.ActivityTaskScheduledEventAttributes{ActivityID: "charge", ActivityType: api.ActivityType{Name: "charge-card", Version: "1"}}
		})
	}
	events := []api.HistoryEvent{
		ev(0, api.EventTypeWorkflowExecutionStarted, func(e *api.HistoryEvent) {
			e.WorkflowExecutionStartedEventAttributes = &api.WorkflowExecutionStartedEventAttributes{}
		}),
		sched(1), // 2
		ev(2, api.EventTypeActivityTaskStarted, func(e *api.HistoryEvent) {
			e.ActivityTaskStartedEventAttributes = &api.ActivityTaskStartedEventAttributes{ScheduledEventID: 2}
		}),
		ev(4, api.EventTypeActivityTaskFailed, func(e *api.HistoryEvent) {
			e.ActivityTaskFailedEventAttributes = &api.ActivityTaskFailedEventAttributes{ScheduledEventID: 2, Reason: api.String("declined")}
		}),
		sched(5), // 5
		ev(6, api.EventTypeStartChildWorkflowExecutionInitiated, func(e *api.HistoryEvent) {
			e.StartChildWorkflowExecutionInitiatedEventAttributes = &api.StartChildWorkflowExecutionInitiatedEventAttributes{WorkflowID: "child-1", WorkflowType: api.WorkflowType{Name: "c", Version: "1"}}
		}),
		ev(7, api.EventTypeChildWorkflowExecutionStarted, func(e *api.HistoryEvent) {
			e.ChildWorkflowExecutionStartedEventAttributes = &api.ChildWorkflowExecutionStartedEventAttributes{InitiatedEventID: 6}
		}),
		ev(9, api.EventTypeChildWorkflowExecutionCompleted, func(e *api.HistoryEvent) {
			e.ChildWorkflowExecutionCompletedEventAttributes = &api.ChildWorkflowExecutionCompletedEventAttributes{InitiatedEventID: 6}
		}),
		ev(10, api.EventTypeWorkflowExecutionSignaled, func(e *api.HistoryEvent) {
			e.WorkflowExecutionSignaledEventAttributes = &api.WorkflowExecutionSignaledEventAttributes{SignalName: "go"}
		}),
	}
	rows, start, end, open := buildTimeline(events, t0.Add(20*time.Second))
	if !open || !start.Equal(t0) || !end.Equal(t0.Add(20*time.Second)) {
		t.Errorf("span %v–%v open %v, want to now, open", start, end, open)
	}
	kinds := []string{}
	for _, r := range rows {
		kinds = append(kinds, r.Kind+":"+r.Label)
	}
	if got := strings.Join(kinds, " "); got != "marks:Signals · markers activity:charge child:child-1" {
		t.Fatalf("rows %s", got)
	}
	act := rows[1].Bars
	if len(act) != 2 || act[0].Outcome != "failed" || act[0].Start.IsZero() || act[1].Outcome != "open" || !act[1].Start.IsZero() {
		t.Errorf("charge attempts: %+v %+v, want a failed one and an open one not started", *act[0], *act[1])
	}
	if c := rows[2].Bars[0]; c.Outcome != "completed" || !c.End.Equal(t0.Add(9*time.Second)) {
		t.Errorf("child bar %+v", *c)
	}
	svg := string(drawTimeline(rows, start, end, "/console/d/d/w/w/r", "d"))
	for _, want := range []string{`class="run o-failed"`, `class="wait o-open"`, `href="/console/d/d/w/w/r?at=2#e2"`, `href="/console/d/d/w/child-1"`, `class="mark m-signal"`, "declined"} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %s", want)
		}
	}
}

// Timer rows come in the order the timers started, then by id with its
// numbers as numbers; not as text (tick1043 before tick107 before tick3).
func TestTimelineTimerOrder(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var events []api.HistoryEvent
	id := int64(0)
	add := func(sec int, timer string) {
		id++
		events = append(events, api.HistoryEvent{EventID: id, EventType: api.EventTypeTimerStarted, EventTimestamp: api.NewTime(t0.Add(time.Duration(sec) * time.Second)),
			TimerStartedEventAttributes: &api.TimerStartedEventAttributes{TimerID: timer, StartToFireTimeout: "60"}})
	}
	add(0, "tick3")
	add(1, "tick211")
	add(1, "tick107")
	add(2, "tick1043")
	add(2, "tick20")
	add(3, "alarm")
	add(4, "tick3") // started again: the row stays where it first was
	rows, _, _, _ := buildTimeline(events, t0.Add(time.Minute))
	var got []string
	for _, r := range rows {
		got = append(got, r.Label)
	}
	if s := strings.Join(got, " "); s != "tick3 tick107 tick211 tick20 tick1043 alarm" {
		t.Errorf("timer rows %s, want tick3 tick107 tick211 tick20 tick1043 alarm", s)
	}
	for _, c := range []struct {
		a, b string
		less bool
	}{{"t2", "t10", true}, {"t10", "t2", false}, {"t02", "t2", false}, {"a", "b", true}, {"a", "a1", true}, {"x9y", "x10a", true}, {"", "", false}} {
		if naturalLess(c.a, c.b) != c.less {
			t.Errorf("naturalLess(%q, %q) = %v", c.a, c.b, !c.less)
		}
	}
}

// A row's label stays in its column: it is cut to 24 characters as they
// are shown (an invisible character counts as its escape, a wide one as
// one), and clipped to the column, so that wide characters do not run
// under the bars.
func TestTimelineLabelsFit(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := []*tlRow{
		{Kind: "activity", Label: strings.Repeat("\u202E", 20) + "rtl-txt.exe", Sub: "type 1"},
		{Kind: "activity", Label: strings.Repeat("漢", 40), Sub: "type 1"},
	}
	svg := string(drawTimeline(rows, start, start.Add(time.Minute), "/console/d/d/w/w/r", "d"))
	for _, m := range regexp.MustCompile(`</title>([^<]*)<tspan`).FindAllStringSubmatch(svg, -1) {
		if n := utf8.RuneCountInString(revealText(html.UnescapeString(m[1]))); n > 24 {
			t.Errorf("label %q shows %d characters, want at most 24", m[1], n)
		}
	}
	if strings.Count(svg, `class="label" x="4"`) != strings.Count(svg, `clip-path="url(#tl-labels)"`) || !strings.Contains(svg, `<clipPath id="tl-labels"><rect x="0" y="0" width="224"`) {
		t.Errorf("labels are not clipped to their column:\n%s", svg)
	}
}

// The axis's five ticks each say a different time, however short the run:
// a run of a millisecond or two read "0ms 0ms 0ms 0ms 1ms".
func TestTimelineTicksDiffer(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, total := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 1234567 * time.Nanosecond, 6 * time.Millisecond,
		40 * time.Millisecond, 1200 * time.Millisecond, 90 * time.Second, 5 * time.Hour, 100 * time.Hour} {
		svg := string(drawTimeline(nil, start, start.Add(total), "/console/d/d/w/w/r", "d"))
		var ticks []string
		for _, m := range regexp.MustCompile(`<text class="axis"[^>]*>([^<]*)</text>`).FindAllStringSubmatch(svg, -1) {
			ticks = append(ticks, m[1])
		}
		seen := map[string]bool{}
		for _, tick := range ticks {
			if seen[tick] {
				t.Errorf("a run of %v: the ticks read %q", total, ticks)
				break
			}
			seen[tick] = true
		}
		if len(ticks) != 5 {
			t.Errorf("a run of %v: %d ticks", total, len(ticks))
		}
	}
}
