package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/swfd/swfd/api"
	"github.com/swfd/swfd/internal/pgtest"
)

// In a cluster (PostgreSQL), a scrape counts each domain's open executions
// in the store; a flood of scrapes of /metrics, which needs no signature,
// must not become a flood of queries: scrapes close together share one
// count. Before, each scrape ran a query per domain (with 100 domains the
// probe measured API calls slowed fourfold during a flood).
func TestScrapesShareTheClustersOpenCounts(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{DB: pgtest.NewDatabase(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := s.current()
	const domains = 10
	for i := range domains {
		if err := e.svc.RegisterDomain(ctx, &api.RegisterDomainInput{Name: fmt.Sprint("d", i), WorkflowExecutionRetentionPeriodInDays: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	scrape := func() {
		rec := httptest.NewRecorder()
		s.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != 200 {
			t.Fatalf("/metrics: %d", rec.Code)
		}
	}
	scrape()
	before := e.pg.PoolStat().AcquireCount()
	const scrapes = 50
	for range scrapes {
		scrape()
	}
	// Each count is about domains+2 queries; other work of the node (its
	// timer loop, its resync) a few more.
	if n := e.pg.PoolStat().AcquireCount() - before; n >= scrapes {
		t.Errorf("%d scrapes of a cluster node with %d domains took %d connections from the pool; want a few counts shared", scrapes, domains, n)
	}
}

// openCounts counts again only once the counts are openCountsKept old.
func TestOpenCountsKept(t *testing.T) {
	now := time.Unix(1000, 0)
	c := &openCounts{now: func() time.Time { return now }}
	calls := 0
	count := func(context.Context) (map[string]int, error) {
		calls++
		return map[string]int{"d": calls}, nil
	}
	for range 3 {
		if got, err := c.get(context.Background(), count); err != nil || got["d"] != 1 {
			t.Fatalf("get = %v, %v; want the first count", got, err)
		}
		now = now.Add(openCountsKept / 4)
	}
	now = now.Add(openCountsKept)
	if got, _ := c.get(context.Background(), count); got["d"] != 2 || calls != 2 {
		t.Errorf("get after %v = %v (%d counts); want a new count", openCountsKept, got, calls)
	}
}
