//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package sqlite

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swfd/swfd/internal/logbuf"
)

// A database path through a symbolic link (link/swfd.db naming
// real/swfd.db, a data file kept on a bigger volume) works: the store opens
// and serves the real file, with SQLite's -wal beside it (before, Open
// failed with "open link/swfd.db-wal: no such file or directory"), a
// backup through the link copies it, and a restore through the link
// replaces the real file and leaves the link a link (before, it renamed the
// backup over the link and left the real file as it was). A link to a file
// that does not exist is refused, saying so.
func TestSymlinkedPath(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	realDir, linkDir := filepath.Join(root, "real"), filepath.Join(root, "link")
	for _, d := range []string{realDir, linkDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	real, link := filepath.Join(realDir, "swfd.db"), filepath.Join(linkDir, "swfd.db")
	sampleDB(t, real, 3)
	if err := os.Symlink("../real/swfd.db", link); err != nil {
		t.Fatal(err)
	}

	db, err := Open(ctx, link, nil)
	if err != nil {
		t.Fatalf("Open through a symbolic link: %v", err)
	}
	checkSample(t, db, 3)
	backup := filepath.Join(root, "backup.db")
	if _, err := Backup(ctx, link, backup, nil); err != nil {
		t.Fatalf("Backup through a symbolic link: %v", err)
	}
	for i := 3; i < 5; i++ {
		if err := db.Commit(ctx, sampleBatch(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(real + "-wal"); err != nil {
		t.Errorf("the real file's log: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	if _, err := Restore(ctx, backup, link, nil); err != nil {
		t.Fatalf("Restore through a symbolic link: %v", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("after the restore, %s is no longer a link: %v, %v", link, fi.Mode(), err)
	}
	same(t, backup, real)
	db, err = Open(ctx, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkSample(t, db, 3)
	if _, err := db.GetExecution(ctx, "d", "run-0003"); err == nil {
		t.Error("the restored database holds a run committed after the backup")
	}
	db.Close()

	dangling := filepath.Join(linkDir, "gone.db")
	if err := os.Symlink("../real/gone.db", dangling); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(ctx, dangling, nil); err == nil || !strings.Contains(err.Error(), "symbolic link to a file that does not exist") {
		if err == nil {
			db.Close()
		}
		t.Errorf("Open of a link to no file: %v", err)
	}
}

// A path that is not in its clean form but leads through no link, such as
// swfd's default ./swfd-data/swfd.db, is not said to lead through one
// (before, every start with the default path logged "the database path
// leads through a symbolic link", naming the same file without its "./"),
// while a path through a link still is.
func TestUncleanPathIsNoLink(t *testing.T) {
	ctx := context.Background()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const line = "leads through a symbolic link"
	open := func(path string) string {
		t.Helper()
		var logs logbuf.Buffer
		db, err := Open(ctx, path, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatalf("Open %s: %v", path, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return logs.String()
	}
	for _, path := range []string{dir + "/./swfd.db", dir + "//swfd.db"} {
		if logs := open(path); strings.Contains(logs, line) {
			t.Errorf("Open %s, which leads through no link, logged:\n%s", path, logs)
		}
	}
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink("swfd.db", link); err != nil {
		t.Fatal(err)
	}
	if logs := open(link); !strings.Contains(logs, line) {
		t.Errorf("Open %s, a link, did not log that it is one:\n%s", link, logs)
	}
}
