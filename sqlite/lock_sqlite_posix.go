//go:build darwin || freebsd || openbsd || netbsd || dragonfly

package sqlite

import "golang.org/x/sys/unix"

// lockSQLite's commands: record locks (see lockSQLite).
const (
	setLock = unix.F_SETLK
	getLock = unix.F_GETLK
)
