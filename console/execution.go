package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/inspect"
)

// historyPage is how many events one screen of history shows.
const historyPage = 50

// maxScan bounds the events one filtered history request reads: a whole
// history of SWF's largest size.
const maxScan = 25000

type execData struct {
	Domain   string
	Exec     api.WorkflowExecution
	Detail   *api.WorkflowExecutionDetail
	Start    *api.WorkflowExecutionStartedEventAttributes
	Close    *closeInfo
	Events   *eventsData
	CLI      map[string]*cliLine
	Now      time.Time
	Duration string
	Live     bool
}

// closeInfo is how a run closed, from its last event.
type closeInfo struct {
	Event  api.HistoryEvent
	Attrs  []kv
	NextID string // the new run of a continue-as-new
}

// eventsData is a screen of history and how to get the next.
type eventsData struct {
	Domain string
	Exec   api.WorkflowExecution
	Rows   []eventRow
	More   string // URL of the next screen (fragment)
	// Earlier is the URL of the page whose screen holds the events before
	// this one's, for a screen oldest first that starts after the
	// history's first event (a jump, a screen paged to): the screen before
	// it, oldest first; or, filtered, the matches before it, newest first
	// (how many events lie between matches is not known).
	Earlier string
	// Newer is the URL of the page whose screen holds the events after
	// this one's, for a screen newest first that ends before the
	// history's last event (a screen paged to): the screen after it,
	// newest first (the first screen, once it reaches the last event);
	// or, filtered, the matches after it, oldest first.
	Newer   string
	Base    string // the execution's URL
	Types   string // the type filter, as typed
	Text    string
	At      int64
	Asc     bool
	Scanned int
	Filter  bool
	Paged   bool  // from a cursor (before, after)
	Last    int64 // the newest event id shown
	// LiveAfter is the event id an open run's live updates start after:
	// the newest shown on the first screen, newest first; the run's newest
	// on any other view (a filter, a jump, oldest first), whose rows stop
	// earlier, so that the page counts only events that are new.
	LiveAfter int64
	All       []string
	atSeen    bool // the event jumped to was read
	// Reached is the event id a filtered scan has read to (back to, newest
	// first) when there is more to read: how far the filter has searched,
	// over every screen so far.
	Reached int64
}

func (h *Handler) execOf(r *http.Request) (string, api.WorkflowExecution) {
	return r.PathValue("domain"), api.WorkflowExecution{WorkflowID: r.PathValue("wid"), RunID: r.PathValue("rid")}
}

func (h *Handler) executionPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	domain, ex := h.execOf(r)
	det, err := do[api.WorkflowExecutionDetail](ctx, h, "DescribeWorkflowExecution", &api.DescribeWorkflowExecutionInput{Domain: domain, Execution: ex})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := &execData{Domain: domain, Exec: ex, Detail: det, Now: h.now(), Live: h.cfg.Hub != nil}
	// The run's first and last events: how it started and closed.
	first, err := do[api.History](ctx, h, "GetWorkflowExecutionHistory", &api.GetWorkflowExecutionHistoryInput{Domain: domain, Execution: ex, MaximumPageSize: 1})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(first.Events) > 0 {
		if full, err := first.Events[0].Full(); err == nil {
			d.Start = full.WorkflowExecutionStartedEventAttributes
		}
	}
	evs, err := h.events(ctx, domain, ex, r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Events = evs
	evs.LiveAfter = evs.Last
	if det.ExecutionInfo.ExecutionStatus == api.ExecutionStatusOpen && d.Live && !evs.Head() {
		newest, err := do[api.History](ctx, h, "GetWorkflowExecutionHistory", &api.GetWorkflowExecutionHistoryInput{Domain: domain, Execution: ex, MaximumPageSize: 1, ReverseOrder: true})
		if err == nil && len(newest.Events) > 0 {
			evs.LiveAfter = max(evs.LiveAfter, newest.Events[0].EventID)
		}
	}
	if det.ExecutionInfo.ExecutionStatus == api.ExecutionStatusClosed {
		last, err := do[api.History](ctx, h, "GetWorkflowExecutionHistory", &api.GetWorkflowExecutionHistoryInput{Domain: domain, Execution: ex, MaximumPageSize: 1, ReverseOrder: true})
		if err == nil && len(last.Events) > 0 {
			if full, err := last.Events[0].Full(); err == nil {
				ci := &closeInfo{Event: full, Attrs: eventAttrs(full)}
				if a := full.WorkflowExecutionContinuedAsNewEventAttributes; a != nil {
					ci.NextID = a.NewExecutionRunID
				}
				d.Close = ci
			}
		}
		d.Duration = between(det.ExecutionInfo.StartTimestamp, det.ExecutionInfo.CloseTimestamp)
	} else {
		d.Duration = between(det.ExecutionInfo.StartTimestamp, d.Now)
	}
	d.CLI = execCLIs(domain, ex, d.Start)
	title := ex.WorkflowID
	h.render(w, r, http.StatusOK, "execution", &page{Title: title + " · " + domain, Domain: domain, Tab: "executions", Data: d, Message: h.message(r)})
}

