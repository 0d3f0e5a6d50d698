package retention_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/server"
)

// retClock is a settable clock.
type retClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *retClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *retClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type retEnv struct {
	t     *testing.T
	ctx   context.Context
	srv   *server.Server
	clock *retClock
}

func newRetEnv(t *testing.T) *retEnv { return newRetEnvOn(t, "sqlite::memory:") }

// newRetEnvOn is newRetEnv over the database db (a server.Config's DB).
func newRetEnvOn(t *testing.T, db string) *retEnv {
	clock := &retClock{t: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	srv, err := server.Open(ctx, server.Config{DB: db, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &retEnv{t: t, ctx: ctx, srv: srv, clock: clock}
}

// onEachStore runs f on a server over SQLite and on one over a fresh
// PostgreSQL database (skipped when no PostgreSQL server is reachable,
// unless SWFD_REQUIRE_POSTGRES=1): what a purge leaves visible depends on
// what each store deletes, its tag rows included.
func onEachStore(t *testing.T, f func(t *testing.T, e *retEnv)) {
	t.Run("SQLite", func(t *testing.T) { f(t, newRetEnv(t)) })
	t.Run("PostgreSQL", func(t *testing.T) { f(t, newRetEnvOn(t, pgtest.NewDatabase(t))) })
}

func (e *retEnv) domain(name, retention string) {
	e.t.Helper()
	s := e.srv.Service
	if err := s.RegisterDomain(e.ctx, &api.RegisterDomainInput{Name: name, WorkflowExecutionRetentionPeriodInDays: retention}); err != nil {
		e.t.Fatal(err)
	}
	if err := s.RegisterWorkflowType(e.ctx, &api.RegisterWorkflowTypeInput{Domain: name, Name: "wf", Version: "1",
		DefaultTaskList: &api.TaskList{Name: "tl"}, DefaultExecutionStartToCloseTimeout: "31536000",
		DefaultTaskStartToCloseTimeout: "60", DefaultChildPolicy: api.ChildPolicyTerminate}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *retEnv) start(domain, id string) string {
	e.t.Helper()
	run, err := e.srv.Service.StartWorkflowExecution(e.ctx, &api.StartWorkflowExecutionInput{Domain: domain, WorkflowID: id,
		WorkflowType: api.WorkflowType{Name: "wf", Version: "1"}, TagList: []string{"keep"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return run.RunID
}

func (e *retEnv) terminate(domain, id string) {
	e.t.Helper()
	if err := e.srv.Service.TerminateWorkflowExecution(e.ctx, &api.TerminateWorkflowExecutionInput{Domain: domain, WorkflowID: id}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *retEnv) purge() {
	e.t.Helper()
	if err := e.srv.Service.Retention().Purge(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

// visible reports whether Describe, GetWorkflowExecutionHistory, List and
// Count (closed, by start and by close time, and by tag) see a closed run;
// they must agree.
func (e *retEnv) visible(domain, id, runID string) bool {
	e.t.Helper()
	s := e.srv.Service
	ex := api.WorkflowExecution{WorkflowID: id, RunID: runID}
	_, derr := s.DescribeWorkflowExecution(e.ctx, &api.DescribeWorkflowExecutionInput{Domain: domain, Execution: ex})
	_, herr := s.GetWorkflowExecutionHistory(e.ctx, &api.GetWorkflowExecutionHistoryInput{Domain: domain, Execution: ex})
	for _, err := range []error{derr, herr} {
		if f, ok := api.AsFault(err); err != nil && (!ok || f.Code != "UnknownResourceFault") {
			e.t.Fatalf("describe/history of %s: %v", id, err)
		}
	}
	all := api.ExecutionTimeFilter{OldestDate: api.NewTime(time.Unix(0, 0))}
	listed := 0
	for _, in := range []api.ListClosedWorkflowExecutionsInput{
		{Domain: domain, StartTimeFilter: &all, ExecutionFilter: &api.WorkflowExecutionFilter{WorkflowID: id}},
		{Domain: domain, CloseTimeFilter: &all, ExecutionFilter: &api.WorkflowExecutionFilter{WorkflowID: id}},
		{Domain: domain, CloseTimeFilter: &all, TagFilter: &api.TagFilter{Tag: "keep"}},
	} {
		out, err := s.ListClosedWorkflowExecutions(e.ctx, &in)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, info := range out.ExecutionInfos {
			if info.Execution.RunID == runID {
				listed++
			}
		}
	}
	counted := 0
	for _, in := range []api.CountClosedWorkflowExecutionsInput{
		{Domain: domain, StartTimeFilter: &all, ExecutionFilter: &api.WorkflowExecutionFilter{WorkflowID: id}},
		{Domain: domain, CloseTimeFilter: &all, ExecutionFilter: &api.WorkflowExecutionFilter{WorkflowID: id}},
	} {
		out, err := s.CountClosedWorkflowExecutions(e.ctx, &in)
		if err != nil {
			e.t.Fatal(err)
		}
		counted += out.Count
	}
	seen := derr == nil && herr == nil && listed == 3 && counted == 2
	gone := derr != nil && herr != nil && listed == 0 && counted == 0
	if !seen && !gone {
		e.t.Fatalf("%s half visible: describe %v, history %v, listed %d of 3, counted %d of 2", id, derr, herr, listed, counted)
	}
	return seen
}

func (e *retEnv) openCount(domain string) int {
	e.t.Helper()
	out, err := e.srv.Service.CountOpenWorkflowExecutions(e.ctx, &api.CountOpenWorkflowExecutionsInput{Domain: domain,
		StartTimeFilter: api.ExecutionTimeFilter{OldestDate: api.NewTime(time.Unix(0, 0))}})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Count
}

// Closed runs stay for the domain's retention period after they close, then
// disappear from Describe, history, List and Count; open runs never do.
func TestRetentionPurgesClosedRuns(t *testing.T) {
	onEachStore(t, func(t *testing.T, e *retEnv) {
		e.domain("ret", "2")
		early := e.start("ret", "early")
		late := e.start("ret", "late")
		e.start("ret", "open")
		e.terminate("ret", "early")
		e.clock.advance(24 * time.Hour)
		e.terminate("ret", "late")

		// One day after the first close, everything is there.
		e.purge()
		if !e.visible("ret", "early", early) || !e.visible("ret", "late", late) {
			t.Fatal("closed runs purged within retention")
		}
		// Just under two days after the first close: still there.
		e.clock.advance(24*time.Hour - time.Millisecond)
		e.purge()
		if !e.visible("ret", "early", early) {
			t.Fatal("run purged before its retention passed")
		}
		// Past two days after the first close: the first run is gone, the
		// second (closed a day later) stays, the open run stays.
		e.clock.advance(2 * time.Millisecond)
		e.purge()
		if e.visible("ret", "early", early) {
			t.Fatal("run still visible past retention")
		}
		if !e.visible("ret", "late", late) {
			t.Fatal("later run purged early")
		}
		if n := e.openCount("ret"); n != 1 {
			t.Fatalf("open runs after purge: %d", n)
		}
		// Long after: the second closed run goes too; the open run is never
		// purged, even when it is older than the retention period.
		e.clock.advance(30 * 24 * time.Hour)
		e.purge()
		if e.visible("ret", "late", late) {
			t.Fatal("second run still visible past retention")
		}
		if n := e.openCount("ret"); n != 1 {
			t.Fatalf("open run purged: %d open", n)
		}
		// The workflowId of a purged run may be used again.
		again := e.start("ret", "early")
		if again == early {
			t.Fatal("same run id reused")
		}
	})
}

// Retention "0" (and "NONE") purges a closed run at the next purge.
func TestRetentionZeroPurgesAtOnce(t *testing.T) {
	onEachStore(t, func(t *testing.T, e *retEnv) {
		e.domain("zero", "0")
		e.domain("none", "NONE")
		e.domain("keep", "1")
		runs := map[string]string{}
		for _, d := range []string{"zero", "none", "keep"} {
			runs[d] = e.start(d, "w")
			e.start(d, "still-open")
			e.terminate(d, "w")
		}
		// The purge runs a moment after the close (the retention loop runs
		// every minute); TestRetentionZeroPurgesOnAClockStandingStill holds a
		// purge at the very instant of the close.
		e.clock.advance(time.Millisecond)
		e.purge()
		if e.visible("zero", "w", runs["zero"]) {
			t.Fatal(`retention "0": closed run still visible`)
		}
		if e.visible("none", "w", runs["none"]) {
			t.Fatal(`retention "NONE": closed run still visible`)
		}
		if !e.visible("keep", "w", runs["keep"]) {
			t.Fatal(`retention "1": closed run purged at once`)
		}
		for _, d := range []string{"zero", "none", "keep"} {
			if n := e.openCount(d); n != 1 {
				t.Fatalf("%s: %d open runs", d, n)
			}
		}
	})
}

// Retention "0" (and "NONE") purges a run closed at the very instant of the
// pass too: on a clock that stands still (--clock manual, swfdtest) the next
// pass comes at the time of the close, and SWF deletes such a run as soon as
// it closes. A domain that keeps closed runs still keeps one closed now.
func TestRetentionZeroPurgesOnAClockStandingStill(t *testing.T) {
	onEachStore(t, func(t *testing.T, e *retEnv) {
		e.domain("zero", "0")
		e.domain("none", "NONE")
		e.domain("keep", "1")
		runs := map[string]string{}
		for _, d := range []string{"zero", "none", "keep"} {
			runs[d] = e.start(d, "w")
			e.terminate(d, "w")
		}
		e.purge()
		if e.visible("zero", "w", runs["zero"]) {
			t.Fatal(`retention "0": a run closed at the time of the pass is still visible`)
		}
		if e.visible("none", "w", runs["none"]) {
			t.Fatal(`retention "NONE": a run closed at the time of the pass is still visible`)
		}
		if !e.visible("keep", "w", runs["keep"]) {
			t.Fatal(`retention "1": closed run purged at once`)
		}
		// A day to the millisecond after its close, the retention of one day
		// has passed.
		e.clock.advance(24 * time.Hour)
		e.purge()
		if e.visible("keep", "w", runs["keep"]) {
			t.Fatal(`retention "1": a run closed a day ago to the millisecond is still visible`)
		}
	})
}

// A task token of a run the retention loop has purged is answered as a
// token that names no task ("Unknown task token"), as one of any run no
// longer stored is. The run cache kept the purged run, so the answer was
// "Unknown execution" for as long as it stayed cached.
func TestPurgedRunsTaskTokenIsUnknown(t *testing.T) {
	e := newRetEnv(t)
	e.domain("gone", "0")
	e.start("gone", "w")
	task, err := e.srv.Service.PollForDecisionTask(e.ctx, &api.PollForDecisionTaskInput{Domain: "gone", TaskList: api.TaskList{Name: "tl"}})
	if err != nil || task.TaskToken == "" {
		t.Fatalf("poll: %v, %+v", err, task)
	}
	e.terminate("gone", "w")
	e.clock.advance(time.Millisecond)
	e.purge()
	err = e.srv.Service.RespondDecisionTaskCompleted(e.ctx, &api.RespondDecisionTaskCompletedInput{TaskToken: task.TaskToken})
	f, ok := api.AsFault(err)
	if !ok || f.Code != "UnknownResourceFault" || !strings.Contains(f.Message, "Unknown task token") {
		t.Fatalf("completing a task of a purged run: %v; want UnknownResourceFault, Unknown task token", err)
	}
}

// A domain whose stored retention is no number of days (written by a tool,
// or an older swfd-seed, rather than RegisterDomain) has nothing purged:
// read as none, it had every closed execution purged at the next pass.
func TestUnreadableRetentionPurgesNothing(t *testing.T) {
	e := newRetEnv(t)
	for _, retention := range []string{"abc", "-3", ""} {
		name := "odd" + retention
		if err := e.srv.Store.CreateDomain(e.ctx, swfd.Domain{Name: name, Status: swfd.StatusRegistered, RetentionDays: retention, Created: e.clock.Now()}, 0); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.Service.RegisterWorkflowType(e.ctx, &api.RegisterWorkflowTypeInput{Domain: name, Name: "wf", Version: "1",
			DefaultTaskList: &api.TaskList{Name: "tl"}, DefaultExecutionStartToCloseTimeout: "31536000",
			DefaultTaskStartToCloseTimeout: "60", DefaultChildPolicy: api.ChildPolicyTerminate}); err != nil {
			t.Fatal(err)
		}
		run := e.start(name, "w")
		e.terminate(name, "w")
		e.clock.advance(400 * 24 * time.Hour)
		e.purge()
		if !e.visible(name, "w", run) {
			t.Errorf("a closed run of a domain whose retention is %q was purged", retention)
		}
	}
}

// A retention of more days than a time.Duration holds (past about 292
// years: 106,752 days and up, written by a tool rather than
// RegisterDomain) keeps every closed execution: the days, multiplied out,
// wrapped around to a cutoff centuries ahead, and every closed execution
// of the domain was purged at the next pass.
func TestRetentionPastWhatADurationHoldsPurgesNothing(t *testing.T) {
	e := newRetEnv(t)
	for _, retention := range []string{"106752", "1000000", "999999999"} {
		name := "long" + retention
		if err := e.srv.Store.CreateDomain(e.ctx, swfd.Domain{Name: name, Status: swfd.StatusRegistered, RetentionDays: retention, Created: e.clock.Now()}, 0); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.Service.RegisterWorkflowType(e.ctx, &api.RegisterWorkflowTypeInput{Domain: name, Name: "wf", Version: "1",
			DefaultTaskList: &api.TaskList{Name: "tl"}, DefaultExecutionStartToCloseTimeout: "31536000",
			DefaultTaskStartToCloseTimeout: "60", DefaultChildPolicy: api.ChildPolicyTerminate}); err != nil {
			t.Fatal(err)
		}
		run := e.start(name, "w")
		e.terminate(name, "w")
		e.clock.advance(400 * 24 * time.Hour)
		e.purge()
		if !e.visible(name, "w", run) {
			t.Errorf("a closed run of a domain whose retention is %s days was purged after 400 days", retention)
		}
	}
}
