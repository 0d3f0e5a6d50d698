package postgres

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/swfd/swfd/internal/pgtest"
)

// A node (its news listener) holds the nodes' lock for as long as it
// listens, so Exclude fails with ErrServed, counting it; once it stops,
// Exclude takes the lock, and until its release Open fails with
// ErrExcluded: no node starts on a database swfd migrate copies. A
// listener of another channel is no node.
func TestExcludeNodes(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	db, err := Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	lctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		db.Listen(lctx, "other", func(string) {})
	}()
	waitListening(t, db)
	release, err := db.Exclude(ctx)
	if err != nil {
		t.Fatalf("Exclude with only a listener of another channel: %v", err)
	}
	release()
	stop()
	<-done

	nctx, stopNode := context.WithCancel(ctx)
	nodeDone := make(chan struct{})
	go func() {
		defer close(nodeDone)
		db.Broadcaster().Subscribe(nctx, func([]byte) {})
	}()
	waitListening(t, db)
	if n, err := db.LiveNodes(ctx); n != 1 || err != nil {
		t.Errorf("LiveNodes with one node listening: %d, %v", n, err)
	}
	if _, err := db.Exclude(ctx); !errors.Is(err, ErrServed) {
		t.Errorf("Exclude while a node listens: %v, want ErrServed", err)
	}
	stopNode()
	<-nodeDone

	release, err = db.Exclude(ctx)
	if err != nil {
		t.Fatalf("Exclude once the node stopped: %v", err)
	}
	if other, err := Open(ctx, dsn, nil); !errors.Is(err, ErrExcluded) {
		if err == nil {
			other.Close()
		}
		t.Errorf("Open while excluded: %v, want ErrExcluded", err)
	}
	release()
	other, err := Open(ctx, dsn, nil)
	if err != nil {
		t.Fatalf("Open once the exclusion is released: %v", err)
	}
	other.Close()
}

// waitListening waits until a Listen call of db has begun and connected.
func waitListening(t *testing.T, db *DB) {
	t.Helper()
	for l, _ := db.Notifier().Listening(); l == 0; l, _ = db.Notifier().Listening() {
		runtime.Gosched() // until Listen has begun
	}
	if err := db.Notifier().WaitConnected(context.Background()); err != nil {
		t.Fatal(err)
	}
}
