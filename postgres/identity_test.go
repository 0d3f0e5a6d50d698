package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// TestAgreeIdentity: the nodes of a database serve as one region and
// account. Nodes starting together with two identities take turns: those of
// the first to check start, the others are refused, whichever wins. Once
// they have all released their claims, a node of another identity takes
// the database over and is told the one it replaced.
func TestAgreeIdentity(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	ctx := context.Background()
	ids := []Identity{{Region: "eu-west-1", Account: "111122223333"}, {Region: "us-east-1", Account: "111122223333"}}
	const nodes = 6
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		started  = map[Identity]int{}
		releases []func()
	)
	for i := range nodes {
		db := open(t, dsn, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := db.ClaimNode(ctx, false)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			releases = append(releases, release)
			mu.Unlock()
			id := ids[i%2]
			switch _, err := db.AgreeIdentity(ctx, id); {
			case err == nil:
				mu.Lock()
				started[id]++
				mu.Unlock()
			case !errors.Is(err, ErrIdentityMismatch):
				t.Errorf("node %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if len(started) != 1 || started[ids[0]]+started[ids[1]] != nodes/2 {
		t.Errorf("nodes started: %v; want the %d of one identity", started, nodes/2)
	}
	for _, release := range releases {
		release()
	}

	db := open(t, dsn, nil)
	release, err := db.ClaimNode(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	next := Identity{Region: "ap-south-1", Account: "444455556666"}
	previous, err := db.AgreeIdentity(ctx, next)
	if err != nil || previous == nil || *previous != ids[0] && *previous != ids[1] {
		t.Fatalf("a node of another identity once the others stopped: previous %v, %v", previous, err)
	}
	if previous, err := db.AgreeIdentity(ctx, next); err != nil || previous != nil {
		t.Fatalf("the same identity again: previous %v, %v", previous, err)
	}
}

// TestClaimTakenAgainChecksTheIdentity: every node's claim is lost at
// once (a restart of PostgreSQL, every backend terminated) and a node of
// another region or account starts in that gap: counting no other claim,
// it takes the database over with its own. The node that takes its claim
// back then finds the database served as another region or account: its
// store fails every call (503) from then on and the log says so, rather
// than the two serving one database with ARNs and IAM decisions that
// differ by the node a call reaches. Before, the claim was taken back
// without a look, and both served.
func TestClaimTakenAgainChecksTheIdentity(t *testing.T) {
	dsn := newDatabase(t)
	logs := newLogCounter()
	db1 := open(t, dsn, slog.New(logs))
	db2 := open(t, dsn, nil)
	ctx := context.Background()
	mine := Identity{Region: "eu-west-1", Account: "111122223333"}
	theirs := Identity{Region: "us-east-1", Account: "111122223333"}
	release, err := db1.ClaimNode(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := db1.AgreeIdentity(ctx, mine); err != nil {
		t.Fatal(err)
	}
	// The other node starts in the gap, and is let in: no claim but its
	// own is held.
	other := make(chan func(), 1)
	var once sync.Once
	db1.beforeReclaim = func() {
		once.Do(func() {
			r, err := db2.ClaimNode(ctx, false)
			if err != nil {
				t.Errorf("the other node's claim in the gap: %v", err)
				other <- func() {}
				return
			}
			if previous, err := db2.AgreeIdentity(ctx, theirs); err != nil || previous == nil || *previous != mine {
				t.Errorf("the other node's identity in the gap: previous %v, %v", previous, err)
			}
			other <- r
		})
	}
	cutClaim(t, dsn)
	var r func()
	select {
	case r = <-other:
	case <-time.After(30 * time.Second):
		t.Fatal("the lost claim was never tried again")
	}
	defer r()
	waitFenced(t, db1, ErrIdentityMismatch, "the node took its claim back beside a node of another region and still answers")
	if _, err := db1.GetDomain(ctx, "d"); !errors.Is(err, ErrIdentityMismatch) || !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Errorf("a call to the store of the node that took its claim back: %v, want ErrIdentityMismatch and unavailable", err)
	}
	if err := db2.Ping(ctx); err != nil {
		t.Errorf("the other node's store: %v", err)
	}
	if logs.count("postgres: this node took its claim on the database again, but the database is now served as another region or account (a node started while the claim was lost); every call to this node fails from now on: stop it") != 1 {
		t.Error("the log does not say the node stopped serving for another region or account")
	}
}

// TestClaimTakenAgainKeepsTheIdentityWhenAlone: a node whose claim was
// lost while a node of another region or account came and went takes its
// claim back alone: no other node serves, so it takes the database back
// with its own region and account (and warns), as a node starting alone
// would, and serves on.
func TestClaimTakenAgainKeepsTheIdentityWhenAlone(t *testing.T) {
	dsn := newDatabase(t)
	db1 := open(t, dsn, nil)
	db2 := open(t, dsn, nil)
	ctx := context.Background()
	mine := Identity{Region: "eu-west-1", Account: "111122223333"}
	theirs := Identity{Region: "us-east-1", Account: "444455556666"}
	release, err := db1.ClaimNode(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := db1.AgreeIdentity(ctx, mine); err != nil {
		t.Fatal(err)
	}
	came := make(chan struct{})
	var once sync.Once
	db1.beforeReclaim = func() {
		once.Do(func() {
			defer close(came)
			r, err := db2.ClaimNode(ctx, false)
			if err != nil {
				t.Errorf("the other node's claim in the gap: %v", err)
				return
			}
			if _, err := db2.AgreeIdentity(ctx, theirs); err != nil {
				t.Errorf("the other node's identity in the gap: %v", err)
			}
			r()
		})
	}
	admin := cutClaim(t, dsn)
	select {
	case <-came:
	case <-time.After(30 * time.Second):
		t.Fatal("the lost claim was never tried again")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var kept []byte
		if err := admin.QueryRow(ctx, "SELECT value FROM meta WHERE key = $1", identityKey).Scan(&kept); err != nil {
			t.Fatal(err)
		}
		var id Identity
		if json.Unmarshal(kept, &id) == nil && id == mine {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database is still kept as served by %s: the node back alone did not take it back", kept)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := db1.Ping(ctx); err != nil {
		t.Errorf("the node back alone: %v", err)
	}
}

// AgreeIdentity at a node's start (its context has no deadline) on a meta
// table another session keeps locked gives up after the store's read
// timeout, so that the start fails and says so, rather than hanging
// without a word for as long as the lock is held.
func TestAgreeIdentityBoundedWhenMetaLocked(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	db := open(t, dsn, nil)
	db.readTimeout = 300 * time.Millisecond
	lockTables(t, dsn, "meta")
	done := make(chan error, 1)
	go func() {
		_, err := db.AgreeIdentity(context.Background(), Identity{Region: "us-east-1", Account: "123456789012"})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("AgreeIdentity on a locked meta table: %v, want a deadline", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("AgreeIdentity on a locked meta table still waits after 20 s (read timeout 300ms)")
	}
}
