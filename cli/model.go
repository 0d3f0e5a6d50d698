package cli

import (
	"sort"
	"strings"
	"unicode"

	"github.com/swfd/swfd/api"
)

// command is one `swf <name>` command generated from an operation of the
// model.
type command struct {
	name   string // kebab-case, e.g. describe-domain
	op     api.OperationInfo
	params []*param // input members, in model order
	pager  *pager   // nil when the operation is not paginated
}

// param is one input member of a command, given as --flag.
type param struct {
	member   string // wire name, e.g. workflowId
	flag     string // without the dashes, e.g. workflow-id
	shape    *api.Shape
	required bool
	hidden   bool // the paginator's own token and limit: accepted, not documented
}

// pager describes how the AWS CLI pages an operation (botocore's
// paginators-1.json for SWF; every paginated SWF operation uses
// nextPageToken and maximumPageSize).
type pager struct {
	resultKey    string
	nonAggregate []string
}

var pagers = map[string]*pager{
	"GetWorkflowExecutionHistory":  {resultKey: "events"},
	"ListActivityTypes":            {resultKey: "typeInfos"},
	"ListClosedWorkflowExecutions": {resultKey: "executionInfos"},
	"ListDomains":                  {resultKey: "domainInfos"},
	"ListOpenWorkflowExecutions":   {resultKey: "executionInfos"},
	"ListWorkflowTypes":            {resultKey: "typeInfos"},
	"PollForDecisionTask": {resultKey: "events", nonAggregate: []string{
		"taskToken", "startedEventId", "workflowExecution", "workflowType", "previousStartedEventId"}},
}

// renamed flags: the AWS CLI renames `version` of these two commands so it
// does not clash with its global --version.
var renamedFlags = map[string]string{
	"register-activity-type.version": "activity-version",
	"register-workflow-type.version": "workflow-version",
}

var (
	commands     map[string]*command
	commandNames []string
)

func init() {
	commands = map[string]*command{}
	for name, op := range api.Operations {
		c := &command{name: kebab(name), op: op, pager: pagers[name]}
		in := shape(op.Input)
		for _, m := range members(in) {
			p := &param{member: m.Name, flag: kebab(m.Name), shape: shape(m.Shape), required: m.Required}
			if r, ok := renamedFlags[c.name+"."+m.Name]; ok {
				p.flag = r
			}
			if c.pager != nil && (m.Name == "nextPageToken" || m.Name == "maximumPageSize") {
				p.hidden = true
			}
			c.params = append(c.params, p)
		}
		commands[c.name] = c
		commandNames = append(commandNames, c.name)
	}
	sort.Strings(commandNames)
}

// kebab turns a model name into the AWS CLI's spelling:
// RequestCancelWorkflowExecution -> request-cancel-workflow-execution.
func kebab(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
				(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('-')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// shape returns the named shape of the model; it panics on a name the model
// does not have (a bug in this package).
func shape(name string) *api.Shape {
	s, ok := api.LookupShape(name)
	if !ok {
		panic("cli: unknown shape " + name)
	}
	return s
}

// members returns a structure's members in model order.
func members(s *api.Shape) []api.ShapeMember {
	order, ok := memberOrder[s.Name]
	if !ok {
		return s.Members
	}
	byName := make(map[string]api.ShapeMember, len(s.Members))
	for _, m := range s.Members {
		byName[m.Name] = m
	}
	out := make([]api.ShapeMember, 0, len(order))
	for _, n := range order {
		if m, ok := byName[n]; ok {
			out = append(out, m)
		}
	}
	return out
}

// memberNames lists a structure's member names in model order.
func memberNames(s *api.Shape) []string {
	var out []string
	for _, m := range members(s) {
		out = append(out, m.Name)
	}
	return out
}

// isScalar reports whether a shape holds a single value.
func isScalar(s *api.Shape) bool { return s.Type != "structure" && s.Type != "list" }
