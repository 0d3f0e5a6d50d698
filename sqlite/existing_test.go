package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// OpenExisting reads a database as it is: it creates no file, brings no
// schema up to date, and its store writes nothing.
func TestOpenExisting(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "missing.db")
	if _, err := OpenExisting(ctx, missing, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenExisting of a missing file: %v", err)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("OpenExisting created the missing file: %v", err)
	}
	if _, err := OpenExisting(ctx, ":memory:", nil); !errors.Is(err, ErrNotSwfd) {
		t.Errorf("OpenExisting(:memory:): %v", err)
	}

	db, path := openTemp(t)
	if err := db.Commit(ctx, sampleBatch(0)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ms, _ := migrations()
	latest := ms[len(ms)-1].version
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("DELETE FROM schema_version WHERE version = ?", latest); err != nil {
		t.Fatal(err)
	}
	raw.Close() // a program holding SQLite's locks on the file keeps stores off it
	// An older schema is refused, not migrated.
	if _, err := OpenExisting(ctx, path, nil); err == nil || !strings.Contains(err.Error(), "older than this swfd's") {
		t.Errorf("OpenExisting of an older schema: %v", err)
	}
	if vs := schemaVersions(t, path); slices.Contains(vs, latest) {
		t.Fatalf("OpenExisting migrated the schema: versions %v", vs)
	}
	if raw, err = sql.Open("sqlite", path); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("INSERT INTO schema_version (version, applied) VALUES (?, 0)", latest); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	ro, err := OpenExisting(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	checkSample(t, ro, 1)
	if err := ro.Commit(ctx, sampleBatch(1)); err == nil {
		t.Error("a store opened by OpenExisting wrote")
	}
	if _, err := Open(ctx, path, nil); !errors.Is(err, ErrInUse) {
		t.Errorf("Open while OpenExisting's store has the file: %v", err)
	}
}
