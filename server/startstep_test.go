package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

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
	dsn := pgtest.NewDatabase(t)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var dbName string
	if err := admin.QueryRow(ctx, "SELECT current_database()").Scan(&dbName); err != nil {
		t.Fatal(err)
	}
	role := fmt.Sprintf("swfd_test_role_%d", rand.Uint32())
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN NOSUPERUSER CONNECTION LIMIT 1",
		"ALTER DATABASE " + pgx.Identifier{dbName}.Sanitize() + " OWNER TO " + role,
		"ALTER SCHEMA public OWNER TO " + role,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		// Given back before pgtest drops the database, so that the role
		// owns nothing.
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(context.Background())
		for _, q := range []string{
			"ALTER DATABASE " + pgx.Identifier{dbName}.Sanitize() + " OWNER TO CURRENT_USER",
			"REASSIGN OWNED BY " + role + " TO CURRENT_USER",
			"DROP ROLE " + role,
		} {
			if _, err := c.Exec(context.Background(), q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	s, err := Open(ctx, Config{DB: u.String(), MetricsOff: true, NoConsole: true})
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
