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
	"time"

	"github.com/swfd/swfd"
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

// A read of a store opened by OpenExisting (swfd migrate's source) that
// SQLite fails, here on a damaged table, says what SQLite found: the
// file is the one opened, so the error must not claim it was replaced
// (nor be the storage unavailable, which invites a retry that fails the
// same way). OpenExisting records no files to compare the path with, and
// the read took the missing record for another file.
func TestOpenExistingReadFailureIsNotAReplacedFile(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	for i := range 20 {
		if err := db.Commit(ctx, sampleBatch(i)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var roots []int64
	rows, err := raw.Query("SELECT rootpage FROM sqlite_master WHERE tbl_name = 'timers' AND rootpage > 0")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var root int64
		if err := rows.Scan(&root); err != nil {
			t.Fatal(err)
		}
		roots = append(roots, root)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var pageSize int64
	if err := raw.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The table and its indexes: a read may go through either.
	for _, root := range roots {
		if _, err := f.WriteAt([]byte(strings.Repeat("\xff", int(pageSize))), (root-1)*pageSize); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()

	ro, err := OpenExisting(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, err = ro.DueTimers(ctx, time.Now(), 0)
	if err == nil {
		t.Fatal("DueTimers read a damaged table without an error")
	}
	if strings.Contains(err.Error(), "replaced") || strings.Contains(err.Error(), "removed") || errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Errorf("a damaged table read as a file gone: %v", err)
	}
	if !strings.Contains(err.Error(), "malformed") {
		t.Errorf("the error does not say the database is damaged: %v", err)
	}
}
