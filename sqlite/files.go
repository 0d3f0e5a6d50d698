package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/swfd/swfd"
)

// watchEvery is how often the store checks that the database file, its
// write-ahead log and the log's index at its path are still the files it
// has open (see watch).
const watchEvery = time.Second

// filesGone is what the store found when the database file, its
// write-ahead log or the log's index (the -shm file) at its path was no
// longer the one it has open: removed (alone, or with its directory),
// renamed, or replaced by another file.
type filesGone struct {
	// what happened, for the log and for err.
	what string
	// walOnly: the write-ahead log is gone, and the database file is still
	// in place.
	walOnly bool
	// shmOnly: the WAL index is gone, and the database file and the log
	// are still in place.
	shmOnly bool
	// err is what writes, Ping and WriteHealth return from then on: it
	// wraps swfd.ErrStorageUnavailable.
	err error
}

// noteFiles records which files the store opened at its path, the
// database file, its write-ahead log and the log's index, for watch to
// compare the paths with, and opens the log for the syncer.
//
// SQLite keeps the log open, and the same file, for as long as any
// connection to the database is open, and the writer's always is: a
// checkpoint that truncates it (the writer's, past walLimit) leaves it
// there, empty, and swfd sets no journal_size_limit that would have
// SQLite truncate it otherwise; SQLite deletes it only when the last
// connection closes. So while the store is open, a path with no log, or
// with another file than the store's, means the log was removed or
// replaced under it.
func (db *DB) noteFiles() error {
	fi, err := os.Stat(db.path)
	if err != nil {
		return err
	}
	db.dbFile = fi
	// Every transaction opens the log, and Open has run some: it exists.
	f, err := os.OpenFile(db.path+"-wal", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	// The file may be new: make its directory entry durable too.
	if err := syncDir(filepath.Dir(db.path)); err != nil {
		f.Close()
		return err
	}
	if db.walFile, err = f.Stat(); err != nil {
		f.Close()
		return err
	}
	db.wal = f
	// The WAL index: SQLite creates it with the first connection to the
	// database, keeps it while any is open, and removes it only when the
	// last one closes; the writer's always is open (see watch for why its
	// removal matters). A VFS that kept the index in memory would have no
	// file to watch.
	if fi, err := os.Stat(db.path + "-shm"); err == nil {
		db.shmFile = fi
	} else if !notThere(err) {
		return err
	}
	return nil
}

// watch checks, every watchEvery and when Ping asks, that the database file
// and its write-ahead log at the store's path are still the ones the store
// has open. Once one is not (checkFiles), the store refuses every write:
// what it acknowledged would go into a file that no longer has a name, and
// vanish when the server stops or crashes. watch then copies the
// write-ahead log into the database file the store has open, so that one
// file holds everything acknowledged, and logs at error level, once, what
// happened and what to do.
//
// When only the log is gone, the database file is the one at the path:
// once the copy is made, everything acknowledged is in place and a
// restart carries on from it. A copy that fails (readers held frames, an
// I/O error) is tried again every watchEvery until it is made.
//
// It watches the log's index, the -shm file, too. Its removal loses
// nothing (the store's connections share the index they mapped, in the
// file that no longer has a name, and a restart rebuilds it from the log),
// but from then on another program that opens the database (swfd backup,
// the sqlite3 shell) builds an index of its own in a new -shm file, which
// the store does not see: the store's checkpoints and the log's restarts,
// which wait for the readers the index shows, copy and overwrite the log
// under that program's reads (a backup taken then can hold a torn, corrupt
// copy: TestShmRemovedMisleadsOtherProcesses), and a program that writes
// would append to the log over the store's own frames. So the store
// refuses writes then too, which ends its checkpoints, and logs that swfd
// must be restarted. Nothing needs copying: the database file and the log
// at the path hold everything acknowledged.
func (db *DB) watch() {
	defer close(db.watcherDone)
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	logged := false
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
		case <-db.kick:
		}
		g := db.checkFiles()
		switch {
		case g == nil:
		case g.shmOnly:
			db.logShmGone(g)
			return
		case g.walOnly:
			if db.rescueWAL(g, logged) {
				return
			}
			logged = true
		default:
			db.rescue(g)
			return
		}
	}
}

