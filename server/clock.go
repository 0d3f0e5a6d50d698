package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/admin"
	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/clock"
	"github.com/swfd/swfd/frontend"
	"github.com/swfd/swfd/postgres"
	"github.com/swfd/swfd/runs"
	"github.com/swfd/swfd/service"
)

// MemoryDB is the DSN of the in-memory store.
const MemoryDB = "sqlite::memory:"

// checkClock checks the clock settings against the store and returns the
// clock's mode.
func checkClock(cfg Config) (clock.Mode, error) {
	mode := cfg.ClockMode
	if mode == "" {
		mode = clock.Real
	}
	if _, err := clock.ParseMode(string(mode)); err != nil {
		return "", err
	}
	if mode == clock.Skip && (strings.HasPrefix(cfg.DB, "postgres://") || strings.HasPrefix(cfg.DB, "postgresql://")) {
		// A skip clock must see every commit to know when nothing could
		// happen, and other nodes' commits are only news.
		return "", errors.New("--clock skip runs on a single node with SQLite; use --clock manual, which runs on one node with either store")
	}
	persistent := cfg.DB != MemoryDB
	if mode != clock.Real && persistent && !cfg.ClockUnsafe {
		return "", fmt.Errorf("--clock %s would move time for every timer in a database that keeps its data (--db), firing real timers early; "+
			"use --db %s, or add --clock-unsafe if that is really intended", mode, MemoryDB)
	}
	return mode, nil
}

// openClock makes the clock the settings ask for: cfg.Clock is set to it
// (kept if it is movable already, so a reset keeps the time). It returns
// the controller that moves it, nil when the clock is real.
func openClock(cfg *Config) (*clock.Controller, error) {
	mode, err := checkClock(*cfg)
	if err != nil || mode == clock.Real {
		return nil, err
	}
	switch mode {
	case clock.Manual:
		if _, ok := cfg.Clock.(clock.Movable); !ok {
			start := time.Now()
			if cfg.Clock != nil {
				start = cfg.Clock.Now()
			}
			cfg.Clock = clock.NewManual(start)
		}
	case clock.Skip:
		if _, ok := cfg.Clock.(clock.Movable); !ok {
			cfg.Clock = clock.NewSkip()
		}
	}
	return clock.NewController(mode, cfg.Clock)
}

// warnKeptClock is called when the clock is real. If st keeps a time that
// a clock that moves (--clock manual or skip) reached on it, and that time
// is ahead of now (the wall clock when nil), it logs a warning that names
// the time: the real clock does not resume from it, so the events written
// from now on are dated by the wall clock, before the latest ones, until
// the wall clock passes it. A time kept that cannot be read is warned of
// too; neither stops swfd.
func warnKeptClock(ctx context.Context, st clock.Keeper, now swfd.Clock, log *slog.Logger) {
	kept, ok, err := clock.Kept(ctx, st)
	if err != nil {
		log.Warn("the clock is real; the time a clock that moves reached on this database cannot be read", "err", err)
		return
	}
	if !ok {
		return
	}
	if now == nil {
		now = swfd.SystemClock{}
	}
	wall := now.Now().UTC().Truncate(clock.Precision)
	if !kept.After(wall) {
		return
	}
	const layout = "2006-01-02T15:04:05.000Z"
	log.Warn("the clock is real, but a clock that moves (--clock manual or skip) took this database's time ahead of the wall clock, "+
		"to the time kept: new events are dated by the wall clock, before the latest ones, until it passes that time "+
		"(a restart with that --clock and --clock-unsafe resumes from it)",
		"kept", kept.Format(layout), "wall_clock", wall.Format(layout), "ahead", kept.Sub(wall).Round(time.Second).String())
}

// nodeClaimer is a store that several swfd nodes may share, which knows
// whether others use it (a *postgres.DB).
type nodeClaimer interface {
	ClaimNode(ctx context.Context, alone bool) (release func(), err error)
}

// claimNode claims this node's place on st when other nodes may share it:
// alone when the clock moves (ctl not nil), beside other nodes when it is
// real. Every node has its own clock, and a move reaches only the node it
// is made on: a node beside one whose clock moves would date events by
// another time, before or after the moved clock's, and a run's history
// would go back and forth between them. So a node whose clock moves is
// refused on a database another node uses, and any node is refused on a
// database where one whose clock moves runs. release ends the claim; it
// does nothing for a store that only one node uses.
func claimNode(ctx context.Context, st swfd.Store, ctl *clock.Controller) (release func(), err error) {
	c, ok := st.(nodeClaimer)
	if !ok {
		return func() {}, nil
	}
	release, err = c.ClaimNode(ctx, ctl != nil)
	switch {
	case errors.Is(err, postgres.ErrNotAlone) && ctl != nil:
		return nil, fmt.Errorf("--clock %s needs the database to itself, and another swfd node uses it: each node has its own clock, "+
			"and a move reaches only the node it is made on; stop the other nodes, or give this one a database of its own: %w", ctl.Mode(), err)
	case errors.Is(err, postgres.ErrNotAlone):
		return nil, fmt.Errorf("a swfd node with a clock that moves (--clock manual) uses this database, and it must be alone on it: "+
			"its events would be dated by its clock, this node's by the wall clock; stop it first: %w", err)
	case err != nil:
		return nil, err
	}
	return release, nil
}

