// Package clock owns swfd's time when tests control it: the manual clock,
// which stands still until told to move; the skip clock, which runs in real
// time but jumps ahead to the next timer whenever nothing could happen
// before it; and the Controller that moves either of them the way time
// passes — firing every timer and timeout that falls due on the way, in
// order, each at its own instant.
//
// The rest of swfd reads time only through swfd.Clock, so any of these
// clocks can stand in for the wall clock. Moving a clock needs three things
// from the engine (Engine): when the next timer is due, doing the work due
// at the current instant, and purging expired executions. The skip clock
// also needs to know when nothing could happen: the Controller learns that
// from the calls in flight (Controller.Enter, and Controller.Hold and
// HoldWait for the work that does not come through it: a poll's task start,
// a Lambda step, a message's delivery, an operation of the web console) and
// from what each commit adds to histories (Controller.Observe).
//
// A wait on swfd's clock outside the timer loop (the Lambda loop's
// back-offs) cannot sleep on a timer of real time alone, which a move knows
// nothing of: the manual and skip clocks tell such a wait when a move takes
// them to its time (Waker).
package clock

import (
	"fmt"
	"sync"
	"time"
)

// Mode is how swfd's clock runs.
type Mode string

// The three modes.
const (
	// Real is the wall clock, the default and the only mode meant for a
	// database whose timers matter.
	Real Mode = "real"
	// Manual stands still until moved (Controller.Advance, Controller.Set).
	Manual Mode = "manual"
	// Skip runs in real time and jumps to the next timer whenever nothing
	// could happen before it fires (see Controller.Idle).
	Skip Mode = "skip"
)

// ParseMode reads a mode by name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Real, Manual, Skip:
		return m, nil
	}
	return "", fmt.Errorf("clock mode %q: use real, manual or skip", s)
}

// Movable is a clock that can be moved forward.
type Movable interface {
	Now() time.Time
	// MoveTo moves the clock forward to t; a t that is not later than Now
	// moves nothing (time never goes backwards).
	MoveTo(t time.Time)
}

// Precision is the clock's resolution: SWF timestamps carry milliseconds,
// and a manual clock keeps exactly the instant histories will show.
const Precision = time.Millisecond

// ManualClock stands still until moved. The zero value is not usable; use
// NewManual.
type ManualClock struct {
	mu     sync.Mutex
	t      time.Time
	alarms alarms // WakeAt's waits
}

// NewManual returns a manual clock showing start (in UTC, to the
// millisecond).
func NewManual(start time.Time) *ManualClock {
	return &ManualClock{t: start.UTC().Truncate(Precision)}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// MoveTo moves the clock forward to t (to the millisecond).
func (c *ManualClock) MoveTo(t time.Time) {
	t = t.UTC().Truncate(Precision)
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
		c.alarms.ring(t)
	}
}

// WakeAt returns a channel closed once the clock has been moved to t or
// past it (see Waker).
func (c *ManualClock) WakeAt(t time.Time) (<-chan struct{}, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.alarms.add(c.t, t, c.lock)
}

func (c *ManualClock) lock() func() {
	c.mu.Lock()
	return c.mu.Unlock
}

// SkipClock runs at the rate of real time from wherever it was last moved
// to. It reads the monotonic clock, so a step of the system's wall clock
// never moves it, backwards or forwards.
type SkipClock struct {
	mu     sync.Mutex
	base   time.Time // real time (with its monotonic reading) at start
	start  time.Time // the clock's time at base, UTC, without monotonic reading
	offset time.Duration
	since  func(time.Time) time.Duration // time.Since, or a test's stand-in
	alarms alarms                        // WakeAt's waits
}

// NewSkip returns a skip clock that starts at the current real time.
func NewSkip() *SkipClock {
	now := time.Now()
	return &SkipClock{base: now, start: now.UTC(), since: time.Since}
}

// Now returns the clock's time.
func (c *SkipClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *SkipClock) nowLocked() time.Time {
	return c.start.Add(c.since(c.base) + c.offset)
}

// MoveTo moves the clock forward to t; it goes on running from there.
func (c *SkipClock) MoveTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := t.Sub(c.nowLocked()); d > 0 {
		c.offset += d
		c.alarms.ring(c.nowLocked())
	}
}

// WakeAt returns a channel closed once a move has taken the clock to t or
// past it (see Waker): not when it gets there by running in real time.
func (c *SkipClock) WakeAt(t time.Time) (<-chan struct{}, func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.alarms.add(c.nowLocked(), t, c.lock)
}

func (c *SkipClock) lock() func() {
	c.mu.Lock()
	return c.mu.Unlock
}
