package server

import (
	"context"
	"strings"
	"testing"

	"github.com/swfd/swfd/internal/pgtest"
)

// A start on PostgreSQL that fails after the store opened says which step
// failed and what to do about it. Here swfd's role may hold one connection:
// the pool's first one opens the store, and the connection that takes the
// node's claim on the database is refused ("too many connections for
// role"). Before, the error said only that a claim could not be taken,
// bare, with nothing of the start it stopped or of the connections a node
// needs.
func TestStartStepFailureSaysWhatFailedAndWhatToDo(t *testing.T) {
	ctx := context.Background()
	_, roleDSN := pgtest.OwnerRole(t, pgtest.NewDatabase(t), "CONNECTION LIMIT 1")
	s, err := Open(ctx, Config{DB: roleDSN, MetricsOff: true, NoConsole: true})
	if err == nil {
		s.Close()
		t.Fatal("a node started with a role that may hold one connection")
	}
	for _, want := range []string{
		"the database opened, but taking this node's claim on it failed", // the step
		"too many connections for role",                                  // the cause
		"pool_max_conns", "CONNECTION LIMIT", "max_connections",          // what to do
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the start's error lacks %q: %v", want, err)
		}
	}
}
