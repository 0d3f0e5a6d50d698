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
