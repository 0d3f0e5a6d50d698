package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/promtest"
)

// A call refused at the clock's gate (it waited --call-timeout for a move
// of the clock to end) is answered like any other refused call: counted in
// swfd_api_calls_total with its fault and written to the access log. It
// was answered 503 out of the frontend's sight, so neither knew of it.
func TestCallRefusedAtTheClocksGateIsCountedAndLogged(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "access.log")
	s, err := Open(ctx, Config{Dev: true, ClockMode: clock.Manual, Clock: clock.NewManual(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)),
		NoConsole: true, AccessLog: path, CallTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			s.Close()
		}
	})
	s.Start()

	// The move: the gate held for good until the call is answered (the
	// error keeps the controller from taking the hold for a reset).
	rec := httptest.NewRecorder()
	errHeld := errors.New("held")
	err = s.Clock.Exclusive(func() error {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"domain":"d","workflowId":"w","signalName":"s"}`))
		req.Header.Set("X-Amz-Target", "SimpleWorkflowService.SignalWorkflowExecution")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		answered := make(chan struct{})
		go func() {
			defer close(answered)
			s.Handler.ServeHTTP(rec, req)
		}()
		<-answered
		return errHeld
	})
	if !errors.Is(err, errHeld) {
		t.Fatal(err)
	}
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("x-amzn-ErrorType") != api.ServiceUnavailable || rec.Header().Get("x-amzn-RequestId") == "" {
		t.Fatalf("the call waiting for the move: %d %q (request id %q) %s; want 503 ServiceUnavailable",
			rec.Code, rec.Header().Get("x-amzn-ErrorType"), rec.Header().Get("x-amzn-RequestId"), rec.Body)
	}

	m := httptest.NewRecorder()
	s.Handler.ServeHTTP(m, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	fams, err := promtest.Parse(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := fams.Value("swfd_api_calls_total", "operation", "SignalWorkflowExecution", "outcome", api.ServiceUnavailable); v != 1 {
		t.Errorf("swfd_api_calls_total{operation=SignalWorkflowExecution,outcome=ServiceUnavailable} = %v; want 1", v)
	}

	closed = true
	if err := s.Close(); err != nil { // writes what the access log holds
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var lines []map[string]any
	for sc := bufio.NewScanner(fh); sc.Scan(); {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("access log line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 1 || lines[0]["operation"] != "SignalWorkflowExecution" || lines[0]["status"] != float64(503) ||
		lines[0]["fault"] != api.ServiceUnavailable || lines[0]["request_id"] != rec.Header().Get("x-amzn-RequestId") {
		t.Fatalf("access log: %v; want the refused call's line (503 ServiceUnavailable, request id %s)", lines, rec.Header().Get("x-amzn-RequestId"))
	}
	// It waited for the move before it was refused.
	if ms, _ := lines[0]["latency_ms"].(float64); ms < 50 {
		t.Errorf("latency_ms %v; want the time it waited at the gate, at least the call timeout (50 ms)", ms)
	}
}

// A long poll handed a task while the clock moves waits for the move to
// start the task no longer than a call waits at the gate (--call-timeout):
// it then gives the task back, unstarted, and is answered empty, as a poll
// that found no task; the next poll after the move gets the task. The poll
// waited for the whole move, and started the task after it, however long
// that took, for a client that may have given up on the poll meanwhile.
func TestPollHandedATaskDuringAMoveGivesItBack(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Dev: true, ClockMode: clock.Manual, Clock: clock.NewManual(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)),
		NoConsole: true, CallTimeout: 50 * time.Millisecond, PollTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Start()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Service.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "d", WorkflowExecutionRetentionPeriodInDays: "1"}))
	must(s.Service.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "d", Name: "wf", Version: "1",
		DefaultTaskList: &api.TaskList{Name: "l"}, DefaultExecutionStartToCloseTimeout: "3600", DefaultTaskStartToCloseTimeout: "60",
		DefaultChildPolicy: api.ChildPolicyTerminate}))
	run, err := s.Service.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "d", WorkflowID: "w", WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}})
	must(err)

	poll := func() (int, map[string]any) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"domain":"d","taskList":{"name":"l"}}`))
		req.Header.Set("X-Amz-Target", "SimpleWorkflowService.PollForDecisionTask")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		rec := httptest.NewRecorder()
		s.Handler.ServeHTTP(rec, req)
		var out map[string]any
		json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	type answer struct {
		code int
		out  map[string]any
	}
	answered := make(chan answer, 1)
	var first *answer
	errHeld := errors.New("held")
	err = s.Clock.Exclusive(func() error {
		go func() {
			code, out := poll()
			answered <- answer{code, out}
		}()
		select {
		case a := <-answered:
			first = &a
		case <-time.After(20 * time.Second):
			t.Error("the poll handed a task during the move was still waiting after 20 s; want it answered after the call timeout (50 ms)")
		}
		return errHeld
	})
	if !errors.Is(err, errHeld) {
		t.Fatal(err)
	}
	if first == nil {
		a := <-answered
		first = &a
	}
	if tok, _ := first.out["taskToken"].(string); first.code != http.StatusOK || tok != "" {
		t.Fatalf("the poll during the move: %d %v; want an empty answer", first.code, first.out)
	}
	code, next := poll()
	if tok, _ := next["taskToken"].(string); code != http.StatusOK || tok == "" {
		t.Fatalf("the poll after the move: %d %v; want the decision task, given back unstarted", code, next)
	}
	h, err := s.Service.GetWorkflowExecutionHistory(ctx, &api.GetWorkflowExecutionHistoryInput{Domain: "d", Execution: api.WorkflowExecution{WorkflowID: "w", RunID: run.RunID}})
	must(err)
	started := 0
	for _, e := range h.Events {
		if e.EventType == api.EventTypeDecisionTaskStarted {
			started++
		}
	}
	if started != 1 {
		t.Fatalf("%d DecisionTaskStarted; want 1, by the poll after the move", started)
	}
}
