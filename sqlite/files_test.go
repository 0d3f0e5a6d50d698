package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/internal/logbuf"
)

// openLogged opens a store at path with its log in a buffer.
func openLogged(t *testing.T, path string) (*DB, *logbuf.Buffer) {
	t.Helper()
	var logs logbuf.Buffer
	db, err := Open(context.Background(), path, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, &logs
}

// commitUntilRefused commits sample runs from the nth on until the store
// refuses one, and returns how many runs the store then holds.
func commitUntilRefused(t *testing.T, db *DB, n int) (int, error) {
	t.Helper()
	var err error
	waitFor(t, "a write refused", func() bool {
		if err = db.Commit(context.Background(), sampleBatch(n)); err == nil {
			n++
		}
		return err != nil
	})
	return n, err
}

// The data directory is removed under a running store (the probe's rm -rf
// data/): within a second the store refuses writes with an error that
// wraps swfd.ErrStorageUnavailable, without a call of Ping to find it; Ping
// and WriteHealth say so; the log says once, at error level, what
// happened and how to save the data; and the file it names holds every
// write acknowledged, the last ones before the refusal included. Before,
// writes went on being acknowledged into the unlinked files, health said
// fine, nothing was logged, and a restart created an empty database.
func TestDatabaseDirectoryRemovedWhileOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "swfd.db")
	db, logs := openLogged(t, path)
	for i := range 10 {
		if err := db.Commit(context.Background(), sampleBatch(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	acked, err := commitUntilRefused(t, db, 10)
	if !errors.Is(err, swfd.ErrStorageUnavailable) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("write after the directory went: %v, want one wrapping ErrStorageUnavailable that names %s", err, dir)
	}
	if err := db.CreateDomain(context.Background(), swfd.Domain{Name: "after", Status: swfd.StatusRegistered}, 10); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("a registry write: %v", err)
	}
	if err := db.Ping(context.Background()); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("Ping: %v", err)
	}
	if err := db.WriteHealth(context.Background()); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("WriteHealth: %v", err)
	}
	// Reads go on, from the files the store has open.
	if _, err := db.GetExecution(context.Background(), "d", "run-0000"); err != nil {
		t.Fatalf("a read: %v", err)
	}
	waitFor(t, "the error logged", func() bool { return strings.Contains(logs.String(), "level=ERROR") })
	db.Ping(context.Background())
	out := logs.String()
	if n := strings.Count(out, "level=ERROR"); n != 1 || !strings.Contains(out, "the directory "+dir+" of the database file "+path+" was removed") ||
		!strings.Contains(out, "swfd restore") {
		t.Fatalf("%d error lines; log:\n%s", n, out)
	}
	if runtime.GOOS != "linux" {
		return
	}
	// The copy the log tells the operator to make holds every write
	// acknowledged.
	m := regexp.MustCompile(`cp /proc/(\d+)/fd/(\d+) SAFE\.db[^&]`).FindStringSubmatch(out)
	if m == nil || m[1] != strconv.Itoa(os.Getpid()) {
		t.Fatalf("the log names no file to copy out:\n%s", out)
	}
	saved := filepath.Join(t.TempDir(), "saved.db")
	copyPath(t, "/proc/self/fd/"+m[2], saved)
	db2, err := Open(context.Background(), saved, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	checkSample(t, db2, acked)
}

// The database file is replaced by another (renamed over it): Ping finds
// it at once and the store refuses writes.
func TestDatabaseFileReplacedWhileOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	db, logs := openLogged(t, path)
	if err := db.Commit(context.Background(), sampleBatch(0)); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(context.Background()); !errors.Is(err, swfd.ErrStorageUnavailable) || !strings.Contains(err.Error(), "replaced") {
		t.Fatalf("Ping: %v", err)
	}
	if err := db.Commit(context.Background(), sampleBatch(1)); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("a write: %v", err)
	}
	waitFor(t, "the error logged", func() bool { return strings.Contains(logs.String(), "level=ERROR") })
	if out := logs.String(); !strings.Contains(out, "the database file "+path+" was replaced by another file") {
		t.Fatalf("log:\n%s", out)
	}
}

