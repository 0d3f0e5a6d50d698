package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	msqlite "modernc.org/sqlite"
)

// Backup copies the database at path into a new file at to while a server
// goes on using it: SQLite's online backup API, run in one step, so the
// copy is a single consistent snapshot — every transaction committed before
// the backup began is in it, none is in it in part, and the server's
// writers are not held up (in WAL mode a reader does not block them). The
// copy is created with mode 0600, like the database (it holds the key that
// signs task tokens). to must not exist, and its directory must. A
// database that holds no swfd schema (another program's, an empty file) is
// refused once copied, as Restore would refuse its copy.
//
// The copy is written under a temporary name beside to (".NAME.partial-*"),
// checked with SQLite's quick_check and synced to disk, and only then given
// to's name (and the directory synced): a backup that fails, or is killed,
// never leaves a file at to. One that fails removes its temporary file; one
// that is killed leaves it, under its temporary name, and the next Backup
// into the same directory removes it (and any other ".*.partial-*" file
// there whose backup is dead: each backup holds an flock of its own until
// it ends), logging each to logger, which may be nil. One whose ctx ends
// (SIGINT or SIGTERM, for swfd backup) says it was interrupted, wrapping
// ctx's error and its cause, and removes its temporary file; the copy's
// one step is not cut short (SQLite's online backup would begin again at
// every write of the server were it taken in several), so ctx is heeded
// before it and once it is made.
func Backup(ctx context.Context, path, to string, logger *slog.Logger) (pages int, err error) {
	if path == "" || path == ":memory:" {
		return 0, errors.New("sqlite: backup: needs the path of a database file")
	}
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("sqlite: backup: %w", err)
	}
	// The log SQLite reads the latest commits from is beside the real
	// file, not beside a link to it.
	if path, err = resolvePath(path); err != nil {
		return 0, fmt.Errorf("sqlite: backup: %w", err)
	}
	// A backup named as a file SQLite keeps beside the database would be
	// taken for it: the next open of the database plays it back or
	// deletes it (a -journal that is no journal is deleted).
	if err := notCompanion(path, to); err != nil {
		return 0, fmt.Errorf("sqlite: backup: %w", err)
	}
	if fi, err := os.Lstat(to); err == nil {
		if fi.IsDir() {
			return 0, fmt.Errorf("sqlite: backup: %s is a directory; give the backup a file name in it (e.g. %s)", to, filepath.Join(to, "swfd-backup.db"))
		}
		return 0, fmt.Errorf("sqlite: backup: %s: %w", to, fs.ErrExist)
	}
	if fi, err := os.Stat(filepath.Dir(to)); err != nil {
		return 0, fmt.Errorf("sqlite: backup: the directory %s to write the backup in: %w", filepath.Dir(to), pathCause(err))
	} else if !fi.IsDir() {
		return 0, fmt.Errorf("sqlite: backup: %s, where the backup is to go, is not a directory", filepath.Dir(to))
	}
	// Copies of backups that were killed (each is as large as the
	// database) would otherwise pile up unseen.
	removeStale(stale(filepath.Dir(to), "", partialInfix), logger)
	tmp, hold, err := createTemp(to, partialInfix)
	if err != nil {
		// The temporary file's name is none the operator gave: name the
		// directory, which is what must change.
		return 0, fmt.Errorf("sqlite: backup: cannot write the backup in %s (%w): the directory must be writable by the user swfd backup runs as",
			filepath.Dir(to), pathCause(err))
	}
	defer func() {
		if err != nil {
			removeDatabase(tmp)
		}
		if hold != nil {
			hold.Close()
		}
	}()
	// An interrupt (SIGINT or SIGTERM, for swfd backup) says so: its
	// context's error read as the copy's would suggest a damaged database.
	interrupted := func(while string) error {
		why := context.Cause(ctx) // "terminated signal received"
		if !errors.Is(why, ctx.Err()) {
			why = fmt.Errorf("%w: %w", ctx.Err(), why)
		}
		return fmt.Errorf("sqlite: backup interrupted while %s: %w; no backup was written", while, why)
	}
	if pages, err = copyOnline(ctx, path, tmp); err != nil {
		if ctx.Err() != nil {
			return 0, interrupted("copying the database")
		}
		// Reading a database in WAL mode takes locks in its -shm file,
		// which SQLite creates beside it when no server has it open:
		// the backup needs what a server needs of the files.
		plain := plainError(err, path, to)
		if cause := openCause(path, plain); cause != plain {
			if errors.Is(cause, fs.ErrPermission) {
				return 0, fmt.Errorf("sqlite: backup %s to %s: %w; run swfd backup as the user swfd runs as", path, to, cause)
			}
			return 0, fmt.Errorf("sqlite: backup %s to %s: %w", path, to, cause)
		}
		return 0, fmt.Errorf("sqlite: backup %s to %s: %w", path, to, plain)
	}
	if err := afterBackupCopy(tmp); err != nil {
		return 0, fmt.Errorf("sqlite: backup %s to %s: %w", path, to, err)
	}
	if err := quickCheck(ctx, tmp); err != nil {
		if ctx.Err() != nil {
			return 0, interrupted("checking the copy")
		}
		var de *damagedError
		if errors.As(err, &de) {
			return 0, fmt.Errorf("sqlite: backup: the copy of %s fails its check: it is %w", path, err)
		}
		return 0, fmt.Errorf("sqlite: backup: the copy of %s fails its check: %w", path, plainError(err, path, to))
	}
	// A copy swfd restore would refuse is no backup: say so now, not when
	// it is needed (--db naming another program's database, or an empty
	// file).
	if _, err := schemaVersion(ctx, tmp); err != nil {
		if ctx.Err() != nil {
			return 0, interrupted("checking the copy")
		}
		if errors.Is(err, ErrNotSwfd) {
			return 0, fmt.Errorf("sqlite: backup: %s: %w, so there is nothing to back up; is --db the database swfd serves?", path, err)
		}
		return 0, fmt.Errorf("sqlite: backup: the copy of %s: %w", path, err)
	}
	if err := syncFile(tmp); err != nil {
		return 0, fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := publish(tmp, to); err != nil {
		return 0, fmt.Errorf("sqlite: backup: %w", err)
	}
	return pages, nil
}

