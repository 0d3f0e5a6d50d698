package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/swfd/swfd/internal/cfgfile"
	"github.com/swfd/swfd/internal/schema"
)

// Restore puts the backup at from (a file swfd backup wrote, or any swfd
// database no one has open) in place as the database at path (through its
// symbolic links: the file a link names is replaced, not the link), which no
// store may have open: it fails with ErrInUse while one does, and holds
// the file's owner lock until it is done, so that no swfd starts on it
// meanwhile. Nor may another program have it open with SQLite (the sqlite3
// shell, say): Restore fails with ErrOpenElsewhere while one holds
// SQLite's locks on the file or its -shm file, and holds those locks
// itself until it is done, so that no SQLite connection reads the files
// meanwhile. A file at path that is not a SQLite database, or is another
// program's (tables and no swfd schema, wrapping ErrNotSwfd), is refused
// and left as it is.
//
// The backup is copied under a temporary name beside path (".NAME.restore-*",
// mode 0600), synced, and checked: SQLite's quick_check must pass, and it
// must hold swfd's schema at a version this swfd can serve. Only then are
// the write-ahead log, its index and any rollback journal left beside path
// (path-wal, path-shm, path-journal: a server killed with kill -9 leaves
// them) removed — SQLite would replay them onto the restored file and
// damage it — and the copy renamed to path, the directory synced after
// each step. A restore that fails before then leaves path and its files as
// they were, and removes its temporary file. Before the removal the copy is
// renamed ".NAME.restore-ready-*": a restore killed between the removal and
// the rename leaves path perhaps without its log and that file beside it,
// and Open then refuses the database with ErrRestoreInterrupted, saying to
// run the restore again. A restore killed earlier leaves only its
// temporary file, which the next Restore, or Open, of path removes (each
// restore holds an flock of its own on it until it ends, so a live one's
// is never taken), logging it to logger, which may be nil.
//
// Until the removal begins, Restore stops as soon as ctx is done (SIGINT
// or SIGTERM, for swfd restore), even in the middle of a copy or a sync
// that a slow disk draws out: it removes its temporary file, leaves path
// and its files as they were, and returns an error that says so and
// wraps ctx's. The removal and the rename, once begun, are finished.
func Restore(ctx context.Context, from, path string, logger *slog.Logger) (version int, err error) {
	if path != "" && path != ":memory:" {
		real, err := resolvePath(path)
		if err != nil {
			return 0, fmt.Errorf("sqlite: restore: %w", err)
		}
		path = real
	}
	if err := restorePaths(from, path); err != nil {
		return 0, fmt.Errorf("sqlite: restore: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return 0, fmt.Errorf("sqlite: restore: %w", err)
	}
	unlock, err := lockTarget(path)
	if err != nil {
		return 0, fmt.Errorf("sqlite: restore to %s: %w", path, err)
	}
	defer unlock()
	// The copies of restores that were killed, one interrupted while it
	// replaced the database included: this one replaces it anyway.
	dir, base := filepath.Dir(path), filepath.Base(path)
	removeStale(append(stale(dir, base, restoreInfix), stale(dir, base, readyInfix)...), logger)
	tmp, hold, err := createTemp(path, restoreInfix)
	if err != nil {
		// The copy's name is none the operator gave: name the directory,
		// which is what must change.
		return 0, fmt.Errorf("sqlite: restore: cannot write in %s (%w), where the backup is copied before it replaces the database: the directory must be writable by the user swfd restore runs as; %s is unchanged",
			dir, pathCause(err), path)
	}
	defer func() {
		if err != nil {
			removeDatabase(tmp)
		}
		if hold != nil {
			hold.Close()
		}
	}()
	interrupted := func(while string) error {
		why := context.Cause(ctx) // "terminated signal received"
		if !errors.Is(why, ctx.Err()) {
			why = fmt.Errorf("%w: %w", ctx.Err(), why)
		}
		return fmt.Errorf("sqlite: restore interrupted while %s: %w; %s is unchanged", while, why, path)
	}
	if err := copyFile(ctx, from, tmp); err != nil {
		if ctx.Err() != nil {
			return 0, interrupted("copying the backup")
		}
		return 0, fmt.Errorf("sqlite: restore: %w; %s is unchanged", copyCause(err, from, path), path)
	}
	version, err = checkBackup(ctx, tmp, from)
	if ctx.Err() != nil {
		// A check cut short is no verdict on the backup.
		return 0, interrupted("checking the backup")
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: restore: the backup %s: %w; %s is unchanged", from, err, path)
	}
	if err := replace(tmp, path); err != nil {
		return 0, fmt.Errorf("sqlite: restore to %s: %w; run the restore again", path, err)
	}
	return version, nil
}

// sqliteHeader is how every SQLite database file begins.
const sqliteHeader = "SQLite format 3\x00"

// replaceable returns nil if Restore may put a backup at path: nothing is
// there, an empty file, or a file that begins as a SQLite database does
// (whatever its state: a damaged database is what a restore is for). A
// file of anything else (the --db of a slip naming notes or a
// configuration file) is refused, left as it is, as is a directory, and
// anything else that is no regular file (a named pipe, a device, a
// socket), which is refused without being read: opening a named pipe to
// read it would wait for a writer that may never come, where signals do
// not reach.
func replaceable(path string) error {
	if fi, err := os.Stat(path); err == nil {
		if err := cfgfile.Regular("database file", path, fi); err != nil {
			return err
		}
	}
	// O_NONBLOCK: a path swapped for a named pipe since the look is
	// opened at once, and refused below; O_NOCTTY: one swapped for a
	// terminal does not become the controlling terminal of a swfd that
	// has none.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := cfgfile.Regular("database file", path, fi); err != nil {
		return err
	}
	if fi.Size() == 0 {
		return nil
	}
	head := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, head); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	if string(head) != sqliteHeader {
		return fmt.Errorf("%s is not a SQLite database (it does not begin as one), so it is no swfd database a backup could replace; it is left as it is: give the path of the database swfd serves", path)
	}
	return othersDatabase(path)
}

