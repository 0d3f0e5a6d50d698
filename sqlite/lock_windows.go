package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// ownerLocks: lockOwner takes a lock on this system.
const ownerLocks = true

// noOwnerLock is errNoOwnerLock's text: the file system refused the
// LockFileEx (with an error other than another handle's lock).
const noOwnerLock = "no LockFileEx on this file system"

// ownerLockOffset is the byte lockOwner locks: far past the end of any
// SQLite database (at most 2^48 bytes), so that no read or write of the
// file, by this process or another, ever touches it. Windows' locks are
// mandatory: a locked byte cannot be read or written through any other
// handle, SQLite's own included.
const ownerLockOffset = 1 << 62

// lockOwner takes the lock that makes one store at a time the owner of the
// database file at path: an exclusive LockFileEx of one byte of it (at
// ownerLockOffset), held through the returned handle until it is closed.
// Windows drops it when the handle is closed or the process ends, so a
// server killed does not keep it. A second handle conflicts with it, in
// this process as in another.
//
// The lock's byte is not one of those SQLite's own connections lock, so
// it does not change how they, or another program's, share the file. The
// handle lets others delete and rename the file (FILE_SHARE_DELETE), as
// a descriptor does on Unix, so that a restore can replace it.
//
// Windows has no lock that an SQLite connection of another program
// would see (lockSQLite takes nothing here): only another store is told.
func lockOwner(path string) (*os.File, error) {
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	ol := windows.Overlapped{Offset: uint32(ownerLockOffset & 0xffffffff), OffsetHigh: uint32(ownerLockOffset >> 32)}
	err = windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if err != nil {
		windows.CloseHandle(h)
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
			return nil, ErrInUse
		}
		// A file system that cannot lock says so with another error:
		// the store opens unguarded, and Open warns.
		return nil, fmt.Errorf("%w: %w", errNoOwnerLock, err)
	}
	return os.NewFile(uintptr(h), path), nil
}

// lockSQLite takes nothing on Windows: no other program's SQLite
// connection is seen (see lockOwner).
func lockSQLite(string) (unlock func(), err error) { return func() {}, nil }