// notCompanion returns an error when to names one of the files SQLite keeps
// beside the database at path (path-journal, path-wal, path-shm), however
// it is spelled; path is resolved already.
func notCompanion(path, to string) error {
	dir, err := filepath.EvalSymlinks(filepath.Dir(to))
	if err != nil {
		dir = filepath.Dir(to) // to's directory is looked at later
	}
	abs, err := filepath.Abs(filepath.Join(dir, filepath.Base(to)))
	if err != nil {
		return err
	}
	db, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	for _, suffix := range companions {
		if abs == db+suffix {
			return fmt.Errorf("%s is the database's %s file, which SQLite would take for its own (and play back or delete at the next start): give the backup a path of its own", to, suffix)
		}
	}
	return nil
}

// afterBackupCopy runs once Backup has copied the database into its
// temporary file; tests replace it to fail or kill a backup there.
var afterBackupCopy = func(tmp string) error { return nil }

// removeDatabase removes a database file and the files SQLite may have
// left beside it, those first: a removal cut short leaves the database
// file, which removeStale finds.
func removeDatabase(path string) {
	for _, suffix := range companions {
		os.Remove(path + suffix)
	}
	os.Remove(path)
}

// copyOnline copies the database at path into the empty file at to with
// SQLite's online backup API, in one step; it returns the pages copied.
func copyOnline(ctx context.Context, path, to string) (pages int, err error) {
	src, err := sql.Open("sqlite", "file:"+escapePath(path)+fmt.Sprintf("?mode=rw&_busy_timeout=%d", busyTimeoutMS))
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer src.Close()
	conn, err := src.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
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
	return pages, err
}

// plainError says what SQLite's error err, met copying from to to, means:
// SQLite's own text ends with a message of the source's connection that
// does not belong to it (": not an error (13)"). It wraps err.
func plainError(err error, from, to string) error {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	var msg string
	switch se.Code() & 0xff {
	case sqliteFull:
		msg = fmt.Sprintf("no space left on the disk holding %s", to)
	case sqliteNotADB:
		msg = fmt.Sprintf("%s is not a SQLite database", from)
	case sqliteCorrupt:
		msg = fmt.Sprintf("%s is damaged (SQLite finds it malformed)", from)
	default:
		msg, _, _ = strings.Cut(se.Error(), ": not an error")
	}
	return &plainErr{msg: msg, err: err}
}

// SQLite's primary result codes that plainError explains.
const (
	sqliteCorrupt = 11
	sqliteNotADB  = 26
)

// plainErr is an error whose text is msg and which wraps err.
type plainErr struct {
	msg string
	err error
}

func (e *plainErr) Error() string { return e.msg }
func (e *plainErr) Unwrap() error { return e.err }

// quickCheck runs SQLite's quick_check on the database file at path, which
// no one else has open.
func quickCheck(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+"?mode=rw")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var res string
		if err := rows.Scan(&res); err != nil {
			return err
		}
		for line := range strings.SplitSeq(res, "\n") {
			// "*** in database main ***" heads the report; it names no
			// problem.
			if line = strings.TrimSpace(line); line != "" && line != "ok" && !strings.HasPrefix(line, "*** in database") {
				problems = append(problems, line)
			}
		}
	}
	// The check may stop on a page it cannot read after it listed some
	// problems: those say more than its error.
	if len(problems) > 0 {
		return &damagedError{problems: problems}
	}
	return rows.Err()
}

// damagedError is quickCheck's error for a file whose check found
// problems: it says how many, and what the first is (SQLite lists up to a
// hundred, a line each, too many for an error message).
type damagedError struct{ problems []string }

func (e *damagedError) Error() string {
	if len(e.problems) == 1 {
		return fmt.Sprintf("damaged (SQLite's quick_check finds a problem: %s)", e.problems[0])
	}
	return fmt.Sprintf("damaged (SQLite's quick_check finds %d problems; the first: %s)", len(e.problems), e.problems[0])
}

// syncFile flushes the file at path to the disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// publish gives the synced file tmp the name to, which must not exist, and
// syncs their directory. A hard link refuses an existing to; on a file
// system without hard links, tmp is renamed after to was found absent.
func publish(tmp, to string) error {
	err := os.Link(tmp, to)
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s: %w", to, fs.ErrExist)
	case err == nil:
		// The backup is in place: a temporary name that outlives it is
		// only clutter.
		os.Remove(tmp)
	default:
		if _, err := os.Lstat(to); err == nil {
			return fmt.Errorf("%s: %w", to, fs.ErrExist)
		}
		err = os.Rename(tmp, to)
	}
	if err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(to)); err != nil {
		return fmt.Errorf("sync directory of %s: %w", to, err)
	}
	return nil
}
