package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/postgres"
)

// syncBuffer is a log a test reads while the server writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestNodesOfADatabaseShareRegionAndAccount: ARNs and IAM decisions are
// made of --region and --account-id, so a second node started on a
// PostgreSQL database with another region, or another account, than the
// node serving it is refused (it would hand out and accept other ARNs);
// one with the same starts beside it. Once every node has stopped, a node
// with another region takes the database over, and says so.
func TestNodesOfADatabaseShareRegionAndAccount(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	open := func(region, account string, log *syncBuffer) (*Server, error) {
		cfg := Config{DB: dsn, Region: region, AccountID: account, MetricsOff: true, NoConsole: true}
		if log != nil {
			cfg.Logger = slog.New(slog.NewTextHandler(log, nil))
		}
		return Open(ctx, cfg)
	}
	first, err := open("eu-west-1", "111122223333", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range [][2]string{{"us-east-1", "111122223333"}, {"eu-west-1", "444455556666"}} {
		s, err := open(other[0], other[1], nil)
		if err == nil {
			s.Close()
			t.Fatalf("a node as region %s, account %s started beside one as eu-west-1, 111122223333", other[0], other[1])
		}
		if !errors.Is(err, postgres.ErrIdentityMismatch) || !strings.Contains(err.Error(), "--region and --account-id") {
			t.Fatalf("a node as region %s, account %s beside one as eu-west-1, 111122223333: %v", other[0], other[1], err)
		}
	}
	second, err := open("eu-west-1", "111122223333", nil)
	if err != nil {
		t.Fatalf("a second node of the same region and account: %v", err)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	var log syncBuffer
	moved, err := open("us-west-2", "111122223333", &log)
	if err != nil {
		t.Fatalf("a node of another region once the others stopped: %v", err)
	}
	defer moved.Close()
	if !strings.Contains(log.String(), "previous_region=eu-west-1") {
		t.Errorf("no warning of the region taken over; log:\n%s", log.String())
	}
	if s, err := open("eu-west-1", "111122223333", nil); !errors.Is(err, postgres.ErrIdentityMismatch) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("a node of the old region beside the one that took the database over: %v", err)
	}
}
