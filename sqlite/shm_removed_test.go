package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/swfd/swfd"
	"github.com/swfd/swfd/sqlite/internal/diskio"
)

// What removing the -shm file under a running server does to another
// process, and why the store watches it (see watch). The server loses
// nothing of its own: its connections share the index they mapped. But
// another program that opens the database afterwards (here a reader in
// another process, as swfd backup is) builds an index of its own in a new
// -shm file, which the server does not see. The server's checkpoint then
// copies and truncates the log under that reader's snapshot, where with the
// file in place it leaves the frames the reader holds alone, and the
// reader's next reads find other pages than its snapshot's: wrong counts,
// a database that fails its check. The server here is a plain connection
// through the store's VFS, writing and checkpointing as the store's writer
// does, so that the store's own watch does not stop it; this test holds
// SQLite to that behaviour, TestShmRemovedWhileOpen holds the store to
// refusing writes once it happens.
func TestShmRemovedMisleadsOtherProcesses(t *testing.T) {
	if path := os.Getenv("SWFD_SQLITE_READER_CHILD"); path != "" {
		readerChild(path)
		return
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("needs a -shm file that can be removed while open")
	}
	if err := diskio.Register(); err != nil {
		t.Fatal(err)
	}
	for _, removed := range []bool{false, true} {
		t.Run(fmt.Sprint("removed=", removed), func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "server.db")
			server, err := sql.Open("sqlite", "file:"+escapePath(path)+"?vfs="+diskio.Name+
				"&_pragma=journal_mode(WAL)&_pragma=wal_autocheckpoint(0)&_pragma=busy_timeout(50)")
			if err != nil {
				t.Fatal(err)
			}
			defer server.Close()
			server.SetMaxOpenConns(1)
			exec1 := func(q string, args ...any) {
				t.Helper()
				if _, err := server.ExecContext(ctx, q, args...); err != nil {
					t.Fatal(err)
				}
			}
			insert := func(from, to int) {
				t.Helper()
				for i := from; i < to; i++ {
					exec1("INSERT INTO rows (i, payload) VALUES (?, ?)", i, strings.Repeat(fmt.Sprint(i%10), 3000))
				}
			}
			exec1("CREATE TABLE rows (i INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
			exec1("CREATE INDEX rows_payload ON rows (payload)")
			insert(0, 50)
			if removed {
				if err := os.Remove(path + "-shm"); err != nil {
					t.Fatal(err)
				}
			}
			// The reader takes its snapshot of the 50 rows and holds it.
			cmd := exec.Command(os.Args[0], "-test.run=^TestShmRemovedMisleadsOtherProcesses$", "-test.count=1")
			cmd.Env = append(os.Environ(), "SWFD_SQLITE_READER_CHILD="+path)
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			if !sc.Scan() || sc.Text() != "snapshot 50" {
				t.Fatalf("reader: %q", sc.Text())
			}
			// The server writes on, checkpoints the whole log as the
			// store's writer does (giving up quickly when a reader it
			// sees holds frames), and writes again.
			insert(50, 100)
			var busy, frames, copied int
			if err := server.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied); err != nil {
				t.Fatal(err)
			}
			complete := busy == 0 && copied == frames
			insert(100, 150)
			fmt.Fprintln(in, "read")
			var lines []string
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("reader: %v", err)
			}
			read := strings.Join(lines, "\n")
			t.Logf("checkpoint complete: %v; the reader read:\n%s", complete, read)
			consistent := read == "rows 50 150000\nintegrity ok"
			if removed && (!complete || consistent) {
				t.Fatalf("with the -shm file removed, the checkpoint completed: %v, and the reader's snapshot read as it should (SQLite now protects a reader with an index of its own: the store need not watch the -shm file)", complete)
			}
			if !removed && (complete || !consistent) {
				t.Fatalf("with the -shm file in place, the checkpoint completed: %v, and the reader's snapshot did not read as it should", complete)
			}
		})
	}
}

// readerChild opens the database at path in this (other) process, as
// swfd backup would, takes a snapshot and says how many rows it holds,
// waits for a line on its input, then reads the snapshot through and
// prints what it found.
func readerChild(path string) {
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(2)
	}
	rdb, err := sql.Open("sqlite", "file:"+escapePath(path)+"?_query_only=1")
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	conn, err := rdb.Conn(ctx)
	if err != nil {
		fail(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		fail(err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM rows").Scan(&n); err != nil {
		fail(err)
	}
	fmt.Println("snapshot", n)
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fail(err)
	}
	var rows, size int
	err = conn.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(length(payload)), 0) FROM rows").Scan(&rows, &size)
	fmt.Printf("rows %d %d%s\n", rows, size, errText(err))
	var check string
	err = conn.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&check)
	fmt.Printf("integrity %s%s\n", check, errText(err))
	conn.ExecContext(ctx, "COMMIT")
	os.Exit(0)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

// The -shm file is removed under a running store: within a second the
// store refuses writes with an error that wraps
// swfd.ErrStorageUnavailable and names the file, without a call of Ping
// to find it; Ping and WriteHealth say so; reads go on; the log says
// once, at error level, to restart swfd; and a restart finds every write
// acknowledged. Before, the store went on as if nothing had happened
// (TestShmRemovedMisleadsOtherProcesses shows what that risks).
func TestShmRemovedWhileOpen(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("needs a -shm file that can be removed while open")
	}
	ctx := context.Background()
	path := t.TempDir() + "/swfd.db"
	db, logs := openLogged(t, path)
	for i := range 10 {
		if err := db.Commit(ctx, sampleBatch(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(path + "-shm"); err != nil {
		t.Fatal(err)
	}
	acked, err := commitUntilRefused(t, db, 10)
	if !errors.Is(err, swfd.ErrStorageUnavailable) || !strings.Contains(err.Error(), path+"-shm was removed") {
		t.Fatalf("a write after the -shm file went: %v, want one wrapping ErrStorageUnavailable that names %s-shm", err, path)
	}
	if err := db.Ping(ctx); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("Ping: %v", err)
	}
	if err := db.WriteHealth(ctx); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("WriteHealth: %v", err)
	}
	if _, err := db.GetExecution(ctx, "d", "run-0000"); err != nil {
		t.Fatalf("a read: %v", err)
	}
	waitFor(t, "the error logged", func() bool { return strings.Contains(logs.String(), "level=ERROR") })
	db.Ping(ctx)
	out := logs.String()
	if n := strings.Count(out, "level=ERROR"); n != 1 || !strings.Contains(out, path+"-shm was removed") || !strings.Contains(out, `do="restart swfd`) {
		t.Fatalf("%d error lines; log:\n%s", n, out)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	checkSample(t, db2, acked)
	if err := db2.Commit(ctx, sampleBatch(acked)); err != nil {
		t.Fatalf("a write after the restart: %v", err)
	}
}

// A file put in place of the removed -shm file is not the store's: Ping
// finds it replaced at once, and the store refuses writes.
func TestShmReplacedWhileOpen(t *testing.T) {
	db, path := openTemp(t)
	if err := db.Commit(context.Background(), sampleBatch(0)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path + "-shm"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+"-shm", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(context.Background()); !errors.Is(err, swfd.ErrStorageUnavailable) || !strings.Contains(err.Error(), path+"-shm was replaced") {
		t.Fatalf("Ping: %v", err)
	}
	if err := db.Commit(context.Background(), sampleBatch(1)); !errors.Is(err, swfd.ErrStorageUnavailable) {
		t.Fatalf("a write: %v", err)
	}
}
