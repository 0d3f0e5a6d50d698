//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// sampleDB creates an swfd database at path holding the sample runs
// 0..n-1, closed.
func sampleDB(t *testing.T, path string, n int) {
	t.Helper()
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := db.Commit(context.Background(), sampleBatch(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// runKilledChild runs the test named run in a child process with env set,
// and fails unless the child dies by SIGKILL.
func runKilledChild(t *testing.T, run, env string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the child did not die by SIGKILL: %v", err)
	}
}

// A backup killed (SIGKILL) once its copy is written, before it is checked
// and renamed, leaves nothing at the target's path, only a temporary file
// whose name says what it is; a server can then not be started on an empty
// or rolled-back copy by mistake, and the next backup to the same path
// works. (Before, the target held the copy and its journal, which opened as
// an empty database.)
func TestBackupKilledLeavesNoTarget(t *testing.T) {
	killedBackupChild("SWFD_SQLITE_BACKUP_CHILD")
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 20)
	to := filepath.Join(dir, "copy.db")
	runKilledChild(t, "TestBackupKilledLeavesNoTarget", "SWFD_SQLITE_BACKUP_CHILD="+path+"|"+to)
	if _, err := os.Lstat(to); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a killed backup left a file at its target: %v", err)
	}
	var partial []string
	for _, name := range dirNames(t, dir) {
		if strings.HasPrefix(name, ".copy.db.partial-") {
			partial = append(partial, name)
		}
	}
	if len(partial) == 0 {
		t.Errorf("no .copy.db.partial-* file in %v: was the child killed after the copy?", dirNames(t, dir))
	}
	if _, err := Backup(context.Background(), path, to, nil); err != nil {
		t.Fatalf("a backup after the killed one: %v", err)
	}
	db, err := Open(context.Background(), to, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkSample(t, db, 20)
}

// A backup that fails after its copy is written removes its temporary
// file and journal: the directory holds what it held before.
func TestBackupFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 5)
	before := dirNames(t, dir)
	afterBackupCopy = func(string) error { return errors.New("injected failure") }
	t.Cleanup(func() { afterBackupCopy = func(string) error { return nil } })
	_, err := Backup(context.Background(), path, filepath.Join(dir, "copy.db"), nil)
	if err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("Backup with a failure after the copy: %v", err)
	}
	if after := dirNames(t, dir); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("files after the failed backup: %v, before: %v", after, before)
	}
}

// A backup that could not be restored, or could not be written, is
// refused with what is wrong, and leaves no file: a database that is not
// swfd's (an empty file, another program's: --db mistyped), which before
// was "copied" and reported a success that swfd restore then refused; a
// target that is a directory (before: "file already exists"), or in a
// directory that does not exist (before: the hidden temporary file's name
// with "no such file or directory").
func TestBackupRefusesWhatCannotBeABackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db")
	raw, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("CREATE TABLE notes (body TEXT)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 2)
	out := t.TempDir()
	for _, tc := range []struct{ from, to, want string }{
		{empty, filepath.Join(out, "a.db"), empty + ": not an swfd database (it has no swfd schema), so there is nothing to back up"},
		{other, filepath.Join(out, "b.db"), other + ": not an swfd database"},
		{path, out, out + " is a directory; give the backup a file name in it"},
		{path, filepath.Join(out, "missing", "c.db"), "the directory " + filepath.Join(out, "missing") + " to write the backup in: no such file or directory"},
		{path, filepath.Join(empty, "d.db"), empty + ", where the backup is to go, is not a directory"},
	} {
		_, err := Backup(ctx, tc.from, tc.to, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), ".partial-") {
			t.Errorf("Backup of %s to %s: %v, want an error saying %q", filepath.Base(tc.from), tc.to, err, tc.want)
		}
	}
	if names := dirNames(t, out); len(names) != 0 {
		t.Errorf("the refused backups left %v", names)
	}
}

// killedBackupChild, in the child process runKilledChild starts with env
// set to "PATH|TO", backs PATH up to TO and kills itself with SIGKILL once
// the copy is written, before it is checked and renamed. In the test's own
// process (env unset) it does nothing.
func killedBackupChild(env string) {
	v := os.Getenv(env)
	if v == "" {
		return
	}
	path, to, _ := strings.Cut(v, "|")
	afterBackupCopy = func(string) error { return syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	_, err := Backup(context.Background(), path, to, nil)
	fmt.Fprintln(os.Stderr, "the backup was not killed:", err)
	os.Exit(2)
}

// A backup interrupted (SIGINT or SIGTERM, for swfd backup: its context
// ends) while it copies or while it checks its copy says it was
// interrupted, and by what, and leaves nothing behind. It used to say,
// once its copy was made, that "the copy of PATH fails its check: context
// canceled", which reads as a damaged database.
func TestBackupInterruptedSaysSo(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 5)
	before := dirNames(t, dir)
	signal := errors.New("terminated signal received")
	for _, when := range []string{"copying the database", "checking the copy"} {
		ctx, cancel := context.WithCancelCause(context.Background())
		if when == "copying the database" {
			cancel(signal)
		} else {
			afterBackupCopy = func(string) error { cancel(signal); return nil }
		}
		_, err := Backup(ctx, path, filepath.Join(dir, "copy.db"), nil)
		afterBackupCopy = func(string) error { return nil }
		cancel(nil)
		if !errors.Is(err, context.Canceled) || !strings.Contains(fmt.Sprint(err), "backup interrupted while "+when+": context canceled: terminated signal received; no backup was written") ||
			strings.Contains(fmt.Sprint(err), "fails its check") {
			t.Errorf("Backup interrupted while %s: %v", when, err)
		}
		if after := dirNames(t, dir); strings.Join(after, " ") != strings.Join(before, " ") {
			t.Errorf("files after the backup interrupted while %s: %v, before: %v", when, after, before)
		}
	}
}

// A backup named as one of the files SQLite keeps beside the database
// (PATH-journal, PATH-wal, PATH-shm) is refused, and nothing is written:
// SQLite would take it for that file of the database's, and the next
// open of the database, swfd's start, would play it back or delete it
// (a PATH-journal that is no journal is deleted: the backup lost
// unseen). It used to be written there like any other backup.
func TestBackupRefusesTheDatabasesOwnFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "swfd.db")
	sampleDB(t, path, 2)
	before := dirNames(t, dir)
	for _, suffix := range []string{"-journal", "-wal", "-shm"} {
		_, err := Backup(context.Background(), path, path+suffix, nil)
		if err == nil || !strings.Contains(err.Error(), "is the database's "+suffix+" file") {
			t.Errorf("Backup to %s: %v", path+suffix, err)
		}
		// The same, named by another way to it.
		_, err = Backup(context.Background(), path, filepath.Join(dir, ".", "swfd.db"+suffix), nil)
		if err == nil || !strings.Contains(err.Error(), "is the database's "+suffix+" file") {
			t.Errorf("Backup to %s: %v", filepath.Join(dir, ".", "swfd.db"+suffix), err)
		}
	}
	if after := dirNames(t, dir); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("files after the refused backups: %v, before: %v", after, before)
	}
}
