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

func TestBackupCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "swfd.db")
	swfdtest.Start(t, swfdtest.Options{DB: "sqlite:" + db}) // a running server on it
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--db", "sqlite:" + db}, "--to is required"},
		{[]string{"--db", "postgres://u@127.0.0.1/x", "--to", filepath.Join(dir, "pg.db")}, "pg_dump"},
		{[]string{"--db", "sqlite::memory:", "--to", filepath.Join(dir, "m.db")}, "path of a SQLite database file"},
		{[]string{"--db", "sqlite:" + filepath.Join(dir, "missing.db"), "--to", filepath.Join(dir, "x.db")}, "no such file"},
		{[]string{"--db", "sqlite:" + db, "--to", db}, "exists"},
		{[]string{"--db", "sqlite:" + db, "--to", "sqlite:" + db}, "exists"},
		{[]string{"--db", "sqlite:" + garbage, "--to", filepath.Join(dir, "x.db")}, garbage + " is not a SQLite database"},
		{[]string{"--db", "sqlite:" + db, "--to", "postgres://u@127.0.0.1/x"}, "--to postgres://u@127.0.0.1/x: only a SQLite database file"},
		{[]string{"--db", "sqlite:" + db, "--to", "sqlite:"}, "--to needs the path of a SQLite database file"},
	} {
		var out bytes.Buffer
		err := backupMain(ctx, tc.args, &out)
		if err == nil || !strings.Contains(err.Error()+out.String(), tc.want) {
			t.Errorf("swfd backup %v: %v, want an error saying %q", tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "not an error") {
			t.Errorf("swfd backup %v: %v, which ends with SQLite's unrelated \"not an error\"", tc.args, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); !os.IsNotExist(err) {
		t.Errorf("a failed backup left its file: %v", err)
	}
	var out bytes.Buffer
	to := filepath.Join(dir, "copy.db")
	if err := backupMain(ctx, []string{"--db", "sqlite:" + db, "--to", to}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "--db sqlite:"+to) {
		t.Errorf("output %q does not say how to use the copy", out.String())
	}
	swfdtest.Start(t, swfdtest.Options{DB: "sqlite:" + to})

	// --to takes sqlite:PATH as --db does: the file is PATH.
	out.Reset()
	prefixed := filepath.Join(dir, "prefixed.db")
	if err := backupMain(ctx, []string{"--db", "sqlite:" + db, "--to", "sqlite:" + prefixed}, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(prefixed); err != nil {
		t.Errorf("--to sqlite:%s: %v", prefixed, err)
	}
	if !strings.Contains(out.String(), "--db sqlite:"+prefixed+" ") {
		t.Errorf("output %q does not say how to use the copy", out.String())
	}
	for _, name := range dirNames(t, dir) {
		if strings.Contains(name, "sqlite:") {
			t.Errorf("a file named %q", name)
		}
	}
}

// dirNames lists the names in dir.
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
	return names
}
