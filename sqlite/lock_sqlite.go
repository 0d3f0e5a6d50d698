//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// Where SQLite's unix VFS takes its locks (POSIX record locks), in the
// database file and in the WAL index (the -shm file).
const (
	// pendingByte is the database file's PENDING lock byte; RESERVED is
	// the next one, and SHARED the 510 after that. Every connection to a
	// database in WAL mode holds SHARED (a read lock over that range) from
	// its first read until it is closed; one writing in rollback mode
	// holds RESERVED, PENDING or EXCLUSIVE as well.
	pendingByte = 0x40000000
	lockRange   = 2 + 510
	// shmLocks is the first of the -shm file's eight WAL locks (the write
	// lock, the checkpoint lock, the recovery lock and the five read
	// marks); the ninth byte after it, the DMS lock, is held for reading by
	// every connection that has the WAL index open.
	shmLocks     = 120
	shmLockBytes = 8 + 1
)

// lockSQLite takes, for writing, every lock SQLite's own connections take
// on the database file at path and on its WAL index (path-shm), and holds
// them until unlock is called: no SQLite connection, of any program, can
// then read or write the database. It fails with an error wrapping
// ErrOpenElsewhere, and takes nothing, while another connection holds one
// (the sqlite3 shell, say, or any program that opened the database with
// SQLite and read it; a program that opened it and has not read it yet
// holds no lock and is not seen). The owner's flock (lockOwner) is
// separate: a store holds SQLite's locks too, but is told by its flock.
//
// On Linux the locks are open file description locks, which conflict with
// SQLite's record locks in this process as in any other, and which closing
// another descriptor of the file does not drop. Elsewhere they are record
// locks, which a connection in this process does not conflict with.
//
// A file system that cannot lock, and a missing file, lock nothing.
func lockSQLite(path string) (unlock func(), err error) {
	var held []*os.File
	unlock = func() {
		for _, f := range held {
			f.Close() // drops its locks
		}
	}
	for _, l := range []struct {
		name        string
		start, size int64
	}{
		{path, pendingByte, lockRange},
		{path + "-shm", shmLocks, shmLockBytes},
	} {
		f, err := os.OpenFile(l.name, os.O_RDWR|unix.O_NOCTTY, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			unlock()
			return nil, err
		}
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: l.start, Len: l.size}
		err = fcntlLock(f, setLock, &lk)
		switch {
		case err == nil:
			held = append(held, f)
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EACCES):
			who := "another process"
			lk = unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: l.start, Len: l.size}
			if fcntlLock(f, getLock, &lk) == nil && lk.Type != unix.F_UNLCK && lk.Pid > 0 {
				who = fmt.Sprintf("process %d", lk.Pid)
			}
			f.Close()
			unlock()
			return nil, fmt.Errorf("%w: %s holds SQLite's lock on %s", ErrOpenElsewhere, who, l.name)
		default:
			// No record locks here (ENOLCK, EINVAL, ENOTSUP): SQLite's
			// connections cannot lock either; nothing to tell.
			f.Close()
		}
	}
	return unlock, nil
}

// fcntlLock runs the lock command cmd on f, again if a signal interrupts it.
func fcntlLock(f *os.File, cmd int, lk *unix.Flock_t) error {
	for {
		err := unix.FcntlFlock(f.Fd(), cmd, lk)
		if err != unix.EINTR {
			return err
		}
	}
}
