package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	msqlite "modernc.org/sqlite"
)

// Backup copies the database at path into a new file at to while a server
// goes on using it: SQLite's online backup API, run in one step, so the
// copy is a single consistent snapshot — every transaction committed before
// the backup began is in it, none is in it in part, and the server's
// writers are not held up (in WAL mode a reader does not block them). The
// copy is created with mode 0600, like the database (it holds the key that
// signs task tokens), is synced to disk, and is checked with SQLite's
// quick_check before Backup returns. to must not exist.
func Backup(ctx context.Context, path, to string) (pages int, err error) {
	if path == "" || path == ":memory:" {
		return 0, errors.New("sqlite: backup: needs the path of a database file")
	}
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("sqlite: backup: %w", err)
	}
	out, err := os.OpenFile(to, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("sqlite: backup: %w", err)
	}
	out.Close()
	defer func() {
		if err != nil {
			os.Remove(to)
			os.Remove(to + "-journal")
		}
	}()
	src, err := sql.Open("sqlite", "file:"+escapePath(path)+fmt.Sprintf("?mode=rw&_busy_timeout=%d", busyTimeoutMS))
	if err != nil {
		return 0, fmt.Errorf("sqlite: backup: open %s: %w", path, err)
	}
	defer src.Close()
	conn, err := src.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: backup: open %s: %w", path, err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		b, ok := dc.(interface {
			NewBackup(string) (*msqlite.Backup, error)
		})
		if !ok {
			return errors.New("the SQLite driver has no online backup")
		}
		bk, err := b.NewBackup("file:" + escapePath(to))
		if err != nil {
			return err
		}
		if _, err := bk.Step(-1); err != nil {
			bk.Finish()
			return err
		}
		pages = bk.PageCount()
		return bk.Finish()
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: backup %s to %s: %w", path, to, err)
	}
	dst, err := sql.Open("sqlite", "file:"+escapePath(to)+"?mode=rw")
	if err != nil {
		return 0, fmt.Errorf("sqlite: backup: check %s: %w", to, err)
	}
	defer dst.Close()
	var res string
	if err := dst.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return 0, fmt.Errorf("sqlite: backup: check %s: %w", to, err)
	}
	if res != "ok" {
		return 0, fmt.Errorf("sqlite: backup: the copy at %s fails its check: %s", to, res)
	}
	f, err := os.Open(to)
	if err != nil {
		return 0, fmt.Errorf("sqlite: backup: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("sqlite: backup: sync %s: %w", to, err)
	}
	return pages, nil
}
