package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swfd/swfd/internal/swfdtest"
)

// swfd restore puts a backup in place of a stopped server's database and
// says how to start on it; while a server runs on the database, or for a
// backup that is not an swfd database, it refuses and changes nothing.
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

// swfd restore stopped by SIGINT or SIGTERM (its context canceled) exits
// with status 1 saying it was interrupted and the database is unchanged,
// not that the backup failed its check; the database and the directory
// are as they were.
func TestRestoreCommandInterrupted(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "swfd.db")
	srv := swfdtest.Start(t, swfdtest.Options{DB: "sqlite:" + db})
	backup := filepath.Join(t.TempDir(), "backup.db")
	var out bytes.Buffer
	if err := backupMain(context.Background(), []string{"--db", "sqlite:" + db, "--to", backup}, &out); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
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
