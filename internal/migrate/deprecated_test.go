package migrate_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/migrate"
	"github.com/swfd/swfd/sqlite"
)

// A store written before types were kept out of deprecated domains may
// hold a registered type in one; the copy carries it over deprecated,
// which the new store's rule demands, instead of failing the whole copy.
func TestCopyRegisteredTypeOfDeprecatedDomain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srcPath := filepath.Join(dir, "src.db")
	src, err := sqlite.Open(ctx, srcPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	created := time.UnixMilli(1_700_000_000_000).UTC()
	if err := src.CreateDomain(ctx, swfd.Domain{Name: "old", Status: swfd.StatusRegistered, RetentionDays: "1", Created: created}, 0); err != nil {
		t.Fatal(err)
	}
	if err := src.CreateType(ctx, swfd.TypeRecord{Kind: swfd.WorkflowKind, Domain: "old", Name: "wf", Version: "1",
		Status: swfd.StatusRegistered, Created: created, Config: []byte(`{}`)}, 0); err != nil {
		t.Fatal(err)
	}
	src.Close()
	// What the race left: the domain deprecated, its type not.
	raw, err := sql.Open("sqlite", srcPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("UPDATE domains SET status = 'DEPRECATED' WHERE name = 'old'"); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	src, err = sqlite.Open(ctx, srcPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := sqlite.Open(ctx, filepath.Join(dir, "dst.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	st, err := migrate.Copy(ctx, src, dst, nil)
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	if st.Types != 1 {
		t.Fatalf("stats %+v", st)
	}
	ty, err := dst.GetType(ctx, swfd.WorkflowKind, "old", "wf", "1")
	if err != nil {
		t.Fatal(err)
	}
	if ty.Status != swfd.StatusDeprecated || !ty.Deprecated.Equal(created) {
		t.Errorf("copied type: %s, deprecated %v; want DEPRECATED at %v", ty.Status, ty.Deprecated, created)
	}
}
