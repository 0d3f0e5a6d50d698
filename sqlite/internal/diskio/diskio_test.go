package diskio

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// open opens path through the VFS the way the store does: WAL, no sync at
// commit, and (unless the test wants them) no automatic checkpoints.
func open(t *testing.T, path string, vfs bool, pragmas ...string) *sql.DB {
	t.Helper()
	if err := Register(); err != nil {
		t.Fatal(err)
	}
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=NORMAL&_pragma=wal_autocheckpoint(0)"
	if vfs {
		dsn += "&vfs=" + Name
	}
	for _, p := range pragmas {
		dsn += "&_pragma=" + p
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// counting counts the writes handed to the base VFS while fn runs.
func counting(fn func()) (wal, other int64) {
	var w, o atomic.Int64
	SetWriteFault(func(isWAL bool, n int32, off int64) int32 {
		if isWAL {
			w.Add(1)
		} else {
			o.Add(1)
		}
		return sqlite3.SQLITE_OK
	})
	defer SetWriteFault(nil)
	fn()
	return w.Load(), o.Load()
}

func mustExec(t *testing.T, db interface {
	Exec(string, ...any) (sql.Result, error)
}, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// fill inserts n rows of about 300 bytes in one transaction.
func fill(t *testing.T, db *sql.DB, from, n int) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		mustExec(t, tx, "INSERT INTO t (id, v) VALUES (?, ?)", i, strings.Repeat(fmt.Sprint(i%10), 300))
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// A commit that dirties many pages reaches the WAL in one write (at most
// one per 128 KiB), where SQLite alone makes two per page.
func TestOneWritePerCommit(t *testing.T) {
	dir := t.TempDir()
	for _, vfs := range []bool{false, true} {
		db := open(t, filepath.Join(dir, fmt.Sprintf("vfs-%v.db", vfs)), vfs)
		db.SetMaxOpenConns(1)
		mustExec(t, db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
		fill(t, db, 0, 10)
		wal, _ := counting(func() { fill(t, db, 10, 100) }) // about 8 pages
		if vfs && wal != 1 {
			t.Errorf("through the VFS a commit of about 8 pages took %d WAL writes, want 1", wal)
		}
		if !vfs && wal != 0 {
			t.Errorf("the hook saw %d writes of a database not opened through the VFS", wal)
		}
		wal, _ = counting(func() { fill(t, db, 110, 2000) }) // about 170 pages: 700 KB
		if vfs && (wal < 2 || wal > 8) {
			t.Errorf("a commit of about 700 KB took %d WAL writes, want one per 128 KiB", wal)
		}
	}
}

// checkRows checks that t holds rows 0..n-1 with their values, and that
// the database is sound.
func checkRows(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	var count, bad int
	if err := db.QueryRow("SELECT count(*), count(*) FILTER (WHERE v <> substr(replace(hex(zeroblob(300)), '00', id % 10), 1, 300)) FROM t").Scan(&count, &bad); err != nil {
		t.Fatal(err)
	}
	if count != n || bad != 0 {
		t.Fatalf("%d rows (%d with a wrong value), want %d", count, bad, n)
	}
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// The WAL the VFS writes is the one SQLite would have written: a copy of
// the files taken while the database is open (as a crash would leave them)
// opens without the VFS, recovers every commit and is sound.
func TestWALReadableWithoutVFS(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.db")
	db := open(t, path, true)
	db.SetMaxOpenConns(1)
	mustExec(t, db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
	n := 0
	for i, size := range []int{1, 5, 50, 500, 3000, 7, 1} {
		fill(t, db, n, size)
		n += size
		if i == 3 {
			// A checkpoint in the middle: the next commits restart
			// the WAL from its beginning, over the old frames.
			mustExec(t, db, "PRAGMA wal_checkpoint(RESTART)")
		}
	}
	copyFile(t, path, filepath.Join(dir, "b.db"))
	copyFile(t, path+"-wal", filepath.Join(dir, "b.db-wal"))
	checkRows(t, open(t, filepath.Join(dir, "b.db"), false), n)
	checkRows(t, db, n)
}

// Readers on other connections see every commit whole while it is written.
func TestReadersSeeWholeCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	w := open(t, path, true)
	w.SetMaxOpenConns(1)
	mustExec(t, w, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
	r := open(t, path, true)
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0
			for !stop.Load() {
				var n, sum int
				if err := r.QueryRow("SELECT count(*), coalesce(sum(length(v)), 0) FROM t").Scan(&n, &sum); err != nil {
					errs <- err
					return
				}
				// Commits are of 40 rows: a reader sees whole ones.
				if n%40 != 0 || sum != n*300 || n < last {
					errs <- fmt.Errorf("reader saw %d rows (%d bytes) after %d", n, sum, last)
					return
				}
				last = n
			}
		}()
	}
	for i := 0; i < 200; i++ {
		fill(t, w, i*40, 40)
		if i%50 == 49 {
			mustExec(t, w, "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkRows(t, w, 8000)
}

// A commit whose frames cannot be written fails with SQLite's error and
// leaves nothing behind; the next commits go through.
func TestFailedWriteFailsCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	db := open(t, path, true)
	db.SetMaxOpenConns(1)
	mustExec(t, db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
	fill(t, db, 0, 100)
	for _, code := range []int32{sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR_WRITE} {
		SetWriteFault(func(isWAL bool, n int32, off int64) int32 {
			if isWAL {
				return code
			}
			return sqlite3.SQLITE_OK
		})
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, tx, "INSERT INTO t (id, v) VALUES (100, 'x')")
		err = tx.Commit()
		SetWriteFault(nil)
		var se *sqlite.Error
		if err == nil {
			t.Fatalf("commit succeeded though its WAL write failed with %d", code)
		}
		if !errors.As(err, &se) || se.Code()&0xff != int(code&0xff) {
			t.Errorf("commit failed with %v, want SQLite error %d", err, code)
		}
		if tx.Rollback() == nil {
			t.Log("transaction was still open after the failed commit; rolled back")
		}
		checkRows(t, db, 100)
	}
	fill(t, db, 100, 50)
	checkRows(t, db, 150)
	copyFile(t, path, path+".copy")
	copyFile(t, path+"-wal", path+".copy-wal")
	checkRows(t, open(t, path+".copy", false), 150)
}
