package clock

import (
	"testing"
	"time"
)

// closed reports whether ch is closed.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// A wait on a manual clock ends when a move takes the clock to its time or
// past it, at each move on the way (one that stops short leaves it
// waiting), and at once for a time the clock shows already; a wait
// stopped is forgotten, and a move no longer touches it.
func TestManualClockWakesAWaitWhenMovedToItsTime(t *testing.T) {
	c := NewManual(t0)
	if ch, stop := c.WakeAt(t0); !closed(ch) {
		t.Error("a wait for the time the clock shows is not over at once")
	} else {
		stop()
	}
	hour, stopHour := c.WakeAt(t0.Add(time.Hour))
	defer stopHour()
	day, stopDay := c.WakeAt(t0.Add(24 * time.Hour))
	defer stopDay()
	gone, stopGone := c.WakeAt(t0.Add(time.Minute))
	stopGone()
	c.MoveTo(t0.Add(time.Hour - time.Millisecond))
	if closed(hour) || closed(day) {
		t.Fatal("a move short of a wait's time ended it")
	}
	c.MoveTo(t0.Add(2 * time.Hour))
	if !closed(hour) {
		t.Error("a move past a wait's time did not end it")
	}
	if closed(day) {
		t.Error("a move short of a day ended the wait for a day")
	}
	if closed(gone) {
		t.Error("a wait stopped was ended by a move")
	}
	stopHour() // stopping a wait over is harmless
	c.MoveTo(t0.Add(24 * time.Hour))
	if !closed(day) {
		t.Error("a move to a wait's time did not end it")
	}
	if n := len(c.alarms); n != 0 {
		t.Errorf("%d waits left", n)
	}
}

// A skip clock's jump ends the waits it passes, as a manual clock's move
// does; time it runs in real time does not (a waiter's real-time timer
// sees to that), nor does a stop leave the wait behind.
func TestSkipClockWakesAWaitWhenItJumps(t *testing.T) {
	var real time.Duration
	c := &SkipClock{base: time.Now(), start: t0, since: func(time.Time) time.Duration { return real }}
	soon, stopSoon := c.WakeAt(t0.Add(time.Second))
	later, stopLater := c.WakeAt(t0.Add(time.Hour))
	defer stopLater()
	real = 2 * time.Second
	if closed(soon) {
		t.Error("running in real time ended a wait")
	}
	stopSoon()
	c.MoveTo(t0.Add(time.Hour))
	if !closed(later) {
		t.Error("a jump to a wait's time did not end it")
	}
	if n := len(c.alarms); n != 0 {
		t.Errorf("%d waits left", n)
	}
}
