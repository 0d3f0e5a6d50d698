package clock

import (
	"container/heap"
	"time"
)

// Waker is a clock that moves and tells whoever waits for one of its times
// when a move takes it there (ManualClock and SkipClock are). A time on a
// manual clock comes only by a move, which a timer of real time knows
// nothing of: a wait on swfd's clock (a back-off, a deadline) selects on
// WakeAt's channel beside its real-time timer, so that a move ends it at
// once rather than when the timer, counting real time, fires.
type Waker interface {
	// WakeAt returns a channel closed once a move (MoveTo) has taken the
	// clock to t or past it (at once if it shows t already), and stop,
	// which forgets the wait (call it once the wait is over, whatever
	// ended it). A skip clock that reaches t by running in real time does
	// not close it: a real-time timer is the waiter's for that.
	WakeAt(t time.Time) (woken <-chan struct{}, stop func())
}

var _, _ Waker = (*ManualClock)(nil), (*SkipClock)(nil)

// alarm is one wait of WakeAt.
type alarm struct {
	at time.Time
	ch chan struct{}
	i  int // index in the heap; -1 once out of it
}

// alarms are the waits on a clock, earliest first. Their clock's lock
// guards them.
type alarms []*alarm

func (h alarms) Len() int           { return len(h) }
func (h alarms) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h alarms) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].i, h[j].i = i, j
}
func (h *alarms) Push(x any) {
	a := x.(*alarm)
	a.i = len(*h)
	*h = append(*h, a)
}
func (h *alarms) Pop() any {
	old := *h
	a := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	a.i = -1
	return a
}

// closedChan is the channel of a wait that is over before it began.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// add registers a wait for at on a clock showing now; the caller holds
// the clock's lock, and stop takes it (lock).
func (h *alarms) add(now, at time.Time, lock func() func()) (<-chan struct{}, func()) {
	if !at.After(now) {
		return closedChan, func() {}
	}
	a := &alarm{at: at, ch: make(chan struct{})}
	heap.Push(h, a)
	return a.ch, func() {
		defer lock()()
		if a.i >= 0 {
			heap.Remove(h, a.i)
		}
	}
}

// ring closes the waits due by now; the caller holds the clock's lock.
func (h *alarms) ring(now time.Time) {
	for h.Len() > 0 && !(*h)[0].at.After(now) {
		close(heap.Pop(h).(*alarm).ch)
	}
}
