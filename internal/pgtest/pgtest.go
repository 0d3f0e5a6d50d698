// Package pgtest gives tests a fresh PostgreSQL database of their own on the
// local server (or the one SWFD_TEST_POSTGRES names), dropped when the test
// ends; for tests that stop and restart the database, a whole
// PostgreSQL server of their own (NewCluster); and, for tests of an
// outage, a proxy to the server that they can cut and restore (NewProxy).
// Without a reachable server the test is skipped, unless
// SWFD_REQUIRE_POSTGRES=1 (as in CI), when it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const defaultAdminDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func adminDSN() string {
	if dsn := os.Getenv("SWFD_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return defaultAdminDSN
}

// NewDatabase creates a database and returns its postgres:// URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return NewDatabaseWith(t, "")
}

// NewDatabaseWith is NewDatabase with options for CREATE DATABASE (such
// as "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'und'"); a server
// that refuses them skips the test, as one that is not there does.
func NewDatabaseWith(t testing.TB, options string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminDSN())
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL is not reachable (%v)", err)
		if os.Getenv("SWFD_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("%s (SWFD_REQUIRE_POSTGRES=1)", msg)
		}
		t.Skip(msg + "; skipping")
	}
	defer admin.Close(context.Background())
	var rnd [6]byte
	rand.Read(rnd[:])
	name := "swfd_test_" + hex.EncodeToString(rnd[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" "+options); err != nil {
		if options != "" {
			t.Skipf("create database %s %s: %v; skipping", name, options, err)
		}
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminDSN())
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminDSN())
	if err != nil {
		t.Fatalf("SWFD_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// TerminateBackends ends every other session connected to the database of
// dsn with pg_terminate_backend, as an operator (or a failover) does while
// the server stays up, and waits until they are gone: a backend ends at
// its next check for interrupts, after pg_terminate_backend returned.
// Sessions that start meanwhile (a client reconnecting) are left alone. It
// returns how many it ended.
func TerminateBackends(t testing.TB, dsn string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("terminate backends: %v", err)
	}
	defer conn.Close(context.Background())
	var ended []int32
	if err := conn.QueryRow(ctx, `WITH others AS MATERIALIZED (SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid())
		SELECT coalesce(array_agg(pid) FILTER (WHERE pg_terminate_backend(pid)), '{}') FROM others`).Scan(&ended); err != nil {
		t.Fatalf("terminate backends: %v", err)
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		var left int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", ended).Scan(&left); err != nil {
			t.Fatalf("terminate backends: %v", err)
		}
		if left == 0 {
			return len(ended)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("terminate backends: %d still there after 30 s", left)
		case <-tick.C:
		}
	}
}

// SetReadOnly makes the database of dsn take no writes, or take them
// again, as a failover that leaves clients on a standby does: it sets the
// database's default_transaction_read_only and ends its sessions
// (TerminateBackends), so that every session from then on has the new
// setting.
func SetReadOnly(t testing.TB, dsn string, on bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("set read-only: %v", err)
	}
	// The session itself may begin read-only: it sets what it may.
	if _, err := conn.Exec(ctx, "SET default_transaction_read_only = off"); err != nil {
		t.Fatalf("set read-only: %v", err)
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("DO $$BEGIN EXECUTE format('ALTER DATABASE %%I SET default_transaction_read_only = %v', current_database()); END$$", on)); err != nil {
		t.Fatalf("set read-only: %v", err)
	}
	conn.Close(ctx)
	TerminateBackends(t, dsn)
}

// OwnerRole creates a login role of the test's own (options are added to
// CREATE ROLE: "CONNECTION LIMIT 1"), makes it the owner of dsn's database
// and its public schema, and returns its name and dsn with the role as its
// user: for a test that limits or shuts out one role's connections and
// not the admin's. When the test ends the database is given back and the
// role dropped, before NewDatabase's cleanup drops the database.
func OwnerRole(t testing.TB, dsn, options string) (role, roleDSN string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("owner role: %v", err)
	}
	defer conn.Close(ctx)
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatalf("owner role: %v", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	role = "swfd_test_role_" + hex.EncodeToString(b[:])
	dbID := pgx.Identifier{db}.Sanitize()
	run := func(c *pgx.Conn, qs ...string) {
		t.Helper()
		for _, q := range qs {
			if _, err := c.Exec(context.Background(), q); err != nil {
				t.Errorf("owner role: %s: %v", q, err)
			}
		}
	}
	run(conn, "CREATE ROLE "+role+" LOGIN NOSUPERUSER "+options,
		"ALTER DATABASE "+dbID+" OWNER TO "+role,
		"ALTER SCHEMA public OWNER TO "+role)
	if t.Failed() {
		t.FailNow()
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Errorf("owner role: %v", err)
			return
		}
		defer c.Close(context.Background())
		run(c, "ALTER DATABASE "+dbID+" OWNER TO CURRENT_USER",
			"REASSIGN OWNED BY "+role+" TO CURRENT_USER",
			"DROP ROLE "+role)
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("owner role: %v", err)
	}
	u.User = url.User(role)
	return role, u.String()
}