// execCLIs are the swf lines of an execution's actions.
func execCLIs(domain string, ex api.WorkflowExecution, start *api.WorkflowExecutionStartedEventAttributes) map[string]*cliLine {
	m := map[string]*cliLine{
		"describe":  cli("describe").add("--domain", domain).add("--workflow-id", ex.WorkflowID).add("--run-id", ex.RunID),
		"history":   cli("history").add("--domain", domain).add("--workflow-id", ex.WorkflowID).add("--run-id", ex.RunID),
		"signal":    cli("signal-workflow-execution").add("--domain", domain).add("--workflow-id", ex.WorkflowID).add("--run-id", ex.RunID).form("--signal-name", "NAME"),
		"cancel":    cli("request-cancel-workflow-execution").add("--domain", domain).add("--workflow-id", ex.WorkflowID).add("--run-id", ex.RunID),
		"terminate": cli("terminate-workflow-execution").add("--domain", domain).add("--workflow-id", ex.WorkflowID).add("--run-id", ex.RunID).fields(),
	}
	if start != nil {
		m["rerun"] = startCLI(domain, rerunInput(domain, ex.WorkflowID, start))
	}
	return m
}

// events reads one screen of a run's history as a request's query asks:
// newest first (or oldest first with order=asc), from a cursor event id
// (before/after), around an event (at), filtered by event types and text.
func (h *Handler) events(ctx context.Context, domain string, ex api.WorkflowExecution, q url.Values) (*eventsData, error) {
	d := &eventsData{Domain: domain, Exec: ex, Base: execURL(domain, ex.WorkflowID, ex.RunID), Types: strings.TrimSpace(q.Get("types")),
		Text: q.Get("q"), Asc: q.Get("order") == "asc", All: api.EventTypeValues}
	if err := oneOf(q, "order", "asc", "desc"); err != nil {
		return nil, err
	}
	types := map[string]bool{}
	for _, t := range strings.FieldsFunc(d.Types, func(r rune) bool { return r == ',' || r == ' ' }) {
		if !slices.Contains(api.EventTypeValues, t) {
			// A misspelt type would match nothing and look like a
			// history without such events.
			return nil, api.ErrValidation("Event types: '%s' is not an event type (such as ActivityTaskFailed).", trunc(60, t))
		}
		types[t] = true
	}
	needle := d.Text
	if utf8.RuneCountInString(needle) > 256 {
		return nil, api.ErrValidation("The text filter is longer than 256 characters.")
	}
	d.Filter = len(types) > 0 || needle != ""
	cursor := int64(0)
	if v := q.Get("at"); v != "" {
		at, err := strconv.ParseInt(v, 10, 64)
		if err != nil || at < 1 {
			return nil, api.ErrValidation("Event id %q is not a positive number.", trunc(20, v))
		}
		d.At, d.Asc, cursor = at, true, max(at-6, 0)
	}
	for _, k := range []string{"after", "before"} {
		if v := q.Get(k); v != "" {
			c, err := strconv.ParseInt(v, 10, 64)
			if err != nil || c < 0 {
				return nil, api.ErrValidation("%s must be an event id.", k)
			}
			cursor, d.Paged = c, true
		}
	}
	if !d.Filter && cursor == 0 && !d.Asc {
		// The first screen, newest first: one call, as any client makes it.
		out, err := do[api.History](ctx, h, "GetWorkflowExecutionHistory", &api.GetWorkflowExecutionHistoryInput{Domain: domain, Execution: ex, MaximumPageSize: historyPage, ReverseOrder: true})
		if err != nil {
			return nil, err
		}
		for _, ev := range out.Events {
			d.Rows = append(d.Rows, eventRow{Ev: ev, Domain: domain, Exec: ex})
		}
		if out.NextPageToken != "" && len(out.Events) > 0 {
			d.More = d.moreURL(out.Events[len(out.Events)-1].EventID)
		}
	} else if err := h.scan(ctx, d, types, needle, cursor); err != nil {
		return nil, err
	}
	if d.At > 0 && !d.atSeen {
		// The screen would be empty, or start past the end, as if the
		// history had no more events: say that the event is not there.
		return nil, api.ErrUnknownResource("Event %d is not in this run's history.", d.At)
	}
	for _, row := range d.Rows {
		d.Last = max(d.Last, row.Ev.EventID)
	}
	if d.Asc && cursor > 0 && len(d.Rows) > 0 && d.Rows[0].Ev.EventID > 1 {
		d.Earlier = d.earlierURL(d.Rows[0].Ev.EventID)
	}
	if !d.Asc && cursor > 0 {
		// A screen newest first from a cursor holds the events before it:
		// those from the cursor on are newer, if the history has them.
		newest, err := h.insp.History(ctx, domain, ex, 0, true, 1)
		if err != nil {
			return nil, err
		}
		if len(newest) > 0 && newest[0].EventID >= cursor {
			d.Newer = d.newerURL(cursor, newest[0].EventID)
		}
	}
	return d, nil
}

