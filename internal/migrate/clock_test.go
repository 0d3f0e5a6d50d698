package migrate_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/migrate"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/postgres"
	"github.com/swfd/swfd/server"
	"github.com/swfd/swfd/sqlite"
)

// A test installation whose manual clock was moved forward resumes at the
// time that clock reached once migrated, SQLite to PostgreSQL and back,
// although the target's own clock (given the wall clock's time at start,
// here t0) shows an earlier one, and although the target may have kept a
// later one: the copy's execution times out at its own instant, when the
// target's clock is moved past it. (Before, the target's clock started at
// the wall clock's time, or at the time it had kept itself.)
func TestCopyKeepsTheClocksTime(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	moved := t0.Add(72 * time.Hour)
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// open serves dsn on a manual clock that shows t0 until it is moved.
	open := func(t *testing.T, dsn string) *server.Server {
		t.Helper()
		s, err := server.Open(ctx, server.Config{DB: dsn, ClockMode: clock.Manual, ClockUnsafe: true, Clock: clock.NewManual(t0), MetricsOff: true, NoConsole: true})
		must(t, err)
		s.Start()
		return s
	}
	sqliteDSN := func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "swfd.db") }
	fromSQLite := func(ctx context.Context, dsn string) (swfd.Store, error) {
		return sqlite.OpenExisting(ctx, strings.TrimPrefix(dsn, "sqlite:"), nil)
	}
	fromPostgres := func(ctx context.Context, dsn string) (swfd.Store, error) { return postgres.OpenExisting(ctx, dsn, nil) }
	for _, tc := range []struct {
		name     string
		from, to func(t testing.TB) string
		source   func(ctx context.Context, dsn string) (swfd.Store, error)
		// targetKept: a server of the target, still empty, kept a later
		// time of its own before the copy.
		targetKept bool
	}{
		{"sqlite to postgres", sqliteDSN, pgtest.NewDatabase, fromSQLite, false},
		{"sqlite to postgres that kept a time", sqliteDSN, pgtest.NewDatabase, fromSQLite, true},
		{"postgres to sqlite", pgtest.NewDatabase, sqliteDSN, fromPostgres, false},
		{"postgres to sqlite that kept a time", pgtest.NewDatabase, sqliteDSN, fromPostgres, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, to := tc.from(t), tc.to(t)
			s := open(t, from)
			svc := s.Service
			must(t, svc.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "shop", WorkflowExecutionRetentionPeriodInDays: "30"}))
			must(t, svc.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "shop", Name: "order", Version: "1",
				DefaultTaskList: &api.TaskList{Name: "deciders"}, DefaultTaskStartToCloseTimeout: "60", DefaultChildPolicy: api.ChildPolicyTerminate}))
			// It times out 74 hours after it starts: after the move
			// below, before the one on the target.
			run, err := svc.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "shop", WorkflowID: "o-1",
				WorkflowType: api.WorkflowType{Name: "order", Version: "1"}, ExecutionStartToCloseTimeout: "266400"})
			must(t, err)
			if m, err := s.Clock.Set(ctx, moved); err != nil || !m.Now.Equal(moved) {
				t.Fatalf("set the source's clock: %+v, %v", m, err)
			}
			must(t, s.Close())

			if tc.targetKept {
				s = open(t, to)
				if _, err := s.Clock.Set(ctx, t0.Add(500*time.Hour)); err != nil {
					t.Fatal(err)
				}
				must(t, s.Close())
			}

			src, err := tc.source(ctx, from)
			must(t, err)
			defer src.Close()
			dst, err := server.OpenStore(ctx, to, nil)
			must(t, err)
			if _, err := migrate.Copy(ctx, src, dst, nil); err != nil {
				t.Fatal(err)
			}
			kept, err := dst.Meta(ctx, clock.KeptKey)
			must(t, err)
			if want := moved.Format("2006-01-02T15:04:05.000Z"); string(kept) != want {
				t.Errorf("the target's kept time: %q, want the source's %q", kept, want)
			}
			must(t, dst.Close())

			s = open(t, to)
			defer s.Close()
			if now := s.Clock.Now(); !now.Equal(moved) {
				t.Fatalf("the target's clock shows %v; want %v, where the source's was", now, moved)
			}
			m, err := s.Clock.Advance(ctx, 3*time.Hour)
			if err != nil || m.Fired == 0 {
				t.Fatalf("advance the target's clock: %+v, %v; want the execution's timeout fired", m, err)
			}
			det, err := s.Service.DescribeWorkflowExecution(ctx, &api.DescribeWorkflowExecutionInput{Domain: "shop",
				Execution: api.WorkflowExecution{WorkflowID: "o-1", RunID: run.RunID}})
			must(t, err)
			if info := det.ExecutionInfo; info.CloseStatus != api.CloseStatusTimedOut || !info.CloseTimestamp.Equal(t0.Add(74*time.Hour)) {
				t.Fatalf("execution on the target: %s closed at %v; want TIMED_OUT at %v", info.CloseStatus, info.CloseTimestamp.Time, t0.Add(74*time.Hour))
			}
		})
	}
}
