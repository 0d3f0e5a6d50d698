package frontend

// Hold takes n bytes of h's MaxDecoding as a request being decoded does,
// and returns what lets them go; ok is false, and nothing taken, when they
// would go past it.
func Hold(h *Handler, n int64) (release func(), ok bool) {
	if !h.hold(n) {
		return nil, false
	}
	return func() { h.decoding.Add(-n) }, true
}
