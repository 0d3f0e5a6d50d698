package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/swfd/swfd/api"
)

func urlq(s string) string { return url.QueryEscape(s) }

type startData struct {
	// Deprecated says the domain is deprecated: nothing can be started in
	// it, nor a type registered, until it is undeprecated.
	Deprecated bool
	Types      []api.WorkflowTypeInfo
	CLI        *cliLine
	Form       url.Values
}

// startPage is the form that starts an execution.
func (h *Handler) startPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	domain := r.PathValue("domain")
	d := &startData{Form: r.URL.Query()}
	out, err := do[api.WorkflowTypeInfos](ctx, h, "ListWorkflowTypes", &api.ListWorkflowTypesInput{Domain: domain, RegistrationStatus: api.RegistrationStatusRegistered, MaximumPageSize: 1000})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Types = out.TypeInfos
	if len(d.Types) == 0 {
		// A deprecated domain's types are deprecated with it, and no type
		// can be registered in it: say so, rather than to register one.
		if det, err := do[api.DomainDetail](ctx, h, "DescribeDomain", &api.DescribeDomainInput{Name: domain}); err == nil {
			d.Deprecated = det.DomainInfo.Status == api.RegistrationStatusDeprecated
		}
	}
	d.CLI = cli("start-workflow-execution").add("--domain", domain).fields()
	h.render(w, r, http.StatusOK, "start", &page{Title: "Start an execution · " + domain, Domain: domain, Tab: "start", Data: d})
}

// startInput reads the start form.
func startInput(domain string, f url.Values) *api.StartWorkflowExecutionInput {
	in := &api.StartWorkflowExecutionInput{
		Domain:                       domain,
		WorkflowID:                   strings.TrimSpace(f.Get("workflowId")),
		Input:                        api.StringOrNil(f.Get("input")),
		ExecutionStartToCloseTimeout: strings.TrimSpace(f.Get("executionTimeout")),
		TaskStartToCloseTimeout:      strings.TrimSpace(f.Get("taskTimeout")),
		ChildPolicy:                  api.ChildPolicy(f.Get("childPolicy")),
		TaskPriority:                 strings.TrimSpace(f.Get("priority")),
		LambdaRole:                   strings.TrimSpace(f.Get("lambdaRole")),
	}
	name, version, _ := strings.Cut(f.Get("type"), "|")
	if v := strings.TrimSpace(f.Get("version")); v != "" {
		name, version = strings.TrimSpace(f.Get("type")), v
	}
	in.WorkflowType = api.WorkflowType{Name: name, Version: version}
	if tl := strings.TrimSpace(f.Get("taskList")); tl != "" {
		in.TaskList = &api.TaskList{Name: tl}
	}
	// One tag a line: a tag may hold a comma or a space, never a line
	// break that the form could keep apart from the next tag's.
	for _, t := range strings.Split(f.Get("tags"), "\n") {
		if t = strings.TrimSpace(t); t != "" {
			in.TagList = append(in.TagList, t)
		}
	}
	return in
}

// startCLI is the swf line of a start.
func startCLI(domain string, in *api.StartWorkflowExecutionInput) *cliLine {
	c := cli("start-workflow-execution").add("--domain", domain).add("--workflow-id", in.WorkflowID).
		add("--workflow-type", structArg("name", in.WorkflowType.Name, "version", in.WorkflowType.Version))
	if in.TaskList != nil {
		c.add("--task-list", structArg("name", in.TaskList.Name))
	}
	c.add("--input", api.Value(in.Input)).add("--execution-start-to-close-timeout", in.ExecutionStartToCloseTimeout).
		add("--task-start-to-close-timeout", in.TaskStartToCloseTimeout).add("--child-policy", string(in.ChildPolicy)).
		add("--task-priority", in.TaskPriority).add("--lambda-role", in.LambdaRole)
	if len(in.TagList) > 0 {
		c.Flags = append(c.Flags, cliFlag{Name: "--tag-list", Value: quoteAll(in.TagList), Raw: true})
	}
	return c
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = shellQuote(s)
	}
	return strings.Join(q, " ")
}

