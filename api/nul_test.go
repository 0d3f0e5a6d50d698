package api_test

import (
	"testing"

	"github.com/swfd/swfd/api"
)

// A name, an ARN, a description or an execution tag holding U+0000 is a
// ValidationException naming the member, whatever the operation (a lookup,
// a registration, a filter) and however deep (a decision's attributes);
// free-form data may hold the character.
func TestNULRefusedInNamesAndTags(t *testing.T) {
	for _, c := range []struct{ shape, body, at string }{
		{"RegisterDomainInput", `{"name":"d","workflowExecutionRetentionPeriodInDays":"1","description":"a\u0000b"}`, "description"},
		{"RegisterActivityTypeInput", `{"domain":"d","name":"n","version":"1","description":"\u0000"}`, "description"},
		{"DescribeDomainInput", `{"name":"a\u0000"}`, "name"},
		{"DescribeWorkflowTypeInput", `{"domain":"d","workflowType":{"name":"n","version":"1\u0000"}}`, "workflowType.version"},
		{"StartWorkflowExecutionInput", `{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"tagList":["ok","a\u0000"]}`, "tagList.2.member"},
		{"StartWorkflowExecutionInput", `{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"lambdaRole":"arn\u0000"}`, "lambdaRole"},
		{"SignalWorkflowExecutionInput", `{"domain":"d","workflowId":"w\u0000","signalName":"s"}`, "workflowId"},
		{"TerminateWorkflowExecutionInput", `{"domain":"d","workflowId":"w","runId":"\u0000"}`, "runId"},
		{"DescribeWorkflowExecutionInput", `{"domain":"d","execution":{"workflowId":"w","runId":"r\u0000"}}`, "execution.runId"},
		{"ListOpenWorkflowExecutionsInput", `{"domain":"d","startTimeFilter":{"oldestDate":0},"tagFilter":{"tag":"\u0000"}}`, "tagFilter.tag"},
		{"ListOpenWorkflowExecutionsInput", `{"domain":"d","startTimeFilter":{"oldestDate":0},"typeFilter":{"name":"n","version":"\u0000"}}`, "typeFilter.version"},
		{"ListActivityTypesInput", `{"domain":"d","registrationStatus":"REGISTERED","name":"\u0000"}`, "name"},
		{"CountPendingDecisionTasksInput", `{"domain":"d\u0000","taskList":{"name":"t"}}`, "domain"},
		{"ListTagsForResourceInput", `{"resourceArn":"arn:aws:swf:us-east-1:123456789012:/domain/d\u0000"}`, "resourceArn"},
		{"RespondDecisionTaskCompletedInput", `{"taskToken":"t","decisions":[{"decisionType":"StartChildWorkflowExecution","startChildWorkflowExecutionDecisionAttributes":{"workflowType":{"name":"n","version":"1"},"workflowId":"c","tagList":["\u0000"]}}]}`,
			"decisions.1.member.startChildWorkflowExecutionDecisionAttributes.tagList.1.member"},
		{"RespondDecisionTaskCompletedInput", `{"taskToken":"t","decisions":[{"decisionType":"SignalExternalWorkflowExecution","signalExternalWorkflowExecutionDecisionAttributes":{"workflowId":"w\u0000","signalName":"s"}}]}`,
			"decisions.1.member.signalExternalWorkflowExecutionDecisionAttributes.workflowId"},
		{"RespondDecisionTaskCompletedInput", `{"taskToken":"t","decisions":[{"decisionType":"ContinueAsNewWorkflowExecution","continueAsNewWorkflowExecutionDecisionAttributes":{"tagList":["x\u0000"]}}]}`,
			"decisions.1.member.continueAsNewWorkflowExecutionDecisionAttributes.tagList.1.member"},
	} {
		wantFault(t, c.shape, c.body, api.ValidationException, "at '"+c.at+"'", "Member must not contain the character U+0000")
	}
	for _, c := range []struct{ shape, body string }{
		{"StartWorkflowExecutionInput", `{"domain":"d","workflowId":"w","workflowType":{"name":"n","version":"1"},"input":"a\u0000b"}`},
		{"SignalWorkflowExecutionInput", `{"domain":"d","workflowId":"w","signalName":"s\u0000","input":"\u0000"}`},
		{"PollForDecisionTaskInput", `{"domain":"d","taskList":{"name":"t"},"identity":"\u0000"}`},
		{"RecordActivityTaskHeartbeatInput", `{"taskToken":"t","details":"\u0000"}`},
		{"RespondActivityTaskFailedInput", `{"taskToken":"t","reason":"\u0000","details":"\u0000"}`},
	} {
		wantValid(t, c.shape, c.body)
	}
	for name, ok := range api.NoNULShapes() {
		if !ok {
			t.Errorf("noNUL names %s, which is not a string shape of the model", name)
		}
	}
}
