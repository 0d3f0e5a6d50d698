//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package sqlite

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// nobody is the user the test opens stores as when it runs as root, whom
// permissions do not stop.
const nobody = 65534

// openAsUser opens the store at path as a user other than root and
// returns Open's error ("" if it opened): in this process when the test
// does not run as root, else in a child process of this test binary run
// as nobody (copied where nobody can run it).
func openAsUser(t *testing.T, path string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		db, err := Open(context.Background(), path, nil)
		if err != nil {
			return err.Error()
		}
		db.Close()
		return ""
	}
	return asUser(t, path, "TestOpenNamesTheUnwritableFile", "SWFD_SQLITE_OPEN_CHILD="+path)
}

// asUser runs the test named of this test binary as nobody (copied where
// nobody can run it), with env, and returns what it printed after "open
// error: " (the directories of path are opened up for nobody to reach).
func asUser(t *testing.T, path, test, env string) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{dir, filepath.Dir(path)} {
		for d := filepath.Dir(p); d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
			os.Chmod(d, 0o755) // the test's own directories, for nobody to reach the binary and the database
		}
	}
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "sqlite.test")
	copyPath(t, os.Args[0], bin)
	os.Chmod(bin, 0o755)
	cmd := exec.Command(bin, "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v %s", err, out)
	}
	_, got, ok := strings.Cut(string(out), "open error: ")
	if !ok {
		t.Fatalf("child said: %s", out)
	}
	got, _, _ = strings.Cut(got, "\n")
	return got
}

// failureAsUser returns the error fn ends with ("" for none) as an
// unprivileged user sees it: fn's own when the test runs as one, and as
// root (who may write anywhere) the one test's run again as nobody prints
// (asUser), its environment given env, so that its child runs fn.
func failureAsUser(t *testing.T, path, test, env string, fn func() error) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := fn(); err != nil {
			return err.Error()
		}
		return ""
	}
	return asUser(t, path, test, env)
}

// chownForUser gives the test's user (nobody, when it runs as root) the
// files at paths.
func chownForUser(t *testing.T, paths ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	for _, p := range paths {
		if err := os.Chown(p, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
}

// The store cannot be opened because SQLite may not create its
// write-ahead log beside the database (a data directory the user swfd runs
// as may not write), or may not write one left there (by a swfd run as
// another user and killed): Open's error names the file, the directory and
// the system's reason, where before it said only "attempt to write a
// readonly database (1544)" or "unable to open database file (14)".
func TestOpenNamesTheUnwritableFile(t *testing.T) {
	if path := os.Getenv("SWFD_SQLITE_OPEN_CHILD"); path != "" {
		_, err := Open(context.Background(), path, nil)
		fmt.Printf("open error: %v\n", err)
		return
	}
	// A directory swfd may not write, holding a database it may.
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "swfd.db")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	chownForUser(t, path)
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o700)
	got := openAsUser(t, path)
	if !strings.Contains(got, "cannot create "+path+"-wal (permission denied)") || !strings.Contains(got, "the directory "+dir+" must be writable") {
		t.Errorf("Open in a directory it may not write: %q", got)
	}

	// A write-ahead log left by a server killed while another user ran it
	// (the files of a store copied while it is open are what a kill
	// leaves).
	dir2 := filepath.Join(t.TempDir(), "data")
	path2 := filepath.Join(dir2, "swfd.db")
	if err := os.Mkdir(dir2, 0o700); err != nil {
		t.Fatal(err)
	}
	db, _ = openTemp(t)
	if err := db.Commit(context.Background(), sampleBatch(0)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"", "-wal", "-shm"} {
		copyPath(t, db.path+s, path2+s)
	}
	chownForUser(t, dir2, path2, path2+"-shm")
	os.Chmod(path2+"-wal", 0o400)
	got = openAsUser(t, path2)
	if !strings.Contains(got, "cannot write "+path2+"-wal (permission denied)") {
		t.Errorf("Open with a log it may not write: %q", got)
	}
}

// swfd started on a database that is not there yet, in a directory it may
// not write, or on one it may not write, says which and why, as it does
// for the -wal and -shm files: before it said "open PATH: permission
// denied", naming no directory and no user.
func TestOpenNamesTheUncreatableDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	path := filepath.Join(dir, "swfd.db")
	got := openAsUser(t, path)
	if !strings.Contains(got, "cannot create "+path+" (permission denied): the directory "+dir+" must be writable by the user swfd runs as") {
		t.Errorf("Open of a new database in a directory it may not write: %q", got)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("Open created %s: %v", path, err)
	}

	dir2 := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir2, 0o700); err != nil {
		t.Fatal(err)
	}
	path2 := filepath.Join(dir2, "swfd.db")
	db, err := Open(context.Background(), path2, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	chownForUser(t, dir2)
	os.Chmod(path2, 0o400)
	got = openAsUser(t, path2)
	if !strings.Contains(got, "cannot write "+path2+" (permission denied): the database file") {
		t.Errorf("Open of a database it may not write: %q", got)
	}
}