func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	domain := r.PathValue("domain")
	in := startInput(domain, r.PostForm)
	run, err := do[api.Run](r.Context(), h, "StartWorkflowExecution", in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, execURL(domain, in.WorkflowID, run.RunID)+"?"+h.notice(r, "Execution started."), http.StatusSeeOther)
}

func (h *Handler) signal(w http.ResponseWriter, r *http.Request) {
	domain, ex := h.execOf(r)
	f := r.PostForm
	err := h.exec(r.Context(), "SignalWorkflowExecution", &api.SignalWorkflowExecutionInput{Domain: domain, WorkflowID: ex.WorkflowID, RunID: api.StringOrNil(ex.RunID),
		SignalName: strings.TrimSpace(f.Get("signalName")), Input: api.StringOrNil(f.Get("input"))})
	h.done(w, r, domain, ex, err, "Signal sent.")
}

func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	domain, ex := h.execOf(r)
	err := h.exec(r.Context(), "RequestCancelWorkflowExecution", &api.RequestCancelWorkflowExecutionInput{Domain: domain, WorkflowID: ex.WorkflowID, RunID: api.StringOrNil(ex.RunID)})
	h.done(w, r, domain, ex, err, "Cancellation requested.")
}

func (h *Handler) terminate(w http.ResponseWriter, r *http.Request) {
	domain, ex := h.execOf(r)
	f := r.PostForm
	err := h.exec(r.Context(), "TerminateWorkflowExecution", &api.TerminateWorkflowExecutionInput{Domain: domain, WorkflowID: ex.WorkflowID, RunID: api.StringOrNil(ex.RunID),
		Reason: api.StringOrNil(f.Get("reason")), Details: api.StringOrNil(f.Get("details")), ChildPolicy: api.ChildPolicy(f.Get("childPolicy"))})
	h.done(w, r, domain, ex, err, "Execution terminated.")
}

// rerunInput starts a run like a closed one: same type, input, task list,
// tags and configuration, same workflow id.
func rerunInput(domain, wid string, a *api.WorkflowExecutionStartedEventAttributes) *api.StartWorkflowExecutionInput {
	tl := a.TaskList
	return &api.StartWorkflowExecutionInput{
		Domain: domain, WorkflowID: wid, WorkflowType: a.WorkflowType, Input: a.Input, TaskList: &tl, TagList: a.TagList,
		ExecutionStartToCloseTimeout: a.ExecutionStartToCloseTimeout, TaskStartToCloseTimeout: a.TaskStartToCloseTimeout,
		ChildPolicy: a.ChildPolicy, TaskPriority: a.TaskPriority, LambdaRole: a.LambdaRole,
	}
}

// startedAttrs reads a run's WorkflowExecutionStarted attributes.
func (h *Handler) startedAttrs(r *http.Request, domain string, ex api.WorkflowExecution) (*api.WorkflowExecutionStartedEventAttributes, error) {
	out, err := do[api.History](r.Context(), h, "GetWorkflowExecutionHistory", &api.GetWorkflowExecutionHistoryInput{Domain: domain, Execution: ex, MaximumPageSize: 1})
	if err != nil {
		return nil, err
	}
	if len(out.Events) == 0 {
		return nil, api.ErrUnknownResource("The execution has no history.")
	}
	full, err := out.Events[0].Full()
	if err != nil {
		return nil, err
	}
	if full.WorkflowExecutionStartedEventAttributes == nil {
		return nil, api.ErrUnknownResource("The execution's first event is not WorkflowExecutionStarted.")
	}
	return full.WorkflowExecutionStartedEventAttributes, nil
}

func (h *Handler) rerun(w http.ResponseWriter, r *http.Request) {
	domain, ex := h.execOf(r)
	a, err := h.startedAttrs(r, domain, ex)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	run, err := do[api.Run](r.Context(), h, "StartWorkflowExecution", rerunInput(domain, ex.WorkflowID, a))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, execURL(domain, ex.WorkflowID, run.RunID)+"?"+h.notice(r, "Started again as a new run."), http.StatusSeeOther)
}

// done ends an action on an execution: back to its page, or the fault.
func (h *Handler) done(w http.ResponseWriter, r *http.Request, domain string, ex api.WorkflowExecution, err error, msg string) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, execURL(domain, ex.WorkflowID, ex.RunID)+"?"+h.notice(r, msg), http.StatusSeeOther)
}
