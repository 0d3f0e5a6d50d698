package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// The commands aws swf does not have: history, executions, describe.
// They share the global options and print readable tables; with
// --output json they print the underlying data instead.

var extraSpecs = map[string]map[string]argKind{
	"history":    {"domain": kindValue, "workflow-id": kindValue, "run-id": kindValue, "follow": kindBool, "interval": kindValue, "reverse-order": kindBool},
	"executions": {"domain": kindValue, "closed": kindBool, "workflow-id": kindValue, "workflow-type": kindValue, "tag": kindValue, "status": kindValue, "since": kindValue, "until": kindValue},
	"describe":   {"domain": kindValue, "workflow-id": kindValue, "run-id": kindValue},
}

var extraRequired = map[string][]string{
	"history":    {"domain", "workflow-id"},
	"executions": {"domain"},
	"describe":   {"domain", "workflow-id"},
}

var extraHelp = map[string]string{
	"history": `swf history --domain D --workflow-id W [--run-id R] [--follow] [--interval SECONDS] [--reverse-order]

Prints an execution's history as a table: event id, time, type and the
event's main attributes. Without --run-id it shows the open run of the
workflow id, else its most recently started closed run. --follow keeps
printing new events (polling every --interval seconds, default 2, from
0.001 to 86400) until the execution closes. --output json prints the events as JSON (with
--follow, all of them once the execution has closed); --query selects
from them.
`,
	"executions": `swf executions --domain D [--closed] [--since T] [--until T]
               [--workflow-id W | --workflow-type NAME[:VERSION] | --tag T | --status S]

Lists open executions (closed ones with --closed) started within the last
24 hours, newest first. --since and --until take a duration back from now
(90m, 24h, 7d) or a time (2024-05-01, 2024-05-01T10:00:00Z, epoch
seconds). "Now" is swfd's time, asked of it (GET /swfd/clock), so a clock a
test moved is followed; an endpoint that does not answer that is taken to
keep this machine's time. --status filters closed executions by close status (COMPLETED,
FAILED, CANCELED, TERMINATED, CONTINUED_AS_NEW, TIMED_OUT).
--output json prints the execution infos as JSON.
`,
	"describe": `swf describe --domain D --workflow-id W [--run-id R]

Shows an execution at a glance: type, status, times, configuration, open
counts, and the activities and timers still pending (from its history).
Without --run-id: the open run of the workflow id, else the latest closed.
--output json prints the DescribeWorkflowExecution answer.
`,
}

func parseExtra(e *env, name string, args []string) (*parsed, *globals, bool, error) {
	specs := map[string]argKind{}
	for k, v := range globalSpecs {
		specs[k] = v
	}
	for k, v := range extraSpecs[name] {
		specs[k] = v
	}
	p, err := parseArgs(args, specs)
	if err != nil {
		return nil, nil, false, err
	}
	if ownHelp(p) {
		io.WriteString(e.stdout, extraHelp[name])
		return nil, nil, true, nil
	}
	var missing []string
	for _, f := range extraRequired[name] {
		if !p.has(f) {
			missing = append(missing, "--"+f)
		}
	}
	if len(missing) > 0 {
		return nil, nil, false, &usageError{"the following arguments are required: " + strings.Join(missing, ", ")}
	}
	if len(p.unknown) > 0 || len(p.positionals) > 0 {
		return nil, nil, false, &unknownOptionsError{append(append([]string{}, p.unknown...), p.positionals...)}
	}
	g, err := resolveGlobals(e, p)
	if err != nil {
		return nil, nil, false, err
	}
	if err := checkQuery(g); err != nil {
		return nil, nil, false, err
	}
	return p, g, false, nil
}

// checkQuery refuses a --query that does not compile before any call is
// made, as every command does.
func checkQuery(g *globals) error {
	if g.query == "" {
		return nil
	}
	if err := compileQuery(g.query); err != nil {
		return fmt.Errorf("Bad value for --query %s: Invalid jmespath expression: %v", g.query, err)
	}
	return nil
}

