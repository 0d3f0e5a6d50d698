package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swfd/swfd/api"
)

var epoch = time.Unix(0, 0).UTC()

// filter is an executions view as its URL carries it, so that a view can
// be shared and bookmarked.
type filter struct {
	Closed      bool   // closed executions, else open
	WorkflowID  string // wid
	TypeName    string // type
	TypeVersion string // version
	Tag         string // tag
	CloseStatus string // status (closed only)
	From, To    string // time range, as typed
	ByClose     bool   // the range is on close time (closed only)
	Oldest      bool   // oldest first
	Page        string // the API's page token
	// Back is the page tokens of the pages before this one, oldest first
	// (the first page has none), so that the page can link to the one
	// before it: the API's tokens only lead forward. At most maxBack are
	// kept; Lost says that earlier ones were dropped.
	Back []string
	Lost bool
	Size int
	bad  error // a parameter with a value no view has
}

// pageSizes are the page sizes offered; the default is the first.
var pageSizes = []int{50, 100, 200, 500, 1000}

func parseFilter(q url.Values) filter {
	f := filter{
		Closed:     q.Get("status") == "closed",
		WorkflowID: strings.TrimSpace(q.Get("wid")), TypeName: strings.TrimSpace(q.Get("type")), TypeVersion: strings.TrimSpace(q.Get("version")),
		Tag: q.Get("tag"), CloseStatus: q.Get("close"), From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to")),
		ByClose: q.Get("by") == "close", Oldest: q.Get("order") == "oldest", Page: q.Get("page"), Size: pageSizes[0],
		Back: q["back"], Lost: q.Get("lost") == "1",
	}
	if n := len(f.Back); n > maxBack {
		f.Back, f.Lost = f.Back[n-maxBack:], true
	}
	// The zero time as the end of the range (0001-01-01, as a tool writes a
	// time it was not given) is the API's "no latest date": no bound. It is
	// kept as none, so that the field, the count's words and the command
	// line (where swf would read it as a date) say so, not a date.
	if t, ok := absoluteWhen(f.To); ok && t.IsZero() {
		f.To = ""
	}
	if n, err := strconv.Atoi(q.Get("size")); err == nil {
		for _, s := range pageSizes {
			if n == s {
				f.Size = n
			}
		}
	}
	// A value the page's form never sends (a URL edited or cut short) is
	// the page's fault, not silently another view: ?status=Closed must not
	// show the open executions as if they were what was asked for.
	sizes := make([]string, len(pageSizes))
	for i, n := range pageSizes {
		sizes[i] = strconv.Itoa(n)
	}
	for _, p := range []struct {
		key     string
		allowed []string
	}{
		{"status", []string{"open", "closed"}},
		{"order", []string{"newest", "oldest"}},
		{"by", []string{"start", "close"}},
		{"size", sizes},
		{"lost", []string{"1"}},
	} {
		if f.bad == nil {
			f.bad = oneOf(q, p.key, p.allowed...)
		}
	}
	return f
}

// oneOf checks that a query parameter, if given, is one of the values
// allowed.
func oneOf(q url.Values, key string, allowed ...string) error {
	v := q.Get(key)
	if v == "" || slices.Contains(allowed, v) {
		return nil
	}
	return api.ErrValidation("%s: '%s' is not one of %s.", key, trunc(40, v), strings.Join(allowed, ", "))
}

// maxBack is how many earlier pages' tokens a list's URL carries.
const maxBack = 100

// pageURL is the URL of one page of the filter's list: the page of token
// (the first page if "") with back as the tokens of the pages before it.
func (f filter) pageURL(base, token string, back []string, lost bool) string {
	v := f.values()
	if token != "" {
		if n := len(back); n > maxBack {
			back, lost = back[n-maxBack:], true
		}
		for _, b := range back {
			v.Add("back", b)
		}
		if lost {
			v.Set("lost", "1")
		}
		v.Set("page", token)
	}
	return base + v.Encode()
}

// values is the filter as a query string (without the page tokens).
func (f filter) values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	if f.Closed {
		v.Set("status", "closed")
	}
	set("wid", f.WorkflowID)
	set("type", f.TypeName)
	set("version", f.TypeVersion)
	set("tag", f.Tag)
	if f.Closed {
		set("close", f.CloseStatus)
		if f.ByClose {
			v.Set("by", "close")
		}
	}
	set("from", f.From)
	set("to", f.To)
	if f.Oldest {
		v.Set("order", "oldest")
	}
	if f.Size != pageSizes[0] {
		v.Set("size", strconv.Itoa(f.Size))
	}
	return v
}