// othersDatabase fails with ErrNotSwfd, naming one of its tables (or other
// objects), if the SQLite database at path holds something and no swfd
// schema: another program's database, which a --db naming the wrong file
// would have a restore replace for good (swfd itself refuses to start on
// one). It changes nothing beside path: it reads the file alone, as it
// is, and when that holds nothing but a write-ahead log is beside it (a
// program killed before it copied its log into the file), a copy of the
// two made in a temporary directory. A database with nothing in it, or
// one whose schema cannot be read (damaged), passes: a damaged database is
// what a restore is for.
func othersDatabase(path string) error {
	kind, name, known := schemaOwner("file:" + escapePath(path) + "?mode=ro&immutable=1")
	if !known {
		if wi, err := os.Stat(path + "-wal"); err != nil || wi.Size() == 0 {
			return nil
		}
		dir, err := os.MkdirTemp("", "swfd-restore-check-")
		if err != nil {
			return nil
		}
		defer os.RemoveAll(dir)
		tmp := filepath.Join(dir, "db")
		for _, suffix := range []string{"", "-wal"} {
			if err := copyPlain(path+suffix, tmp+suffix); err != nil {
				return nil
			}
		}
		if kind, name, _ = schemaOwner("file:" + escapePath(tmp) + "?mode=ro"); name == "" {
			return nil
		}
	}
	if name == "" {
		return nil
	}
	return fmt.Errorf("%s is %w: it holds another program's data (%s %q), which a restore would replace for good; it is left as it is: give the path of the database swfd serves", path, ErrNotSwfd, kind, name)
}

// schemaOwner reads the schema of the database dsn names: known is false
// when it cannot be read or holds nothing; otherwise kind and name are
// one of another program's objects, or both empty if it holds swfd's
// schema.
func schemaOwner(dsn string) (kind, name string, known bool) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return "", "", false
	}
	defer db.Close()
	var versioned int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").Scan(&versioned); err != nil {
		return "", "", false
	}
	if versioned > 0 {
		return "", "", true
	}
	if err := db.QueryRow(`SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'
		ORDER BY type <> 'table', name LIMIT 1`).Scan(&kind, &name); err != nil {
		return "", "", false
	}
	return kind, name, true
}

// copyPlain copies the file from to a new file to, unsynced: a scratch copy.
func copyPlain(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// restorePaths checks Restore's arguments before it touches anything: from
// must be a file with no write-ahead log beside it, and not path itself.
func restorePaths(from, path string) error {
	if from == "" || path == "" || path == ":memory:" {
		return errors.New("needs the paths of the backup and of the database file")
	}
	fi, err := os.Stat(from)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a file", from)
	}
	if pi, err := os.Stat(path); err == nil && os.SameFile(fi, pi) {
		return fmt.Errorf("%s is the database itself", from)
	}
	if err := replaceable(path); err != nil {
		return err
	}
	if wi, err := os.Stat(from + "-wal"); err == nil && wi.Size() > 0 {
		return fmt.Errorf("%s has a write-ahead log beside it (%s-wal), so the file alone is not the whole database: a server has it open, or was killed; restore a copy swfd backup made", from, from)
	}
	return nil
}

