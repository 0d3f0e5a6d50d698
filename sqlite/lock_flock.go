//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ownerLocks: lockOwner takes a lock on this system.
const ownerLocks = true

// noOwnerLock is errNoOwnerLock's text: the file system refused the flock.
const noOwnerLock = "no flock on this file system"

// flock is syscall.Flock; tests replace it to play a file system without
// flock.
var flock = syscall.Flock

// lockOwner takes the lock that makes one store at a time the owner of the
// database file at path: an exclusive flock(2) on the file, held through
// the returned handle until it is closed (the kernel drops it when the
// process dies, so a server killed with kill -9 does not keep it).
//
// A flock is separate from the POSIX record locks SQLite itself takes, so
// it does not change how SQLite's own connections, or another program's
// (swfd backup, the sqlite3 shell), share the file: it only keeps a second
// store from opening it. The handle stays open until every SQLite
// connection is closed, since closing any descriptor of a file drops the
// process's POSIX locks on it.
func lockOwner(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	for {
		err = flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrInUse
		}
		// A file system without flock (some network and FUSE ones)
		// says so with another error: the store opens unguarded, as
		// it did before this lock existed, and Open warns.
		return nil, fmt.Errorf("%w: %w", errNoOwnerLock, err)
	}
	return f, nil
}