// A store whose files stay in place is not disturbed by the checks: Ping
// and writes go on, across checkpoints that truncate the write-ahead log.
func TestFilesInPlaceStayHealthy(t *testing.T) {
	db, path := openTemp(t)
	for i := range 20 {
		if err := db.Commit(context.Background(), sampleBatch(i)); err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			if complete, err := db.checkpoint(); !complete || err != nil {
				t.Fatalf("checkpoint: %v %v", complete, err)
			}
			if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() != 0 {
				t.Fatalf("WAL after a truncating checkpoint: %v %v", fi, err)
			}
		}
		if err := db.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if g := db.checkFiles(); g != nil {
		t.Fatalf("checkFiles: %s", g.what)
	}
}

func copyPath(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// The write-ahead log is removed under a running store (the probe's rm
// swfd.db-wal), and the server is then killed with SIGKILL: the store
// refused writes within a second, copied the log it had open into the
// database file first and said so, so every write it acknowledged is in
// the database after the kill. Before, writes went on into the unlinked
// log and the kill lost every one since the last checkpoint.
func TestWALRemovedWhileOpen(t *testing.T) {
	if path := os.Getenv("SWFD_SQLITE_WAL_CHILD"); path != "" {
		walRemovedChild(path)
		return
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("needs SIGKILL, and a log that can be removed while open")
	}
	path := filepath.Join(t.TempDir(), "swfd.db")
	cmd, sc := startChild(t, "TestWALRemovedWhileOpen", "SWFD_SQLITE_WAL_CHILD="+path)
	acked := 0
	var refused, logged string
	for sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "acked "); ok {
			acked, _ = strconv.Atoi(n)
		}
		if r, ok := strings.CutPrefix(line, "refused "); ok {
			refused = r
		}
		if l, ok := strings.CutPrefix(line, "log "); ok {
			logged = l
		}
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v", err)
	}
	if !strings.Contains(refused, "swfd: storage is unavailable") || !strings.Contains(refused, path+"-wal was removed") {
		t.Errorf("writes after the log was removed: %q, want them refused", refused)
	}
	if !strings.Contains(logged, "level=ERROR") || !strings.Contains(logged, "has been copied into the database file "+path) ||
		!strings.Contains(logged, `do="restart swfd"`) {
		t.Errorf("log: %q", logged)
	}
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkSample(t, db, acked)
}

// walRemovedChild commits, removes the log, commits until a write is
// refused (for at most 5 s), waits (as long again) for the store's error
// line and prints it, then dies by SIGKILL.
func walRemovedChild(path string) {
	var logs logbuf.Buffer
	db, err := Open(context.Background(), path, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	n := 0
	for ; n < 10; n++ {
		if err := db.Commit(context.Background(), sampleBatch(n)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println("acked", n+1)
	}
	if err := os.Remove(path + "-wal"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); n++ {
		if err := db.Commit(context.Background(), sampleBatch(n)); err != nil {
			fmt.Println("refused", err)
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
				if i := strings.Index(logs.String(), "level=ERROR"); i >= 0 {
					line, _, _ := strings.Cut(logs.String()[i:], "\n")
					fmt.Println("log", line)
					break
				}
				runtime.Gosched()
			}
			break
		}
		fmt.Println("acked", n+1)
	}
	os.Stdout.Sync()
	killSelf()
}

// A file put in place of the removed log is not the store's: Ping finds
// the log replaced at once.
func TestWALReplacedWhileOpen(t *testing.T) {
	db, path := openTemp(t)
	if err := db.Commit(context.Background(), sampleBatch(0)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path + "-wal"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-wal", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(context.Background()); !errors.Is(err, swfd.ErrStorageUnavailable) || !strings.Contains(err.Error(), path+"-wal was replaced") {
		t.Fatalf("Ping: %v", err)
	}
	if err := db.Commit(context.Background(), sampleBatch(1)); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("a write: %v", err)
	}
}

// The data directory is removed and a read then needs a connection of its
// own (the pool's idle ones closed, as database/sql closes them over
// time): opening it finds no database at the path. The read fails with an
// error wrapping swfd.ErrStorageUnavailable (the API's 503), not SQLite's
// bare "unable to open database file", which the API answered 500.
func TestReadOnNewConnectionAfterDirectoryRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db, _ := openLogged(t, filepath.Join(dir, "swfd.db"))
	if err := db.Commit(context.Background(), sampleBatch(0)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	db.rdb.SetMaxIdleConns(0) // the read pool keeps no connection
	_, err := db.ListDomains(context.Background(), swfd.ListQuery{Status: swfd.StatusRegistered})
	if !errors.Is(err, swfd.ErrStorageUnavailable) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("a read on a new connection with the directory gone: %v, want one wrapping ErrStorageUnavailable that names %s", err, dir)
	}
}