// ownData reports whether history, executions or describe print their
// underlying data rather than their readable table: with --output json,
// and with --query, which selects from that data (and prints it in the
// output format in force, as for any other command).
func ownData(p *parsed, g *globals) bool {
	return g.query != "" || g.output == "json" && p.has("output")
}

// callOp calls an operation and shapes the answer as the model orders it.
func (c *client) callOp(ctx context.Context, op string, body *omap) (*omap, error) {
	v, err := c.call(ctx, op, body)
	if err != nil {
		return nil, err
	}
	info := commands[kebab(op)].op
	if v == nil || info.Output == "" {
		return newOmap(), nil
	}
	o, _ := modelOrder(shape(info.Output), v).(*omap)
	if o == nil {
		o = newOmap()
	}
	return o, nil
}

// callAll calls a paginated operation and returns all items of key.
func (c *client) callAll(ctx context.Context, op string, body *omap, key string) ([]any, error) {
	var all []any
	for {
		page, err := c.callOp(ctx, op, body)
		if err != nil {
			return nil, err
		}
		l, _ := page.m[key].([]any)
		all = append(all, l...)
		tok, _ := page.m["nextPageToken"].(string)
		if tok == "" {
			return all, nil
		}
		body.set("nextPageToken", tok)
	}
}

func obj(kv ...any) *omap {
	o := newOmap()
	for i := 0; i+1 < len(kv); i += 2 {
		o.set(kv[i].(string), kv[i+1])
	}
	return o
}

// str digs a string out of nested objects: str(o, "a", "b").
func str(v any, path ...string) string {
	for _, k := range path {
		o, ok := v.(*omap)
		if !ok {
			return ""
		}
		v = o.m[k]
	}
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func epoch(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(math.Round(f * 1000))), true
}

