package sqlite

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// readGate lets the writer hold the read pool's new reads back for a moment
// and wait for the reads in progress to end: truncating the write-ahead log
// needs every reader off it (see trimWAL), and a steady stream of reads,
// one always begun before the last has ended, never leaves it by itself.
//
// While the gate is open a read passes it with one atomic addition on the
// way in and one on the way out. A read that finds it shut waits until it
// opens again or the read's context is done; the writer shuts it only for a
// bounded time (trimWAL).
type readGate struct {
	// n counts the reads in progress, plus gateShut while the gate is shut.
	n atomic.Int64
	// idle wakes the writer waiting in shut: the last read in progress has
	// ended (a wake-up may be stale; shut looks at n again).
	idle chan struct{}

	mu sync.Mutex
	// opened is closed when the gate opens again; a new one is made at
	// each shut.
	opened chan struct{}

	// onShut, for tests, is called each time the gate has been shut,
	// before shut waits for the reads in progress.
	onShut func()
}

// gateShut is added to readGate.n while the gate is shut: far more than
// reads can ever be in progress at once.
const gateShut = 1 << 40

func newReadGate() *readGate {
	return &readGate{idle: make(chan struct{}, 1)}
}

// enter lets a read in, waiting while the gate is shut. It fails only with
// ctx's error; every enter that succeeds must be followed by one leave.
func (g *readGate) enter(ctx context.Context) error {
	for {
		if g.n.Add(1) < gateShut {
			return nil
		}
		g.leave()
		g.mu.Lock()
		opened := g.opened
		g.mu.Unlock()
		select {
		case <-opened:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// leave ends a read that entered, waking the writer when it was the last
// one in progress while the gate is shut.
func (g *readGate) leave() {
	if g.n.Add(-1) == gateShut {
		select {
		case g.idle <- struct{}{}:
		default:
		}
	}
}

// shut holds new reads back and waits, at most wait, for those in progress
// to end; it reports whether they all did. The gate stays shut until open,
// which must follow every shut, whatever it reported. Only the writer
// goroutine shuts the gate.
func (g *readGate) shut(wait time.Duration) bool {
	g.mu.Lock()
	g.opened = make(chan struct{})
	g.mu.Unlock()
	g.n.Add(gateShut)
	if g.onShut != nil {
		g.onShut()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		// A read that finds the gate shut counts itself in and out again:
		// n may be above gateShut for a moment with no read in progress,
		// and that read's leave then wakes us.
		if g.n.Load() == gateShut {
			return true
		}
		select {
		case <-g.idle:
		case <-t.C:
			return false
		}
	}
}

// open lets reads in again.
func (g *readGate) open() {
	g.n.Add(-gateShut)
	g.mu.Lock()
	close(g.opened)
	g.mu.Unlock()
}
