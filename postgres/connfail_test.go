package postgres

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/pgtest"
)

// TestRegistryTransactionCut: the connection of a registry write (a
// transaction of several statements) fails. Before the COMMIT was sent
// nothing can have been applied: the write is tried once more, on another
// connection, and succeeds; failed twice it is swfd.ErrStorageUnavailable
// (the API answers 503). Once the COMMIT was sent it may have committed:
// it is not tried again (it could apply twice) and its error is
// swfd.ErrOutcomeUnknown, also a 503. Before, every one of these failed
// with the driver's error, which the API answered 500.
func TestRegistryTransactionCut(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	db, p := proxied(t, dsn, nil)
	ctx := context.Background()
	day := time.UnixMilli(1_700_000_000_000).UTC()
	domain := func(name string) swfd.Domain {
		return swfd.Domain{Name: name, Status: swfd.StatusRegistered, RetentionDays: "1", Created: day}
	}
	// at is true at the client's query that starts with what (BEGIN and
	// COMMIT are simple queries), or, with what "", at the first
	// statement that binds the domain's name (prepared statements are
	// cached per connection: a Bind is sent each time, a Parse not).
	at := func(what, name string) func(bool, byte, []byte) bool {
		return func(toServer bool, typ byte, body []byte) bool {
			if what == "" {
				return toServer && typ == 'B' && bytes.Contains(body, []byte(name))
			}
			return toServer && typ == 'Q' && bytes.HasPrefix(body, []byte(what))
		}
	}
	exists := func(name string) bool {
		t.Helper()
		_, err := db.GetDomain(ctx, name)
		if err != nil && !errors.Is(err, swfd.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	cuts := int64(0)
	for _, c := range []struct {
		name, at string
		times    int
		want     error // nil: the domain is created
	}{
		{"BEGIN lost once", "begin", 1, nil},
		{"a statement lost once", "", 1, nil},
		{"BEGIN lost twice", "begin", 2, swfd.ErrStorageUnavailable},
		{"a statement lost twice", "", 2, swfd.ErrStorageUnavailable},
		{"COMMIT lost", "commit", 1, swfd.ErrOutcomeUnknown},
	} {
		name := strings.ReplaceAll(c.name, " ", "_")
		p.arm(c.times, at(c.at, name))
		err := db.CreateDomain(ctx, domain(name), 100)
		cuts += int64(c.times)
		if p.cuts.Load() != cuts {
			t.Fatalf("%s: the proxy cut %d connections, want %d", c.name, p.cuts.Load(), cuts)
		}
		p.arm(0, nil)
		switch {
		case c.want == nil && err != nil:
			t.Fatalf("%s: %v", c.name, err)
		case c.want == nil && !exists(name):
			t.Fatalf("%s: the domain was not created", c.name)
		case c.want == nil:
		case !errors.Is(err, c.want):
			t.Fatalf("%s: %v, want %v", c.name, err, c.want)
		case exists(name):
			// Cut before the server got it: nothing was applied.
			t.Fatalf("%s: the domain was created", c.name)
		}
	}
}

// TestDatabaseUnreachable: a database that cannot be reached (down, or
// restarting) fails reads and writes with swfd.ErrStorageUnavailable,
// nothing applied, which the API answers 503; before, the driver's error
// was answered 500.
func TestDatabaseUnreachable(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	proxy := pgtest.NewProxy(t, dsn)
	db := open(t, withParam(t, proxy.DSN(dsn), "connect_timeout", "2"), nil)
	ctx := context.Background()
	if err := db.Commit(ctx, createBatch("one")); err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	for _, c := range []struct {
		name string
		do   func() error
	}{
		{"get", func() error { _, err := db.GetExecution(ctx, "dom", "one"); return err }},
		{"list", func() error { _, err := db.ListDomains(ctx, swfd.ListQuery{}); return err }},
		{"commit of one update", func() error {
			return db.Commit(ctx, swfd.Batch{Updates: []swfd.Update{stepUpdate("one", 2, "s2")}})
		}},
		{"commit of a batch", func() error {
			return db.Commit(ctx, swfd.Batch{AddTransfers: []swfd.Transfer{{RunID: "one", Payload: []byte("x")}}})
		}},
		{"create domain", func() error {
			return db.CreateDomain(ctx, swfd.Domain{Name: "d", Status: swfd.StatusRegistered, RetentionDays: "1"}, 10)
		}},
		{"set meta", func() error { return db.SetMeta(ctx, "k", []byte("v")) }},
	} {
		if err := c.do(); !errors.Is(err, swfd.ErrStorageUnavailable) {
			t.Fatalf("%s with the database cut off: %v, want ErrStorageUnavailable", c.name, err)
		}
	}
	proxy.Restore()
	if e, err := db.GetExecution(ctx, "dom", "one"); err != nil || e.Version != 1 {
		t.Fatalf("after the database came back: version %d, %v; want 1", e.Version, err)
	}
}
