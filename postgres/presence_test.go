package postgres

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd"
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

// A node whose listener loses its connection loses the serving nodes' lock
// with it, and swfd migrate may take the lock before the listener takes it
// again: the node then refuses every call (an error wrapping ErrExcluded
// and swfd.ErrStorageUnavailable) from the listener's return until migrate
// releases the lock, rather than write to a database being copied.
func TestNodeRefusesCallsWhileExcludedAfterReconnect(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	db := open(t, dsn, nil)
	migrator := open(t, dsn, nil)
	excluded := make(chan func(), 1)
	var tries atomic.Int32
	db.beforeNodeLock = func() {
		if tries.Add(1) != 2 {
			return
		}
		// The listener reconnects: swfd migrate got in first.
		release, err := migrator.Exclude(ctx)
		if err != nil {
			t.Errorf("Exclude while the node's listener was away: %v", err)
			release = func() {}
		}
		excluded <- release
	}
	nctx, stopNode := context.WithCancel(ctx)
	nodeDone := make(chan struct{})
	go func() {
		defer close(nodeDone)
		db.Broadcaster().Subscribe(nctx, func([]byte) {})
	}()
	defer func() { stopNode(); <-nodeDone }()
	waitListening(t, db)
	domain := func(name string) swfd.Domain {
		return swfd.Domain{Name: name, Status: swfd.StatusRegistered, RetentionDays: "1", Created: time.UnixMilli(1_700_000_000_000)}
	}
	if err := db.CreateDomain(ctx, domain("before"), 0); err != nil {
		t.Fatal(err)
	}

	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var killed int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE '%advisory_lock_shared(%' AND pid <> pg_backend_pid()`).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listener connections (%v), want 1", killed, err)
	}
	var release func()
	select {
	case release = <-excluded:
	case <-time.After(30 * time.Second):
		t.Fatal("the listener never reconnected")
	}
	// The listener finds the lock taken and the node refuses calls.
	deadline := time.Now().Add(30 * time.Second)
	for !errors.Is(db.Ping(ctx), ErrExcluded) {
		if time.Now().After(deadline) {
			t.Fatalf("the node still answers while swfd migrate holds the lock: Ping = %v", db.Ping(ctx))
		}
		time.Sleep(10 * time.Millisecond)
	}
	err = db.CreateDomain(ctx, domain("during"), 0)
	if !errors.Is(err, ErrExcluded) || !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Errorf("a write while swfd migrate holds the lock: %v, want an error wrapping ErrExcluded and swfd.ErrStorageUnavailable", err)
	}
	release()
	if err := db.Notifier().WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateDomain(ctx, domain("after"), 0); err != nil {
		t.Fatalf("a write once the node holds the lock again: %v", err)
	}
	if _, err := db.GetDomain(ctx, "during"); !errors.Is(err, swfd.ErrNotFound) {
		t.Errorf("the refused write's domain: %v, want ErrNotFound", err)
	}
}
