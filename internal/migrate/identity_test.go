package migrate_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/swfd/swfd/internal/migrate"
	"github.com/swfd/swfd/internal/pgtest"
	"github.com/swfd/swfd/postgres"
	"github.com/swfd/swfd/server"
)

// syncBuffer is a log that the test reads while a server may write it.
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

// The region and account the source's nodes served as go with the copy,
// in place of any the target kept (a node was started on it before): the
// first node on the target is checked against what the data was written
// with, so one started as another region or account is warned that the
// ARNs handed out name the old ones, and one started as the same is not.
// (Before, the target kept its own, or none, and such a node took the
// copy over without a word.)
func TestCopyCarriesTheNodesIdentity(t *testing.T) {
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	serve := func(dsn, region string, log *slog.Logger) {
		t.Helper()
		s, err := server.Open(ctx, server.Config{DB: dsn, Region: region, AccountID: "111122223333", Logger: log, MetricsOff: true, NoConsole: true})
		must(err)
		must(s.Close())
	}
	from, to := pgtest.NewDatabase(t), pgtest.NewDatabase(t)
	serve(from, "eu-west-1", nil)
	serve(to, "us-east-1", nil) // the target's own, replaced by the copy's

	src, err := postgres.OpenExisting(ctx, from, nil)
	must(err)
	defer src.Close()
	dst, err := postgres.Open(ctx, to, nil)
	must(err)
	_, err = migrate.Copy(ctx, src, dst, nil)
	must(err)
	want, err := src.Meta(ctx, "node-identity")
	must(err)
	got, err := dst.Meta(ctx, "node-identity")
	must(err)
	must(dst.Close())
	if !bytes.Equal(got, want) {
		t.Fatalf("the target's nodes' identity after the copy: %s; want the source's, %s", got, want)
	}

	var log syncBuffer
	serve(to, "eu-west-1", slog.New(slog.NewTextHandler(&log, nil)))
	if strings.Contains(log.String(), "served as another region") {
		t.Errorf("a node of the source's region on the copy was warned: %s", log.String())
	}
	serve(to, "us-east-1", slog.New(slog.NewTextHandler(&log, nil)))
	if !strings.Contains(log.String(), "served as another region") || !strings.Contains(log.String(), "previous_region=eu-west-1") {
		t.Errorf("a node of another region on the copy was not warned that it was served as eu-west-1: %s", log.String())
	}
}
