package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/swfd/swfd/api"
)

// domainRow is one domain on the domains page.
type domainRow struct {
	Info      api.DomainInfo
	Retention string
	Tags      []api.ResourceTag
	Open      int
	OpenMore  bool // the count was truncated
	Denied    string
}

type domainsData struct {
	Rows       []domainRow
	ListDenied *api.Fault
	CLI        *cliLine
}

// listDomains lists every domain of both statuses.
func (h *Handler) listDomains(ctx context.Context) ([]api.DomainInfo, error) {
	var all []api.DomainInfo
	for _, st := range []api.RegistrationStatus{api.RegistrationStatusRegistered, api.RegistrationStatusDeprecated} {
		token := ""
		for {
			out, err := do[api.DomainInfos](ctx, h, "ListDomains", &api.ListDomainsInput{RegistrationStatus: st, NextPageToken: token})
			if err != nil {
				return nil, err
			}
			all = append(all, out.DomainInfos...)
			if token = out.NextPageToken; token == "" {
				break
			}
		}
	}
	return all, nil
}

func (h *Handler) domainsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := &domainsData{CLI: cli("register-domain").form("--name", "NAME").form("--workflow-execution-retention-period-in-days", "7")}
	infos, err := h.listDomains(ctx)
	if err != nil {
		f := h.faultOf(ctx, err)
		if f.Code != api.OperationNotPermittedFault {
			h.fail(w, r, err)
			return
		}
		d.ListDenied = f
	}
	for _, info := range infos {
		row := domainRow{Info: info}
		det, err := do[api.DomainDetail](ctx, h, "DescribeDomain", &api.DescribeDomainInput{Name: info.Name})
		if err != nil {
			row.Denied = h.faultOf(ctx, err).Code
			d.Rows = append(d.Rows, row)
			continue
		}
		row.Retention = det.Configuration.WorkflowExecutionRetentionPeriodInDays
		if tags, err := do[api.ListTagsForResourceOutput](ctx, h, "ListTagsForResource", &api.ListTagsForResourceInput{ResourceArn: info.Arn}); err == nil {
			row.Tags = tags.Tags
		}
		if c, err := do[api.WorkflowExecutionCount](ctx, h, "CountOpenWorkflowExecutions", &api.CountOpenWorkflowExecutionsInput{
			Domain: info.Name, StartTimeFilter: api.ExecutionTimeFilter{OldestDate: api.Time{Time: epoch}}}); err == nil {
			row.Open, row.OpenMore = c.Count, c.Truncated
		} else {
			row.Open = -1
		}
		d.Rows = append(d.Rows, row)
	}
	h.render(w, r, http.StatusOK, "domains", &page{Title: "Domains", Data: d, Message: h.message(r)})
}

// domainHome is a domain's executions.
func (h *Handler) domainHome(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, domURL(r.PathValue("domain"))+"executions", http.StatusSeeOther)
}

// registerDomain registers a domain.
func (h *Handler) registerDomain(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	in := &api.RegisterDomainInput{
		Name:                                   strings.TrimSpace(f.Get("name")),
		Description:                            api.StringOrNil(f.Get("description")),
		WorkflowExecutionRetentionPeriodInDays: strings.TrimSpace(f.Get("retention")),
	}
	for _, line := range strings.Split(f.Get("tags"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		// A line that is no key=value is refused, not dropped: the domain
		// would be registered without the tag meant.
		k, v, ok := strings.Cut(line, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			h.fail(w, r, api.ErrValidation("Tags: '%s' is not key=value (one tag a line).", trunc(60, line)))
			return
		}
		in.Tags = append(in.Tags, api.ResourceTag{Key: k, Value: api.String(strings.TrimSpace(v))})
	}
	if err := h.exec(r.Context(), "RegisterDomain", in); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, domURL(in.Name)+"types?"+h.notice(r, "Domain registered."), http.StatusSeeOther)
}

// typeRow is one registered type on a domain's page.
type typeRow struct {
	Kind        string // "workflow" or "activity"
	Name        string
	Version     string
	Status      api.RegistrationStatus
	Description string
	Created     api.Time
	Deprecated  api.Time
	Defaults    []kv
	CLI         string // the swf line that deprecates or undeprecates it
}