// newerURL is the page URL of the screen after a screen newest first of
// the events before cursor, in a history whose last event is newest.
func (d *eventsData) newerURL(cursor, newest int64) string {
	v := url.Values{}
	if d.Types != "" {
		v.Set("types", d.Types)
	}
	if d.Text != "" {
		v.Set("q", d.Text)
	}
	if d.Filter {
		v.Set("order", "asc")
		v.Set("after", strconv.FormatInt(cursor-1, 10))
	} else if before := cursor + historyPage; before <= newest {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	if len(v) == 0 {
		return d.Base + "#history"
	}
	return d.Base + "?" + v.Encode() + "#history"
}

// earlierURL is the page URL of the screen before a screen oldest first
// whose first event is first.
func (d *eventsData) earlierURL(first int64) string {
	v := url.Values{}
	if d.Types != "" {
		v.Set("types", d.Types)
	}
	if d.Text != "" {
		v.Set("q", d.Text)
	}
	if d.Filter {
		v.Set("before", strconv.FormatInt(first, 10))
	} else {
		v.Set("order", "asc")
		if after := first - 1 - historyPage; after > 0 {
			v.Set("after", strconv.FormatInt(after, 10))
		}
	}
	return d.Base + "?" + v.Encode() + "#history"
}

// scan reads events from cursor on, keeping those that match, until a
// screen is full, the history ends, or maxScan events were read.
func (h *Handler) scan(ctx context.Context, d *eventsData, types map[string]bool, needle string, cursor int64) error {
	reverse := !d.Asc
	for d.Scanned < maxScan {
		if reverse && cursor == 1 {
			return nil
		}
		evs, err := h.insp.History(ctx, d.Domain, d.Exec, cursor, reverse, 1000)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			d.Scanned++
			cursor = ev.EventID
			if ev.EventID == d.At {
				d.atSeen = true
			}
			if !matches(ev, types, needle) {
				continue
			}
			d.Rows = append(d.Rows, eventRow{Ev: ev, Domain: d.Domain, Exec: d.Exec, Mark: ev.EventID == d.At})
			if len(d.Rows) == historyPage {
				d.More, d.Reached = d.moreURL(cursor), cursor
				return nil
			}
		}
		if len(evs) < 1000 {
			return nil
		}
	}
	d.More, d.Reached = d.moreURL(cursor), cursor
	return nil
}