func fmtTime(v any) string {
	t, ok := epoch(v)
	if !ok {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000")
}

// resolveRun finds the execution to show: the given run, else the open
// run of the workflow id, else its latest closed run.
func resolveRun(ctx context.Context, c *client, domain, wid, rid string) (string, error) {
	if rid != "" {
		return rid, nil
	}
	filter := obj("workflowId", wid)
	since := obj("oldestDate", json.Number("0"))
	open, err := c.callOp(ctx, "ListOpenWorkflowExecutions", obj("domain", domain, "startTimeFilter", since, "executionFilter", filter, "maximumPageSize", json.Number("1")))
	if err != nil {
		return "", err
	}
	if l, _ := open.m["executionInfos"].([]any); len(l) > 0 {
		return str(l[0], "execution", "runId"), nil
	}
	closed, err := c.callOp(ctx, "ListClosedWorkflowExecutions", obj("domain", domain, "startTimeFilter", since, "executionFilter", filter, "maximumPageSize", json.Number("1")))
	if err != nil {
		return "", err
	}
	if l, _ := closed.m["executionInfos"].([]any); len(l) > 0 {
		return str(l[0], "execution", "runId"), nil
	}
	return "", fmt.Errorf("No execution with workflow id %q in domain %q", wid, domain)
}

func runHistory(ctx context.Context, e *env, args []string) error {
	p, g, done, err := parseExtra(e, "history", args)
	if err != nil || done {
		return err
	}
	interval := 2 * time.Second
	if p.has("interval") {
		// Bounded both ways: NaN, an infinity, a huge number (which
		// overflows a time.Duration to a negative one) or a tiny one
		// (which rounds to 0) would look again without waiting, calling
		// the server in a tight loop.
		f, err := strconv.ParseFloat(p.get("interval"), 64)
		if err != nil || !(f >= 0.001 && f <= 86400) {
			return fmt.Errorf("--interval: a number of seconds from 0.001 to 86400, not %q", p.get("interval"))
		}
		interval = time.Duration(f * float64(time.Second))
	}
	c, err := newClient(ctx, g)
	if err != nil {
		return err
	}
	domain, wid := p.get("domain"), p.get("workflow-id")
	rid, err := resolveRun(ctx, c, domain, wid, p.get("run-id"))
	if err != nil {
		return err
	}
	fetch := func() ([]any, error) {
		body := obj("domain", domain, "execution", obj("workflowId", wid, "runId", rid))
		if p.has("reverse-order") && !p.has("follow") {
			body.set("reverseOrder", true)
		}
		return c.callAll(ctx, "GetWorkflowExecutionHistory", body, "events")
	}
	events, err := fetch()
	if err != nil {
		return err
	}
	if ownData(p, g) {
		// Data is one document: with --follow, that of the whole
		// history once the execution has closed.
		for p.has("follow") && !hasCloseEvent(events) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(interval):
			}
			if events, err = fetch(); err != nil {
				return err
			}
		}
		return printResult(e, g, "GetWorkflowExecutionHistory", &result{single: events})
	}
	fmt.Fprintf(e.stdout, "%s  workflowId=%s  runId=%s\n", cell(domain), cell(wid), cell(rid))
	var tw *tabwriter.Writer
	if p.has("follow") {
		// The events of a followed history come in batches, and a
		// tabwriter sizes each batch's columns anew: the columns would
		// move from one batch to the next. They have fixed widths instead,
		// wide enough for any event id a history holds and any event type.
	} else {
		tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	}
	row := func(id, tm, typ, details string) {
		details = cell(details)
		if tw != nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", id, tm, typ, details)
			return
		}
		line := fmt.Sprintf("%-*s  %-*s  %-*s  %s", followIDWidth, id, followTimeWidth, tm, followTypeWidth, typ, details)
		fmt.Fprintln(e.stdout, strings.TrimRight(line, " "))
	}
	row("ID", "TIME", "TYPE", "DETAILS")
	var last int64
	closed := false
	printEvents := func(evs []any) {
		for _, ev := range evs {
			id, _ := strconv.ParseInt(str(ev, "eventId"), 10, 64)
			if id <= last && !p.has("reverse-order") {
				continue
			}
			if id > last {
				last = id
			}
			typ := str(ev, "eventType")
			if isCloseEvent(typ) {
				closed = true
			}
			o, _ := ev.(*omap)
			row(strconv.FormatInt(id, 10), fmtTime(o.m["eventTimestamp"]), typ, eventDetails(o))
		}
		if tw != nil {
			tw.Flush()
		}
	}
	printEvents(events)
	if !p.has("follow") {
		return nil
	}
	for !closed {
		select {
		case <-ctx.Done():
			// Ctrl-C between two looks is an interrupt as it is
			// during a call (exit status 130).
			return ctx.Err()
		case <-time.After(interval):
		}
		evs, err := fetch()
		if err != nil {
			return err
		}
		printEvents(evs)
	}
	return nil
}

// The widths of a followed history's columns: a history holds at most
// 25,000 events, every time is printed alike, and the longest event type
// is RequestCancelExternalWorkflowExecutionInitiated.
const (
	followIDWidth   = len("25000")
	followTimeWidth = len("2006-01-02 15:04:05.000")
	followTypeWidth = len("RequestCancelExternalWorkflowExecutionInitiated")
)

func hasCloseEvent(events []any) bool {
	for _, ev := range events {
		if isCloseEvent(str(ev, "eventType")) {
			return true
		}
	}
	return false
}

func isCloseEvent(t string) bool {
	switch t {
	case "WorkflowExecutionCompleted", "WorkflowExecutionFailed", "WorkflowExecutionCanceled",
		"WorkflowExecutionTerminated", "WorkflowExecutionTimedOut", "WorkflowExecutionContinuedAsNew":
		return true
	}
	return false
}

