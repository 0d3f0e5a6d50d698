package frontend

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/swfd/swfd/internal/connlimit"
)

// DefaultMaxReceiving is Handler.MaxReceiving when it is 0: the bytes of
// 64 bodies of the largest size still arriving at once.
const DefaultMaxReceiving = 64 << 20

// receiveCutAfter is how long a body must have been arriving before it may
// be cut off to make room at MaxReceiving: a client sends its body as soon
// as it has sent the headers, so only a slow or stalled one is that long
// about it (the connection limit cuts bodies after as long).
const receiveCutAfter = connlimit.SilentAfter

// errReceivingFull fails the read of a body that would take the bytes of
// bodies still arriving past MaxReceiving, when no body has been arriving
// long enough to be cut off in its place.
var errReceivingFull = errors.New("request bytes arriving at their bound")

// receiving keeps count of the bodies still arriving and of the bytes of
// them read so far (see Handler.MaxReceiving).
type receiving struct {
	mu       sync.Mutex
	bytes    int64 // read so far of the bodies in arrivals not cut off
	arrivals map[*arrival]struct{}
	cutAfter time.Duration // receiveCutAfter; tests shorten it
}

// arrival is one body still arriving, read through it: what it reads
// counts in MaxReceiving.
type arrival struct {
	h     *Handler
	r     io.Reader
	since time.Time
	n     int64  // bytes read so far
	cut   func() // makes its pending and next reads fail at once
	gone  bool   // cut off or refused: its bytes no longer count
}

// maxReceiving is the bound MaxReceiving sets, or -1 for none.
func (h *Handler) maxReceiving() int64 {
	switch n := h.MaxReceiving; {
	case n < 0:
		return -1
	case n == 0:
		return DefaultMaxReceiving
	case n < 2*MaxBodyBytes:
		return 2 * MaxBodyBytes
	default:
		return n
	}
}

// Receiving returns the bytes read so far of the bodies still arriving
// (see MaxReceiving).
func (h *Handler) Receiving() int64 {
	h.recv.mu.Lock()
	defer h.recv.mu.Unlock()
	return h.recv.bytes
}

// arrive counts a body from now until its arrival's done is called: the
// bytes read through the arrival count in MaxReceiving meanwhile. cut must
// make the body's reads fail at once, as at its timeout (see
// MaxReceiving).
func (h *Handler) arrive(body io.Reader, cut func()) *arrival {
	a := &arrival{h: h, r: body, since: time.Now(), cut: cut}
	h.recv.mu.Lock()
	if h.recv.arrivals == nil {
		h.recv.arrivals = map[*arrival]struct{}{}
	}
	h.recv.arrivals[a] = struct{}{}
	h.recv.mu.Unlock()
	return a
}

// done ends a's count: its body has been read, or will not be.
func (a *arrival) done() {
	r := &a.h.recv
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.arrivals, a)
	if !a.gone {
		r.bytes -= a.n
	}
}

// received counts n more bytes of a's body. Past MaxReceiving it cuts off
// the bodies that have been arriving longest, at least cutAfter, until the
// bytes left are within it; if that is not enough, a's body is refused
// instead (errReceivingFull) and its bytes no longer count.
func (h *Handler) received(a *arrival, n int64) error {
	limit := h.maxReceiving()
	r := &h.recv
	r.mu.Lock()
	if a.gone {
		r.mu.Unlock()
		return nil
	}
	a.n += n
	r.bytes += n
	if limit < 0 || r.bytes <= limit {
		r.mu.Unlock()
		return nil
	}
	cutAfter := r.cutAfter
	if cutAfter == 0 {
		cutAfter = receiveCutAfter
	}
	old := time.Now().Add(-cutAfter)
	var cuts []func()
	for r.bytes > limit {
		var oldest *arrival
		for b := range r.arrivals {
			if !b.gone && b != a && !b.since.After(old) && (oldest == nil || b.since.Before(oldest.since)) {
				oldest = b
			}
		}
		if oldest == nil {
			break
		}
		oldest.gone = true
		r.bytes -= oldest.n
		cuts = append(cuts, oldest.cut)
	}
	refused := r.bytes > limit
	if refused {
		a.gone = true
		r.bytes -= a.n
	}
	r.mu.Unlock()
	for _, cut := range cuts {
		cut()
	}
	if len(cuts) > 0 {
		h.logLimited(context.Background(), h.Refused, slog.LevelWarn, "request bytes arriving at their bound: the bodies arriving longest were cut off (answered RequestTimeoutException) to make room (clients sending very slowly, or never finishing their bodies)",
			"cut", len(cuts), "bound", limit)
	}
	if refused {
		h.logLimited(context.Background(), h.Refused, slog.LevelWarn, "request bytes arriving at their bound: a call was refused while its body arrived", "bound", limit)
		return errReceivingFull
	}
	return nil
}

func (a *arrival) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		if ferr := a.h.received(a, int64(n)); ferr != nil {
			return n, ferr
		}
	}
	return n, err
}
