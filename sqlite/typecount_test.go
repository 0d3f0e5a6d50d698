package sqlite

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/swfd/swfd"
)

// pagesRead returns how many pages the writer connection has read (from
// its cache or the file) since the last call.
func pagesRead(t *testing.T, db *DB) int {
	t.Helper()
	db.wmu.Lock()
	defer db.wmu.Unlock()
	total := 0
	err := db.wconn.Raw(func(dc any) error {
		for _, op := range []sqlite.DBStatusOp{sqlite.DBStatusCacheHit, sqlite.DBStatusCacheMiss} {
			n, _, err := dc.(sqlite.DBStatus).Status(op, true)
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// addTypes stores n activity types in domain, each with a description of
// 1 KB, in one transaction.
func addTypes(t *testing.T, db *DB, domain string, n int) {
	t.Helper()
	err := db.write(context.Background(), func(x *wtx) error {
		_, err := x.exec(`WITH RECURSIVE i(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM i WHERE v < ?)
			INSERT INTO types (kind, domain, name, version, status, description, created)
			SELECT ?, ?, printf('type-%06d', v), '1', ?, ?, 0 FROM i`,
			n, string(swfd.ActivityKind), domain, swfd.StatusRegistered, strings.Repeat("d", 1024))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Refusing a type in a domain at its limit reads as many pages whether the
// domain holds 10 types or 5,000: the limit is checked against a count kept
// with the types, not by counting them inside the one write transaction
// every other write waits for.
func TestTypeLimitCheckDoesNotGrowWithTheTypes(t *testing.T) {
	db, _ := openTemp(t)
	ctx := context.Background()
	for _, d := range []string{"small", "big"} {
		if err := db.CreateDomain(ctx, swfd.Domain{Name: d, Status: swfd.StatusRegistered, RetentionDays: "1", Created: time.UnixMilli(0)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	addTypes(t, db, "small", 10)
	addTypes(t, db, "big", 5000)
	refused := func(domain string, limit int) int {
		pagesRead(t, db)
		tr := swfd.TypeRecord{Kind: swfd.ActivityKind, Domain: domain, Name: "over-the-limit", Version: "1", Status: swfd.StatusRegistered, Created: time.UnixMilli(0)}
		if err := db.CreateType(ctx, tr, limit); !errors.Is(err, swfd.ErrLimitExceeded) {
			t.Fatalf("CreateType into %s at its limit of %d: %v, want ErrLimitExceeded", domain, limit, err)
		}
		return pagesRead(t, db)
	}
	small, big := refused("small", 10), refused("big", 5000)
	if big > small+4 {
		t.Errorf("a refused CreateType read %d pages in a domain of 10 types and %d in one of 5,000; want about as many", small, big)
	}
	// Below the limit the type is taken, and the count follows inserts and
	// deletes.
	if err := db.CreateType(ctx, swfd.TypeRecord{Kind: swfd.ActivityKind, Domain: "big", Name: "one-more", Version: "1", Status: swfd.StatusRegistered, Created: time.UnixMilli(0)}, 5001); err != nil {
		t.Fatal(err)
	}
	refused("big", 5001)
	if err := db.DeleteType(ctx, swfd.ActivityKind, "big", "type-000001", "1"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateType(ctx, swfd.TypeRecord{Kind: swfd.ActivityKind, Domain: "big", Name: "again", Version: "1", Status: swfd.StatusRegistered, Created: time.UnixMilli(0)}, 5001); err != nil {
		t.Fatalf("CreateType after a DeleteType made room: %v", err)
	}
}

// A database of the schema before type_counts gets the count of the types
// it holds when it is migrated, and a type written by plain SQL (as swfd
// before the count wrote it) is counted too.
func TestMigrationCountsExistingTypes(t *testing.T) {
	ctx := context.Background()
	path := oldDatabase(t, 3,
		`INSERT INTO domains (name, status, retention, created) VALUES ('old', 'REGISTERED', '1', 1)`,
		`INSERT INTO types (kind, domain, name, version, status, created) VALUES
			('activity', 'old', 'a', '1', 'REGISTERED', 1), ('activity', 'old', 'b', '1', 'DEPRECATED', 1),
			('activity', 'old', 'c', '1', 'REGISTERED', 1), ('workflow', 'old', 'w', '1', 'REGISTERED', 1)`,
	)

	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tr := func(kind swfd.TypeKind, name string) swfd.TypeRecord {
		return swfd.TypeRecord{Kind: kind, Domain: "old", Name: name, Version: "1", Status: swfd.StatusRegistered, Created: time.UnixMilli(2)}
	}
	if err := db.CreateType(ctx, tr(swfd.ActivityKind, "d"), 3); !errors.Is(err, swfd.ErrLimitExceeded) {
		t.Errorf("CreateType into 3 activity types at a limit of 3: %v, want ErrLimitExceeded", err)
	}
	if err := db.CreateType(ctx, tr(swfd.WorkflowKind, "x"), 1); !errors.Is(err, swfd.ErrLimitExceeded) {
		t.Errorf("CreateType into 1 workflow type at a limit of 1: %v, want ErrLimitExceeded", err)
	}
	if err := db.CreateType(ctx, tr(swfd.ActivityKind, "d"), 4); err != nil {
		t.Errorf("CreateType into 3 activity types at a limit of 4: %v", err)
	}
	if err := db.write(ctx, func(x *wtx) error {
		_, err := x.exec(`INSERT INTO types (kind, domain, name, version, status, created) VALUES ('activity', 'old', 'e', '1', 'REGISTERED', 3)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateType(ctx, tr(swfd.ActivityKind, "f"), 5); !errors.Is(err, swfd.ErrLimitExceeded) {
		t.Errorf("CreateType into 5 activity types (one inserted by plain SQL) at a limit of 5: %v, want ErrLimitExceeded", err)
	}
}