// swfd backup run as a user who may read the database but not write it or
// its directory (an operator's own account, a backup agent's) cannot read
// it: SQLite reads a database in WAL mode through its -shm file, which it
// must create or write. The error says which file and why, and how to
// take the backup, where before it said only "attempt to write a readonly
// database" or "unable to open database file".
func TestBackupNamesTheUnwritableFile(t *testing.T) {
	if env := os.Getenv("SWFD_SQLITE_BACKUP_CHILD"); env != "" {
		path, to, _ := strings.Cut(env, "|")
		_, err := Backup(context.Background(), path, to, nil)
		fmt.Printf("open error: %v\n", err)
		return
	}
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "swfd.db")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sampleDB(t, path, 1)
	os.Chmod(path, 0o444)
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o700)
	out := t.TempDir()
	os.Chmod(out, 0o777)
	to := filepath.Join(out, "backup.db")
	got := failureAsUser(t, path, "TestBackupNamesTheUnwritableFile", "SWFD_SQLITE_BACKUP_CHILD="+path+"|"+to, func() error {
		_, err := Backup(context.Background(), path, to, nil)
		return err
	})
	if !strings.Contains(got, "cannot write "+path+" (permission denied)") || !strings.Contains(got, "run swfd backup as the user swfd runs as") ||
		strings.Contains(got, "not an error") {
		t.Errorf("Backup of a database it may not write: %q", got)
	}
	if _, err := os.Stat(to); !os.IsNotExist(err) {
		t.Errorf("the failed backup left %s: %v", to, err)
	}
}

// A backup into a directory its user may not write is refused naming that
// directory and why, not the hidden temporary file it would have written
// first (".backup.db.partial-…", a name the operator never gave), and
// leaves nothing behind.
func TestBackupNamesTheUnwritableDestination(t *testing.T) {
	if env := os.Getenv("SWFD_SQLITE_BACKUP_TO_CHILD"); env != "" {
		path, to, _ := strings.Cut(env, "|")
		_, err := Backup(context.Background(), path, to, nil)
		fmt.Printf("open error: %v\n", err)
		return
	}
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "swfd.db")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sampleDB(t, path, 1)
	chownForUser(t, dir, path)
	out := t.TempDir()
	os.Chmod(out, 0o555)
	defer os.Chmod(out, 0o700)
	to := filepath.Join(out, "backup.db")
	got := failureAsUser(t, path, "TestBackupNamesTheUnwritableDestination", "SWFD_SQLITE_BACKUP_TO_CHILD="+path+"|"+to, func() error {
		_, err := Backup(context.Background(), path, to, nil)
		return err
	})
	if !strings.Contains(got, "cannot write the backup in "+out+" (permission denied)") || strings.Contains(got, ".partial") {
		t.Errorf("Backup into a directory it may not write: %q", got)
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 0 {
		t.Errorf("the failed backup left %v in %s", ents, out)
	}
}

// A restore into a directory its user may not write is refused naming that
// directory and why, not the hidden copy it would have written there first
// (".swfd.db.restore-…"), and leaves nothing behind.
func TestRestoreNamesTheUnwritableDirectory(t *testing.T) {
	if env := os.Getenv("SWFD_SQLITE_RESTORE_CHILD"); env != "" {
		from, path, _ := strings.Cut(env, "|")
		_, err := Restore(context.Background(), from, path, nil)
		fmt.Printf("open error: %v\n", err)
		return
	}
	src := filepath.Join(t.TempDir(), "backup")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	from := filepath.Join(src, "backup.db")
	sampleDB(t, from, 1)
	os.Chmod(from, 0o644)
	dir := t.TempDir()
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o700)
	path := filepath.Join(dir, "swfd.db")
	got := failureAsUser(t, from, "TestRestoreNamesTheUnwritableDirectory", "SWFD_SQLITE_RESTORE_CHILD="+from+"|"+path, func() error {
		_, err := Restore(context.Background(), from, path, nil)
		return err
	})
	if !strings.Contains(got, "cannot write in "+dir+" (permission denied)") || strings.Contains(got, ".restore-") {
		t.Errorf("Restore into a directory it may not write: %q", got)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Errorf("the failed restore left %v in %s", ents, dir)
	}
}
