//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/swfd/swfd"
)

// walChild commits the sample runs from..from+99 to the store at path and
// dies by SIGKILL without closing it: the commits stay in its write-ahead
// log, which the kill leaves beside the file with its index.
func walChild(path string, from int) {
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := from; i < from+100; i++ {
		if err := db.Commit(context.Background(), sampleBatch(i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
}

// integrityCheck runs SQLite's integrity_check on the file at path.
func integrityCheck(t *testing.T, path string) {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var res string
	if err := raw.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Fatalf("integrity_check: %q, %v", res, err)
	}
}

// After a crash (the server killed with kill -9, its write-ahead log and
// index left beside the database), a restored backup is what opens: exactly
// the backup's runs, none of those the log held, and a file that passes
// integrity_check. (Copied into place with cp, the backup had the stale log
// replayed onto it: a mix of both, or a malformed database.)
func TestRestoreAfterCrash(t *testing.T) {
	if path := os.Getenv("SWFD_SQLITE_WAL_CHILD"); path != "" {
		walChild(path, 1000)
		return
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 50)
	backup := filepath.Join(dir, "backup.db")
	if _, err := Backup(ctx, path, backup, nil); err != nil {
		t.Fatal(err)
	}
	runKilledChild(t, "TestRestoreAfterCrash", "SWFD_SQLITE_WAL_CHILD="+path)
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("the killed server left no write-ahead log: %v", err)
	}

	version, err := Restore(ctx, backup, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := schemaVersions(t, backup); version != want[len(want)-1] {
		t.Errorf("Restore says schema version %d, the backup has %v", version, want)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there: %v", suffix, err)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the restored file: %v, %v; want mode 0600", fi, err)
	}
	same(t, backup, path)
	if names := dirNames(t, dir); strings.Join(names, " ") != "backup.db swfd.db" {
		t.Errorf("files after the restore: %v", names)
	}
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkSample(t, db, 50)
	if c, err := db.CountOpen(ctx, "d"); err != nil || c != 50 {
		t.Errorf("CountOpen = %d, %v; the backup has 50", c, err)
	}
	if _, err := db.GetExecution(ctx, "d", "run-1000"); !errors.Is(err, swfd.ErrNotFound) {
		t.Errorf("a run of the stale log after the restore: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	integrityCheck(t, path)
}

// same fails unless the files at a and b have the same bytes.
func same(t *testing.T, a, b string) {
	t.Helper()
	ab, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ab, bb) {
		t.Errorf("%s (%d bytes) is not a copy of %s (%d bytes)", b, len(bb), a, len(ab))
	}
}

// A database a store has open, here in another process, is not restored
// over: ErrInUse, and the file is as it was.
func TestRestoreRefusedWhileInUse(t *testing.T) {
	if path := os.Getenv("SWFD_SQLITE_RESTORE_HOLD_CHILD"); path != "" {
		if _, err := Open(context.Background(), path, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println("open")
		select {} // until killed
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 5)
	backup := filepath.Join(dir, "backup.db")
	if _, err := Backup(ctx, path, backup, nil); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cmd, sc := startChild(t, "TestRestoreRefusedWhileInUse", "SWFD_SQLITE_RESTORE_HOLD_CHILD="+path)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if !sc.Scan() || sc.Text() != "open" {
		t.Fatalf("the child did not open the store: %q", sc.Text())
	}
	if _, err := Restore(ctx, backup, path, nil); !errors.Is(err, ErrInUse) {
		t.Fatalf("Restore over a database in use: %v, want ErrInUse", err)
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(before, after) {
		t.Errorf("the database in use was changed (%v)", err)
	}
	for _, name := range dirNames(t, dir) {
		if strings.Contains(name, ".restore-") {
			t.Errorf("the refused restore left %s", name)
		}
	}
}

// A backup that is not an swfd database (another program's, garbage, a
// damaged copy, an empty file), one of a newer swfd, or one that has a log
// beside it is refused, and
// the target, its leftover log and the directory are as they were.
func TestRestoreRefusesBadBackups(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 5)
	if err := os.WriteFile(path+"-wal", []byte("a leftover log"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.db")
	if _, err := Backup(ctx, path, good, nil); err != nil {
		t.Fatal(err)
	}
	bad := t.TempDir() // out of dir, whose files are compared below
	other := filepath.Join(bad, "other.db")
	raw, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("CREATE TABLE notes (body TEXT)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	write := func(name string, b []byte) string {
		if err := os.WriteFile(filepath.Join(bad, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(bad, name)
	}
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(goodBytes)
	for i := 4096; i < len(damaged); i++ { // every page after the first
		damaged[i] = 0xa5
	}
	garbage := write("garbage.db", bytes.Repeat([]byte("garbage\n"), 1000))
	damagedPath := write("damaged.db", damaged)
	empty := write("empty.db", nil)
	withLog := write("withlog.db", goodBytes)
	newer := write("newer.db", goodBytes)
	raw, err = sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("INSERT INTO schema_version (version, applied) VALUES (9999, 0)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	write("withlog.db-wal", []byte("frames"))

	before := map[string][]byte{}
	for _, name := range dirNames(t, dir) {
		before[name], _ = os.ReadFile(filepath.Join(dir, name))
	}
	for _, tc := range []struct{ from, want string }{
		{other, "not an swfd database"},
		{garbage, "garbage.db is not a SQLite database"},
		{damagedPath, "fails its check: " + damagedPath + " is damaged"},
		{empty, "not an swfd database"},
		{withLog, "write-ahead log beside it"},
		{newer, "newer than this swfd supports"},
		{filepath.Join(bad, "missing.db"), "no such file"},
		{path, "the database itself"},
	} {
		_, err := Restore(ctx, tc.from, path, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Restore from %s: %v, want an error saying %q", filepath.Base(tc.from), err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), ".restore-") {
			t.Errorf("Restore from %s names its temporary copy, which it removed: %v", filepath.Base(tc.from), err)
		}
		names := dirNames(t, dir)
		if len(names) != len(before) {
			t.Errorf("files after Restore from %s: %v", filepath.Base(tc.from), names)
		}
		for _, name := range names {
			if b, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(b, before[name]) {
				t.Errorf("Restore from %s changed %s", filepath.Base(tc.from), name)
			}
		}
	}
}

// A restore stopped (its context canceled, as SIGINT or SIGTERM do for
// swfd restore) in the middle of its copy, which a slow disk holds up,
// returns at once: the target and its leftover log are as they were, and
// the temporary file is gone. (Before, it went on copying until the end,
// however long that took.) A restore run again then works.
func TestRestoreInterruptedMidCopy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 50)
	backup := filepath.Join(t.TempDir(), "backup.db")
	if _, err := Backup(context.Background(), path, backup, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-wal", []byte("a leftover log"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, name := range dirNames(t, dir) {
		before[name], _ = os.ReadFile(filepath.Join(dir, name))
	}

	// The disk takes the first chunk and then stalls until the test ends.
	copying := make(chan struct{})
	stalled := make(chan struct{})
	var once sync.Once
	chunk, hook := copyChunk, afterCopyChunk
	copyChunk = 4096
	afterCopyChunk = func() error {
		once.Do(func() { close(copying) })
		<-stalled
		return nil
	}
	t.Cleanup(func() { close(stalled) })
	defer func() { copyChunk, afterCopyChunk = chunk, hook }()

	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Restore(ctx, backup, path, nil)
		done <- err
	}()
	<-copying
	cancel(signalCause("terminated signal received"))
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Restore still runs 10 s after its context was canceled mid-copy")
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "restore interrupted while copying the backup: terminated signal received; "+path+" is unchanged") {
		t.Fatalf("Restore canceled mid-copy: %v", err)
	}
	names := dirNames(t, dir)
	if len(names) != len(before) {
		t.Errorf("files after the interrupted restore: %v", names)
	}
	for _, name := range names {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(b, before[name]) {
			t.Errorf("the interrupted restore changed %s", name)
		}
	}

	copyChunk, afterCopyChunk = chunk, hook
	if _, err := Restore(context.Background(), backup, path, nil); err != nil {
		t.Fatalf("Restore after the interrupted one: %v", err)
	}
	same(t, backup, path)
}

// signalCause is the cause signal.NotifyContext gives a context a signal
// canceled: it says which signal, and is context.Canceled.
type signalCause string

func (s signalCause) Error() string        { return string(s) }
func (s signalCause) Is(target error) bool { return target == context.Canceled }

// A restore whose context is done before it starts its copy, or while it
// checks the backup, says it was interrupted (not that the backup failed
// its check) and changes nothing.
func TestRestoreInterruptedBeforeCopy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 5)
	backup := filepath.Join(t.TempDir(), "backup.db")
	if _, err := Backup(context.Background(), path, backup, nil); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Restore(ctx, backup, path, nil)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "restore interrupted") || strings.Contains(err.Error(), "fails its check") {
		t.Fatalf("Restore with its context done: %v", err)
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(before, after) {
		t.Errorf("the interrupted restore changed the database (%v)", err)
	}
	if names := dirNames(t, dir); strings.Join(names, " ") != "swfd.db" {
		t.Errorf("files after the interrupted restore: %v", names)
	}
}

// sqliteHolder is a program that is not swfd holding the database at path
// open with SQLite, as the sqlite3 shell does: it opens it (in WAL mode,
// as swfd left it), reads it, in a read transaction it keeps open if tx is
// set, says "open" and waits to be killed.
func sqliteHolder(path string, tx bool) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=rw")
	if err != nil {
		fail(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		fail(err)
	}
	var mode string
	if err := conn.QueryRowContext(context.Background(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		fail(fmt.Errorf("journal_mode %q, %v; want wal", mode, err))
	}
	if tx {
		if _, err := conn.ExecContext(context.Background(), "BEGIN"); err != nil {
			fail(err)
		}
	}
	var n int
	if err := conn.QueryRowContext(context.Background(), "SELECT count(*) FROM executions").Scan(&n); err != nil {
		fail(err)
	}
	fmt.Println("open")
	select {} // until killed
}

// A database that another program (not a store) has open with SQLite —
// in a read transaction, or idle after it read — is not restored over:
// ErrOpenElsewhere, naming the process, and the database and its files are
// as they were. (Before, only a store's flock was checked, and the backup
// was put in place under the program's feet.) Once the program has gone,
// the restore works.
func TestRestoreRefusedWhileOpenElsewhere(t *testing.T) {
	if env := os.Getenv("SWFD_SQLITE_RESTORE_SQLITE_CHILD"); env != "" {
		mode, path, _ := strings.Cut(env, "|")
		sqliteHolder(path, mode == "tx")
		return
	}
	for _, mode := range []string{"tx", "idle"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			path := filepath.Join(dir, "swfd.db")
			sampleDB(t, path, 5)
			backup := filepath.Join(t.TempDir(), "backup.db")
			if _, err := Backup(ctx, path, backup, nil); err != nil {
				t.Fatal(err)
			}
			cmd, sc := startChild(t, "TestRestoreRefusedWhileOpenElsewhere", "SWFD_SQLITE_RESTORE_SQLITE_CHILD="+mode+"|"+path)
			defer func() { cmd.Process.Kill(); cmd.Wait() }()
			if !sc.Scan() || sc.Text() != "open" {
				t.Fatalf("the child did not open the database: %q", sc.Text())
			}
			before := map[string][]byte{}
			for _, name := range dirNames(t, dir) {
				before[name], _ = os.ReadFile(filepath.Join(dir, name))
			}
			if len(before) != 3 {
				t.Fatalf("files while the child has the database open: %v; want it, its -wal and its -shm", dirNames(t, dir))
			}
			_, err := Restore(ctx, backup, path, nil)
			if !errors.Is(err, ErrOpenElsewhere) || !strings.Contains(err.Error(), fmt.Sprintf("process %d holds SQLite's lock on %s", cmd.Process.Pid, path)) {
				t.Fatalf("Restore over a database open in another program: %v, want ErrOpenElsewhere naming process %d", err, cmd.Process.Pid)
			}
			names := dirNames(t, dir)
			if len(names) != len(before) {
				t.Errorf("files after the refused restore: %v", names)
			}
			for _, name := range names {
				if b, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(b, before[name]) {
					t.Errorf("the refused restore changed %s", name)
				}
			}

			cmd.Process.Kill()
			cmd.Wait()
			if _, err := Restore(ctx, backup, path, nil); err != nil {
				t.Fatalf("Restore once the program has gone: %v", err)
			}
			same(t, backup, path)
		})
	}
}

// A store is not opened on a database that another program has open with
// SQLite but without the owner's flock — as an swfd of a release before
// that lock has its file: Open and OpenExisting fail with ErrOpenElsewhere
// naming the process, and nothing is written (the schema is not migrated
// under the other program). (Before, only the flock was checked: the new
// server migrated the schema and both served the file.) Once the program
// has gone, the store opens.
func TestOpenRefusedWhileOpenElsewhere(t *testing.T) {
	if env := os.Getenv("SWFD_SQLITE_OPEN_SQLITE_CHILD"); env != "" {
		sqliteHolder(env, false)
		return
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 5)
	cmd, sc := startChild(t, "TestOpenRefusedWhileOpenElsewhere", "SWFD_SQLITE_OPEN_SQLITE_CHILD="+path)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if !sc.Scan() || sc.Text() != "open" {
		t.Fatalf("the child did not open the database: %q", sc.Text())
	}
	before := map[string][]byte{}
	for _, name := range dirNames(t, dir) {
		before[name], _ = os.ReadFile(filepath.Join(dir, name))
	}
	want := fmt.Sprintf("process %d holds SQLite's lock", cmd.Process.Pid)
	if db, err := Open(ctx, path, nil); !errors.Is(err, ErrOpenElsewhere) || !strings.Contains(err.Error(), want) {
		if err == nil {
			db.Close()
		}
		t.Errorf("Open of a database another program has open: %v, want ErrOpenElsewhere saying %q", err, want)
	}
	if db, err := OpenExisting(ctx, path, nil); !errors.Is(err, ErrOpenElsewhere) {
		if err == nil {
			db.Close()
		}
		t.Errorf("OpenExisting of a database another program has open: %v, want ErrOpenElsewhere", err)
	}
	for _, name := range dirNames(t, dir) {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(b, before[name]) {
			t.Errorf("the refused Open changed %s", name)
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("Open once the program has gone: %v", err)
	}
	db.Close()
}

// A backup with a few damaged pages (a disk's bad sectors, a copy cut
// into) is refused by swfd restore, and a database like it by swfd
// backup, with one line that says the file is damaged, how many problems
// SQLite's check found and the first: not the check's whole report, up to
// a hundred lines that began "*** in database main ***".
func TestDamagedPagesSaidInOneLine(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 200)
	damaged := filepath.Join(dir, "damaged.db")
	if _, err := Backup(ctx, path, damaged, nil); err != nil {
		t.Fatal(err)
	}
	// The root pages of its indexes, overwritten with noise: the check
	// lists each as a problem (a damaged table's page would stop it at
	// once, as its scan for NULLs fails).
	raw, err := sql.Open("sqlite", damaged)
	if err != nil {
		t.Fatal(err)
	}
	var roots []int64
	rows, err := raw.Query("SELECT rootpage FROM sqlite_master WHERE type = 'index' AND rootpage > 0")
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
	rows.Close()
	raw.Close()
	if len(roots) < 2 {
		t.Fatalf("the sample database has %d indexes", len(roots))
	}
	const pageSize = 4096
	noise := make([]byte, pageSize)
	rand.NewChaCha8([32]byte{1}).Read(noise)
	f, err := os.OpenFile(damaged, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, root := range roots {
		if _, err := f.WriteAt(noise, (root-1)*pageSize); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()

	check := func(what string, err error, want ...string) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s of a damaged file succeeded", what)
		}
		msg := err.Error()
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q, want it to say %q", what, msg, w)
			}
		}
		if strings.Contains(msg, "\n") || strings.Contains(msg, "*** in database") || len(msg) > 400 {
			t.Errorf("%s: %q, want one short line", what, msg)
		}
	}
	target := filepath.Join(t.TempDir(), "swfd.db")
	_, err = Restore(ctx, damaged, target, nil)
	check("Restore", err, damaged+" is damaged (SQLite's quick_check finds ", "problems; the first: ", "btreeInitPage")
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Errorf("Restore of a damaged backup left %s: %v", target, err)
	}
	_, err = Backup(ctx, damaged, filepath.Join(t.TempDir(), "b.db"), nil)
	check("Backup", err, "the copy of "+damaged+" fails its check: it is damaged (SQLite's quick_check finds ", "problems; the first: ", "btreeInitPage")
}