// checkFiles compares the database file at the store's path with the one
// it has open, and reports what it found gone (now or before), or nil. The
// first time it finds the file gone, it stops the store's writes and wakes
// watch.
func (db *DB) checkFiles() *filesGone {
	if g := db.gone.Load(); g != nil {
		return g
	}
	what, which := db.moved()
	if what == "" {
		return nil
	}
	g := &filesGone{what: what, walOnly: which == "wal", shmOnly: which == "shm"}
	g.err = fmt.Errorf("sqlite: refusing writes: %s while swfd had it open: %w", what, swfd.ErrStorageUnavailable)
	if db.gone.CompareAndSwap(nil, g) {
		select {
		case db.kick <- struct{}{}:
		default:
		}
	}
	return db.gone.Load()
}

// moved says what became of the database file, its write-ahead log or
// the log's index at the store's path, or "" while all are the files the
// store opened; which is "db", "wal" or "shm", the first one found gone in
// that order. A path it cannot look at for another reason (an I/O error)
// is not taken as gone.
func (db *DB) moved() (what, which string) {
	fi, err := os.Stat(db.path)
	switch {
	case notThere(err):
		dir := filepath.Dir(db.path)
		if _, err := os.Stat(dir); notThere(err) {
			return fmt.Sprintf("the directory %s of the database file %s was removed or renamed", dir, db.path), "db"
		}
		return fmt.Sprintf("the database file %s was removed or renamed", db.path), "db"
	case err != nil:
		return "", ""
	case !os.SameFile(fi, db.dbFile):
		return fmt.Sprintf("the database file %s was replaced by another file", db.path), "db"
	}
	wal := db.path + "-wal"
	fi, err = os.Stat(wal)
	switch {
	case notThere(err):
		return fmt.Sprintf("the write-ahead log %s was removed or renamed", wal), "wal"
	case err != nil:
		return "", ""
	case !os.SameFile(fi, db.walFile):
		return fmt.Sprintf("the write-ahead log %s was replaced by another file", wal), "wal"
	}
	if db.shmFile == nil {
		return "", ""
	}
	shm := db.path + "-shm"
	fi, err = os.Stat(shm)
	switch {
	case notThere(err):
		return fmt.Sprintf("the write-ahead log's index %s was removed or renamed", shm), "shm"
	case err != nil:
		return "", ""
	case !os.SameFile(fi, db.shmFile):
		return fmt.Sprintf("the write-ahead log's index %s was replaced by another file", shm), "shm"
	}
	return "", ""
}

