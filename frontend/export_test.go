package frontend

import "time"

// Hold takes n bytes of h's MaxDecoding as a request being decoded does,
// and returns what lets them go; ok is false, and nothing taken, when they
// would go past it.
func Hold(h *Handler, n int64) (release func(), ok bool) {
	if !h.hold(n) {
		return nil, false
	}
	return func() { h.decoding.Add(-n) }, true
}

// SetReceiveCutAfter sets how long a body must have been arriving before
// it may be cut off at h's MaxReceiving.
func SetReceiveCutAfter(h *Handler, d time.Duration) { h.recv.cutAfter = d }
