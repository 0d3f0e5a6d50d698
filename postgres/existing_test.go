package postgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/swfd/swfd"
)

// OpenExisting reads a database as it is: it creates no table, brings no
// schema up to date, and its store writes nothing.
func TestOpenExisting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := newDatabase(t)
	if _, err := OpenExisting(ctx, dsn, nil); !errors.Is(err, ErrNoSchema) {
		t.Fatalf("OpenExisting of a database without the schema: %v", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Fatalf("OpenExisting created %d tables", tables)
	}

	db := open(t, dsn, nil)
	if err := db.CreateDomain(ctx, swfd.Domain{Name: "d", Status: swfd.StatusRegistered}, 0); err != nil {
		t.Fatal(err)
	}
	db.Close()
	latest := len(allVersions(t))
	if _, err := conn.Exec(ctx, "DELETE FROM schema_version WHERE version = $1", latest); err != nil {
		t.Fatal(err)
	}
	// An older schema is refused, not migrated.
	if _, err := OpenExisting(ctx, dsn, nil); err == nil || !strings.Contains(err.Error(), "older than this swfd's") {
		t.Errorf("OpenExisting of an older schema: %v", err)
	}
	if vs := schemaVersions(t, dsn); slices.Contains(vs, latest) {
		t.Fatalf("OpenExisting migrated the schema: versions %v", vs)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO schema_version (version, applied) VALUES ($1, 0)", latest); err != nil {
		t.Fatal(err)
	}

	ro, err := OpenExisting(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.GetDomain(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if err := ro.CreateDomain(ctx, swfd.Domain{Name: "e", Status: swfd.StatusRegistered}, 0); err == nil {
		t.Error("a store opened by OpenExisting wrote a domain")
	}
	if err := ro.Commit(ctx, swfd.Batch{Updates: []swfd.Update{{Execution: run("d", "w", "r1"), Create: true}}}); err == nil {
		t.Error("a store opened by OpenExisting wrote a run")
	}
}
