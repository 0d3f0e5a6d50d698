package history

import (
	"strconv"
	"strings"
	"time"

	"github.com/swfd/swfd/api"
)

// Validation of a decision list, done before anything is recorded. The HTTP
// layer has already checked JSON types, lengths and enums of the input
// shape; what is left is what the Go types cannot carry: that the
// attributes member matching decisionType is present, that its required
// members are (an empty string counts as null), duration and name syntax,
// and the place of the closing decision. Messages follow the AWS
// framework's style.

type validator struct{ errs api.Violations }

func (v *validator) fail(val *string, path, constraint string) {
	r := "null"
	if val != nil {
		r = api.Quote(*val)
	}
	v.errs.Add(r, path, constraint)
}

func (v *validator) required(val, path string) bool {
	if val == "" {
		v.fail(nil, path, "Member must not be null")
		return false
	}
	return true
}

// name checks SWF's name rule for ids, type names and versions and task
// lists (api.NameProblem: the same rule, and the same message, as the API's
// own checks).
func (v *validator) name(val, path string) {
	if p := api.NameProblem(val); p != "" {
		v.fail(&val, path, p)
	}
}

// decisionWorkflowID checks a workflowId named in a decision: the name
// rule, with ':' and '/' allowed (api.DecisionWorkflowIDProblem says why).
func (v *validator) decisionWorkflowID(val, path string) {
	if p := api.DecisionWorkflowIDProblem(val); p != "" {
		v.fail(&val, path, p)
	}
}

// duration checks an optional duration: digits, or NONE when allowed.
func (v *validator) duration(val, path string, noneOK bool) {
	if val == "" {
		return
	}
	_, none, err := ParseDuration(val)
	if err != nil || (none && !noneOK) {
		if noneOK {
			v.fail(&val, path, "Member must be a number of seconds or NONE")
		} else {
			v.fail(&val, path, "Member must be a number of seconds")
		}
	}
}

// lambdaTimeout checks a Lambda task's startToCloseTimeout: 1 to 900
// seconds, the range the model documents (Lambda runs no function longer).
func (v *validator) lambdaTimeout(val, path string) {
	if val == "" {
		return
	}
	d, none, err := ParseDuration(val)
	if err != nil || none || d < time.Second || d > MaxLambdaStartToClose*time.Second {
		v.fail(&val, path, "Member must be a number of seconds between 1 and 900")
	}
}

func (v *validator) priority(val, path string) {
	if val == "" {
		return
	}
	if _, err := strconv.ParseInt(val, 10, 32); err != nil {
		v.fail(&val, path, "Member must be an integer between -2147483648 and 2147483647")
	}
}

func (v *validator) taskList(tl *api.TaskList, path string) {
	if tl == nil {
		return
	}
	if !v.required(tl.Name, path+".name") {
		return
	}
	// As the API's own task list checks (PollFor*Task, StartWorkflowExecution):
	// a name that starts or ends with white space could never be polled, so a
	// task scheduled on it would wait for its timeout.
	if strings.TrimSpace(tl.Name) != tl.Name {
		v.fail(&tl.Name, path+".name", "Member must not start or end with white space")
		return
	}
	v.name(tl.Name, path+".name")
}

// MaxExecutionStartToClose is the longest a run may last, in seconds: one
// year.
const MaxExecutionStartToClose = 31536000

// executionTimeout checks a run's executionStartToCloseTimeout given by a
// decision (a child's, a continued run's): a number of seconds no greater
// than one year, the most any run may last and what StartWorkflowExecution
// and RegisterWorkflowType accept, or NONE, which these two decisions allow
// (such a run is still held to one year: see executionTimeout).
func (v *validator) executionTimeout(val, path string) {
	if val == "" {
		return
	}
	d, none, err := ParseDuration(val)
	if err != nil || (!none && d > MaxExecutionStartToClose*time.Second) {
		v.fail(&val, path, "Member must be a number of seconds no greater than 31536000, or NONE")
	}
}

