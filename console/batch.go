package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/swfd/swfd/api"
)

// batchActions are the actions a batch applies, and to which executions.
var batchActions = map[string]struct {
	Verb   string
	Closed bool // applies to closed executions (else open)
}{
	"signal":    {"Signal", false},
	"cancel":    {"Request cancellation of", false},
	"terminate": {"Terminate", false},
	"rerun":     {"Re-run", true},
}

// batchCLIs are the swf lines of each batch action for a filter.
func batchCLIs(domain string, f filter) map[string]*cliLine {
	list := listCLI(domain, f)
	list.Flags = append(list.Flags, cliFlag{Name: "--query", Value: "executionInfos[].execution.[workflowId,runId]"}, cliFlag{Name: "--output", Value: "text"})
	loop := list.String()
	each := func(c *cliLine) *cliLine {
		c.Loop = loop
		return c
	}
	return map[string]*cliLine{
		"signal":    each(cli("signal-workflow-execution").add("--domain", domain).raw("--workflow-id", `"$w"`).raw("--run-id", `"$r"`).add("--signal-name", "NAME")),
		"cancel":    each(cli("request-cancel-workflow-execution").add("--domain", domain).raw("--workflow-id", `"$w"`).raw("--run-id", `"$r"`)),
		"terminate": each(cli("terminate-workflow-execution").add("--domain", domain).raw("--workflow-id", `"$w"`).raw("--run-id", `"$r"`)),
	}
}

type batchData struct {
	F      filter
	Query  url.Values
	Action string
	Verb   string
	Form   url.Values
	Count  *api.WorkflowExecutionCount
	CLI    *cliLine
	Done   bool
	OK     int
	Failed int
	Errors []string
	// Stopped, if set, is why the batch stopped before acting on every
	// execution (a throttled call).
	Stopped string
	Back    string
}

// maxBatchErrors is how many failures a batch's outcome lists.
const maxBatchErrors = 20

