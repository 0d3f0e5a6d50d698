package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// pollOnly takes a decision task of a list and does not answer it.
func (f *fixture) pollOnly(domain, list string) {
	f.t.Helper()
	task, err := f.svc.PollForDecisionTask(f.ctx, &api.PollForDecisionTaskInput{Domain: domain, TaskList: api.TaskList{Name: list}, Identity: api.String("slow-decider")})
	f.check(err)
	if task.TaskToken == "" {
		f.t.Fatalf("no decision task on %s", list)
	}
}

// answer takes a decision task of a list and answers it.
func (f *fixture) answer(domain, list string, ds ...api.Decision) {
	f.t.Helper()
	task, err := f.svc.PollForDecisionTask(f.ctx, &api.PollForDecisionTaskInput{Domain: domain, TaskList: api.TaskList{Name: list}, Identity: api.String("decider-2")})
	f.check(err)
	if task.TaskToken == "" {
		f.t.Fatalf("no decision task on %s", list)
	}
	f.check(f.svc.RespondDecisionTaskCompleted(f.ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken, Decisions: ds}))
}

// trouble fills domain "trouble" with one execution of each kind the
// attention page finds.
func (f *fixture) trouble() {
	f.t.Helper()
	f.troubleNamed(func(wid string) string { return wid })
}

// troubleNamed is trouble with each execution's workflow id as name makes
// it of the plain one's.
func (f *fixture) troubleNamed(name func(string) string) {
	f.t.Helper()
	f.register("trouble")
	start := func(wid, list, timeout string) {
		_, err := f.svc.StartWorkflowExecution(f.ctx, &api.StartWorkflowExecutionInput{Domain: "trouble", WorkflowID: name(wid),
			WorkflowType: api.WorkflowType{Name: "process-order", Version: "1"}, TaskList: &api.TaskList{Name: list}, ExecutionStartToCloseTimeout: timeout})
		f.check(err)
	}
	start("near-its-timeout", "n-list", "660")
	start("decider-too-slow", "t-list", "")
	start("bad-decision", "f-list", "")
	start("nobody-works", "s-list", "")
	f.answer("trouble", "n-list")
	f.answer("trouble", "f-list", schedule("x", "no-such-activity"))
	starved := schedule("y", "charge-card")
	starved.ScheduleActivityTaskDecisionAttributes.TaskList = &api.TaskList{Name: "nobody-polls"}
	f.answer("trouble", "s-list", starved)
	f.pollOnly("trouble", "t-list")
	f.srv.Advance(301 * time.Second)
	f.pollOnly("trouble", "t-list")
	f.srv.Advance(301 * time.Second)
}

// Needs attention finds each kind of trouble, and only the executions that
// have it.
func TestAttention(t *testing.T) {
	f := newFixture(t)
	f.trouble()
	w := newWeb(t, f.srv.URL)
	code, body := w.get("/console/d/trouble/attention")
	if code != http.StatusOK {
		t.Fatalf("attention: %d", code)
	}
	sections := strings.Split(body, "<h2>")
	if len(sections) != 5 {
		t.Fatalf("%d sections", len(sections)-1)
	}
	want := []struct{ title, has, cause string }{
		{"keep timing out", "decider-too-slow", `<td class="num bad" data-label="Timeouts in a row">2</td>`},
		{"nobody polls", "nobody-works", "nobody-polls"},
		{"start-to-close timeout", "near-its-timeout", ""},
		{"failed decisions", "bad-decision", "ACTIVITY_TYPE_DOES_NOT_EXIST"},
	}
	all := []string{"decider-too-slow", "nobody-works", "near-its-timeout", "bad-decision"}
	for i, w := range want {
		s := sections[i+1]
		if !strings.Contains(s, w.title) {
			t.Errorf("section %d is %q, want %q", i+1, s[:min(60, len(s))], w.title)
		}
		wantIn(t, w.title, s, w.has, w.cause)
		for _, other := range all {
			if other != w.has && strings.Contains(s, other) {
				t.Errorf("%s lists %s", w.title, other)
			}
		}
	}
	wantIn(t, "attention", body, "Looked at 4 open executions")
	// The run's pending work says the same.
	infos, err := f.svc.ListOpenWorkflowExecutions(f.ctx, &api.ListOpenWorkflowExecutionsInput{Domain: "trouble",
		StartTimeFilter: api.ExecutionTimeFilter{OldestDate: api.Time{Time: time.Unix(0, 0)}}, ExecutionFilter: &api.WorkflowExecutionFilter{WorkflowID: "decider-too-slow"}})
	f.check(err)
	_, body = w.get(execPath("trouble", infos.ExecutionInfos[0].Execution) + "/pending")
	wantIn(t, "pending work", body, "2 decision tasks timed out in a row")
}