func (v *validator) typeRef(name, version, path string) {
	if name == "" && version == "" {
		v.fail(nil, path, "Member must not be null")
		return
	}
	if v.required(name, path+".name") {
		v.name(name, path+".name")
	}
	if v.required(version, path+".version") {
		v.name(version, path+".version")
	}
}

func isClosingDecision(t api.DecisionType) bool {
	switch t {
	case api.DecisionTypeCompleteWorkflowExecution, api.DecisionTypeFailWorkflowExecution,
		api.DecisionTypeCancelWorkflowExecution, api.DecisionTypeContinueAsNewWorkflowExecution:
		return true
	}
	return false
}

// validateDecisions returns a ValidationException for a malformed
// RespondDecisionTaskCompleted, or nil.
//
// (inferred) The attributes of Complete/Fail/Cancel/ContinueAsNew have no
// required members, so a missing attributes member is accepted for them
// and treated as empty; for the other nine it is reported as null.
func validateDecisions(in *api.RespondDecisionTaskCompletedInput) error {
	v := &validator{}
	if in.TaskList != nil {
		v.taskList(in.TaskList, "taskList")
	}
	v.duration(in.TaskListScheduleToStartTimeout, "taskListScheduleToStartTimeout", true)
	closing := 0
	misplaced := false
	for i, d := range in.Decisions {
		if v.errs.Full() {
			break
		}
		p := "decisions." + strconv.Itoa(i+1) + ".member"
		if isClosingDecision(d.DecisionType) {
			closing++
			if i != len(in.Decisions)-1 {
				misplaced = true
			}
		}
		v.decision(d, p)
	}
	if err := v.errs.Err(); err != nil {
		return err
	}
	if misplaced || closing > 1 {
		return api.ErrValidation("Close must be last decision in list")
	}
	return nil
}

