package server

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd/internal/logbuf"
	"github.com/swfd/swfd/internal/pgtest"
)

// A call whose write waits for a run's row that another session of the
// database keeps locked (an operator's SELECT … FOR UPDATE in a psql
// transaction left open, a client of the database stuck in its
// transaction) is answered ServiceUnavailable at its --call-timeout,
// saying nothing was applied; nothing is, once the lock goes, and the same
// call then succeeds. Before, its commit waited for the store's commit
// timeout (10 s) whatever the call's deadline.
func TestCallOnALockedRunAnsweredAtItsDeadline(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	var logBuf logbuf.Buffer
	s, err := Open(context.Background(), Config{DB: dsn, Logger: slog.New(slog.NewTextHandler(&logBuf, nil)), MetricsOff: true, NoConsole: true,
		CallTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Start()
	waitUntil(t, "/readyz to answer ready", func() bool { code, _ := probe(t, s, "/readyz"); return code == 200 })
	for _, c := range []struct{ op, body string }{
		{"RegisterDomain", `{"name":"d","workflowExecutionRetentionPeriodInDays":"1"}`},
		{"RegisterWorkflowType", `{"domain":"d","name":"wf","version":"1","defaultTaskList":{"name":"l"},"defaultExecutionStartToCloseTimeout":"600","defaultTaskStartToCloseTimeout":"60","defaultChildPolicy":"TERMINATE"}`},
		{"StartWorkflowExecution", `{"domain":"d","workflowId":"w","workflowType":{"name":"wf","version":"1"}}`},
	} {
		if code, body := callAPI(t, s, c.op, c.body); code != 200 {
			t.Fatalf("%s: %d %s", c.op, code, body)
		}
	}
	ctx := context.Background()
	locker, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	if _, err := locker.Exec(ctx, "BEGIN; SELECT run_id FROM executions FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	signal := `{"domain":"d","workflowId":"w","signalName":"s"}`
	began := time.Now()
	code, body := callAPI(t, s, "SignalWorkflowExecution", signal)
	took := time.Since(began)
	if code != 503 || !strings.Contains(body, "ServiceUnavailable") || strings.Contains(body, "unknown") {
		t.Errorf("a signal of a run another session keeps locked: %d %s; want 503, not applied", code, body)
	}
	if took > 4*time.Second {
		t.Errorf("a signal of a run another session keeps locked was answered after %s; --call-timeout is 1s", took.Round(time.Millisecond))
	}
	if _, err := locker.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	var runID string
	if err := locker.QueryRow(ctx, "SELECT run_id FROM executions").Scan(&runID); err != nil {
		t.Fatal(err)
	}
	hist := `{"domain":"d","execution":{"workflowId":"w","runId":"` + runID + `"}}`
	if code, body := callAPI(t, s, "GetWorkflowExecutionHistory", hist); code != 200 || strings.Contains(body, "WorkflowExecutionSignaled") {
		t.Fatalf("the history once the lock is gone: %d %s; want no signal", code, body)
	}
	if code, body := callAPI(t, s, "SignalWorkflowExecution", signal); code != 200 {
		t.Fatalf("the signal once the lock is gone: %d %s", code, body)
	}
}

// /healthz and /readyz while another session keeps schema_version (which
// both read) locked, an operator's BEGIN; LOCK TABLE … left open in psql:
// each answers 503 within its own bound (2 s) rather than wait for the
// lock, and 200 again once the lock is gone.
func TestHealthBoundedWhenSchemaVersionLocked(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	s, err := Open(context.Background(), Config{DB: dsn, Logger: slog.New(slog.DiscardHandler), MetricsOff: true, NoConsole: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Start()
	waitUntil(t, "/readyz to answer ready", func() bool { code, _ := probe(t, s, "/readyz"); return code == 200 })
	ctx := context.Background()
	locker, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	if _, err := locker.Exec(ctx, "BEGIN; LOCK TABLE schema_version, executions IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		began := time.Now()
		code, body := probe(t, s, path)
		took := time.Since(began)
		if code != 503 {
			t.Errorf("%s with schema_version locked: %d %q, want 503", path, code, body)
		}
		if took > 4*time.Second {
			t.Errorf("%s with schema_version locked answered after %s; its bound is 2 s", path, took.Round(time.Millisecond))
		}
	}
	if _, err := locker.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "/healthz to answer ok once the lock is gone", func() bool { code, _ := probe(t, s, "/healthz"); return code == 200 })
	waitUntil(t, "/readyz to answer ready once the lock is gone", func() bool { code, _ := probe(t, s, "/readyz"); return code == 200 })
}