// statusCLI is the swf line that changes a type's status.
func statusCLI(domain, kind, name, version string, status api.RegistrationStatus) string {
	verb := "deprecate-"
	if status != api.RegistrationStatusRegistered {
		verb = "undeprecate-"
	}
	return cli(verb+kind+"-type").add("--domain", domain).add("--"+kind+"-type", structArg("name", name, "version", version)).String()
}

type domainData struct {
	Detail    *api.DomainDetail
	Tags      []api.ResourceTag
	Workflows []typeRow
	Activity  []typeRow
	More      bool // types were left out (more than maxTypes of a kind)
	CLI       map[string]*cliLine
}

// maxTypes is how many types of each kind and status a domain's page shows.
const maxTypes = 200

func (h *Handler) domainPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("domain")
	det, err := do[api.DomainDetail](ctx, h, "DescribeDomain", &api.DescribeDomainInput{Name: name})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := &domainData{Detail: det, CLI: map[string]*cliLine{
		"deprecate":   cli("deprecate-domain").add("--name", name),
		"undeprecate": cli("undeprecate-domain").add("--name", name),
		"wftype": cli("register-workflow-type").add("--domain", name).form("--name", "NAME").form("--workflow-version", "1").
			form("--default-task-list", "name=deciders").form("--default-execution-start-to-close-timeout", "3600").
			form("--default-task-start-to-close-timeout", "60").form("--default-child-policy", "TERMINATE"),
		"actype": cli("register-activity-type").add("--domain", name).form("--name", "NAME").form("--activity-version", "1").
			form("--default-task-list", "name=workers").form("--default-task-start-to-close-timeout", "300"),
	}}
	if tags, err := do[api.ListTagsForResourceOutput](ctx, h, "ListTagsForResource", &api.ListTagsForResourceInput{ResourceArn: det.DomainInfo.Arn}); err == nil {
		d.Tags = tags.Tags
	}
	for _, st := range []api.RegistrationStatus{api.RegistrationStatusRegistered, api.RegistrationStatusDeprecated} {
		wt, err := do[api.WorkflowTypeInfos](ctx, h, "ListWorkflowTypes", &api.ListWorkflowTypesInput{Domain: name, RegistrationStatus: st, MaximumPageSize: maxTypes})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		at, err := do[api.ActivityTypeInfos](ctx, h, "ListActivityTypes", &api.ListActivityTypesInput{Domain: name, RegistrationStatus: st, MaximumPageSize: maxTypes})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d.More = d.More || wt.NextPageToken != "" || at.NextPageToken != ""
		for _, t := range wt.TypeInfos {
			var cfg any
			if det, err := do[api.WorkflowTypeDetail](ctx, h, "DescribeWorkflowType", &api.DescribeWorkflowTypeInput{Domain: name, WorkflowType: t.WorkflowType}); err == nil {
				cfg = det.Configuration
			}
			d.Workflows = append(d.Workflows, newTypeRow(name, "workflow", t.WorkflowType.Name, t.WorkflowType.Version, t.Status, api.Value(t.Description), t.CreationDate, t.DeprecationDate, cfg))
		}
		for _, t := range at.TypeInfos {
			var cfg any
			if det, err := do[api.ActivityTypeDetail](ctx, h, "DescribeActivityType", &api.DescribeActivityTypeInput{Domain: name, ActivityType: t.ActivityType}); err == nil {
				cfg = det.Configuration
			}
			d.Activity = append(d.Activity, newTypeRow(name, "activity", t.ActivityType.Name, t.ActivityType.Version, t.Status, api.Value(t.Description), t.CreationDate, t.DeprecationDate, cfg))
		}
	}
	h.render(w, r, http.StatusOK, "domain", &page{Title: name, Domain: name, Tab: "types", Data: d, Message: h.message(r)})
}

// newTypeRow is a type's row; cfg is its configuration (nil if it could
// not be described).
func newTypeRow(domain, kind, name, version string, status api.RegistrationStatus, desc string, created, deprecated api.Time, cfg any) typeRow {
	row := typeRow{Kind: kind, Name: name, Version: version, Status: status, Description: desc, Created: created, Deprecated: deprecated,
		CLI: statusCLI(domain, kind, name, version, status)}
	if cfg != nil {
		row.Defaults = defaultsOf(cfg)
	}
	return row
}

