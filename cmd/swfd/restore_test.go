package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swfd/swfd/internal/swfdtest"
)

// swfd restore puts a backup in place of a stopped server's database and
// says how to start on it; while a server runs on the database, for a
// backup that is not an swfd database, or for a --db that names a file
// other than a SQLite database, it refuses and changes nothing.
func TestRestoreCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "swfd.db")
	srv := swfdtest.Start(t, swfdtest.Options{DB: "sqlite:" + db})
	backup := filepath.Join(dir, "backup.db")
	var out bytes.Buffer
	if err := backupMain(ctx, []string{"--db", "sqlite:" + db, "--to", backup}, &out); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", backup, "--db", "sqlite:" + db}, "in use by another swfd (one server per SQLite file; several nodes share a PostgreSQL database); stop it first"},
		{[]string{"--from", backup, "--db", "postgres://u@127.0.0.1/x"}, "pg_restore"},
		{[]string{"--from", backup, "--db", "sqlite:"}, "--db needs the path of a SQLite database file"},
		{[]string{"--from", "postgres://u@127.0.0.1/x", "--db", "sqlite:" + filepath.Join(dir, "new.db")}, "--from postgres://u@127.0.0.1/x: only a SQLite database file"},
		{[]string{"--from", garbage, "--db", "sqlite:" + filepath.Join(dir, "new.db")}, "not a SQLite database"},
		// A --db that names a file of something else (a slip: notes, a
		// config file) is not replaced.
		{[]string{"--from", backup, "--db", "sqlite:" + notes}, "is not a SQLite database"},
	} {
		out.Reset()
		err := restoreMain(ctx, tc.args, &out)
		if err == nil || !strings.Contains(err.Error()+out.String(), tc.want) {
			t.Errorf("swfd restore %v: %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new.db")); !os.IsNotExist(err) {
		t.Errorf("a refused restore created its target: %v", err)
	}
	if b, err := os.ReadFile(notes); err != nil || string(b) != "keep me\n" {
		t.Errorf("a refused restore changed the file it was given as --db: %d bytes, beginning %q (%v)", len(b), b[:min(len(b), 16)], err)
	}
	srv.Stop()

	out.Reset()
	if err := restoreMain(ctx, []string{"--from", "sqlite:" + backup, "--db", "sqlite:" + db}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "start swfd with --db sqlite:"+db) {
		t.Errorf("output %q does not say how to start on the restored database", out.String())
	}
	swfdtest.Start(t, swfdtest.Options{DB: "sqlite:" + db})
}

// backedUp makes a database in a directory of its own, with a backup of
// it elsewhere, and leaves it with no server on it.
func backedUp(t *testing.T) (dir, db, backup string) {
	t.Helper()
	dir = t.TempDir()
	db = filepath.Join(dir, "swfd.db")
	srv := swfdtest.Start(t, swfdtest.Options{DB: "sqlite:" + db})
	backup = filepath.Join(t.TempDir(), "backup.db")
	var out bytes.Buffer
	if err := backupMain(context.Background(), []string{"--db", "sqlite:" + db, "--to", backup}, &out); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	return dir, db, backup
}

