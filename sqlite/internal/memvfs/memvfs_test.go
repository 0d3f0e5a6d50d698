package memvfs

import (
	"database/sql"
	"fmt"
	"os"
	"testing"

	"modernc.org/libc"
	_ "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sizeLimitOf opens name through vfs with SQLite's C API and returns the
// size its main database may grow to.
func sizeLimitOf(t *testing.T, name, vfs string) int64 {
	t.Helper()
	tls := libc.NewTLS()
	defer tls.Close()
	zName, _ := libc.CString(name)
	zVfs, _ := libc.CString(vfs)
	zMain, _ := libc.CString("main")
	defer func() {
		libc.Xfree(tls, zName)
		libc.Xfree(tls, zVfs)
		libc.Xfree(tls, zMain)
	}()
	pDb := tls.Alloc(8)
	defer tls.Free(8)
	rc := sqlite3.Xsqlite3_open_v2(tls, zName, pDb, sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_CREATE, zVfs)
	db := *(*uintptr)(ptr(pDb))
	defer sqlite3.Xsqlite3_close_v2(tls, db)
	if rc != sqlite3.SQLITE_OK {
		t.Fatalf("open %s with vfs %s: SQLite error %d", name, vfs, rc)
	}
	// A write makes SQLite open the file (it opens it lazily).
	zSQL, _ := libc.CString("CREATE TABLE t (x)")
	defer libc.Xfree(tls, zSQL)
	if rc := sqlite3.Xsqlite3_exec(tls, db, zSQL, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("create table: SQLite error %d", rc)
	}
	p := tls.Alloc(8)
	defer tls.Free(8)
	*(*int64)(ptr(p)) = -1 // a query: memdb answers its limit
	if rc := sqlite3.Xsqlite3_file_control(tls, db, zMain, sqlite3.SQLITE_FCNTL_SIZE_LIMIT, p); rc != sqlite3.SQLITE_OK {
		t.Fatalf("file control: SQLite error %d", rc)
	}
	return *(*int64)(ptr(p))
}

func TestSizeLimitIsLifted(t *testing.T) {
	if err := Register(); err != nil {
		t.Fatal(err)
	}
	if got := sizeLimitOf(t, "lifted", Name); got != sizeLimit {
		t.Errorf("through %s a database may grow to %d bytes, want %d", Name, got, int64(sizeLimit))
	}
	// SQLite's memdb itself stops at 1 GiB: what this VFS is for.
	if got := sizeLimitOf(t, "capped", "memdb"); got != 1<<30 {
		t.Errorf("through memdb a database may grow to %d bytes, want 1 GiB", got)
	}
}

func open(t *testing.T, name string) *sql.DB {
	t.Helper()
	if err := Register(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+name+"?vfs="+Name+"&_pragma=journal_mode(MEMORY)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDatabase: a database kept through the VFS commits, rolls back, grows
// past its first pages, leaves no file behind, and is its connection's own.
func TestDatabase(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil { // where a stray journal would land
		t.Fatal(err)
	}
	defer os.Chdir(wd)

	db := open(t, "store")
	if _, err := db.Exec("CREATE TABLE t (x BLOB)"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 { // about 8 MB: many times the first allocation
		if _, err := tx.Exec("INSERT INTO t VALUES (?)", make([]byte, 4000+i%7)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, err = db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("DELETE FROM t WHERE rowid % 2 = 0"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db); n != 2000 {
		t.Errorf("%d rows after a rolled-back delete, want 2000", n)
	}
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}

	other := open(t, "store")
	if _, err := other.Exec("CREATE TABLE t (x BLOB)"); err != nil {
		t.Errorf("a second connection to the same name should get a database of its own: %v", err)
	}
	if n := count(t, db); n != 2000 {
		t.Errorf("%d rows after another connection's work, want 2000", n)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("file %s left on disk", e.Name())
	}
}

func ExampleRegister() {
	if err := Register(); err != nil {
		panic(err)
	}
	db, _ := sql.Open("sqlite", "file:example?vfs="+Name+"&_pragma=journal_mode(MEMORY)")
	defer db.Close()
	db.Exec("CREATE TABLE t (x)")
	db.Exec("INSERT INTO t VALUES (1), (2)")
	var n int
	db.QueryRow("SELECT count(*) FROM t").Scan(&n)
	fmt.Println(n)
	// Output: 2
}