// Head reports whether d is the first screen, newest first: the view new
// events are added to as they come.
func (d *eventsData) Head() bool { return !d.Filter && d.At == 0 && !d.Asc && !d.Paged }

// moreURL is the fragment URL of the screen after cursor.
func (d *eventsData) moreURL(cursor int64) string {
	v := url.Values{}
	if d.Types != "" {
		v.Set("types", d.Types)
	}
	if d.Text != "" {
		v.Set("q", d.Text)
	}
	if d.Asc {
		v.Set("order", "asc")
		v.Set("after", strconv.FormatInt(cursor, 10))
	} else {
		v.Set("before", strconv.FormatInt(cursor, 10))
	}
	return d.Base + "/events?" + v.Encode()
}

// eventsFragment is a screen of history rows, for the page's script.
func (h *Handler) eventsFragment(w http.ResponseWriter, r *http.Request) {
	domain, ex := h.execOf(r)
	d, err := h.events(r.Context(), domain, ex, r.URL.Query())
	if err != nil {
		h.fail(w, r, err) // without the script, a page that says what went wrong
		return
	}
	if r.Header.Get("X-Console-Fragment") == "" {
		// Followed without the script: the whole page, at this screen.
		http.Redirect(w, r, d.Base+"?"+r.URL.RawQuery+"#history", http.StatusSeeOther)
		return
	}
	h.renderFragment(w, r, "eventRows", d)
}

type pendingData struct {
	Domain string
	Exec   api.WorkflowExecution
	P      *inspect.Pending
	Detail *api.WorkflowExecutionDetail
}

// pendingFragment is an execution's summary of pending work: the part of
// the execution's page its script loads, or, asked for without the
// script, a page of its own.
func (h *Handler) pendingFragment(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	domain, ex := h.execOf(r)
	p, err := h.insp.Pending(ctx, domain, ex)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := &pendingData{Domain: domain, Exec: ex, P: p}
	if r.Header.Get("X-Console-Fragment") == "" {
		// Followed without the script (the execution page's noscript
		// link): a page of its own.
		h.render(w, r, http.StatusOK, "pending", &page{Title: "Pending work · " + ex.WorkflowID + " · " + domain, Domain: domain, Tab: "executions", Data: d})
		return
	}
	h.renderFragment(w, r, "pending", d)
}

// historyJSON sends a run's whole history as the API's JSON, page by page.
func (h *Handler) historyJSON(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	domain, ex := h.execOf(r)
	in := &api.GetWorkflowExecutionHistoryInput{Domain: domain, Execution: ex}
	out, err := do[api.History](ctx, h, "GetWorkflowExecutionHistory", in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="history-`+safeFile(ex.WorkflowID)+`.json"`)
	w.Write([]byte("{\"events\": [\n"))
	n := 0
	for {
		for _, ev := range out.Events {
			if n > 0 {
				w.Write([]byte(",\n"))
			}
			b, _ := json.Marshal(ev)
			w.Write(b)
			n++
		}
		if out.NextPageToken == "" {
			break
		}
		in.NextPageToken = out.NextPageToken
		if out, err = do[api.History](ctx, h, "GetWorkflowExecutionHistory", in); err != nil {
			h.log.Warn("console: history download cut short", "err", err)
			return
		}
	}
	w.Write([]byte("\n]}\n"))
}

// safeFile keeps letters, digits and a few marks of a name, for a file name.
func safeFile(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return trunc(100, b.String())
}
