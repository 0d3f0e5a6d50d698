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
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
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
