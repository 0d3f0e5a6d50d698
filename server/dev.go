package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
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