// eventDetails summarises an event's attributes on one line: scalar
// members as k=v (long values cut), types as name/version, task lists and
// executions by name and id.
func eventDetails(ev *omap) string {
	if ev == nil {
		return ""
	}
	var attrs *omap
	for _, k := range ev.keys {
		if strings.HasSuffix(k, "EventAttributes") {
			attrs, _ = ev.m[k].(*omap)
		}
	}
	if attrs == nil {
		return ""
	}
	var parts []string
	for _, k := range attrs.keys {
		v := attrs.m[k]
		var s string
		switch v := v.(type) {
		case *omap:
			switch {
			case v.m["version"] != nil:
				s = str(v, "name") + "/" + str(v, "version")
			case v.m["workflowId"] != nil:
				s = str(v, "workflowId")
				if r := str(v, "runId"); r != "" {
					s += "/" + r
				}
			default:
				s = str(v, "name")
			}
		case []any:
			var items []string
			for _, x := range v {
				items = append(items, pyStr(x))
			}
			s = "[" + strings.Join(items, ",") + "]"
		default:
			s = pyStr(v)
		}
		if strings.HasSuffix(k, "EventId") && s == "0" {
			continue
		}
		s = cell(s)
		if r := []rune(s); len(r) > 40 {
			s = string(r[:37]) + "..."
		}
		parts = append(parts, k+"="+s)
	}
	return strings.Join(parts, " ")
}

// parseWhen reads --since/--until: a duration back from now (90m, 24h,
// 7d) or a timestamp. A duration must count back: a negative one (which
// would reach into the future) and one of more than maxWhenBack are
// refused rather than wrapped around.
func parseWhen(s string, now time.Time) (time.Time, error) {
	var d time.Duration
	var isDuration bool
	if strings.HasSuffix(s, "d") {
		if n, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64); err == nil {
			if math.IsNaN(n) || n < 0 || n*24 > maxWhenBack.Hours() {
				return time.Time{}, fmt.Errorf("%q: a duration back from now must be between 0 and %dd", s, int(maxWhenBack.Hours()/24))
			}
			d, isDuration = time.Duration(n*24*float64(time.Hour)), true
		}
	}
	if !isDuration {
		if v, err := time.ParseDuration(s); err == nil {
			d, isDuration = v, true
		}
	}
	if isDuration {
		if d < 0 || d > maxWhenBack {
			return time.Time{}, fmt.Errorf("%q: a duration back from now must be between 0 and %dd", s, int(maxWhenBack.Hours()/24))
		}
		return now.Add(-d), nil
	}
	return parseTimestamp(s)
}

// maxWhenBack is the longest duration --since and --until count back: about
// a hundred years, well within what a time.Duration holds.
const maxWhenBack = 36500 * 24 * time.Hour

// serverNow returns the time of the server c calls: swfd's, read from its
// admin API (GET /swfd/clock), since a test may have moved it away from the
// wall clock (--clock manual or skip). An endpoint that does not answer
// that (an SWF that is not swfd, or one that refuses it) is taken to keep
// the wall clock: the client's own is returned. An AWS endpoint is not
// asked.
func serverNow(ctx context.Context, c *client) time.Time {
	if u, err := url.Parse(c.endpoint); c.endpoint == "" || err != nil || strings.HasSuffix(u.Hostname(), ".amazonaws.com") {
		return c.now()
	}
	creds, err := c.credentials(ctx)
	if err != nil {
		return c.now()
	}
	status, resp, err := c.roundTrip(ctx, http.MethodGet, "/swfd/clock", "", nil, creds)
	if err != nil || status != http.StatusOK {
		return c.now()
	}
	var clk struct {
		UnixMillis *int64 `json:"unixMillis"`
	}
	if json.Unmarshal(resp, &clk) != nil || clk.UnixMillis == nil {
		return c.now()
	}
	return time.UnixMilli(*clk.UnixMillis)
}

