package runs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/history"
)

// RunDomain tells a run's domain from the cache, or from the store when
// the cache does not hold the run (after a restart, or on another node);
// a run that does not exist is ErrNotFound.
func TestRunDomain(t *testing.T) {
	ctx := context.Background()
	db := memStore(t)
	domain := strings.Repeat("域", 256)
	row := swfd.Execution{Domain: domain, WorkflowID: "w", RunID: "r", TypeName: "t", TypeVersion: "1",
		StartTime: time.UnixMilli(1_700_000_000_000), Open: true, Version: 1, State: []byte("{}")}
	if err := db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: row, Create: true}}}); err != nil {
		t.Fatal(err)
	}
	s := New(Options{Store: db})
	if d, err := s.RunDomain(ctx, "r"); d != domain || err != nil {
		t.Fatalf("from the store: %q, %v", d, err)
	}
	cached := row
	cached.RunID = "only-cached"
	s.cache.put(cached, &history.State{}, nil, true, nil)
	if d, err := s.RunDomain(ctx, "only-cached"); d != domain || err != nil {
		t.Fatalf("from the cache: %q, %v", d, err)
	}
	if _, err := s.RunDomain(ctx, "none"); !errors.Is(err, swfd.ErrNotFound) {
		t.Fatalf("no such run: %v, want ErrNotFound", err)
	}
}