// notThere reports whether err says a path names no file.
func notThere(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// rescue copies the write-ahead log into the database file the store has
// open, once its file at the path is gone, and logs what happened and what
// the operator can do. It is tried once: the operator copies the file out
// of the running server (where the system lets it), and a checkpoint later
// could change the file between two copies.
func (db *DB) rescue(g *filesGone) {
	complete, err := db.checkpoint()
	msg := "sqlite: the database file is gone from where swfd opened it; refusing writes until swfd is restarted"
	effect := "/healthz and /readyz answer 503 and every call that writes is refused; everything swfd acknowledged is only in the files it still has open, and is lost when it stops"
	save := "before stopping swfd, copy the database out of the file it has open"
	if dbFD, walFD, ok := db.procFiles(); ok {
		pid := os.Getpid()
		if complete {
			save = fmt.Sprintf("before stopping swfd, copy the database out of the file it has open (it holds everything acknowledged): cp /proc/%d/fd/%d SAFE.db", pid, dbFD)
		} else {
			save = fmt.Sprintf("before stopping swfd, copy the database and its write-ahead log out of the files it has open: cp /proc/%d/fd/%d SAFE.db && cp /proc/%d/fd/%d SAFE.db-wal; then make one file of them with swfd backup --db sqlite:SAFE.db --to SAFE-whole.db", pid, dbFD, pid, walFD)
		}
	}
	do := fmt.Sprintf("%s; then stop swfd, put the copy in place with swfd restore --from SAFE.db --db sqlite:%s (or restore a backup), and start swfd again", save, db.path)
	args := []any{"what", g.what, "effect", effect, "do", do}
	if err != nil {
		args = append(args, "checkpoint_err", err)
	}
	db.logger.Error(msg, args...)
}

// rescueWAL copies the write-ahead log the store has open into the
// database file, once the log at the path is gone and the database file is
// still there, and logs what happened and what to do (an error the first
// time, logged false; a warning when a copy that failed then is made). It
// reports whether the copy is made.
func (db *DB) rescueWAL(g *filesGone, logged bool) bool {
	complete, err := db.checkpoint()
	if logged {
		if complete {
			db.logger.Warn("sqlite: everything swfd acknowledged has now been copied into the database file; restart swfd", "path", db.path)
		}
		return complete
	}
	msg := "sqlite: the write-ahead log is gone from where swfd opened it; refusing writes until swfd is restarted"
	effect := fmt.Sprintf("everything swfd acknowledged has been copied into the database file %s; /healthz and /readyz answer 503 and every call that writes is refused", db.path)
	do := "restart swfd"
	if !complete {
		effect = fmt.Sprintf("/healthz and /readyz answer 503 and every call that writes is refused; the writes acknowledged since the last checkpoint are only in the log swfd still has open, and copying them into the database file %s failed (swfd tries again every second)", db.path)
		do = "do not kill swfd (kill -9 loses those writes): stop it with SIGTERM, whose close copies the log into the database file, and start it again"
	}
	args := []any{"what", g.what, "effect", effect, "do", do}
	if err != nil {
		args = append(args, "checkpoint_err", err)
	}
	db.logger.Error(msg, args...)
	return complete
}

// logShmGone logs, once the log's index is gone and the database file and
// the log are still in place, what happened and what to do (see watch).
func (db *DB) logShmGone(g *filesGone) {
	db.logger.Error("sqlite: the write-ahead log's index (the -shm file) is gone from where swfd opened it; refusing writes until swfd is restarted",
		"what", g.what,
		"effect", fmt.Sprintf("nothing acknowledged is lost (the database file %s and its write-ahead log hold it all), but another program that opens the database now (swfd backup, the sqlite3 shell) uses an index swfd does not see, and could read a corrupt copy or corrupt the database by writing; /healthz and /readyz answer 503 and every call that writes is refused", db.path),
		"do", "restart swfd (it builds the index again), and take no backup before it is restarted")
}

// procFiles names the descriptors through which the store has the
// database file and its write-ahead log open, where the system shows them
// under /proc/PID/fd.
func (db *DB) procFiles() (dbFD, walFD uintptr, ok bool) {
	if runtime.GOOS != "linux" || db.owner == nil || db.wal == nil {
		return 0, 0, false
	}
	return db.owner.Fd(), db.wal.Fd(), true
}

// checkpoint copies every frame of the write-ahead log the writer has open
// into the database file it has open (through the writer connection, so
// into those files whatever the path now names), syncs it, and truncates
// the log. complete is false when readers kept some frames from being
// copied.
func (db *DB) checkpoint() (complete bool, err error) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.stmts == nil { // closed
		return false, ErrClosed
	}
	var busy, frames, copied int
	if err := db.wconn.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied); err != nil {
		return false, err
	}
	if copied < frames {
		return false, fmt.Errorf("%d of the write-ahead log's %d frames copied; readers held the rest", copied, frames)
	}
	return true, nil
}

// openErr is Open's error for err, with the file SQLite could not open or
// write and why, when SQLite says only that (openCause), and saying that
// the disk is full when it is (fullCause).
func (db *DB) openErr(err error) error {
	if !db.mem {
		err = fullCause(db.path, err)
	}
	if !db.mem && !db.readOnly {
		err = openCause(db.path, err)
	}
	return fmt.Errorf("sqlite: open %s: %w", db.path, err)
}