// clockEngine is what the clock controller needs from the service.
type clockEngine struct {
	svc *service.Service
	st  swfd.Store
}

func (e clockEngine) NextTimer(ctx context.Context, after time.Time) (time.Time, bool, error) {
	if after.IsZero() {
		t, err := e.st.NextTimer(ctx)
		if errors.Is(err, swfd.ErrNotFound) {
			return time.Time{}, false, nil
		}
		return t.Due, err == nil, err
	}
	// Past the timers due by after (those that failed to fire, which a
	// move goes on past): read the earliest timers, more each time, until
	// one is due later or there are no more.
	for limit := 64; ; limit *= 4 {
		ts, err := e.st.DueTimers(ctx, latestTimer, limit)
		if err != nil {
			return time.Time{}, false, err
		}
		for _, t := range ts {
			if t.Due.After(after) {
				return t.Due, true, nil
			}
		}
		if len(ts) < limit {
			return time.Time{}, false, nil
		}
	}
}

// latestTimer is later than any timer is due.
var latestTimer = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

func (e clockEngine) Overdue(ctx context.Context, by time.Time, limit int) ([]swfd.Timer, error) {
	return e.st.DueTimers(ctx, by, limit)
}

// settleRounds bounds the rounds of firing and delivering at one instant:
// each round does at least one thing, and a workflow that keeps making
// new work at the same instant is broken.
const settleRounds = 100000

func (e clockEngine) Settle(ctx context.Context) (int, error) {
	fired := 0
	for range settleRounds {
		n, f, _, err := e.svc.Timers().FireDue(ctx, nil)
		fired += f
		if err != nil {
			return fired, err
		}
		m, err := e.svc.Transfers().Deliver(ctx)
		if err != nil {
			return fired, err
		}
		if n == 0 && m == 0 {
			return fired, nil
		}
	}
	return fired, errors.New("clock: work due at one instant keeps making more")
}

func (e clockEngine) PurgeExpired(ctx context.Context) error { return e.svc.Retention().Purge(ctx) }

// PendingMessages asks the transfer loop, which knows the messages whose
// delivery keeps failing: those stuck for transfers.StuckAfter do not hold
// a skip clock.
func (e clockEngine) PendingMessages(ctx context.Context) (bool, error) {
	return e.svc.Transfers().Waiting(ctx)
}

// wireClock gives a clock that moves the engine it moves time for and
// lets it see every commit; a skip clock over a store that holds open runs
// learns their tasks first.
func wireClock(ctx context.Context, e *engine) error {
	ctl := e.clock
	if ctl == nil {
		return nil
	}
	ctl.SetEngine(clockEngine{e.svc, e.store}, e.svc.Timers().Wake)
	e.svc.Runs().Listen(func(c runs.Commit) {
		for _, ch := range c.Runs {
			ctl.Observe(ch.RunID, ch.Closed, ch.Events)
		}
	})
	return ctl.Load(ctx, e.store)
}

// mountClock puts e's clock controller at the gate of the SWF API (fe's
// Gate: moves happen between calls) and mounts the admin API beside it, whose requests are authenticated as fe's are
// and whose bodies are read as fe's are (fe.ReadBody: the body timeout,
// the connection limit's cut, the bound on bytes still arriving).
func (s *Server) mountClock(mux *http.ServeMux, e *engine, fe *frontend.Handler) {
	cfg := s.cfg
	ctl := e.clock
	if ctl == nil {
		// The real clock, read-only.
		ctl, _ = clock.NewController(clock.Real, cfg.Clock)
	} else {
		// A call that meets a move waits for it no longer than
		// --call-timeout, and is then refused undone, as a call the store
		// keeps waiting is: SDKs retry it, and the attempt they gave up
		// on is not carried out after the move as well.
		// The frontend answers the refusal itself, so that it is counted
		// and written to the access log as any refused call is.
		ctl.GateWait = cfg.CallTimeout
		fe.Gate = func(r *http.Request) (func(), *api.Fault) {
			release, ok := ctl.Enter(r)
			if !ok {
				return nil, api.NewFault(api.ServiceUnavailable,
					"The clock was moving for longer than the call may wait; the call was not applied. Retry.")
			}
			return release, nil
		}
	}
	ah := &admin.Handler{Clock: ctl, Auth: fe.Auth, Region: cfg.Region, Account: cfg.AccountID, Logger: cfg.Logger, ReadBody: fe.ReadBody,
		Execution: func(ctx context.Context, runID string) (string, string, error) {
			ex, err := e.store.GetExecution(ctx, "", runID)
			return ex.Domain, ex.WorkflowID, err
		}}
	if cfg.Dev {
		ah.Reset = s.Reset
	}
	mux.Handle(admin.Prefix, ah)
}