// A restore whose copy of the backup fills the disk (it writes the copy
// beside the database before it replaces the database) says so: the disk
// of the database's directory is full, how large the copy is, and that
// the database is unchanged, which it is; it names no temporary file (its
// hidden copy, removed by then). Before, it said "copy FROM: write
// DIR/.swfd.db.restore-123: no space left on device".
func TestRestoreOnAFullDisk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 20)
	backup := filepath.Join(t.TempDir(), "backup.db")
	if _, err := Backup(ctx, path, backup, nil); err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, name := range dirNames(t, dir) {
		before[name], _ = os.ReadFile(filepath.Join(dir, name))
	}
	fi, err := os.Stat(backup)
	if err != nil {
		t.Fatal(err)
	}

	chunk, hook := copyChunk, afterCopyChunk
	defer func() { copyChunk, afterCopyChunk = chunk, hook }()
	copyChunk = 4096
	afterCopyChunk = func() error {
		return &fs.PathError{Op: "write", Path: filepath.Join(dir, ".swfd.db.restore-123"), Err: syscall.ENOSPC}
	}
	_, err = Restore(ctx, backup, path, nil)
	want := fmt.Sprintf("no space left on the disk holding %s: the restore writes a copy of the backup (%d bytes) there", dir, fi.Size())
	if err == nil || !strings.Contains(err.Error(), want) || !strings.HasSuffix(err.Error(), path+" is unchanged") ||
		strings.Contains(err.Error(), ".restore-") || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Restore on a full disk: %v, want it to say %q and that %s is unchanged", err, want, path)
	}
	names := dirNames(t, dir)
	if len(names) != len(before) {
		t.Errorf("files after the restore that filled the disk: %v", names)
	}
	for _, name := range names {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.Equal(b, before[name]) {
			t.Errorf("the restore that filled the disk changed %s", name)
		}
	}
}
