package timers

import (
	"testing"
	"time"
)

// TestWakeFor checks that a timer wakes the sleeping loop only when it is
// due before the loop means to wake, and always wakes a loop that is awake
// (it may have read the store before the timer was committed).
func TestWakeFor(t *testing.T) {
	l := New(Options{})
	woken := func() bool {
		select {
		case <-l.wake:
			return true
		default:
			return false
		}
	}
	l.next.Store(time.Now().Add(time.Hour).UnixNano())
	if until, ok := l.Sleeping(); !ok || time.Until(until) < 59*time.Minute {
		t.Errorf("Sleeping() = %v, %v", until, ok)
	}
	l.WakeFor(time.Now().Add(2 * time.Hour))
	if woken() {
		t.Error("a timer due after the loop's wake-up woke it")
	}
	l.WakeFor(time.Now().Add(time.Minute))
	if !woken() {
		t.Error("a timer due before the loop's wake-up did not wake it")
	}
	l.next.Store(0)
	l.WakeFor(time.Now().Add(2 * time.Hour))
	if !woken() {
		t.Error("a timer committed while the loop was awake did not wake it")
	}
}