// Narrowed reports whether the filter leaves executions out: a workflow
// id, type, tag, close status or time range (not the status, order or page
// size, which only choose and arrange the list).
func (f filter) Narrowed() bool {
	return f.WorkflowID != "" || f.TypeName != "" || f.TypeVersion != "" || f.Tag != "" || (f.Closed && f.CloseStatus != "") || f.From != "" || f.To != ""
}

// timeFilter turns the typed range into the API's filter.
func (f filter) timeFilter(now time.Time) (api.ExecutionTimeFilter, error) {
	tf := api.ExecutionTimeFilter{OldestDate: api.Time{Time: epoch}}
	if f.From != "" {
		t, err := parseWhen(f.From, now)
		if err != nil {
			return tf, api.ErrValidation("From: %v", err)
		}
		tf.OldestDate = api.Time{Time: t}
	}
	if f.To != "" {
		t, err := parseWhen(f.To, now)
		if err != nil {
			return tf, api.ErrValidation("To: %v", err)
		}
		tf.LatestDate = api.Time{Time: t}
	}
	return tf, nil
}

// parseWhen reads a time as typed: a date, a date and time (UTC unless a
// zone is given), epoch seconds, "now", or a duration before now ("90m",
// "24h", "7d").
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, ok := absoluteWhen(s); ok {
		return t, nil
	}
	if t, ok := agoWhen(s, now); ok {
		return t, nil
	}
	return time.Time{}, errBadTime(s)
}

// absoluteWhen reads a time that does not depend on now.
func absoluteWhen(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n < 1e11 {
		return time.Unix(n, 0).UTC(), true
	}
	return time.Time{}, false
}

// agoWhen reads a time given from now: "now", or a duration before it.
func agoWhen(s string, now time.Time) (time.Time, bool) {
	if s == "now" {
		return now, true
	}
	if strings.HasSuffix(s, "d") {
		if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && n >= 0 && n < 100000 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), true
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), true
	}
	return time.Time{}, false
}

// pinned is the filter with each time given from now ("24h", "now")
// written as the time it stands for at now, to the second (the start of
// the window rounded down, its end up, so that the window holds what it
// held at now: "to=now" keeps what started this second). A list reads
// its pages, and a batch its executions, with the pinned filter: the next
// page continues the same window however long after the first it is asked
// for (the API refuses a page token whose filter has changed), a batch acts
// on the window it showed for confirmation, and the command line shows a
// time the swf command reads.
func (f filter) pinned(now time.Time) filter {
	pin := func(s string, up bool) string {
		if _, ok := absoluteWhen(s); ok || s == "" {
			return s
		}
		t, ok := agoWhen(s, now)
		if !ok {
			return s // not a time: the query says so
		}
		r := t.Truncate(time.Second)
		if up && !r.Equal(t) {
			r = r.Add(time.Second)
		}
		return r.UTC().Format(time.RFC3339)
	}
	f.From, f.To = pin(f.From, false), pin(f.To, true)
	return f
}

type errBadTime string

func (e errBadTime) Error() string {
	return "'" + trunc(40, string(e)) + "' is not a time: use 2026-01-31, 2026-01-31T15:04, epoch seconds, or how long ago (90m, 24h, 7d)"
}

// query builds the API's list and count inputs of a filter.
type visQuery struct {
	open       *api.ListOpenWorkflowExecutionsInput
	closed     *api.ListClosedWorkflowExecutionsInput
	countOpen  *api.CountOpenWorkflowExecutionsInput
	countClose *api.CountClosedWorkflowExecutionsInput
}