func runExecutions(ctx context.Context, e *env, args []string) error {
	p, g, done, err := parseExtra(e, "executions", args)
	if err != nil || done {
		return err
	}
	// The bounds are read now, so that a bad one is said before anything
	// is sent, and counted back from the server's time once it is known.
	since := func(now time.Time) (time.Time, error) { return now.Add(-24 * time.Hour), nil }
	if p.has("since") {
		if _, err := parseWhen(p.get("since"), time.Now()); err != nil {
			return fmt.Errorf("--since: %v", err)
		}
		since = func(now time.Time) (time.Time, error) { return parseWhen(p.get("since"), now) }
	}
	if p.has("until") {
		if _, err := parseWhen(p.get("until"), time.Now()); err != nil {
			return fmt.Errorf("--until: %v", err)
		}
	}
	closed := p.has("closed")
	body := obj("domain", p.get("domain"), "startTimeFilter", nil)
	nfilters := 0
	if p.has("workflow-id") {
		body.set("executionFilter", obj("workflowId", p.get("workflow-id")))
		nfilters++
	}
	if p.has("workflow-type") {
		name, version, hasV := strings.Cut(p.get("workflow-type"), ":")
		tf := obj("name", name)
		if hasV {
			tf.set("version", version)
		}
		body.set("typeFilter", tf)
		nfilters++
	}
	if p.has("tag") {
		body.set("tagFilter", obj("tag", p.get("tag")))
		nfilters++
	}
	if p.has("status") {
		if !closed {
			return &usageError{"--status applies to closed executions: add --closed"}
		}
		body.set("closeStatusFilter", obj("status", strings.ToUpper(p.get("status"))))
		nfilters++
	}
	if nfilters > 1 {
		return &usageError{"use at most one of --workflow-id, --workflow-type, --tag, --status (SWF filters by one)"}
	}
	c, err := newClient(ctx, g)
	if err != nil {
		return err
	}
	// "24h" means the last day by swfd's clock, which a test may have
	// moved.
	now := serverNow(ctx, c)
	from, err := since(now)
	if err != nil {
		return fmt.Errorf("--since: %v", err)
	}
	filter := obj("oldestDate", json.Number(strconv.FormatInt(from.Unix(), 10)))
	if p.has("until") {
		until, err := parseWhen(p.get("until"), now)
		if err != nil {
			return fmt.Errorf("--until: %v", err)
		}
		filter.set("latestDate", json.Number(strconv.FormatInt(until.Unix(), 10)))
	}
	body.set("startTimeFilter", filter)
	op := "ListOpenWorkflowExecutions"
	if closed {
		op = "ListClosedWorkflowExecutions"
	}
	infos, err := c.callAll(ctx, op, body, "executionInfos")
	if err != nil {
		return err
	}
	if ownData(p, g) {
		return printResult(e, g, "ExecutionInfos", &result{single: infos})
	}
	if len(infos) == 0 {
		state := "open"
		if closed {
			state = "closed"
		}
		fmt.Fprintf(e.stdout, "No %s executions started since %s.\n", state, from.UTC().Format("2006-01-02 15:04:05"))
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	if closed {
		fmt.Fprintln(tw, "WORKFLOW ID\tRUN ID\tTYPE\tSTARTED\tCLOSED\tSTATUS\tTAGS")
	} else {
		fmt.Fprintln(tw, "WORKFLOW ID\tRUN ID\tTYPE\tSTARTED\tSTATUS\tTAGS")
	}
	for _, info := range infos {
		o, _ := info.(*omap)
		status := str(o, "executionStatus")
		if closed {
			status = str(o, "closeStatus")
		} else if str(o, "cancelRequested") == "true" {
			status += " (cancel requested)"
		}
		var tags []string
		if l, ok := o.m["tagList"].([]any); ok {
			for _, t := range l {
				tags = append(tags, pyStr(t))
			}
		}
		typ := str(o, "workflowType", "name") + "/" + str(o, "workflowType", "version")
		wid, rid, tagCell := cell(str(o, "execution", "workflowId")), cell(str(o, "execution", "runId")), cell(strings.Join(tags, ","))
		typ = cell(typ)
		if closed {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", wid, rid, typ,
				fmtTime(o.m["startTimestamp"]), fmtTime(o.m["closeTimestamp"]), status, tagCell)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", wid, rid, typ,
				fmtTime(o.m["startTimestamp"]), status, tagCell)
		}
	}
	return tw.Flush()
}

