//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly || windows)

package sqlite

import "os"

// ownerLocks: lockOwner takes no lock on this system.
const ownerLocks = false

// noOwnerLock is errNoOwnerLock's text: the system, not the file system,
// has no lock lockOwner can take.
const noOwnerLock = "no lock that keeps a second store off the file on this system"

// lockOwner cannot take an owner's lock on this system: Open warns that
// nothing stops a second store from opening the file.
func lockOwner(string) (*os.File, error) { return nil, errNoOwnerLock }

// lockSQLite cannot take SQLite's locks on this system: nothing is
// locked, and no other program is seen.
func lockSQLite(string) (unlock func(), err error) { return func() {}, nil }