func (f filter) query(domain string, now time.Time) (visQuery, error) {
	if f.bad != nil {
		return visQuery{}, f.bad
	}
	tf, err := f.timeFilter(now)
	if err != nil {
		return visQuery{}, err
	}
	var ex *api.WorkflowExecutionFilter
	var typ *api.WorkflowTypeFilter
	var tag *api.TagFilter
	if f.WorkflowID != "" {
		ex = &api.WorkflowExecutionFilter{WorkflowID: f.WorkflowID}
	}
	if f.TypeName != "" {
		typ = &api.WorkflowTypeFilter{Name: f.TypeName, Version: f.TypeVersion}
	} else if f.TypeVersion != "" {
		return visQuery{}, api.ErrValidation("A type version needs a type name.")
	}
	if f.Tag != "" {
		tag = &api.TagFilter{Tag: f.Tag}
	}
	if !f.Closed {
		return visQuery{
			open: &api.ListOpenWorkflowExecutionsInput{Domain: domain, StartTimeFilter: tf, ExecutionFilter: ex, TypeFilter: typ, TagFilter: tag,
				MaximumPageSize: f.Size, NextPageToken: f.Page, ReverseOrder: f.Oldest},
			countOpen: &api.CountOpenWorkflowExecutionsInput{Domain: domain, StartTimeFilter: tf, ExecutionFilter: ex, TypeFilter: typ, TagFilter: tag},
		}, nil
	}
	var cs *api.CloseStatusFilter
	if f.CloseStatus != "" {
		cs = &api.CloseStatusFilter{Status: api.CloseStatus(f.CloseStatus)}
	}
	l := &api.ListClosedWorkflowExecutionsInput{Domain: domain, ExecutionFilter: ex, TypeFilter: typ, TagFilter: tag, CloseStatusFilter: cs,
		MaximumPageSize: f.Size, NextPageToken: f.Page, ReverseOrder: f.Oldest}
	c := &api.CountClosedWorkflowExecutionsInput{Domain: domain, ExecutionFilter: ex, TypeFilter: typ, TagFilter: tag, CloseStatusFilter: cs}
	if f.ByClose {
		l.CloseTimeFilter, c.CloseTimeFilter = &tf, &tf
	} else {
		l.StartTimeFilter, c.StartTimeFilter = &tf, &tf
	}
	return visQuery{closed: l, countClose: c}, nil
}

// list runs a filter's list query.
func (h *Handler) list(ctx context.Context, q visQuery) (*api.WorkflowExecutionInfos, error) {
	if q.open != nil {
		return do[api.WorkflowExecutionInfos](ctx, h, "ListOpenWorkflowExecutions", q.open)
	}
	return do[api.WorkflowExecutionInfos](ctx, h, "ListClosedWorkflowExecutions", q.closed)
}

func (h *Handler) count(ctx context.Context, q visQuery) (*api.WorkflowExecutionCount, error) {
	if q.countOpen != nil {
		return do[api.WorkflowExecutionCount](ctx, h, "CountOpenWorkflowExecutions", q.countOpen)
	}
	return do[api.WorkflowExecutionCount](ctx, h, "CountClosedWorkflowExecutions", q.countClose)
}

type executionsData struct {
	F         filter
	Query     url.Values // the filter, for links
	Rows      []api.WorkflowExecutionInfo
	Count     *api.WorkflowExecutionCount
	Next      string // the next page's URL
	Prev      string // the previous page's URL, when not on the first and it is known
	First     string // the first page's URL, when not on it
	Now       time.Time
	Fault     *api.Fault // the query's fault, shown above an empty table
	Statuses  []string
	Sizes     []int
	Batch     map[string]*cliLine
	ListCLI   *cliLine
	OpenURL   string
	ClosedURL string
	// Since is where the domain's lists stood before the rows were read
	// (Hub.listMark): the page's live stream starts from it, so that a
	// run that started or closed in between is not missed. Upto is where
	// they stood once the rows and count were read: a live row whose
	// position is at or before Since is in them already, one up to Upto
	// may be, and one after Upto is not, unless its commit was read in
	// the moment before it was counted (Hub.listMark).
	Since, Upto string
}