func runDescribe(ctx context.Context, e *env, args []string) error {
	p, g, done, err := parseExtra(e, "describe", args)
	if err != nil || done {
		return err
	}
	c, err := newClient(ctx, g)
	if err != nil {
		return err
	}
	domain, wid := p.get("domain"), p.get("workflow-id")
	rid, err := resolveRun(ctx, c, domain, wid, p.get("run-id"))
	if err != nil {
		return err
	}
	exec := obj("workflowId", wid, "runId", rid)
	d, err := c.callOp(ctx, "DescribeWorkflowExecution", obj("domain", domain, "execution", exec))
	if err != nil {
		return err
	}
	if ownData(p, g) {
		return printResult(e, g, "DescribeWorkflowExecution", &result{single: d})
	}
	events, err := c.callAll(ctx, "GetWorkflowExecutionHistory", obj("domain", domain, "execution", exec), "events")
	if err != nil {
		return err
	}
	info, _ := d.m["executionInfo"].(*omap)
	cfg, _ := d.m["executionConfiguration"].(*omap)
	counts, _ := d.m["openCounts"].(*omap)
	w := e.stdout
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, cell(v))
		}
	}
	row("Domain", domain)
	row("Workflow ID", wid)
	row("Run ID", rid)
	row("Type", str(info, "workflowType", "name")+" / "+str(info, "workflowType", "version"))
	status := str(info, "executionStatus")
	if cs := str(info, "closeStatus"); cs != "" {
		status += " (" + cs + ")"
	}
	if str(info, "cancelRequested") == "true" {
		status += ", cancel requested"
	}
	row("Status", status)
	row("Started", fmtTime(info.m["startTimestamp"]))
	if info != nil {
		row("Closed", fmtTime(info.m["closeTimestamp"]))
	}
	if parent := str(info, "parent", "workflowId"); parent != "" {
		row("Parent", parent+" / "+str(info, "parent", "runId"))
	}
	if l, ok := info.m["tagList"].([]any); ok && len(l) > 0 {
		var tags []string
		for _, t := range l {
			tags = append(tags, pyStr(t))
		}
		row("Tags", strings.Join(tags, ", "))
	}
	row("Task list", str(cfg, "taskList", "name"))
	row("Timeouts", fmt.Sprintf("execution %s, decision task %s", secs(str(cfg, "executionStartToCloseTimeout")), secs(str(cfg, "taskStartToCloseTimeout"))))
	row("Child policy", str(cfg, "childPolicy"))
	if counts != nil {
		row("Open", fmt.Sprintf("activities %s, decision tasks %s, timers %s, child executions %s, lambda functions %s",
			orZero(str(counts, "openActivityTasks")), orZero(str(counts, "openDecisionTasks")), orZero(str(counts, "openTimers")),
			orZero(str(counts, "openChildWorkflowExecutions")), orZero(str(counts, "openLambdaFunctions"))))
	}
	row("Last activity task", fmtTime(d.m["latestActivityTaskTimestamp"]))
	if ctxv := str(d, "latestExecutionContext"); ctxv != "" {
		if r := []rune(ctxv); len(r) > 60 {
			ctxv = string(r[:57]) + "..."
		}
		row("Execution context", ctxv)
	}
	tw.Flush()
	acts, timers := pendingWork(events)
	if len(acts) > 0 {
		fmt.Fprintln(w, "\nPending activities:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  ACTIVITY ID\tTYPE\tSCHEDULED\tSTARTED\tWORKER")
		for _, a := range acts {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", cell(a.id), cell(a.typ), a.scheduled, a.started, cell(a.worker))
		}
		tw.Flush()
	}
	if len(timers) > 0 {
		fmt.Fprintln(w, "\nPending timers:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  TIMER ID\tSTARTED\tFIRES AT")
		for _, t := range timers {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", cell(t.id), t.started, t.fires)
		}
		tw.Flush()
	}
	return nil
}