// batch confirms, then applies, an action to every execution a filter
// matches: the first post shows how many executions that is; the second,
// which repeats the count it was shown, applies it.
func (h *Handler) batch(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	domain := r.PathValue("domain")
	form := r.PostForm
	f := parseFilter(form)
	f.Page, f.Size = "", 1000
	action := form.Get("action")
	spec, ok := batchActions[action]
	if !ok {
		h.fail(w, r, api.ErrValidation("Choose an action: signal, cancel, terminate or rerun."))
		return
	}
	if spec.Closed != f.Closed {
		which := "open"
		if spec.Closed {
			which = "closed"
		}
		h.fail(w, r, api.ErrValidation("%s applies to %s executions: choose them in the list first.", spec.Verb, which))
		return
	}
	if err := checkAction(domain, action, form); err != nil {
		h.fail(w, r, err)
		return
	}
	// A time given from now ("24h") is pinned when the count is shown, and
	// the confirmation carries the pinned time: the batch acts on the
	// window that was counted, not on one that has moved since.
	now := h.now()
	pf := f.pinned(now)
	q, err := pf.query(domain, now)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	count, err := h.count(ctx, q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	back := f.values()
	back.Del("size")
	fv := pf.values()
	fv.Del("size")
	confirmForm := url.Values{}
	for k, v := range form {
		confirmForm[k] = v
	}
	for _, k := range []string{"from", "to"} {
		if v := fv.Get(k); v != "" {
			confirmForm.Set(k, v)
		}
	}
	d := &batchData{F: pf, Query: fv, Action: action, Verb: spec.Verb, Form: confirmForm, Count: count, Back: domURL(domain) + "executions?" + back.Encode()}
	if c := batchCLIs(domain, pf)[action]; c != nil {
		switch action {
		case "signal":
			c.Flags[len(c.Flags)-1].Value = strings.TrimSpace(form.Get("signalName"))
			c.add("--input", form.Get("input"))
		case "terminate":
			c.add("--reason", form.Get("reason")).add("--details", form.Get("details")).add("--child-policy", form.Get("childPolicy"))
		}
		d.CLI = c
	}
	if form.Get("confirm") == "" {
		h.render(w, r, http.StatusOK, "batch", &page{Title: "Confirm · " + domain, Domain: domain, Tab: "executions", Data: d})
		return
	}
	if n, err := strconv.Atoi(form.Get("confirm")); err != nil || n != count.Count {
		h.fail(w, r, api.ErrValidation("The executions matching the filter changed since the confirmation (now %d): confirm again.", count.Count))
		return
	}
	h.applyBatch(ctx, domain, q, action, form, d)
	d.Done = true
	h.render(w, r, http.StatusOK, "batch", &page{Title: "Batch · " + domain, Domain: domain, Tab: "executions", Data: d})
}

// applyBatch runs an action on every execution of a query, page by page.
// Acting on open executions closes some of them, which shifts the pages of
// the open list, so every page of open executions is read from the start
// until a page brings nothing new. A throttled call stops the batch: the
// calls after it would be throttled too, each a failure of its own, and
// the person who acted is told to run it again later.
func (h *Handler) applyBatch(ctx context.Context, domain string, q visQuery, action string, form url.Values, d *batchData) {
	seen := map[string]bool{}
	note := func(ex api.WorkflowExecution, err error) {
		if err == nil {
			d.OK++
			return
		}
		d.Failed++
		if len(d.Errors) < maxBatchErrors {
			f := h.faultOf(ctx, err)
			d.Errors = append(d.Errors, ex.WorkflowID+" "+ex.RunID+": "+f.Code+": "+f.Message)
		}
	}
	for {
		out, err := h.list(ctx, q)
		if err != nil {
			note(api.WorkflowExecution{}, err)
			return
		}
		fresh := 0
		for _, info := range out.ExecutionInfos {
			ex := info.Execution
			if seen[ex.RunID] {
				continue
			}
			seen[ex.RunID] = true
			fresh++
			err := h.act(ctx, domain, ex, action, form)
			note(ex, err)
			if f, ok := api.AsFault(err); ok && f.Code == api.ThrottlingException {
				d.Stopped = f.Code + ": " + f.Message
				return
			}
			if ctx.Err() != nil {
				return
			}
		}
		switch {
		case out.NextPageToken != "" && (q.closed != nil || fresh == 0):
			if q.open != nil {
				q.open.NextPageToken = out.NextPageToken
			} else {
				q.closed.NextPageToken = out.NextPageToken
			}
		case q.open != nil && fresh > 0:
			q.open.NextPageToken = ""
		default:
			return
		}
	}
}

// actInput is the operation and input of a signal, cancellation request
// or termination of one execution, from the batch form: the same fields,
// read the same way, as the action on one execution (a signal name
// without white space at either end).
func actInput(domain string, ex api.WorkflowExecution, action string, form url.Values) (string, any) {
	switch action {
	case "signal":
		return "SignalWorkflowExecution", &api.SignalWorkflowExecutionInput{Domain: domain, WorkflowID: ex.WorkflowID, RunID: api.StringOrNil(ex.RunID),
			SignalName: strings.TrimSpace(form.Get("signalName")), Input: api.StringOrNil(form.Get("input"))}
	case "cancel":
		return "RequestCancelWorkflowExecution", &api.RequestCancelWorkflowExecutionInput{Domain: domain, WorkflowID: ex.WorkflowID, RunID: api.StringOrNil(ex.RunID)}
	case "terminate":
		return "TerminateWorkflowExecution", &api.TerminateWorkflowExecutionInput{Domain: domain, WorkflowID: ex.WorkflowID, RunID: api.StringOrNil(ex.RunID),
			Reason: api.StringOrNil(form.Get("reason")), Details: api.StringOrNil(form.Get("details")), ChildPolicy: api.ChildPolicy(form.Get("childPolicy"))}
	}
	return "", nil
}

// checkAction checks the batch form's fields against the service model
// before anything is counted or confirmed, as the operation would check
// them for each execution: a signal name that is empty or too long, a
// reason too long or an unknown child policy is the page's fault at once,
// not the same failure for every execution after the confirmation.
func checkAction(domain, action string, form url.Values) error {
	// Any workflow id the model allows: only the form's fields are
	// checked here.
	op, in := actInput(domain, api.WorkflowExecution{WorkflowID: "batch"}, action, form)
	if in == nil {
		return nil
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	_, err = api.Operations[op].Decode(body)
	return err
}

// act applies one batch action to one execution.
func (h *Handler) act(ctx context.Context, domain string, ex api.WorkflowExecution, action string, form url.Values) error {
	if op, in := actInput(domain, ex, action, form); in != nil {
		return h.exec(ctx, op, in)
	}
	if action != "rerun" {
		return api.ErrValidation("unknown action")
	}
	out, err := do[api.History](ctx, h, "GetWorkflowExecutionHistory", &api.GetWorkflowExecutionHistoryInput{Domain: domain, Execution: ex, MaximumPageSize: 1})
	if err != nil {
		return err
	}
	if len(out.Events) == 0 {
		return api.ErrUnknownResource("no history")
	}
	full, err := out.Events[0].Full()
	if err != nil || full.WorkflowExecutionStartedEventAttributes == nil {
		return api.ErrUnknownResource("no WorkflowExecutionStarted event")
	}
	_, err = do[api.Run](ctx, h, "StartWorkflowExecution", rerunInput(domain, ex.WorkflowID, full.WorkflowExecutionStartedEventAttributes))
	return err
}