// defaultsOf lists a type configuration's defaults that are set.
func defaultsOf(cfg any) []kv {
	var out []kv
	for k, v := range decodedMap(cfg) {
		out = append(out, kv{Key: strings.TrimPrefix(k, "default"), Value: flat(v)})
	}
	sortKV(out)
	return out
}

func (h *Handler) domainStatus(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("domain")
	var err error
	msg := ""
	switch r.PostForm.Get("action") {
	case "deprecate":
		err, msg = h.exec(r.Context(), "DeprecateDomain", &api.DeprecateDomainInput{Name: name}), "Domain deprecated."
	case "undeprecate":
		err, msg = h.exec(r.Context(), "UndeprecateDomain", &api.UndeprecateDomainInput{Name: name}), "Domain undeprecated."
	default:
		err = api.ErrValidation("action must be deprecate or undeprecate")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, domURL(name)+"types?"+h.notice(r, msg), http.StatusSeeOther)
}

func (h *Handler) registerType(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("domain")
	f := r.PostForm
	list := func(k string) *api.TaskList {
		if v := strings.TrimSpace(f.Get(k)); v != "" {
			return &api.TaskList{Name: v}
		}
		return nil
	}
	var err error
	switch f.Get("kind") {
	case "workflow":
		err = h.exec(r.Context(), "RegisterWorkflowType", &api.RegisterWorkflowTypeInput{
			Domain: name, Name: strings.TrimSpace(f.Get("name")), Version: strings.TrimSpace(f.Get("version")), Description: api.StringOrNil(f.Get("description")),
			DefaultTaskList: list("taskList"), DefaultExecutionStartToCloseTimeout: strings.TrimSpace(f.Get("executionTimeout")),
			DefaultTaskStartToCloseTimeout: strings.TrimSpace(f.Get("taskTimeout")), DefaultChildPolicy: api.ChildPolicy(f.Get("childPolicy")),
			DefaultTaskPriority: strings.TrimSpace(f.Get("priority")), DefaultLambdaRole: strings.TrimSpace(f.Get("lambdaRole")),
		})
	case "activity":
		err = h.exec(r.Context(), "RegisterActivityType", &api.RegisterActivityTypeInput{
			Domain: name, Name: strings.TrimSpace(f.Get("name")), Version: strings.TrimSpace(f.Get("version")), Description: api.StringOrNil(f.Get("description")),
			DefaultTaskList: list("taskList"), DefaultTaskStartToCloseTimeout: strings.TrimSpace(f.Get("startToClose")),
			DefaultTaskScheduleToStartTimeout: strings.TrimSpace(f.Get("scheduleToStart")), DefaultTaskScheduleToCloseTimeout: strings.TrimSpace(f.Get("scheduleToClose")),
			DefaultTaskHeartbeatTimeout: strings.TrimSpace(f.Get("heartbeat")), DefaultTaskPriority: strings.TrimSpace(f.Get("priority")),
		})
	default:
		err = api.ErrValidation("kind must be workflow or activity")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, domURL(name)+"types?"+h.notice(r, "Type registered."), http.StatusSeeOther)
}

func (h *Handler) typeStatus(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("domain")
	f := r.PostForm
	tn, tv := f.Get("name"), f.Get("version")
	wt, at := api.WorkflowType{Name: tn, Version: tv}, api.ActivityType{Name: tn, Version: tv}
	var err error
	switch f.Get("kind") + " " + f.Get("action") {
	case "workflow deprecate":
		err = h.exec(r.Context(), "DeprecateWorkflowType", &api.DeprecateWorkflowTypeInput{Domain: name, WorkflowType: wt})
	case "workflow undeprecate":
		err = h.exec(r.Context(), "UndeprecateWorkflowType", &api.UndeprecateWorkflowTypeInput{Domain: name, WorkflowType: wt})
	case "activity deprecate":
		err = h.exec(r.Context(), "DeprecateActivityType", &api.DeprecateActivityTypeInput{Domain: name, ActivityType: at})
	case "activity undeprecate":
		err = h.exec(r.Context(), "UndeprecateActivityType", &api.UndeprecateActivityTypeInput{Domain: name, ActivityType: at})
	default:
		err = api.ErrValidation("kind must be workflow or activity, action deprecate or undeprecate")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, domURL(name)+"types?"+h.notice(r, "Type "+tn+" "+tv+" "+f.Get("action")+"d."), http.StatusSeeOther)
}