// cell makes a value of a readable table one line of plain text: a line
// break or tab inside it would end its row or cell and move the columns
// after it, and the other control characters (ESC, CR, backspace, C1) of
// an input, a tag or a worker's identity would act on the terminal
// instead of being shown. Line breaks and tabs become spaces; the other
// control characters are shown escaped (\x1b).
func cell(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	// A CRLF line break is one break; a lone CR is shown.
	for _, r := range strings.ReplaceAll(s, "\r\n", "\n") {
		switch {
		case r == '\n' || r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func secs(s string) string {
	if s == "" || s == "NONE" {
		return orDash(s)
	}
	return s + "s"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

type pendingActivity struct{ id, typ, scheduled, started, worker string }
type pendingTimer struct{ id, started, fires string }

// pendingWork replays a history for the activities and timers not closed.
func pendingWork(events []any) ([]pendingActivity, []pendingTimer) {
	acts := map[string]*pendingActivity{} // by scheduled event id
	var actOrder []string
	timers := map[string]*pendingTimer{} // by timer id
	var timerOrder []string
	for _, ev := range events {
		o, _ := ev.(*omap)
		if o == nil {
			continue
		}
		id := str(o, "eventId")
		at := fmtTime(o.m["eventTimestamp"])
		switch str(o, "eventType") {
		case "ActivityTaskScheduled":
			a := o.m["activityTaskScheduledEventAttributes"]
			acts[id] = &pendingActivity{id: str(a, "activityId"), typ: str(a, "activityType", "name") + "/" + str(a, "activityType", "version"), scheduled: at, started: "-", worker: "-"}
			actOrder = append(actOrder, id)
		case "ActivityTaskStarted":
			a := o.m["activityTaskStartedEventAttributes"]
			if p := acts[str(a, "scheduledEventId")]; p != nil {
				p.started, p.worker = at, orDash(str(a, "identity"))
			}
		case "ActivityTaskCompleted", "ActivityTaskFailed", "ActivityTaskTimedOut", "ActivityTaskCanceled":
			for _, k := range o.keys {
				if strings.HasSuffix(k, "EventAttributes") {
					delete(acts, str(o.m[k], "scheduledEventId"))
				}
			}
		case "TimerStarted":
			a := o.m["timerStartedEventAttributes"]
			tid := str(a, "timerId")
			fires := "-"
			if t, ok := epoch(o.m["eventTimestamp"]); ok {
				if n, err := strconv.Atoi(str(a, "startToFireTimeout")); err == nil {
					fires = t.Add(time.Duration(n) * time.Second).UTC().Format("2006-01-02 15:04:05.000")
				}
			}
			timers[tid] = &pendingTimer{id: tid, started: at, fires: fires}
			timerOrder = append(timerOrder, tid)
		case "TimerFired":
			delete(timers, str(o.m["timerFiredEventAttributes"], "timerId"))
		case "TimerCanceled":
			delete(timers, str(o.m["timerCanceledEventAttributes"], "timerId"))
		}
		if isCloseEvent(str(o, "eventType")) {
			return nil, nil
		}
	}
	var pa []pendingActivity
	for _, id := range actOrder {
		if a := acts[id]; a != nil {
			pa = append(pa, *a)
		}
	}
	var pt []pendingTimer
	seen := map[string]bool{}
	for _, id := range timerOrder {
		if t := timers[id]; t != nil && !seen[id] {
			seen[id] = true
			pt = append(pt, *t)
		}
	}
	sort.SliceStable(pt, func(i, j int) bool { return pt[i].fires < pt[j].fires })
	return pa, pt
}
