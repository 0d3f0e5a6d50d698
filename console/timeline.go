package console

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/swfd/swfd/api"
)

// A timeline row: the decision tasks, one activity id (every attempt, since
// in SWF the decider schedules each retry), one timer, or one child.
type tlRow struct {
	Kind  string // decision, activity, timer, child, marks
	Label string
	Sub   string
	Bars  []*tlBar
	Marks []tlMark
}

// A bar is one task, timer or child: waiting (scheduled → started) apart
// from running (started → closed), coloured by how it ended.
type tlBar struct {
	From, Start, End time.Time // Start zero: never started
	Outcome          string    // completed, failed, timedout, canceled, open, fired, …
	Event            int64     // the event it leads to (scheduled / started)
	Title            string
}

// A mark is a moment: a signal, a marker, a cancel request.
type tlMark struct {
	At    time.Time
	Kind  string
	Event int64
	Title string
}

// maxRows bounds the rows a timeline draws.
const maxRows = 300

type timelineData struct {
	Domain  string
	Exec    api.WorkflowExecution
	SVG     template.HTML
	Rows    int
	Hidden  int
	Events  int
	Start   time.Time
	End     time.Time
	Open    bool
	Base    string
	Partial bool
}

func (h *Handler) timelinePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	domain, ex := h.execOf(r)
	events, partial, err := h.allEvents(ctx, domain, ex)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	base := execURL(domain, ex.WorkflowID, ex.RunID)
	rows, start, end, open := buildTimeline(events, h.now())
	d := &timelineData{Domain: domain, Exec: ex, Events: len(events), Start: start, End: end, Open: open, Base: base, Partial: partial}
	if len(rows) > maxRows {
		d.Hidden = len(rows) - maxRows
		rows = rows[:maxRows]
	}
	d.Rows = len(rows)
	d.SVG = drawTimeline(rows, start, end, base, domain)
	h.render(w, r, http.StatusOK, "timeline", &page{Title: "Timeline · " + ex.WorkflowID, Domain: domain, Tab: "executions", Data: d})
}

// allEvents reads a run's whole history (at most maxScan events).
func (h *Handler) allEvents(ctx context.Context, domain string, ex api.WorkflowExecution) ([]api.HistoryEvent, bool, error) {
	var all []api.HistoryEvent
	var after int64
	for len(all) < maxScan {
		evs, err := h.insp.History(ctx, domain, ex, after, false, 1000)
		if err != nil {
			return nil, false, err
		}
		for _, ev := range evs {
			full, err := ev.Full()
			if err != nil {
				return nil, false, err
			}
			all = append(all, full)
		}
		if len(evs) < 1000 {
			return all, false, nil
		}
		after = evs[len(evs)-1].EventID
	}
	return all, true, nil
}

