package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/postgres"
)

// A manual clock moved forward on a database that keeps its data starts
// there again after a restart, although the clock it is given shows an
// earlier time (the wall clock's, at start): time never goes backwards,
// and a timeout due after the time it reached fires at the next move, at
// its own instant.
func TestManualClockResumesWhereItWasMoved(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	db := "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")
	open := func() *Server {
		t.Helper()
		s, err := Open(ctx, Config{DB: db, ClockMode: clock.Manual, ClockUnsafe: true, Clock: clock.NewManual(t0), MetricsOff: true, NoConsole: true})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		return s
	}

	s := open()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Service.RegisterDomain(ctx, &api.RegisterDomainInput{Name: "shop", WorkflowExecutionRetentionPeriodInDays: "30"}))
	must(s.Service.RegisterWorkflowType(ctx, &api.RegisterWorkflowTypeInput{Domain: "shop", Name: "order", Version: "1",
		DefaultTaskList: &api.TaskList{Name: "deciders"}, DefaultTaskStartToCloseTimeout: "60", DefaultChildPolicy: api.ChildPolicyTerminate}))
	// Its execution times out 74 hours after it starts: after the move
	// below and before the one after the restart.
	run, err := s.Service.StartWorkflowExecution(ctx, &api.StartWorkflowExecutionInput{Domain: "shop", WorkflowID: "o-1",
		WorkflowType: api.WorkflowType{Name: "order", Version: "1"}, ExecutionStartToCloseTimeout: "266400"})
	must(err)
	moved := t0.Add(72 * time.Hour)
	if m, err := s.Clock.Set(ctx, moved); err != nil || !m.Now.Equal(moved) || m.Fired != 0 {
		t.Fatalf("set: %+v, %v", m, err)
	}
	must(s.Close())

	s = open()
	defer s.Close()
	if now := s.Clock.Now(); !now.Equal(moved) {
		t.Fatalf("after the restart the clock shows %v; want %v, where it was moved", now, moved)
	}
	m, err := s.Clock.Advance(ctx, 3*time.Hour)
	if err != nil || m.Fired == 0 {
		t.Fatalf("advance: %+v, %v; want the execution's timeout fired", m, err)
	}
	det, err := s.Service.DescribeWorkflowExecution(ctx, &api.DescribeWorkflowExecutionInput{Domain: "shop",
		Execution: api.WorkflowExecution{WorkflowID: "o-1", RunID: run.RunID}})
	must(err)
	info := det.ExecutionInfo
	if info.CloseStatus != api.CloseStatusTimedOut || !info.CloseTimestamp.Equal(t0.Add(74*time.Hour)) {
		t.Fatalf("execution: %s closed at %v; want TIMED_OUT at %v", info.CloseStatus, info.CloseTimestamp.Time, t0.Add(74*time.Hour))
	}
}

// A manual clock moved ahead on a database that keeps its data, then a
// restart with the real clock: the real clock stays the wall clock's (new
// events are dated before the latest ones), and swfd warns of it at start,
// naming the time kept. Once the wall clock has passed that time, or on a
// database that keeps none, it says nothing.
func TestRealClockWarnsOfATimeKeptAhead(t *testing.T) {
	ctx := context.Background()
	db := "sqlite:" + filepath.Join(t.TempDir(), "swfd.db")
	wall := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	open := func(cfg Config) (*Server, string) {
		t.Helper()
		var buf bytes.Buffer
		cfg.DB, cfg.MetricsOff, cfg.NoConsole = db, true, true
		cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
		s, err := Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s, buf.String()
	}

	// A real clock on a new database: nothing kept, nothing to say.
	s, log := open(Config{Clock: clock.NewManual(wall)})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if log != "" {
		t.Errorf("real clock, nothing kept: logged %q", log)
	}

	s, _ = open(Config{ClockMode: clock.Manual, ClockUnsafe: true, Clock: clock.NewManual(wall)})
	kept := wall.Add(10 * 24 * time.Hour)
	if _, err := s.Clock.Set(ctx, kept); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The real clock (a stand-in for the wall clock, at wall).
	s, log = open(Config{Clock: clock.NewManual(wall)})
	if s.Clock != nil {
		t.Errorf("the real clock has a controller that moves it")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"level=WARN", "new events are dated by the wall clock, before the latest ones",
		"kept=2026-12-16T09:00:00.000Z", "wall_clock=2026-12-06T09:00:00.000Z", "ahead=240h0m0s"} {
		if !strings.Contains(log, want) {
			t.Errorf("restart with the real clock 10 days behind the time kept: log %q lacks %q", log, want)
		}
	}

	// The wall clock has passed the time kept: nothing to say.
	s, log = open(Config{Clock: clock.NewManual(kept.Add(time.Millisecond))})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if log != "" {
		t.Errorf("real clock past the time kept: logged %q", log)
	}
}

