//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package sqlite

import "os"

// ownerLocks: lockOwner takes no lock on this system.
const ownerLocks = false

// lockOwner cannot take an owner's lock on this system: nothing stops a
// second store from opening the file, so run one swfd per database.
func lockOwner(string) (*os.File, error) { return nil, nil }