// buildTimeline turns a history into rows. now ends what is still open.
func buildTimeline(events []api.HistoryEvent, now time.Time) (rows []*tlRow, start, end time.Time, open bool) {
	if len(events) == 0 {
		return nil, now, now, false
	}
	start, end, open = events[0].EventTimestamp.Time, now, true
	decisions := &tlRow{Kind: "decision", Label: "Decision tasks"}
	marks := &tlRow{Kind: "marks", Label: "Signals · markers"}
	byActivity := map[string]*tlRow{}
	var activityOrder []string
	timers := map[string]*tlRow{}
	var timerOrder []string
	children := map[int64]*tlRow{}
	var childOrder []int64
	openBar := map[int64]*tlBar{} // by scheduled/started/initiated id
	lastDecision := map[int64]*tlBar{}

	for _, ev := range events {
		t := ev.EventTimestamp.Time
		switch ev.EventType {
		case api.EventTypeWorkflowExecutionCompleted, api.EventTypeWorkflowExecutionFailed, api.EventTypeWorkflowExecutionTimedOut,
			api.EventTypeWorkflowExecutionCanceled, api.EventTypeWorkflowExecutionTerminated, api.EventTypeWorkflowExecutionContinuedAsNew:
			end, open = t, false
		case api.EventTypeDecisionTaskScheduled:
			b := &tlBar{From: t, Outcome: "open", Event: ev.EventID, Title: "decision task " + strconv.FormatInt(ev.EventID, 10)}
			decisions.Bars = append(decisions.Bars, b)
			lastDecision[ev.EventID] = b
		case api.EventTypeDecisionTaskStarted:
			if b := lastDecision[ev.DecisionTaskStartedEventAttributes.ScheduledEventID]; b != nil {
				b.Start = t
				b.Title += " started by " + api.Value(ev.DecisionTaskStartedEventAttributes.Identity)
			}
		case api.EventTypeDecisionTaskCompleted:
			if b := lastDecision[ev.DecisionTaskCompletedEventAttributes.ScheduledEventID]; b != nil {
				b.End, b.Outcome = t, "completed"
			}
		case api.EventTypeDecisionTaskTimedOut:
			if b := lastDecision[ev.DecisionTaskTimedOutEventAttributes.ScheduledEventID]; b != nil {
				b.End, b.Outcome = t, "timedout"
				b.Title += " timed out (" + string(ev.DecisionTaskTimedOutEventAttributes.TimeoutType) + ")"
			}
		case api.EventTypeActivityTaskScheduled:
			a := ev.ActivityTaskScheduledEventAttributes
			row := byActivity[a.ActivityID]
			if row == nil {
				row = &tlRow{Kind: "activity", Label: a.ActivityID, Sub: a.ActivityType.Name + " " + a.ActivityType.Version}
				byActivity[a.ActivityID] = row
				activityOrder = append(activityOrder, a.ActivityID)
			}
			b := &tlBar{From: t, Outcome: "open", Event: ev.EventID,
				Title: fmt.Sprintf("%s attempt %d on %s", a.ActivityID, len(row.Bars)+1, a.TaskList.Name)}
			row.Bars = append(row.Bars, b)
			openBar[ev.EventID] = b
		case api.EventTypeActivityTaskStarted:
			if b := openBar[ev.ActivityTaskStartedEventAttributes.ScheduledEventID]; b != nil {
				b.Start = t
				b.Title += ", worker " + api.Value(ev.ActivityTaskStartedEventAttributes.Identity)
			}
		case api.EventTypeActivityTaskCompleted:
			closeBar(openBar, ev.ActivityTaskCompletedEventAttributes.ScheduledEventID, t, "completed", "")
		case api.EventTypeActivityTaskFailed:
			closeBar(openBar, ev.ActivityTaskFailedEventAttributes.ScheduledEventID, t, "failed", api.Value(ev.ActivityTaskFailedEventAttributes.Reason))
		case api.EventTypeActivityTaskTimedOut:
			closeBar(openBar, ev.ActivityTaskTimedOutEventAttributes.ScheduledEventID, t, "timedout", string(ev.ActivityTaskTimedOutEventAttributes.TimeoutType))
		case api.EventTypeActivityTaskCanceled:
			closeBar(openBar, ev.ActivityTaskCanceledEventAttributes.ScheduledEventID, t, "canceled", "")
		case api.EventTypeTimerStarted:
			a := ev.TimerStartedEventAttributes
			row := timers[a.TimerID]
			if row == nil {
				row = &tlRow{Kind: "timer", Label: a.TimerID, Sub: "timer " + a.StartToFireTimeout + "s"}
				timers[a.TimerID] = row
				timerOrder = append(timerOrder, a.TimerID)
			}
			b := &tlBar{From: t, Start: t, Outcome: "open", Event: ev.EventID, Title: "timer " + a.TimerID + " (" + a.StartToFireTimeout + "s)"}
			row.Bars = append(row.Bars, b)
			openBar[ev.EventID] = b
		case api.EventTypeTimerFired:
			closeBar(openBar, ev.TimerFiredEventAttributes.StartedEventID, t, "fired", "")
		case api.EventTypeTimerCanceled:
			closeBar(openBar, ev.TimerCanceledEventAttributes.StartedEventID, t, "canceled", "")
		case api.EventTypeStartChildWorkflowExecutionInitiated:
			a := ev.StartChildWorkflowExecutionInitiatedEventAttributes
			row := &tlRow{Kind: "child", Label: a.WorkflowID, Sub: "child " + a.WorkflowType.Name + " " + a.WorkflowType.Version}
			children[ev.EventID] = row
			childOrder = append(childOrder, ev.EventID)
			b := &tlBar{From: t, Outcome: "open", Event: ev.EventID, Title: "child " + a.WorkflowID}
			row.Bars = append(row.Bars, b)
			openBar[ev.EventID] = b
		case api.EventTypeStartChildWorkflowExecutionFailed:
			closeBar(openBar, ev.StartChildWorkflowExecutionFailedEventAttributes.InitiatedEventID, t, "failed", string(ev.StartChildWorkflowExecutionFailedEventAttributes.Cause))
		case api.EventTypeChildWorkflowExecutionStarted:
			if b := openBar[ev.ChildWorkflowExecutionStartedEventAttributes.InitiatedEventID]; b != nil {
				b.Start = t
			}
		case api.EventTypeChildWorkflowExecutionCompleted:
			closeBar(openBar, ev.ChildWorkflowExecutionCompletedEventAttributes.InitiatedEventID, t, "completed", "")
		case api.EventTypeChildWorkflowExecutionFailed:
			closeBar(openBar, ev.ChildWorkflowExecutionFailedEventAttributes.InitiatedEventID, t, "failed", api.Value(ev.ChildWorkflowExecutionFailedEventAttributes.Reason))
		case api.EventTypeChildWorkflowExecutionTimedOut:
			closeBar(openBar, ev.ChildWorkflowExecutionTimedOutEventAttributes.InitiatedEventID, t, "timedout", "")
		case api.EventTypeChildWorkflowExecutionCanceled:
			closeBar(openBar, ev.ChildWorkflowExecutionCanceledEventAttributes.InitiatedEventID, t, "canceled", "")
		case api.EventTypeChildWorkflowExecutionTerminated:
			closeBar(openBar, ev.ChildWorkflowExecutionTerminatedEventAttributes.InitiatedEventID, t, "failed", "terminated")
		case api.EventTypeWorkflowExecutionSignaled:
			marks.Marks = append(marks.Marks, tlMark{At: t, Kind: "signal", Event: ev.EventID, Title: "signal " + ev.WorkflowExecutionSignaledEventAttributes.SignalName})
		case api.EventTypeMarkerRecorded:
			marks.Marks = append(marks.Marks, tlMark{At: t, Kind: "marker", Event: ev.EventID, Title: "marker " + ev.MarkerRecordedEventAttributes.MarkerName})
		case api.EventTypeWorkflowExecutionCancelRequested:
			marks.Marks = append(marks.Marks, tlMark{At: t, Kind: "cancel", Event: ev.EventID, Title: "cancel requested"})
		}
	}
	if len(decisions.Bars) > 0 {
		rows = append(rows, decisions)
	}
	if len(marks.Marks) > 0 {
		rows = append(rows, marks)
	}
	for _, id := range activityOrder {
		rows = append(rows, byActivity[id])
	}
	// Timers by when each first started, then by id (its numbers as
	// numbers: tick3 before tick107).
	sort.SliceStable(timerOrder, func(i, j int) bool {
		a, b := timers[timerOrder[i]].Bars[0].From, timers[timerOrder[j]].Bars[0].From
		if !a.Equal(b) {
			return a.Before(b)
		}
		return naturalLess(timerOrder[i], timerOrder[j])
	})
	for _, id := range timerOrder {
		rows = append(rows, timers[id])
	}
	for _, id := range childOrder {
		rows = append(rows, children[id])
	}
	if !end.After(start) {
		end = start.Add(time.Millisecond)
	}
	return rows, start, end, open
}