func (h *Handler) executionsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	domain := r.PathValue("domain")
	f := parseFilter(r.URL.Query())
	now := h.now()
	d := &executionsData{F: f, Query: f.values(), Now: now, Statuses: api.CloseStatusValues, Sizes: pageSizes}
	if h.cfg.Hub != nil {
		d.Since = h.cfg.Hub.listMark(domain)
	}
	base := domURL(domain) + "executions?"
	openF, closedF := f, f
	openF.Closed, closedF.Closed, openF.Page, closedF.Page = false, true, "", ""
	d.OpenURL, d.ClosedURL = base+openF.values().Encode(), base+closedF.values().Encode()
	pf := f.pinned(now)
	q, err := pf.query(domain, now)
	if err == nil {
		var out *api.WorkflowExecutionInfos
		if out, err = h.list(ctx, q); err == nil {
			d.Rows = out.ExecutionInfos
			if out.NextPageToken != "" {
				back := pf.Back
				if pf.Page != "" {
					back = append(slices.Clone(back), pf.Page)
				}
				d.Next = pf.pageURL(base, out.NextPageToken, back, pf.Lost)
			}
			if f.Page != "" {
				d.First = pf.pageURL(base, "", nil, false)
				if n := len(pf.Back); n > 0 {
					d.Prev = pf.pageURL(base, pf.Back[n-1], pf.Back[:n-1], pf.Lost)
				} else if !pf.Lost {
					d.Prev = d.First
				}
			}
			if c, err := h.count(ctx, q); err == nil {
				d.Count = c
			}
		}
	}
	if h.cfg.Hub != nil {
		d.Upto = h.cfg.Hub.listMark(domain)
	}
	if err != nil {
		d.Fault = h.faultOf(ctx, err)
		if d.Fault.Code == api.OperationNotPermittedFault || d.Fault.Code == api.UnknownResourceFault {
			h.fail(w, r, err)
			return
		}
	}
	d.ListCLI = listCLI(domain, pf)
	d.Batch = batchCLIs(domain, pf)
	h.render(w, r, http.StatusOK, "executions", &page{Title: "Executions · " + domain, Domain: domain, Tab: "executions", Data: d, Message: h.message(r)})
}

// listCLI is the swf line that lists what a filter shows.
func listCLI(domain string, f filter) *cliLine {
	c := cli("list-open-workflow-executions")
	if f.Closed {
		c = cli("list-closed-workflow-executions")
	}
	c.add("--domain", domain)
	timeFlag := "--start-time-filter"
	if f.Closed && f.ByClose {
		timeFlag = "--close-time-filter"
	}
	c.add(timeFlag, structArg("oldestDate", firstNonEmpty(f.From, "0"), "latestDate", f.To))
	c.add("--execution-filter", structArg("workflowId", f.WorkflowID))
	if f.TypeName != "" {
		c.add("--type-filter", structArg("name", f.TypeName, "version", f.TypeVersion))
	}
	c.add("--tag-filter", structArg("tag", f.Tag))
	if f.Closed {
		c.add("--close-status-filter", structArg("status", f.CloseStatus))
	}
	if f.Oldest {
		c.Flags = append(c.Flags, cliFlag{Name: "--reverse-order", Raw: true})
	}
	return c
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// latestRun shows the open run of a workflow id, or its latest closed run,
// with the query it was asked with.
func (h *Handler) latestRun(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	domain, wid := r.PathValue("domain"), r.PathValue("wid")
	tf := api.ExecutionTimeFilter{OldestDate: api.Time{Time: epoch}}
	ex := &api.WorkflowExecutionFilter{WorkflowID: wid}
	open, err := do[api.WorkflowExecutionInfos](ctx, h, "ListOpenWorkflowExecutions", &api.ListOpenWorkflowExecutionsInput{Domain: domain, StartTimeFilter: tf, ExecutionFilter: ex, MaximumPageSize: 1})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	infos := open.ExecutionInfos
	if len(infos) == 0 {
		closed, err := do[api.WorkflowExecutionInfos](ctx, h, "ListClosedWorkflowExecutions", &api.ListClosedWorkflowExecutionsInput{Domain: domain, StartTimeFilter: &tf, ExecutionFilter: ex, MaximumPageSize: 1})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		infos = closed.ExecutionInfos
	}
	if len(infos) == 0 {
		h.fail(w, r, api.ErrUnknownResource("Unknown execution, workflowId = %s", wid))
		return
	}
	// The query (a history filter, an event to jump to) is the run's page's
	// as much as the workflow id's: a bookmark of the latest run keeps it.
	to := execURL(domain, wid, infos[0].Execution.RunID)
	if r.URL.RawQuery != "" {
		to += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// goDomain opens a domain by name (for a key that may not list domains).
func (h *Handler) goDomain(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.URL.Query().Get("name"))
	if name == "" {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	if wid := strings.TrimSpace(r.URL.Query().Get("wid")); wid != "" {
		http.Redirect(w, r, wfURL(name, wid), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, domURL(name)+"executions", http.StatusSeeOther)
}