// lockTarget takes the owner's lock of the database file at path, if there
// is one, then SQLite's locks on it and on its -shm file (lockSQLite), and
// returns what releases them: ErrInUse while a store has the file,
// ErrOpenElsewhere while another program's SQLite connection has it. On a
// file system that cannot lock, nothing is locked (as Open then does).
func lockTarget(path string) (unlock func(), err error) {
	f, err := lockOwner(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return func() {}, nil
	case errors.Is(err, errNoOwnerLock):
		f = nil
	case err != nil:
		return nil, err
	}
	release, err := lockSQLite(path)
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, err
	}
	return func() {
		release()
		if f != nil {
			f.Close()
		}
	}, nil
}

// copyChunk is how many bytes copyFile copies between two looks at its
// context.
var copyChunk int64 = 1 << 20

// afterCopyChunk runs after each chunk copyFile copies; tests replace it to
// stall a copy as a slow disk does, or to fail it as a full one does (an
// error it returns is the copy's).
var afterCopyChunk = func() error { return nil }

// copyFile copies the file from into the existing file to, and syncs it.
// It returns ctx's error as soon as ctx is done: a write or a sync the
// disk holds up cannot be cut short, so the copy runs on a goroutine of its
// own, which stops at the end of the chunk it is writing (or of its sync)
// and closes the files. It never creates to: once the caller has removed
// it, the copy only writes to a file no name leads to.
func copyFile(ctx context.Context, from, to string) error {
	done := make(chan error, 1)
	go func() { done <- copyChunks(ctx, from, to) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// copyChunks is copyFile's copy, chunk by chunk, until ctx is done.
func copyChunks(ctx context.Context, from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	defer out.Close()
	for {
		// io.CopyN between two files lets the kernel copy (copy_file_range).
		_, err := io.CopyN(out, in, copyChunk)
		if herr := afterCopyChunk(); herr != nil {
			err = herr
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := out.Sync(); err != nil {
		return err
	}
	return out.Close()
}

// copyCause says why copying the backup from beside the database at path
// failed: a full disk, with how much room the copy needs, or what failed
// reading the backup or writing its copy. It names no temporary file: the
// copy is removed by then, and its hidden name would only puzzle.
func copyCause(err error, from, path string) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		size := ""
		if fi, serr := os.Stat(from); serr == nil {
			size = fmt.Sprintf(" (%d bytes)", fi.Size())
		}
		return fmt.Errorf("no space left on the disk holding %s: the restore writes a copy of the backup%s there, beside the database, before it replaces the database: %w",
			filepath.Dir(path), size, pathCause(err))
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path != from {
		return fmt.Errorf("writing a copy of the backup %s beside %s: %w", from, path, pe.Err)
	}
	return fmt.Errorf("copy %s: %w", from, err)
}

// checkBackup checks the database file at path, which no one else has
// open: SQLite's quick_check, and swfd's schema at a version this swfd
// serves (an older one is brought up to date when swfd starts on it). It
// returns the schema's version. path is a copy of the backup at from, the
// file its errors name: the copy is removed once the check fails.
func checkBackup(ctx context.Context, path, from string) (int, error) {
	if err := quickCheck(ctx, path); err != nil {
		var de *damagedError
		if errors.As(err, &de) {
			return 0, fmt.Errorf("fails its check: %s is %w", from, err)
		}
		return 0, fmt.Errorf("fails its check: %w", plainError(err, from, from))
	}
	version, err := schemaVersion(ctx, path)
	if err != nil {
		return 0, err
	}
	ms, err := migrations()
	if err != nil {
		return 0, err
	}
	return version, schema.Check(version, ms[len(ms)-1].version, false)
}

// schemaVersion reads the version of swfd's schema in the database file
// at path, which no one else has open: ErrNotSwfd if it has none.
func schemaVersion(ctx context.Context, path string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+"?mode=rw")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").Scan(&tables); err != nil {
		return 0, fmt.Errorf("read its schema: %w", err)
	}
	if tables == 0 {
		return 0, ErrNotSwfd
	}
	var version int
	if err := db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&version); err != nil {
		return 0, fmt.Errorf("read its schema version: %w", err)
	}
	return version, nil
}

// afterLogRemoved runs once replace has removed the database's log and
// before it renames the copy into place; tests replace it to kill a
// restore there.
var afterLogRemoved = func() {}

// replace renames tmp to its ready name (see Restore), removes the files
// SQLite keeps beside the database at path and renames the ready copy to
// path, syncing the directory after each.
func replace(tmp, path string) error {
	dir := filepath.Dir(path)
	_, digits, _ := strings.Cut(filepath.Base(tmp), restoreInfix)
	ready := filepath.Join(dir, "."+filepath.Base(path)+readyInfix+digits)
	if err := os.Rename(tmp, ready); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	tmp = ready
	// The log before its index: SQLite rebuilds a missing index from
	// the log, never a log from the index.
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the stale %s: %w", path+suffix, err)
		}
	}
	afterLogRemoved()
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
