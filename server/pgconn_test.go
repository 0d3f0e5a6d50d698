package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/internal/pgtest"
)

// openPostgresServer opens and starts a server on a database of its own,
// with its log in a buffer, and waits until it is ready.
func openPostgresServer(t *testing.T, dsn string) (*Server, *logbuf.Buffer) {
	t.Helper()
	var logBuf logbuf.Buffer
	s, err := Open(context.Background(), Config{DB: dsn, Logger: slog.New(slog.NewTextHandler(&logBuf, nil)), MetricsOff: true, NoConsole: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Start()
	waitUntil(t, "/readyz to answer ready", func() bool { code, _ := probe(t, s, "/readyz"); return code == 200 })
	return s, &logBuf
}

// busyPool has several calls made at once, so that the store's pool
// holds several connections, each used just now.
func busyPool(t *testing.T, s *Server) {
	t.Helper()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				callAPI(t, s, "ListDomains", `{"registrationStatus":"REGISTERED"}`)
			}
		}()
	}
	wg.Wait()
}

// Every session of the database is terminated (pg_terminate_backend, as an
// operator does, or a failover; a restart of PostgreSQL does the same to
// the sessions) and then a call of each kind is made: reads, registry
// writes, the commits of a workflow's steps, polls. Each must be
// answered as if nothing had happened. The pool holds connections whose
// backends are gone; before, the first call to draw one failed with a 500
// InternalFailure ("FATAL: terminating connection due to administrator
// command") wherever the store did not try again (the registry's writes).
// A first pass kills before every call; a second kills once and makes
// every call after it, so that the calls after the first do not draw the
// other dead connections one by one.
func TestCallsAfterTheDatabaseEndedEverySession(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	s, logBuf := openPostgresServer(t, dsn)
	for pass, killEach := range []bool{true, false} {
		d := fmt.Sprintf("d%d", pass)
		other := fmt.Sprintf("other%d", pass)
		var decisionToken, activityToken string
		calls := []struct {
			op, body string
			got      func(body string)
		}{
			{op: "RegisterDomain", body: `{"name":"` + d + `","workflowExecutionRetentionPeriodInDays":"1"}`},
			{op: "RegisterDomain", body: `{"name":"` + other + `","workflowExecutionRetentionPeriodInDays":"1"}`},
			{op: "DescribeDomain", body: `{"name":"` + d + `"}`},
			{op: "ListDomains", body: `{"registrationStatus":"REGISTERED"}`},
			{op: "TagResource", body: `{"resourceArn":"arn:aws:swf:us-east-1:123456789012:/domain/` + d + `","tags":[{"key":"k","value":"v"}]}`},
			{op: "RegisterWorkflowType", body: `{"domain":"` + d + `","name":"wf","version":"1","defaultTaskList":{"name":"deciders"},
				"defaultExecutionStartToCloseTimeout":"3600","defaultTaskStartToCloseTimeout":"60","defaultChildPolicy":"TERMINATE"}`},
			{op: "RegisterActivityType", body: `{"domain":"` + d + `","name":"act","version":"1","defaultTaskList":{"name":"workers"},
				"defaultTaskScheduleToStartTimeout":"NONE","defaultTaskScheduleToCloseTimeout":"NONE",
				"defaultTaskStartToCloseTimeout":"300","defaultTaskHeartbeatTimeout":"NONE"}`},
			{op: "RegisterActivityType", body: `{"domain":"` + d + `","name":"old","version":"1"}`},
			{op: "DeprecateActivityType", body: `{"domain":"` + d + `","activityType":{"name":"old","version":"1"}}`},
			{op: "DescribeWorkflowType", body: `{"domain":"` + d + `","workflowType":{"name":"wf","version":"1"}}`},
			{op: "StartWorkflowExecution", body: `{"domain":"` + d + `","workflowId":"w","workflowType":{"name":"wf","version":"1"}}`},
			{op: "SignalWorkflowExecution", body: `{"domain":"` + d + `","workflowId":"w","signalName":"go"}`},
			{op: "PollForDecisionTask", body: `{"domain":"` + d + `","taskList":{"name":"deciders"},"identity":"decider"}`,
				got: func(body string) { decisionToken = taskToken(t, body) }},
			{op: "RespondDecisionTaskCompleted", body: `{"taskToken":%q,"decisions":[{"decisionType":"ScheduleActivityTask",
				"scheduleActivityTaskDecisionAttributes":{"activityId":"a1","activityType":{"name":"act","version":"1"}}}]}`},
			{op: "PollForActivityTask", body: `{"domain":"` + d + `","taskList":{"name":"workers"},"identity":"worker"}`,
				got: func(body string) { activityToken = taskToken(t, body) }},
			{op: "RecordActivityTaskHeartbeat", body: `{"taskToken":%q,"details":"half"}`},
			{op: "RespondActivityTaskCompleted", body: `{"taskToken":%q,"result":"done"}`},
			{op: "GetWorkflowExecutionHistory", body: `{"domain":"` + d + `","execution":{"workflowId":"w","runId":"%s"}}`},
			{op: "CountOpenWorkflowExecutions", body: `{"domain":"` + d + `","startTimeFilter":{"oldestDate":0}}`},
			{op: "ListOpenWorkflowExecutions", body: `{"domain":"` + d + `","startTimeFilter":{"oldestDate":0}}`},
			{op: "DeprecateDomain", body: `{"name":"` + other + `"}`},
		}
		var runID string
		if !killEach {
			busyPool(t, s)
			if n := pgtest.TerminateBackends(t, dsn); n == 0 {
				t.Fatal("no session to terminate")
			}
		}
		for _, c := range calls {
			body := c.body
			switch {
			case strings.Contains(body, `"runId":"%s"`):
				body = fmt.Sprintf(body, runID)
			case strings.Contains(body, "%q") && strings.HasPrefix(c.op, "RespondDecision"):
				body = fmt.Sprintf(body, decisionToken)
			case strings.Contains(body, "%q"):
				body = fmt.Sprintf(body, activityToken)
			}
			if killEach {
				busyPool(t, s)
				if n := pgtest.TerminateBackends(t, dsn); n == 0 {
					t.Fatal("no session to terminate")
				}
			}
			code, out := callAPI(t, s, c.op, body)
			if code != http.StatusOK {
				t.Fatalf("pass %d (a kill before each call: %v): %s after every session was terminated: %d %s\nlog:\n%s",
					pass, killEach, c.op, code, out, logBuf.String())
			}
			if c.op == "StartWorkflowExecution" {
				var r struct{ RunID string }
				json.Unmarshal([]byte(out), &r)
				runID = r.RunID
			}
			if c.got != nil {
				c.got(out)
			}
		}
	}
}

// taskToken is the taskToken of a poll's answer, which must hold a task.
func taskToken(t *testing.T, body string) string {
	t.Helper()
	var r struct{ TaskToken string }
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.TaskToken == "" {
		t.Fatalf("a poll's answer without a task: %s", body)
	}
	return r.TaskToken
}