// swfd restore stopped by SIGINT or SIGTERM (its context canceled) exits
// with status 1 saying it was interrupted and the database is unchanged,
// not that the backup failed its check; the database and the directory
// are as they were.
func TestRestoreCommandInterrupted(t *testing.T) {
	dir, db, backup := backedUp(t)
	var out bytes.Buffer
	before := map[string][]byte{}
	for _, name := range dirNames(t, dir) {
		before[name], _ = os.ReadFile(filepath.Join(dir, name))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out.Reset()
	if code := command(ctx, []string{"restore", "--from", backup, "--db", "sqlite:" + db}, noenv, &out); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if !strings.Contains(out.String(), "restore interrupted") || !strings.Contains(out.String(), db+" is unchanged") || strings.Contains(out.String(), "fails its check") {
		t.Errorf("output: %q", out.String())
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
}

// swfd restore over a database another program (not swfd) has open with
// SQLite, as the sqlite3 shell does, refuses, says which process holds it
// and to close it, and changes nothing.
func TestRestoreCommandOpenElsewhere(t *testing.T) {
	if path := os.Getenv("SWFD_TEST_SQLITE_HOLDER"); path != "" {
		db, err := sql.Open("sqlite", "file:"+path+"?mode=rw")
		if err == nil {
			err = db.QueryRow("SELECT count(*) FROM schema_version").Scan(new(int))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println("open")
		select {} // until killed
	}
	_, db, backup := backedUp(t)
	var out bytes.Buffer
	holder := exec.Command(os.Args[0], "-test.run=^TestRestoreCommandOpenElsewhere$", "-test.count=1")
	holder.Env = append(os.Environ(), "SWFD_TEST_SQLITE_HOLDER="+db)
	holder.Stderr = os.Stderr
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	if sc := bufio.NewScanner(stdout); !sc.Scan() || sc.Text() != "open" {
		t.Fatalf("the holder did not open the database: %q", sc.Text())
	}
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := command(context.Background(), []string{"restore", "--from", backup, "--db", "sqlite:" + db}, noenv, &out); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	want := fmt.Sprintf("the database is open in another program that uses SQLite: process %d holds SQLite's lock on %s; close it first", holder.Process.Pid, db)
	if !strings.Contains(out.String(), want) {
		t.Errorf("output %q does not say %q", out.String(), want)
	}
	if after, err := os.ReadFile(db); err != nil || !bytes.Equal(before, after) {
		t.Errorf("the refused restore changed the database (%v)", err)
	}
}

// swfd restore refuses a --db that is another program's SQLite database (it
// holds tables and no swfd schema), as swfd refuses to start on one, and
// leaves it and the files beside it as they were: such a file begins as
// any SQLite database does, so the first bytes alone let it be replaced
// for good. Tables still only in the write-ahead log count. An empty
// SQLite database is still replaced.
func TestRestoreRefusesAnotherProgramsDatabase(t *testing.T) {
	_, _, backup := backedUp(t)
	dir := t.TempDir()
	other := func(name, mode string) string {
		path := filepath.Join(dir, name)
		db, err := sql.Open("sqlite", "file:"+path+"?mode=rwc")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		for _, q := range []string{"PRAGMA journal_mode=" + mode, "CREATE TABLE users (name TEXT)", "INSERT INTO users VALUES ('ann')"} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		return path
	}
	journal := other("journal.db", "DELETE")
	wal := other("wal.db", "WAL")
	// A program killed with its table in the log alone: copy the files
	// while a connection that never checkpoints has them open.
	walOnly := filepath.Join(dir, "walonly.db")
	{
		src := filepath.Join(t.TempDir(), "src.db")
		db, err := sql.Open("sqlite", "file:"+src+"?mode=rwc")
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		for _, q := range []string{"PRAGMA journal_mode=WAL", "PRAGMA wal_autocheckpoint=0", "CREATE TABLE users (name TEXT)", "INSERT INTO users VALUES ('ann')"} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(src + suffix)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(walOnly+suffix, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		// The file alone holds no table: only its log says "users".
		var tables int
		if f, err := sql.Open("sqlite", "file:"+walOnly+"?mode=ro&immutable=1"); err != nil {
			t.Fatal(err)
		} else if err := f.QueryRow("SELECT count(*) FROM sqlite_master").Scan(&tables); err != nil || tables != 0 {
			t.Fatalf("the copied file alone holds %d objects (%v), want none", tables, err)
		} else {
			f.Close()
		}
	}
	empty := filepath.Join(dir, "empty.db")
	if db, err := sql.Open("sqlite", "file:"+empty+"?mode=rwc"); err != nil {
		t.Fatal(err)
	} else if _, err := db.Exec("PRAGMA user_version=7"); err != nil { // a header, no tables
		t.Fatal(err)
	} else {
		db.Close()
	}
	files := func() map[string]string {
		m := map[string]string{}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			m[e.Name()] = string(b)
		}
		return m
	}
	for _, path := range []string{journal, wal, walOnly} {
		before := files()
		var out bytes.Buffer
		if code := command(context.Background(), []string{"restore", "--from", backup, "--db", "sqlite:" + path}, noenv, &out); code != 1 {
			t.Errorf("swfd restore --db %s: exit status %d, want 1", filepath.Base(path), code)
		}
		if want := `it holds another program's data (table "users")`; !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "not an swfd database") {
			t.Errorf("swfd restore --db %s said %q, want it to say it is not an swfd database and %q", filepath.Base(path), out.String(), want)
		}
		after := files()
		if len(after) != len(before) {
			t.Errorf("swfd restore --db %s: files %d before, %d after", filepath.Base(path), len(before), len(after))
		}
		for name, b := range before {
			if after[name] != b {
				t.Errorf("swfd restore --db %s changed %s", filepath.Base(path), name)
			}
		}
	}
	var out bytes.Buffer
	if err := restoreMain(context.Background(), []string{"--from", backup, "--db", "sqlite:" + empty}, &out); err != nil {
		t.Errorf("an empty SQLite database was not replaced: %v", err)
	}
}
