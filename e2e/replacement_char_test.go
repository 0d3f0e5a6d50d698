package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/swf/types"
	"github.com/swfd/swfd/internal/swfdtest"
)

// U+FFFD, the replacement character, is a character a name may hold like
// any other: sent escaped ("\ufffd") or as its three bytes (EF BF BD), it
// is taken and echoed back as those three bytes, in the API's names and in
// a decision's. It was refused as "Member must be valid UTF-8", which is
// for bytes that are not UTF-8; those are still refused, naming the member.
func TestReplacementCharacterInNames(t *testing.T) {
	srv := swfdtest.Start(t, swfdtest.Options{})
	const fffd = "\xef\xbf\xbd"
	for _, c := range []struct{ sent, name string }{
		{`"escaped\ufffd"`, "escaped" + fffd},
		{`"raw` + fffd + `"`, "raw" + fffd},
		{`"` + fffd + `"`, fffd},
	} {
		st, _, body := rgRaw(t, srv.URL, "RegisterDomain", `{"name":`+c.sent+`,"workflowExecutionRetentionPeriodInDays":"1"}`)
		if st != 200 {
			t.Errorf("RegisterDomain %s: %d %s", c.sent, st, body)
			continue
		}
		st, _, body = rgRaw(t, srv.URL, "DescribeDomain", `{"name":`+c.sent+`}`)
		if st != 200 || !strings.Contains(body, `"name":"`+c.name+`"`) {
			t.Errorf("DescribeDomain %s: %d %q; want the name %q back byte for byte", c.sent, st, body, c.name)
		}
	}
	st, _, body := rgRaw(t, srv.URL, "RegisterDomain", `{"name":"bad`+"\xff"+`","workflowExecutionRetentionPeriodInDays":"1"}`)
	if want := `Request body is not valid UTF-8 at byte 13, in the value at 'name'`; st != 400 || !strings.Contains(body, "SerializationException") || !strings.Contains(body, want) {
		t.Errorf("a name with the byte FF: %d %s; want a SerializationException %q", st, body, want)
	}

	// In a decision: an activity id holding U+FFFD schedules the activity.
	h := newWFHarness(t, swfdtest.Options{})
	runID := h.start("wf")
	d := h.mustDecision("deciders")
	h.decide(d.TaskToken, scheduleActivity("act"+fffd, "x"))
	evs := h.history("wf", runID)
	if len(evs) < 5 || evs[4].EventType != types.EventTypeActivityTaskScheduled || aws.ToString(evs[4].ActivityTaskScheduledEventAttributes.ActivityId) != "act"+fffd {
		t.Errorf("history %v; want event 5 ActivityTaskScheduled for %q", eventTypes(evs), "act"+fffd)
	}
	if a := h.mustActivity("workers"); aws.ToString(a.ActivityId) != "act"+fffd {
		t.Errorf("activity task's activityId = %q, want %q", aws.ToString(a.ActivityId), "act"+fffd)
	}
	// A workflow id holding it starts a run its decider sees under that id.
	h.start("wf" + fffd)
	if d := h.mustDecision("deciders"); aws.ToString(d.WorkflowExecution.WorkflowId) != "wf"+fffd {
		t.Errorf("decision task's workflowId = %q, want %q", aws.ToString(d.WorkflowExecution.WorkflowId), "wf"+fffd)
	}
}