func (v *validator) decision(d api.Decision, p string) {
	attr := func(name string, present bool) bool {
		if !present {
			v.fail(nil, p+"."+name, "Member must not be null")
		}
		return present
	}
	switch d.DecisionType {
	case "":
		v.fail(nil, p+".decisionType", "Member must not be null")
	case api.DecisionTypeScheduleActivityTask:
		a := d.ScheduleActivityTaskDecisionAttributes
		n := "scheduleActivityTaskDecisionAttributes"
		if attr(n, a != nil) {
			q := p + "." + n
			v.typeRef(a.ActivityType.Name, a.ActivityType.Version, q+".activityType")
			if v.required(a.ActivityID, q+".activityId") {
				v.name(a.ActivityID, q+".activityId")
			}
			v.taskList(a.TaskList, q+".taskList")
			v.priority(a.TaskPriority, q+".taskPriority")
			v.duration(a.ScheduleToCloseTimeout, q+".scheduleToCloseTimeout", true)
			v.duration(a.ScheduleToStartTimeout, q+".scheduleToStartTimeout", true)
			v.duration(a.StartToCloseTimeout, q+".startToCloseTimeout", true)
			v.duration(a.HeartbeatTimeout, q+".heartbeatTimeout", true)
		}
	case api.DecisionTypeRequestCancelActivityTask:
		a := d.RequestCancelActivityTaskDecisionAttributes
		n := "requestCancelActivityTaskDecisionAttributes"
		if attr(n, a != nil) {
			v.required(a.ActivityID, p+"."+n+".activityId")
		}
	case api.DecisionTypeCompleteWorkflowExecution, api.DecisionTypeFailWorkflowExecution,
		api.DecisionTypeCancelWorkflowExecution:
	case api.DecisionTypeContinueAsNewWorkflowExecution:
		if a := d.ContinueAsNewWorkflowExecutionDecisionAttributes; a != nil {
			q := p + ".continueAsNewWorkflowExecutionDecisionAttributes"
			v.taskList(a.TaskList, q+".taskList")
			v.priority(a.TaskPriority, q+".taskPriority")
			v.executionTimeout(a.ExecutionStartToCloseTimeout, q+".executionStartToCloseTimeout")
			v.duration(a.TaskStartToCloseTimeout, q+".taskStartToCloseTimeout", true)
			v.name(a.WorkflowTypeVersion, q+".workflowTypeVersion")
		}
	case api.DecisionTypeRecordMarker:
		a := d.RecordMarkerDecisionAttributes
		n := "recordMarkerDecisionAttributes"
		if attr(n, a != nil) {
			v.required(a.MarkerName, p+"."+n+".markerName")
		}
	case api.DecisionTypeStartTimer:
		a := d.StartTimerDecisionAttributes
		n := "startTimerDecisionAttributes"
		if attr(n, a != nil) {
			q := p + "." + n
			if v.required(a.TimerID, q+".timerId") {
				v.name(a.TimerID, q+".timerId")
			}
			if v.required(a.StartToFireTimeout, q+".startToFireTimeout") {
				v.duration(a.StartToFireTimeout, q+".startToFireTimeout", false)
			}
		}
	case api.DecisionTypeCancelTimer:
		a := d.CancelTimerDecisionAttributes
		n := "cancelTimerDecisionAttributes"
		if attr(n, a != nil) {
			v.required(a.TimerID, p+"."+n+".timerId")
		}
	case api.DecisionTypeSignalExternalWorkflowExecution:
		a := d.SignalExternalWorkflowExecutionDecisionAttributes
		n := "signalExternalWorkflowExecutionDecisionAttributes"
		if attr(n, a != nil) {
			q := p + "." + n
			if v.required(a.WorkflowID, q+".workflowId") {
				v.decisionWorkflowID(a.WorkflowID, q+".workflowId")
			}
			v.required(a.SignalName, q+".signalName")
		}
	case api.DecisionTypeRequestCancelExternalWorkflowExecution:
		a := d.RequestCancelExternalWorkflowExecutionDecisionAttributes
		n := "requestCancelExternalWorkflowExecutionDecisionAttributes"
		if attr(n, a != nil) {
			q := p + "." + n
			if v.required(a.WorkflowID, q+".workflowId") {
				v.decisionWorkflowID(a.WorkflowID, q+".workflowId")
			}
		}
	case api.DecisionTypeStartChildWorkflowExecution:
		a := d.StartChildWorkflowExecutionDecisionAttributes
		n := "startChildWorkflowExecutionDecisionAttributes"
		if attr(n, a != nil) {
			q := p + "." + n
			v.typeRef(a.WorkflowType.Name, a.WorkflowType.Version, q+".workflowType")
			if v.required(a.WorkflowID, q+".workflowId") {
				v.decisionWorkflowID(a.WorkflowID, q+".workflowId")
			}
			v.taskList(a.TaskList, q+".taskList")
			v.priority(a.TaskPriority, q+".taskPriority")
			v.executionTimeout(a.ExecutionStartToCloseTimeout, q+".executionStartToCloseTimeout")
			v.duration(a.TaskStartToCloseTimeout, q+".taskStartToCloseTimeout", true)
		}
	case api.DecisionTypeScheduleLambdaFunction:
		a := d.ScheduleLambdaFunctionDecisionAttributes
		n := "scheduleLambdaFunctionDecisionAttributes"
		if attr(n, a != nil) {
			q := p + "." + n
			if v.required(a.ID, q+".id") {
				v.name(a.ID, q+".id")
			}
			v.required(a.Name, q+".name")
			v.lambdaTimeout(a.StartToCloseTimeout, q+".startToCloseTimeout")
		}
	default:
		t := string(d.DecisionType)
		v.fail(&t, p+".decisionType", "Member must satisfy enum value set: ["+strings.Join(api.DecisionTypeValues, ", ")+"]")
	}
}
