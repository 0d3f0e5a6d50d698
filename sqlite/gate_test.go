package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The read gate: shut waits for the reads in progress and no longer than
// it is told, holds new reads back until open, and a held read gives up
// when its context is done.
func TestReadGate(t *testing.T) {
	g := newReadGate()
	if !g.shut(time.Hour) {
		t.Fatal("shut with no read in progress did not report them all ended")
	}
	g.open()

	// A read in progress is waited for.
	if err := g.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	shut := make(chan bool)
	g.onShut = func() { go g.leave() } // the read ends once new ones are held back
	go func() { shut <- g.shut(time.Hour) }()
	if !<-shut {
		t.Fatal("shut did not see the read in progress end")
	}
	g.onShut = nil

	// While shut, a read is held back: one whose context is done gives up
	// (through an open gate it would have gone in whatever its context),
	// and one that waits goes in once the gate opens.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.enter(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("a read through a shut gate: %v, want it held back until its context was done", err)
	}
	entered := make(chan error)
	go func() { entered <- g.enter(context.Background()) }()
	g.open()
	if err := <-entered; err != nil {
		t.Fatal(err)
	}

	// A read that does not end is waited for no longer than shut is told.
	if g.shut(time.Millisecond) {
		t.Fatal("shut reported every read ended with one in progress")
	}
	g.open()
	g.leave()
	if !g.shut(time.Hour) {
		t.Fatal("shut after every read ended did not report them ended")
	}
	g.open()
	if n := g.n.Load(); n != 0 {
		t.Fatalf("%d reads counted in progress with none", n)
	}
}