// On a PostgreSQL database several nodes may share, a node whose clock
// moves must be alone, since a move reaches only the node it is made on: a
// second node is refused while it runs, whatever its clock, and it is
// refused while another node runs. Once it has stopped, others start.
func TestMovingClockNodeIsAloneOnPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	open := func(mode clock.Mode) (*Server, error) {
		cfg := Config{DB: dsn, ClockMode: mode, MetricsOff: true, NoConsole: true}
		if mode == clock.Manual {
			cfg.ClockUnsafe = true
		}
		return Open(ctx, cfg)
	}
	manual, err := open(clock.Manual)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []clock.Mode{clock.Manual, clock.Real} {
		s, err := open(mode)
		if err == nil {
			s.Close()
			t.Fatalf("a node with a %s clock started beside one with a manual clock", mode)
		}
		if !errors.Is(err, postgres.ErrNotAlone) || !strings.Contains(err.Error(), "--clock manual") {
			t.Fatalf("a node with a %s clock beside one with a manual clock: %v", mode, err)
		}
	}
	if err := manual.Close(); err != nil {
		t.Fatal(err)
	}

	real1, err := open(clock.Real)
	if err != nil {
		t.Fatalf("a node with the real clock after the manual one stopped: %v", err)
	}
	defer real1.Close()
	real2, err := open(clock.Real)
	if err != nil {
		t.Fatalf("a second node with the real clock: %v", err)
	}
	defer real2.Close()
	if s, err := open(clock.Manual); err == nil {
		s.Close()
		t.Fatal("a node with a manual clock started beside nodes with the real clock")
	} else if !errors.Is(err, postgres.ErrNotAlone) || !strings.Contains(err.Error(), "--clock manual needs the database to itself") {
		t.Fatalf("a node with a manual clock beside others: %v", err)
	}
}

// The engine finds the next timer past those a move went on past, however
// many of them there are (more than one read of the store holds).
func TestClockEngineNextTimerPastOverdue(t *testing.T) {
	ctx := context.Background()
	st, err := OpenStore(ctx, MemoryDB, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	var timers []swfd.Timer
	for i := range 300 {
		timers = append(timers, swfd.Timer{RunID: "r", Key: fmt.Sprint(i), Due: at.Add(-time.Duration(i) * time.Second)})
	}
	timers = append(timers, swfd.Timer{RunID: "r", Key: "later", Due: at.Add(time.Hour)})
	ex := swfd.Execution{Domain: "d", WorkflowID: "w", RunID: "r", Open: true, StartTime: at.Add(-time.Hour), Version: 1, State: []byte("{}")}
	if err := st.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: ex, Create: true, AddTimers: timers}}}); err != nil {
		t.Fatal(err)
	}
	e := clockEngine{st: st}
	if due, ok, err := e.NextTimer(ctx, time.Time{}); err != nil || !ok || !due.Equal(at.Add(-299*time.Second)) {
		t.Fatalf("NextTimer(zero) = %v, %v, %v; want the earliest", due, ok, err)
	}
	if due, ok, err := e.NextTimer(ctx, at); err != nil || !ok || !due.Equal(at.Add(time.Hour)) {
		t.Fatalf("NextTimer(past 300 overdue) = %v, %v, %v; want %v", due, ok, err, at.Add(time.Hour))
	}
	if _, ok, err := e.NextTimer(ctx, at.Add(time.Hour)); err != nil || ok {
		t.Fatalf("NextTimer(past all) = %v, %v; want none", ok, err)
	}
	if ts, err := e.Overdue(ctx, at, clock.MaxStuck); err != nil || len(ts) != clock.MaxStuck {
		t.Fatalf("Overdue = %d timers, %v; want %d", len(ts), err, clock.MaxStuck)
	}
}