// fullCause adds to err, when SQLite found no room on the disk (isFull),
// that the disk is full and which file could not grow, wrapping
// swfd.ErrStorageFull. It matters most for the WAL index (the -shm file):
// when SQLite opens a database whose write-ahead log a server left behind
// without closing the store (a crash, a kill -9), it rebuilds the index
// from the log, a region of the file for every few thousand pages, and a
// region it cannot add fails the open with SQLITE_IOERR_SHMSIZE, which
// SQLite words as a bare "disk I/O error". err is returned as it is for
// any other failure.
func fullCause(path string, err error) error {
	switch {
	case isShmSize(err):
		return fmt.Errorf("the disk is full: SQLite could not grow %s-shm, the index of the write-ahead log, which it builds "+
			"when it opens the database (from the whole log, when a server stopped without closing it); free space on the "+
			"file system of %s and start again: %w: %w", path, filepath.Dir(path), swfd.ErrStorageFull, err)
	case isFull(err):
		return fmt.Errorf("the disk is full: SQLite could not write %s or its write-ahead log %s-wal; free space on the "+
			"file system of %s and start again: %w: %w", path, filepath.Base(path), filepath.Dir(path), swfd.ErrStorageFull, err)
	}
	return err
}

// openCause adds to err, when SQLite could not open or write a file of the
// database at path (SQLITE_READONLY, SQLITE_CANTOPEN), which file and why.
// SQLite names neither ("attempt to write a readonly database", "unable
// to open database file"), and the usual causes are a directory swfd may
// not create files in, or a -wal or -shm file another user left (a swfd
// run as root and killed): SQLite keeps its write-ahead log and its index
// beside the database, and must create them there or write them. err is
// returned as it is when every file is writable.
func openCause(path string, err error) error {
	var se interface{ Code() int }
	if !errors.As(err, &se) {
		return err
	}
	if c := se.Code() & 0xff; c != sqliteReadOnly && c != sqliteCantOpen {
		return err
	}
	dir := filepath.Dir(path)
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		f, ferr := os.OpenFile(name, os.O_RDWR, 0)
		if ferr == nil {
			f.Close()
			continue
		}
		if !notThere(ferr) {
			return fmt.Errorf("cannot write %s (%w): the database file and SQLite's %s-wal and %s-shm beside it must be writable by the user swfd runs as: %w",
				name, pathCause(ferr), filepath.Base(path), filepath.Base(path), err)
		}
		// SQLite creates it: can it?
		check, cerr := os.CreateTemp(dir, ".swfd-write-check-*")
		if cerr != nil {
			return fmt.Errorf("cannot create %s (%w): SQLite creates its write-ahead log and its index (%s-wal, %s-shm) beside the database, so the directory %s must be writable by the user swfd runs as: %w",
				name, pathCause(cerr), filepath.Base(path), filepath.Base(path), dir, err)
		}
		check.Close()
		os.Remove(check.Name())
	}
	return err
}

// createCause says why the database file at path could not be opened for
// writing, or created (created: it was not there), when the system refused
// (no permission, a read-only file system): what must be writable, and by
// whom. err is returned as it is for any other failure.
func createCause(path string, created bool, err error) error {
	if !errors.Is(err, fs.ErrPermission) && !errors.Is(err, syscall.EROFS) {
		return err
	}
	if created {
		return fmt.Errorf("cannot create %s (%w): the directory %s must be writable by the user swfd runs as (SQLite creates its %s-wal and %s-shm there too)",
			path, pathCause(err), filepath.Dir(path), filepath.Base(path), filepath.Base(path))
	}
	return fmt.Errorf("cannot write %s (%w): the database file and SQLite's %s-wal and %s-shm beside it must be writable by the user swfd runs as",
		path, pathCause(err), filepath.Base(path), filepath.Base(path))
}

// pathCause is the system's error inside an error about a path
// (*fs.PathError: "permission denied", "read-only file system").
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
