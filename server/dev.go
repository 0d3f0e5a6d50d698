package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/swfd/swfd/clock"
)

// ErrNotDev is Reset's error on a server that keeps its data (not --dev).
var ErrNotDev = errors.New("reset is only available in --dev mode")

// Reset drops every domain, execution and task at once (swfd --dev only):
// the server goes on with a new, empty store and engine, and keeps its
// clock's time, its auth file, its quotas (with every bucket full again)
// and its metrics, less the series of the domains it dropped.
//
// Calls of the SWF API other than long polls are held while it runs, and
// each one finishes before it starts, on the old engine or the new one,
// never half on each. Long polls waiting on the old engine are answered
// empty; a poll that arrives meanwhile waits on the new one. The old
// engine's background work (timers, Lambda invocations, messages) is told
// to stop before Reset returns; its store is closed once its last call has
// ended.
func (s *Server) Reset(ctx context.Context) error {
	if !s.cfg.Dev {
		return ErrNotDev
	}
	s.reset.Lock()
	defer s.reset.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return errors.New("reset: the server is closed")
	}
	old := s.current()
	swap := func() error {
		e, err := s.build(context.WithoutCancel(ctx))
		if err != nil {
			return err
		}
		s.mu.Lock()
		if s.started {
			e.start()
		}
		s.mu.Unlock()
		s.use(e)
		return nil
	}
	var err error
	if old.clock != nil {
		// No move of the clock runs while the engine changes.
		err = old.clock.Exclusive(swap)
	} else {
		err = swap()
	}
	if err != nil {
		return err
	}
	// The old engine's background work (its timers, its Lambda
	// invocations, its messages) is for the runs just dropped: it stops
	// now, before the next test begins, though calls it serves may still
	// finish. Closing waits for it to end.
	old.stopWork()
	if s.Quotas != nil {
		// A new server's buckets are full: so are the buckets after a
		// reset, or the tokens one test spent would be missing from the
		// next (for good, on a clock that stands still).
		s.Quotas.Refill()
	}
	if s.obs.metrics != nil {
		// Every domain is gone: so are their series.
		s.obs.metrics.ForgetDomains()
	}
	s.retired.Add(1)
	go func() {
		defer s.retired.Done()
		old.svc.StopPolls()
		if old.hub != nil {
			old.hub.Close() // ends the console's live pages
		}
		<-old.calls.retire()
		if err := old.close(); err != nil {
			s.log.Warn("reset: closing the previous store", "err", err)
		}
	}()
	s.log.Info("reset: every domain, execution and task dropped")
	return nil
}

// devSwitch is a --dev server's handler: it sends each request to the
// engine in use, and holds SWF calls other than long polls while a reset
// replaces the engine (Server.reset), so that a reset happens between
// calls. Long polls are not held: one may wait a minute, and a reset
// answers them instead. The admin API and the console are not held either
// (a reset is itself an admin call).
type devSwitch struct{ s *Server }

func (d *devSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if t := r.Header.Get("X-Amz-Target"); t != "" && !isPoll(t) {
		d.s.reset.RLock()
		defer d.s.reset.RUnlock()
	}
	d.s.inEngine(func(e *engine) { e.handler.ServeHTTP(w, r) })
}

// isPoll reports whether an X-Amz-Target names a long poll.
func isPoll(target string) bool {
	return strings.HasSuffix(target, ".PollForDecisionTask") || strings.HasSuffix(target, ".PollForActivityTask")
}

// calls counts the requests an engine is serving, so that a reset closes
// the old engine's store only after its last one.
type calls struct {
	mu      sync.Mutex
	n       int
	retired bool
	idle    chan struct{}
}

// enter counts a request in; false once the engine is retired.
func (c *calls) enter() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.retired {
		return false
	}
	c.n++
	return true
}

func (c *calls) leave() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n--
	if c.n == 0 && c.idle != nil {
		close(c.idle)
		c.idle = nil
	}
}

// retire lets no new request in and returns a channel closed when the
// last one has left.
func (c *calls) retire() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.retired = true
	idle := make(chan struct{})
	if c.n == 0 {
		close(idle)
	} else {
		c.idle = idle
	}
	return idle
}

// ClockNow returns the controller of the clock the server runs on now, nil
// when the clock is real. Unlike the field Clock, which a reset rewrites,
// it may be read beside a Reset; a reset retires the controller it
// returns, so a test moves and holds the clock with MoveClock and
// HoldClock, which are kept apart from resets.
func (s *Server) ClockNow() *clock.Controller { return s.current().clock }

// MoveClock runs move (an Advance or a Set) on the controller of the clock
// the server runs on, with no reset under way: a move made beside a Reset
// (from another goroutine) happens wholly before it or after it, on the
// engine then in use, so the timers it passes are that engine's. It fails
// with clock.ErrReal when the clock is real.
func (s *Server) MoveClock(move func(*clock.Controller) (clock.Moved, error)) (clock.Moved, error) {
	s.reset.RLock()
	defer s.reset.RUnlock()
	ctl := s.current().clock
	if ctl == nil {
		return clock.Moved{}, clock.ErrReal
	}
	return move(ctl)
}

// HoldClock keeps the clock from moving and the server from being reset
// until the function it returns is called, as a call of the SWF API does
// while it is served: a test wraps calls it makes directly on Service in
// it. It may be called beside a Reset: it holds the clock of the engine in
// use when it returns, which stays in use until the release. With the real
// clock it holds nothing.
func (s *Server) HoldClock() (release func()) {
	for {
		e := s.current()
		if e.clock == nil {
			return func() {}
		}
		release := e.clock.Hold()
		if s.current() == e {
			// A reset replaces the engine only under its clock's
			// Exclusive, which waits for this hold.
			return release
		}
		// A reset replaced e before the hold was taken: e's clock is
		// retired, and holding it would hold nothing.
		release()
	}
}
