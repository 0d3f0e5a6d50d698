package history

import (
	"testing"
	"time"

	"github.com/swfd/swfd/api"
)

// A run's trouble counts decision tasks timed out in a row (a completed one
// starts the count again) and keeps the last failed decision with its cause.
func TestTrouble(t *testing.T) {
	h := startDefault(t)
	timeOut := func() {
		t.Helper()
		started := h.pollDecision()
		h.advance(11 * time.Second)
		h.fire(DecisionStartToCloseKey(started))
	}
	timeOut()
	timeOut()
	if got := h.s.Trouble.DecisionTimeouts; got != 2 {
		t.Fatalf("after two timeouts: %d in a row, want 2", got)
	}
	if !h.s.Trouble.LastTimeout.Equal(h.env.Now) {
		t.Errorf("last timeout at %v, want %v", h.s.Trouble.LastTimeout, h.env.Now)
	}
	// A decision that fails: an activity type that does not exist.
	h.pollAndDecide(schedActOf("a1", "nope", nil))
	tr := h.s.Trouble
	if tr.DecisionTimeouts != 0 || !tr.LastTimeout.IsZero() {
		t.Errorf("after a completed decision task: %d in a row since %v, want none", tr.DecisionTimeouts, tr.LastTimeout)
	}
	fd := tr.FailedDecision
	if fd.EventType != api.EventTypeScheduleActivityTaskFailed || fd.Cause != string(api.ScheduleActivityTaskFailedCauseActivityTypeDoesNotExist) ||
		h.event(fd.EventID).EventType != api.EventTypeScheduleActivityTaskFailed || !fd.Time.Equal(h.env.Now) {
		t.Errorf("failed decision %+v, want ScheduleActivityTaskFailed ACTIVITY_TYPE_DOES_NOT_EXIST at event %d", fd, h.last().EventID)
	}
	// It survives a decision that succeeds: it is the last one that failed.
	h.pollAndDecide(schedAct("a2"))
	if h.s.Trouble.FailedDecision != fd {
		t.Errorf("failed decision became %+v", h.s.Trouble.FailedDecision)
	}
}
