package sqlite

import "golang.org/x/sys/unix"

// lockSQLite's commands: open file description locks (see lockSQLite).
const (
	setLock = unix.F_OFD_SETLK
	getLock = unix.F_OFD_GETLK
)
