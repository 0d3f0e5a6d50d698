package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
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