// naturalLess orders strings with their runs of digits compared as
// numbers: "t2" before "t10".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

// digits is how many ASCII digits s starts with.
func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

func closeBar(open map[int64]*tlBar, id int64, t time.Time, outcome, why string) {
	b := open[id]
	if b == nil {
		return
	}
	b.End, b.Outcome = t, outcome
	if why != "" {
		b.Title += ": " + why
	}
	delete(open, id)
}

// Timeline drawing: the label column, the chart's width, a row's height.
const (
	tlLabel  = 230
	tlWidth  = 760
	tlRowH   = 22
	tlAxisH  = 26
	tlMargin = 8
)

// drawTimeline draws rows as an SVG: bars link to their events.
func drawTimeline(rows []*tlRow, start, end time.Time, base, domain string) template.HTML {
	total := end.Sub(start)
	x := func(t time.Time) float64 {
		if t.IsZero() || t.After(end) {
			t = end
		}
		return tlLabel + float64(t.Sub(start))/float64(total)*tlWidth
	}
	height := tlAxisH + len(rows)*tlRowH + tlMargin
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="timeline" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="Timeline of the execution">`,
		tlLabel+tlWidth+tlMargin, height)
	// The axis: five ticks.
	for i := 0; i <= 4; i++ {
		tx := tlLabel + float64(i)*tlWidth/4
		at := time.Duration(float64(total) * float64(i) / 4)
		anchor := "middle"
		if i == 4 {
			anchor = "end"
		} else if i == 0 {
			anchor = "start"
		}
		fmt.Fprintf(&b, `<line class="tick" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, tx, tlAxisH-6, tx, height)
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="%s">%s</text>`, tx, tlAxisH-10, anchor, template.HTMLEscapeString(tickDur(at, total)))
	}
	fmt.Fprintf(&b, `<defs><clipPath id="tl-labels"><rect x="0" y="0" width="%d" height="%d"/></clipPath></defs>`, tlLabel-6, height)
	for i, row := range rows {
		y := tlAxisH + i*tlRowH
		fmt.Fprintf(&b, `<g class="row row-%s">`, row.Kind)
		if i%2 == 1 {
			fmt.Fprintf(&b, `<rect class="stripe" x="0" y="%d" width="%d" height="%d"/>`, y, tlLabel+tlWidth+tlMargin, tlRowH)
		}
		// The label is cut to a number of characters as they are shown
		// (an invisible one as its escape), and clipped to its column, so
		// that wide characters do not run under the bars.
		label := fmt.Sprintf(`<text class="label" x="4" y="%d" clip-path="url(#tl-labels)"><title>%s</title>%s<tspan class="sub"> %s</tspan></text>`, y+15,
			template.HTMLEscapeString(row.Label+" "+row.Sub), template.HTMLEscapeString(truncShown(24, row.Label)), template.HTMLEscapeString(truncShown(16, row.Sub)))
		if row.Kind == "child" {
			// A child's label leads to the child execution.
			label = `<a class="child" href="` + template.HTMLEscapeString(wfURL(domain, row.Label)) + `">` + label + `</a>`
		}
		b.WriteString(label)
		for _, bar := range row.Bars {
			link := base + "?at=" + strconv.FormatInt(bar.Event, 10) + "#e" + strconv.FormatInt(bar.Event, 10)
			x0 := x(bar.From)
			fmt.Fprintf(&b, `<a href="%s"><title>%s</title>`, template.HTMLEscapeString(link), template.HTMLEscapeString(bar.Title+" · "+bar.Outcome))
			if bar.Start.IsZero() {
				// Never started: all wait.
				fmt.Fprintf(&b, `<rect class="wait o-%s" x="%.1f" y="%d" width="%.1f" height="%d"/>`, bar.Outcome, x0, y+6, max(x(bar.End)-x0, 1.5), tlRowH-12)
			} else {
				xs := x(bar.Start)
				if xs > x0 {
					fmt.Fprintf(&b, `<rect class="wait o-%s" x="%.1f" y="%d" width="%.1f" height="%d"/>`, bar.Outcome, x0, y+6, xs-x0, tlRowH-12)
				}
				fmt.Fprintf(&b, `<rect class="run o-%s" x="%.1f" y="%d" width="%.1f" height="%d"/>`, bar.Outcome, xs, y+3, max(x(bar.End)-xs, 1.5), tlRowH-6)
			}
			b.WriteString(`</a>`)
		}
		for _, m := range row.Marks {
			link := base + "?at=" + strconv.FormatInt(m.Event, 10) + "#e" + strconv.FormatInt(m.Event, 10)
			mx := x(m.At)
			fmt.Fprintf(&b, `<a href="%s"><title>%s</title><path class="mark m-%s" d="M%.1f %d l5 7 l-5 7 l-5 -7 z"/></a>`,
				template.HTMLEscapeString(link), template.HTMLEscapeString(m.Title+" at "+fmtTime(m.At)), m.Kind, mx, y+4)
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// truncShown is s cut to n characters as a page shows them (each
// invisible character as its escape), with "…" if it was cut.
func truncShown(n int, s string) string {
	r := []rune(revealText(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// tickDur is the time of a tick of an axis total long: as durations are
// shown elsewhere, but in fractions of a millisecond (to the microsecond)
// on an axis shorter than 10 ms, whose ticks whole milliseconds would not
// tell apart.
func tickDur(at, total time.Duration) string {
	if total >= 10*time.Millisecond || at <= 0 {
		return shortDur(at)
	}
	ms := float64(at.Round(time.Microsecond)) / float64(time.Millisecond)
	return strconv.FormatFloat(ms, 'f', -1, 64) + "ms"
}
