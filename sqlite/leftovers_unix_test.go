//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package sqlite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/swfd/swfd/internal/logbuf"
)

// withPrefix lists the names in dir that begin with prefix.
func withPrefix(t *testing.T, dir, prefix string) []string {
	t.Helper()
	var names []string
	for _, name := range dirNames(t, dir) {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	return names
}

// The full-size copy a killed backup leaves (".NAME.partial-*", with its
// journal) is removed by the next backup into that directory, whatever its
// target's name, and the removal is logged; the temporary file of a
// backup still running (another process's, here one this test holds) is
// left alone. (Before, such copies piled up unseen, each as large as the
// database.)
func TestBackupRemovesKilledBackupsCopy(t *testing.T) {
	killedBackupChild("SWFD_SQLITE_BACKUP_LEFTOVER_CHILD")
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 20)
	backups := t.TempDir()
	runKilledChild(t, "TestBackupRemovesKilledBackupsCopy", "SWFD_SQLITE_BACKUP_LEFTOVER_CHILD="+path+"|"+filepath.Join(backups, "monday.db"))
	killed := withPrefix(t, backups, ".monday.db.partial-")
	if len(killed) == 0 {
		t.Fatalf("the killed backup left no copy: %v", dirNames(t, backups))
	}
	live, hold, err := createTemp(filepath.Join(backups, "running.db"), partialInfix)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()

	var logs logbuf.Buffer
	if _, err := Backup(context.Background(), path, filepath.Join(backups, "tuesday.db"), slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Fatal(err)
	}
	if left := withPrefix(t, backups, ".monday.db."); len(left) != 0 {
		t.Errorf("the killed backup's files are still there: %v", left)
	}
	if !strings.Contains(logs.String(), filepath.Join(backups, killed[0])) {
		t.Errorf("the removal of %s was not logged: %q", killed[0], logs.String())
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the running backup's file was removed: %v", err)
	}
}

// The copy a restore killed during its copy leaves (".NAME.restore-*") is
// removed, and logged, when a store opens the database (and by the next
// restore), which is as it was. (Before, nothing removed it.)
func TestOpenRemovesKilledRestoresCopy(t *testing.T) {
	if env := os.Getenv("SWFD_SQLITE_RESTORE_LEFTOVER_CHILD"); env != "" {
		from, path, _ := strings.Cut(env, "|")
		afterCopyChunk = func() error {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			return nil
		}
		_, err := Restore(context.Background(), from, path, nil)
		fmt.Fprintln(os.Stderr, "the restore was not killed:", err)
		os.Exit(2)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 5)
	backup := filepath.Join(t.TempDir(), "backup.db")
	if _, err := Backup(context.Background(), path, backup, nil); err != nil {
		t.Fatal(err)
	}
	runKilledChild(t, "TestOpenRemovesKilledRestoresCopy", "SWFD_SQLITE_RESTORE_LEFTOVER_CHILD="+backup+"|"+path)
	killed := withPrefix(t, dir, ".swfd.db.restore-")
	if len(killed) == 0 {
		t.Fatalf("the killed restore left no copy: %v", dirNames(t, dir))
	}
	db, logs := openLogged(t, path)
	if left := withPrefix(t, dir, ".swfd.db.restore-"); len(left) != 0 {
		t.Errorf("the killed restore's copy is still there: %v", left)
	}
	if !strings.Contains(logs.String(), killed[0]) {
		t.Errorf("the removal of %s was not logged: %q", killed[0], logs.String())
	}
	checkSample(t, db, 5)
}

// A restore killed after it removed the database's log and before it put
// the backup in place leaves the old database perhaps without its log:
// Open refuses it with ErrRestoreInterrupted, saying to run the restore
// again (before, swfd served the old database silently, without the writes
// its log held), and a restore run again puts the backup in place and
// removes what the killed one left.
func TestRestoreKilledWhileReplacing(t *testing.T) {
	if env := os.Getenv("SWFD_SQLITE_RESTORE_REPLACE_CHILD"); env != "" {
		from, path, _ := strings.Cut(env, "|")
		afterLogRemoved = func() { syscall.Kill(os.Getpid(), syscall.SIGKILL) }
		_, err := Restore(context.Background(), from, path, nil)
		fmt.Fprintln(os.Stderr, "the restore was not killed:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 3)
	backup := filepath.Join(t.TempDir(), "backup.db")
	if _, err := Backup(ctx, path, backup, nil); err != nil {
		t.Fatal(err)
	}
	// Runs after the backup, in the log only, as a server killed leaves
	// them.
	if err := os.WriteFile(path+"-wal", []byte("a leftover log"), 0o600); err != nil {
		t.Fatal(err)
	}
	runKilledChild(t, "TestRestoreKilledWhileReplacing", "SWFD_SQLITE_RESTORE_REPLACE_CHILD="+backup+"|"+path)
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the child was not killed after removing the log: %v", err)
	}
	db, err := Open(ctx, path, nil)
	if err == nil {
		db.Close()
	}
	if !errors.Is(err, ErrRestoreInterrupted) || !strings.Contains(err.Error(), "run swfd restore again") {
		t.Fatalf("Open after a restore killed while replacing the database: %v, want ErrRestoreInterrupted saying to run the restore again", err)
	}
	if _, err := Restore(ctx, backup, path, nil); err != nil {
		t.Fatalf("the restore run again: %v", err)
	}
	same(t, backup, path)
	if left := withPrefix(t, dir, ".swfd.db.restore-"); len(left) != 0 {
		t.Errorf("files the killed restore left: %v", left)
	}
	db, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkSample(t, db, 3)
}
